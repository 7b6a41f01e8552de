"""Still images of a sequence: the sRGB encoding of EXR's linear light and the timecodes EXR
and DPX headers state (the API tests upload whole sequences)."""

from __future__ import annotations

import struct
import tempfile

import numpy as np
import OpenEXR
import pytest

from vidmatte.config import Settings
from vidmatte.media.export import srgb_to_linear
from vidmatte.media.images import decode_image, linear_to_srgb16, start_timecode, stated_rate


def test_srgb_encoding_undoes_what_the_exr_export_does() -> None:
    """An EXR plate read in and a matte's EXR written out use the one transfer function, so
    every 8-bit level comes back as itself."""
    levels = np.arange(256, dtype=np.uint8)
    encoded = linear_to_srgb16(srgb_to_linear(levels)).astype(np.int64)
    assert np.array_equal(np.round(encoded / 257), levels)
    assert linear_to_srgb16(np.array([-1.0, np.nan, np.inf, 3.0])).tolist() == [0, 0, 65535, 65535]


def test_a_tall_exr_is_encoded_whole_band_by_band() -> None:
    """Encoded in bands of rows (memory): a data window of 600 rows starting at row 3 of a
    display window of 610 lands where it belongs, every row encoded."""
    linear = np.random.default_rng(2).random((600, 5, 3), np.float32)
    header = {"displayWindow": ((0, 0), (6, 609)), "dataWindow": ((1, 3), (5, 602))}
    frame = decode_image("tall.0001.exr", exr_with(None, channels=linear, **header), Settings())
    decoded = frame.to_ndarray(format="rgb48le")
    assert decoded.shape == (610, 7, 3)
    assert np.array_equal(decoded[3:603, 1:6], linear_to_srgb16(linear))
    decoded[3:603, 1:6] = 0
    assert not decoded.any()


def dpx_header(timecode: int, image_offset: int = 2048, endian: str = ">") -> bytes:
    magic = b"SDPX" if endian == ">" else b"XPDS"
    header = bytearray(magic + bytes(image_offset - 4))
    struct.pack_into(endian + "I", header, 4, image_offset)
    if image_offset >= 1924:
        struct.pack_into(endian + "I", header, 1920, timecode)
    return bytes(header)


@pytest.mark.parametrize(
    ("timecode", "fps", "endian", "label"),
    [
        (0x01000203, 24, ">", "01:00:02:03"),
        (0x01000203, 24, "<", "01:00:02:03"),  # byte order by the magic number
        (0x23595929, 29.97, ">", "23:59:59:29"),
        (0x01010042, 29.97, ">", "01:01:00;02"),  # bit 6 of the frames: drop-frame
        (0x00000112, 50, ">", "00:00:01:24"),  # frame pairs above 30 fps
        (0x80000112, 50, ">", "00:00:01:25"),  # ...the pair's second: bit 7 of the hours
        (0x00008112, 59.94, ">", "00:00:01:25"),  # ...at 60: bit 7 of the seconds
        (0xFFFFFFFF, 24, ">", None),  # unset
        (0x0100020A, 24, ">", None),  # not BCD
    ],
)
def test_dpx_timecode(timecode: int, fps: float, endian: str, label: str | None) -> None:
    assert start_timecode("scan.0001.dpx", dpx_header(timecode, endian=endian), fps) == label


@pytest.mark.parametrize(
    ("film", "television", "rate"),
    [(25.0, 30.0, 25.0), (float("nan"), 29.97, 29.97), (0.0, float("nan"), None)],
)
def test_dpx_frame_rate(film: float, television: float, rate: float | None) -> None:
    """The film header's rate, else the television header's; unset is NaN (all ones) or 0."""
    header = bytearray(dpx_header(0xFFFFFFFF, endian="<"))
    struct.pack_into("<f", header, 1724, film)
    struct.pack_into("<f", header, 1940, television)
    assert stated_rate("scan.0001.dpx", bytes(header)) == pytest.approx(rate)
    assert stated_rate("scan.0001.dpx", dpx_header(0, image_offset=1664)) is None  # no headers


def test_a_dpx_header_without_the_television_header_states_no_timecode() -> None:
    # FFmpeg's encoder ends its header at 1664; what follows is pixels, not a timecode.
    assert start_timecode("a.1.dpx", dpx_header(0, image_offset=1664) + bytes(4096), 24) is None
    assert start_timecode("a.1.dpx", b"SDPX" + bytes(100), 24) is None  # cut short


def exr_with(
    timecode: OpenEXR.TimeCode | None, channels: np.ndarray | None = None, **more: object
) -> bytes:
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, **more}
    if timecode is not None:
        header["timeCode"] = timecode
    channels = {"RGB": np.zeros((4, 6, 3), np.float16) if channels is None else channels}
    with tempfile.TemporaryDirectory() as folder, OpenEXR.File(header, channels) as image:
        image.write(f"{folder}/a.exr")
        with open(f"{folder}/a.exr", "rb") as file:
            return file.read()


@pytest.mark.parametrize(
    ("frame", "phase", "drop", "fps", "label"),
    [
        (3, False, False, 25, "10:20:30:03"),
        (3, False, True, 29.97, "10:20:30;03"),
        (12, True, False, 50, "10:20:30:25"),  # ST 12-1 above 30 fps: pairs and a phase flag
        (29, False, False, 60, "10:20:30:58"),
    ],
)
def test_exr_timecode(frame: int, phase: bool, drop: bool, fps: float, label: str) -> None:
    code = OpenEXR.TimeCode()
    code.hours, code.minutes, code.seconds, code.frame = 10, 20, 30, frame
    code.fieldPhase, code.dropFrame = phase, drop
    assert start_timecode("comp.1001.EXR", exr_with(code), fps) == label
    assert start_timecode("comp.1001.exr", exr_with(None), fps) is None


def test_exr_frame_rate() -> None:
    image = exr_with(None, framesPerSecond=(24000, 1001))
    assert stated_rate("comp.1001.exr", image) == pytest.approx(24000 / 1001)
    assert stated_rate("comp.1001.exr", exr_with(None)) is None


def test_other_images_state_no_timecode_and_no_rate() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(3000)
    assert start_timecode("a.1.png", png, 24) is None
    assert stated_rate("a.1.png", png) is None
