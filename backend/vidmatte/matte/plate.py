"""A clean background plate for the current frame, from other frames where the object has moved
away: the video's own answer to "what colour is behind this pixel?", which one frame alone
can only guess from neighbouring background (refine.py's colour samples).

A ring holds the last few frames fed, with their alpha. A job feeds it each frame a few
frames before matting it (`feed`, with SAM2's mask for alpha, replaced by the final alpha once
matted, `add`): the frames after the current one show what its object covers now and moves off
next, which the frames before never saw (a clip's first frames have none). Where the frames
already matted agree on a pixel their median has the say; the frames fed ahead fill in where
they do not (a tracking mask misses strands, which a final alpha holds). Each frame is
registered once, as it is fed, so looking ahead adds few operations a frame (on the training
sets: W/tune 3.56 -> 3.31 MAD, W/holdout_fur 20.50 -> 20.12;
docs/MATTING.md "The plate looks ahead").

Each stored frame is registered to the current frame by an affine map (camera motion between
nearby frames; the background is assumed far or flat): Gauss-Newton (Lucas-Kanade) on
brightness, coarse to fine, ignoring the object in both frames, with Huber weights against
what the map cannot explain. Perspective terms are left out: with the object hiding part of a
small frame they were weakly held (0.5-2 px off at the corners in the tests, against
0.01-0.1 px for affine). Each frame goes through the whole pyramid once, as it is fed,
registered to the one fed before it; the current frame's map to every other stored frame is
then the chain of those maps, and two steps at the finest level refine it. Each frame's own
registration starts from the last frame's motion, so it takes few steps. Each
frame's pixels that were background (alpha <= lo, `margin` pixels from the object) are warped
to the current frame, and their per-pixel median is the plate. `known` marks where it can be
trusted: enough frames saw background there, they agree with each other, and the current
frame's own sure background nearby agrees with the plate (a moving background or a failed
registration shows there first). Everything runs in torch on the compute device, float32, in
memory fixed at construction. The settings' defaults come from the synthetic clips of
backend/tests/matte/test_plate.py, not from validation clips.

Where no frame saw behind the object, the plate also gives the views whose object covered the
same place, warped by the background's motion and by the object's own, found from the
silhouettes (`covered`): through clear glass the first match the frame, on an opaque object
the second (refine.py's `moved_through`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import torch
import torch.nn.functional as F

from .filters import box_mean, dilate, flat_nonzero, launch_bound, sampled_at

# Rec. 601 luma: registration runs on brightness only.
_LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class PlateSettings:
    """The plate's settings, chosen on training-side sets only (docs/MATTING.md, "The sweeps
    behind `PlateSettings`", has every sweep and its figures).

    frames          how many frames the ring holds (memory: about 5 floats a pixel of the
                    working size each, on the device).
    upcoming        how many of them a job feeds ahead of the frame it mattes (`feed`), with
                    SAM2's masks (`Matter.plate_ahead`): the frames after the current one
                    show what its object covers now and will have moved off.
    iterations      Gauss-Newton steps per pyramid level, coarsest first; each level is half
                    the size of the next, the finest the working size halved `finest` times;
                    levels whose short side would be under `min_level` pixels are skipped.
                    They register each frame fed to the one fed before it, starting from the
                    motion between the two fed before (a camera keeps moving as it moved), so
                    the coarse levels have little left to find; the finest level's steps are
                    the ones that hold the chain.
    refine          steps at the finest level for every stored frame, from its chain of such
                    frame-to-frame maps (which drift a little with each link).
    lo              alpha at or below which a pixel is background.
    margin          pixels of the object grown by this much are never background (soft edges,
                    shadows, an alpha that misses a strand).
    huber           the smallest Huber scale (brightness, 0-1): past twice the mean residual, or
                    this, a pixel's registration weight falls.
    damping         Levenberg-Marquardt damping of each step.
    max_cost        a registration whose mean brightness difference on the shared background
                    (truncated at 0.1) stays above this is not used for the plate,
    cost_ratio      nor one above this many times the best frame's plus 1/255 (a registration
                    that slipped by a texture period still matches in places).
    min_overlap     ... nor one that shares less than this fraction of the current background.
    min_views       frames that must have seen a pixel's background for it to be known.
    agree           the views' mean distance from their median (largest channel) at most this.
    trust           where known, the plate's value of `known` is (1 - that mean distance /
                    `agree`) ** trust, at least 0.01**trust: how far refine.py's colour samples
                    lean on it (`BestSettings.plate_sample_weight`). Views that agree only
                    roughly (a background drifting by itself, noise) count for less.
    agree_current   the current frame's sure background may differ from the plate by at most
                    this; where it differs more, the plate is not known within `check_radius`.
    views           most stored frames a plate is made from (0: all): where more are stored,
                    those farthest from the current frame in time (`BackgroundPlate._views`),
                    where the object has moved farthest off what it covers now; the nearest
                    add little (the object still covers much the same background there, and
                    strands its alpha missed sit at much the same place, which a median of
                    many near views takes for background).
    """

    frames: int = 24
    upcoming: int = 12
    iterations: tuple[int, ...] = (2, 2, 3, 4)
    finest: int = 1
    min_level: int = 12
    refine: int = 2
    lo: float = 0.001
    margin: int = 3
    huber: float = 0.02
    damping: float = 1e-3
    max_cost: float = 0.04
    cost_ratio: float = 2.0
    min_overlap: float = 0.1
    min_views: int = 2
    agree: float = 0.03
    trust: float = 10.0
    agree_current: float = 0.06
    check_radius: int = 4
    views: int = 8


def luma(rgb: torch.Tensor) -> torch.Tensor:
    """(B,3,h,w) -> (B,1,h,w)."""
    weights = torch.tensor(_LUMA, device=rgb.device, dtype=rgb.dtype).view(1, 3, 1, 1)
    return (rgb * weights).sum(1, keepdim=True)


def centroid(masks: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """The centroids (B,3), homogeneous normalised coordinates, of masks (B,h,w) whose pixels
    `grid` (`pixel_grid`, (hw,3)) lists."""
    flat = masks.flatten(1)
    return (flat @ grid) / flat.sum(1, keepdim=True).clamp_min(1e-6)


def object_mask(alpha: torch.Tensor, lo: float, margin: int) -> torch.Tensor:
    """1 where the object is (alpha > lo) grown by `margin` pixels, else 0 (float, like alpha)."""
    return dilate(alpha > lo, margin).float()


def level_sizes(size: tuple[int, int], levels: int) -> list[tuple[int, int]]:
    """Pyramid sizes, coarsest first, the finest `size`."""
    sizes = [size]
    for _ in range(levels - 1):
        sizes.append((max(1, -(-sizes[-1][0] // 2)), max(1, -(-sizes[-1][1] // 2))))
    return sizes[::-1]


def pyramid(image: torch.Tensor, sizes: list[tuple[int, int]]) -> list[torch.Tensor]:
    """`image` (B,C,h,w) at each size (antialiased bilinear: pixel centres keep their place in
    normalised coordinates, so one homography serves every level)."""
    return [
        image
        if tuple(image.shape[-2:]) == s
        else F.interpolate(image, size=s, mode="bilinear", align_corners=False, antialias=True)
        for s in sizes
    ]


@lru_cache(maxsize=32)  # a plate asks for the same few sizes every frame: ten operations each
def pixel_grid(size: tuple[int, int], device: torch.device, step: int = 1) -> torch.Tensor:
    """Homogeneous normalised coordinates (grid_sample's, align_corners=False) of every pixel
    centre of an image of `size`, or of every `step`-th in each direction from the first,
    row by row: (rows*columns, 3). Shared between callers: never written to."""
    h, w = size
    ys = (torch.arange(0, h, step, device=device, dtype=torch.float32) * 2 + 1) / h - 1
    xs = (torch.arange(0, w, step, device=device, dtype=torch.float32) * 2 + 1) / w - 1
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([x.flatten(), y.flatten(), torch.ones_like(x).flatten()], 1)


@lru_cache(maxsize=8)
def sorting_network(k: int) -> tuple[tuple[int, int], ...]:
    """Batcher's odd-even merge sort of `k` entries as compare-exchange pairs (i, j), i < j,
    for the next power of two with the entries past `k` taken as +inf (never swapped): 19
    pairs for 8."""
    size = 1 << max(0, k - 1).bit_length()
    pairs: list[tuple[int, int]] = []

    def merge(start: int, n: int, step: int) -> None:
        if 2 * step < n:
            merge(start, n, 2 * step)
            merge(start + step, n, 2 * step)
            pairs.extend((i, i + step) for i in range(start + step, start + n - step, 2 * step))
        else:
            pairs.append((start, start + step))

    def sort(start: int, n: int) -> None:
        if n > 1:
            sort(start, n // 2)
            sort(start + n // 2, n // 2)
            merge(start, n, 1)

    sort(0, size)
    return tuple((i, j) for i, j in pairs if j < k)


def nanmedian(values: torch.Tensor, seen: torch.Tensor) -> torch.Tensor:
    """`masked_median` in one operation: torch's nanmedian, 0 where none is seen."""
    return values.masked_fill(~seen, torch.nan).nanmedian(0).values.nan_to_num(0.0)


def masked_median(values: torch.Tensor, seen: torch.Tensor) -> torch.Tensor:
    """Per column, the lower median of `values` (K,C,n) over the K entries `seen` (bool
    (K,1,n)), as torch's nanmedian gives it; 0 where none is seen. (C,n). On the CPU by a
    sorting network of elementwise minima and maxima: for a plate's 8 views four times
    faster than nanmedian's sort of each column. A GPU launches one kernel instead."""
    if launch_bound(values):
        return nanmedian(values, seen)
    rows = list(values.masked_fill(~seen, torch.inf).unbind(0))
    for i, j in sorting_network(len(rows)):
        rows[i], rows[j] = torch.minimum(rows[i], rows[j]), torch.maximum(rows[i], rows[j])
    count = seen.sum(0)  # (1,n)
    middle = ((count - 1).clamp_min(0) // 2).expand(values.shape[1], -1)
    return torch.where(count > 0, torch.stack(rows).gather(0, middle[None])[0], 0.0)


def warp(
    image: torch.Tensor,
    affine: torch.Tensor,
    points: torch.Tensor,
    ids: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`image` (K,C,h,w), or with `ids` (K,) those frames of a stack `image` (S,C,h,w),
    sampled bilinearly at affine (K,3,3) x points (N,3): (K,C,N), and where all four pixels
    of a sample lie inside the image, bool (K,1,N). The maps are the registration's, whose
    last row stays (0, 0, 1): no projective division."""
    xy = torch.einsum("nj,kij->kni", points, affine[:, :2])[:, None]  # (K,1,N,2)
    h, w = image.shape[-2:]
    # The outermost pixel centres, give or take rounding (a thousandth of a pixel). Each
    # coordinate against its own number: a comparison broadcast along the pairs' axis of 2
    # took three times as long on the CPU.
    distance = xy[:, 0].abs()  # (K,N,2)
    inside = (distance[..., 0] <= 1 - 0.999 / w) & (distance[..., 1] <= 1 - 0.999 / h)
    if ids is not None and launch_bound(image):  # one kernel
        image, ids = image[ids], None
    if ids is None:
        return _sampled(image, xy)[:, :, 0], inside[:, None]
    # Each frame sampled where it lies in the stack: copying a plate's 8 frames out of its 24
    # took the CPU longer than sampling them.
    parts = [
        sampled_at(image[i : i + 1], xy[k : k + 1], "border") for k, i in enumerate(ids.tolist())
    ]
    return torch.stack(parts), inside[:, None]


def _sampled(image: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """grid_sample, bilinear, with border padding: no false edge where a sample leaves the
    image (where it does, `warp` says)."""
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)


# Gauss-Newton's equations come from every other pixel each way on levels whose short side is
# at least this: a quarter of the pixels fits a homography as well, for a quarter of a step's
# products. At the working size only the finest level has it, where the plate's two steps a
# view a frame run (their time 69 -> 36 ms a 1080p frame on one CPU thread; MAD with the
# plate, before -> after: fur24 20.2053 -> 20.2093, tune24 2.81186 -> 2.81167, glass24
# 114.967 -> 114.974, holdout_h264 6.41815 -> 6.41619). 64, the next level too: fur24 20.2515.
SPARSE_LEVEL = 128


def register(
    stored: list[torch.Tensor],
    current: list[torch.Tensor],
    homography: torch.Tensor,
    iterations: tuple[int, ...],
    huber: float,
    damping: float,
) -> torch.Tensor:
    """Homographies (K,3,3) from the current frame's normalised coordinates to each stored
    frame's, refined from `homography` by forward-compositional Gauss-Newton (Lucas-Kanade) on
    brightness pyramids, coarsest first: per level stored (K,2,h,w) and current (1,2,h,w),
    brightness and background (1 where the pixel may be used), over the background both share,
    with Huber weights against what a homography cannot explain.

    A step is written in as few torch operations as it takes (about 45): on a GPU each is a
    kernel launch costing more than its arithmetic, and the steps were most of the plate's,
    and of `best`'s, time there (bench/gpu.sh)."""
    eye = torch.eye(3, device=homography.device, dtype=homography.dtype)
    # Levenberg-Marquardt: the normal matrix's diagonal scaled by 1 + damping, plus 1e-9.
    lm_scale = 1 + damping * torch.eye(6, device=homography.device)
    lm_shift = 1e-9 * torch.eye(6, device=homography.device)
    for level, steps in enumerate(iterations):
        if steps == 0:
            continue
        image, (template, weight) = stored[level], current[level][0]
        size = tuple(template.shape[-2:])
        points = pixel_grid(size, template.device)
        # The equations from every `every`-th pixel each way; the brightness is still
        # sampled at every pixel, for the central differences.
        every = 2 if min(size) >= SPARSE_LEVEL else 1
        template, weight = (x[::every, ::every].flatten() for x in (template, weight))
        # Jacobian rows over the pixels: the brightness gradient along x (then y) times
        # (x, y, 1), the halved central difference and pixels per normalised unit folded in.
        # Pixels run along the last axis: joining maps along it interleaved every pixel's
        # 6 or 7 values one by one (on the CPU those two joins were most of a step's time).
        fitted = pixel_grid(size, template.device, every)  # where the equations come from
        along_x = (fitted * (size[1] / 4)).T.contiguous()  # (3,N)
        along_y = (fitted * (size[0] / 4)).T.contiguous()
        for _ in range(steps):
            sampled, inside = warp(image, homography, points)  # (K,2,hw), (K,1,hw)
            sampled = sampled.unflatten(-1, size)
            residual = sampled[:, 0, ::every, ::every].flatten(1) - template  # (K,N)
            p = F.pad(sampled[:, :1], (1, 1, 1, 1), mode="replicate")  # twice the gradient:
            dx = (p[..., 1:-1:every, 2::every] - p[..., 1:-1:every, :-2:every]).flatten(1)
            dy = (p[..., 2::every, 1:-1:every] - p[..., :-2:every, 1:-1:every]).flatten(1)
            jac = torch.cat([dx[:, None] * along_x, dy[:, None] * along_y], 1)  # (K,6,N)
            # Central differences need both neighbours inside too: a 3x3 mean of 0/1 is 0
            # only where all nine are (max pooling's answer, without its indices).
            outside = (~inside).float().unflatten(-1, size)
            clear = F.avg_pool2d(outside, 3, every, 1).flatten(1) == 0
            valid = sampled[:, 1, ::every, ::every].flatten(1) * clear * weight  # (K,N)
            # Huber weights whose scale follows the typical residual: while the frames are
            # far apart every textured pixel differs a lot, and a fixed scale would silence
            # the very pixels that carry the motion.
            magnitude = residual.abs()
            spread = (valid * magnitude).sum(1, keepdim=True) / valid.sum(1, keepdim=True)
            scale = (2 * spread).clamp_min(huber)
            w = valid * scale / magnitude.clamp_min(scale)
            # The normal matrix and the gradient in one product: (K,6,7).
            rows = torch.cat([jac, residual[:, None]], 1)  # (K,7,N)
            normal = (jac * w[:, None]) @ rows.transpose(1, 2)
            lm = normal[..., :6] * lm_scale + lm_shift
            delta, info = torch.linalg.solve_ex(lm, -normal[..., 6])
            delta = torch.where((info == 0)[:, None] & delta.isfinite(), delta, 0.0)
            homography = homography @ (F.pad(delta, (0, 3)).view(-1, 3, 3) + eye)
    return homography


# Every how many pixels, in each direction, `registration_cost` compares the frames: a
# mean over a quarter of them tells good maps from bad as well (the choice among a fit, its
# start and identity), for a quarter of the warping.
COST_STEP = 2


def registration_cost(
    stored: torch.Tensor, current: torch.Tensor, homography: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per stored frame (K,2,h,w: brightness, background; current (1,2,h,w)): the mean
    brightness difference (truncated at 0.1) over the background both share, and that share
    of the current frame's background, on every `COST_STEP`-th pixel. (K,), (K,)."""
    size, step = tuple(current.shape[-2:]), COST_STEP
    template, weight = current[0, :, ::step, ::step].flatten(1)
    sampled, inside = warp(stored, homography, pixel_grid(size, current.device, step))
    valid = inside[:, 0] * (sampled[:, 1] > 0.999) * weight
    shared = valid.sum(1)
    diff = (sampled[:, 0] - template).abs().clamp_max(0.1)
    cost = (diff * valid).sum(1) / shared.clamp_min(1)
    overlap = shared / weight.sum().clamp_min(1)
    return torch.where(cost.isfinite() & (shared > 0), cost, torch.inf), overlap


def candidate_costs(
    stored: torch.Tensor, current: torch.Tensor, candidates: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """`registration_cost` of C candidate maps (C,K,3,3) for each stored frame, in one pass
    (its operations once, not C times: on a GPU each is a launch): (C,K), (C,K)."""
    c, k = candidates.shape[:2]
    # The frames expanded, not repeated: on the CPU half the time, the same values.
    stored = stored.expand(c, *stored.shape).flatten(0, 1)
    cost, overlap = registration_cost(stored, current, candidates.flatten(0, 1))
    return cost.view(c, k), overlap.view(c, k)


class Covered(NamedTuple):
    """What the other frames show at the current frame's pixels where their object covered
    them too (`BackgroundPlate.covered`): the median colour of those views registered by the
    background's motion (`background`) and by the object's own (`object`), (3,h,w) each, and
    where each median is of at least `PlateSettings.min_views` views, as the plate's own
    must be (`background_known`, `object_known`, bool (1,h,w)). Through
    clear glass a pixel keeps the background's colour as the object moves over it; an opaque
    object's colour moves with the object."""

    background: torch.Tensor
    object: torch.Tensor
    background_known: torch.Tensor
    object_known: torch.Tensor


# The object's own motion is found from its silhouette, not its colours (through clear glass
# they are the background's): the masks shrunk to the pyramid's levels and softened there by
# a box of this radius, so that Lucas-Kanade has a slope to follow, with these steps per
# level, coarsest first (from a start that already has the object's shift:
# `BackgroundPlate._object_maps`); only the levels with steps are made.
SILHOUETTE_SOFTEN = 1
SILHOUETTE_STEPS = (0, 2, 2, 0)


class BackgroundPlate:
    """A ring of frames with their alpha, and the background plate they give the current one.

    plate = BackgroundPlate((h, w), device)
    each frame, in order, a few frames before it is matted:
                     plate.feed(rgb, tracking_alpha)
    each frame fed, in the same order:
                     background, known = plate.plate(rgb, head_alpha, region=unsure_band)
                     ...                                            # refine with them
                     plate.add(rgb, final_alpha)
    plate.clear()                                                   # a cut, a new pass

    rgb (3,h,w) in [0,1] and alpha (1,h,w) at the matting working size. `homography[i]` maps
    the newest stored frame's normalised coordinates to slot i's; `registered[i]` the last
    plate's frame to slot i's (what that plate used).
    """

    def __init__(
        self,
        size: tuple[int, int],
        device: str | torch.device = "cpu",
        settings: PlateSettings = PlateSettings(),
    ) -> None:
        if settings.frames < 1 or not settings.iterations:
            raise ValueError("a plate needs at least one frame and one pyramid level")
        self.size = (int(size[0]), int(size[1]))
        self.device = torch.device(device)
        self.settings = settings
        levels = len(settings.iterations)
        sizes = level_sizes(self.size, levels + settings.finest)[:levels]
        keep = [i for i, s in enumerate(sizes) if min(s) >= settings.min_level] or [levels - 1]
        self.sizes = [sizes[i] for i in keep]
        self.iterations = tuple(settings.iterations[i] for i in keep)
        k, (h, w) = settings.frames, self.size
        new = lambda *shape: torch.zeros(shape, device=self.device)  # noqa: E731
        self.rgb = new(k, 3, h, w)
        self.background = new(k, 1, h, w)  # 1 where the frame saw background
        self.levels = [new(k, 2, *s) for s in self.sizes]  # luma, background per level
        # Maps (normalised coordinates) from the newest stored frame to each stored frame,
        # and from the last plate's frame to each (what that plate used).
        self.homography = torch.eye(3, device=self.device).repeat(k, 1, 1)
        self.registered = self.homography.clone()
        self.filled = torch.zeros(k, dtype=torch.bool, device=self.device)
        self.next = 0
        self.pending: deque[int] = deque()  # slots fed (`feed`) and not yet matted, in order
        self.motion = torch.eye(3, device=self.device)[None]  # the last frame-to-frame map
        # The last plate's frame (slot), views, their maps and which were usable (`covered`).
        self.last: tuple[int, torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    def __len__(self) -> int:
        return int(self.filled.sum())

    @property
    def nbytes(self) -> int:
        """Device memory the ring holds (fixed at construction)."""
        tensors = [self.rgb, self.background, self.homography, self.registered, self.filled]
        tensors += self.levels
        return sum(t.numel() * t.element_size() for t in tensors)

    def clear(self) -> None:
        """Forget every frame (a cut, a new pass)."""
        self.filled.zero_()
        self.next = 0
        self.pending.clear()
        self.motion = torch.eye(3, device=self.device)[None]
        self.last = None

    def _check(self, name: str, x: torch.Tensor, channels: int) -> torch.Tensor:
        if tuple(x.shape) != (channels, *self.size):
            raise ValueError(
                f"{name} must be ({channels}, {self.size[0]}, {self.size[1]}), not {tuple(x.shape)}"
            )
        return x.to(self.device, torch.float32)[None]

    def _background(self, alpha: torch.Tensor) -> torch.Tensor:
        return 1 - object_mask(alpha, self.settings.lo, self.settings.margin)

    def _levels(self, rgb: torch.Tensor, background: torch.Tensor) -> list[torch.Tensor]:
        """Registration pyramid of a frame (1,3,h,w) with its background (1,1,h,w): per level
        (1,2,h',w'), brightness and `_seen`."""
        return [
            torch.cat([lum, seen], 1)
            for lum, seen in zip(
                pyramid(luma(rgb), self.sizes), self._seen(background), strict=True
            )
        ]

    def _seen(self, background: torch.Tensor) -> list[torch.Tensor]:
        """Per pyramid level, 1.0 where every full-size pixel under it is `background`
        (1,1,h,w), else 0.0."""
        return [(seen > 0.999).float() for seen in pyramid(background, self.sizes)]

    def _stored_with(self, slot: int, background: torch.Tensor) -> list[torch.Tensor]:
        """`_levels` of the stored frame `slot` with another background (1,1,h,w): its
        brightness pyramid as stored, not made again."""
        return [
            torch.cat([level[slot : slot + 1, :1], seen], 1)
            for level, seen in zip(self.levels, self._seen(background), strict=True)
        ]

    def _to_newest(self, current: list[torch.Tensor]) -> torch.Tensor:
        """(1,3,3) map from `current`'s coordinates to the newest stored frame's, or identity
        where the fit explains their shared background worse than identity does."""
        s, newest = self.settings, (self.next - 1) % self.settings.frames
        stored = [level[newest : newest + 1] for level in self.levels]
        identity = torch.eye(3, device=self.device)[None]
        # A camera keeps moving as it moved: start from the last frame's motion, which leaves
        # the coarse levels little to find (`PlateSettings.iterations`).
        found = register(stored, current, self.motion, self.iterations, s.huber, s.damping)
        costs = candidate_costs(stored[-1], current[-1], torch.stack([found, identity]))[0]
        self.motion = found if bool(costs[0, 0] <= costs[1, 0]) else identity
        return self.motion

    @torch.inference_mode()
    def add(self, rgb: torch.Tensor, alpha: torch.Tensor) -> None:
        """Give the frame fed first and not yet matted, rgb (3,h,w), its final alpha (1,h,w),
        which replaces the tracking mask it was fed with: it is matted."""
        rgb, alpha = self._check("rgb", rgb, 3), self._check("alpha", alpha, 1)
        self._settle(self._current(rgb), alpha)
        self.pending.popleft()

    @torch.inference_mode()
    def feed(self, rgb: torch.Tensor, alpha: torch.Tensor) -> None:
        """Store a frame (3,h,w) ahead of its matting, with its tracking's alpha (1,h,w), in
        the oldest slot: the frames after the current one show what its object covers now
        and will have moved off. Frames are fed in order; each is then matted in that order
        (`plate` for it, then `add` with its final alpha). At most `frames` may wait. Every
        stored frame keeps its map from the newest one, chained through a registration of
        this frame to the one fed before it, so a plate starts one frame's motion away from
        each."""
        rgb, alpha = self._check("rgb", rgb, 3), self._check("alpha", alpha, 1)
        if len(self.pending) >= self.settings.frames:
            raise ValueError(
                f"a plate of {self.settings.frames} frames holds no more unmatted ones"
            )
        background = self._background(alpha)
        levels = self._levels(rgb, background)
        if len(self):
            chain = self._to_newest(levels)
            self.homography[self.filled] = self.homography[self.filled] @ chain
        i = self.next
        self.rgb[i] = rgb[0]
        self.background[i] = background[0]
        for level, new in zip(self.levels, levels, strict=True):
            level[i] = new[0]
        self.homography[i] = torch.eye(3, device=self.device)
        self.filled[i] = True
        self.next = (i + 1) % self.settings.frames
        self.pending.append(i)

    def _current(self, rgb: torch.Tensor) -> int:
        """The slot of the frame fed first and not yet matted, which `rgb` (1,3,h,w) must be."""
        if not self.pending:
            raise ValueError("a frame is fed to the plate (`feed`) before it is matted")
        slot = self.pending[0]
        if not torch.equal(rgb[0], self.rgb[slot]):
            raise ValueError("frames fed to a plate must be matted in the order they were fed")
        return slot

    def _settle(self, slot: int, alpha: torch.Tensor) -> None:
        """A fed frame's background from its final alpha (1,1,h,w), not its tracking's: the
        tracking mask is coarse, and a strand it missed is not background."""
        background = self._background(alpha)
        self.background[slot] = background[0]
        for level, seen in zip(self.levels, self._seen(background), strict=True):
            level[slot, 1] = seen[0, 0]

    @torch.inference_mode()
    def plate(
        self,
        rgb: torch.Tensor,
        alpha: torch.Tensor | None = None,
        region: torch.Tensor | None = None,
        unchecked: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The background behind the current frame rgb (3,h,w), the frame fed first and not
        yet matted, from the other stored frames, and where it is known: ((3,h,w) in [0,1],
        (1,h,w) in [0,1]; 0 and 0 where no stored frame saw it; where known, above 0, the
        more so the closer its views agree: `PlateSettings.trust`). `alpha` (1,h,w), the current
        frame's (e.g. the head's), keeps the object out of the registration and lets its sure
        background check the plate. `region` (bool (1,h,w)): the pixels the caller needs (its
        unsure band, say); only they are computed, the rest is 0. `unchecked` (bool (1,h,w)):
        background of `alpha` that the check must not count on, where the caller looks for
        what `alpha` missed (strands near the object): there a frame that differs from the
        plate is the finding, not a plate gone wrong. Registration still uses all of
        `alpha`'s background."""
        s = self.settings
        rgb = self._check("rgb", rgb, 3)
        alpha = None if alpha is None else self._check("alpha", alpha, 1)
        current_bg = torch.ones_like(rgb[:, :1]) if alpha is None else self._background(alpha)
        if region is None:
            region = torch.ones(1, *self.size, dtype=torch.bool, device=self.device)
        region = self._mask("region", region)
        if unchecked is not None:
            unchecked = self._mask("unchecked", unchecked)
        # The current frame was fed: its map from the newest stored frame is known.
        slot = self._current(rgb)
        self.last = None
        others = self.filled.clone()
        others[slot] = False
        if not bool(others.any()) or not bool(region.any()):
            return torch.zeros_like(rgb[0]), torch.zeros_like(rgb[0, :1])
        to_newest = torch.linalg.inv(self.homography[slot : slot + 1])
        current = self._stored_with(slot, current_bg)
        ids = self._views(torch.nonzero(others).flatten(), slot)
        stored = [level[ids] for level in self.levels]
        # Each frame starts from its map from the newest one, after the current frame's to it.
        start = self.homography[ids] @ to_newest
        steps = (0,) * (len(self.iterations) - 1) + (s.refine,)
        found = register(stored, current, start, steps, s.huber, s.damping)
        # Keep whichever of the fit, its start and identity explains the shared background
        # best: a fit that diverged falls back.
        identity = torch.eye(3, device=self.device).expand_as(start)
        candidates = torch.stack([found, start, identity])
        costs, overlaps = candidate_costs(stored[-1], current[-1], candidates)
        best = costs.argmin(0)
        pick = torch.arange(len(ids), device=self.device)
        homography = candidates[best, pick]
        cost = costs[best, pick]
        usable = (cost <= s.max_cost) & (overlaps[best, pick] >= s.min_overlap)
        usable &= cost <= s.cost_ratio * cost.min() + 1 / 255
        self.registered[ids] = homography
        self.last = (slot, ids, homography, usable)
        return self._combine(rgb, alpha, region, ids, homography, usable, unchecked)

    @torch.inference_mode()
    def covered(
        self, rgb: torch.Tensor, alpha: torch.Tensor, region: torch.Tensor, moved: float
    ) -> Covered | None:
        """`Covered` for the current frame rgb (3,h,w) with its alpha (1,h,w), over `region`
        (bool (1,h,w); 0 elsewhere), from the views and maps of the `plate` just made for
        it: at each pixel, the views whose object covered it too and had moved at least
        `moved` pixels against the background there (where it had not, the view shows the
        same part of the object at the same place, glass or not). None where there is
        nothing to compare: no plate made for this frame, an empty region, or no view whose
        object's centroid moved that far (an object still against its background, or
        followed by the camera)."""
        rgb, alpha = self._check("rgb", rgb, 3), self._check("alpha", alpha, 1)
        slot, region = self._current(rgb), self._mask("region", region)
        if self.last is None or self.last[0] != slot or not bool(region.any()):
            return None
        _, ids, along_background, usable = self.last
        h, w = self.size
        pixels = torch.tensor([w / 2, h / 2], device=self.device)  # per normalised unit
        maps = self._object_maps(alpha, ids, along_background, usable, pixels, moved)
        if maps is None:
            return None
        shifted, along_object = maps
        index = flat_nonzero(region)
        points = pixel_grid(self.size, self.device)[index]
        # How far the object moved against the background at each pixel, by its shift
        # alone and by its fitted map, the lesser: a silhouette that looks the same
        # turned (a disc) leaves the fit free to turn it, and a turn about a point (a
        # swinging arm) moves the object far from that point only.
        apart = torch.stack([shifted, along_object]) - along_background
        apart = torch.einsum("nj,mkij->mkni", points, apart[..., :2, :])
        distance = (apart * pixels).norm(dim=-1).amin(0)  # (K,n)
        away = (distance >= moved)[:, None] & usable[:, None, None]
        out = Covered(
            *(torch.zeros(3, h * w, device=self.device) for _ in range(2)),
            *(torch.zeros(1, h * w, dtype=torch.bool, device=self.device) for _ in range(2)),
        )
        for i, warped_by in enumerate((along_background, along_object)):
            saw, inside = warp(self.background, warped_by, points, ids)
            seen = (saw < 0.001) & inside & away  # (K,1,n)
            colours = warp(self.rgb, warped_by, points, ids)[0]
            out[i][:, index] = masked_median(colours, seen)
            out[i + 2][:, index] = seen.sum(0) >= self.settings.min_views
        return Covered(*(x.view(-1, h, w) for x in out))

    def _object_maps(
        self,
        alpha: torch.Tensor,
        ids: torch.Tensor,
        start: torch.Tensor,
        usable: torch.Tensor,
        pixels: torch.Tensor,
        moved: float,
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Maps (K,3,3) from the current frame, whose alpha is (1,1,h,w), to the views `ids`
        that follow the object rather than the background: the background's maps `start`
        shifted to send the object's centroid to the view's, and those refined by
        Lucas-Kanade on the silhouettes (each frame's object as `_background` grows it), on
        the pyramid levels `SILHOUETTE_STEPS` runs steps on only. None where no `usable`
        view's shift reaches `moved` pixels (`pixels`: pixels per normalised unit along x
        and y): the silhouettes' fit is skipped then."""
        plan = [
            (size, n)
            for size, n in zip(self.sizes, SILHOUETTE_STEPS[-len(self.sizes) :], strict=True)
            if n
        ]
        sizes = [size for size, _ in plan] or [self.sizes[-1]]

        def levels(mask: torch.Tensor) -> list[torch.Tensor]:
            soft = [box_mean(m, SILHOUETTE_SOFTEN) for m in pyramid(mask, sizes)]
            return [torch.cat([m, torch.ones_like(m)], 1) for m in soft]

        views, current = levels(1 - self.background[ids]), levels(1 - self._background(alpha))
        # Started from the background's maps moved to send the object's centroid to the
        # view's, Lucas-Kanade has only the turn and the change of shape left to find.
        grid = pixel_grid(sizes[-1], self.device)
        here = centroid(current[-1][:, 0], grid)[0]  # (3,)
        there = centroid(views[-1][:, 0], grid)  # (K,3)
        shift = (there - torch.einsum("j,kij->ki", here, start))[:, :2]  # (K,2)
        if not bool(((shift * pixels).norm(dim=-1) >= moved)[usable].any()):
            return None
        shifted = start.clone()
        shifted[:, :2, 2] += shift
        if not plan:
            return shifted, shifted
        s = self.settings
        steps = tuple(n for _, n in plan)
        return shifted, register(views, current, shifted, steps, s.huber, s.damping)

    def _views(self, ids: torch.Tensor, slot: int) -> torch.Tensor:
        """The stored frames `ids` a plate for `slot` is made from: all, or where there are more
        than `PlateSettings.views`, that many of those farthest from it in time (at the same
        distance, the one behind it, matted, before the one ahead): the object has moved
        farthest off what it covers now there."""
        limit = self.settings.views
        if not limit or len(ids) <= limit:
            return ids
        distance = (ids - slot) % self.settings.frames  # in the ring: frames ahead come first
        ahead = distance < len(self.pending)  # pending: this frame, then those fed after it
        apart = torch.where(ahead, distance, self.settings.frames - distance)
        return ids[torch.argsort(2 * apart + (~ahead).long(), descending=True)[:limit]]

    def _mask(self, name: str, mask: torch.Tensor) -> torch.Tensor:
        """A (1,h,w) mask of the plate's size as bool on its device."""
        if tuple(mask.shape) != (1, *self.size):
            raise ValueError(
                f"{name} must be (1, {self.size[0]}, {self.size[1]}), not {tuple(mask.shape)}"
            )
        return mask.to(self.device, torch.bool)

    def _agreed(
        self, colours: torch.Tensor, seen: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The median (3,n) of the colours (K,3,n) where seen (K,1,n), where enough views
        agree on it (1,n), and their mean distance from it (1,n)."""
        s, views = self.settings, seen.sum(0)
        median = masked_median(colours, seen)
        spread = ((colours - median).abs().amax(1, keepdim=True) * seen).sum(0)
        known = (views >= s.min_views) & (spread <= s.agree * views)
        return median, known, spread / views.clamp_min(1)

    def _combine(
        self,
        rgb: torch.Tensor,
        alpha: torch.Tensor | None,
        region: torch.Tensor,
        ids: torch.Tensor,
        homography: torch.Tensor,
        usable: torch.Tensor,
        unchecked: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Median of the usable frames' warped background pixels over `region` and where it
        is known."""
        s = self.settings
        radius = s.check_radius if alpha is not None else 0
        # The current frame's background check reaches `radius` pixels past the region, where
        # it looks at sure background only: only that is warped there, not the object's inside
        # around the pixels `refine.seen_through` asks for.
        reach = dilate(region[None], radius)[0]
        if alpha is not None:
            sure_bg = alpha[0] <= s.lo
            reach &= region | sure_bg
        index = flat_nonzero(reach)
        points = pixel_grid(self.size, self.device)[index]
        # Where each view saw background first: colours are warped and compared only where
        # one did. Where the object moves with its background (a tracking shot, a pan over
        # a still scene) most of the region saw none, and costs little.
        saw, inside = warp(self.background, homography, points, ids)  # (K,1,n) each
        seen = (saw > 0.999) & inside & usable[:, None, None]
        some = flat_nonzero(seen.any(0)[0])
        index, points, seen = index[some], points[some], seen[..., some]
        colours = warp(self.rgb, homography, points, ids)[0]
        views = seen.sum(0)  # (1,n)
        median, known, apart = self._agreed(colours, seen)
        # Frames fed ahead and not yet matted saw the object through its tracking mask alone,
        # which misses strands: where the matted frames agree, they have the say.
        matted = [int(i) not in self.pending for i in ids.tolist()]
        if any(matted):
            matted_seen = seen & torch.tensor(matted, device=self.device)[:, None, None]
            median_matted, known_matted, apart_matted = self._agreed(colours, matted_seen)
            median = torch.where(known_matted, median_matted, median)
            apart = torch.where(known_matted, apart_matted, apart)
            known |= known_matted
        if alpha is not None:
            here = rgb[0].flatten(1)[:, index]
            differs = (median - here).abs().amax(0, keepdim=True) > s.agree_current
            checked = sure_bg.flatten(1)[:, index]
            if unchecked is not None:
                checked &= ~unchecked.flatten(1)[:, index]
            wrong = torch.zeros(
                1, self.size[0] * self.size[1], dtype=torch.bool, device=self.device
            )
            wrong[:, index] = checked & differs & (views > 0)
            wrong = dilate(wrong.view(1, 1, *self.size), radius)
            known &= ~wrong.flatten(1)[:, index]
        background = torch.zeros(3, self.size[0] * self.size[1], device=self.device)
        out_known = torch.zeros(1, self.size[0] * self.size[1], device=self.device)
        background[:, index] = median
        trust = (1 - apart / s.agree).clamp(0.01, 1) ** s.trust
        out_known[:, index] = known * trust
        background *= region.flatten(1)
        out_known *= region.flatten(1)
        return background.view(3, *self.size), out_known.view(1, *self.size)
