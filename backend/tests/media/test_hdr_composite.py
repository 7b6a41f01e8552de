"""A composite over an HDR source (`composite_mp4`) mixes its soft edges in the same light
as the foreground is estimated in: I = alpha·F + (1-alpha)·B is a sum of the light reaching
the camera, HLG's scene light (its OOTF, the display's gamma, comes after any sum), PQ's
display light (the same up to scale)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.synth import export_frame, hlg_signal, pq_signal
from vidmatte.matte.foreground import foreground_rgb
from vidmatte.media import export, hdr

HALF = 32768  # alpha 0.500008 in 16 bits


def composite(
    rgb: np.ndarray,
    alpha: np.ndarray,
    transfer: int,
    primaries: int,
    background: tuple[int, int, int],
) -> np.ndarray:
    frame = export_frame(rgb, alpha, primaries, transfer)
    code = export._background_signal(background, frame)
    return export._composite_frame(frame, code, background)


@pytest.mark.parametrize(
    "background,background_scene",
    [
        ((0, 0, 0), 0.0),
        # sRGB white is HDR's reference white, 203 cd/m² on HLG's 1000 cd/m² display: HLG's
        # 75% signal, scene light 0.203^(1/1.2) = 0.2648.
        ((255, 255, 255), 0.203 ** (1 / 1.2)),
    ],
)
def test_half_an_hlg_white_is_half_its_scene_light(
    background: tuple[int, int, int], background_scene: float
) -> None:
    """HLG white (signal 1.0, scene light 1.0) half over black is scene light 0.5, HLG's
    0.8716 (10-bit 892), not half the display's 1000 cd/m² (0.8933, 10-bit 914: the OOTF's
    gamma undone on a mix made after it, edges brighter than the camera saw them)."""
    rgb = np.full((4, 6, 3), 65535, np.uint16)
    alpha = np.full((4, 6), HALF, np.uint16)
    out = composite(rgb, alpha, hdr.HLG, hdr.BT2020, background)
    a = HALF / 65535
    expected = np.round(hlg_signal(a + (1 - a) * background_scene) * 65535)
    np.testing.assert_array_equal(out, np.full(rgb.shape, expected, np.uint16))
    if background == (0, 0, 0):
        assert round(expected / 65535 * 1023) == 892


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_half_a_pq_highlight_is_half_its_light(dtype: type[np.integer]) -> None:
    """PQ's light is the display's, which is the scene's up to scale: half of 1000 cd/m² over
    black is PQ of 500 cd/m² (0.6766), within a code value's rounding, 8 bits or 16."""
    top = np.iinfo(dtype).max
    white = np.round(pq_signal(1000.0) * top)
    rgb = np.full((2, 3, 3), white, dtype)
    out = composite(rgb, np.full((2, 3), HALF, np.uint16), hdr.PQ, hdr.BT2020, (0, 0, 0))
    nits = hdr.light_fraction(np.array([white], dtype), hdr.PQ)[0] * 10000 * HALF / 65535
    assert np.abs(out.astype(np.int64) - pq_signal(nits) * top).max() <= 0.5
    assert round(float(pq_signal(500.0)), 4) == 0.6766


@pytest.mark.parametrize("transfer", [hdr.PQ, hdr.HLG])
@pytest.mark.parametrize("primaries", [hdr.BT2020, 1, 2])
def test_a_composite_over_the_sources_own_colour_keeps_its_code_values(
    transfer: int, primaries: int
) -> None:
    """Where the frame's colour is the background's code value, every alpha (clear, soft,
    opaque) gives that code value back exactly: the two are mixed in one light and encoded
    back."""
    background = (40, 200, 90)
    alpha = np.arange(0, 65536, 257, dtype=np.uint16)[None].repeat(2, 0)
    alpha[0, 1:] -= 1  # 256, 513, ... 65534 too
    frame = export_frame(np.zeros((2, 256, 3), np.uint16), alpha, primaries, transfer)
    code = export._background_signal(background, frame).astype(np.uint16)
    rgb = np.broadcast_to(code, (2, 256, 3)).copy()
    out = composite(rgb, alpha, transfer, primaries, background)
    np.testing.assert_array_equal(out, rgb)


@pytest.mark.parametrize("primaries", [hdr.BT2020, 1])
def test_an_hlg_composite_reproduces_a_frame_mixed_in_scene_light(primaries: int) -> None:
    """A soft edge the camera saw, F over B summed in scene light and HLG-encoded, comes
    back (within a code value of 16 bits' rounding) when F is composited over the same B at
    the same alpha: as `foreground_rgb` solves I = alpha·F + (1-alpha)·B (in
    `hdr.light_fraction`), so that F over the plate it was solved against is the frame. Mixed
    in display light (before) it was up to 5,741 of 65,535 off (3,653 in BT.2020)."""
    background = (30, 120, 200)
    width = 256
    alpha = np.linspace(0, 65535, width).round().astype(np.uint16)[None].repeat(3, 0)
    fg_scene = np.array([[0.9, 0.55, 0.2], [0.05, 0.3, 0.02], [1.0, 1.0, 1.0]])
    fg = np.round(hlg_signal(fg_scene) * 65535).astype(np.uint16)[:, None].repeat(width, 1)
    frame = export_frame(fg, alpha, primaries, hdr.HLG)
    bg_code = export._background_signal(background, frame).astype(np.uint16)
    a = (alpha / 65535)[..., None]
    seen = a * hdr.light_fraction(fg, hdr.HLG) + (1 - a) * hdr.light_fraction(bg_code, hdr.HLG)
    expected = np.round(hlg_signal(seen) * 65535)
    out = composite(fg, alpha, hdr.HLG, primaries, background)
    assert np.abs(out.astype(np.int64) - expected).max() <= 1


def test_the_estimated_hlg_foreground_over_its_plate_is_the_frame() -> None:
    """`foreground_rgb` with the plate, then the composite over that plate's colour at the
    same alpha: the frame again, both in one light (within a code value of 65,535; up to
    3,231 off, 4.9% of the signal, with the composite in display light and the estimate in
    scene light, before)."""
    background = (30, 120, 200)
    height, width = 16, 64
    alpha = np.linspace(0, 65535, width).round().astype(np.uint16)[None].repeat(height, 0)
    fg_scene = np.array([0.9, 0.55, 0.2])
    fg_light = np.broadcast_to(fg_scene, (height, width, 3))
    frame = export_frame(np.zeros((height, width, 3), np.uint16), alpha, hdr.BT2020, hdr.HLG)
    plate = np.broadcast_to(
        export._background_signal(background, frame).astype(np.uint16), (height, width, 3)
    ).copy()
    a = (alpha / 65535)[..., None]
    seen = a * fg_light + (1 - a) * hdr.light_fraction(plate, hdr.HLG)
    image = np.round(hlg_signal(seen) * 65535).astype(np.uint16)
    fg = foreground_rgb(image, alpha, plate, transfer=hdr.HLG)
    out = composite(fg, alpha, hdr.HLG, hdr.BT2020, background)
    assert np.abs(out.astype(np.int64) - image).max() <= 1
