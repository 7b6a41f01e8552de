"""The job pipeline's stages overlap: SAM2 tracks the next frame while one is matted, and PNG
encoding runs while the next frames are matted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.synth import write_video
from tests.test_ahead import WAIT_S, Steps
from tests.test_resume_mattes import FRAMES, H, W, job, memory_head, track
from vidmatte.config import usable_cores
from vidmatte.jobs.mattes import decode_mattes, encode_mattes
from vidmatte.jobs.pipeline import (
    ENCODERS,
    Stopped,
    encoded,
    encoder_threads,
    matte_frames,
    tracks_ahead,
)
from vidmatte.matte import infer
from vidmatte.matte.infer import Matter
from vidmatte.media.video import VideoReader, probe


def _mattes(frame: int) -> list[np.ndarray]:
    rng = np.random.default_rng(frame)
    return [rng.random((6, 5), dtype=np.float32), rng.random((6, 5), dtype=np.float32)]


def test_frames_come_out_in_order_as_stored_pngs() -> None:
    out = list(encoded((f, _mattes(f)) for f in [3, 4, 5, 2, 1, 0]))
    assert [f for f, _ in out] == [3, 4, 5, 2, 1, 0]
    for frame, png in out:
        assert png == encode_mattes(_mattes(frame))
        np.testing.assert_allclose(decode_mattes(png, 6), np.stack(_mattes(frame)), atol=1e-4)


def test_matting_runs_ahead_of_the_store() -> None:
    """When the store gets frame 0, the frames after it are already matted (their encoding
    overlaps), and no more than 2 x ENCODERS frames are in flight."""
    produced: list[int] = []

    def frames():
        for f in range(20):
            produced.append(f)
            yield f, _mattes(f)

    stream = encoded(frames())
    first, _ = next(stream)
    assert first == 0
    assert len(produced) == 2 * ENCODERS
    assert [f for f, _ in stream] == list(range(1, 20))


def test_a_stop_drops_the_frames_in_flight() -> None:
    """Frames still being encoded when matting stops are not handed on: nothing unstored is
    claimed, and a resumed job redoes them."""

    def frames():
        for f in range(2 * ENCODERS):  # frame 0 is handed on once these are in flight
            yield f, _mattes(f)
        raise Stopped

    got: list[int] = []
    with pytest.raises(Stopped):
        for frame, _ in encoded(frames()):
            got.append(frame)
    assert got == [0]


def test_an_error_hands_on_the_frames_in_flight_first() -> None:
    """A damaged frame fails a resumed job again before it redoes the frames in flight, so
    they are handed on (stored) before the error, in order."""

    def frames():
        for f in range(2 * ENCODERS + 1):
            yield f, _mattes(f)
        raise ValueError("frame 5 cannot be decoded")

    got: list[int] = []
    with pytest.raises(ValueError, match="frame 5"):
        for frame, png in encoded(frames()):
            assert png == encode_mattes(_mattes(frame))
            got.append(frame)
    assert got == list(range(2 * ENCODERS + 1))


def test_bigger_frames_get_more_encoder_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 4K PNG takes four times as long as a 1080p one: with two threads a GPU's 4K job waited
    on them. Threads follow the pixels, up to the cores less the device's feeder, never below
    ENCODERS."""
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(16)))
    assert encoder_threads(1080, 1920) == ENCODERS
    assert encoder_threads(480, 854) == ENCODERS
    assert encoder_threads(2160, 3840) == 4 * ENCODERS
    assert encoder_threads(4320, 7680) == 15  # 8K: the cores less one
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    assert encoder_threads(2160, 3840) == ENCODERS


def test_encoder_threads_count_the_cores_the_process_may_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A container or `taskset` that gives the job two of a machine's 16 cores: eight encoder
    threads there would fight the device's feeder for them."""
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    assert encoder_threads(2160, 3840) == ENCODERS


CORES = usable_cores()


