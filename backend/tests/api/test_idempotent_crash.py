"""A server killed right after it made a project, an object or a job, or resumed a job, with an
Idempotency-Key: the retry after the restart gets its answer, and nothing is done twice
(api/idempotency.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.test_crash import prompted
from tests.conftest import upload
from tests.server import LiveServer

# Loaded by the server's Python at start-up (it is on PYTHONPATH): the Store method named by
# VIDMATTE_TEST_DIE_AFTER ends the process as a SIGKILL does once it has returned, the moment
# between the row's write and the rest of the request.
DIE_AFTER = """
import os
from vidmatte.store import Store

def _die_after(method):
    def made(self, *args, **kwargs):
        method(self, *args, **kwargs)
        os._exit(137)
    return made

_name = os.environ["VIDMATTE_TEST_DIE_AFTER"]
setattr(Store, _name, _die_after(getattr(Store, _name)))
"""


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Callable[[str | None], LiveServer]]:
    """Start a server on the test's data dir, dying after the Store method given; each call
    starts a fresh process on the same dir."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(DIE_AFTER)
    servers: list[LiveServer] = []

    def start(die_after: str | None = None) -> LiveServer:
        env = {"PYTHONPATH": str(hooks), "VIDMATTE_TEST_DIE_AFTER": die_after} if die_after else {}
        servers.append(LiveServer(tmp_path / "data", env).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def rows(data_dir: Path, table: str) -> list[str]:
    with sqlite3.connect(data_dir / "vidmatte.db") as db:
        return [row[0] for row in db.execute(f"SELECT id FROM {table}")]


def test_an_upload_whose_server_died_after_making_it_is_its_retry_s_answer(
    live: Callable[[str | None], LiveServer], clip: Path
) -> None:
    """The answer was kept after the project was made: a restart between the two found the key
    unknown, and the retry made a second project."""
    server = live("add_project")
    headers = {"Idempotency-Key": "upload-1"}
    form = {"files": {"file": ("clip.mp4", clip.read_bytes(), "video/mp4")}, "data": {"name": "a"}}
    with server.client() as api, pytest.raises(httpx.TransportError):
        api.post("/api/projects", headers=headers, **form)
    made = rows(server.data_dir, "projects")
    assert len(made) == 1
    with live(None).client() as api:
        again = api.post("/api/projects", headers=headers, **form)
        assert again.status_code == 201, again.text
        assert again.json()["id"] == made[0]
        assert again.headers["Idempotent-Replayed"] == "true"
        assert [p["id"] for p in api.get("/api/projects").json()] == made


def test_a_job_whose_server_died_after_making_it_is_its_retry_s_answer(
    live: Callable[[str | None], LiveServer], clip: Path
) -> None:
    server = live("add_job")
    headers = {"Idempotency-Key": "job-1"}
    with server.client() as api:
        pid = prompted(api, clip)
        with pytest.raises(httpx.TransportError):
            api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 3}, headers=headers)
    made = rows(server.data_dir, "jobs")
    assert len(made) == 1
    with live(None).client() as api:
        again = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 3}, headers=headers)
        assert again.status_code == 201, again.text
        assert again.json()["id"] == made[0]
        assert again.headers["Idempotent-Replayed"] == "true"
        assert [j["id"] for j in api.get(f"/api/projects/{pid}/jobs").json()] == made


def test_an_object_whose_server_died_after_making_it_is_its_retry_s_answer(
    live: Callable[[str | None], LiveServer], clip: Path
) -> None:
    """The object's answer was kept after it was made: the retry after the restart made a
    second object."""
    server = live("add_object")
    headers = {"Idempotency-Key": "object-1"}
    with server.client() as api:
        pid = upload(api, clip)["id"]
        url = f"/api/projects/{pid}/objects"
        with pytest.raises(httpx.TransportError):
            api.post(url, json={"name": "a"}, headers=headers)
    made = rows(server.data_dir, "objects")
    assert len(made) == 1
    with live(None).client() as api:
        again = api.post(url, json={"name": "a"}, headers=headers)
        assert again.status_code == 201, again.text
        assert again.json()["id"] == made[0]
        assert again.json()["name"] == "a"
        assert again.headers["Idempotent-Replayed"] == "true"
        assert [o["id"] for o in api.get(url).json()] == made


def test_a_resume_whose_server_died_after_queueing_the_job_is_its_retry_s_answer(
    live: Callable[[str | None], LiveServer], clip: Path
) -> None:
    """The resume's answer was kept after the job was queued again: a restart between the two
    found the key unknown, and the retry of a resume that was done got a 409 ("job '…' is
    running; it cannot become queued")."""
    server = live(None)
    with server.client() as api:
        pid = prompted(api, clip)
        jid = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 11}).json()["id"]
        assert api.post(f"/api/jobs/{jid}/cancel").json()["status"] == "cancelled"
    server.stop()
    # Nothing else moves a job at its start: the first transition is the resume's.
    server = live("transition")
    url, headers = f"/api/jobs/{jid}/resume", {"Idempotency-Key": "resume-1"}
    with server.client() as api, pytest.raises(httpx.TransportError):
        api.post(url, headers=headers)
    with sqlite3.connect(server.data_dir / "vidmatte.db") as db:
        assert db.execute("SELECT status FROM jobs WHERE id = ?", (jid,)).fetchone() == ("queued",)
    with live(None).client() as api:
        again = api.post(url, headers=headers)
        assert again.status_code == 200, again.text
        assert (again.json()["id"], again.json()["status"]) == (jid, "queued")
        assert again.headers["Idempotent-Replayed"] == "true"
        api.post(f"/api/jobs/{jid}/cancel").raise_for_status()  # no run left to wait for
