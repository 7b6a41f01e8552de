"""The Tracker under rapid and concurrent starts, as a double-clicked Track button sends them,
and under project deletes (a delete racing a read, a download, a stop at shutdown, a job
copying the masks)."""

from __future__ import annotations

import errno
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tests.synth import write_video
from tests.waiting import wait_until
from vidmatte.errors import DISK_FULL
from vidmatte.jobs import tracks
from vidmatte.jobs.tracks import Run, Stopped, Tracker, reuse
from vidmatte.media.video import probe
from vidmatte.segment.models import build_predictor
from vidmatte.segment.session import Segmenter
from vidmatte.store import Job, NotFound, Point, Store

FRAMES = 3


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    predictor = build_predictor("test-tiny", Path("checkpoints"), "cpu", random_init=True)
    return Segmenter(predictor, "test-tiny")


@pytest.fixture
def tracked(tmp_path: Path, segmenter: Segmenter):
    store = Store(tmp_path / "data")
    staged = store.tmp_dir / "source.mp4"
    write_video(staged, frames=FRAMES, width=96, height=64)
    info, pts = probe(staged)
    project = store.add_project("clip", "clip.mp4", staged, info, pts, b"")
    obj = store.add_object(project.id, None, None)["id"]
    store.set_points(project.id, obj, 0, [Point(30, 32, "positive")])
    yield Tracker(store, segmenter, "test-tiny"), project.id, obj
    store.close()


def until_stopped(track, project, should_stop) -> None:
    """A tracking run (Tracker._track) that lasts until it is told to stop."""
    while not should_stop():
        time.sleep(0.01)
    raise Stopped


@pytest.fixture
def thread_errors() -> list[BaseException]:
    """Exceptions that escape any thread (a crashed track worker) during the test."""
    errors: list[BaseException] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)
    yield errors
    threading.excepthook = previous


def _settle(tracker: Tracker, project_id: str) -> str:
    wait_until(lambda: tracker.get(project_id).status != "running", 60, every=0.01)
    return tracker.get(project_id).status


