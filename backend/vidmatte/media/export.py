"""Export encoders and the streaming zip archive.

One pass over the frames feeds every chosen format at once, so a job's frames are read (and held)
one at a time whatever the number of formats:

- Image sequences go straight into the zip (`alpha/000123.png`, `alpha16/000123.png`,
  `rgba/000123.png`, `exr/000123.exr`, named by the frame's index in the source video; an
  anamorphic source's pixel aspect in PNG's pHYs and EXR's pixelAspectRatio). RGBA
  PNGs hold straight (un-premultiplied) colour, as PNG defines, tagged as the videos are
  where that is not BT.709 (`_tagged`). EXR is half float, R, G, B in
  linear light (the sRGB transfer function undone, as compositors' "sRGB" input does, or a
  power law the source states, `hdr.POWER_LAWS`; an HDR source's PQ or HLG undone, reference
  white 1.0; BT.2020 primaries made BT.709's)
  premultiplied by A, as OpenEXR defines and Nuke, Fusion and After Effects read it.
- Video formats are encoded with PyAV into files in a staging directory (the data dir's tmp/,
  on disk, cleaned at start-up) while the frames pass, then copied into the zip at the end and
  deleted with the directory. A stop request (the client went away) is checked every frame.

The zip is streamed (`stream_zip`), every entry stored (its data is compressed already) with its
CRC-32 and sizes in its local header, so that readers that go front to back (Java's
ZipInputStream, `curl … | bsdtar -xf -`) read it too, and plain Zip32 where it fits, as older
readers need: Zip64 only from 4 GiB or 65,535 entries on (`_needs_zip64`). The same entries
can go into a folder instead, as files (`write_archive` given a Path: the CLI's export).

Timing: each frame carries the time it shows at in the source. Videos start at the first
exported frame and keep every frame's time from there (so a variable frame rate stays variable
and a gap stays a gap), on a clock that holds the source's nominal rate exactly (30000/1001
included). The last frame shows for as long as it did in the source (ExportFrame.end: until the
source's next frame, or for its own last frame its stated duration), one frame at the nominal
rate where that is not known. The source's audio is cut to the same span: what plays with the
first exported frame comes first, whatever time the source's streams start at (MPEG-TS starts
late, edit lists cut; media/audio.py).

Timecode: a source with a start timecode gives each frame its own (start + its index, at the
nominal rate, media/timecode.py); a video file starts at its first frame's, an EXR holds its
frame's, so editors conform the matte to its source by timecode.

Objects: an archive holds one matte layer, or several (`layers`: one per object of a job, and
their union), each in its own folder (`alpha/<layer>/000123.png`) and video files
(`{stem}_<layer>_prores4444.mov`); each layer has its own colour (the foreground under its
matte).

Colour: video files are tagged with the source's primaries and transfer (ExportFrame's, BT.709
where it states none; an XYZ source's as what FFmpeg decodes it to, `_decoded`) and the YUV
matrix that goes with them (`_colour`); the matte alone (`alpha_mp4`) is tagged BT.709,
limited range, its Y and neutral chroma made here (`_matte_as_limited_yuv`) so that opaque
decodes to 255 exactly. A composite's background (sRGB) is put into the source's own colour
(`_background_signal`): an HDR source's PQ or HLG, white at reference white; over HDR soft
edges are mixed in linear light (`_composite_hdr`).

Depth: colour of more than 8 bits (ExportFrame.deep, 16-bit RGB from a 10-bit source) is kept
where a format can hold it: 16-bit RGBA PNGs (`_png16`), ProRes's 10 bits, a 10-bit HEVC
composite (`_DEEP_COMPOSITE`), EXR's half floats; VP9 with alpha has 8 bits only. 8-bit
colour is exported as it always was.

Sizes: 4:2:0 video (H.264 `yuv420p`, HEVC's) needs even dimensions, so `composite_mp4` and
`alpha_mp4` of an odd-sized video are padded by one row/column repeating the last one (nothing
of the picture is lost; crop the last row/column to get the source size back). Every other
format keeps the exact size (VP9 and ProRes take odd sizes).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import math
import queue
import re
import shutil
import stat
import struct
import tempfile
import threading
import unicodedata
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

import av
import numpy as np
import OpenEXR
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc
from PIL import Image

from . import hdr
from . import timecode as tc
from .audio import AudioSource, AudioTrack
from .matroska import drop_audio_tracks, set_display_size

if TYPE_CHECKING:
    from stream_zip import MemberFile

log = logging.getLogger(__name__)

FORMATS = (
    "alpha_png",
    "alpha_png16",
    "rgba_png",
    "exr",
    "prores4444",
    "webm_alpha",
    "composite_mp4",
    "alpha_mp4",
)
# The formats that pair the matte with colour (the others hold the matte alone).
COLOUR_FORMATS = frozenset({"rgba_png", "exr", "prores4444", "webm_alpha", "composite_mp4"})
# The formats written through files in the staging directory are videos (encoded there
# whole before they go into the zip) and EXR (OpenEXR writes files only). The room they take
# there (`staging_bytes`): bytes a pixel of a frame takes in a staged video file of busy
# footage (camera grain, a detailed matte): ProRes 4444's target rate (Apple's 330 Mb/s at
# 1080p30) plus its alpha, VP9 and H.264 at their crf, the matte alone mostly flat. Measured:
# a clean picture takes far less (ProRes ~0.14), pure noise more (ProRes ~7).
_VIDEO_BYTES_PER_PIXEL = {
    "prores4444": 0.75,
    "webm_alpha": 0.25,
    "composite_mp4": 0.25,
    "alpha_mp4": 0.125,
}
# An EXR is staged one frame at a time: half-float RGBA, 8 bytes a pixel before compression,
# which noise does not shrink.
_EXR_BYTES_PER_PIXEL = 8
# The estimate doubled: an encoder's rate swings with the picture, and a full disk midway
# cuts the download off.
_STAGING_SAFETY = 2

# Frames are tagged with the source's colour primaries and transfer (its colour is kept in
# them), BT.709's where it states none, and converted to limited-range YUV with the matrix they
# go with (BT.2020's for BT.2020 colour, else BT.709's), tagged too, so players, and PyAV when
# decoding back, turn YUV into the same RGB we started from.
_BT709 = 1  # AVCOL_PRI_BT709 / AVCOL_TRC_BT709 / AVCOL_SPC_BT709 share the value 1
_UNSTATED = 2  # AVCOL_PRI_UNSPECIFIED / AVCOL_TRC_UNSPECIFIED
_PRIMARIES = frozenset(int(p) for p in ColorPrimaries) - {_UNSTATED}
_TRANSFERS = frozenset(int(t) for t in ColorTrc) - {_UNSTATED}
# The encoders that know the colour primaries of H.273's first edition only (1 to 12, not EBU
# 3213's 22, taken as BT.709's anyway: media/hdr.py): x265 refused to open with 22 (a 10-bit
# EBU 3213 source's composite, and the whole export, failed), x264 wrote "unstated".
_H26X = frozenset({"libx264", "libx265"})
_H26X_PRIMARIES = frozenset(range(1, 13)) - {_UNSTATED, 3}
_GAMMA22 = 4  # AVCOL_TRC_GAMMA22 (H.273's BT.470M transfer)
# SDR transfers are undone by their power law where they state one (hdr.POWER_LAWS: gamma 2.2,
# linear, SMPTE ST 428-1's 2.6, white at 1.0: ST 428-1's 52.37/48 headroom is that of X'Y'Z'
# code values, which FFmpeg decodes itself, `_decoded`), else taken as sRGB's (`_linear`,
# `_background_signal`): sRGB's own (13), BT.709's and those sharing its curve (BT.601's 6,
# BT.2020's 14 and 15), an unstated one and the rarer rest, BT.470BG's gamma 2.8 (5) too: PAL
# DV and DVD video state it on what is BT.601's curve, and 2.8 made it darker.
_PNG_IHDR_END = 8 + 12 + 13  # the signature, then IHDR (always first, 13 bytes of data)
_PNG_COMPRESS_LEVEL = 3  # zlib's default 6 is several times slower on 4K frames for ~5% less size
_NAME_MAX = 255  # bytes in a file name (ext4, APFS, NTFS's 255 UTF-16 units are more)
# Characters of a user's name (a project's, an object's) in a file or folder name the tool
# writes: Windows' paths hold 259 characters unless long paths are turned on (Explorer takes
# none). Explorer extracts a download into a folder named after it, so its longest path is
# C:\Users\<name>\Downloads\ (about 40), `<project>_frames_1001-1100/` and
# `<project>_frames_1001-1100_<object>_prores4444.mov`: under 200 at 40.
NAME_PART_MAX = 40
# How far a frame's time from the first may be off on a millisecond clock (each rounded).
_MS_CLOCK_ROUNDING = Fraction(1, 1000)
# How long a streaming consumer's thread waits for a chunk at a time.
_POLL_S = 0.25
# An archive entry: its name in the zip (folders split by "/") and its bytes, or the staged
# file that holds them.
_Entry = tuple[str, bytes | Path]
_FILE_MODE = stat.S_IFREG | 0o644  # the entries' permissions where unzip sets them
_READ_SIZE = 1 << 20  # bytes of a staged file read at a time
# Zip32's fields hold sizes and offsets below 0xFFFFFFFF and counts of entries below 0xFFFF:
# the all-ones values say "in the Zip64 record" (APPNOTE 4.4.1.4), which readers then look for.
_ZIP32_LIMIT = 0xFFFFFFFF
_ZIP32_ENTRIES = 0xFFFF
# The most a local header of stream-zip's takes besides the name: 30 bytes, its extended
# timestamp's 9 and a Zip64 extra field's 20.
_LOCAL_HEADER_MAX = 30 + 9 + 20


@dataclass(frozen=True)
class ExportFrame:
    """One frame of a job's result: the source colour and its matte, both at video size."""

    index: int
    time: Fraction  # when it shows in the source, in seconds on the source's clock
    # HxWx3 straight colour, the foreground's or the frame's own: uint8, or uint16 (0..65535)
    # from a source of more than 8 bits a sample, which exports then keep (`deep`).
    rgb: np.ndarray
    alpha: np.ndarray  # HxW, uint8 (0..255) or uint16 (0..65535: 16-bit formats keep it all)
    pixel_aspect: float = 1.0  # the source's (VideoInfo.pixel_aspect): exports show it so too
    timecode: str | None = None  # its SMPTE timecode; write_archive sets it from the source's
    timecode_rate: int = 0  # the frames a second `timecode` counts (its nominal rate)
    first_number: int = 0  # the source's number for its frame 0 (VideoInfo.first_number)
    # The colour primaries and transfer `rgb` is in (H.273 codes, VideoInfo's): 2, unstated.
    primaries: int = _UNSTATED
    transfer: int = _UNSTATED
    # When it stops showing in the source, on `time`'s clock: the next frame's time, or the
    # source's last frame's own end; None where not known (it shows for one nominal frame).
    # Only the last exported frame's is used: the frames after it are not in the export.
    end: Fraction | None = None

    @property
    def number(self) -> int:
        """The frame's number in the source's own count, which per-frame files are named by:
        its index in a video, an image sequence's own number (shot.1001.png is 1001)."""
        return self.first_number + self.index

    @property
    def deep(self) -> bool:
        """Whether the colour has more than 8 bits: 16-bit PNGs and 10-bit videos hold it."""
        return self.rgb.dtype == np.uint16

    @property
    def alpha8(self) -> np.ndarray:
        """The matte in 8 bits, what 8-bit formats hold."""
        if self.alpha.dtype == np.uint8:
            return self.alpha
        return ((self.alpha.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)

    @property
    def alpha16(self) -> np.ndarray:
        """The matte in 16 bits (x257 maps 255 to 65535 exactly)."""
        return self.alpha if self.alpha.dtype == np.uint16 else self.alpha.astype(np.uint16) * 257


@dataclass(frozen=True)
class _VideoSpec:
    suffix: str
    codec: str
    pix_fmt: str
    source: str  # what the encoder gets: "rgba" (colour + alpha), "composite" or "matte"
    audio_codec: str
    options: dict[str, str] = field(default_factory=dict)
    even_size: bool = False
    tag: str | None = None  # the codec tag the container stores, where not its muxer's own


_VIDEO_SPECS: dict[str, _VideoSpec] = {
    "prores4444": _VideoSpec(
        suffix="_prores4444.mov",
        codec="prores_ks",
        pix_fmt="yuva444p10le",
        source="rgba",
        # A master's sound as cameras and NLEs keep it in MOV: PCM, lossless from a 16- or
        # 24-bit source (AAC made a lossy second generation of it).
        audio_codec="pcm_s24le",
        options={"profile": "4444", "vendor": "apl0"},
    ),
    # Constant quality (crf with b=0); "good" + cpu-used 4 is libvpx's usual speed/quality pick.
    "webm_alpha": _VideoSpec(
        suffix="_alpha.webm",
        codec="libvpx-vp9",
        pix_fmt="yuva420p",
        source="rgba",
        audio_codec="libopus",
        options={"crf": "24", "b": "0", "deadline": "good", "cpu-used": "4", "row-mt": "1"},
    ),
    "composite_mp4": _VideoSpec(
        suffix="_composite.mp4",
        codec="libx264",
        pix_fmt="yuv420p",
        source="composite",
        audio_codec="aac",
        options={"crf": "18", "preset": "medium"},
        even_size=True,
    ),
    # A lower crf than the composite's: the matte is what gets keyed with, edges matter most.
    "alpha_mp4": _VideoSpec(
        suffix="_alpha.mp4",
        codec="libx264",
        pix_fmt="yuv420p",
        source="matte",
        audio_codec="aac",
        options={"crf": "12", "preset": "medium"},
        even_size=True,
    ),
}


# The composite of colour of more than 8 bits (ExportFrame.deep): 10-bit HEVC (Main 10), what
# HDR video is delivered in and players decode in hardware (H.264's High 10 mostly not), tagged
# hvc1 as QuickTime and Safari want it.
_DEEP_COMPOSITE = _VideoSpec(
    suffix="_composite.mp4",
    codec="libx265",
    pix_fmt="yuv420p10le",
    source="composite",
    audio_codec="aac",
    options={"crf": "18", "preset": "medium", "x265-params": "log-level=error"},
    even_size=True,
    tag="hvc1",
)


def _shown(text: str, limit: int = 40) -> str:
    """A user's value as an error repeats it: a 50 kB query does not come back 50 kB long."""
    return text if len(text) <= limit else f"{text[:limit]}…"


def staging_bytes(formats: Iterable[str], frames: int, width: int, height: int, layers: int) -> int:
    """The staging room (bytes) an archive of `frames` frames of `width`x`height` in `layers`
    layers needs at its fullest, estimated: every video file is encoded whole before any goes
    into the zip (each layer its own), and one EXR frame is on disk at a time."""
    chosen, pixels = set(formats), width * height
    videos = sum(_VIDEO_BYTES_PER_PIXEL.get(name, 0) for name in chosen)
    need = videos * pixels * frames * layers
    if "exr" in chosen:
        need += _EXR_BYTES_PER_PIXEL * pixels
    return math.ceil(need * _STAGING_SAFETY)


def parse_formats(text: str) -> list[str]:
    """`"alpha_png, prores4444"` → `["alpha_png", "prores4444"]` (duplicates dropped)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError(f"no export format given; valid formats: {', '.join(FORMATS)}")
    for name in names:
        if name not in FORMATS:
            raise ValueError(
                f"unknown export format '{_shown(name)}'; valid formats: {', '.join(FORMATS)}"
            )
    return list(dict.fromkeys(names))


def parse_color(text: str) -> tuple[int, int, int]:
    """`"00ff00"` or `"#00ff00"` → `(0, 255, 0)`."""
    match = re.fullmatch(r"#?([0-9a-fA-F]{6})", text.strip())
    if match is None:
        raise ValueError(
            f"invalid colour '{_shown(text)}'; expected six hex digits like 00ff00 or #00ff00"
        )
    value = match.group(1)
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def archive_name(project_name: str, start: int, end: int, script: bool = False) -> str:
    """A download name like `my_clip_frames_0-120.zip`: in ASCII (Content-Disposition's
    `filename`, the files inside), or with `script` in the name's own letters and digits,
    whatever the script (`日本語_frames_0-9.zip`, for `filename*`); the name a `name_part`,
    the frame numbers whole."""
    if not script:
        ascii_name = unicodedata.normalize("NFKD", project_name).encode("ascii", "ignore")
        project_name = ascii_name.decode()
    return f"{name_part(project_name) or 'vidmatte'}_frames_{start}-{end}.zip"


def name_part(name: str) -> str:
    """A user's name as part of a file name the tool writes: its letters, digits, `.` and `-`
    (in its own script), every other run `_` (Windows takes no `:` or `?` in a name), cut to
    NAME_PART_MAX characters (Windows' paths, above); empty where nothing is left of it."""
    safe = re.sub(r"[^\w.-]+", "_", unicodedata.normalize("NFC", name)).strip("._-")
    return safe[:NAME_PART_MAX].rstrip("._-")


def write_archive(
    out: BinaryIO | Path,
    frames: Iterable[ExportFrame] | Iterable[Mapping[str, ExportFrame]],
    formats: Sequence[str],
    fps: float,
    audio_from: Path | None = None,
    background: tuple[int, int, int] = (0, 255, 0),
    stem: str = "matte",
    staging: Path | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    layers: Sequence[str] = (),
    timecode: str | None = None,
) -> None:
    """Write a zip of `frames` in every one of `formats` to `out` (which may be non-seekable),
    or, where `out` is a folder (a Path), the files the zip would hold into it, made as they come:
    no zip to unpack, which took twice the room.

    Entries (NNNNNN: ExportFrame.number, the source's own frame number): `alpha/NNNNNN.png`,
    `alpha16/NNNNNN.png`, `rgba/NNNNNN.png`, `exr/NNNNNN.exr`,
    `{stem}_prores4444.mov`, `{stem}_alpha.webm`,
    `{stem}_composite.mp4` (over `background`), `{stem}_alpha.mp4`. With `layers` (file-name
    safe names), each frame is a mapping layer -> ExportFrame and every layer gets its own
    entries: `alpha/<layer>/NNNNNN.png`, ..., `{stem}_<layer>_alpha.mp4`. `audio_from` is the
    source video; its first audio track, if any, goes into every video file. `fps` is the
    source's nominal rate, `staging` the directory video files are encoded in (the system's
    temporary directory if None), and `should_stop` is asked before every frame: True ends the
    export with `ExportStopped`, its files removed. `timecode` is the source's start timecode
    (VideoInfo.timecode): each frame gets its own from it and its index, video files start at
    their first frame's (so editors line them up with the source) and EXRs carry each frame's.
    """
    entries = _entries(
        frames, formats, fps, audio_from, background, stem, staging, should_stop, layers, timecode
    )
    # Closed whichever way the writing ends, so that the encoders and staged files go at once.
    with contextlib.closing(entries):
        if isinstance(out, Path):
            _write_files(out, entries)
        else:
            _write_zip(out, entries, should_stop)


def _entries(
    frames: Iterable[ExportFrame] | Iterable[Mapping[str, ExportFrame]],
    formats: Sequence[str],
    fps: float,
    audio_from: Path | None,
    background: tuple[int, int, int],
    stem: str,
    staging: Path | None,
    should_stop: Callable[[], bool],
    layers: Sequence[str],
    timecode: str | None,
) -> Iterator[_Entry]:
    """`write_archive`'s entries in the order they are made: each frame's images as it comes,
    the video files once all frames have passed. A staged file is deleted once the consumer
    asks for the next entry (or moved away by it)."""
    chosen = parse_formats(",".join(formats))
    _check_timing(fps, timecode)
    # An exact rational rate (30000/1001 for 29.97002997...) keeps timestamps from drifting;
    # the bound grows for time-lapse rates below a frame a second (1/3600 must not round to 0).
    rate = Fraction(fps).limit_denominator(max(1001, math.ceil(1001 / fps)))
    layered: Iterable[Mapping[str, ExportFrame]] = (
        frames if layers else ({"": frame} for frame in frames)  # type: ignore[misc]
    )
    if timecode is not None:
        layered = _stamped(layered, timecode, fps)
    with tempfile.TemporaryDirectory(prefix="vidmatte-export-", dir=staging) as tmp:
        # Only video files carry audio: image sequences alone neither decode it nor meet its
        # damage.
        audio = (
            AudioSource.open(audio_from)
            if audio_from is not None and any(name in _VIDEO_SPECS for name in chosen)
            else None
        )
        sinks: list[_Sink] = [
            _ImageSequence(layer, *_IMAGE_SPECS[name], Path(tmp))
            for layer in layers or [""]
            for name in chosen
            if name in _IMAGE_SPECS
        ]
        videos = [
            _VideoSink(
                layer,
                Path(tmp) / _video_file_name(stem, layer, _VIDEO_SPECS[name].suffix),
                _VIDEO_SPECS[name],
                rate,
                background,
                audio,
            )
            for layer in layers or [""]
            for name in chosen
            if name in _VIDEO_SPECS
        ]
        try:
            yield from _feed(layered, [*sinks, *videos], rate, audio, should_stop)
            for video in videos:
                if video.path.exists():  # no frames, no file
                    yield video.path.name, video.path
                    # Free the disk now, not only when the directory goes.
                    video.path.unlink(missing_ok=True)
        finally:
            for video in videos:
                video.close()
            if audio is not None:
                audio.close()


def _write_zip(out: BinaryIO, entries: Iterable[_Entry], should_stop: Callable[[], bool]) -> None:
    """The entries as a zip, each stored with its CRC-32 and sizes in its local header (known
    before it is written: a staged file's read once first), where a reader that goes front to
    back finds them. zipfile, given a stream that cannot seek, wrote 0 there and the real ones
    in a data descriptor after the data (flag bit 3), which Java's ZipInputStream refuses on a
    stored entry ("only DEFLATED entries can have EXT descriptor"). An entry is plain Zip32,
    which every reader takes (Info-ZIP unzip before 6.0, older macOS and Windows tools and
    several embedded and Java readers take no Zip64), unless it may pass Zip32's limits
    (`_needs_zip64`): a long export's entries from 4 GiB or from the 65,535th on, a video over
    4 GiB, are Zip64 (an extra field of the sizes), and so is then the end of the archive.
    `should_stop` is asked as a staged file is read."""
    # Imported here: the training kit (bench/gpu_kit.py), which imports this module, ships
    # without it.
    from stream_zip import stream_zip

    for chunk in stream_zip(_members(entries, should_stop)):
        out.write(chunk)


def _members(entries: Iterable[_Entry], should_stop: Callable[[], bool]) -> Iterator[MemberFile]:
    """stream-zip's members for the entries: each stored (`_stored`), Zip64 where it needs it
    by where it ends (`_entry_end`, counted from the entries before it)."""
    from stream_zip import NO_COMPRESSION_32, NO_COMPRESSION_64

    modified = datetime.now()
    end = 0
    for index, (name, content) in enumerate(entries):
        size, crc, chunks = _stored(content, should_stop)
        end = _entry_end(end, name, size)
        method = NO_COMPRESSION_64 if _needs_zip64(index, end) else NO_COMPRESSION_32
        yield name, modified, _FILE_MODE, method(size, crc), chunks


def _entry_end(offset: int, name: str, size: int) -> int:
    """Where an entry of `size` bytes named `name` ends in the archive at most, its local
    header at `offset` (or before): the header counted at its longest, Zip64's, so that where
    Zip32 is chosen the real offsets are never over the ones checked."""
    return offset + _LOCAL_HEADER_MAX + len(name.encode()) + size


def _needs_zip64(index: int, end: int) -> bool:
    """Whether the entry numbered `index` (from 0), ending at `end` (`_entry_end`), must be
    Zip64: where its sizes, its offset or that of what follows it (the next entry, the
    central directory) may not fit Zip32's fields, or where a Zip32 archive's count of
    entries would reach 0xFFFF. stream-zip refuses (mid-download) a Zip32 entry or end of
    archive past these, and writes the end as Zip64 once an entry is."""
    return index + 1 >= _ZIP32_ENTRIES or end >= _ZIP32_LIMIT


def _stored(
    content: bytes | Path, should_stop: Callable[[], bool]
) -> tuple[int, int, Iterable[bytes]]:
    """An entry's size, CRC-32 and bytes, read in pieces from a staged file. A stop asked
    meanwhile ends the export (`ExportStopped`): a 10 GB video read through for its CRC-32
    alone took seconds after the download had been dropped."""
    if isinstance(content, bytes):
        return len(content), zlib.crc32(content), (content,)
    crc = 0
    for piece in _read(content):
        if should_stop():
            raise ExportStopped
        crc = zlib.crc32(piece, crc)
    return content.stat().st_size, crc, _read(content)


def _read(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while piece := file.read(_READ_SIZE):
            yield piece


def _write_files(folder: Path, entries: Iterable[_Entry]) -> None:
    """The entries as files under `folder`, their folders made as needed: bytes written, a
    staged file moved (renamed where it is staged on the same disk, as the CLI stages)."""
    for name, content in entries:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.move(content, path)
        else:
            path.write_bytes(content)


def _check_timing(fps: float, timecode: str | None) -> None:
    """ValueError for a rate or start timecode an export cannot use, before anything is made."""
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if timecode is not None:
        tc.parse(timecode, fps)  # a drop-frame one at 25 fps, say


def _stamped(
    frames: Iterable[Mapping[str, ExportFrame]], start: str, fps: float
) -> Iterator[Mapping[str, ExportFrame]]:
    """The frames, each layer with its timecode: `start` (the source's frame 0) + its index
    (one for all the layers of a frame, which share it)."""
    rate = tc.nominal_rate(fps)
    for layers in frames:
        label = tc.offset(start, next(iter(layers.values())).index, fps)
        yield {
            name: replace(frame, timecode=label, timecode_rate=rate)
            for name, frame in layers.items()
        }


def _video_file_name(stem: str, layer: str, suffix: str) -> str:
    """`{stem}_{layer}{suffix}`, the stem shortened (whole characters) so the name fits the
    255 bytes a file name may take (a 200-character project name and a 100-character object
    name were 330); the layer and suffix, which tell the files apart, are kept whole."""
    tail = f"_{layer}{suffix}" if layer else suffix
    room = _NAME_MAX - len(tail.encode())
    return stem.encode()[:room].decode(errors="ignore") + tail


def iter_archive(
    frames_factory: Callable[[], Iterable[ExportFrame] | Iterable[Mapping[str, ExportFrame]]],
    formats: Sequence[str],
    fps: float,
    audio_from: Path | None = None,
    background: tuple[int, int, int] = (0, 255, 0),
    chunk_size: int = 1 << 20,
    stem: str = "matte",
    max_chunks: int = 4,
    staging: Path | None = None,
    layers: Sequence[str] = (),
    timecode: str | None = None,
) -> AsyncIterator[bytes]:
    """The archive as an async stream of byte chunks, for a streaming HTTP response.

    `write_archive` runs in a background thread (it calls `frames_factory` there) once the first
    chunk is asked for, and hands chunks of about `chunk_size` bytes over a queue of at most
    `max_chunks`, so memory stays bounded whatever the archive's size. A writer error is raised
    here, in the consumer. A consumer that is closed or cancelled (the client went away) stops
    the writer at its next frame, also while a video file is being encoded and no chunk comes.
    Bad `formats`, `fps` or `timecode` raise ValueError right away, before any response is
    started.
    """
    parse_formats(",".join(formats))
    _check_timing(fps, timecode)

    def write(sink: BinaryIO, should_stop: Callable[[], bool]) -> None:
        frames = frames_factory()
        write_archive(
            sink,
            frames,
            formats,
            fps,
            audio_from,
            background,
            stem,
            staging,
            should_stop,
            layers,
            timecode,
        )

    return _stream_from_thread(write, chunk_size, max_chunks)


async def _stream_from_thread(
    write: Callable[[BinaryIO, Callable[[], bool]], None], chunk_size: int, max_chunks: int
) -> AsyncIterator[bytes]:
    # Async, not a sync generator run in a thread pool: a cancelled request then reaches the
    # `finally` below at once, where a sync generator would wait for the garbage collector.
    handoff: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=max_chunks)
    stop = threading.Event()
    sink = _QueueWriter(handoff, stop, chunk_size)

    def run() -> None:
        try:
            write(sink, stop.is_set)  # type: ignore[arg-type]  # write-only is all the zip needs
            sink.flush_chunk()
            sink.put(None)
        except ExportStopped:
            pass
        except BaseException as error:  # handed to the consumer, which re-raises it
            with contextlib.suppress(ExportStopped):  # unless nobody is left to tell
                sink.put(error)

    thread = threading.Thread(target=run, name="vidmatte-archive", daemon=True)
    thread.start()
    try:
        while True:
            try:  # in a thread; briefly, so that no thread waits long for a consumer gone
                item = await asyncio.to_thread(handoff.get, True, _POLL_S)
            except queue.Empty:
                continue
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # the writer ends at its next frame or write, on its own


class ExportStopped(Exception):
    """The export was asked to stop (its consumer has gone away)."""


class _QueueWriter:
    """A write-only, non-seekable file that hands its bytes to a bounded queue in chunks."""

    def __init__(self, handoff: queue.Queue, stop: threading.Event, chunk_size: int) -> None:
        self._handoff = handoff
        self._stop = stop
        self._chunk_size = chunk_size
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= self._chunk_size:
            self.flush_chunk()
        return len(data)

    def flush_chunk(self) -> None:
        if self._buffer:
            self.put(bytes(self._buffer))
            self._buffer.clear()

    def put(self, item: bytes | BaseException | None) -> None:
        # Poll so that a consumer that stopped reading cannot leave this thread blocked forever.
        while True:
            if self._stop.is_set():
                raise ExportStopped
            try:
                self._handoff.put(item, timeout=0.1)
                return
            except queue.Full:
                continue


class _Sink(Protocol):
    layer: str  # which layer of each frame it takes

    def add(
        self, frame: ExportFrame, at: Fraction, until: Fraction, audio: av.AudioFrame | None
    ) -> Iterable[_Entry]:
        """`frame` shows `at` seconds after the first, until `until` should it be the last;
        `audio` is what plays up to then. The archive entries made of it, if any."""

    def finish(self, audio: av.AudioFrame | None) -> None:
        """No more frames; `audio` is what plays during the last one."""


def _feed(
    frames: Iterable[Mapping[str, ExportFrame]],
    sinks: Sequence[_Sink],
    rate: Fraction,
    audio: AudioSource | None,
    should_stop: Callable[[], bool],
) -> Iterator[_Entry]:
    """Give each frame's layers to their sinks, with the slice of audio that plays before it;
    the entries they make come out as they are made."""
    first: ExportFrame | None = None
    previous: ExportFrame | None = None
    shown: tuple[Fraction, Fraction] | None = None  # the previous frame's (raw, shown) time
    end: Fraction | None = None  # when the previous frame stops showing, were it the last
    for given in frames:
        if should_stop():
            raise ExportStopped
        layers = {name: _decoded(layer) for name, layer in given.items()}
        frame = next(iter(layers.values()))
        if first is None:
            first = frame
            if audio is not None:
                audio.start(first.time)
        _check_frame(frame, first, previous)
        for layer in layers.values():
            if (layer.index, layer.time) != (frame.index, frame.time):
                raise ValueError(f"frame {frame.index}: its layers must share index and time")
            _check_frame(layer, first, None)
        raw = frame.time - first.time
        at = _shown_at(raw, rate, shown)
        until = _shown_end(frame, first, rate, (raw, at))
        chunk = audio.read_until(at) if audio is not None else None
        for sink in sinks:
            yield from sink.add(layers[sink.layer], at, until, chunk)
        previous, shown, end = frame, (raw, at), until
    tail = None
    if audio is not None and end is not None:
        tail = audio.read_until(end)
    for sink in sinks:
        sink.finish(tail)


def _shown_end(
    frame: ExportFrame, first: ExportFrame, rate: Fraction, shown: tuple[Fraction, Fraction]
) -> Fraction:
    """When `frame` (shown as `shown`, its (raw, shown) time) stops showing if it is the last,
    in seconds after the `first`: where its source's next frame would show (`_shown_at`, so a
    constant rate's last frame lasts exactly one nominal frame), or one nominal frame after it
    where its end is not known. A variable-rate source's long last frame lasted one average
    frame."""
    if frame.end is None:
        return shown[1] + 1 / rate
    return _shown_at(frame.end - first.time, rate, shown)


def _decoded(frame: ExportFrame) -> ExportFrame:
    """`frame` with the colour its pixels are in: an XYZ source's (SMPTE ST 428-1, a DCP's)
    are BT.709 RGB at a gamma of 2.2, as swscale decodes FFmpeg's xyz12 whatever the tags,
    which videos were tagged with (XYZ primaries, which players take as CIE XYZ)."""
    if frame.primaries != hdr.XYZ:
        return frame
    return replace(frame, primaries=_BT709, transfer=_GAMMA22)


def _shown_at(
    raw: Fraction, rate: Fraction, previous: tuple[Fraction, Fraction] | None
) -> Fraction:
    """When a frame `raw` seconds after the first shows in the export; `previous` is the
    frame before's (raw, shown). Matroska, WebM and FLV count whole milliseconds, so a 29.97
    fps source's frames lie 33 or 34 ms apart there: kept as they were, a constant-rate source
    came out at a variable rate. A frame within that rounding of the nominal rate's frame time
    shows at it; one further off (a variable rate's) keeps its gap to the frame before, so
    times only ever increase and stay within the rounding of the source's."""
    nearest = round(raw * rate) / rate
    rounding = min(_MS_CLOCK_ROUNDING, 1 / (4 * rate))  # well under half a frame at any rate
    if abs(raw - nearest) <= rounding and (previous is None or nearest > previous[1]):
        return nearest
    return raw if previous is None else previous[1] + raw - previous[0]


def _check_frame(frame: ExportFrame, first: ExportFrame, previous: ExportFrame | None) -> None:
    height, width = first.alpha.shape
    depths = (np.uint8, np.uint16)
    if frame.rgb.dtype not in depths or frame.alpha.dtype not in depths:
        raise ValueError(f"frame {frame.index}: rgb and alpha must be uint8 or uint16")
    if frame.rgb.dtype != first.rgb.dtype:
        raise ValueError(
            f"frame {frame.index}: rgb is {frame.rgb.dtype} but the first frame's is "
            f"{first.rgb.dtype}"
        )
    if frame.rgb.shape != (height, width, 3) or frame.alpha.shape != (height, width):
        raise ValueError(
            f"frame {frame.index}: rgb {frame.rgb.shape} and alpha {frame.alpha.shape} must be "
            f"({height}, {width}, 3) and ({height}, {width}) like the first frame"
        )
    if frame.end is not None and frame.end <= frame.time:
        raise ValueError(
            f"frame {frame.index}: it must stop showing after it shows, got {frame.end} s "
            f"for its end and {frame.time} s for its time"
        )
    if previous is not None and (frame.index <= previous.index or frame.time <= previous.time):
        raise ValueError(
            f"frame indices and times must increase, got frame {frame.index} at {frame.time} s "
            f"after frame {previous.index} at {previous.time} s"
        )


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=_PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def _alpha_png(frame: ExportFrame, staging: Path) -> bytes:
    return _shaped(_png(frame.alpha8), frame)


def _alpha_png16(frame: ExportFrame, staging: Path) -> bytes:
    """16-bit grey PNG."""
    return _shaped(_png(frame.alpha16), frame)


def _rgba_png(frame: ExportFrame, staging: Path) -> bytes:
    """8-bit RGBA, or 16-bit (colour and matte) where the colour is `deep`."""
    if frame.deep:
        return _shaped(_tagged(_png16(np.dstack([frame.rgb, frame.alpha16])), frame), frame)
    return _shaped(_tagged(_png(np.dstack([frame.rgb, frame.alpha8])), frame), frame)


def _png16(rgba: np.ndarray) -> bytes:
    """A 16-bit RGBA PNG (uint16 HxWx4), which Pillow cannot write: FFmpeg's encoder writes it."""
    height, width = rgba.shape[:2]
    encoder = av.CodecContext.create("png", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "rgba64be"
    encoder.options = {"compression_level": str(_PNG_COMPRESS_LEVEL)}
    picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgba), format="rgba64le")
    packets = encoder.encode(picture.reformat(format="rgba64be")) + encoder.encode(None)
    return b"".join(bytes(packet) for packet in packets)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _shaped(png: bytes, frame: ExportFrame) -> bytes:
    """The PNG with the source's pixel aspect, as the EXRs and videos have it: a pHYs chunk
    (no unit) right after IHDR where the pixels are not square, its pixels per unit across and
    down in the inverse ratio (27 and 32 for pixels 32:27 wide), and no other pHYs: FFmpeg's
    (16-bit PNGs) said 0 pixels per unit across, an aspect of 0."""
    kept = _without_chunk(png, b"pHYs")
    if frame.pixel_aspect == 1:
        return kept
    ratio = Fraction(frame.pixel_aspect).limit_denominator(10_000)
    chunk = _png_chunk(b"pHYs", struct.pack(">IIB", ratio.denominator, ratio.numerator, 0))
    return kept[:_PNG_IHDR_END] + chunk + kept[_PNG_IHDR_END:]


def _without_chunk(png: bytes, kind: bytes) -> bytes:
    """The PNG without its chunk of `kind`, one of those that come before the pixels (IDAT):
    only the chunks before those are read, and the PNG is copied only where it has one."""
    at = 8
    while at < len(png) and png[at + 4 : at + 8] != b"IDAT":
        (length,) = struct.unpack(">I", png[at : at + 4])
        end = at + 12 + length
        if png[at + 4 : at + 8] == kind:
            return png[:at] + png[end:]
        at = end
    return png


def _tagged(png: bytes, frame: ExportFrame) -> bytes:
    """The PNG with the colour its videos are tagged with (`_colour`) in a cICP chunk (PNG's
    third edition: H.273's codes, RGB, full range) right after IHDR, where it is not BT.709's,
    what a PNG is taken as anyway: an HDR source's PQ or HLG code values showed as sRGB, dark
    and flat."""
    primaries, transfer, _ = _colour(frame)
    if (primaries, transfer) == (_BT709, _BT709):
        return png
    chunk = _png_chunk(b"cICP", bytes([primaries, transfer, 0, 1]))
    return png[:_PNG_IHDR_END] + chunk + png[_PNG_IHDR_END:]


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB-encoded colour, uint8 or uint16, to linear light in [0, 1] (IEC 61966-2-1),
    float32."""
    return hdr.srgb_decode(rgb.astype(np.float32) / np.iinfo(rgb.dtype).max).astype(np.float32)


def linear_to_srgb(light: np.ndarray) -> np.ndarray:
    """`srgb_to_linear`'s inverse, without the 8 bits: linear 0..1 to sRGB's 0..1."""
    return hdr.srgb_encode(np.clip(light, 0.0, 1.0))


def _linear(frame: ExportFrame) -> np.ndarray:
    """The frame's colour as linear light in BT.709 primaries (an EXR's without
    chromaticities), undoing its source's own transfer: PQ's or HLG's (media/hdr.py,
    reference white 1.0, highlights above it), a power law's (`hdr.POWER_LAWS`: a DCI-P3 master's
    gamma 2.6 was taken as sRGB's, its mid-tones 30% too light), else the sRGB function;
    BT.2020's and P3-D65's primaries converted (a colour outside BT.709's has a channel below
    0). BT.709 video's is taken as sRGB's, as compositors' "sRGB" input takes it: not
    BT.1886's display gamma 2.4 (code 0.5 would be 0.19, not 0.21) nor the BT.709 OETF's
    inverse, the camera's light (0.26), which a colour-managed user picks by reading the EXR
    back with sRGB's curve; kept so, exports of BT.709 footage are what they always were."""
    if hdr.is_hdr(frame.transfer):
        return hdr.linear_light(frame.rgb, frame.transfer, frame.primaries)
    gamma = hdr.POWER_LAWS.get(frame.transfer)
    if gamma is None:
        light = srgb_to_linear(frame.rgb)
    else:
        light = hdr.power_light(gamma, np.iinfo(frame.rgb.dtype).max + 1)[frame.rgb]
    return hdr.in_bt709(light, frame.primaries)


