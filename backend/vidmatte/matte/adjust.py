"""Edge adjustments of a finished matte, applied when it is served or exported (the stored
mattes stay as matted): take out its flicker between frames where the picture is still
(`reduce_chatter`, a median of three frames), grow or choke it (`shift_edge`), then soften
its edge (`feather`).

Cheap at 4K on the CPU or a GPU: a shift of r px is r passes of 3x3 maxima (O(pixels · r)),
a feather three box passes along each axis whatever its width (window sums by doubling,
filters.py: O(log width) per pixel, and exact for a constant matte).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from vidmatte.matte.filters import window_sums

MAX_SHIFT_EDGE = 32.0  # px either way
MAX_FEATHER = 32.0  # px
# A Gaussian's 10 %-90 % rise spans 2 * 1.2816 sigma (its 0.9 quantile is 1.2816 sigma).
_RISE_PER_SIGMA = 2.5631


@dataclass(frozen=True)
class EdgeAdjust:
    """The adjustments, checked: ValueError naming the one out of range (or NaN).
    `reduce_chatter` (`median3` over each frame and its neighbours) comes first: it needs the
    neighbours' mattes, so the caller applies it; `adjust_matte` the other two."""

    shift_edge: float = 0.0
    feather: float = 0.0
    reduce_chatter: bool = False

    def __post_init__(self) -> None:
        if not -MAX_SHIFT_EDGE <= self.shift_edge <= MAX_SHIFT_EDGE:
            raise ValueError(
                f"shift_edge {self.shift_edge} is outside -{MAX_SHIFT_EDGE:g}..{MAX_SHIFT_EDGE:g}"
            )
        if not 0 <= self.feather <= MAX_FEATHER:
            raise ValueError(f"feather {self.feather} is outside 0..{MAX_FEATHER:g}")


# A pixel whose colour changes by less than this (8-bit levels, any channel) from the frame
# before and to the frame after is still, and so should its matte be. Chosen on the training
# images as moving clips (`ship build`'s W/tune): their true alpha through the filter keeps a
# MAD of 0.009 at 8 levels (0.028 at 16, 0.003 at 4; 1.71 with no gate at all: hair and fibres
# that move more than their width a frame were erased), and the shipped head's MAD and dtSSD
# stay as they were (2.907 -> 2.906, 2.504 -> 2.502).
STILL_LEVELS = 8


def still_pixels(previous: np.ndarray, current: np.ndarray, following: np.ndarray) -> np.ndarray:
    """(H, W) True where the three RGB frames agree to within STILL_LEVELS: 8-bit levels of
    uint8 frames, the same share of the range of uint16 ones (a deep source's, exports')."""
    limit = STILL_LEVELS * (257 if current.dtype == np.uint16 else 1)
    here = current.astype(np.int32)
    return (np.abs(previous.astype(np.int32) - here).max(-1) < limit) & (
        np.abs(following.astype(np.int32) - here).max(-1) < limit
    )


def median3(
    previous: np.ndarray | None,
    current: np.ndarray,
    following: np.ndarray | None,
    still: np.ndarray | None,
) -> np.ndarray:
    """Where the picture is `still` (`still_pixels` of the three frames), each pixel's median
    of its mattes on the frames before, at and after this one (After Effects' Reduce Chatter):
    a one-frame flicker up or down is gone. Elsewhere the frame's own matte: without the gate a
    strand moving more than its width a frame (0, 1, 0 at a pixel) would be erased, as it is
    not on a still picture. `current` itself without both neighbours (the ends of a job's
    range, a neighbour not matted yet). Bit exact: every value is one of the three."""
    if previous is None or following is None or still is None:
        return current
    low, high = np.minimum(previous, current), np.maximum(previous, current)
    return np.where(still, np.maximum(low, np.minimum(high, following)), current)


