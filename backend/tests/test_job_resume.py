"""Resuming a job after a server restart, in process: the store, the in-process runner and a
real clip. SAM2 is a stand-in that records what it is asked where it must not be asked at all,
else test-tiny SAM2 recording the frames it tracks."""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.synth import write_video
from tests.waiting import wait_until
from vidmatte.errors import describe
from vidmatte.jobs import ray_runner
from vidmatte.jobs import runner as runner_module
from vidmatte.jobs.mattes import decode_mattes, encode_mattes
from vidmatte.jobs.pipeline import Stopped, encoded, matte_frames
from vidmatte.jobs.ray_runner import RayRunner
from vidmatte.jobs.runner import (
    InProcessRunner,
    WaitingLine,
    end_in_store,
    hold_other_models,
)
from vidmatte.jobs.stops import other_models, shown_error
from vidmatte.matte.infer import Matter
from vidmatte.matte.weights import random_head
from vidmatte.media.video import VideoReader, probe
from vidmatte.segment.models import build_predictor
from vidmatte.segment.predictor import FrameMasks, MattingVideoPredictor
from vidmatte.segment.session import Segmenter
from vidmatte.store import ACTIVE, Job, Point, Store

H, W, FRAMES = 64, 96, 6
CRASHED = "the server stopped while this job ran (a crash or a kill): resume it to matte the rest"
SHUT_DOWN = "the server was shut down while this job ran: resume it to matte the rest"


def shown(store: Store, job_id: str, head: str = "head") -> tuple[str, str | None]:
    """The job's status and its error as a server with this matting head (and the jobs' SAM2)
    serves it."""
    job = store.job(job_id)
    return job.status, shown_error(job, head, "test-tiny")


class NoSam2:
    """A segmenter that records each call and refuses it."""

    name = "test-tiny"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def new_state(self, *args: object) -> dict:
        self.calls.append("new_state")
        raise AssertionError("SAM2 was asked for a state")

    def track(self, *args: object) -> Iterator:
        self.calls.append("track")
        raise AssertionError("SAM2 was asked to track")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "data")
    yield s
    s.close()


def stored_job(
    store: Store, tmp_path: Path, stored: int = FRAMES, edges: str = "fast", plate: bool = False
) -> str:
    """A job of the clip's frames 0..FRAMES-1 running under attempt 1, its first `stored`
    frames in the store: by default every frame (then the server died before marking it
    done)."""
    staged = store.tmp_dir / "upload.mp4"
    write_video(staged, frames=FRAMES, width=W, height=H)
    info, pts = probe(staged)
    project = store.add_project("p", "p.mp4", staged, info, pts, b"jpeg")
    obj = store.add_object(project.id, None, None)["id"]
    store.set_points(project.id, obj, 2, [Point(30, 32, "positive")])
    job = store.add_job(project.id, 0, FRAMES - 1, [obj], edges, "head", "test-tiny", plate=plate)
    attempt = store.transition(job.id, "running").attempt
    for frame in range(stored):
        alpha = np.full((H, W), frame / 10, np.float32)
        assert store.save_alpha(job.id, attempt, frame, encode_mattes([alpha]))
    return job.id


@pytest.mark.parametrize("runner_kind", ["inprocess", "ray"])
def test_a_restart_ends_done_a_job_whose_frames_were_all_stored(
    store: Store, tmp_path: Path, runner_kind: str
) -> None:
    """The server died after the last frame was stored, before the job was marked done: its
    result is whole, so the restart marks it done (not interrupted, with "resume it to matte
    the rest" though nothing is left), its frames as stored; one that died earlier is
    interrupted. The Ray runner's start does the same (jobs/runner.py `recover`)."""
    whole, cut = stored_job(store, tmp_path), stored_job(store, tmp_path, stored=2)
    before = {f: store.alpha_path(whole, f).read_bytes() for f in range(FRAMES)}
    if runner_kind == "ray":
        runner_module.recover(store)  # what RayRunner.start does first (no cluster here)
    else:
        runner = InProcessRunner(store, NoSam2(), Matter(random_head(), edges="fast"))  # type: ignore[arg-type]
        runner.start()  # the restart
        runner.stop()
    job = store.job(whole)
    assert (job.status, job.error, job.frames_done, job.eta_seconds) == ("done", None, FRAMES, 0)
    assert {f: store.alpha_path(whole, f).read_bytes() for f in range(FRAMES)} == before
    assert (store.job(cut).frames_done, store.job(cut).stop) == (2, "crash")
    assert shown(store, cut) == ("interrupted", CRASHED)


