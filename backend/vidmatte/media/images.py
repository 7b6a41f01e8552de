"""One still image of a numbered sequence as a frame, and the frame rate and timecode it states.

PNG, JPEG, TIFF and DPX are decoded by FFmpeg as they are stored (a DPX's code values kept: a
log scan stays log). OpenEXR, which FFmpeg reads only in part, goes through the OpenEXR
library: its scene-linear R, G, B (or Y) are clipped to 0..1 and given the sRGB transfer
function, as a compositor's viewer shows them, in 16 bits, so an EXR export of the matte
(which undoes that function) gives the plate's linear values back. Compositors keep the frame
rate and timecode in each image: EXR's `framesPerSecond` and `timeCode` attributes, DPX's film
and television headers, read for the sequence's first frame.
"""

from __future__ import annotations

import io
import math
import struct
from pathlib import PurePosixPath
from typing import Any

import av
import numpy as np
import OpenEXR

from vidmatte.config import Settings
from vidmatte.media.timecode import nominal_rate
from vidmatte.media.video import MediaError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dpx", ".exr")
IMAGE_CODECS = ("png", "mjpeg", "tiff", "dpx")  # what FFmpeg reads those as (JPEG as mjpeg)
IMAGE_KINDS = "PNG, JPEG, TIFF, DPX or EXR"  # for messages
_DPX_MAGIC = {b"SDPX": ">", b"XPDS": "<"}  # big- and little-endian
_DPX_TIMECODE_AT = 1920  # the television header's first field (SMPTE 268M)
_DPX_RATES_AT = (1724, 1940)  # frame rate: the film header's, the television header's
_ROWS_AT_ONCE = 256


def decode_image(member: str, data: bytes, settings: Settings) -> av.VideoFrame:
    """The image in `data` as a frame; MediaError naming `member` when it is none, or one
    larger than the frame limit (checked from its header, before decoding)."""
    if _is_exr(member):
        return _decode_exr(member, data, settings)
    try:
        with av.open(io.BytesIO(data), metadata_errors="ignore") as container:
            streams = container.streams.video
            if not streams or streams[0].codec_context.name not in IMAGE_CODECS:
                raise MediaError(f"{member} is not a readable image")
            stream = streams[0]
            _check_size(member, stream.codec_context.width, stream.codec_context.height, settings)
            for frame in container.decode(stream):
                return frame
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise MediaError(f"{member} is not a readable image") from exc
    raise MediaError(f"{member} is not a readable image")


def start_timecode(member: str, data: bytes, fps: float) -> str | None:
    """The SMPTE timecode label an EXR or a DPX states for its frame at `fps` (`01:00:00:00`,
    `;` before the frames when drop-frame); None for other images, or where none is stated."""
    if _is_exr(member):
        return _exr_timecode(member, data, fps)
    if data[:4] in _DPX_MAGIC:
        return _dpx_timecode(data, fps)
    return None


def stated_rate(member: str, data: bytes) -> float | None:
    """The frame rate an EXR or a DPX states for its sequence (EXR's `framesPerSecond`, else
    DPX's film header's, else its television header's); None for other images, or where none
    is stated (DPX leaves an unset field all ones, a NaN)."""
    if _is_exr(member):
        rate = _read_exr(member, data, pixels=False)[0].get("framesPerSecond")
        return float(rate[0]) / float(rate[1]) if rate is not None and rate[1] else None
    if data[:4] not in _DPX_MAGIC:
        return None
    endian = _DPX_MAGIC[data[:4]]
    (image_offset,) = struct.unpack_from(endian + "I", data, 4) if len(data) >= 8 else (0,)
    for at in _DPX_RATES_AT:
        if image_offset >= at + 4 and len(data) >= at + 4:
            (rate,) = struct.unpack_from(endian + "f", data, at)
            if math.isfinite(rate) and rate > 0:
                return rate
    return None


def linear_to_srgb16(linear: np.ndarray) -> np.ndarray:
    """Linear light to sRGB-encoded uint16 (IEC 61966-2-1): below 0 and NaN are 0, above 1
    is 1 (the matte needs no highlights beyond white)."""
    c = np.clip(np.nan_to_num(linear.astype(np.float32), nan=0.0), 0.0, 1.0)
    encoded = np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)
    return np.round(encoded * 65535).astype(np.uint16)


def _is_exr(member: str) -> bool:
    return PurePosixPath(member).suffix.lower() == ".exr"


def _check_size(member: str, width: int, height: int, settings: Settings) -> None:
    if width * height > settings.max_pixels:
        raise MediaError(
            f"{member} is {width}x{height}, larger than the limit of {settings.max_pixels:,} pixels"
        )


