"""Colour in P3-D65 primaries (ITU-T H.273 12, SMPTE EG 432-1: HDR masters' usual gamut, as
PQ P3-D65) is converted where BT.709's are meant, as BT.2020's is: it was taken as BT.709's,
so an EXR's and the editor's colours came out less saturated than the source's, and a
composite's background more."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.synth import export_frame, exr_rgb, pq_signal, srgb8
from vidmatte.media import hdr
from vidmatte.media.export import _background_signal

P3_D65 = 12
# Linear P3-D65 RGB to linear BT.709 RGB, from the two sets' chromaticities (both D65).
P3_TO_BT709 = np.array(
    [[1.224940, -0.224940, 0.0], [-0.042057, 1.042057, 0.0], [-0.019638, -0.078636, 1.098274]]
)


@pytest.mark.parametrize("transfer", [1, hdr.PQ])
def test_an_exr_of_p3_colour_is_in_bt709_primaries(tmp_path: Path, transfer: int) -> None:
    """P3's pure red, green and blue (SDR at full, PQ at reference white, 203 cd/m²) are
    BT.709's light through P3_TO_BT709: red (1.225, -0.042, -0.020); it was (1, 0, 0)."""
    if transfer == hdr.PQ:
        on = np.round(pq_signal(203.0) * 65535)
        dtype = np.uint16
    else:
        on, dtype = 255, np.uint8
    rgb = (np.eye(3)[:, None] * on).repeat(4, 1).astype(dtype)  # rows: red, green, blue
    got = exr_rgb(export_frame(rgb, primaries=P3_D65, transfer=transfer), tmp_path)[:, 0]
    # Half floats, and PQ's 16-bit code of 203 cd/m²: within 0.2%.
    np.testing.assert_allclose(got, P3_TO_BT709.T, atol=3e-3)


def test_the_composite_background_over_p3_is_the_same_colour(tmp_path: Path) -> None:
    """sRGB red over P3 colour is BT.709's red in P3's primaries, (234, 51, 35) in 8-bit
    sRGB-encoded P3: it was (255, 0, 0), P3's red, more saturated than asked."""
    frame = export_frame(np.zeros((2, 2, 3), np.uint8), primaries=P3_D65)
    expected = srgb8(np.linalg.solve(P3_TO_BT709, [1.0, 0.0, 0.0]))
    np.testing.assert_array_equal(_background_signal((255, 0, 0), frame), expected)
    assert tuple(expected) == (234, 51, 35)


def test_the_editor_shows_p3_hdr_colour_in_bt709() -> None:
    """A PQ P3-D65 frame tone mapped for the editor: P3's red at a fifth of reference white
    (below the tone curve's knee, kept as it is) is BT.709's light through P3_TO_BT709,
    sRGB-encoded (its green and blue below 0 clipped): 137, 0, 0; it was 124."""
    code = np.round(pq_signal(203.0 / 5) * 65535)
    rgb = np.zeros((1, 1, 3), np.uint16)
    rgb[..., 0] = code
    expected = srgb8(P3_TO_BT709 @ [0.2, 0.0, 0.0])
    got = hdr.to_sdr(rgb, hdr.PQ, P3_D65)[0, 0]
    assert np.abs(got.astype(int) - expected).max() <= 1
