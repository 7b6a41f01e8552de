"""Video probing and frame decoding with PyAV.

Frames are addressed by a 0-based index in presentation order. At ingest we demux the whole file
once (no decoding, fast) to get every frame's presentation timestamp; the index is stored beside
the video so random access later is an exact seek to a known pts, also for variable frame rates.
Frames come back at the original resolution, rotated as they are meant to be displayed.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path
from threading import RLock

import av
import numpy as np
from av.sidedata.sidedata import Type as SideData
from av.video.reformatter import ColorRange, Colorspace

from vidmatte.config import Settings
from vidmatte.media import cut_short, hdr, matroska, timecode

# Packets a decoder may take before its first frame after a seek to a keyframe: frame threads
# (up to 16) plus B-frame reordering (up to 16), doubled.
_SEEK_PATIENCE = 64

# The stream tag an image sequence's video keeps its first image's number in.
FIRST_NUMBER_TAG = "vidmatte_first_number"
# The stream tag that says a sequence's images had an alpha channel that is not opaque (in the
# first or last image): the video holds their colour only, so probe's note comes from it.
SEE_THROUGH_TAG = "vidmatte_see_through"
# An image's number longer than this is refused (media/sequence.py): the editor's numbers
# (JavaScript's) hold integers exactly up to 2**53, 16 digits.
MAX_NUMBER_DIGITS = 15
_UNSPECIFIED = 2  # AVCOL_SPC_UNSPECIFIED: a frame whose stream tags no YUV matrix
_RESERVED = 3  # AVCOL_SPC_RESERVED: H.273 reserves it, and decoders take it as unspecified
# AVCOL_SPC_RGB: the planes are G, B, R. On a YUV frame (H.264 allows it on 4:4:4 only, which
# FFmpeg decodes as RGB) a mis-tag that players read as no matrix (mpv guesses); swscale took
# it as BT.601, an HD clip's colours up to 35 levels off.
_RGB = 0
# The YUV matrices swscale turns into RGB (AVCOL_SPC_*: BT.709, unspecified, FCC, BT.470BG,
# SMPTE 170M and 240M, BT.2020 non-constant luminance); it refuses a YUV frame tagged with
# another ("Operation not supported"), so such a video is refused at probe.
_CONVERTIBLE_MATRICES = frozenset({1, 2, 4, 5, 6, 7, 9})
_MATRIX_NAMES = {
    8: "YCgCo",
    10: "BT.2020 constant luminance",
    11: "SMPTE ST 2085",
    12: "chromaticity-derived non-constant luminance",
    13: "chromaticity-derived constant luminance",
    14: "ICtCp",
}


_INDEX_CUT_OFF = (
    "the file is cut short (truncated) before the end of its index (the 'moov' box, which MP4 "
    "and MOV recordings write last), so none of its frames can be found: a recording that was "
    "interrupted? Recovery tools such as untrunc rebuild the index from a complete file of the "
    "same camera"
)

# A GIF frame's delay (centiseconds, its reader's clock) up to which browsers show it for
# _GIF_SHOWN_DELAY instead (`_gif_delays`).
_GIF_FAST_DELAY = 1
_GIF_SHOWN_DELAY = 10

# The animation flag in a WebP file's extended header (its VP8X chunk's first byte).
_WEBP_ANIMATION = 0x02


class MediaError(ValueError):
    """The file is not a video we can read; the message says why, for the user."""


@dataclass(frozen=True)
class VideoInfo:
    width: int  # as displayed (after rotation)
    height: int
    fps: float
    frame_count: int
    duration: float
    rotation: int  # degrees counter-clockwise applied to decoded frames for display: 0..270
    codec: str
    has_audio: bool
    # How wide one pixel shows, as a multiple of its height (the sample aspect ratio, after
    # rotation): 1 for square pixels; 32/27 for 16:9 DV stored 720x480. Frames, points and
    # mattes stay in stored pixels; players and exports stretch them by this.
    pixel_aspect: float = 1.0
    # The first frame's SMPTE timecode ("01:00:00:00", "00:59:59;28" drop-frame), which editors
    # conform media to; None when the file has none (stored projects from before it, too).
    timecode: str | None = None
    # The first frame's number in the source's own count: an image sequence's first image's
    # (1001 for shot.1001.png), 0 for a video. Per-frame exports are numbered from it.
    first_number: int = 0
    # The colour primaries and transfer characteristic the file states (ITU-T H.273 codes: 1
    # BT.709, 6 SMPTE 170M, 9 BT.2020; transfer 16 PQ, 18 HLG), which frames keep (only the
    # YUV matrix is undone when reading) and exports are tagged with; 2 where it states none
    # (and for projects stored before).
    primaries: int = 2
    transfer: int = 2
    # What the user should know about how the file is read, in words for them: it was cut
    # short, its alpha channel is ignored. Empty for most files (and stored projects before).
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    # What a request may ask of the video; the API and the CLI refuse in the same words.
    def check_frame(self, index: int) -> None:
        """OutsideVideo unless `index` is one of the video's frames."""
        if not 0 <= index < self.frame_count:
            raise OutsideVideo(f"frame {index} is outside the video (0..{self.frame_count - 1})")

    def check_range(self, start: int, end: int) -> None:
        """ValueError unless start..end is an ordered range of the video's frames."""
        if start > end:
            raise ValueError(f"start frame {start} is after end frame {end}")
        if end >= self.frame_count:
            raise ValueError(
                f"frame range {start}..{end} is outside the video "
                f"(frames 0..{self.frame_count - 1})"
            )

    def check_point(self, x: float, y: float) -> None:
        """ValueError unless (x, y) is on the frame. Coordinates are continuous, so its far
        edges (x = width, y = height) are on it."""
        if not (0 <= x <= self.width and 0 <= y <= self.height):
            size = f"{self.width}x{self.height}"
            raise ValueError(f"point ({x:g}, {y:g}) is outside the {size} frame")


class OutsideVideo(ValueError):
    """A frame number the video does not have (the API's 404)."""


