"""One still image of a numbered sequence as a frame, and the frame rate and timecode it states.

PNG, JPEG, TIFF and DPX are decoded by FFmpeg as they are stored (a DPX's code values kept: a
log scan stays log), turned and mirrored as an EXIF orientation (read by PIL) says; a 32-bit
float TIFF's values are taken as they are, 0..1 made 16 bits and clipped (a TIFF states no
transfer function), and a TIFF of samples FFmpeg misreads (half floats, signed or 32-bit
integers) is refused, its header saying what they are, as a DPX of samples FFmpeg refuses or
misreads is: of other than 8, 10, 12 or 16 bits (32- and 64-bit float, 1-bit), of 10 bits
packed into 32-bit words (packing 0; filled to them, 1 or 2, are read), or signed. OpenEXR,
which FFmpeg reads only in part, goes through the OpenEXR library: its scene-linear R, G, B
(or Y) are clipped to 0..1 and given the sRGB transfer function, as a compositor's viewer
shows them, in 16 bits, so an EXR export of the matte (which undoes that function) gives the
plate's linear values back; its A is kept beside; a luminance/chroma EXR (Y, RY, BY) is made
RGB as the library's RGBA interface makes it; a deep one is refused.
Compositors keep the frame rate and timecode in each image: EXR's `framesPerSecond` and
`timeCode` attributes, DPX's film and television headers, read for the sequence's first frame.
"""

from __future__ import annotations

import io
import math
import struct
from fractions import Fraction
from pathlib import PurePosixPath
from typing import Any

import av
import numpy as np
import OpenEXR
from PIL import Image

from vidmatte.config import Settings
from vidmatte.media import hdr
from vidmatte.media.timecode import nominal_rate
from vidmatte.media.video import MediaError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dpx", ".exr")
IMAGE_CODECS = ("png", "mjpeg", "tiff", "dpx")  # what FFmpeg reads those as (JPEG as mjpeg)
IMAGE_KINDS = "PNG, JPEG, TIFF, DPX or EXR"  # for messages
_DPX_MAGIC = {b"SDPX": ">", b"XPDS": "<"}  # big- and little-endian
# The first image element's (what FFmpeg decodes) data sign, bit size and packing (SMPTE 268M).
_DPX_SIGN_AT, _DPX_BITS_AT, _DPX_PACKING_AT = 780, 803, 804
_DPX_BITS_READ = (8, 10, 12, 16)  # FFmpeg's decoder refuses 1, 32 and 64 (float) bits
_DPX_SIGNED = 1  # signed samples; 0 is unsigned, and all ones (the field left unset) read so
_TIFF_MAGIC = {b"MM\0*": ">", b"II*\0": "<"}
_TIFF_BITS, _TIFF_SAMPLES, _TIFF_SAMPLE_FORMAT = 258, 277, 339  # tags, each of SHORTs
_TIFF_SHORT, _TIFF_UNSIGNED, _TIFF_FLOAT = 3, 1, 3  # a field's type; SampleFormat's values
_TIFF_SAMPLE_KINDS = {1: "integer", 2: "signed integer", 3: "float"}
# FFmpeg's float TIFF pictures (its only float images), by their samples a pixel.
_FLOAT_FORMATS = {"rgbf32le": 3, "rgbf32be": 3, "rgbaf32le": 4, "rgbaf32be": 4}
_DPX_TIMECODE_AT = 1920  # the television header's first field (SMPTE 268M)
_DPX_RATES_AT = (1724, 1940)  # frame rate: the film header's, the television header's
_ROWS_AT_ONCE = 256
_EXIF_ORIENTATION = 0x0112
# EXIF orientation -> how the stored picture is shown: (quarter turns counter-clockwise,
# after swapping its rows and columns, its transpose, where True).
_SHOWN_AS = {
    1: (0, False),
    2: (3, True),  # mirrored left to right
    3: (2, False),
    4: (1, True),  # mirrored top to bottom
    5: (0, True),
    6: (3, False),  # turned 90° clockwise
    7: (2, True),
    8: (1, False),
}
MB = 1024 * 1024
# What an EXR's channels may take decoded, a pixel: an RGBA float image's. Zeros compress to
# nearly nothing, so a file of a few MB could otherwise decode to GBs of extra channels.
_DECODED_BYTES_PER_PIXEL = 16
# Rec. 709's luminance weights of R, G, B: what OpenEXR's RgbaYca uses for a file without
# chromaticities (those of other primaries are left aside: plates are Rec. 709 or unmarked).
_LUMA_WEIGHTS = (0.2126, 0.7152, 0.0722)


