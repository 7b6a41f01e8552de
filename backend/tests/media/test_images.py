"""Still images of a sequence: the sRGB encoding of EXR's linear light and the timecodes EXR
and DPX headers state (the API tests upload whole sequences)."""

from __future__ import annotations

import io
import struct
import tempfile
from fractions import Fraction

import numpy as np
import OpenEXR
import pytest
from PIL import Image

from vidmatte.config import Settings
from vidmatte.media.export import srgb_to_linear
from vidmatte.media.images import decode_image, linear_to_srgb16, start_timecode, stated_rate
from vidmatte.media.video import MediaError


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


@pytest.mark.parametrize(
    "data_window",
    [((-10, 0), (-3, 31)), ((50, 0), (60, 31)), ((0, -10), (47, -3)), ((-9, 40), (-2, 50))],
)
def test_a_data_window_beside_the_display_window_is_black(data_window: tuple) -> None:
    """Nothing of the data window within the display window: all black (a slice of columns
    ending left of the display window counted from its right end, a 500)."""
    (x0, y0), (x1, y1) = data_window
    linear = np.ones((y1 - y0 + 1, x1 - x0 + 1, 3), np.float32)
    header = {"displayWindow": ((0, 0), (47, 31)), "dataWindow": data_window}
    frame = decode_image("a.1.exr", exr_with(None, channels=linear, **header), Settings())
    decoded = frame.to_ndarray(format="rgb48le")
    assert decoded.shape == (32, 48, 3) and not decoded.any()


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
    """The standard's rational (Nuke's, Resolve's), and the pair of whole numbers the binding
    writes for a tuple."""
    image = exr_with(None, framesPerSecond=Fraction(24000, 1001))
    assert stated_rate("comp.1001.exr", image) == pytest.approx(24000 / 1001)
    assert stated_rate("comp.1001.exr", exr_with(None, framesPerSecond=(25, 1))) == 25
    assert stated_rate("comp.1001.exr", exr_with(None)) is None


@pytest.mark.parametrize("numerator", [0, 24])
def test_an_exr_rate_over_zero_is_refused_naming_it(numerator: int) -> None:
    """The binding cannot read a header holding a rational n/0 (it makes each a Fraction)."""
    rate = b"framesPerSecond\0rational\0" + struct.pack("<iiI", 8, numerator, 0)
    image = raw_exr(24, 16, {"R": (np.zeros((16, 24), "f"), 1)}, rate)
    for read in (
        lambda: decode_image("a.1.exr", image, Settings()),
        lambda: stated_rate("a.1.exr", image),
        lambda: start_timecode("a.1.exr", image, 24),
    ):
        with pytest.raises(MediaError) as refused:
            read()
        assert str(refused.value) == (
            "a.1.exr is not a readable image: a rational attribute (its framesPerSecond?) has "
            "a denominator of 0"
        )


def test_other_images_state_no_timecode_and_no_rate() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(3000)
    assert start_timecode("a.1.png", png, 24) is None
    assert stated_rate("a.1.png", png) is None


def exr_of(channels: dict[str, np.ndarray], **header: object) -> bytes:
    """An EXR of any channels (each its own pixel type), by the library."""
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, **header}
    with tempfile.TemporaryDirectory() as folder, OpenEXR.File(header, channels) as image:
        image.write(f"{folder}/a.exr")
        with open(f"{folder}/a.exr", "rb") as file:
            return file.read()


def test_exr_attributes_of_another_type_state_nothing() -> None:
    """A file may give the standard names other types (a float rate, a text timecode): they
    state no rate and no timecode, rather than failing the upload."""
    image = exr_of({"RGB": np.zeros((4, 6, 3), np.float16)}, framesPerSecond=25.0, timeCode="1")
    assert stated_rate("comp.1001.exr", image) is None
    assert start_timecode("comp.1001.exr", image, 24) is None


def test_an_exr_of_mixed_pixel_types_is_read() -> None:
    """Channels of different pixel types (float colour, half alpha, as renderers write) are
    one image; the library's binding reads them only apart."""
    linear = np.random.default_rng(3).random((16, 24, 3), np.float32)
    r, b = (np.ascontiguousarray(linear[..., i]) for i in (0, 2))  # the binding writes no views
    for channels in (
        {"RGB": linear, "A": np.ones((16, 24), np.float16)},
        {"R": r, "G": linear[..., 1].astype(np.float16), "B": b},
    ):
        decoded = decode_image("a.1.exr", exr_of(channels), Settings()).to_ndarray(format="rgb48le")
        want = linear.copy()
        if "G" in channels:
            want[..., 1] = linear[..., 1].astype(np.float16)
        np.testing.assert_array_equal(decoded, linear_to_srgb16(want))


