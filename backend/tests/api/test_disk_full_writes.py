"""Every write route on a full disk, in process over a real store on a small tmpfs (the tests
run as root): a 507 that says what to do, not a 500, with nothing stored changed; a delete (how
the user gets out of it) works, on the reserve the store keeps. Uploads (test_disk.py) and
tracks (test_project_reads.py) have their own."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.conftest import fill
from tests.in_process import add_clip, client_of, tiny_segmenter
from vidmatte.config import Settings
from vidmatte.errors import DISK_FULL
from vidmatte.jobs.mattes import encode_mattes
from vidmatte.jobs.runner import InProcessRunner
from vidmatte.store import Point, Store, is_disk_full

TOKEN = "disk-full-token"
AGAIN = f"{DISK_FULL}: free some space, then try again"


@dataclass
class Full:
    client: TestClient
    store: Store
    disk: Path
    pid: str
    obj: int
    done: str  # a finished job with its mattes
    cancelled: str
    queued: str


def fill_all(disk: Path, store: Store) -> None:
    """Fill the disk, then the database until SQLite cannot write: its write-ahead log has
    room left to reuse at first."""
    with contextlib.closing(sqlite3.connect(store.data_dir / "vidmatte.db")) as db:
        db.execute("CREATE TABLE ballast (b BLOB)")
        db.commit()
        fill(disk)
        while True:
            try:
                db.execute("INSERT INTO ballast VALUES (zeroblob(65536))")
                db.commit()
            except sqlite3.Error as exc:
                assert is_disk_full(exc), exc
                db.rollback()
                return


@pytest.fixture
def full(tmp_path: Path, clip: Path) -> Iterator[Full]:
    """A project with an object, points, a finished, a cancelled and a queued job, in a data
    dir on a 16 MiB tmpfs that is then filled: file system and database."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], check=True)
    settings = Settings(data_dir=disk / "data", token=TOKEN)
    store = Store(settings.data_dir)
    try:
        assert store.reserve_path.exists()
        pid, info = add_clip(store, clip)
        obj = store.add_object(pid, "kept", "#112233")["id"]
        store.set_points(pid, obj, 3, [Point(9, 9, "positive")])
        done = store.add_job(pid, 2, 4, [obj], "fast", "head", "test-tiny")
        attempt = store.transition(done.id, "running").attempt
        for frame in (2, 3, 4):
            alpha = np.full((info.height, info.width), 0.5, np.float32)
            assert store.save_alpha(done.id, attempt, frame, encode_mattes([alpha]))
        store.transition(done.id, "done", attempt=attempt)
        cancelled = store.add_job(pid, 2, 4, [obj], "fast", "head", "test-tiny")
        store.transition(cancelled.id, "cancelled")
        queued = store.add_job(pid, 2, 4, [obj], "fast", "head", "test-tiny")
        segmenter = tiny_segmenter(tmp_path / "ck")
        matter = SimpleNamespace(plate=False)
        runner = InProcessRunner(store, segmenter, matter)  # type: ignore[arg-type]
        client = client_of(settings, store, segmenter, matter, runner)  # type: ignore[arg-type]
        fill_all(disk, store)
        yield Full(client, store, disk, pid, obj, done.id, cancelled.id, queued.id)
        client.close()
    finally:
        store.close()
        subprocess.run(["umount", "-l", str(disk)], check=True)


def stored(f: Full) -> dict:
    """What the API shows of the data dir."""
    api = f.client
    return {
        "projects": api.get("/api/projects").json(),
        "objects": api.get(f"/api/projects/{f.pid}/objects").json(),
        "points": api.get(f"/api/projects/{f.pid}/points").json(),
        "jobs": api.get(f"/api/projects/{f.pid}/jobs").json(),
    }


WRITES = {
    "add object": ("POST", "/projects/{pid}/objects", {"name": "new"}),
    "rename object": ("PATCH", "/projects/{pid}/objects/{obj}", {"name": "renamed"}),
    "recolour object": ("PATCH", "/projects/{pid}/objects/{obj}", {"color": "#abcdef"}),
    "save points": (
        "PUT",
        "/projects/{pid}/objects/{obj}/frames/3/points",
        {"points": [{"x": 20, "y": 20, "label": "positive"}]},
    ),
    "clear points": ("PUT", "/projects/{pid}/objects/{obj}/frames/3/points", {"points": []}),
    "rename project": ("PATCH", "/projects/{pid}", {"name": "renamed"}),
    "create job": ("POST", "/projects/{pid}/jobs", {"start": 2, "end": 4}),
    "resume job": ("POST", "/jobs/{cancelled}/resume", None),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_on_a_full_disk_is_a_507_that_changes_nothing(full: Full, write: str) -> None:
    """Each was the server's 500 ("database or disk is full" unhandled)."""
    method, path, body = WRITES[write]
    before = stored(full)
    url = "/api" + path.format(**full.__dict__)
    answer = full.client.request(method, url, json=body)
    assert answer.status_code == 507, answer.text
    assert answer.json() == {"detail": AGAIN}
    assert stored(full) == before


def test_a_write_with_an_idempotency_key_on_a_full_disk_lets_the_key_go(full: Full) -> None:
    """The 507's key is not kept: the retry, once there is room, makes the object."""
    url = f"/api/projects/{full.pid}/objects"
    headers = {"Idempotency-Key": "one"}
    assert full.client.post(url, json={}, headers=headers).status_code == 507
    (full.disk / "filler").unlink()
    assert full.client.post(url, json={}, headers=headers).status_code == 201


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/projects/{pid}/thumbnail"),
        ("GET", "/projects/{pid}/frames/3"),
        ("POST", "/projects/{pid}/frames/3/preview"),
        ("GET", "/jobs/{done}/alpha/3"),
        ("GET", "/jobs/{done}/archive"),
    ],
    ids=["thumbnail", "frame", "preview", "alpha", "png archive"],
)
def test_what_writes_nothing_works_on_a_full_disk(full: Full, method: str, path: str) -> None:
    answer = full.client.request(method, "/api" + path.format(**full.__dict__))
    assert answer.status_code == 200, answer.text


