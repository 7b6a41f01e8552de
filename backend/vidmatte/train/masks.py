"""SAM2-like guidance masks made from ground-truth alpha, as logits.

The head is trained on what SAM2 will hand it at inference: a binary-ish mask that is roughly
right, misses hair and strings, sits a few pixels inside or outside the true edge, carries
SAM2's 256² low-resolution blockiness, sometimes has a hole or a stray blob, and wobbles from
frame to frame. Degradations are kept moderate on purpose: masks far worse than SAM2's teach the
head to ignore the mask, which then generalises worse to new objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

LOWRES = 256  # SAM2's low-resolution mask logits are 256², squashed to a square


@dataclass(frozen=True)
class SyntheticMaskConfig:
    threshold: tuple[float, float] = (0.25, 0.75)  # GT alpha level the mask is cut at
    grow: tuple[float, float] = (-0.006, 0.006)  # erosion (<0) / dilation (>0), x long side
    thin_removal_p: float = 0.5  # chance a clip loses structures thinner than ~2 r px
    thin_radius: tuple[int, int] = (1, 3)
    blob_p: float = 0.3  # chance a clip has a stray blob or a hole near the boundary
    logit_scale: tuple[float, float] = (6.0, 16.0)  # SAM2's logits saturate around ±10..20
    noise: float = 1.5  # amplitude of low-frequency logit noise (temporal wobble)
    shift_px: float = 0.75  # per-frame sub-pixel wobble at 256² resolution
    threshold_jitter: float = 0.04


def _disk(radius: int) -> np.ndarray:
    r = np.arange(-radius, radius + 1)
    return (r[:, None] ** 2 + r[None, :] ** 2) <= radius**2


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    if pixels == 0:
        return mask
    op = ndimage.binary_dilation if pixels > 0 else ndimage.binary_erosion
    return op(mask, structure=_disk(abs(pixels)))


def _blob(
    shape: tuple[int, int], center: tuple[float, float], radii: tuple[float, float]
) -> np.ndarray:
    yy, xx = np.ogrid[: shape[0], : shape[1]]
    return ((yy - center[0]) / radii[0]) ** 2 + ((xx - center[1]) / radii[1]) ** 2 <= 1


def _smooth_noise(rng: np.random.Generator, size: int = LOWRES, cells: int = 8) -> np.ndarray:
    """Low-frequency noise in [-1,1]: a coarse random grid, bicubically upsampled."""
    coarse = torch.from_numpy(rng.uniform(-1, 1, (1, 1, cells, cells)).astype(np.float32))
    return F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[
        0, 0
    ].numpy()


def to_lowres_logits(
    mask: np.ndarray, scale: float, shift: tuple[float, float] = (0.0, 0.0)
) -> np.ndarray:
    """Binary mask (H,W) -> (256,256) logits, squashed like SAM2's input, with a sub-pixel shift."""
    m = torch.from_numpy(mask.astype(np.float32))[None, None]
    p = F.interpolate(m, size=(LOWRES, LOWRES), mode="area")[0, 0].numpy()
    if shift != (0.0, 0.0):
        p = ndimage.shift(p, shift, order=1, mode="nearest")
    # SAM2's low-res logits are smooth; a light blur avoids hard area-average steps.
    p = ndimage.gaussian_filter(p, 0.6)
    return (2.0 * p - 1.0) * scale


def synthetic_logits(
    alphas: np.ndarray, rng: np.random.Generator, cfg: SyntheticMaskConfig = SyntheticMaskConfig()
) -> np.ndarray:
    """Ground-truth alphas (T,H,W) in [0,1] -> SAM2-like logits (T,256,256) float32."""
    _, height, width = alphas.shape
    long_side = max(height, width)
    threshold = rng.uniform(*cfg.threshold)
    grow = round(rng.uniform(*cfg.grow) * long_side)
    thin = (
        int(rng.integers(cfg.thin_radius[0], cfg.thin_radius[1] + 1))
        if rng.random() < cfg.thin_removal_p
        else 0
    )
    scale = rng.uniform(*cfg.logit_scale)
    blob = _blob_params(rng) if rng.random() < cfg.blob_p else None
    noise_a, noise_b = _smooth_noise(rng), _smooth_noise(rng)
    out = np.empty((len(alphas), LOWRES, LOWRES), np.float32)
    for t, alpha in enumerate(alphas):
        mask = alpha > threshold + rng.uniform(-1, 1) * cfg.threshold_jitter
        if thin:
            mask = ndimage.binary_opening(mask, structure=_disk(thin))
        mask = _grow(mask, grow + int(rng.integers(-1, 2)))
        if blob is not None:
            mask = _apply_blob(mask, alpha, blob)
        shift = tuple(rng.uniform(-cfg.shift_px, cfg.shift_px, 2))
        logits = to_lowres_logits(mask, scale, shift)
        # The noise field drifts slowly over time, like SAM2's memory-driven wobble.
        w = t / max(len(alphas) - 1, 1)
        out[t] = logits + cfg.noise * ((1 - w) * noise_a + w * noise_b)
    return out


def _blob_params(rng: np.random.Generator) -> dict:
    """A blob (added, or a hole cut) at a random angle on the object's boundary."""
    return {
        "add": bool(rng.random() < 0.5),
        "angle": rng.uniform(0, 2 * np.pi),
        "size": rng.uniform(0.04, 0.12),  # fraction of the object's extent
        "aspect": rng.uniform(0.5, 2.0),
    }


def _apply_blob(mask: np.ndarray, alpha: np.ndarray, blob: dict) -> np.ndarray:
    """Place the blob relative to the object's current bounding box so it moves with it."""
    ys, xs = np.nonzero(alpha > 0.5)
    if len(ys) == 0:
        return mask
    cy, cx = ys.mean(), xs.mean()
    hy, hx = (ys.max() - ys.min()) / 2, (xs.max() - xs.min()) / 2
    center = (cy + 0.8 * hy * np.sin(blob["angle"]), cx + 0.8 * hx * np.cos(blob["angle"]))
    r = blob["size"] * max(hy, hx)
    region = _blob(mask.shape, center, (r, r * blob["aspect"]))
    return mask | region if blob["add"] else mask & ~region
