"""Batch augmentations (kornia) for training pairs of consecutive frames.

Geometric transforms (flips, elastic warps, random homographies) move image, GT alpha, mask
logits and previous alpha together, and both frames of a pair identically, so the temporal
loss still compares like with like. Photometric ones (colour jitter, noise) touch only RGB.
"""

from __future__ import annotations

import kornia.augmentation as K
import torch
from torch import nn


class PairAugment(nn.Module):
    """Augments a batch whose channels are [rgb_a, rgb_b, other_a, other_b] stacked."""

    def __init__(self, elastic_p: float = 0.3, perspective_p: float = 0.5) -> None:
        super().__init__()
        self.geometric = K.AugmentationSequential(
            K.RandomHorizontalFlip(p=0.5),
            K.RandomPerspective(distortion_scale=0.25, p=perspective_p),
            K.RandomElasticTransform(
                kernel_size=(31, 31), sigma=(8.0, 8.0), alpha=(1.0, 1.0), p=elastic_p
            ),
        )
        # Full hue rotation, channel shuffles and grey: the head must not learn "this colour is
        # the object" from a handful of training objects.
        self.color = K.AugmentationSequential(
            K.ColorJitter(0.25, 0.25, 0.4, 0.5, p=0.9),
            K.RandomChannelShuffle(p=0.5),
            K.RandomGrayscale(p=0.1),
        )
        self.noise = K.RandomGaussianNoise(std=0.02, p=0.5)

    @torch.no_grad()
    def forward(self, rgb: torch.Tensor, other: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """rgb (B,2,3,H,W) in [0,1]; other (B,2,C,H,W) (GT, logits, prev alpha...). The same
        geometric warp applies to everything in a sample; colour changes apply to both frames."""
        b, _, c, h, w = other.shape
        stacked = torch.cat([rgb.reshape(b, 6, h, w), other.reshape(b, 2 * c, h, w)], dim=1)
        stacked = self.geometric(stacked)
        rgb = stacked[:, :6].reshape(b, 2, 3, h, w)
        other = stacked[:, 6:].reshape(b, 2, c, h, w)
        # Place the two frames side by side so one jitter draw covers both.
        side = rgb.permute(0, 2, 3, 1, 4).reshape(b, 3, h, 2 * w)
        side = self.noise(self.color(side)).clamp(0, 1)
        rgb = side.reshape(b, 3, h, 2, w).permute(0, 3, 1, 2, 4)
        return rgb.contiguous(), other
