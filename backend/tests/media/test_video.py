"""Probing and random-access decoding with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from av.video.reformatter import ColorRange, Colorspace
from PIL import Image

from tests.cuts import cut_keeps_whole_frames
from tests.synth import (
    BT709_TO_BT2020,
    frame_and_alpha,
    pq_signal,
    remux,
    write_mjpeg_avi,
    write_noisy_clip,
    write_video,
)
from vidmatte.config import Settings
from vidmatte.matte.infer import Matter
from vidmatte.matte.weights import random_head
from vidmatte.media.video import MediaError, VideoReader, probe


def test_random_access_matches_sequential_decode(tmp_path: Path) -> None:
    path = tmp_path / "gop.mp4"
    write_video(path, frames=50)
    info, pts = probe(path)
    assert info.frame_count == 50 and len(pts) == 50
    sequential = [f.to_ndarray(format="rgb24") for f in av.open(str(path)).decode(video=0)]
    reader = VideoReader(path, pts, info.rotation, cache_size=4)
    for index in [49, 0, 25, 24, 23, 3, 48, 10, 11, 12]:  # jumps, backward runs, forward runs
        np.testing.assert_array_equal(reader.frame(index), sequential[index])
    with pytest.raises(IndexError):
        reader.frame(50)


def test_rotation_is_applied(tmp_path: Path) -> None:
    """A display matrix of 90° counter-clockwise (a phone held upright): players turn the
    stored 96x64 picture to 64 wide, 96 tall, its top-left corner going to the bottom-left."""
    raw = np.full((64, 96, 3), 128, np.uint8)
    raw[:16, :16] = (255, 0, 0)  # stored top-left: red
    raw[:16, -16:] = (0, 255, 0)  # stored top-right: green
    path = tmp_path / "rotated.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(10))
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv444p"
        stream.set_display_rotation(90)  # counter-clockwise, as ffmpeg's display matrix says
        for _ in range(3):
            picture = av.VideoFrame.from_ndarray(raw, format="rgb24")
            for packet in stream.encode(picture):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    info, pts = probe(path)
    assert (info.width, info.height) == (64, 96)
    frame = VideoReader(path, pts, info.rotation).frame(1).astype(int)
    assert frame.shape == (96, 64, 3)
    corners = {
        "top-left": frame[:16, :16],
        "bottom-left": frame[-16:, :16],
        "top-right": frame[:16, -16:],
        "bottom-right": frame[-16:, -16:],
    }
    expected = {
        "bottom-left": (255, 0, 0),
        "top-left": (0, 255, 0),
        "top-right": (128, 128, 128),
        "bottom-right": (128, 128, 128),
    }
    for corner, colour in expected.items():
        assert np.abs(corners[corner] - colour).mean() < 12, corner


@pytest.mark.parametrize("pix_fmt", ["yuv420p10le", "yuv444p12le"])
def test_a_high_bit_depth_video_keeps_its_colours(tmp_path: Path, pix_fmt: str) -> None:
    """10- and 12-bit frames were turned into 8-bit RGB by truncation: colours up to 3 levels
    off and about one level too dark on average (graded footage, iPhone and cinema cameras)."""
    blocks = np.random.default_rng(0).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    rgb = np.repeat(np.repeat(blocks, 16, 0), 16, 1)  # flat blocks: chroma subsampling is exact
    path = tmp_path / "deep.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=Fraction(12))  # lossless: only the reader errs
        stream.width, stream.height, stream.pix_fmt = 96, 64, pix_fmt
        # From 8-bit RGB: swscale writes 16-bit RGB's white over legal white (10-bit Y 943)
        picture = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        for packet in [*stream.encode(picture.reformat(format=pix_fmt)), *stream.encode()]:
            container.mux(packet)
    info, pts_index = probe(path)
    got = VideoReader(path, pts_index, info.rotation).frame(0).astype(int)
    centres = (got - rgb)[4::16, 4::16]  # away from the blocks' edges, where 4:2:0 blends
    assert np.abs(centres).max() <= 1
    assert abs((got - rgb).mean()) < 0.1


@pytest.mark.parametrize(
    "size,matrix", [((1280, 720), "ITU709"), ((1920, 1080), "ITU709"), ((720, 576), "ITU601")]
)
def test_a_video_that_does_not_tag_its_colours_reads_as_players_show_it(
    tmp_path: Path, size: tuple[int, int], matrix: str
) -> None:
    """A video whose YUV matrix is not tagged (screen recorders, some phones and editors) is
    BT.709 when it is HD and BT.601 when SD, as players, Resolve and Nuke take it. Read with
    swscale's own guess, BT.601 at any size, an HD one's colours were up to 22 levels off
    (greens darker, reds pinker) and every export, tagged BT.709, showed them so."""
    width, height = size
    blocks = np.random.default_rng(0).integers(0, 256, (height // 8, width // 8, 3), np.uint8)
    rgb = np.repeat(np.repeat(blocks, 8, 0), 8, 1)  # flat blocks: chroma subsampling is exact
    path = tmp_path / "untagged.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=Fraction(12))  # lossless: only the reader errs
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        picture = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
            format="yuv420p",
            src_color_range=ColorRange.JPEG,
            dst_colorspace=getattr(Colorspace, matrix),
            dst_color_range=ColorRange.MPEG,
        )
        picture.colorspace = 2  # AVCOL_SPC_UNSPECIFIED: the stream states no matrix
        for packet in [*stream.encode(picture), *stream.encode()]:
            container.mux(packet)
    info, pts_index = probe(path)
    got = VideoReader(path, pts_index, info.rotation).frame(0).astype(int)
    # 8-bit limited-range YUV there and back: observed within 3 levels (35 read as BT.601)
    assert np.abs(got - rgb)[4::8, 4::8].max() <= 3


@pytest.mark.parametrize("tags", [(9, 18), (6, 6), None])  # BT.2020 HLG (an iPhone's), NTSC
def test_probe_says_the_colour_primaries_and_transfer_a_video_states(
    tmp_path: Path, tags: tuple[int, int] | None
) -> None:
    """Exports are tagged with them (media/export.py); 2 (unspecified) where none is stated."""
    path = tmp_path / "tagged.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p10le"
        if tags is not None:
            stream.codec_context.color_primaries, stream.codec_context.color_trc = tags
        picture = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(picture.reformat(format="yuv420p10le")), *stream.encode()]:
            container.mux(packet)
    info, _ = probe(path)
    assert (info.primaries, info.transfer) == (tags or (2, 2))


def write_hdr(
    path: Path, signal: np.ndarray, transfer: int, x265_params: str | None = None
) -> None:
    """A 10-bit ProRes of one picture (RGB 0..1 in `transfer`, BT.2020 primaries), tagged
    so, three frames long; with `x265_params` (HDR10 metadata, say), a 10-bit HEVC instead."""
    hevc = x265_params is not None
    pix_fmt = "yuv420p10le" if hevc else "yuv422p10le"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx265" if hevc else "prores_ks", rate=12)
        stream.height, stream.width = signal.shape[:2]
        stream.pix_fmt = pix_fmt
        context = stream.codec_context
        context.color_primaries, context.color_trc, context.colorspace = 9, transfer, 9
        if hevc:
            stream.options = {"crf": "4", "x265-params": f"log-level=error:{x265_params}"}
        # swscale takes 16-bit RGB's white for 65280 (x256): so it gives legal white (Y 940)
        rgb = av.VideoFrame.from_ndarray(np.round(signal * 65280).astype(np.uint16), "rgb48le")
        rgb.color_primaries, rgb.color_trc = 9, transfer  # so swscale converts no colour
        picture = rgb.reformat(format=pix_fmt, dst_colorspace=Colorspace.BT2020, dst_color_range=1)
        for i in range(3):
            picture.pts = i
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))


def patches(colours: list[np.ndarray]) -> np.ndarray:
    """16x16 patches of the colours side by side, 16 rows."""
    return np.concatenate([np.broadcast_to(c, (16, 16, 3)) for c in colours], axis=1)


@pytest.mark.parametrize("transfer", [16, 18])  # PQ, HLG
def test_an_hdr_video_is_tone_mapped_for_the_editor_and_the_models(
    tmp_path: Path, transfer: int
) -> None:
    """PQ or HLG read as stored showed HDR reference white (203 cd/m²) as 58% grey (PQ) and
    BT.2020 colours washed out. Tone mapped: black stays black, reference white is near
    white, the peak (1000 cd/m²) white, a BT.709 red red; a note says so. Without tone
    mapping (what exports read) the frame is the signal as stored."""
    white, red = np.ones(3), BT709_TO_BT2020 @ np.array([1.0, 0.0, 0.0])
    if transfer == 16:  # reference white 203 cd/m², the peak 1000
        signal = pq_signal(203 * np.array([np.zeros(3), white, red, white * 1000 / 203]))
    else:  # HLG: reference white is 75% (ITU-R BT.2408), the peak 100%
        signal = np.array([np.zeros(3), white * 0.75, np.zeros(3), white])
    path = tmp_path / "hdr.mov"
    write_hdr(path, patches(list(signal)), transfer)
    info, pts = probe(path)
    kind = "PQ" if transfer == 16 else "HLG"
    assert info.notes == [
        f"the video is HDR ({kind}, BT.2020): it is shown and matted tone mapped to SDR "
        "(BT.709, sRGB); exports keep its own colour and its tags"
    ]
    stored = VideoReader(path, pts, 0, tone_map=False).frame(0)[8, 8::16].astype(int)
    assert np.abs(stored - np.round(signal * 255)).max() <= 2  # as it is stored
    shown = VideoReader(path, pts, 0).frame(1)[8, 8::16].astype(int)  # as the editor reads it
    assert shown[0].tolist() == [0, 0, 0]
    assert (shown[1] >= 235).all() and (shown[1] < 250).all()  # near white, not 58% grey
    assert shown[3].tolist() == [255, 255, 255]
    if transfer == 16:
        assert shown[2][0] >= 235 and shown[2][1:].max() <= 3  # red, not pink


# x265's master-display: BT.2020 primaries, D65, 0.005 to 4000 cd/m².
MASTERING_4000 = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(40000000,50)"


@pytest.mark.parametrize(
    "metadata,peak",
    [
        ("max-cll=4000,400", 4000),  # the content's own brightest pixel (CTA-861.3)
        ("master-display=" + MASTERING_4000, 4000),  # the mastering display's (ST 2086)
        ("", 1000),  # none stated: PQ's usual mastering
    ],
)
def test_pq_is_tone_mapped_to_the_peak_its_metadata_states(
    tmp_path: Path, metadata: str, peak: float
) -> None:
    """Tone mapping took every PQ video's brightest light for 1000 cd/m²: a video mastered to
    4000 (its MaxCLL or mastering display says so) clipped everything from 1000 to 4000 to
    one flat white. Its stated peak is white now, and light below it is not (the curve's
    shoulder is steep up there: 1000 cd/m² shows at 253); a video that states none still
    has 1000 for white."""
    grey = np.ones(3)
    signal = pq_signal(np.array([grey * 1000, grey * peak]))
    path = tmp_path / "pq.mp4"
    write_hdr(path, patches(list(signal)), 16, metadata)
    _, pts = probe(path)
    shown = VideoReader(path, pts, 0).frame(1)[8, 8::16].astype(int)
    assert (shown[1] >= 254).all()  # the stated peak is white
    if peak > 1000:
        assert (shown[0] <= 253).all()  # 1000 cd/m² is below white, not clipped to it
    else:
        assert (shown[0] >= 254).all()


def test_an_sdr_video_is_not_tone_mapped(tmp_path: Path) -> None:
    path = tmp_path / "sdr.mp4"
    write_video(path, frames=3)
    info, pts = probe(path)
    assert info.notes == []
    plain, mapped = VideoReader(path, pts, 0, tone_map=False), VideoReader(path, pts, 0)
    assert np.array_equal(plain.frame(1), mapped.frame(1))


def test_an_empty_file_is_called_empty(tmp_path: Path) -> None:
    # As the upload says "the uploaded file is empty": not FFmpeg's "invalid data".
    (tmp_path / "empty.mp4").touch()
    with pytest.raises(MediaError, match=r"^the file is empty \(0 bytes\)$"):
        probe(tmp_path / "empty.mp4")


def test_audio_only_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tone.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        samples = np.sin(np.linspace(0, 200, 16000, dtype=np.float32))[None]
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    with pytest.raises(MediaError, match=r"no video stream .*audio"):
        probe(path)


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(1).bytes(10_000))
    with pytest.raises(MediaError):
        probe(path)


def test_an_animated_webp_is_refused_saying_what_it_is(tmp_path: Path) -> None:
    """FFmpeg reads no animated WebP (a sticker, a GIF saved as WebP): it was refused as 'a
    still image', which the user can see it is not."""
    path = tmp_path / "sticker.webp"
    images = [Image.fromarray(frame_and_alpha(i, 64, 96)[0]) for i in range(3)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=100, lossless=True)
    with pytest.raises(MediaError) as refused:
        probe(path)
    assert str(refused.value) == (
        "the file is an animated WebP, which FFmpeg cannot decode: save its frames as numbered "
        "PNG images (libwebp's anim_dump does) and upload those as an image sequence"
    )
    images[0].save(path, lossless=True)  # one picture: a still image, as before
    with pytest.raises(MediaError, match=r"^the file is a still image \(webp\), not a video$"):
        probe(path)


