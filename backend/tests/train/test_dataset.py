"""Dataset builder: layout, shapes, alpha range, exactness of the composites, review."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from tests.npy_loads import InFlight
from vidmatte.matte import HeadConfig, Matter, load_head
from vidmatte.train import dataset
from vidmatte.train.dataset import (
    Clip,
    ClipConfig,
    DatasetError,
    Foreground,
    blur_layers,
    build_dataset,
    clip_folders,
    composite_layers,
    compressed_copy,
    disc_kernel,
    feature_channels,
    h264_round_trip,
    image_alpha_set,
    path_kernel,
    ping_pong,
    read_clip,
    read_clips,
    read_rgb,
    review,
    write_clip,
)
from vidmatte.train.masks import LOWRES, synthetic_logits
from vidmatte.train.strands import StrandsConfig, furry_object, strand_foregrounds
from vidmatte.train.trainer import TrainConfig, train
from vidmatte.train.transparent import SHAPES, TransparentConfig, transparent_object


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
    made = composite_layers(fg, background, cfg, rng)
    rgb, pha, cover = made.rgb, made.pha, made.cover
    assert np.array_equal(cover, np.clip(cover, 0, 1)) and np.abs(cover - pha).max() < 0.01
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


@pytest.mark.parametrize("shape", SHAPES)
def test_transparent_objects_alpha_in_range(shape: str) -> None:
    """Inside its silhouette a glass object's alpha lies in the configured range (0.1-0.6);
    edge pixels are coverage x that, so nothing exceeds 0.6; its cover is the silhouette."""
    rng = np.random.default_rng(0)
    fg = transparent_object("g", rng, TransparentConfig(size=128, cap_p=0), shape)
    pha, cover = fg.pha[0], fg.cover[0]
    assert fg.fgr.shape == (1, *pha.shape, 3) and fg.fgr.min() >= 0 and fg.fgr.max() <= 1
    full = cover >= 0.999
    assert full.sum() > 20
    assert pha[full].min() >= 0.1 - 1e-5 and pha.max() <= 0.6 + 1e-5
    assert (pha <= cover + 1e-6).all() and ((pha > 0) == (cover > 0)).all()
    assert pha[full].std() > 0.01  # smoothly varying (rim, streak), not one flat level


def test_rings_are_thin_and_caps_opaque() -> None:
    rng = np.random.default_rng(0)
    cfg = TransparentConfig(size=128, cap_p=1)
    ring = transparent_object("g", rng, cfg, "ring")
    inside = ring.cover[0] > 0.5
    assert (ndimage.binary_fill_holes(inside) & ~inside).sum() > 1000  # a hole in the middle
    assert 2 * ndimage.distance_transform_edt(inside).max() <= 0.05 * 128 + 2  # a few px thick
    for shape in ("bottle", "bulb"):  # the cap / screw base is opaque, the glass is not
        fg = transparent_object("g", rng, cfg, shape)
        pha = fg.pha[0]
        beside_cap = ndimage.binary_dilation(pha > 1 - 1e-6, iterations=2)
        assert beside_cap.sum() > 20 and pha[~beside_cap].max() <= 0.6 + 1e-5


def test_blurred_transparent_composite_matches_alpha_exactly() -> None:
    """Glass alpha with known constant F and B, moved, motion-blurred, defocused and shaken:
    every stored pixel equals F·alpha + B·(1-alpha) with the stored alpha within 1/255."""
    rng = np.random.default_rng(3)
    glass = transparent_object("g", rng, TransparentConfig(size=48, cap_p=0), "ellipse")
    fg_colour, bg_colour = np.array([0.3, 0.8, 0.6]), np.array([200, 40, 90], np.uint8)
    fg = Foreground("g", np.broadcast_to(fg_colour, glass.fgr.shape).copy(), glass.pha, glass.cover)
    background = np.broadcast_to(bg_colour, (5, 80, 100, 3)).copy()
    cfg = ClipConfig(frames=5, height=60, width=80, motion_blur_p=1, lens_blur_p=1, shake_p=1)
    made = composite_layers(fg, background, cfg, rng)
    rgb, pha, cover = made.rgb, made.pha, made.cover
    expected = pha[..., None] * fg_colour * 255 + (1 - pha[..., None]) * bg_colour
    assert np.abs(rgb - expected).max() <= 1.0
    assert 0 < pha.max() <= 0.6 + 1 / 255 and cover.max() > pha.max()  # masks see the silhouette


def test_furry_objects_have_an_opaque_body_and_strands_of_partial_coverage() -> None:
    """A furry object: an opaque body, strands growing out past the segmenter's outline
    (`cover`), and many pixels of partial alpha where strands are thinner than a pixel or
    translucent; the same seed draws the same objects."""
    fg = furry_object("f", np.random.default_rng(0), StrandsConfig(size=128))
    pha, cover = fg.pha[0], fg.cover[0]
    assert fg.fgr.shape == (1, *pha.shape, 3) and fg.fgr.min() >= 0 and fg.fgr.max() <= 1
    assert pha.min() >= 0 and pha.max() <= 1 + 1e-6
    h, w = pha.shape
    body = pha[int(0.42 * h) : int(0.58 * h), int(0.42 * w) : int(0.58 * w)]
    assert body.min() > 0.999 and cover[h // 2, w // 2] == 1  # the body is opaque, outlined
    mixed = (pha > 0.02) & (pha < 0.98)
    assert mixed.mean() > 0.1  # hair, not a hard blob
    beyond = (cover == 0) & (pha > 0.02)
    assert beyond.sum() > 100  # strands the outline leaves out: the head must find them
    again = strand_foregrounds(2, seed=5, cfg=StrandsConfig(size=64))
    assert [f.name for f in again] == ["fur000", "fur001"]
    same = strand_foregrounds(2, seed=5, cfg=StrandsConfig(size=64))[1]
    assert np.array_equal(again[1].pha, same.pha)
    assert not np.array_equal(again[0].pha, again[1].pha)


@pytest.mark.parametrize("kind", ["disc", "path"])
def test_blur_keeps_alpha_in_range_and_conserves_mass(kind: str) -> None:
    rng = np.random.default_rng(4)
    layers = torch.zeros(3, 2, 64, 64)
    layers[:, 0, 20:44, 24:40] = 1.0  # an opaque block (alpha)
    layers[:, 1, 20:44, 24:40] = torch.rand(24, 16)  # and a ragged one
    kernels = (
        [disc_kernel(r) for r in (1.5, 3.0, 5.5)]
        if kind == "disc"
        else [path_kernel(length, rng) for length in (4.0, 10.0, 20.0)]
    )
    assert all(float(k.sum()) == pytest.approx(1.0, abs=1e-5) and k.min() >= 0 for k in kernels)
    out = blur_layers(layers, kernels)
    assert out.shape == layers.shape and out.min() >= 0 and out.max() <= 1 + 1e-6
    assert torch.allclose(out.sum((-2, -1)), layers.sum((-2, -1)), rtol=1e-5)
    assert ((out > 0.01) & (out < 0.99)).sum() > ((layers > 0.01) & (layers < 0.99)).sum()


def test_disc_kernel_is_round_and_path_kernel_is_a_path() -> None:
    disc = disc_kernel(4.0)
    assert disc.shape == (9, 9) and disc[4, 0] > 0 and disc[0, 0] == 0  # corners outside
    path = path_kernel(20.0, np.random.default_rng(5))
    assert (path > 0).float().mean() < 0.5  # a thin curve, not a blob
    assert path.shape[0] >= 11


def _one_clip(sources: dict) -> dict:
    """build_dataset's arguments for one small clip of A01 over the test background."""
    return dict(
        image_sets=[sources["images"]],
        backgrounds=[sources["bg"]],
        names=["A01"],
        clips_per_foreground=1,
        frames=3,
        height=64,
        width=96,
        seed=7,
    )


