"""Files cut short where the container's structure tells: NUT's frames, and cuts exactly at
a packet's or an element's boundary. Each keeps its whole frames and says it is cut short;
a whole file whose structure misleads (a NUT without its index, wrong AVI RIFF and 'movi'
sizes, an OpenDML AVI's in its 'AVIX' RIFFs too, a stale FLV "filesize" and "duration", a
TS frame that fills its last packet) has no note."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np
import pytest

from tests.cuts import cut_keeps_whole_frames
from tests.synth import write_noisy_clip
from vidmatte.media import cut_short
from vidmatte.media.video import VideoReader, probe

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
@pytest.mark.parametrize("where", ["in_header", "before_data"])
def test_a_nut_cut_between_two_frames_says_it_is_cut_short(
    tmp_path: Path, codec: str, where: str
) -> None:
    """Cut 1 byte into frame 6's header, or where its header ends and its data would start:
    these refused the upload ("the video is damaged or truncated (Invalid data found when
    processing input)"). (One cut where frame 5's data ends cannot be told from a whole file
    written without its index: test_a_whole_nut_without_an_index_is_not_cut_short.)"""
    whole = tmp_path / "clip.nut"
    expected, spans = _noisy(whole, codec, "nut")
    at = {"in_header": spans[5][1] + 1, "before_data": spans[6][0]}
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


@pytest.mark.parametrize("into", [-4, 6, 16])
def test_an_flv_cut_between_two_frames_says_it_is_cut_short(tmp_path: Path, into: int) -> None:
    """Its metadata states its size (FFmpeg writes it on finishing the file): one that stops
    before frame 5's tag's trailing size, in frame 6's tag's header, or where its frame's data
    would start was read as the whole video (6 frames, no note). (One that stops where frame
    6's tag starts is the same bytes as a whole file with stale metadata:
    test_an_flv_whose_filesize_and_duration_are_both_stale_is_not_cut_short.)"""
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


@pytest.mark.parametrize("codec", ["mpeg4", "ffv1"])
def test_a_whole_nut_without_an_index_is_not_cut_short(tmp_path: Path, codec: str) -> None:
    """FFmpeg writes a NUT without its index where told to (`write_index=0`): every byte
    before the index is the same, so a file that ends after a whole frame cannot be told
    from one cut there. It was called cut short ("only its first 12 frames are there"):
    a whole file has no note, one that stops in a frame's header still has it."""
    whole = tmp_path / "clip.nut"
    expected, spans = _noisy(whole, codec, "nut", {"write_index": "0"})
    indexed = tmp_path / "indexed.nut"
    _noisy(indexed, codec, "nut")
    assert indexed.read_bytes()[: whole.stat().st_size] == whole.read_bytes()
    assert cut_short.nut_cut(whole) == ""
    assert probe(whole)[0].notes == []
    assert cut_keeps_whole_frames(whole, expected, spans[5][1] + 1) == 6


def test_a_nut_that_stops_after_a_syncpoint_is_cut_short(tmp_path: Path) -> None:
    """A syncpoint always has a frame after it: a file that ends with one is cut short."""
    whole = tmp_path / "clip.nut"
    expected, spans = _noisy(whole, "ffv1", "nut")
    data = whole.read_bytes()
    sync = data.find(bytes.fromhex("4e4be4adeeca4569"), spans[0][1])  # the second one
    assert sync > 0 and data[sync + 8] < 0x80  # its length: one byte, no header checksum
    kept = sum(1 for _, end in spans if end <= sync)
    assert 0 < kept < FRAMES
    assert cut_keeps_whole_frames(whole, expected, sync + 9 + data[sync + 8]) == kept


def _riff_size(path: Path, size: int) -> None:
    """Set the size the file's first RIFF chunk states."""
    data = bytearray(path.read_bytes())
    data[4:8] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("extra", "zeros"), [(8, 0), (1, 0), (100_000, 0), (8, 13)])
