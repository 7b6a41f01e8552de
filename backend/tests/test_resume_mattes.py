"""A job of two objects stopped mid-way and resumed makes the same per-object mattes as one
that ran through: on resume, each object's previous-frame matte fed back to the head is its
own (read back from the stored frame), not the union of the objects'.

The real pipeline stages (`matte_frames`, `encoded`, the stored 16-bit PNGs) and a real Matter
run on a track's masks (a disk and a bar that overlap it, known shapes: test-tiny SAM2's masks
hardly differ between objects). The head is a real MattingHead with chosen weights that leans
on its previous alpha (alpha = 0.25 mask + 0.75 previous alpha), so feeding the union instead
changes the mattes far beyond the tolerance."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from scipy import ndimage

from tests.synth import frame_and_alpha, write_video
from vidmatte.jobs.mattes import decode_mattes, encode_mattes
from vidmatte.jobs.pipeline import Stopped, boundary, encoded, matte_frames, read_for_matting
from vidmatte.matte.head import HeadConfig, MattingHead
from vidmatte.matte.infer import Matter
from vidmatte.media.video import VideoReader, probe
from vidmatte.segment.session import FrameMasks
from vidmatte.store import Job, Point

H, W, FRAMES, ANCHOR = 64, 96, 10, 2
MEMORY = 0.75  # the weight of the previous alpha in the head below
# Resumed vs uninterrupted: the only difference is the previous alpha read back from the 16-bit
# PNG instead of kept in memory (1/65535 at most); the best edges' iterative solve, which stops
# at a residual tolerance, makes that up to ~12/65535 (measured). 1e-3 is a quarter of an 8-bit
# step; feeding the union changes them by over 0.3 here.
TOLERANCE = 1e-3
# With the background plate, measured: identical. The rebuild feeds the plates the same
# frames with the same SAM2 masks in the same order (their registration needs nothing else)
# and gives each finished one its stored alpha, which could differ from the matting's only
# where 16-bit rounding crosses the plate's background threshold. (When the plates were
# registered with the head's alpha, which is not stored, it was up to 9e-5.)
PLATE_TOLERANCE = 1e-5


def memory_head() -> MattingHead:
    """alpha = (1 - MEMORY) sigmoid(logits) + MEMORY prev_alpha: the head's last block reads the
    mask (input channel 3) and the previous alpha (channel 4) straight from its raw inputs; every
    other weight is zero, so nothing else reaches the output."""
    config = HeadConfig(working_size=W, band_radius=0, colour_prior=False)
    head = MattingHead(config)
    with torch.no_grad():
        for module in head.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.weight.zero_()
                if module.bias is not None:
                    module.bias.zero_()
        first, last = head.out[0][0], head.out[-1]
        skip = first.in_channels - 5  # the raw inputs come after the decoder's channels
        first.weight[0, skip + 3, 1, 1] = 1.0  # soft mask -> channel 0 (BatchNorm ~identity)
        first.weight[1, skip + 4, 1, 1] = 1.0  # previous alpha -> channel 1
        # delta = MEMORY (prev - soft), added to soft by the head
        last.weight[0, 0, 1, 1], last.weight[0, 1, 1, 1] = -MEMORY, MEMORY
    return head.eval()


def bar(frame: int) -> np.ndarray:
    """Object 2: a soft-edged vertical bar moving left, over the disk's right half."""
    xx = np.arange(W, dtype=np.float32)
    centre = 50.0 - 2.0 * frame
    row = np.clip((8.0 - np.abs(xx - centre)) / 3.0 + 0.5, 0.0, 1.0)
    return np.broadcast_to(row, (H, W)).astype(np.float32)


def track() -> list[tuple[int, dict[int, FrameMasks]]]:
    """The masks in SAM2's order: forward from the prompted frame, then backward."""
    order = [*range(ANCHOR, FRAMES), *range(ANCHOR - 1, -1, -1)]
    out = []
    for frame in order:
        shapes = {1: frame_and_alpha(frame, H, W)[1], 2: bar(frame)}
        masks = {}
        for obj, shape in shapes.items():
            logits = torch.from_numpy(10.0 * (shape - 0.5))[None, None]
            masks[obj] = FrameMasks(frame, obj, logits, logits, 1.0, None, None)
        out.append((frame, masks))
    return out


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> VideoReader:
    path = tmp_path_factory.mktemp("resume") / "disk.mp4"
    write_video(path, frames=FRAMES, width=W, height=H)
    info, pts = probe(path)
    return VideoReader(path, pts, info.rotation)


def job() -> Job:
    point = [Point(30, 32, "positive")]
    return Job(
        id="j_resume", project_id="p_resume", status="running", start=0, end=FRAMES - 1,
        object_ids=[1, 2], frames_done=0, frames_total=FRAMES, fps=None, eta_seconds=None,
        error=None, created_at="", updated_at="", attempt=1, version=1,
        prompts={(1, ANCHOR): point, (2, ANCHOR): point}, edges="best", head="memory",
    )  # fmt: skip


