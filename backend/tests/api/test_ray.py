"""The Ray runner (issue 16) on a real Ray cluster on this machine: `ray start --head` with two
CPUs, a real `vidmatte serve --runner ray` with two CPU workers (test-tiny SAM2) joined to it.
Jobs run two at a time (a third waits `queued`), a killed worker's job finishes on the other
worker writing every frame once, cancel and delete stop the worker, a killed server's job is
`interrupted` and resumes, and bad settings are clear errors.

One cluster and one server for the module (each start loads the models in three processes);
the tests run in order and the fourth restarts the server."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.api.test_crash import db_rows
from tests.conftest import upload
from tests.server import LiveServer, free_port
from tests.synth import write_video
from tests.waiting import wait_for
from vidmatte.jobs.stops import STOPPED_BY_SHUTDOWN

FRAMES = 48
ACTIVE = ("queued", "running")
# A loopback cluster of its own: no token (Ray turns token auth on by itself where
# ~/.ray/auth_token exists; docs/DEPLOY.md sets it up for real clusters).
NO_AUTH = {"RAY_AUTH_MODE": "disabled"}


@contextlib.contextmanager
def ray_head(cpus: int) -> Iterator[str]:
    """A Ray head with `cpus` CPUs and a small object store; its address."""
    port = free_port()
    temp = Path(tempfile.mkdtemp(prefix="vmray", dir="/tmp"))  # Ray's socket paths are short
    head = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ray.scripts.scripts",
            "start",
            "--head",
            "--block",
            f"--port={port}",
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={cpus}",
            "--object-store-memory=200000000",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={temp}",
        ],
        stdout=(temp / "head.log").open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, **NO_AUTH},
        start_new_session=True,  # the head and every Ray process it starts: one group to end
    )
    try:
        wait_for(lambda: b"Ray runtime started" in (temp / "head.log").read_bytes(), 60, "Ray head")
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait(10)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """The module's cluster: two CPUs, for two CPU workers."""
    with ray_head(cpus=2) as address:
        yield address


class Served:
    """The module's server; a test may replace it by a new process on the same data dir."""

    def __init__(self, data_dir: Path, address: str):
        self.data_dir, self.address = data_dir, address
        self.server = self.start()

    def start(self) -> LiveServer:
        env = {
            "VIDMATTE_RUNNER": "ray",
            "VIDMATTE_RAY_ADDRESS": self.address,
            "VIDMATTE_RAY_CPU_WORKERS": "2",
            **NO_AUTH,
        }
        self.server = LiveServer(self.data_dir, env=env).start()
        return self.server


@pytest.fixture(scope="module")
def served(cluster: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = Served(tmp_path_factory.mktemp("ray") / "data", cluster)
    yield served
    served.server.stop()


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "long.mp4"
    write_video(path, frames=FRAMES)
    return path


def start_job(api: httpx.Client, clip: Path, frames: int = FRAMES) -> str:
    pid = upload(api, clip)["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    api.put(
        f"/api/projects/{pid}/objects/{obj}/frames/20/points",
        json={"points": [{"x": 60, "y": 32, "label": "positive"}]},
    ).raise_for_status()
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": frames - 1})
    assert job.status_code == 201, job.text
    return job.json()["id"]


def events(server: LiveServer, jid: str, into: list[tuple[float, dict]]) -> None:
    """The job's event stream, each state with the time it arrived, until a final status."""
    with (
        server.client() as api,
        api.stream("GET", f"/api/jobs/{jid}/events", timeout=120) as stream,
    ):
        for line in stream.iter_lines():
            if line.startswith("data:"):
                into.append((time.monotonic(), json.loads(line[5:])))
                if into[-1][1]["status"] not in ACTIVE:
                    return


def workers() -> dict[int, str]:
    """Worker processes of the cluster: pid -> title (`ray::MattingWorker.run` while a job runs)."""
    ps = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True, check=True)
    found = {}
    for line in ps.stdout.splitlines():
        pid, _, args = line.strip().partition(" ")
        if args.startswith("ray::MattingWorker"):
            found[int(pid)] = args.strip()
    return found


