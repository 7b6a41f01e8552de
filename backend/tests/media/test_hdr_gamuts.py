"""Colour primaries other than BT.709's, BT.2020's and P3-D65's (ITU-T H.273 codes): those far
from BT.709's (DCI-P3, white point DCI's; BT.470M; film) are converted to BT.709's with their
white adapted to D65 (Bradford); those close to it are taken as BT.709's, as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from av.video.reformatter import Colorspace

from tests.synth import export_frame, hlg_signal, pq_signal, rgb_picture, srgb8, write_clip
from vidmatte.media import hdr
from vidmatte.media.export import _background_signal
from vidmatte.media.video import VideoReader, probe

DCI_P3 = 11
# Published constants, apart from the code's derivation: DCI-P3's RGB to XYZ (SMPTE RP 431-2's
# normalised primary matrix, DCI white), Bradford's cone matrix, and XYZ to linear sRGB
# (IEC 61966-2-1, D65).
DCI_P3_TO_XYZ = np.array(
    [
        [0.4451698156, 0.2771344092, 0.1722826698],
        [0.2094916779, 0.7215952542, 0.0689130679],
        [0.0, 0.0470605601, 0.9073553944],
    ]
)
BRADFORD = np.array(
    [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
)
XYZ_TO_SRGB = np.array(
    [[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]]
)
D65_XYZ = np.array([0.9505, 1.0, 1.0890])


def dci_p3_in_bt709(rgb: np.ndarray) -> np.ndarray:
    """Linear DCI-P3 RGB as linear BT.709 RGB, through the published constants."""
    xyz = DCI_P3_TO_XYZ @ rgb
    white = DCI_P3_TO_XYZ @ np.ones(3)
    cones = BRADFORD @ xyz * (BRADFORD @ D65_XYZ) / (BRADFORD @ white)
    return XYZ_TO_SRGB @ np.linalg.solve(BRADFORD, cones)


def test_dci_white_is_d65_white_and_dci_p3_red_is_its_bt709_colour() -> None:
    """DCI-P3's white (DCI's, greenish beside D65) comes out BT.709's white, not tinted, and
    its red BT.709's (1.158, -0.042, -0.018): it was taken as BT.709's red, less saturated."""
    assert hdr.converts(DCI_P3)
    white = hdr.in_bt709(np.ones((1, 1, 3), np.float32), DCI_P3)[0, 0]
    np.testing.assert_allclose(white, [1.0, 1.0, 1.0], atol=1e-3)
    # the published constants' own D65 white, through them, within their 4 decimals
    np.testing.assert_allclose(dci_p3_in_bt709(np.ones(3)), [1.0, 1.0, 1.0], atol=1e-3)
    red = hdr.in_bt709(np.array([[[1.0, 0.0, 0.0]]], np.float32), DCI_P3)[0, 0]
    np.testing.assert_allclose(red, dci_p3_in_bt709(np.array([1.0, 0.0, 0.0])), atol=1e-3)
    np.testing.assert_allclose(red, [1.1575, -0.0415, -0.0181], atol=1e-3)


@pytest.mark.parametrize(
    "primaries,white",
    [
        (4, (0.310, 0.316)),  # BT.470M (NTSC 1953), Illuminant C
        (8, (0.310, 0.316)),  # generic film, Illuminant C
    ],
)
def test_wide_primaries_of_illuminant_c_are_converted_with_white_kept(
    primaries: int, white: tuple[float, float]
) -> None:
    """BT.470M's and film's green is far from BT.709's (49% and 35% of a channel): they were
    taken as BT.709's. Converted, their white is still white and their green BT.709's
    green with red taken out."""
    assert hdr.converts(primaries)
    light = np.array([[[1.0, 1.0, 1.0], [0.0, 1.0, 0.0]]], np.float32)
    got = hdr.in_bt709(light, primaries)[0]
    np.testing.assert_allclose(got[0], [1.0, 1.0, 1.0], atol=1e-3)
    assert got[1][0] < -0.15 and got[1][1] > 0.95  # more saturated than BT.709's green


@pytest.mark.parametrize("primaries", [0, 1, 2, 3, 5, 6, 7, 10, 22, 23, 255])
def test_primaries_close_to_bt709_or_unknown_are_taken_as_bt709(primaries: int) -> None:
    """PAL's, SMPTE C's (SMPTE 170M, 240M), EBU 3213's and XYZ's (swscale makes it BT.709 RGB),
    unstated, reserved and unknown codes: as before, the light is kept as it is."""
    assert not hdr.converts(primaries)
    assert hdr.gamut(primaries) == ""
    light = np.random.default_rng(0).random((2, 2, 3), np.float32)
    assert np.array_equal(hdr.in_bt709(light, primaries), light)
    assert np.array_equal(hdr.from_bt709(light, primaries), light)


def test_the_composite_background_over_dci_p3_is_the_same_colour() -> None:
    """sRGB red over SDR DCI-P3 colour is BT.709's red in DCI-P3's primaries: it was
    (255, 0, 0), DCI-P3's red, more saturated than asked."""
    frame = export_frame(np.zeros((2, 2, 3), np.uint8), primaries=DCI_P3)
    to_bt709 = np.stack([dci_p3_in_bt709(column) for column in np.eye(3)], axis=1)
    expected = srgb8(np.linalg.solve(to_bt709, [1.0, 0.0, 0.0]))
    got = _background_signal((255, 0, 0), frame).astype(int)
    assert np.abs(got - expected).max() <= 1
    assert got[1] > 30  # BT.709's red has DCI-P3's green in it


