"""Numbered image sequences (shot.1001.png ... shot.1100.png) made into a lossless video.

Compositors keep plates as image sequences; the rest of vidmatte reads videos. A zip (or, for
the CLI, a folder) holding one sequence becomes an FFV1 video in NUT (whose clock holds frame
k's time, k / rate, exactly), every frame a keyframe, so it decodes to the images' exact
pixels (an EXR's as media/images.py encodes them): 16 bits a sample when any image has more
than 8 (VideoReader rounds those to 8 for the models), 8 otherwise; an alpha channel is
dropped, and where it is not opaque in the first or the last image the video's SEE_THROUGH_TAG
says so, for probe's note. The first image's frame rate and timecode (EXR, DPX), where it
states them, are the video's unless a rate is given, and its number (1001) is kept for the
exports' names. Zip members are read into memory one at a time, never extracted to their
names, and at most their declared sizes (zipfile stops there), which are checked before
anything is read; their names are read in the encoding they were written in (_zip_name).
"""

from __future__ import annotations

import errno
import itertools
import re
import shutil
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PurePosixPath

import av
import numpy as np

from vidmatte.config import Settings
from vidmatte.media.images import (
    IMAGE_KINDS,
    IMAGE_SUFFIXES,
    MB,
    decode_image,
    start_timecode,
    stated_rate,
)
from vidmatte.media.video import (
    FIRST_NUMBER_TAG,
    MAX_NUMBER_DIGITS,
    SEE_THROUGH_TAG,
    MediaError,
    check_shape,
    see_through,
)

DEFAULT_FPS = 24.0
MIN_FPS, MAX_FPS = 1.0, 240.0
_TAR_MAGIC_AT, _TAR_MAGIC = 257, b"ustar"  # POSIX and GNU tar headers alike
_TAR_END = 1024  # two blocks of zeros
_ZIP_MEMBER, _ZIP_EMPTY = b"PK\x03\x04", b"PK\x05\x06"  # a member's header, the end record
_ZIP_ENCRYPTED = 0x1  # bit 0 of a zip member's flags
_ZIP_UTF8 = 0x800  # bit 11: the member's name is UTF-8
_UNICODE_PATH, _UNICODE_PATH_VERSION = 0x7075, 1  # Info-ZIP's extra field of the name in UTF-8
_LISTED_SEQUENCES = 5  # named in the message when there are several
_LAST_DIGITS = re.compile(r"(\d+)(?!.*\d)")
_DIGITS = re.compile(r"\d+")
_LAST_NUMBER = (
    " (a sequence's frame number is the last number in its names: shot_v2.0001.png, not "
    "shot.0001_v2.png)"
)


@dataclass(frozen=True)
class Sequence:
    name: str  # what a project is called: `shot` for shot.1001.png
    pattern: str  # for messages: `shot.####.png`
    members: list[str]  # in frame order
    first_number: int = 0  # the first image's number (1001 for shot.1001.png)


class NoRoomForVideo(OSError):
    """The video would cut into the disk's reserve: ENOSPC (a full disk to callers), with what
    it needs."""

    def __init__(self, need: int):
        super().__init__(errno.ENOSPC, f"{need / MB:.1f} MB are needed for the video")
        self.need = need


def is_sequence_source(path: Path) -> bool:
    """A folder, a zip or a tar (by its content, whatever its name says). A zip starts with
    its first member's header, or, empty, with its end record: zipfile.is_zipfile alone looks
    only for that record near the end, where a video's near-random bytes may happen to hold
    it. One that starts with a member's header and has no end record is a zip cut off (an
    interrupted download), refused as that (_members), not probed as a video. A tar (the
    editor packs a dropped folder as one) has `ustar` at byte 257."""
    if path.is_dir() or _is_tar(path):
        return True
    return _starts_as_zip(path) or (_head(path) == _ZIP_EMPTY and zipfile.is_zipfile(path))


def _head(path: Path) -> bytes:
    """The file's first bytes, as many as a zip's signatures take."""
    with path.open("rb") as file:
        return file.read(len(_ZIP_MEMBER))


def _starts_as_zip(path: Path) -> bool:
    """A zip's first member's header opens the file: no video or image starts so."""
    return _head(path) == _ZIP_MEMBER


def _is_tar(path: Path) -> bool:
    """A tar's first header has `ustar` at byte 257."""
    with path.open("rb") as file:
        file.seek(_TAR_MAGIC_AT)
        return file.read(len(_TAR_MAGIC)) == _TAR_MAGIC


