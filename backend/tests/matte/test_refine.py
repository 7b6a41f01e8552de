"""The edge refinements on scenes whose true alpha is known: the torch matting-Laplacian solve
against pymatting's closed-form matting, the confidence gate, opaque and transparent objects."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from pymatting import cf_laplacian, estimate_alpha_cf
from scipy import ndimage

from vidmatte.ahead import fed_ahead
from vidmatte.matte import Matter, random_head, refine
from vidmatte.matte.head import HeadConfig
from vidmatte.matte.laplacian import TiledLaplacian, solve
from vidmatte.matte.refine import (
    Beside,
    BestSettings,
    Gate,
    Refined,
    apply_guided,
    best_edges,
    gated,
    guided_coefficients,
    resize,
    sampled_alpha,
    upsampled_at,
)

FG, BG = np.array([0.9, 0.6, 0.2]), np.array([0.1, 0.3, 0.7])


def _t(x: np.ndarray) -> torch.Tensor:
    """(H,W) -> (1,1,H,W), (H,W,3) -> (1,3,H,W), float32."""
    x = torch.from_numpy(np.asarray(x, np.float32))
    return x.permute(2, 0, 1)[None] if x.ndim == 3 else x[None, None]


def _scene(size: int = 96, strands: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Two flat colours blended by a known alpha: a disc with a soft rim and (`strands`) thin
    strands, the case the colour-line model behind the Laplacian describes exactly."""
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size / 2, xx - size / 2)
    alpha = np.clip((size * 0.3 - r) / 3, 0, 1)
    for x in range(10, size - 10, 7) if strands else ():  # one-pixel strands at 40% opacity
        alpha[size // 2 :, x] = np.maximum(alpha[size // 2 :, x], 0.4)
    image = alpha[..., None] * FG + (1 - alpha[..., None]) * BG
    return image, alpha


def _textured_scene(size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A soft-rimmed disc of a noisy colour over a smooth random background: (image, trimap
    with an unknown ring around the rim)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size / 2, xx - size / 2)
    alpha = np.clip((size * 0.3 - r) / 3, 0, 1)
    fg = 0.6 + 0.3 * rng.random((size, size, 3))
    bg = ndimage.uniform_filter(rng.random((size, size, 3)), (5, 5, 1)) * 0.5
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    trimap = np.where(r < size * 0.3 - 6, 1.0, np.where(r > size * 0.3 + 3, 0.0, 0.5))
    return image, trimap


def _blur(alpha: np.ndarray, size: int = 7) -> np.ndarray:
    return ndimage.uniform_filter(alpha, size).clip(0, 1).astype(np.float32)


@pytest.mark.parametrize(("radius", "eps"), [(1, 1e-7), (2, 1e-5)])
def test_laplacian_product_is_pymattings_matrix(radius: int, eps: float) -> None:
    """The matrix-free L·p equals pymatting's assembled Laplacian times p, border included."""
    rng = np.random.default_rng(1)
    image, p = rng.random((40, 70, 3)), rng.random((40, 70))
    expected = (cf_laplacian(image, epsilon=eps, radius=radius) @ p.ravel()).reshape(p.shape)
    lap = TiledLaplacian(_t(image), torch.ones(1, 1, 40, 70, dtype=torch.bool), radius, eps)
    product = lap.scatter(lap @ _t(p), torch.zeros(1, 1, 40, 70))[0, 0].numpy()
    assert np.abs(product - expected).max() < 1e-4 * np.abs(expected).max()


@pytest.mark.parametrize("eps", [1e-7, 1e-5])
def test_solve_matches_closed_form_matting(eps: float) -> None:
    """Without a prior, the solve is closed-form matting: pymatting's alpha, same trimap."""
    image, trimap = _textured_scene()
    expected = estimate_alpha_cf(image, trimap, laplacian_kwargs={"epsilon": eps})
    unknown = _t(trimap == 0.5) > 0
    start = _t(np.where(trimap == 0.5, 0.5, trimap))
    zero = torch.zeros_like(start)
    alpha = solve(_t(image), start, unknown, zero, zero, radius=1, eps=eps, iterations=100)
    alpha = alpha[0, 0].clamp(0, 1).numpy()  # pymatting clips too
    # Converged, the two agree to about 1e-6 (README); the issue asked for 0.01.
    assert np.abs(alpha - expected).mean() < 1e-5
    assert np.abs(alpha - expected)[trimap == 0.5].mean() < 1e-5
    np.testing.assert_array_equal(alpha[trimap != 0.5], trimap[trimap != 0.5])


def test_best_edges_recover_a_blurred_matte() -> None:
    image, truth = _scene()
    blurred = _blur(truth)  # what a head that misses fine detail gives
    fixed = best_edges(_t(image), _t(blurred))[0][0, 0].numpy()
    before, after = np.abs(blurred - truth).mean(), np.abs(fixed - truth).mean()
    assert after < before / 4, (before, after)
    assert fixed.dtype == np.float32 and fixed.min() >= 0 and fixed.max() <= 1


def test_colour_samples_explain_a_two_colour_blend() -> None:
    """Sure foreground and background are flat colours: every unsure pixel's samples are
    exactly FG and BG, so its alpha is the true one, with full confidence."""
    image, truth = _scene()
    blurred = _t(_blur(truth))
    gate = Gate()
    unknown = gate.unsure(blurred)
    samples = sampled_alpha(_t(image), blurred, unknown, gate)
    error = (samples.alpha - _t(truth)).abs()[unknown]
    assert error.max() < 0.01
    confidence = samples.confidence(BestSettings().sample_fit)
    assert confidence[unknown].min() > 0.9
    assert (samples.alpha[~unknown] == 0).all() and (confidence[~unknown] == 0).all()


def test_colour_samples_scored_in_runs_of_pixels_are_those_of_one_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On the CPU the pairs are scored a run of pixels at a time, for the cache
    (`refine._PAIRS_IN_CACHE`): runs of a few dozen pixels, one ending short, give exactly
    what one pass over every pixel gives."""
    image, trimap = _textured_scene()
    alpha = _t(_blur((trimap > 0.5).astype(np.float32)))
    gate = Gate()
    unknown = gate.unsure(alpha)
    monkeypatch.setattr(refine, "_PAIRS_IN_CACHE", 2**40)
    whole = sampled_alpha(_t(image), alpha, unknown, gate)
    monkeypatch.setattr(refine, "_PAIRS_IN_CACHE", 17 * 45 * 37)  # 37 pixels a run at most
    runs = sampled_alpha(_t(image), alpha, unknown, gate)
    assert int(unknown.sum()) % 37 and int(unknown.sum()) > 10 * 37
    for field, a, b in zip(whole._fields, whole, runs, strict=True):
        assert torch.equal(a, b), field
    found = whole.alpha[unknown]
    assert float(found.min()) < 0.1 and float(found.max()) > 0.9  # a real fit, both sides


def _striped_errors(striped: str) -> tuple[float, float]:
    """Mean error of the colour samples' alpha on the unsure pixels of an 8 px ramp between
    red and blue stripes 8 px high (on the `striped` side: "fg" or "bg") and a flat colour,
    sampling that side with centred squares only and with the defaults (beside the pixel)."""
    yy, xx = np.mgrid[:64, :64]
    truth = np.clip((40 - xx) / 8, 0, 1).astype(np.float32)[..., None]  # opaque left of 32
    stripes = np.where(((yy // 8) % 2 == 0)[..., None], [0.9, 0.1, 0.1], [0.1, 0.1, 0.9])
    flat = np.array([0.3, 0.8, 0.3])
    fg, bg = (stripes, flat) if striped == "fg" else (flat, stripes)
    image, alpha = _t(truth * fg + (1 - truth) * bg), _t(truth[..., 0])
    gate = Gate()
    unknown = gate.unsure(alpha)
    centred = {f"{striped}_beside": Beside(())}
    errors = [
        float(
            (sampled_alpha(image, alpha, unknown, gate, **kw).alpha - alpha).abs()[unknown].mean()
        )
        for kw in (centred, {})
    ]
    return errors[0], errors[1]


def test_colour_samples_beside_a_pixel_keep_a_striped_foregrounds_colours_apart() -> None:
    """Red and blue stripes end in a ramp over a flat background. Squares centred on a ramp
    pixel reach both stripes and average them into purple, which explains its blend badly;
    squares beside it (`Beside`) hold its own stripe's colour."""
    centred, beside = _striped_errors("fg")
    assert beside < 0.006 < 0.01 < centred, (centred, beside)


def test_colour_samples_beside_a_pixel_keep_a_striped_backgrounds_colours_apart() -> None:
    """The same on the other side: a flat object's ramp over the stripes. Squares centred on
    a ramp pixel average the stripes behind it into purple; with the background's samples
    beside it, its blend is found between the object and its own stripe (`_search` finds
    the pair in turns)."""
    centred, beside = _striped_errors("bg")
    assert beside < 0.003 < 0.01 < centred, (centred, beside)


def _noisy_frame(image: np.ndarray) -> np.ndarray:
    """`image` (64 px) as a noisy 512 px frame, uint8."""
    rgb = np.kron((image * 255).round().astype(np.uint8), np.ones((8, 8, 1), np.uint8))
    noisy = np.clip(rgb + np.random.default_rng(0).integers(-20, 21, rgb.shape), 0, 255)
    return noisy.astype(np.uint8)


def _mask_logits(square: bool) -> torch.Tensor:
    """Confident logits (64 px) of `_scene`'s disc (radius 19.2) as a mask reaching a little
    past its rim, or of a square (32 px a side) that leaves the disc's sides out."""
    yy, xx = np.mgrid[:64, :64]
    inside = (
        np.maximum(abs(yy - 31.5), abs(xx - 31.5)) < 16
        if square
        else np.hypot(yy - 32, xx - 32) < 20
    )
    return _t(np.where(inside, 8.0, -8.0).astype(np.float32))


def test_sure_pixels_are_never_changed() -> None:
    """Where the head is sure (alpha <= lo or >= hi, and no unsure pixel within the gate's
    `grow`) and the frame holds nothing of the object beyond its mask, every refinement
    returns its value bit for bit, noise in the background or not: on a frame above the
    working size, against `none` (the head upsampled)."""
    rgb, logits = _noisy_frame(_scene(64, strands=False)[0]), _mask_logits(square=False)
    head = random_head(config=HeadConfig(base_channels=8, working_size=128))
    plain = Matter(head, "cpu", "none")(rgb, logits)
    gate = Gate()
    sure = ~gate.unsure(torch.from_numpy(plain)[None, None], scale=512 / 128)[0, 0].numpy()
    assert sure.any() and (~sure).any()
    for edges in ("best", "fast"):
        alpha = Matter(head, "cpu", edges)(rgb, logits)
        np.testing.assert_array_equal(alpha[sure], plain[sure])
        assert not np.array_equal(alpha[~sure], plain[~sure])


def test_what_the_head_called_background_is_found_from_the_frame() -> None:
    """The object beyond the head's mask (a square inside a disc, and thin strands at 40%
    opacity), which the head calls sure background: without a plate the colour samples find
    it within `strand_reach` of the object (`opened_by_samples`) and the solve gives it
    alpha. The sure pixels that change are the object's or beside it (at most 0.1 there:
    the guided upsampling's reach), their error falls, and farther ones keep the head's
    value bit for bit; with `strand_reach` 0 every sure pixel does, and so with a
    `strand_differs` no colour passes (a pixel like some background candidate is left)."""
    image, truth = _scene(64)
    rgb, logits = _noisy_frame(image), _mask_logits(square=True)
    truth = np.kron(truth, np.ones((8, 8)))
    head = random_head(config=HeadConfig(base_channels=8, working_size=128))
    plain = Matter(head, "cpu", "none")(rgb, logits)
    sure = ~Gate().unsure(torch.from_numpy(plain)[None, None], scale=512 / 128)[0, 0].numpy()
    matter = Matter(head, "cpu", "best")
    alpha = matter(rgb, logits)
    changed = sure & (alpha != plain)
    found = truth > 0
    # Measured: 5,109 pixels of the object and 323 beside them changed; error 0.38 -> 0.16.
    assert (changed & found).sum() > 4000 and (changed & ~found).sum() < 1000
    assert np.abs(alpha - plain)[changed & ~found].max() <= 0.1
    assert np.abs(alpha - truth)[changed].mean() < 0.5 * np.abs(plain - truth)[changed].mean()
    reach = matter.best.strand_reach * 4 + 16  # working pixels to the frame's, and the filter
    near = ndimage.binary_dilation(~sure, iterations=reach)
    np.testing.assert_array_equal(alpha[~near], plain[~near])
    for closed in (replace(matter.best, strand_reach=0), replace(matter.best, strand_differs=1)):
        np.testing.assert_array_equal(
            Matter(head, "cpu", "best", best=closed)(rgb, logits)[sure], plain[sure]
        )


def test_nothing_unsure_is_returned_as_is() -> None:
    image, _ = _scene(32)
    binary = torch.zeros(1, 1, 32, 32)
    binary[..., 8:24, 8:24] = 1
    assert best_edges(_t(image), binary)[0] is binary


def test_opaque_textured_foliage_keeps_no_holes() -> None:
    """Thin, fully opaque leaves with the background's own colours (so colour says nothing),
    the head not quite sure inside them (0.95) and blurred across their edges: no pixel inside
    a leaf may fall below 0.5 or more than `max_drop` below the head. Without that guard the
    solve does punch holes here."""
    rng = np.random.default_rng(2)
    size = 96
    texture = rng.random((size, size, 3))
    truth = np.zeros((size, size))
    for x in range(8, size - 8, 12):  # vertical leaves 5 px wide, and one cross-bar
        truth[8:-8, x : x + 5] = 1
    truth[40:45, 8:-8] = 1
    leaves = rng.permutation(texture.reshape(-1, 3)).reshape(texture.shape)
    image = truth[..., None] * leaves + (1 - truth[..., None]) * texture
    head = 0.95 * _blur(truth, 3)
    inside = ndimage.binary_erosion(truth == 1)
    settings = BestSettings()
    out = best_edges(_t(image), _t(head), settings)[0][0, 0].numpy()
    assert out[inside].min() >= 0.5
    assert (out[inside] >= head[inside] - settings.max_drop - 1e-6).all()
    unguarded = best_edges(_t(image), _t(head), replace(settings, max_drop=1.0))[0][0, 0].numpy()
    assert unguarded[inside].min() < 0.5


def test_clear_glass_keeps_its_transparency() -> None:
    """A clear object at true alpha 0.4 (a disc of white over a textured background) beside
    the opaque part of the same object; the head fills the disc at 0.8, as it does with a
    clear bulb. The colour evidence (the opaque part's colour, the background around) pulls
    the disc back: mean error within 0.1 of the true 0.4, from 0.4 before."""
    rng = np.random.default_rng(3)
    size = 96
    yy, xx = np.mgrid[:size, :size]
    background = 0.25 + 0.1 * ndimage.uniform_filter(rng.random((size, size, 3)), (3, 3, 1))
    white = np.array([0.95, 0.95, 0.9])
    disc = np.hypot(yy - 48, xx - 40) < 18
    base = (yy >= 30) & (yy < 66) & (xx >= 58) & (xx < 80)  # the opaque socket
    truth = np.where(base, 1.0, np.where(disc, 0.4, 0.0))
    image = truth[..., None] * white + (1 - truth[..., None]) * background
    head = np.where(base, 1.0, np.where(disc, 0.8, 0.0))
    head = ndimage.uniform_filter(head, 3).astype(np.float32)
    out = best_edges(_t(image), _t(head))[0][0, 0].numpy()
    inside = ndimage.binary_erosion(disc & ~base, iterations=3)
    assert np.abs(head[inside] - 0.4).mean() > 0.35
    assert np.abs(out[inside] - 0.4).mean() < 0.1


def _glass_scene(
    height: int, width: int, cx: float, radius: float, clear: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A disc centred at (height / 2, cx) over a still textured background: clear glass
    (true alpha 0.35, a pale tint that varies slowly) or an opaque textured object, whose
    texture moves with it (one that stayed put as the disc moved would be a window onto
    another scene, which is what clear glass looks like). (image, background, truth)."""
    yy, xx = np.mgrid[:height, :width]
    texture = np.random.default_rng(5).random((height, width, 3))
    background = ndimage.uniform_filter(texture, (3, 3, 1))
    disc = np.clip(radius - np.hypot(yy - height / 2, xx - cx), 0, 1)
    if clear:
        truth = 0.35 * disc
        colour = 0.8 + 0.1 * np.sin(xx / 9.0)[..., None] * np.array([1.0, 0.5, -0.5])
    else:
        truth = disc
        own = np.roll(texture, (7, 7 + round(cx)), axis=(0, 1))[..., ::-1]
        colour = ndimage.uniform_filter(own, (3, 3, 1), mode="wrap")
    image = truth[..., None] * colour + (1 - truth[..., None]) * background
    return image, background, truth


@pytest.mark.parametrize("clear", [True, False], ids=["glass", "opaque"])
def test_glass_deep_inside_the_object_is_seen_through_where_the_plate_knows_it(
    clear: bool,
) -> None:
    """The head fills a disc of clear glass (true alpha 0.35) as opaque, far beyond its unsure
    band, where the solve does not reach. With the background behind it known (a plate), the
    frame there is that background seen through a pale tint, and alpha falls to the glass's:
    mean error deep inside below 0.05 (measured 0.013), from 0.65. An opaque textured disc
    over the same background keeps every deep pixel at the head's 1: its texture does not
    follow the background's."""
    size = 128
    image, background, truth = _glass_scene(size, size, size / 2, 45, clear)
    head = _blur((truth > 0).astype(np.float32), 3)
    settings = BestSettings()
    known = (_t(background), torch.ones(1, 1, size, size))
    out = best_edges(_t(image), _t(head), settings, known).alpha[0, 0].numpy()
    plain = best_edges(_t(image), _t(head), settings).alpha[0, 0].numpy()
    deep = ndimage.binary_erosion(head >= 0.999, iterations=12)
    assert deep.sum() > 1500
    assert (plain[deep] == 1).all()
    if clear:
        assert np.abs(out[deep] - truth[deep]).mean() < 0.05
    else:
        assert (out[deep] == 1).all()


@pytest.mark.parametrize("clear", [True, False], ids=["glass", "opaque"])
def test_glass_the_plate_knows_a_strip_of_is_seen_through_beyond_it(clear: bool) -> None:
    """In a short clip the plate knows the background behind only the strip of the object
    it moved off: here the disc's left 25 px. Deep inside but beyond that strip, the glass
    the fit is sure of in the strip speaks for its neighbours: mean error there below 0.2
    (measured 0.10; 0.648 before, the strip alone lowered). An opaque textured disc with the
    same strip known keeps every deep pixel at 1."""
    size = 128
    image, background, truth = _glass_scene(size, size, size / 2, 45, clear)
    head = _blur((truth > 0).astype(np.float32), 3)
    known = np.zeros((size, size), np.float32)
    known[:, : size // 2 - 45 + 25] = 1
    out = best_edges(_t(image), _t(head), BestSettings(), (_t(background), _t(known)))
    out = out.alpha[0, 0].numpy()
    deep = ndimage.binary_erosion(head >= 0.999, iterations=12)
    beyond = deep & (known == 0)
    assert beyond.sum() > 1500
    if clear:
        assert np.abs(out[beyond] - truth[beyond]).mean() < 0.2
    else:
        assert (out[deep] == 1).all()


def _job_frame(image: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, torch.Tensor]:
    """A frame as a job mattes it: rgb uint8 and SAM2-like mask logits from the object's
    silhouette (truth > 0), blurred."""
    soft = _blur((truth > 0).astype(np.float32), 5).clip(1e-4, 1 - 1e-4)
    return (image * 255).round().astype(np.uint8), _t(np.log(soft / (1 - soft)))


def _glass_clip(
    height: int, width: int, centres: list[float], radius: float, clear: bool
) -> tuple[list[tuple[np.ndarray, torch.Tensor]], list[np.ndarray]]:
    """`_glass_scene`'s disc at each of `centres` as a job's frames (`_job_frame`), and the
    true alphas."""
    scenes = [_glass_scene(height, width, cx, radius, clear) for cx in centres]
    return [_job_frame(image, truth) for image, _, truth in scenes], [s[2] for s in scenes]


@pytest.mark.parametrize("clear", [True, False], ids=["glass", "opaque"])
def test_a_jobs_plate_sees_through_glass_the_head_fills(clear: bool) -> None:
    """Through Matter as a job calls it: a disc of clear glass (true alpha 0.35) moving over a
    still textured background, which the head fills as opaque. The frames before and after
    (fed ahead) have seen the background behind it, so deep inside alpha falls to the
    glass's in every frame. An opaque textured disc moving the same way keeps its 1 there."""
    h, w = 96, 192
    head = random_head(config=HeadConfig(base_channels=8, working_size=w))
    frames, truths = _glass_clip(h, w, [40 + 12 * t for t in range(8)], 26, clear)
    mattes = matte_as_a_job(Matter(head, "cpu", "best", plate=True), frames)
    without = Matter(head, "cpu", "best")
    for (rgb, logits), alpha, truth in zip(frames, mattes, truths, strict=True):
        deep = ndimage.binary_erosion(truth == truth.max(), iterations=12)
        assert deep.sum() > 500
        assert (without(rgb, logits)[deep] == 1).all()
        if clear:  # measured: 0.016 to 0.022 a frame
            assert np.abs(alpha - truth)[deep].mean() < 0.03
        else:
            assert (alpha[deep] == 1).all()


@pytest.mark.parametrize("clear", [True, False], ids=["glass", "opaque"])
def test_glass_the_plate_never_sees_behind_is_seen_through_as_it_moves(clear: bool) -> None:
    """Through Matter as a job calls it: a disc of clear glass (true alpha 0.35, radius 36)
    that moves only 4 px a frame, so no frame of the clip shows the background behind its
    deep inside and the plate knows none of it there. Where the object has moved over a
    place, the frames show the same background through it (they follow the background's
    motion, not the object's), so deep inside alpha falls towards the glass's: mean error
    below 0.1 over the clip (measured 0.045), and below 0.15 in every frame (0.009 to
    0.054; 0.64 to 0.65 before). An opaque disc whose texture moves with it keeps its 1."""
    h, w = 112, 192
    head = random_head(config=HeadConfig(base_channels=8, working_size=w))
    frames, truths = _glass_clip(h, w, [70 + 4 * t for t in range(8)], 36, clear)
    mattes = matte_as_a_job(Matter(head, "cpu", "best", plate=True), frames)
    errors = []
    for alpha, truth in zip(mattes, truths, strict=True):
        deep = ndimage.binary_erosion(truth == truth.max(), iterations=12)
        assert deep.sum() > 1500
        if clear:
            errors.append(np.abs(alpha - truth)[deep].mean())
        else:
            assert (alpha[deep] == 1).all()
    if clear:
        assert max(errors) < 0.15 and np.mean(errors) < 0.1


@pytest.mark.parametrize("moved", [0.0, BestSettings().glass_moved], ids=["unchecked", "default"])
def test_an_opaque_object_that_barely_moves_is_not_taken_for_glass(moved: float) -> None:
    """An opaque disc with a smooth texture of its own, moving 1 px a frame: the frames near
    in time show much the same texture at the same place, as glass would show the background.
    Only views whose object moved at least `glass_moved` pixels there count, so none does
    here and every deep pixel keeps its 1. Without that check (0 px), 99% of the deep inside
    of two frames was lowered."""
    h, w = 112, 192
    head = random_head(config=HeadConfig(base_channels=8, working_size=w))
    rng = np.random.default_rng(5)
    background = ndimage.uniform_filter(rng.random((h, w, 3)), (3, 3, 1))
    own = ndimage.uniform_filter(np.random.default_rng(9).random((h, w + 64, 3)), (9, 9, 1))
    yy, xx = np.mgrid[:h, :w]
    frames, truths = [], []
    for t in range(8):
        truth = np.clip(36 - np.hypot(yy - h / 2, xx - 80 - t), 0, 1)
        surface = own[:, 64 - t : 64 - t + w]  # moves with the disc
        image = truth[..., None] * surface + (1 - truth[..., None]) * background
        frames.append(_job_frame(image, truth))
        truths.append(truth)
    matter = Matter(head, "cpu", "best", plate=True)
    matter.best = replace(matter.best, glass_moved=moved)
    lowered = [
        float((alpha[ndimage.binary_erosion(truth == 1, iterations=12)] < 1).mean())
        for alpha, truth in zip(matte_as_a_job(matter, frames), truths, strict=True)
    ]
    if moved:
        assert max(lowered) == 0
    else:
        assert max(lowered) > 0.9


def test_matter_rejects_an_unknown_refinement() -> None:
    with pytest.raises(ValueError, match="edges must be one of best, fast, none"):
        Matter(random_head(config=HeadConfig(base_channels=8)), "cpu", "sharp")  # type: ignore[arg-type]


def test_best_edges_only_move_the_band() -> None:
    """Through Matter, on a large frame: the solve runs at working resolution and is guided-
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


@pytest.mark.parametrize(("height", "width"), [(1080, 1920), (562, 1000)])
def test_filtering_only_the_bands_box_is_exact(height: int, width: int) -> None:
    """The guided filter run on the band's bounding box only gives what the whole frame gives,
    also where the frame and working sizes share no integer scale."""
    matter = Matter(random_head(config=HeadConfig(base_channels=8)), "cpu", "fast")
    generator = torch.Generator().manual_seed(0)
    frame = torch.randint(0, 256, (height, width, 3), dtype=torch.uint8, generator=generator)
    full = frame.permute(2, 0, 1)[None] / 255
    low = resize(full, (360, 640))
    alpha = torch.zeros(1, 1, 360, 640)
    alpha[..., 100:200, 300:420] = torch.rand(1, 1, 100, 120, generator=generator)
    whole = apply_guided(guided_coefficients(low, alpha, matter.gf_radius, matter.gf_eps), full)
    expected = gated(whole, resize(alpha, (height, width)), matter.gate, height / 360)
    torch.testing.assert_close(matter.refine(frame, low, alpha), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("small", "big", "tolerance"),
    [((37, 53), (111, 159), 1e-6), ((40, 64), (90, 144), 2e-5), ((5, 7), (23, 29), 1e-6)],
)
def test_upsampling_at_some_pixels_is_resizing_there(
    small: tuple[int, int], big: tuple[int, int], tolerance: float
) -> None:
    """Three times, 2.25 times and no whole ratio: the frame's edges (clamped) included.
    Against resizing in float64; at 2.25 times the columns are widened by interpolate in
    float32, whose source positions are float products (off by up to 1e-5 here)."""
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(1, 5, *small, generator=generator) * 4 - 2
    rows, cols = torch.nonzero(torch.rand(big, generator=generator) > 0.7).unbind(1)
    rows, cols = (
        torch.cat([rows, torch.tensor([0, big[0] - 1])]),
        torch.cat([cols, torch.tensor([0, big[1] - 1])]),
    )
    expected = resize(x.double(), big)[0][:, rows, cols].float()
    torch.testing.assert_close(upsampled_at(x, big, rows, cols), expected, atol=tolerance, rtol=0)


def _checker(size: int, offset: int = 0) -> np.ndarray:
    """A high-contrast background whose colour nearby sure pixels cannot predict."""
    yy, xx = np.mgrid[:size, :size]
    squares = ((yy // 3) + (xx + offset) // 3) % 2
    return np.where(squares[..., None] > 0, [0.85, 0.8, 0.75], [0.1, 0.15, 0.2])


def test_a_known_background_plate_explains_soft_pixels_over_texture() -> None:
    """A soft-rimmed disc over a checkerboard: colour samples from nearby sure background
    average the squares and misjudge the rim; with the background as known (a plate), the
    rim's alpha follows the compositing equation."""
    size = 64
    yy, xx = np.mgrid[:size, :size]
    truth = np.clip((20 - np.hypot(yy - 32, xx - 32)) / 4, 0, 1)
    background = _checker(size)
    image = truth[..., None] * FG + (1 - truth[..., None]) * background
    head = _blur((truth > 0.5).astype(np.float32), 5)
    rim = (truth > 0.05) & (truth < 0.95)
    plain = best_edges(_t(image), _t(head))[0][0, 0].numpy()
    plate = (_t(background), torch.ones(1, 1, size, size))
    known = best_edges(_t(image), _t(head), background=plate)[0][0, 0].numpy()
    plain_error, known_error = np.abs(plain - truth)[rim].mean(), np.abs(known - truth)[rim].mean()
    assert known_error < 0.6 * plain_error
    assert known_error < 0.08


@pytest.mark.parametrize("background", ["checker", "stripes"])
def test_samples_that_explain_a_pixel_only_roughly_give_way_to_the_solve(background: str) -> None:
    """A disc with a 6 px soft rim over a textured background, the head blurred across it,
    no plate: where the squares the background's colours come from mix its texture, the
    best pair explains a rim pixel only roughly. Such pairs have little say
    (`BestSettings.sample_fit`); the solve's colour lines, which hold within each window,
    take the rim. Error on the head's unsure band: 0.0111 (checkerboard) and 0.0088 (stripes)
    when a rough fit counted as much as a close one."""
    size = 64
    yy, xx = np.mgrid[:size, :size]
    truth = np.clip((14 - np.hypot(yy - 32, xx - 32)) / 6, 0, 1)
    stripes = np.where(((yy // 4) % 2 == 0)[..., None], [0.9, 0.1, 0.1], [0.1, 0.1, 0.9])
    behind = _checker(size) if background == "checker" else stripes
    image = truth[..., None] * FG + (1 - truth[..., None]) * behind
    head = _blur((truth > 0.5).astype(np.float32), 7)
    band = (head > 0.001) & (head < 0.999)
    out = best_edges(_t(image), _t(head))[0][0, 0].numpy()
    assert np.abs(out - truth)[band].mean() < 0.004


def test_a_job_builds_the_plate_from_other_frames() -> None:
    """Through Matter as a job calls it: a soft disc moving over a static checkerboard; each
    frame is fed to the object's plate ahead of its matting, and where the disc has moved off
    the background it hides, the rim's error falls below what the same frames give without
    a plate."""
    size = 96
    yy, xx = np.mgrid[:size, :size]
    background = _checker(size)
    head = random_head(config=HeadConfig(base_channels=8, working_size=96))  # the soft mask
    with_plate, without = Matter(head, "cpu", "best", plate=True), Matter(head, "cpu", "best")
    assert with_plate.new_plate(size, size) is not None and without.new_plate(size, size) is None
    assert Matter(head, "cpu", "fast", plate=True).new_plate(size, size) is None
    frames, rims, truths = [], [], []
    for t in range(6):
        truth = np.clip((14 - np.hypot(yy - 48, xx - 20 - 10 * t)) / 4, 0, 1)
        image = truth[..., None] * FG + (1 - truth[..., None]) * background
        soft = _blur((truth > 0.5).astype(np.float32), 5).clip(1e-4, 1 - 1e-4)
        logits = _t(np.log(soft / (1 - soft)))  # a mask with an unsure rim, as SAM2's
        frames.append(((image * 255).round().astype(np.uint8), logits))
        rims.append((truth > 0.05) & (truth < 0.95))
        truths.append(truth)
    errors: dict[str, list[float]] = {"plate": [], "none": []}
    for (rgb, logits), alpha, truth, rim in zip(
        frames, matte_as_a_job(with_plate, frames), truths, rims, strict=True
    ):
        errors["plate"].append(float(np.abs(alpha - truth)[rim].mean()))
        errors["none"].append(float(np.abs(without(rgb, logits) - truth)[rim].mean()))
    # Measured: 0.0030 against 0.0045 over the six; the first frame, which no frame precedes,
    # 0.0026 against 0.0048 (a plate of earlier frames alone left it as it was).
    assert np.mean(errors["plate"]) < 0.8 * np.mean(errors["none"])
    assert errors["plate"][0] < 0.7 * errors["none"][0]


def _furry(
    height: int, width: int, cx: float, strand_to: float, strand_alpha: float = 0.6
) -> np.ndarray:
    """The true alpha of an opaque disc (radius 12, soft rim) centred at (height/2, cx) with
    twelve straight 2 px strands of `strand_alpha` out to `strand_to` pixels from its
    centre."""
    yy, xx = np.mgrid[:height, :width]
    r, angle = np.hypot(yy - height / 2, xx - cx), np.arctan2(yy - height / 2, xx - cx)
    alpha = np.clip((12 - r) / 2, 0, 1)
    for k in range(12):
        off = np.abs(np.angle(np.exp(1j * (angle - k * np.pi / 6)))) * r  # px from the ray
        alpha = np.maximum(alpha, np.where((off < 1) & (r < strand_to), strand_alpha, 0.0))
    return alpha


def test_a_known_plate_opens_strands_the_head_called_background() -> None:
    """The head's sure background near the object whose colour is not the plate's is opened
    to the solve (strands it missed); sure pixels farther than `reach`, or where the plate is
    not known, keep the head's value bit for bit, even where they are not the plate. The
    plate's opening alone: the colour samples' (`strand_reach`) are held back."""
    size, settings = 96, BestSettings(strand_reach=0)
    truth = _furry(size, size, size / 2, strand_to=26)
    background = _checker(size)
    image = truth[..., None] * FG + (1 - truth[..., None]) * background
    image[2:6, 2:6] = FG  # far from the object: not the plate, but beyond reach
    head = _blur((truth > 0.9).astype(np.float32), 5)  # the disc alone: strands at 0
    missed = (truth > 0.3) & (head <= settings.gate.lo)
    missed &= ~settings.gate.unsure(_t(head))[0, 0].numpy()
    assert missed.sum() > 100
    known = torch.ones(1, 1, size, size)
    known[..., size // 2 :, :] = 0  # the plate knows the top half only
    refined = best_edges(_t(image), _t(head), settings, (_t(background), known))
    out = refined.alpha[0, 0].numpy()
    top = np.zeros_like(missed)
    top[: size // 2] = True
    # Measured: 0.019 against the head's 0.6.
    assert np.abs(out - truth)[missed & top].mean() < 0.1
    opened = refined.opened[0, 0].numpy()
    assert opened[missed & top].mean() > 0.9 and not opened[size // 2 :].any()
    changed = out != head
    assert not changed[size // 2 :][
        ~settings.gate.unsure(_t(head))[0, 0, size // 2 :].numpy()
    ].any()
    assert (out[2:6, 2:6] == 0).all()
    no_plate = best_edges(_t(image), _t(head), settings)
    assert not no_plate.opened.any()
    assert (no_plate.alpha[0, 0].numpy()[missed] == 0).all()


def _missed_strands(
    strand_alpha: float, plate_noise: float = 0.0, flat: bool = False
) -> tuple[np.ndarray, Refined, np.ndarray]:
    """A furry disc over a checkerboard (or, `flat`, BG; strands to 26 px), the head's alpha
    the disc alone, refined with the background as a plate known everywhere, off by uniform
    noise of +-`plate_noise` per pixel and channel: (truth, refined, the strand pixels the
    head missed beyond its band)."""
    size, settings = 96, BestSettings()
    truth = _furry(size, size, size / 2, strand_to=26, strand_alpha=strand_alpha)
    background = np.broadcast_to(BG, (size, size, 3)) if flat else _checker(size)
    image = truth[..., None] * FG + (1 - truth[..., None]) * background
    head = _blur((truth > 0.9).astype(np.float32), 5)
    missed = (truth > 0) & (truth < 0.9) & (head <= settings.gate.lo)
    missed &= ~settings.gate.unsure(_t(head))[0, 0].numpy()
    noise = np.random.default_rng(3).uniform(-plate_noise, plate_noise, background.shape)
    plate = (_t(background + noise), torch.ones(1, 1, size, size))
    return truth, best_edges(_t(image), _t(head), settings, plate), missed


def test_the_plate_gives_opened_strands_the_compositing_equations_alpha() -> None:
    """Where the plate knows the background, the colour samples know both sides of a blend
    (a foreground colour from the object, the background from the plate), and their alpha
    has the say over the Laplacian's smoothing (`BestSettings.plate_sample_weight`): thin
    strands the head missed come out at their alpha, not spread or thinned."""
    truth, refined, missed = _missed_strands(0.6)
    assert missed.sum() > 100 and refined.opened[0, 0].numpy()[missed].all()
    # Measured: 0.00016; 0.0027 with the samples weighed as where no plate is known.
    assert np.abs(refined.alpha[0, 0].numpy() - truth)[missed].mean() < 1e-3


def test_faint_strands_over_a_still_background_are_opened() -> None:
    """Strands at 12% differ from the background behind them by 0.07 to 0.1: below a fixed
    bar of 0.1, above the floor of 0.05 that a still background whose plate is exact lets
    through (`opening_threshold`)."""
    truth, refined, missed = _missed_strands(0.12)
    assert missed.sum() > 100
    # Measured: all opened, error 5e-5; a fixed bar of 0.1 opens none (error 0.12).
    assert refined.opened[0, 0].numpy()[missed].mean() > 0.9
    error = np.abs(refined.alpha[0, 0].numpy() - truth)[missed].mean()
    assert error < 0.2 * 0.12  # the head's error there is 0.12


def test_a_plate_off_by_noise_raises_the_bar_for_opening() -> None:
    """The same strands with the plate off by up to 0.07 everywhere (codec noise, a background
    drifting by itself): most of the background near the object now differs from the plate
    by more than the floor, and their median raises the bar, so the noise is not opened as
    strands."""
    truth, refined, _ = _missed_strands(0.12, plate_noise=0.07)
    opened = refined.opened[0, 0].numpy()
    clear = truth == 0
    # Measured: none opened and a mean error of 0.0005 there (the band's, leaning on a plate
    # given as fully trusted); a fixed bar of 0.05 opens 18% of them, at 0.0047.
    assert opened[clear].mean() < 0.01
    assert np.abs(refined.alpha[0, 0].numpy() - truth)[clear].mean() < 0.0015


def test_strands_too_faint_for_a_noisy_plates_bar_are_found_by_the_samples() -> None:
    """Strands at 25% over a flat background, the plate off by up to 0.08 (codec noise): the
    noise lifts the plate's bar for opening (`opening_threshold`) above many strands'
    differences from it, but where the plate knows the background the colour samples still
    look at the pixels that differ by more than `strand_known` of that bar
    (`opened_by_samples`), and find most of them; the background stays shut."""
    truth, refined, missed = _missed_strands(0.25, plate_noise=0.08, flat=True)
    opened, alpha = refined.opened[0, 0].numpy(), refined.alpha[0, 0].numpy()
    assert missed.sum() > 100
    # Measured: 72% opened, error 0.087; with the samples kept off the plate's known
    # background (before), 49% and 0.141.
    assert opened[missed].mean() > 0.65
    assert np.abs(alpha - truth)[missed].mean() < 0.11
    clear = truth == 0
    assert opened[clear].mean() < 0.01
    assert np.abs(alpha - truth)[clear].mean() < 0.0015


def matte_as_a_job(
    matter: Matter, frames: list[tuple[np.ndarray, torch.Tensor]]
) -> list[np.ndarray]:
    """Each (rgb, mask logits) matted as a job mattes one object's frames: with the plate
    on, each frame is fed to it before the frame `matter.plate_ahead` before it is matted."""
    plate = matter.new_plate(*frames[0][0].shape[:2])

    def feed(t: int, logits: torch.Tensor) -> None:
        if plate is not None:
            matter.feed_plate(plate, frames[t][0], logits)

    steps = [(t, logits) for t, (_, logits) in enumerate(frames)]
    return [
        matter(frames[t][0], logits, plate=plate)
        for t, logits, _ in fed_ahead(steps, matter.plate_ahead, feed)
    ]


def test_a_jobs_plate_finds_strands_beyond_the_heads_band() -> None:
    """Through Matter as a job calls it, on frames twice the working size (the guided
    upsampling keeps what the plate opened): a disc with long strands moving over a static
    checkerboard. The head marks the strands' outer part as sure background; the plate has
    seen the background there, in the frames before or (fed ahead) after, so matting finds
    them, and the background gets no error."""
    h, w, k = 96, 192, 2
    background = _checker(w)[:h]
    head = random_head(config=HeadConfig(base_channels=8, working_size=w))
    with_plate, without = Matter(head, "cpu", "best", plate=True), Matter(head, "cpu", "best")
    up = lambda x: np.kron(x, np.ones((k, k, 1)[: x.ndim]))  # noqa: E731
    truths, frames = [], []
    for t in range(6):
        truth = _furry(h, w, 40 + 12 * t, strand_to=44)
        image = truth[..., None] * FG + (1 - truth[..., None]) * background
        soft = _blur((truth > 0.9).astype(np.float32), 5).clip(1e-4, 1 - 1e-4)
        logits = _t(np.log(soft / (1 - soft)))  # the disc alone, as a segmenter's mask
        frames.append(((up(image) * 255).round().astype(np.uint8), logits))
        truths.append(up(truth))
    errors: dict[str, list[float]] = {"plate": [], "none": []}
    mattes = matte_as_a_job(with_plate, frames)
    for (rgb, logits), alpha, truth in zip(frames, mattes, truths, strict=True):
        plain = without(rgb, logits)
        missed = (truth > 0.3) & (plain == 0)
        assert missed.sum() > 500
        # Background error 0.22e-3 to 0.26e-3 a frame, as without the plate (0.21e-3 to
        # 0.24e-3; 0.8e-3 before the background's colours were also sampled beside a pixel).
        assert np.abs(alpha - truth)[truth == 0].mean() < 3e-4
        errors["plate"].append(float(np.abs(alpha - truth)[missed].mean()))
        errors["none"].append(float(np.abs(plain - truth)[missed].mean()))
    # Measured: 0.31 against 0.60 on the later frames. The first two gain little (0.60,
    # 0.57): the strands the head missed lie near the disc, which the frames fed after them
    # have not yet moved off twice (a plate wants two views of a pixel).
    assert max(a - b for a, b in zip(errors["plate"], errors["none"], strict=True)) <= 1e-3
    assert np.mean(errors["plate"][3:]) < 0.7 * np.mean(errors["none"][3:])


def test_a_background_drifting_on_its_own_is_not_opened() -> None:
    """Half the background drifts by itself, a pixel a frame (water, a crowd), under a disc
    without strands: the plate's view of it is slightly off there, and the opening must not
    read that as strands. Background error with the plate stays near that without it
    (measured: at most 1.05 times; with `differs` 0.05, below the plate's own tolerance of
    the current frame, 1.16 times)."""
    h, w = 120, 240
    world = ndimage.uniform_filter(np.random.default_rng(1).random((h, w + 16, 3)), (3, 3, 1))
    head = random_head(config=HeadConfig(base_channels=8, working_size=w))
    with_plate, without = Matter(head, "cpu", "best", plate=True), Matter(head, "cpu", "best")
    truths, frames = [], []
    for t in range(8):
        background = world[:, :w].copy()
        background[h // 2 :] = world[h // 2 :, t : t + w]
        truth = _furry(h, w, 60 + 10 * t, strand_to=0)
        image = truth[..., None] * FG + (1 - truth[..., None]) * background
        soft = _blur((truth > 0.5).astype(np.float32), 5).clip(1e-4, 1 - 1e-4)
        frames.append(((image * 255).round().astype(np.uint8), _t(np.log(soft / (1 - soft)))))
        truths.append(truth)
    ratios = []
    for (rgb, logits), alpha, truth in zip(
        frames, matte_as_a_job(with_plate, frames), truths, strict=True
    ):
        plain, clear = without(rgb, logits), truth == 0
        ratios.append(np.abs(alpha - truth)[clear].mean() / np.abs(plain - truth)[clear].mean())
    assert max(ratios) < 1.1, ratios
