"""SDR video that states a pure power law (ITU-T H.273 transfer 4, gamma 2.2; 8, linear; 17,
SMPTE ST 428's gamma 2.6, a DCI-P3 master's) is shown and matted as the light that law gives,
sRGB-encoded, as its EXR exports hold it: its codes were shown as if sRGB's, greys lighter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from av.video.reformatter import ColorRange, Colorspace

from tests.synth import PATCH, export_frame, rgb_picture, srgb8, write_clip
from vidmatte.media import hdr
from vidmatte.media.export import _linear
from vidmatte.media.video import VideoReader, probe

GREYS = [0, 32, 64, 128, 192, 255]
DCI_P3, ST428 = 11, 17


def write_greys(path: Path, transfer: int, primaries: int) -> None:
    """A one-frame lossless (FFV1, 4:4:4, full range) clip of grey patches at GREYS, tagged
    `transfer` and `primaries`."""
    rgb = np.repeat(np.repeat(np.asarray(GREYS, np.uint8), PATCH)[None, :, None], PATCH, 0)
    picture = rgb_picture(np.repeat(rgb, 3, 2), "yuv444p", Colorspace.ITU709, ColorRange.JPEG)
    write_clip(
        path,
        picture,
        color_primaries=primaries,
        color_trc=transfer,
        colorspace=1,
        color_range=ColorRange.JPEG,
    )


def shown_greys(path: Path) -> tuple[list[str], np.ndarray]:
    """The file's notes and each patch's colour as the editor shows it (int, Nx3)."""
    info, pts = probe(path)
    frame = VideoReader(path, pts, 0).frame(0)
    return info.notes, frame[PATCH // 2, PATCH // 2 :: PATCH].astype(int)


@pytest.mark.parametrize("primaries", [1, DCI_P3], ids=["bt709", "dci-p3"])
def test_a_gamma_26_master_is_shown_in_the_light_its_exr_holds(
    tmp_path: Path, primaries: int
) -> None:
    """A gamma-2.6 grey 128 (light 0.166) was shown as sRGB's 128 (light 0.216, 30% lighter
    than in its EXR); it shows as sRGB's 113, each grey as its light sRGB-encoded, DCI-P3's
    white kept white. The note says so."""
    path = tmp_path / "st428.mkv"
    write_greys(path, ST428, primaries)
    notes, shown = shown_greys(path)
    expected = srgb8((np.asarray(GREYS) / 255) ** 2.6)
    assert expected[GREYS.index(128)] == 113
    assert np.abs(shown - expected[:, None]).max() <= 1
    assert notes[-1] == (
        "the video's transfer is gamma 2.6 (SMPTE ST 428): it is shown and matted in sRGB; "
        "exports keep its own colour and its tags"
    )
    assert len(notes) == (2 if primaries == DCI_P3 else 1)


@pytest.mark.parametrize("transfer,gamma", [(4, 2.2), (8, 1.0)])
def test_other_power_laws_are_shown_in_their_light(
    tmp_path: Path, transfer: int, gamma: float
) -> None:
    """Gamma 2.2's and linear's greys are their light sRGB-encoded (linear 128 is sRGB's 188),
    as exports' EXRs take them."""
    path = tmp_path / "power.mkv"
    write_greys(path, transfer, 1)
    _, shown = shown_greys(path)
    expected = srgb8((np.asarray(GREYS) / 255) ** gamma)
    assert np.abs(shown - expected[:, None]).max() <= 1


@pytest.mark.parametrize("transfer", [1, 2, 5, 6, 13, 14])
def test_srgb_like_curves_keep_their_codes(tmp_path: Path, transfer: int) -> None:
    """BT.709's, unstated, BT.470BG's (PAL's BT.601 curve mis-stated), BT.601's, sRGB's and
    BT.2020's curves are sRGB's, as exports take them: greys are shown as stored, no note."""
    path = tmp_path / "srgb.mkv"
    write_greys(path, transfer, 1)
    notes, shown = shown_greys(path)
    np.testing.assert_array_equal(shown, np.repeat(np.asarray(GREYS)[:, None], 3, 1))
    assert notes == []


def test_the_view_of_a_gamma_26_frame_is_its_exr_light() -> None:
    """The editor's view (`hdr.sdr_in_bt709`) and an EXR export (`_linear`) of the same
    DCI-P3 gamma-2.6 colours hold the same light, within the view's 8-bit step."""
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 65536, (8, 8, 3), dtype=np.uint16)
    frame = export_frame(rgb, primaries=DCI_P3, transfer=ST428)
    view = hdr.sdr_in_bt709(rgb, ST428, DCI_P3).astype(int)
    np.testing.assert_array_less(np.abs(view - srgb8(_linear(frame))), 1.01)
