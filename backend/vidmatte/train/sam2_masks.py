"""Guidance masks from SAM2 itself (the original recipe): random positive clicks on the first
frame, SAM2 in video mode over the clip, its mask logits resized to the dataset's 256² layout.

Uses the app's own SAM2 wrapper (`vidmatte.segment`), so training sees exactly what the app's
jobs hand the head. With real checkpoints this needs a GPU to be practical; `test-tiny` runs
anywhere (random weights: only for tests).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from vidmatte.segment.models import build_predictor
from vidmatte.segment.predictor import LazyFrames
from vidmatte.segment.session import Segmenter
from vidmatte.store import Point

from .masks import LOWRES


def random_clicks(alpha: np.ndarray, rng: np.random.Generator, count: int = 3) -> list[Point]:
    """Up to `count` positive points well inside the object (eroded opaque region)."""
    solid = alpha > 0.9
    inner = ndimage.binary_erosion(solid, iterations=3)
    candidates = np.argwhere(inner if inner.any() else solid if solid.any() else alpha > 0.5)
    if len(candidates) == 0:
        raise ValueError("the first frame has no foreground to click on")
    picks = candidates[rng.choice(len(candidates), size=min(count, len(candidates)), replace=False)]
    return [Point(x=float(x), y=float(y), label="positive") for y, x in picks]


class Sam2Labeller:
    """Callable (rgb (T,H,W,3) uint8, pha (T,H,W), rng) -> logits (T,256,256) float32."""

    def __init__(
        self,
        model: str = "test-tiny",
        checkpoint_dir: Path | None = None,
        device: str | None = None,
    ) -> None:
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        predictor = build_predictor(model, checkpoint_dir or Path("checkpoints"), device=device)
        self.segmenter = Segmenter(predictor, model)

    def __call__(self, rgb: np.ndarray, pha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        frames, height, width = len(rgb), rgb.shape[1], rgb.shape[2]
        lazy = LazyFrames(lambda i: rgb[i], frames, self.segmenter.image_size)
        state = self.segmenter.predictor.init_lazy_state(lazy, height, width)
        prompts = {(1, 0): random_clicks(pha[0], rng, count=int(rng.integers(1, 4)))}
        out = np.zeros((frames, LOWRES, LOWRES), np.float32)
        for frame, masks in self.segmenter.track(state, prompts, 0, frames - 1):
            logits = masks[1].mask_logits.float()
            out[frame] = F.interpolate(
                logits, size=(LOWRES, LOWRES), mode="bilinear", align_corners=False
            )[0, 0].numpy()
        return out
