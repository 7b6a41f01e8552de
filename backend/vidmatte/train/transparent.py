"""Procedural transparent objects with exact alpha: the glass the alphamatting images lack.

Clear and tinted glass lets the background show through, so its alpha stays well below 1
inside, rises towards the rim (where glass bends more light away from the camera), and its
colour is a tint that varies across the object, with a bright streak where it reflects light.
Each object is drawn `SUPERSAMPLE` times larger and area-averaged, so an edge pixel's alpha is
the exact coverage times the glass's alpha; the clip builder composites it with the compositing
equation like any other foreground, so the stored alpha is exact.

A segmenter outlines such an object by its silhouette, not by its alpha, so every object also
carries `cover` (the silhouette's coverage), which the guidance masks are made from.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from .dataset import Foreground

SHAPES = ("ellipse", "bottle", "bulb", "ring")
SUPERSAMPLE = 4


@dataclass(frozen=True)
class TransparentConfig:
    size: int = 256  # height of the drawn object, px (the clip builder rescales it)
    alpha: tuple[float, float] = (0.1, 0.6)  # every glass pixel's alpha lies in this range
    rim_width: tuple[float, float] = (
        0.02,
        0.1,
    )  # x size: how far in the rim's higher alpha reaches
    ring_width: tuple[float, float] = (0.012, 0.05)  # x size: a thin ring's thickness (3-13 px)
    cap_p: float = 0.3  # chance a bottle or bulb gets an opaque cap / screw base (alpha 1)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in [0,1]: a coarse random grid, bicubically upsampled."""
    coarse = torch.from_numpy(rng.random((1, 1, cells, cells)).astype(np.float32))
    up = F.interpolate(coarse, size=shape, mode="bicubic", align_corners=False)[0, 0].numpy()
    return np.clip(up, 0, 1)


def _ellipse(yy, xx, cy, cx, ry, rx) -> np.ndarray:
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1


def _silhouette(
    shape: str, h: int, w: int, rng: np.random.Generator, cfg: TransparentConfig
) -> tuple[np.ndarray, np.ndarray]:
    """(glass, cap) boolean masks at (h, w) for one shape; cap is empty unless drawn."""
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    cap = np.zeros((h, w), bool)
    with_cap = rng.random() < cfg.cap_p
    if shape == "ellipse":
        glass = _ellipse(yy, xx, h / 2, w / 2, 0.47 * h, 0.47 * w)
    elif shape == "ring":
        thick = rng.uniform(*cfg.ring_width) * h
        outer = _ellipse(yy, xx, h / 2, w / 2, 0.47 * h, 0.47 * w)
        inner = _ellipse(yy, xx, h / 2, w / 2, 0.47 * h - thick, 0.47 * w - thick)
        glass = outer & ~inner
    elif shape == "bottle":
        neck = rng.uniform(0.12, 0.22) * w
        shoulder = rng.uniform(0.3, 0.45) * h
        body = (np.abs(xx - w / 2) <= 0.46 * w) & (yy >= shoulder) & (yy <= 0.97 * h)
        top = _ellipse(yy, xx, shoulder, w / 2, 0.15 * h, 0.46 * w) & (yy < shoulder)
        neck_part = (np.abs(xx - w / 2) <= neck) & (yy >= 0.03 * h) & (yy < shoulder)
        glass = body | top | neck_part
        if with_cap:
            cap = neck_part & (yy < 0.03 * h + 0.08 * h)
    else:  # bulb: a round glass globe on a narrowing neck and a screw base
        r = 0.46 * w
        globe = _ellipse(yy, xx, 0.05 * h + r, w / 2, r, r)
        neck_top, neck_bottom = 0.05 * h + 1.6 * r, 0.97 * h
        frac = np.clip((yy - neck_top) / max(neck_bottom - neck_top, 1), 0, 1)
        half = 0.3 * w * (1 - frac) + 0.17 * w * frac
        neck_part = (np.abs(xx - w / 2) <= half) & (yy >= neck_top - r * 0.3) & (yy <= neck_bottom)
        glass = globe | neck_part
        if with_cap:
            cap = neck_part & (yy >= neck_bottom - 0.2 * h)
    return glass & ~cap, cap


