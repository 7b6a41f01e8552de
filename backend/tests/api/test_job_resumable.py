"""A job's `resumable`: whether POST /api/jobs/{id}/resume would take it now, so that the editor
offers Resume only then. (A job whose track masks are gone: jobs/test_resume_masks.py.)"""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import SimpleNamespace

from tests.in_process import TOKEN, add_clip, client_of, tiny_segmenter
from vidmatte.config import Settings
from vidmatte.store import Point, Store


def test_only_a_stopped_job_of_this_server_s_models_is_resumable(
    tmp_path: Path, clip: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", token=TOKEN)
    store = Store(settings.data_dir)
    # A resumed job stays queued; none was matted from a track.
    runner = SimpleNamespace(submit=lambda job_id: None, masks_gone=lambda job, done: None)
    # The app runs the head 'head' and SAM2 'test-tiny'.
    segmenter = tiny_segmenter(tmp_path / "ck")
    client = client_of(settings, store, segmenter, runner=runner)  # type: ignore[arg-type]
    with contextlib.closing(client), contextlib.closing(store):  # no lifespan: no worker
        pid, _info = add_clip(store, clip)
        obj = store.add_object(pid, None, None)["id"]
        store.set_points(pid, obj, 3, [Point(9, 9, "positive")])

        def job(*steps: str, head: str = "head") -> str:
            made = store.add_job(pid, 2, 4, [obj], "fast", head, "test-tiny")
            for step in steps:
                store.transition(made.id, step)
            return made.id

        expected = {
            job(): False,  # queued
            job("running"): False,
            job("running", "done"): False,
            job("cancelled"): True,
            job("running", "interrupted"): True,
            job("running", "failed"): True,
            job("cancelled", head="another head"): False,  # its resume is a 409
        }
        for job_id, resumable in expected.items():
            answer = client.get(f"/api/jobs/{job_id}")
            assert answer.status_code == 200, answer.text
            assert (job_id, answer.json()["resumable"]) == (job_id, resumable)
            took = client.post(f"/api/jobs/{job_id}/resume").status_code == 200
            assert (job_id, took) == (job_id, resumable)
        listed = client.get(f"/api/projects/{pid}/jobs").json()
        assert {j["id"]: j["resumable"] for j in listed} == dict.fromkeys(expected, False)