def decode_image(member: str, data: bytes, settings: Settings) -> av.VideoFrame:
    """The image in `data` as a frame; MediaError naming `member` when it is none, or one
    larger than the frame limit (checked from its header, before decoding)."""
    if _is_exr(member):
        return _decode_exr(member, data, settings)
    _check_tiff_samples(member, data)
    _check_dpx_samples(member, data)
    try:
        with av.open(io.BytesIO(data), metadata_errors="ignore") as container:
            streams = container.streams.video
            if not streams or streams[0].codec_context.name not in IMAGE_CODECS:
                raise MediaError(f"{member} is not a readable image")
            stream = streams[0]
            _check_size(member, stream.codec_context.width, stream.codec_context.height, settings)
            for frame in container.decode(stream):
                return _upright(_integer(frame), _orientation(data))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise MediaError(f"{member} is not a readable image") from exc
    raise MediaError(f"{member} is not a readable image")


def _check_tiff_samples(member: str, data: bytes) -> None:
    """MediaError, naming them, where a TIFF's samples are none FFmpeg reads as they are:
    unsigned integers of up to 16 bits, or 32-bit float RGB or RGBA. It read half floats and
    signed samples as unsigned integers, 32-bit integers as floats (noise either way), and
    refused the rest as no image at all."""
    found = _tiff_samples(data)
    if found is None:
        return
    bits, kind, samples = found
    if (kind == _TIFF_UNSIGNED and bits <= 16) or (
        kind == _TIFF_FLOAT and bits == 32 and samples in (3, 4)
    ):
        return
    what = _TIFF_SAMPLE_KINDS.get(kind, f"sample format {kind}")
    grey = " greyscale" if samples < 3 else ""
    raise MediaError(
        f"{member} is a {bits}-bit {what}{grey} TIFF: TIFFs of 8 or 16 bits a sample (unsigned "
        "integers) or of 32-bit float RGB or RGBA are read; save it as one of those, or as EXR"
    )


def _check_dpx_samples(member: str, data: bytes) -> None:
    """MediaError, naming them, where a DPX's samples are none FFmpeg reads as they are: it
    refused 32 and 64 bits (float, as SMPTE 268M has them; the header tells no writer's 32-bit
    integers from them), 1 bit, and 10 bits packed into 32-bit words (packing 0; filled to
    them, methods A and B, it reads) as no image at all, and read signed samples (it ignores
    the data sign) as unsigned: noise where they are negative. A header too short to state
    them is left to FFmpeg (no readable image)."""
    endian = _DPX_MAGIC.get(data[:4])
    if endian is None or len(data) < _DPX_PACKING_AT + 2:
        return
    bits = data[_DPX_BITS_AT]
    (sign,) = struct.unpack_from(endian + "I", data, _DPX_SIGN_AT)
    (packing,) = struct.unpack_from(endian + "H", data, _DPX_PACKING_AT)
    if bits not in _DPX_BITS_READ:
        raise MediaError(
            f"{member} is a DPX of {bits} bits a sample: DPXs of 8, 10, 12 or 16 bits a sample "
            "(integers) are read; save it as one of those, or as EXR"
        )
    if bits == 10 and packing == 0:
        raise MediaError(
            f"{member} is a DPX of 10 bits a sample packed into 32-bit words (packing 0): "
            "10-bit DPXs filled to 32-bit words (packing 1 or 2, method A or B) are read; save "
            "it as one of those, or as EXR"
        )
    if sign == _DPX_SIGNED:
        raise MediaError(
            f"{member} is a DPX of signed samples ({bits} bits): DPXs of unsigned samples are "
            "read; save it as unsigned integers, or as EXR"
        )


