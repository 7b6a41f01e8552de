"""A cancelled or interrupted job's finished frames are results too: each can be viewed (the
alpha route) and the archive holds the frames that exist, saying which in its headers. Over
real HTTP, the interrupted job by SIGKILLing the server."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.api.test_jobs import prompt, wait_job
from tests.conftest import upload
from tests.server import LiveServer
from tests.synth import write_video
from tests.waiting import wait_until
from vidmatte.jobs.tracks import intervals

FRAMES = 48


def runs(frames: list[int]) -> str:
    return ",".join(f"{a}-{b}" for a, b in intervals(frames))


def started_job(api: httpx.Client, clip: Path, least_done: int = 2) -> tuple[str, str]:
    """A job over the whole clip, once `least_done` frames are finished."""
    pid = upload(api, clip)["id"]
    prompt(api, pid, frame=0)
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": FRAMES - 1}).json()
    assert wait_until(
        lambda: api.get(f"/api/jobs/{job['id']}").json()["frames_done"] >= least_done, 120
    ), "the job never finished a frame"
    return pid, job["id"]


def check_partial_results(api: httpx.Client, job_id: str) -> list[int]:
    """Every finished frame is viewable, the others 404; the archive holds exactly the finished
    ones and says so. Returns the finished frames."""
    job = api.get(f"/api/jobs/{job_id}").json()
    archive = api.get(f"/api/jobs/{job_id}/archive")
    assert archive.status_code == 200, archive.text
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    done = sorted(int(n.removeprefix("alpha/").removesuffix(".png")) for n in names)
    assert len(done) == job["frames_done"] and 0 < len(done) < FRAMES, job
    missing = sorted(set(range(FRAMES)) - set(done))
    assert archive.headers["X-Vidmatte-Frames"] == runs(done)
    assert archive.headers["X-Vidmatte-Frames-Missing"] == runs(missing)
    for frame in (done[0], done[-1]):
        assert api.get(f"/api/jobs/{job_id}/alpha/{frame}").status_code == 200
    gone = api.get(f"/api/jobs/{job_id}/alpha/{missing[0]}")
    assert gone.status_code == 404 and "not matted yet" in gone.json()["detail"]
    return done


@pytest.fixture
def long_clip(tmp_path: Path) -> Path:
    path = tmp_path / "long.mp4"
    write_video(path, frames=FRAMES)
    return path


def test_a_cancelled_jobs_frames_are_viewed_and_downloaded(
    api: httpx.Client, long_clip: Path
) -> None:
    _, job_id = started_job(api, long_clip)
    assert api.post(f"/api/jobs/{job_id}/cancel").json()["status"] == "cancelled"
    time.sleep(0.5)  # a frame being stored when the cancel came is kept or dropped, not half
    check_partial_results(api, job_id)
    # A finished job's archive is complete and says so.
    api.post(f"/api/jobs/{job_id}/resume").raise_for_status()
    assert wait_job(api, job_id, {"done", "failed"})["status"] == "done"
    whole = api.get(f"/api/jobs/{job_id}/archive")
    assert whole.headers["X-Vidmatte-Frames"] == f"0-{FRAMES - 1}"
    assert "X-Vidmatte-Frames-Missing" not in whole.headers


def test_an_interrupted_jobs_frames_are_viewed_and_downloaded(
    tmp_path: Path, long_clip: Path
) -> None:
    server = LiveServer(tmp_path / "data").start()
    try:
        with server.client() as api:
            _, job_id = started_job(api, long_clip, least_done=3)
        server.kill()
        server = LiveServer(tmp_path / "data").start()
        with server.client() as api:
            assert api.get(f"/api/jobs/{job_id}").json()["status"] == "interrupted"
            check_partial_results(api, job_id)
    finally:
        server.stop()


def test_an_archive_of_no_frames_says_what_to_do(api: httpx.Client, long_clip: Path) -> None:
    """409 "has no finished frames yet" said the same to a job that will give some (wait) and
    to a cancelled one that never will unless it is resumed."""
    pid = upload(api, long_clip)["id"]
    prompt(api, pid, frame=0)
    ahead = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": FRAMES - 1}).json()
    behind = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 1}).json()
    waiting = api.get(f"/api/jobs/{behind['id']}/archive")
    assert waiting.status_code == 409
    assert "wait for its first frame" in waiting.json()["detail"], waiting.text
    assert api.post(f"/api/jobs/{behind['id']}/cancel").json()["status"] == "cancelled"
    stopped = api.get(f"/api/jobs/{behind['id']}/archive")
    assert stopped.status_code == 409
    detail = stopped.json()["detail"]
    assert "cancelled" in detail and f"/api/jobs/{behind['id']}/resume" in detail, detail
    api.post(f"/api/jobs/{ahead['id']}/cancel")


def test_part_of_a_cancelled_job_lists_only_its_own_missing_frames(
    api: httpx.Client, long_clip: Path
) -> None:
    """An archive of part of a job (`start`, `end`) says which of that part's frames it lacks,
    not the whole job's; a part with none finished is a 409 that says so of that part."""
    _, job_id = started_job(api, long_clip)
    assert api.post(f"/api/jobs/{job_id}/cancel").json()["status"] == "cancelled"
    time.sleep(0.5)  # a frame being stored when the cancel came is kept or dropped, not half
    done = check_partial_results(api, job_id)
    last = done[-1] + 2  # two frames past the last finished one: both missing
    part = api.get(f"/api/jobs/{job_id}/archive", params={"start": done[0], "end": last})
    assert part.status_code == 200, part.text
    assert part.headers["X-Vidmatte-Frames"] == runs(done)
    assert part.headers["X-Vidmatte-Frames-Missing"] == runs([last - 1, last])
    none = api.get(f"/api/jobs/{job_id}/archive", params={"start": last - 1, "end": last})
    assert none.status_code == 409
    detail = none.json()["detail"]
    assert f"no finished frames among frames {last - 1}-{last}" in detail, detail
    assert f"/api/jobs/{job_id}/resume" in detail
