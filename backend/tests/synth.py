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
