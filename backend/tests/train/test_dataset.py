"""Dataset builder: layout, shapes, alpha range, exactness of the composites, review."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vidmatte.matte import HeadConfig, Matter, load_head
from vidmatte.train.dataset import (
    ClipConfig,
    Foreground,
    clip_folders,
    composite_clip,
    feature_channels,
    read_clip,
    review,
)
from vidmatte.train.masks import LOWRES, synthetic_logits
from vidmatte.train.trainer import TrainConfig, train


def test_build_layout_and_shapes(tiny_dataset) -> None:
    folders = clip_folders(tiny_dataset)
    assert [f.name for f in folders] == ["A01_000", "A02_000", "clip0_000"]
    for folder in folders:
        clip = read_clip(folder)
        assert clip.rgb.shape == (3, 64, 96, 3) and clip.rgb.dtype == np.uint8
        assert clip.pha.shape == (3, 64, 96)
        assert clip.pha.min() >= 0 and clip.pha.max() <= 1 and clip.pha.max() > 0.5
        assert clip.logits.shape == (3, LOWRES, LOWRES)
    assert json.loads((tiny_dataset / "dataset.json").read_text())["masks"] == "synthetic"


def test_composite_matches_alpha_exactly() -> None:
    """Constant colours: every pixel equals fg·alpha + bg·(1-alpha) with the stored alpha,
    to within uint8 rounding."""
    rng = np.random.default_rng(1)
    fg_colour, bg_colour = np.array([0.9, 0.2, 0.1]), np.array([10, 120, 240], np.uint8)
    alpha = np.clip(rng.random((40, 50)) * 1.5, 0, 1).astype(np.float32)
    fg = Foreground("x", np.broadcast_to(fg_colour, (1, 40, 50, 3)).astype(np.float32), alpha[None])
    background = np.broadcast_to(bg_colour, (4, 80, 100, 3)).copy()
    cfg = ClipConfig(frames=4, height=60, width=80, motion_blur_p=1.0, defocus_p=1.0)
    rgb, pha = composite_clip(fg, background, cfg, rng)
    expected = pha[..., None] * fg_colour * 255 + (1 - pha[..., None]) * bg_colour
    assert np.abs(rgb - expected).max() <= 0.51
    assert np.allclose(pha * 255, np.round(pha * 255), atol=1e-3)  # stored exactly as uint8
    assert (pha > 0).any() and (pha < 1).any()


def test_synthetic_masks_are_close_but_not_exact() -> None:
    rng = np.random.default_rng(2)
    alpha = np.zeros((5, 120, 160), np.float32)
    alpha[:, 30:90, 40:120] = 1
    logits = synthetic_logits(alpha, rng)
    soft = torch.sigmoid(
        torch.nn.functional.interpolate(
            torch.from_numpy(logits)[:, None], size=(120, 160), mode="bilinear"
        )
    )[:, 0].numpy()
    err = np.abs(soft - alpha).mean()
    assert 0.001 < err < 0.1
    assert np.abs(np.diff(logits, axis=0)).mean() > 0  # frame-to-frame jitter


def test_review_writes_sheets_and_honours_rejects(tiny_dataset, tmp_path) -> None:
    decisions = tmp_path / "decisions.txt"
    decisions.write_text("A02_000 reject\nA01_000 accept\n")
    sheets = review(tiny_dataset, decisions)
    assert len(sheets) == 3 and all(s.is_file() for s in sheets)
    assert "A02_000" not in [f.name for f in clip_folders(tiny_dataset)]
    decisions.write_text("A02_000 accept\n")
    review(tiny_dataset, decisions)
    assert len(clip_folders(tiny_dataset)) == 3


@pytest.fixture(scope="module")
def sam2_dataset(tiny_sources, tmp_path_factory) -> Path:
    """The original recipe end to end with the shrunk random SAM2 (shapes only: random weights)."""
    from vidmatte.train.dataset import build_dataset

    return build_dataset(
        tmp_path_factory.mktemp("sam2ds"),
        image_sets=[tiny_sources["images"]],
        backgrounds=[tiny_sources["bg"]],
        names=["A01"],
        clips_per_foreground=1,
        frames=2,
        height=64,
        width=96,
        masks="sam2",
        sam2_model="test-tiny",
    )


def test_sam2_masks_with_test_tiny(sam2_dataset) -> None:
    folder = clip_folders(sam2_dataset)[0]
    clip = read_clip(folder)
    assert clip.logits.shape == (2, LOWRES, LOWRES) and np.isfinite(clip.logits).all()
    assert json.loads((folder / "meta.json").read_text())["masks"] == "sam2"
    # SAM2's features are cached per frame: feat_s1 at half feat_s0's resolution, finite.
    s0, s1 = clip.features["feat_s0"], clip.features["feat_s1"]
    assert s0.shape[0] == s1.shape[0] == 2 and s0.dtype == np.float16
    assert s0.shape[2] == 2 * s1.shape[2] and np.isfinite(s0).all() and np.isfinite(s1).all()
    assert feature_channels(sam2_dataset) == {"feat_s0": s0.shape[1], "feat_s1": s1.shape[1]}


def test_head_trains_and_mattes_with_sam2_features(sam2_dataset, tiny_dataset, tmp_path) -> None:
    channels = feature_channels(sam2_dataset)
    config = HeadConfig(
        base_channels=8,
        working_size=96,
        use_sam_features=True,
        feat_s0_channels=channels["feat_s0"],
        feat_s1_channels=channels["feat_s1"],
    )
    steps = TrainConfig(steps=2, batch_size=2, crop=32, lr=1e-3)
    weights = train(sam2_dataset, tmp_path / "run", steps, config, threads=1)
    head, card = load_head(weights)
    assert head.config.use_sam_features and card["training"]["steps_done"] == 2
    # Matter feeds the features; a head trained with them refuses to run without them.
    clip = read_clip(clip_folders(sam2_dataset)[0])
    feats = {k: torch.from_numpy(v[:1]).float() for k, v in clip.features.items()}
    logits = torch.from_numpy(clip.logits[:1])[:, None]
    matter = Matter(head)
    alpha = matter(clip.rgb[0], logits, None, **feats)
    assert alpha.shape == (64, 96) and alpha.min() >= 0 and alpha.max() <= 1
    with pytest.raises(ValueError, match="feat_s0"):
        matter(clip.rgb[0], logits)
    # A synthetic-mask dataset has no features: a clear error, not a crash mid-training.
    with pytest.raises(ValueError, match="--masks sam2"):
        train(tiny_dataset, tmp_path / "run2", steps, config, threads=1)