def _open(path: Path) -> av.container.InputContainer:
    if path.stat().st_size == 0:  # FFmpeg's word for it is "invalid data"
        raise MediaError("the file is empty (0 bytes)")
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.FileNotFoundError:
        raise  # not a bad video but a file the caller lost: its own error (a 500 in the API)
    except av.error.FFmpegError as exc:
        if cut_short.mp4_cut(path) == "index":
            raise MediaError(_INDEX_CUT_OFF) from exc
        # strerror, not str(exc): that names the file, a server-side temporary path.
        reason = exc.strerror or exc.__class__.__name__
        raise MediaError(f"not a readable video file ({reason})") from exc
    except UnicodeDecodeError as exc:
        raise MediaError(f"not a readable video file ({exc.__class__.__name__})") from exc


def _rotate(image: np.ndarray, rotation: int) -> np.ndarray:
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=turns)) if turns else image


def probe(path: Path, settings: Settings | None = None) -> tuple[VideoInfo, np.ndarray]:
    """Read a video's properties and its frame timestamps; raise MediaError for anything unusable.

    Returns the info and the sorted presentation timestamps (one per frame). The first and the
    last frame are decoded, so a file truncated in its middle or end is caught here, not mid-job.
    `settings` holds the frame size limits (read from the environment when None).
    """
    settings = settings or Settings()
    with _open(path) as container:
        fmt = container.format.name
        if fmt == "webp_pipe" and _animated_webp(path):
            raise MediaError(
                "the file is an animated WebP, which FFmpeg cannot decode: save its frames as "
                "numbered PNG images (libwebp's anim_dump does) and upload those as an image "
                "sequence"
            )
        if fmt == "image2" or fmt.endswith("_pipe"):  # ffmpeg reads a lone picture as a video
            raise MediaError(
                f"the file is a still image ({fmt.removesuffix('_pipe')}), not a video"
            )
        if not _moving(container):
            covers = ["a cover picture"] if container.streams.video else []
            kinds = sorted({s.type for s in container.streams if s.type != "video"})
            held = ", ".join([*kinds, *covers]) or "nothing"
            raise MediaError(f"the file has no video stream (it holds {held})")
        stream = _video_stream(container)
        codec = stream.codec_context.name
        width, height = stream.codec_context.width, stream.codec_context.height
        if width <= 0 or height <= 0:
            raise MediaError("the video stream has no frame size")
        sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
        if width * height > settings.max_pixels:
            raise MediaError(
                f"frames of {width}x{height} are larger than the limit of "
                f"{settings.max_pixels:,} pixels (8K UHD is 7680x4320)"
            )
        has_audio = bool(container.streams.audio)
        time_base = stream.time_base or Fraction(1, 1)
        rate = stream.average_rate or stream.guessed_rate
        if fmt == "nut" or container.format.flags & av.format.Flags.no_timestamps.value:
            # NUT (image sequences' videos, media/sequence.py) states no rate, and FFmpeg's
            # average is a guess among standard rates (119.88 read as 120, 7.3 as 22/3); a raw
            # stream's (.m2v) is its reader's default, 25. The rate its clock and timestamps
            # give is exact.
            rate = stream.guessed_rate or rate
        timecodes = _timecode_tags(container, stream)
        first_number = _first_number(stream)
        # VP8 and VP9 keep alpha beside the picture, which FFmpeg's own decoders pass over:
        # Matroska's track says it is there.
        alpha_track = stream.metadata.get("alpha_mode") == "1"
        images_alpha = stream.metadata.get(SEE_THROUGH_TAG) == "1"
        try:
            # Where the file's structure says it stops: "frame" inside the video's last packet
            # (which these readers hand over unflagged), "between" after a whole one.
            stops = ""
            if fmt == "gif":
                stops = cut_short.gif_cut(path)
            elif fmt == "nut":
                stops = cut_short.nut_cut(path, stream.index)
            last_cut = stops == "frame" or (fmt == "mpegts" and cut_short.ts_cut(path, stream.id))
            shown, cut, durations = _shown_pts(
                container, stream, path.stat().st_size, last_cut, stops != ""
            )
            pts = sorted(shown)
            if fmt == "gif":
                rate = _gif_rate(durations, time_base) or rate
            # Readers end quietly where the data does when no packet is cut in two (Matroska's
            # always), but the file's structure says it runs on.
            if fmt == "matroska,webm":
                cut = cut or matroska.cut_short(path)
            elif fmt.startswith("mov,"):
                cut = cut or cut_short.mp4_cut(path) == "data"
            elif fmt == "avi":
                cut = cut or cut_short.avi_cut(path)
            elif fmt == "flv":
                cut = cut or cut_short.flv_cut(path)
            cut = cut or stops != ""
        except av.error.FFmpegError as exc:
            raise MediaError(f"the video is damaged or truncated ({exc.strerror or exc})") from exc
    if not pts:
        index_cut_off = cut_short.mp4_cut(path) == "index"
        raise MediaError(_INDEX_CUT_OFF if index_cut_off else "the video has no frames")
    pts_index = np.asarray(pts, dtype=np.int64)
    _check_distinct(pts_index, time_base)
    times = gif_times(pts_index) if fmt == "gif" else pts_index
    reader = VideoReader(path, pts_index, rotation=0)
    try:
        try:
            first = reader.decode_raw(0)
        except UndecodableFrame as exc:
            raise MediaError("the video is damaged: its first frame cannot be decoded") from exc
        _matrix(first)  # MediaError for a YUV matrix no frame could be read with
        # Frames turn by whole quarter turns only: a display matrix in between (170°) is
        # taken as the nearest one, so the size said and the frames turned agree; told as
        # 0..270 (FFmpeg's -180 and -90 are 180 and 270), one value a turn.
        rotation = 90 * round((getattr(first, "rotation", 0) or 0) / 90) % 360
        try:
            last = reader.decode_raw(len(pts_index) - 1)
        except UndecodableFrame as exc:
            if cut:
                raise MediaError(
                    f"the file is cut short (truncated) after {len(pts_index)} frames, and "
                    "the last of them cannot be decoded"
                ) from exc
            raise MediaError(f"the video is damaged or truncated: {exc}") from exc
    finally:
        reader.close()
    fps = _frame_rate(rate, times, time_base)
    span = float((times[-1] - times[0]) * time_base) + 1.0 / fps
    pixel_aspect = float(sar) if sar and sar > 0 else 1.0  # 0/1 where a file says nothing
    if rotation % 180:
        width, height, pixel_aspect = height, width, 1 / pixel_aspect
    check_shape(width, height, settings)
    info = VideoInfo(
        width=width,
        height=height,
        fps=fps,
        frame_count=len(pts_index),
        duration=round(span, 6),
        rotation=rotation,
        codec=codec,
        has_audio=has_audio,
        pixel_aspect=round(pixel_aspect, 6),
        timecode=next(filter(None, (timecode.normalised(t, fps) for t in timecodes)), None),
        first_number=first_number,
        primaries=int(first.color_primaries),
        transfer=int(first.color_trc),
        notes=_notes(
            len(pts_index),
            cut,
            alpha_track or see_through(first, last),
            images_alpha=images_alpha,
        )
        + _colour_notes(int(first.color_trc), int(first.color_primaries)),
    )
    return info, pts_index


