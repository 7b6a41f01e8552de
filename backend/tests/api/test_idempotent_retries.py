"""An upload's Idempotency-Key in process, over a real store: the retries a client sends after
losing the answer to an upload that made its project (the project deleted since, the data dir
at its limit or short of room meanwhile), and what a retry leaves on disk (api/idempotency.py,
routes/projects.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests import in_process
from vidmatte.api import upload
from vidmatte.config import SettingError, Settings
from vidmatte.store import Answered, Store

KEY = {"Idempotency-Key": "upload-1"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    """The app over an empty data dir that holds one project at most."""
    with in_process.served(tmp_path, max_projects=1) as app:
        yield app


def send(client: TestClient, clip: Path, name: str = "clip", filename: str = "disk.mp4"):
    return client.post(
        "/api/projects",
        files={"file": (filename, clip.read_bytes(), "video/mp4")},
        data={"name": name},
        headers=KEY,
    )


def left_in_tmp(store: Store) -> list[str]:
    return sorted(p.name for p in store.tmp_dir.iterdir())


def test_the_retry_of_an_upload_whose_project_was_deleted_gets_its_first_answer(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    """A client that lost the answer asks "was my upload made?": it was (the first answer, the
    same id), and it was deleted since (a GET of the id is a 404). The retry makes no new
    project (docs/API.md, "A deleted resource"): uploading again takes a new key."""
    client, store = served
    first = send(client, clip)
    assert first.status_code == 201, first.text
    pid = first.json()["id"]
    assert client.delete(f"/api/projects/{pid}").status_code == 204
    again = send(client, clip)
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert client.get(f"/api/projects/{pid}").status_code == 404
    assert client.get("/api/projects").json() == []
    assert left_in_tmp(store) == []


def test_the_retry_of_an_upload_at_the_project_limit_gets_its_first_answer(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    """The upload made the data dir's last project: its retry is its answer, not the 507 of a
    full data dir; another upload with the key is still the key's 422."""
    client, store = served
    first = send(client, clip)
    assert first.status_code == 201, first.text
    again = send(client, clip)
    assert (again.status_code, again.json()) == (201, first.json())
    other = send(client, clip, name="other")
    assert other.status_code == 422
    assert other.json()["detail"] == (
        "Idempotency-Key 'upload-1' was used for another request to POST /api/projects (its "
        "body differs): a key belongs to one request; send a new key for this one"
    )
    assert left_in_tmp(store) == []


def test_the_retry_of_an_upload_that_filled_the_disk_gets_its_first_answer(
    served: tuple[TestClient, Store], clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project took the room its upload needed: its retry, received only to be compared,
    was a 507 "not enough disk space" (the client told its upload failed, for a project that
    is there). It is the first answer, and nothing of it is written."""
    client, store = served
    first = send(client, clip)
    assert first.status_code == 201, first.text
    usage = shutil.disk_usage(store.tmp_dir)
    monkeypatch.setattr(upload.shutil, "disk_usage", lambda _: usage._replace(free=0))
    again = send(client, clip)
    assert (again.status_code, again.json()) == (201, first.json())
    assert left_in_tmp(store) == []
    # A first upload still needs its room.
    client.delete(f"/api/projects/{first.json()['id']}")
    refused = client.post(
        "/api/projects",
        files={"file": ("disk.mp4", clip.read_bytes(), "video/mp4")},
        headers={"Idempotency-Key": "upload-2"},
    )
    assert refused.status_code == 507, refused.text
    assert refused.json()["detail"].startswith("not enough disk space: 0.0 MB free")


def test_a_key_of_another_route_is_refused_and_the_upload_leaves_nothing(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    client, store = served
    pid = send(client, clip).json()["id"]
    made = client.post(f"/api/projects/{pid}/objects", json={}, headers={**KEY, "X": "1"})
    assert made.status_code == 422  # the key is the upload's
    headers = {"Idempotency-Key": "object-1"}
    assert client.post(f"/api/projects/{pid}/objects", json={}, headers=headers).status_code == 201
    client.delete(f"/api/projects/{pid}")
    refused = client.post(
        "/api/projects",
        files={"file": ("disk.mp4", clip.read_bytes(), "video/mp4")},
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        f"Idempotency-Key 'object-1' was used for POST /api/projects/{pid}/objects: a key "
        "belongs to one request; send a new key for this one"
    )
    assert client.get("/api/projects").json() == []
    assert left_in_tmp(store) == []


def test_a_failed_upload_lets_its_key_go(served: tuple[TestClient, Store], clip: Path) -> None:
    """Not a video (a 422), then the video with the same key: made, not replayed."""
    client, store = served
    broken = client.post(
        "/api/projects",
        files={"file": ("disk.mp4", b"not a video", "video/mp4")},
        headers=KEY,
    )
    assert broken.status_code == 422, broken.text
    made = send(client, clip)
    assert made.status_code == 201, made.text
    assert "Idempotent-Replayed" not in made.headers
    assert left_in_tmp(store) == []


def test_an_upload_sent_without_a_body_lets_its_key_go(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    client, _ = served
    empty = client.post("/api/projects", content=b"", headers=KEY)
    assert empty.status_code == 415
    assert send(client, clip).status_code == 201


def test_a_retry_under_a_project_deleted_since_is_its_404(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    """The object's answer is not replayed for a project that is gone: the path's project is
    looked up first, and the 404 says what happened."""
    client, _ = served
    pid = send(client, clip).json()["id"]
    headers = {"Idempotency-Key": "object-1"}
    url = f"/api/projects/{pid}/objects"
    assert client.post(url, json={"name": "a"}, headers=headers).status_code == 201
    assert client.delete(f"/api/projects/{pid}").status_code == 204
    again = client.post(url, json={"name": "a"}, headers=headers)
    assert (again.status_code, again.json()) == (404, {"detail": f"project '{pid}' does not exist"})


@pytest.mark.parametrize("hours", ["inf", "1e9", "87601"])
def test_a_retention_past_what_the_clock_can_date_is_refused_by_name(
    hours: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was taken: the store then could not date a key (an OverflowError), and the server
    did not start, with a traceback instead of the setting's name."""
    monkeypatch.setenv("VIDMATTE_IDEMPOTENCY_HOURS", hours)
    with pytest.raises(SettingError) as refused:
        Settings()
    assert str(refused.value) == (
        f"VIDMATTE_IDEMPOTENCY_HOURS must be a number from 0 to 87600, not '{hours}'"
    )


def test_ten_years_of_retention_dates_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDMATTE_IDEMPOTENCY_HOURS", "87600")
    store = Store(tmp_path / "data", idempotency_seconds=Settings().idempotency_hours * 3600)
    assert store.claim_key("k", "POST /x") is None
    store.answer_key("k", "print", 201, "{}")
    assert store.claim_key("k", "POST /x") == Answered("POST /x", "print", 201, "{}")
    store.close()