def sequence_to_video(
    source: Path,
    out: Path,
    fps: float | None,
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
) -> Sequence:
    """Write the one numbered image sequence in `source` (a zip or a folder) to `out` as a
    lossless video at `fps`; None: the rate its first image states (EXR, DPX) where that is in
    MIN_FPS..MAX_FPS, else DEFAULT_FPS. MediaError says what is wrong (and names the images);
    NoRoomForVideo when the video might not fit on `out`'s disk. `out` may be left partly
    written: the caller removes it. A given `fps` is checked by the caller. `progress` is told
    (images written, images in all) after each image (a sequence written again in 16 bits
    starts again from 0)."""
    with _members(source) as (sizes, read):
        sequence = find_sequence(sizes)
        unpacked = sum(sizes[m] for m in sequence.members)
        # A zip's sizes are what it declares (a few KB may declare GBs); a folder's are files.
        if not source.is_dir() and unpacked > settings.max_upload_bytes:
            raise MediaError(
                f"the images unpack to {unpacked / MB:.1f} MB, more than the upload limit of "
                f"{settings.max_upload_bytes / MB:.1f} MB (VIDMATTE_MAX_UPLOAD_BYTES)"
            )
        first_data = read(sequence.members[0])
        first = decode_image(sequence.members[0], first_data, settings)
        try:  # as any video's frames are checked; FFV1 cannot even encode a 1-pixel width
            check_shape(first.width, first.height, settings)
        except MediaError as exc:
            raise MediaError(f"{sequence.members[0]}: {exc}") from exc
        if fps is None:
            stated = stated_rate(sequence.members[0], first_data)
            fps = stated if stated is not None and MIN_FPS <= stated <= MAX_FPS else DEFAULT_FPS
        timecode = start_timecode(sequence.members[0], first_data, fps)
        # The last image too, as a video's last frame is looked at: read before the video's
        # header is written, which holds the tag.
        decoded = {sequence.members[0]: first}
        last_name = sequence.members[-1]
        if last_name not in decoded:
            decoded[last_name] = decode_image(last_name, read(last_name), settings)
        rate = frame_rate(fps)
        see = see_through(*decoded.values())
        deep = any(_deep(image) for image in decoded.values())
        try:
            _write_video(
                out, sequence, read, decoded, rate, timecode, see, deep, settings, progress
            )
        except _DeepImage:
            # An image between the first and the last has more than 8 bits (their headers,
            # from a zip, are read only with the image): written again, in 16 bits.
            decoded.clear()  # the last image, not reached: read again in its turn
            again = {sequence.members[0]: first}
            _write_video(out, sequence, read, again, rate, timecode, see, True, settings, progress)
    return sequence


class _DeepImage(Exception):
    """An image of more than 8 bits came in an 8-bit video."""


def _deep(image: av.VideoFrame) -> bool:
    return max(c.bits for c in image.format.components) > 8


def _write_video(
    out: Path,
    sequence: Sequence,
    read: Callable[[str], bytes],
    decoded: dict[str, av.VideoFrame],
    rate: Fraction,
    timecode: str | None,
    see: bool,
    deep: bool,
    settings: Settings,
    progress: Callable[[int, int], None] | None,
) -> None:
    """The images as the lossless video (the module docstring), those in `decoded` (the first
    among them) taken from there (and dropped once written), 16 bits a sample where `deep`;
    _DeepImage where an image has more than 8 bits and not `deep`; NoRoomForVideo where it
    might not fit."""
    first = decoded[sequence.members[0]]
    pix_fmt = "rgb48le" if deep else "bgr0"
    # FFV1 rarely beats the raw pixels by much on plates: room for them, and the reserve
    # every upload leaves free, before a frame is written.
    need = len(sequence.members) * first.width * first.height * (6 if deep else 3)
    if shutil.disk_usage(out.parent).free < need + settings.min_free_bytes:
        raise NoRoomForVideo(need)
    # NUT, not Matroska: its clock holds each frame's time exactly (2002 ticks of 1/48000 s
    # at 23.976), where Matroska's counts milliseconds, which made frames 42, 41, 42 ms
    # apart at 24 fps and every video export of the sequence variable-rate.
    with av.open(str(out), "w", format="nut") as container:
        stream = container.add_stream("ffv1", rate=rate)
        stream.width, stream.height, stream.pix_fmt = first.width, first.height, pix_fmt
        stream.codec_context.gop_size = 1  # all keyframes: any frame is one seek away
        if timecode is not None:  # the video's, read back as any video's start timecode
            stream.metadata["timecode"] = timecode
        # Exports are numbered as the images were: probe reads it into VideoInfo.
        stream.metadata[FIRST_NUMBER_TAG] = str(sequence.first_number)
        if see:
            stream.metadata[SEE_THROUGH_TAG] = "1"
        for index, member in enumerate(sequence.members):
            image = (
                decoded.pop(member)
                if member in decoded
                else decode_image(member, read(member), settings)
            )
            if (image.width, image.height) != (first.width, first.height):
                raise MediaError(
                    f"{member} is {image.width}x{image.height} but "
                    f"{sequence.members[0]} is {first.width}x{first.height}: every image "
                    "of a sequence must be the same size"
                )
            if not deep and _deep(image):
                raise _DeepImage
            frame = _in_format(image, pix_fmt)
            frame.pts, frame.time_base = index, 1 / rate
            container.mux(stream.encode(frame))
            if progress is not None:
                progress(index + 1, len(sequence.members))
        container.mux(stream.encode(None))


