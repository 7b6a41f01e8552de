"""Files cut short where the container's structure tells: NUT's frames, and cuts exactly at
a packet's or an element's boundary. Each keeps its whole frames and says it is cut short."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tests.cuts import cut_keeps_whole_frames
from tests.synth import write_noisy_clip
from vidmatte.media import cut_short
from vidmatte.media.video import probe

FRAMES = 12


def _noisy(path: Path, codec: str, fmt: str | None = None, options: dict | None = None):
    """`FRAMES` frames of noise (tests/synth.py), their decode, and where each frame's data
    starts and ends in the file."""
    frames = write_noisy_clip(path, codec, FRAMES, fmt, options)
    with av.open(str(path)) as container:
        spans = [(p.pos, p.pos + p.size) for p in container.demux(video=0) if p.size]
    return frames, spans


@pytest.mark.parametrize("codec", ["mpeg4", "ffv1"])
@pytest.mark.parametrize("part", [1, 0.5, -1])
def test_a_nut_cut_inside_a_frame_keeps_its_whole_frames(
    tmp_path: Path, codec: str, part: float
) -> None:
    """NUT's reader hands over the part of a frame a file cut short holds as a whole one: an
    MPEG-4 frame decoded to garbage where its data stops, an FFV1 one (image sequences'
    videos are FFV1 in NUT) refused the upload ("frame 6 cannot be decoded"), and nothing
    said the file is cut short. Cut 1 byte into frame 6's data, half way, 1 byte short."""
    whole = tmp_path / "clip.nut"
    expected, spans = _noisy(whole, codec, "nut")
    start, end = spans[6]
    at = start + 1 if part == 1 else end - 1 if part == -1 else (start + end) // 2
    assert cut_keeps_whole_frames(whole, expected, at) == 6
    assert probe(whole)[0].notes == []


@pytest.mark.parametrize("codec", ["mpeg4", "ffv1"])
@pytest.mark.parametrize("where", ["after_frame", "in_header", "before_data"])
def test_a_nut_cut_between_two_frames_says_it_is_cut_short(
    tmp_path: Path, codec: str, where: str
) -> None:
    """Cut where frame 5's data ends (before frame 6's header), 1 byte into frame 6's header,
    or where its header ends and its data would start: the first was read as the whole video
    (6 frames, no note), the others refused the upload ("the video is damaged or truncated
    (Invalid data found when processing input)"). The index FFmpeg writes last is missing."""
    whole = tmp_path / "clip.nut"
    expected, spans = _noisy(whole, codec, "nut")
    at = {"after_frame": spans[5][1], "in_header": spans[5][1] + 1, "before_data": spans[6][0]}
    assert cut_keeps_whole_frames(whole, expected, at[where]) == 6


def test_a_whole_nut_is_not_cut_short_and_one_cut_in_its_index_is(tmp_path: Path) -> None:
    """The index ends the file; one that stops inside it has every frame, and says so."""
    whole = tmp_path / "clip.nut"
    expected, spans = _noisy(whole, "ffv1", "nut")
    assert cut_short.nut_cut(whole) == ""
    assert cut_keeps_whole_frames(whole, expected, spans[-1][1] + 10) == FRAMES


@pytest.mark.parametrize(
    ("name", "codec", "options"),
    [
        ("clip.mkv", "libx264", None),
        ("clip.webm", "libvpx-vp9", None),
        ("clip.mp4", "libx264", {"movflags": "faststart"}),
    ],
)
def test_a_file_cut_at_a_frame_s_boundary_says_it_is_cut_short(
    tmp_path: Path, name: str, codec: str, options: dict | None
) -> None:
    """Matroska's Segment and Cluster, and an MP4's 'mdat' after its index, say how many bytes
    they hold: a file that stops exactly where frame 6's or frame 7's block or sample starts
    is short of them (these were told before: the cases stay)."""
    whole = tmp_path / name
    expected, spans = _noisy(whole, codec, options=options)
    assert cut_keeps_whole_frames(whole, expected, spans[6][0]) == 6
    assert cut_keeps_whole_frames(whole, expected, spans[7][0]) == 7
    assert probe(whole)[0].notes == []


