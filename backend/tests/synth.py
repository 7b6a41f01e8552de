"""Small synthetic videos with known alpha, so tests need no external data."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def disk_alpha(
    height: int, width: int, cx: float, cy: float, radius: float, softness: float = 3.0
) -> np.ndarray:
    """A disk with a soft (linear ramp) edge: alpha in [0, 1], float32."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = np.hypot(xx - cx, yy - cy)
    return np.clip((radius - distance) / softness + 0.5, 0.0, 1.0).astype(np.float32)


def frame_and_alpha(index: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame `index` of a red disk moving right over a blue-grey checkerboard."""
    alpha = disk_alpha(
        height,
        width,
        cx=width * 0.3 + index * 2.0,
        cy=height * 0.5,
        radius=min(height, width) * 0.25,
    )
    yy, xx = np.mgrid[0:height, 0:width]
    checker = (((yy // 8) + (xx // 8)) % 2).astype(np.float32)
    background = np.stack([40 + 40 * checker, 60 + 40 * checker, 120 + 60 * checker], axis=-1)
    foreground = np.array([220.0, 40.0, 30.0])
    rgb = alpha[..., None] * foreground + (1 - alpha[..., None]) * background
    return np.round(rgb).astype(np.uint8), alpha


def write_video(
    path: Path,
    frames: int = 12,
    width: int = 96,
    height: int = 64,
    fps: int = 12,
    codec: str = "libx264",
) -> list[np.ndarray]:
    """Write the synthetic clip and return its ground-truth alphas."""
    alphas = []
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "10"} if codec == "libx264" else {}
        for i in range(frames):
            rgb, alpha = frame_and_alpha(i, height, width)
            alphas.append(alpha)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return alphas


def remux(source: Path, target: Path, shift_frames: int = 0) -> None:
    """Copy the video packets of `source` into `target` (container from its suffix) unchanged,
    timestamps moved `shift_frames` frame durations earlier. In an MP4, frames moved before 0
    become what `ffmpeg -ss ... -c copy` writes: an edit list whose leading packets are decoded
    (the first one is the keyframe the rest need) but not shown."""
    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        video = src.streams.video[0]
        step = round(1 / (video.average_rate * video.time_base))
        out = dst.add_stream_from_template(video)
        for packet in src.demux(video):
            if packet.dts is None:  # the demuxer's end-of-stream marker
                continue
            packet.pts -= shift_frames * step
            packet.dts -= shift_frames * step
            packet.stream = out
            dst.mux(packet)


def write_mjpeg_avi(
    path: Path,
    sizes: list[tuple[int, int]],
    damaged: frozenset[int] = frozenset(),
    fps: int = 12,
) -> None:
    """An MJPEG AVI whose header says `sizes[0]` (width, height) while frame i is encoded at
    `sizes[i]`; the frames in `damaged` are replaced by bytes no decoder accepts."""
    width, height = sizes[0]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
        for i, (w, h) in enumerate(sizes):
            encoder = av.CodecContext.create("mjpeg", "w")
            encoder.width, encoder.height, encoder.pix_fmt = w, h, "yuvj420p"
            encoder.time_base = Fraction(1, fps)
            rgb, _ = frame_and_alpha(i, h, w)
            picture = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuvj420p")
            picture.pts = i
            for encoded in encoder.encode(picture):
                packet = av.Packet(b"\xff\xd8 not a picture " * 40) if i in damaged else encoded
                packet.stream, packet.pts, packet.dts = stream, i, i
                packet.time_base = Fraction(1, fps)
                container.mux(packet)
