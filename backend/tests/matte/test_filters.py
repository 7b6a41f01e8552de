"""The matting stage's box filters and dilation equal the library operations they replace."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from kornia.filters import box_blur

from vidmatte.matte.filters import (
    box_mean,
    dilate,
    enlarged,
    flat_nonzero,
    halved,
    padded_box_means,
    sampled_at,
    window_mean,
    window_sum,
)


@pytest.mark.parametrize("radius", [0, 1, 2, 7, 16])
def test_dilate_is_a_square_max(radius: int) -> None:
    """Dilation equals max pooling over the (2r+1)² square, borders included."""
    torch.manual_seed(radius)
    mask = torch.rand(2, 1, 37, 53) > 0.97
    mask[0, 0, 0, 0] = mask[1, 0, -1, -1] = True  # corners: the padding must not leak
    expected = F.max_pool2d(mask.float(), 2 * radius + 1, stride=1, padding=radius) > 0
    assert torch.equal(dilate(mask, radius), expected)


@pytest.mark.parametrize("radius", [1, 2, 8])
def test_box_mean_is_kornias_box_blur(radius: int) -> None:
    x = torch.rand(1, 4, 40, 57)
    expected = box_blur(x, (2 * radius + 1, 2 * radius + 1))  # reflect border, normalised
    assert (box_mean(x, radius) - expected).abs().max() < 1e-6


@pytest.mark.parametrize("radius", [0, 1, 2, 3, 8, 31])
def test_padded_box_mean_and_window_mean_are_average_pooling(radius: int) -> None:
    x = torch.rand(2, 3, 70, 90)
    k = 2 * radius + 1
    zeros = F.avg_pool2d(x, k, stride=1, padding=radius, count_include_pad=True)
    assert (padded_box_means(x, [radius])[0] - zeros).abs().max() < 1e-5
    assert (window_mean(x, radius) - F.avg_pool2d(x, k, stride=1)).abs().max() < 1e-5
    sums = F.avg_pool2d(x, k, stride=1, divisor_override=1)
    assert (window_sum(x, radius) - sums).abs().max() < 1e-5 * k * k


@pytest.mark.parametrize("size", [(40, 64), (45, 80), (23, 40), (1, 1)])
def test_halved_is_average_pooling_with_ceil_mode(size: tuple[int, int]) -> None:
    """Even sizes take the bilinear shortcut, odd ones pool: both are 2x2 means."""
    x = torch.rand(2, 4, *size)
    expected = F.avg_pool2d(x, 2, ceil_mode=True)
    assert halved(x).shape == expected.shape
    assert (halved(x) - expected).abs().max() < 1e-6


def test_box_means_of_several_radii_are_each_ones_own() -> None:
    """The running sums along the rows, made once for the largest radius, give each smaller
    one's the same numbers: equal to the last bit to the box means made one radius at a time
    (the colour prior's fills)."""
    x = torch.rand(2, 4, 46, 80)
    radii = [1, 3, 7, 15, 31]
    for radius, means in zip(radii, padded_box_means(x, radii), strict=True):
        assert torch.equal(means, padded_box_means(x, [radius])[0])
        k = 2 * radius + 1
        zeros = F.avg_pool2d(x, k, stride=1, padding=radius, count_include_pad=True)
        assert (means - zeros).abs().max() < 1e-5


@pytest.mark.parametrize(
    ("shape", "size"),
    [
        ((2, 3, 18, 32), (36, 64)),  # 2x: a half-resolution map
        ((1, 1, 36, 64), (108, 192)),  # 3x: the working size to 1080p
        ((1, 5, 12, 19), (12, 57)),  # along the rows alone
        ((1, 1, 6, 10), (36, 60)),  # 6x: to 4K
        ((1, 2, 1, 1), (3, 4)),  # one pixel
    ],
)
def test_enlarged_by_whole_factors_is_bilinear_interpolation(
    shape: tuple[int, ...], size: tuple[int, int]
) -> None:
    """The blends by phase against interpolate, whose own source positions are float
    products, off more the farther along a row (at these sizes by up to 3e-6)."""
    x = torch.rand(shape)
    expected = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    out = enlarged(x, size)
    assert out.shape == expected.shape and out.is_contiguous()
    assert (out - expected).abs().max() < 1e-5


def test_enlarged_otherwise_is_interpolate() -> None:
    """Sizes not a whole multiple, and channels-last maps (the head's), take interpolate."""
    x = torch.rand(1, 8, 10, 12)
    cases = [(x, (15, 24)), (x.contiguous(memory_format=torch.channels_last), (20, 24))]
    for image, size in cases:
        expected = F.interpolate(image, size=size, mode="bilinear", align_corners=False)
        assert torch.equal(enlarged(image, size), expected)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_sampling_points_split_among_threads_is_grid_sample(threads: int) -> None:
    """The points split into a batch (7 of them: not a whole number of parts but for one)."""
    image, grid = torch.rand(1, 3, 20, 30), torch.rand(1, 1, 7, 2) * 2.4 - 1.2
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for padding in ("zeros", "border"):
            expected = F.grid_sample(image, grid, padding_mode=padding, align_corners=False)
            assert torch.equal(sampled_at(image, grid, padding), expected[0, :, 0])
    finally:
        torch.set_num_threads(before)


def test_flat_nonzero_is_torchs_nonzero_of_the_flattened_mask() -> None:
    """Ascending flat indices, also of a strided view (the band's box) and of no pixel."""
    generator = torch.Generator().manual_seed(0)
    mask = torch.rand(1, 1, 40, 64, generator=generator) > 0.8
    for part in (mask, mask[..., 5:30, 7:50], mask & False):
        expected = torch.nonzero(part.flatten()).flatten()
        assert torch.equal(flat_nonzero(part), expected)
