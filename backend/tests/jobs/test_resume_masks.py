"""A resumed job takes its masks from where its first run took them: the project's track (the
job's own copy of it) or SAM2, whatever became of the track meanwhile."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from fastapi import HTTPException

from tests.synth import write_video
from tests.waiting import wait_until
from vidmatte.api.routes import jobs as job_routes
from vidmatte.jobs import ray_runner
from vidmatte.jobs.mattes import decode_mattes, encode_mattes
from vidmatte.jobs.pipeline import Progress, Stopped, run_job
from vidmatte.jobs.ray_runner import RayRunner
from vidmatte.jobs.runner import InProcessRunner, WaitingLine, recover
from vidmatte.jobs.tracks import Tracker, masks_gone
from vidmatte.matte.infer import Matter
from vidmatte.matte.weights import random_head
from vidmatte.media.video import probe
from vidmatte.segment.models import build_predictor
from vidmatte.segment.predictor import FrameMasks
from vidmatte.segment.session import Segmenter
from vidmatte.store import ACTIVE, Job, NotFound, Point, Store

H, W, FRAMES = 64, 96, 8
POINT = [Point(30, 32, "positive")]


class Recorded(Segmenter):
    """test-tiny SAM2 (random weights) that counts the frames it tracks for jobs."""

    def __init__(self) -> None:
        super().__init__(
            build_predictor("test-tiny", Path("checkpoints"), "cpu", random_init=True),
            "test-tiny",
        )
        self.frames = 0

    def track(self, *args, **kwargs) -> Iterator[tuple[int, dict[int, FrameMasks]]]:
        for frame, masks in super().track(*args, **kwargs):
            self.frames += 1
            yield frame, masks


@pytest.fixture(scope="module")
def segmenter() -> Recorded:
    return Recorded()


@pytest.fixture
def clip(tmp_path: Path, segmenter: Recorded) -> Iterator[tuple[Store, Tracker, str, int]]:
    """A store with a project of an 8-frame clip, an object clicked on frame 0, a tracker."""
    store = Store(tmp_path / "data")
    staged = store.tmp_dir / "source.mp4"
    write_video(staged, frames=FRAMES, width=W, height=H)
    info, pts = probe(staged)
    project = store.add_project("clip", "clip.mp4", staged, info, pts, b"")
    obj = store.add_object(project.id, None, None)["id"]
    store.set_points(project.id, obj, 0, POINT)
    yield store, Tracker(store, segmenter, "test-tiny"), project.id, obj
    store.close()


MATTER = Matter(random_head(), edges="none")


def track(tracker: Tracker, pid: str) -> None:
    tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
    assert wait_until(lambda: tracker.get(pid).status == "done", 60, every=0.01)


def run(store: Store, segmenter: Segmenter, job: Job, stop_after: int | None = None) -> Job:
    """Run `job` (running) in process, stopped once `stop_after` frames are stored."""

    def should_stop() -> bool:
        return stop_after is not None and len(store.done_frames(job.id)) >= stop_after

    def report(p: Progress) -> None:
        pass

    try:
        run_job(job, store, segmenter, MATTER, should_stop, report)
    except Stopped:
        assert stop_after is not None
    return store.job(job.id)


def new_job(store: Store, pid: str, obj: int) -> Job:
    job = store.add_job(pid, 0, FRAMES - 1, [obj], edges="none", head="h", sam2="test-tiny")
    return store.transition(job.id, "running")


def resumed(store: Store, job_id: str) -> Job:
    """The job cancelled and resumed: its next run."""
    store.transition(job_id, "cancelled")
    store.transition(job_id, "queued")
    return store.transition(job_id, "running")


def resume_in_runner(store: Store, segmenter: Segmenter, job_id: str) -> Job:
    """The stopped job resumed as the server resumes it (queued, then run by a runner), once
    its run has ended."""
    runner = InProcessRunner(store, segmenter, MATTER)
    runner.start()
    try:
        store.transition(job_id, "queued")
        runner.submit(job_id)
        assert wait_until(lambda: store.job(job_id).status not in ACTIVE, 60)
    finally:
        runner.stop()
    return store.job(job_id)


def mattes(store: Store, job_id: str) -> dict[int, np.ndarray]:
    return {f: decode_mattes(store.alpha_path(job_id, f).read_bytes(), H) for f in range(FRAMES)}


def assert_alike(got: dict[int, np.ndarray], want: dict[int, np.ndarray]) -> None:
    assert sorted(got) == sorted(want)
    for frame in got:
        assert np.abs(got[frame] - want[frame]).max() <= 1e-3, frame


def test_a_job_begun_on_the_track_ends_on_it_after_the_track_is_redone(clip, segmenter) -> None:
    """The first run read the project's track; the user corrected a click and tracked again,
    then resumed the job: the rest was matted from SAM2 on the job's points, another source
    than its first frames'. It is matted from the job's copy of the track, as a run through."""
    store, tracker, pid, obj = clip
    track(tracker, pid)
    through = run(store, segmenter, new_job(store, pid, obj))  # the track's mattes, whole
    assert (through.status, through.used_track) == ("running", True)
    job = run(store, segmenter, new_job(store, pid, obj), stop_after=1)
    assert job.used_track and 0 < job.frames_done < FRAMES
    store.set_points(pid, obj, 0, [Point(50, 20, "positive")])
    track(tracker, pid)
    segmenter.frames = 0
    job = run(store, segmenter, resumed(store, job.id))
    assert (job.frames_done, job.used_track, segmenter.frames) == (FRAMES, True, 0)
    assert_alike(mattes(store, job.id), mattes(store, through.id))
    assert not store.track_links_dir(job.id).exists()  # its copy went with its last frame


def test_a_job_begun_on_sam2_ends_on_it_though_a_track_came_meanwhile(clip, segmenter) -> None:
    """The first run ran SAM2 (no track yet); the user tracked, then resumed the job: the rest
    was matted from the track's masks. It is matted by SAM2, as a run through."""
    store, tracker, pid, obj = clip
    through = run(store, segmenter, new_job(store, pid, obj))  # SAM2's mattes, whole
    job = run(store, segmenter, new_job(store, pid, obj), stop_after=1)
    assert not job.used_track and 0 < job.frames_done < FRAMES
    track(tracker, pid)
    segmenter.frames = 0
    job = run(store, segmenter, resumed(store, job.id))
    assert (job.frames_done, job.used_track) == (FRAMES, False)
    assert segmenter.frames > 0
    assert_alike(mattes(store, job.id), mattes(store, through.id))


