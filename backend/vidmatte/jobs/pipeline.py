"""One matting job, frame by frame: SAM2 tracks, the head mattes, each alpha is stored at once.

The job runs on the prompts it was made with (its snapshot), not the project's current ones.
Only the current frame (and the previous alpha per object, for temporal stability) is held in
memory. Frames already finished by an earlier, interrupted run are tracked again (SAM2 needs
them for its memory) but neither matted nor written again, so every frame is written once.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
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


def run_job(
    job: Job,
    store: Store,
    segmenter: Segmenter,
    matter: Matter,
    should_stop: Callable[[], bool],
    report: Callable[[Progress], None],
) -> None:
    project = store.project(job.project_id)
    info = project.info
    done = store.done_frames(job.id)
    reader = VideoReader(project.source, store.pts_index(project.id), info.rotation)
    state = segmenter.new_state(reader, info.height, info.width)
    prev: dict[int, np.ndarray] = {}  # object id -> alpha of the previous frame in this pass
    last_frame: int | None = None
    started, matted = time.monotonic(), 0
    try:
        for frame, masks in segmenter.track(state, job.prompts, job.start, job.end):
            if should_stop():
                raise Stopped
            if last_frame is not None and abs(frame - last_frame) != 1:
                prev.clear()  # the backward pass starts: the previous alpha is not a neighbour
            last_frame = frame
            if frame in done:
                stored = store.load_alpha(job.id, frame).astype(np.float32) / 255.0
                prev = dict.fromkeys(masks, stored)  # read once, shared by every object
                continue
            rgb = reader.frame(frame)
            alphas: dict[int, np.ndarray] = {}
            for obj, m in masks.items():
                if should_stop():  # between objects too: a frame of many objects takes long
                    raise Stopped
                alphas[obj] = matter(rgb, m.mask_logits, prev.get(obj), m.feat_s0, m.feat_s1)
            prev = alphas
            png = encode_alpha(np.maximum.reduce(list(alphas.values())))
            if not store.save_alpha(job.id, job.attempt, frame, png):
                raise Stopped
            done.add(frame)
            matted += 1
            fps = matted / max(time.monotonic() - started, 1e-6)
            remaining = job.frames_total - len(done)
            report(Progress(len(done), job.frames_total, round(fps, 3), round(remaining / fps, 1)))
    finally:
        reader.close()
