"""One matting job, frame by frame: SAM2 tracks, the head mattes, each frame's mattes (one per
object, jobs/mattes.py) are stored at once.

The job runs on the prompts it was made with (its snapshot), not the project's current ones.
Only the current frame (and the previous alpha per object, for temporal stability) is held in
memory, plus the few frames whose PNGs are being encoded and, with the background plate, the
frames tracked ahead of it. Frames already finished by an earlier,
interrupted run are tracked again (SAM2 needs them for its memory) but neither matted nor
written again, so every frame is written once; those near an unfinished one are fed to the
background plate again, with their stored mattes, so the rest is matted as in a run that went
through. With the plate, a frame is matted once the next few are tracked and fed to it
(`fed_ahead`, `PlateFeeder`): they show the background its object covers now.
Only a pass (forward, then backward from the first prompted frame) with unfinished frames is
tracked: a job whose frames are all finished (the server stopped before it was marked done)
tracks nothing.

The stages overlap: on a GPU SAM2 tracks frame N+1 in a thread of its own while frame N is
matted (`running_ahead`; on the CPU where the cores leave room, `tracks_ahead`), and frame N's
PNG is encoded in a small thread pool (zlib releases the GIL) while the next frames are
matted. On a GPU both SAM2's step and the matting are bound by
launching many small kernels from Python, and torch lets go of the GIL while it dispatches
one, so the two threads' launches interleave: a job costs about the slower of the two stages
a frame rather than their sum (the H200's table in docs/BENCHMARKS.md: 60 + 72 ms a frame at 1080p).
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from vidmatte.ahead import fed_ahead, running_ahead
from vidmatte.config import usable_cores
from vidmatte.jobs.mattes import decode_mattes, encode_mattes, matted_objects
from vidmatte.jobs.tracks import Masks, Stopped, forget_masks, job_masks
from vidmatte.matte.infer import Frame, Matter
from vidmatte.matte.plate import BackgroundPlate
from vidmatte.media.video import VideoReader
from vidmatte.segment.predictor import FrameMasks
from vidmatte.segment.session import Segmenter, first_prompted
from vidmatte.store import Job, Store


@dataclass
class Progress:
    done: int
    total: int
    fps: float | None
    eta_seconds: float | None


def matter_for(matter: Matter, job: Job) -> Matter:
    """The matter with a job's edge mode and background plate setting (the job may predate a
    restart with other settings: its frames before and after a resume must be matted alike)."""
    edges = job.edges or matter.edges  # '': a job of a version that kept no edge mode
    if edges == matter.edges and job.plate == matter.plate:
        return matter
    job_matter = copy.copy(matter)  # shares the head
    job_matter.edges, job_matter.plate = edges, job.plate
    return job_matter


def finished(job: Job, done: set[int]) -> bool:
    """Whether every frame of the job's range is stored: a run has nothing to do (the server
    stopped after the last frame was stored, before the job was marked done)."""
    return all(frame in done for frame in range(job.start, job.end + 1))


def matte_frames(
    job: Job,
    reader: VideoReader,
    size: tuple[int, int],
    segmenter: Segmenter,
    matter: Matter,
    done: set[int],
    stored: Callable[[int], bytes],
    should_stop: Callable[[], bool],
    tracked: Iterable[Masks] | None = None,  # the masks of a track to use, else SAM2 runs
) -> Iterator[tuple[int, list[np.ndarray]]]:
    """Track the job's range on its prompts and matte every frame not in `done` (frames of
    `size`, height and width): yields (frame, every object's own matte, in the job's object
    order) as each is finished (`encoded` turns them into the stored PNGs). It touches no
    store, so it runs where the models are, in this process or on a cluster worker.
    `stored(frame)` is a finished frame's stored PNG; it is asked only for finished frames
    near an unfinished one: the one before it, whose mattes are the next frame's previous
    alphas (each object its own; an older job's single union goes to all), and, with the
    background plate on, those within `matter.plate_frames` of an unfinished one, which the
    objects' plates get, as they did in the earlier run (`Matter.add_to_plate`)."""
    if finished(job, done):
        return
    objects = matted_objects(job)
    prev: dict[int, np.ndarray] = {}  # object id -> alpha of the previous frame in this pass
    # object id -> the background seen behind it in this pass's other frames (matte/plate.py)
    plates = {obj: plate for obj in objects if (plate := matter.new_plate(*size)) is not None}
    # The finished frames a plate needs again: those near an unfinished one.
    near = boundary(done, job.start, job.end, matter.plate_frames) if plates else set()
    last_frame: int | None = None
    after_done: int | None = None  # a finished frame just passed: the next one's previous alpha
    if tracked is None:
        state = segmenter.new_state(reader, *size)
        anchor = first_prompted(job.prompts, job.start, job.end)
        # A finished forward pass is not tracked again: the backward pass needs nothing of it,
        # unless it is the anchor alone, whose matte is then the next frame's previous alpha.
        forward = anchor == job.end or any(f not in done for f in range(anchor, job.end + 1))
        features = matter.head.config.use_sam_features
        tracked = segmenter.track(state, job.prompts, job.start, job.end, forward, features)
    feeder = PlateFeeder(
        matter, plates, reader, lambda frame: frame not in done or frame in near, should_stop
    )
    # SAM2 tracks the next frame while this one is matted; closed here, so it stops with us.
    with contextlib.closing(
        running_ahead(tracked, tracks_ahead(matter.device), "vidmatte-track-ahead")
    ) as steps:
        for frame, masks, fed in fed_ahead(steps, matter.plate_ahead, feeder, (Stopped,)):
            if should_stop():
                raise Stopped
            if last_frame is not None and abs(frame - last_frame) != 1:
                prev, after_done = {}, None  # the backward pass starts: not a neighbour
            last_frame = frame
            if frame in done:
                after_done = frame
                if fed is not None:  # fed to the plates: they get its matte as matting did
                    mattes = _stored_mattes(stored(frame), size[0], objects)
                    for obj in feeder.fed(masks):
                        matter.add_to_plate(plates[obj], fed, mattes[obj])
                continue
            if after_done is not None:
                prev = _stored_mattes(stored(after_done), size[0], objects)
                after_done = None
            prepared = read_for_matting(matter, reader, frame) if fed is None else fed  # for all
            alphas: dict[int, np.ndarray] = {}
            for obj in objects:
                if should_stop():  # between objects too: a frame of many objects takes long
                    raise Stopped
                m = masks.get(obj)
                if m is None:  # not tracked on this frame: nothing of it shows
                    alphas[obj] = np.zeros(size, np.float32)
                    continue
                alphas[obj] = matter(
                    prepared, m.mask_logits, prev.get(obj), m.feat_s0, m.feat_s1, plates.get(obj)
                )
            prev = alphas
            yield frame, [alphas[obj] for obj in objects]


def read_for_matting(matter: Matter, reader: VideoReader, frame: int) -> Frame:
    """Frame `frame` of `reader` as `matter` takes it, its colour restored from luma where
    the video stores less chroma than luma (4:2:0, 4:2:2: `Matter.prepare`)."""
    return matter.prepare(reader.frame(frame), reader.chroma_blocks)


def boundary(done: set[int], start: int, end: int, reach: int = 1) -> set[int]:
    """Finished frames at most `reach` frames from an unfinished one in the range, either way:
    the only finished frames whose alpha a run needs (the one next to it as its previous
    alpha, forward or backward; with the background plate, as many as a plate holds)."""
    return {
        f
        for f in done
        if any(start <= n <= end and n not in done for n in range(f - reach, f + reach + 1))
    }


class PlateFeeder:
    """Feeds each object's plate a tracked frame ahead of its matting (`Matter.feed_plate`),
    with SAM2's mask, where `wanted(frame)`: an unfinished frame, or a finished one near one,
    whose plates must hold what an uninterrupted run's held. Frames are fed in a pass's order;
    a frame that does not follow the last fed one (a new pass, or finished frames left out
    between) starts the plates afresh, as an uninterrupted run's were then. A pass's first
    frame waits for all its frames ahead to be fed: `should_stop` is asked before each."""

    def __init__(
        self,
        matter: Matter,
        plates: dict[int, BackgroundPlate],
        reader: VideoReader,
        wanted: Callable[[int], bool],
        should_stop: Callable[[], bool],
    ) -> None:
        self.matter, self.plates, self.reader, self.wanted = matter, plates, reader, wanted
        self.should_stop = should_stop
        self.last: int | None = None

    def fed(self, masks: dict[int, FrameMasks]) -> list[int]:
        """The objects whose plates a frame with these masks was fed to."""
        return [obj for obj in self.plates if masks.get(obj) is not None]

    def __call__(self, frame: int, masks: dict[int, FrameMasks]) -> Frame | None:
        """Feed the frame; it `prepare`d if it was fed (read and prepared once for feeding and
        matting)."""
        if not self.plates or not self.wanted(frame):
            return None
        if self.should_stop():
            raise Stopped
        if self.last is None or abs(frame - self.last) != 1:
            for plate in self.plates.values():
                plate.clear()
        self.last = frame
        prepared = read_for_matting(self.matter, self.reader, frame)
        for obj in self.fed(masks):
            self.matter.feed_plate(self.plates[obj], prepared, masks[obj].mask_logits)
        return prepared


def tracks_ahead(device: torch.device) -> bool:
    """Whether SAM2 should track the next frame while this one is matted: on a GPU, where both
    stages mostly launch kernels, or where torch's threads leave the cores room for both.
    Otherwise two stages with every core each only fight over them: on the 2-core machine,
    two torch threads each, a 1080p frame took 6.7 to 7.3 s instead of 6.3 (with one thread
    each, 10.7 s went down to 9.4)."""
    return device.type == "cuda" or 2 * torch.get_num_threads() <= usable_cores()


def _stored_mattes(png: bytes, height: int, objects: list[int]) -> dict[int, np.ndarray]:
    """A finished frame's stored mattes by object (an older job's union goes to all)."""
    mattes = decode_mattes(png, height)
    if len(mattes) == len(objects):
        return dict(zip(objects, mattes, strict=True))
    return dict.fromkeys(objects, mattes.max(0))


# Encoder threads: two keep up with a GPU at 1080p; more only compete with the device's feeder.
ENCODERS = 2


def encoder_threads(height: int, width: int) -> int:
    """Encoder threads for frames of this size: ENCODERS per 1080p's worth of pixels (a 4K
    PNG takes four times as long: with two, the H200's 4K jobs waited 75 to 158 ms a frame on
    them), at most the cores this process may use (`usable_cores`) less the one that feeds
    the device."""
    wanted = math.ceil(ENCODERS * height * width / (1920 * 1080))
    return max(ENCODERS, min(wanted, usable_cores() - 1))


def encoded(
    frames: Iterable[tuple[int, list[np.ndarray]]], workers: int = ENCODERS
) -> Iterator[tuple[int, bytes]]:
    """(frame, stored PNG, `encode_mattes`) for each matted frame, in order. Each frame is
    encoded in a thread pool while the next ones are matted, at most 2 x `workers` frames in
    flight. When matting is stopped the frames still in flight are dropped, unstored, so the
    stop is quick and a resumed job redoes them; when it fails (a damaged frame) they are
    yielded before the error, which a resume would meet again before redoing them."""
    pending: deque[tuple[int, Future[bytes]]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="vidmatte-encode") as pool:
        try:
            for frame, alphas in frames:
                pending.append((frame, pool.submit(encode_mattes, alphas)))
                if len(pending) >= 2 * workers:
                    done, png = pending.popleft()
                    yield done, png.result()
        except Stopped:
            raise
        except Exception:
            yield from _finished(pending)
            raise
        yield from _finished(pending)


def _finished(pending: deque[tuple[int, Future[bytes]]]) -> Iterator[tuple[int, bytes]]:
    while pending:
        done, png = pending.popleft()
        yield done, png.result()


def store_frames(
    job: Job,
    store: Store,
    frames: Iterable[tuple[int, bytes]],
    done: int,
    report: Callable[[Progress], None],
) -> None:
    """Store each finished frame as it comes, only while run `job.attempt` owns the job (else
    Stopped), and report the speed and time left; `done` frames were finished before."""
    started, matted = time.monotonic(), 0
    for frame, png in frames:
        if not store.save_alpha(job.id, job.attempt, frame, png):
            raise Stopped
        matted, done = matted + 1, done + 1
        fps = matted / max(time.monotonic() - started, 1e-6)
        remaining = job.frames_total - done
        report(Progress(done, job.frames_total, round(fps, 3), round(remaining / fps, 1)))


def run_job(
    job: Job,
    store: Store,
    segmenter: Segmenter,
    matter: Matter,
    should_stop: Callable[[], bool],
    report: Callable[[Progress], None],
) -> None:
    """Run a job in this process: matte its unfinished frames, store each at once, with masks
    from where its first frames' came (`job_masks`; MasksGone when it cannot)."""
    done = store.done_frames(job.id)
    if finished(job, done):
        forget_masks(store, job.id)
        return  # no SAM2 over the range for nothing
    project = store.project(job.project_id)
    info = project.info
    reader = VideoReader(project.source, store.pts_index(project.id), info.rotation)
    try:
        tracked = job_masks(store, job, done, matter.head.config.use_sam_features)
        store.record_used_track(job.id, job.attempt, tracked is not None)
        frames = matte_frames(  # encoded below while the next frames are matted
            job,
            reader,
            (info.height, info.width),
            segmenter,
            matter,
            done,
            lambda frame: store.alpha_path(job.id, frame).read_bytes(),
            should_stop,
            tracked,
        )
        threads = encoder_threads(info.height, info.width)
        store_frames(job, store, encoded(frames, threads), len(done), report)
    except BaseException:
        # Stopped before its first frame (or matted by SAM2): a resume reads no copy, and one
        # kept would hold the track's old masks on the disk once the track is redone.
        if not store.needs_masks(job.id):
            forget_masks(store, job.id)
        raise
    finally:
        reader.close()
    forget_masks(store, job.id)  # every frame is stored: no run reads them again
