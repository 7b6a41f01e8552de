"""Exports' colour across SDR transfers and primaries: an EXR undoes the transfer the source
states (a gamma 2.6 DCI-P3 master's was linearised with sRGB's curve), a composite's
background is encoded in it, and an XYZ source (a DCP's, which FFmpeg decodes as BT.709 RGB
with a gamma of 2.2) is tagged as what its pixels are, not as XYZ."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest

from tests.synth import export_frame, exr_rgb
from vidmatte.media import hdr
from vidmatte.media.export import ExportFrame, _background_signal, srgb_to_linear, write_archive

DCI_P3 = 11
GREYS = np.array([0, 1, 10, 64, 128, 200, 254, 255], np.uint8)


def grey_frame(primaries: int, transfer: int, dtype: type = np.uint8) -> ExportFrame:
    """A 2x8 frame of GREYS (x257 in 16 bits), one per column."""
    levels = GREYS.astype(dtype) * (257 if dtype == np.uint16 else 1)
    rgb = np.repeat(np.repeat(levels[None, :, None], 2, 0), 3, 2)
    return export_frame(rgb, primaries=primaries, transfer=transfer)


def archive(frame: ExportFrame, formats: list[str]) -> zipfile.ZipFile:
    out = io.BytesIO()
    write_archive(out, frames=iter([frame]), formats=formats, fps=25)
    return zipfile.ZipFile(out)


def video_colour(frame: ExportFrame, fmt: str, tmp_path: Path) -> tuple[tuple[int, int], ...]:
    """The (primaries, transfer) the stream and its first frame are tagged with."""
    zipped = archive(frame, [fmt])
    (name,) = [n for n in zipped.namelist() if n.endswith((".mov", ".mp4", ".webm"))]
    path = tmp_path / Path(name).name
    path.write_bytes(zipped.read(name))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = next(container.decode(stream))
        context = stream.codec_context
        return (
            (int(context.color_primaries), int(context.color_trc)),
            (int(decoded.color_primaries), int(decoded.color_trc)),
        )


@pytest.mark.parametrize(
    ("transfer", "gamma"),
    [(17, 2.6), (4, 2.2), (8, 1.0)],
    ids=["smpte428", "gamma22", "linear"],
)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_an_exr_undoes_the_sources_power_law(
    tmp_path: Path, transfer: int, gamma: float, dtype: type
) -> None:
    """DCI-P3 greys (its white adapted to D65: greys stay grey) of a gamma 2.6 source are
    (code / 255) ** 2.6 in the EXR: 128 is 0.167, where sRGB's curve made it 0.216; linear
    code values are light as they are."""
    got = exr_rgb(grey_frame(DCI_P3, transfer, dtype), tmp_path)[0]
    expected = (GREYS / 255.0) ** gamma
    np.testing.assert_allclose(got, np.repeat(expected[:, None], 3, 1), rtol=2e-3, atol=1e-5)


@pytest.mark.parametrize("transfer", [1, 2, 5, 6, 13, 14, 15])
def test_bt709_like_and_srgb_transfers_keep_the_srgb_curve(tmp_path: Path, transfer: int) -> None:
    """BT.709's transfer (and BT.601's and BT.2020's, the same OETF), sRGB's, an unstated one
    and BT.470BG's (5: PAL video that is BT.601's states it) are linearised with sRGB's curve,
    as ever, bit for bit."""
    got = exr_rgb(grey_frame(1, transfer), tmp_path)[0]
    expected = srgb_to_linear(np.repeat(GREYS[:, None], 3, 1)).astype(np.float16)
    np.testing.assert_array_equal(got, expected.astype(np.float64))


@pytest.mark.parametrize(("transfer", "gamma"), [(17, 2.6), (4, 2.2), (8, 1.0)])
def test_a_composite_background_is_in_the_sources_power_law(transfer: int, gamma: float) -> None:
    """sRGB mid grey over a gamma 2.6 source is the code of the same light in gamma 2.6,
    141: it was 128, which the video's tag (SMPTE 428) shows at 0.167, not 0.216."""
    frame = grey_frame(1, transfer)
    light = srgb_to_linear(np.array([128, 0, 255], np.uint8)).astype(np.float64)
    expected = np.round(light ** (1 / gamma) * 255)
    np.testing.assert_array_equal(_background_signal((128, 0, 255), frame), expected)


def test_an_xyz_sources_exr_is_its_decoded_bt709_light(tmp_path: Path) -> None:
    """FFmpeg decodes XYZ (xyz12) to BT.709 RGB with a gamma of 2.2: its EXR undoes that
    gamma and converts no primaries."""
    got = exr_rgb(grey_frame(hdr.XYZ, 17, np.uint16), tmp_path)[0]
    expected = (GREYS / 255.0) ** 2.2
    np.testing.assert_allclose(got, np.repeat(expected[:, None], 3, 1), rtol=2e-3, atol=1e-5)


@pytest.mark.parametrize("fmt", ["prores4444", "composite_mp4", "webm_alpha"])
@pytest.mark.parametrize("transfer", [17, 2])
def test_an_xyz_sources_videos_are_tagged_bt709_gamma22(
    tmp_path: Path, fmt: str, transfer: int
) -> None:
    """Videos of an XYZ source are tagged BT.709 primaries, gamma 2.2 (H.273 transfer 4),
    what its decoded pixels are: they were tagged XYZ primaries (10), which players take as
    CIE XYZ, and SMPTE 428's gamma 2.6."""
    frame = grey_frame(hdr.XYZ, transfer)
    assert video_colour(frame, fmt, tmp_path) == ((1, 4), (1, 4))


def test_an_xyz_sources_rgba_png_is_tagged_bt709_gamma22() -> None:
    """Its RGBA PNG's cICP chunk says BT.709 primaries, gamma 2.2, full-range RGB."""
    png = archive(grey_frame(hdr.XYZ, 17), ["rgba_png"]).read("rgba/000000.png")
    at = png.index(b"cICP")
    assert png[at + 4 : at + 8] == bytes([1, 4, 0, 1])


def test_a_dci_p3_gamma26_sources_videos_keep_their_tags(tmp_path: Path) -> None:
    """A DCI-P3 source's own colour is kept: tagged primaries 11, SMPTE 428's transfer."""
    assert video_colour(grey_frame(DCI_P3, 17), "prores4444", tmp_path) == ((11, 17), (11, 17))


@pytest.mark.parametrize(
    ("transfer", "dtype"), [(1, np.uint16), (hdr.PQ, np.uint16), (1, np.uint8)]
)
def test_an_ebu3213_sources_composite_is_made_and_tagged_bt709(
    tmp_path: Path, transfer: int, dtype: type
) -> None:
    """EBU 3213 primaries (H.273 22, taken as BT.709's: media/hdr.py), which neither x264 nor
    x265 knows: a 10-bit source's HEVC composite failed to open (x265 refused the primaries,
    the whole export with it), an 8-bit one's H.264 said unstated. Tagged BT.709, as a code no
    encoder knows is; ProRes, which carries 22, keeps it."""
    frame = grey_frame(22, transfer, dtype)
    # x265's smallest frame is 8x8
    frame = export_frame(np.tile(frame.rgb, (8, 2, 1)), primaries=22, transfer=transfer)
    assert video_colour(frame, "composite_mp4", tmp_path) == ((1, transfer),) * 2
    assert video_colour(frame, "prores4444", tmp_path) == ((22, transfer),) * 2
