"""Matroska/WebM headers, read and set where FFmpeg through PyAV cannot.

A WebM export's display size, so an anamorphic source's matte shows as wide as the source does:
FFmpeg's Matroska muxer writes DisplayWidth only from the stream's own sample aspect ratio
(AVStream's), which PyAV cannot set, and VP9 itself has no place for one. So the size is added
to the finished file: the video track's Video element gets DisplayWidth and DisplayHeight, and
the Void element FFmpeg reserves after the SeekHead gives up as many bytes, so nothing from the
Tracks element on moves (clusters and cues keep their positions) and only the SeekHead's
positions of the elements between the Void and the Tracks' end change (Matroska specification,
RFC 9559).

A WebM export's audio track, where no sound falls within its frames: FFmpeg's MP4 and MOV
muxers leave a track without packets out, its Matroska muxer writes it all the same. So the
finished file's audio TrackEntry, and the Tag that gives its duration, become Void elements
of the same length: nothing else moves.

Whether a file is cut short: FFmpeg's reader ends quietly where the data does, but the Segment
states its size, or, in a live recording that leaves it unknown, the element the file stops in
states its own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

_EBML, _SEGMENT = 0x1A45DFA3, 0x18538067
_SEEK_HEAD, _SEEK, _SEEK_POSITION = 0x114D9B74, 0x4DBB, 0x53AC
_VOID, _CRC32, _CLUSTER = 0xEC, 0xBF, 0x1F43B675
_TRACKS, _TRACK_ENTRY, _TRACK_TYPE, _VIDEO = 0x1654AE6B, 0xAE, 0x83, 0xE0
_TRACK_UID, _TAGS, _TAG, _TARGETS, _TAG_TRACK_UID = 0x73C5, 0x1254C367, 0x7373, 0x63C0, 0x63C5
_DISPLAY_WIDTH, _DISPLAY_HEIGHT, _DISPLAY_UNIT = 0x54B0, 0x54BA, 0x54B2
_VIDEO_TRACK, _AUDIO_TRACK = 1, 2  # TrackType
_UNKNOWN_SIZE = -1
_MAX_ID_WIDTH = 4  # bytes an element ID takes at most
_MAX_HEADER = _MAX_ID_WIDTH + 8  # an ID and the widest size
# FFmpeg writes a few hundred bytes before the first Cluster: this is plenty.
_HEAD_BYTES = 64 * 1024


@dataclass
class _Element:
    id: int
    id_bytes: bytes
    size_width: int  # bytes the size field took: kept where the new size fits
    start: int  # of the element's header, in the buffer it was read from
    data: bytes

    @property
    def length(self) -> int:
        return len(self.id_bytes) + self.size_width + len(self.data)


def _vint(buffer: bytes, at: int) -> tuple[int, int]:
    """(value without its length marker, length in bytes) of the variable-size integer at
    `at`; value -1 for a size of all ones (unknown)."""
    if at >= len(buffer):
        raise ValueError("an element is cut off")
    first = buffer[at]
    width = 9 - first.bit_length() if first else 9
    if width > 8 or at + width > len(buffer):
        raise ValueError("not an EBML variable-size integer")
    value = first & (0xFF >> width)
    for byte in buffer[at + 1 : at + width]:
        value = value << 8 | byte
    return (_UNKNOWN_SIZE if value == (1 << 7 * width) - 1 else value), width


def _elements(buffer: bytes, start: int = 0, end: int | None = None) -> list[_Element]:
    """The elements one after another in buffer[start:end], up to the first Cluster (whose
    size a live writer may leave unknown) or the end."""
    end = len(buffer) if end is None else end
    found = []
    at = start
    while at < end:
        id_width = _vint(buffer, at)[1]
        element_id = int.from_bytes(buffer[at : at + id_width], "big")
        size, size_width = _vint(buffer, at + id_width)
        if element_id == _CLUSTER or size == _UNKNOWN_SIZE:
            break
        data_at = at + id_width + size_width
        if data_at + size > end:
            raise ValueError("an element runs past its parent")
        found.append(
            _Element(
                element_id,
                buffer[at : at + id_width],
                size_width,
                at,
                buffer[data_at : data_at + size],
            )
        )
        at = data_at + size
    return found


def _size(value: int, width: int) -> bytes:
    """`value` as an EBML size `width` bytes long, or wider where it needs more."""
    while value >= (1 << 7 * width) - 1:  # all ones would read as "unknown"
        width += 1
    return ((1 << 7 * width) | value).to_bytes(width, "big")


def _encode(element: _Element, data: bytes) -> bytes:
    return element.id_bytes + _size(len(data), element.size_width) + data


def _uint(element_id: int, value: int) -> bytes:
    data = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return (
        element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + _size(len(data), 1) + data
    )


def _with_display_size(tracks: _Element, width: int, height: int) -> bytes | None:
    """The Tracks element with its video track's display size set; None without one."""
    entries = []
    done = False
    for entry in _elements(tracks.data):
        children = _elements(entry.data) if entry.id == _TRACK_ENTRY else []
        kinds = [c.data for c in children if c.id == _TRACK_TYPE]
        if done or kinds != [_VIDEO_TRACK.to_bytes(1, "big")]:
            entries.append(_encode(entry, entry.data))
            continue
        parts = []
        for child in children:
            if child.id == _VIDEO:
                kept = [
                    _encode(c, c.data)
                    for c in _elements(child.data)
                    if c.id not in (_DISPLAY_WIDTH, _DISPLAY_HEIGHT, _DISPLAY_UNIT)
                ]
                size = _uint(_DISPLAY_WIDTH, width) + _uint(_DISPLAY_HEIGHT, height)
                parts.append(_encode(child, b"".join(kept) + size))
                done = True
            else:
                parts.append(_encode(child, child.data))
        entries.append(_encode(entry, b"".join(parts)))
    return _encode(tracks, b"".join(entries)) if done else None