def _exr(frame: ExportFrame, staging: Path) -> bytes:
    """Half-float R, G, B (linear light, `_linear`, premultiplied: OpenEXR's convention) and A,
    ZIP-compressed scanlines. OpenEXR writes files only: through a file in the staging
    directory."""
    alpha = frame.alpha16.astype(np.float32) / 65535
    channels = {
        "RGB": (_linear(frame) * alpha[..., None]).astype(np.float16),
        "A": alpha.astype(np.float16),
    }
    header = {
        "compression": OpenEXR.ZIP_COMPRESSION,
        "type": OpenEXR.scanlineimage,
        "pixelAspectRatio": float(frame.pixel_aspect),
    }
    if frame.timecode is not None and frame.timecode_rate <= 60:  # above, ST 12-1 has no form
        header["timeCode"] = _exr_timecode(frame.timecode, frame.timecode_rate)
    path = staging / f"{frame.index:06d}.exr"
    try:
        with OpenEXR.File(header, channels) as image:
            image.write(str(path))
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def _exr_timecode(label: str, rate: int) -> OpenEXR.TimeCode:
    """A timecode as EXR's standard `timeCode` attribute (which Nuke and Resolve read). Its
    frame field counts to 29 (SMPTE ST 12-1): above 30 fps it holds the frame pair, the field
    phase flag marking a pair's second frame."""
    hours, minutes, seconds, frames = (int(part) for part in re.split("[:;]", label))
    pairs = rate > 30
    code = OpenEXR.TimeCode()
    code.hours, code.minutes, code.seconds = hours, minutes, seconds
    code.frame = frames // 2 if pairs else frames
    code.fieldPhase = pairs and frames % 2 == 1
    code.dropFrame = ";" in label
    return code


