"""The job worker and the server's lifecycle, over real HTTP and real processes: nothing a job does
ends the worker, job states change in one place (cancel/resume races), jobs keep their prompts,
limits, a full disk, one server per data dir, a clean shutdown, superseded previews."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.api.test_jobs import wait_job
from tests.conftest import upload
from tests.server import LiveServer, free_port
from tests.synth import write_video
from tests.waiting import wait_until
from vidmatte.config import Settings
from vidmatte.jobs.stops import STOPPED_BY_SHUTDOWN

POS = {"x": 30, "y": 32, "label": "positive"}
ACTIVE = {"queued", "running"}


def prompt(api: httpx.Client, pid: str, frame: int = 0, points: list | None = None) -> int:
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    response = api.put(
        f"/api/projects/{pid}/objects/{obj}/frames/{frame}/points",
        json={"points": points or [POS]},
    )
    assert response.status_code == 200, response.text
    return obj


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("long") / "long.mp4"
    write_video(path, frames=40, width=320, height=240)
    return path


def start_long_job(api: httpx.Client, clip: Path, objects: int = 1) -> tuple[str, str]:
    pid = upload(api, clip)["id"]
    for _ in range(objects):
        prompt(api, pid)
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 39})
    assert job.status_code == 201, job.text
    return pid, job.json()["id"]


# -- 1: nothing a job does ends the worker ------------------------------------------------------
def test_deleting_a_project_while_its_job_runs_keeps_the_worker(
    api: httpx.Client, long_clip: Path, clip: Path
) -> None:
    pid, jid = start_long_job(api, long_clip)
    wait_job(api, jid, lambda j: j["frames_done"] >= 1)
    assert api.delete(f"/api/projects/{pid}").status_code == 204
    assert api.get(f"/api/jobs/{jid}").status_code == 404
    # The next job still runs: the worker survived its job's disappearance.
    other = upload(api, clip)["id"]
    prompt(api, other, frame=4)
    job = api.post(f"/api/projects/{other}/jobs", json={"start": 3, "end": 5}).json()
    assert wait_job(api, job["id"], lambda j: j["status"] not in ACTIVE)["status"] == "done"
    health = api.get("/api/health")
    assert health.status_code == 200 and health.json()["worker"] == "running"


# -- 10: limits, cancel between objects, nothing written after cancelled -----------------------
def test_objects_per_project_are_limited(api: httpx.Client, project: dict) -> None:
    limit = Settings().max_objects
    pid = project["id"]
    for _ in range(limit):
        assert api.post(f"/api/projects/{pid}/objects", json={}).status_code == 201
    refused = api.post(f"/api/projects/{pid}/objects", json={})
    assert refused.status_code == 422
    assert f"at most {limit} objects" in refused.json()["detail"]
    assert "VIDMATTE_MAX_OBJECTS" in refused.json()["detail"]
    assert len(api.get(f"/api/projects/{pid}/objects").json()) == limit


def test_points_per_frame_are_limited(api: httpx.Client, project: dict) -> None:
    limit = Settings().max_points_per_frame
    pid = project["id"]
    obj = prompt(api, pid, frame=2)
    points = [{"x": 1 + i % 90, "y": 1 + i % 60, "label": "positive"} for i in range(limit + 1)]
    refused = api.put(f"/api/projects/{pid}/objects/{obj}/frames/2/points", json={"points": points})
    assert refused.status_code == 422
    assert f"at most {limit} points" in refused.json()["detail"]
    stored = api.get(f"/api/projects/{pid}/points").json()
    assert [p["points"] for p in stored] == [[POS]]  # the old points are kept
    ok = api.put(
        f"/api/projects/{pid}/objects/{obj}/frames/2/points", json={"points": points[:limit]}
    )
    assert ok.status_code == 200


def test_object_ids_per_job_are_limited(api: httpx.Client, project: dict) -> None:
    limit = Settings().max_objects
    pid = project["id"]
    prompt(api, pid, frame=4)
    refused = api.post(
        f"/api/projects/{pid}/jobs",
        json={"start": 0, "end": 5, "object_ids": list(range(1, limit + 2))},
    )
    assert refused.status_code == 422
    assert f"at most {limit} object ids" in refused.json()["detail"]
    assert api.get(f"/api/projects/{pid}/jobs").json() == []


def test_nothing_is_written_once_a_job_says_cancelled(
    api: httpx.Client, long_clip: Path, server: LiveServer
) -> None:
    # Several objects make a frame long, so a cancel usually lands in the middle of one.
    _, jid = start_long_job(api, long_clip, objects=4)
    wait_job(api, jid, lambda j: j["frames_done"] >= 1)
    cancelled = api.post(f"/api/jobs/{jid}/cancel").json()
    assert cancelled["status"] == "cancelled"
    time.sleep(3)  # longer than a frame takes
    after = api.get(f"/api/jobs/{jid}").json()
    assert after["status"] == "cancelled"
    assert after["frames_done"] == cancelled["frames_done"]
    files = list((server.data_dir / "jobs" / jid / "alpha").iterdir())
    assert len(files) == cancelled["frames_done"]


# -- 11: cancel and resume race -----------------------------------------------------------------
@pytest.mark.parametrize("attempt", range(3))
def test_cancel_then_immediate_resume_runs_the_job_once(
    api: httpx.Client, long_clip: Path, server: LiveServer, attempt: int
) -> None:
    _, jid = start_long_job(api, long_clip)
    wait_job(api, jid, lambda j: j["frames_done"] >= 2 + 3 * attempt)
    assert api.post(f"/api/jobs/{jid}/cancel").json()["status"] == "cancelled"
    resumed = api.post(f"/api/jobs/{jid}/resume").json()
    assert resumed["status"] == "queued"
    seen = []

    def ended(job: dict) -> bool:  # noting each state seen while the job is queued or running
        if job["status"] in ACTIVE:
            seen.append((job["status"], job["frames_done"]))
        return job["status"] not in ACTIVE

    job = wait_job(api, jid, ended, every=0.01)
    # A queued job writes nothing: frames move only once it runs again.
    assert all(done == resumed["frames_done"] for status, done in seen if status == "queued"), seen
    # No late "cancelled" from the first run overwrote the resume.
    assert job["status"] == "done" and job["frames_done"] == 40, job
    files = sorted(p.name for p in (server.data_dir / "jobs" / jid / "alpha").iterdir())
    assert files == [f"{i:06d}.png" for i in range(40)]


def test_a_resumed_job_waits_behind_the_jobs_queued_before_its_resume(
    api: httpx.Client, long_clip: Path, project: dict
) -> None:
    _, first = start_long_job(api, long_clip)
    prompt(api, project["id"])
    later = [
        api.post(f"/api/projects/{project['id']}/jobs", json={"start": 0, "end": 11}).json()["id"]
        for _ in range(2)
    ]
    assert api.post(f"/api/jobs/{later[0]}/cancel").json()["status"] == "cancelled"
    assert api.post(f"/api/jobs/{later[0]}/resume").json()["status"] == "queued"
    api.post(f"/api/jobs/{first}/cancel")
    # The next job to leave the queue is the one that waited there all along.
    started = wait_job(api, later[1], lambda j: j["status"] != "queued")
    assert api.get(f"/api/jobs/{later[0]}").json()["status"] == "queued", started
    wait_job(api, later[0], lambda j: j["status"] == "done")


def test_resume_of_a_running_or_queued_job_is_refused(api: httpx.Client, long_clip: Path) -> None:
    _, jid = start_long_job(api, long_clip)
    refused = api.post(f"/api/jobs/{jid}/resume")
    assert refused.status_code == 409
    assert "only interrupted, cancelled or failed jobs can be resumed" in refused.json()["detail"]
    api.post(f"/api/jobs/{jid}/cancel")


# -- 12: a job keeps its prompts and settings ---------------------------------------------------
def test_resume_uses_the_prompts_the_job_was_made_with(api: httpx.Client, long_clip: Path) -> None:
    pid = upload(api, long_clip)["id"]
    obj = prompt(api, pid, frame=0)
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 39}).json()
    snapshot = [{"object_id": obj, "frame": 0, "points": [POS]}]
    assert job["prompts"] == snapshot
    health = api.get("/api/health").json()
    assert job["head"] == health["matting_head"] and job["edges"] == Settings().edges
    wait_job(api, job["id"], lambda j: j["frames_done"] >= 1)
    api.post(f"/api/jobs/{job['id']}/cancel")
    # After the cancel the user moves on: the object is gone, another one clicked elsewhere.
    assert api.delete(f"/api/projects/{pid}/objects/{obj}").status_code == 204
    prompt(api, pid, frame=7, points=[{"x": 300, "y": 200, "label": "positive"}])
    assert api.post(f"/api/jobs/{job['id']}/resume").json()["prompts"] == snapshot
    done = wait_job(api, job["id"], lambda j: j["status"] not in ACTIVE)
    assert done["status"] == "done" and done["frames_done"] == 40, done
    assert done["prompts"] == snapshot and done["object_ids"] == [obj]


# -- 16: superseded previews are dropped --------------------------------------------------------
def test_a_superseded_preview_is_dropped_before_it_runs(server: LiveServer, tmp_path: Path) -> None:
    # A job long enough to keep SAM2 busy while the previews queue for it, even on a fast
    # machine (40 frames ended first on CI once: every preview then ran in turn).
    longer = tmp_path / "longer.mp4"
    write_video(longer, frames=160, width=320, height=240)
    with server.client() as api:
        pid = upload(api, longer)["id"]
        for _ in range(2):
            prompt(api, pid)
        jid = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 159}).json()["id"]
        wait_job(api, jid, lambda j: j["status"] == "running")

    ready = threading.Barrier(8)

    def preview(_: int) -> httpx.Response:
        with server.client() as client:
            ready.wait()  # connected: the eight are sent at one moment
            return client.post(f"/api/projects/{pid}/frames/0/preview")

    # Bursts until one overlaps (on a loaded machine a burst's requests can still trickle in
    # one by one, each run before the next came): an overlap drops all but the newest waiting.
    dropped: list[str] = []
    for _ in range(5):
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(preview, range(8)))
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {200, 409}, [r.text for r in responses]
        assert 200 in statuses  # the newest one ran
        dropped = [r.json()["detail"] for r in responses if r.status_code == 409]
        if dropped:
            break
    with server.client() as api:
        cancelled = api.post(f"/api/jobs/{jid}/cancel").json()
    assert cancelled["status"] == "cancelled", "the job ended before the previews: no contention"
    assert dropped, "every preview ran, though newer ones had replaced them"
    assert all("superseded by a newer preview of frame 0" in d for d in dropped)


# -- 18: reads take no write lock ---------------------------------------------------------------
def test_reads_do_not_wait_for_a_writer(
    api: httpx.Client, project: dict, server: LiveServer
) -> None:
    pid = project["id"]
    prompt(api, pid, frame=4)
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 3, "end": 4}).json()
    wait_job(api, job["id"], lambda j: j["status"] not in ACTIVE)
    writer = sqlite3.connect(server.data_dir / "vidmatte.db", isolation_level=None)
    try:
        assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with httpx.Client(base_url=server.url, timeout=5, headers=server.headers) as quick:
            assert quick.get(f"/api/projects/{pid}").status_code == 200
            assert quick.get(f"/api/projects/{pid}/points").status_code == 200
            assert quick.get(f"/api/jobs/{job['id']}").json()["status"] == "done"
            assert quick.get(f"/api/projects/{pid}/jobs").status_code == 200
    finally:
        writer.execute("ROLLBACK")
        writer.close()


# -- servers of their own -----------------------------------------------------------------------
def serve_command(data_dir: Path, port: int, *extra: str) -> list[str]:
    command = [sys.executable, "-m", "vidmatte.cli", "serve", "--port", str(port)]
    return [*command, "--data-dir", str(data_dir), *extra]


def job_status(data_dir: Path, jid: str) -> str:
    with sqlite3.connect(data_dir / "vidmatte.db") as db:
        return db.execute("SELECT status FROM jobs WHERE id = ?", (jid,)).fetchone()[0]


# -- 13: one server per data dir ----------------------------------------------------------------
def test_a_second_server_on_the_same_data_dir_touches_nothing(
    tmp_path: Path, long_clip: Path
) -> None:
    first = LiveServer(tmp_path / "data").start()
    try:
        with first.client() as api:
            _, jid = start_long_job(api, long_clip)
            wait_job(api, jid, lambda j: j["status"] == "running")
            in_flight = first.data_dir / "tmp" / "upload-in-flight"
            in_flight.write_bytes(b"half an upload")
            second = subprocess.run(  # on a port of its own: the same one is refused first
                serve_command(first.data_dir, free_port()),
                env={**os.environ, "VIDMATTE_SAM2": "test-tiny"},
                capture_output=True,
                check=False,
                text=True,
                timeout=120,
            )
            assert second.returncode == 1, second.stderr[-2000:]
            assert f"data dir {first.data_dir} is in use by PID {first.process.pid}" in (
                second.stderr
            )
            assert in_flight.read_bytes() == b"half an upload"
            job = api.get(f"/api/jobs/{jid}").json()
            # Still running, or ended undisturbed (the matting got fast enough to finish the
            # clip while the second server started): never interrupted by its start-up.
            assert job["status"] in ACTIVE | {"done"} and job["error"] is None, job
            api.post(f"/api/jobs/{jid}/cancel")
    finally:
        first.stop()


# -- 14: a clean shutdown -----------------------------------------------------------------------
def test_sigterm_ends_event_streams_and_interrupts_the_running_job(
    tmp_path: Path, long_clip: Path
) -> None:
    server = LiveServer(tmp_path / "data", env={"VIDMATTE_EVENT_PING_SECONDS": "0.5"}).start()
    lines: list[str] = []
    try:
        with server.client() as api:
            _, jid = start_long_job(api, long_clip, objects=2)
            wait_job(api, jid, lambda j: j["frames_done"] >= 1)

        def follow() -> None:
            with server.client() as client, client.stream("GET", f"/api/jobs/{jid}/events") as r:
                lines.extend(r.iter_lines())

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        # Until a keep-alive comment comes:
        assert wait_until(lambda: any(x.startswith(": ping") for x in lines), 30, 0.05), lines
        os.killpg(server.process.pid, signal.SIGTERM)
        # Raises if the shutdown hangs; uvicorn re-raises the signal once it has shut down.
        assert server.process.wait(timeout=20) == -signal.SIGTERM
        reader.join(timeout=5)
        assert not reader.is_alive(), "the event stream did not end at shutdown"
    finally:
        server.kill()
    assert job_status(server.data_dir, jid) == "interrupted"
    events = [json.loads(line[5:]) for line in lines if line.startswith("data:")]
    assert events and events[0]["id"] == jid


def test_sigterm_cuts_a_stalled_download_and_interrupts_the_running_job(tmp_path: Path) -> None:
    """A download whose client stopped reading (a paused browser download) holds its request
    open: the shutdown must not wait for it for ever, the job matting on meanwhile."""
    clip = tmp_path / "longer.mp4"  # long enough to be matting still after the cut
    write_video(clip, frames=400, width=320, height=240)
    server = LiveServer(tmp_path / "data").start()
    try:
        with server.client() as api:
            pid = upload(api, clip)["id"]
            prompt(api, pid)
            jid = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 399}).json()["id"]
            wait_job(api, jid, lambda j: j["frames_done"] >= 16)
        with socket.create_connection(("127.0.0.1", server.port)) as stalled:
            stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            stalled.sendall(
                f"GET /api/jobs/{jid}/archive?formats=rgba_png,alpha_png16,exr HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\nAuthorization: Bearer {server.token}\r\n\r\n".encode()
            )
            assert stalled.recv(12) == b"HTTP/1.1 200"  # streaming; then never read again
            os.killpg(server.process.pid, signal.SIGTERM)
            assert server.process.wait(timeout=30) == -signal.SIGTERM
    finally:
        server.kill()
    with sqlite3.connect(server.data_dir / "vidmatte.db") as db:
        row = db.execute("SELECT status, error, stop FROM jobs WHERE id = ?", (jid,)).fetchone()
    assert row == ("interrupted", STOPPED_BY_SHUTDOWN, "shutdown")


# -- 22: a missing head is an error naming the fix ---------------------------------------------
def test_serve_without_head_weights_names_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "head.safetensors"
    result = subprocess.run(
        serve_command(tmp_path / "data", free_port(), "--head", str(missing)),
        env={**os.environ, "VIDMATTE_SAM2": "test-tiny"},
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert str(missing) in result.stderr and "--random-head" in result.stderr


def test_random_head_is_an_explicit_choice(tmp_path: Path) -> None:
    env = {"VIDMATTE_HEAD": str(tmp_path / "none.safetensors"), "VIDMATTE_RANDOM_HEAD": "1"}
    server = LiveServer(tmp_path / "data", env=env).start()
    try:
        with server.client() as api:
            assert api.get("/api/health").json()["matting_head"] == "untrained (random weights)"
    finally:
        server.stop()


# -- 8: a full disk -----------------------------------------------------------------------------
def fill(path: Path) -> None:
    """Write until the file system is full (a real ENOSPC, as a user would meet it)."""
    with path.open("ab") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as exc:
            assert exc.errno == 28, exc  # ENOSPC


def test_a_full_disk_fails_the_job_naming_it_and_resume_finishes(
    tmp_path: Path, long_clip: Path
) -> None:
    data = tmp_path / "data"
    # The server runs in its own mount namespace on a 24 MB tmpfs; this process sees that
    # file system through /proc/<pid>/root.
    mount = 'mount -t tmpfs -o size=24m tmpfs "$0" && exec "$@"'
    prefix = ["unshare", "-rm", "sh", "-c", mount, str(data)]
    # No free-space reserve for uploads: this test is about what a job meets.
    server = LiveServer(data, env={"VIDMATTE_MIN_FREE_BYTES": "0"}, prefix=prefix).start()
    root = Path(f"/proc/{server.process.pid}/root{data}")
    filler = root / "filler"
    try:
        with server.client() as api:
            _, jid = start_long_job(api, long_clip, objects=2)
            wait_job(api, jid, lambda j: j["frames_done"] >= 1)
            fill(filler)
            failed = wait_job(api, jid, lambda j: j["status"] not in ACTIVE)
            assert failed["status"] == "failed", failed
            assert failed["error"].startswith("not enough disk space"), failed["error"]
            assert "free some space, then resume the job" in failed["error"]
            # Nothing half-written: every file is a finished frame the job counts.
            alpha = root / "jobs" / jid / "alpha"
            files = sorted(p.name for p in alpha.iterdir())
            assert len(files) == failed["frames_done"] < 40, files
            assert not [f for f in files if not f.endswith(".png") or f.startswith(".")]
            assert list((root / "tmp").iterdir()) == []

            filler.unlink()
            assert api.post(f"/api/jobs/{jid}/resume").json()["status"] == "queued"
            done = wait_job(api, jid, lambda j: j["status"] not in ACTIVE)
            assert done["status"] == "done" and done["frames_done"] == 40, done
            assert done["error"] is None
            assert len(list(alpha.iterdir())) == 40
    finally:
        server.stop()
