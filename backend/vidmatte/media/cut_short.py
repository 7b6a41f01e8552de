"""Whether a file stops short of what its own structure says, where FFmpeg's reader ends
quietly or hands over a partial frame as a whole one: MP4/MOV boxes, GIF blocks, MPEG-TS
packets (Matroska's: media/matroska.py). Read from the file's bytes, never decoded.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

_TS_PACKETS_CHECKED = 5  # MPEG-TS sync bytes looked for at the start (FFmpeg's probe: more)


def mp4_cut(path: Path) -> str:
    """Where an MP4 or MOV (ISO base media: boxes, the first 'ftyp') is cut short: "index"
    where it ends before its 'moov' box, the index of its samples that recordings write last,
    is whole; "data" where a box after a whole 'moov' runs past the file's end (the media
    data of a download broken off, a fragmented recording's last fragment), or where it ends
    after whole boxes but none is a 'moov' (nor a 'meta', as a HEIF image has instead); ""
    where no box is cut, or it is no such file."""
    size = path.stat().st_size
    at, indexed, described = 0, False, False
    with path.open("rb") as file:
        while at < size:
            file.seek(at)
            header = file.read(16)
            length, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if length == 1:  # a 64-bit size follows
                length = int.from_bytes(header[8:16], "big") if len(header) == 16 else size
            if len(header) >= 8 and ((at == 0 and kind != b"ftyp") or 0 < length < 8):
                return ""
            if length == 0:  # to the end of the file: a recording's media data, unfinished
                return "" if indexed else "index"
            if len(header) < 8 or at + length > size:
                return "data" if indexed and kind != b"moov" else "index"
            indexed = indexed or kind == b"moov"
            described = described or kind == b"meta"
            at += length
    return "index" if at and not (indexed or described) else ""


def gif_cut(path: Path) -> str:
    """Where a GIF is cut short: "frame" where it stops inside a block (FFmpeg's reader gives
    the part there as a whole frame, unflagged), "between" where it stops after whole blocks
    without the trailer every GIF ends in, "" where it has one, or is no GIF as read here.
    Its blocks are walked: each extension and image is a run of sized sub-blocks."""
    size = path.stat().st_size
    with path.open("rb") as file:
        screen = file.read(13)  # the signature and the logical screen descriptor
        if len(screen) < 13 or screen[:3] != b"GIF":
            return ""
        at = 13 + _gif_palette(screen[10])
        while at < size:
            file.seek(at)
            kind = file.read(1)[0]
            if kind == 0x3B:  # the trailer
                return ""
            if kind == 0x21:  # an extension: its label, then sub-blocks
                at += 2
            elif kind == 0x2C:  # an image: its descriptor, palette and LZW code size first
                descriptor = file.read(9)
                if len(descriptor) < 9:
                    return "frame"
                at += 1 + 9 + _gif_palette(descriptor[8]) + 1
            else:
                return ""
            at = _gif_sub_blocks(file, at, size)
            if at > size:
                return "frame"
    return "between"


def _gif_palette(packed: int) -> int:
    """The bytes of the colour table a GIF descriptor's packed field says follows it."""
    return 3 << ((packed & 7) + 1) if packed & 0x80 else 0


def _gif_sub_blocks(file: BinaryIO, at: int, size: int) -> int:
    """Where the run of sub-blocks from `at` ends (after its empty one); past `size` where it
    runs past the file's end."""
    while at < size:
        file.seek(at)
        length = file.read(1)[0]
        at += 1 + length
        if length == 0:
            return at
    return size + 1


def ts_cut(path: Path) -> bool:
    """Whether an MPEG-TS file stops inside one of its fixed-size packets (188 bytes; 192 in
    M2TS, a camera's .mts; 204 with DVB's check bytes), as a recording stopped mid-write does:
    FFmpeg's reader gives the video frame there as a whole one, unflagged. One cut between two
    packets cannot be told from a whole file."""
    with path.open("rb") as file:
        head = file.read(_TS_PACKETS_CHECKED * 204)
    for size, sync in ((188, 0), (192, 4), (204, 0)):
        starts = range(sync, len(head), size)
        if len(starts) >= 2 and all(head[at] == 0x47 for at in starts):
            return path.stat().st_size % size != 0
    return False
