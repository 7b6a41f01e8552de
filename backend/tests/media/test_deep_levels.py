"""Absolute levels of video of more than 8 bits a sample, read and written: swscale reads a
4:2:0 or 4:2:2 frame's white as less than 16-bit white (limited range's 10-bit Y 940 as 65283,
full range's 1023 as 65472) and writes 16-bit white as more than legal white (10-bit Y 943)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import av
import numpy as np
import OpenEXR
import pytest
from av.video.reformatter import ColorRange, Colorspace

from tests.synth import PATCH, export_frame, levels, patches_frame, read_patches, write_clip
from vidmatte.media import hdr
from vidmatte.media.export import ExportFrame, write_archive
from vidmatte.media.video import VideoReader, probe


def write_levels(
    path: Path, pix_fmt: str, full: bool, codes: list[int], primaries: int = 1, transfer: int = 1
) -> None:
    """A one-frame lossless (FFV1) clip of grey patches at Y `codes` (neutral chroma) side by
    side, 16 rows, tagged with its range, a BT.709 matrix, `primaries` and `transfer`."""
    write_clip(
        path,
        patches_frame(pix_fmt, codes),
        color_range=ColorRange.JPEG if full else ColorRange.MPEG,
        colorspace=Colorspace.ITU709,
        color_primaries=primaries,
        color_trc=transfer,
    )


DEEP_FORMATS = ["yuv420p10le", "yuv422p10le", "yuv444p10le", "yuv420p12le"]


@pytest.mark.parametrize("full", [False, True], ids=["limited", "full"])
@pytest.mark.parametrize("pix_fmt", DEEP_FORMATS)
def test_deep_video_reads_white_as_white(tmp_path: Path, pix_fmt: str, full: bool) -> None:
    """10-bit limited-range white (Y 940) read as 65283 (0.4% dark: 254 in the editor and the
    models), full range's 1023 as 65472; 16-bit PNGs, EXRs and tone mapped PQ were as dark.
    Black reads 0, white 65535 (255) and a grey in proportion, in 16 bits and in 8."""
    codes, shares = levels(pix_fmt, full)
    path = tmp_path / "levels.mkv"
    write_levels(path, pix_fmt, full, codes)
    wide = read_patches(path, deep=True)
    expected = np.round(np.asarray(shares) * 65535)
    np.testing.assert_allclose(wide, np.repeat(expected[:, None], 3, 1), atol=1)
    narrow = read_patches(path, deep=False, tone_map=True)
    np.testing.assert_array_equal(narrow[[0, 2]], [[0, 0, 0], [255, 255, 255]])
    assert np.abs(narrow[1] - shares[1] * 255).max() <= 0.5


def test_a_deep_hdr_video_tone_maps_its_signal_as_stored(tmp_path: Path) -> None:
    """PQ's tone mapping took a 10-bit limited-range signal for 0.4% less (a mid grey, Y 500,
    came out 176 where its signal makes 178). The editor's frame is the tone mapping of the
    exact signal."""
    codes = [64, 400, 500, 650]
    path = tmp_path / "pq.mkv"
    write_levels(path, "yuv420p10le", False, codes, primaries=9, transfer=hdr.PQ)
    info, pts = probe(path)
    got = VideoReader(path, pts, info.rotation).frame(0)[PATCH // 2, PATCH // 2 :: PATCH]
    signal = np.round((np.asarray(codes) - 64) / 876 * 65535).astype(np.uint16)
    wide = np.repeat(signal[None, :, None], 3, 2)
    np.testing.assert_array_equal(got, hdr.to_sdr(wide, hdr.PQ, 9)[0])  # no MaxCLL: PEAK


def test_an_8_bit_video_reads_as_before(tmp_path: Path) -> None:
    """8-bit frames keep swscale's own 8-bit conversion, byte for byte (the deep path's
    correction is no part of it)."""
    rng = np.random.default_rng(3)
    width, height = 96, 64
    planes = [rng.integers(16, 236, (height, width)), *rng.integers(16, 241, (2, 32, 48))]
    frame = av.VideoFrame(width, height, "yuv420p")
    for plane, values in zip(frame.planes, planes, strict=True):
        rows = np.zeros((plane.height, plane.line_size), np.uint8)
        rows[:, : plane.width] = values
        plane.update(rows.tobytes())
    path = tmp_path / "eight.mkv"
    write_clip(path, frame, color_range=ColorRange.MPEG, colorspace=Colorspace.ITU709)
    info, pts = probe(path)
    with av.open(str(path)) as container:
        expected = next(container.decode(video=0)).to_ndarray(format="rgb24")
    for deep in (False, True):
        got = VideoReader(path, pts, info.rotation, tone_map=not deep, deep=deep).frame(0)
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected)


def deep_grey_frame(shares: list[float]) -> ExportFrame:
    """An opaque 16-bit frame of grey patches at `shares` of white, BT.709."""
    values = np.round(np.asarray(shares) * 65535).astype(np.uint16)
    return export_frame(np.repeat(np.repeat(values, PATCH)[None, :, None], PATCH, 0).repeat(3, 2))


def luma_codes(data: bytes, bits: int) -> np.ndarray:
    """Each patch's centre Y code in a video's first frame, at `bits` (ProRes decodes to 12
    bits: its codes x4)."""
    with av.open(io.BytesIO(data)) as container:
        frame = next(container.decode(video=0))
    plane = frame.planes[0]
    decoded = frame.format.components[0].bits
    assert decoded >= bits
    rows = np.frombuffer(bytes(plane), "<u2" if decoded > 8 else "u1").reshape(plane.height, -1)
    return rows[PATCH // 2, PATCH // 2 : plane.width : PATCH] / (1 << (decoded - bits))


@pytest.mark.parametrize(
    "fmt,file,bits,codes",
    [
        ("prores4444", "matte_prores4444.mov", 10, [64, 356, 940]),
        ("composite_mp4", "matte_composite.mp4", 10, [64, 356, 940]),
        ("webm_alpha", "matte_alpha.webm", 8, [16, 89, 235]),
    ],
)
def test_a_deep_export_writes_white_at_legal_white(
    fmt: str, file: str, bits: int, codes: list[int]
) -> None:
    """16-bit white went into 10-bit video as Y 943, over limited range's white (940), and a
    grey in proportion too bright (8-bit VP9: 236 for 235). Black is 64 (16), white 940 (235),
    a third grey a third of the way."""
    out = io.BytesIO()
    frame = deep_grey_frame([0.0, 1 / 3, 1.0])
    write_archive(out, iter([frame]), [fmt], 10, background=(0, 0, 0))
    got = luma_codes(zipfile.ZipFile(out).read(file), bits)
    np.testing.assert_array_equal(got, codes)  # flat patches: exact, lossy codecs too


@pytest.mark.parametrize("pix_fmt", ["yuv420p10le", "yuv422p10le"])
def test_a_deep_limited_source_exports_its_absolute_levels(tmp_path: Path, pix_fmt: str) -> None:
    """From a 10-bit limited-range source, the 16-bit PNG's white is 65535 (was 65283) and
    the EXR's light 1.0 (was 0.991); ProRes and HEVC give its codes back within one."""
    codes, _ = levels(pix_fmt, full=False)
    codes = [*codes, 700]
    path = tmp_path / "source.mkv"
    write_levels(path, pix_fmt, False, codes)
    info, pts = probe(path)
    frame = export_frame(VideoReader(path, pts, info.rotation, tone_map=False, deep=True).frame(0))
    out = io.BytesIO()
    formats = ["rgba_png", "exr", "prores4444", "composite_mp4"]
    write_archive(out, iter([frame]), formats, 10, background=(0, 0, 0))
    archive = zipfile.ZipFile(out)
    with av.open(io.BytesIO(archive.read("rgba/000000.png"))) as container:
        png = next(container.decode(video=0)).to_ndarray(format="rgba64le")
    assert png[PATCH // 2, PATCH // 2 :: PATCH, :3].tolist()[:3] == [
        [0] * 3,
        [21845] * 3,
        [65535] * 3,
    ]
    exr_path = tmp_path / "frame.exr"
    exr_path.write_bytes(archive.read("exr/000000.exr"))
    with OpenEXR.File(str(exr_path), separate_channels=True) as exr:
        light = exr.channels()["G"].pixels[PATCH // 2, PATCH // 2 :: PATCH]
    assert (light[0], light[2]) == (0.0, 1.0)
    for file in ("matte_prores4444.mov", "matte_composite.mp4"):
        got = luma_codes(archive.read(file), 10)
        assert np.abs(got - codes).max() <= 1, (file, got.tolist())