def _tiff_samples(data: bytes) -> tuple[int, int, int] | None:
    """A TIFF's bits a sample, sample format (_TIFF_SAMPLE_KINDS) and samples a pixel, from
    its first image's directory (the first sample's, as every reader takes them; TIFF's
    defaults where it states none); None for no TIFF (BigTIFF included), or a directory
    beyond the data (FFmpeg says it is no readable image)."""
    endian = _TIFF_MAGIC.get(data[:4])
    if endian is None:
        return None
    found = {_TIFF_BITS: 1, _TIFF_SAMPLE_FORMAT: _TIFF_UNSIGNED, _TIFF_SAMPLES: 1}
    try:
        (directory,) = struct.unpack_from(endian + "I", data, 4)
        (entries,) = struct.unpack_from(endian + "H", data, directory)
        for at in range(directory + 2, directory + 2 + 12 * entries, 12):
            tag, kind, count = struct.unpack_from(endian + "HHI", data, at)
            if tag in found and kind == _TIFF_SHORT and count:
                # Up to two SHORTs are held in the entry, more where its offset points.
                held = at + 8 if count <= 2 else struct.unpack_from(endian + "I", data, at + 8)[0]
                found[tag] = struct.unpack_from(endian + "H", data, held)[0]
    except struct.error:
        return None
    return found[_TIFF_BITS], found[_TIFF_SAMPLE_FORMAT], found[_TIFF_SAMPLES]


def _integer(frame: av.VideoFrame) -> av.VideoFrame:
    """A float TIFF's picture in 16 bits (with its alpha), 0..1 clipped, NaN as 0; another
    frame as it is. Read from the plane, not through swscale, which was up to 35 levels off,
    and converted neither RGBA nor big-endian floats."""
    samples = _FLOAT_FORMATS.get(frame.format.name)
    if samples is None:
        return frame
    plane = frame.planes[0]
    rows = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)
    dtype = np.dtype(">f4" if frame.format.name.endswith("be") else "<f4")
    pixels = rows[:, : frame.width * samples * 4].copy().view(dtype)
    pixels = pixels.reshape(frame.height, frame.width, samples)
    return av.VideoFrame.from_ndarray(
        _to16(pixels), format="rgb48le" if samples == 3 else "rgba64le"
    )


def _orientation(data: bytes) -> int:
    """The EXIF orientation (1..8) a JPEG, TIFF or PNG states, read by PIL (from the header
    alone); 1 (as stored) where none is stated or the image is none PIL reads (DPX)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    except (OSError, ValueError, SyntaxError, struct.error, Image.DecompressionBombError):
        return 1  # no image PIL reads, or damaged EXIF: FFmpeg decoded its pixels
    return orientation if orientation in _SHOWN_AS else 1


def _upright(frame: av.VideoFrame, orientation: int) -> av.VideoFrame:
    """The image turned as it is meant to be shown: a camera's or a phone's JPEG is stored as
    the sensor saw it, its EXIF `orientation` saying how to turn it, and mirror it (FFmpeg
    reads it as a rotation, which drops the mirroring). Turned in RGB (and its alpha), at the
    image's depth."""
    turns, transposed = _SHOWN_AS[orientation]
    if not turns and not transposed:
        return frame
    components = frame.format.components
    deep = max(component.bits for component in components) > 8
    alpha = frame.format.name == "pal8" or any(component.is_alpha for component in components)
    fmt = ("rgba64le" if alpha else "rgb48le") if deep else ("rgba" if alpha else "rgb24")
    pixels = frame.to_ndarray(format=fmt)
    if transposed:
        pixels = pixels.transpose(1, 0, 2)
    turned = np.rot90(pixels, k=turns)
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(turned), format=fmt)


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
        return _exr_rate(_read_exr(member, data, pixels=False)[0].get("framesPerSecond"))
    for at in _DPX_RATES_AT:
        rate = _dpx_field(data, at, "f")
        if rate is not None and math.isfinite(rate) and rate > 0:
            return rate
    return None


def _exr_rate(rate: object) -> float | None:
    """framesPerSecond as the binding reads it: the standard's rational is a Fraction; a pair
    (n, d) is what the binding itself writes for a tuple (a v2i). Another type states none."""
    if isinstance(rate, Fraction):
        return float(rate)
    if isinstance(rate, np.ndarray) and rate.shape == (2,) and rate[1]:
        return float(rate[0]) / float(rate[1])
    return None


def linear_to_srgb16(linear: np.ndarray) -> np.ndarray:
    """Linear light to sRGB-encoded uint16 (IEC 61966-2-1): below 0 and NaN are 0, above 1
    is 1 (the matte needs no highlights beyond white)."""
    c = np.clip(np.nan_to_num(linear.astype(np.float32), nan=0.0), 0.0, 1.0)
    return np.round(hdr.srgb_encode(c) * 65535).astype(np.uint16)


