"""A job's finished frames as export input, shared by the HTTP archive and the CLI."""

from __future__ import annotations

import io
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

from vidmatte.jobs.mattes import UNION, decode_mattes, layer_names, matted_objects
from vidmatte.matte.adjust import EdgeAdjust, adjust_matte, median3, still_pixels
from vidmatte.matte.foreground import foreground_rgb
from vidmatte.media import hdr
from vidmatte.media.export import COLOUR_FORMATS, ExportFrame
from vidmatte.media.video import VideoReader
from vidmatte.store import Job, Project, Store

# The colour paired with the matte: "estimated" is the foreground F alone (the old background
# taken out of soft edges, matte/foreground.py), "raw" the frame's own pixel colour.
Foreground = Literal["estimated", "raw"]
FOREGROUNDS: tuple[Foreground, ...] = ("estimated", "raw")
# Which mattes of a job with several objects: each object's own, their union, or both.
Mattes = Literal["objects", "union", "both"]


@dataclass(frozen=True)
class Export:
    project: Project
    job_id: str
    frames: list[int]  # finished frames, in order
    audio_from: Path | None
    # (file-name-safe name, index in the stored stack or None for the union) per layer; one
    # layer is exported without a name (the archive's flat layout).
    layers: list[tuple[str, int | None]]

    @property
    def layer_names(self) -> list[str]:
        """write_archive's `layers`: none for a single layer."""
        return [name for name, _ in self.layers] if len(self.layers) > 1 else []


def missing_frames(
    job: Job, done: Collection[int], span: tuple[int, int] | None = None
) -> list[int]:
    """The job's frames (those of `span` of them) not among its finished ones (`done`), in
    order: what its archive lacks and what GET /api/jobs/{id}/frames lists as missing."""
    finished = set(done)
    first, last = span or (job.start, job.end)
    return [frame for frame in range(first, last + 1) if frame not in finished]


class MatteLost(Exception):
    """A finished frame's stored matte is gone from the data dir, or damaged there."""


def plan_export(
    store: Store, job_id: str, mattes: Mattes = "objects", span: tuple[int, int] | None = None
) -> Export:
    """The export of the job's finished frames (those from `span[0]` to `span[1]`, both
    included). Raise LookupError for an unknown job, MatteLost for a finished frame whose matte
    is not on disk or cut short; `frames` is empty when none is finished yet.
    A job of one object, or one made before objects were stored apart (its stored matte is the
    union), has a single layer whatever `mattes` asks."""
    job = store.job(job_id)
    project = store.project(job.project_id)
    first, last = span or (job.start, job.end)
    frames = sorted(f for f in store.done_frames(job_id) if first <= f <= last)
    # Checked before any is read: an archive that streams cannot say so once it has begun.
    for frame in frames:
        if why := _unreadable(store.alpha_path(job_id, frame)):
            raise MatteLost(
                f"the matte of frame {frame} of job '{job_id}' is {why}: make a new job of "
                "these frames"
            )
    # The exporter cuts the source's audio to the frames' time span: a frame not finished is a
    # gap in the videos' time too (the frame before shows on), so the sound stays in sync.
    audio = project.source if project.info.has_audio else None
    objects = matted_objects(job)
    stored = len(_mattes(store, job_id, frames[0], project.info.height)) if frames else 1
    if stored != len(objects) or len(objects) == 1:
        return Export(project, job_id, frames, audio, [("", 0 if stored == 1 else None)])
    safe = layer_names([(obj, job.object_names.get(obj)) for obj in objects])
    layers: list[tuple[str, int | None]] = []
    if mattes != "union":
        layers += [(safe[obj], i) for i, obj in enumerate(objects)]
    if mattes != "objects":
        layers.append((UNION, None))
    if len(layers) == 1:
        layers = [("", layers[0][1])]
    return Export(project, job_id, frames, audio, layers)


_PNG_START = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the IEND chunk every PNG ends with


def _unreadable(path: Path) -> str | None:
    """Why a stored matte cannot be read, from its first and last bytes only (decoding every
    frame before the first is streamed would double an archive's work): None when it looks
    whole. A file cut short (a full disk, a copy broken off) has no IEND at its end."""
    try:
        with path.open("rb") as f:
            start = f.read(len(_PNG_START))
            f.seek(max(f.seek(0, io.SEEK_END) - len(_PNG_END), 0))
            end = f.read()
    except FileNotFoundError:
        return "missing from the data dir"
    if start != _PNG_START or end != _PNG_END:
        return "damaged in the data dir (cut short or overwritten)"
    return None


def _mattes(store: Store, job_id: str, frame: int, height: int) -> np.ndarray:
    return decode_mattes(store.alpha_path(job_id, frame).read_bytes(), height)


def frame_matte(
    store: Store,
    job_id: str,
    frame: int,
    object_id: int | None,
    pictures: Callable[[int], np.ndarray] | None = None,
) -> np.ndarray:
    """One finished frame's matte (H, W) float32 in [0, 1]: object `object_id`'s own, or the
    union of the job's objects for None. LookupError for an object not in the job, or one
    whose matte was not kept apart (a job made before objects were stored apart). Given the
    video's `pictures` (frame index -> RGB), chatter reduced: `median3` of it and the same
    matte of the frames before and after it, where those are finished."""
    job = store.job(job_id)
    height = store.project(job.project_id).info.height
    alpha = _object_matte(job, _mattes(store, job_id, frame, height), object_id)
    if pictures is None or not {frame - 1, frame + 1} <= store.done_frames(job_id):
        return alpha
    previous, following = (
        _object_matte(job, _mattes(store, job_id, f, height), object_id)
        for f in (frame - 1, frame + 1)
    )
    still = still_pixels(*(pictures(f) for f in (frame - 1, frame, frame + 1)))
    return median3(previous, alpha, following, still)