def _moved_seek_head(seek_head: _Element, after: int, up_to: int, shift: int) -> bytes | None:
    """The SeekHead with the positions in (after, up_to] moved by -`shift`, each kept in its
    field's width (a smaller number fits); None where it holds a checksum to keep right."""
    seeks = []
    for seek in _elements(seek_head.data):
        if seek.id == _CRC32:
            return None
        fields = []
        for child in _elements(seek.data) if seek.id == _SEEK else []:
            value = int.from_bytes(child.data, "big")
            if child.id == _SEEK_POSITION and after < value <= up_to:
                fields.append(_encode(child, (value - shift).to_bytes(len(child.data), "big")))
            else:
                fields.append(_encode(child, child.data))
        seeks.append(
            _encode(seek, b"".join(fields)) if seek.id == _SEEK else _encode(seek, seek.data)
        )
    return _encode(seek_head, b"".join(seeks))


def set_display_size(path: Path, width: int, height: int) -> bool:
    """Set the display size of the video track of the Matroska/WebM file at `path`, in place.
    False (the file untouched) where its header is not laid out as FFmpeg lays it out: a
    SeekHead, then a Void with room for the growth, before the Tracks."""
    with path.open("r+b") as file:
        head = file.read(_HEAD_BYTES)
        try:
            base = _segment(head)[0]
            region = _elements(head, base)
        except ValueError:
            return False
        ids = [e.id for e in region]
        if not ids or ids[0] != _SEEK_HEAD or _VOID not in ids or _TRACKS not in ids:
            return False
        void, tracks = ids.index(_VOID), ids.index(_TRACKS)
        if void > tracks or any(e.id == _CRC32 for e in _elements(region[tracks].data)):
            return False
        new_tracks = _with_display_size(region[tracks], width, height)
        if new_tracks is None:
            return False
        shift = len(new_tracks) - region[tracks].length  # what the Void gives up
        if not 0 <= shift <= len(region[void].data):
            return False
        relative = [e.start - base for e in region]
        seek_head = _moved_seek_head(region[0], relative[void], relative[tracks], shift)
        if seek_head is None:
            return False
        parts = [seek_head]
        for index, element in enumerate(region[1:], start=1):
            if index == void:
                parts.append(_encode(element, bytes(len(element.data) - shift)))
            else:
                parts.append(new_tracks if index == tracks else _encode(element, element.data))
        rewritten = b"".join(parts)
        if len(rewritten) != sum(e.length for e in region):
            return False  # a size field had to grow: what follows would move
        file.seek(base)
        file.write(rewritten)
    return True