def busy_workers() -> list[int]:
    return [pid for pid, title in workers().items() if title == "ray::MattingWorker.run"]


def running_worker() -> int | None:
    busy = busy_workers()
    return busy[0] if len(busy) == 1 else None


def frames_of(data_dir: Path, jid: str) -> list[int]:
    rows = db_rows(data_dir, "SELECT frame FROM job_frames WHERE job_id = ? ORDER BY frame", jid)
    return [r[0] for r in rows]


def finished(api: httpx.Client, jid: str, timeout: float = 120) -> dict:
    return wait_for(
        lambda: (j := api.get(f"/api/jobs/{jid}").json())["status"] not in ACTIVE and j,
        timeout,
        f"job {jid} to end",
    )


def assert_written_once(data_dir: Path, jid: str, before: dict[int, tuple]) -> None:
    """Every frame has one row and one complete file; frames finished before were not redone."""
    assert frames_of(data_dir, jid) == list(range(FRAMES))
    alpha_dir = data_dir / "jobs" / jid / "alpha"
    files = sorted(p.name for p in alpha_dir.iterdir())
    assert files == [f"{i:06d}.png" for i in range(FRAMES)]  # no stray temporary files
    for name in files:  # complete images of the frame's width (mattes stack in height)
        with Image.open(alpha_dir / name) as image:
            image.load()
            assert image.width == 96 and image.height % 64 == 0, (name, image)
    for frame, (inode, mtime) in before.items():
        stat = (alpha_dir / f"{frame:06d}.png").stat()
        assert (stat.st_ino, stat.st_mtime_ns) == (inode, mtime), frame


def stats(data_dir: Path, jid: str) -> dict[int, tuple]:
    alpha_dir = data_dir / "jobs" / jid / "alpha"
    return {
        f: ((s := (alpha_dir / f"{f:06d}.png").stat()).st_ino, s.st_mtime_ns)
        for f in frames_of(data_dir, jid)
    }


def test_two_jobs_run_at_once_and_a_third_waits_queued(served: Served, long_clip: Path) -> None:
    server = served.server
    with server.client() as api:
        health = api.get("/api/health")
        assert health.status_code == 200 and health.json()["worker"] == "running"
        jobs = [start_job(api, long_clip) for _ in range(3)]
        seen: dict[str, list[tuple[float, dict]]] = {jid: [] for jid in jobs}
        streams = [threading.Thread(target=events, args=(server, j, seen[j])) for j in jobs]
        for stream in streams:
            stream.start()
        for stream in streams:
            stream.join(240)
        ends = [finished(api, jid) for jid in jobs]
    assert [e["status"] for e in ends] == ["done"] * 3, ends
    assert [e["frames_done"] for e in ends] == [FRAMES] * 3
    assert [e["used_track"] for e in ends] == [False] * 3  # workers ran SAM2 themselves
    first, second, third = jobs
    # The first two made progress at the same time, one on each worker: their spans overlap.
    spans = []
    for jid in (first, second):
        progress = [t for t, job in seen[jid] if job["status"] == "running" and job["frames_done"]]
        assert progress, seen[jid]
        spans.append((progress[0], progress[-1]))
    assert max(s[0] for s in spans) < min(s[1] for s in spans), spans
    # The third waited `queued` until a worker was free (server times of the changes).
    assert seen[third][0][1]["status"] == "queued", seen[third][0]
    freed = min(job["updated_at"] for jid in (first, second) for _, job in seen[jid][-1:])
    started = min(job["updated_at"] for _, job in seen[third] if job["status"] == "running")
    assert started >= freed, (started, freed)
    for jid in jobs:
        assert frames_of(server.data_dir, jid) == list(range(FRAMES))


