"""GET /api/jobs/{id}/frames: a job's finished and missing frames as [first, last] runs, in
JSON, however many (the archive's headers sum up a long list and point here)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.api.test_jobs import prompt, wait_job
from tests.in_process import add_clip, client_of, tiny_segmenter
from vidmatte.config import Settings
from vidmatte.jobs.mattes import encode_mattes
from vidmatte.jobs.runner import InProcessRunner
from vidmatte.store import Point, Store

TOKEN = "job-frames-token"
STORED = [0, 1, 2, 3, 4, 5, 8, 9]  # of the clip's 12 frames: gaps at 6-7 and 10-11


@dataclass
class Stopped:
    client: TestClient
    store: Store
    job: str


@pytest.fixture
def stopped(tmp_path: Path, clip: Path) -> Iterator[Stopped]:
    """A cancelled job over the clip's 12 frames whose frames STORED were finished: gaps no
    real run leaves so exactly (a run finishes frames in order), made in the store."""
    settings = Settings(data_dir=tmp_path / "data", token=TOKEN)
    store = Store(settings.data_dir)
    pid, info = add_clip(store, clip)
    obj = store.add_object(pid, "disk", "#112233")["id"]
    store.set_points(pid, obj, 0, [Point(9, 9, "positive")])
    job = store.add_job(pid, 0, info.frame_count - 1, [obj], "fast", "head", "test-tiny")
    attempt = store.transition(job.id, "running").attempt
    alpha = np.full((info.height, info.width), 0.5, np.float32)
    for frame in STORED:
        assert store.save_alpha(job.id, attempt, frame, encode_mattes([alpha]))
    store.transition(job.id, "cancelled", attempt=attempt)
    segmenter = tiny_segmenter(tmp_path / "ck")
    matter = SimpleNamespace(plate=False)
    runner = InProcessRunner(store, segmenter, matter)  # type: ignore[arg-type]
    client = client_of(settings, store, segmenter, matter, runner)  # type: ignore[arg-type]
    yield Stopped(client, store, job.id)
    client.close()
    store.close()


def test_a_job_with_gaps_lists_its_finished_and_missing_frames_as_runs(stopped: Stopped) -> None:
    answer = stopped.client.get(f"/api/jobs/{stopped.job}/frames")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "job_id": stopped.job,
        "start": 0,
        "end": 11,
        "done": [[0, 5], [8, 9]],
        "missing": [[6, 7], [10, 11]],
    }
    # The same frames as the archive's headers name.
    archive = stopped.client.get(f"/api/jobs/{stopped.job}/archive")
    assert archive.status_code == 200, archive.text
    assert archive.headers["X-Vidmatte-Frames"] == "0-5,8-9"
    assert archive.headers["X-Vidmatte-Frames-Missing"] == "6-7,10-11"


def test_the_frames_need_the_token(stopped: Stopped) -> None:
    answer = stopped.client.get(
        f"/api/jobs/{stopped.job}/frames", headers={"Authorization": "Bearer wrong"}
    )
    assert answer.status_code == 401


def test_the_frames_of_an_unknown_job_are_a_404(api: httpx.Client) -> None:
    answer = api.get("/api/jobs/j_000000000000/frames")
    assert (answer.status_code, answer.json()) == (
        404,
        {"detail": "job 'j_000000000000' does not exist"},
    )


def test_the_frames_of_a_finished_job_are_one_run_none_missing(
    api: httpx.Client, project: dict
) -> None:
    prompt(api, project["id"], frame=4)
    created = api.post(f"/api/projects/{project['id']}/jobs", json={"start": 2, "end": 6})
    assert created.status_code == 201, created.text
    job = created.json()
    assert wait_job(api, job["id"], {"done", "failed"})["status"] == "done"
    answer = api.get(f"/api/jobs/{job['id']}/frames")
    assert answer.json() == {
        "job_id": job["id"],
        "start": 2,
        "end": 6,
        "done": [[2, 6]],
        "missing": [],
    }