def test_a_job_begun_on_the_track_resumes_on_it_after_a_crash_and_a_restart(
    clip, segmenter, tmp_path: Path
) -> None:
    """The server died while a job read the track; the user corrected and tracked again after
    the restart, then resumed the job: its copy of the masks outlived the restart."""
    store, tracker, pid, obj = clip
    track(tracker, pid)
    through = run(store, segmenter, new_job(store, pid, obj))
    job = run(store, segmenter, new_job(store, pid, obj), stop_after=1)  # the crash: "running"
    store.close()
    store = Store(tmp_path / "data")  # the restart, and its start-up pass over running jobs
    recover(store)
    assert store.job(job.id).status == "interrupted"
    store.set_points(pid, obj, 0, [Point(50, 20, "positive")])
    track(Tracker(store, segmenter, "test-tiny"), pid)
    segmenter.frames = 0
    done = resume_in_runner(store, segmenter, job.id)
    assert (done.status, done.used_track, done.frames_done, segmenter.frames) == (
        "done",
        True,
        FRAMES,
        0,
    )
    assert_alike(mattes(store, job.id), mattes(store, through.id))
    store.close()


def test_a_job_begun_on_a_track_it_no_longer_holds_says_why_it_cannot_resume(
    clip, segmenter
) -> None:
    """A job begun before jobs kept their copy of the track (it went at the end of each run),
    whose track was redone on other points: its resume fails saying why, its frames kept, not
    matted from other masks than its first ones."""
    store, tracker, pid, obj = clip
    track(tracker, pid)
    job = run(store, segmenter, new_job(store, pid, obj), stop_after=1)
    stored = {f: store.alpha_path(job.id, f).read_bytes() for f in store.done_frames(job.id)}
    shutil.rmtree(store.track_links_dir(job.id))  # as an earlier version left it
    store.transition(job.id, "cancelled")
    store.set_points(pid, obj, 0, [Point(50, 20, "positive")])
    track(tracker, pid)
    failed = resume_in_runner(store, segmenter, job.id)
    assert (failed.status, failed.error) == (
        "failed",
        f"the first frames of job '{job.id}' were matted from the project's track, which has "
        "changed since (tracked again, or its points edited) and whose masks the job does not "
        "hold (it began before jobs kept them): its other frames cannot be matted alike; start "
        "a new job for them",
    )
    assert {f: store.alpha_path(job.id, f).read_bytes() for f in store.done_frames(job.id)} == (
        stored
    )