# Image sequences: format -> (folder in the zip, file suffix, encoder).
_IMAGE_SPECS: dict[str, tuple[str, str, Callable[[ExportFrame, Path], bytes]]] = {
    "alpha_png": ("alpha", ".png", _alpha_png),
    "alpha_png16": ("alpha16", ".png", _alpha_png16),
    "rgba_png": ("rgba", ".png", _rgba_png),
    "exr": ("exr", ".exr", _exr),
}


@dataclass
class _ImageSequence:
    layer: str
    folder: str
    suffix: str
    encode: Callable[[ExportFrame, Path], bytes]
    staging: Path

    def add(
        self, frame: ExportFrame, at: Fraction, until: Fraction, audio: av.AudioFrame | None
    ) -> Iterable[_Entry]:
        folder = f"{self.folder}/{self.layer}" if self.layer else self.folder
        return [(f"{folder}/{frame.number:06d}{self.suffix}", self.encode(frame, self.staging))]

    def finish(self, audio: av.AudioFrame | None) -> None:
        """Every frame has gone out already."""


class _VideoSink:
    """One video file, opened on the first frame (its size is known only then)."""

    def __init__(
        self,
        layer: str,
        path: Path,
        spec: _VideoSpec,
        rate: Fraction,
        background: tuple[int, int, int],
        audio: AudioSource | None,
    ) -> None:
        self.layer = layer
        self.path = path
        self._spec = spec
        self._rate = rate
        self._time_base = _clock(rate)
        self._srgb_background = background
        # The background in the source's own signal, once its first frame says which (`add`).
        self._background = np.asarray(background, dtype=np.uint32)
        self._audio_source = audio
        self._container: av.container.OutputContainer | None = None
        self._video: av.VideoStream | None = None
        self._audio: AudioTrack | None = None
        # Video packets are muxed one behind, so the last can be set right (`_end_track`).
        self._held: av.Packet | None = None
        self._first_dts = 0
        self._muxed = False  # whether a video packet has gone into the file
        self._end = 0  # when the last frame stops showing, in ticks from the first
        self._last_pts = 0  # when the last frame shows, in ticks from the first
        self._colour = (_BT709, _BT709, _BT709)  # primaries, transfer, matrix (`_colour`)
        # (width, height) a WebM shows at, where its pixels are not square (`_open`).
        self._display_size: tuple[int, int] | None = None

    def add(
        self, frame: ExportFrame, at: Fraction, until: Fraction, audio: av.AudioFrame | None
    ) -> Iterable[_Entry]:
        """Encode the frame: the file is an entry once finished (`_entries`), none before."""
        if self._container is None:
            # A matte's levels are coverage, not light: tagged BT.709 whatever the source's
            # colour, so a colour-managed editor takes them as they are (HLG's curve would bend
            # them).
            colour = (_BT709,) * 3 if self._spec.source == "matte" else _colour(frame)
            self._background = _background_signal(self._srgb_background, frame)
            if self._spec.source == "composite" and frame.deep:
                self._spec = _DEEP_COMPOSITE
            if self._spec.codec in _H26X and colour[0] not in _H26X_PRIMARIES:
                colour = (_BT709, *colour[1:])
            self._open(*frame.alpha.shape, frame.pixel_aspect, frame.timecode, colour)
        assert self._container is not None and self._video is not None
        primaries, transfer, matrix = self._colour
        pixels, fmt = self._pixels(frame)
        if fmt == "gray":
            picture = _matte_as_limited_yuv(pixels)
        else:
            if fmt in _DEEP_RGB:
                pixels = _levelled(pixels, fmt, self._spec.pix_fmt, matrix)
            picture = av.VideoFrame.from_ndarray(pixels, fmt)
            # Tagged before the conversion, which keeps the tags: asked for other ones than
            # the picture's, swscale converts the colour to them (HLG's Y came out hundreds of
            # levels off), where the colour is in them already.
            picture.color_primaries, picture.color_trc = primaries, transfer
            picture = picture.reformat(
                format=self._spec.pix_fmt,
                src_color_range=ColorRange.JPEG,  # our RGB uses 0..255 (0..65535)
                dst_colorspace=matrix,
                dst_color_range=ColorRange.MPEG,
            )
        if self._spec.source == "rgba":
            _put_alpha(picture, frame)
        picture.pts = round(at / self._time_base)
        picture.time_base = self._time_base
        # Set before it is encoded: its packet may come out of the encoder at once.
        self._last_pts = picture.pts
        self._end = max(round(until / self._time_base), picture.pts + 1)
        if self._audio is not None and audio is not None:
            self._audio.add(audio)
        self._mux_video(self._video.encode(picture))
        return ()

    def finish(self, audio: av.AudioFrame | None) -> None:
        """Flush the encoders and write the trailer (no-op when no frame came)."""
        if self._container is None or self._video is None:
            return
        if self._audio is not None:
            if audio is not None:
                self._audio.add(audio)
            self._audio.flush()
        self._mux_video(self._video.encode(None))
        if self._held is not None:
            if not self._muxed:
                # A lone frame decodes when it shows: libx265 leaves its decode time unset
                # (any number, 2^62 below or far above it; the muxer refused the file).
                self._held.dts = self._first_dts = self._held.pts
            self._end_track(self._held)
            self._container.mux(self._held)
        self.close()
        # Where no sound fell within the frames (it starts after the last one): MP4 and MOV
        # leave the empty track out, Matroska keeps it, a track that never plays.
        empty_audio = self._audio is not None and self._audio.empty
        if empty_audio and self._spec.suffix.endswith(".webm") and not drop_audio_tracks(self.path):
            log.warning("%s: could not drop its empty audio track", self.path)
        if self._display_size is not None and not set_display_size(self.path, *self._display_size):
            log.warning("%s: could not set its display size; it shows square pixels", self.path)

    def _mux_video(self, packets: list[av.Packet]) -> None:
        assert self._container is not None
        for packet in packets:
            if packet.pts == self._last_pts:
                # The edit list (what players show) ends where the latest frame's packet
                # does: the encoder's duration is one nominal frame, the last's own may be
                # longer (a variable rate's).
                packet.duration = self._end - packet.pts
            if self._held is None:
                self._first_dts = packet.dts
            else:
                self._container.mux(self._held)
                self._muxed = True
            self._held = packet

    def _end_track(self, last: av.Packet) -> None:
        """End the decode times, which MP4 takes a track's length from, where the last frame
        stops showing. An encoder that reorders frames (H.264's B-frames) stamps each packet
        with an earlier frame's time, so where the frame rate varies they ended short (0.95 s
        of a 1 s source). The last packet in decode order takes up the difference: by its
        duration, which must not take it past the last frame's end (the edit list, what
        players show, ends where the latest packet does), and else by decoding later (never
        after it shows). Decode times that end late already stay so: players go by the edit
        list then."""
        stop = self._end + self._first_dts  # the first frame shows at 0
        room = self._end - last.pts
        shows_last = last.pts == self._last_pts  # its duration sets the edit list's end
        last.duration = room if shows_last else min(room, max(stop - last.dts, 1))
        last.dts = max(last.dts, stop - last.duration)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def _open(
        self,
        height: int,
        width: int,
        pixel_aspect: float,
        timecode: str | None,
        colour: tuple[int, int, int],
    ) -> None:
        spec = self._spec
        container = av.open(str(self.path), "w")
        video = container.add_stream(spec.codec, rate=self._rate)
        if timecode is not None:
            # The first frame's: the MOV and MP4 muxers write it as a tmcd track, which
            # NLEs conform by; Matroska keeps it as a TIMECODE tag.
            video.metadata["timecode"] = timecode
        video.width, video.height = _even(width, spec), _even(height, spec)
        video.pix_fmt = spec.pix_fmt
        if spec.tag is not None:
            video.codec_tag = spec.tag
        video.time_base = video.codec_context.time_base = self._time_base
        video.options = dict(spec.options)
        self._colour = colour
        primaries, transfer, matrix = colour
        video.codec_context.color_primaries = primaries
        video.codec_context.color_trc = transfer
        video.codec_context.colorspace = matrix
        video.codec_context.color_range = ColorRange.MPEG
        if pixel_aspect != 1:
            # MP4 and MOV keep it; Matroska's muxer reads the stream's, which PyAV cannot set,
            # so a WebM gets its display size once written (as FFmpeg sets it: the height
            # kept, the width stretched).
            video.codec_context.sample_aspect_ratio = Fraction(pixel_aspect).limit_denominator(
                10_000
            )
            if container.format.name == "webm":
                self._display_size = (round(width * pixel_aspect), height)
        if self._audio_source is not None and self._audio_source.plays():
            self._audio = AudioTrack(container, spec.audio_codec, self._audio_source)
        self._container, self._video = container, video

    def _pixels(self, frame: ExportFrame) -> tuple[np.ndarray, str]:
        # Colour of more than 8 bits goes in as 16-bit RGB: ProRes keeps 10 bits of it, the
        # composite's HEVC 10 (`_DEEP_COMPOSITE`), VP9 with alpha has 8 only.
        if self._spec.source == "rgba" and frame.deep:
            pixels, fmt = np.dstack([frame.rgb, frame.alpha16]), "rgba64le"
        elif self._spec.source == "rgba":
            pixels, fmt = np.dstack([frame.rgb, frame.alpha8]), "rgba"
        elif self._spec.source == "composite":
            pixels = _composite_frame(frame, self._background, self._srgb_background)
            fmt = "rgb48le" if frame.deep else "rgb24"
        else:
            pixels, fmt = frame.alpha8, "gray"
        if self._spec.even_size:
            pixels = pad_even(pixels)
        return np.ascontiguousarray(pixels), fmt


