"""The source's audio in exported videos: decoded from the export's first frame on, in slices
that line up with the video frames (`AudioSource`, one per export, shared by every video file),
and encoded into each file (`AudioTrack`) in the codec's layout nearest the source's: surround
stays surround where the codec carries it (media/export.py uses both)."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
import numpy as np


class _Damaged(NamedTuple):
    """A packet the decoder refused: where it starts (`time`, as a frame's) and ends, in
    seconds on the source's clock, None when unknown."""

    time: Fraction | None
    end: Fraction | None

    @classmethod
    def of(cls, packet: av.Packet) -> _Damaged:
        if packet.pts is None:
            return cls(None, None)
        start = packet.pts * packet.time_base
        return cls(start, start + packet.duration * packet.time_base if packet.duration else None)


class AudioSource:
    """The source's first audio track, decoded from the export's start as float slices
    (channels x samples) that line up with the video frames, shared by every video file.
    Frames cross into numpy packed: PyAV 18 miscounts the planes of an 8-channel (7.1) planar
    frame, and reading one crashed the process. Damaged audio never costs the video: what the
    decoder refuses is silence, as long as it would have played."""

    def __init__(self, path: Path, container: av.container.InputContainer) -> None:
        self._path = path
        self._container = container
        self._stream = stream = container.streams.audio[0]
        self.rate: int = stream.codec_context.sample_rate
        self.layout = _source_layout(stream.codec_context.layout)
        self._to_float = av.AudioResampler("flt", self.layout, self.rate)
        self._decoded: Iterator[np.ndarray] = iter(())
        self._pending = np.zeros((self.channels, 0), np.float32)
        self._pending_at = 0  # absolute sample position of _pending[:, 0]
        self._start = 0  # absolute sample position of the first exported frame
        self._sent = 0  # samples handed out since _start

    @property
    def channels(self) -> int:
        return av.AudioLayout(self.layout).nb_channels

    @classmethod
    def open(cls, path: Path) -> AudioSource | None:
        """None when the file has no audio, or none a decoder opens (its configuration is
        damaged): the videos are then silent."""
        container = av.open(str(path))
        if not container.streams.audio:
            container.close()
            return None
        try:
            container.streams.audio[0].codec_context.open()
        except av.FFmpegError:
            container.close()
            return None
        return cls(path, container)

    def start(self, seconds: Fraction) -> None:
        """Begin at `seconds` on the source's clock (the first exported frame's time)."""
        self._start = round(seconds * self.rate)
        self._decoded = self._decode(self._frames_from(seconds))
        self._pending_at = -1  # set from the first decoded frame's timestamp

    def read_until(self, seconds: Fraction) -> av.AudioFrame | None:
        """The samples from the previous call's end up to `seconds` after the start, or None
        when the source has none there."""
        begin, end = self._start + self._sent, self._start + round(seconds * self.rate)
        while self._pending_at < 0 or self._pending_at + self._pending.shape[1] < end:
            if not self._pull(begin):
                break
        self._sent = end - self._start
        if self._pending_at < 0:  # the track has nothing from the start on
            return None
        first = max(begin, self._pending_at)  # a track that starts late leaves a gap
        stop = max(0, end - self._pending_at)
        samples = self._pending[:, first - self._pending_at : stop]
        used = min(self._pending.shape[1], stop)
        self._pending, self._pending_at = self._pending[:, used:], self._pending_at + used
        if samples.shape[1] == 0:
            return None
        packed = np.ascontiguousarray(samples.T).reshape(1, -1)
        out = av.AudioFrame.from_ndarray(packed, "flt", self.layout)
        out.sample_rate = self.rate
        out.pts = first - self._start
        out.time_base = Fraction(1, self.rate)
        return out

    def plays(self) -> bool:
        """Whether the track has anything from the previous `read_until` call's end (or the
        start) on: a file whose range begins after the sound ends gets no audio track (MP4 and
        MOV leave out an empty one; WebM kept it, a track that never plays)."""
        while self._pending.shape[1] == 0:
            if not self._pull(self._start + self._sent):
                return False
        return True

    def close(self) -> None:
        self._container.close()

    def _pull(self, begin: int) -> bool:
        """Decode the next block into what is pending; False at the track's end."""
        block = next(self._decoded, None)
        if block is None:
            return False
        self._pending = np.concatenate([self._pending, block], axis=1)
        # What plays before `begin` is not wanted: hold only what is still to come.
        drop = min(max(0, begin - self._pending_at), self._pending.shape[1])
        self._pending, self._pending_at = self._pending[:, drop:], self._pending_at + drop
        return True

    def _frames_from(self, seconds: Fraction) -> Iterator[av.AudioFrame]:
        """Decoded audio from `seconds` or earlier on: a seek, or the whole track where the
        seek lands after `seconds` (MPEG-TS seeks by byte position)."""
        if seconds > 0 and self._stream.time_base is not None:
            self._container.seek(int(seconds / self._stream.time_base), stream=self._stream)
            frames = self._frames()
            first = next(frames, None)
            if first is not None and first.time is not None and first.time <= seconds:
                yield first
                yield from frames
                return
            self._container.close()  # reopened: a seek to the start lands late in TS too
            self._container = av.open(str(self._path))
            self._stream = self._container.streams.audio[0]
        yield from self._frames()

    def _frames(self) -> Iterator[av.AudioFrame | _Damaged]:
        """The track's frames from the container's position on, and the packets the decoder
        refuses (damaged: their error ended the export, and the zip streamed so far was cut)."""
        for packet in self._container.demux(self._stream):
            try:
                frames = self._stream.codec_context.decode(packet)
            except av.FFmpegError:
                yield _Damaged.of(packet)
                continue
            yield from frames

    def _decode(self, items: Iterator[av.AudioFrame | _Damaged]) -> Iterator[np.ndarray]:
        """Float blocks, each where the last one ends: damaged packets leave silence up to
        where the next frame starts (so the rest stays in sync), or at the track's end up to
        where they end."""
        reached = 0  # absolute sample position where the blocks so far end
        damaged, damaged_end = False, None
        for item in items:
            at = self._position(item.time)
            if self._pending_at < 0:
                self._pending_at = reached = at if at is not None else 0
            if isinstance(item, _Damaged):
                damaged, damaged_end = True, self._position(item.end)
                continue
            if damaged:
                resume = at if at is not None else damaged_end
                if resume is not None and resume > reached:
                    yield np.zeros((self.channels, resume - reached), np.float32)
                    reached = resume
                damaged = False
            for converted in self._to_float.resample(item):
                block = self._unpacked(converted)
                reached += block.shape[1]
                yield block
        for converted in self._to_float.resample(None):
            block = self._unpacked(converted)
            reached += block.shape[1]
            yield block
        if damaged and damaged_end is not None and damaged_end > reached:
            yield np.zeros((self.channels, damaged_end - reached), np.float32)

    def _position(self, seconds: float | Fraction | None) -> int | None:
        """`seconds` on the source's clock as an absolute sample position."""
        return None if seconds is None else round(seconds * self.rate)

    def _unpacked(self, frame: av.AudioFrame) -> np.ndarray:
        return frame.to_ndarray().reshape(-1, self.channels).T


# The usual layout of each channel count: Opus takes surround only in these (Vorbis) orders.
_USUAL_LAYOUTS = {
    1: "mono",
    2: "stereo",
    3: "3.0",
    4: "quad",
    5: "5.0",
    6: "5.1",
    7: "6.1",
    8: "7.1",
}


def _source_layout(layout: av.AudioLayout) -> str:
    """The source's channel layout by name; a track that names no order (PCM with a bare
    channel count) gets the usual one for its count, one of more than 8 channels stereo."""
    if layout.name in _USUAL_LAYOUTS.values() or not layout.name.endswith("channels"):
        return layout.name
    return _USUAL_LAYOUTS.get(layout.nb_channels, "stereo")


def _encodable_layout(codec: str, rate: int, layout: str) -> str:
    """`layout` when `codec` encodes it, else the usual layout of as many channels (Opus
    plays 5.1(side)'s side channels from the back), else stereo: surround is never folded
    down to two channels where the codec can carry it."""
    nb_channels = av.AudioLayout(layout).nb_channels
    for candidate in (layout, _USUAL_LAYOUTS.get(nb_channels, "stereo")):
        context = av.CodecContext.create(codec, "w")
        context.sample_rate, context.layout = rate, candidate
        context.format = context.codec.audio_formats[0]
        try:
            context.open()
            return candidate
        except av.FFmpegError:
            continue
    return "stereo"


class AudioTrack:
    """An encoded audio stream in one video file, fed the shared source's slices."""

    def __init__(
        self, container: av.container.OutputContainer, codec: str, source: AudioSource
    ) -> None:
        rates = av.codec.Codec(codec, "w").audio_rates or [source.rate]
        rate = source.rate if source.rate in rates else 48000  # AAC and Opus both take 48 kHz
        layout = _encodable_layout(codec, rate, source.layout)
        self._stream = container.add_stream(codec, rate=rate)
        self._stream.layout = layout
        fmt = self._stream.codec_context.format
        self._stream.codec_context.open()  # to learn the encoder's frame size
        self._container = container
        self._resampler = av.AudioResampler(
            fmt.name, layout, rate, frame_size=self._stream.codec_context.frame_size or None
        )
        self.empty = True  # no packet muxed yet: the source had no sound in the file's span

    def add(self, chunk: av.AudioFrame) -> None:
        for frame in self._resampler.resample(chunk):
            self._mux(self._stream.encode(frame))

    def flush(self) -> None:
        for frame in self._resampler.resample(None):
            self._mux(self._stream.encode(frame))
        self._mux(self._stream.encode(None))

    def _mux(self, packets: list[av.Packet]) -> None:
        self.empty = self.empty and not packets
        self._container.mux(packets)
