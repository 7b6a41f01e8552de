"""Whether a file stops short of what its own structure says, where FFmpeg's reader ends
quietly or hands over a partial frame as a whole one: MP4/MOV boxes, GIF blocks, MPEG-TS
packets, NUT frames, AVI's RIFF chunks, FLV's stated size (Matroska's: media/matroska.py).
Read from the file's bytes; only an MPEG-TS whose last packet looks whole is decoded.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av

# FLV: the tag types of sound, pictures and a script (onMetaData).
_FLV_SCRIPT = 0x12
_FLV_TAGS = (0x08, 0x09, _FLV_SCRIPT)
_FLV_TAGS_BACK = 16  # tags walked back from the end to tell it ends after a whole one

_AVIF_HASINDEX = 0x10  # an AVI's main header says the 'idx1' index follows its frames
_AVI_INDEX_OF_INDEXES = 0  # an OpenDML 'indx' that lists standard indexes ('ix##')

_TS_PACKETS_CHECKED = 5  # MPEG-TS sync bytes looked for at the start (FFmpeg's probe: more)
# A TS packet's adaptation field flags: a PCR follows them; the flags with no field after
# them but the PCR's (discontinuity, random access, priority, PCR).
_TS_PCR, _TS_FLAGS_ONLY = 0x10, 0xF0
_TS_GOP_DECODED = 600  # packets decoded at most to tell a frame broken off at the end
# TS packets read back from the end for the last PES packet's start: a PES packet's stated
# length fits in 16 bits, so its start lies within 65541 bytes of payload, amid other streams.
_TS_PES_PACKETS = 4096

# NUT (FFmpeg's own container, libavformat/nut.h and its spec, nut.txt): the file's first
# bytes, and the startcodes (8 bytes, the first 'N') its main header and syncpoint packets
# begin with (every packet that has one starts with 'N'). A frame's first byte, its frame
# code, is never 'N'.
_NUT_ID = b"nut/multimedia container\x00"
_NUT_MAIN = bytes.fromhex("4e4d7a561f5f04ad")
_NUT_SYNCPOINT = bytes.fromhex("4e4be4adeeca4569")
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
    data of a download broken off, a fragmented recording's last fragment), where it ends
    after a 'moof' (a fragment's samples are in the box after it), or where it ends after
    whole boxes short of the bytes a 'sidx' lists, or of the whole duration an 'mehd' states
    (a fragmented file cut between two fragments); "index" where it ends after whole boxes
    but none is a 'moov' (nor a 'meta', as a HEIF image has instead); "" where no box is cut,
    or it is no such file. A fragmented file with neither a 'sidx' nor an 'mehd' that stops
    between two fragments cannot be told from a whole one: each fragment is whole in itself,
    'mvex' states no count, and the 'mfra' FFmpeg appends is left out by other writers (and
    by FFmpeg's own `skip_trailer`)."""
    size = path.stat().st_size
    at, indexed, described, listed, kind, stated = 0, False, False, 0, b"", 0.0
    tracks: dict[int, _Track] = {}  # a fragmented file's, where its 'mehd' states its duration
    with path.open("rb") as file:
        while at < size:
            file.seek(at)
            header = file.read(16)
            length, kind, content = int.from_bytes(header[:4], "big"), header[4:8], at + 8
            if length == 1:  # a 64-bit size follows
                length = int.from_bytes(header[8:16], "big") if len(header) == 16 else size
                content += 8
            if at == 0 and (len(header) < 8 or kind != b"ftyp"):  # not an MP4 (a short note)
                return ""
            if len(header) >= 8 and 0 < length < 8:
                return ""
            if length == 0:  # to the end of the file: a recording's media data, unfinished
                return "" if indexed else "index"
            if len(header) < 8 or at + length > size:
                return "data" if indexed and kind != b"moov" else "index"
            indexed = indexed or kind == b"moov"
            described = described or kind == b"meta"
            if kind == b"sidx":
                listed = max(listed, _sidx_end(file, at, length))
            elif kind == b"moov":
                stated, tracks = _mp4_extends(file, content, at + length)
            elif kind == b"moof" and tracks:
                _mp4_fragment(file, content, at + length, tracks)
            at += length
    if indexed and (listed > size or kind == b"moof" or _mp4_short(stated, tracks)):
        return "data"
    return "index" if at and not (indexed or described) else ""


