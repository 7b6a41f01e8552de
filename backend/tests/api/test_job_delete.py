"""DELETE /api/jobs/{id}: one job goes, with its mattes and its copy of the track's masks; its
project and the project's other jobs stay. A queued or running job is cancelled first, as a
project's delete does; a download under way ends whole; a crash mid-delete leaves nothing."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

from tests import waiting
from tests.api.test_jobs import prompt, read_stream, wait_job
from tests.conftest import upload
from tests.in_process import add_clip, served
from tests.synth import write_video
from vidmatte.jobs.mattes import encode_mattes
from vidmatte.store import Point, Store


def done_job(api: httpx.Client, pid: str, start: int = 0, end: int = 11) -> dict:
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": start, "end": end})
    assert job.status_code == 201, job.text
    return wait_job(api, job.json()["id"], {"done"})


def test_deleting_a_job_leaves_its_project_and_other_jobs(server, clip: Path) -> None:
    with server.client() as api:
        pid = upload(api, clip, "kept")["id"]
        prompt(api, pid)
        doomed, kept = done_job(api, pid), done_job(api, pid, 2, 6)
        folder = server.data_dir / "jobs" / doomed["id"]
        assert (folder / "alpha").is_dir()
        answer = api.delete(f"/api/jobs/{doomed['id']}")
        assert answer.status_code == 204 and answer.content == b""
        gone = api.get(f"/api/jobs/{doomed['id']}")
        assert gone.status_code == 404
        assert gone.json()["detail"] == f"job '{doomed['id']}' does not exist"
        assert not folder.exists()
        assert [j["id"] for j in api.get(f"/api/projects/{pid}/jobs").json()] == [kept["id"]]
        assert api.get(f"/api/jobs/{kept['id']}").json()["frames_done"] == 5
        assert api.get(f"/api/jobs/{kept['id']}/alpha/4").status_code == 200
        assert api.get(f"/api/projects/{pid}").status_code == 200
        again = api.delete(f"/api/jobs/{doomed['id']}")
        assert again.status_code == 404
        assert again.json()["detail"] == f"job '{doomed['id']}' does not exist"


def test_deleting_an_unknown_job_is_a_404(api: httpx.Client) -> None:
    answer = api.delete("/api/jobs/j_nope")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "job 'j_nope' does not exist"}


def test_deleting_a_job_while_its_archive_downloads(server, clip: Path) -> None:
    """The delete answers at once and the job is gone from the API, but a download already
    under way ends whole; its files go when it does."""
    with server.client() as api:
        pid = upload(api, clip, "downloaded")["id"]
        prompt(api, pid)
        job = done_job(api, pid)
        formats = "alpha_png,exr,prores4444,webm_alpha"
        url = f"/api/jobs/{job['id']}/archive"
        folder = server.data_dir / "jobs" / job["id"]
        with api.stream("GET", url, params={"formats": formats}) as download:
            assert download.status_code == 200  # headers are in; the body is still coming
            assert api.delete(f"/api/jobs/{job['id']}").status_code == 204
            assert api.get(f"/api/jobs/{job['id']}").status_code == 404
            body = download.read()
        names = zipfile.ZipFile(io.BytesIO(body)).namelist()
        assert len([n for n in names if n.startswith("exr/")]) == 12
        assert len([n for n in names if n.endswith(".png")]) == 12
        assert len([n for n in names if n.endswith((".mov", ".webm"))]) == 2
        assert waiting.wait_until(lambda: not folder.exists(), 10, every=0.05)
        assert api.get(f"/api/projects/{pid}").status_code == 200


def test_a_download_holds_back_only_its_own_jobs_files(server, clip: Path) -> None:
    """A download of one job of a project held the files of every job of the project deleted
    meanwhile (its lease was the project's): another job's mattes stayed on the disk until
    it ended. They go at once; the download still ends whole, as a later one of the job."""
    with server.client() as api:
        pid = upload(api, clip, "two jobs")["id"]
        prompt(api, pid)
        downloaded, deleted = done_job(api, pid), done_job(api, pid, 2, 6)
        folder = server.data_dir / "jobs" / deleted["id"]
        formats = "alpha_png,rgba_png,exr,prores4444,webm_alpha,composite_mp4"
        url = f"/api/jobs/{downloaded['id']}/archive"
        with api.stream("GET", url, params={"formats": formats}) as download:
            assert download.status_code == 200  # headers are in; the body is still coming
            assert api.delete(f"/api/jobs/{deleted['id']}").status_code == 204
            assert not folder.exists()
            body = download.read()
        again = api.get(url, params={"formats": formats})
        assert again.status_code == 200
        held, later = (zipfile.ZipFile(io.BytesIO(b)) for b in (body, again.content))
        assert held.namelist() == later.namelist()
        assert len([n for n in held.namelist() if n.startswith("exr/")]) == 12
        assert len([n for n in held.namelist() if n.endswith((".mov", ".webm", ".mp4"))]) == 3
        pngs = [n for n in held.namelist() if n.endswith(".png")]
        assert len(pngs) == 24  # alpha and RGBA
        assert all(held.read(n) == later.read(n) for n in pngs)


def running_job(api: httpx.Client, tmp_path: Path) -> dict:
    """A job that has matted a few of its 40 frames and goes on."""
    path = tmp_path / "long.mp4"
    write_video(path, frames=40, width=320, height=240)
    pid = upload(api, path)["id"]
    prompt(api, pid, frame=0)
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 39}).json()
    return wait_job(api, job["id"], lambda j: j["frames_done"] >= 2, timeout=60)


def stream_while(server, job_id: str, delete: Callable[[], httpx.Response]) -> list[tuple]:
    """The job's events (name, data) from a stream opened before `delete` runs, until it ends."""
    events: list[tuple] = []
    following = threading.Event()  # the stream is open: a delete before it is the stream's 404
    with server.client() as follower:
        reader = threading.Thread(
            target=lambda: events.extend(read_stream(follower, job_id, following))
        )
        reader.start()
        assert following.wait(10)
        assert delete().status_code == 204
        reader.join(10)
        assert not reader.is_alive()  # the stream ended
    return events


def assert_ends_deleted(events: list[tuple], job_id: str) -> None:
    """The stream's last word is the delete: its cancel, told as `cancelled` and resumable,
    offered a Resume that 404s."""
    assert events[-1] == ("deleted", {"id": job_id})
    assert {data["status"] for _, data in events[:-1]} == {"running"}


def test_deleting_a_running_job_cancels_it_and_ends_its_stream(
    server, api: httpx.Client, tmp_path: Path
) -> None:
    """Cancelled first, as a project's delete cancels its jobs: its run writes nothing more
    (no folder comes back), and its event stream ends."""
    job = running_job(api, tmp_path)
    events = stream_while(server, job["id"], lambda: api.delete(f"/api/jobs/{job['id']}"))
    assert_ends_deleted(events, job["id"])
    assert api.get(f"/api/jobs/{job['id']}").status_code == 404
    assert api.get(f"/api/projects/{job['project_id']}/jobs").json() == []
    folder = server.data_dir / "jobs" / job["id"]
    assert not waiting.wait_until(folder.exists, 2, every=0.1)  # the run writes nothing more
    # The worker is free for the next job.
    assert done_job(api, job["project_id"], 0, 1)["frames_done"] == 2


def test_deleting_the_project_of_a_running_job_ends_its_stream_as_deleted(
    server, api: httpx.Client, tmp_path: Path
) -> None:
    job = running_job(api, tmp_path)
    events = stream_while(
        server, job["id"], lambda: api.delete(f"/api/projects/{job['project_id']}")
    )
    assert_ends_deleted(events, job["id"])


def test_deleting_a_queued_job(api: httpx.Client, clip: Path) -> None:
    pid = upload(api, clip)["id"]
    prompt(api, pid)
    # Queued behind the first while the worker runs it.
    first = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 11}).json()
    second = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 11}).json()
    assert api.delete(f"/api/jobs/{second['id']}").status_code == 204
    assert api.get(f"/api/jobs/{second['id']}").status_code == 404
    assert wait_job(api, first["id"], {"done"})["frames_done"] == 12