def test_build_with_transparent_objects_and_object_blur(tiny_sources, tmp_path) -> None:
    """Opt-in: glass clips follow the others, their masks follow the silhouette, the settings
    are recorded (and reach the card through dataset.json), and the other clips are unchanged."""
    # A seed whose glass clips' synthetic masks cover the glass: their random degradations
    # (SyntheticMaskConfig: thin parts removed, blobs, holes) leave some seeds' thin glass all
    # but unmasked (3, 5 and 6 among 0-9).
    common = {**_one_clip(tiny_sources), "seed": 0}
    plain = build_dataset(tmp_path / "plain", **common)
    extra = build_dataset(tmp_path / "extra", transparent=2, **common)
    names = [f.name for f in clip_folders(extra)]
    assert names == ["A01_000", "glass000_000", "glass001_000"]
    a, b = read_clip(plain / "clips" / "A01_000"), read_clip(extra / "clips" / "A01_000")
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.logits, b.logits)
    for name in names[1:]:
        clip = read_clip(extra / "clips" / name)
        seen = clip.pha[clip.pha > 0.02]
        assert (seen <= 0.6 + 1 / 255).mean() > 0.8  # glass (a cap, if drawn, is opaque)
        soft = torch.sigmoid(
            torch.nn.functional.interpolate(torch.from_numpy(clip.logits)[:, None], (64, 96))
        )[:, 0].numpy()
        assert soft[clip.pha > 0.1].mean() > 0.8  # the mask covers the glass, not its alpha
    settings = json.loads((extra / "dataset.json").read_text())
    assert settings["transparent"] == 2 and settings["clip"]["lens_blur_p"] == 0
    blurred = build_dataset(tmp_path / "blur", object_blur_p=1.0, **common)
    settings = json.loads((blurred / "dataset.json").read_text())
    assert settings["clip"]["lens_blur_p"] == settings["clip"]["shake_p"] == 1.0
    with pytest.raises(ValueError, match="object_blur_p"):
        build_dataset(tmp_path / "bad", object_blur_p=1.5, **common)


