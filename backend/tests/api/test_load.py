"""Load on 127.0.0.1: four concurrent uploads, again and again, while a matting job runs and the
editor polls frames and job status. Bounded in count and time; stops by itself."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.server import LiveServer
from tests.synth import write_video

UPLOADERS = 4
ROUNDS = 3  # uploads per uploader at most
TIME_LIMIT = 90.0


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("load") / "long.mp4"
    write_video(path, frames=36)
    return path


def test_uploads_while_a_job_runs_and_frames_are_polled(
    server: LiveServer, clip: Path, long_clip: Path
) -> None:
    log_start = server.log_mark()
    deadline = time.monotonic() + TIME_LIMIT
    with server.client() as api:
        with long_clip.open("rb") as f:
            project = api.post("/api/projects", files={"file": ("long.mp4", f, "video/mp4")})
        assert project.status_code == 201, project.text
        pid = project.json()["id"]
        obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
        api.put(
            f"/api/projects/{pid}/objects/{obj}/frames/3/points",
            json={"points": [{"x": 30, "y": 32, "label": "positive"}]},
        ).raise_for_status()
        job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 35})
        assert job.status_code == 201, job.text
        job_id = job.json()["id"]

    job_over = threading.Event()
    start_together = threading.Barrier(UPLOADERS + 1)
    clip_bytes = clip.read_bytes()

    def uploader(n: int) -> list[tuple[int, str, float]]:
        results = []
        with httpx.Client(base_url=server.url, timeout=60, headers=server.headers) as client:
            start_together.wait(30)
            for round_ in range(ROUNDS):
                if round_ and (job_over.is_set() or time.monotonic() > deadline):
                    break
                response = client.post(
                    "/api/projects",
                    data={"name": f"load {n}.{round_}"},
                    files={"file": (f"load{n}.mp4", clip_bytes, "video/mp4")},
                )
                results.append(
                    (
                        response.status_code,
                        response.json().get("id", response.text),
                        time.monotonic(),
                    )
                )
        return results

    def editor() -> dict:
        """Scrub frames (as the editor does) and poll the job until it ends."""
        seen: dict = {
            "frames": 0,
            "polls": 0,
            "errors": [],
            "job": None,
            "progress": [],
            "ended_at": float("inf"),
        }
        with httpx.Client(base_url=server.url, timeout=60, headers=server.headers) as client:
            start_together.wait(30)
            index = 0
            while time.monotonic() < deadline:
                frame = client.get(
                    f"/api/projects/{pid}/frames/{index % 36}", params={"max_side": 64}
                )
                if frame.status_code != 200 or frame.headers["content-type"] != "image/jpeg":
                    seen["errors"].append((frame.status_code, frame.text[:200]))
                seen["frames"] += 1
                index += 7
                status = client.get(f"/api/jobs/{job_id}")
                if status.status_code != 200:
                    seen["errors"].append((status.status_code, status.text[:200]))
                    continue
                seen["polls"] += 1
                job = seen["job"] = status.json()
                seen["progress"].append(job["frames_done"])
                if job["status"] not in ("queued", "running"):
                    seen["ended_at"] = time.monotonic()
                    break
                time.sleep(0.02)
        job_over.set()
        return seen

    with ThreadPoolExecutor(UPLOADERS + 1) as pool:
        uploads = [pool.submit(uploader, n) for n in range(UPLOADERS)]
        polling = pool.submit(editor)
        seen = polling.result(TIME_LIMIT + 30)
        results = [r for u in uploads for r in u.result(TIME_LIMIT + 30)]

    assert time.monotonic() < deadline + 5, "the load test overran its time limit"
    assert len(results) >= UPLOADERS and all(r[0] == 201 for r in results), results
    # They really overlapped: uploads finished while the job was still running.
    assert sum(r[2] < seen["ended_at"] for r in results) >= UPLOADERS, (results, seen)
    assert seen["errors"] == [], seen["errors"]
    assert seen["frames"] >= 5 and seen["polls"] >= 5
    assert seen["job"]["status"] == "done", seen["job"]
    assert seen["job"]["frames_done"] == 36
    print(f"{len(results)} uploads, {seen['frames']} frames, {seen['polls']} job polls")
    assert seen["progress"] == sorted(seen["progress"])  # progress never goes back

    with server.client() as api:
        listed = {p["id"] for p in api.get("/api/projects").json()}
        uploaded = {r[1] for r in results}
        assert uploaded <= listed and len(uploaded) == len(results)
        for pid_ in uploaded:
            check = api.get(f"/api/projects/{pid_}/frames/11")
            assert check.status_code == 200
            assert api.delete(f"/api/projects/{pid_}").status_code == 204
        for index in (0, 17, 35):
            assert api.get(f"/api/jobs/{job_id}/alpha/{index}").status_code == 200
        assert api.delete(f"/api/projects/{pid}").status_code == 204
    assert list((server.data_dir / "tmp").iterdir()) == []
    log = server.log_since(log_start)
    assert "Traceback" not in log and " 500 " not in log, log[-3000:]