def drop_audio_tracks(path: Path) -> bool:
    """Turn the audio tracks of the Matroska/WebM file at `path` (which must have no blocks:
    nothing refers to them then but their Tags) into Void elements, in place. False (the file
    untouched) where its header is not laid out as FFmpeg lays it out, or has none."""
    with path.open("r+b") as file:
        head = file.read(_HEAD_BYTES)
        try:
            base = _segment(head)[0]
            region = _elements(head, base)
            voided = _audio_entries(region)
        except ValueError:
            return False
        if not voided:
            return False
        for element in voided:
            file.seek(element.start)
            file.write(_void(element.length))
    return True


def _audio_entries(region: list[_Element]) -> list[_Element]:
    """The audio TrackEntries of the Segment's first elements and the Tags that target them;
    none where a parent holds a checksum, which voiding a child would break."""
    tracks = [e for e in region if e.id == _TRACKS]
    entries = [entry for t in tracks for entry in _children(t) if entry.id == _TRACK_ENTRY]
    audio: list[_Element] = []
    uids: set[bytes | None] = set()
    for entry in entries:
        fields = {child.id: child.data for child in _children(entry)}
        if fields.get(_TRACK_TYPE) == _AUDIO_TRACK.to_bytes(1, "big"):
            audio.append(entry)
            uids.add(fields.get(_TRACK_UID))
    tags = [tag for t in region if t.id == _TAGS for tag in _children(t) if tag.id == _TAG]
    for tag in tags:
        targets = [c for c in _children(tag) if c.id == _TARGETS]
        targeted = {c.data for t in targets for c in _children(t) if c.id == _TAG_TRACK_UID}
        if targeted and targeted <= uids:
            audio.append(tag)
    parents = [*tracks, *(t for t in region if t.id == _TAGS)]
    if any(c.id == _CRC32 for parent in parents for c in _children(parent)):
        return []
    return audio


def _children(element: _Element) -> list[_Element]:
    """`element`'s children, each with its `start` in the same buffer as `element`'s."""
    at = element.start + len(element.id_bytes) + element.size_width
    return [replace(c, start=c.start + at) for c in _elements(element.data)]


def _void(length: int) -> bytes:
    """A Void element `length` bytes long in all (at least 2)."""
    for width in range(1, 9):
        size = length - 1 - width
        if size < (1 << 7 * width) - 1:
            return _VOID.to_bytes(1, "big") + _size(size, width) + bytes(size)
    raise ValueError(f"no Void element is {length} bytes long")


def cut_short(path: Path) -> bool:
    """Whether the Matroska/WebM file at `path` ends before its Segment says it does (a
    download broken off), or, where a live recorder left the Segment's size unknown
    (MediaRecorder, a stream's), inside one of its elements (a recording stopped mid-write).
    One cut exactly between two elements cannot be told from a whole one."""
    end = path.stat().st_size
    with path.open("rb") as file:
        head = file.read(_HEAD_BYTES)
        try:
            base, size = _segment(head)
        except ValueError:
            return False
        if size != _UNKNOWN_SIZE:
            return base + size > end
        return _runs_on(file, base, end)


def _runs_on(file: BinaryIO, at: int, end: int) -> bool:
    """Whether the elements from `at` on run past `end`, the file's: each element of known
    size is stepped over, one of unknown size (a live recorder's Cluster) stepped into, its
    children following. False where the bytes stop being EBML (what follows cannot be told)."""
    while at < end:
        file.seek(at)
        head = file.read(_MAX_HEADER)
        if head[0] == 0:
            return False
        id_width = 9 - head[0].bit_length()
        if id_width > _MAX_ID_WIDTH:
            return False
        if len(head) <= id_width:
            return True  # cut in its ID
        if head[id_width] == 0:
            return False
        size_width = 9 - head[id_width].bit_length()
        if len(head) < id_width + size_width:
            return True  # cut in its size
        size = _vint(head, id_width)[0]
        at += id_width + size_width
        if size != _UNKNOWN_SIZE:
            if at + size > end:
                return True
            at += size
    return False


def _segment(head: bytes) -> tuple[int, int]:
    """Where the Segment's data starts (after the EBML header and the Segment's own header)
    and its size (-1: unknown), which runs past `head`."""
    if int.from_bytes(head[:4], "big") != _EBML:
        raise ValueError("not an EBML file")
    size, width = _vint(head, 4)
    at = 4 + width + size
    if int.from_bytes(head[at : at + 4], "big") != _SEGMENT:
        raise ValueError("no Segment after the EBML header")
    size, width = _vint(head, at + 4)
    return at + 4 + width, size
