"""Edge refinements of the head's alpha (`Edges`), all in torch on the compute device.

Every refinement moves only the pixels the head is unsure of (lo < alpha < hi, `Gate`): where
the head is sure, the output is the head's alpha, upsampled, bit for bit. On fur and strands a
refinement that also moved sure pixels added error where the true alpha is exactly 0 or 1.
The exceptions are evidence of the object the head missed. "best" opens sure background
within a few pixels of the object whose colour the colour samples explain, closely, as a
blend holding some of the object (`opened_by_samples`): strands, from the frame alone. With a
background plate (plate.py) it also opens sure background farther out whose colour is not the
background seen there (`opened_by_plate`; the samples then look only where the frame is not
quite that background), and lowers the sure foreground deep inside the
object where the frame is that background seen through it (`seen_through`): clear glass; and
where no frame saw behind the object, where the frames its object covered after moving show
the same background there, not the same part of the object (`moved_through`).

fast  the guided filter (He & Sun, 2015) on the unsure pixels: re-sharpens the upsampled
      alpha along the frame's colour edges.
best  classical matting of the unsure pixels at working resolution, the sure ones as the
      trimap's known regions, then guided upsampling to the frame:
      1. colour sampling (`sampled_alpha`): per unsure pixel, candidate foreground and
         background colours from the sure regions at several distances (a masked image
         pyramid), also beside the pixel (`_samples_beside`), the pair that best explains
         its colour as a blend (`_search`), and the alpha that blend implies (the step
         shared matting did on the CPU);
      2. closed-form matting's energy (Levin et al., 2008; laplacian.py) makes alpha locally
         a linear function of the colour, pulled towards step 1 where its blend explains
         the colour closely and its colours are clear, and towards the head elsewhere
         (`best_edges`).
none  the head's alpha, upsampled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F

from .filters import (
    box_mean,
    dilate,
    enlarged,
    flat_nonzero,
    halved,
    launch_bound,
    padded_box_means,
    sampled_at,
)
from .head import boundary_band
from .laplacian import PAIRS, colour_dot, solve, symmetric_inverse
from .plate import Covered

Edges = Literal["best", "fast", "none"]
EDGES: tuple[Edges, ...] = ("best", "fast", "none")


def check_edges(edges: str) -> None:
    if edges not in EDGES:
        raise ValueError(f"edges must be one of {', '.join(EDGES)}, not {edges!r}")


def resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize with antialiasing when shrinking (NCHW)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if size[0] < x.shape[-2] or size[1] < x.shape[-1]:
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    return enlarged(x, size)


def guided_coefficients(
    guide_low: torch.Tensor, src_low: torch.Tensor, radius: int, eps: float
) -> torch.Tensor:
    """The colour-guided filter's per-pixel linear model of `src_low` (B,1,h,w) in terms of
    `guide_low` (B,3,h,w), box-averaged: (B,4,h,w), three colour weights and a bias."""
    mean_i = box_mean(guide_low, radius)
    mean_p = box_mean(src_low, radius)
    cov_ip = box_mean(guide_low * src_low, radius) - mean_i * mean_p
    # The guide's 3x3 covariance per pixel (its 6 distinct entries) plus eps.
    products = torch.cat([guide_low[:, i : i + 1] * guide_low[:, j : j + 1] for i, j in PAIRS], 1)
    var = box_mean(products, radius)
    inv = symmetric_inverse(
        [
            var[:, m : m + 1] - mean_i[:, i : i + 1] * mean_i[:, j : j + 1] + (eps if i == j else 0)
            for m, (i, j) in enumerate(PAIRS)
        ]
    )
    a = (inv * cov_ip[:, None]).sum(2)  # (B,3,h,w)
    bias = mean_p - (a * mean_i).sum(1, keepdim=True)
    return box_mean(torch.cat([a, bias], dim=1), radius)


def apply_guided(coeffs: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
    """The filter's output at `guide`'s (B,3,H,W) resolution: coefficients upsampled, applied."""
    coeffs = resize(coeffs, tuple(guide.shape[-2:]))
    return (coeffs[:, :3] * guide).sum(1, keepdim=True) + coeffs[:, 3:]


def upsampled_at(
    x: torch.Tensor, size: tuple[int, int], rows: torch.Tensor, cols: torch.Tensor
) -> torch.Tensor:
    """`resize(x, size)` of x (1,C,h,w), enlarging, at the pixels (rows, cols) of `size` only:
    (C,N). The same bilinear weights (align_corners=False, edges clamped), to float rounding.
    Bilinear is separable: x is first enlarged along its rows alone, densely (one pass), then
    each pixel blends the two rows it falls between: two gathers and one blend a pixel, not
    four and three (a 1080p band's 420k pixels: 24 -> 13 ms on one thread)."""
    wide = resize(x, (x.shape[-2], size[1]))[0].flatten(1)  # (C, h·W), gathered from below
    small, big = x.shape[-2], size[0]
    # Row r samples source row (r + ½)·small/big - ½, clamped at the top edge: counted in
    # whole numbers, 2·big times that, so its fraction is exact, as `enlarged`'s are (a float
    # product was off by up to 4e-5 of a row at 1080p).
    twice = ((2 * rows + 1) * small - big).clamp_min(0)
    first = twice // (2 * big)
    below = (first + 1).clamp_max(small - 1)
    # gather, not index_select: on the CPU a third less time, and split among threads
    at = lambda r: wide.gather(1, (r * size[1] + cols).expand(len(wide), -1))  # noqa: E731
    return torch.lerp(at(first), at(below), (twice - first * (2 * big)).float() / (2 * big))


def fast_guided_filter(
    guide_full: torch.Tensor,
    guide_low: torch.Tensor,
    src_low: torch.Tensor,
    radius: int = 2,
    eps: float = 1e-4,
) -> torch.Tensor:
    """Colour-guided filter of `src_low` (B,1,h,w) with coefficients fitted at low resolution
    against `guide_low` (B,3,h,w) and applied to `guide_full` (B,3,H,W). With equal sizes it is
    the plain guided filter (He et al., 2010)."""
    return apply_guided(guided_coefficients(guide_low, src_low, radius, eps), guide_full)


@dataclass(frozen=True)
class Gate:
    """Which of the head's pixels a refinement may change: those within `grow` pixels (at
    working resolution) of one it is unsure of, lo < alpha < hi."""

    lo: float = 0.001
    hi: float = 0.999
    grow: int = 2

    def unsure(self, alpha: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """The pixels of `alpha` (at `scale` x working resolution) a refinement may change."""
        return boundary_band(alpha, round(self.grow * scale), self.lo, self.hi)


def gated(
    refined: torch.Tensor,
    head: torch.Tensor,
    gate: Gate,
    scale: float = 1.0,
    opened: torch.Tensor | None = None,
) -> torch.Tensor:
    """`refined` where the gate opens (`Gate.unsure`, and `opened`, bool, where given),
    clamped to [0,1]; the head elsewhere."""
    changeable = gate.unsure(head, scale)
    if opened is not None:
        changeable = changeable | opened
    return torch.where(changeable, refined.clamp(0.0, 1.0), head)


def guided_finish(
    coeffs: torch.Tensor,
    frame: torch.Tensor,
    out: torch.Tensor,
    box: tuple[slice, slice],
    gate: Gate,
    scale: float,
    floor: torch.Tensor | None = None,
    opened: torch.Tensor | None = None,
) -> torch.Tensor:
    """The guided filter's output from `coeffs` (1,4,h,w) (`guided_coefficients`, fitted on
    the `box` (rows, columns of the frame) at working resolution) on the colours of `frame`
    (H,W,3) uint8, kept at or above `floor` (1,1,h,w) where given, on the pixels of the box
    where the gate lets the head's alpha `out` (1,1,H,W) change (`gated`; and `opened`, bool
    (1,1,h,w), where given), written into `out`, which is returned. Only those pixels are
    computed, at 1080p a fifth of the band's box at most: upsampling the coefficients to the
    whole box, applying them and gating the result was a seventh of the matting stage on the
    CPU. They are found and read by their flat index in the frame: indexing the box's
    strided views by rows and columns took three times as long."""
    rows, cols = box
    size = (rows.stop - rows.start, cols.stop - cols.start)
    changeable = gate.unsure(out[..., rows, cols], scale)
    if opened is not None:
        changeable |= resize(opened.float(), size) > 0
    layers = coeffs if floor is None else torch.cat([coeffs, floor], 1)
    inside = flat_nonzero(changeable)
    y, x = inside // size[1], inside % size[1]
    at = upsampled_at(layers, size, y, x)
    pixel = (y + rows.start) * frame.shape[1] + (x + cols.start)
    colour = frame.reshape(-1, 3).index_select(0, pixel).T.float() / 255
    value = (at[:3] * colour).sum(0) + at[3]
    if floor is not None:
        value = torch.maximum(value, at[4])
    out.view(-1).index_copy_(0, pixel, value.clamp(0.0, 1.0))
    return out


# Masked pyramid levels the colour samples come from: 2 to 32 working-resolution pixels.
_SAMPLE_LEVELS = 5


def _masked_pyramid(image: torch.Tensor, known: torch.Tensor) -> list[torch.Tensor]:
    """[rgb·known, known] averaged over 2^l squares, l = 1.._SAMPLE_LEVELS."""
    level = torch.cat([image * known, known], 1)
    out = []
    for _ in range(_SAMPLE_LEVELS):
        level = halved(level)
        out.append(level)
    return out


# Directions a level's colours are also sampled in, one of its squares away
# (`_samples_beside`): the four sides, and the four corners too.
SIDES = ((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0))
AROUND = (*SIDES, (1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0))
Directions = tuple[tuple[float, float], ...]


class Beside(NamedTuple):
    """Where colours are also sampled beside an unsure pixel (`_samples_beside`): at these
    pyramid levels (0: 2 px squares, 4: 32 px), one square away in these directions."""

    levels: tuple[int, ...]
    directions: Directions = SIDES


# BestSettings' defaults: the foreground's four sides at the three finest levels; the
# background's sides and corners at every level (each background candidate costs `_search`
# one pair, each foreground one six).
FG_BESIDE = Beside((0, 1, 2), SIDES)
BG_BESIDE = Beside((0, 1, 2, 3, 4), AROUND)


def _samples_at(pyramid: list[torch.Tensor], grid: torch.Tensor, out: torch.Tensor) -> None:
    """Candidate colours, written to `out` (levels, 3, n), at `grid` (1,1,n,2) points: each
    level's weighted mean colour of the known pixels near the point; a level with too few
    falls back to the next coarser one (the coarsest to the frame's mean known colour)."""
    top = pyramid[-1]
    total = top.sum((-2, -1))[0]
    fallback = (total[:3] / total[3:].clamp_min(1e-6))[:, None].expand(3, grid.shape[2])
    for level in reversed(range(len(pyramid))):
        sums = sampled_at(pyramid[level], grid)
        colour = sums[:3] / sums[3:].clamp_min(1e-6)
        fallback = torch.where(sums[3:] > 0.05, colour, fallback, out=out[level])


def _samples_beside(
    pyramid: list[torch.Tensor],
    grid: torch.Tensor,
    centred: torch.Tensor,
    beside: Beside,
    size: tuple[int, int],
    out: torch.Tensor,
) -> None:
    """More candidate colours, written to `out` (D·L, 3, n) for D directions and L levels of
    `beside` (at least one): at each level the mean colour of the known pixels one of its
    squares (2^(level+1) px) away in each direction from the `grid` (1,1,n,2) points in an
    image of `size` (h, w), or the level's `centred` candidate (`_samples_at`'s (levels,3,n))
    where too few are known there. A square centred on the point mixes whatever surrounds
    it; one beside it keeps a textured object's colours apart (shared matting's rays). One
    sampling call per level."""
    height, width = size
    # Each level's steps of a square, 2^(level+1) px, in normalised coordinates (which span 2
    # across the image): one upload for all.
    steps = torch.tensor(
        [
            [(x * 2 ** (lv + 2) / width, y * 2 ** (lv + 2) / height) for x, y in beside.directions]
            for lv in beside.levels
        ],
        device=grid.device,
    )
    d = len(beside.directions)
    for k, (level, step) in enumerate(zip(beside.levels, steps, strict=True)):
        # The directions as a batch of one call over the level expanded (not copied): on the
        # CPU grid_sample splits a batch among threads, one image's points not at all.
        points = grid + step[:, None, None]  # (D,1,n,2)
        image = pyramid[level].expand(d, -1, -1, -1)
        sums = F.grid_sample(image, points, align_corners=False)[:, :, 0]  # (D,4,n)
        colour = sums[:, :3] / sums[:, 3:].clamp_min(1e-6)
        found = out[k * d : (k + 1) * d]
        torch.where(sums[:, 3:] > 0.05, colour, centred[level], out=found)


def _candidates(
    image: torch.Tensor, known: torch.Tensor, grid: torch.Tensor, beside: Beside
) -> torch.Tensor:
    """Candidate colours (5 + D·L, 3, n) of the `known` pixels (1,1,h,w) of image for the
    `grid` (1,1,n,2) points: centred at five distances, and beside them in D directions at
    L levels (`beside`). Each written straight into its place: joining them cost 7% of the
    colour sampling's time on the CPU."""
    pyramid = _masked_pyramid(image, known)
    count = len(beside.levels) * len(beside.directions)
    out = image.new_empty(_SAMPLE_LEVELS + count, 3, grid.shape[2])
    centred, more = out[:_SAMPLE_LEVELS], out[_SAMPLE_LEVELS:]
    _samples_at(pyramid, grid, centred)
    if count:
        _samples_beside(pyramid, grid, centred, beside, tuple(image.shape[-2:]), more)
    return out


# A known background: the plate behind the frame (1,3,h,w) and where it is known (1,1,h,w):
# above 0 there, up to 1 as its views agree (plate.py's `PlateSettings.trust`).
Background = tuple[torch.Tensor, torch.Tensor]


class Samples(NamedTuple):
    """What `sampled_alpha` found at each unknown pixel, (1,1,h,w) each, zero elsewhere: the
    chosen pair's alpha, its distortion (robust matting's: how far its blend lies from the
    pixel's colour, relative to the contrast) and its contrast |F-B|²."""

    alpha: torch.Tensor
    distortion: torch.Tensor
    contrast: torch.Tensor

    def confidence(self, fit: float) -> torch.Tensor:
        """In [0,1]: high where the blend explains the colour (distortion well below `fit`)
        and F and B clearly differ, low where they look alike; 0 off the unknown pixels."""
        return torch.exp(-self.distortion / fit) * self.contrast / (self.contrast + 0.01)


def sampled_alpha(
    image: torch.Tensor,
    alpha: torch.Tensor,
    unknown: torch.Tensor,
    gate: Gate,
    background: Background | None = None,
    fg_beside: Beside = FG_BESIDE,
    bg_beside: Beside = BG_BESIDE,
) -> Samples:
    """Alpha from colour samples at the `unknown` pixels of image (1,3,h,w), with how well
    it explains them (`Samples`).

    Foreground colours come from the pixels the head is sure are foreground (>= gate.hi),
    background colours from those sure of background (<= gate.lo), at five distances each
    and beside the pixel (`fg_beside`, `bg_beside`: `_samples_beside`); of the pairs, the one
    whose blend a·F + (1-a)·B is nearest the pixel's colour relative to its contrast |F-B|
    (robust matting's distortion, Wang & Cohen 2007; `_search`) gives the alpha.
    Where `background` (matte/plate.py: seen in other frames) is known, it is the only
    background candidate: only F is chosen there."""
    out = Samples(*(torch.zeros_like(alpha) for _ in Samples._fields))
    sure_fg, sure_bg = (alpha >= gate.hi).float(), (alpha <= gate.lo).float()
    if not (bool(sure_fg.any()) and bool(sure_bg.any())):  # nothing to sample one side from
        return out
    # The unknown pixels by flat index, read with index_select: on the CPU up to two and a
    # half times faster than indexing by rows and columns.
    where = flat_nonzero(unknown)
    at = lambda x: x.flatten(-2)[0].index_select(1, where)  # noqa: E731  (1,C,h,w) -> (C,n)
    grid = _points(where, tuple(image.shape[-2:]))
    fg = _candidates(image, sure_fg, grid, fg_beside)
    colour = at(image)  # (3,n)
    if background is None:
        fit = _search(colour, fg, _candidates(image, sure_bg, grid, bg_beside))
    else:  # where the plate knows the background it is the only candidate: F is chosen
        plate, known = background
        fit = _best_pair(colour, fg, at(plate)[None])
        rest = flat_nonzero(at(known)[0] <= 0)
        if len(rest):
            bg = _candidates(image, sure_bg, grid.index_select(2, rest), bg_beside)
            # fg's pixels taken as rows of a matrix: index_select along the third axis of
            # (F,3,n) took three times as long on the CPU.
            fg_rest = fg.flatten(0, 1).index_select(1, rest).view(len(fg), 3, -1)
            found = _search(colour.index_select(1, rest), fg_rest, bg)
            for whole, part in zip(fit, found, strict=True):
                whole.index_copy_(0, rest, part)
    for whole, part in zip(out, fit[:3], strict=True):
        whole.view(-1).index_copy_(0, where, part)
    return out


def _points(where: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The centres of the pixels `where` (flat indices into an image of `size`) as
    grid_sample's points, (1,1,n,2)."""
    height, width = size
    ys, xs = where // width, where % width
    return torch.stack(
        [(xs.float() + 0.5) / width * 2 - 1, (ys.float() + 0.5) / height * 2 - 1], -1
    )[None, None]


class Fit(NamedTuple):
    """Per pixel, (n,) each: the chosen pair's alpha, its distortion and contrast |F-B|², and
    its index among the F·B pairs searched (F-major)."""

    alpha: torch.Tensor
    distortion: torch.Tensor
    contrast: torch.Tensor
    pair: torch.Tensor


# Pairs `_best_pair` scores at once on the CPU: its (F,B,n) temporaries then stay about 2 MB
# each and in the cache (GT04's ~50k unsure pixels at 1080p: scored 2.3x faster, the same
# values). A GPU scores every pixel at once.
_PAIRS_IN_CACHE = 2**19


def _best_pair(colour: torch.Tensor, fg: torch.Tensor, bg: torch.Tensor) -> Fit:
    """Of the foreground (F,3,n) and background (B,3,n) candidates, per pixel of colour (3,n)
    the pair whose blend explains it best (`sampled_alpha`), from every pair's fit."""
    n = colour.shape[1]
    step = n if launch_bound(colour) else max(1, _PAIRS_IN_CACHE // (len(fg) * len(bg)))
    if step >= n:
        return _pair_fits(colour, fg, bg)
    parts = [
        _pair_fits(colour[:, i : i + step], fg[..., i : i + step], bg[..., i : i + step])
        for i in range(0, n, step)
    ]
    return Fit(*(torch.cat(column) for column in zip(*parts, strict=True)))


def _pair_fits(colour: torch.Tensor, fg: torch.Tensor, bg: torch.Tensor) -> Fit:
    """`_best_pair` on one run of pixels."""
    # Dot products of the candidates, (F,B,n) each: the pairs' colour differences,
    # (F,B,3,n), would be three times the memory and the arithmetic. Written in place and
    # fused where torch can: every operation is a pass over (F,B,n), and at a 1080p frame's
    # ~50k unsure pixels the passes were most of the colour sampling's time.
    dot = lambda x, y: colour_dot(x, y, -2).squeeze(-2)  # noqa: E731
    f_b, b_b, c_b = dot(fg[:, None], bg[None]), dot(bg, bg), dot(colour, bg)  # F·B, B·B, I·B
    contrast = (dot(fg, fg)[:, None] + b_b).sub_(f_b, alpha=2)  # |F-B|²
    along = (dot(colour, fg)[:, None] + (b_b - c_b)).sub_(f_b)  # (I-B)·(F-B)
    a = (along / (contrast + 1e-4)).clamp_(0, 1)
    off = dot(colour, colour) - 2 * c_b + b_b  # |I-B|²
    # |I - (a·F + (1-a)·B)|² = |I-B|² - 2a (I-B)·(F-B) + a² |F-B|²
    half = torch.addcmul(along, a, contrast, value=-0.5)  # (I-B)·(F-B) - a |F-B|² / 2
    distortion = torch.addcmul(off, a, half, value=-2).clamp_min_(0).div_(contrast + 1e-3)
    # min's indices, not argmin: the same first minimum, several times faster on the CPU
    # along the first axis, with the values besides.
    least, best = distortion.flatten(0, 1).min(0)
    pick = lambda x: x.flatten(0, 1).gather(0, best[None])[0]  # noqa: E731
    return Fit(pick(a), least, pick(contrast), best)


def _search(colour: torch.Tensor, fg: torch.Tensor, bg: torch.Tensor) -> Fit:
    """`_best_pair` found in turns rather than among all F·B pairs: the foreground that best
    fits one of the centred backgrounds (`bg`'s first five), the background that best fits
    it, then the foreground that best fits that. With the defaults' 17 foreground and 45
    background candidates, 17·5 + 45 + 17 pairs instead of 17·45: a background candidate
    costs one pair, a foreground one six (BestSettings, "fg_beside, bg_beside")."""
    take = lambda x, i: x.gather(0, i[None, None].expand(1, 3, -1))  # noqa: E731
    f = take(fg, _best_pair(colour, fg, bg[:_SAMPLE_LEVELS]).pair // _SAMPLE_LEVELS)
    b = take(bg, _best_pair(colour, f, bg).pair)
    return _best_pair(colour, fg, b)


@dataclass(frozen=True)
class BestSettings:
    """The "best" edges' settings, each chosen on training-side sets only (the 18 alphamatting
    training images, as frames at the working size and as `ship build`'s moving clips: W/tune,
    W/holdout, W/holdout_fur, W/holdout_glass and their H.264 copies), never on the validation
    clips (GT04 GT08 GT13 GT24 GT27), which were only reported after. Every sweep, with its
    figures, is in docs/MATTING.md, "The sweeps behind `BestSettings`"."""

    gate: Gate = Gate()
    radius: int = 3  # Laplacian window radius
    eps: float = 1e-5  # Laplacian regularisation (pymatting's epsilon)
    iterations: int = 5  # conjugate-gradient steps, warm-started from the prior
    head_weight: float = 1e-3  # pull towards the head's alpha
    sample_weight: float = 3e-2  # pull towards the colour samples' alpha, x confidence
    max_drop: float = 0.2  # where the head is >= opaque, alpha falls at most this much
    opaque: float = 0.5
    trust_samples: float = 0.5  # colour-sample confidence above which the floor is lifted,
    trust_fit: float = 0.1  # ... that confidence's fit (`Samples.confidence`)
    sample_fit: float = 3e-3  # the fit of the confidence the samples' weight is scaled by,
    plate_fit: float = 3e-2  # ... and of that of their weight from the plate
    reach: int = 16  # with a plate: sure background this near the object may be opened ...
    differs: float = 0.05  # ... where the frame differs from the plate by more than this,
    noise: float = 3.0  # ... and than this many times the near background's median difference
    plate_sample_weight: float = 100.0  # sample_weight where the plate's trust is 1
    glass_radius: int = 8  # with a plate: the window the see-through fit is made over,
    glass_eps: float = 3e-4  # ... the background's texture (variance) it needs to trust it,
    # ... and the share of the colour's variance the fit must explain: none trusted below
    # the first, fully from the second
    glass_explained: tuple[float, float] = (0.5, 0.8)
    glass_spread: int = 96  # ... how far its sure pixels speak for the object around them,
    glass_sure: float = 0.7  # ... the trust that makes a fitted pixel sure,
    glass_spread_share: float = 0.02  # ... and the least (weighted) share fitted there
    # Glass from the object's motion (`moved_through`), where the plate never saw behind it:
    glass_moved: float = 8.0  # the views' object moved at least this far (working px),
    glass_anchored: float = 0.5  # ... the frame follows the background behind this well,
    glass_slope: tuple[float, float] = (0.6, 1.4)  # ... with a transmission ratio in here,
    glass_follows: float = 0.3  # ... and the object's own motion less well than this;
    glass_around: int = 16  # ... the share of such pixels within this many pixels,
    glass_local: float = 0.5  # ... that makes a pixel fully see-through,
    glass_object: tuple[float, float] = (0.1, 0.25)  # ... and over the whole object;
    glass_alpha: float = 0.3  # ... its alpha where the plate measured none (`measured_glass`)
    strand_reach: int = 8  # sure background this near the object (but what a plate settles)
    strand_alpha: float = 0.2  # ... is opened where the samples find this much object in it
    strand_confidence: float = 0.5  # ... with this confidence (at `sample_fit`),
    strand_differs: float = 0.03  # ... and unlike every background candidate by this much;
    # ... where the plate knows the background, only if as far from it as this share of the
    # plate's own bar for opening (`opening_threshold`)
    strand_known: float = 0.7
    fg_beside: Beside = FG_BESIDE  # where colours are also sampled beside the pixel
    bg_beside: Beside = BG_BESIDE


def near_object(alpha: torch.Tensor, reach: int, gate: Gate) -> torch.Tensor:
    """The pixels of `alpha` (1,1,h,w) the head calls sure background (<= gate.lo) but within
    `reach` pixels of the object (> gate.lo): where strands it missed would be. bool."""
    outside = alpha <= gate.lo
    return outside & dilate(~outside, reach)


def opened_by_plate(
    image: torch.Tensor, alpha: torch.Tensor, background: Background, settings: BestSettings
) -> tuple[torch.Tensor, torch.Tensor]:
    """The head's sure-background pixels near the object (`near_object`) whose colour differs
    from the known background behind them by more than `opening_threshold` (largest
    channel): something of the object is there that the head missed (hair, strands); and
    the pixels the plate settles as background, known and within `strand_known` of that bar
    of it, which the colour samples need not look at (`opened_by_samples`). bool (1,1,h,w)
    each."""
    plate, known = background
    differs = (image - plate).abs().amax(1, keepdim=True)
    near = near_object(alpha, settings.reach, settings.gate) & (known > 0)
    bar = opening_threshold(differs, near, settings)
    settled = (known > 0) & (differs <= settings.strand_known * bar)
    return near & (differs > bar), settled


def opened_by_samples(
    image: torch.Tensor,
    alpha: torch.Tensor,
    settled: torch.Tensor | None,
    settings: BestSettings,
) -> torch.Tensor:
    """The head's sure-background pixels within `strand_reach` of the object, but for those
    a plate settles as background (`settled`, bool (1,1,h,w), or None: `opened_by_plate`),
    whose colour the colour samples explain as a blend holding at least `strand_alpha` of
    the object, with at least `strand_confidence`, and which differ from every background
    candidate by more than `strand_differs`: strands the head missed, found from the frame
    (and where the plate knows the background, strands too faint for its own bar). bool
    (1,1,h,w)."""
    s = settings
    near = near_object(alpha, s.strand_reach, s.gate)
    if settled is not None:
        near &= ~settled
    # The candidates are left out of the sure background: each would be its own nearest
    # background colour, and explain itself as background whatever it holds.
    sure_fg, sure_bg = (alpha >= s.gate.hi).float(), ((alpha <= s.gate.lo) & ~near).float()
    if not bool(near.any() & sure_fg.any() & sure_bg.any()):  # one read-back on a GPU
        return torch.zeros_like(near)
    where = flat_nonzero(near)
    grid = _points(where, tuple(image.shape[-2:]))
    colour = image.flatten(-2)[0].index_select(1, where)  # (3,n)
    bg = _candidates(image, sure_bg, grid, s.bg_beside)
    fit = _search(colour, _candidates(image, sure_fg, grid, s.fg_beside), bg)
    # A background of the object's own colour beside it (a dark sleeve by a dark car)
    # blends with a far, brighter candidate as well as the object does: a colour that some
    # background candidate already is, is not evidence of the object.
    unlike = (bg - colour).abs().amax(1).amin(0) > s.strand_differs
    confidence = Samples(*fit[:3]).confidence(s.sample_fit)
    found = (fit.alpha >= s.strand_alpha) & (confidence >= s.strand_confidence) & unlike
    return torch.zeros_like(near).view(-1).index_copy_(0, where, found).view_as(near)


def opening_threshold(
    differs: torch.Tensor, near: torch.Tensor, settings: BestSettings
) -> torch.Tensor:
    """How far (largest channel) from the plate a pixel near the object must be for
    `opened_by_plate` to open it: `settings.differs`, or `settings.noise` times the median of
    `differs` over the `near` pixels where that is more. Most of those pixels are background,
    so their median is how far this frame is from its plate where nothing of the object is:
    a background drifting by itself, codec noise, a registration a little off. A still,
    clean background lets faint strands through; a noisy one raises the bar. A 0-dim tensor
    (no host sync)."""
    median = differs.masked_fill(~near, torch.nan).nanmedian().nan_to_num(0.0)
    return (settings.noise * median).clamp_min(settings.differs)


# How far inside the head's sure foreground the see-through fit takes its pixels: a sure
# pixel next to the unsure band may be background the head filled (a gap between hairs),
# which would look like glass that lets everything through.
GLASS_MARGIN = 6


def deep_inside(alpha: torch.Tensor, settings: BestSettings) -> torch.Tensor:
    """The head's sure foreground (>= gate.hi) farther than GLASS_MARGIN pixels from any
    pixel that is not: beyond the unsure band the solve works on, where `seen_through`
    looks. bool (1,1,h,w)."""
    return ~dilate(alpha < settings.gate.hi, GLASS_MARGIN)


def glass_pixels(alpha: torch.Tensor, settings: BestSettings) -> torch.Tensor:
    """The pixels `seen_through` fits, which it asks the plate for (`Matter.plate_query`):
    the deep inside, every other row and column. bool (1,1,h,w)."""
    pixels = torch.zeros_like(alpha, dtype=torch.bool)
    pixels[..., ::2, ::2] = deep_inside(alpha, settings)[..., ::2, ::2]
    return pixels


def seen_through(
    image: torch.Tensor, alpha: torch.Tensor, background: Background, settings: BestSettings
) -> tuple[torch.Tensor, torch.Tensor]:
    """Clear glass: deep inside the object (`deep_inside`), where the plate knows the
    background behind it, the frame is fitted as that background seen through the object,
    I = t·B + c per window (least squares over the window's known deep pixels; the
    transmission t one for the three channels, c = (1 - t)·F per channel). Returns the
    alpha such a blend has, 1 - t, and how far to trust it, (1,1,h,w) each: from 0 to 1 as
    the share of the frame's variance the fit explains rises through `glass_explained` (an
    opaque object's texture follows the background's only by chance, and loosely), times
    the background's variance against `glass_eps` (a flat background shows nothing
    through), over deep pixels whose window is at least half known, and carried from where
    the fit is sure to the object's pixels around (`_spread_glass`); 0 elsewhere.

    The fit runs on every other row and column (`glass_pixels`), with windows of half the
    radius, and is upsampled: glass changes slowly, a window still holds 81 pixels, and the
    plate and the window sums cost a quarter (on the CPU, 60 ms a 1080p frame in full)."""
    plate, known = background
    deep = deep_inside(alpha, settings)
    image, plate, weight = (x[..., ::2, ::2] for x in (image, plate, known * deep))
    fit = window_fit(image, plate, weight, settings)
    low, high = settings.glass_explained
    trust = ((fit.explained - low) / (high - low)).clamp(0, 1) * fit.textured
    transmission, share = fit.slope, fit.share
    fitted = share >= 0.5
    trust = torch.where(fitted & deep[..., ::2, ::2], trust, 0.0)
    fitted = fitted & (weight > 0.5)
    inside = alpha > settings.gate.lo  # all of the object the head sees, band included
    transmission, trust = _spread_glass(
        transmission.clamp(0, 1), trust, fitted, inside[..., ::2, ::2], settings
    )
    size = tuple(alpha.shape[-2:])
    glass = 1 - resize(transmission, size)
    return glass, torch.where(inside, resize(trust, size), 0.0)


class WindowFit(NamedTuple):
    """`window_fit`'s per-window least squares of a frame against a reference, I = t·R + c:
    the slope t, the share of the frame's variance it explains, how textured the reference
    is there (its variance against `glass_eps`, from 0 to 1: a flat reference explains
    nothing) and the window's share of weight. (1,1,h,w) each."""

    slope: torch.Tensor
    explained: torch.Tensor
    textured: torch.Tensor
    share: torch.Tensor


def window_fit(
    image: torch.Tensor, reference: torch.Tensor, weight: torch.Tensor, settings: BestSettings
) -> WindowFit:
    """`WindowFit` of `image` (1,3,h,w) against `reference` (1,3,h,w) over windows of
    `glass_radius // 2` (the glass fits run on every other row and column), each pixel
    counting with `weight` (1,1,h,w): the transmission t is one for the three channels, the
    offset c one per channel."""
    # Every window mean in one box filter: weight, then weight x (I, R, I·R, R·R, I·I).
    stack = torch.cat([image, reference, image * reference, reference**2, image * image], 1)
    means = box_mean(torch.cat([weight, weight * stack], 1), settings.glass_radius // 2)
    share = means[:, :1]
    i, r, ir, rr, ii = (means[:, 1:] / share.clamp_min(1e-6)).split(3, 1)
    covariance = (ir - i * r).sum(1, keepdim=True)
    spread = (rr - r * r).sum(1, keepdim=True).clamp_min(0)
    variance = (ii - i * i).sum(1, keepdim=True).clamp_min(1e-8)
    slope = covariance / (spread + settings.glass_eps)
    explained = (slope * covariance / variance).clamp(0, 1)
    return WindowFit(slope, explained, spread / (spread + settings.glass_eps), share)


def moved_through(
    image: torch.Tensor, alpha: torch.Tensor, covered: Covered, settings: BestSettings
) -> torch.Tensor:
    """Clear glass where the plate never saw the background behind it: how far (0 to 1) each
    of the object's pixels (alpha > gate.lo) is see-through, from the other frames whose object
    covered the same place after moving (`Covered`). Deep inside the object (`deep_inside`),
    every other row and column, the frame is fitted (`window_fit`) to those views registered
    by the background's motion and by the object's: a pixel is anchored where the first
    explains at least `glass_anchored` of its variance with a slope within `glass_slope`
    (the background behind, seen through much the same glass) and the second less than
    `glass_follows` (nothing of the object moves with it). An opaque object's texture follows
    the object; glass shows the background, which stays. A pixel's trust is the share of
    the fitted pixels within `glass_around` that are anchored, full at `glass_local`, times
    the object's: the share of all its fitted pixels anchored, from none at the first of
    `glass_object` to full at the second (a few chance fits on an opaque object, which a
    lone texture may give, lower nothing). The trust is 0 away from fitted pixels."""
    s = settings
    deep = deep_inside(alpha, s)[..., ::2, ::2]
    image = image[..., ::2, ::2]

    def fit(colours: torch.Tensor, known: torch.Tensor) -> WindowFit:
        weight = known[None, :, ::2, ::2] & deep
        return window_fit(image, colours[None, :, ::2, ::2], weight.float(), s)

    stays = fit(covered.background, covered.background_known)
    follows = fit(covered.object, covered.object_known)
    fitted = (stays.share >= 0.5) & (follows.share >= 0.5) & deep
    slope_low, slope_high = s.glass_slope
    anchored = (
        fitted
        & (stays.explained * stays.textured > s.glass_anchored)
        & (stays.slope > slope_low)
        & (stays.slope < slope_high)
        & (follows.explained * follows.textured < s.glass_follows)
    ).float()
    low, high = s.glass_object
    share = anchored.sum() / fitted.sum().clamp_min(1)  # 0-dim: no host sync
    whole = ((share - low) / (high - low)).clamp(0, 1)
    nearby = box_mean(fitted.float(), s.glass_around // 2)
    local = box_mean(anchored, s.glass_around // 2) / nearby.clamp_min(1e-3)
    # Fitted pixels on at least 5% of the window around: a share of a few says little.
    trust = torch.where(nearby > 0.05, (local / s.glass_local).clamp(0, 1) * whole, 0.0)
    return torch.where(alpha > s.gate.lo, resize(trust, tuple(alpha.shape[-2:])), 0.0)


def measured_glass(
    glass: torch.Tensor, trust: torch.Tensor, settings: BestSettings
) -> torch.Tensor:
    """The object's glass as `seen_through` measured it: the mean alpha over the pixels it
    is sure of (trust >= `glass_sure`), or `glass_alpha` where it is sure of none. A 0-dim
    tensor (no host sync)."""
    sure = (trust >= settings.glass_sure).float()
    count = sure.sum()
    return torch.where(count > 0, (glass * sure).sum() / count.clamp_min(1), settings.glass_alpha)


def _spread_glass(
    transmission: torch.Tensor,
    trust: torch.Tensor,
    fitted: torch.Tensor,
    inside: torch.Tensor,
    settings: BestSettings,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`seen_through`'s transmission and trust (every other pixel), carried from the pixels
    the fit is sure of (trust >= `glass_sure`) to the pixels `inside` the object around
    them, its unsure band and the sure pixels next to it included (which the fit leaves out),
    up to `glass_spread` working pixels away (a triangle's weights, two box passes): glass
    changes slowly, and in a short clip the plate knows the background behind only the strip
    of the object it moved off. The trust carried is the share of the `fitted` pixels nearby
    (known and deep) that are sure, where at least `glass_spread_share` of the weights fell
    on fitted pixels, kept where it is more than the pixel's own. An opaque object's fit is
    almost never sure (on W/tune 7 of 151,671 known deep pixels reached a trust of 0.5,
    against a quarter of the glass's), so its chance fits carry next to nothing."""
    sure = torch.where(trust >= settings.glass_sure, trust, 0.0)
    stack = torch.cat([sure * transmission, sure, fitted.float()], 1)
    for _ in range(2):
        (stack,) = padded_box_means(stack, [settings.glass_spread // 4])
    carried, sure_sum, fitted_sum = stack.split(1, 1)
    near = (sure_sum / fitted_sum.clamp_min(1e-6)).clamp(0, 1)
    near = torch.where(inside & (fitted_sum >= settings.glass_spread_share), near, 0.0)
    more = near > trust
    return (
        torch.where(more, carried / sure_sum.clamp_min(1e-6), transmission),
        torch.where(more, near, trust),
    )


class Refined(NamedTuple):
    """The "best" edges' alpha, the floor it kept to and the sure pixels opened (by the
    colour samples, `opened_by_samples`, and the plate, `opened_by_plate`, and those
    `seen_through` lowered), for guided upsampling to keep to both."""

    alpha: torch.Tensor
    floor: torch.Tensor
    opened: torch.Tensor


def best_edges(
    image: torch.Tensor,
    alpha: torch.Tensor,
    settings: BestSettings = BestSettings(),
    background: Background | None = None,
    covered: Covered | None = None,
) -> Refined:
    """The "best" refinement of the head's `alpha` (1,1,h,w) on its own image (1,3,h,w),
    first opening the sure background near the object where the colour samples find some of
    the object (`opened_by_samples`). `background`: a known background plate for the colour
    samples (`sampled_alpha`), which also opens the sure background near the object where
    the frame is not that background, and lowers the object's deep inside where the frame
    is that background seen through it (`seen_through`). `covered`: with the plate, what
    other frames show where their object covered the same place, for glass whose
    background the plate never saw (`moved_through`)."""
    if background is None:
        opened = opened_by_samples(image, alpha, None, settings)
    else:
        by_plate, settled = opened_by_plate(image, alpha, background, settings)
        opened = opened_by_samples(image, alpha, settled, settings) | by_plate
    unknown = settings.gate.unsure(alpha) | opened
    if bool(unknown.any()):
        refined = _solved(image, alpha, unknown, opened, settings, background)
    else:
        refined = Refined(alpha, torch.zeros_like(alpha), opened)
    if background is not None:  # clear glass deep inside, which the solve does not reach
        refined = _lowered_by_glass(image, alpha, refined, background, settings, covered)
    return refined


def _solved(
    image: torch.Tensor,
    alpha: torch.Tensor,
    unknown: torch.Tensor,
    opened: torch.Tensor,
    settings: BestSettings,
    background: Background | None,
) -> Refined:
    """The colour samples and the solve over the `unknown` pixels (steps 1 and 2)."""
    samples = sampled_alpha(
        image, alpha, unknown, settings.gate, background, settings.fg_beside, settings.bg_beside
    )
    # A pair that explains the colour only roughly was likely sampled from the wrong place:
    # the solve's colour lines know better there (`BestSettings.sample_fit`).
    sample_w = settings.sample_weight * samples.confidence(settings.sample_fit)
    if background is not None:  # where the plate knows the background, the samples know it
        more = settings.plate_sample_weight - settings.sample_weight
        sample_w = sample_w + more * background[1] * samples.confidence(settings.plate_fit)
    weight = settings.head_weight + sample_w
    prior = (settings.head_weight * alpha + sample_w * samples.alpha) / weight
    # Started from the prior: where the samples are sure, a few steps need not travel far.
    start = torch.where(unknown, prior, alpha)
    out = solve(
        image, start, unknown, prior, weight, settings.radius, settings.eps, settings.iterations
    )
    # No holes: where the head says mostly opaque, alpha may not fall more than max_drop below
    # it, unless the colour samples are sure it is see-through (clear glass).
    doubt = (alpha >= settings.opaque) & (
        samples.confidence(settings.trust_fit) < settings.trust_samples
    )
    floor = torch.where(doubt, alpha - settings.max_drop, 0.0)
    return Refined(finish(out, alpha, floor, settings.gate, opened=opened), floor, opened)


def _lowered_by_glass(
    image: torch.Tensor,
    alpha: torch.Tensor,
    refined: Refined,
    background: Background,
    settings: BestSettings,
    covered: Covered | None = None,
) -> Refined:
    """`refined` lowered towards `seen_through`'s glass as far as that is trusted, and with
    `covered`, towards the object's glass (`measured_glass`) as far as `moved_through`
    trusts more; the pixels
    lowered are opened, and their floor follows, for guided upsampling to keep them."""
    glass, trust = seen_through(image, alpha, background, settings)
    if covered is not None:
        moved = moved_through(image, alpha, covered, settings)
        more = moved > trust
        glass = torch.where(more, measured_glass(glass, trust, settings), glass)
        trust = torch.where(more, moved, trust)
    lower = trust * (refined.alpha - glass).clamp_min(0)
    lower = torch.where(lower > 1 / 512, lower, 0.0)  # opens no pixel for nothing
    out = refined.alpha - lower
    return Refined(out, torch.minimum(refined.floor, out), refined.opened | (lower > 0))


def finish(
    refined: torch.Tensor,
    head: torch.Tensor,
    floor: torch.Tensor,
    gate: Gate,
    scale: float = 1.0,
    opened: torch.Tensor | None = None,
) -> torch.Tensor:
    """`refined` kept at or above `floor` and gated by the head's confidence (`gated`)."""
    return gated(torch.maximum(refined, floor), head, gate, scale, opened)
