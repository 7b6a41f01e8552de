"""Box filters, dilation, halving, shrinking and enlarging, point sampling and finding a
mask's pixels for the matting stage, cheap on the CPU and the same on a GPU.

Small windows (radius up to ~8) are sums of shifted slices, doubled (`window_sums`): exact
in float32 and, on the CPU, several times faster than a convolution (kornia's box_blur),
pooling or running sums. On a GPU, where each operation's launch costs more than its
arithmetic, they are average pooling: one kernel. Large windows use running sums (cumsum),
O(1) per pixel whatever the radius. Dilation is the same doubled sums of bools (on a GPU,
two max poolings).

Which form a function takes is `launch_bound`'s one decision, so that the tests can run a
GPU's forms on the CPU and hold them to the CPU's values.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

# True while `gpu_forms` is entered (in that thread): every device takes a GPU's forms.
_GPU_FORMS: contextvars.ContextVar[bool] = contextvars.ContextVar("gpu_forms", default=False)


def launch_bound(x: torch.Tensor) -> bool:
    """Whether `x` lives where each operation's launch costs more than its arithmetic (a
    GPU): the matting stage then takes its forms of fewest operations (one pooling, one
    sort, one gather); on the CPU, its cache-sized and thread-split ones. Both give the same
    values to float rounding."""
    return x.is_cuda or _GPU_FORMS.get()


@contextlib.contextmanager
def gpu_forms() -> Iterator[None]:
    """Inside, the stage takes a GPU's forms on any device: tests/matte/test_gpu_forms.py
    holds them to the CPU's values on the CPU, and bench/launches.py counts a GPU's
    operations."""
    token = _GPU_FORMS.set(True)
    try:
        yield
    finally:
        _GPU_FORMS.reset(token)


def window_sums(
    x: torch.Tensor, k: int, dim: int, add: Callable[..., torch.Tensor] = torch.add
) -> torch.Tensor:
    """Sums of every k consecutive entries along `dim`, by doubling: sums of 1, 2, 4, ...
    entries, then those of k's binary digits added up: O(log k) passes over x, not k - 1
    (radius 3: 4 passes instead of 6, radius 8: 5 instead of 16). `add` may be any
    associative sum: `torch.bitwise_or` gives whether any of the k is True."""
    n = x.shape[dim] - k + 1
    out, start, span, block = None, 0, 1, x  # block: sums of `span` entries
    while True:
        if k & span:
            piece = block.narrow(dim, start, n)
            out = piece if out is None else add(out, piece)
            start += span
        if 2 * span > k:
            return out
        m = block.shape[dim] - span
        block = add(block.narrow(dim, 0, m), block.narrow(dim, span, m))
        span *= 2


def window_sum(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Sum over every (2r+1)² window wholly inside x: (B,C,H,W) -> (B,C,H-2r,W-2r)."""
    k = 2 * radius + 1
    if launch_bound(x):
        # One kernel instead of the sums' nine: a GPU is bound by launches here, not
        # arithmetic (bench/launches.py); on the CPU the sums are the faster.
        return F.avg_pool2d(x, k, stride=1, divisor_override=1)
    return window_sums(window_sums(x, k, -1), k, -2)