def test_an_avi_whose_riff_size_is_wrong_is_not_cut_short(
    tmp_path: Path, extra: int, zeros: int
) -> None:
    """Some writers count the RIFF header in its size (8 bytes over), leave odd sizes unpadded
    or a stale value, or pad the file with zeros: every chunk in it (the frames' 'movi' list,
    the 'idx1' index written last) is whole, yet the file was called cut short. A cut in its
    'movi' list still is."""
    whole = tmp_path / "clip.avi"
    expected, spans = _noisy(whole, "mpeg4")
    whole.write_bytes(whole.read_bytes() + bytes(zeros))
    _riff_size(whole, whole.stat().st_size - 8 + extra)
    assert not cut_short.avi_cut(whole)
    assert probe(whole)[0].notes == []
    assert cut_keeps_whole_frames(whole, expected, spans[6][0]) == 6


def test_an_avi_that_stops_where_its_index_would_start_is_cut_short(tmp_path: Path) -> None:
    """Its header says an 'idx1' index follows the frames (AVIF_HASINDEX): a file that stops
    after them has every frame, and says it is cut short, even where its RIFF size is wrong."""
    whole = tmp_path / "clip.avi"
    expected, _ = _noisy(whole, "mpeg4")
    _riff_size(whole, whole.stat().st_size)
    index = whole.read_bytes().rfind(b"idx1")
    assert cut_keeps_whole_frames(whole, expected, index) == FRAMES


def _flv_metadata(path: Path, key: bytes, value: float) -> None:
    """Set the number the FLV's onMetaData states for `key`."""
    data = bytearray(path.read_bytes())
    at = data.find(len(key).to_bytes(2, "big") + key + b"\x00") + 2 + len(key) + 1
    data[at : at + 8] = struct.pack(">d", value)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("codec", ["flv", "libx264"])
def test_an_flv_with_a_stale_filesize_is_not_cut_short(tmp_path: Path, codec: str) -> None:
    """A tool that rewrites an FLV and keeps its metadata (or injects it before the last
    edit) leaves a "filesize" over the file's: it was called cut short, though its tags hold
    every frame its "duration" says (and an H.264 one ends in its end-of-sequence tag). One
    cut in a tag's header still says so."""
    whole = tmp_path / "clip.flv"
    expected, spans = _noisy(whole, codec)
    _flv_metadata(whole, b"filesize", whole.stat().st_size + 50_000)
    assert not cut_short.flv_cut(whole)
    assert probe(whole)[0].notes == []
    assert cut_keeps_whole_frames(whole, expected, spans[6][0] + 6) == 6


@pytest.mark.parametrize("at", ["moof", "mdat"])
def test_a_fragmented_mp4_with_a_global_index_cut_between_fragments_says_so(
    tmp_path: Path, at: str
) -> None:
    """A fragmented MP4 whose 'sidx' lists every fragment's bytes (FFmpeg's `global_sidx`,
    DASH packagers'), cut where its second fragment's 'moof', or its 'mdat', starts: every
    box there is whole, and it was read as the whole video (12 or 0 frames more missing)."""
    whole = _fragmented_mp4(tmp_path / "clip.mp4", "global_sidx")
    with av.open(str(whole)) as container:
        expected = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    data = whole.read_bytes()
    assert data.count(b"moof") == 2
    second = data.find(b"moof", data.find(b"moof") + 4) - 4
    cut = second if at == "moof" else data.find(b"mdat", second) - 4
    assert cut_keeps_whole_frames(whole, expected, cut) == 6


