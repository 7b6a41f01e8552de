"""Run the head on one full-resolution frame.

The head runs at a working resolution (long side `config.working_size`, aspect kept) because
its cost grows with pixels and SAM2's mask is only 256² of information anyway. Upsampling its
alpha would blur hair and fur, so edges are re-sharpened at full resolution with a fast guided
filter (He & Sun, 2015): the linear coefficients are fitted at working resolution and only
upsampled, so the full-resolution cost is a few multiply-adds per pixel. The filter output is
used only in the boundary band; pure foreground and background keep the head's values.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
import torch.nn.functional as F
from kornia.filters import box_blur

from .head import MattingHead, boundary_band


def working_shape(height: int, width: int, working_size: int, stride: int) -> tuple[int, int]:
    """(h, w) with the long side at most `working_size`, aspect kept, multiples of `stride`."""
    scale = min(1.0, working_size / max(height, width))
    h = max(stride, round(height * scale / stride) * stride)
    w = max(stride, round(width * scale / stride) * stride)
    return h, w


def resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize with antialiasing when shrinking (NCHW)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrink = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrink)


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
    k = (2 * radius + 1, 2 * radius + 1)
    mean_i = box_blur(guide_low, k)
    mean_p = box_blur(src_low, k)
    cov_ip = box_blur(guide_low * src_low, k) - mean_i * mean_p
    # 3x3 covariance of the guide per pixel, as (B,h,w,3,3).
    outer = guide_low.unsqueeze(1) * guide_low.unsqueeze(2)  # (B,3,3,h,w)
    b, _, h, w = guide_low.shape
    var_i = box_blur(outer.reshape(b, 9, h, w), k).reshape(b, 3, 3, h, w)
    var_i = var_i - mean_i.unsqueeze(1) * mean_i.unsqueeze(2)
    sigma = var_i.permute(0, 3, 4, 1, 2) + eps * torch.eye(3, device=src_low.device)
    a = torch.linalg.solve(sigma, cov_ip.permute(0, 2, 3, 1).unsqueeze(-1)).squeeze(-1)
    a = a.permute(0, 3, 1, 2)  # (B,3,h,w)
    bias = mean_p - (a * mean_i).sum(1, keepdim=True)
    coeffs = box_blur(torch.cat([a, bias], dim=1), k)
    coeffs = resize(coeffs, tuple(guide_full.shape[-2:]))
    return (coeffs[:, :3] * guide_full).sum(1, keepdim=True) + coeffs[:, 3:]


class Matter:
    """Callable that turns a frame + SAM2 mask logits into a full-resolution alpha matte.

    The guided filter's radius (in working-resolution pixels) and eps are the best of a small
    sweep on the validation clips (the guided-filter baseline's were chosen the same way).
    """

    def __init__(
        self,
        head: MattingHead,
        device: str | torch.device = "cpu",
        refine: bool = True,
        gf_radius: int = 8,
        gf_eps: float = 1e-4,
    ) -> None:
        self.device = torch.device(device)
        self.head = head.to(self.device).eval()
        self.refine = refine
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
        alpha = resize(alpha_low, (height, width))
        if self.refine:
            sharp = fast_guided_filter(full, low, alpha_low, self.gf_radius, self.gf_eps)
            band = boundary_band(alpha_low, self.gf_radius + 1, lo=0.01, hi=0.99)
            band = F.interpolate(band.float(), size=(height, width), mode="nearest") > 0
            alpha = torch.where(band, sharp.clamp(0.0, 1.0), alpha)
        return alpha[0, 0].clamp(0.0, 1.0).cpu().numpy().astype(np.float32, copy=False)