def test_a_crash_mid_delete_leaves_no_files_at_the_next_start(tmp_path: Path, clip: Path) -> None:
    """The rows go first: a crash before the files went leaves a folder without a row, which
    the next start removes; the project's other job keeps its files."""
    with served(tmp_path) as (client, store):
        pid, info = add_clip(store, clip)
        obj = store.add_object(pid, None, None)["id"]
        store.set_points(pid, obj, 3, [Point(9, 9, "positive")])
        jobs = []
        for _ in range(2):
            job = store.add_job(pid, 2, 4, [obj], "fast", "head", "test-tiny")
            attempt = store.transition(job.id, "running").attempt
            alpha = np.full((info.height, info.width), 0.5, np.float32)
            assert store.save_alpha(job.id, attempt, 3, encode_mattes([alpha]))
            store.transition(job.id, "failed", attempt=attempt, error="boom")
            jobs.append(job.id)
        doomed, kept = jobs

        # The process dies after the rows' commit, before the files go.
        store._remove_files = lambda folders: None  # type: ignore[method-assign]
        assert client.delete(f"/api/jobs/{doomed}").status_code == 204
        assert store.alpha_path(doomed, 3).exists()
    reopened = Store(tmp_path / "data")
    try:
        assert not reopened.job_dir(doomed).exists()
        assert reopened.alpha_path(kept, 3).exists()
        assert [j.id for j in reopened.jobs(pid)] == [kept]
    finally:
        reopened.close()