@pytest.mark.parametrize("codec", ["mpeg2video", "libx264"])
@pytest.mark.parametrize("packets", [1, 3, -1])
def test_a_ts_cut_between_two_packets_inside_a_frame_of_unstated_length_says_so(
    tmp_path: Path, codec: str, packets: int
) -> None:
    """FFmpeg's TS (as most muxers' for video) leaves each video PES packet's length unstated:
    one cut at a 188-byte packet boundary 1 or 3 TS packets into frame 6's, or 1 before its
    end, read the part of the frame there as a whole one (garbage where its data stops) with
    no note. The TS packet it stops after is full of the frame's data (a frame's last one is
    padded to its end, FFmpeg's as the standard has it), and the decoder finds the frame
    broken off."""
    whole = tmp_path / "clip.ts"
    expected, spans = _noisy(whole, codec)
    first = spans[6][0] - spans[6][0] % 188
    last = spans[7][0] - spans[7][0] % 188
    at = first + 188 * packets if packets > 0 else last + 188 * packets
    assert cut_keeps_whole_frames(whole, expected, at) == 6


def _ts_padded(source: Path, target: Path, extra: int) -> int:
    """Copy the TS `source` to `target` with `extra` zero bytes after its last frame's data
    (MPEG-2 video allows them before a start code: the frame decodes the same); the bytes of
    padding its last TS packet then has (0: full of the frame's data): its adaptation field,
    but for its flags and a PCR where it has them for themselves."""
    with av.open(str(source)) as src, av.open(str(target), "w", format="mpegts") as dst:
        out = dst.add_stream_from_template(src.streams.video[0])
        packets = [p for p in src.demux(video=0) if p.size]
        for index, packet in enumerate(packets):
            data = bytes(packet) + bytes(extra if index == len(packets) - 1 else 0)
            copy = av.Packet(data)
            copy.pts, copy.dts, copy.time_base = packet.pts, packet.dts, packet.time_base
            copy.is_keyframe = packet.is_keyframe
            copy.stream = out
            dst.mux(copy)
    last = target.read_bytes()[-188:]
    if not last[3] & 0x20:
        return 0
    flags = last[5] if last[4] else 0
    kept = 2 + (6 if flags & 0x10 else 0) if flags else 0  # its length, flags and PCR
    return 1 + last[4] - kept


def test_a_whole_ts_whose_last_packet_is_full_is_not_cut_short(tmp_path: Path) -> None:
    """A frame whose data fills its last TS packet to the byte has no padding there, as a
    frame cut at a packet boundary has none: its frame decodes whole, and is no cut."""
    source, whole = tmp_path / "source.ts", tmp_path / "clip.ts"
    expected, _ = _noisy(source, "mpeg2video")
    extra = 0
    for _ in range(3):  # the padding the last packet has, moved into the frame
        padding = _ts_padded(source, whole, extra)
        if padding == 0:
            break
        extra += padding
    assert padding == 0 and extra > 0
    info, pts = probe(whole)
    assert (info.frame_count, info.notes) == (FRAMES, [])
    last = VideoReader(whole, pts, info.rotation).frame(FRAMES - 1)
    np.testing.assert_array_equal(last, expected[-1])


@pytest.mark.parametrize("codec", ["flv", "libx264"])
def test_an_flv_whose_filesize_and_duration_are_both_stale_is_not_cut_short(
    tmp_path: Path, codec: str
) -> None:
    """A live recorder that copies the metadata of the stream it records (or a muxer that
    writes it up front) states a "filesize" and a "duration" over the file's, and writes no
    end-of-sequence tag (the H.264 one's is taken off here): every tag is whole, yet it was
    called cut short. One that stops inside a tag, its header or the size after it, still
    is."""
    whole = tmp_path / "clip.flv"
    expected, spans = _noisy(whole, codec)
    if codec == "libx264":  # the end-of-sequence tag and the size after it: 16 + 4 bytes
        data = whole.read_bytes()
        assert data[-20] == 0x09 and data[-4:] == (16).to_bytes(4, "big")
        whole.write_bytes(data[:-20])
    duration = (FRAMES + 1) / 12  # tests/synth.py's rate: 12 frames a second
    _flv_metadata(whole, b"filesize", whole.stat().st_size + 50_000)
    _flv_metadata(whole, b"duration", 2 * duration)
    assert not cut_short.flv_cut(whole)
    assert probe(whole)[0].notes == []
    tag = spans[6][0]
    assert cut_keeps_whole_frames(whole, expected, tag - 4) == 6
    assert cut_keeps_whole_frames(whole, expected, tag + 6) == 6


