"""The matting stage's GPU forms, run on the CPU. Where an operation's launch costs more than
its arithmetic (a GPU), the stage takes other forms of the same filters than on the CPU (one
pooling for a window's sums, a sort for the plate's median, one gather of a stack's frames;
`filters.launch_bound` decides). No GPU runs here, so these tests take those forms on the
CPU (`filters.gpu_forms`) and hold them to the CPU's values, one filter at a time and
through whole jobs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from tests.matte.test_refine import FG, _blur, _furry, _t, matte_as_a_job
from vidmatte.matte import Matter, filters, random_head
from vidmatte.matte.head import HeadConfig
from vidmatte.matte.infer import working_frame
from vidmatte.matte.plate import masked_median


def both(call, *args) -> tuple:
    """`call(*args)` in the CPU's forms, then in the GPU's."""
    cpu = call(*args)
    with filters.gpu_forms():
        return cpu, call(*args)


def test_the_cpu_is_not_launch_bound_and_the_switch_makes_it() -> None:
    """A mask's nonzero is numpy's on the CPU, torch's under the switch: the same indices."""
    mask = torch.rand(1, 1, 30, 40, generator=torch.Generator().manual_seed(0)) > 0.5
    cpu, gpu = both(lambda: (filters.launch_bound(mask), filters.flat_nonzero(mask)))
    assert cpu[0] is False and gpu[0] is True
    assert torch.equal(cpu[1], gpu[1])
    assert not filters.launch_bound(mask)  # the switch is undone on leaving


@pytest.mark.parametrize("radius", [1, 3, 8])
def test_window_sums_and_means_are_the_same_in_one_pooling(radius: int) -> None:
    x = torch.rand(2, 3, 41, 57, generator=torch.Generator().manual_seed(radius))
    for call in (filters.window_sum, filters.window_mean, filters.box_mean):
        cpu, gpu = both(call, x, radius)
        assert cpu.shape == gpu.shape
        torch.testing.assert_close(gpu, cpu, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("radius", [0, 1, 2, 5, 16])
def test_dilation_is_the_same_by_max_pooling(radius: int) -> None:
    mask = torch.rand(2, 1, 37, 53, generator=torch.Generator().manual_seed(radius)) > 0.97
    cpu, gpu = both(filters.dilate, mask, radius)
    assert gpu.dtype == torch.bool and torch.equal(gpu, cpu)
    assert cpu.sum() > mask.sum() or radius == 0


@pytest.mark.parametrize("size", [(40, 60), (41, 57)])
def test_halving_is_the_same_by_pooling(size: tuple[int, int]) -> None:
    x = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(1))
    cpu, gpu = both(filters.halved, x)
    torch.testing.assert_close(gpu, cpu, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("factors", [(2, 2), (3, 3), (6, 6), (1, 3)])
def test_enlarging_is_the_same_by_interpolate(factors: tuple[int, int]) -> None:
    x = torch.rand(1, 2, 9, 16, generator=torch.Generator().manual_seed(2))
    size = (9 * factors[0], 16 * factors[1])
    cpu, gpu = both(filters.enlarged, x, size)
    assert gpu.shape[-2:] == size
    torch.testing.assert_close(gpu, cpu, atol=1e-5, rtol=1e-5)


def test_a_frame_is_shrunk_the_same_by_interpolate() -> None:
    pixels = torch.from_numpy(np.random.default_rng(3).integers(0, 256, (270, 480, 3), np.uint8))
    cpu, gpu = both(working_frame, pixels, (90, 160))
    assert cpu.shape == gpu.shape == (1, 3, 90, 160)
    torch.testing.assert_close(gpu, cpu, atol=2e-6, rtol=1e-5)


def test_points_are_sampled_the_same_in_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch, "get_num_threads", lambda: 3)  # the CPU splits them in three
    image = torch.rand(1, 3, 20, 30, generator=torch.Generator().manual_seed(4))
    grid = torch.rand(1, 1, 101, 2, generator=torch.Generator().manual_seed(5)) * 2.2 - 1.1
    for padding in ("zeros", "border"):
        cpu, gpu = both(filters.sampled_at, image, grid, padding)
        assert cpu.shape == (3, 101)
        assert torch.equal(gpu, cpu)


def test_the_plates_median_is_the_same_sorted() -> None:
    generator = torch.Generator().manual_seed(6)
    values = torch.rand(8, 3, 500, generator=generator)
    seen = torch.rand(8, 1, 500, generator=generator) > 0.4
    cpu, gpu = both(masked_median, values, seen)
    assert torch.equal(gpu, cpu)


def _moving_furry_clip(h: int, w: int, k: int) -> list[tuple[np.ndarray, torch.Tensor]]:
    """A disc with strands moving over a textured background, frames `k` times the
    working size (so the whole-factor shrinking and enlarging run), logits of the disc."""
    rng = np.random.default_rng(7)
    background = ndimage.uniform_filter(rng.random((h, w, 3)), (5, 5, 1))
    frames = []
    for t in range(7):
        truth = _furry(h, w, 30 + 9 * t, strand_to=30)
        image = truth[..., None] * FG + (1 - truth[..., None]) * background
        soft = _blur((truth > 0.9).astype(np.float32), 5).clip(1e-4, 1 - 1e-4)
        rgb = np.kron(image, np.ones((k, k, 1)))
        frames.append(((rgb * 255).round().astype(np.uint8), _t(np.log(soft / (1 - soft)))))
    return frames


@pytest.mark.parametrize(
    ("edges", "plate"), [("best", True), ("best", False), ("fast", False), ("none", False)]
)
def test_a_jobs_mattes_are_the_same_in_the_gpus_forms(edges: str, plate: bool) -> None:
    """Whole jobs (the plate fed ahead, each frame's alpha the next one's previous) matted in
    each form: the mattes agree to float rounding, which the solve's steps carry a little
    further (measured: mean differences 2e-7 to 7e-6 a frame, none above 6e-4)."""
    h, w, k = 72, 144, 3
    frames = _moving_furry_clip(h, w, k)
    head = random_head(config=HeadConfig(base_channels=8, working_size=w))
    cpu, gpu = both(lambda: matte_as_a_job(Matter(head, "cpu", edges, plate=plate), frames))
    soft = 0
    for a, b in zip(cpu, gpu, strict=True):
        assert a.shape == b.shape == (h * k, w * k)
        difference = np.abs(a - b)
        assert difference.mean() < 3e-5 and difference.max() < 3e-3
        soft += ((a > 0.01) & (a < 0.99)).sum()
    assert soft > 1000  # the frames had edges to refine
