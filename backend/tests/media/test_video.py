"""Probing and random-access decoding with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.synth import frame_and_alpha, write_video
from vidmatte.media.video import MediaError, VideoReader, probe


def test_random_access_matches_sequential_decode(tmp_path: Path) -> None:
    path = tmp_path / "gop.mp4"
    write_video(path, frames=50)
    info, pts = probe(path)
    assert info.frame_count == 50 and len(pts) == 50
    sequential = [f.to_ndarray(format="rgb24") for f in av.open(str(path)).decode(video=0)]
    reader = VideoReader(path, pts, info.rotation, cache_size=4)
    for index in [49, 0, 25, 24, 23, 3, 48, 10, 11, 12]:  # jumps, backward runs, forward runs
        np.testing.assert_array_equal(reader.frame(index), sequential[index])
    with pytest.raises(IndexError):
        reader.frame(50)


def test_rotation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "rotated.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(10))
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.set_display_rotation(90)
        for i in range(3):
            rgb, _ = frame_and_alpha(i, 64, 96)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    info, pts = probe(path)
    assert info.rotation in (90, -90) and (info.width, info.height) == (64, 96)
    frame = VideoReader(path, pts, info.rotation).frame(1)
    assert frame.shape == (96, 64, 3)
    raw, _ = frame_and_alpha(1, 64, 96)
    turned = np.rot90(raw, k=round(info.rotation / 90) % 4)
    assert np.abs(frame.astype(float) - turned).mean() < 6


def test_audio_only_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tone.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        samples = np.sin(np.linspace(0, 200, 16000, dtype=np.float32))[None]
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    with pytest.raises(MediaError, match=r"no video stream .*audio"):
        probe(path)


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(1).bytes(10_000))
    with pytest.raises(MediaError):
        probe(path)