def see_through(*frames: av.VideoFrame) -> bool:
    """Whether any of the frames has an alpha channel that is not opaque everywhere (ProRes
    4444's, PNG's or QuickTime Animation's in a MOV, a GIF's transparency; an image's of a
    sequence). An opaque one is nothing lost: FFmpeg decodes every GIF with one, a render may
    carry one. A palette's (pal8: a PNG's tRNS chunk) is in its entries, not a component."""
    return any(
        (
            frame.format.name == "pal8"
            or any(component.is_alpha for component in frame.format.components)
        )
        and frame.to_ndarray(format="rgba")[..., 3].min() < 255
        for frame in frames
    )


def _notes(frame_count: int, cut: bool, alpha: bool, images_alpha: bool = False) -> list[str]:
    """What the user should know about how the file is read (VideoInfo.notes); `images_alpha`:
    an image sequence's images had an alpha channel (SEE_THROUGH_TAG)."""
    notes = []
    if cut:
        notes.append(
            f"the file is cut short (truncated): only its first {frame_count} frames are "
            "there, and those are used"
        )
    if alpha:
        notes.append(
            "the video's alpha channel is ignored: its colour is used as stored and the "
            "matte is made anew"
        )
    if images_alpha:
        notes.append(
            "the images' alpha channel is ignored: their colour is used as stored (an EXR's "
            "premultiplied) and the matte is made anew"
        )
    return notes


def _colour_notes(transfer: int, primaries: int) -> list[str]:
    """The note for a video the reader changes the colour of for the editor and the models
    (VideoReader's `tone_map`, media/hdr.py): HDR (PQ, HLG), tone mapped, naming the gamut
    it converts (`hdr.gamut`; BT.2020, HDR's own, ITU-R BT.2100's, named alone) or the
    BT.2020 taken for unstated primaries (`hdr.shown_primaries`); SDR in wide primaries
    (P3-D65, BT.2020), converted to BT.709's: it was shown and matted as if BT.709's, less
    saturated, and said nothing; SDR in a stated power law (`hdr.power_law`: DCI's gamma
    2.6), made sRGB from its light: it was shown as if its codes were sRGB's."""
    shown = hdr.shown_primaries(transfer, primaries)
    gamut = hdr.gamut(shown)
    if not hdr.is_hdr(transfer):
        notes = []
        if gamut:
            notes.append(
                f"the video's colour is {gamut} (SDR): it is shown and matted converted to "
                "BT.709's (sRGB; colours outside BT.709 clipped); exports keep its own colour "
                "and its tags"
            )
        if hdr.power_law(transfer, primaries) is not None:
            notes.append(
                f"the video's transfer is {hdr.power_law_name(transfer)}: it is shown and "
                "matted in sRGB; exports keep its own colour and its tags"
            )
        return notes
    kind = "PQ" if transfer == hdr.PQ else "HLG"
    if shown != primaries:
        gamut += " taken: its primaries are not stated"
    converted = ""
    if gamut and shown != hdr.BT2020:
        converted = f", its {gamut} colour converted to BT.709's"
    tags = "its tags" if shown == primaries else "BT.2020's tags"
    return [
        f"the video is HDR ({kind}{', ' + gamut if gamut else ''}): it is shown and matted "
        f"tone mapped to SDR (BT.709, sRGB){converted}; exports keep its own colour and {tags}"
    ]


def _animated_webp(path: Path) -> bool:
    """Whether a WebP file says it is an animation: the extended header (VP8X chunk) sets its
    animation flag (RIFF container specification, "Extended File Format")."""
    with path.open("rb") as file:
        head = file.read(21)
    return len(head) == 21 and head[12:16] == b"VP8X" and bool(head[20] & _WEBP_ANIMATION)


def _first_number(stream: av.VideoStream) -> int:
    """FIRST_NUMBER_TAG of an image sequence's video (media/sequence.py); 0 without one."""
    text = stream.metadata.get(FIRST_NUMBER_TAG, "")
    digits = text.lstrip("0")
    if not text.isascii() or not text.isdigit() or len(digits) > MAX_NUMBER_DIGITS:
        return 0
    return int(digits or "0")


def _timecode_tags(container: av.container.InputContainer, stream: av.VideoStream) -> list[str]:
    """The start timecodes a file states, most specific first: the video stream's own, a data
    stream's (MOV's tmcd track, MXF), the container's. Matroska spells the tag TIMECODE."""
    sources = [stream, *container.streams.data, container]
    tags = [{key.lower(): value for key, value in s.metadata.items()} for s in sources]
    return [found["timecode"] for found in tags if "timecode" in found]


