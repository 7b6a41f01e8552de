"""Crash safety: SIGKILL the server during an upload and during a job, start it again on the
same data dir, and check that the database and the files agree: no half-written project,
finished frames intact, and the interrupted job resumes to completion writing each frame once."""

from __future__ import annotations

import io
import json
import shutil
import socket
import sqlite3
import time
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.conftest import upload
from tests.server import LiveServer
from tests.synth import write_video
from tests.waiting import wait_for

FRAMES = 48
CRASHED = "the server stopped while this job ran (a crash or a kill): resume it to matte the rest"
TRACK_CRASHED = (
    "the server stopped while this track ran (a crash or a kill): press Track to run it again"
)


def db_rows(data_dir: Path, query: str, *args) -> list[tuple]:
    with sqlite3.connect(data_dir / "vidmatte.db") as db:
        return db.execute(query, args).fetchall()


def prompted(api: httpx.Client, clip: Path, frame: int = 0) -> str:
    """A project of `clip` with one object clicked at (60, 32) on `frame`; its id."""
    pid = upload(api, clip, "long")["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    api.put(
        f"/api/projects/{pid}/objects/{obj}/frames/{frame}/points",
        json={"points": [{"x": 60, "y": 32, "label": "positive"}]},
    ).raise_for_status()
    return pid