def test_a_job_begun_on_the_track_is_not_resumed_on_ray_with_sam2(clip) -> None:
    """Ray workers run SAM2 themselves: a job whose first frames were matted in process from
    the track was resumed there with SAM2's masks. It fails saying why and where to resume."""
    store, _tracker, pid, obj = clip
    job = new_job(store, pid, obj)
    store.record_used_track(job.id, job.attempt, True)
    png = encode_mattes([np.zeros((H, W), np.float32)])
    assert store.save_alpha(job.id, job.attempt, 0, png)
    runner = RayRunner.__new__(RayRunner)  # no cluster: nothing reaches a worker
    runner.store, runner._line = store, WaitingLine()
    runner._run(ray_runner._Queued(job.id, attempt=job.attempt), worker=None)
    failed = store.job(job.id)
    assert (failed.status, failed.error, failed.frames_done) == (
        "failed",
        f"the first frames of job '{job.id}' were matted from the project's track, which Ray "
        "workers do not read (they run SAM2): resume it on a server that runs jobs in process "
        "(--runner inprocess)",
        1,
    )


def test_a_job_begun_on_the_track_is_refused_its_resume_on_ray_up_front(clip, segmenter) -> None:
    """It holds every mask it needs (an in-process server would take it), yet a Ray worker
    cannot read them: the resume was taken, waited its turn, then failed. The job says it is
    not resumable, and its resume is a 409 saying where to resume it, the job left as it was."""
    store, tracker, pid, obj = clip
    track(tracker, pid)
    job = run(store, segmenter, new_job(store, pid, obj), stop_after=1)
    store.transition(job.id, "cancelled")
    assert masks_gone(store, store.job(job.id), store.done_frames(job.id)) is None
    runner = RayRunner.__new__(RayRunner)  # no cluster: nothing reaches a worker
    submitted: list[str] = []
    runner.store, runner.submit = store, submitted.append  # type: ignore[method-assign]
    served = SimpleNamespace(store=store, head_name="h", sam2_name="test-tiny", runner=runner)
    assert refused_resume(job.id, served) == (
        f"the first frames of job '{job.id}' were matted from the project's track, which Ray "
        "workers do not read (they run SAM2): resume it on a server that runs jobs in process "
        "(--runner inprocess)"
    )
    assert (store.job(job.id).status, submitted) == ("cancelled", [])