def _rgb(frame: av.VideoFrame, tone_map: bool = False, deep: bool = False) -> np.ndarray:
    """RGB uint8 of a frame; one of more than 8 bits a sample goes through 16-bit RGB (white
    at 65535, `_rgb48`) and is rounded: swscale's direct conversion truncates it (colours up
    to 3 levels off, about one level too dark on average), or with `deep` (and no
    `tone_map`) is kept as that 16-bit RGB (uint16). Limited-range grey goes through it
    too, 8-bit grey's as uint8: swscale reads grey as full range whatever its tag (black at
    16). With `tone_map`, an HDR frame (PQ or HLG) is made SDR and an SDR frame in wide
    primaries made BT.709's, one in a stated power law (DCI's gamma 2.6) sRGB (media/hdr.py),
    as the editor shows them and the models take them; without, its signal is kept as it is
    (exports)."""
    matrix = _matrix(frame)
    transfer, primaries = int(frame.color_trc), int(frame.color_primaries)
    if tone_map and hdr.is_hdr(transfer):
        wide = _rgb48(frame, matrix)
        peak = hdr.display_peak(transfer, *_stated_light(frame))
        return hdr.to_sdr(wide, transfer, hdr.shown_primaries(transfer, primaries), peak)
    convert = tone_map and (
        hdr.converts(primaries) or hdr.power_law(transfer, primaries) is not None
    )
    eight = max(component.bits for component in frame.format.components) <= 8
    if eight and not _is_limited_grey(frame):
        rgb = frame.to_ndarray(format="rgb24", src_colorspace=matrix)
    elif (deep and not tone_map and not eight) or convert:
        rgb = _rgb48(frame, matrix)
        if not convert:
            return rgb
    else:
        frame = _planar(frame)
        wide = frame.to_ndarray(format="rgb48le", src_colorspace=matrix)
        rgb = _levels(frame, matrix)[1][wide]
    return hdr.sdr_in_bt709(rgb, transfer, primaries) if convert else rgb


def _is_limited_grey(frame: av.VideoFrame) -> bool:
    """Whether `frame` is grey tagged limited range (16..235 at 8 bits), which swscale reads
    as full range: its black came out 16 (4096 of 65535), its white 235."""
    fmt = frame.format
    grey = not fmt.is_rgb and not fmt.has_palette and not _is_yuv(fmt)
    colours = sum(not component.is_alpha for component in fmt.components)
    return grey and colours == 1 and frame.color_range == ColorRange.MPEG


def _rgb48(frame: av.VideoFrame, matrix: int | None) -> np.ndarray:
    """16-bit RGB (uint16) of a frame, white at 65535: swscale turns a YUV frame's white into
    less (limited range's 10-bit Y 940 into 65283, full range's 1023 into 65472: 0.4% and
    0.1% dark; 10-bit white showed as 254, PNGs and EXRs as dark; 8-bit 4:2:0's 235 into
    65021), and limited-range grey's black into more, which `_levels` undoes (on the
    frame's planar equivalent, `_planar`)."""
    frame = _planar(frame)
    wide = frame.to_ndarray(format="rgb48le", src_colorspace=matrix)
    lut = _levels(frame, matrix)[0]
    return wide if lut is None else lut[wide]


def _planar(frame: av.VideoFrame) -> av.VideoFrame:
    """`frame`, or where its format keeps components together or big-endian (P010, which
    hardware decoders give, its 10 bits at the top of 16 and chroma interleaved; NV12;
    yuv420p10be) the same samples in the planar little-endian format of its depth and
    subsampling (`_planar_format`), whose black and white `_levels_of` can measure; 8-bit
    YUV then in 16 bits. swscale repacks them unchanged (no scaling, no range or matrix
    conversion; 8-bit codes shifted, full range's luma 255 made 65535)."""
    while (name := _planar_format(frame.format.name)) is not None:
        frame = frame.reformat(format=name)
    return frame


@cache
def _planar_format(name: str) -> str | None:
    """The planar little-endian YUV, planar RGB or grey format that holds format `name`'s
    samples as they are (P010's: yuv420p10le; grey with alpha's: its grey, the alpha left
    out), or for planar 8-bit YUV its 16-bit one (swscale reads 8-bit 4:2:0 through 8-bit
    RGB: white 65021, greys rounded to 8 bits); None for the rest (16-bit YUV, packed RGB,
    whose 16 bits swscale reads exactly, floats, palettes)."""
    fmt = av.VideoFormat(name, 16, 16)
    components = fmt.components
    bits = components[0].bits
    if any(c.bits != bits for c in components) or fmt.has_palette or fmt.is_bayer:
        return None
    alpha = "a" if any(c.is_alpha for c in components) else ""
    depth = "" if bits == 8 else f"{bits}le"
    if _is_yuv(fmt):
        subsampling = {(16, 16): "444", (8, 16): "422", (8, 8): "420", (16, 8): "440"}
        chroma = subsampling.get((fmt.chroma_width(), fmt.chroma_height()))
        planar = f"yuv{alpha}{chroma}p{depth}" if chroma else None
        if planar == name and bits == 8:
            planar = f"yuv{alpha}{chroma}p16le"
    elif fmt.is_rgb:
        planar = f"gbr{alpha}p{depth}" if len({c.plane for c in components}) > 1 else None
    elif sum(not c.is_alpha for c in components) == 1:
        # Grey with alpha (ya8, ya16: Y and A in one plane) as grey alone: RGB has no alpha.
        planar = f"gray{depth}"
    else:
        planar = None
    try:
        known = planar is not None and av.VideoFormat(planar).name == planar
    except ValueError:  # this FFmpeg has no such format
        return None
    return planar if known and planar != name else None


def _levels(frame: av.VideoFrame, matrix: int | None) -> tuple[np.ndarray | None, np.ndarray]:
    """Lookup tables from swscale's 16-bit RGB of `frame` to the right 16 bits (None where it
    is right already) and to 8 bits (rounded), for its format, range and matrix."""
    return _levels_of(frame.format.name, int(frame.color_range), matrix, int(frame.colorspace))