def test_a_killed_worker_s_job_finishes_on_the_other(served: Served, long_clip: Path) -> None:
    server = served.server
    with server.client() as api:
        jid = start_job(api, long_clip)
        wait_for(lambda: api.get(f"/api/jobs/{jid}").json()["frames_done"] >= 4, 60, "frames")
        victim = wait_for(running_worker, 10, "the worker running the job")
        others = set(workers()) - {victim}
        assert len(others) == 1
        os.kill(victim, signal.SIGKILL)
        before = stats(server.data_dir, jid)
        assert 4 <= len(before) < FRAMES, f"the kill came too late: {len(before)} done"
        # The job goes on in the other worker, the one that was idle.
        heir = wait_for(running_worker, 30, "the job to continue")
        assert heir in others
        end = finished(api, jid)
        assert end["status"] == "done" and end["frames_done"] == FRAMES, end
    assert_written_once(server.data_dir, jid, before)


def test_cancel_stops_the_worker_within_two_frames(served: Served, long_clip: Path) -> None:
    server = served.server
    with server.client() as api:
        wait_for(lambda: len(workers()) == 2 and running_worker() is None, 60, "idle workers")
        jid = start_job(api, long_clip)
        wait_for(lambda: api.get(f"/api/jobs/{jid}").json()["frames_done"] >= 2, 60, "frames")
        cancelled = api.post(f"/api/jobs/{jid}/cancel").json()
        assert cancelled["status"] == "cancelled"
        # The worker leaves the job (its title turns idle) well before the job could end.
        wait_for(lambda: running_worker() is None, 10, "the worker to stop")
        job = api.get(f"/api/jobs/{jid}").json()
    assert job["status"] == "cancelled"
    assert cancelled["frames_done"] <= job["frames_done"] <= cancelled["frames_done"] + 2
    assert len(frames_of(server.data_dir, jid)) == job["frames_done"] < FRAMES


def test_deleting_a_running_and_a_queued_job_leaves_nothing(
    served: Served, long_clip: Path
) -> None:
    """The running job's worker stops, and no frame of it is written after the delete; the
    queued one never starts. The other running job goes on to its end."""
    server = served.server
    with server.client() as api:
        wait_for(lambda: len(workers()) == 2 and running_worker() is None, 60, "idle workers")
        running, other, queued = (start_job(api, long_clip) for _ in range(3))
        wait_for(lambda: api.get(f"/api/jobs/{running}").json()["frames_done"] >= 2, 60, "frames")
        assert api.get(f"/api/jobs/{queued}").json()["status"] == "queued"
        assert api.delete(f"/api/jobs/{running}").status_code == 204
        assert api.delete(f"/api/jobs/{queued}").status_code == 204
        # The deleted job's worker left it: at most the other job's runs.
        wait_for(lambda: len(busy_workers()) <= 1, 10, "the deleted job's worker to stop")
        time.sleep(2)  # frames its worker had made must not come back
        assert finished(api, other)["status"] == "done"  # the queued one did not take a worker
        for jid in (running, queued):
            assert api.get(f"/api/jobs/{jid}").status_code == 404
    for jid in (running, queued):
        assert frames_of(server.data_dir, jid) == []
        assert not (server.data_dir / "jobs" / jid).exists()


def test_server_killed_with_the_cluster_up_then_resume(served: Served, long_clip: Path) -> None:
    server = served.server
    with server.client() as api:
        jid = start_job(api, long_clip)
        wait_for(lambda: api.get(f"/api/jobs/{jid}").json()["frames_done"] >= 4, 60, "frames")
    server.kill()
    before = stats(server.data_dir, jid)
    assert 4 <= len(before) < FRAMES, f"the kill came too late: {len(before)} done"

    server = served.start()  # the cluster stayed up; the new server brings its own workers
    with server.client() as api:
        job = api.get(f"/api/jobs/{jid}").json()
        assert job["status"] == "interrupted" and job["frames_done"] == len(before), job
        resumed = api.post(f"/api/jobs/{jid}/resume")
        assert resumed.status_code == 200 and resumed.json()["status"] == "queued"
        end = finished(api, jid)
        assert end["status"] == "done" and end["frames_done"] == FRAMES, end
    assert_written_once(server.data_dir, jid, before)


