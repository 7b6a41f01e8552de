"""Matting head, weights and full-resolution inference contracts (docs/ARCHITECTURE.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import fill
from vidmatte.matte import HeadConfig, Matter, MattingHead, load_head, random_head, save_head
from vidmatte.matte.head import (
    _block_of_concat,
    _conv_block,
    boundary_band,
    colour_prior,
    count_parameters,
    for_inference,
)
from vidmatte.matte.infer import working_frame, working_shape
from vidmatte.matte.refine import fast_guided_filter, resize

SMALL = HeadConfig(base_channels=8, working_size=128)


def _inputs(h: int = 64, w: int = 96, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, h, w, generator=gen), torch.randn(2, 1, h, w, generator=gen) * 4


def test_forward_shape_and_range() -> None:
    rgb, logits = _inputs()
    with torch.no_grad():
        alpha = random_head(config=SMALL)(rgb, logits)
    assert alpha.shape == (2, 1, 64, 96)
    assert alpha.min() >= 0 and alpha.max() <= 1


def test_untrained_head_is_the_soft_mask() -> None:
    """The output layer starts at zero, so training starts from alpha = sigmoid(logits)."""
    rgb, logits = _inputs()
    with torch.no_grad():
        alpha = MattingHead(SMALL).eval()(rgb, logits)
    torch.testing.assert_close(alpha, torch.sigmoid(logits))


def test_inference_copy_folds_batch_norms_and_gives_the_same_alpha() -> None:
    """What Matter runs: no batch norm left, the eval-mode head's alpha to float rounding,
    and the caller's head (its weights and its training mode) untouched."""
    head = random_head(config=SMALL)
    gen = torch.Generator().manual_seed(3)
    for bn in (m for m in head.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        # Statistics of a trained head, so that folding them is not the identity.
        bn.running_mean.copy_(torch.randn(bn.num_features, generator=gen) * 0.3)
        bn.running_var.copy_(torch.rand(bn.num_features, generator=gen) + 0.5)
        bn.weight.data.copy_(torch.rand(bn.num_features, generator=gen) + 0.5)
        bn.bias.data.copy_(torch.randn(bn.num_features, generator=gen) * 0.2)
    head.train()
    before = {k: v.clone() for k, v in head.state_dict().items()}
    net = for_inference(head)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    assert head.training and not net.training
    assert all(torch.equal(v, head.state_dict()[k]) for k, v in before.items())
    rgb, logits = _inputs()
    with torch.no_grad():
        expected = head.eval()(rgb, logits)
        folded = net(rgb, logits)
    assert (expected - 0.5).abs().lt(0.49).float().mean() > 0.02  # a band to compare on
    torch.testing.assert_close(folded, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("train", [True, False])
def test_a_block_of_concatenated_maps_is_computed_without_joining_them(train: bool) -> None:
    """The head's convolutions over joined maps (the decoder's skips, the last layer's raw
    inputs) run on each part with its slice of the weights: the same output as on the
    joined maps, channels-last included, and the same gradients in training."""
    gen = torch.Generator().manual_seed(3)
    block = _conv_block(7, 5, dilation=2).train(train)
    parts = [
        torch.randn(2, c, 20, 24, generator=gen).contiguous(memory_format=torch.channels_last)
        for c in (4, 3)
    ]
    for p in parts:
        p.requires_grad_(True)
    joined = block(torch.cat(parts, 1))
    split = _block_of_concat(block, parts)
    torch.testing.assert_close(split, joined, atol=1e-5, rtol=1e-5)
    grads = torch.autograd.grad(joined.square().sum(), [*parts, block[0].weight])
    split_grads = torch.autograd.grad(split.square().sum(), [*parts, block[0].weight])
    for a, b in zip(split_grads, grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-3, rtol=1e-3)  # sums in another order


def test_default_size_is_small() -> None:
    assert 0.3e6 < count_parameters(MattingHead()) < 2.5e6


def test_prev_alpha_none_means_soft_mask() -> None:
    head = random_head(config=SMALL)
    rgb, logits = _inputs()
    with torch.no_grad():
        none = head(rgb, logits, None)
        same = head(rgb, logits, torch.sigmoid(logits))
        other = head(rgb, logits, torch.zeros_like(logits))
    torch.testing.assert_close(none, same)
    assert not torch.allclose(none, other)


def _blend_scene(h: int = 96, w: int = 128) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A red foreground over a blue background with a 6 px linear alpha ramp at x = 60: (rgb,
    alpha, the mask cut at alpha 0.5)."""
    alpha = ((torch.arange(w) - 60) / 6).clamp(0, 1).expand(1, 1, h, w)
    fg = torch.tensor([0.9, 0.1, 0.1]).view(1, 3, 1, 1)
    bg = torch.tensor([0.1, 0.2, 0.8]).view(1, 3, 1, 1)
    return alpha * fg + (1 - alpha) * bg, alpha, (alpha > 0.5).float()


def test_colour_prior_recovers_colours_and_alpha() -> None:
    """Over flat colours the prior is exact: F and B are the two colours and the implied alpha
    is the true alpha, including 6 px of soft edge that the binary mask gets wrong."""
    rgb, alpha, soft = _blend_scene()
    prior = colour_prior(rgb, soft)
    assert prior.shape == (1, 8, 96, 128)
    torch.testing.assert_close(prior[:, 0:3, :, -1], rgb[:, :, :, -1], atol=1e-4, rtol=0)
    torch.testing.assert_close(prior[:, 3:6, :, 0], rgb[:, :, :, 0], atol=1e-4, rtol=0)
    torch.testing.assert_close(prior[:, 6:7], alpha, atol=2e-3, rtol=0)
    contrast = torch.linalg.vector_norm(torch.tensor([0.8, -0.1, -0.7]))
    torch.testing.assert_close(prior[0, 7], contrast.expand(96, 128), atol=1e-3, rtol=0)


def test_colour_prior_is_float32_and_finite_under_autocast() -> None:
    rgb, _, soft = _blend_scene()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        prior = colour_prior(rgb.bfloat16(), soft.bfloat16())
    assert prior.dtype == torch.bfloat16 and torch.isfinite(prior.float()).all()
    empty = colour_prior(rgb, torch.zeros_like(soft))  # no foreground known at all
    assert torch.isfinite(empty).all() and empty[:, 0:3].abs().max() == 0


def test_sam_features_flag() -> None:
    cfg = HeadConfig(base_channels=8, use_sam_features=True, feat_s0_channels=4, feat_s1_channels=6)
    head = random_head(config=cfg)
    rgb, logits = _inputs()
    with torch.no_grad():
        plain = head(rgb, logits)
        fed = head(
            rgb, logits, feat_s0=torch.randn(2, 4, 32, 32), feat_s1=torch.randn(2, 6, 16, 16)
        )
    assert fed.shape == plain.shape and not torch.allclose(fed, plain)


def test_save_load_round_trip(tmp_path) -> None:
    head = random_head(seed=3, config=SMALL)
    path = tmp_path / "head.safetensors"
    save_head(path, head, {"metrics": {"MAD": 1.0}})
    loaded, card = load_head(path)
    assert card["metrics"] == {"MAD": 1.0} and card["config"]["base_channels"] == 8
    assert (tmp_path / "head.json").is_file()
    rgb, logits = _inputs()
    with torch.no_grad():
        torch.testing.assert_close(loaded(rgb, logits), head(rgb, logits), rtol=0, atol=0)


def test_saving_over_weights_on_a_full_disk_keeps_the_old_ones(one_mb_disk: Path) -> None:
    """save_head wrote in place: a full disk (or a crash) mid-write left a truncated file where
    the last good weights were. Now the new file lands by rename, or nothing changes."""
    path = one_mb_disk / "head.safetensors"
    save_head(path, random_head(seed=1, config=SMALL), {"run": 1})
    before = {p.name: p.read_bytes() for p in one_mb_disk.iterdir()}
    assert sorted(before) == ["head.json", "head.safetensors"]  # no temporary file left
    fill(one_mb_disk)
    with pytest.raises(OSError, match="No space left"):
        save_head(path, random_head(seed=2, config=SMALL), {"run": 2})
    (one_mb_disk / "filler").unlink()
    assert {p.name: p.read_bytes() for p in one_mb_disk.iterdir()} == before
    assert load_head(path)[1]["run"] == 1


def test_load_missing_raises(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="vidmatte train"):
        load_head(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_weights_that_are_not_finite_are_refused_naming_the_file(tmp_path, bad: float) -> None:
    """A head with a NaN weight loaded, and every alpha it made was NaN, exported as 0."""
    head = random_head(seed=3, config=SMALL)
    with torch.no_grad():
        head.out[-1].weight.view(-1)[0] = bad
    path = tmp_path / "head.safetensors"
    save_head(path, head, {})
    with pytest.raises(ValueError) as refused:
        load_head(path)
    assert str(refused.value) == (
        f"{path} holds weights that are not finite (NaN or infinity, in "
        f"{_out_weight(head)}): every matte would be empty; use other weights or train them again"
    )


def _out_weight(head: MattingHead) -> str:
    """The state-dict name of the head's last layer's weight."""
    last = head.out[-1].weight
    return next(name for name, parameter in head.named_parameters() if parameter is last)


def test_working_shape_keeps_aspect() -> None:
    assert working_shape(1080, 1920, 512, 16) == (288, 512)
    assert working_shape(100, 60, 512, 16) == (96, 64)


@pytest.mark.parametrize(
    ("frame", "size"),
    [
        ((60, 96), (20, 32)),
        ((72, 96), (12, 16)),
        ((60, 64), (20, 16)),
        ((40, 64), (20, 32)),
        ((50, 70), (21, 32)),
    ],
)
def test_a_frame_shrinks_to_the_working_size_as_resize_does(
    frame: tuple[int, int], size: tuple[int, int]
) -> None:
    """Whole factors of 3, 6, 3 by 4 (the strided passes), 2 and none (torch's)."""
    pixels = torch.randint(
        0, 256, (*frame, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )
    expected = resize(pixels.permute(2, 0, 1)[None].float() / 255, size)
    shrunk = working_frame(pixels, size)
    assert shrunk.shape == (1, 3, *size) and shrunk.is_contiguous()
    torch.testing.assert_close(shrunk, expected, atol=1e-6, rtol=0)


def test_guided_filter_keeps_constants() -> None:
    guide = torch.rand(1, 3, 32, 32)
    src = torch.full((1, 1, 32, 32), 0.7)
    out = fast_guided_filter(guide, guide, src)
    torch.testing.assert_close(out, src, atol=1e-4, rtol=0)


@pytest.mark.parametrize("edges", ["best", "fast", "none"])
def test_matter_full_resolution(edges: str) -> None:
    matter = Matter(random_head(config=SMALL), "cpu", edges)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    logits = torch.randn(1, 1, 256, 256) * 4
    alpha = matter(rgb, logits)
    assert alpha.shape == (1080, 1920) and alpha.dtype == np.float32
    assert alpha.min() >= 0 and alpha.max() <= 1
    with_prev = matter(rgb, logits, np.zeros((1080, 1920), np.float32))
    assert with_prev.shape == (1080, 1920) and not np.allclose(with_prev, alpha)


def test_matter_keeps_certain_regions() -> None:
    """Confident foreground / background logits stay 1 / 0 with an identity head."""
    matter = Matter(MattingHead(SMALL), "cpu")
    logits = torch.full((1, 1, 64, 64), -20.0)
    logits[..., 16:48, 16:48] = 20.0
    rgb = np.full((200, 300, 3), 128, np.uint8)
    alpha = matter(rgb, logits)
    assert alpha[100, 150] == pytest.approx(1.0, abs=1e-6)
    assert alpha[5, 5] == pytest.approx(0.0, abs=1e-6)


def test_head_only_changes_the_band_around_the_mask_edge() -> None:
    cfg = HeadConfig(base_channels=8, band_radius=4)
    logits = torch.full((1, 1, 64, 64), -20.0)
    logits[..., 16:48, 16:48] = 20.0
    logits[..., 16:48, 16] = 0.0  # one uncertain edge column
    with torch.no_grad():
        alpha = random_head(config=cfg)(torch.rand(1, 3, 64, 64), logits)
    hard, soft = (logits > 0).float(), torch.sigmoid(logits)
    assert torch.equal(alpha[..., :, 21:], hard[..., :, 21:])  # more than 4 px from the edge
    assert not torch.equal(alpha[..., 16:48, 12:21], soft[..., 16:48, 12:21])


def test_alpha_is_exactly_0_or_1_where_the_mask_is_sure() -> None:
    """SAM2's logits often sit at ±4..6, not ±20: sigmoid gives 0.98..0.998 inside and a faint
    haze outside. Beyond the head's band the mask is sure, so alpha there is exactly the
    mask's side, not its sigmoid (a matte a compositor can trust to be clean)."""
    cfg = HeadConfig(base_channels=8, band_radius=4)
    logits = torch.full((1, 1, 64, 64), -5.0)
    logits[..., 16:48, 16:48] = 5.0
    logits[..., 16:48, 16] = 0.0
    with torch.no_grad():
        alpha = random_head(config=cfg)(torch.rand(1, 3, 64, 64), logits)
    far = ~boundary_band(torch.sigmoid(logits), 4)
    assert far.float().mean() > 0.5
    assert torch.equal(alpha[far], (logits[far] > 0).float())


def test_matter_leaves_sure_regions_alone_with_unsaturated_logits() -> None:
    """With logits at ±5 the refinement's gate (0.001 < alpha < 0.999) opened over the whole
    frame and the "best" edges moved textured interiors and backgrounds (tens of grey levels).
    Now only the band around the mask's edge may change."""
    rng = np.random.default_rng(0)
    rgb = (rng.random((128, 128, 3)) * 255).astype(np.uint8)
    logits = torch.full((1, 1, 128, 128), -5.0)
    logits[..., 32:96, 32:96] = 5.0
    alpha = Matter(MattingHead(SMALL), "cpu", "best")(rgb, logits)
    assert (alpha[44:84, 44:84] == 1.0).all()  # interior, > 16 px from the edge
    outside = np.ones_like(alpha, bool)
    outside[14:114, 14:114] = False
    assert (alpha[outside] == 0.0).all()
