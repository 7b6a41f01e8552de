"""Export formats and the streaming archive, on small synthetic frames with a known soft matte."""

from __future__ import annotations

import asyncio
import io
import socket
import struct
import subprocess
import tempfile
import threading
import time
import tracemalloc
import zipfile
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import OpenEXR
import pytest
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from tests.synth import (
    BT709_TO_BT2020,
    export_frame,
    exr_rgb,
    pq_signal,
    remux,
    write_flash_clip,
    write_video,
)
from tests.waiting import wait_until
from vidmatte.jobs.mattes import layer_names
from vidmatte.media import hdr, matroska
from vidmatte.media.export import (
    FORMATS,
    ExportFrame,
    ExportStopped,
    _entry_end,
    _needs_zip64,
    _write_zip,
    archive_name,
    iter_archive,
    name_part,
    parse_color,
    parse_formats,
    write_archive,
)
from vidmatte.media.matroska import set_display_size
from vidmatte.media.video import VideoReader, probe

FPS = 25
COUNT = 10
FIRST = 5  # exported frames 5..14 of the source: 0.2 s .. 0.6 s
TONE_FROM = 0.4  # the source clip is silent before this time and a 440 Hz tone after
VIDEO_FILES = {
    "prores4444": "matte_prores4444.mov",
    "webm_alpha": "matte_alpha.webm",
    "composite_mp4": "matte_composite.mp4",
    "alpha_mp4": "matte_alpha.mp4",
}


def make_frame(index: int, width: int, height: int) -> ExportFrame:
    """A colour gradient and a soft vertical edge (16 levels/pixel) that moves 3 px a frame."""
    yy, xx = np.mgrid[0:height, 0:width]
    rgb = np.dstack([xx * 255 // width, yy * 255 // height, np.full_like(xx, 25 * index % 256)])
    alpha = np.clip((xx - 8 - 3 * (index - FIRST)) * 16, 0, 255)
    return ExportFrame(index, Fraction(index) / FPS, rgb.astype(np.uint8), alpha.astype(np.uint8))


def make_frames(width: int, height: int, count: int = COUNT) -> Iterator[ExportFrame]:
    for index in range(FIRST, FIRST + count):
        yield make_frame(index, width, height)


def make_source(path: Path, seconds: float, audio: bool, sound_from: float = 0.0) -> Path:
    """A tiny H.264 clip, with a mono AAC track when `audio` (silence, then a tone) that starts
    `sound_from` seconds in (none before: its first packet is there)."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=int(FPS))
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        if audio:
            sound = container.add_stream("aac", rate=44100)
            sound.layout = "mono"
        for i in range(round(seconds * FPS)):
            picture = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i, np.uint8), "rgb24")
            picture.pts = i
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        if audio:
            start = round(sound_from * 44100)
            t = np.arange(start, round(seconds * 44100)) / 44100
            wave = np.where(t >= TONE_FROM, 0.5 * np.sin(2 * np.pi * 440 * t), 0.0)
            resampler = av.AudioResampler("fltp", "mono", 44100, frame_size=1024)
            block = av.AudioFrame.from_ndarray(wave.astype(np.float32)[None], "fltp", "mono")
            block.sample_rate, block.pts, block.time_base = 44100, start, Fraction(1, 44100)
            for piece in resampler.resample(block) + resampler.resample(None):
                container.mux(sound.encode(piece))
            container.mux(sound.encode(None))
    return path


def build_archive(**kwargs) -> zipfile.ZipFile:
    out = io.BytesIO()
    write_archive(out, **kwargs)
    return zipfile.ZipFile(out)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sources")
    return {
        "audio": make_source(folder / "with_audio.mp4", 1.0, audio=True),
        "silent": make_source(folder / "silent.mp4", 1.0, audio=False),
    }


@pytest.fixture(scope="module")
def even(sources: dict[str, Path]) -> zipfile.ZipFile:
    """Every format, 64x48, with the source's audio, default green background."""
    return build_archive(
        frames=make_frames(64, 48), formats=FORMATS, fps=FPS, audio_from=sources["audio"]
    )


@pytest.fixture(scope="module")
def odd(sources: dict[str, Path]) -> zipfile.ZipFile:
    """Every format, 65x49, from a source without audio, over a custom background."""
    return build_archive(
        frames=make_frames(65, 49),
        formats=FORMATS,
        fps=FPS,
        audio_from=sources["silent"],
        background=(200, 30, 90),
    )


@pytest.fixture(scope="module")
def extracted(even: zipfile.ZipFile, odd: zipfile.ZipFile, tmp_path_factory) -> dict:
    """The video files of both archives on disk, keyed by (archive, format)."""
    folder = tmp_path_factory.mktemp("extracted")
    files = {}
    for label, archive in (("even", even), ("odd", odd)):
        for fmt, name in VIDEO_FILES.items():
            path = folder / f"{label}_{name}"
            path.write_bytes(archive.read(name))
            files[label, fmt] = path
    return files


def decode_video(path: Path, codec: str | None = None) -> list[av.VideoFrame]:
    """All frames; `codec` picks a decoder other than FFmpeg's default for the stream."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if codec is None:
            return list(container.decode(stream))
        decoder = av.codec.CodecContext.create(codec, "r")
        return [frame for packet in container.demux(stream) for frame in decoder.decode(packet)]


def decode_audio(path: Path) -> tuple[str, np.ndarray, int]:
    """(codec name, mono samples, sample rate) of the file's audio track."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        mono = av.AudioResampler("flt", "mono", rate)
        samples = [
            converted.to_ndarray()[0]
            for frame in container.decode(stream)
            for converted in mono.resample(frame)
        ]
        return stream.codec_context.name, np.concatenate(samples), rate


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int32) - b.astype(np.int32)).mean())


# --- parsing and names ---


def test_parse_formats() -> None:
    assert parse_formats("alpha_png") == ["alpha_png"]
    assert parse_formats(" prores4444, alpha_png,prores4444 ,") == ["prores4444", "alpha_png"]
    assert parse_formats(",".join(FORMATS)) == list(FORMATS)


@pytest.mark.parametrize("text", ["gif", "alpha_png,mp3", "", " , "])
def test_parse_formats_rejects(text: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_formats(text)
    message = str(error.value)
    assert all(name in message for name in FORMATS)
    for unknown in {"gif", "mp3"} & set(text.split(",")):
        assert f"'{unknown}'" in message


def test_parse_color() -> None:
    assert parse_color("00ff00") == (0, 255, 0)
    assert parse_color("#C81E5a") == (200, 30, 90)


@pytest.mark.parametrize("text", ["", "#", "0f0", "00ff0", "00ff000", "gg0000", "#00 ff00"])
def test_parse_color_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="00ff00"):
        parse_color(text)


def test_archive_name() -> None:
    assert archive_name("My clip (v2)", 0, 120) == "My_clip_v2_frames_0-120.zip"
    assert archive_name("Été/..", 3, 4) == "Ete_frames_3-4.zip"
    assert archive_name("/../", 3, 4) == "vidmatte_frames_3-4.zip"
    # For Content-Disposition's filename*: the name in its own script.
    assert archive_name("日本語の動画 (v2)", 0, 1, script=True) == "日本語の動画_v2_frames_0-1.zip"
    assert archive_name("Été/..", 3, 4, script=True) == "Été_frames_3-4.zip"
    assert archive_name("/../", 3, 4, script=True) == "vidmatte_frames_3-4.zip"


@pytest.mark.parametrize("name", ["日本語の動画" * 33 + "12", "é" * 200, "x" * 200])
def test_an_archive_name_fits_a_file_system_in_any_script(name: str) -> None:
    """A 200-character Japanese project name made a 623-byte filename*: the browser (or wget
    --content-disposition) could not save the download under it, as a file name holds 255
    bytes. Shortened by whole characters, the frames kept."""
    for script in (False, True):
        saved = archive_name(name, 1001, 1234567, script=script)
        assert len(saved.encode()) <= 255 and saved.endswith("_frames_1001-1234567.zip")
    assert archive_name(name, 0, 1, script=True).startswith(name[:40])


def damage_audio(source: Path, at: float, count: int) -> tuple[float, float]:
    """Overwrite `count` audio packets of `source` from `at` seconds on with 0xFF bytes, which
    the decoder refuses; the damaged stretch's (start, end) in seconds on the source's clock."""
    data = bytearray(source.read_bytes())
    with av.open(str(source)) as container:
        stream = container.streams.audio[0]
        packets = [p for p in container.demux(stream) if p.size and p.pts * p.time_base >= at]
    damaged = packets[:count]
    for packet in damaged:
        data[packet.pos : packet.pos + packet.size] = b"\xff" * packet.size
    source.write_bytes(data)
    last = damaged[-1]
    return float(damaged[0].pts * stream.time_base), float(
        (last.pts + last.duration) * stream.time_base
    )


def damage_audio_config(source: Path) -> None:
    """Overwrite the audio track's decoder configuration (AAC's AudioSpecificConfig in the
    MP4's esds box) with 0xFF bytes: the decoder cannot be opened at all."""
    data = bytearray(source.read_bytes())
    with av.open(str(source)) as container:
        config = bytes(container.streams.audio[0].codec_context.extradata)
    at = data.find(config, data.find(b"esds"))
    data[at : at + len(config)] = b"\xff" * len(config)
    source.write_bytes(data)


def test_image_sequences_do_not_read_the_sources_audio(tmp_path: Path) -> None:
    """Only video files carry audio, yet every archive decoded the source's: damaged audio
    (next to a damaged frame, whose kept frames a user exports) broke an archive of PNGs."""
    source = make_source(tmp_path / "damaged.mp4", 1.0, audio=True)
    damage_audio(source, 0.25, 3)
    archive = build_archive(
        frames=make_frames(64, 48), formats=["alpha_png"], fps=FPS, audio_from=source
    )
    assert archive.namelist() == [f"alpha/{i:06d}.png" for i in range(FIRST, FIRST + COUNT)]