def test_build_with_furry_objects(tiny_sources, tmp_path) -> None:
    """Opt-in like the glass: fur clips follow the others, which stay unchanged; their masks
    cover the body, not every strand; the count is recorded."""
    common = {**_one_clip(tiny_sources), "seed": 0}
    plain = build_dataset(tmp_path / "plain", **common)
    extra = build_dataset(tmp_path / "extra", strands=1, **common)
    assert [f.name for f in clip_folders(extra)] == ["A01_000", "fur000_000"]
    a, b = read_clip(plain / "clips" / "A01_000"), read_clip(extra / "clips" / "A01_000")
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.logits, b.logits)
    fur = read_clip(extra / "clips" / "fur000_000")
    assert ((fur.pha > 0.02) & (fur.pha < 0.98)).mean() > 0.02  # strands: partial coverage
    assert json.loads((extra / "dataset.json").read_text())["strands"] == 1
    with pytest.raises(ValueError, match="strands must be >= 0"):
        build_dataset(tmp_path / "bad", strands=-1, **common)


def test_h264_round_trip_keeps_shape_and_adds_codec_error() -> None:
    """Odd sizes come back as they went in; flat colour survives; detail gets the codec's
    error, more at a higher CRF."""
    flat = np.full((4, 37, 51, 3), (200, 40, 90), np.uint8)
    out = h264_round_trip(flat, 23)
    assert out.shape == flat.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - flat).max() <= 3
    rng = np.random.default_rng(0)
    detail = np.repeat(rng.integers(0, 256, (4, 19, 26, 3), dtype=np.uint8), 2, axis=1)[:, :37]
    detail = np.repeat(detail, 2, axis=2)[:, :, :51]
    errors = [np.abs(h264_round_trip(detail, crf).astype(int) - detail).mean() for crf in (18, 40)]
    assert 0.5 < errors[0] < errors[1]


def test_h264_round_trip_gives_the_same_frames_every_time() -> None:
    """A seed must build the same clips (test_dataset_workers.py). libx264's macroblock-tree
    rate control read memory it had not written on an AVX-512 machine (AMD EPYC): the same
    three small frames came back two ways, up to 86 levels apart, depending on what the
    process had allocated before. Allocations in between make such a read show; these
    frames (noise as a build's composites hold it, channels last as rgb8 gives them) showed it
    in 11 of 30 calls."""
    noise = torch.rand(3, 3, 48, 64, generator=torch.Generator().manual_seed(0))
    frames = np.ascontiguousarray((noise * 255).round().byte().permute(0, 2, 3, 1).numpy())
    rng = np.random.default_rng(0)
    first = h264_round_trip(frames, 28)
    for size in range(1, 31):
        churn = [rng.bytes(9216 * (size % 7 + 1)) for _ in range(100)]
        np.testing.assert_array_equal(h264_round_trip(frames, 28), first)
        del churn


