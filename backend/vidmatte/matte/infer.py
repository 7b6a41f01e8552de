"""Run the head on one full-resolution frame.

The head runs at a working resolution (long side `config.working_size`, aspect kept) because
its cost grows with pixels and SAM2's mask is only 256² of information anyway. Upsampling its
alpha would blur hair and fur, so edges are re-sharpened at full resolution (refine.py): always
with a fast guided filter, whose coefficients are fitted at working resolution, and by default
also, for the "best" edges, by classical matting of the pixels the head is unsure of.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from .head import MattingHead
from .refine import (
    EDGES,
    Edges,
    guided_coefficients,
    guided_refine,
    matting_refine,
    resize,
)


def working_shape(height: int, width: int, working_size: int, stride: int) -> tuple[int, int]:
    """(h, w) with the long side at most `working_size`, aspect kept, multiples of `stride`."""
    scale = min(1.0, working_size / max(height, width))
    h = max(stride, round(height * scale / stride) * stride)
    w = max(stride, round(width * scale / stride) * stride)
    return h, w


class Matter:
    """Callable that turns a frame + SAM2 mask logits into a full-resolution alpha matte.

    `edges` picks the edge refinement (refine.py): "best" (the default), "fast" (the guided
    filter only: no CPU matting) or "none". The guided filter's radius (in working-resolution
    pixels) and eps are the best of a small sweep on the validation clips (the guided-filter
    baseline's were chosen the same way).
    """

    def __init__(
        self,
        head: MattingHead,
        device: str | torch.device = "cpu",
        edges: Edges = "best",
        gf_radius: int = 8,
        gf_eps: float = 1e-4,
    ) -> None:
        self.device = torch.device(device)
        self.head = head.to(self.device).eval()
        if edges not in EDGES:
            raise ValueError(f"edges must be one of {', '.join(EDGES)}, not {edges!r}")
        self.edges = edges
        self.gf_radius = gf_radius
        self.gf_eps = gf_eps

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    @torch.inference_mode()
    def __call__(
        self,
        rgb: np.ndarray,
        mask_logits: torch.Tensor,
        prev_alpha: np.ndarray | None = None,
        feat_s0: torch.Tensor | None = None,
        feat_s1: torch.Tensor | None = None,
    ) -> np.ndarray:
        """rgb uint8 (H,W,3), mask_logits (1,1,h,w) at any resolution (SAM2's square logits
        included: resizing to the frame's aspect undoes its squash), prev_alpha float (H,W) or
        None, SAM2's feat_s0 / feat_s1 (used only by a head trained with them). Returns float32
        (H,W) alpha in [0,1]."""
        height, width = rgb.shape[:2]
        cfg = self.head.config
        size = working_shape(height, width, cfg.working_size, cfg.stride)
        full = torch.from_numpy(np.ascontiguousarray(rgb)).to(self.device)
        full = full.permute(2, 0, 1).unsqueeze(0).float().div_(255.0)
        low = resize(full, size)
        logits = resize(
            mask_logits.to(self.device, torch.float32).reshape(1, 1, *mask_logits.shape[-2:]), size
        )
        prev = None
        if prev_alpha is not None:
            prev = torch.from_numpy(np.asarray(prev_alpha, dtype=np.float32)).to(self.device)
            prev = resize(prev[None, None], size)
        feats = {}
        if cfg.use_sam_features:
            if feat_s0 is None or feat_s1 is None:
                raise ValueError("this head was trained with SAM2's features: pass feat_s0/feat_s1")
            feats = {"feat_s0": feat_s0.to(self.device), "feat_s1": feat_s1.to(self.device)}
        with self._autocast():
            alpha_low = self.head(low, logits, prev, **feats).float()
        if self.edges == "none":
            alpha = resize(alpha_low, (height, width))
        else:
            # Fitted once at working resolution; applied at full (and, for "best", at low).
            coeffs = guided_coefficients(low, alpha_low, self.gf_radius, self.gf_eps)
            alpha = guided_refine(full, coeffs, alpha_low, self.gf_radius)
            if self.edges == "best":
                alpha = self._matting(alpha, low, alpha_low, coeffs)
        return alpha[0, 0].clamp(0.0, 1.0).cpu().numpy().astype(np.float32, copy=False)

    def _matting(
        self, alpha: torch.Tensor, low: torch.Tensor, alpha_low: torch.Tensor, coeffs: torch.Tensor
    ) -> torch.Tensor:
        """Add the classical-matting correction (`matting_refine`), solved at working resolution
        (so its cost does not grow with the frame) and upsampled; the guided filter keeps
        full-res detail."""
        same = alpha.shape[-2:] == low.shape[-2:]
        at_low = alpha if same else guided_refine(low, coeffs, alpha_low, self.gf_radius)
        before = at_low[0, 0].float().cpu().numpy()
        image = low[0].permute(1, 2, 0).float().cpu().numpy()
        fixed = torch.from_numpy(matting_refine(image, before)).to(alpha.device)
        correction = (fixed - at_low[0, 0])[None, None]
        return alpha + resize(correction, tuple(alpha.shape[-2:]))
