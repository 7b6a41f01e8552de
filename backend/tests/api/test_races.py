"""Requests that race each other over real HTTP: edits, jobs, tracks and frames against a delete,
and many jobs against the queue's limit. Each loser gets a precise 4xx, never a 500, and nothing
is left of a deleted project."""

from __future__ import annotations

import io
import threading
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.api.test_jobs import wait_job
from tests.conftest import upload
from tests.server import LiveServer
from tests.waiting import wait_until

ROUNDS = 6
POINT = {"points": [{"x": 30, "y": 32, "label": "positive"}]}


Request = tuple[str, str, dict | None]  # method, path, JSON body


def together(server: LiveServer, requests: list[Request]) -> list[httpx.Response]:
    """Send each request on its own connection, all released at the same instant."""
    barrier = threading.Barrier(len(requests))

    def send(request: Request) -> httpx.Response:
        method, path, body = request
        with httpx.Client(base_url=server.url, headers=server.headers, timeout=60) as client:
            client.get("/api/health")  # connected before the start
            barrier.wait(30)
            return client.request(method, path, json=body)

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


def prompted_project(api: httpx.Client, clip: Path, name: str) -> tuple[str, int]:
    pid = upload(api, clip, name)["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    api.put(f"/api/projects/{pid}/objects/{obj}/frames/0/points", json=POINT).raise_for_status()
    return pid, obj


def test_edits_jobs_tracks_and_frames_racing_a_project_delete_get_404_never_500(
    server: LiveServer, api: httpx.Client, clip: Path
) -> None:
    seen: Counter[tuple[str, int]] = Counter()
    log_start, ours = server.log_mark(), set()
    for round_ in range(ROUNDS):
        pid, obj = prompted_project(api, clip, f"doomed {round_}")
        base = f"/api/projects/{pid}"
        requests: dict[str, Request] = {
            "delete": ("DELETE", base, None),
            "object": ("POST", f"{base}/objects", {}),
            "points": ("PUT", f"{base}/objects/{obj}/frames/1/points", POINT),
            "job": ("POST", f"{base}/jobs", {"start": 0, "end": 3}),
            "job again": ("POST", f"{base}/jobs", {"start": 0, "end": 3}),
            "track": ("POST", f"{base}/track", {"start": 0, "end": 11}),
            "frame": ("GET", f"{base}/frames/{5 + round_}", None),
            "thumbnail": ("GET", f"{base}/thumbnail", None),
        }
        answers = together(server, list(requests.values()))
        for kind, answer in zip(requests, answers, strict=True):
            seen[(kind, answer.status_code)] += 1
            assert answer.status_code < 500, f"{kind}: {answer.status_code} {answer.text}"
            if answer.status_code == 404:
                assert "does not exist" in answer.json()["detail"], answer.text
        assert answers[0].status_code == 204
        assert api.get(base).status_code == 404
        assert not (server.data_dir / "projects" / pid).exists(), "a deleted project's folder"
        jobs = {a.json()["id"] for a in answers if a.status_code == 201 and "jobs" in a.url.path}
        left = [j for j in jobs if (server.data_dir / "jobs" / j).exists()]
        assert not left, f"a deleted project's job folders: {left}"
        ours |= {pid, *jobs}
    # Only this test's projects and jobs count: other tests' jobs may still run meanwhile.
    log = server.log_since(log_start).splitlines()
    trouble = [
        "\n".join(log[i : i + 20])
        for i, line in enumerate(log)
        if any(name in line for name in ours) and ("failed" in line or "error" in line)
    ]
    assert not trouble, "\n\n".join(trouble)


def test_archives_racing_a_project_delete_are_whole_or_404_and_leave_no_files(
    server: LiveServer, api: httpx.Client, clip: Path
) -> None:
    """An archive asked for as the project went answered 409 "no finished frames yet", and one
    that lost the race after taking its hold on the files kept them on disk until a restart."""
    for round_ in range(ROUNDS):
        pid, _ = prompted_project(api, clip, f"archived {round_}")
        job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 1}).json()["id"]
        wait_job(api, job, {"done"})
        archive: Request = ("GET", f"/api/jobs/{job}/archive", None)
        answers = together(server, [("DELETE", f"/api/projects/{pid}", None), *[archive] * 6])
        assert answers[0].status_code == 204
        for answer in answers[1:]:
            if answer.status_code == 200:  # begun before the delete: whole
                names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
                assert names == ["alpha/000000.png", "alpha/000001.png"]
            else:
                assert answer.status_code == 404, answer.text
                assert "does not exist" in answer.json()["detail"], answer.text
        folders = [server.data_dir / "projects" / pid, server.data_dir / "jobs" / job]
        # The last download lets go as its stream closes.
        gone = wait_until(lambda paths=folders: not any(p.exists() for p in paths), seconds=10)
        assert gone, f"round {round_}: files kept"


NEGATIVE_ONLY = {"points": [{"x": 80, "y": 10, "label": "negative"}]}
REMOVALS = {
    "delete the object": lambda where: ("DELETE", where, None),
    "clear its points": lambda where: ("PUT", f"{where}/frames/0/points", {"points": []}),
    # A job of negative clicks alone mattes nothing (routes/jobs.py refuses one).
    "leave a negative click": lambda where: ("PUT", f"{where}/frames/0/points", NEGATIVE_ONLY),
}


@pytest.mark.parametrize("removal", list(REMOVALS))
def test_a_job_racing_the_removal_of_its_points_is_refused_not_made_empty(
    server: LiveServer, api: httpx.Client, clip: Path, removal: str
) -> None:
    for round_ in range(ROUNDS):
        pid, obj = prompted_project(api, clip, f"points {removal} {round_}")
        remove: Request = REMOVALS[removal](f"/api/projects/{pid}/objects/{obj}")
        make: Request = ("POST", f"/api/projects/{pid}/jobs", {"start": 0, "end": 3})
        answers = together(server, [remove, make, make, make])
        assert answers[0].status_code in (200, 204)
        for job in answers[1:]:
            if job.status_code == 201:  # made before the removal: with the points it saw
                prompts = job.json()["prompts"]
                assert [p["label"] for f in prompts for p in f["points"]] == ["positive"], job.text
            else:
                assert job.status_code in (404, 409, 422), job.text
        api.delete(f"/api/projects/{pid}").raise_for_status()


def test_many_jobs_at_once_stay_within_the_queue_limit(tmp_path: Path, clip: Path) -> None:
    limit = 2
    live = LiveServer(tmp_path / "data", env={"VIDMATTE_MAX_QUEUED_JOBS": str(limit)}).start()
    try:
        with live.client() as api:
            pid, _ = prompted_project(api, clip, "queue")
        make: Request = ("POST", f"/api/projects/{pid}/jobs", {"start": 0, "end": 11})
        answers = together(live, [make] * 12)
        made = [a for a in answers if a.status_code == 201]
        refused = [a for a in answers if a.status_code == 429]
        assert len(made) + len(refused) == 12, [a.text for a in answers]
        # The limit counts waiting jobs: the one the worker has taken meanwhile is not.
        assert limit <= len(made) <= limit + 1, [a.status_code for a in answers]
        assert "VIDMATTE_MAX_QUEUED_JOBS" in refused[0].json()["detail"]
        assert refused[0].headers["Retry-After"] == "60"
    finally:
        live.stop()