def test_write_archive_rejects_bad_input() -> None:
    out = io.BytesIO()
    with pytest.raises(ValueError, match="'gif'"):
        write_archive(out, make_frames(64, 48), ["alpha_png", "gif"], FPS)
    with pytest.raises(ValueError, match="fps"):
        write_archive(out, make_frames(64, 48), ["alpha_png"], 0.0)
    assert out.getvalue() == b""  # nothing written before the checks
    frames = [make_frame(0, 64, 48), make_frame(1, 32, 48)]
    with pytest.raises(ValueError, match="frame 1"):
        write_archive(io.BytesIO(), frames, ["alpha_png"], FPS)
    frames = [make_frame(3, 64, 48), make_frame(2, 64, 48)]
    with pytest.raises(ValueError, match="increase"):
        write_archive(io.BytesIO(), frames, ["alpha_png"], FPS)
    second = make_frame(1, 64, 48)
    frames = [make_frame(0, 64, 48), replace(second, rgb=second.rgb.astype(np.uint16) * 257)]
    with pytest.raises(
        ValueError, match=r"^frame 1: rgb is uint16 but the first frame's is uint8$"
    ):
        write_archive(io.BytesIO(), frames, ["rgba_png"], FPS)
    wrong = replace(make_frame(0, 64, 48), rgb=np.zeros((48, 64, 3), np.float32))
    with pytest.raises(ValueError, match=r"^frame 0: rgb and alpha must be uint8 or uint16$"):
        write_archive(io.BytesIO(), [wrong], ["rgba_png"], FPS)


# --- archive contents ---


@pytest.mark.parametrize("label", ["even", "odd"])
def test_entries(label: str, request: pytest.FixtureRequest) -> None:
    archive: zipfile.ZipFile = request.getfixturevalue(label)
    assert archive.testzip() is None
    indices = [f"{i:06d}" for i in range(FIRST, FIRST + COUNT)]
    names = archive.namelist()
    # Streamed in one pass: each frame's images as it comes, the videos once complete.
    for folder, suffix in (
        ("alpha", ".png"),
        ("alpha16", ".png"),
        ("rgba", ".png"),
        ("exr", ".exr"),
    ):
        want = [f"{folder}/{n}{suffix}" for n in indices]
        assert [n for n in names if n.startswith(f"{folder}/")] == want
    assert names[4 * COUNT :] == list(VIDEO_FILES.values())
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())


@pytest.mark.parametrize("size", [(64, 48), (65, 49)])
def test_png_sequences_equal_input(size: tuple[int, int], even, odd) -> None:
    archive = even if size == (64, 48) else odd
    for frame in make_frames(*size):
        with Image.open(archive.open(f"alpha/{frame.index:06d}.png")) as matte:
            assert matte.mode == "L" and matte.size == size
            np.testing.assert_array_equal(np.asarray(matte), frame.alpha)
        with Image.open(archive.open(f"rgba/{frame.index:06d}.png")) as rgba:
            assert rgba.mode == "RGBA" and rgba.size == size
            pixels = np.asarray(rgba)
            np.testing.assert_array_equal(pixels[..., :3], frame.rgb)  # straight colour
            np.testing.assert_array_equal(pixels[..., 3], frame.alpha)


@pytest.mark.parametrize("size", [(64, 48), (65, 49)])
def test_alpha_png16_is_16_bit(size: tuple[int, int], even, odd) -> None:
    archive = even if size == (64, 48) else odd
    for frame in make_frames(*size):
        data = archive.read(f"alpha16/{frame.index:06d}.png")
        assert data[24] == 16 and data[25] == 0  # IHDR: bit depth 16, greyscale
        with Image.open(io.BytesIO(data)) as matte:
            assert matte.mode == "I;16" and matte.size == size
            pixels = np.asarray(matte)
        assert pixels.dtype == np.uint16 and pixels.max() == 65535
        np.testing.assert_array_equal(pixels, frame.alpha.astype(np.uint16) * 257)


@pytest.mark.parametrize("size", [(64, 48), (65, 49)])
def test_exr_is_half_float_linear_premultiplied_colour(
    size: tuple[int, int], even, odd, tmp_path: Path
) -> None:
    archive = even if size == (64, 48) else odd
    for frame in make_frames(*size):
        path = tmp_path / "frame.exr"
        path.write_bytes(archive.read(f"exr/{frame.index:06d}.exr"))
        with OpenEXR.File(str(path), separate_channels=True) as image:
            channels = {name: c.pixels.copy() for name, c in image.channels().items()}
            window = image.header()["dataWindow"]
        assert sorted(channels) == ["A", "B", "G", "R"]
        assert all(c.dtype == np.float16 for c in channels.values())
        assert all(c.shape == (size[1], size[0]) for c in channels.values())
        assert tuple(window[1] - window[0] + 1) == size
        with Image.open(archive.open(f"alpha/{frame.index:06d}.png")) as png:
            matte = np.asarray(png).astype(np.float32) / 255
        assert np.abs(channels["A"].astype(np.float32) - matte).max() <= 1 / 255
        # sRGB undone (mid grey 128 is 0.2158 in linear light), then times A: OpenEXR's colour
        # is premultiplied by convention, and Nuke, Fusion and After Effects read it so (a
        # straight file composites with bright fringes wherever A is below 1).
        rgb = np.dstack([channels[c] for c in "RGB"]).astype(np.float32)
        linear = np.where(
            frame.rgb / 255 <= 0.04045,
            frame.rgb / 255 / 12.92,
            ((frame.rgb / 255 + 0.055) / 1.055) ** 2.4,
        )
        alpha = frame.alpha16.astype(np.float32)[..., None] / 65535
        assert np.any((alpha > 0) & (alpha < 1))  # soft edges: where the two differ
        np.testing.assert_allclose(rgb, linear * alpha, atol=1e-3, rtol=1e-3)


