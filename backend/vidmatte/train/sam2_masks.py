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

from .dataset import SAM_FEATURES
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
    """Callable (rgb (T,H,W,3) uint8, pha (T,H,W), rng) -> (logits (T,256,256) float32,
    features {"feat_s0": (T,C0,h0,w0), "feat_s1": (T,C1,h1,w1)} float16): SAM2's high-resolution
    features for each frame, cached so a head with `use_sam_features` can train on them."""

    def __init__(
        self,
        model: str = "test-tiny",
        checkpoint_dir: Path | None = None,
        device: str | None = None,
    ) -> None:
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        predictor = build_predictor(model, checkpoint_dir or Path("checkpoints"), device=device)
        self.segmenter = Segmenter(predictor, model)

    def __call__(
        self, rgb: np.ndarray, pha: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        frames, height, width = len(rgb), rgb.shape[1], rgb.shape[2]
        lazy = LazyFrames(
            lambda i: rgb[i], frames, self.segmenter.image_size, device=self.segmenter.device
        )
        state = self.segmenter.predictor.init_lazy_state(lazy, height, width)
        prompts = {(1, 0): random_clicks(pha[0], rng, count=int(rng.integers(1, 4)))}
        logits = np.zeros((frames, LOWRES, LOWRES), np.float32)
        features: dict[str, list] = {key: [None] * frames for key in SAM_FEATURES}
        for frame, masks in self.segmenter.track(state, prompts, 0, frames - 1):
            out = masks[1]
            logits[frame] = F.interpolate(
                out.mask_logits.float(), size=(LOWRES, LOWRES), mode="bilinear", align_corners=False
            )[0, 0].numpy()
            for key in features:
                features[key][frame] = getattr(out, key)[0].to(torch.float16).numpy()
        return logits, {key: np.stack(maps) for key, maps in features.items()}