def test_a_job_begun_on_the_track_with_every_frame_stored_is_done_on_ray(clip) -> None:
    """Cancelled after its last frame was stored: its resume on Ray needs no worker nor masks.
    It is taken, ends done, and its copy of the track's masks goes, as in process."""
    store, _tracker, pid, obj = clip
    job = new_job(store, pid, obj)
    store.record_used_track(job.id, job.attempt, True)
    png = encode_mattes([np.zeros((H, W), np.float32)])
    for frame in range(FRAMES):
        assert store.save_alpha(job.id, job.attempt, frame, png)
    store.track_links_dir(job.id).mkdir(parents=True)
    store.transition(job.id, "cancelled")
    runner = RayRunner.__new__(RayRunner)  # no cluster: nothing reaches a worker
    submitted: list[str] = []
    runner.store, runner._line = store, WaitingLine()
    runner.submit = submitted.append  # type: ignore[method-assign]
    served = SimpleNamespace(store=store, head_name="h", sam2_name="test-tiny", runner=runner)
    assert job_routes.served(store.job(job.id), served).resumable is True  # type: ignore[arg-type]
    resumed = job_routes._resume_job(job.id, served)  # type: ignore[arg-type]
    assert (resumed.status, submitted) == ("queued", [job.id])
    runner._run(ray_runner._Queued(job.id), worker=None)
    assert (store.job(job.id).status, store.job(job.id).frames_done) == ("done", FRAMES)
    assert not store.track_links_dir(job.id).exists()


def test_a_job_cancelled_after_its_last_frame_is_resumed_though_the_track_changed(
    clip, segmenter
) -> None:
    """The cancel came between its last frame and its end: its copy of the masks was let go
    (no run reads them), and the track changed. Its resume has nothing to matte: taken, done."""
    store, tracker, pid, obj = clip
    track(tracker, pid)
    job = run(store, segmenter, new_job(store, pid, obj))
    assert job.used_track and job.frames_done == FRAMES
    assert not store.track_links_dir(job.id).exists()
    cancel_and_track_again(store, tracker, job.id)
    assert_resume_taken(store, job.id)


def test_a_job_a_crash_left_with_every_frame_stored_lets_go_of_its_masks(clip) -> None:
    """The server died after a job's last frame was stored: the restart ends it done, and its
    copy of the track's masks, which no run reads again, goes with the run."""
    store, _tracker, pid, obj = clip
    job = new_job(store, pid, obj)
    png = encode_mattes([np.zeros((H, W), np.float32)])
    for frame in range(FRAMES):
        assert store.save_alpha(job.id, job.attempt, frame, png)
    store.track_links_dir(job.id).mkdir(parents=True)
    recover(store)
    assert store.job(job.id).status == "done"
    assert not store.track_links_dir(job.id).exists()


def test_a_job_stopped_before_its_first_frame_lets_go_of_its_masks(clip, segmenter) -> None:
    """Cancelled before a frame was stored, the job kept its copy of the track's masks until
    resumed, finished or deleted: after the track was redone, a disk's worth of old masks
    that nothing needs (no frame to match). The copy goes with the run; its resume reads the
    track as a new job does."""
    store, tracker, pid, obj = clip
    track(tracker, pid)
    through = run(store, segmenter, new_job(store, pid, obj))
    job = run(store, segmenter, new_job(store, pid, obj), stop_after=0)
    assert (job.frames_done, job.used_track) == (0, True)
    assert not store.track_links_dir(job.id).exists()
    segmenter.frames = 0
    job = run(store, segmenter, resumed(store, job.id))
    assert (job.frames_done, job.used_track, segmenter.frames) == (FRAMES, True, 0)
    assert_alike(mattes(store, job.id), mattes(store, through.id))


def test_a_job_stopped_with_frames_from_the_track_keeps_its_masks(clip, segmenter) -> None:
    """Its resume must read them: its first frames were matted from them."""
    store, tracker, pid, obj = clip
    track(tracker, pid)
    job = run(store, segmenter, new_job(store, pid, obj), stop_after=1)
    assert job.used_track and 0 < job.frames_done < FRAMES
    assert sorted(p.name for p in store.track_links_dir(job.id).iterdir()) == [
        f"{frame:06d}-{obj}.png" for frame in range(FRAMES)
    ]