def _in_format(image: av.VideoFrame, pix_fmt: str) -> av.VideoFrame:
    """The image in the video's `pix_fmt`; an 8-bit one in 16 bits x257 (255 is 65535):
    swscale's own widening was up to 255 levels off (0 became 9, 255 65283)."""
    if pix_fmt == "rgb48le" and not _deep(image):
        wide = image.to_ndarray(format="rgb24").astype(np.uint16) * 257
        return av.VideoFrame.from_ndarray(wide, format="rgb48le")
    return image.reformat(format=pix_fmt)


def frame_rate(fps: float) -> Fraction:
    """The rate a typed `fps` names: within 0.005 of an NTSC rate n·1000/1001 (23.976, 23.98,
    29.97, 59.94...) that rate exactly, which no short decimal is; otherwise the nearest
    fraction with a denominator up to 1001 (12.5 is 25/2)."""
    whole = round(fps * 1.001)
    if abs(fps - whole * 1000 / 1001) < 0.005 and abs(fps - whole) > 0.01:
        return Fraction(whole * 1000, 1001)
    return Fraction(fps).limit_denominator(1001)


def find_sequence(sizes: dict[str, int]) -> Sequence:
    """The one numbered image sequence among the files `sizes` names (slash-separated paths):
    images grouped by folder and by their name around its last run of digits, the frame
    number. A backslash separates folders too."""
    groups: dict[tuple[str, str, str], dict[int, str]] = {}
    outside: list[str] = []  # images passed over for a path that leaves the archive
    for member in sizes:
        path = _path(member)
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if ".." in path.parts:  # only a crafted archive has one: passed over, said if alone
            outside.append(member)
            continue
        if _junk(path):
            continue
        found = _LAST_DIGITS.search(path.name)
        head, digits, tail = (
            (path.name[: found.start()], found.group(), path.name[found.end() :])
            if found
            else (path.name, "", "")
        )
        if len(digits.lstrip("0")) > MAX_NUMBER_DIGITS:  # past JavaScript's exact integers
            raise MediaError(f"{member}: its frame number has more than {MAX_NUMBER_DIGITS} digits")
        number = int(digits) if digits else 0
        frames = groups.setdefault((str(path.parent), head, tail), {})
        if number in frames:
            raise MediaError(f"{frames[number]} and {member} are both frame {number}")
        frames[number] = member
    if not groups and outside:
        # Said as such: "no images found" went on to list these very images.
        more = f" and {len(outside) - 1} more" if len(outside) > 1 else ""
        raise MediaError(
            "its images are named outside the archive, with '..' in their paths "
            f"({min(outside)}{more}): make the archive from inside the images' folder"
        )
    if not groups:
        others = ", ".join(sorted(sizes)[:3]) + (", ..." if len(sizes) > 3 else "")
        raise MediaError(
            f"no {IMAGE_KINDS} images found"
            + (f" (the files are {others})" if others else " (there are no files)")
        )
    described = {key: _pattern(key, frames) for key, frames in groups.items()}
    if len(groups) > 1:
        # A zip of unnumbered photos is a sequence each: named up to a few, the rest counted.
        shown = sorted(groups.items())[:_LISTED_SEQUENCES]
        listed = ", ".join(
            f"{described[k]} ({len(f)} image{'s' if len(f) > 1 else ''})" for k, f in shown
        )
        more = f" and {len(groups) - len(shown)} more" if len(groups) > len(shown) else ""
        raise MediaError(
            f"{len(groups)} image sequences found, one is needed: {listed}{more}"
            + (_LAST_NUMBER if _numbered_before(groups) else "")
        )
    [(key, frames)] = groups.items()
    numbers = sorted(frames)
    # The spans between the numbers, not every missing number: two images a trillion apart
    # would list a trillion.
    missing = [(a + 1, b - 1) for a, b in itertools.pairwise(numbers) if b - a > 1]
    if missing:
        several = len(missing) > 1 or missing[0][0] < missing[0][1]
        raise MediaError(
            f"{described[key]} has a gap: frame{'s' if several else ''} "
            f"{_spans(missing)} missing (it has {numbers[0]}..{numbers[-1]})"
        )
    folder, head, _ = key
    name = head.rstrip("._- ") or PurePosixPath(folder).name or "sequence"
    return Sequence(name, described[key], [frames[n] for n in numbers], numbers[0])