def run(
    reader: VideoReader, matter: Matter, stored: dict[int, bytes], stop_after: int | None = None
) -> None:
    """One run of the job into `stored` (frame -> PNG), as the store keeps them; with
    `stop_after`, told to stop (a cancel, a crash) once that many frames are stored."""
    stop = threading.Event()
    frames = matte_frames(
        job(), reader, (H, W), None, matter, set(stored), stored.__getitem__, stop.is_set, track()
    )  # type: ignore[arg-type]  # no segmenter: the track's masks are given
    try:
        for frame, png in encoded(frames):
            stored[frame] = png
            if stop_after is not None and len(stored) >= stop_after:
                stop.set()
    except Stopped:
        assert stop_after is not None


def test_a_resumed_job_feeds_each_object_its_own_previous_matte(reader: VideoReader) -> None:
    matter = Matter(memory_head(), "cpu")  # the default ("best") edges
    through: dict[int, bytes] = {}
    run(reader, matter, through)
    resumed: dict[int, bytes] = {}
    run(reader, matter, resumed, stop_after=3)
    first_run = set(resumed)
    assert 3 <= len(first_run) < FRAMES, first_run
    run(reader, matter, resumed)
    assert sorted(resumed) == sorted(through) == list(range(FRAMES))

    for frame in range(FRAMES):
        want, got = decode_mattes(through[frame], H), decode_mattes(resumed[frame], H)
        assert got.shape == (2, H, W)
        assert np.abs(got - want).max() <= TOLERANCE, frame

    # The test can tell: the first frame matted on resume, fed the union of the stored frame's
    # mattes (what a pipeline keeping no per-object matte would do), differs by far.
    after = max(first_run) + 1
    stored = decode_mattes(resumed[after - 1], H)
    rgb = read_for_matting(matter, reader, after)  # as the job reads it
    masks = dict(track())[after]
    for i, obj in enumerate((1, 2)):
        own = matter(rgb, masks[obj].mask_logits, stored[i])
        union = matter(rgb, masks[obj].mask_logits, stored.max(0))
        np.testing.assert_allclose(own, decode_mattes(through[after], H)[i], atol=TOLERANCE)
        assert np.abs(union - own).max() > 0.1, obj


PAN_FRAMES = 10
Pan = tuple[VideoReader, list[tuple[int, dict[int, FrameMasks]]]]


def panning_clip(path: Path, frames: int) -> list[tuple[int, dict[int, FrameMasks]]]:
    """A soft disc moving right 6 px a frame (10 frames at most) over a smooth random texture
    panning 2 px right and 1 down (camera motion, so the plate registers its frames), written
    losslessly; its track: SAM2-like logits of the disc, blurred into an unsure rim."""
    yy, xx = np.mgrid[:H, :W]
    texture = ndimage.uniform_filter(
        np.random.default_rng(0).random((H + 40, W + 40, 3)), (3, 3, 1)
    )
    out = []
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=12)
        stream.width, stream.height, stream.pix_fmt = W, H, "bgr0"
        for frame in range(frames):
            alpha = np.clip((14 - np.hypot(yy - 32, xx - 20 - 6 * frame)) / 4, 0, 1)[..., None]
            background = 0.1 + 0.8 * texture[frame : frame + H, 2 * frame : 2 * frame + W]
            rgb = alpha * np.array([0.9, 0.6, 0.2]) + (1 - alpha) * background
            image = av.VideoFrame.from_ndarray((rgb * 255).round().astype(np.uint8), "rgb24")
            for packet in stream.encode(image):
                container.mux(packet)
            soft = ndimage.uniform_filter((alpha[..., 0] > 0.5).astype(np.float32), 5)
            soft = soft.clip(1e-4, 1 - 1e-4)
            logits = torch.from_numpy(np.log(soft / (1 - soft)))[None, None]
            out.append((frame, {1: FrameMasks(frame, 1, logits, logits, 1.0, None, None)}))
        for packet in stream.encode():
            container.mux(packet)
    return out


@pytest.fixture(scope="module")
def pan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pan]:
    path = tmp_path_factory.mktemp("pan") / "pan.mkv"
    masks = panning_clip(path, PAN_FRAMES)
    info, pts = probe(path)
    reader = VideoReader(path, pts, info.rotation)
    yield reader, masks
    reader.close()


def pan_job(anchor: int) -> Job:
    return dataclasses.replace(
        job(),
        object_ids=[1],
        end=PAN_FRAMES - 1,
        frames_total=PAN_FRAMES,
        prompts={(1, anchor): [Point(20 + 6 * anchor, 32, "positive")]},
    )


