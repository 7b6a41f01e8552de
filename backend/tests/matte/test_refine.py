"""The "best" edge refinement (shared matting, then the matting Laplacian) on scenes whose
true alpha is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from vidmatte.matte import Matter, random_head
from vidmatte.matte.head import HeadConfig
from vidmatte.matte.refine import laplacian_refine, matting_refine, sampled_alpha

FG, BG = np.array([0.9, 0.6, 0.2]), np.array([0.1, 0.3, 0.7])


def _scene(size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """Two flat colours blended by a known alpha: a disc with a soft rim and thin strands,
    the case the colour-line model behind the Laplacian describes exactly."""
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size / 2, xx - size / 2)
    alpha = np.clip((size * 0.3 - r) / 3, 0, 1)
    for x in range(10, size - 10, 7):  # one-pixel strands at 40% opacity
        alpha[size // 2 :, x] = np.maximum(alpha[size // 2 :, x], 0.4)
    image = alpha[..., None] * FG + (1 - alpha[..., None]) * BG
    return image, alpha


def _blur(alpha: np.ndarray) -> np.ndarray:
    return ndimage.uniform_filter(alpha, 7).clip(0, 1).astype(np.float32)


@pytest.mark.parametrize("refine", [laplacian_refine, sampled_alpha, matting_refine])
def test_recovers_a_blurred_matte(refine) -> None:
    image, truth = _scene()
    blurred = _blur(truth)  # what a head that misses fine detail gives
    fixed = refine(image, blurred)
    before, after = np.abs(blurred - truth).mean(), np.abs(fixed - truth).mean()
    assert after < before / 4, (before, after)
    assert fixed.shape == truth.shape and fixed.dtype == np.float32
    assert fixed.min() >= 0 and fixed.max() <= 1


def test_keeps_the_pixels_it_is_sure_of() -> None:
    image, truth = _scene()
    blurred = _blur(truth)
    fixed = laplacian_refine(image, blurred, grow=2)
    unsure = ndimage.binary_dilation((blurred > 0.02) & (blurred < 0.98), iterations=2)
    np.testing.assert_array_equal(fixed[~unsure], blurred[~unsure])
    assert not np.array_equal(fixed[unsure], blurred[unsure])


def test_nothing_unsure_is_returned_as_is() -> None:
    image, _ = _scene(32)
    binary = np.zeros((32, 32), np.float32)
    binary[8:24, 8:24] = 1
    assert laplacian_refine(image, binary) is binary
    assert sampled_alpha(image, binary) is binary


def test_sampling_takes_any_memory_layout() -> None:
    """A channels-first array viewed as HWC (what a resized tensor gives) works like a copy."""
    image, truth = _scene()
    planar = np.ascontiguousarray(image.transpose(2, 0, 1)).transpose(1, 2, 0)
    assert not planar.flags.c_contiguous
    blurred = _blur(truth)
    np.testing.assert_array_equal(sampled_alpha(planar, blurred), sampled_alpha(image, blurred))


def test_sampling_needs_both_sides_of_the_trimap() -> None:
    """All foreground but a soft patch: no background to sample from, so alpha is kept."""
    image, _ = _scene(32)
    alpha = np.ones((32, 32), np.float32)
    alpha[10:20, 10:20] = 0.6
    assert sampled_alpha(image, alpha) is alpha


def test_matter_rejects_an_unknown_refinement() -> None:
    with pytest.raises(ValueError, match="edges must be one of best, fast, none"):
        Matter(random_head(config=HeadConfig(base_channels=8)), "cpu", "sharp")  # type: ignore[arg-type]


def test_best_edges_only_move_the_band() -> None:
    """Through Matter, on a large frame: the correction is solved at working resolution and
    upsampled, so it stays near the edge and certain regions keep 0 and 1."""
    image, _ = _scene(64)
    rgb = np.kron((image * 255).round().astype(np.uint8), np.ones((8, 8, 1), np.uint8))
    logits = torch.full((1, 1, 64, 64), -20.0)
    logits[..., 16:48, 16:48] = 20.0
    head = random_head(config=HeadConfig(base_channels=8, working_size=128))
    guided = Matter(head, "cpu", "fast")(rgb, logits)
    best = Matter(head, "cpu", "best")(rgb, logits)
    assert best.shape == (512, 512) and best.min() >= 0 and best.max() <= 1
    assert best[256, 256] == pytest.approx(guided[256, 256], abs=1e-4)
    assert best[5, 5] == pytest.approx(guided[5, 5], abs=1e-4)
