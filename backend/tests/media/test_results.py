"""A job's results as exports, from a store holding a clip whose foreground F, alpha and
background B are known (I = alpha·F + (1-alpha)·B, stored losslessly) and the true alpha as
the job's matte: what the colour-carrying exports hold at soft edges."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import OpenEXR
import pytest
from PIL import Image

from tests.matte.test_chroma import HAIR, as_read, strands, write
from tests.media.test_export import FPS, decode_audio, make_source
from tests.synth import disk_alpha, pq_nits, pq_signal, running_job
from vidmatte.jobs import results
from vidmatte.jobs.mattes import decode_mattes, encode_mattes, matted_objects
from vidmatte.jobs.results import FOREGROUNDS, export_frames, foreground_for, plan_export
from vidmatte.matte.adjust import EdgeAdjust, adjust_matte, median3, still_pixels
from vidmatte.matte.foreground import foreground_rgb
from vidmatte.media.export import write_archive
from vidmatte.media.video import VideoReader, probe
from vidmatte.store import Store

FRAMES, HEIGHT, WIDTH = 3, 64, 96


def scene(index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(F, alpha, B) in [0,1]: a smooth colour gradient as foreground, a disc with a 12-pixel
    soft ramp moving right, over a checkerboard of 4-pixel cells (the old colour's worst)."""
    yy, xx = np.mgrid[:HEIGHT, :WIDTH] / np.array([HEIGHT - 1, WIDTH - 1])[:, None, None]
    fg = np.stack([0.8 - 0.3 * yy, 0.4 + 0.3 * xx, 0.2 + 0.2 * yy * xx], -1)
    alpha = disk_alpha(HEIGHT, WIDTH, 40 + 3 * index, 32, 20, softness=12)
    checker = ((np.arange(HEIGHT)[:, None] // 4 + np.arange(WIDTH)[None] // 4) % 2)[..., None]
    bg = 0.1 + 0.7 * checker * np.array([0.2, 0.9, 1.0])
    return fg, alpha.astype(np.float64), bg


def write_clip(path: Path) -> None:
    """The composites, lossless (FFV1, RGB), so the source holds exactly I."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=Fraction(10))
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "bgr0"
        for i in range(FRAMES):
            fg, alpha, bg = scene(i)
            rgb = np.round(255 * (alpha[..., None] * fg + (1 - alpha[..., None]) * bg))
            picture = av.VideoFrame.from_ndarray(rgb.astype(np.uint8), format="rgb24")
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory):
    """A store with the clip and a done job whose mattes are the true alphas (8-bit)."""
    folder = tmp_path_factory.mktemp("results")
    store = Store(folder / "data")
    clip = folder / "clip.mkv"
    write_clip(clip)
    info, pts = probe(clip)
    project = store.add_project("known", "clip.mkv", clip, info, pts, b"")
    job = running_job(store, project.id, 0, FRAMES - 1, (40, 32))
    for i in range(FRAMES):
        buf = io.BytesIO()
        Image.fromarray(np.round(scene(i)[1] * 255).astype(np.uint8)).save(buf, "PNG")
        assert store.save_alpha(job.id, job.attempt, i, buf.getvalue())
    yield store, job.id
    store.close()


def rgba_export(
    store: Store, job_id: str, fg: str, edge: EdgeAdjust = EdgeAdjust()
) -> list[np.ndarray]:
    export = plan_export(store, job_id)
    out = io.BytesIO()
    frames = export_frames(store, export, fg, edge=edge)
    write_archive(out, frames, ["rgba_png"], export.project.info.fps)
    archive = zipfile.ZipFile(out)
    return [np.asarray(Image.open(archive.open(f"rgba/{i:06d}.png"))) for i in range(FRAMES)]


def test_rgba_colour_is_the_foreground_at_soft_edges(finished) -> None:
    store, job_id = finished
    estimated, raw = rgba_export(store, job_id, "estimated"), rgba_export(store, job_id, "raw")
    for i in range(FRAMES):
        fg, alpha, _ = scene(i)
        soft = (alpha > 0.1) & (alpha < 0.9)
        truth = fg[soft] * 255
        error = np.abs(estimated[i][..., :3][soft] - truth).mean()
        raw_error = np.abs(raw[i][..., :3][soft] - truth).mean()
        # Stated tolerance: a mean of 24/255 on the soft pixels (measured 19.8-20.2; the raw
        # colour 51.6). The smoothness prior cannot know the checkerboard behind, but the old
        # colour mostly goes.
        assert error < 24, (i, error)
        assert raw_error > 45 and error < raw_error / 2, (i, raw_error)
        assert np.array_equal(estimated[i][..., 3], np.round(alpha * 255))
        opaque = alpha >= 1
        assert np.array_equal(estimated[i][opaque], raw[i][opaque])  # F is I where alpha is 1


def test_colour_is_estimated_only_for_formats_that_carry_it() -> None:
    assert foreground_for(["alpha_png", "rgba_png"], "estimated") == "estimated"
    assert foreground_for(["alpha_png", "alpha_mp4"], "estimated") == "raw"
    assert foreground_for(["prores4444"], "raw") == "raw"
    with pytest.raises(ValueError, match="unknown foreground 'clean'"):
        foreground_for(["rgba_png"], "clean")


def test_an_adjusted_matte_is_exported_with_the_foreground_estimated_from_it(finished) -> None:
    """Shift and feather apply to the exported matte, and the estimated colour is estimated
    from that matte, not the stored one (its soft band has moved)."""
    store, job_id = finished
    edge = EdgeAdjust(shift_edge=-2.5, feather=3)
    adjusted = rgba_export(store, job_id, "estimated", edge)
    plain = rgba_export(store, job_id, "estimated")
    export = plan_export(store, job_id)
    for i, frame in enumerate(export_frames(store, export, "raw")):
        stored = np.asarray(Image.open(store.alpha_path(job_id, i))).astype(np.float32) / 255
        want = np.round(adjust_matte(stored, -2.5, 3) * 255)
        assert np.array_equal(adjusted[i][..., 3], want)
        assert adjusted[i][..., 3].sum() < plain[i][..., 3].sum()  # choked
        colour = foreground_rgb(frame.rgb, want.astype(np.uint8))
        assert np.array_equal(adjusted[i][..., :3], colour)
        assert not np.array_equal(adjusted[i][..., :3], plain[i][..., :3])


def test_chatter_is_reduced_from_the_finished_neighbours_before_the_shift(
    finished, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The middle frame's matte is the median of the three frames' where the picture is still
    (then grown); the ends of the job, and a frame whose neighbour is not matted, keep their
    own. Each stored frame is decoded once, not once per frame that needs it."""
    store, done_id = finished
    decoded: list[int] = []
    counted = results.decode_mattes

    def counting(png: bytes, height: int) -> np.ndarray:
        decoded.append(len(png))
        return counted(png, height)

    monkeypatch.setattr(results, "decode_mattes", counting)
    project_id, obj = store.job(done_id).project_id, matted_objects(store.job(done_id))[0]
    rng = np.random.default_rng(3)
    flicker = [rng.random((HEIGHT, WIDTH)).astype(np.float32) for _ in range(FRAMES)]
    edge = EdgeAdjust(shift_edge=1, reduce_chatter=True)
    # The disc moves over a still checkerboard: only the pixels its picture leaves alone lose
    # their matte's flicker.
    reader = VideoReader(store.project(project_id).source, store.pts_index(project_id), 0)
    still = still_pixels(*(reader.frame(i) for i in range(FRAMES)))
    reader.close()
    assert 0.3 < still.mean() < 0.95
    for matted, neighbours in [(range(FRAMES), {1: (0, 2)}), ([0, 1], {})]:
        job = store.add_job(project_id, 0, FRAMES - 1, [obj], edges="none", head="", sam2="")
        job = store.transition(job.id, "running")
        for i in matted:
            assert store.save_alpha(job.id, job.attempt, i, encode_mattes([flicker[i]]))
        export = plan_export(store, job.id)
        stored = {
            i: decode_mattes(store.alpha_path(job.id, i).read_bytes(), HEIGHT)[0] for i in matted
        }
        decoded.clear()
        frames = list(export_frames(store, export, "raw", edge=edge))
        assert [frame.index for frame in frames] == list(matted) and len(decoded) == len(matted)
        for frame in frames:
            i = frame.index
            before, after = (stored[n] for n in neighbours[i]) if i in neighbours else (None,) * 2
            want = adjust_matte(median3(before, stored[i], after, still), 1)
            np.testing.assert_array_equal(frame.alpha16, np.round(want * 65535))
        middle = np.round(adjust_matte(stored[1], 1) * 65535)
        assert np.array_equal(frames[1].alpha16, middle) == (1 not in neighbours)


def test_a_sequence_s_frames_are_named_by_its_own_numbers(tmp_path: Path) -> None:
    """A project made from shot.1001.png ... keeps 1001 (stored with it) and its per-frame
    files are named 001001..., as the plates are, so a compositor's matte lines up with them
    frame for frame; the API's indices stay 0..."""
    store = Store(tmp_path / "data")
    clip = tmp_path / "clip.mkv"
    write_clip(clip)
    info, pts = probe(clip)
    added = store.add_project("shot", "shot.zip", clip, replace(info, first_number=1001), pts, b"")
    project = store.project(added.id)
    assert project.info.first_number == 1001
    job = running_job(store, project.id, 1, 2, (40, 32))
    for i in (1, 2):
        buf = io.BytesIO()
        Image.fromarray(np.round(scene(i)[1] * 255).astype(np.uint8)).save(buf, "PNG")
        assert store.save_alpha(job.id, job.attempt, i, buf.getvalue())
    out = io.BytesIO()
    frames = export_frames(store, plan_export(store, job.id))
    write_archive(out, frames, ["alpha_png", "exr"], 10, stem="shot")
    store.close()
    names = sorted(zipfile.ZipFile(out).namelist())
    assert names == ["alpha/001002.png", "alpha/001003.png", "exr/001002.exr", "exr/001003.exr"]


@pytest.mark.parametrize("stated", [9, 2], ids=["bt2020", "unstated"])
def test_a_project_s_colour_primaries_and_transfer_reach_its_exports(
    tmp_path: Path, stated: int
) -> None:
    """An HLG BT.2020 source (an iPhone's) keeps its tags through the store to the exported
    videos' (stored with the project's video info, as probe read them); one stating no
    primaries is exported as it is shown, BT.2020 (hdr.shown_primaries): it was tagged BT.709,
    its colour shown as BT.2020's in the editor."""
    store = Store(tmp_path / "data")
    clip = tmp_path / "clip.mkv"
    write_clip(clip)
    info, pts = probe(clip)
    hlg = replace(info, primaries=stated, transfer=18)
    project = store.project(store.add_project("hlg", "hlg.mov", clip, hlg, pts, b"").id)
    assert (project.info.primaries, project.info.transfer) == (stated, 18)
    job = running_job(store, project.id, 0, 0, (40, 32))
    buf = io.BytesIO()
    Image.fromarray(np.round(scene(0)[1] * 255).astype(np.uint8)).save(buf, "PNG")
    assert store.save_alpha(job.id, job.attempt, 0, buf.getvalue())
    out = io.BytesIO()
    write_archive(out, export_frames(store, plan_export(store, job.id)), ["composite_mp4"], 10)
    store.close()
    with av.open(zipfile.ZipFile(out).open("matte_composite.mp4")) as container:
        context = container.streams.video[0].codec_context
        assert (context.color_primaries, context.color_trc, context.colorspace) == (9, 18, 9)


def write_pq_clip(path: Path, codes: np.ndarray) -> None:
    """A one-frame 10-bit PQ BT.2020 clip (FFV1, RGB, lossless) of `codes`, its 10-bit signal
    (H, W, 3)."""
    height, width = codes.shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=Fraction(10))
        stream.width, stream.height, stream.pix_fmt = width, height, "gbrp10le"
        context = stream.codec_context
        context.color_primaries, context.color_trc, context.colorspace = 9, 16, 0
        wide = (codes.astype(np.uint32) * 65535 // 1023).astype(np.uint16)
        picture = av.VideoFrame.from_ndarray(wide, format="rgb48le")
        container.mux(stream.encode(picture.reformat(format="gbrp10le")))
        container.mux(stream.encode(None))


def write_deep_pq_ramp(path: Path, width: int = 1024, height: int = 32) -> np.ndarray:
    """A 10-bit PQ BT.2020 clip of a grey ramp across 512 code values, one frame; its 10-bit
    signal (H, W) back."""
    ramp = np.round(np.linspace(205, 716, width)).astype(np.uint16)
    codes = np.broadcast_to(ramp, (height, width))
    write_pq_clip(path, np.repeat(codes[..., None], 3, -1))
    return codes


def one_frame_job(store: Store, clip: Path, alpha8: np.ndarray) -> str:
    """A job over the clip's first frame, its matte `alpha8` (uint8) stored: ready to export."""
    info, pts = probe(clip)
    project = store.add_project("pq", clip.name, clip, info, pts, b"")
    job = running_job(store, project.id, 0, 0, (4, 4))
    buf = io.BytesIO()
    Image.fromarray(alpha8).save(buf, "PNG")
    assert store.save_alpha(job.id, job.attempt, 0, buf.getvalue())
    return job.id


@pytest.mark.parametrize("fg", ["raw", "estimated"])
def test_a_deep_hdr_source_s_exports_keep_its_precision(tmp_path: Path, fg: str) -> None:
    """A 10-bit PQ source's smooth gradient came out of every export in 8 bits (256 levels
    over PQ's whole 0..10,000 cd/m², visible bands). The RGBA PNG is 16-bit, the composite
    10-bit video (HEVC Main 10), both still tagged PQ BT.2020; each keeps the ramp's 512
    levels."""
    store = Store(tmp_path / "data")
    clip = tmp_path / "pq.mkv"
    codes = write_deep_pq_ramp(clip)
    info, _ = probe(clip)
    assert (info.primaries, info.transfer) == (9, 16)
    job_id = one_frame_job(store, clip, np.full(codes.shape, 255, np.uint8))  # opaque
    out = io.BytesIO()
    export = plan_export(store, job_id)
    formats = ["rgba_png", "composite_mp4", "prores4444", "webm_alpha", "exr"]
    write_archive(out, export_frames(store, export, fg), formats, 10)
    store.close()
    archive = zipfile.ZipFile(out)
    with archive.open("rgba/000000.png") as file:
        png = file.read()
    assert png[24:26] == bytes([16, 6])  # IHDR: 16 bits, RGBA
    assert b"cICP" + bytes([9, 16, 0, 1]) in png[:64]
    with av.open(io.BytesIO(png)) as container:  # FFmpeg's PNG decoder reads 16-bit RGBA
        rgba = next(container.decode(video=0)).to_ndarray(format="rgba64le")
    assert len(np.unique(rgba[..., 0])) == 512
    assert np.array_equal(np.round(rgba[..., 0] / 65535 * 1023), codes)  # each code as it is
    assert (rgba[..., 3] == 65535).all()
    composite = tmp_path / "composite.mp4"
    composite.write_bytes(archive.read("matte_composite.mp4"))
    with av.open(str(composite)) as container:
        context = container.streams.video[0].codec_context
        assert (context.name, context.pix_fmt) == ("hevc", "yuv420p10le")
        assert (context.color_primaries, context.color_trc, context.colorspace) == (9, 16, 9)
    # Read as the project reads it: swscale's own 16-bit RGB of it is 0.4% dark.
    picture = VideoReader(composite, probe(composite)[1], 0, tone_map=False, deep=True).frame(0)
    grey = picture[8, :, 1].astype(int) * 1023 / 65535
    assert len(np.unique(np.round(grey))) > 256
    assert np.abs(grey - codes[8]).max() <= 4  # lossy 4:2:0 at crf 18: a few levels
    prores = tmp_path / "prores.mov"
    prores.write_bytes(archive.read("matte_prores4444.mov"))
    with av.open(str(prores)) as container:  # 10 bits, from 16
        picture = next(container.decode(video=0)).to_ndarray(format="rgba64le")
    assert (picture[..., 3] >> 6 == 1023).all()
    picture = VideoReader(prores, probe(prores)[1], 0, tone_map=False, deep=True).frame(0)
    grey = picture[8, :, 1].astype(int) * 1023 / 65535
    assert len(np.unique(np.round(grey))) > 256
    assert np.abs(grey - codes[8]).max() <= 2
    with av.open(archive.open("matte_alpha.webm")) as container:  # VP9 with alpha: 8 bits
        picture = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert np.abs(picture[8, :, 1] - codes[8] / 1023 * 255).max() <= 3
    path = tmp_path / "frame.exr"
    path.write_bytes(archive.read("exr/000000.exr"))
    with OpenEXR.File(str(path), separate_channels=True) as exr:
        light = exr.channels()["G"].pixels[8].astype(np.float64)
    assert len(np.unique(light)) > 256  # light in half floats, from every 10-bit code


def test_an_hdr_source_s_estimated_colour_is_the_foreground_in_light(tmp_path: Path) -> None:
    """A 10-bit PQ clip composited in light (F up to 400 cd/m² over a checkerboard up to
    128): the RGBA PNG's estimated colour at the soft edge is F in light, as for an SDR
    source (test_rgba_colour_is_the_foreground_at_soft_edges). Estimated on the PQ code
    values (before) it was hardly nearer F than the frame's own colour."""
    fg, alpha, bg = scene(0)
    nits = 400 * (alpha[..., None] * fg + (1 - alpha[..., None]) * bg * 0.4)
    clip = tmp_path / "pq.mkv"
    write_pq_clip(clip, np.round(pq_signal(nits) * 1023).astype(np.uint16))
    store = Store(tmp_path / "data")
    job_id = one_frame_job(store, clip, np.round(alpha * 255).astype(np.uint8))
    soft = (alpha > 0.1) & (alpha < 0.9)
    errors = {}
    for colour in FOREGROUNDS:
        out = io.BytesIO()
        write_archive(
            out, export_frames(store, plan_export(store, job_id), colour), ["rgba_png"], 10
        )
        with av.open(zipfile.ZipFile(out).open("rgba/000000.png")) as container:
            rgba = next(container.decode(video=0)).to_ndarray(format="rgba64le")
        light = pq_nits(rgba[..., :3] / 65535)
        errors[colour] = np.abs(light - 400 * fg)[soft].mean()
    store.close()
    # Measured: 13.4 cd/m² (the frame's own colour 76.6; on the code values it was 68.0).
    assert errors["estimated"] < 20 and errors["raw"] > 3 * errors["estimated"], errors


def test_an_8_bit_source_s_exports_stay_8_bit(finished) -> None:
    store, job_id = finished
    out = io.BytesIO()
    export = plan_export(store, job_id)
    write_archive(out, export_frames(store, export), ["rgba_png", "composite_mp4"], 10)
    archive = zipfile.ZipFile(out)
    assert Image.open(archive.open("rgba/000000.png")).mode == "RGBA"
    with av.open(archive.open("matte_composite.mp4")) as container:
        context = container.streams.video[0].codec_context
        assert (context.name, context.pix_fmt) == ("h264", "yuv420p")


def test_an_archive_with_a_gap_keeps_the_source_s_sound(tmp_path: Path) -> None:
    """A job with a frame not finished (one still running, or stopped) was exported without
    its audio: the sound was thought not to fit a gap, but a gap stays a gap in time in the
    videos, as a variable frame rate's does, and the sound plays on through it in sync."""
    store = Store(tmp_path / "data")
    clip = make_source(tmp_path / "sound.mp4", 1.0, audio=True)
    info, pts = probe(clip)
    project = store.add_project("sound", "sound.mp4", clip, info, pts, b"")
    job = running_job(store, project.id, 5, 14, (30, 20))
    done = [5, 6, 7, 9, 10, 11, 12, 13, 14]  # frame 8 not finished
    for i in done:
        assert store.save_alpha(job.id, job.attempt, i, encode_mattes([np.ones((48, 64))]))
    export = plan_export(store, job.id)
    assert export.audio_from == export.project.source
    out = io.BytesIO()
    write_archive(out, export_frames(store, export), ["composite_mp4"], FPS, export.audio_from)
    store.close()
    video = tmp_path / "matte_composite.mp4"
    video.write_bytes(zipfile.ZipFile(out).read(video.name))
    _, samples, rate = decode_audio(video)
    # The frames span 0.2 s .. 0.6 s of the source, the gap included.
    assert len(samples) / rate == pytest.approx(10 / FPS, abs=0.03)


def write_variable_rate_clip(path: Path, ms: list[int], last_ms: int) -> None:
    """A lossless clip of frames shown at `ms` (milliseconds), the last for `last_ms`, as
    its packet states (a variable-rate recording's last sample)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=Fraction(10))
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "bgr0"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        lasting = dict(zip(ms, [*np.diff(ms).tolist(), last_ms], strict=True))
        packets = []
        for t in ms:
            picture = av.VideoFrame.from_ndarray(np.zeros((HEIGHT, WIDTH, 3), np.uint8), "rgb24")
            picture.pts, picture.time_base = t, Fraction(1, 1000)
            packets += stream.encode(picture)
        for packet in packets + stream.encode(None):
            packet.duration = round(Fraction(lasting[packet.pts], 1000) / packet.time_base)
            container.mux(packet)


@pytest.mark.parametrize(
    ("end", "length"), [(4, 0.35 + 0.6), (1, 0.2)], ids=["source_s_last", "mid_video"]
)
def test_a_variable_rate_export_lasts_until_its_last_frame_ends_in_the_source(
    tmp_path: Path, end: int, length: float
) -> None:
    """A variable-rate source whose last frame shows for 600 ms (at an average 10 fps): an
    export of frames up to it lasts until that frame's end, one of frames up to frame 1 (at
    50 ms) until the source's frame 2 shows (200 ms). Both ended one average frame (100 ms)
    after their last frame showed."""
    store = Store(tmp_path / "data")
    clip = tmp_path / "vfr.mkv"
    write_variable_rate_clip(clip, [0, 50, 200, 300, 350], 600)
    info, pts = probe(clip)
    project = store.add_project("vfr", "vfr.mkv", clip, info, pts, b"")
    job = running_job(store, project.id, 0, end, (4, 4))
    for i in range(end + 1):
        assert store.save_alpha(job.id, job.attempt, i, encode_mattes([np.ones((HEIGHT, WIDTH))]))
    export = plan_export(store, job.id)
    out = io.BytesIO()
    write_archive(out, export_frames(store, export), ["prores4444"], info.fps)
    store.close()
    with av.open(zipfile.ZipFile(out).open("matte_prores4444.mov")) as container:
        stream = container.streams.video[0]
        assert float(stream.duration * stream.time_base) == pytest.approx(length, abs=1e-3)


def test_a_420_source_s_foreground_is_solved_from_its_colour_restored(tmp_path: Path) -> None:
    """An RGBA export of a 4:2:0 video of thin strands, its matte their true alpha: the
    foreground colour at the strands is solved from the frame's colour restored from luma
    (matte/chroma.py): over blue, 8.5 levels off the true composite there (measured), where
    the decoded blocks' colour gives 19.1."""
    rgb, alpha = strands()
    clip = write(tmp_path / "hair.mp4", rgb, "yuv420p")
    _, decoded, _ = as_read(clip)
    matte = np.round(alpha * 255).astype(np.uint8)
    store = Store(tmp_path / "data")
    try:
        job_id = one_frame_job(store, clip, matte)  # the store takes the clip
        export = plan_export(store, job_id)
        out = io.BytesIO()
        write_archive(out, export_frames(store, export, "estimated"), ["rgba_png"], 12)
    finally:
        store.close()
    with zipfile.ZipFile(out) as archive, archive.open("rgba/000000.png") as png:
        rgba = np.asarray(Image.open(png))
    seen, blue = matte[..., None] / 255.0, np.array([0.0, 0.0, 255.0])
    soft = (matte > 5) & (matte < 255)

    def composite_error(colour: np.ndarray) -> float:
        over = seen * colour + (1 - seen) * blue
        return float(np.abs(over - (seen * HAIR + (1 - seen) * blue))[soft].mean())

    assert np.array_equal(rgba[..., 3], matte)
    assert composite_error(foreground_rgb(decoded, matte)) > 15
    assert composite_error(rgba[..., :3]) < 0.6 * composite_error(foreground_rgb(decoded, matte))