def _object_matte(job: Job, mattes: np.ndarray, object_id: int | None) -> np.ndarray:
    if object_id is None:
        return _layer(mattes, None)
    objects = matted_objects(job)
    if object_id not in objects:
        raise LookupError(f"object {object_id} is not matted by job '{job.id}'")
    if len(mattes) != len(objects):
        raise LookupError(f"job '{job.id}' stored only the union of its objects' mattes")
    return _layer(mattes, objects.index(object_id))


def foreground_for(formats: list[str], fg: Foreground) -> Foreground:
    """`fg` where one of `formats` carries colour; "raw" (nothing to estimate) otherwise."""
    if fg not in FOREGROUNDS:
        raise ValueError(f"unknown foreground '{fg}'; choose one of {', '.join(FOREGROUNDS)}")
    return fg if COLOUR_FORMATS.intersection(formats) else "raw"


def export_frames(
    store: Store,
    export: Export,
    fg: Foreground = "raw",
    device: str = "cpu",
    edge: EdgeAdjust = EdgeAdjust(),
) -> Iterator[ExportFrame] | Iterator[Mapping[str, ExportFrame]]:
    """Source frame + stored 16-bit mattes, one frame at a time, with the time it shows at: an
    ExportFrame for a single layer, else a mapping layer name -> ExportFrame (write_archive's
    `layers`). Each layer's matte (an object's, or the union of the stored ones) is first
    adjusted by `edge` on `device`: with `reduce_chatter`, first the median of that layer's
    mattes on the frame and on its finished neighbours where the picture is still
    (`median3`). With `fg="estimated"` each layer's colour is the foreground estimated on
    `device` from the frame and that layer's adjusted matte (so jobs made before this existed
    get it too)."""
    project = export.project
    # The source's own colour, HDR included: exports keep it and its tags (not the SDR the
    # editor shows and the models take), and its precision (`deep`: a 10-bit source's frames
    # as 16-bit RGB, 50 MB a 4K frame: the cache holds a few, as an export reads forward and
    # looks back one frame at most).
    reader = VideoReader(
        project.source,
        store.pts_index(project.id),
        project.info.rotation,
        cache_size=4,
        tone_map=False,
        deep=True,
    )
    try:
        stacks = _with_neighbours(store, export, edge.reduce_chatter)
        chroma = reader.chroma_blocks  # the soft pixels' colour is solved restored
        for index, (before, mattes, after) in zip(export.frames, stacks, strict=True):
            rgb, time = reader.frame(index), reader.time(index)
            # Only the last exported frame's end counts (`ExportFrame.end`): the source's next
            # frame's time, or its last frame's own duration (a variable rate's may be long).
            end = reader.end(index) if index == export.frames[-1] else None
            still = None  # the picture's still pixels, where both neighbours are matted
            if before is not None and after is not None:  # (the reader's cache holds them)
                still = still_pixels(reader.frame(index - 1), rgb, reader.frame(index + 1))
            frames = {}
            for name, i in export.layers:
                previous, following = (None if m is None else _layer(m, i) for m in (before, after))
                alpha = median3(previous, _layer(mattes, i), following, still)
                alpha = adjust_matte(alpha, edge.shift_edge, edge.feather, device)
                alpha16 = np.round(alpha * 65535).astype(np.uint16)
                frame = ExportFrame(
                    index,
                    time,
                    rgb,
                    alpha16,
                    project.info.pixel_aspect,
                    first_number=project.info.first_number,
                    # As shown: an HDR source stating none in BT.2020's (hdr.shown_primaries).
                    primaries=hdr.shown_primaries(project.info.transfer, project.info.primaries),
                    transfer=project.info.transfer,
                    end=end,
                )
                if fg == "estimated":
                    matte = frame.alpha8 if rgb.dtype == np.uint8 else frame.alpha16
                    colour = foreground_rgb(
                        rgb, matte, device=device, transfer=frame.transfer, chroma=chroma
                    )
                    frame = replace(frame, rgb=colour)
                frames[name] = frame
            yield frames if len(frames) > 1 else frames[""]
    finally:
        reader.close()


def _with_neighbours(
    store: Store, export: Export, neighbours: bool
) -> Iterator[tuple[np.ndarray | None, np.ndarray, np.ndarray | None]]:
    """Each exported frame's stored mattes, in order, with (for `neighbours`) those of the
    frames before and after it where those are finished (None otherwise): a sliding window,
    each frame decoded once and at most three held."""
    height = export.project.info.height
    done = set(export.frames) if neighbours else set()
    window: dict[int, np.ndarray] = {}

    def read(frame: int) -> np.ndarray:
        if frame not in window:
            window[frame] = _mattes(store, export.job_id, frame, height)
        return window[frame]

    for index in export.frames:
        for old in [frame for frame in window if frame < index - 1]:
            del window[old]
        before = read(index - 1) if index - 1 in done else None
        after = read(index + 1) if index + 1 in done else None
        yield before, read(index), after


def _layer(mattes: np.ndarray, i: int | None) -> np.ndarray:
    """Layer `i` of a stored stack, the union for None."""
    return mattes[i] if i is not None else mattes.max(0)