def window_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over every (2r+1)² window wholly inside x: (B,C,H,W) -> (B,C,H-2r,W-2r)."""
    k = 2 * radius + 1
    if launch_bound(x):
        return F.avg_pool2d(x, k, stride=1)  # one kernel, as in `window_sum`
    return window_sum(x, radius) / (k * k)


def halved(x: torch.Tensor) -> torch.Tensor:
    """Means of x's (B,C,H,W) 2x2 squares, (B,C,⌈H/2⌉,⌈W/2⌉); a square cut by an odd edge
    averages the pixels it holds (average pooling with ceil_mode). On the CPU, at even sizes,
    as bilinear shrinking to half, which samples each square's centre: the same means to
    float rounding, a third of pooling's time."""
    if launch_bound(x) or x.shape[-2] % 2 or x.shape[-1] % 2:
        return F.avg_pool2d(x, 2, ceil_mode=True)
    size = (x.shape[-2] // 2, x.shape[-1] // 2)
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def enlarged(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """x (B,C,h,w) enlarged bilinearly to `size` (h, w or larger), as `F.interpolate` does
    (align_corners=False, edges clamped). On the CPU, where each side grows by a whole factor
    (the working size to 1080p or 4K: 3x, 6x; a half-resolution map: 2x), as one blend per
    output phase along each axis: every s-th output pixel lies the same fraction between the
    same two inputs. A third to a half of interpolate's time, whose source positions are
    float products (off by up to 4e-5 along a 1080p row; these are exact). Channels-last
    maps, on which interpolate is the faster, and other sizes go to interpolate."""
    height, width = x.shape[-2:]
    rows, cols = size[0] // height, size[1] // width
    whole = (rows * height, cols * width) == tuple(size)
    if launch_bound(x) or x.requires_grad or not x.is_contiguous() or not whole:
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    return _enlarged_along(_enlarged_along(x, -1, cols), -2, rows)


def _enlarged_along(x: torch.Tensor, dim: int, factor: int) -> torch.Tensor:
    """x enlarged `factor` times along `dim` (negative), bilinearly, edges clamped."""
    if factor == 1:
        return x
    n = x.shape[dim]
    padded = torch.cat([x.narrow(dim, 0, 1), x, x.narrow(dim, n - 1, 1)], dim)  # clamped
    out = x.new_empty(*x.shape[:dim], n * factor, *x.shape[dim:][1:])
    phases = out.unflatten(dim, (n, factor))  # output pixel factor·i + p at (i, p)
    near = padded.narrow(dim, 1, n)
    for p in range(factor):
        offset = (p + 0.5) / factor - 0.5  # where it samples, from input pixel i: (-½, ½)
        part = phases.select(dim, p)
        if offset == 0:
            part.copy_(near)
        else:
            far = padded.narrow(dim, 0 if offset < 0 else 2, n)
            torch.lerp(near, far, abs(offset), out=part)
    return out


def shrunk_along(x: torch.Tensor, dim: int, factor: int) -> torch.Tensor:
    """x shrunk `factor` times along `dim` as antialiased bilinear shrinking does it, float32:
    output i is the mean of inputs j weighted 1 - |j + 0.5 - factor·(i + 0.5)| / factor where
    that is positive, the weights of inputs beyond x's ends dropped and the rest scaled to
    sum to 1. Bytes are read as they are (`infer.working_frame`'s frames: making them float
    first cost as much again)."""
    length, n = x.shape[dim], x.shape[dim] // factor
    shape = list(x.shape)
    shape[dim] = n
    out, total = torch.zeros(shape, device=x.device), torch.zeros(n, device=x.device)
    # Output i's inputs are factor·i + o for these offsets o.
    for o in range(-factor, 2 * factor):
        weight = 1 - abs(o + 0.5 - factor / 2) / factor
        if weight <= 0:
            continue
        # The outputs whose input factor·i + o lies inside x.
        first, last = max(0, -(o // factor)), min(n, (length - 1 - o) // factor + 1)
        taps = x.narrow(dim, first * factor + o, (last - first - 1) * factor + 1)
        taps = taps[(slice(None),) * dim + (slice(None, None, factor),)]
        out.narrow(dim, first, last - first).add_(taps, alpha=weight)
        total[first:last] += weight
    return out.div_(total.view([-1] + [1] * (x.dim() - dim - 1)))


def box_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over the (2r+1)² box around each pixel, the image mirrored at its borders (what
    the guided filter's box_blur did): same size as x."""
    return window_mean(F.pad(x, (radius,) * 4, mode="reflect"), radius)


def padded_box_means(x: torch.Tensor, radii: Sequence[int]) -> list[torch.Tensor]:
    """For each radius, the mean over the (2r+1)² box around each pixel, zeros outside the
    image, from running sums: for the large boxes (up to 127 px) where slices would cost O(r).
    The running sums along the rows are made once, for the largest radius: the zeros ahead of
    a row add nothing, so every smaller radius' sums are among them, the same numbers."""
    width = x.shape[-1]
    most = max(radii)
    rows = F.pad(x, (most + 1, most)).cumsum(-1)
    means = []
    for r in radii:
        k, start = 2 * r + 1, most - r
        c = rows[..., start + k : start + k + width] - rows[..., start : start + width]
        c = F.pad(c, (0, 0, r + 1, r)).cumsum(-2)
        means.append((c[..., k:, :] - c[..., :-k, :]) / (k * k))
    return means


def dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """A bool `mask` (B,C,H,W) dilated by a (2r+1)² square: `window_sums` that OR, over the
    mask padded with False, O(log r) passes of bytes. Running sums of 0/1 floats, each axis
    through a transpose, cost six times as much: at 1080p the gate of the guided upsampling
    spent 20 ms a frame in them. On a GPU, two max poolings (rows, then columns) of the mask
    as 0/1 floats: four kernels, where the ORs are two to four a doubling."""
    k, anyof = 2 * radius + 1, torch.bitwise_or
    if launch_bound(mask):
        rows = F.max_pool2d(mask.float(), (1, k), 1, (0, radius))
        return F.max_pool2d(rows, (k, 1), 1, (radius, 0)) > 0
    padded = F.pad(mask, (radius,) * 4)
    return window_sums(window_sums(padded, k, -1, anyof), k, -2, anyof)


def sampled_at(
    image: torch.Tensor, grid: torch.Tensor, padding_mode: str = "zeros"
) -> torch.Tensor:
    """grid_sample (bilinear, align_corners=False) of one image (1,C,h,w) at the points `grid`
    (1,1,n,2): (C,n). On the CPU grid_sample splits only a batch among threads, so the points
    are split into a batch of as many parts as there are threads over the image expanded
    (not copied): one image's points otherwise ran on one thread."""
    n = grid.shape[2]
    parts = 1 if launch_bound(image) else min(torch.get_num_threads(), n)
    if parts <= 1:
        return F.grid_sample(image, grid, padding_mode=padding_mode, align_corners=False)[0, :, 0]
    grid = F.pad(grid, (0, 0, 0, -n % parts)).view(parts, 1, -1, 2)  # whole parts
    sampled = F.grid_sample(
        image.expand(parts, -1, -1, -1), grid, padding_mode=padding_mode, align_corners=False
    )
    return sampled[:, :, 0].transpose(0, 1).flatten(1)[:, :n]


def flat_nonzero(mask: torch.Tensor) -> torch.Tensor:
    """The flat (row-major) indices of `mask`'s True entries, ascending, int64 (n,). On the
    CPU by numpy: torch.nonzero counts before it fills, four times as long (5.6 ms at a
    1080p band's box on one thread)."""
    if launch_bound(mask):
        return torch.nonzero(mask.flatten()).flatten()
    return torch.from_numpy(np.flatnonzero(mask.numpy()))