def test_concurrent_starts_leave_one_worker_and_crash_none(tracked, thread_errors) -> None:
    """Starts that arrive together (a double-clicked Track, two tabs) each replace the run
    before them: none may crash a starter or a worker, nor leave a replaced run going."""
    tracker, pid, obj = tracked
    for _ in range(6):
        barrier = threading.Barrier(4)

        def start(barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            tracker.start(tracker.store.project(pid), 0, FRAMES - 1)

        starters = [threading.Thread(target=start) for _ in range(4)]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        workers = [t for t in threading.enumerate() if t.name == f"vidmatte-track-{pid}"]
        assert len(workers) <= 1, "a replaced run must not keep running"
        assert _settle(tracker, pid) == "done"
        for worker in workers:
            worker.join(timeout=60)
        # a start on unchanged prompts re-tracks nothing, so count masks, not frames_done
        assert all(tracker.mask(pid, f, obj) is not None for f in range(FRAMES))
    assert thread_errors == []


def test_a_job_reuses_only_a_track_of_its_own_sam2(tracked) -> None:
    """A track made before a restart with another SAM2 is not a job's masks: SAM2 runs."""
    tracker, pid, obj = tracked
    tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
    assert _settle(tracker, pid) == "done"
    for sam2, reused in (("test-tiny", True), ("small", False)):
        job = tracker.store.add_job(pid, 0, FRAMES - 1, [obj], edges="none", head="h", sam2=sam2)
        masks = reuse(tracker.store, job, sam_features=False)
        assert (masks is not None) is reused, sam2
        if masks is not None:
            assert [frame for frame, _ in masks] == list(range(FRAMES))


def test_a_failed_track_says_why_without_server_paths(tracked) -> None:
    """A track's error went to every user with the token as str(exc), server paths included
    (a job's goes through describe(): issue 12)."""
    tracker, pid, _ = tracked
    source = tracker.store.project(pid).source
    source.unlink()  # the video gone from under the project: the track cannot read a frame
    tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
    assert _settle(tracker, pid) == "failed"
    error = tracker.get(pid).error
    assert error and "No such file" in error and ".../source.mp4" in error, error
    assert str(tracker.store.data_dir) not in error


def test_a_track_of_another_sam2_is_stale_and_tracked_again_whole(tracked) -> None:
    """After a restart with another SAM2, Track on unchanged prompts ran nothing and recorded the
    old masks as the new model's: a job then reused them as its own SAM2's."""
    tracker, pid, obj = tracked
    tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
    assert _settle(tracker, pid) == "done"
    restarted = Tracker(tracker.store, tracker.segmenter, "small")
    assert restarted.stale(restarted.get(pid))
    project = restarted.store.project(pid)
    assert restarted.start(project, 0, FRAMES - 1).run == Run(0, FRAMES - 1, [obj])
    assert _settle(restarted, pid) == "done"
    assert restarted.get(pid).frames_done == FRAMES
    assert not restarted.stale(restarted.get(pid))


def test_a_replaced_track_is_not_announced_as_cancelled(tracked, monkeypatch) -> None:
    """Track pressed again while a track runs replaces it: its followers (another tab's event
    stream) heard "cancelled", ended and showed a cancelled track while the new one ran."""
    tracker, pid, _ = tracked

    monkeypatch.setattr(tracker, "_track", until_stopped)
    heard: list[str] = []
    publish = tracker.changes.publish
    monkeypatch.setattr(tracker.changes, "publish", lambda t: (heard.append(t.status), publish(t)))
    try:
        tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
        tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
        assert heard == ["running", "running"]
        assert tracker.get(pid).status == "running"
    finally:
        assert tracker.cancel(pid).status == "cancelled"  # a cancel is announced
    assert heard[-1] == "cancelled"


def test_an_object_deleted_as_its_name_is_read_is_simply_not_tracked(tracked, monkeypatch) -> None:
    """An object with negative clicks alone deleted (from another tab) after a start read the
    prompts and before it read that object's name, to refuse the start: its points went with
    it, so the start tracks the others. It answered "object N does not exist" (a 404), though
    the request named no object."""
    tracker, pid, obj = tracked
    store = tracker.store
    blind = store.add_object(pid, None, None)["id"]
    store.set_points(pid, blind, 0, [Point(10, 10, "negative")])
    read = store.object

    def deleted_first(project_id: str, object_id: int) -> dict:
        store.delete_object(project_id, object_id)
        return read(project_id, object_id)

    monkeypatch.setattr(store, "object", deleted_first)
    track = tracker.start(store.project(pid), 0, FRAMES - 1)
    assert track.object_ids == [obj]
    assert _settle(tracker, pid) == "done"
    assert tracker.get(pid).object_ids == [obj]


def full_disk_after(monkeypatch: pytest.MonkeyPatch, writes: int) -> None:
    """Every file the tracker writes after its first `writes` fails as on a full disk."""
    write = tracks.write_atomic
    done = [0]

    def on_a_filling_disk(path: Path, data: bytes) -> None:
        done[0] += 1
        if done[0] > writes:
            raise OSError(errno.ENOSPC, "No space left on device")
        write(path, data)

    monkeypatch.setattr(tracks, "write_atomic", on_a_filling_disk)


def test_a_track_on_a_disk_that_fills_up_fails_and_says_so(
    tracked, thread_errors, monkeypatch
) -> None:
    """The disk full at a mask, then at the record of the failure: the worker died with the
    second error and the track said "running" for ever (its events never ended)."""
    tracker, pid, _ = tracked
    full_disk_after(monkeypatch, 1)  # the start's record alone
    tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
    assert wait_until(lambda: tracker.get(pid).status != "running", 10, every=0.01)
    failed = tracker.get(pid)
    assert failed.status == "failed"
    assert failed.error == f"{DISK_FULL}: free some space, then track again"
    assert thread_errors == []


def test_a_track_started_on_a_full_disk_keeps_the_last_one(tracked, monkeypatch) -> None:
    """A start on a full disk removed the finished track's masks, then failed to record the new
    one: the project's track still said done, with masks gone."""
    tracker, pid, obj = tracked
    tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
    assert _settle(tracker, pid) == "done"
    tracker.store.set_points(pid, obj, 0, [Point(31, 32, "positive")])  # every mask made anew
    full_disk_after(monkeypatch, 0)
    with pytest.raises(OSError, match="No space left"):
        tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
    assert tracker.get(pid).status == "done"
    assert all(tracker.mask(pid, f, obj) is not None for f in range(FRAMES))


def test_a_running_track_a_start_on_a_full_disk_stopped_is_announced(tracked, monkeypatch) -> None:
    """Track pressed again on a full disk: the running track stopped, the new one could not be
    recorded (a 507). Its followers (the editor's event stream) were told nothing and showed it
    running until their next ping's re-read."""
    tracker, pid, _ = tracked
    monkeypatch.setattr(tracker, "_track", until_stopped)
    heard: list[str] = []
    publish = tracker.changes.publish
    monkeypatch.setattr(tracker.changes, "publish", lambda t: (heard.append(t.status), publish(t)))
    tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
    full_disk_after(monkeypatch, 0)
    with pytest.raises(OSError, match="No space left"):
        tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
    assert (heard, tracker.get(pid).status) == (["running", "cancelled"], "cancelled")


def _job_after_a_track(tracker: Tracker, pid: str, obj: int) -> Job:
    """A job over the whole clip, queued once the project's track has finished."""
    tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
    assert _settle(tracker, pid) == "done"
    store = tracker.store
    return store.add_job(pid, 0, FRAMES - 1, [obj], edges="none", head="h", sam2="test-tiny")


def test_a_track_re_run_as_a_job_reads_its_record_is_not_reused(tracked, monkeypatch) -> None:
    """The record's time was taken after it was read: a re-run saved in between passed for the
    finished track the job read, and the job took the re-run's masks as that track's."""
    tracker, pid, obj = tracked
    job = _job_after_a_track(tracker, pid, obj)
    load = tracks._load

    def then_re_run(path: Path) -> tracks.Track:
        read = load(path)
        time.sleep(0.05)  # past the file system's clock tick
        tracker._save(replace(read, status="running", version=read.version + 1))
        return read

    monkeypatch.setattr(tracks, "_load", then_re_run)
    assert reuse(tracker.store, job, sam_features=False) is None


def test_a_job_of_a_project_deleted_as_it_reads_the_track_runs_no_track(tracked, monkeypatch):
    """The record was looked for, then read: a delete in between was a missing file's error."""
    tracker, pid, obj = tracked
    job = _job_after_a_track(tracker, pid, obj)
    load = tracks._load

    def deleted_first(path: Path) -> tracks.Track:
        with tracker.removing(pid):
            tracker.store.delete_project(pid)
        return load(path)

    monkeypatch.setattr(tracks, "_load", deleted_first)
    assert reuse(tracker.store, job, sam_features=False) is None


@pytest.fixture
def finished(tracked) -> tuple[Tracker, str]:
    """A tracker and a project whose whole clip it has tracked."""
    tracker, pid, _obj = tracked
    tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
    assert wait_until(lambda: tracker.get(pid).status == "done", 60, every=0.01)
    return tracker, pid


def delete(tracker: Tracker, project_id: str) -> None:
    """What the API's delete does with the tracker (Services.delete_project)."""
    with tracker.removing(project_id):
        tracker.store.delete_project(project_id)


def test_a_track_read_as_its_project_is_deleted_is_not_kept(finished, monkeypatch) -> None:
    """A request read the track's record (a restarted server knows none yet) as the project
    was deleted: the tracker kept it, and served the deleted project's track from then on."""
    tracker, pid = finished
    restarted = Tracker(tracker.store, tracker.segmenter, "test-tiny")
    load = tracks._load

    def deleted_meanwhile(path: Path) -> tracks.Track:
        read = load(path)
        delete(restarted, pid)
        return read

    monkeypatch.setattr(tracks, "_load", deleted_meanwhile)
    with pytest.raises(NotFound, match=f"project '{pid}' does not exist"):
        restarted.get(pid)
    monkeypatch.setattr(tracks, "_load", load)
    with pytest.raises(NotFound, match=f"project '{pid}' does not exist"):
        restarted.get(pid)
    assert not restarted.has(pid)


def test_the_track_of_a_project_deleted_during_a_download_is_gone(tracked, finished) -> None:
    """A download holds the project's files past its delete (Store.lease): the track's record
    was still on disk, so the tracker read it back and served the deleted project's track."""
    tracker, pid = finished
    job = tracker.store.add_job(pid, 0, FRAMES - 1, [tracked[2]], "none", "h", "test-tiny")
    release = tracker.store.lease(pid, job.id)
    try:
        delete(tracker, pid)
        with pytest.raises(NotFound, match=f"project '{pid}' does not exist"):
            tracker.get(pid)
        with pytest.raises(NotFound, match=f"project '{pid}' does not exist"):
            tracker.cancel(pid)
    finally:
        release()
    assert not tracks.track_dir(tracker.store, pid).exists()


def test_a_stop_at_shutdown_does_not_write_into_a_deleted_project(tracked, monkeypatch) -> None:
    """Shutdown stopped the runs without the control lock a delete holds: a delete that came
    as the stop recorded a run as interrupted removed the project's folder, then the record
    was saved, writing track.json (and the folders above it) back."""
    tracker, pid, _ = tracked

    monkeypatch.setattr(tracker, "_track", until_stopped)
    publish, deleter = tracker.changes.publish, threading.Thread(target=delete, args=(tracker, pid))

    def delete_as_it_is_told(track: tracks.Track) -> None:
        publish(track)
        if track.status == "interrupted":  # shown, not saved yet: the delete comes now
            deleter.start()
            deleter.join(1)  # with the lock held by the stop, the delete waits for it

    monkeypatch.setattr(tracker.changes, "publish", delete_as_it_is_told)
    tracker.start(tracker.store.project(pid), 0, FRAMES - 1)
    tracker.stop()
    deleter.join(10)
    assert not deleter.is_alive(), "the delete must not wait for ever"
    assert not tracker.store.project_dir(pid).exists()


@pytest.mark.parametrize("when", ["first", "last"])
def test_a_job_deleted_while_it_copies_the_masks_leaves_no_folder(
    tracked, monkeypatch, when: str
) -> None:
    """The job's project deleted while the job copied the track's masks: the copy (or the
    empty folder it was made in) came back as jobs/<id>/ after the delete removed it. Deleted
    before the first mask, the mask is missing; after the last, the copy is whole."""
    tracker, pid, obj = tracked
    job = _job_after_a_track(tracker, pid, obj)
    link, linked = tracks._link_or_copy, []

    def deleted_meanwhile(source: Path, target: Path) -> None:
        if when == "first" and not linked:
            delete(tracker, pid)
        linked.append(source)
        link(source, target)
        if when == "last" and len(linked) == FRAMES:
            delete(tracker, pid)

    monkeypatch.setattr(tracks, "_link_or_copy", deleted_meanwhile)
    with pytest.raises(Stopped, match=f"job '{job.id}' was deleted"):
        reuse(tracker.store, job, sam_features=False)
    assert not tracker.store.job_dir(job.id).exists()