# 16-bit RGB that swscale turns into YUV a little too bright (`_levelled`).
_DEEP_RGB = frozenset({"rgb48le", "rgba64le"})


def _levelled(pixels: np.ndarray, fmt: str, pix_fmt: str, matrix: int) -> np.ndarray:
    """16-bit RGB(A) `pixels` scaled so that swscale's limited-range YUV of them has white
    at white: it takes 16-bit RGB's white for 65280 (x256 of 8-bit's), so 65535 came out
    as 10-bit Y 943 (and 8-bit 236), over legal white (940, 235); alpha is left as it is."""
    lut = _deep_levels(fmt, pix_fmt, matrix)
    if pixels.shape[-1] == 3:
        return lut[pixels]
    return np.dstack([lut[pixels[..., :3]], pixels[..., 3]])


@functools.cache
def _deep_levels(fmt: str, pix_fmt: str, matrix: int) -> np.ndarray:
    """`_levelled`'s lookup table (uint16 to uint16): each value scaled by limited-range Y's
    219 steps (x4 at 10 bits) over the steps swscale gives 0..65535, measured on every grey
    from 0 to 65535 (a least-squares line through its Y codes, finer than their rounding)."""
    ramp = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    grey = np.dstack([ramp] * 3 + ([np.full_like(ramp, 65535)] if fmt == "rgba64le" else []))
    yuv = av.VideoFrame.from_ndarray(grey, fmt).reformat(
        format=pix_fmt,
        src_color_range=ColorRange.JPEG,
        dst_colorspace=matrix,
        dst_color_range=ColorRange.MPEG,
    )
    bits = yuv.format.components[0].bits
    plane = yuv.planes[0]
    dtype = "<u2" if bits > 8 else "u1"
    rows = np.frombuffer(bytes(plane), dtype).reshape(plane.height, -1)[:, : plane.width]
    slope = np.polyfit(ramp.ravel(), rows.ravel().astype(np.float64), 1)[0]
    gain = (219 << (bits - 8)) / 65535 / slope
    return np.minimum(np.round(np.arange(65536) * gain), 65535).astype(np.uint16)