def srgb_signal(light: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1's encoding of linear 0..1."""
    return np.where(light <= 0.0031308, light * 12.92, 1.055 * light ** (1 / 2.4) - 0.055)


@pytest.mark.parametrize("transfer", [16, 18, 14])  # PQ, HLG, BT.2020's SDR curve
def test_exr_undoes_the_sources_own_transfer_and_primaries(transfer: int, tmp_path: Path) -> None:
    """An HDR source's colour taken as sRGB gave its reference white (PQ 203 cd/m²) as 0.29
    in the EXR, and BT.2020 colour as BT.709's, washed out: its own curve is undone (PQ's or
    HLG's, reference white 1.0) and BT.2020 made BT.709 (the primaries of an EXR that states
    none)."""
    white = np.ones(3)
    red = BT709_TO_BT2020 @ np.array([1.0, 0.0, 0.0])
    if transfer == 16:
        signal = pq_signal(203 * np.array([white, red]))
    elif transfer == 18:  # HLG: reference white 75%; its red left aside (its OOTF mixes)
        signal = np.array([white * 0.75, white * 0.75])
    else:
        signal = srgb_signal(np.array([white, red]))
    rgb = np.repeat(np.round(signal * 255).astype(np.uint8)[None], 4, axis=0)
    got = exr_rgb(export_frame(rgb, primaries=9, transfer=transfer), tmp_path)
    # 8-bit code values: PQ's steps are about 3% of the light there.
    np.testing.assert_allclose(got[0, 0], white, rtol=0.04)
    if transfer != 18:
        np.testing.assert_allclose(got[0, 1], [1, 0, 0], atol=0.04)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """A PNG's chunks, (type, data), in order."""
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


@pytest.mark.parametrize("tags", [(9, 16), (9, 18), (6, 6), (1, 1), (2, 2)])
def test_rgba_pngs_are_tagged_with_the_sources_colours(tags: tuple[int, int]) -> None:
    """An HDR source's RGBA PNGs held its PQ or HLG code values untagged, so every viewer
    showed them as sRGB, dark and flat: they carry the videos' tags in a cICP chunk (PNG's
    third edition; browsers and macOS read it), before the pixels, RGB full range. BT.709's
    or unstated colour is what a PNG is taken as anyway: no chunk."""
    primaries, transfer = tags
    rgb = np.full((16, 16, 3), 150, np.uint8)
    frame = export_frame(rgb, np.full((16, 16), 255, np.uint8), primaries, transfer)
    data = build_archive(frames=iter([frame]), formats=["rgba_png"], fps=FPS).read(
        "rgba/000000.png"
    )
    kinds = [kind for kind, _ in png_chunks(data)]
    cicp = [body for kind, body in png_chunks(data) if kind == b"cICP"]
    if tags in ((1, 1), (2, 2)):
        assert cicp == []
    else:
        assert cicp == [bytes([primaries, transfer, 0, 1])]
        assert kinds.index(b"cICP") < kinds.index(b"IDAT")
    with Image.open(io.BytesIO(data)) as image:  # still a valid PNG, pixels as they were
        assert np.array_equal(np.asarray(image)[..., :3], rgb)


def test_only_chosen_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    archive = build_archive(frames=make_frames(64, 48, 3), formats=["alpha_mp4"], fps=FPS)
    assert archive.namelist() == ["matte_alpha.mp4"]
    assert list(tmp_path.iterdir()) == []  # the encoded files went with their directory
    empty = build_archive(frames=iter(()), formats=FORMATS, fps=FPS)
    assert empty.namelist() == []


# --- videos decoded back ---


@pytest.mark.parametrize("label,size", [("even", (64, 48)), ("odd", (65, 49))])
def test_prores_keeps_alpha(extracted: dict, label: str, size: tuple[int, int]) -> None:
    with av.open(str(extracted[label, "prores4444"])) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "prores"
        assert stream.codec_context.profile == "4444"
    decoded = decode_video(extracted[label, "prores4444"])
    assert len(decoded) == COUNT
    for picture, frame in zip(decoded, make_frames(*size), strict=True):
        assert picture.format.name.startswith("yuva444p")
        assert (picture.width, picture.height) == size
        rgba = picture.to_ndarray(format="rgba")
        # Observed: 0.15 levels mean on the matte, colour exact to 0.01 where opaque.
        assert mean_abs_diff(rgba[..., 3], frame.alpha) < 1.0
        opaque = frame.alpha == 255
        assert mean_abs_diff(rgba[..., :3][opaque], frame.rgb[opaque]) < 1.0


@pytest.mark.parametrize("label,size", [("even", (64, 48)), ("odd", (65, 49))])
def test_webm_keeps_alpha(extracted: dict, label: str, size: tuple[int, int]) -> None:
    # FFmpeg's native vp9 decoder drops the alpha plane; libvpx reads it from BlockAdditional.
    decoded = decode_video(extracted[label, "webm_alpha"], codec="libvpx-vp9")
    assert len(decoded) == COUNT
    for picture, frame in zip(decoded, make_frames(*size), strict=True):
        assert picture.format.name == "yuva420p"
        assert (picture.width, picture.height) == size  # VP9 takes odd sizes as they are
        rgba = picture.to_ndarray(format="rgba")
        # Observed: 0.16 levels mean on the matte.
        assert mean_abs_diff(rgba[..., 3], frame.alpha) < 2.0


def alpha_plane(picture: av.VideoFrame) -> np.ndarray:
    """The decoded alpha plane as stored, read without swscale (whose YUVA to RGBA conversion
    garbles alpha at some widths, e.g. 180: the file would look wrong when it is not)."""
    plane = picture.planes[3]
    dtype = np.uint16 if picture.format.components[3].bits > 8 else np.uint8
    rows = np.frombuffer(plane, dtype).reshape(plane.height, -1)
    return rows[:, : plane.width]


@pytest.mark.parametrize("width", [180, 1080])  # not multiples of 16: 1080 is a portrait phone's
def test_video_alpha_is_exact_at_any_width(tmp_path: Path, width: int) -> None:
    """swscale's RGBA to 10-bit YUVA turned an 8-pixel run of alpha 255 into 128 at widths
    that are not a multiple of 16: every ProRes 4444 export of such a video carried it."""
    height = 48
    yy, xx = np.mgrid[0:height, 0:width]
    ramp = ((xx + yy) % 256).astype(np.uint16)
    ramp[height // 3 :] = 255  # flat opaque after a ramp: what hit the bug
    grey = np.full((height, width, 3), 90, np.uint8)
    frames = [
        ExportFrame(0, Fraction(0), grey, ramp * 257),
        ExportFrame(1, Fraction(1, FPS), grey, ramp * 257 + 128),  # between 8-bit levels
    ]
    archive = build_archive(frames=iter(frames), formats=["prores4444", "webm_alpha"], fps=FPS)
    files = [(VIDEO_FILES["prores4444"], None), (VIDEO_FILES["webm_alpha"], "libvpx-vp9")]
    for name, codec in files:
        path = tmp_path / name
        path.write_bytes(archive.read(name))
        decoded = decode_video(path, codec)
        assert len(decoded) == 2
        for picture, frame in zip(decoded, frames, strict=True):
            levels = 2 ** picture.format.components[3].bits - 1  # FFmpeg decodes ProRes at 12
            decoded_alpha = alpha_plane(picture).astype(np.float64) / levels
            error = np.abs(decoded_alpha - frame.alpha / 65535) * 1023
            # In 10-bit steps: ProRes keeps the 10 bits it is given (rounding, then 10 to 12
            # bits); VP9's alpha is 8-bit and lossy, observed within 3 of 255 levels.
            assert error.max() <= (1 if codec is None else 24), (name, error.max())


@pytest.mark.parametrize(
    "label,size,background", [("even", (64, 48), (0, 255, 0)), ("odd", (65, 49), (200, 30, 90))]
)
def test_composite_mp4(extracted: dict, label: str, size: tuple[int, int], background) -> None:
    decoded = decode_video(extracted[label, "composite_mp4"])
    assert len(decoded) == COUNT
    width, height = size
    for picture, frame in zip(decoded, make_frames(*size), strict=True):
        assert (picture.width, picture.height) == (width + width % 2, height + height % 2)
        rgb = picture.to_ndarray(format="rgb24").astype(np.int32)
        a = frame.alpha[..., None].astype(np.int32)
        expected = (frame.rgb * a + np.array(background) * (255 - a)) / 255
        # Observed: about 2 levels mean (H.264 4:2:0 on a colour gradient).
        assert mean_abs_diff(rgb[:height, :width], expected) < 4.0
        clear = frame.alpha == 0
        assert np.abs(rgb[:height, :width][clear].mean(axis=0) - background).max() < 3
        if width % 2:  # the padding repeats the last column
            assert mean_abs_diff(rgb[:height, width], rgb[:height, width - 1]) < 4.0


@pytest.mark.parametrize("label,size", [("even", (64, 48)), ("odd", (65, 49))])
def test_alpha_mp4(extracted: dict, label: str, size: tuple[int, int]) -> None:
    decoded = decode_video(extracted[label, "alpha_mp4"])
    assert len(decoded) == COUNT
    width, height = size
    for picture, frame in zip(decoded, make_frames(*size), strict=True):
        grey = picture.to_ndarray(format="gray")[:height, :width]
        # Observed: 0.6 levels mean (limited-range Y, crf 12).
        assert mean_abs_diff(grey, frame.alpha) < 2.0


@pytest.mark.parametrize("size", [(64, 48), (1920, 16)])
def test_alpha_mp4_is_exactly_opaque_and_clear_when_decoded(size: tuple[int, int]) -> None:
    """Limited range: opaque is Y 235 and clear 16, the chroma exactly neutral, so a standard
    decode (PyAV's, to grey or to RGB) gives 255 and 0 back. swscale's grey to YUV made V 127
    beside 128 where the matte is 255: decoded, opaque came back 254 as grey, 253 in red, and
    a key pulled from it never quite covered."""
    width, height = size
    third = width // 3
    alpha = np.zeros((height, width), np.uint8)
    alpha[:, third:] = 128
    alpha[:, 2 * third :] = 255
    frames = [
        ExportFrame(i, Fraction(i, FPS), np.zeros((height, width, 3), np.uint8), alpha)
        for i in range(3)
    ]
    archive = build_archive(frames=iter(frames), formats=["alpha_mp4"], fps=FPS)
    with av.open(io.BytesIO(archive.read(VIDEO_FILES["alpha_mp4"]))) as container:
        assert container.streams.video[0].codec_context.color_range == 1  # MPEG: limited
        for picture in container.decode(video=0):
            for fmt in ("gray", "rgb24"):
                got = picture.to_ndarray(format=fmt).reshape(height, width, -1).astype(int)
                # Away from the edges between the levels, which the codec's loss may soften.
                assert (got[:, : third - 8] == 0).all(), fmt
                assert np.abs(got[:, third + 8 : 2 * third - 8] - 128).max() <= 1, fmt
                assert (got[:, 2 * third + 8 :] == 255).all(), fmt


@pytest.mark.parametrize("fmt", VIDEO_FILES)
def test_fps_kept(extracted: dict, fmt: str) -> None:
    with av.open(str(extracted["even", fmt])) as container:
        assert container.streams.video[0].average_rate == Fraction(25)


def test_ntsc_fps_kept() -> None:
    ntsc = Fraction(30000, 1001)
    frames = [replace(f, time=f.index / ntsc) for f in make_frames(64, 48, 5)]
    archive = build_archive(frames=frames, formats=["prores4444", "webm_alpha"], fps=float(ntsc))
    with av.open(archive.open("matte_prores4444.mov")) as container:
        assert container.streams.video[0].average_rate == Fraction(30000, 1001)
    with av.open(archive.open("matte_alpha.webm")) as container:  # millisecond timestamps
        assert float(container.streams.video[0].average_rate) == pytest.approx(29.97, abs=0.01)


@pytest.mark.parametrize("fmt", VIDEO_FILES)
def test_a_frame_an_hour_exports(fmt: str, tmp_path: Path) -> None:
    """Time-lapse sources can run below a frame a second; their rate must not round to 0."""
    hourly = Fraction(1, 3600)
    frames = [replace(f, time=f.index / hourly) for f in make_frames(64, 48, 3)]
    archive = build_archive(frames=frames, formats=[fmt], fps=float(hourly))
    (name,) = archive.namelist()
    decoded = decode_video(Path(archive.extract(name, tmp_path)))
    assert len(decoded) == 3
    assert [round(float(p.time)) for p in decoded] == [0, 3600, 7200]


@pytest.mark.parametrize("fmt", VIDEO_FILES)
@pytest.mark.parametrize("fps", [29.983, 23.998125146472933, 12.631994473502418])
def test_odd_average_rates_export(fmt: str, fps: float, tmp_path: Path) -> None:
    """A phone's variable-rate video probes at an average such as 29.983 fps: its clock
    (1/lcm(29983, 90000) s) overflowed every video encoder, and libvpx refused 23.998's."""
    frames = [replace(f, time=Fraction(f.index, 30)) for f in make_frames(64, 48, 3)]
    archive = build_archive(frames=frames, formats=[fmt], fps=fps)
    (name,) = archive.namelist()
    decoded = decode_video(Path(archive.extract(name, tmp_path)))
    assert len(decoded) == 3
    shown = [float(p.time - decoded[0].time) for p in decoded]
    assert shown == pytest.approx([0, 1 / 30, 2 / 30], abs=1e-3)  # WebM's clock is 1 ms


@pytest.mark.parametrize("fmt", ["prores4444", "composite_mp4"])
def test_a_constant_rate_source_on_a_millisecond_clock_exports_at_a_constant_rate(
    fmt: str, tmp_path: Path
) -> None:
    """Matroska, WebM and FLV keep times in whole milliseconds, so a 29.97 fps recording's
    frames (OBS records MKV) lie 33 or 34 ms apart there. Exports kept those times: a MOV or
    MP4 whose frames last 33 or 34 ms, a variable rate that editors flag and conform. Frames
    within the clock's rounding of the nominal rate's times show at those."""
    ntsc = Fraction(30000, 1001)
    times = [Fraction(round(1000 * i / ntsc), 1000) for i in range(10)]
    frames = [replace(f, time=t) for f, t in zip(make_frames(64, 48), times, strict=True)]
    archive = build_archive(frames=frames, formats=[fmt], fps=float(ntsc))
    path = Path(archive.extract(VIDEO_FILES[fmt], tmp_path))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == ntsc
        shown = [frame.pts * frame.time_base for frame in container.decode(stream)]
    assert [t - shown[0] for t in shown] == [i / ntsc for i in range(10)]


@pytest.mark.parametrize("fmt", ["prores4444", "composite_mp4"])
def test_frames_under_a_millisecond_apart_keep_their_order(fmt: str, tmp_path: Path) -> None:
    """A frame moved onto the nominal rate's time (above) must not reach the next one's."""
    ms = [Fraction(0), Fraction(992, 10), Fraction(100), Fraction(200)]
    times = [Fraction(m, 1000) for m in ms]
    frames = [replace(f, time=t) for f, t in zip(make_frames(64, 48, 4), times, strict=True)]
    archive = build_archive(frames=frames, formats=[fmt], fps=10)
    path = Path(archive.extract(VIDEO_FILES[fmt], tmp_path))
    shown = [float(frame.time) for frame in decode_video(path)]
    assert shown == pytest.approx([0, 0.1, 0.1008, 0.2], abs=1e-4)


def edit_list_seconds(data: bytes) -> float:
    """How long an MP4/MOV file's one track plays by its edit list (what QuickTime and editors
    go by; FFmpeg's demuxer takes the shorter of it and the decode times')."""
    mvhd = data.index(b"mvhd") + 4
    assert data[mvhd] == 0  # version 0: 32-bit times
    (timescale,) = struct.unpack(">I", data[mvhd + 12 : mvhd + 16])
    elst = data.index(b"elst") + 4
    assert data[elst] == 0
    (count,) = struct.unpack(">I", data[elst + 4 : elst + 8])
    entries = [
        struct.unpack(">I", data[elst + 8 + 12 * k : elst + 12 + 12 * k]) for k in range(count)
    ]
    return sum(duration for (duration,) in entries) / timescale


def assert_timed(path: Path, fmt: str, times: list[Fraction], length: float) -> None:
    """The video at `path` (format `fmt`) shows its frames at `times` and lasts `length` s, by
    its track, its container and (MP4, MOV) its edit list."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.duration is not None:  # Matroska has none per track
            assert float(stream.duration * stream.time_base) == pytest.approx(length, abs=1e-3)
        assert container.duration / av.time_base == pytest.approx(length, abs=1e-3)
    if fmt != "webm_alpha":
        assert edit_list_seconds(path.read_bytes()) == pytest.approx(length, abs=1e-3)
    shown = [float(p.time) for p in decode_video(path)]
    assert shown == pytest.approx([float(t) for t in times], abs=1e-3)


@pytest.mark.parametrize("fmt", VIDEO_FILES)
@pytest.mark.parametrize(
    "ms",
    [
        [0, 50, 200, 300, 350, 500, 600, 650, 800, 900],  # the last gaps the widest
        [0, 300, 450, 500, 600, 650, 700, 750, 800, 850],  # the first gaps the widest
        [0, 100, 200, 300, 700, 800, 900, 1000, 1050, 1100],  # a gap in the middle
    ],
)
def test_a_variable_rate_video_lasts_until_its_last_frame_ends(
    fmt: str, ms: list[int], tmp_path: Path
) -> None:
    """Frames 50 to 400 ms apart at a nominal 10 fps: the video lasts from the first frame to
    the end of the last one's nominal 100 ms, as the source range does. H.264's B-frames
    stamped decode times that ended 50 ms short of that, and MP4 tracks took it as their
    length."""
    times = [Fraction(m, 1000) for m in ms]
    frames = [replace(f, time=t) for f, t in zip(make_frames(64, 48, len(ms)), times, strict=True)]
    archive = build_archive(frames=frames, formats=[fmt], fps=10)
    path = Path(archive.extract(VIDEO_FILES[fmt], tmp_path))
    length = float(times[-1]) + 0.1
    assert_timed(path, fmt, times, length)


@pytest.mark.parametrize("fmt", VIDEO_FILES)
@pytest.mark.parametrize("last_ms", [600, 133])  # a long last frame; one 33 ms over nominal
def test_a_variable_rate_video_s_last_frame_lasts_as_long_as_in_its_source(
    fmt: str, last_ms: int, tmp_path: Path
) -> None:
    """A variable-rate source whose last frame shows for `last_ms` (ExportFrame.end: the
    source's next frame, or its own end): the video lasts until that frame's end, as the
    source does. It showed for one frame at the average rate (100 ms at 10 fps), the video
    and its sound cut short."""
    ms = [0, 50, 200, 300, 350]
    times = [Fraction(m, 1000) for m in ms]
    frames = [replace(f, time=t) for f, t in zip(make_frames(64, 48, len(ms)), times, strict=True)]
    frames[-1] = replace(frames[-1], end=times[-1] + Fraction(last_ms, 1000))
    archive = build_archive(frames=frames, formats=[fmt], fps=10)
    path = Path(archive.extract(VIDEO_FILES[fmt], tmp_path))
    length = (ms[-1] + last_ms) / 1000
    assert_timed(path, fmt, times, length)


def test_a_constant_rate_source_s_last_frame_lasts_one_nominal_frame(tmp_path: Path) -> None:
    """A 29.97 fps source on a millisecond clock: its last frame ends where the next one
    would show, 33 or 34 ms later, which is kept as the nominal frame (as the frames' times
    are), not as a frame of another length at the end."""
    ntsc = Fraction(30000, 1001)
    times = [Fraction(round(1000 * i / ntsc), 1000) for i in range(11)]
    frames = [replace(f, time=t) for f, t in zip(make_frames(64, 48), times, strict=False)]
    frames[-1] = replace(frames[-1], end=times[10])
    archive = build_archive(frames=frames, formats=["prores4444"], fps=float(ntsc))
    path = Path(archive.extract(VIDEO_FILES["prores4444"], tmp_path))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.duration * stream.time_base == 10 / ntsc


def test_a_frame_that_ends_before_it_shows_is_refused() -> None:
    frame = make_frame(0, 64, 48)
    with pytest.raises(
        ValueError, match=r"^frame 0: it must stop showing after it shows, got 0 s for its end"
    ):
        write_archive(io.BytesIO(), [replace(frame, end=frame.time)], ["alpha_png"], FPS)


@pytest.mark.parametrize("stem", ["n" * 200, "é" * 200])  # the longest project name
def test_video_names_fit_a_file_system_whatever_the_names(stem: str, tmp_path: Path) -> None:
    """A 200-character project and two 100-character objects (both at their limits) made
    names of 330 bytes: `File name too long` cut every video export's stream."""
    layers = ["o" * 100 + "-1", "p" * 100 + "-2"]
    frames = [{layer: f for layer in layers} for f in make_frames(64, 48, 2)]
    archive = build_archive(
        frames=frames, formats=["alpha_mp4", "prores4444"], fps=FPS, stem=stem, layers=layers
    )
    names = archive.namelist()
    assert len(names) == 4
    assert max(len(n.encode()) for n in names) <= 255
    for layer in layers:  # each layer's files are still told apart, by their ends
        assert sum(n.endswith(f"_{layer}_alpha.mp4") for n in names) == 1
        assert sum(n.endswith(f"_{layer}_prores4444.mov") for n in names) == 1
    for name in names:
        assert len(decode_video(Path(archive.extract(name, tmp_path)))) == 2


_WINDOWS_PATH = 259  # MAX_PATH's 260 characters, less the closing NUL
# Left for the folder a download is extracted in: C:\Users\firstname.lastname\Downloads\ is 40.
_FOLDER_ROOM = 60


@pytest.mark.parametrize("script", [False, True])
@pytest.mark.parametrize("project", ["n" * 200, "日本語" * 66])  # at the limit of a name
def test_an_archive_of_long_names_unpacks_within_a_windows_path(project: str, script: bool) -> None:
    """Windows' paths hold 259 characters unless long paths are turned on (they are not, by
    default, and Explorer takes none). A 200-character project and two 100-character objects
    made a download named in 229 characters, which Explorer extracts into a folder of that
    name, holding files named in 255: not one of them could be made. Each name from a user is
    cut to 40 characters; the frame numbers are kept whole."""
    name = archive_name(project, 1001, 1234567, script=script)
    folder = name.removesuffix(".zip")
    layers = list(layer_names([(1, "o" * 100), (2, "p" * 100)]).values())
    frames = [{layer: f for layer in layers} for f in make_frames(64, 48, 2)]
    archive = build_archive(
        frames=frames, formats=["alpha_png", "prores4444"], fps=FPS, stem=folder, layers=layers
    )
    paths = [f"{folder}/{entry}" for entry in archive.namelist()]
    assert len(paths) == 6
    assert max(len(path) for path in paths) <= _WINDOWS_PATH - _FOLDER_ROOM
    assert folder.endswith("_frames_1001-1234567")
    assert sorted(n for n in archive.namelist() if n.startswith("alpha/")) == [
        f"alpha/{layer}/{number:06d}.png" for layer in layers for number in (FIRST, FIRST + 1)
    ]


def test_a_name_part_is_short_and_takes_no_character_windows_refuses() -> None:
    """The CLI names its video files after the project (the video's or the sequence's name),
    as it was: 200 characters, or `:` and `?` (a zip member's), which Windows takes in no
    file name."""
    assert name_part("n" * 200) == "n" * 40
    assert name_part("日本語" * 66) == ("日本語" * 14)[:40]
    assert name_part('take 2: "hero"?') == "take_2_hero"
    assert name_part("..") == ""


def test_exports_keep_an_anamorphic_sources_pixel_aspect(tmp_path: Path) -> None:
    """72x48 pixels shown 32:27 wide (16:9): a compositor lines the matte up with the source
    only if the export says so too (WebM: test_webm_keeps_an_anamorphic_sources_pixel_aspect)."""
    frames = [replace(f, pixel_aspect=32 / 27) for f in make_frames(72, 48, 2)]
    archive = build_archive(
        frames=frames, formats=["prores4444", "composite_mp4", "alpha_mp4", "exr"], fps=FPS
    )
    for fmt in ("prores4444", "composite_mp4", "alpha_mp4"):
        with av.open(io.BytesIO(archive.read(VIDEO_FILES[fmt]))) as container:
            assert container.streams.video[0].sample_aspect_ratio == Fraction(32, 27), fmt
    path = tmp_path / "frame.exr"
    path.write_bytes(archive.read(f"exr/{FIRST:06d}.exr"))
    with OpenEXR.File(str(path)) as image:
        assert image.header()["pixelAspectRatio"] == pytest.approx(32 / 27)
    square = build_archive(frames=make_frames(72, 48, 1), formats=["alpha_mp4"], fps=FPS)
    with av.open(io.BytesIO(square.read(VIDEO_FILES["alpha_mp4"]))) as container:
        assert container.streams.video[0].sample_aspect_ratio in (None, Fraction(1))


@pytest.mark.parametrize("deep", [False, True], ids=["8-bit", "16-bit"])
def test_png_sequences_keep_an_anamorphic_sources_pixel_aspect(deep: bool) -> None:
    """As the EXRs and videos do, in PNG's pHYs (no unit): its pixels per unit across and
    down, 27 and 32 for pixels 32:27 wide. A square-pixel frame gets none: the 16-bit PNGs,
    which FFmpeg writes, said 0 pixels per unit across (an aspect of 0/1 to Pillow)."""
    rgb = np.full((6, 9, 3), 40000 if deep else 150, np.uint16 if deep else np.uint8)
    square = export_frame(rgb)
    formats = ["alpha_png", "alpha_png16", "rgba_png"]
    for frame, aspect in ((square, None), (replace(square, pixel_aspect=32 / 27), (27, 32))):
        archive = build_archive(frames=iter([frame]), formats=formats, fps=FPS)
        for folder in ("alpha", "alpha16", "rgba"):
            data = archive.read(f"{folder}/000000.png")
            with Image.open(io.BytesIO(data)) as image:
                assert image.info.get("aspect") == aspect, (folder, frame.pixel_aspect)
            kinds = [kind for kind, _ in png_chunks(data)]
            assert kinds.count(b"pHYs") == (aspect is not None), kinds
            if aspect is not None:
                assert kinds.index(b"pHYs") < kinds.index(b"IDAT")


@pytest.mark.parametrize(
    "tags,matrix",
    [((9, 18), 9), ((6, 6), 1), ((2, 2), 1)],  # BT.2020 HLG (an iPhone's), NTSC, unstated
)
def test_videos_are_tagged_with_the_sources_colours(tags, matrix: int) -> None:
    """The colour comes from the source in its own primaries and transfer: an iPhone's HLG
    video exported tagged BT.709 showed flat and washed out beside its source in every
    colour-managed player and editor. A source that states none is taken as BT.709, the
    matrix is BT.2020's for BT.2020 colour (as players expect) and BT.709's otherwise, and
    the colours come back as they went in. The matte alone (alpha_mp4) stays BT.709: its
    levels are coverage, which an HLG curve would bend."""
    primaries, transfer = tags
    blocks = np.random.default_rng(0).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    rgb = np.repeat(np.repeat(blocks, 16, 0), 16, 1)  # flat blocks: 4:2:0 keeps their centres
    alpha = np.full(rgb.shape[:2], 65535, np.uint16)
    frames = [
        ExportFrame(i, Fraction(i, FPS), rgb, alpha, primaries=primaries, transfer=transfer)
        for i in range(2)
    ]
    archive = build_archive(frames=iter(frames), formats=list(VIDEO_FILES), fps=FPS)
    colour = (1 if primaries == 2 else primaries, 1 if transfer == 2 else transfer, matrix)
    for fmt, name in VIDEO_FILES.items():
        with av.open(io.BytesIO(archive.read(name))) as container:
            context = container.streams.video[0].codec_context
            stated = (context.color_primaries, context.color_trc, context.colorspace)
            assert stated == ((1, 1, 1) if fmt == "alpha_mp4" else colour), fmt
            picture = next(container.decode(video=0))
            if fmt != "alpha_mp4":
                got = picture.to_ndarray(format="rgb24").reshape(4, 16, 6, 16, 3)
                centres = got[:, 4:12, :, 4:12].mean(axis=(1, 3))  # the codecs' loss averaged
                # Observed: ProRes exact, H.264 and VP9 within 3.5 levels; a YUV matrix taken
                # wrong (BT.2020's as BT.709's) is 10 to 22 off, a range 18.
                assert np.abs(centres - blocks).max() <= (1 if fmt == "prores4444" else 5), fmt


@pytest.mark.parametrize(
    "primaries,transfer",
    [(9, 16), (9, 18), (1, 16), (9, 14)],  # BT.2020 PQ, HLG; BT.709 PQ; SDR
)
def test_the_composite_background_is_in_the_sources_own_colour(
    primaries: int, transfer: int
) -> None:
    """The background (sRGB) was put into the frame's code values as they are: over a PQ
    source 00ff00 became a 10,000 cd/m² green, white 50 times HDR's reference white. It is
    the same colour in the source's signal: white at reference white (PQ 203 cd/m², HLG 75%),
    green BT.709's green in BT.2020 primaries where those are the source's."""
    rgb = np.zeros((32, 64, 3), np.uint8)
    alpha = np.zeros((32, 64), np.uint8)  # all background
    frames = [export_frame(rgb, alpha, primaries, transfer)]
    green = BT709_TO_BT2020 @ [0.0, 1.0, 0.0] if primaries == 9 else np.array([0.0, 1.0, 0.0])
    got = {}
    for name, hex_colour in (("white", (255, 255, 255)), ("green", (0, 255, 0))):
        archive = build_archive(
            frames=iter(frames), formats=["composite_mp4"], fps=FPS, background=hex_colour
        )
        with av.open(io.BytesIO(archive.read(VIDEO_FILES["composite_mp4"]))) as container:
            picture = next(container.decode(video=0)).to_ndarray(format="rgb24")
        got[name] = picture[8:24, 8:56].reshape(-1, 3).mean(axis=0)
    if transfer == 16:
        white, green = pq_signal(203 * np.ones(3)), pq_signal(203 * green)
    elif transfer == 18:  # reference white 75% (ITU-R BT.2408); green goes through the OOTF
        white, green = np.full(3, 0.75), None
    else:  # SDR: sRGB's curve kept, the primaries converted
        white = np.ones(3)
        green = np.where(green <= 0.0031308, green * 12.92, 1.055 * green ** (1 / 2.4) - 0.055)
    # 8-bit limited-range YUV there and back: within 3 levels.
    assert np.abs(got["white"] - white * 255).max() <= 3
    if green is not None:
        assert np.abs(got["green"] - green * 255).max() <= 3
    else:  # read back as the EXR export reads HLG: BT.709's green at reference white
        code = np.round(got["green"]).astype(np.uint8)[None, None]
        light = hdr.linear_light(code, transfer, primaries)[0, 0]
        np.testing.assert_allclose(light, [0, 1, 0], atol=0.06)


# --- audio ---


AUDIO_CODECS = {"prores4444": "pcm_s24le", "webm_alpha": "opus"}  # the others AAC


@pytest.mark.parametrize("fmt,codec", [(f, AUDIO_CODECS.get(f, "aac")) for f in VIDEO_FILES])
def test_audio_kept_and_cut_to_the_range(extracted: dict, fmt: str, codec: str) -> None:
    name, samples, rate = decode_audio(extracted["even", fmt])
    assert name == codec
    # The frames span 0.2 s .. 0.6 s of the source; its tone starts at 0.4 s.
    assert len(samples) / rate == pytest.approx(COUNT / FPS, abs=0.03)
    middle = round((TONE_FROM - FIRST / FPS) * rate)
    margin = round(0.03 * rate)  # codec pre-echo and windows blur the step a little
    silent = np.sqrt(np.mean(samples[: middle - margin] ** 2))
    tone = np.sqrt(np.mean(samples[middle + margin : -margin] ** 2))
    assert silent < 0.02 and tone == pytest.approx(0.5 / np.sqrt(2), rel=0.15)


def exported(source: Path, first: int, fmt: str) -> Path:
    """Frames `first`.. of a real source (opaque matte) exported in `fmt`, with its audio."""
    info, pts = probe(source)
    reader = VideoReader(source, pts, info.rotation)
    opaque = np.full((info.height, info.width), 255, np.uint8)
    frames = (
        ExportFrame(i, reader.time(i), reader.frame(i), opaque) for i in range(first, len(pts))
    )
    archive = build_archive(frames=frames, formats=[fmt], fps=info.fps, audio_from=source)
    path = source.with_name(f"{source.stem}_{VIDEO_FILES[fmt]}")
    path.write_bytes(archive.read(VIDEO_FILES[fmt]))
    return path


def picture_and_sound(path: Path) -> tuple[list[float], float, float]:
    """(every frame's time, the white frame's time, when the tone starts) in an exported file."""
    with av.open(str(path)) as container:
        frames = list(container.decode(container.streams.video[0]))
        times = [float(f.time) for f in frames]
        flash = next(float(f.time) for f in frames if f.to_ndarray(format="gray").mean() > 150)
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        mono = av.AudioResampler("flt", "mono", stream.codec_context.sample_rate)
        for frame in container.decode(stream):
            for part in mono.resample(frame):
                loud = np.flatnonzero(np.abs(part.to_ndarray()[0]) > 0.1)
                if loud.size:
                    return times, flash, float(part.time) + loud[0] / part.sample_rate
    raise AssertionError("no tone")


def cfr(count: int) -> list[Fraction]:
    return [Fraction(i, FPS) for i in range(count)]


AV_FORMATS = ["prores4444", "webm_alpha", "composite_mp4"]


def test_a_prores_master_keeps_pcm_sound_sample_for_sample(tmp_path: Path) -> None:
    """A camera's 16-bit PCM in MOV came out of the ProRes 4444 export as 128 kb/s AAC, a
    lossy second generation of a master's sound: it is PCM there, every sample as it was, at
    the source's own rate."""
    source = tmp_path / "camera.mov"
    write_flash_clip(source, cfr(20), flash=8, audio_codec="pcm_s16le", rate=44100)
    _, original, _ = decode_audio(source)
    name, kept, rate = decode_audio(exported(source, 0, "prores4444"))
    assert (name, rate) == ("pcm_s24le", 44100)
    assert len(kept) == pytest.approx(20 / FPS * rate, abs=rate / FPS)
    np.testing.assert_array_equal(kept, original[: len(kept)])


@pytest.mark.parametrize("fmt", AV_FORMATS)
def test_variable_frame_rate_is_kept_in_sync(tmp_path: Path, fmt: str) -> None:
    steps = [1, 1, 3, 1, 2, 1, 1, 4, 1, 1, 2, 1, 3, 1, 1, 1, 2, 1, 1, 1]
    times = [Fraction(sum(steps[:i]), FPS) for i in range(len(steps))]
    source = tmp_path / "vfr.mp4"
    write_flash_clip(source, times, flash=12)
    shown, flash, tone = picture_and_sound(exported(source, 3, fmt))
    # Each frame shows when it showed in the source, counted from the first exported one.
    assert shown == pytest.approx([float(t - times[3]) for t in times[3:]], abs=0.001)
    assert flash == pytest.approx(float(times[12] - times[3]), abs=0.001)
    assert tone == pytest.approx(flash, abs=1 / FPS)


@pytest.mark.parametrize("fmt", AV_FORMATS)
def test_a_late_start_keeps_picture_and_sound_together(tmp_path: Path, fmt: str) -> None:
    source, ts = tmp_path / "clip.mp4", tmp_path / "late.ts"
    write_flash_clip(source, cfr(30), flash=15, audio_codec="mp2")
    remux(source, ts, shift_frames=-35)  # both tracks start 1.4 s late, as camcorders' TS do
    shown, flash, tone = picture_and_sound(exported(ts, 5, fmt))
    assert len(shown) == 25 and shown[0] == pytest.approx(0, abs=0.001)
    assert flash == pytest.approx(10 / FPS, abs=0.001)
    assert tone == pytest.approx(flash, abs=1 / FPS)


def test_a_trimmed_source_keeps_picture_and_sound_together(tmp_path: Path) -> None:
    source, trimmed = tmp_path / "clip.mp4", tmp_path / "trimmed.mp4"
    write_flash_clip(source, cfr(30), flash=15)
    remux(source, trimmed, shift_frames=6)  # an edit list hides the first 6 frames
    shown, flash, tone = picture_and_sound(exported(trimmed, 0, "composite_mp4"))
    assert len(shown) == 24
    assert flash == pytest.approx(9 / FPS, abs=0.001)
    assert tone == pytest.approx(flash, abs=1 / FPS)


def make_surround_source(path: Path, codec: str, layout: str, levels: list[float]) -> Path:
    """A 1 s clip whose `codec` audio has `layout`'s channels, channel k a 440 Hz tone at
    `levels[k]` (the LFE channel at 60 Hz: AAC low-passes it)."""
    rate = 48000
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = container.add_stream(codec, rate=rate)
        sound.layout = layout
        for i in range(FPS):
            picture = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 90, np.uint8), "rgb24")
            picture.pts = i
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        t = np.arange(rate) / rate
        names = [channel.name for channel in av.AudioLayout(layout).channels]
        waves = np.stack(
            [
                level * np.sin(2 * np.pi * (60 if name == "LFE" else 440) * t)
                for name, level in zip(names, levels, strict=True)
            ]
        ).astype(np.float32)
        fmt, size = sound.codec_context.format.name, sound.codec_context.frame_size or 1024
        resampler = av.AudioResampler(fmt, layout, rate, frame_size=size)
        # Packed: PyAV 18 mishandles planar frames of 8 channels (7.1).
        block = av.AudioFrame.from_ndarray(waves.T.reshape(1, -1).copy(), "flt", layout)
        block.sample_rate, block.pts, block.time_base = rate, 0, Fraction(1, rate)
        for piece in resampler.resample(block) + resampler.resample(None):
            container.mux(sound.encode(piece))
        container.mux(sound.encode(None))
    return path


def channel_levels(path: Path) -> list[float]:
    """Each channel's RMS level, in the order of the file's audio track."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        layout = stream.codec_context.layout
        packed = av.AudioResampler("flt", layout, stream.codec_context.sample_rate)
        samples = np.concatenate(
            [
                part.to_ndarray().reshape(-1, layout.nb_channels).T
                for frame in container.decode(stream)
                for part in packed.resample(frame)
            ],
            axis=1,
        )
    middle = samples[:, samples.shape[1] // 4 : -samples.shape[1] // 4]  # past codec edges
    return np.sqrt(np.mean(middle**2, axis=1)).tolist()


# Phones and consumer cameras record AAC 5.1; pro cameras PCM in MOV, often 5.1(side); film
# and game mixes 7.1 (it crashed the server: PyAV 18 mishandles planar 8-channel frames).
SURROUND = {("aac", "5.1", ".mp4"), ("pcm_s16le", "5.1(side)", ".mov"), ("flac", "7.1", ".mkv")}


@pytest.mark.parametrize("codec,layout,suffix", sorted(SURROUND))
@pytest.mark.parametrize("fmt", AV_FORMATS)
def test_surround_sound_keeps_its_channels(
    tmp_path: Path, fmt: str, codec: str, layout: str, suffix: str
) -> None:
    levels = [0.5, 0.4, 0.3, 0.35, 0.2, 0.1, 0.45, 0.25][: av.AudioLayout(layout).nb_channels]
    source = make_surround_source(tmp_path / f"surround{suffix}", codec, layout, levels)
    # Every channel in the source's order (Opus plays 5.1(side)'s side channels from the
    # back), none folded into another.
    rms = channel_levels(exported(source, 0, fmt))
    assert rms == pytest.approx([level / np.sqrt(2) for level in levels], rel=0.15)


@pytest.mark.parametrize("fmt", VIDEO_FILES)
def test_no_audio_when_the_source_has_none(extracted: dict, fmt: str) -> None:
    with av.open(str(extracted["odd", fmt])) as container:
        assert not container.streams.audio
    archive = build_archive(frames=make_frames(64, 48, 2), formats=[fmt], fps=FPS)
    with av.open(archive.open(VIDEO_FILES[fmt])) as container:
        assert not container.streams.audio


@pytest.mark.parametrize("fmt", VIDEO_FILES)
def test_no_audio_track_when_the_range_starts_after_the_sound_ends(
    tmp_path: Path, fmt: str
) -> None:
    """The source's sound ends (0.1 s) before the first exported frame (0.2 s): no file gets an
    audio track. A WebM got an empty Opus one, which players show as a track that never
    plays; MP4 and MOV leave it out."""
    source = make_source(tmp_path / "short_sound.mp4", 0.1, audio=True)
    assert _exported_streams(tmp_path, fmt, make_frames(64, 48), source) == (["video"], COUNT)


def _exported_streams(
    tmp_path: Path, fmt: str, frames: Iterable[ExportFrame], source: Path
) -> tuple[list[str], int]:
    """The kinds of stream of the `fmt` video of `frames` with `source`'s sound, and how many
    frames it decodes to."""
    archive = build_archive(frames=frames, formats=[fmt], fps=FPS, audio_from=source)
    path = tmp_path / VIDEO_FILES[fmt]
    path.write_bytes(archive.read(VIDEO_FILES[fmt]))
    with av.open(str(path)) as container:
        return [s.type for s in container.streams], len(decode_video(path))


@pytest.mark.parametrize("fmt", VIDEO_FILES)
def test_no_audio_track_when_the_sound_starts_after_the_range_ends(
    tmp_path: Path, fmt: str
) -> None:
    """The source's sound starts (0.8 s) after the last exported frame (0.6 s): no file gets
    an audio track. A WebM got an empty Opus one, a track that never plays; MP4 and MOV leave
    it out. The same export from 0.8 s on has the sound."""
    source = make_source(tmp_path / "late_sound.mp4", 1.0, audio=True, sound_from=0.8)
    with av.open(str(source)) as container:
        assert container.streams.audio[0].start_time * container.streams.audio[0].time_base > 0.7
    assert _exported_streams(tmp_path, fmt, make_frames(64, 48), source) == (["video"], COUNT)
    late = (
        replace(frame, index=frame.index + 15, time=frame.time + Fraction(15, FPS))
        for frame in make_frames(64, 48, 5)
    )
    assert _exported_streams(tmp_path, fmt, late, source)[0] == ["video", "audio"]


@pytest.fixture(scope="module")
def damaged_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, float]:
    """A clip whose audio is damaged from about 0.51 s to 0.60 s, within its tone, and the
    damaged stretch's start and end in seconds."""
    source = make_source(tmp_path_factory.mktemp("damaged") / "damaged.mp4", 1.0, audio=True)
    return source, *damage_audio(source, 0.5, 4)


@pytest.mark.parametrize("fmt", list(VIDEO_FILES))
def test_damaged_audio_is_silent_there_and_spares_the_rest(
    damaged_source: tuple[Path, float, float], fmt: str, tmp_path: Path
) -> None:
    """The decoder's error on a damaged audio packet ended the export, cutting the streamed
    zip off: the damaged stretch plays as silence, the rest of the sound as it was, in sync."""
    source, start, end = damaged_source
    count = 20  # frames 5..24: 0.2 s .. 1.0 s of the source, the damage in the tone's middle
    archive = build_archive(
        frames=make_frames(64, 48, count), formats=[fmt], fps=FPS, audio_from=source
    )
    assert archive.testzip() is None
    path = tmp_path / VIDEO_FILES[fmt]
    path.write_bytes(archive.read(VIDEO_FILES[fmt]))
    assert len(decode_video(path)) == count
    _, samples, rate = decode_audio(path)
    # Within one audio frame: AAC's 1024 samples at the source's 44.1 kHz (Opus' are 20 ms).
    assert len(samples) / rate == pytest.approx(count / FPS, abs=1024 / 44100)
    offset = FIRST / FPS  # the export's time 0 on the source's clock
    margin = 0.03  # codec windows blur each step a little

    def level(begin: float, stop: float) -> float:
        part = samples[round((begin - offset) * rate) : round((stop - offset) * rate)]
        return float(np.sqrt(np.mean(part**2)))

    assert level(start + margin, end - margin) < 0.01
    # The tone before and after the damage, where it was (a shift would put tone in the gap).
    tone = 0.5 / np.sqrt(2)
    assert level(TONE_FROM + margin, start - margin) == pytest.approx(tone, rel=0.15)
    assert level(end + margin, 1.0 - margin) == pytest.approx(tone, rel=0.15)


@pytest.mark.parametrize("fmt", ["composite_mp4", "webm_alpha"])
def test_audio_that_cannot_be_decoded_leaves_the_video_silent(tmp_path: Path, fmt: str) -> None:
    source = make_source(tmp_path / "unreadable.mp4", 1.0, audio=True)
    damage_audio_config(source)
    archive = build_archive(frames=make_frames(64, 48), formats=[fmt], fps=FPS, audio_from=source)
    path = tmp_path / VIDEO_FILES[fmt]
    path.write_bytes(archive.read(VIDEO_FILES[fmt]))
    assert len(decode_video(path)) == COUNT
    with av.open(str(path)) as container:
        assert not container.streams.audio


# --- streaming ---


_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_ZIP64_TAG = 0x0001


def local_header(data: bytes, info: zipfile.ZipInfo) -> tuple[int, int, int, int, int]:
    """The (flags, method, CRC-32, compressed size, size) an entry's local file header says,
    as a streaming reader reads it, the sizes from its Zip64 extra field where they are
    0xFFFFFFFF there."""
    fields = _LOCAL_HEADER.unpack_from(data, info.header_offset)
    signature, _, flags, method, _, _, crc, compressed, size, _, _ = fields
    assert signature == b"PK\x03\x04"
    for tag, value in extra_fields(local_extra(data, info)):
        if tag == _ZIP64_TAG:  # the sizes that overflow, the uncompressed one first
            values = iter(struct.unpack_from(f"<{len(value) // 8}Q", value))
            size = next(values) if size == 0xFFFFFFFF else size
            compressed = next(values) if compressed == 0xFFFFFFFF else compressed
    return flags, method, crc, compressed, size


def local_extra(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The extra field of an entry's local file header."""
    at = info.header_offset
    *_, name_length, extra_length = _LOCAL_HEADER.unpack_from(data, at)
    start = at + _LOCAL_HEADER.size + name_length
    return data[start : start + extra_length]


def extra_fields(extra: bytes) -> list[tuple[int, bytes]]:
    """An extra field's (tag, data) records."""
    fields = []
    while extra:
        tag, length = struct.unpack_from("<HH", extra)
        fields.append((tag, extra[4 : 4 + length]))
        extra = extra[4 + length :]
    return fields


class Unseekable(io.RawIOBase):
    """A write-only stream that cannot seek, as a response body is."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.data += data
        return len(data)


def test_every_entry_s_local_header_holds_its_crc_and_sizes(tmp_path: Path) -> None:
    """Streaming readers (Java's ZipInputStream, bsdtar from a pipe) go by the local headers
    alone: each stored entry's says its real CRC-32 and sizes, with no data descriptor (flag
    bit 3), which ZipInputStream refuses on a stored entry. Written to a stream that cannot
    seek, zipfile left them 0 and set bit 3 on every entry."""
    out = Unseekable()
    write_archive(
        out, make_frames(64, 48, 3), ["alpha_png", "exr", "alpha_mp4"], FPS, staging=tmp_path
    )
    data = bytes(out.data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    assert len(archive.infolist()) == 7
    for info in archive.infolist():
        flags, method, crc, compressed, size = local_header(data, info)
        assert method == zipfile.ZIP_STORED, info.filename
        assert flags & 0x08 == 0, info.filename
        assert (crc, compressed, size) == (info.CRC, info.compress_size, info.file_size), (
            info.filename
        )


@pytest.fixture(scope="module")
def plain_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A normal export (every entry, and the archive, far under 4 GiB) streamed as a download."""
    out = Unseekable()
    staging = tmp_path_factory.mktemp("staging")
    write_archive(
        out, make_frames(64, 48, 3), ["alpha_png", "exr", "alpha_mp4"], FPS, staging=staging
    )
    path = tmp_path_factory.mktemp("plain") / "export.zip"
    path.write_bytes(out.data)
    return path


_END_RECORD = struct.Struct("<4sHHHHIIH")


def test_a_normal_export_has_no_zip64_records(plain_zip: Path) -> None:
    """Info-ZIP unzip before 6.0, older macOS and Windows tools and several embedded and Java
    readers cannot read Zip64: a normal export, whose entries and offsets all fit Zip32's
    fields, has no Zip64 extra field in a local header or the central directory and a plain
    end of central directory. Every entry was Zip64 before."""
    data = plain_zip.read_bytes()
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    assert len(archive.infolist()) == 7
    for info in archive.infolist():
        assert _ZIP64_TAG not in dict(extra_fields(local_extra(data, info))), info.filename
        assert _ZIP64_TAG not in dict(extra_fields(info.extra)), info.filename
        assert info.extract_version == 20, info.filename  # Zip64 needs 4.5
    end = _END_RECORD.unpack_from(data, len(data) - _END_RECORD.size)
    signature, _, _, _, entries, size, start, _ = end
    assert signature == b"PK\x05\x06"
    assert entries == 7
    # The central directory is followed by this record alone: no Zip64 record or locator.
    assert start + size == len(data) - _END_RECORD.size


def test_unzip_tests_a_normal_export_clean(plain_zip: Path) -> None:
    done = subprocess.run(["unzip", "-t", plain_zip], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No errors detected" in done.stdout


def test_an_entry_or_offset_past_4_gib_or_the_65535th_entry_is_zip64() -> None:
    """Zip64 where Zip32's fields cannot hold a size or offset (or hold it only as 0xFFFFFFFF,
    which readers take to mean "in the Zip64 field"), or a count of entries: a video over
    4 GiB, the frame that crosses 4 GiB in a long export of small frames and every entry after
    it, an export of 65,535 entries or more. A long export of frames of a few MB is Zip32."""
    frame = 3 << 20
    assert not _needs_zip64(0, _entry_end(0, "alpha/000000.png", frame))
    assert not _needs_zip64(1000, _entry_end(3 << 30, "alpha/001000.png", frame))
    assert _needs_zip64(0, _entry_end(0, "matte_prores4444.mov", 5 << 30))
    assert _needs_zip64(0, _entry_end(0, "matte_prores4444.mov", 0xFFFFFFFF))
    # An entry may end before 0xFFFFFFFF at most: where it ends the next entry or the central
    # directory starts, and a Zip32 offset of 0xFFFFFFFF reads as "in the Zip64 field".
    name = "alpha/001365.png"
    last = 0xFFFFFFFF - _entry_end(0, name, 0)
    assert not _needs_zip64(1365, _entry_end(0, name, last - 1))
    assert _needs_zip64(1365, _entry_end(0, name, last))
    assert _needs_zip64(1366, _entry_end((4 << 30) - frame // 2, "alpha/001366.png", frame))
    assert _needs_zip64(1500, _entry_end(5 << 30, "alpha/001500.png", frame))
    assert not _needs_zip64(0xFFFD, _entry_end(1 << 30, "alpha/065533.png", frame))
    assert _needs_zip64(0xFFFE, _entry_end(1 << 30, "alpha/065534.png", frame))


def test_an_export_of_more_than_65535_entries_is_read_whole() -> None:
    """Past 65,534 entries the archive goes Zip64 (stream-zip refuses a Zip32 one of more than
    65,535, and 65,535 itself reads as "in the Zip64 record"): the entries before are Zip32."""
    count = 0x10000 + 10
    out = Unseekable()
    _write_zip(out, ((f"alpha/{n:06d}.png", n.to_bytes(3, "little")) for n in range(count)), bool)
    data = bytes(out.data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = archive.infolist()
    assert len(infos) == count
    assert [archive.read(info) for info in infos[-12:]] == [
        n.to_bytes(3, "little") for n in range(count - 12, count)
    ]
    zip64 = [_ZIP64_TAG in dict(extra_fields(local_extra(data, info))) for info in infos]
    assert zip64 == [False] * 0xFFFE + [True] * (count - 0xFFFE)


def test_a_stop_asked_while_a_video_file_is_read_into_the_zip_ends_the_export(
    tmp_path: Path,
) -> None:
    """A download dropped once every frame has passed ends the export while the video file is
    read for its CRC-32, not once all of it has been (seconds of a 10 GB ProRes file read for
    nobody); its staged files go."""
    fed = threading.Event()

    def frames() -> Iterator[ExportFrame]:
        yield from make_frames(64, 48, 3)
        fed.set()

    out = Unseekable()
    with pytest.raises(ExportStopped):
        write_archive(out, frames(), ["alpha_mp4"], FPS, staging=tmp_path, should_stop=fed.is_set)
    assert b"matte_alpha.mp4" not in out.data
    assert list(tmp_path.iterdir()) == []


def collect(chunks: AsyncIterator[bytes]) -> list[bytes]:
    async def read() -> list[bytes]:
        return [chunk async for chunk in chunks]

    return asyncio.run(read())


def test_iter_archive_matches_write_archive(even: zipfile.ZipFile, sources) -> None:
    chunks = collect(
        iter_archive(
            lambda: make_frames(64, 48),
            ["alpha_png", "rgba_png", "alpha_mp4"],
            FPS,
            audio_from=sources["audio"],
            chunk_size=1024,
        )
    )
    assert all(isinstance(chunk, bytes) for chunk in chunks) and len(chunks) > 3
    streamed = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert streamed.testzip() is None
    chosen = [n for n in even.namelist() if n.startswith(("alpha/", "rgba/"))]
    assert streamed.namelist() == [*chosen, "matte_alpha.mp4"]
    for name in streamed.namelist():
        if name.endswith(".png"):
            assert streamed.read(name) == even.read(name)


class CountingFrames:
    """Noise frames (incompressible, so the archive is big) that count how many were made."""

    def __init__(self, count: int | None, size: int = 128, fail_after: int | None = None):
        self.count, self.size, self.fail_after = count, size, fail_after
        self.made = 0
        self.closed = threading.Event()

    def __call__(self) -> Iterator[ExportFrame]:
        rng = np.random.default_rng(0)
        try:
            while self.count is None or self.made < self.count:
                if self.made == self.fail_after:
                    raise RuntimeError("store went away")
                rgb = rng.integers(0, 256, (self.size, self.size, 3), np.uint8)
                alpha = rng.integers(0, 256, rgb.shape[:2], np.uint8)
                yield ExportFrame(self.made, Fraction(self.made, 25), rgb, alpha)
                self.made += 1
        finally:
            self.closed.set()


def test_iter_archive_memory_is_bounded() -> None:
    collect(iter_archive(CountingFrames(2), ["rgba_png"], FPS))  # imports off the books
    frames = CountingFrames(150)

    async def read_slowly() -> tuple[int, int]:
        chunks = iter_archive(frames, ["rgba_png"], FPS, chunk_size=1 << 16, max_chunks=2)
        first = await anext(chunks)
        await asyncio.sleep(0.3)
        made_meanwhile = frames.made
        return made_meanwhile, len(first) + sum([len(chunk) async for chunk in chunks])

    tracemalloc.start()
    try:
        made_meanwhile, total = asyncio.run(read_slowly())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A consumer that stops reading holds the writer back: a few frames, not all 150.
    assert made_meanwhile <= 5
    assert frames.made == 150
    assert total > 150 * 128 * 128 * 4  # noise does not compress: about 10 MB
    assert peak < 2 << 20  # observed about 0.6 MB: a frame or two and the queued chunks


def test_iter_archive_raises_writer_errors() -> None:
    chunks = iter_archive(CountingFrames(None, fail_after=20), ["rgba_png"], FPS, chunk_size=4096)
    with pytest.raises(RuntimeError, match="store went away"):
        collect(chunks)


def test_iter_archive_stops_writer_when_consumer_leaves() -> None:
    frames = CountingFrames(None)  # endless

    async def leave() -> None:
        chunks = iter_archive(frames, ["rgba_png"], FPS, chunk_size=4096, max_chunks=2)
        await anext(chunks)
        await chunks.aclose()

    asyncio.run(leave())
    assert frames.closed.wait(5)
    made = frames.made
    time.sleep(0.2)
    assert frames.made == made
    assert wait_until(lambda: not any(t.name == "vidmatte-archive" for t in threading.enumerate()))


def test_iter_archive_checks_arguments_eagerly() -> None:
    with pytest.raises(ValueError, match="'gif'"):
        iter_archive(lambda: iter(()), ["gif"], FPS)


def test_videos_are_staged_where_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system_tmp, staging = tmp_path / "system", tmp_path / "staging"
    system_tmp.mkdir(), staging.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    seen: list[set[str]] = []

    def frames() -> Iterator[ExportFrame]:
        for frame in make_frames(64, 48, 60):  # past the encoders' lookahead
            seen.append(
                {p.name for p in staging.rglob("*")} | {p.name for p in system_tmp.iterdir()}
            )
            yield frame

    chunks = iter_archive(frames, ["alpha_mp4", "webm_alpha"], FPS, staging=staging)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(collect(chunks))))
    assert archive.namelist() == ["matte_alpha.mp4", "matte_alpha.webm"]
    staged = seen[-1]  # while the frames pass, the files grow in a folder of `staging`
    assert {"matte_alpha.mp4", "matte_alpha.webm"} < staged
    assert any(name.startswith("vidmatte-export-") for name in staged)
    assert list(system_tmp.iterdir()) == [] and list(staging.iterdir()) == []


def test_leaving_a_video_download_stops_its_encoder(tmp_path: Path) -> None:
    frames = CountingFrames(None, size=64)  # endless

    async def give_up() -> None:
        chunks = iter_archive(frames, ["alpha_mp4"], FPS, staging=tmp_path)
        # Nothing of a video can be sent before it is complete; the server cancels the wait.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(chunks), 0.5)

    asyncio.run(give_up())
    assert frames.closed.wait(5)
    made = frames.made
    time.sleep(0.3)
    assert frames.made == made
    assert wait_until(lambda: list(tmp_path.iterdir()) == [])  # the half-encoded file is gone


def test_a_dropped_http_download_stops_its_encoder(tmp_path: Path) -> None:
    """As the app serves it: a StreamingResponse under uvicorn, a client that goes away."""
    frames = CountingFrames(None, size=64)  # endless

    async def archive(_: Request) -> StreamingResponse:
        chunks = iter_archive(frames, ["alpha_mp4"], FPS, staging=tmp_path)
        return StreamingResponse(chunks, media_type="application/zip")

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=[Route("/archive", archive)]), log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: server.started)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/archive"
        with httpx.stream("GET", url) as response:
            assert response.status_code == 200
            assert wait_until(lambda: frames.made > 20)  # encoding
        assert frames.closed.wait(5)
        made = frames.made
        time.sleep(0.3)
        assert frames.made == made
        assert wait_until(lambda: list(tmp_path.iterdir()) == [])
    finally:
        server.should_exit = True
        thread.join(5)


# --- timecode ---


def file_timecodes(path: Path) -> list[str]:
    """Every timecode tag a player or NLE finds in a video file: its streams' and its own."""
    with av.open(str(path)) as container:
        holders = [*container.streams, container]
        return [v for h in holders for k, v in h.metadata.items() if k.lower() == "timecode"]


def exr_timecode(data: bytes, tmp_path: Path) -> str | None:
    path = tmp_path / "frame.exr"
    path.write_bytes(data)
    with OpenEXR.File(str(path)) as image:
        tc = image.header().get("timeCode")
    if tc is None:
        return None
    mark = ";" if tc.dropFrame else ":"
    return f"{tc.hours:02d}:{tc.minutes:02d}:{tc.seconds:02d}{mark}{tc.frame:02d}"


@pytest.mark.parametrize(
    ("rate", "start", "exported"),
    [
        (Fraction(FPS), "01:00:00:00", ["01:00:00:03", "01:00:00:04", "01:00:00:05"]),
        # 29.97 drop-frame: the labels ;00 and ;01 of minute 1 do not exist.
        (Fraction(30000, 1001), "00:00:59;26", ["00:00:59;29", "00:01:00;02", "00:01:00;03"]),
    ],
)
def test_exports_start_at_the_timecode_of_their_first_frame(
    tmp_path: Path, rate: Fraction, start: str, exported: list[str]
) -> None:
    """A camera's MOV starting at `start`, exported from its frame 3 on: every video file
    starts at that frame's timecode, as a tmcd track in MOV and MP4 (what Premiere, Resolve
    and After Effects conform by), and each EXR has its own frame's."""
    source = tmp_path / "camera.mov"
    write_video(source, frames=6, width=64, height=48, fps=rate, timecode=start)
    info, _ = probe(source)
    assert info.timecode == start
    frames = [replace(make_frame(i, 64, 48), time=Fraction(i) / rate) for i in (3, 4, 5)]
    archive = build_archive(frames=frames, formats=FORMATS, fps=info.fps, timecode=info.timecode)
    for fmt, name in VIDEO_FILES.items():
        path = tmp_path / name
        path.write_bytes(archive.read(name))
        assert set(file_timecodes(path)) == {exported[0]}, fmt
        assert probe(path)[0].timecode == exported[0], fmt
        if fmt != "webm_alpha":  # Matroska has no timecode track, only the tag
            with av.open(str(path)) as container:
                assert [s.metadata["timecode"] for s in container.streams.data] == exported[:1]
    for frame, tc in zip(frames, exported, strict=True):
        assert exr_timecode(archive.read(f"exr/{frame.index:06d}.exr"), tmp_path) == tc


def test_without_a_source_timecode_exports_carry_none(
    extracted: dict, even: zipfile.ZipFile, tmp_path: Path
) -> None:
    for path in extracted.values():
        assert file_timecodes(path) == [], path.name
        with av.open(str(path)) as container:
            assert not container.streams.data
    assert exr_timecode(even.read(f"exr/{FIRST:06d}.exr"), tmp_path) is None


def test_a_timecode_that_does_not_fit_the_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="timecode"):
        build_archive(
            frames=make_frames(64, 48, 2), formats=["alpha_png"], fps=FPS, timecode="01:00:00;00"
        )


def test_exr_timecode_above_30_fps_holds_frame_pairs(tmp_path: Path) -> None:
    """EXR's timeCode (SMPTE ST 12-1) counts frames to 29 only: at 50 and 59.94 fps it holds the
    frame pair, fieldPhase set on a pair's second frame. Frame 30 of a second failed the export
    (the library refuses frame 30), midway through an archive's stream."""
    frames = [make_frame(i, 64, 48) for i in (30, 31, 49)]
    archive = build_archive(frames=frames, formats=["exr"], fps=50, timecode="01:00:00:00")
    found = []
    for frame in frames:
        (tmp_path / "frame.exr").write_bytes(archive.read(f"exr/{frame.index:06d}.exr"))
        with OpenEXR.File(str(tmp_path / "frame.exr")) as image:
            code = image.header()["timeCode"]
        found.append((code.seconds, code.frame, code.fieldPhase))
    assert found == [(0, 15, False), (0, 15, True), (0, 24, True)]
    # Above 60 fps ST 12-1 has no form for it: the EXR goes without, the export still made.
    fast = build_archive(frames=frames[-1:], formats=["exr"], fps=120, timecode="01:00:00:00")
    assert exr_timecode(fast.read("exr/000049.exr"), tmp_path) is None


@pytest.mark.parametrize("aspect", [Fraction(64, 45), Fraction(16, 15)])
def test_webm_keeps_an_anamorphic_sources_pixel_aspect(tmp_path: Path, aspect: Fraction) -> None:
    """PAL's 720x576 at 16:9 (64:45) and 4:3 (16:15): the WebM, with its sound, says its
    display size as MOV and MP4 do (it showed square pixels), and reads back whole."""
    size = (720, 576)
    frames = [replace(f, pixel_aspect=float(aspect)) for f in make_frames(*size, 3)]
    source = make_source(tmp_path / "source.mp4", 1.0, audio=True)
    archive = build_archive(frames=frames, formats=["webm_alpha"], fps=FPS, audio_from=source)
    path = tmp_path / "matte.webm"
    path.write_bytes(archive.read(VIDEO_FILES["webm_alpha"]))
    info, _ = probe(path)
    assert info.pixel_aspect == round(float(aspect), 6)
    assert (info.width, info.height, info.frame_count, info.has_audio) == (*size, 3, True)
    assert len(decode_video(path, "libvpx-vp9")) == 3
    # The SeekHead still points at the elements it names (Info and Tracks moved).
    head = path.read_bytes()
    base = matroska._segment(head)[0]
    (seek_head,) = [e for e in matroska._elements(head, base) if e.id == matroska._SEEK_HEAD]
    for seek in matroska._elements(seek_head.data):
        named, position = (child.data for child in matroska._elements(seek.data))
        at = base + int.from_bytes(position, "big")
        assert head[at : at + len(named)] == named


def test_a_display_size_is_only_set_in_a_header_laid_out_as_ffmpegs(tmp_path: Path) -> None:
    """Not Matroska, or Matroska without room reserved before its Tracks: left as it is."""
    mp4 = make_source(tmp_path / "clip.mp4", 0.2, audio=False)
    before = mp4.read_bytes()
    assert not set_display_size(mp4, 80, 48)
    assert mp4.read_bytes() == before
    cut = tmp_path / "cut.webm"
    cut.write_bytes(b"\x1a\x45\xdf\xa3\x84webm")
    assert not set_display_size(cut, 80, 48)


@pytest.mark.parametrize("depth", [8, 16])
@pytest.mark.parametrize("background,nits", [((0, 0, 0), 0.0), ((255, 255, 255), 203.0)])
def test_a_composite_over_hdr_mixes_soft_edges_in_linear_light(
    depth: int, background: tuple[int, int, int], nits: float
) -> None:
    """Half of a 1000 cd/m² PQ white over black was mixed in PQ's code values: 0.376, 25
    cd/m², where the light is half of 1000 (an edge too dark, a dark halo round highlights).
    It is mixed in linear light and encoded back: PQ of the mean of the two lights, over
    white (HDR's reference white, 203 cd/m²) too."""
    dtype, top = (np.uint8, 255) if depth == 8 else (np.uint16, 65535)
    white = np.round(pq_signal(1000.0) * top)
    rgb = np.full((32, 64, 3), white, dtype)
    alpha = np.full((32, 64), 32768, np.uint16)  # 0.500008
    frame = export_frame(rgb, alpha, primaries=9, transfer=16)
    archive = build_archive(
        frames=iter([frame]), formats=["composite_mp4"], fps=FPS, background=background
    )
    with av.open(io.BytesIO(archive.read(VIDEO_FILES["composite_mp4"]))) as container:
        picture = next(container.decode(video=0)).to_ndarray(format="rgb48le")
    got = picture[8:24, 8:56].reshape(-1, 3).mean(axis=0) / 65535
    a = 32768 / 65535
    expected = pq_signal(a * 1000 + (1 - a) * nits)
    # Lossy YUV there and back: within 3 8-bit levels; the code values' mix is 0.31 (over
    # black) and 0.03 (over white) off.
    np.testing.assert_allclose(got, expected, atol=3 / 255)