def _read_exr(
    member: str, data: bytes, pixels: bool = True
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header of an EXR's first part and, with `pixels`, its channels by name. A damaged
    file fails anywhere from opening to reading its last chunk: MediaError, naming it."""
    try:
        with OpenEXR.File(io.BytesIO(data), header_only=not pixels) as image:
            header = dict(image.header())  # a view of the file, empty once it is closed
            channels = {n: c.pixels for n, c in image.channels().items()} if pixels else {}
    except (RuntimeError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise MediaError(f"{member} is not a readable image") from exc
    return header, channels


def _decode_exr(member: str, data: bytes, settings: Settings) -> av.VideoFrame:
    """The display window of the EXR's first part as 16-bit sRGB; pixels of it outside the
    data window (Nuke writes only the bounding box of what is not black) are black."""
    header, _ = _read_exr(member, data, pixels=False)
    (dx0, dy0), (dx1, dy1) = (map(int, corner) for corner in header["displayWindow"])
    (x0, y0), (x1, y1) = (map(int, corner) for corner in header["dataWindow"])
    width, height = dx1 - dx0 + 1, dy1 - dy0 + 1
    _check_size(member, width, height, settings)
    _check_size(member, x1 - x0 + 1, y1 - y0 + 1, settings)  # a crafted huge box
    rgb = _exr_rgb(member, _read_exr(member, data)[1])
    canvas = np.zeros((height, width, 3), np.uint16)
    # The data window within the display window, both clipped to it.
    top, left = max(y0, dy0), max(x0, dx0)
    bottom, right = min(y1, dy1) + 1, min(x1, dx1) + 1
    # In bands of rows: the encoding's float temporaries of a whole 8K frame would take GBs.
    for row in range(top, bottom, _ROWS_AT_ONCE):
        end = min(row + _ROWS_AT_ONCE, bottom)
        canvas[row - dy0 : end - dy0, left - dx0 : right - dx0] = linear_to_srgb16(
            rgb[row - y0 : end - y0, left - x0 : right - x0]
        )
    return av.VideoFrame.from_ndarray(canvas, format="rgb48le")


def _exr_rgb(member: str, channels: dict[str, np.ndarray]) -> np.ndarray:
    """R, G, B (grey from Y alone) of an EXR's unnamed layer; any alpha is dropped."""
    for name in ("RGB", "RGBA"):
        if name in channels:
            return channels[name][..., :3]
    if "Y" in channels:
        return np.repeat(channels["Y"][..., None], 3, axis=2)
    names = ", ".join(sorted(channels)[:6]) + (", ..." if len(channels) > 6 else "")
    raise MediaError(f"{member} has no R, G, B or Y channels to show (it has {names})")


def _exr_timecode(member: str, data: bytes, fps: float) -> str | None:
    code = _read_exr(member, data, pixels=False)[0].get("timeCode")
    if code is None:
        return None
    # Above 30 fps ST 12-1 counts frame pairs, the field phase marking a pair's second frame.
    frames = code.frame * 2 + int(code.fieldPhase) if nominal_rate(fps) > 30 else code.frame
    return _label(code.hours, code.minutes, code.seconds, frames, code.dropFrame)


def _dpx_timecode(data: bytes, fps: float) -> str | None:
    """DPX's timecode: four BCD bytes, hours first (in the file's byte order); all ones when
    unset. The drop-frame flag is bit 6 of the frames byte; above 30 fps the frames count
    pairs and a field bit says which one (bit 7 of the hours byte at 50, of the seconds' at
    60, where FFmpeg's SMPTE timecode reading looks). A header too short to hold the field
    states none."""
    endian = _DPX_MAGIC[data[:4]]
    if len(data) < _DPX_TIMECODE_AT + 4:
        return None
    (image_offset,) = struct.unpack_from(endian + "I", data, 4)
    (value,) = struct.unpack_from(endian + "I", data, _DPX_TIMECODE_AT)
    if image_offset < _DPX_TIMECODE_AT + 4 or value == 0xFFFFFFFF:
        return None
    hh, mm, ss, ff = value.to_bytes(4, "big")
    try:
        hours, minutes, seconds = _bcd(hh & 0x3F), _bcd(mm & 0x7F), _bcd(ss & 0x7F)
        frames = _bcd(ff & 0x3F)
    except ValueError:
        return None
    rate = nominal_rate(fps)
    if rate > 30:
        field = hh if rate == 50 else ss
        frames = frames * 2 + (field >> 7)
    return _label(hours, minutes, seconds, frames, bool(ff & 0x40))


def _bcd(byte: int) -> int:
    tens, units = divmod(byte, 16)
    if tens > 9 or units > 9:
        raise ValueError(f"{byte:#x} is not binary-coded decimal")
    return 10 * tens + units


def _label(hours: int, minutes: int, seconds: int, frames: int, drop: bool) -> str:
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{';' if drop else ':'}{frames:02d}"