def write_pq(path: Path, rgb: np.ndarray, primaries: int) -> None:
    """A lossless 10-bit 4:4:4 PQ clip of `rgb` (uint16 signal), in `primaries`, all tagged."""
    picture = rgb_picture(rgb, "yuv444p10le", Colorspace.BT2020)
    write_clip(path, picture, color_primaries=primaries, color_trc=hdr.PQ, colorspace=9)


@pytest.mark.parametrize("primaries,name", [(12, "P3-D65"), (DCI_P3, "DCI-P3")])
def test_a_p3_hdr_video_names_its_gamut_and_is_shown_converted(
    tmp_path: Path, primaries: int, name: str
) -> None:
    """A PQ P3 video's note said "the video is HDR (PQ)", as if its colour were BT.709's; it
    names the gamut and says it is converted. Its red (a fifth of reference white, below
    the tone curve's knee) is shown as BT.709's: DCI-P3's was shown as BT.709's red."""
    rgb = np.zeros((16, 16, 3), np.uint16)
    rgb[..., 0] = np.round(pq_signal(203.0 / 5) * 65535)
    path = tmp_path / "p3.mkv"
    write_pq(path, rgb, primaries)
    info, pts = probe(path)
    assert info.notes == [
        f"the video is HDR (PQ, {name}): it is shown and matted tone mapped to SDR (BT.709, "
        f"sRGB), its {name} colour converted to BT.709's; exports keep its own colour and "
        "its tags"
    ]
    shown = VideoReader(path, pts, 0).frame(0)[8, 8].astype(int)
    red = hdr.in_bt709(np.array([[[0.2, 0.0, 0.0]]], np.float32), primaries)[0, 0]
    assert np.abs(shown - srgb8(red)).max() <= 2
    assert shown[0] > 130  # not P3's red taken as BT.709's, 124


# The luminance row (Y) of each set's RGB to XYZ, published: BT.2100's coefficients
# (BT.2020's), SMPTE EG 432-1's P3-D65, SMPTE RP 431-2's DCI-P3 (DCI_P3_TO_XYZ), BT.709's.
LUMINANCE = {
    hdr.BT2020: [0.2627, 0.6780, 0.0593],
    hdr.P3_D65: [0.2289745641, 0.6917385218, 0.0792869141],
    DCI_P3: list(DCI_P3_TO_XYZ[1]),
    1: [0.2126, 0.7152, 0.0722],
}


@pytest.mark.parametrize("primaries", list(LUMINANCE), ids=["bt2020", "p3-d65", "dci-p3", "bt709"])
def test_hlgs_ootf_takes_the_luminance_of_its_own_primaries(primaries: int) -> None:
    """HLG's OOTF raises the display's light by the scene's luminance to the power 0.2
    (ITU-R BT.2100), luminance in the signal's own primaries (ITU-R BT.2390): BT.2020's
    coefficients were used for every set, so P3-D65's blue at half its scene light came out
    5.6% dark and its red 2.8% bright in EXRs and the editor. Undone (a composite's
    background, `hdr.scene_fraction`) with the same luminance: the scene light again."""
    scene = np.array([[0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.6, 0.3, 0.1], [1, 1, 1]])
    code = np.round(hlg_signal(scene) * 65535).astype(np.uint16)[None]
    light = hdr.light_fraction(code, hdr.HLG).astype(np.float64)  # the code's own scene light
    luminance = light @ np.asarray(LUMINANCE[primaries])
    display = light * (hdr.PEAK / hdr.REFERENCE_WHITE * luminance**0.2)[..., None]
    expected = hdr.in_bt709(display.astype(np.float32), primaries)
    got = hdr.linear_light(code, hdr.HLG, primaries)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    back = hdr.scene_fraction(got, hdr.HLG, primaries)
    np.testing.assert_allclose(back, light, atol=1e-5)