def raw_exr(
    width: int,
    height: int,
    channels: dict[str, tuple[np.ndarray, int]],
    attributes: bytes = b"",
) -> bytes:
    """An uncompressed scanline EXR written byte by byte, `channels` name -> (float32 samples,
    their sampling along both axes), with more `attributes` as stored: the library's binding
    cannot write subsampled channels, nor a rational over 0."""

    def attribute(name: str, kind: str, value: bytes) -> bytes:
        return f"{name}\0{kind}\0".encode() + struct.pack("<i", len(value)) + value

    names = sorted(channels)  # the file's order
    chlist = b"".join(
        name.encode() + b"\0" + struct.pack("<iB3xii", 2, 0, channels[name][1], channels[name][1])
        for name in names
    )
    box = struct.pack("<4i", 0, 0, width - 1, height - 1)
    header = b"\x76\x2f\x31\x01" + struct.pack("<I", 2)
    header += attribute("channels", "chlist", chlist + b"\0")
    header += attribute("compression", "compression", b"\0")
    header += attribute("dataWindow", "box2i", box) + attribute("displayWindow", "box2i", box)
    header += attribute("lineOrder", "lineOrder", b"\0")
    header += attribute("pixelAspectRatio", "float", struct.pack("<f", 1))
    header += attribute("screenWindowCenter", "v2f", struct.pack("<2f", 0, 0))
    header += attribute("screenWindowWidth", "float", struct.pack("<f", 1)) + attributes + b"\0"
    chunks = []
    for y in range(height):
        rows = [
            samples[y // step].astype("<f4").tobytes()
            for samples, step in (channels[name] for name in names)
            if y % step == 0
        ]
        chunks.append(struct.pack("<ii", y, sum(map(len, rows))) + b"".join(rows))
    at = len(header) + 8 * height
    offsets = []
    for chunk in chunks:
        offsets.append(at)
        at += len(chunk)
    return header + struct.pack(f"<{height}Q", *offsets) + b"".join(chunks)


def test_a_luminance_chroma_exr_is_shown_in_colour() -> None:
    """Y with RY and BY (OpenEXR's luminance/chroma images, the chroma at half resolution
    both ways) is colour, not the grey of Y alone: R = (RY + 1) Y, B = (BY + 1) Y and G from
    Y's Rec. 709 weights, as the library's RGBA interface reads them; chroma repeated over
    the pixels it covers."""
    rng = np.random.default_rng(4)
    rgb = np.repeat(np.repeat(rng.random((8, 12, 3), np.float32) + 0.05, 2, 0), 2, 1)
    y = rgb @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    chroma = {"RY": rgb[..., 0] / y - 1, "BY": rgb[..., 2] / y - 1}
    for step in (1, 2):
        channels = {name: (c[::step, ::step], step) for name, c in chroma.items()}
        image = raw_exr(24, 16, {"Y": (y, 1), **channels})
        decoded = decode_image("yc.1.exr", image, Settings()).to_ndarray(format="rgb48le")
        np.testing.assert_allclose(decoded, linear_to_srgb16(rgb), atol=3)


def test_an_exr_whose_channels_decode_past_the_limit_is_refused_from_its_header() -> None:
    """Zeros compress to nothing: a 1 MB EXR of 60 float channels at 2048x2048 decoded to
    1.5 GB. The channels may take what four float ones at the pixel limit take (an RGBA
    float image), checked before any is read."""
    settings = Settings(max_pixels=512 * 512)
    rgba = exr_of({"RGBA": np.zeros((512, 512, 4), np.float32)})
    assert decode_image("a.1.exr", rgba, settings).width == 512
    heavy = {"RGB": np.zeros((512, 512, 3), "f"), "Z": np.zeros((512, 512), "f")}
    with pytest.raises(MediaError) as refused:  # 18 bytes a pixel, 20 counted as float
        decode_image("a.1.exr", exr_of({**heavy, "A": np.zeros((512, 512), "e")}), settings)
    assert str(refused.value) == (
        "a.1.exr holds 5 channels, up to 5.0 MB decoded: more than the 4.0 MB four float "
        "channels take at the limit of 262,144 pixels (VIDMATTE_MAX_PIXELS)"
    )


def test_a_deep_exr_is_refused_naming_it() -> None:
    """A deep image (any number of samples a pixel, at their depths) has no one colour a
    pixel until it is flattened; the binding reads it as arrays of arrays."""
    samples = np.empty((16, 24), object)
    samples[:] = [[np.full(x % 3, 0.25, np.float32) for x in range(24)] for _ in range(16)]
    deep = {"type": OpenEXR.deepscanline, "compression": OpenEXR.ZIPS_COMPRESSION}
    image = exr_of({"R": samples, "G": samples, "B": samples}, **deep)
    with pytest.raises(MediaError) as refused:
        decode_image("deep.1.exr", image, Settings())
    assert str(refused.value) == (
        "deep.1.exr is a deep image (samples at several depths a pixel): flatten it first "
        "(Nuke's DeepToImage)"
    )


# The stored picture of an upright one, by EXIF orientation: what a camera writes (PIL's ops).
_STORED_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # shown turned 90° clockwise, so stored turned back
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
@pytest.mark.parametrize("orientation", sorted(_STORED_AS))
def test_every_exif_orientation_shows_as_viewers_show_it(orientation: int, suffix: str) -> None:
    """FFmpeg reads EXIF's orientation as a rotation, which drops a mirrored one's flip (2,
    4, 5 and 7 came out mirrored), and reads none from a TIFF. 16x16 blocks of 6 colours, 2
    rows of 3: each must come back where it is in the upright picture."""
    colours = np.array(
        [[[250, 0, 0], [0, 250, 0], [0, 0, 250]], [[250, 250, 0], [0, 250, 250], [250, 0, 250]]],
        np.uint8,
    )
    upright = np.repeat(np.repeat(colours, 16, 0), 16, 1)  # 32x48
    stored = Image.fromarray(upright)
    if _STORED_AS[orientation] is not None:
        stored = stored.transpose(_STORED_AS[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    if suffix == ".jpg":
        stored.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    else:
        stored.save(buffer, "TIFF", exif=exif)
    frame = decode_image(f"shot.0001{suffix}", buffer.getvalue(), Settings())
    got = frame.to_ndarray(format="rgb24").astype(int)
    assert got.shape == upright.shape
    centres = got.reshape(2, 16, 3, 16, 3)[:, 4:12, :, 4:12].mean(axis=(1, 3))
    assert np.abs(centres - colours).max() <= 8


def tiff_of(image: np.ndarray, sample_format: int, endian: str = "<", predictor: int = 1) -> bytes:
    """An uncompressed TIFF of `image` (HxWxC) as its own dtype's samples, SampleFormat
    `sample_format` (1 unsigned integer, 2 signed, 3 float), one strip, written by hand: Pillow
    writes no float RGB, FFmpeg no float at all. With `predictor` 3 (what Photoshop and Nuke
    write for float) each row's bytes are put most significant first and differenced."""
    height, width, samples = image.shape
    size = image.dtype.itemsize
    pixels = image.astype(image.dtype.newbyteorder(endian)).tobytes()
    if predictor == 3:
        rows = np.frombuffer(pixels, np.uint8).reshape(height, width * samples, size)
        planes = rows[:, :, ::-1] if endian == "<" else rows  # most significant byte first
        bytes_ = planes.transpose(0, 2, 1).reshape(height, -1).astype(np.int16)
        bytes_[:, samples:] -= planes.transpose(0, 2, 1).reshape(height, -1)[:, :-samples]
        pixels = (bytes_ % 256).astype(np.uint8).tobytes()
    short, long = 3, 4
    tags = [
        (256, long, [width]),
        (257, long, [height]),
        (258, short, [size * 8] * samples),  # BitsPerSample
        (259, short, [1]),  # no compression
        (262, short, [2 if samples >= 3 else 1]),  # RGB or grey
        (273, long, [0]),  # the strip's offset, set below
        (277, short, [samples]),
        (278, long, [height]),
        (279, long, [len(pixels)]),
        (317, short, [predictor]),
        (339, short, [sample_format] * samples),
    ] + ([(338, short, [2])] if samples == 4 else [])  # straight alpha
    tags.sort()
    extra_at = 8 + 2 + 12 * len(tags) + 4
    extra, entries = b"", b""
    data_at = extra_at + 128
    for tag, kind, values in tags:
        packed = struct.pack(
            endian + ("H" if kind == short else "I") * len(values),
            *([data_at] if tag == 273 else values),
        )
        if len(packed) <= 4:
            field = packed.ljust(4, b"\0")
        else:
            field, extra = struct.pack(endian + "I", extra_at + len(extra)), extra + packed
        entries += struct.pack(endian + "HHI", tag, kind, len(values)) + field
    magic = b"II*\0" if endian == "<" else b"MM\0*"
    head = magic + struct.pack(endian + "IH", 8, len(tags)) + entries + bytes(4)
    return head + extra.ljust(128, b"\0") + pixels


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("predictor", [1, 3])
@pytest.mark.parametrize("samples", [3, 4])
def test_a_float_tiff_is_read_0_to_1_clipped(samples: int, predictor: int, endian: str) -> None:
    """A 32-bit float TIFF (Nuke, Photoshop) is read as its values, 0..1 to 16 bits, clipped,
    NaN as 0, exactly: FFmpeg decodes it as float, which swscale made 16 bits up to 35 levels
    off, failed to turn into 16 bits with alpha, and failed on altogether big-endian."""
    image = np.random.default_rng(3).random((32, 48, samples), np.float32) * 1.4 - 0.2
    image[0, 0, 0], image[0, 1, 1] = np.nan, np.inf
    frame = decode_image("s.1.tif", tiff_of(image, 3, endian, predictor), Settings())
    assert frame.format.name == ("rgb48le" if samples == 3 else "rgba64le")
    clipped = np.clip(np.nan_to_num(image, nan=0.0), 0.0, 1.0)
    assert np.array_equal(frame.to_ndarray(), np.round(clipped * 65535).astype(np.uint16))


@pytest.mark.parametrize(
    ("image", "sample_format", "what"),
    [
        (np.zeros((32, 48, 3), np.float16), 3, "16-bit float TIFF"),
        (np.zeros((32, 48, 3), np.float64), 3, "64-bit float TIFF"),
        (np.zeros((32, 48, 1), np.float32), 3, "32-bit float greyscale TIFF"),
        (np.zeros((32, 48, 3), np.int16), 2, "16-bit signed integer TIFF"),
        (np.zeros((32, 48, 3), np.uint32), 1, "32-bit integer TIFF"),
    ],
)
def test_a_tiff_of_samples_not_read_is_refused_naming_them(
    image: np.ndarray, sample_format: int, what: str
) -> None:
    """FFmpeg read half floats and signed samples as unsigned integers, and 32-bit integers
    as floats (a picture of noise), and refused the rest as "not a readable image"."""
    with pytest.raises(MediaError) as refused:
        decode_image("s.1.tif", tiff_of(image, sample_format), Settings())
    assert str(refused.value) == (
        f"s.1.tif is a {what}: TIFFs of 8 or 16 bits a sample (unsigned integers) or of "
        "32-bit float RGB or RGBA are read; save it as one of those, or as EXR"
    )


def dpx_of(
    image: np.ndarray, bits: int, endian: str = ">", packing: int = 0, signed: bool = False
) -> bytes:
    """A DPX of `image` (HxWx3, RGB), one image element of `bits` bits a sample (its header's
    bit size, at byte 803), `packing` (at 804: 0 packed into 32-bit words, 1 and 2 filled to
    them, method A padding each word's low bits, B its high ones) and data sign (at 780),
    written by hand: FFmpeg's encoder writes no float, 32-bit or signed samples. Samples
    filled to words of 10 bits are three to a 32-bit word, of 12 bits one to a 16-bit word;
    others are written as the image's own dtype's (for 8 and 16 bits, what any packing is)."""
    height, width, _ = image.shape
    pixels = image.astype(image.dtype.newbyteorder(endian)).tobytes()
    if bits == 10 and packing in (1, 2):
        r, g, b = (image[..., i].astype(np.uint32) for i in range(3))
        words = (r << 20 | g << 10 | b) << (2 if packing == 1 else 0)
        pixels = words.astype(np.dtype(np.uint32).newbyteorder(endian)).tobytes()
    elif bits == 12 and packing in (1, 2):
        words = image.astype(np.uint16) << (4 if packing == 1 else 0)
        pixels = words.astype(np.dtype(np.uint16).newbyteorder(endian)).tobytes()
    header = bytearray(dpx_header(0xFFFFFFFF, endian=endian))
    header[8:12] = b"V2.0"
    struct.pack_into(endian + "I", header, 16, len(header) + len(pixels))  # the file's size
    struct.pack_into(endian + "I", header, 660, 0xFFFFFFFF)  # not encrypted
    struct.pack_into(endian + "HHII", header, 768, 0, 1, width, height)  # 1 element
    struct.pack_into(endian + "I", header, 780, int(signed))  # data sign
    header[800:804] = bytes([50, 2, 2, bits])  # RGB, linear, linear, bit size
    struct.pack_into(endian + "HHI", header, 804, packing, 0, len(header))  # raw, offset
    return bytes(header) + pixels


@pytest.mark.parametrize("endian", ["<", ">"])
def test_a_16_bit_dpx_is_read_as_its_values(endian: str) -> None:
    image = np.random.default_rng(5).integers(0, 65536, (4, 6, 3), dtype=np.uint16)
    frame = decode_image("s.1.dpx", dpx_of(image, 16, endian), Settings())
    assert np.array_equal(frame.to_ndarray(format="rgb48le"), image)


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize(
    ("image", "bits"),
    [
        (np.full((4, 6, 3), 0.5, np.float32), 32),  # SMPTE 268M: IEEE float
        (np.full((4, 6, 3), 2**31, np.uint32), 32),  # 32-bit integers, by some writers
        (np.full((4, 6, 3), 0.5, np.float64), 64),
        (np.zeros((4, 6, 3), np.uint8), 1),
    ],
)
def test_a_dpx_of_samples_not_read_is_refused_naming_their_bits(
    image: np.ndarray, bits: int, endian: str
) -> None:
    """FFmpeg refused samples of 32 and 64 bits (float, as SMPTE 268M has them; the header
    cannot tell a writer's 32-bit integers from them) and of 1 bit as "not a readable image",
    which said nothing of why."""
    with pytest.raises(MediaError) as refused:
        decode_image("s.1.dpx", dpx_of(image, bits, endian), Settings())
    assert str(refused.value) == (
        f"s.1.dpx is a DPX of {bits} bits a sample: DPXs of 8, 10, 12 or 16 bits a sample "
        "(integers) are read; save it as one of those, or as EXR"
    )


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize(
    ("bits", "packing"), [(8, 1), (8, 2), (10, 1), (10, 2), (12, 1), (12, 2), (16, 2)]
)
def test_a_dpx_filled_to_words_is_read_as_its_values(bits: int, packing: int, endian: str) -> None:
    """Samples filled to 32-bit words (methods A and B) are read as stored, at every bit
    size: of the packings only 10 bits packed (0) is refused."""
    dtype = np.uint8 if bits == 8 else np.uint16
    image = np.random.default_rng(bits).integers(0, 2**bits, (3, 5, 3)).astype(dtype)
    frame = decode_image("s.1.dpx", dpx_of(image, bits, endian, packing), Settings())
    assert np.array_equal(frame.to_ndarray(), image)


@pytest.mark.parametrize("endian", ["<", ">"])
def test_a_dpx_of_10_bits_packed_is_refused_naming_its_packing(endian: str) -> None:
    """FFmpeg refused 10-bit samples packed into 32-bit words ("Packing to 32bit required"),
    which said only "not a readable image"."""
    image = np.zeros((3, 6, 3), np.uint16)
    with pytest.raises(MediaError) as refused:
        decode_image("s.1.dpx", dpx_of(image, 10, endian, packing=0), Settings())
    assert str(refused.value) == (
        "s.1.dpx is a DPX of 10 bits a sample packed into 32-bit words (packing 0): 10-bit "
        "DPXs filled to 32-bit words (packing 1 or 2, method A or B) are read; save it as "
        "one of those, or as EXR"
    )


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize(("bits", "packing"), [(8, 0), (10, 1), (16, 0)])
def test_a_dpx_of_signed_samples_is_refused(bits: int, packing: int, endian: str) -> None:
    """FFmpeg ignores the data sign and read signed samples as unsigned: -1 as white."""
    image = np.full((3, 6, 3), 2**bits - 1, np.uint8 if bits == 8 else np.uint16)  # -1
    with pytest.raises(MediaError) as refused:
        decode_image("s.1.dpx", dpx_of(image, bits, endian, packing, signed=True), Settings())
    assert str(refused.value) == (
        f"s.1.dpx is a DPX of signed samples ({bits} bits): DPXs of unsigned samples are "
        "read; save it as unsigned integers, or as EXR"
    )