@pytest.mark.parametrize("codec", ["mpeg4", "libx264"])
@pytest.mark.parametrize("where", ["before_data", "in_header", "after_frame"])
def test_an_avi_cut_between_two_frames_says_it_is_cut_short(
    tmp_path: Path, codec: str, where: str
) -> None:
    """Its RIFF chunk says how long the file is: one that stops where frame 6's data starts,
    in its chunk's 8-byte header or where it ends was read as the whole video, without a note
    (6 or 7 frames)."""
    whole = tmp_path / "clip.avi"
    expected, spans = _noisy(whole, codec)
    start, end = spans[6]
    at = {"before_data": start, "in_header": start - 4, "after_frame": end}[where]
    assert cut_keeps_whole_frames(whole, expected, at) == (7 if where == "after_frame" else 6)
    assert probe(whole)[0].notes == []


@pytest.mark.parametrize("packets", [1, 3, -1])
def test_a_ts_cut_between_two_packets_inside_a_frame_with_a_stated_length_says_so(
    tmp_path: Path, packets: int
) -> None:
    """A TS whose video PES packets state their length (broadcast muxers do; FFmpeg's with
    `omit_video_pes_length=0`), cut at a 188-byte packet boundary 1 or 3 TS packets into
    frame 6's, or 1 before its end: the part of the frame there was read as a whole one
    (garbage where its data stops) and nothing said the file is cut short. (One cut where a
    frame's PES packet ends, and the next one's starts, cannot be told from a whole file.)"""
    whole = tmp_path / "clip.ts"
    expected, spans = _noisy(whole, "mpeg2video", options={"omit_video_pes_length": "0"})
    first = spans[6][0] - spans[6][0] % 188  # the TS packet frame 6's PES packet starts in
    last = spans[7][0] - spans[7][0] % 188  # and frame 7's
    at = first + 188 * packets if packets > 0 else last + 188 * packets
    assert cut_keeps_whole_frames(whole, expected, at) == 6
    assert probe(whole)[0].notes == []


@pytest.mark.parametrize("into", [-4, 0, 6, 16])
def test_an_flv_cut_between_two_frames_says_it_is_cut_short(tmp_path: Path, into: int) -> None:
    """Its metadata states its size (FFmpeg writes it on finishing the file): one that stops
    before frame 5's tag's trailing size, where frame 6's tag starts, in that tag's header, or
    where its frame's data would start was read as the whole video (6 frames, no note)."""
    whole = tmp_path / "clip.flv"
    expected, spans = _noisy(whole, "libx264")
    tag = spans[6][0]  # FLV's packet position: its tag's, 11 + 5 bytes before its data
    assert cut_keeps_whole_frames(whole, expected, tag + into) == 6
    assert probe(whole)[0].notes == []


def test_a_nut_cut_inside_a_sound_frame_keeps_every_whole_picture(tmp_path: Path) -> None:
    """A NUT with sound, cut inside an audio frame: each video frame before it is whole and
    kept (none left out as if cut), and the note says the file is cut short."""
    whole = tmp_path / "clip.nut"
    noise = np.random.default_rng(9)
    with av.open(str(whole), "w") as container:
        video = container.add_stream("mpeg4", rate=12)
        video.width, video.height, video.pix_fmt = 96, 64, "yuv420p"
        audio = container.add_stream("pcm_s16le", rate=48000)
        for i in range(FRAMES):
            rgb = noise.integers(0, 256, (64, 96, 3), dtype=np.uint8)
            container.mux(video.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
            sound = av.AudioFrame.from_ndarray(np.zeros((1, 4000), np.int16), "s16", "mono")
            sound.sample_rate, sound.pts = 48000, 4000 * i
            container.mux(audio.encode(sound))
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    with av.open(str(whole)) as container:
        expected = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    with av.open(str(whole)) as container:
        packets = [(p.pos, p.size, p.stream.type) for p in container.demux() if p.size]
    pos, size, _ = [p for p in packets if p[2] == "audio"][-3]
    at = pos + size // 2
    before = sum(1 for p in packets if p[2] == "video" and p[0] + p[1] <= at)
    assert 0 < before < FRAMES
    assert cut_keeps_whole_frames(whole, expected, at) == before