def test_an_archive_that_stages_files_on_a_full_disk_is_a_507_before_it_starts(
    full: Full,
) -> None:
    """A video is encoded into the data dir's tmp/ before it goes into the zip: with no room
    there the download started (200) and was cut off at the first write, a broken zip."""
    answer = full.client.get(f"/api/jobs/{full.done}/archive", params={"formats": "alpha_mp4"})
    assert answer.status_code == 507, answer.text
    assert answer.json() == {"detail": f"{DISK_FULL}: free some space, then download again"}
    assert list(full.store.tmp_dir.iterdir()) == []


def test_deleting_an_object_on_a_full_disk_works(full: Full) -> None:
    """Deleting is how the user makes room: it was a 500, SQLite having no room for its
    write-ahead log; the store's reserve gives it some, and is set aside again."""
    answer = full.client.delete(f"/api/projects/{full.pid}/objects/{full.obj}")
    assert answer.status_code == 204, answer.text
    assert full.client.get(f"/api/projects/{full.pid}/objects").json() == []


def test_cancelling_a_job_on_a_full_disk_works(full: Full) -> None:
    """A cancel stops a job's writes (and deleting a project cancels its jobs first): it was a
    500 as well."""
    answer = full.client.post(f"/api/jobs/{full.queued}/cancel")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"


def test_deleting_a_job_on_a_full_disk_frees_its_space(full: Full) -> None:
    """Its mattes go; the project and its other jobs stay. A queued one is cancelled first."""
    free = shutil.disk_usage(full.disk).free
    for job_id in (full.done, full.queued):
        answer = full.client.delete(f"/api/jobs/{job_id}")
        assert answer.status_code == 204, answer.text
        assert full.client.get(f"/api/jobs/{job_id}").status_code == 404
    assert not full.store.job_dir(full.done).exists()
    assert shutil.disk_usage(full.disk).free > free
    jobs = full.client.get(f"/api/projects/{full.pid}/jobs").json()
    assert [j["id"] for j in jobs] == [full.cancelled]


def test_deleting_a_project_on_a_full_disk_frees_its_space(full: Full) -> None:
    """With a queued job, which the delete cancels first."""
    free = shutil.disk_usage(full.disk).free
    answer = full.client.delete(f"/api/projects/{full.pid}")
    assert answer.status_code == 204, answer.text
    assert full.client.get("/api/projects").json() == []
    assert not full.store.project_dir(full.pid).exists()
    assert not full.store.job_dir(full.done).exists()
    assert shutil.disk_usage(full.disk).free > free


@pytest.mark.parametrize("delete", ["project", "job"])
def test_a_delete_held_back_by_a_download_sets_the_reserve_aside_once_it_frees_the_files(
    full: Full, delete: str
) -> None:
    """A delete on a full disk runs on the reserve; while a download streams the project's
    files (`Store.lease`) they stay, and with them no room to set it aside. Once the download
    ends the files go, and the reserve is set aside in the room they leave: it was not, so
    the next delete on a full disk (until a job ran or the server restarted) was a 500."""
    release = full.store.lease(full.pid, full.done)
    path = f"/api/projects/{full.pid}" if delete == "project" else f"/api/jobs/{full.done}"
    answer = full.client.delete(path)
    assert answer.status_code == 204, answer.text
    assert full.store.job_dir(full.done).exists()  # held for the download
    assert not full.store.reserve_path.exists()  # the delete used it
    # Mattes as a long job leaves them: 8 MiB of the filler's room in the job's folder, the
    # disk as full as before.
    filler = full.disk / "filler"
    with filler.open("r+b") as f:
        f.truncate(filler.stat().st_size - 8 * 2**20)
    (full.store.job_dir(full.done) / "mattes").write_bytes(bytes(8 * 2**20))
    release()
    assert not full.store.job_dir(full.done).exists()
    assert full.store.reserve_path.exists()