def _tint(rng: np.random.Generator) -> np.ndarray:
    """Mostly pale glass, sometimes a strong colour (wine, bottle green, amber)."""
    saturation = rng.uniform(0.0, 0.3) if rng.random() < 0.7 else rng.uniform(0.4, 0.9)
    return np.array(colorsys.hsv_to_rgb(rng.random(), saturation, rng.uniform(0.45, 1.0)))


def _area(x: np.ndarray) -> np.ndarray:
    """`x` (h,w) or (h,w,C) area-averaged over SUPERSAMPLE² blocks."""
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    t = t.permute(2, 0, 1)[None] if t.ndim == 3 else t[None, None]
    out = F.avg_pool2d(t, SUPERSAMPLE)[0]
    return out.permute(1, 2, 0).numpy() if x.ndim == 3 else out[0].numpy()


def drawn_foreground(
    name: str, colour: np.ndarray, alpha: np.ndarray, cover: np.ndarray
) -> Foreground:
    """A Foreground (T=1) from colour (H,W,3), alpha and cover (H,W) drawn `SUPERSAMPLE` times
    larger: each output pixel's alpha is its block's mean (exact coverage) and its colour the
    alpha-weighted mean, so compositing the result equals compositing the drawing, shrunk."""
    pha = _area(alpha)
    fgr = _area(colour * alpha[..., None]) / np.maximum(pha, 1e-6)[..., None]
    return Foreground(name, fgr.clip(0, 1)[None], pha[None], cover=_area(cover)[None])


def transparent_object(
    name: str,
    rng: np.random.Generator,
    cfg: TransparentConfig = TransparentConfig(),
    shape: str | None = None,
) -> Foreground:
    """One glass-like object (of `shape`, else a random one of SHAPES) as a Foreground (T=1)
    with `cover` = its silhouette."""
    shape = shape or SHAPES[int(rng.integers(len(SHAPES)))]
    aspect = {"ellipse": (0.45, 1.0), "bottle": (0.3, 0.5), "bulb": (0.55, 0.7), "ring": (0.5, 1)}
    h = cfg.size * SUPERSAMPLE
    w = int(h * rng.uniform(*aspect[shape])) // SUPERSAMPLE * SUPERSAMPLE
    glass, cap = _silhouette(shape, h, w, rng, cfg)
    lo, hi = cfg.alpha
    # Alpha: an interior level, rising to a rim level near the edge, varying smoothly.
    inside = rng.uniform(lo, lo + 0.5 * (hi - lo))
    rim = rng.uniform(inside, hi)
    depth = ndimage.distance_transform_edt(glass) / SUPERSAMPLE  # px from the edge, output scale
    rim_px = rng.uniform(*cfg.rim_width) * cfg.size
    alpha = inside + (rim - inside) * np.exp(-depth / rim_px)
    alpha *= 1 + 0.4 * (smooth_noise(rng, (h, w), 5) - 0.5)
    # A highlight: a soft vertical streak where the glass reflects a light, whiter and denser.
    x = np.arange(w, dtype=np.float32)[None] / w
    streak = np.exp(-(((x - rng.uniform(0.2, 0.8)) / rng.uniform(0.02, 0.08)) ** 2))
    streak = streak * rng.uniform(0.3, 1.0) * smooth_noise(rng, (h, w), 3)
    alpha = np.clip(alpha + (hi - alpha) * streak, lo, hi)
    colour = _tint(rng) * (0.55 + 0.45 * smooth_noise(rng, (h, w), 6))[..., None]
    colour = colour * (1 - streak[..., None]) + streak[..., None]
    metal = rng.uniform(0.3, 0.8) * (0.7 + 0.3 * smooth_noise(rng, (h, w), 12))
    colour[cap] = metal[cap][:, None]
    full_alpha = np.where(glass, alpha, 0.0) + cap
    return drawn_foreground(name, colour, full_alpha, (glass | cap).astype(np.float32))


def transparent_foregrounds(
    count: int, seed: int, cfg: TransparentConfig = TransparentConfig()
) -> list[Foreground]:
    """`count` objects named glass000.. from their own random stream (seeded by `seed`), so
    adding them never changes the other clips a seed builds."""
    rng = np.random.default_rng([seed, 0x61A55])
    return [transparent_object(f"glass{i:03d}", rng, cfg) for i in range(count)]