@cache
def _levels_of(
    fmt: str, color_range: int, matrix: int | None, colorspace: int
) -> tuple[np.ndarray | None, np.ndarray]:
    """`_levels`, from swscale's RGB of a black and a white frame of the format: every value
    is scaled so that those come out 0 and 65535 (a pure gain error for limited range: black
    comes out 0; limited grey's an offset too). Formats whose components do not each have a
    plane of integers of up to 16 bits, little-endian above 8 (`_planar` makes most so;
    float ones, palettes) are taken as swscale reads them."""
    black, white = 0, 65535
    video_format = av.VideoFormat(fmt)
    components = video_format.components
    planar = len({c.plane for c in components}) == len(components) and not video_format.has_palette
    bits = max(c.bits for c in components)
    words = bits <= 8 or (bits <= 16 and fmt.endswith("le"))
    if planar and words and not fmt.removesuffix("le").endswith(("f16", "f32")):
        black, white = (
            int(_reference(fmt, color_range, matrix, colorspace, white=w)[0, 0, 0])
            for w in (False, True)
        )
    values = np.arange(65536, dtype=np.float64)
    right = np.clip(np.round((values - black) * 65535 / (white - black)), 0, 65535)
    eight = ((right.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return (None if (black, white) == (0, 65535) else right.astype(np.uint16)), eight


def _reference(
    fmt: str, color_range: int, matrix: int | None, colorspace: int, white: bool
) -> np.ndarray:
    """swscale's 16-bit RGB of a small black or white frame of planar format `fmt` (YUV with
    neutral chroma, RGB, or grey; any alpha opaque), at its range's black or white."""
    frame = av.VideoFrame(16, 16, fmt)
    frame.color_range, frame.colorspace = color_range, colorspace
    yuv = _is_yuv(frame.format)
    # Limited range: swscale's take on a YUV frame's unspecified one too. Grey is limited
    # only where tagged so (swscale reads it as full range whatever its tag: `_rgb`).
    limited = color_range == ColorRange.MPEG or (yuv and color_range != ColorRange.JPEG)
    for index, component in enumerate(frame.format.components):
        bits = component.bits
        if component.is_alpha:
            value = (1 << bits) - 1
        elif yuv and index in (1, 2):  # Cb, Cr (PyAV flags 4:4:4's as not chroma)
            value = 1 << (bits - 1)
        elif limited and not frame.format.is_rgb:  # 16..235 at 8 bits
            value = (235 if white else 16) << (bits - 8)
        else:
            value = (1 << bits) - 1 if white else 0
        plane = frame.planes[component.plane]
        sample = np.dtype("<u2" if bits > 8 else "u1")
        plane.update(np.full(plane.buffer_size // sample.itemsize, value, sample).tobytes())
    return frame.to_ndarray(format="rgb48le", src_colorspace=matrix)


def _stated_light(frame: av.VideoFrame) -> tuple[float, float]:
    """(MaxCLL, the mastering display's peak), cd/m², as the frame's HDR10 metadata states
    them (FFmpeg gives every frame its stream's: the SEI, MP4's clli/mdcv boxes, Matroska's
    colour elements); 0 for one not stated."""
    stated = {data.type: bytes(data) for data in frame.side_data}
    max_cll = mastering_max = 0.0
    level = stated.get(SideData.CONTENT_LIGHT_LEVEL, b"")
    if len(level) >= 4:  # AVContentLightMetadata: unsigned MaxCLL, MaxFALL
        max_cll = float(struct.unpack_from("=I", level)[0])
    display = stated.get(SideData.MASTERING_DISPLAY_METADATA, b"")
    # AVMasteringDisplayMetadata: 10 rationals (primaries, white point, min and max
    # luminance), then has_primaries and has_luminance, all ints.
    if len(display) >= 22 * 4:
        fields = struct.unpack_from("=22i", display)
        num, den, has_luminance = fields[18], fields[19], fields[21]
        if has_luminance and den > 0:
            mastering_max = num / den
    return max_cll, mastering_max


def _matrix(frame: av.VideoFrame) -> int | None:
    """The YUV matrix to read `frame` with: its own where the stream tags one (None; a
    MediaError for one swscale cannot apply, `_CONVERTIBLE_MATRICES`), else (none, a
    reserved code, RGB's on YUV) a guess from the colour it does tag, as players make it:
    - an HDR transfer (PQ, HLG) or BT.2020 primaries: BT.2020's non-constant luminance
      matrix, the one ITU-R BT.2100, HDR10 and HLG phones encode with (HDR players guess so:
      Kodi's libplacebo renderer, for one). The size's guess read such a clip's saturated
      colours up to 22 levels off.
    - else BT.709 for HD and BT.601 for SD, as players, Resolve and Nuke guess (mpv's rule:
      1280 wide or over 576 high is HD). swscale's own guess is BT.601 at any size: an
      untagged HD screen recording's colours came out up to 22 levels off, and so in every
      export."""
    tagged = int(frame.colorspace)
    untagged = tagged in (_UNSPECIFIED, _RESERVED) or (tagged == _RGB and _is_yuv(frame.format))
    if not untagged:
        if tagged not in _CONVERTIBLE_MATRICES and _is_yuv(frame.format):
            name = _MATRIX_NAMES.get(tagged, "a reserved one")
            raise MediaError(
                f"the video's YUV matrix is {name} (ITU-T H.273 matrix coefficients "
                f"{tagged}), which FFmpeg cannot turn into RGB: convert it to a BT.709 matrix "
                "first (FFmpeg's zscale filter knows most)"
            )
        return None
    if hdr.is_hdr(int(frame.color_trc)) or int(frame.color_primaries) == hdr.BT2020:
        return Colorspace.BT2020
    hd = frame.width >= 1280 or frame.height > 576
    return Colorspace.ITU709 if hd else Colorspace.ITU601


def _is_yuv(fmt: av.VideoFormat) -> bool:
    """Whether frames of `fmt` are YUV, which a matrix turns into RGB (not RGB, grey, a
    palette's or XYZ's)."""
    return not fmt.is_rgb and len(fmt.components) >= 3 and not fmt.name.startswith("xyz")


def chroma_blocks(fmt: av.VideoFormat | None, rotation: int = 0) -> tuple[int, int]:
    """(rows, columns) of pixels that share one chroma sample in frames of `fmt`, turned by
    `rotation` degrees as `VideoReader` turns them: (1, 1) where every pixel has its own (or
    the format is not known)."""
    if fmt is None or not _is_yuv(fmt):
        return (1, 1)
    # A format's chroma planes' size for a luma plane of `side`, rounded up: a whole factor.
    side = 64
    blocks = (side // fmt.chroma_height(side), side // fmt.chroma_width(side))
    return blocks[::-1] if rotation % 180 else blocks


def _video_stream(container: av.container.InputContainer) -> av.VideoStream:
    """The stream players show (FFmpeg's best pick: the one with the most frames, ...), not
    the first: a thumbnail or cover picture may be stored before it as a one-frame stream, and
    never an attached picture (a cover), even one FFmpeg would pick."""
    stream = container.streams.best("video")
    if stream is None or _is_cover(stream):
        stream = _moving(container)[0]  # probe has refused files without one
    return stream


def _is_cover(stream: av.VideoStream) -> bool:
    """Whether the stream is a picture attached to the file (a song's cover in an MP3, M4A
    or Matroska file), which FFmpeg lists as a one-frame video."""
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _moving(container: av.container.InputContainer) -> list[av.VideoStream]:
    """The video streams that are videos, not attached pictures."""
    return [s for s in container.streams.video if not _is_cover(s)]


@dataclass(frozen=True)
class _Packet:
    dts: int | None
    pts: int | None
    keyframe: bool
    discard: bool
    duration: int  # 0 where the container states none


# The most bytes a container puts before a packet's data that FFmpeg's packet position counts
# (FLV's tag header and the video header after it: 16).
_PACKET_HEADER = 16


def _shown_pts(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    file_size: int,
    last_cut: bool = False,
    known_cut: bool = False,
) -> tuple[list[int], bool, list[int]]:
    """The timestamps of the frames a player shows, in file order, whether the file is cut
    short, and the durations of the packets read (in file order, the cut one left out: a GIF's
    are its delays, which its rate comes from). Packets flagged discard lie before an edit
    list's start: decoded, never shown.
    Frames are found by their timestamp, so a timeline that starts over (recordings joined byte
    for byte, `cat a.ts b.ts`) is refused: decode timestamps only ever grow within one
    timeline. A stream cut anywhere (a recording, a grabbed segment) may start with frames that
    refer to ones cut off: players start at the first keyframe, and so do we (all of them when
    none is flagged, as some demuxers do), leaving out the frames an open GOP shows before it
    (they refer to the cut-off ones too). A file cut short (a recording stopped mid-write, a
    download broken off) ends in a packet FFmpeg flags corrupt, read only up to the file's end:
    its frame cannot be whole, so it is left out and the file reported cut (Matroska's reader
    leaves such a packet out itself; `probe` finds files cut between two packets). Read up to
    the end, the packet's data ends where the file does, give or take the header the container
    puts before it (FLV's). GIF's, NUT's and MPEG-TS's readers do not flag it: `last_cut` says
    the file stops inside its last packet. Where `known_cut` (the file's structure says it is
    cut short), a reading error ends the packets read whole (NUT's reader fails where a file
    stops in a frame's header, or before its data), and the part never came out. A raw stream
    whose packets carry no timestamps at all (a camera's .h264) is refused."""
    packets: list[_Packet] = []
    last_dts = None
    cut = errored = False
    demuxed = container.demux(stream)
    while True:
        try:
            packet = next(demuxed)
        except StopIteration:
            break
        except av.error.FFmpegError:
            if not known_cut:
                raise
            errored = True
            break
        if packet.dts is not None:
            if last_dts is not None and packet.dts < last_dts:
                raise MediaError(
                    "the video's timestamps start over partway (recordings joined into one "
                    "file?), so its frames cannot be found by time: re-encode it into one "
                    "timeline first, e.g. `ffmpeg -i IN -c:v libx264 -crf 16 OUT.mp4`"
                )
            last_dts = packet.dts
        if packet.size > 0:
            at = packet.pos if packet.pos is not None and packet.pos >= 0 else None
            cut = (
                packet.is_corrupt
                and at is not None
                and at + _PACKET_HEADER + packet.size >= file_size
            )
            packets.append(
                _Packet(
                    packet.dts,
                    packet.pts,
                    packet.is_keyframe,
                    packet.is_discard,
                    packet.duration or 0,
                )
            )
    cut = cut or (last_cut and bool(packets) and not errored)
    if cut:
        packets.pop()
    timed = any(p.pts is not None and not p.discard for p in packets)
    if not timed and any(p.pts is None for p in packets):  # a raw stream (.h264)
        raise MediaError(
            f"the file is {container.format.long_name}, whose frames have no timestamps: put "
            "it in a container first, e.g. `ffmpeg -framerate 30 -i IN -c:v libx264 -crf 16 "
            "OUT.mp4` (with its frame rate for 30)"
        )
    return _after_first_key(packets), cut, [p.duration for p in packets]


def _after_first_key(packets: list[_Packet]) -> list[int]:
    """The shown timestamps from the first keyframe on (`_shown_pts`)."""
    shown: list[int] = []
    before_key: list[int] | None = []  # the shown timestamps before the first keyframe
    key_pts = None
    for packet in packets:
        if before_key is not None and packet.keyframe:
            before_key, key_pts = None, packet.pts
        if packet.pts is not None and not packet.discard:
            if before_key is not None:
                before_key.append(packet.pts)
            elif key_pts is None or packet.pts >= key_pts:
                shown.append(packet.pts)
    return shown + (before_key or [])


def _check_distinct(pts: np.ndarray, time_base: Fraction) -> None:
    """MediaError where two frames share a timestamp: frames are found by time, so the second
    could never be read (Matroska's millisecond clock does that to a 2000 fps recording)."""
    same = np.flatnonzero(np.diff(pts) == 0)
    if len(same):
        first = int(same[0])
        raise MediaError(
            f"frames {first} and {first + 1} of the video share one timestamp "
            f"({float(pts[first] * time_base):g} s; its container's clock is coarser than its "
            "frame rate?), so they cannot be told apart: re-encode it with a finer clock "
            "first, e.g. `ffmpeg -i IN -c:v libx264 -crf 16 OUT.mp4`"
        )


def check_shape(width: int, height: int, settings: Settings) -> None:
    """MediaError for frames too small or too narrow to matte (a sequence's first image too)."""
    short, long = sorted((width, height))
    if short < settings.min_side:
        raise MediaError(
            f"frames of {width}x{height} are too small: each side must be at least "
            f"{settings.min_side} pixels"
        )
    if long > short * settings.max_aspect:
        raise MediaError(
            f"frames of {width}x{height} are too narrow: the long side may be at most "
            f"{settings.max_aspect:g} times the short one"
        )


def _gif_rate(durations: list[int], time_base: Fraction) -> Fraction | None:
    """A GIF's frame rate as browsers play it: its frames over the time they show for, each
    its delay as `_gif_delays` has it (packet `durations`, on the reader's clock of 1/100 s).
    FFmpeg's own rate for a GIF is its clock's (100 fps for one frame of delay 0 or 1), or an
    average that leaves the last frame out (16.7 fps for delays of 0). None without frames."""
    total = int(_gif_delays(np.asarray(durations, dtype=np.int64)).sum()) * time_base
    return Fraction(len(durations)) / total if total else None


def _gif_delays(delays: np.ndarray) -> np.ndarray:
    """GIF frames' delays (centiseconds) as browsers show them: Chrome, Firefox and Safari
    show one of _GIF_FAST_DELAY or less (0 or 1, which old encoders wrote for "as fast as
    possible") for _GIF_SHOWN_DELAY, others as they are. FFmpeg's reader makes a 0 a 10
    itself, not a 1."""
    return np.where(delays <= _GIF_FAST_DELAY, _GIF_SHOWN_DELAY, delays)


def gif_times(pts: np.ndarray) -> np.ndarray:
    """When a GIF's frames show as browsers play them, on its reader's clock, from the
    timestamps its reader gives (`pts`, sorted): each frame's delay is the gap to the next
    one's timestamp, and is shown as `_gif_delays` has it. A GIF of delay 1 is read 10 ms a
    frame; browsers, this and so exports show it 100 ms a frame."""
    shown = _gif_delays(np.diff(pts))
    return np.concatenate([pts[:1], pts[0] + np.cumsum(shown)]).astype(np.int64)


def _frame_rate(rate: Fraction | None, pts: np.ndarray, time_base: Fraction) -> float:
    if rate:
        return float(rate)
    if len(pts) > 1:  # no rate in the header: derive it from the timestamps
        return float((len(pts) - 1) / ((pts[-1] - pts[0]) * time_base))
    return 25.0


class UndecodableFrame(MediaError):
    """A frame the decoder gives no picture for (a damaged or oversized frame, a truncation)."""


class VideoReader:
    """Random access to decoded RGB frames, with a small cache so that sequential reads
    (forward or backward) decode each frame about once.

    A cache miss seeks to the keyframe before the wanted frame and decodes forward to it,
    keeping the last `cache_size` frames decoded on the way: a backward pass then hits the cache
    for the next `cache_size - 1` frames. Where a container's seek lands past that keyframe
    (MPEG-TS seeks by byte position), the reader seeks further back, down to the very start.

    A frame the decoder cannot give back fails on its own, with "frame N cannot be decoded":
    decoding goes on past it and the decoder is reset, so what a frame decodes to never depends
    on which frames were asked for before. Every frame is checked against the frame size in the
    header before it is converted to RGB; one far larger is not decoded at all.
    """

    def __init__(
        self,
        path: Path,
        pts_index: np.ndarray,
        rotation: int,
        cache_size: int = 16,
        tone_map: bool = True,
        deep: bool = False,
    ):
        self.path = Path(path)
        # HDR frames made SDR (media/hdr.py), as the editor shows them and the models (SAM2,
        # the head) take them; off, the source's own colour, which exports keep (results.py).
        self.tone_map = tone_map
        # Without tone mapping, frames of more than 8 bits a sample as 16-bit RGB: exports keep
        # a 10-bit PQ or HLG signal's precision (8 bits of it show bands).
        self.deep = deep
        self.pts_index = pts_index
        self.rotation = rotation
        self.cache_size = cache_size
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = RLock()
        self._container: av.container.InputContainer | None = None
        self._size = (0, 0)  # (width, height) of every frame, from the header
        self._time_base = Fraction(1, 1)
        # When each frame shows, on the source's clock: its timestamp, or for a GIF the time
        # browsers show it at (`gif_times`); known once the file is open.
        self._times: np.ndarray | None = None
        self._frames: Iterator[av.VideoFrame | None] = iter(())
        self._held: tuple[int, av.VideoFrame] | None = None  # decoded, not yet handed out
        self._next_index: int | None = None  # the index the open decoder yields next
        self._pts_to_index = {int(p): i for i, p in enumerate(pts_index)}
        # How long the last frame shows, on the stream's clock, as its packet states (0 where
        # it states none); known once that frame has been decoded (`end`).
        self._last_duration = 0
        self._gif = False  # whether the file is a GIF (`gif_times`), known once it is open
        self._chroma: tuple[int, int] | None = None  # `chroma_blocks`, known once it is open

    def __len__(self) -> int:
        return len(self.pts_index)

    def close(self) -> None:
        with self._lock:
            self._reset()
            self._cache.clear()

    @property
    def chroma_blocks(self) -> tuple[int, int]:
        """(rows, columns) of the pixels of a frame, as `frame` gives it, that share one
        chroma sample in the file: (2, 2) for 4:2:0, (1, 2) for 4:2:2 ((2, 1) turned a
        quarter), (1, 1) for 4:4:4, RGB and grey. `frame` repeats each sample over its block
        (FFmpeg's conversion), which matting undoes (matte/chroma.py)."""
        with self._lock:
            if self._chroma is None:
                self._open()
            assert self._chroma is not None
            return self._chroma

    def time(self, index: int) -> Fraction:
        """When frame `index` shows, in seconds on the source's clock (exact; a GIF's as
        browsers show it, `gif_times`)."""
        with self._lock:
            if self._container is None:
                self._open()
            assert self._times is not None
            return int(self._times[index]) * self._time_base

    def end(self, index: int) -> Fraction | None:
        """When frame `index` stops showing, in seconds on the source's clock: when the next one
        shows, or for the last its time plus its own duration where the file states one (an
        MP4's last sample's; a GIF's delay as browsers show it), else None. The last frame is
        decoded for it where it was not yet."""
        if index + 1 < len(self):
            return self.time(index + 1)
        self.frame(index)
        with self._lock:
            duration = self._last_duration
            if duration > 0 and self._gif:
                duration = int(_gif_delays(np.asarray([duration]))[0])
            return self.time(index) + duration * self._time_base if duration > 0 else None

    def frame(self, index: int) -> np.ndarray:
        """RGB uint8 (H, W, 3) of frame `index`, as displayed (tone mapped with
        `tone_map`); uint16 for a frame of more than 8 bits a sample with `deep`."""
        if not 0 <= index < len(self):
            raise IndexError(f"frame {index} is outside the video (0..{len(self) - 1})")
        with self._lock:
            if index in self._cache:
                self._cache.move_to_end(index)
                return self._cache[index]
            if self._next_index is None or not (0 <= index - self._next_index < self.cache_size):
                self._seek(index)
            while True:
                i, frame = self._next_frame(index)
                image = _rotate(_rgb(frame, self.tone_map, self.deep), self.rotation)
                self._remember(i, image)
                if i == index:
                    return image

    def decode_raw(self, index: int) -> av.VideoFrame:
        """The undecorated PyAV frame at `index`; MediaError as for `frame`."""
        with self._lock:
            self._seek(index)
            while True:
                i, frame = self._next_frame(index)
                if i == index:
                    return frame

    def _next_frame(self, index: int) -> tuple[int, av.VideoFrame]:
        """The next decoded frame on the way to `index`, checked."""
        got = self._held or self._decode_next()
        self._held = None
        if got is None or got[0] > index:  # the decoder gave nothing for `index`
            self._reset()
            raise UndecodableFrame(f"frame {index} cannot be decoded (the file is damaged there)")
        i, frame = got
        if (frame.width, frame.height) != self._size:
            self._reset()
            raise MediaError(
                f"frame {i} is {frame.width}x{frame.height} but the video's frames are "
                f"{self._size[0]}x{self._size[1]}; videos whose frame size changes are not "
                "supported"
            )
        return got

    def _remember(self, index: int, image: np.ndarray) -> None:
        self._cache[index] = image
        self._cache.move_to_end(index)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _open(self) -> None:
        self._container = _open(self.path)
        stream = _video_stream(self._container)
        stream.thread_type = "AUTO"
        # The decoder refuses larger frames before allocating them (2x: room for its padding).
        width, height = stream.codec_context.width, stream.codec_context.height
        # The decoder refuses a frame far larger than the header's before allocating it, so a
        # small file cannot force huge decodes (the slack covers the decoder's row alignment).
        stream.codec_context.options = {"max_pixels": str(4 * (width + 64) * (height + 64))}
        self._size = (width, height)
        self._time_base = stream.time_base or Fraction(1, 1)
        self._gif = self._container.format.name == "gif"
        self._chroma = chroma_blocks(stream.codec_context.format, self.rotation)
        if self._times is None:
            self._times = gif_times(self.pts_index) if self._gif else self.pts_index

    def _reset(self) -> None:
        """Drop the decoder; the next frame asked for opens a fresh one."""
        if self._container is not None:
            self._container.close()
        self._container, self._frames, self._held, self._next_index = None, iter(()), None, None

    def _seek(self, index: int) -> None:
        """Position the decoder so that the next frame it yields is `index` or one before it."""
        back = 0
        while True:
            start = max(0, index - back)
            if start == 0 or self._container is None:
                self._reset()
                self._open()
            assert self._container is not None
            stream = _video_stream(self._container)
            self._frames = _decode(self._container, stream, self._pts_to_index)
            if start == 0:
                self._held = self._decode_next()
                return
            try:
                self._container.seek(
                    int(self.pts_index[start]), stream=stream, backward=True, any_frame=False
                )
            except av.error.FFmpegError:  # not seekable: decode from the start
                back = index
                continue
            # A seek that lands past the keyframe gives no frame until the next keyframe: do
            # not read on to it (possibly the end of the file), go further back.
            self._held = self._decode_next(patience=_SEEK_PATIENCE)
            if self._held is not None and self._held[0] <= index:
                return
            back = max(self.cache_size, 4 * back)

    def _decode_next(self, patience: int | None = None) -> tuple[int, av.VideoFrame] | None:
        """The next listed frame; None at the end, or after `patience` packets gave none."""
        for frame in self._frames:
            if frame is None:  # a packet went in, nothing came out yet
                if patience is not None and (patience := patience - 1) < 0:
                    return None
                continue
            index = self._pts_to_index.get(frame.pts) if frame.pts is not None else None
            if index is not None:  # else a frame the demuxer did not list (rare): skip it
                if index == len(self.pts_index) - 1:
                    self._last_duration = frame.duration or 0
                self._next_index = index + 1
                return index, frame
        return None


def _decode(
    container: av.container.InputContainer, stream: av.VideoStream, listed: Mapping[int, int]
) -> Iterator[av.VideoFrame | None]:
    """The stream's frames, and None for each packet that gave none; a packet the decoder
    rejects is passed over (its frame is then missing, which the reader reports by index) and a
    demuxing error ends the stream. A corrupt packet whose frame is not `listed` (the cut-off
    end of a file cut short, `_shown_pts`) is not decoded: with frame threads, its error cost
    the frames decoded just before it too."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.error.FFmpegError:
            packet = None  # unreadable from here on: flush what the decoder holds
        if packet is not None and packet.is_corrupt and packet.pts not in listed:
            continue
        try:
            frames = stream.decode(packet)
        except av.error.FFmpegError:
            frames = []
        yield from frames or [None]
        if packet is None:
            return