def serve(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`vidmatte serve` that is expected to refuse to start."""
    command = [sys.executable, "-m", "vidmatte.cli", "serve", "--data-dir", str(data_dir)]
    env = {**os.environ, "VIDMATTE_SAM2": "test-tiny", **NO_AUTH}
    return subprocess.run(
        [*command, *args], check=False, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_a_bad_runner_or_a_cluster_without_gpus_is_a_clear_error(
    cluster: str, tmp_path: Path
) -> None:
    bogus = serve(tmp_path, "--runner", "bogus")
    assert bogus.returncode == 2 and "runner must be inprocess or ray" in bogus.stderr
    no_gpu = serve(tmp_path, "--runner", "ray", "--ray-address", cluster)
    assert no_gpu.returncode == 1, no_gpu.stderr[-2000:]
    assert "error: the Ray cluster has no GPU" in no_gpu.stderr
    assert "--ray-cpu-workers N" in no_gpu.stderr


def test_an_address_without_a_cluster_or_no_address_at_all_is_a_quick_error(
    tmp_path: Path,
) -> None:
    # Nothing listens on a free port: ray.init alone would retry for about 14 minutes.
    nobody = f"127.0.0.1:{free_port()}"
    refused = serve(tmp_path, "--runner", "ray", "--ray-address", nobody, timeout=90)
    assert refused.returncode == 1, refused.stderr[-2000:]
    line = refused.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: no Ray cluster answers at --ray-address {nobody} ("), line
    assert "`ray start --head --port=" in line
    garbage = serve(tmp_path, "--runner", "ray", "--ray-address", "head-without-port", timeout=90)
    assert garbage.returncode == 2, garbage.stderr[-2000:]
    assert garbage.stderr.strip().splitlines()[-1] == (
        "error: --ray-address 'head-without-port' is not auto, local or HOST:PORT of a Ray head "
        "(e.g. 10.0.0.5:6379)"
    )


def test_cpu_workers_the_cluster_has_no_cpus_for_are_a_clear_error(tmp_path: Path) -> None:
    # Without the check the server started, said its worker was running, and every job
    # waited `queued` for ever for workers Ray could not place.
    with ray_head(cpus=0) as address:
        options = ("--runner", "ray", "--ray-address", address, "--ray-cpu-workers", "2")
        none = serve(tmp_path, *options, timeout=90)
    assert none.returncode == 1, none.stderr[-2000:]
    assert none.stderr.strip().splitlines()[-1] == (
        "error: the Ray cluster has 0 CPUs, fewer than --ray-cpu-workers 2 needs (one per "
        "worker): add CPUs (`ray start --num-cpus=N`, or machines) or lower --ray-cpu-workers"
    )


def test_ctrl_c_after_the_cluster_is_lost_stops_the_server_and_its_job(tmp_path: Path) -> None:
    """The cluster's head killed while a job ran: the job went back to the front of the line,
    the idle worker's thread took it and put its video in the object store, and Ray ended the
    whole server at once (exit 1, no word), the job left `running`. Now it waits, and Ctrl-C
    stops the server (a hang was feared: stop() talks to the cluster) and ends the job."""
    # Ten times the usual clip: the job must still run when the head is gone (a quiet machine
    # finished the 48 frames first).
    clip, frames = tmp_path / "longer.mp4", 10 * FRAMES
    write_video(clip, frames=frames)
    with ray_head(cpus=2) as address:  # its own cluster: the module's one stays up
        server = Served(tmp_path / "data", address).server
        mark = server.log_mark()
        with server.client() as api:
            jid = start_job(api, clip, frames)
            wait_for(lambda: api.get(f"/api/jobs/{jid}").json()["frames_done"] >= 2, 60, "frames")

    def worker_died() -> bool:
        return "its worker died" in server.log_since(mark)

    try:
        wait_for(worker_died, 30, "the job's stream to fail")
        time.sleep(2)  # the idle worker's thread has taken the job back (Ray ends us within 60 s)
        assert server.process.poll() is None, server.log_since(mark)[-3000:]
        os.killpg(server.process.pid, signal.SIGINT)
        assert server.process.wait(45) == 0, server.log_since(mark)[-3000:]
    finally:
        server.kill()
    status = db_rows(server.data_dir, "SELECT status, error, stop FROM jobs WHERE id = ?", jid)
    assert status == [("interrupted", STOPPED_BY_SHUTDOWN, "shutdown")]