def test_a_job_a_crash_left_running_with_other_models_says_why_it_cannot_resume(
    store: Store, tmp_path: Path
) -> None:
    """Restarted with another matting head after a crash, the server refuses to resume a job
    made with the first (409): its error says that at once, after how it stopped, not "resume
    it to matte the rest". One whose frames were all stored is whole: done, as with the same
    models."""
    cut, whole = stored_job(store, tmp_path, stored=2), stored_job(store, tmp_path)
    hold_other_models(store, "another head", "test-tiny")
    runner_module.recover(store)  # what the runner's start does next
    job = store.job(cut)
    assert (job.status, job.frames_done) == ("interrupted", 2)
    why = other_models(job, "another head", "test-tiny")
    assert why == (
        f"job '{cut}' was made with the matting head 'head', this server runs 'another head': "
        "start a new job"
    )
    assert shown(store, cut, "another head") == (
        "interrupted",
        f"the server stopped while this job ran (a crash or a kill); {why}",
    )
    assert store.job(whole).status == "done"


def test_a_crashed_job_back_on_its_own_models_says_it_crashed_not_that_it_was_held(
    store: Store, tmp_path: Path
) -> None:
    """A crash, then a restart with another matting head, then one with the job's own: the job
    was running when the server died, so it says so and that a resume finishes it. It said
    "was held by a server that ran other models than its own" (it was never held: it ran), as
    the first restart had written the refusal over how it stopped."""
    cut = stored_job(store, tmp_path, stored=2)
    for head in ("another head", "head"):  # two restarts
        hold_other_models(store, head, "test-tiny")
        runner_module.recover(store)
    assert shown(store, cut) == ("interrupted", CRASHED)


def test_a_resumed_job_whose_frames_are_all_stored_ends_done_without_sam2(
    store: Store, tmp_path: Path
) -> None:
    """A job interrupted by a shutdown just after its last frame was stored (or by a version
    that left such jobs interrupted at start): its resume ends it done at once, its frames as
    stored, without running SAM2 over the range again."""
    jid = stored_job(store, tmp_path)
    end_in_store(store, store.job(jid), "interrupted", stop="shutdown")
    before = {f: store.alpha_path(jid, f).read_bytes() for f in range(FRAMES)}
    segmenter = NoSam2()
    runner = InProcessRunner(store, segmenter, Matter(random_head(), edges="fast"))  # type: ignore[arg-type]
    runner.start()  # the restart
    try:
        assert shown(store, jid) == ("interrupted", SHUT_DOWN)
        assert store.job(jid).frames_done == FRAMES
        store.transition(jid, "queued")
        runner.submit(jid)
        assert wait_until(lambda: store.job(jid).status not in ACTIVE, 60)
    finally:
        runner.stop()
    job = store.job(jid)
    assert (job.status, job.error, job.frames_done, job.attempt) == ("done", None, FRAMES, 2)
    assert segmenter.calls == []
    assert {f: store.alpha_path(jid, f).read_bytes() for f in range(FRAMES)} == before


def test_matting_a_job_whose_frames_are_all_stored_tracks_nothing(
    store: Store, tmp_path: Path
) -> None:
    """Where the models run (a Ray worker calls this with the finished frames): nothing to
    matte, so SAM2 is not asked and no frame is read back."""
    jid = stored_job(store, tmp_path)
    job, project = store.job(jid), store.project(store.job(jid).project_id)
    reader = VideoReader(project.source, store.pts_index(project.id), 0)
    segmenter, asked = NoSam2(), []
    try:
        frames = matte_frames(
            job,
            reader,
            (H, W),
            segmenter,  # type: ignore[arg-type]
            Matter(random_head(), edges="best", plate=True),
            set(range(FRAMES)),
            asked.append,  # type: ignore[arg-type]
            lambda: False,
        )
        assert list(frames) == []
    finally:
        reader.close()
    assert segmenter.calls == [] and asked == []


