"""Procedural furry objects with exact alpha: hair and strands over the background.

Most of the shipped head's error on new content is thin hair and strings over busy
backgrounds, and the 18 training images hold few of them. Each object here is an opaque body
with hundreds of curved strands growing out of its outline: a strand tapers towards its tip,
most are opaque and some are fine, translucent fibres; gaps between them show the background.
Like the glass objects (transparent.py) it is drawn `SUPERSAMPLE` times larger and
area-averaged, so a strand thinner than a pixel gets the alpha of its exact coverage, and the
clip builder composites it with the compositing equation, so the stored alpha is exact.

A segmenter outlines such an object by its body and the dense fur next to it, not by every
strand, so `cover` is that region (the guidance masks are made from it).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .dataset import Foreground
from .transparent import SUPERSAMPLE, drawn_foreground, smooth_noise


@dataclass(frozen=True)
class StrandsConfig:
    size: int = 256  # height of the drawn object, px (the clip builder rescales it)
    strands: tuple[int, int] = (150, 600)  # strands per object
    length: tuple[float, float] = (0.06, 0.3)  # x size
    width: tuple[float, float] = (0.4, 2.0)  # at the root, px at `size`
    curl: float = 2.5  # most a strand turns along its length, radians
    fine_p: float = 0.3  # chance a strand is a translucent fibre (alpha 0.3..0.9)


def _body(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A blob inside the canvas, far enough from its edges for strands to grow."""
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    ry, rx = rng.uniform(0.18, 0.3) * h, rng.uniform(0.18, 0.3) * w
    dist = np.sqrt(((yy - h / 2) / ry) ** 2 + ((xx - w / 2) / rx) ** 2)
    return dist + 0.6 * (smooth_noise(rng, (h, w), 4) - 0.5) <= 1


def _strand_points(
    body: np.ndarray, rng: np.random.Generator, cfg: StrandsConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points every supersampled pixel along every strand: (y, x), radius (supersampled px) and
    the strand's index, for strands rooted on the body's outline and growing outwards."""
    h, w = body.shape
    outline = np.argwhere(body & ~ndimage.binary_erosion(body))
    count = int(rng.integers(*cfg.strands))
    roots = outline[rng.integers(len(outline), size=count)].astype(np.float32)
    centre = np.argwhere(body).mean(0)
    out = roots - centre
    heading = np.arctan2(out[:, 0], out[:, 1]) + rng.normal(0, 0.5, count)
    length = rng.uniform(*cfg.length, count) * cfg.size * SUPERSAMPLE
    turn = rng.uniform(-cfg.curl, cfg.curl, count) / length  # radians per supersampled px
    root_r = rng.uniform(*cfg.width, count) * SUPERSAMPLE / 2
    steps = int(length.max())
    s = np.arange(steps, dtype=np.float32)[None]  # (1, steps)
    angle = heading[:, None] + turn[:, None] * s
    ys = roots[:, :1] + np.cumsum(np.sin(angle), 1)
    xs = roots[:, 1:] + np.cumsum(np.cos(angle), 1)
    along = s / length[:, None]  # 0 at the root, 1 at the tip
    radius = root_r[:, None] * (1 - 0.8 * along)  # tapering
    keep = (along <= 1) & (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    index = np.broadcast_to(np.arange(count)[:, None], keep.shape)
    return np.stack([ys[keep], xs[keep]], 1), radius[keep], index[keep]


def _draw(
    points: np.ndarray, radius: np.ndarray, value: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """Discs of `radius` around `points`, each at its `value`, the largest value where they
    overlap: grouped by whole radius, each group scattered and grown by a disc of that size."""
    out = np.zeros(shape, np.float32)
    rows, cols = points[:, 0].astype(int), points[:, 1].astype(int)
    whole = np.ceil(radius).astype(int)
    for r in np.unique(whole):
        pick = whole == r
        layer = np.zeros(shape, np.float32)
        np.maximum.at(layer, (rows[pick], cols[pick]), value[pick])
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        disc = yy**2 + xx**2 <= r * r
        np.maximum(out, ndimage.grey_dilation(layer, footprint=disc), out=out)
    return out


def furry_object(
    name: str, rng: np.random.Generator, cfg: StrandsConfig = StrandsConfig()
) -> Foreground:
    """One furry object as a Foreground (T=1) with `cover` = its body and dense fur."""
    h = cfg.size * SUPERSAMPLE
    w = int(h * rng.uniform(0.7, 1.3)) // SUPERSAMPLE * SUPERSAMPLE
    body = _body(h, w, rng)
    points, radius, index = _strand_points(body, rng, cfg)
    n = int(index.max()) + 1 if len(index) else 0
    fine = rng.random(n) < cfg.fine_p
    strand_alpha = np.where(fine, rng.uniform(0.3, 0.9, n), 1.0).astype(np.float32)
    shade = rng.uniform(0.6, 1.4, n).astype(np.float32)  # each strand lighter or darker
    alpha = np.maximum(_draw(points, radius, strand_alpha[index], (h, w)), body)
    strand_shade = _draw(points, radius, shade[index], (h, w))
    shading = np.where(body, 0.8 + 0.4 * smooth_noise(rng, (h, w), 8), strand_shade)
    hue, sat = rng.random(), rng.uniform(0.1, 0.8)
    base = np.array(colorsys.hsv_to_rgb(hue, sat, rng.uniform(0.3, 0.9)), np.float32)
    colour = np.clip(base * shading[..., None], 0, 1)
    # The segmenter's outline: the body and where strands cover most of their surroundings.
    density = ndimage.uniform_filter(alpha, size=int(0.04 * h) | 1)
    return drawn_foreground(name, colour, alpha, (body | (density > 0.6)).astype(np.float32))


def strand_foregrounds(
    count: int, seed: int, cfg: StrandsConfig = StrandsConfig()
) -> list[Foreground]:
    """`count` objects named fur000.. from their own random stream (seeded by `seed`), so
    adding them never changes the other clips a seed builds."""
    rng = np.random.default_rng([seed, 0xF0F])
    return [furry_object(f"fur{i:03d}", rng, cfg) for i in range(count)]
