"""One matting job, frame by frame: SAM2 tracks, the head mattes, each alpha is stored at once.

The job runs on the prompts it was made with (its snapshot), not the project's current ones.
Only the current frame (and the previous alpha per object, for temporal stability) is held in
memory. Frames already finished by an earlier, interrupted run are tracked again (SAM2 needs
them for its memory) but neither matted nor written again, so every frame is written once.
"""

from __future__ import annotations

import copy
import io
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from vidmatte.matte.infer import Matter
from vidmatte.media.video import VideoReader
from vidmatte.segment.session import Segmenter
from vidmatte.store import Job, Store


class Stopped(Exception):
    """The run was told to stop (cancel, shutdown) or no longer owns its job."""


@dataclass
class Progress:
    done: int
    total: int
    fps: float | None
    eta_seconds: float | None


def encode_alpha(alpha: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.round(alpha * 255).astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def matter_for(matter: Matter, edges: str) -> Matter:
    """The matter with a job's edge mode (the job may predate a restart with other settings)."""
    if not edges or edges == matter.edges:
        return matter
    job_matter = copy.copy(matter)  # shares the head
    job_matter.edges = edges
    return job_matter


def matte_frames(
    job: Job,
    reader: VideoReader,
    size: tuple[int, int],
    segmenter: Segmenter,
    matter: Matter,
    done: set[int],
    stored: Callable[[int], np.ndarray],
    should_stop: Callable[[], bool],
) -> Iterator[tuple[int, bytes]]:
    """Track the job's range on its prompts and matte every frame not in `done` (frames of
    `size`, height and width): yields (frame, alpha PNG) as each is finished. It touches no
    store, so it runs where the models are, in this process or on a cluster worker.
    `stored(frame)` is a finished frame's 8-bit alpha; it is asked only for a finished frame
    that an unfinished one follows."""
    state = segmenter.new_state(reader, *size)
    prev: dict[int, np.ndarray] = {}  # object id -> alpha of the previous frame in this pass
    last_frame: int | None = None
    after_done: int | None = None  # a finished frame just passed: the next one's previous alpha
    for frame, masks in segmenter.track(state, job.prompts, job.start, job.end):
        if should_stop():
            raise Stopped
        if last_frame is not None and abs(frame - last_frame) != 1:
            prev, after_done = {}, None  # the backward pass starts: not a neighbour
        last_frame = frame
        if frame in done:
            after_done = frame
            continue
        if after_done is not None:
            alpha = stored(after_done).astype(np.float32) / 255.0
            prev, after_done = dict.fromkeys(masks, alpha), None  # read once, shared by all
        rgb = reader.frame(frame)
        alphas: dict[int, np.ndarray] = {}
        for obj, m in masks.items():
            if should_stop():  # between objects too: a frame of many objects takes long
                raise Stopped
            alphas[obj] = matter(rgb, m.mask_logits, prev.get(obj), m.feat_s0, m.feat_s1)
        prev = alphas
        yield frame, encode_alpha(np.maximum.reduce(list(alphas.values())))


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
    """Run a job in this process: matte its unfinished frames, store each at once."""
    project = store.project(job.project_id)
    info = project.info
    done = store.done_frames(job.id)
    reader = VideoReader(project.source, store.pts_index(project.id), info.rotation)
    try:
        frames = matte_frames(
            job,
            reader,
            (info.height, info.width),
            segmenter,
            matter,
            done,
            lambda frame: store.load_alpha(job.id, frame),
            should_stop,
        )
        store_frames(job, store, frames, len(done), report)
    finally:
        reader.close()