def _numbered_before(groups: dict[tuple[str, str, str], dict[int, str]]) -> bool:
    """Whether the images are of one image each, one folder and one name but for their digits:
    one sequence whose frame number is followed by another number (`shot.0001_v2.png`)."""
    names = {(folder, _DIGITS.sub("#", head + tail)) for folder, head, tail in groups}
    return len(names) == 1 and all(len(frames) == 1 for frames in groups.values())


def _path(member: str) -> PurePosixPath:
    """A member's path: Windows' own zip tools (Compress-Archive, .NET before 4.6.1) wrote a
    backslash between folders."""
    return PurePosixPath(member.replace("\\", "/"))


def _junk(path: PurePosixPath) -> bool:
    """What operating systems put into zips beside the files: `__MACOSX/._shot.1001.png`
    (resource forks, with an image's name), `.DS_Store` (Thumbs.db is no image anyway); and
    a name with `..` in its path, which only a crafted zip has."""
    return any(part.startswith(".") or part == "__MACOSX" for part in path.parts)


def _pattern(key: tuple[str, str, str], frames: dict[int, str]) -> str:
    """`shot/shot.####.png`, the padding that of the first frame's name."""
    folder, head, tail = key
    digits = len(_path(frames[min(frames)]).name) - len(head) - len(tail)
    name = f"{head}{'#' * digits}{tail}"
    return name if folder == "." else f"{folder}/{name}"


def _spans(spans: list[tuple[int, int]], most: int = 5) -> str:
    """`1004, 1010-1012` of spans (first, last); after `most` spans, how many more frames."""
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans[:most])
    rest = sum(b - a + 1 for a, b in spans[most:])
    return text + (f" and {rest} more" if rest else "")


@contextmanager
def _members(source: Path) -> Iterator[tuple[dict[str, int], Callable[[str], bytes]]]:
    """A folder's files (not its subfolders) or a zip's or tar's members: their declared sizes
    by name, and a reader of one."""
    if source.is_dir():
        files = {p.name: p.stat().st_size for p in source.iterdir() if p.is_file()}
        yield files, lambda name: (source / name).read_bytes()
        return
    # A tar by its header, before zipfile looks near the end: a tar whose last member is a zip
    # (notes beside the plates) ends near that zip's end record, and would be read as it.
    if _is_tar(source) or not (_starts_as_zip(source) or zipfile.is_zipfile(source)):
        with _tar_members(source) as members:
            yield members
        return
    if not zipfile.is_zipfile(source):  # it starts as a zip: its end is missing
        raise MediaError(
            "the zip is cut off (its list of files, at its end, is missing): copy or download "
            "it again in full"
        )
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, ValueError) as exc:
        raise MediaError(f"not a readable zip ({exc})") from exc
    with archive:
        infos = {_zip_name(i): i for i in archive.infolist() if not i.is_dir()}

        def read(name: str) -> bytes:
            # zipfile's own words for it hold the member's repr (compress_type=... filemode=...)
            if infos[name].flag_bits & _ZIP_ENCRYPTED:
                raise MediaError(
                    f"{name} is encrypted in the zip: zip the images without a password"
                )
            try:
                return archive.read(infos[name])
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
                # a damaged member, an unsupported compression or an encrypted one
                raise MediaError(f"{name} cannot be read from the zip ({exc})") from exc

        yield {name: info.file_size for name, info in infos.items()}, read