@pytest.fixture
def live(tmp_path: Path):
    """Start a server on the test's data dir; each call starts a fresh process on the same dir."""
    servers: list[LiveServer] = []

    def start(env: dict[str, str] | None = None) -> LiveServer:
        servers.append(LiveServer(tmp_path / "data", env).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_sigkill_during_upload_leaves_no_project(live, clip: Path, tmp_path: Path) -> None:
    server = live()
    with server.client() as api:
        keep = upload(api, clip, "kept")
    big = tmp_path / "big.mp4"
    write_video(big, frames=FRAMES)
    payload = big.read_bytes() * 4  # the server must not see the end of it

    boundary = "crash-boundary"
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(
        (
            f"POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {server.token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(payload) + 1000}\r\n\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
        ).encode()
    )
    sock.sendall(payload[: len(payload) // 2])
    tmp = server.data_dir / "tmp"
    partial = wait_for(
        lambda: [p for p in tmp.iterdir() if p.stat().st_size > 0],
        20,
        "the upload to reach the disk",
    )
    server.kill()
    sock.close()
    assert partial[0].exists()  # killed with half an upload on disk

    server = live()
    with server.client() as api:
        projects = api.get("/api/projects").json()
        assert [p["id"] for p in projects] == [keep["id"]]
        assert api.get(f"/api/projects/{keep['id']}/frames/11").status_code == 200
        assert api.get(f"/api/projects/{keep['id']}/thumbnail").status_code == 200
    assert list(tmp.iterdir()) == []
    assert sorted(p.name for p in (server.data_dir / "projects").iterdir()) == [keep["id"]]
    assert db_rows(server.data_dir, "SELECT id FROM projects") == [(keep["id"],)]


def test_orphans_of_a_crash_are_collected_at_start(live, clip: Path) -> None:
    """What a kill between two steps leaves (a project folder whose row was never inserted, a job
    folder whose row is gone, a half-written alpha) disappears at the next start."""
    server = live()
    with server.client() as api:
        keep = upload(api, clip, "kept")
    server.kill()
    data = server.data_dir
    (data / "projects" / "p_000000orphan").mkdir()
    (data / "projects" / "p_000000orphan" / "source.mp4").write_bytes(clip.read_bytes())
    (data / "jobs" / "j_000000orphan" / "alpha").mkdir(parents=True)
    (data / "jobs" / "j_000000orphan" / "alpha" / "000000.png").write_bytes(b"png")

    server = live()
    assert sorted(p.name for p in (data / "projects").iterdir()) == [keep["id"]]
    assert list((data / "jobs").iterdir()) == []
    with server.client() as api:
        assert [p["id"] for p in api.get("/api/projects").json()] == [keep["id"]]


def png_ok(path: Path) -> bool:
    """A complete stored frame: the one object's 16-bit matte (jobs/mattes.py)."""
    with Image.open(path) as image:
        image.load()
        return image.mode == "I;16" and image.size == (96, 64)


def test_sigkill_during_a_job_then_resume(live, tmp_path: Path) -> None:
    clip = tmp_path / "long.mp4"
    write_video(clip, frames=FRAMES)
    server = live()
    with server.client() as api:
        pid = prompted(api, clip, frame=20)
        job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": FRAMES - 1}).json()
        jid = job["id"]
        # Kill it in the middle: some frames done, most not.
        wait_for(
            lambda: api.get(f"/api/jobs/{jid}").json()["frames_done"] >= 4,
            60,
            "a few finished frames",
        )
    server.kill()

    alpha_dir = server.data_dir / "jobs" / jid / "alpha"
    done = {
        row[0]
        for row in db_rows(server.data_dir, "SELECT frame FROM job_frames WHERE job_id = ?", jid)
    }
    assert 4 <= len(done) < FRAMES, f"the kill came too late to test anything: {len(done)} done"
    before = {}
    for frame in done:  # every frame the database calls done has its complete file
        path = alpha_dir / f"{frame:06d}.png"
        assert png_ok(path), frame
        stat = path.stat()
        before[frame] = (stat.st_ino, stat.st_mtime_ns, path.read_bytes())

    server = live()
    with server.client() as api:
        job = api.get(f"/api/jobs/{jid}").json()
        assert job["status"] == "interrupted" and job["frames_done"] == len(done)
        assert job["error"] == CRASHED  # the user learns why, and what to do
        assert api.get(f"/api/projects/{pid}").json()["video"]["frame_count"] == FRAMES
        for frame in sorted(done)[:3]:
            alpha = api.get(f"/api/jobs/{jid}/alpha/{frame}")
            assert alpha.status_code == 200
            served = np.asarray(Image.open(io.BytesIO(alpha.content))).astype(np.int64)
            stored = np.asarray(Image.open(io.BytesIO(before[frame][2]))).astype(np.int64)
            assert np.abs(served * 257 - stored).max() <= 129  # the stored matte in 8 bits
        missing = next(f for f in range(FRAMES) if f not in done)
        assert api.get(f"/api/jobs/{jid}/alpha/{missing}").status_code == 404

        resumed = api.post(f"/api/jobs/{jid}/resume")
        assert resumed.status_code == 200 and resumed.json()["status"] == "queued"
        finished = wait_for(
            lambda: (
                (j := api.get(f"/api/jobs/{jid}").json())["status"] not in ("queued", "running")
                and j
            ),
            120,
            "the resumed job",
        )
        assert finished["status"] == "done", finished
        assert finished["frames_done"] == FRAMES

        archive = api.get(f"/api/jobs/{jid}/archive")
        assert archive.status_code == 200
        names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
        alphas = [n for n in names if n.startswith("alpha/")]
        assert alphas == sorted(set(alphas)) == [f"alpha/{i:06d}.png" for i in range(FRAMES)]

    rows = db_rows(
        server.data_dir, "SELECT frame FROM job_frames WHERE job_id = ? ORDER BY frame", jid
    )
    assert [r[0] for r in rows] == list(range(FRAMES))  # every frame exactly once
    files = sorted(p.name for p in alpha_dir.iterdir())
    assert files == [f"{i:06d}.png" for i in range(FRAMES)]  # no stray temporary files
    assert all(png_ok(alpha_dir / name) for name in files)
    for frame, (inode, mtime, data) in before.items():  # finished frames were not redone
        stat = (alpha_dir / f"{frame:06d}.png").stat()
        assert (stat.st_ino, stat.st_mtime_ns) == (inode, mtime), frame
        assert (alpha_dir / f"{frame:06d}.png").read_bytes() == data


# What the next server runs instead: its settings, and how a job's refusal names the two.
SWITCHES = {
    "head": (
        {"VIDMATTE_HEAD": "none.safetensors", "VIDMATTE_RANDOM_HEAD": "1"},
        "the matting head '{head}', this server runs 'untrained (random weights)'",
    ),
    "sam2": (
        {"VIDMATTE_SAM2": "tiny", "VIDMATTE_RANDOM_INIT": "1"},
        "SAM2 'test-tiny', this server runs SAM2 'tiny (random weights)'",
    ),
}


@pytest.mark.parametrize("switch", SWITCHES)
def test_jobs_made_with_other_models_wait_for_them_after_a_restart(
    live, tmp_path: Path, switch: str
) -> None:
    """A queued job does not run with the matting head or SAM2 of the next server (its record
    names what it was made with): it is interrupted with the reason, as its resume would be; the
    job the shutdown interrupted gives that reason too."""
    clip = tmp_path / "long.mp4"
    write_video(clip, frames=FRAMES)
    server = live()
    with server.client() as api:
        head = api.get("/api/health").json()["matting_head"]
        pid = prompted(api, clip)
        running, queued = (
            api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": FRAMES - 1}).json()
            for _ in range(2)
        )
        assert running["sam2_model"] == "test-tiny" and running["head"] == head
        wait_for(
            lambda: api.get(f"/api/jobs/{running['id']}").json()["frames_done"] >= 2,
            60,
            "a started job",
        )
    server.stop()

    env, names = SWITCHES[switch]
    server = live({k: str(tmp_path / v) if k == "VIDMATTE_HEAD" else v for k, v in env.items()})
    other = f"made with {names.format(head=head)}: start a new job"
    with server.client() as api:
        first = api.get(f"/api/jobs/{running['id']}").json()
        # Not "resume it": its resume is refused.
        stopped = "the server was shut down while this job ran"
        assert first["status"] == "interrupted"
        assert first["error"] == f"{stopped}; job '{running['id']}' was {other}"
        time.sleep(2)  # time enough for a job the runner took to start
        second = api.get(f"/api/jobs/{queued['id']}").json()
        assert second["status"] == "interrupted" and second["frames_done"] == 0, second
        assert second["error"] == f"job '{queued['id']}' was {other}"
        for job in (first, second):
            refused = api.post(f"/api/jobs/{job['id']}/resume")
            assert refused.status_code == 409 and other in refused.json()["detail"]


def test_a_track_killed_mid_run_serves_only_what_it_recorded(live, tmp_path: Path) -> None:
    """Masks are written every frame, the record every second: after a kill, what the track
    says it tracked and the masks it serves agree."""
    clip = tmp_path / "long.mp4"
    write_video(clip, frames=120)
    server = live()
    with server.client() as api:
        pid = prompted(api, clip)
        api.post(f"/api/projects/{pid}/track", json={"start": 0, "end": 119}).raise_for_status()
        masks = server.data_dir / "projects" / pid / "track" / "masks"
        wait_for(lambda: len(list(masks.glob("*.png"))) >= 30, 60, "masks on disk")
    server.kill()

    # The kill may come just after a save: a mask past the record, as a kill between saves
    # leaves, whatever the timing.
    recorded = json.loads((masks.parent / "track.json").read_text())["stats"]
    after = max(int(f) for f in recorded) + 1
    written = next(masks.glob("*.png"))  # {frame:06d}-{object}.png
    shutil.copyfile(written, masks / f"{after:06d}{written.name[6:]}")
    server = live()
    with server.client() as api:
        track = api.get(f"/api/projects/{pid}/track").json()
        assert track["status"] == "interrupted" and track["error"] == TRACK_CRASHED
        recorded = {f for first, last in track["tracked"] for f in range(first, last + 1)}
        served = {
            f
            for f in range(120)
            if api.get(f"/api/projects/{pid}/track/masks/{f}").status_code == 200
        }
        assert served == recorded and after not in served