@dataclass
class _Track:
    """A fragmented MP4's track, as its fragments are read (in its timescale): the sample
    duration its 'trex' gives by default, where its samples start and end so far (the
    'moov' may hold the first ones), and the last fragment's duration."""

    timescale: int
    default: int
    end: int
    start: int | None = None
    last: int = 0
    timed: bool = True  # False once a fragment's samples state no duration, nor a default


def _mp4_boxes(file: BinaryIO, at: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """The boxes in a box's content from `at` to `end`: each one's type, and where its own
    content starts and ends (their headers read, the rest sought past)."""
    while at + 8 <= end:
        file.seek(at)
        header = file.read(16)
        length, kind, content = int.from_bytes(header[:4], "big"), header[4:8], 8
        if length == 1:  # a 64-bit size follows
            length, content = int.from_bytes(header[8:16], "big"), 16
        if length < content or at + length > end:
            return
        yield kind, at + content, at + length
        at += length


def _mp4_read(file: BinaryIO, at: int, end: int) -> bytes:
    """The bytes from `at` to `end`: a small box's content."""
    file.seek(at)
    return file.read(end - at)


def _mp4_field(box: bytes, at: int, wide: int = 4) -> int:
    """The unsigned big-endian number of `wide` bytes at `at` in a box's content."""
    return int.from_bytes(box[at : at + wide], "big")


def _mp4_timescale(box: bytes) -> tuple[int, int]:
    """The timescale and duration an 'mvhd' or 'mdhd' box states (version 1: 64-bit times)."""
    wide = 8 if box[:1] == b"\x01" else 4
    at = 4 + 2 * wide  # past the version and flags, the creation and modification times
    return _mp4_field(box, at), _mp4_field(box, at + 4, wide)


def _mp4_extends(file: BinaryIO, at: int, end: int) -> tuple[float, dict[int, _Track]]:
    """For a 'moov' (its content from `at` to `end`) whose 'mvex' holds an 'mehd': the whole
    duration it states, in seconds, and the tracks by ID; (0, {}) for any other."""
    scale, stated = 0, 0
    defaults: dict[int, int] = {}  # each track's default sample duration, by its ID
    traks: dict[int, tuple[int, int]] = {}  # each track's timescale and 'moov' duration
    for kind, start, stop in _mp4_boxes(file, at, end):
        if kind == b"mvhd":
            scale = _mp4_timescale(_mp4_read(file, start, stop))[0]
        elif kind == b"trak":
            track, timescale, duration = _mp4_trak(file, start, stop)
            traks[track] = (timescale, duration)
        elif kind == b"mvex":
            for inner, first, last in _mp4_boxes(file, start, stop):
                box = _mp4_read(file, first, last)
                if inner == b"mehd":
                    stated = _mp4_field(box, 4, 8 if box[:1] == b"\x01" else 4)
                elif inner == b"trex":  # its track's ID, then its default description's
                    defaults[_mp4_field(box, 4)] = _mp4_field(box, 12)
    if not (scale and stated):
        return 0.0, {}
    tracks = {
        track: _Track(timescale, defaults.get(track, 0), duration)
        for track, (timescale, duration) in traks.items()
        if timescale
    }
    return stated / scale, tracks


def _mp4_trak(file: BinaryIO, at: int, end: int) -> tuple[int, int, int]:
    """A 'trak''s ID (its 'tkhd''s), and the timescale and duration of its 'mdhd' (that of
    the samples in the 'moov': none in a fragmented file's empty one)."""
    track, timescale, duration = 0, 0, 0
    for kind, start, stop in _mp4_boxes(file, at, end):
        if kind == b"tkhd":
            box = _mp4_read(file, start, stop)
            track = _mp4_field(box, 4 + 2 * (8 if box[:1] == b"\x01" else 4))
        elif kind == b"mdia":
            for inner, first, last in _mp4_boxes(file, start, stop):
                if inner == b"mdhd":
                    timescale, duration = _mp4_timescale(_mp4_read(file, first, last))
    return track, timescale, duration


def _mp4_fragment(file: BinaryIO, at: int, end: int, tracks: dict[int, _Track]) -> None:
    """Add the samples of a 'moof' (its content from `at` to `end`) to its tracks' ends: each
    'traf' states its track and default sample duration ('tfhd'), where its samples start
    ('tfdt'; where the track's last ones end without it), and their count and durations
    (each 'trun') (ISO/IEC 14496-12, 8.8)."""
    for kind, start, stop in _mp4_boxes(file, at, end):
        if kind != b"traf":
            continue
        track, default, decoded, total = None, 0, None, 0
        for inner, first, last in _mp4_boxes(file, start, stop):
            if inner not in (b"tfhd", b"tfdt", b"trun"):
                continue
            box = _mp4_read(file, first, last)
            flags = _mp4_field(box, 1, 3)
            if inner == b"tfhd":
                track = tracks.get(_mp4_field(box, 4))
                # past its base data offset and sample description index where it has them
                at_duration = 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
                default = _mp4_field(box, at_duration) if flags & 0x08 else 0
            elif inner == b"tfdt":
                decoded = _mp4_field(box, 4, 8 if box[:1] == b"\x01" else 4)
            elif track is not None:
                duration = default or track.default
                track.timed = track.timed and bool(duration or flags & 0x100)
                total += _trun_duration(box, flags, duration)
        if track is None:
            continue
        begins = track.end if decoded is None else decoded
        if track.start is None:  # a recording's first decode time need not be 0
            track.start = begins - track.end
        track.end, track.last = begins + total, total


def _trun_duration(box: bytes, flags: int, default: int) -> int:
    """The duration of the samples a 'trun' box lists: each one's, where it states them."""
    count = _mp4_field(box, 4)
    if not flags & 0x100:
        return count * default
    at = 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)  # data offset, flags
    step = 4 * bin(flags & 0xF00).count("1")  # each sample's duration, size, flags, offset
    count = min(count, (len(box) - at) // step)  # no more than the box holds
    return sum(_mp4_field(box, at + i * step) for i in range(count))


def _mp4_short(stated: float, tracks: dict[int, _Track]) -> bool:
    """Whether a fragmented file's fragments end short of the whole duration (seconds) its
    'mehd' states: each track's samples' span, with half its last fragment, falls short of
    it (a cut leaves whole fragments out; an edit list's shift, or a rounding, is far less).
    A track whose samples' durations are not all stated says nothing."""
    spans = [
        ((t.end - (t.start or 0)) + t.last / 2) / t.timescale for t in tracks.values() if t.timed
    ]
    return bool(spans) and max(spans) < stated


def _sidx_end(file: BinaryIO, at: int, length: int) -> int:
    """Where the bytes a whole 'sidx' box at `at` lists end: they start `first_offset` after
    the box, and its references' sizes follow one another (ISO/IEC 14496-12, 8.16.3). A
    global one (FFmpeg's `global_sidx`) lists every fragment, a DASH segment's its own."""
    file.seek(at + 8)
    box = file.read(length - 8)
    wide = 8 if box[:1] == b"\x01" else 4  # version 1: 64-bit times and offset
    fields = 4 + 4 + 4 + 2 * wide  # version and flags, reference ID, timescale, time, offset
    if len(box) < fields + 4:
        return 0
    first_offset = int.from_bytes(box[fields - wide : fields], "big")
    count = int.from_bytes(box[fields + 2 : fields + 4], "big")
    references = box[fields + 4 : fields + 4 + 12 * count]
    listed = sum(
        int.from_bytes(references[i : i + 4], "big") & 0x7FFFFFFF
        for i in range(0, len(references), 12)
    )
    return at + length + first_offset + listed


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
    write for video, FFmpeg's too) ends where the next one starts, or the file does; but its
    last TS packet is padded to the end (adaptation field stuffing) unless the frame's data
    fills it to the byte, where every other one is full: a last one full (1 in 184 whole
    files) is told from a cut by decoding the frame, which the decoder flags broken off."""
    size = path.stat().st_size
    with path.open("rb") as file:
        head = file.read(_TS_PACKETS_CHECKED * 204)
        for packet, sync in ((188, 0), (192, 4), (204, 0)):
            starts = range(sync, len(head), packet)
            if len(starts) >= 2 and all(head[at] == 0x47 for at in starts):
                if size % packet:
                    return True
                if pid is None:
                    return False
                stops = _ts_pes_stops(file, size // packet, packet, sync, pid)
                return stops == "short" or (stops == "full" and _ts_last_frame_broken(path, pid))
    return False


def _ts_pes_stops(file: BinaryIO, count: int, packet: int, sync: int, pid: int) -> str:
    """How the last PES packet of stream `pid` in a file of `count` TS packets (each `packet`
    bytes, its sync byte at `sync`) ends: "short" where it holds fewer bytes than its header
    says, "full" where it states no length and its last TS packet is full of its data, ""
    otherwise. Read back from the end, its TS packets' payloads summed up to the one it
    starts in."""
    held, full = 0, None
    for index in range(count - 1, max(count - _TS_PES_PACKETS, 0) - 1, -1):
        file.seek(index * packet + sync)
        ts = file.read(188)
        if ts[0] != 0x47 or ((ts[1] & 0x1F) << 8 | ts[2]) != pid or not ts[3] & 0x10:
            continue  # another stream's, or no payload (adaptation field only)
        adaptation = 1 + ts[4] if ts[3] & 0x20 else 0
        full = _ts_unpadded(ts) if full is None else full
        held += max(len(ts) - 4 - adaptation, 0)
        if ts[1] & 0x40:  # the PES packet starts here: 00 00 01, its stream id, its length
            pes = ts[4 + adaptation : 4 + adaptation + 6]
            length = int.from_bytes(pes[4:6], "big") if pes[:3] == b"\x00\x00\x01" else 0
            if length:
                return "short" if held < 6 + length else ""
            return "full" if full else ""
    return ""


def _ts_unpadded(ts: bytes) -> bool:
    """Whether a TS packet's payload runs up to its end: it has no adaptation field, or one
    that holds flags (a random access point's, a PCR) and no stuffing. One with fields not
    read here (an OPCR, a splice countdown, private data, an extension) counts as padded."""
    if not ts[3] & 0x20:
        return True
    length = ts[4]
    flags = ts[5] if length else 0
    kept = 1 + (6 if flags & _TS_PCR else 0)  # the flags, and a PCR's 6 bytes
    return bool(flags & _TS_FLAGS_ONLY) and not flags & ~_TS_FLAGS_ONLY and length == kept


def _ts_last_frame_broken(path: Path, pid: int) -> bool:
    """Whether the decoder flags broken the frame of the last packet of the TS's video stream
    `pid`, decoded from the keyframe before it (one run of more than _TS_GOP_DECODED packets
    is not decoded: False)."""
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = next((s for s in container.streams.video if s.id == pid), None)
        if stream is None:
            return False
        run: list[av.Packet] = []
        for packet in container.demux(stream):
            if packet.size and packet.is_keyframe:
                run = []
            if packet.size and len(run) <= _TS_GOP_DECODED:
                run.append(packet)
        if not run or len(run) > _TS_GOP_DECODED:
            return False
        try:
            frames = [f for p in [*run, None] for f in stream.decode(p)]
        except av.error.FFmpegError:
            return True
    return any(f.is_corrupt for f in frames if f.pts == run[-1].pts)


def avi_cut(path: Path) -> bool:
    """Whether an AVI ends before its RIFF chunks say (the first, 'AVI ', and the 'AVIX' ones
    of an OpenDML file over 1 GB follow one another): one cut between two frames' chunks, or
    in a chunk's header, is read as the whole video, where FFmpeg's reader flags a frame cut
    in two itself. A size of 0 (a recorder that never wrote it) says nothing. Some writers
    state a wrong RIFF size (its own header counted, a stale value), and a repaired recording
    a wrong 'movi' size too: the RIFF that runs past the file's end is cut only where the
    chunks in it say so too (an 'AVIX' one, where the OpenDML index in the header does).
    One whose RIFFs are all whole may have been cut where the next one starts: where its
    header's OpenDML super index lists a standard index past its end, it was."""
    size = path.stat().st_size
    at = 0
    with path.open("rb") as file:
        while at + 8 <= size:
            file.seek(at)
            header = file.read(12)
            length = int.from_bytes(header[4:8], "little")
            if header[:4] != b"RIFF" or length == 0:
                return False
            if at + 8 + length > size and header[8:12] == b"AVIX":
                return _avix_cut(file, at + 12, size)
            if at + 8 + length > size:
                return _avi_chunks_cut(file, at + 12, size, header[8:12] == b"AVI ")
            at += 8 + length + (length & 1)  # the pad byte after an odd size
        listed = _avi_indexes_end(file, size)
    return listed is not None and listed > size


def _avix_cut(file: BinaryIO, at: int, size: int) -> bool:
    """Whether an OpenDML file whose 'AVIX' RIFF from `at` on states more than the file
    holds is cut short. Some writers state wrong sizes in the later RIFFs and their 'movi'
    lists, so those (and the ones after) are stepped into, not over, and only the chunks in
    them, frames and indexes, whose sizes are written with them, are sized: cut where one
    runs past the end. Where they end whole, the end could be a cut between two of them:
    the super indexes of the header tell (a writer fills in each one's entry for a RIFF as
    it closes it), each listing every RIFF's standard index ('ix##', written after its
    frames): cut where one ends past the file's end, or where the header has none (nothing
    to tell by, as before)."""
    while at < size:
        file.seek(at)
        header = file.read(8)
        if not header.strip(b"\x00"):
            break  # zeros to a sector's end (some writers'), no chunk
        if len(header) < 8:
            return True
        if header[:4] in (b"RIFF", b"LIST"):
            at += 12  # past its size and type, to its first chunk
            continue
        length = int.from_bytes(header[4:8], "little")
        if at + 8 + length > size:
            return True
        at += 8 + length + (length & 1)
    listed = _avi_indexes_end(file, size)
    return listed is None or listed > size


def _avi_chunks(file: BinaryIO, at: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """The whole chunks from `at` to `end`: each one's FOURCC (a list's type, as 'strl', for
    a 'LIST') and where its content starts (a list's after its type) and ends."""
    while at + 8 <= end:
        file.seek(at)
        header = file.read(12)
        length = int.from_bytes(header[4:8], "little")
        if at + 8 + length > end:
            return
        if header[:4] == b"LIST":
            yield header[8:12], at + 12, at + 8 + length
        else:
            yield header[:4], at + 8, at + 8 + length
        at += 8 + length + (length & 1)


def _avi_indexes_end(file: BinaryIO, size: int) -> int | None:
    """Where the last of the standard indexes the super indexes ('indx', one a stream, in
    its 'strl' list) of the first RIFF's 'hdrl' header list ends; None where it has none."""
    hdrl = next(_avi_chunks(file, 12, size), None)
    if hdrl is None or hdrl[0] != b"hdrl":
        return None
    ends = [
        listed
        for kind, at, end in _avi_chunks(file, hdrl[1], hdrl[2])
        if kind == b"strl"
        for inner, first, last in _avi_chunks(file, at, end)
        if inner == b"indx"
        for listed in _avi_super_index(file, first, last)
    ]
    return max(ends, default=None)


def _avi_super_index(file: BinaryIO, at: int, end: int) -> list[int]:
    """Where each standard index that the super index (AVISUPERINDEX, OpenDML 1.02) whose
    content is from `at` to `end` lists ends: its entries in use follow a 24-byte head, each
    the index's offset in the file (64 bits), its size and its duration; none for an index
    of another type (bIndexType not AVI_INDEX_OF_INDEXES, 0)."""
    file.seek(at)
    content = file.read(end - at)
    if len(content) < 24 or content[3] != _AVI_INDEX_OF_INDEXES:
        return []
    count = min(int.from_bytes(content[4:8], "little"), (len(content) - 24) // 16)
    entries = (struct.unpack_from("<QI", content, 24 + 16 * i) for i in range(count))
    return [offset + length for offset, length in entries if offset]


def _avi_chunks_cut(file: BinaryIO, at: int, size: int, first: bool) -> bool:
    """Whether the chunks of a RIFF from `at` on say the file is cut short: one of them runs
    past its end (the frames' 'movi' list, where the chunks in it do too, or no 'idx1' index
    follows them), or the file stops in a chunk's header, or, in the first RIFF, right after
    the 'movi' list where its header says the 'idx1' index follows (AVIF_HASINDEX). A RIFF
    whose chunks are all whole is whole, whatever its size says."""
    indexed, last = False, b""
    while at < size:
        file.seek(at)
        header = file.read(16)
        if not header[:8].strip(b"\x00"):
            break  # zeros to a sector's end (some writers'), no chunk
        if len(header) < 8:
            return True
        length = int.from_bytes(header[4:8], "little")
        if header[:4] == b"LIST" and header[8:12] == b"hdrl":
            indexed = _avi_has_index(file, at + 12, at + 8 + length)
        last = header[8:12] if header[:4] == b"LIST" else header[:4]
        if at + 8 + length <= size:
            at += 8 + length + (length & 1)
        elif last == b"movi":
            at = _avi_movi_end(file, at + 12, size)
            if at > size:
                return True
        else:
            return True
    return first and indexed and last == b"movi"


def _avi_movi_end(file: BinaryIO, at: int, size: int) -> int:
    """Where the 'movi' list whose chunks (frames, or 'rec ' lists of them) start at `at`
    ends, for one whose stated size runs past the file's end: where its chunks lead to the
    'idx1' index after them (the size is wrong: some repaired recordings'), or past `size`
    where they lead to the file's end first (cut short, or no index to tell)."""
    while at + 8 <= size:
        file.seek(at)
        header = file.read(8)
        if header[:4] == b"idx1":
            return at
        if not header.strip(b"\x00"):
            break  # zeros to a sector's end, no index after them
        length = int.from_bytes(header[4:8], "little")
        at += 8 + length + (length & 1)
    return size + 1


def _avi_has_index(file: BinaryIO, at: int, end: int) -> bool:
    """Whether the 'avih' main header first in the 'hdrl' list from `at` on sets
    AVIF_HASINDEX (its dwFlags, the fourth of its 32-bit fields)."""
    file.seek(at)
    avih = file.read(min(8 + 16, end - at))
    return avih[:4] == b"avih" and len(avih) == 24 and bool(avih[20] & _AVIF_HASINDEX)


def flv_cut(path: Path) -> bool:
    """Whether an FLV stops inside a tag (its header, its data or the size after it) where
    the "filesize" its onMetaData script tag (first in the file) states is over the file's:
    one cut in a tag's header or trailing size is read as the whole video, where FFmpeg's
    reader flags a frame cut in two itself. A file that states no size, or 0 (a live
    recording's), says nothing. Every tag of a whole file is followed by its size, so the
    sizes lead back from its end through whole tags; one cut exactly between two tags cannot
    be told from a whole one: live recorders and rewriting tools leave a stale "filesize"
    and "duration" (and no end-of-sequence tag) on whole files, which the same bytes are."""
    size = path.stat().st_size
    with path.open("rb") as file:
        header = file.read(9)
        if len(header) < 9 or header[:3] != b"FLV":
            return False
        first = int.from_bytes(header[5:9], "big") + 4  # past the first PreviousTagSize
        file.seek(first)
        tag = file.read(11)
        if len(tag) < 11 or tag[0] != _FLV_SCRIPT:
            return False
        script = file.read(int.from_bytes(tag[1:4], "big"))
        if _amf_number(script, b"filesize") <= size:
            return False
        return not _flv_ends_whole(file, first, size)


def _amf_number(script: bytes, key: bytes) -> float:
    """The number an onMetaData object gives `key` (AMF0: the name's 16-bit length, the
    name, the value's type, 0 for a 64-bit float); 0 where it has none."""
    named = len(key).to_bytes(2, "big") + key + b"\x00"
    at = script.find(named)
    if at < 0 or len(script) < at + len(named) + 8:
        return 0.0
    (value,) = struct.unpack_from(">d", script, at + len(named))
    return value


def _flv_ends_whole(file: BinaryIO, first: int, size: int) -> bool:
    """Whether the FLV's last tags, walked back from its end through each one's trailing
    PreviousTagSize, are whole: each size leads to a tag of a known type whose header states
    that size, up to _FLV_TAGS_BACK of them or the first tag (at `first`). The bytes of a
    file cut inside a tag read as sizes that lead nowhere."""
    end = size
    for _ in range(_FLV_TAGS_BACK):
        if end == first:
            return True
        file.seek(end - 4)
        length = int.from_bytes(file.read(4), "big")
        if not 11 <= length <= end - 4 - first:
            return False
        file.seek(end - 4 - length)
        tag = file.read(11)
        kind = tag[0] & 0x1F  # the bits above: reserved, and the filter (encryption) flag
        stated = int.from_bytes(tag[1:4], "big")
        if kind not in _FLV_TAGS or stated != length - 11 or tag[8:11] != bytes(3):
            return False  # its last 3 bytes, the stream ID, are always 0
        end -= 4 + length
    return True


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
    unflagged), "between" where it stops elsewhere (in a frame's header, in another stream's
    frame, in a syncpoint or the index, or after a syncpoint, which always has a frame after
    it), "" where it ends after a whole frame, its index or headers (which writers repeat
    at the end), or is no NUT as read here, or one written without syncpoints (`-syncpoints
    none`). A file that ends after a whole frame without the index FFmpeg writes last is not
    called cut: FFmpeg leaves the index out where told to (`write_index=0`), and every byte
    before it is the same, so nothing in the file tells a cut there from a whole one. Its
    packets are walked: a startcode packet says its length, a frame's header its data's
    (through the frame codes of the main header)."""
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
    return "between" if last == _NUT_SYNCPOINT else ""


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
