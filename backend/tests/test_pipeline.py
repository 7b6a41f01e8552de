"""The job pipeline's stages overlap: PNG encoding runs while the next frames are matted."""

from __future__ import annotations

import numpy as np
import pytest

from vidmatte.jobs.mattes import decode_mattes, encode_mattes
from vidmatte.jobs.pipeline import ENCODERS, Stopped, encoded, encoder_threads


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
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert encoder_threads(1080, 1920) == ENCODERS
    assert encoder_threads(480, 854) == ENCODERS
    assert encoder_threads(2160, 3840) == 4 * ENCODERS
    assert encoder_threads(4320, 7680) == 15  # 8K: the cores less one
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert encoder_threads(2160, 3840) == ENCODERS
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert encoder_threads(2160, 3840) == ENCODERS