def adjust_matte(
    alpha: np.ndarray, shift_edge: float = 0.0, feather: float = 0.0, device: str = "cpu"
) -> np.ndarray:
    """`alpha` (H, W) in [0, 1] with its edge moved by `shift_edge` px, then softened by
    `feather` px; float32 (H, W) in [0, 1]. Both 0: `alpha` itself, untouched.

    shift_edge: -32..32 px. Positive grows the matte (grey dilation), negative chokes it (grey
    erosion): by an octagon (3x3 crosses and squares in turn, a round-ish element), so a
    straight hard edge moves by exactly |shift_edge| px; a fraction blends the results of
    the whole px below and above it (0.5: half way). Nothing comes in from beyond the frame.
    feather: 0..32 px. A hard edge becomes a ramp `feather` px wide from 10 % to 90 %: a blur
    by three box filters of fractional width, within a few percent of a Gaussian of sigma
    feather / 2.563; the frame's edge pixels are repeated beyond it, so an opaque frame
    stays opaque.
    """
    EdgeAdjust(shift_edge, feather)  # checks both
    if not shift_edge and not feather:
        return alpha
    x = torch.from_numpy(np.ascontiguousarray(alpha, dtype=np.float32)).to(device)[None, None]
    with torch.inference_mode():
        if shift_edge > 0:
            x = _dilate(x, shift_edge)
        elif shift_edge < 0:
            x = 1 - _dilate(1 - x, -shift_edge)
        if feather:
            x = _blur(x, feather / _RISE_PER_SIGMA)
        return x.clamp_(0, 1)[0, 0].cpu().numpy()


def _dilate_step(x: torch.Tensor, step: int) -> torch.Tensor:
    """Max over the 4-neighbourhood (a cross) on even steps, the 3x3 square on odd ones: in
    turn an octagon, rounder than a square alone. In-place maxima of shifted slices (several
    times faster on the CPU than max pooling); only pixels of the frame count."""
    out = x.clone()
    _raise(out, x, -1)
    if step % 2:  # the square: the rows' maxima, then those of their columns
        x, out = out, out.clone()
    _raise(out, x, -2)
    return out


def _raise(out: torch.Tensor, source: torch.Tensor, dim: int) -> None:
    """Raise each entry of `out` to its two neighbours' along `dim` in `source` (another
    tensor of the same shape)."""
    n = out.shape[dim] - 1
    out.narrow(dim, 1, n).clamp_(min=source.narrow(dim, 0, n))
    out.narrow(dim, 0, n).clamp_(min=source.narrow(dim, 1, n))


def _dilate(x: torch.Tensor, radius: float) -> torch.Tensor:
    whole = math.floor(radius)
    for step in range(whole):
        x = _dilate_step(x, step)
    if fraction := radius - whole:
        x = torch.lerp(x, _dilate_step(x, whole), fraction)
    return x


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Three passes of a box of fractional radius along each axis, their variance sigma²."""
    radius, fraction = _box_for(sigma * sigma / 3)
    for dim in (-1, -2):
        for _ in range(3):
            x = _box(x, radius, fraction, dim)
    return x


def _box_for(variance: float) -> tuple[int, float]:
    """(n, f) of the box with weights 1 on offsets -n..n and f on ±(n+1) whose variance is
    `variance`: n the largest whole radius not above it (a whole box of radius n has variance
    n(n+1)/3), f solved from (n(n+1)(2n+1)/3 + 2f(n+1)²) / (2n+1+2f) = variance."""
    n = math.floor((math.sqrt(1 + 12 * variance) - 1) / 2)
    inner = n * (n + 1) * (2 * n + 1) / 3
    f = (variance * (2 * n + 1) - inner) / (2 * (n + 1) ** 2 - 2 * variance)
    return n, min(max(f, 0.0), 1.0)


def _box(x: torch.Tensor, radius: int, fraction: float, dim: int) -> torch.Tensor:
    """Weighted mean over offsets -radius..radius (weight 1) and ±(radius+1) (weight
    `fraction`) along `dim`, the edge entries repeated beyond the border. Written as the inner
    sum plus `fraction` times the two outer entries, over 2r+1+2f, so that a constant stays
    exactly that constant."""
    size = x.shape[dim]
    pad = [0, 0, 0, 0]
    pad[(-1 - dim) * 2 : (-1 - dim) * 2 + 2] = [radius + 1, radius + 1]
    padded = F.pad(x, pad, mode="replicate")
    inner = window_sums(padded.narrow(dim, 1, size + 2 * radius), 2 * radius + 1, dim)
    if not fraction:
        return inner / (2 * radius + 1)
    outer = padded.narrow(dim, 0, size) + padded.narrow(dim, 2 * radius + 2, size)
    weight = np.float32(fraction)  # the same float32 sums above and below the line
    return (inner + weight * outer) / float(np.float32(2 * radius + 1) + 2 * weight)