class Recorded(Segmenter):
    """test-tiny SAM2 that records the frames it tracks."""

    def __init__(self, predictor: MattingVideoPredictor) -> None:
        super().__init__(predictor, "test-tiny")
        self.frames: list[int] = []

    def track(self, *args, **kwargs) -> Iterator[tuple[int, dict[int, FrameMasks]]]:
        for frame, masks in super().track(*args, **kwargs):
            self.frames.append(frame)
            yield frame, masks


def test_a_job_resumed_in_its_backward_pass_does_not_track_the_forward_one_again(
    tmp_path: Path,
) -> None:
    """SAM2 tracks forward from the first prompted frame, then backward from it without the
    forward frames in its memory: a job stopped in its backward pass tracks only that pass on
    resume, and its mattes are those of a run that went through."""
    path = tmp_path / "clip.mp4"
    write_video(path, frames=12, width=W, height=H)
    info, pts = probe(path)
    reader = VideoReader(path, pts, info.rotation)
    segmenter = Recorded(build_predictor("test-tiny", tmp_path / "ck"))
    matter = Matter(random_head(), edges="fast")
    point = [Point(30, 32, "positive")]
    job = Job(
        id="j", project_id="p", status="running", start=0, end=11, object_ids=[1, 2],
        frames_done=0, frames_total=12, fps=None, eta_seconds=None, error=None, created_at="",
        updated_at="", attempt=1, version=1, prompts={(1, 6): point, (2, 8): point}, edges="fast",
        head="random",
    )  # fmt: skip

    def run(stored: dict[int, bytes]) -> list[int]:
        segmenter.frames.clear()
        done = set(stored)
        frames = matte_frames(
            job, reader, (H, W), segmenter, matter, done, stored.__getitem__, lambda: False
        )
        for frame, png in encoded(frames):
            stored[frame] = png
        return list(segmenter.frames)

    try:
        through: dict[int, bytes] = {}
        assert run(through) == [*range(6, 12), *range(5, -1, -1)]
        finished = [*range(6, 12), 5]  # the forward pass and the first backward frame
        resumed = {f: through[f] for f in finished}
        assert run(resumed) == [5, 4, 3, 2, 1, 0]
    finally:
        reader.close()
    assert sorted(resumed) == list(range(12))
    for frame in range(5):
        got, want = decode_mattes(resumed[frame], H), decode_mattes(through[frame], H)
        assert np.abs(got - want).max() <= 1e-3, frame


