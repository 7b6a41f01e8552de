"""The Tracker while a project is deleted: no track of a project that is gone stays known."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.synth import write_video
from tests.waiting import wait_until
from vidmatte.jobs import tracks
from vidmatte.jobs.tracks import Tracker
from vidmatte.media.video import probe
from vidmatte.segment.models import build_predictor
from vidmatte.segment.session import Segmenter
from vidmatte.store import NotFound, Point, Store

FRAMES = 3


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    predictor = build_predictor("test-tiny", Path("checkpoints"), "cpu", random_init=True)
    return Segmenter(predictor, "test-tiny")


@pytest.fixture
def tracked(tmp_path: Path, segmenter: Segmenter) -> Iterator[tuple[Tracker, str]]:
    """A tracker and a project whose whole clip it has tracked."""
    store = Store(tmp_path / "data")
    staged = store.tmp_dir / "source.mp4"
    write_video(staged, frames=FRAMES, width=96, height=64)
    info, pts = probe(staged)
    project = store.add_project("clip", "clip.mp4", staged, info, pts, b"")
    obj = store.add_object(project.id, None, None)["id"]
    store.set_points(project.id, obj, 0, [Point(30, 32, "positive")])
    tracker = Tracker(store, segmenter, "test-tiny")
    tracker.start(project, 0, FRAMES - 1)
    assert wait_until(lambda: tracker.get(project.id).status == "done", 60, every=0.01)
    yield tracker, project.id
    store.close()


def delete(tracker: Tracker, project_id: str) -> None:
    """What the API's delete does with the tracker (Services.delete_project)."""
    with tracker.removing(project_id):
        tracker.store.delete_project(project_id)


def test_a_track_read_as_its_project_is_deleted_is_not_kept(tracked, monkeypatch) -> None:
    """A request read the track's record (a restarted server knows none yet) as the project
    was deleted: the tracker kept it, and served the deleted project's track from then on."""
    tracker, pid = tracked
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


def test_the_track_of_a_project_deleted_during_a_download_is_gone(tracked) -> None:
    """A download holds the project's files past its delete (Store.lease): the track's record
    was still on disk, so the tracker read it back and served the deleted project's track."""
    tracker, pid = tracked
    release = tracker.store.lease(pid)
    try:
        delete(tracker, pid)
        with pytest.raises(NotFound, match=f"project '{pid}' does not exist"):
            tracker.get(pid)
        with pytest.raises(NotFound, match=f"project '{pid}' does not exist"):
            tracker.cancel(pid)
    finally:
        release()
    assert not tracks.track_dir(tracker.store, pid).exists()
