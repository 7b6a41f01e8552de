"""The Idempotency-Key header over real HTTP: a retry of a POST gets the first answer again and
makes nothing new; a key reused for another request, or sent while its request runs, is
refused (api/idempotency.py)."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.api.test_jobs import prompt
from vidmatte.api.idempotency import Claim
from vidmatte.api.schemas import Object
from vidmatte.store import Answered, KeyInUse, Store

KEY = "Idempotency-Key"


def key() -> dict[str, str]:
    return {KEY: str(uuid.uuid4())}


def post_upload(
    api: httpx.Client, clip: Path, headers: dict[str, str], name: str
) -> httpx.Response:
    with clip.open("rb") as f:
        return api.post(
            "/api/projects",
            files={"file": (clip.name, f, "video/mp4")},
            data={"name": name},
            headers=headers,
        )


def test_a_retried_job_post_gives_the_first_job_and_makes_no_second(
    api: httpx.Client, project: dict
) -> None:
    pid = project["id"]
    prompt(api, pid)
    headers = key()
    first = api.post(f"/api/projects/{pid}/jobs", json={"start": 4, "end": 4}, headers=headers)
    again = api.post(f"/api/projects/{pid}/jobs", json={"end": 4, "start": 4}, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert [j["id"] for j in api.get(f"/api/projects/{pid}/jobs").json()] == [first.json()["id"]]


def test_a_retried_upload_makes_one_project(api: httpx.Client, clip: Path) -> None:
    name = f"idem-{uuid.uuid4()}"  # the server is shared: count this test's projects alone
    headers = key()
    first = post_upload(api, clip, headers, name)
    # httpx picks another multipart boundary for each request: the body's bytes differ.
    again = post_upload(api, clip, headers, name)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    mine = [p for p in api.get("/api/projects").json() if p["name"] == name]
    assert [p["id"] for p in mine] == [first.json()["id"]]


def test_a_key_reused_for_another_request_is_refused(
    api: httpx.Client, project: dict, clip: Path
) -> None:
    pid = project["id"]
    prompt(api, pid)
    headers = key()
    value = headers[KEY]
    first = api.post(f"/api/projects/{pid}/jobs", json={"start": 4, "end": 4}, headers=headers)
    assert first.status_code == 201, first.text
    other = api.post(f"/api/projects/{pid}/jobs", json={"start": 3, "end": 4}, headers=headers)
    assert other.status_code == 422
    assert other.json()["detail"] == (
        f"Idempotency-Key '{value}' was used for another request to POST "
        f"/api/projects/{pid}/jobs (its body differs): a key belongs to one request; send a "
        "new key for this one"
    )
    elsewhere = api.post(f"/api/projects/{pid}/objects", json={}, headers=headers)
    assert elsewhere.status_code == 422
    assert elsewhere.json()["detail"] == (
        f"Idempotency-Key '{value}' was used for POST /api/projects/{pid}/jobs: a key belongs "
        "to one request; send a new key for this one"
    )
    assert len(api.get(f"/api/projects/{pid}/jobs").json()) == 1
    assert len(api.get(f"/api/projects/{pid}/objects").json()) == 1  # prompt's own

    upload_key = key()
    assert post_upload(api, clip, upload_key, "idem-one").status_code == 201
    renamed = post_upload(api, clip, upload_key, "idem-other")
    assert renamed.status_code == 422
    assert "was used for another request to POST /api/projects" in renamed.json()["detail"]


def test_a_failed_request_lets_its_key_go(api: httpx.Client, project: dict) -> None:
    """A 4xx is not kept: the retry, once the cause is fixed, runs."""
    pid = project["id"]
    headers = key()
    body = {"start": 4, "end": 4}
    refused = api.post(f"/api/projects/{pid}/jobs", json=body, headers=headers)
    assert refused.status_code == 422  # no points yet
    prompt(api, pid)
    made = api.post(f"/api/projects/{pid}/jobs", json=body, headers=headers)
    assert made.status_code == 201, made.text
    assert "Idempotent-Replayed" not in made.headers


def test_the_answer_of_a_deleted_object_is_given_again(api: httpx.Client, project: dict) -> None:
    """The kept answer stands for its key (docs/API.md): the retry makes no new object."""
    pid = project["id"]
    headers = key()
    first = api.post(f"/api/projects/{pid}/objects", json={"name": "a"}, headers=headers)
    assert first.status_code == 201
    assert api.delete(f"/api/projects/{pid}/objects/{first.json()['id']}").status_code == 204
    again = api.post(f"/api/projects/{pid}/objects", json={"name": "a"}, headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    assert api.get(f"/api/projects/{pid}/objects").json() == []


def test_no_key_changes_nothing(api: httpx.Client, project: dict) -> None:
    pid = project["id"]
    ids = {api.post(f"/api/projects/{pid}/objects", json={}).json()["id"] for _ in range(2)}
    assert len(ids) == 2


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("k" * 256, "Idempotency-Key is 256 characters long: at most 255 are kept"),
        (
            "two words",
            "Idempotency-Key holds a space or a character outside visible ASCII: use letters, "
            "digits and punctuation (a UUID)",
        ),
        ('""', "Idempotency-Key is empty: send a key such as a UUID, or no header"),
    ],
)
def test_a_key_the_server_cannot_keep_is_a_400(
    api: httpx.Client, project: dict, value: str, detail: str
) -> None:
    pid = project["id"]
    response = api.post(f"/api/projects/{pid}/objects", json={}, headers={KEY: value})
    assert (response.status_code, response.json()) == (400, {"detail": detail})
    assert api.get(f"/api/projects/{pid}/objects").json() == []


def test_the_quoted_form_of_the_draft_is_the_same_key(api: httpx.Client, project: dict) -> None:
    pid = project["id"]
    value = str(uuid.uuid4())
    first = api.post(f"/api/projects/{pid}/objects", json={}, headers={KEY: value})
    again = api.post(f"/api/projects/{pid}/objects", json={}, headers={KEY: f'"{value}"'})
    assert again.json() == first.json()


def test_a_key_whose_request_still_runs_is_a_409(api: httpx.Client, clip: Path) -> None:
    """An upload held half sent keeps its key taken: a second request with it is refused at
    once, and the upload, once sent, makes its project."""
    headers = key()
    boundary = "idem-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="disk.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    data = clip.read_bytes()
    tail = f"\r\n--{boundary}--\r\n".encode()
    half_sent, go_on = threading.Event(), threading.Event()

    def body() -> Iterator[bytes]:
        yield head + data[:100]
        half_sent.set()
        go_on.wait(30)
        yield data[100:] + tail

    answers: list[httpx.Response] = []

    def send() -> None:
        answers.append(
            api.post(
                "/api/projects",
                content=body(),
                headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
        )

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert half_sent.wait(30)
        # Sent bytes are not yet a taken key: on a busy machine the clash can reach the server
        # before the upload's route runs (it then takes the key, fails and lets it go), so it
        # is sent again until the upload holds the key.
        with httpx.Client(base_url=str(api.base_url), headers=api.headers) as other:
            for _ in range(40):
                clash = other.post("/api/projects", json={}, headers=headers)
                if clash.status_code == 409:
                    break
                time.sleep(0.25)
    finally:
        go_on.set()
        sender.join(60)
    assert clash.status_code == 409
    assert clash.json()["detail"] == (
        f"a request with Idempotency-Key '{headers[KEY]}' (POST /api/projects) is still being "
        "answered: retry once it has finished"
    )
    assert answers[0].status_code == 201, answers[0].text


def test_keys_expire_and_unanswered_ones_go_with_the_process(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    assert store.claim_key("done", "POST /x") is None
    store.answer_key("done", Answered("POST /x", "print", 201, '{"id": 1}'))
    assert store.claim_key("running", "POST /x") is None  # its process dies unanswered
    with pytest.raises(KeyInUse, match="'running' \\(POST /x\\) is still being answered"):
        store.claim_key("running", "POST /y")
    store.close()
    store = Store(tmp_path / "data")
    kept = store.claim_key("done", "POST /x")
    assert kept == Answered("POST /x", "print", 201, '{"id": 1}')
    assert store.claim_key("running", "POST /x") is None  # free again
    store.close()
    store = Store(tmp_path / "data", idempotency_seconds=0)  # every key has expired
    with closing(sqlite3.connect(tmp_path / "data" / "vidmatte.db")) as db:
        assert db.execute("SELECT COUNT(*) FROM idempotency_keys").fetchone()[0] == 0
    assert store.claim_key("done", "POST /x") is None
    store.close()


def test_a_full_disk_answers_unkept_and_holds_the_answer(tmp_path: Path) -> None:
    """What the request did is done (a track run: a project, an object, a job or a resume
    keeps its answer in the write that makes or queues it): its answer goes out (a 507 would
    have it done twice), and its retry gets it again (the key let go, the retry did it again)."""
    store = Store(tmp_path / "data")
    claim = Claim.take(store, "k", "POST /x")
    assert claim.first

    def full(*_: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    store._write = full  # type: ignore[method-assign]
    made = Object(id=1, project_id="p", name="a", color="#ffffff")
    assert claim.keep("print", 201, made) == made
    retry = Claim.take(store, "k", "POST /x")
    assert retry.answered == Answered("POST /x", "print", 201, made.model_dump_json())
    store.close()