def test_a_cancelled_ray_run_ending_late_leaves_the_next_run_s_worker_known(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Ray, a job cancelled and resumed at once can start on a second worker while the
    first one's stream still drains: the first run's end must not forget the second's worker,
    which a cancel or a shutdown then tells to stop. The cluster is faked: the worker is a
    stream of (frame, PNG) the test writes."""
    jid = stored_job(store, tmp_path, stored=0)
    runner = RayRunner.__new__(RayRunner)  # no cluster: only what `_stream` uses
    runner.store, runner._matter = store, Matter(random_head(), edges="fast")
    runner._line, runner._running = WaitingLine(), {}
    monkeypatch.setattr(RayRunner, "_chunks", staticmethod(lambda source: []))
    monkeypatch.setattr(ray_runner.ray, "get", lambda ref: ref)  # the stream holds no refs
    png, told = encode_mattes([np.zeros((H, W), np.float32)]), []
    second = SimpleNamespace(stop=SimpleNamespace(remote=lambda *run: told.append(run)))

    def stream(task: ray_runner.Task) -> Iterator[tuple[int, bytes]]:
        yield 0, png
        store.transition(jid, "cancelled")
        store.transition(jid, "queued")
        later = store.transition(jid, "running")  # on another worker
        runner._running[jid] = (second, later.attempt)
        yield 1, png  # the first run's frame that the cancel refuses
        yield 2, png

    worker = SimpleNamespace(
        run=SimpleNamespace(options=lambda **_: SimpleNamespace(remote=stream)),
        stop=SimpleNamespace(remote=lambda *run: told.append(run)),
    )
    with pytest.raises(Stopped):
        runner._stream(store.job(jid), worker)
    assert told == [(jid, 1)]
    assert store.done_frames(jid) == {0}
    assert runner._running == {jid: (second, 2)}
    runner.cancel(jid)  # the second run's
    assert store.job(jid).status == "cancelled"
    assert told == [(jid, 1), (jid, 2)]  # the second worker is told to stop at once


def test_a_ray_job_deleted_while_its_video_is_sent_never_reaches_a_worker(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delete (or a cancel) came while the video went to the object store, before the run
    knew its worker: none was told to stop, and the worker took the video and matted a frame
    for a job that was gone, while the queue waited. The cluster is faked."""
    jid = stored_job(store, tmp_path, stored=0)
    runner = RayRunner.__new__(RayRunner)  # no cluster: only what `_stream` uses
    runner.store, runner._matter = store, Matter(random_head(), edges="fast")
    runner._line, runner._running = WaitingLine(), {}

    def deleted_meanwhile(source: Path) -> list:
        runner.cancel(jid)  # as Services.delete_job does
        store.delete_job(jid)
        return []

    monkeypatch.setattr(RayRunner, "_chunks", staticmethod(deleted_meanwhile))
    started, told = [], []
    worker = SimpleNamespace(
        run=SimpleNamespace(options=lambda **_: SimpleNamespace(remote=started.append)),
        stop=SimpleNamespace(remote=lambda *run: told.append(run)),
    )
    with pytest.raises(Stopped):
        runner._stream(store.job(jid), worker)
    assert (started, told, runner._running) == ([], [], {})
    assert not store.job_dir(jid).exists()


@pytest.mark.parametrize("plate", [True, False])
def test_a_resumed_job_keeps_its_background_plate_setting_in_process(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plate: bool
) -> None:
    """A job made with the plate on (off), resumed by a server restarted with it off (on):
    its frames after the resume are matted as those before it, with the job's own setting."""
    jid = stored_job(store, tmp_path, stored=3, edges="best", plate=plate)
    used: list[tuple[str, bool]] = []

    def run_job(job: Job, store: Store, segmenter: Segmenter, matter: Matter, *_: object) -> None:
        used.append((matter.edges, matter.plate))

    monkeypatch.setattr(runner_module, "run_job", run_job)
    server = Matter(random_head(), edges="best", plate=not plate)
    runner = InProcessRunner(store, NoSam2(), server)  # type: ignore[arg-type]
    runner.start()  # the restart: the job is interrupted
    try:
        assert store.job(jid).plate is plate
        store.transition(jid, "queued")
        runner.submit(jid)
        assert wait_until(lambda: store.job(jid).status not in ACTIVE, 60)
    finally:
        runner.stop()
    assert used == [("best", plate)]
    assert server.plate is not plate  # the server's own stays as it is for its next jobs


@pytest.mark.parametrize("plate", [True, False])
def test_a_resumed_job_keeps_its_background_plate_setting_on_ray(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plate: bool
) -> None:
    """On Ray, both ends take the job's plate setting, not the server's: the server sends the
    stored frames a plate of the job's needs, the worker mattes with it. The cluster is faked."""
    jid = stored_job(store, tmp_path, stored=3, edges="best", plate=plate)
    runner = RayRunner.__new__(RayRunner)  # no cluster: only what `_stream` uses
    runner.store, runner._matter = store, Matter(random_head(), edges="best", plate=not plate)
    runner._line, runner._running = WaitingLine(), {}
    monkeypatch.setattr(RayRunner, "_chunks", staticmethod(lambda source: []))
    monkeypatch.setattr(ray_runner.ray, "get", lambda ref: ref)
    tasks: list[ray_runner.Task] = []
    worker = SimpleNamespace(
        run=SimpleNamespace(
            options=lambda **_: SimpleNamespace(remote=lambda task: tasks.append(task) or [])
        ),
        stop=SimpleNamespace(remote=lambda *run: None),
    )
    with pytest.raises(Stopped):  # the fake worker mattes nothing
        runner._stream(store.job(jid), worker)
    # With the plate, the frames a plate holds before the first unfinished one; else the last.
    assert sorted(tasks[0].stored) == ([0, 1, 2] if plate else [2])

    used: list[tuple[str, bool]] = []

    def matte_frames(
        job: Job, reader: object, size: object, seg: object, matter: Matter, *_: object
    ):
        used.append((matter.edges, matter.plate))
        return iter([])

    monkeypatch.setattr(ray_runner, "VideoReader", lambda *_: SimpleNamespace(close=lambda: None))
    monkeypatch.setattr(ray_runner, "matte_frames", matte_frames)
    remote = ray_runner.MattingWorker.__new__(ray_runner.MattingWorker)
    remote.matter, remote.segmenter, remote._stopped = runner._matter, NoSam2(), set()
    assert list(remote.run(tasks[0])) == []
    assert used == [("best", plate)]


def test_a_ray_run_whose_project_is_deleted_is_no_failure(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The project deleted while its job runs on Ray: the run's files vanish under it and it
    errs, as the in-process runner's does; that is the delete's doing, not a job failure to
    log with a traceback (nor a full disk's reserve to free)."""
    jid = stored_job(store, tmp_path, stored=2)
    project_id = store.job(jid).project_id
    runner = RayRunner.__new__(RayRunner)  # no cluster: only what `_run` uses
    runner.store, runner._line = store, WaitingLine()

    def stream(job: Job, worker: object) -> None:
        store.delete_project(project_id)
        store.alpha_path(jid, 0).read_bytes()  # a file the delete took

    monkeypatch.setattr(runner, "_stream", stream)
    with caplog.at_level("ERROR"):
        runner._run(ray_runner._Queued(jid, attempt=1), worker=None)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
    assert store.jobs() == []


def test_a_ray_run_its_worker_ends_early_is_interrupted_with_a_reason(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Ray, a worker that ends a run before its last frame, neither cancelled nor shut down
    (told to stop by an earlier word): the job is interrupted and its error says why and that a
    resume finishes it, as docs/API.md promises of every interrupted job. The cluster is faked."""
    jid = stored_job(store, tmp_path, stored=2)
    runner = RayRunner.__new__(RayRunner)  # no cluster: only what `_run` and `_stream` use
    runner.store, runner._matter = store, Matter(random_head(), edges="fast")
    runner._line, runner._running = WaitingLine(), {}
    monkeypatch.setattr(RayRunner, "_chunks", staticmethod(lambda source: []))
    monkeypatch.setattr(ray_runner.ray, "get", lambda ref: ref)
    png = encode_mattes([np.zeros((H, W), np.float32)])
    worker = SimpleNamespace(  # mattes one frame of the four left, then stops
        run=SimpleNamespace(options=lambda **_: SimpleNamespace(remote=lambda task: [(2, png)])),
        stop=SimpleNamespace(remote=lambda *run: None),
    )
    runner._run(ray_runner._Queued(jid, attempt=1), worker)
    assert store.job(jid).frames_done == 3
    assert shown(store, jid) == (
        "interrupted",
        "the worker running this job ended it before its last frame: resume it to matte the rest",
    )


def test_a_job_that_outlasts_the_shutdown_s_wait_is_interrupted_by_the_shutdown(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that does not stop within the shutdown's wait (a frame that takes longer): the job
    is interrupted by the shutdown, not left running for the next start to call a crash; the
    run's late end changes nothing."""
    jid = stored_job(store, tmp_path, stored=2)
    store.transition(jid, "interrupted")
    store.transition(jid, "queued")
    release = threading.Event()

    def run_job(*_: object) -> None:  # deaf to its should_stop until released
        release.wait(60)

    monkeypatch.setattr(runner_module, "run_job", run_job)
    runner = InProcessRunner(store, NoSam2(), Matter(random_head(), edges="fast"))  # type: ignore[arg-type]
    runner.stop_timeout = 0.2
    runner.start()
    try:
        assert wait_until(lambda: store.job(jid).status == "running", 30)
        runner.stop()
        assert shown(store, jid) == ("interrupted", SHUT_DOWN)
        runner_module.recover(store)  # the next start
        assert shown(store, jid) == ("interrupted", SHUT_DOWN)
    finally:
        release.set()
    runner._thread.join(30)
    assert shown(store, jid) == ("interrupted", SHUT_DOWN)


def test_a_ray_run_that_outlasts_the_shutdown_s_wait_is_interrupted_by_the_shutdown(
    store: Store, tmp_path: Path
) -> None:
    """On Ray, a run whose thread did not end within the shutdown's wait (its worker's stream
    still draining): the job is interrupted by the shutdown, not left running for the next
    start to call a crash. The cluster is faked: a worker that ignores its stop word."""
    jid = stored_job(store, tmp_path, stored=2)
    runner = RayRunner.__new__(RayRunner)  # no cluster: only what `stop` uses
    runner.store, runner._line, runner._slots, runner._workers = store, WaitingLine(), [], []
    runner._owns_ray = False
    deaf = SimpleNamespace(stop=SimpleNamespace(remote=lambda *run: None))
    runner._running = {jid: (deaf, 1)}
    runner.stop()
    assert shown(store, jid) == ("interrupted", SHUT_DOWN)


def test_a_failed_job_told_to_resume_says_why_it_cannot_on_a_server_with_other_models(
    store: Store, tmp_path: Path
) -> None:
    """A job that failed for a full disk says "free some space, then resume the job"; a server
    restarted with another matting head refuses that resume (409), so its error says that
    instead, after what went wrong, and tells to resume again once the job's models are back.
    So does a Ray job whose worker died too often; a failure no resume mends stays as it is."""
    full, died, broken = (stored_job(store, tmp_path, stored=2) for _ in range(3))
    runner_module.fail_in_store(store, store.job(full), OSError(errno.ENOSPC, "No space"))
    lost = "the worker running the job died 3 times (setting VIDMATTE_RAY_MAX_RETRIES)"
    end_in_store(store, store.job(died), "failed", stop="worker_died", error=lost)
    end_in_store(store, store.job(broken), "failed", error="ValueError: bad weights")
    before = {jid: shown(store, jid) for jid in (full, died, broken)}
    assert before == {
        full: (
            "failed",
            "not enough disk space in the data dir: free some space, then resume the job",
        ),
        died: ("failed", f"{lost}: resume the job to try again"),
        broken: ("failed", "ValueError: bad weights"),
    }
    assert before[full][1] == describe(OSError(errno.ENOSPC, "No space"))  # as a track's says

    hold_other_models(store, "another head", "test-tiny")  # the restart with another head
    refused = (
        "was made with the matting head 'head', this server runs 'another head': start a new job"
    )
    assert shown(store, full, "another head") == (
        "failed",
        f"not enough disk space in the data dir; job '{full}' {refused}",
    )
    assert shown(store, died, "another head") == ("failed", f"{lost}; job '{died}' {refused}")
    assert shown(store, broken, "another head") == before[broken]

    hold_other_models(store, "head", "test-tiny")  # the job's models are back
    assert {jid: shown(store, jid) for jid in (full, died, broken)} == before


def test_a_ray_job_whose_worker_died_too_often_fails_told_to_resume(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Ray, a job whose worker died more often than VIDMATTE_RAY_MAX_RETRIES allows fails
    saying how often and that a resume tries again; on a server with another matting head, why
    that resume is refused instead. The cluster is faked: a worker lost on every run."""
    jid = stored_job(store, tmp_path, stored=2)
    runner = RayRunner.__new__(RayRunner)  # no cluster: only what `_run` uses
    runner.store, runner._line, runner._running, runner.max_retries = store, WaitingLine(), {}, 2

    def lost(*_: object) -> None:
        raise ray_runner.RayError("the actor died unexpectedly")

    monkeypatch.setattr(runner, "_stream", lost)
    runner._run(ray_runner._Queued(jid, attempt=1, retries=2), worker=None)
    died = "the worker running the job died 3 times (setting VIDMATTE_RAY_MAX_RETRIES)"
    assert store.job(jid).stop == "worker_died"
    assert shown(store, jid) == ("failed", f"{died}: resume the job to try again")
    assert shown(store, jid, "another head") == (
        "failed",
        f"{died}; job '{jid}' was made with the matting head 'head', this server runs "
        "'another head': start a new job",
    )
