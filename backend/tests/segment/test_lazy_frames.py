"""SAM2's frames are decoded one ahead, in the direction of travel, off the tracking thread."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from vidmatte.media.video import UndecodableFrame, VideoReader, probe
from vidmatte.segment.predictor import LazyFrames


class Recorder:
    """A real reader's frames, noting which thread asked for which frame."""

    def __init__(self, reader: VideoReader, broken: int | None = None) -> None:
        self.reader, self.broken = reader, broken
        self.calls: list[tuple[int, str]] = []

    def __call__(self, index: int) -> np.ndarray:
        self.calls.append((index, threading.current_thread().name))
        if index == self.broken:
            raise UndecodableFrame(f"frame {index} cannot be decoded (the file is damaged there)")
        return self.reader.frame(index)


def _settle(lazy: LazyFrames) -> None:
    if lazy._ahead is not None:  # wait for the look-ahead to finish, whatever it gave
        lazy._ahead[1].exception()


def test_frames_are_prepared_one_ahead_in_the_direction_of_travel(clip: Path) -> None:
    info, pts = probe(clip)
    load = Recorder(VideoReader(clip, pts, 0))
    lazy = LazyFrames(load, info.frame_count, 64)
    plain = LazyFrames(VideoReader(clip, pts, 0).frame, info.frame_count, 64)
    for index in (2, 3, 4):
        assert torch.equal(lazy[index], plain._prepare(index))
        _settle(lazy)
    ahead = [i for i, thread in load.calls if thread.startswith("vidmatte-decode-ahead")]
    assert ahead == [3, 4, 5]  # each next frame came from the look-ahead thread
    assert [i for i, _ in load.calls].count(4) == 1  # and was not decoded twice
    load.calls.clear()
    lazy[1]  # now backwards
    _settle(lazy)
    ahead = [i for i, thread in load.calls if thread.startswith("vidmatte-decode-ahead")]
    assert ahead == [0]


def test_a_frame_that_fails_ahead_fails_only_when_asked_for(clip: Path) -> None:
    info, pts = probe(clip)
    lazy = LazyFrames(Recorder(VideoReader(clip, pts, 0), broken=3), info.frame_count, 64)
    lazy[2]  # frame 3 fails in the look-ahead: nobody asked for it yet
    _settle(lazy)
    with pytest.raises(UndecodableFrame, match="frame 3 cannot be decoded"):
        lazy[3]
    assert lazy[4].shape == (3, 64, 64)  # and the frames after it still come


def test_frames_are_prepared_on_the_device_sam2_runs_on(clip: Path) -> None:
    """Only the uint8 frame goes to SAM2's device; the squashing and normalising happen there
    (a CPU core took 100 to 200 ms for a 4K frame, longer than SAM2's step on a GPU). The
    meta device stands in for a GPU: it computes shapes only, on any machine."""
    info, pts = probe(clip)
    reader = VideoReader(clip, pts, 0)
    lazy = LazyFrames(reader.frame, info.frame_count, 64, device="meta")
    image = lazy[1]
    assert image.device.type == "meta"
    assert image.shape == (3, 64, 64) and image.dtype == torch.float32
    _settle(lazy)
    assert lazy[2].device.type == "meta"  # the look-ahead's frame too