def plated_matter() -> Matter:
    """The identity head (alpha = SAM2's soft mask), so what differs is the edges'
    refinement, with the background plate."""
    head = MattingHead(HeadConfig(working_size=W, band_radius=0, colour_prior=False)).eval()
    return Matter(head, "cpu", plate=True)


def test_a_resumed_job_rebuilds_the_background_plate(pan: Pan) -> None:
    """With the background plate on, the frames after the resume point are matted with the
    background the frames before it saw, as in a run that went through: the plate is rebuilt
    from the finished frames (their frames and stored mattes), not started empty. Measured:
    the resumed mattes are the uninterrupted run's (`PLATE_TOLERANCE`); an empty plate puts
    the frames after the resume point up to 0.014 off."""
    reader, masks = pan
    frames, one, plated = PAN_FRAMES, pan_job(0), plated_matter()

    def run(
        stored: dict[int, bytes], matter: Matter = plated, stop_after: int | None = None
    ) -> None:
        stop = threading.Event()
        matted = matte_frames(
            one, reader, (H, W), None, matter, set(stored), stored.__getitem__, stop.is_set, masks
        )  # type: ignore[arg-type]  # no segmenter: the track's masks are given
        with contextlib.suppress(Stopped):
            for frame, png in encoded(matted):
                stored[frame] = png
                if stop_after is not None and len(stored) >= stop_after:
                    stop.set()

    through: dict[int, bytes] = {}
    run(through)
    resumed: dict[int, bytes] = {}
    run(resumed, stop_after=5)
    after = max(resumed) + 1
    assert 5 <= after < frames, sorted(resumed)
    run(resumed)
    assert sorted(resumed) == list(range(frames))
    for frame in range(frames):
        want, got = decode_mattes(through[frame], H), decode_mattes(resumed[frame], H)
        assert np.abs(got - want).max() <= PLATE_TOLERANCE, frame

    # The test can tell: without the plate's earlier frames, those after the resume point
    # come out otherwise.
    empty: dict[int, bytes] = {}
    run(empty, Matter(plated.head, "cpu"))
    differs = [
        np.abs(decode_mattes(empty[f], H) - decode_mattes(through[f], H)).max()
        for f in range(frames)
    ]
    assert max(differs[after:]) > 5e-3, differs
    # Fed the frames ahead, even the first, which no frame precedes, has a plate (measured:
    # 0.0072 off the plateless matte; the old plate of earlier frames alone left it as is).
    assert differs[0] > 5e-3, differs


def test_a_cluster_worker_gets_every_stored_frame_a_resumed_run_reads(pan: Pan) -> None:
    """A Ray worker has only the stored frames the server sends it (`boundary`): with the
    plate, a resumed run reads the finished frames before each unfinished one, as many as a
    plate holds, forward and backward; not only the one next to it."""
    reader, masks = pan
    plated, by_frame = plated_matter(), dict(masks)
    order = [*range(4, PAN_FRAMES), *range(3, -1, -1)]  # SAM2's, from the prompt on frame 4
    done = {2, 3, 4, 5, 6}
    pngs = {
        f: encode_mattes([torch.sigmoid(by_frame[f][1].mask_logits)[0, 0].numpy()]) for f in done
    }
    sent = boundary(done, 0, PAN_FRAMES - 1, max(1, plated.plate_frames))
    asked: list[int] = []

    def stored(frame: int) -> bytes:
        asked.append(frame)
        return {f: pngs[f] for f in sent}[frame]

    matted = matte_frames(
        pan_job(4), reader, (H, W), None, plated, done, stored, lambda: False,
        [(f, by_frame[f]) for f in order],
    )  # type: ignore[arg-type]  # fmt: skip
    assert [frame for frame, _ in matted] == [7, 8, 9, 1, 0]
    assert set(asked) == done  # 4, 5 and 6 before 7; 3 and 2 (the backward pass) before 1
    # Not every finished frame of a long job: those within a plate's reach of a gap.
    assert boundary(set(range(100)) - {50}, 0, 99, 8) == set(range(42, 59)) - {50}
    assert boundary(set(range(100)) - {50}, 0, 99) == {49, 51}


def test_a_stop_while_the_plates_are_fed_ahead_comes_at_once(pan: Pan) -> None:
    """A pass's first frame is matted only once the frames ahead of it are fed to the plates
    (9 frames here): a stop asked for meanwhile ends the job before the next feed, not after
    them all."""
    reader, masks = pan
    plated, fed = plated_matter(), []
    feed = plated.feed_plate
    plated.feed_plate = lambda *args: (fed.append(1), feed(*args))  # type: ignore[method-assign]
    questions = iter(range(1000))
    matted = matte_frames(
        pan_job(0), reader, (H, W), None, plated, set(), {}.__getitem__,
        lambda: next(questions) >= 3, masks,
    )  # type: ignore[arg-type]  # fmt: skip
    with pytest.raises(Stopped):
        next(matted)
    assert len(fed) == 3