@pytest.fixture
def torch_threads() -> Iterator[Callable[[int], None]]:
    """Sets torch's threads for the test, as OMP_NUM_THREADS would; restored after."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def test_tracking_runs_ahead_on_a_gpu_or_where_the_cores_leave_room(
    torch_threads: Callable[[int], None],
) -> None:
    """On the CPU, SAM2 and the matting at once with every core each only fight over the cores
    (measured slower on the 2-core machine): ahead on a GPU, or with threads for both."""
    assert tracks_ahead(torch.device("cuda"))
    torch_threads(CORES)
    assert not tracks_ahead(torch.device("cpu"))
    torch_threads(1)
    assert tracks_ahead(torch.device("cpu")) == (CORES >= 2)


@pytest.mark.parametrize("threads", ["one", "every core"])
def test_a_job_tracks_the_next_frame_while_it_mattes_one(
    tmp_path: Path, torch_threads: Callable[[int], None], threads: str
) -> None:
    """`matte_frames` with a real Matter over a clip: with one torch thread (room for both
    stages), the next frame's masks are made while the first frame is matted (the old, strictly
    sequential pipeline tracked frame N+1 only after frame N was matted); with a thread per core,
    they are made after it, as before. Every frame comes out matted, in the track's order."""
    torch_threads(1 if threads == "one" else CORES)
    ahead = tracks_ahead(torch.device("cpu"))
    assert ahead == (threads == "one" and CORES >= 2)
    masks = dict(track())
    order = [frame for frame, _ in track()]

    class Track(Steps):
        def __iter__(self):
            for i in super().__iter__():
                yield order[i], masks[order[i]]

    class Watched(Matter):
        """Waits, in its first call, for the track to have handed over a second frame."""

        def __call__(self, *args, **kwargs):
            if not waited:  # sequentially the next frame never comes while this one waits
                waited.append(steps.wait_made(2, seconds=WAIT_S if ahead else 0.3))
            return super().__call__(*args, **kwargs)

    path = tmp_path / "disk.mp4"
    write_video(path, frames=FRAMES, width=W, height=H)
    info, pts = probe(path)
    reader = VideoReader(path, pts, info.rotation)
    steps, waited = Track(len(order)), []
    try:
        matter = Watched(memory_head(), "cpu", "none")
        out = list(
            matte_frames(
                job(), reader, (H, W), None, matter, set(), {}.__getitem__, lambda: False, steps
            )  # type: ignore[arg-type]  # no segmenter: the track's masks are given
        )
    finally:
        reader.close()
    assert waited == [ahead]
    assert steps.threads == {"vidmatte-track-ahead" if ahead else "MainThread"}
    assert [frame for frame, _ in out] == order
    assert all(len(alphas) == 2 and alphas[0].shape == (H, W) for _, alphas in out)


def test_a_job_shrinks_each_frame_once_for_every_object_and_plate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two objects with a background plate each: every frame is fed to both plates ahead of
    its matting, then matted for both. Its working-size image is made once, not four times
    (a 1080p frame's shrink costs 14 ms on one thread)."""
    shrunk: list[tuple[int, ...]] = []
    resize = infer.resize

    def counted(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        if x.shape[1] == 3:  # a frame's colours, not a mask
            shrunk.append(tuple(x.shape))
        return resize(x, size)

    monkeypatch.setattr(infer, "resize", counted)
    path = tmp_path / "disk.mp4"
    write_video(path, frames=FRAMES, width=W, height=H)
    info, pts = probe(path)
    reader = VideoReader(path, pts, info.rotation)
    matter = Matter(memory_head(), "cpu", "best", plate=True)
    try:
        out = list(
            matte_frames(
                job(), reader, (H, W), None, matter, set(), {}.__getitem__, lambda: False, track()
            )  # type: ignore[arg-type]  # no segmenter: the track's masks are given
        )
    finally:
        reader.close()
    assert sorted(frame for frame, _ in out) == list(range(FRAMES))
    assert shrunk == [(1, 3, H, W)] * FRAMES