def test_build_with_codec_compresses_rgb_only(tiny_sources, tmp_path) -> None:
    """`codec_p`: the composite goes through H.264 (close to the clean one, not equal); the
    alpha stays exact; off, a seed builds what it did before."""
    common = _one_clip(tiny_sources)
    plain = read_clip(build_dataset(tmp_path / "plain", **common) / "clips" / "A01_000")
    again = read_clip(build_dataset(tmp_path / "off", codec_p=0.0, **common) / "clips" / "A01_000")
    assert np.array_equal(plain.rgb, again.rgb)
    coded_set = build_dataset(tmp_path / "codec", codec_p=1.0, **common)
    coded = read_clip(coded_set / "clips" / "A01_000")
    assert np.array_equal(plain.pha, coded.pha)
    assert np.abs(coded.rgb.astype(int) - plain.rgb).mean() > 0.2
    # The test background is noise, which H.264 smooths, but the picture stays the same one.
    assert np.corrcoef(coded.rgb.ravel(), plain.rgb.ravel())[0, 1] > 0.5
    assert json.loads((coded_set / "dataset.json").read_text())["clip"]["codec_p"] == 1.0
    with pytest.raises(ValueError, match="codec_p"):
        build_dataset(tmp_path / "bad", codec_p=2.0, **common)


def test_compressed_copy_codes_every_clip_and_keeps_the_source(tiny_dataset, tmp_path) -> None:
    before = {f.name: read_clip(f) for f in clip_folders(tiny_dataset)}
    copy = compressed_copy(tiny_dataset, tmp_path / "h264", crf=30)
    assert json.loads((copy / "dataset.json").read_text())["h264_crf"] == 30
    for folder in clip_folders(copy):
        clip, source = read_clip(folder), before[folder.name]
        assert clip.rgb.shape == source.rgb.shape and not np.array_equal(clip.rgb, source.rgb)
        assert np.array_equal(clip.pha, source.pha)
        assert np.array_equal(read_clip(tiny_dataset / "clips" / folder.name).rgb, source.rgb)


def test_a_jpeg_photo_pairs_with_its_png_alpha_by_name(tiny_sources, tmp_path) -> None:
    """The GPU kit carries photos as JPEG (smaller) beside their exact PNG alphas: the builder
    pairs them by stem and keeps the alpha exact; a photo without an alpha is a clear error."""
    images = tmp_path / "images"
    shutil.copytree(tiny_sources["images"] / "alpha", images / "alpha")
    (images / "image").mkdir()
    for png in (tiny_sources["images"] / "image").glob("*.png"):
        Image.open(png).save(images / "image" / f"{png.stem}.jpg", quality=95)
    common = {**_one_clip(tiny_sources), "image_sets": [images]}
    jpeg = read_clip(build_dataset(tmp_path / "jpeg", **common) / "clips" / "A01_000")
    png = read_clip(
        build_dataset(tmp_path / "png", **_one_clip(tiny_sources)) / "clips" / "A01_000"
    )
    assert np.array_equal(jpeg.pha, png.pha)
    (images / "alpha" / "A01.png").unlink()
    with pytest.raises(DatasetError, match=r"no alpha of the same name for A01\.jpg in"):
        build_dataset(tmp_path / "orphan", **common)


def test_a_clip_that_cannot_be_written_stops_the_build(tiny_sources, tmp_path) -> None:
    """Clips are written in threads while the next is composited: a failed write still
    surfaces as the build's error, not a silently missing clip."""
    (tmp_path / "ds" / "clips").mkdir(parents=True)
    (tmp_path / "ds" / "clips" / "A01_000").write_text("in the way")
    with pytest.raises((FileExistsError, NotADirectoryError)):
        build_dataset(tmp_path / "ds", **_one_clip(tiny_sources))