def _avi_sizes(path: Path, extra: int) -> None:
    """State `extra` bytes more in the AVI's first RIFF size and its 'movi' list's."""
    data = bytearray(path.read_bytes())
    movi = data.find(b"movi") - 8
    for at in (4, movi + 4):
        size = int.from_bytes(data[at : at + 4], "little") + extra
        data[at : at + 4] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("codec", ["mpeg4", "libx264"])
def test_an_avi_whose_riff_and_movi_sizes_are_both_wrong_is_not_cut_short(
    tmp_path: Path, codec: str
) -> None:
    """A recorder that crashed, and a tool that repaired its file (writing the 'idx1' index)
    but not its sizes, leave a RIFF and a 'movi' list that state more than the file holds:
    every frame's chunk is whole and the index follows them, yet it was called cut short.
    One cut in a frame's chunk, after one, or where the index would start still is."""
    whole = tmp_path / "clip.avi"
    expected, spans = _noisy(whole, codec)
    _avi_sizes(whole, 100_000)
    assert not cut_short.avi_cut(whole)
    assert probe(whole)[0].notes == []
    start, end = spans[6]
    assert cut_keeps_whole_frames(whole, expected, start) == 6
    assert cut_keeps_whole_frames(whole, expected, end + (end - start) % 2) == 7
    index = whole.read_bytes().rfind(b"idx1")
    assert cut_keeps_whole_frames(whole, expected, index) == FRAMES


def _with_mehd(path: Path, duration: int) -> None:
    """Put an 'mehd' box stating `duration` (in the 'mvhd' timescale) first in the 'mvex' of
    a fragmented MP4 whose 'moov' locates no sample (an empty one, `default_base_moof`, no
    'mfra'), as packagers write it: the 'moov' and 'mvex' grow by its 16 bytes."""
    data = bytearray(path.read_bytes())
    moov, mvex = data.find(b"moov") - 4, data.find(b"mvex") - 4
    for at in (moov, mvex):
        data[at : at + 4] = (int.from_bytes(data[at : at + 4], "big") + 16).to_bytes(4, "big")
    mehd = (16).to_bytes(4, "big") + b"mehd" + bytes(4) + duration.to_bytes(4, "big")
    path.write_bytes(bytes(data[: mvex + 8] + mehd + data[mvex + 8 :]))


@pytest.mark.parametrize("at", ["moof", "mdat"])
def test_a_fragmented_mp4_with_its_whole_duration_cut_between_fragments_says_so(
    tmp_path: Path, at: str
) -> None:
    """A fragmented MP4 without a 'sidx' whose 'mehd' states the whole duration (Bento4's,
    MP4Box's, Shaka Packager's), cut where its second fragment's 'moof', or its 'mdat',
    starts: every box there is whole, and it was read as the whole video with no note. Its
    fragments' samples' durations ('trun', 'tfhd', 'tfdt') fall short of the 'mehd'."""
    whole = _fragmented_mp4(tmp_path / "clip.mp4", "skip_trailer")
    _with_mehd(whole, 1000)  # FFmpeg's 'mvhd' timescale is 1000: 12 frames at 12 a second
    with av.open(str(whole)) as container:
        expected = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(expected) == FRAMES
    assert cut_short.mp4_cut(whole) == ""
    data = whole.read_bytes()
    assert data.count(b"moof") == 2 and b"sidx" not in data
    second = data.find(b"moof", data.find(b"moof") + 4) - 4
    cut = second if at == "moof" else data.find(b"mdat", second) - 4
    assert cut_keeps_whole_frames(whole, expected, cut) == 6