@pytest.mark.parametrize(
    ("suffix", "codec", "kind"), [(".h264", "libx264", "H.264"), (".hevc", "libx265", "HEVC")]
)
def test_a_raw_stream_without_timestamps_is_refused_saying_how_to_fix_it(
    tmp_path: Path, suffix: str, codec: str, kind: str
) -> None:
    """A camera's or recorder's raw stream (a Raspberry Pi's .h264, a DVR's .265) has no
    timestamps, which frames are found by: it was refused as 'the video has no frames'."""
    path = tmp_path / f"camera{suffix}"
    write_video(path, frames=4, codec=codec)
    with av.open(str(path)) as container:
        assert len(list(container.decode(video=0))) == 4  # the frames are there
    with pytest.raises(MediaError) as refused:
        probe(path)
    assert str(refused.value) == (
        f"the file is raw {kind} video, whose frames have no timestamps: put it in a "
        "container first, e.g. `ffmpeg -framerate 30 -i IN -c:v libx264 -crf 16 OUT.mp4` "
        "(with its frame rate for 30)"
    )


@pytest.mark.parametrize(("suffix", "codec"), [(".m2v", "mpeg2video"), (".m4v", "mpeg4")])
def test_a_raw_stream_keeps_its_own_frame_rate(tmp_path: Path, suffix: str, codec: str) -> None:
    """A raw MPEG-2 or MPEG-4 stream (DVD authoring's .m2v) times its frames by its own
    header; FFmpeg's average rate for it is its raw readers' default, 25 fps, so a 29.97 fps
    stream said 25 fps (the editor played it slow, timecodes and exports counted at 25)."""
    ntsc = Fraction(30000, 1001)
    path = tmp_path / f"stream{suffix}"
    write_video(path, frames=6, fps=ntsc, codec=codec)
    info, _ = probe(path)
    assert info.fps == pytest.approx(float(ntsc))
    assert info.duration == pytest.approx(6 / ntsc, abs=1e-6)


