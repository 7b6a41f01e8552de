"""Foreground colour estimation on a frame whose foreground F, alpha and background B are
known: I = alpha·F + (1 - alpha)·B."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pymatting import estimate_foreground_ml
from scipy import ndimage

from tests.synth import hlg_signal, pq_signal
from vidmatte.matte import foreground
from vidmatte.matte.foreground import (
    ALPHA_TOLERANCE,
    Schedule,
    estimate_foreground,
    foreground_rgb,
    multilevel_foreground,
)
from vidmatte.media import hdr


def _scene(size: int = 96) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(F, alpha, B) as HxWx3, HxW, HxWx3 float32: a smooth colour gradient as foreground,
    a disc with a 12-pixel soft ramp and 40%-opaque strands, over a textured background
    (a checkerboard of 4-pixel cells plus noise, the worst case for the old colour)."""
    yy, xx = np.mgrid[:size, :size] / (size - 1)
    fg = np.stack([0.8 - 0.3 * yy, 0.4 + 0.3 * xx, 0.2 + 0.2 * yy * xx], -1)
    r = np.hypot(yy - 0.5, xx - 0.5) * size
    alpha = np.clip((size * 0.3 - r) / 12, 0, 1)
    for x in range(8, size - 8, 9):
        alpha[: size // 3, x] = np.maximum(alpha[: size // 3, x], 0.4)
    checker = ((np.arange(size)[:, None] // 4 + np.arange(size)[None] // 4) % 2).astype(float)
    noise = np.random.default_rng(0).random((size, size, 3))
    bg = 0.1 + 0.5 * checker[..., None] * np.array([0.2, 0.9, 1.0]) + 0.3 * noise
    return fg.astype(np.float32), alpha.astype(np.float32), bg.clip(0, 1).astype(np.float32)


def _composite(fg: np.ndarray, alpha: np.ndarray, bg: np.ndarray) -> np.ndarray:
    return (alpha[..., None] * fg + (1 - alpha[..., None]) * bg).astype(np.float32)


def _t(x: np.ndarray) -> torch.Tensor:
    """HxWx3 or HxW numpy -> (1,C,H,W) tensor."""
    x = torch.from_numpy(x)
    return (x.permute(2, 0, 1) if x.ndim == 3 else x[None])[None]


def _n(x: torch.Tensor) -> np.ndarray:
    return x[0].permute(1, 2, 0).numpy()


def test_recovers_the_foreground_colour_at_soft_pixels() -> None:
    fg, alpha, bg = _scene()
    image = _composite(fg, alpha, bg)
    estimate = _n(estimate_foreground(_t(image), _t(alpha)))
    soft = (alpha > 0.1) & (alpha < 0.9)
    error = np.abs(estimate - fg)[soft].mean()
    raw_error = np.abs(image - fg)[soft].mean()
    # Measured 0.062 (raw colour 0.159; pymatting's estimate_foreground_ml 0.063): the
    # smoothness prior cannot know the checkerboard behind, but the old colour mostly goes.
    assert error < 0.075, error
    assert raw_error > 0.15 and error < raw_error / 2, (error, raw_error)


def test_a_known_background_plate_pins_the_colour_down() -> None:
    fg, alpha, bg = _scene()
    image = _composite(fg, alpha, bg)
    estimate = _n(estimate_foreground(_t(image), _t(alpha), _t(bg)))
    soft = (alpha > 0.1) & (alpha < 0.9)
    error = np.abs(estimate - fg)[soft].mean()
    # Measured 0.004: with B known, I = alpha·F + (1-alpha)·B has F as its only unknown.
    assert error < 0.01, error


def test_agrees_with_pymatting() -> None:
    """Same energy, same levels; the torch solve (Jacobi, what runs on a GPU) with the default
    schedule against pymatting's Gauss-Seidel with its own defaults, on the soft pixels. On the
    CPU estimate_foreground is pymatting's solve with the schedule's sweeps."""
    fg, alpha, bg = _scene(64)
    image = _composite(fg, alpha, bg)
    reference = estimate_foreground_ml(image, alpha)
    soft = (alpha > 0) & (alpha < 1)
    # The whole frame: the same region as pymatting solves.
    ours = _n(multilevel_foreground(_t(image), _t(alpha), None, Schedule()))
    difference = np.abs(ours - reference)[soft].mean()
    assert difference < 0.006  # measured 0.0035 (colours in [0,1])
    # With pymatting's iteration counts, Jacobi lags behind Gauss-Seidel (measured 0.0145).
    lagging = Schedule(small_iterations=10, big_iterations=2)
    ours = _n(multilevel_foreground(_t(image), _t(alpha), None, lagging))
    assert difference < np.abs(ours - reference)[soft].mean() < 0.02
    # margin covering the frame: the same region as pymatting solves, and a frame too small
    # for the sweeps to be kept to the band: pymatting's result but for float rounding.
    cpu = _n(estimate_foreground(_t(image), _t(alpha), margin=64))
    sweeps = estimate_foreground_ml(image, alpha, n_small_iterations=10, n_big_iterations=3)
    solved = (alpha > ALPHA_TOLERANCE) & (alpha < 1 - ALPHA_TOLERANCE)  # else F is the image
    np.testing.assert_allclose(cpu[solved], sweeps[solved], atol=1e-5)


def test_cpu_sweeps_kept_to_the_band_change_no_soft_pixel() -> None:
    """On big levels the CPU's sweeps visit only the soft band grown by BAND_RADIUS; the soft
    pixels' F stays what sweeping every pixel gives."""
    fg, alpha, bg = _scene(400)  # 160 000 pixels: the two finest levels are banded
    assert alpha.size > foreground.BAND_MIN_PIXELS
    image = _composite(fg, alpha, bg)
    banded = _n(estimate_foreground(_t(image), _t(alpha), margin=400))
    everywhere = estimate_foreground_ml(image, alpha, n_small_iterations=10, n_big_iterations=3)
    solved = (alpha > ALPHA_TOLERANCE) & (alpha < 1 - ALPHA_TOLERANCE)
    difference = np.abs(banded - everywhere)[solved]
    assert difference.mean() < 1e-4 and difference.max() < 0.01, difference.max()
    # The band: the soft pixels grown by the radius (a square), as a morphological dilation.
    soft = np.random.default_rng(1).random((40, 50)) > 0.97
    grown = foreground._band(soft, 3)
    np.testing.assert_array_equal(grown, ndimage.binary_dilation(soft, np.ones((7, 7), bool)))


def test_shape_range_dtype_and_untouched_pixels() -> None:
    fg, alpha, bg = _scene(48)
    image = torch.stack([_t(_composite(fg, alpha, bg))[0], _t(bg)[0]])  # two frames
    alphas = torch.stack([_t(alpha)[0], torch.zeros(1, 48, 48)])  # the second: all background
    alphas[1, 0, 10:20, 10:20] = 1  # ... with an opaque square, no soft pixel
    out = estimate_foreground(image, alphas)
    assert out.shape == (2, 3, 48, 48) and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 1
    # Where alpha is 1, and in a frame without soft pixels, F is the frame's own colour.
    opaque = (alphas == 1).expand_as(image)
    assert torch.equal(out[opaque], image[opaque])
    assert torch.equal(out[1], image[1])
    # Frames are solved independently: the batch equals each frame alone.
    assert torch.equal(out[:1], estimate_foreground(image[:1], alphas[:1]))


def test_frames_as_exports_hold_them() -> None:
    """uint8 frame and matte in (what an export decodes and stores), uint8 colour out."""
    fg, alpha, bg = _scene()
    rgb8 = (_composite(fg, alpha, bg) * 255).round().astype(np.uint8)
    alpha8 = (alpha * 255).round().astype(np.uint8)
    out = foreground_rgb(rgb8, alpha8)
    assert out.shape == rgb8.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[alpha8 == 255], rgb8[alpha8 == 255])
    soft = (alpha8 > 25) & (alpha8 < 230)
    error = np.abs(out / 255 - fg)[soft].mean()
    # Measured as in float: 0.062 (raw 0.159), and 0.005 with the plate.
    assert error < 0.075 and error < np.abs(rgb8 / 255 - fg)[soft].mean() / 2, error
    plate = (bg * 255).round().astype(np.uint8)
    assert np.abs(foreground_rgb(rgb8, alpha8, plate) / 255 - fg)[soft].mean() < 0.01


# An HDR frame's light (PQ: cd/m²; HLG: scene light, 0..1) as its 16-bit signal, and back.
_HDR = {
    hdr.PQ: (pq_signal, 10000.0, (400.0, 100.0)),
    hdr.HLG: (hlg_signal, 1.0, (0.8, 0.3)),
}


def _signal16(light: np.ndarray, transfer: int) -> np.ndarray:
    return np.round(_HDR[transfer][0](light) * 65535).astype(np.uint16)


@pytest.mark.parametrize("transfer", [hdr.PQ, hdr.HLG])
def test_hdr_frames_are_solved_in_linear_light(transfer: int) -> None:
    """I = alpha·F + (1-alpha)·B holds in light, not in PQ's or HLG's code values: a frame
    composited in light and stored as its 16-bit signal gets F back at its soft pixels, in
    light, and with the background plate almost exactly. Solved on the code values as they
    are (before), F was further off than the frame's own colour, and more so with a plate."""
    fg, alpha, bg = _scene()
    _, top, (fg_light, bg_light) = _HDR[transfer]
    fg, bg = fg * fg_light, bg * bg_light
    image = _signal16(_composite(fg, alpha, bg), transfer)
    alpha16 = np.round(alpha * 65535).astype(np.uint16)
    plate = _signal16(bg, transfer)
    soft = (alpha > 0.1) & (alpha < 0.9)

    def error(colour: np.ndarray) -> float:  # mean, relative to F's brightest
        return np.abs(hdr.light_fraction(colour, transfer) * top - fg)[soft].mean() / fg_light

    raw = error(image)
    estimated = error(foreground_rgb(image, alpha16, transfer=transfer))
    with_plate = error(foreground_rgb(image, alpha16, plate, transfer=transfer))
    on_signal = error(foreground_rgb(image, alpha16))  # the code values as they are
    on_signal_plate = error(foreground_rgb(image, alpha16, plate))
    # Measured (PQ, HLG): 0.019, 0.026 (the frame's colour 0.205, 0.184), with the plate
    # 0.004 both; on the code values 0.223, 0.178, with the plate 0.658, 0.300.
    assert estimated < 0.035 and with_plate < 0.01, (estimated, with_plate)
    assert on_signal > 4 * estimated and on_signal_plate > raw, (on_signal, on_signal_plate)
    # Pixels the solve leaves alone keep their code values exactly (none is re-encoded).
    out = foreground_rgb(image, alpha16, transfer=transfer)
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out[alpha16 == 65535], image[alpha16 == 65535])


def test_hdr_light_fractions_follow_bt2100() -> None:
    """PQ's code values to display light as a fraction of 10,000 cd/m², HLG's to scene light
    (no OOTF), each channel alone; `fraction_signal` inverts both to the code value."""
    nits = np.array([0.0, 0.1, 100.0, 203.0, 1000.0, 10000.0])
    pq = np.round(pq_signal(nits) * 65535).astype(np.uint16)
    np.testing.assert_allclose(hdr.light_fraction(pq, hdr.PQ) * 10000, nits, rtol=2e-4, atol=1e-4)
    scene = np.array([0.0, 0.01, 1 / 12, 0.26, 1.0])
    hlg = np.round(hlg_signal(scene) * 65535).astype(np.uint16)
    np.testing.assert_allclose(hdr.light_fraction(hlg, hdr.HLG), scene, rtol=2e-4, atol=1e-6)
    for dtype in (np.uint8, np.uint16):  # every code value there and back
        code = np.arange(np.iinfo(dtype).max + 1, dtype=dtype)
        for transfer in (hdr.PQ, hdr.HLG):
            light = hdr.light_fraction(code, transfer)
            np.testing.assert_array_equal(hdr.fraction_signal(light, transfer, dtype), code)
    with pytest.raises(ValueError, match="transfer 1 is not PQ or HLG"):
        hdr.fraction_signal(light, 1, np.uint16)


def test_cpu_row_blocks_change_nothing(monkeypatch) -> None:
    """On the CPU each Jacobi step runs in blocks of rows (for the cache): 8-row blocks give
    exactly what one block per level gives."""
    fg, alpha, bg = _scene(64)
    image, a = _t(_composite(fg, alpha, bg)), _t(alpha)
    monkeypatch.setattr(foreground, "CPU_BLOCK_PIXELS", 1)  # the 8-row minimum
    blocked = multilevel_foreground(image, a, None, Schedule())
    blocked_plate = estimate_foreground(image, a, _t(bg))
    monkeypatch.setattr(foreground, "CPU_BLOCK_PIXELS", 1 << 30)
    assert torch.equal(blocked, multilevel_foreground(image, a, None, Schedule()))
    assert torch.equal(blocked_plate, estimate_foreground(image, a, _t(bg)))


def test_half_precision_in_and_out() -> None:
    fg, alpha, bg = _scene(48)
    image, a = _t(_composite(fg, alpha, bg)), _t(alpha)
    half = estimate_foreground(image.half(), a.half())
    assert half.dtype == torch.float16
    full = estimate_foreground(image.half().float(), a.half().float())
    assert (half.float() - full).abs().max() < 1e-3  # rounding of the output only


@pytest.mark.parametrize(
    ("image", "alpha", "background", "message"),
    [
        ((1, 4, 8, 8), (1, 1, 8, 8), None, "image must be"),
        ((1, 3, 8, 8), (1, 1, 8, 9), None, "alpha must be"),
        ((1, 3, 8, 8), (1, 1, 8, 8), (1, 3, 4, 4), "background must be"),
    ],
)
def test_bad_shapes_are_named(image, alpha, background, message) -> None:
    plate = None if background is None else torch.zeros(background)
    with pytest.raises(ValueError, match=message):
        estimate_foreground(torch.zeros(image), torch.zeros(alpha), plate)