def _colour(frame: ExportFrame) -> tuple[int, int, int]:
    """The (primaries, transfer, matrix) a video of `frame` is tagged with: its source's
    primaries and transfer, BT.709's where it states none (or one no encoder knows), and the
    YUV matrix that goes with them: BT.2020's (non-constant luminance) for BT.2020 colour, as
    players expect, else BT.709's."""
    primaries = frame.primaries if frame.primaries in _PRIMARIES else _BT709
    transfer = frame.transfer if frame.transfer in _TRANSFERS else _BT709
    matrix = Colorspace.BT2020 if primaries == ColorPrimaries.BT2020 else Colorspace.ITU709
    return primaries, transfer, int(matrix)


def _background_signal(colour: tuple[int, int, int], frame: ExportFrame) -> np.ndarray:
    """A composite's background (sRGB, BT.709 primaries) as `frame`'s code values (uint32,
    0..255, or 0..65535 for `deep` colour):
    in an HDR source's PQ or HLG at the light it is in SDR, white at HDR's reference white
    (taken as it is, 00ff00 was PQ's 10,000 cd/m² green), in BT.2020's or P3-D65's primaries
    where the source's are (taken as they are, a BT.709 colour came out more saturated); in a
    power law's where an SDR source states one (`hdr.POWER_LAWS`: sRGB grey 128 was gamma 2.6's
    128, 23% darker), else an SDR source's curve is taken as sRGB's, as `_linear` takes it."""
    top = np.iinfo(frame.rgb.dtype).max
    gamma = hdr.POWER_LAWS.get(frame.transfer)
    if not hdr.is_hdr(frame.transfer) and not hdr.converts(frame.primaries) and gamma is None:
        return np.asarray(colour, dtype=np.uint32) * (top // 255)  # x257: 255 to 65535
    light = srgb_to_linear(np.asarray(colour, np.uint8)).astype(np.float64)
    if hdr.is_hdr(frame.transfer):
        code = hdr.signal(light, frame.transfer, frame.primaries)
    elif gamma is not None:
        code = np.clip(hdr.from_bt709(light, frame.primaries), 0.0, 1.0) ** (1 / gamma)
    else:
        code = linear_to_srgb(hdr.from_bt709(light, frame.primaries))
    return np.round(np.clip(code, 0.0, 1.0) * top).astype(np.uint32)


def _clock(rate: Fraction) -> Fraction:
    """A time base on which the nominal frame duration is a whole number of ticks, at least
    as fine as 90 kHz (MPEG's) so any source's timestamps keep within 6 microseconds: the
    smallest multiple of the rate's numerator from 90,000 up (90 kHz itself for 25, 30 or
    30000/1001 fps), so under 180,000 ticks a second unless the numerator itself is more.
    An average rate such as 29983/1000 (a phone's variable-rate video) made the lcm of the
    two, used before, overflow the encoders' 32-bit clocks."""
    ticks = rate.numerator * math.ceil(90_000 / rate.numerator)
    return Fraction(1, ticks)


def _put_alpha(picture: av.VideoFrame, frame: ExportFrame) -> None:
    """Write the frame's matte into the YUVA picture's alpha plane ourselves, at the plane's
    depth (10 bits for ProRes, from the 16-bit matte where there is one). swscale's RGBA to
    10-bit YUVA turns runs of 8 alpha pixels wrong (255 to 128) at widths that are not a
    multiple of 16, 1080 among them; alpha needs no conversion, only scaling."""
    plane = picture.planes[3]
    bits = picture.format.components[3].bits
    if bits > 8:
        levels = (1 << bits) - 1
        alpha = (frame.alpha16.astype(np.uint32) * levels + 32767) // 65535
        values = alpha.astype("<u2")  # the plane is little-endian (yuva444p10le)
    else:
        values = frame.alpha8
    rows = np.zeros((plane.height, plane.line_size // values.itemsize), values.dtype)
    rows[:, : plane.width] = values
    plane.update(rows.tobytes())


def _matte_as_limited_yuv(matte: np.ndarray) -> av.VideoFrame:
    """A matte (uint8, even size) as limited-range yuv420p, made here: Y 16..235 rounded,
    the chroma exactly neutral (128). swscale's grey to YUV set V to 127 beside 128 where the
    matte is 255, so opaque decoded back as 254 (253 in red)."""
    height, width = matte.shape
    picture = av.VideoFrame(width, height, "yuv420p")
    luma = ((matte.astype(np.uint32) * 219 + 127) // 255 + 16).astype(np.uint8)
    for index, plane in enumerate(picture.planes):
        rows = np.full((plane.height, plane.line_size), 128, np.uint8)  # U and V: neutral
        if index == 0:
            rows[:, :width] = luma
        plane.update(rows.tobytes())
    picture.color_range = ColorRange.MPEG
    return picture


def _even(size: int, spec: _VideoSpec) -> int:
    return size + size % 2 if spec.even_size else size


def pad_even(pixels: np.ndarray) -> np.ndarray:
    """Repeat the last row/column where the size is odd, as 4:2:0 video needs (see the module
    docstring)."""
    pad = [(0, pixels.shape[0] % 2), (0, pixels.shape[1] % 2)] + [(0, 0)] * (pixels.ndim - 2)
    return np.pad(pixels, pad, mode="edge") if any(p[1] for p in pad) else pixels


def _composite_frame(
    frame: ExportFrame, background: np.ndarray, srgb_background: tuple[int, int, int]
) -> np.ndarray:
    """The frame's colour over the background (`background` its code values, `_background_
    signal` of `srgb_background`), in the colour's type: over an HDR source mixed in linear
    light (`_composite_hdr`), else in the signal, as SDR compositing does."""
    if hdr.is_hdr(frame.transfer):
        return _composite_hdr(frame, background, srgb_background)
    if frame.deep:
        return _composite(frame.rgb, frame.alpha16, background)
    return _composite(frame.rgb, frame.alpha8, background)


def _composite(rgb: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Straight colour over a flat background: rgb·a + bg·(1-a), rounded, in integers: uint8
    colour and matte, or uint16 both."""
    top = np.iinfo(rgb.dtype).max
    wide = np.uint32 if top == 255 else np.uint64  # 65535² overflows 32 bits
    a = alpha.astype(wide)[..., None]
    mixed = rgb.astype(wide) * a + background.astype(wide) * (top - a) + top // 2
    return (mixed // top).astype(rgb.dtype)


def _composite_hdr(
    frame: ExportFrame, background: np.ndarray, srgb_background: tuple[int, int, int]
) -> np.ndarray:
    """An HDR frame over the background, mixed where the matte is soft in the light the
    foreground is estimated in (`hdr.light_fraction`: PQ's display light, HLG's scene light)
    and encoded back into its PQ or HLG: PQ's and HLG's code values are far from proportional
    to light, and mixed as they are half of 1000 cd/m² white over black came out at 25 cd/m²,
    not 500 (edges too dark, dark halos). HLG's is the scene's light, before its OOTF, as a
    camera sums it: the OOTF's gamma comes after any sum, and F (matte/foreground.py) is
    solved so that alpha·F + (1-alpha)·B is the frame in that light. Opaque pixels keep their
    code values, clear ones the background's."""
    alpha = frame.alpha16
    out = np.where((alpha == 65535)[..., None], frame.rgb, background.astype(frame.rgb.dtype))
    soft = (alpha > 0) & (alpha < 65535)
    if soft.any():  # the edges only: float64 light of a whole 4K frame would take 600 MB
        a = (alpha[soft].astype(np.float32) / 65535)[:, None]
        # Mixed in the source's own primaries, as the foreground: a linear mix is the same in
        # any, and converting each soft pixel to BT.709's and back took two thirds of the time.
        fg = hdr.light_fraction(frame.rgb[soft], frame.transfer)
        light = srgb_to_linear(np.asarray(srgb_background, np.uint8))
        bg = hdr.scene_fraction(light, frame.transfer, frame.primaries)
        mixed = fg * a + bg * (1 - a)
        out[soft] = hdr.fraction_signal(mixed, frame.transfer, frame.rgb.dtype)
    return out