def test_a_fragmented_mp4_whose_samples_state_no_duration_is_not_called_short() -> None:
    """A track whose 'trun' states no sample durations and whose 'tfhd' and 'trex' give no
    default sums to 0: compared with the 'mehd' it would read as cut at its start."""
    untimed = cut_short._Track(timescale=1000, default=0, end=0, start=0, timed=False)
    assert not cut_short._mp4_short(1.0, {1: untimed})
    timed = cut_short._Track(timescale=1000, default=100, end=500, start=0, last=100)
    assert cut_short._mp4_short(1.0, {1: timed, 2: untimed})
    assert not cut_short._mp4_short(0.5, {1: timed})


def _fragmented_mp4(path: Path, flag: str) -> Path:
    """A fragmented MP4 of FRAMES frames in two fragments (a keyframe every 6), written with
    FFmpeg's movflag `flag` besides those that fragment it."""
    flags = f"frag_keyframe+empty_moov+default_base_moof+{flag}"
    with av.open(str(path), "w", options={"movflags": flags}) as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.options = {"g": "6"}  # a keyframe, so a fragment, every 6 frames
        for i in range(FRAMES):
            rgb = np.full((64, 96, 3), 20 * i, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def _opendml_avi(path: Path, riffs: int = 3, per_riff: int = 3) -> list[np.ndarray]:
    """An OpenDML AVI, written by hand as writers lay out one over 1 GB (FFmpeg starts the
    next RIFF only past 1 GB), in a few KB: a first 'AVI ' RIFF (its header, with a super
    index per stream, 'indx', listing every RIFF's standard index, and 'odml'; its 'movi'
    list; its 'idx1'), then 'AVIX' RIFFs of one 'movi' list each, `per_riff` frames of raw
    16x16 BGR and their 'ix00' standard index. Its frames, as they decode."""
    side, frame_bytes, total = 16, 16 * 16 * 3, riffs * per_riff
    images = [np.full((side, side, 3), 20 * i + 10, np.uint8) for i in range(total)]
    out, open_lists = bytearray(), []

    def begin(kind: bytes, fourcc: bytes) -> None:
        open_lists.append(len(out))
        out.extend(kind + bytes(4) + fourcc)

    def end() -> None:  # the list's size, now that its chunks are written
        at = open_lists.pop()
        struct.pack_into("<I", out, at + 4, len(out) - at - 8)

    def chunk(fourcc: bytes, data: bytes) -> int:
        out.extend(fourcc + struct.pack("<I", len(data)) + data)
        return len(out) - len(data) - 8

    begin(b"RIFF", b"AVI ")
    begin(b"LIST", b"hdrl")
    avih = struct.pack("<10I16x", 40000, 0, 0, 0x10, per_riff, 0, 1, frame_bytes, side, side)
    chunk(b"avih", avih)  # 25 fps, AVIF_HASINDEX, the first RIFF's frames
    begin(b"LIST", b"strl")
    strh = struct.pack(
        "<IHHIIIIIIII4h", 0, 0, 0, 0, 1, 25, 0, total, frame_bytes, 0, 0, 0, 0, side, side
    )
    chunk(b"strh", b"vidsDIB " + strh)
    chunk(b"strf", struct.pack("<IiiHHIIiiII", 40, side, side, 1, 24, 0, frame_bytes, 0, 0, 0, 0))
    # AVI_INDEX_OF_INDEXES: 4 longs an entry (offset, size, duration), filled in below
    indx = chunk(b"indx", struct.pack("<HBBI4s12x", 4, 0, 0, riffs, b"00db") + bytes(16 * riffs))
    end()
    begin(b"LIST", b"odml")
    chunk(b"dmlh", struct.pack("<I", total) + bytes(244))
    end()
    end()
    for riff in range(riffs):
        if riff:
            begin(b"RIFF", b"AVIX")
        begin(b"LIST", b"movi")
        movi = len(out) - 4
        shown = images[riff * per_riff : (riff + 1) * per_riff]
        data = [chunk(b"00db", image[::-1, :, ::-1].tobytes()) + 8 for image in shown]
        # AVI_INDEX_OF_CHUNKS: each frame's data, from a base offset of 0, and its size
        listed = struct.pack("<HBBI4sQ4x", 2, 0, 1, per_riff, b"00db", 0)
        ix = chunk(b"ix00", listed + b"".join(struct.pack("<II", at, frame_bytes) for at in data))
        struct.pack_into("<QII", out, indx + 32 + 16 * riff, ix, len(out) - ix, per_riff)
        end()
        if not riff:  # each frame's chunk from the 'movi', a keyframe
            idx1 = (struct.pack("<4sIII", b"00db", 0x10, at - 8 - movi, frame_bytes) for at in data)
            chunk(b"idx1", b"".join(idx1))
        end()
    path.write_bytes(bytes(out))
    return images


def _avix_sizes(path: Path, riffs: list[int], extra: int) -> None:
    """State `extra` bytes more in the size of each AVIX RIFF `riffs` counts (1 the first
    after the 'AVI ' one) and of its 'movi' list."""
    data = bytearray(path.read_bytes())
    starts = [at - 8 for at in range(len(data)) if data[at : at + 4] in (b"AVI ", b"AVIX")]
    for at in (starts[riff] + offset for riff in riffs for offset in (4, 16)):
        struct.pack_into("<I", data, at, struct.unpack_from("<I", data, at)[0] + extra)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("riffs", [[2], [1, 2]])
def test_an_opendml_avi_whose_avix_sizes_are_wrong_is_not_cut_short(
    tmp_path: Path, riffs: list[int]
) -> None:
    """Some writers state wrong sizes in an OpenDML file's later RIFFs and their 'movi' lists
    (more than the file holds): every frame's chunk, and each standard index its header's
    super index lists, is there, yet it was called cut short. A cut in one still is."""
    whole = tmp_path / "clip.avi"
    expected = _opendml_avi(whole)
    _avix_sizes(whole, riffs, 100_000)
    assert not cut_short.avi_cut(whole)
    info = probe(whole)[0]
    assert (info.notes, info.frame_count) == ([], 9)
    last = whole.read_bytes().rfind(b"ix00") - 8 - 768  # the last frame's chunk
    assert cut_keeps_whole_frames(whole, expected, last + 100) == 8


@pytest.mark.parametrize("riffs", [[], [2], [1, 2]])
@pytest.mark.parametrize("where", ["in_frame", "between_frames", "before_index"])
def test_an_opendml_avi_cut_in_its_last_avix_says_it_is_cut_short(
    tmp_path: Path, riffs: list[int], where: str
) -> None:
    """Cut in the last frame's chunk, between the last two, or after them where the standard
    index its header lists would start: cut short, whether the AVIX sizes are right (`riffs`
    none) or wrong (they say nothing then: the super index tells)."""
    whole = tmp_path / "clip.avi"
    expected = _opendml_avi(whole)
    _avix_sizes(whole, riffs, 100_000)
    index = whole.read_bytes().rfind(b"ix00")
    at = {"in_frame": index - 700, "between_frames": index - 8 - 768, "before_index": index}
    kept = {"in_frame": 8, "between_frames": 8, "before_index": 9}
    assert cut_keeps_whole_frames(whole, expected, at[where]) == kept[where]


@pytest.mark.parametrize("riffs", [[], [1, 2]])
@pytest.mark.parametrize("avix", [1, 2])
def test_an_opendml_avi_cut_where_an_avix_starts_says_it_is_cut_short(
    tmp_path: Path, riffs: list[int], avix: int
) -> None:
    """Cut where the first or the second AVIX RIFF starts: the RIFFs before it are whole
    (their sizes right, or the wrong ones in none), and it was read as the whole video; the
    super index lists the standard indexes after the cut."""
    whole = tmp_path / "clip.avi"
    expected = _opendml_avi(whole)
    _avix_sizes(whole, riffs, 100_000)
    data = whole.read_bytes()
    at = [at - 8 for at in range(len(data)) if data[at : at + 4] == b"AVIX"][avix - 1]
    assert cut_keeps_whole_frames(whole, expected, at) == 3 * avix