def cancel_and_track_again(store: Store, tracker: Tracker, job_id: str) -> None:
    """Cancel the job, then change its project's points and track again: the track its first
    frames were matted from is gone."""
    job = store.transition(job_id, "cancelled")
    obj = job.object_ids[0]
    store.set_points(job.project_id, obj, 0, [Point(50, 20, "positive")])
    track(tracker, job.project_id)


def assert_resume_taken(store: Store, job_id: str) -> None:
    """The job says it is resumable, and its resume is taken (queued, submitted)."""
    served, submitted = resumer(store)
    assert job_routes.served(store.job(job_id), served).resumable is True  # type: ignore[arg-type]
    assert job_routes._resume_job(job_id, served).status == "queued"  # type: ignore[arg-type]
    assert submitted == [job_id]


def refused_resume(job_id: str, served: SimpleNamespace) -> str:
    """Why POST /api/jobs/{id}/resume is a 409 for the job, which says it is not resumable
    (the editor offers no Resume)."""
    assert job_routes.served(served.store.job(job_id), served).resumable is False  # type: ignore[arg-type]
    with pytest.raises(HTTPException) as refused:
        job_routes._resume_job(job_id, served)  # type: ignore[arg-type]
    assert refused.value.status_code == 409
    return refused.value.detail


def resumer(store: Store) -> tuple[SimpleNamespace, list[str]]:
    """The services POST /api/jobs/{id}/resume reads, with the jobs it submits."""
    submitted: list[str] = []
    runner = SimpleNamespace(submit=submitted.append, masks_gone=partial(masks_gone, store))
    served = SimpleNamespace(store=store, head_name="h", sam2_name="test-tiny", runner=runner)
    return served, submitted


def test_a_job_that_cannot_be_matted_alike_is_refused_its_resume(clip, segmenter) -> None:
    """Its resume was taken (queued), waited its turn behind the other jobs, then failed again
    with the error it had: a 409 saying why, the job left as it was, is the answer."""
    store, tracker, pid, obj = clip
    track(tracker, pid)
    job = run(store, segmenter, new_job(store, pid, obj), stop_after=1)
    shutil.rmtree(store.track_links_dir(job.id))  # as an earlier version left it
    cancel_and_track_again(store, tracker, job.id)
    served, submitted = resumer(store)
    # The editor offers no Resume: the job says it would be refused.
    assert refused_resume(job.id, served) == (
        f"the first frames of job '{job.id}' were matted from the project's track, which has "
        "changed since (tracked again, or its points edited) and whose masks the job does not "
        "hold (it began before jobs kept them): its other frames cannot be matted alike; start "
        "a new job for them"
    )
    assert (store.job(job.id).status, submitted) == ("cancelled", [])


def test_a_job_holding_its_masks_is_resumed_though_the_track_changed(clip, segmenter) -> None:
    store, tracker, pid, obj = clip
    track(tracker, pid)
    job = run(store, segmenter, new_job(store, pid, obj), stop_after=1)
    cancel_and_track_again(store, tracker, job.id)
    assert_resume_taken(store, job.id)


def test_a_resume_racing_the_project_s_delete_is_its_404(clip, segmenter, monkeypatch) -> None:
    """The delete took the job's copy and the track while the resume looked at them: the job is
    gone, not one that cannot be matted alike."""
    store, tracker, pid, obj = clip
    track(tracker, pid)
    job = run(store, segmenter, new_job(store, pid, obj), stop_after=1)
    store.transition(job.id, "cancelled")
    served, _ = resumer(store)
    looked = served.runner.masks_gone

    def deleted_meanwhile(*args):
        store.delete_project(pid)
        return looked(*args)

    monkeypatch.setattr(served.runner, "masks_gone", deleted_meanwhile)
    with pytest.raises(NotFound, match=f"job '{job.id}' does not exist"):
        job_routes._resume_job(job.id, served)  # type: ignore[arg-type]