def decode_all(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.mark.parametrize("suffix", [".ts", ".m2ts"])  # HLS segments; camcorders' BDAV
def test_mpegts_is_frame_accurate(tmp_path: Path, suffix: str) -> None:
    source, ts = tmp_path / "clip.mp4", tmp_path / f"clip{suffix}"
    write_video(source, frames=40)  # one keyframe: TS seeks land past it
    remux(source, ts)
    expected = decode_all(source)
    info, pts = probe(ts)
    assert info.frame_count == 40
    reader = VideoReader(ts, pts, info.rotation, cache_size=4)
    for index in [39, 0, 20, 19, 18, 5, 38, *range(40)]:
        np.testing.assert_array_equal(reader.frame(index), expected[index], f"frame {index}")


def test_joined_recordings_whose_timestamps_restart_are_refused_saying_so(
    tmp_path: Path,
) -> None:
    """Two MPEG-TS recordings joined byte for byte (`cat a.ts b.ts`) play through, but their
    timestamps start over halfway: frames cannot be found by time, so say that, not 'damaged'."""
    parts = []
    for name, frames in (("a", 5), ("b", 7)):
        source, ts = tmp_path / f"{name}.mp4", tmp_path / f"{name}.ts"
        write_video(source, frames=frames)
        remux(source, ts)
        parts.append(ts.read_bytes())
    joined = tmp_path / "joined.ts"
    joined.write_bytes(b"".join(parts))
    assert len(decode_all(joined)) == 12  # what a player shows
    with pytest.raises(MediaError, match="timestamps start over") as refused:
        probe(joined)
    assert "re-encode" in str(refused.value)


def test_frames_sharing_a_timestamp_are_refused_saying_so(tmp_path: Path) -> None:
    """Matroska and WebM count time in milliseconds: a high-speed camera's 2000 fps lands two
    frames on one timestamp. Frames are found by time, so such a file was refused with 'its
    first frame cannot be decoded', the frame being intact: say what is wrong and the fix."""
    path = tmp_path / "slowmo.mkv"
    write_video(path, frames=6, fps=2000, codec="ffv1")
    with av.open(str(path)) as container:  # the clock is the container's, not the rate's
        assert container.streams.video[0].time_base == Fraction(1, 1000)
    with pytest.raises(MediaError) as refused:
        probe(path)
    assert str(refused.value) == (
        "frames 1 and 2 of the video share one timestamp (0.001 s; its container's clock is "
        "coarser than its frame rate?), so they cannot be told apart: re-encode it with a "
        "finer clock first, e.g. `ffmpeg -i IN -c:v libx264 -crf 16 OUT.mp4`"
    )


@pytest.mark.parametrize(
    "codec,options",
    [
        ("libx264", {"bf": "3", "g": "12", "keyint_min": "12", "sc_threshold": "0"}),
        ("mpeg2video", {"bf": "2", "g": "12"}),  # open GOPs: B-frames shown before the key
    ],
)
def test_a_recording_cut_mid_gop_starts_at_its_first_keyframe(
    tmp_path: Path, codec: str, options: dict[str, str]
) -> None:
    """A transport stream cut anywhere (a recording, a grabbed segment) starts with frames
    that refer to ones cut off: no player shows them, and they were refused as 'damaged: its
    first frame cannot be decoded'."""
    whole, cut = tmp_path / "whole.ts", tmp_path / "cut.ts"
    with av.open(str(whole), "w") as container:
        stream = container.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.options = options
        for i in range(60):
            rgb, _ = frame_and_alpha(i, 64, 96)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    data = whole.read_bytes()
    cut.write_bytes(data[len(data) * 3 // 10 // 188 * 188 :])  # at a TS packet boundary
    expected = decode_all(cut)
    assert 24 <= len(expected) < 60
    info, pts = probe(cut)
    assert info.frame_count == len(expected)
    reader = VideoReader(cut, pts, info.rotation, cache_size=4)
    for index in [len(expected) - 1, 0, 13, *range(len(expected))]:
        np.testing.assert_array_equal(reader.frame(index), expected[index], f"frame {index}")


@pytest.mark.parametrize("rotation,expected", [(0, 32 / 27), (90, 27 / 32)])
def test_an_anamorphic_video_says_how_wide_its_pixels_show(
    tmp_path: Path, rotation: int, expected: float
) -> None:
    """DV and HDV store 4:3 or 16:9 pictures in narrower frames: 72x48 at 32:27 shows as
    16:9. Turned upright (rotation 90), the pixels are that much taller instead."""
    path = tmp_path / "dv.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 72, 48, "yuv420p"
        stream.codec_context.sample_aspect_ratio = Fraction(32, 27)
        stream.set_display_rotation(rotation)
        for i in range(3):
            rgb, _ = frame_and_alpha(i, 48, 72)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    info, _ = probe(path)
    assert info.rotation == rotation
    assert info.pixel_aspect == pytest.approx(expected, abs=1e-6)
    square, _ = probe(_square(tmp_path))
    assert square.pixel_aspect == 1.0


def _square(folder: Path) -> Path:
    path = folder / "square.mp4"
    write_video(path, frames=2)
    return path


def test_edit_list_frames_are_what_players_show(tmp_path: Path) -> None:
    source, trimmed = tmp_path / "clip.mp4", tmp_path / "trimmed.mp4"
    write_video(source, frames=24)
    remux(source, trimmed, shift_frames=6)  # like `ffmpeg -ss 0.5 -c copy`: 6 frames cut off
    expected = decode_all(source)[6:]
    assert len(decode_all(trimmed)) == 18  # what a player shows
    info, pts = probe(trimmed)
    assert info.frame_count == 18
    assert info.duration == pytest.approx(18 / 12)
    reader = VideoReader(trimmed, pts, info.rotation, cache_size=4)
    for index in [17, 0, 1, 9, 8, 3, *range(18)]:
        np.testing.assert_array_equal(reader.frame(index), expected[index], f"frame {index}")


def test_frames_larger_than_the_header_are_refused_at_probe(tmp_path: Path) -> None:
    path = tmp_path / "grows.avi"
    write_mjpeg_avi(path, [(320, 240)] * 8 + [(640, 480)] * 4)
    with pytest.raises(MediaError, match=r"frame 11 is 640x480 .*320x240"):
        probe(path)


def test_a_frame_of_another_size_fails_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "bulge.avi"  # first and last frames fit: probe cannot see the middle
    write_mjpeg_avi(path, [(320, 240)] * 4 + [(640, 480)] * 2 + [(320, 240)] * 4)
    info, pts = probe(path)
    reader = VideoReader(path, pts, info.rotation)
    assert reader.frame(3).shape == (240, 320, 3)
    with pytest.raises(MediaError, match=r"^frame 4 is 640x480 .*320x240"):
        reader.frame(4)
    with pytest.raises(MediaError, match=r"^frame 5 is 640x480"):
        reader.frame(5)
    assert reader.frame(6).shape == (240, 320, 3)


def test_frames_far_larger_than_the_header_are_never_decoded(tmp_path: Path) -> None:
    path = tmp_path / "huge.avi"
    write_mjpeg_avi(path, [(64, 48), (64, 48), (960, 720), (64, 48)])
    info, pts = probe(path)
    reader = VideoReader(path, pts, info.rotation)
    # The decoder refuses it before allocating it, so it has no size to report.
    with pytest.raises(MediaError, match=r"^frame 2 cannot be decoded"):
        reader.frame(2)
    assert reader.frame(3).shape == (48, 64, 3)


def test_a_damaged_frame_does_not_poison_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "damaged.avi"
    write_mjpeg_avi(path, [(96, 64)] * 12, damaged=frozenset({5}))
    info, pts = probe(path)
    assert info.frame_count == 12
    fresh = {i: VideoReader(path, pts, 0).frame(i) for i in (4, 6, 7)}
    reader = VideoReader(path, pts, info.rotation)
    for _ in range(2):  # the same answers however the frames are asked for
        with pytest.raises(MediaError) as error:
            reader.frame(5)
        assert str(error.value) == "frame 5 cannot be decoded (the file is damaged there)"
        for index in (6, 7, 4):
            np.testing.assert_array_equal(reader.frame(index), fresh[index])
    sequential = VideoReader(path, pts, info.rotation)
    sequential.frame(4)
    with pytest.raises(MediaError, match=r"^frame 5 cannot be decoded"):
        sequential.frame(5)
    np.testing.assert_array_equal(sequential.frame(6), fresh[6])


@pytest.mark.parametrize("edges", ["best", "fast", "none"])
def test_frames_at_the_size_limits_can_be_matted(edges: str) -> None:
    """The limits are what matting needs: at working resolution the short side must hold the
    guided filter's window (one side under 12 px, or 8000x64, fail in the "fast" mode)."""
    settings = Settings()
    short = settings.min_side
    long = round(short * settings.max_aspect)
    matter = Matter(random_head(), "cpu", edges)
    for height, width in [(short, short), (short, long), (long, short), (short * 2, long * 2)]:
        rgb = np.random.default_rng(0).integers(0, 256, (height, width, 3), np.uint8)
        logits = torch.zeros(1, 1, 256, 256)
        assert matter(rgb, logits).shape == (height, width)


@pytest.mark.parametrize(
    ("fps", "timecode"), [(25, "01:00:00:00"), (Fraction(30000, 1001), "00:59:59;28")]
)
def test_the_start_timecode_is_read(tmp_path: Path, fps: Fraction, timecode: str) -> None:
    path = tmp_path / "camera.mov"
    write_video(path, frames=3, fps=fps, timecode=timecode)
    with av.open(str(path)) as container:  # the tmcd track is there, as an NLE finds it
        assert container.streams.data[0].metadata["timecode"] == timecode
    info, _ = probe(path)
    assert info.timecode == timecode


def test_a_video_without_a_timecode_has_none(tmp_path: Path) -> None:
    assert probe(_square(tmp_path))[0].timecode is None


@pytest.mark.parametrize("tag", ["01:00:00:25", "01:00:00", "soon"])
def test_a_malformed_timecode_is_taken_as_none(tmp_path: Path, tag: str) -> None:
    """Frame 25 of a 25 fps second does not exist; the others are not timecodes at all."""
    path = tmp_path / "odd.mkv"  # Matroska keeps any tag as it is given
    write_video(path, frames=2, fps=25, timecode=tag)
    assert probe(path)[0].timecode is None


def test_the_containers_timecode_is_read_when_the_streams_have_none(tmp_path: Path) -> None:
    path = tmp_path / "global.mkv"
    with av.open(str(path), "w") as container:
        container.metadata["timecode"] = "10:00:00:00"
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(2):
            rgb, _ = frame_and_alpha(i, 48, 64)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    assert probe(path)[0].timecode == "10:00:00:00"


def test_a_high_rate_timecode_is_read_in_its_usual_form(tmp_path: Path) -> None:
    """Above 100 fps FFmpeg spells a tmcd track's frames in three digits ("01:00:00:005"): a
    120 fps camera file had its timecode taken as none. It is kept in the two-digit form the
    exports and the editor write."""
    path = tmp_path / "fast.mov"
    write_video(path, frames=2, fps=120, timecode="01:00:00:05")
    with av.open(str(path)) as container:
        assert container.streams.data[0].metadata["timecode"] == "01:00:00:005"
    assert probe(path)[0].timecode == "01:00:00:05"


ALPHA_NOTE = (
    "the video's alpha channel is ignored: its colour is used as stored and the matte is made anew"
)


def write_with_alpha(path: Path, codec: str, pix_fmt: str, options: dict[str, str]) -> Path:
    """Three 64x48 frames of colour over a half-transparent left half, encoded with alpha."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=12)
        stream.width, stream.height, stream.pix_fmt = 64, 48, pix_fmt
        stream.options = options
        for i in range(3):
            rgba = np.full((48, 64, 4), (200, 40 * i, 30, 255), np.uint8)
            rgba[:, :32, 3] = 128
            picture = av.VideoFrame.from_ndarray(rgba, format="rgba").reformat(format=pix_fmt)
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize(
    "name,codec,pix_fmt,options",
    [
        ("prores.mov", "prores_ks", "yuva444p10le", {"profile": "4444"}),
        ("vp9.webm", "libvpx-vp9", "yuva420p", {}),
        ("png.mov", "png", "rgba", {}),
        ("animation.mov", "qtrle", "argb", {}),
    ],
)
def test_a_videos_own_alpha_is_said_to_be_ignored(
    tmp_path: Path, name: str, codec: str, pix_fmt: str, options: dict[str, str]
) -> None:
    """A video with an alpha channel (a keyed render, an earlier export) was read as its
    colour alone without a word: the probe now says so."""
    info, pts = probe(write_with_alpha(tmp_path / name, codec, pix_fmt, options))
    assert info.notes == [ALPHA_NOTE]
    assert info.frame_count == 3
    assert VideoReader(tmp_path / name, pts, info.rotation).frame(2).shape == (48, 64, 3)


def test_only_an_alpha_channel_that_is_not_opaque_is_noted(tmp_path: Path) -> None:
    """No note for ProRes 4444 without its alpha (yuv444p10le), an ordinary clip or an opaque
    GIF (FFmpeg decodes every GIF with an alpha channel: it was noted); one for a GIF whose
    frames are half clear."""
    opaque = [Image.new("RGB", (64, 48), (40 * i, 90, 200)) for i in range(3)]
    opaque[0].save(tmp_path / "opaque.gif", save_all=True, append_images=opaque[1:])
    assert probe(tmp_path / "opaque.gif")[0].notes == []
    see_through = []
    for i in range(3):  # the left half clear
        image = Image.new("RGBA", (64, 48), (40 * i, 90, 200, 255))
        image.paste((0, 0, 0, 0), (0, 0, 32, 48))
        see_through.append(image)
    see_through[0].save(tmp_path / "clear.gif", save_all=True, append_images=see_through[1:])
    assert probe(tmp_path / "clear.gif")[0].notes == [ALPHA_NOTE]
    prores = write_with_alpha(
        tmp_path / "prores.mov", "prores_ks", "yuv444p10le", {"profile": "4444"}
    )
    assert probe(prores)[0].notes == []
    assert probe(_square(tmp_path))[0].notes == []


def _fragmented(path: Path, frames: int) -> list[np.ndarray]:
    """A fragmented MP4 (a fragment each 12 frames, as a camera or OBS records it, so an
    interrupted recording keeps what it wrote) of frames that differ; its frames, decoded."""
    options = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.options = {"g": "12", "crf": "20"}
        noise = np.random.default_rng(7)
        for i in range(frames):
            rgb = noise.integers(0, 256, (64, 96, 3), dtype=np.uint8)
            picture = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            picture.pts = i
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.mark.parametrize("kept", [0.5, 0.8])
def test_a_fragmented_mp4_cut_short_keeps_the_frames_it_holds(tmp_path: Path, kept: float) -> None:
    """An interrupted recording (fragmented MP4 cut mid-fragment) was refused ("frame 23
    cannot be decoded"), where a Matroska cut short is read up to its end: its last frame,
    cut off, is left out, the others all read, and the note says how many there are."""
    whole = tmp_path / "whole.mp4"
    expected = _fragmented(whole, 48)
    assert 12 < cut_keeps_whole_frames(whole, expected, int(whole.stat().st_size * kept)) < 48
    assert probe(whole)[0].frame_count == 48


def _cut_before_frame(whole: Path, frame: int) -> Path:
    """A copy of `whole` that stops where frame `frame`'s data starts: cut between frames."""
    with av.open(str(whole)) as container:
        starts = [p.pos for p in container.demux(video=0) if p.size]
    cut = whole.with_name(f"cut-{whole.name}")
    cut.write_bytes(whole.read_bytes()[: starts[frame]])
    return cut


def test_an_mp4_cut_between_two_frames_says_it_is_cut_short(tmp_path: Path) -> None:
    """Its index (written first) lists 12 frames, the file stops where frame 7's data would
    start: no frame is partly there, and the 7 that are were taken as the whole video."""
    whole = tmp_path / "whole.mp4"
    with av.open(str(whole), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(12):
            rgb, _ = frame_and_alpha(i, 64, 96)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    cut = _cut_before_frame(whole, 7)
    info, pts = probe(cut)
    assert info.frame_count == 7
    assert info.notes == [
        "the file is cut short (truncated): only its first 7 frames are there, and those are used"
    ]
    assert VideoReader(cut, pts, info.rotation).frame(6).shape == (64, 96, 3)
    assert probe(whole)[0].notes == []


@pytest.mark.parametrize("name", ["clip.mkv", "clip.webm"])
def test_a_matroska_file_cut_short_says_so(tmp_path: Path, name: str) -> None:
    """Read up to its end as before, now with the note: its Segment says it runs on."""
    whole = tmp_path / name
    write_video(whole, frames=48, codec="libx264" if name.endswith("mkv") else "libvpx-vp9")
    cut = tmp_path / f"cut-{name}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    info, _ = probe(cut)
    assert 0 < info.frame_count < 48
    assert info.notes == [
        f"the file is cut short (truncated): only its first {info.frame_count} frames are "
        "there, and those are used"
    ]
    assert probe(whole)[0].notes == []


def _live_webm(path: Path, unknown_clusters: bool) -> None:
    """A WebM as a live recorder writes it (MediaRecorder, FFmpeg's `live`): its Segment's
    size unknown, and with `unknown_clusters` each Cluster's too (as browsers write them)."""
    with av.open(str(path), "w", format="webm", options={"live": "1"}) as container:
        stream = container.add_stream("libvpx-vp9", rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(48):
            rgb, _ = frame_and_alpha(i, 64, 96)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    data = bytearray(path.read_bytes())
    segment = data.find(bytes.fromhex("18538067"))
    assert data[segment + 4 : segment + 12] == bytes.fromhex("01ffffffffffffff")
    clusters = 0
    at = data.find(bytes.fromhex("1f43b675"))
    while unknown_clusters and at >= 0:
        width = 9 - data[at + 4].bit_length()
        data[at + 4 : at + 4 + width] = ((1 << 8 * width - width + 1) - 1).to_bytes(width, "big")
        clusters += 1
        at = data.find(bytes.fromhex("1f43b675"), at + 4)
    assert clusters > 1 or not unknown_clusters
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("unknown_clusters", [False, True])
def test_a_live_webm_cut_short_says_so(tmp_path: Path, unknown_clusters: bool) -> None:
    """A live recording (its Segment's size unknown: MediaRecorder's, a stream's) that was
    cut off was read without the note, where one that states its size has it: the element it
    stops in says it runs on. The same recording whole has no note."""
    whole = tmp_path / "live.webm"
    _live_webm(whole, unknown_clusters)
    assert probe(whole)[0].notes == []
    cut = tmp_path / "cut.webm"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    info, _ = probe(cut)
    assert 0 < info.frame_count < 48
    assert info.notes == [
        f"the file is cut short (truncated): only its first {info.frame_count} frames are "
        "there, and those are used"
    ]


@pytest.mark.parametrize(
    ("frames", "delay", "fps"),
    [(1, 0, 10.0), (3, 0, 10.0), (3, 2, 50.0), (3, 10, 10.0), (1, 50, 2.0)],
)
def test_a_gif_plays_at_the_rate_browsers_give_it(
    tmp_path: Path, frames: int, delay: int, fps: float
) -> None:
    """A GIF's frames show for their delay (centiseconds), one of 0 for 10 as browsers (and
    FFmpeg's reader) show it. A one-frame GIF of delay 0 was 100 fps (FFmpeg's clock's rate,
    the frame 10 ms long), three frames of delay 0 were 16.7 fps."""
    path = tmp_path / "anim.gif"
    images = [Image.new("RGB", (32, 24), (80 * i, 0, 0)) for i in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=10 * delay, loop=0)
    info, _ = probe(path)
    assert (info.frame_count, info.fps) == (frames, fps)
    assert info.duration == pytest.approx(frames / fps)


@pytest.mark.parametrize(("matrix", "rotation"), [(90, 90), (180, 180), (270, 270), (-90, 270)])
def test_a_rotation_is_told_as_0_to_270_degrees(tmp_path: Path, matrix: int, rotation: int) -> None:
    """One turn had two values: a phone upside down was -180 (a display matrix of 180°), one
    held the other way up -90 (270°), where a 90° one is 90: a client comparing with 180 or
    270 missed them. Each is one of 0, 90, 180, 270 now (counter-clockwise)."""
    path = tmp_path / "turned.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.set_display_rotation(matrix)
        rgb, _ = frame_and_alpha(0, 64, 96)
        container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    info, pts = probe(path)
    assert info.rotation == rotation
    turned = np.rot90(rgb, rotation // 90).astype(int)
    assert np.abs(VideoReader(path, pts, info.rotation).frame(0) - turned).mean() < 4


def _noisy_gif(path: Path, frames: int) -> list[np.ndarray]:
    """A GIF of `frames` frames of noise (each about 5 kB: a cut lands inside one), 10 fps."""
    noise = np.random.default_rng(3)
    pictures = [noise.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(frames)]
    images = [Image.fromarray(p).quantize(256, dither=Image.Dither.NONE) for p in pictures]
    images[0].save(path, save_all=True, append_images=images[1:], duration=100, loop=0)
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.mark.parametrize("kept", [0.5, 0.52, 0.55, 0.77])
def test_a_gif_cut_short_keeps_its_whole_frames_and_says_so(tmp_path: Path, kept: float) -> None:
    """A GIF download broken off: its last frame, cut in two, was read as a whole one (half of
    it garbage), or refused the upload ("frame 11 cannot be decoded"), without a word that the
    file is cut short. Its whole frames are read, the note says how many."""
    whole = tmp_path / "whole.gif"
    expected = _noisy_gif(whole, 20)
    assert 0 < cut_keeps_whole_frames(whole, expected, int(whole.stat().st_size * kept)) < 20


def test_a_gif_that_stops_between_two_frames_says_it_is_cut_short(tmp_path: Path) -> None:
    """No trailer (the byte every GIF ends with): the frames there are whole, and used."""
    whole = tmp_path / "whole.gif"
    _noisy_gif(whole, 6)
    info, _ = probe(_cut_before_frame(whole, 4))
    assert info.frame_count == 4
    assert info.notes == [
        "the file is cut short (truncated): only its first 4 frames are there, and those are used"
    ]


@pytest.mark.parametrize("name", ["clip.ts", "clip.flv"])
@pytest.mark.parametrize("kept", [0.6, 0.77])
def test_a_stream_recording_cut_short_keeps_its_whole_frames(
    tmp_path: Path, name: str, kept: float
) -> None:
    """An MPEG-TS or FLV recording stopped mid-write (OBS writes both): its last frame, cut in
    two, was read as a whole one (garbage where its data stops) and nothing said the file is
    cut short. Its whole frames are read, the note says how many."""
    whole = tmp_path / name
    expected = write_noisy_clip(whole, "libx264" if name.endswith("flv") else "mpeg2video")
    assert 0 < cut_keeps_whole_frames(whole, expected, int(whole.stat().st_size * kept)) < 24
