"""Colour read as it is meant: limited-range grey expanded (swscale reads grey as full range
whatever its tag), P010's, big-endian and 8-bit HDR frames' white at 65535 (swscale reads
them 0.4 to 0.8% dark), SDR video in wide primaries converted to BT.709's for the editor and
the models as HDR video is, and HDR video of unstated primaries taken as BT.2020's."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from av.video.reformatter import ColorRange, Colorspace

from tests.synth import (
    PATCH,
    levels,
    patches_frame,
    pq_signal,
    read_patches,
    rgb_picture,
    srgb8,
    write_clip,
)
from vidmatte.media import hdr
from vidmatte.media.video import VideoReader, _rgb, probe


def write_grey(path: Path, pix_fmt: str, color_range: int, codes: list[int]) -> None:
    """A one-frame lossless (FFV1) grey clip of patches at `codes`, tagged `color_range`."""
    write_clip(path, patches_frame(pix_fmt, codes), color_range=color_range)


@pytest.mark.parametrize("pix_fmt", ["gray", "gray10le", "gray12le", "gray16le", "ya8"])
def test_limited_range_grey_reads_black_as_black_and_white_as_white(
    tmp_path: Path, pix_fmt: str
) -> None:
    """A limited-range grey clip read its black (10-bit 64) as 4100 in 16 bits and 16 in
    8, its white (940) as 60218 and 234: swscale reads grey as full range whatever the tag.
    Black reads 0, white 65535 (255) and a grey in proportion; 8-bit grey too (it read 16
    and 235 as they are), and grey with alpha (ya8: it read 16, 89, 234 for 0, 85, 255)."""
    codes, shares = levels(pix_fmt.replace("gray", "yuv420p"), full=False)
    path = tmp_path / "grey.mkv"
    write_grey(path, pix_fmt, ColorRange.MPEG, codes)
    narrow = read_patches(path, deep=False, tone_map=True)
    expected8 = np.round(np.asarray(shares) * 255)
    np.testing.assert_array_equal(narrow, np.repeat(expected8[:, None], 3, 1))
    if pix_fmt not in ("gray", "ya8"):
        wide = read_patches(path, deep=True)
        expected = np.round(np.asarray(shares) * 65535)
        np.testing.assert_allclose(wide, np.repeat(expected[:, None], 3, 1), atol=1)


@pytest.mark.parametrize("pix_fmt", ["ya16be", "ya16le"])
def test_deep_limited_range_grey_with_alpha_reads_black_as_black(pix_fmt: str) -> None:
    """16-bit grey with alpha (PNG's ya16be, as FFmpeg decodes it) tagged limited range was
    read as full range: black (Y 4096) 4096, white (60160) 60160. Black reads 0, white
    65535, a grey in proportion, as plain grey's; 8-bit too."""
    codes, shares = levels(pix_fmt, full=False)
    frame = patches_frame(pix_fmt, codes)
    frame.color_range = ColorRange.MPEG
    got = _rgb(frame, deep=True)[PATCH // 2, PATCH // 2 :: PATCH].astype(int)
    expected = np.round(np.asarray(shares) * 65535)
    np.testing.assert_allclose(got, np.repeat(expected[:, None], 3, 1), atol=1)
    narrow = _rgb(frame, tone_map=True)[PATCH // 2, PATCH // 2 :: PATCH]
    expected8 = np.round(np.asarray(shares) * 255)
    np.testing.assert_array_equal(narrow, np.repeat(expected8[:, None], 3, 1))


@pytest.mark.parametrize("color_range", [ColorRange.JPEG, 0], ids=["full", "unstated"])
def test_full_range_or_untagged_grey_reads_as_before(tmp_path: Path, color_range: int) -> None:
    """Grey not tagged limited is full range, as swscale reads it: 8-bit byte for byte."""
    path = tmp_path / "grey.mkv"
    write_grey(path, "gray", color_range, [0, 16, 128, 235, 255])
    got = read_patches(path, deep=False, tone_map=True)
    np.testing.assert_array_equal(got[:, 0], [0, 16, 128, 235, 255])


def p010_frame(codes: list[int]) -> av.VideoFrame:
    """A P010 frame (hardware decoders' 10-bit 4:2:0: 10 bits in each 16-bit word's top,
    chroma interleaved) of limited-range grey patches at Y `codes`, BT.709."""
    width = PATCH * len(codes)
    frame = av.VideoFrame(width, PATCH, "p010le")
    luma, chroma = frame.planes
    rows = np.zeros((luma.height, luma.line_size // 2), "<u2")
    rows[:, :width] = np.repeat(np.asarray(codes, "<u2") << 6, PATCH)
    luma.update(rows.tobytes())
    chroma.update(np.full(chroma.buffer_size // 2, 512 << 6, "<u2").tobytes())
    frame.color_range, frame.colorspace = ColorRange.MPEG, Colorspace.ITU709
    return frame


def test_p010_reads_white_as_white() -> None:
    """P010's white (Y 940) read 65283, 0.4% dark (254 in the editor); black 0, white
    65535, a grey in proportion, as the planar format's."""
    codes, shares = levels("yuv420p10le", full=False)
    got = _rgb(p010_frame(codes), deep=True)[PATCH // 2, PATCH // 2 :: PATCH].astype(int)
    expected = np.round(np.asarray(shares) * 65535)
    np.testing.assert_allclose(got, np.repeat(expected[:, None], 3, 1), atol=1)
    narrow = _rgb(p010_frame(codes), tone_map=True)[PATCH // 2, PATCH // 2 :: PATCH]
    np.testing.assert_array_equal(narrow[[0, 2]], [[0, 0, 0], [255, 255, 255]])


def write_big_endian(path: Path, codes: list[int]) -> None:
    """A one-frame raw yuv420p10be clip (NUT) of grey patches at Y `codes` (the range is
    not kept: unstated, which is read as limited)."""
    write_clip(path, patches_frame("yuv420p10be", codes), codec="rawvideo")


def test_a_big_endian_deep_video_reads_white_as_white(tmp_path: Path) -> None:
    """A big-endian 10-bit clip's white (Y 940) read 65283 (254); now 65535 (255)."""
    codes, shares = levels("yuv420p10le", full=False)
    path = tmp_path / "be.nut"
    write_big_endian(path, codes)
    wide = read_patches(path, deep=True)
    expected = np.round(np.asarray(shares) * 65535)
    np.testing.assert_allclose(wide, np.repeat(expected[:, None], 3, 1), atol=1)
    narrow = read_patches(path, deep=False, tone_map=True)
    np.testing.assert_array_equal(narrow[[0, 2]], [[0, 0, 0], [255, 255, 255]])


def write_8_bit_levels(path: Path, pix_fmt: str, codes: list[int]) -> None:
    """`write_levels` at 8 bits: limited-range grey patches at Y `codes`, BT.709 matrix,
    BT.2020 primaries, PQ."""
    write_clip(
        path,
        patches_frame(pix_fmt, codes),
        color_range=ColorRange.MPEG,
        colorspace=Colorspace.ITU709,
        color_primaries=hdr.BT2020,
        color_trc=hdr.PQ,
    )


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv444p"])
def test_an_8_bit_hdr_video_tone_maps_its_signal_as_stored(tmp_path: Path, pix_fmt: str) -> None:
    """An 8-bit PQ clip's white (Y 235) was tone mapped as 65021 (4:2:0) or 65283 of 65535;
    its frames are the tone mapping of the exact signal."""
    codes = [16, 60, 100, 130, 235]
    path = tmp_path / "pq8.mkv"
    write_8_bit_levels(path, pix_fmt, codes)
    info, pts = probe(path)
    got = VideoReader(path, pts, info.rotation).frame(0)[PATCH // 2, PATCH // 2 :: PATCH]
    signal = np.round((np.asarray(codes) - 16) / 219 * 65535).astype(np.uint16)
    wide = np.repeat(signal[None, :, None], 3, 2)
    np.testing.assert_array_equal(got, hdr.to_sdr(wide, hdr.PQ, 9)[0])


def write_rgb(path: Path, rgb: np.ndarray, pix_fmt: str, primaries: int, transfer: int) -> None:
    """A lossless 4:4:4 clip of `rgb` (uint8 or uint16, full range) in `pix_fmt`, limited
    range, BT.709 matrix (BT.2020's for BT.2020 primaries), tagged `primaries` and
    `transfer`."""
    matrix = Colorspace.BT2020 if primaries == hdr.BT2020 else Colorspace.ITU709
    write_clip(
        path,
        rgb_picture(rgb, pix_fmt, matrix),
        color_range=ColorRange.MPEG,
        colorspace=int(matrix),
        color_primaries=primaries,
        color_trc=transfer,
    )


def srgb_linear(code: np.ndarray) -> np.ndarray:
    c = np.asarray(code, np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


PATCHES = np.array(
    [[255, 0, 0], [0, 255, 0], [0, 0, 255], [192, 128, 64], [128, 128, 128], [255, 255, 255]]
)


@pytest.mark.parametrize(
    "primaries,name,pix_fmt",
    [
        (hdr.P3_D65, "P3-D65", "yuv444p"),
        (hdr.BT2020, "BT.2020", "yuv444p"),
        (hdr.BT2020, "BT.2020", "yuv444p10le"),
    ],
)
def test_an_sdr_video_in_wide_primaries_is_shown_in_bt709(
    tmp_path: Path, primaries: int, name: str, pix_fmt: str
) -> None:
    """SDR P3-D65 or BT.2020 colour was shown and matted as if it were BT.709's (its red as
    BT.709's red, less saturated), with no note. It is shown converted to BT.709's (its
    sRGB-encoded light through the primaries' matrix, out-of-gamut light clipped: a wide red
    is BT.709's red, 255, 0, 0; an orange is more saturated), grey and white kept; the note
    says so.
    Exports keep its own colour (the reader without tone mapping)."""
    rgb = np.repeat(np.repeat(PATCHES[None], PATCH, 0), PATCH, 1).astype(np.uint8)
    if pix_fmt.endswith("10le"):
        rgb = rgb.astype(np.uint16) * 257
    path = tmp_path / "wide.mkv"
    write_rgb(path, rgb, pix_fmt, primaries, transfer=1)
    info, pts = probe(path)
    assert info.notes == [
        f"the video's colour is {name} (SDR): it is shown and matted converted to BT.709's "
        "(sRGB; colours outside BT.709 clipped); exports keep its own colour and its tags"
    ]
    shown = VideoReader(path, pts, 0).frame(0)[PATCH // 2, PATCH // 2 :: PATCH].astype(int)
    stored = VideoReader(path, pts, 0, tone_map=False, deep=True).frame(0)
    light = srgb_linear(stored[PATCH // 2, PATCH // 2 :: PATCH] / np.iinfo(stored.dtype).max)
    expected = srgb8(hdr.in_bt709(light.astype(np.float32)[None], primaries)[0])
    assert np.abs(shown - expected).max() <= 1
    np.testing.assert_array_equal(shown[4:], [[128, 128, 128], [255, 255, 255]])
    # a wide orange is more saturated than the same codes in BT.709: it was shown as stored
    assert shown[3, 0] - shown[3, 2] > 140  # 192 - 64 as stored
    # exports: the source's own colour, as stored (8 bits: swscale's own conversion)
    if pix_fmt == "yuv444p":
        with av.open(str(path)) as container:
            decoded = next(container.decode(video=0)).to_ndarray(format="rgb24")
        kept = VideoReader(path, pts, 0, tone_map=False, deep=True).frame(0)
        np.testing.assert_array_equal(kept, decoded)


def test_an_sdr_video_in_bt709_or_unstated_primaries_reads_as_before(tmp_path: Path) -> None:
    """No note, and the editor's frame is swscale's own, byte for byte."""
    rgb = np.repeat(np.repeat(PATCHES[None], PATCH, 0), PATCH, 1).astype(np.uint8)
    for primaries in (1, 2, 6):
        path = tmp_path / f"p{primaries}.mkv"
        write_rgb(path, rgb, "yuv444p", primaries, transfer=1)
        info, pts = probe(path)
        assert info.notes == []
        with av.open(str(path)) as container:
            decoded = next(container.decode(video=0)).to_ndarray(format="rgb24")
        np.testing.assert_array_equal(VideoReader(path, pts, 0).frame(0), decoded)


def test_an_hdr_video_of_unstated_primaries_is_taken_as_bt2020(tmp_path: Path) -> None:
    """A PQ clip that states no primaries was tone mapped as BT.709 colour (its BT.2020 red
    shown as BT.709's red, far less saturated than meant) and its note did not say; it is
    read as BT.2020's, as BT.2100 has it, and the note says so."""
    rgb = np.zeros((PATCH, PATCH * 2, 3), np.uint16)
    rgb[:, :PATCH, 0] = np.round(pq_signal(203.0 / 5) * 65535)  # a fifth of reference white
    rgb[:, PATCH:] = np.round(pq_signal(203.0 / 5) * 65535)  # grey
    path = tmp_path / "pq.mkv"
    write_rgb(path, rgb, "yuv444p10le", primaries=2, transfer=hdr.PQ)
    info, pts = probe(path)
    assert info.primaries == 2  # as stated: exports keep the file's tags
    assert info.notes == [
        "the video is HDR (PQ, BT.2020 taken: its primaries are not stated): it is shown and "
        "matted tone mapped to SDR (BT.709, sRGB); exports keep its own colour and BT.2020's "
        "tags"
    ]
    shown = VideoReader(path, pts, 0).frame(0)[PATCH // 2, PATCH // 2 :: PATCH].astype(int)
    stored = VideoReader(path, pts, 0, tone_map=False, deep=True).frame(0)[:1]
    expected = hdr.to_sdr(stored, hdr.PQ, hdr.BT2020)[0, PATCH // 2 :: PATCH]
    np.testing.assert_array_equal(shown, expected)
    assert shown[0, 0] > 150 and shown[0, 1] == 0  # BT.2020's red: taken as BT.709's, 125
