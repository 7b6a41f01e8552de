"""An Idempotency-Key whose answer the store cannot keep (a database locked past its busy
timeout, a full disk), and an upload whose key belongs to another route: what was made is
answered and made once, and a refusal comes before the body is read (api/idempotency.py,
routes/projects.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi.testclient import TestClient

from tests import in_process
from tests.waiting import wait_until
from vidmatte.config import Settings
from vidmatte.store import Point, Store


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    with in_process.served(tmp_path) as app:
        yield app


def locked(_: sqlite3.Connection) -> None:
    raise sqlite3.OperationalError("database is locked")


def upload(client: TestClient, clip: Path, key: str) -> httpx.Response:
    return client.post(
        "/api/projects",
        files={"file": ("disk.mp4", clip.read_bytes(), "video/mp4")},
        headers={"Idempotency-Key": key},
    )


def clicked(store: Store, clip: Path) -> str:
    """A project of `clip` with an object clicked on frame 3: a track has something to run."""
    pid, _ = in_process.add_clip(store, clip)
    obj = store.add_object(pid, None, None)["id"]
    store.set_points(pid, obj, 3, [Point(9, 9, "positive")])
    return pid


def tracked_once(client: TestClient, store: Store, pid: str) -> None:
    """Once the track is done, a click moved: a second start would run it again."""
    tracker = client.app.state.services.tracker  # type: ignore[attr-defined]
    assert wait_until(lambda: tracker.get(pid).status == "done", 60, every=0.01)
    store.set_points(pid, 1, 3, [Point(12, 9, "positive")])


def test_a_track_whose_answer_cannot_be_kept_is_answered_and_run_once(
    served: tuple[TestClient, Store], clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A track start keeps its answer after its work: it was a 500 for a track that was
    started, and the key was let go: the client's retry started it again."""
    client, store = served
    pid = clicked(store, clip)
    # The write that keeps an answer fails as a database locked past its busy timeout does.
    monkeypatch.setattr(store, "_forget_expired_keys", locked)
    url, headers = f"/api/projects/{pid}/track", {"Idempotency-Key": "track-1"}
    first = client.post(url, json={"start": 2, "end": 4}, headers=headers)
    assert first.status_code == 202, first.text
    tracked_once(client, store, pid)
    again = client.post(url, json={"start": 2, "end": 4}, headers=headers)
    assert (again.status_code, again.json()) == (202, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    track = client.get(url).json()
    assert (track["status"], track["stale"]) == ("done", True)  # not run again
    # Still one request's key: another body with it is refused.
    other = client.post(url, json={"start": 2, "end": 3}, headers=headers)
    assert other.status_code == 422, other.text
    assert "(its body differs)" in other.json()["detail"]


def test_an_object_whose_answer_cannot_be_kept_is_not_made_and_its_retry_makes_it_once(
    served: tuple[TestClient, Store], clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its answer is kept by the write that makes it, as an upload's is: a write that cannot
    keep it makes nothing, and lets the key go."""
    client, store = served
    pid, _ = in_process.add_clip(store, clip)
    url, headers = f"/api/projects/{pid}/objects", {"Idempotency-Key": "object-1"}
    with monkeypatch.context() as patched:
        patched.setattr(store, "_forget_expired_keys", locked)
        failed = client.post(url, json={"name": "a"}, headers=headers)
    assert failed.status_code == 500, failed.text
    assert client.get(url).json() == []
    first = client.post(url, json={"name": "a"}, headers=headers)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = client.post(url, json={"name": "a"}, headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    assert client.get(url).json() == [first.json()]


def test_a_resume_whose_answer_cannot_be_kept_is_not_done_and_its_retry_does_it_once(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its answer is kept by the write that queues the job again, as a new job's is (kept
    after it, a crash between the two had the retry refused with a 409): a write that cannot
    keep it leaves the job stopped, and lets the key go."""
    settings = Settings(data_dir=tmp_path / "data", token=in_process.TOKEN)
    store = Store(settings.data_dir)
    submitted: list[str] = []  # no worker: a resumed job stays queued
    runner = SimpleNamespace(submit=submitted.append, masks_gone=lambda job, done: None)
    segmenter = in_process.tiny_segmenter(tmp_path / "ck")
    client = in_process.client_of(settings, store, segmenter, runner=runner)  # type: ignore[arg-type]
    with closing(client), closing(store):
        jid = store.add_job(clicked(store, clip), 2, 4, [1], "fast", "head", "test-tiny").id
        store.transition(jid, "cancelled")
        url, headers = f"/api/jobs/{jid}/resume", {"Idempotency-Key": "resume-1"}
        with monkeypatch.context() as patched:
            patched.setattr(store, "_forget_expired_keys", locked)
            failed = client.post(url, headers=headers)
        assert failed.status_code == 500, failed.text
        assert (client.get(f"/api/jobs/{jid}").json()["status"], submitted) == ("cancelled", [])
        first = client.post(url, headers=headers)
        assert (first.status_code, first.json()["status"]) == (200, "queued"), first.text
        assert "Idempotent-Replayed" not in first.headers
        again = client.post(url, headers=headers)
        assert (again.status_code, again.json()) == (200, first.json())
        assert again.headers["Idempotent-Replayed"] == "true"
        assert submitted == [jid]


def test_an_upload_whose_answer_cannot_be_kept_is_not_made_and_its_retry_makes_it_once(
    served: tuple[TestClient, Store], clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its answer is kept by the write that makes its project (a crash between the two had
    the retry make a second project): a write that cannot keep it makes nothing, and lets the
    key go."""
    client, store = served
    with monkeypatch.context() as patched:
        patched.setattr(store, "_forget_expired_keys", locked)
        failed = upload(client, clip, "upload-1")
    assert failed.status_code == 500, failed.text
    assert client.get("/api/projects").json() == []
    assert list(store.data_dir.glob("projects/*")) == []
    first = upload(client, clip, "upload-1")
    assert first.status_code == 201, first.text
    again = upload(client, clip, "upload-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert [p["id"] for p in client.get("/api/projects").json()] == [first.json()["id"]]


def test_an_answer_kept_once_the_database_is_back_is_still_the_first(
    served: tuple[TestClient, Store], clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry after the lock has gone reads the answer held for it, and its key stays the
    first request's."""
    client, store = served
    pid = clicked(store, clip)
    url, headers = f"/api/projects/{pid}/track", {"Idempotency-Key": "track-1"}
    with monkeypatch.context() as patched:
        patched.setattr(store, "_forget_expired_keys", locked)
        first = client.post(url, json={"start": 2, "end": 4}, headers=headers)
    assert first.status_code == 202, first.text
    tracked_once(client, store, pid)
    again = client.post(url, json={"start": 2, "end": 4}, headers=headers)
    assert (again.status_code, again.json()) == (202, first.json())
    assert client.get(url).json()["status"] == "done"


def test_a_key_of_another_route_refuses_an_upload_before_its_body_is_read(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    """It was refused only once the whole file had come in (a 2 GB upload sent for nothing);
    the route is known from the key before the body, as a key still being answered is."""
    client, _ = served
    pid = upload(client, clip, "upload-1").json()["id"]
    made = client.post(
        f"/api/projects/{pid}/objects", json={}, headers={"Idempotency-Key": "object-1"}
    )
    assert made.status_code == 201, made.text
    pulled: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        for chunk in (b"--b\r\n", b"never wanted\r\n", b"--b--\r\n"):
            pulled.append(chunk)
            yield chunk

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await http.post(
                "/api/projects",
                content=body(),
                headers={
                    "Authorization": f"Bearer {in_process.TOKEN}",
                    "Content-Type": "multipart/form-data; boundary=b",
                    "Idempotency-Key": "object-1",
                },
            )

    refused = asyncio.run(send())
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == (
        f"Idempotency-Key 'object-1' was used for POST /api/projects/{pid}/objects: a key "
        "belongs to one request; send a new key for this one"
    )
    assert pulled == []
