"""Whether a file stops short of what its own structure says, where FFmpeg's reader ends
quietly or hands over a partial frame as a whole one: MP4/MOV boxes, GIF blocks, MPEG-TS
packets, NUT frames, AVI's RIFF chunks, FLV's stated size (Matroska's: media/matroska.py).
Read from the file's bytes, never decoded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# FLV: the tag type of a script (onMetaData), and its "filesize" key as AMF0 writes it in an
# object (a 16-bit length, the name), then the type of its value (0: a 64-bit float).
_FLV_SCRIPT = 0x12
_FLV_FILESIZE = b"\x00\x08filesize\x00"

_TS_PACKETS_CHECKED = 5  # MPEG-TS sync bytes looked for at the start (FFmpeg's probe: more)
# TS packets read back from the end for the last PES packet's start: a PES packet's stated
# length fits in 16 bits, so its start lies within 65541 bytes of payload, amid other streams.
_TS_PES_PACKETS = 4096

# NUT (FFmpeg's own container, libavformat/nut.h and its spec, nut.txt): the file's first
# bytes, and the startcodes (8 bytes, the first 'N') its header, syncpoint and index packets
# begin with. A frame's first byte, its frame code, is never 'N'.
_NUT_ID = b"nut/multimedia container\x00"
_NUT_MAIN = bytes.fromhex("4e4d7a561f5f04ad")
_NUT_SYNCPOINT = bytes.fromhex("4e4be4adeeca4569")
_NUT_INDEX = bytes.fromhex("4e58dd672f23e64e")
_NUT_STARTCODE = ord("N")
_NUT_LONG_PACKET = 4096  # a packet whose forward pointer is over this has a header checksum
# A frame code's flags (nut.h) that say which fields its frame header codes.
_NUT_CODED_PTS = 0x8
_NUT_STREAM_ID = 0x10
_NUT_SIZE_MSB = 0x20
_NUT_CHECKSUM = 0x40
_NUT_RESERVED = 0x80
_NUT_HEADER_IDX = 0x400
_NUT_MATCH_TIME = 0x800
_NUT_CODED = 0x1000
_NUT_INVALID = 0x2000
_NUT_ELISION_LIMIT = 4096  # a frame larger than this elides no header bytes


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


def ts_cut(path: Path, pid: int | None = None) -> bool:
    """Whether an MPEG-TS file stops inside one of its fixed-size packets (188 bytes; 192 in
    M2TS, a camera's .mts; 204 with DVB's check bytes), as a recording stopped mid-write does,
    or, between two packets, inside the last PES packet (a frame) of the stream `pid` where
    that packet's header says its length: FFmpeg's reader gives the video frame there as a
    whole one, unflagged. A PES packet of unstated length (0, "unbounded", which most muxers
    write for video, FFmpeg's too) ends where the next one starts, or the file does: a cut
    between two TS packets then cannot be told from a whole file."""
    size = path.stat().st_size
    with path.open("rb") as file:
        head = file.read(_TS_PACKETS_CHECKED * 204)
        for packet, sync in ((188, 0), (192, 4), (204, 0)):
            starts = range(sync, len(head), packet)
            if len(starts) >= 2 and all(head[at] == 0x47 for at in starts):
                if size % packet:
                    return True
                return pid is not None and _ts_pes_short(file, size // packet, packet, sync, pid)
    return False


def _ts_pes_short(file: BinaryIO, count: int, packet: int, sync: int, pid: int) -> bool:
    """Whether the last PES packet of stream `pid` in a file of `count` TS packets (each
    `packet` bytes, its sync byte at `sync`) holds fewer bytes than its header says: read back
    from the end, its TS packets' payloads summed up to the one it starts in."""
    held = 0
    for index in range(count - 1, max(count - _TS_PES_PACKETS, 0) - 1, -1):
        file.seek(index * packet + sync)
        ts = file.read(188)
        if ts[0] != 0x47 or ((ts[1] & 0x1F) << 8 | ts[2]) != pid or not ts[3] & 0x10:
            continue  # another stream's, or no payload (adaptation field only)
        payload = 4 + (1 + ts[4] if ts[3] & 0x20 else 0)
        held += max(len(ts) - payload, 0)
        if ts[1] & 0x40:  # the PES packet starts here: 00 00 01, its stream id, its length
            pes = ts[payload : payload + 6]
            length = int.from_bytes(pes[4:6], "big") if pes[:3] == b"\x00\x00\x01" else 0
            return length > 0 and held < 6 + length
    return False


def avi_cut(path: Path) -> bool:
    """Whether an AVI ends before its RIFF chunks say (the first, 'AVI ', and the 'AVIX' ones
    of an OpenDML file over 1 GB follow one another): one cut between two frames' chunks, or
    in a chunk's header, is read as the whole video, where FFmpeg's reader flags a frame cut
    in two itself. A size of 0 (a recorder that never wrote it) says nothing."""
    size = path.stat().st_size
    at = 0
    with path.open("rb") as file:
        while at + 8 <= size:
            file.seek(at)
            header = file.read(8)
            length = int.from_bytes(header[4:], "little")
            if header[:4] != b"RIFF" or length == 0:
                return False
            at += 8 + length
            if at > size:
                return True
            at += length & 1  # the pad byte after an odd size (left off the last by some)
    return False


def flv_cut(path: Path) -> bool:
    """Whether an FLV is shorter than the size its metadata states (the "filesize" of the
    onMetaData script tag first in the file, which FFmpeg writes when it finishes a file): one
    cut between two tags is read as the whole video, where FFmpeg's reader flags a frame cut
    in two itself. A file that states none, or 0 (a live recording's), says nothing."""
    size = path.stat().st_size
    with path.open("rb") as file:
        header = file.read(9)
        if len(header) < 9 or header[:3] != b"FLV":
            return False
        file.seek(int.from_bytes(header[5:9], "big") + 4)  # past the first PreviousTagSize
        tag = file.read(11)
        if len(tag) < 11 or tag[0] != _FLV_SCRIPT:
            return False
        script = file.read(int.from_bytes(tag[1:4], "big"))
    at = script.find(_FLV_FILESIZE)
    if at < 0 or len(script) < at + len(_FLV_FILESIZE) + 8:
        return False
    (stated,) = struct.unpack_from(">d", script, at + len(_FLV_FILESIZE))
    return stated > size


@dataclass(frozen=True)
class _NutCode:
    """What one of a NUT file's 256 frame codes says of the frame headers that use it."""

    flags: int
    stream: int
    size_lsb: int
    size_mul: int
    reserved: int
    header_idx: int


def nut_cut(path: Path, stream: int = 0) -> str:
    """Where a NUT file is cut short: "frame" where it stops inside the data of a frame of
    stream `stream` (its index; FFmpeg's reader gives the part there as a whole frame,
    unflagged), "between" where it stops elsewhere (between two frames, in a frame's header,
    in another stream's frame or in a syncpoint) without the index FFmpeg writes last, ""
    where that index ends it, or the file is no NUT as read here, or one written without
    syncpoints (`-syncpoints none`, which has no index either). Its packets are walked: a
    startcode packet says its length, a frame's header its data's (through the frame codes
    of the main header)."""
    size = path.stat().st_size
    with path.open("rb") as file:
        if file.read(len(_NUT_ID)) != _NUT_ID or file.read(8) != _NUT_MAIN:
            return ""
        try:
            at, codes, elided = _nut_main_header(file)
        except (EOFError, IndexError):
            return ""
        synced, last = False, b""
        while at < size:
            file.seek(at)
            if file.read(1)[0] == _NUT_STARTCODE:
                file.seek(at)
                last = file.read(8)
                synced = synced or last == _NUT_SYNCPOINT
                try:
                    at = _nut_packet_end(file)
                except EOFError:
                    at = size + 1
                if at > size:  # cut in it (the index, or a syncpoint before a frame)
                    return "between" if synced else ""
                continue
            file.seek(at)
            try:
                of, data = _nut_frame_data(file, codes, elided)
            except EOFError:
                return "between" if synced else ""
            except IndexError:  # a frame code or header index it does not have
                return ""
            at, last = file.tell() + data, b""
            if at > size:
                return "frame" if of == stream and file.tell() < size else "between"
    return "between" if synced and last != _NUT_INDEX else ""


def _nut_main_header(file: BinaryIO) -> tuple[int, list[_NutCode], list[int]]:
    """Read from just after the main header's startcode: where the packet after it starts,
    the frame codes it defines and the lengths of the headers frames may elide (the first,
    0: none). IndexError where it reads past its own length, or defines codes FFmpeg's reader
    refuses."""
    length = _nut_v(file)
    if length > _NUT_LONG_PACKET:
        file.read(4)
    end = file.tell() + length

    def field() -> int:
        if file.tell() >= end:
            raise IndexError("past the main header's end")
        return _nut_v(file)

    if field() > 3:  # the version, then the minor version
        field()
    field()  # the stream count
    field()  # the most bytes between two syncpoints
    for _ in range(2 * field()):  # each time base's numerator and denominator
        field()
    codes: list[_NutCode] = []
    mul, stream, header_idx = 1, 0, 0  # kept from one run of codes to the next, as FFmpeg does
    while len(codes) < 256:
        flags, fields = field(), field()
        values = [field() for _ in range(fields)]
        mul = values[1] if fields > 1 else mul
        stream = values[2] if fields > 2 else stream
        lsb = values[3] if fields > 3 else 0
        reserved = values[4] if fields > 4 else 0
        count = values[5] if fields > 5 else mul - lsb
        header_idx = values[7] if fields > 7 else header_idx
        if count <= 0:
            raise IndexError("an empty run of frame codes")
        j = 0
        while j < count and len(codes) < 256:
            if len(codes) == _NUT_STARTCODE:  # 'N' starts a startcode, never a frame
                codes.append(_NutCode(_NUT_INVALID, 0, 0, 0, 0, 0))
                continue
            codes.append(_NutCode(flags, stream, lsb + j, mul, reserved, header_idx))
            j += 1
    elided = [0]
    if end > file.tell() + 4:  # the lengths of the elision headers, before the checksum
        for _ in range(field()):
            elided.append(field())
            file.seek(elided[-1], 1)
    return end, codes, elided


def _nut_packet_end(file: BinaryIO) -> int:
    """Where the startcode packet whose startcode was just read ends."""
    length = _nut_v(file)
    if length > _NUT_LONG_PACKET:
        file.read(4)
    return file.tell() + length


def _nut_frame_data(file: BinaryIO, codes: list[_NutCode], elided: list[int]) -> tuple[int, int]:
    """Read a frame's header: its stream, and the bytes of its data that follow in the file."""
    code = codes[file.read(1)[0]]
    flags, size, reserved, header_idx = code.flags, code.size_lsb, code.reserved, code.header_idx
    if flags & _NUT_INVALID:
        raise IndexError("an invalid frame code")
    if flags & _NUT_CODED:
        flags ^= _nut_v(file)
    stream = _nut_v(file) if flags & _NUT_STREAM_ID else code.stream
    if flags & _NUT_CODED_PTS:
        _nut_v(file)
    if flags & _NUT_SIZE_MSB:
        size += code.size_mul * _nut_v(file)
    if flags & _NUT_MATCH_TIME:
        _nut_v(file)
    if flags & _NUT_HEADER_IDX:
        header_idx = _nut_v(file)
    if flags & _NUT_RESERVED:
        reserved = _nut_v(file)
    for _ in range(reserved):
        _nut_v(file)
    if flags & _NUT_CHECKSUM and len(file.read(4)) < 4:
        raise EOFError
    return stream, size - (0 if size > _NUT_ELISION_LIMIT else elided[header_idx])


def _nut_v(file: BinaryIO) -> int:
    """A NUT variable-length number: 7 bits a byte, most significant first, the top bit set
    on all bytes but the last (a signed one is read the same way, and not used here)."""
    value = 0
    while True:
        byte = file.read(1)
        if not byte:
            raise EOFError
        value = value << 7 | byte[0] & 0x7F
        if byte[0] < 0x80:
            return value