def _zip_name(info: zipfile.ZipInfo) -> str:
    """A zip member's name as it was written. Without the UTF-8 flag zipfile reads it as
    cp437, the code page the format names (Explorer's, in a Western European locale), which
    garbled the UTF-8 that macOS's Compress and Info-ZIP's zip write unflagged: `ショット` came
    out `πé╖πâºπââπâê`, a full-width frame number as no number. Info-ZIP's Unicode Path field
    states the name in UTF-8 where a zip has it; else bytes that are UTF-8 are taken as that
    (cp437 text of accented letters is hardly ever valid UTF-8); else cp437. Other code pages
    (cp866, Shift JIS) cannot be told from cp437 by their bytes."""
    if info.flag_bits & _ZIP_UTF8:
        return info.filename
    stated = _unicode_path(info.extra, info.orig_filename.encode("cp437"))
    if stated is not None:
        return stated.partition("\0")[0]  # as zipfile cuts a name at a NUL
    raw = info.filename.encode("cp437")  # zipfile's cp437 gives every byte back
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return info.filename


def _unicode_path(extra: bytes, raw_name: bytes) -> str | None:
    """The name a Unicode Path extra field (version 1) states, if `extra` holds one written for
    `raw_name`: it holds the CRC-32 of the name it was written for, and one of another name
    (a tool renamed the member and kept the field) is passed over, as APPNOTE 4.6.9 says."""
    at = 0
    while at + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4 : at + 4 + size]
        if tag == _UNICODE_PATH and len(body) >= 5 and body[0] == _UNICODE_PATH_VERSION:
            if struct.unpack_from("<I", body, 1)[0] != zlib.crc32(raw_name):
                return None
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
        at += 4 + size
    return None


def _tar_headers(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """The tar's members, each header after the one before: a negative size (base 256 allows
    it) sends tarfile before Python 3.11.14 back to the same header, or an earlier one,
    forever."""
    last: tarfile.TarInfo | None = None
    while (info := archive.next()) is not None:
        if last is not None and info.offset <= last.offset:  # `last`'s size led back
            raise MediaError(
                f"not a readable tar ({_legible(last.name)} goes back to an earlier header)"
            )
        last = info
        yield info


def _legible(name: str) -> str:
    """A tar member's name as text: UTF-8 as tarfile decoded it; bytes that are no UTF-8 (a
    tar made where names are Latin-1 or Windows-1252) as Latin-1, which reads every byte. Kept
    as surrogates, they went into the project's name and messages, which no answer can encode
    as UTF-8."""
    raw = name.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@contextmanager
def _tar_members(source: Path) -> Iterator[tuple[dict[str, int], Callable[[str], bytes]]]:
    """An uncompressed tar's regular files, and hard links to those before them (symbolic
    links and devices are no images): their sizes, which are what they hold (a tar stores,
    never packs), and a reader of one."""
    try:
        # surrogateescape (what tarfile does on POSIX, said here for every platform): a name
        # that is no UTF-8 keeps its bytes, for _legible.
        archive = tarfile.open(  # noqa: SIM115 (closed by the `with` below)
            source, "r:", encoding="utf-8", errors="surrogateescape"
        )
    except (tarfile.TarError, EOFError) as exc:
        raise MediaError(f"not a readable tar ({exc})") from exc
    with archive:
        infos: dict[str, tarfile.TarInfo] = {}
        try:
            for info in _tar_headers(archive):
                if info.isfile():
                    infos[_legible(info.name)] = info
                elif info.islnk() and _legible(info.linkname) in infos:
                    # `tar cf` stores a file of two names (a held frame) once, the second
                    # name a hard link to the first: the same image, read from there.
                    infos[_legible(info.name)] = infos[_legible(info.linkname)]
        except (tarfile.TarError, EOFError) as exc:
            raise MediaError(f"not a readable tar ({exc})") from exc
        # tarfile takes a header cut short for the archive's end: a whole tar ends in two
        # blocks of zeros, a cut one in the middle of a header or of its last member.
        with source.open("rb") as file:
            file.seek(archive.offset)
            if file.read(_TAR_END) != bytes(_TAR_END):
                raise MediaError("the tar is cut off (it does not end as a tar ends)")

        def read(name: str) -> bytes:
            try:
                member = archive.extractfile(infos[name])
                data = b"" if member is None else member.read()
            except (tarfile.TarError, EOFError) as exc:
                raise MediaError(f"{name} is cut off in the tar") from exc
            if len(data) != infos[name].size:  # the tar ends inside it
                raise MediaError(f"{name} is cut off in the tar")
            return data

        yield {name: info.size for name, info in infos.items()}, read