def _to16(values: np.ndarray) -> np.ndarray:
    """0..1 to uint16: below 0 and NaN are 0, above 1 is 1."""
    clipped = np.clip(np.nan_to_num(values.astype(np.float32), nan=0.0), 0.0, 1.0)
    return np.round(clipped * 65535).astype(np.uint16)


def _is_exr(member: str) -> bool:
    return PurePosixPath(member).suffix.lower() == ".exr"


def _check_size(member: str, width: int, height: int, settings: Settings) -> None:
    if width * height > settings.max_pixels:
        raise MediaError(
            f"{member} is {width}x{height}, larger than the limit of {settings.max_pixels:,} pixels"
        )


def _read_exr(
    member: str, data: bytes, pixels: bool = True
) -> tuple[dict[str, Any], dict[str, OpenEXR.Channel]]:
    """The header of an EXR's first part and, with `pixels`, its channels by name, each its
    own array (together the binding refuses channels of different pixel types, a float RGB
    with a half A as renderers write). A damaged file fails anywhere from opening to reading
    its last chunk: MediaError, naming it."""
    try:
        with OpenEXR.File(
            io.BytesIO(data), separate_channels=True, header_only=not pixels
        ) as image:
            header = dict(image.header())  # a view of the file, empty once it is closed
            channels = dict(image.channels()) if pixels else {}
    except ZeroDivisionError as exc:  # the binding makes each rational attribute a Fraction
        raise MediaError(
            f"{member} is not a readable image: a rational attribute (its framesPerSecond?) "
            "has a denominator of 0"
        ) from exc
    except (RuntimeError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise MediaError(f"{member} is not a readable image") from exc
    return header, channels


def _decode_exr(member: str, data: bytes, settings: Settings) -> av.VideoFrame:
    """The display window of the EXR's first part as 16-bit sRGB, with its A where it has one;
    pixels of it outside the data window (Nuke writes only the bounding box of what is not
    black) are black (and A 0)."""
    header, _ = _read_exr(member, data, pixels=False)
    if header.get("type") in (OpenEXR.deepscanline, OpenEXR.deeptile):  # before any is read
        raise MediaError(
            f"{member} is a deep image (samples at several depths a pixel): flatten it first "
            "(Nuke's DeepToImage)"
        )
    (dx0, dy0), (dx1, dy1) = (map(int, corner) for corner in header["displayWindow"])
    (x0, y0), (x1, y1) = (map(int, corner) for corner in header["dataWindow"])
    width, height = dx1 - dx0 + 1, dy1 - dy0 + 1
    _check_size(member, width, height, settings)
    _check_size(member, x1 - x0 + 1, y1 - y0 + 1, settings)  # a crafted huge box
    _check_channels(member, header, (x1 - x0 + 1) * (y1 - y0 + 1), settings)
    channels = _read_exr(member, data)[1]
    shape = (y1 - y0 + 1, x1 - x0 + 1)
    rgb = _exr_rgb(member, channels, shape)
    # A (coverage, not light: no transfer function) is kept beside, so a sequence can say it
    # is dropped (media/sequence.py); outside the data window it is 0, as every channel is.
    alpha = _full_size(member, "A", channels["A"], shape) if "A" in channels else None
    canvas = np.zeros((height, width, 3 if alpha is None else 4), np.uint16)
    # The data window within the display window, both clipped to it.
    top, left = max(y0, dy0), max(x0, dx0)
    bottom, right = min(y1, dy1) + 1, min(x1, dx1) + 1
    # None of it inside (Nuke's box of an empty frame may lie beside the picture): all black;
    # an empty range of columns would otherwise slice from the canvas's far end.
    right = max(right, left)
    # In bands of rows: the encoding's float temporaries of a whole 8K frame would take GBs.
    for row in range(top, bottom, _ROWS_AT_ONCE):
        end = min(row + _ROWS_AT_ONCE, bottom)
        into = (slice(row - dy0, end - dy0), slice(left - dx0, right - dx0))
        taken = (slice(row - y0, end - y0), slice(left - x0, right - x0))
        canvas[(*into, slice(0, 3))] = linear_to_srgb16(rgb[taken])
        if alpha is not None:
            canvas[(*into, 3)] = _to16(alpha[taken])
    return av.VideoFrame.from_ndarray(canvas, format="rgb48le" if alpha is None else "rgba64le")


def _check_channels(member: str, header: dict[str, Any], pixels: int, settings: Settings) -> None:
    """MediaError unless the channels of an EXR's data window of `pixels` take at most
    _DECODED_BYTES_PER_PIXEL a pixel at the pixel limit, from the header, before decoding.
    The binding's header does not say a channel's type: each is counted as float (4 bytes)."""
    channels = header.get("channels") or []
    need = sum(pixels // max(c.xSampling * c.ySampling, 1) * 4 for c in channels)
    limit = settings.max_pixels * _DECODED_BYTES_PER_PIXEL
    if need > limit:
        raise MediaError(
            f"{member} holds {len(channels)} channels, up to {need / MB:.1f} MB decoded: more "
            f"than the {limit / MB:.1f} MB four float channels take at the limit of "
            f"{settings.max_pixels:,} pixels (VIDMATTE_MAX_PIXELS)"
        )


def _exr_rgb(
    member: str, channels: dict[str, OpenEXR.Channel], shape: tuple[int, int]
) -> np.ndarray:
    """R, G, B of an EXR's unnamed layer, (height, width) `shape`: its own, else made from Y
    with RY and BY, else grey from Y alone."""

    def plane(name: str) -> np.ndarray:  # only those used: another may be sampled oddly
        return _full_size(member, name, channels[name], shape)

    if {"R", "G", "B"} <= channels.keys():
        return np.stack([plane("R"), plane("G"), plane("B")], axis=-1)
    if {"Y", "RY", "BY"} <= channels.keys():
        return _yc_to_rgb(plane("Y"), plane("RY"), plane("BY"))
    if "Y" in channels:
        return np.repeat(plane("Y")[..., None], 3, axis=2)
    names = ", ".join(sorted(channels)[:6]) + (", ..." if len(channels) > 6 else "")
    raise MediaError(f"{member} has no R, G, B or Y channels to show (it has {names})")


def _full_size(
    member: str, name: str, channel: OpenEXR.Channel, shape: tuple[int, int]
) -> np.ndarray:
    """A channel's samples over the whole data window: a subsampled one's (luminance/chroma
    files keep RY and BY at half resolution) repeated over the pixels each covers."""
    pixels, dy, dx = channel.pixels, channel.ySampling, channel.xSampling
    if (dy, dx) != (1, 1):
        pixels = np.repeat(np.repeat(pixels, dy, axis=0), dx, axis=1)[: shape[0], : shape[1]]
    if pixels.shape != shape:
        raise MediaError(
            f"{member}'s channel {name} holds {pixels.shape[1]}x{pixels.shape[0]} samples, "
            f"not its data window's {shape[1]}x{shape[0]}"
        )
    return pixels


def _yc_to_rgb(y: np.ndarray, ry: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Luminance and chroma to RGB as OpenEXR's RgbaYca::YCAtoRGBA: R = (RY + 1) Y,
    B = (BY + 1) Y, G what remains of Y by the luminance weights."""
    wr, wg, wb = _LUMA_WEIGHTS
    y = y.astype(np.float32)
    r, b = (ry.astype(np.float32) + 1) * y, (by.astype(np.float32) + 1) * y
    return np.stack([r, (y - r * wr - b * wb) / wg, b], axis=-1)


def _exr_timecode(member: str, data: bytes, fps: float) -> str | None:
    code = _read_exr(member, data, pixels=False)[0].get("timeCode")
    if not isinstance(code, OpenEXR.TimeCode):  # none, or the name given another type
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
    value = _dpx_field(data, _DPX_TIMECODE_AT, "I")
    if value is None or value == 0xFFFFFFFF:
        return None
    hh, mm, ss, ff = int(value).to_bytes(4, "big")
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


def _dpx_field(data: bytes, at: int, kind: str) -> float | None:
    """The DPX header's field at byte `at` (struct `kind`: "I" or "f"), in the file's byte
    order; None for no DPX, or a header that ends (where the image starts) before it."""
    endian = _DPX_MAGIC.get(data[:4])
    if endian is None or len(data) < max(8, at + 4):
        return None
    (image_offset,) = struct.unpack_from(endian + "I", data, 4)
    if image_offset < at + 4:
        return None
    return struct.unpack_from(endian + kind, data, at)[0]


def _bcd(byte: int) -> int:
    tens, units = divmod(byte, 16)
    if tens > 9 or units > 9:
        raise ValueError(f"{byte:#x} is not binary-coded decimal")
    return 10 * tens + units


def _label(hours: int, minutes: int, seconds: int, frames: int, drop: bool) -> str:
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{';' if drop else ':'}{frames:02d}"
