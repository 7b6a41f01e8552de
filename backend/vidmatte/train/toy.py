"""Tiny synthetic sources (alphamatting and VideoMatte layouts, backgrounds) for tests and for
running the notebooks without the shared data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def _disc_alpha(size: int, rng: np.random.Generator) -> np.ndarray:
    """A soft-edged disc with sparse semi-transparent specks (stand-ins for hair)."""
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size / 2, xx - size / 2)
    alpha = np.clip((size * 0.3 - r) / 4 + 0.5, 0, 1)
    specks = (rng.random((size, size)) < 0.02) & (r < size * 0.45)
    alpha[specks] = np.maximum(alpha[specks], 0.5)
    return (alpha * 255).round().astype(np.uint8)


def toy_sources(root: Path, seed: int = 0) -> dict[str, Path]:
    """Write two image+alpha pairs, one 3-frame fgr/pha clip and two backgrounds under `root`."""
    rng = np.random.default_rng(seed)
    for sub in ("images/image", "images/alpha", "video/fgr/clip0", "video/pha/clip0", "bg"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name in ("A01", "A02"):
        Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(
            root / f"images/image/{name}.png"
        )
        Image.fromarray(_disc_alpha(64, rng)[:48]).save(root / f"images/alpha/{name}.png")
    for t in range(3):
        Image.fromarray(np.full((40, 40, 3), 200, np.uint8)).save(
            root / f"video/fgr/clip0/{t:04d}.png"
        )
        Image.fromarray(_disc_alpha(40, rng)).save(root / f"video/pha/clip0/{t:04d}.png")
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)).save(
            root / f"bg/bg{i}.jpg"
        )
    return {"images": root / "images", "video": root / "video", "bg": root / "bg"}