def test_a_16_bit_alpha_keeps_its_soft_values(tmp_path) -> None:
    """A 16-bit PNG alpha (as Photoshop or Nuke write them) was clipped to 8 bits' range:
    every value above 255 of 65535 read as opaque, so soft hair and glass trained as solid,
    without a word. A 16-bit grayscale photo or background read almost white the same way."""
    root = tmp_path / "set"
    for sub in ("image", "alpha", "cache"):
        (root / sub).mkdir(parents=True)
    alpha16 = np.round(np.linspace(0, 1, 12) * 65535).astype(np.uint16)[None].repeat(8, 0)
    Image.fromarray(alpha16).save(root / "alpha" / "x.png")
    assert Image.open(root / "alpha" / "x.png").mode == "I;16"
    photo = np.full((8, 12, 3), 120, np.uint8)
    Image.fromarray(photo).save(root / "image" / "x.png")
    Image.fromarray(photo).save(root / "cache" / "x.png")  # its foreground, estimated already
    (foreground,) = image_alpha_set(root, cache=root / "cache")
    np.testing.assert_allclose(foreground.pha[0], alpha16 / 65535, atol=0.5 / 255 + 1e-6)
    Image.fromarray(alpha16).save(tmp_path / "gray16.png")
    expected = np.round(alpha16 / 257).astype(np.uint8)[..., None].repeat(3, 2)
    np.testing.assert_array_equal(read_rgb(tmp_path / "gray16.png"), expected)


def test_an_alpha_with_an_alpha_channel_is_read_from_that_channel(tmp_path) -> None:
    """An alpha kept as a cut-out (RGBA, or grey + alpha: the matte in its alpha channel, as
    an rgba_png export writes it) was read as its brightness, so a dark foreground trained as
    transparent. A grey matte whose alpha channel is all opaque is still read as grey."""
    root = tmp_path / "set"
    for sub in ("image", "alpha", "cache"):
        (root / sub).mkdir(parents=True)
    photo = np.full((8, 12, 3), 40, np.uint8)  # a dark foreground
    Image.fromarray(photo).save(root / "image" / "x.png")
    Image.fromarray(photo).save(root / "cache" / "x.png")  # its foreground, estimated already
    matte = np.round(np.linspace(0, 255, 12)).astype(np.uint8)[None].repeat(8, 0)
    grey = np.full_like(matte, 200)
    for mode, bands, expected in [
        ("RGBA", [photo[..., 0], photo[..., 1], photo[..., 2], matte], matte),
        ("LA", [photo[..., 0], matte], matte),
        ("LA", [grey, np.full_like(matte, 255)], grey),  # opaque: the grey is the matte
    ]:
        image = Image.merge(mode, [Image.fromarray(band) for band in bands])
        image.save(root / "alpha" / "x.png")
        assert Image.open(root / "alpha" / "x.png").mode == mode
        (foreground,) = image_alpha_set(root, cache=root / "cache")
        np.testing.assert_allclose(foreground.pha[0], expected / 255, atol=1e-6)


def test_a_short_foreground_clip_plays_back_and_forth_not_in_a_loop() -> None:
    """`--frames` longer than a foreground video: it looped, its last frame followed by its
    first, a jump cut in the middle of a training clip."""
    assert ping_pong(8, 3) == [0, 1, 2, 1, 0, 1, 2, 1]
    assert ping_pong(4, 6) == [0, 1, 2, 3]
    assert ping_pong(3, 1) == [0, 0, 0]
    assert ping_pong(5, 2) == [0, 1, 0, 1, 0]


def test_clips_read_in_threads_parse_one_npy_header_at_a_time(tmp_path, monkeypatch) -> None:
    """`read_clips` decodes clips in threads. numpy parses a .npy header with ast.literal_eval,
    and CPython 3.11's AST constructor keeps one recursion count for all threads
    (python/cpython#106905): two threads parsing at once failed CI with "SystemError: AST
    constructor recursion depth mismatch". The .npy and .npz files are read one at a time; each
    load here is slowed so that any two in flight together would be seen."""
    folders = []
    for i in range(6):
        folder = tmp_path / f"clip{i}"
        clip = Clip(
            f"clip{i}",
            np.zeros((2, 8, 8, 3), np.uint8),
            np.zeros((2, 8, 8), np.float32),
            np.zeros((2, 256, 256), np.float32),
            {"feat_s0": np.zeros((2, 4, 8, 8), np.float16)},
        )
        write_clip(folder, clip, {})
        folders.append(folder)
    loads = InFlight(monkeypatch)
    monkeypatch.setattr(dataset, "IO_THREADS", 4)  # threads even on a machine of one core
    clips = read_clips(folders)
    assert [c.name for c in clips] == [f.name for f in folders]
    assert clips[0].features["feat_s0"].shape == (2, 4, 8, 8)
    assert loads.most == 1
