"""Box filters and dilation for the matting stage, cheap on the CPU and the same on a GPU.

Small windows (radius up to ~8) are sums of shifted slices, doubled (`window_sums`): exact
in float32 and, on the CPU, several times faster than a convolution (kornia's box_blur),
pooling or running sums. On a GPU, where each operation's launch costs more than its
arithmetic, they are average pooling: one kernel. Large windows and dilation use running
sums (cumsum), O(1) per pixel whatever the radius.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def window_sums(x: torch.Tensor, k: int, dim: int) -> torch.Tensor:
    """Sums of every k consecutive entries along `dim`, by doubling: sums of 1, 2, 4, ...
    entries, then those of k's binary digits added up: O(log k) passes over x, not k - 1
    (radius 3: 4 passes instead of 6, radius 8: 5 instead of 16)."""
    n = x.shape[dim] - k + 1
    out, start, span, block = None, 0, 1, x  # block: sums of `span` entries
    while True:
        if k & span:
            piece = block.narrow(dim, start, n)
            out = piece if out is None else out + piece
            start += span
        if 2 * span > k:
            return out
        m = block.shape[dim] - span
        block = block.narrow(dim, 0, m) + block.narrow(dim, span, m)
        span *= 2


def window_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over every (2r+1)² window wholly inside x: (B,C,H,W) -> (B,C,H-2r,W-2r)."""
    k = 2 * radius + 1
    if x.is_cuda:
        # One kernel instead of the sums' nine: a GPU is bound by launches here, not
        # arithmetic (bench/launches.py); on the CPU the sums are the faster.
        return F.avg_pool2d(x, k, stride=1)
    return window_sums(window_sums(x, k, -1), k, -2) / (k * k)


def box_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over the (2r+1)² box around each pixel, the image mirrored at its borders (what
    the guided filter's box_blur did): same size as x."""
    return window_mean(F.pad(x, (radius,) * 4, mode="reflect"), radius)


def padded_box_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over the (2r+1)² box around each pixel, zeros outside the image, from running
    sums: for the large boxes (up to 127 px) where slices would cost O(r)."""
    k = 2 * radius + 1
    c = F.pad(x, (radius + 1, radius, radius + 1, radius)).cumsum(-1)
    c = (c[..., k:] - c[..., :-k]).cumsum(-2)
    return (c[..., k:, :] - c[..., :-k, :]) / (k * k)


def _rows_any(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """1.0 where a 0/1 `mask` has a 1 within `radius` along its last axis (running sums:
    exact, counts stay far below float32's 2^24)."""
    k = 2 * radius + 1
    sums = F.pad(mask, (radius + 1, radius)).cumsum(-1)
    return ((sums[..., k:] - sums[..., :-k]) > 0.5).to(mask.dtype)


def dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """A 0/1 float `mask` (B,C,H,W) dilated by a (2r+1)² square, O(1) per pixel: max pooling's
    O(r) was a fifth of the matting stage on the CPU. Running sums along the last axis, the
    other through a transpose (a cumsum across rows is several times slower on the CPU)."""
    rows = _rows_any(mask, radius).transpose(-1, -2).contiguous()
    return _rows_any(rows, radius).transpose(-1, -2)
