"""Track: SAM2 alone (no matting head) over a frame range, so the editor can show the tracked
mask on every frame before a Matting job.

A project has at most one track. Its masks are small (SAM2's low-resolution logits, resized to
the video's aspect: at most MASK_SIDE pixels a side, in 16 bits: LOGIT_STEP apart), one
PNG per frame and object under the project's folder, next to a JSON manifest (track.json) with
the range, the prompts it was made with, progress and per-mask statistics; nothing goes into the
database. Frames where an object is lost, or its area or centroid jumps from the frame before,
are flagged for a look.

Tracking goes through `Segmenter.track`, which holds the segmenter's lock for every SAM2 step,
so a track never runs SAM2 at the same time as a job or a preview: they take turns per frame.

After the prompts change, a new track over the same range, with the same SAM2, re-runs only
what changed: each object whose points changed, from its first changed frame on (forward to the
end of the range, and backward to the range's start when that frame is at or before its first
prompt, where the backward pass begins). Other objects keep their masks.

A Matting job within the track's range, on the same prompts, reuses the stored logits instead of
running SAM2 again (`reuse`): SAM2's high-resolution logits are its low-resolution ones
upsampled bilinearly, and the head resizes whatever it gets to its working size, so the head
sees nearly the same input. The job holds hard links to the masks it will read, until its last
frame is stored, so pressing Track again while it runs, or before it is resumed, changes the
project's track, not the job; a run that ends before the job's first frame lets go of them (a
resume takes what fits then, as a new job does: Store.needs_masks). A resumed job reads its
masks from where its first frames were matted from (`job_masks`), and is refused at once when it
cannot (`masks_gone`). A head trained with SAM2's backbone features cannot take them from a
track and runs SAM2.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vidmatte.errors import describe
from vidmatte.jobs.events import JobChanges
from vidmatte.jobs.mattes import matted_objects
from vidmatte.media.video import VideoReader
from vidmatte.segment.predictor import FrameMasks
from vidmatte.segment.session import Segmenter
from vidmatte.store import (
    Job,
    NotFound,
    Point,
    Project,
    Prompts,
    Store,
    unanchored,
    write_atomic,
)

log = logging.getLogger(__name__)

TERMINAL = ("done", "cancelled", "failed", "interrupted")
CRASHED = "the server stopped while this track ran (a crash or a kill): press Track to run it again"
SHUT_DOWN = "the server was shut down while this track ran: press Track to run it again"
Masks = tuple[int, dict[int, FrameMasks]]  # a frame and its objects' masks, as SAM2 yields them
MASK_SIDE = 256  # SAM2's low-resolution mask side at its usual input size (1024 / 4)
# A mask more than this many times larger or smaller than the frame before is flagged.
AREA_JUMP = 2.0
# A centroid that moves more than this fraction of the frame's diagonal in one frame is flagged.
MOVE_JUMP = 0.15
# Stored logits: 16 bits, LOGIT_STEP apart, ZERO = 0 (probability 0.5): -32..32 covers every
# logit whose sigmoid differs from 0 or 1 by more than 1e-13. 8 bits are not enough: at a step
# of 0.25 the head saw a visibly other edge (where the logits cross 0).
LOGIT_STEP = 1 / 1024
ZERO = 32768
SAVE_EVERY_SECONDS = 1.0  # the manifest is rewritten at most this often while tracking


@dataclass(frozen=True)
class MaskStats:
    area: float  # fraction of the mask's pixels that are in (probability > 0.5)
    cx: float  # centroid, as fractions of the width and height (0.5 when empty)
    cy: float


@dataclass(frozen=True)
class Flag:
    frame: int
    object_id: int
    reason: str  # "lost" | "area jump" | "moved"


@dataclass(frozen=True)
class Run:
    """What one tracking run covers: these objects over frames start..end."""

    start: int
    end: int
    object_ids: list[int]


@dataclass
class Track:
    project_id: str
    status: str  # running | done | cancelled | failed | interrupted
    start: int
    end: int
    mask_width: int
    mask_height: int
    prompts: list[dict]  # [{object_id, frame, points: [{x, y, label}]}] in the range
    prompts_hash: str
    run: Run  # the last run: what was (re-)tracked
    frames_done: int = 0
    frames_total: int = 0
    fps: float | None = None
    eta_seconds: float | None = None
    error: str | None = None
    # frame -> object id -> stats; JSON keys are strings, so kept as such
    stats: dict[str, dict[str, MaskStats]] = field(default_factory=dict)
    version: int = 0
    sam2: str = ""  # the SAM2 model that made it ('' for tracks of an older version)

    @property
    def id(self) -> str:  # what JobChanges keys its subscribers by
        return self.project_id

    @property
    def object_ids(self) -> list[int]:
        """The objects it tracks: those with points in its range when it was made."""
        return sorted({e["object_id"] for e in self.prompts})

    def only(self, objects: Container[int]) -> Track:
        """The track of these objects alone (the project's objects that still exist): the
        others leave its prompts, its last run and its masks' stats, so its tracked frames and
        flags. `prompts_hash` stays the one it was made with: a track that lost an object is
        stale until tracked again, which drops that object's masks."""
        stats = {
            f: {o: s for o, s in objs.items() if int(o) in objects}
            for f, objs in self.stats.items()
        }
        return replace(
            self,
            prompts=[e for e in self.prompts if e["object_id"] in objects],
            run=replace(self.run, object_ids=[o for o in self.run.object_ids if o in objects]),
            stats={f: objs for f, objs in stats.items() if objs},
        )

    def flags(self) -> list[Flag]:
        return find_flags(
            {int(f): {int(o): s for o, s in objs.items()} for f, objs in self.stats.items()}
        )


def prompts_in(prompts: Prompts, start: int, end: int) -> list[dict]:
    """The prompts on frames start..end as sorted plain data (what a track records)."""
    return [
        {"object_id": obj, "frame": frame, "points": [p.__dict__ for p in points]}
        for (obj, frame), points in sorted(prompts.items())
        if start <= frame <= end and points
    ]


def prompts_hash(entries: list[dict]) -> str:
    return hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()[:16]


def mask_size(width: int, height: int, side: int = MASK_SIDE) -> tuple[int, int]:
    """The stored mask's (width, height): the video's aspect, at most `side` a side."""
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def quantize(logits: np.ndarray) -> np.ndarray:
    return np.clip(np.round(logits / LOGIT_STEP) + ZERO, 0, 65535).astype(np.uint16)


def dequantize(stored: np.ndarray) -> np.ndarray:
    return (stored.astype(np.float32) - ZERO) * LOGIT_STEP


def probability(stored: np.ndarray) -> np.ndarray:
    """A stored mask as an 8-bit probability (what the editor shows)."""
    return np.round(255 / (1 + np.exp(-dequantize(stored)))).astype(np.uint8)


def mask_stats(mask: np.ndarray) -> MaskStats:
    """Area and centroid of an 8-bit probability mask (H, W)."""
    inside = mask > 127
    area = float(inside.mean())
    if not inside.any():
        return MaskStats(0.0, 0.5, 0.5)
    ys, xs = np.nonzero(inside)
    h, w = mask.shape
    return MaskStats(area, float(xs.mean() + 0.5) / w, float(ys.mean() + 0.5) / h)


def find_flags(stats: Mapping[int, Mapping[int, MaskStats]]) -> list[Flag]:
    """Frames to check: an object lost (empty mask), or its area or centroid jumping from the
    frame just before. Sorted by frame, then object."""
    flags = []
    for frame in sorted(stats):
        for obj, now in sorted(stats[frame].items()):
            if now.area == 0:
                flags.append(Flag(frame, obj, "lost"))
                continue
            before = stats.get(frame - 1, {}).get(obj)
            if before is None or before.area == 0:
                continue
            if max(now.area, before.area) / min(now.area, before.area) > AREA_JUMP:
                flags.append(Flag(frame, obj, "area jump"))
            elif np.hypot(now.cx - before.cx, now.cy - before.cy) > MOVE_JUMP * np.sqrt(2):
                flags.append(Flag(frame, obj, "moved"))
    return flags


def intervals(frames: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted frames as runs of consecutive ones: [(first, last), ...]."""
    runs: list[tuple[int, int]] = []
    for frame in sorted(set(frames)):
        if runs and runs[-1][1] == frame - 1:
            runs[-1] = (runs[-1][0], frame)
        else:
            runs.append((frame, frame))
    return runs


def plan_run(old: Track | None, start: int, end: int, entries: list[dict], sam2: str) -> Run:
    """What a new track of start..end on these prompts must run with the SAM2 `sam2`, given the
    last track: all of it unless the last one is a finished track of the same range made by
    that SAM2; then, per object whose prompts changed, from its first changed frame on (module
    docstring). Another SAM2's masks are no part of this one's track."""
    objects = sorted({e["object_id"] for e in entries})
    if (
        old is None
        or old.status != "done"
        or (old.start, old.end) != (start, end)
        or old.sam2 != sam2
    ):
        return Run(start, end, objects)

    def by_object(es: list[dict]) -> dict[int, dict[int, list]]:
        out: dict[int, dict[int, list]] = {}
        for e in es:
            out.setdefault(e["object_id"], {})[e["frame"]] = e["points"]
        return out

    before, after = by_object(old.prompts), by_object(entries)
    changed: dict[int, int] = {}  # object -> first changed frame
    for obj in after:
        frames = set(before.get(obj, {})) | set(after[obj])
        diff = [f for f in frames if before.get(obj, {}).get(f) != after[obj].get(f)]
        if diff:
            changed[obj] = min(diff)
    if not changed:
        return Run(start, end, [])

    def from_start(obj: int, first: int) -> bool:
        # The backward pass begins at the object's first prompt; a change there, or one that
        # leaves no points after it, re-runs the whole range.
        prompted = set(before.get(obj, {})) | set(after[obj])
        return first <= min(prompted) or not any(f >= first for f in after[obj])

    lo = min(start if from_start(obj, first) else first for obj, first in changed.items())
    return Run(lo, end, sorted(changed))


def _kept_stats(
    old: dict[str, dict[str, MaskStats]], objects: Container[int], run: Run
) -> dict[str, dict[str, MaskStats]]:
    """The old track's masks a re-run keeps: those of the objects that still have points,
    less the ones it makes again (its objects on its frames: SAM2 yields each of them on every
    frame of the run). A run stopped midway so leaves the frames it did not reach untracked,
    as a whole one does, instead of serving masks made on the old points."""

    def remade(frame: str, obj: str) -> bool:
        return int(obj) in run.object_ids and run.start <= int(frame) <= run.end

    stats = {
        f: {o: s for o, s in objs.items() if int(o) in objects and not remade(f, o)}
        for f, objs in old.items()
    }
    return {f: objs for f, objs in stats.items() if objs}


def encode_png(mask: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(mask).save(buf, format="PNG")  # uint16: a 16-bit grey PNG
    return buf.getvalue()


def track_dir(store: Store, project_id: str) -> Path:
    return store.project_dir(project_id) / "track"


def manifest_path(store: Store, project_id: str) -> Path:
    """The track's record: its range, state and the prompts it was made on."""
    return track_dir(store, project_id) / "track.json"


def mask_path(store: Store, project_id: str, frame: int, object_id: int) -> Path:
    return track_dir(store, project_id) / "masks" / f"{frame:06d}-{object_id}.png"


def _read_mask(path: Path) -> np.ndarray | None:
    """The stored mask, None when there is none. Opened without a look first: the project
    deleted between a look and the opening would be a missing file's error."""
    try:
        image = Image.open(path)
    except FileNotFoundError:
        return None
    with image:
        return np.asarray(image, dtype=np.uint16)


class MasksGone(Exception):
    """A job's first frames were matted from a track whose masks it no longer holds: its other
    frames cannot be matted alike. The message is the job's error, as users see it."""


def job_masks(
    store: Store, job: Job, done: Container[int], sam_features: bool
) -> Iterator[Masks] | None:
    """The masks a run of the job reads, None for SAM2's. A job with stored frames (`done`)
    takes them from where those were matted from (the last run's `used_track`; every run after
    the first stored frame follows it): SAM2, whatever track the project has now, or the track,
    as the job holds it, else MasksGone. One with none takes the track's when it can (`reuse`)."""
    stored = any(frame in done for frame in range(job.start, job.end + 1))
    if stored and not job.used_track:
        return None
    masks = reuse(store, job, sam_features)
    if stored and masks is None:
        raise MasksGone(_gone(job))
    return masks


def masks_gone(store: Store, job: Job, done: Container[int]) -> str | None:
    """MasksGone's message when a run of `job` would raise it now (`job_masks`), else None:
    told when the job is resumed, not once it has waited its turn in the queue. Looks only:
    makes no copy. (A job matted from a track has a head that takes no SAM2 features.) None
    for one with every frame stored (cancelled after its last one): its run is done at once."""
    stored = [f in done for f in range(job.start, job.end + 1)]
    if not job.used_track or not any(stored) or all(stored):
        return None
    if _held(store, job).whole or _fitting_track(store, job) is not None:
        return None
    return _gone(job)


def _gone(job: Job) -> str:
    return (
        f"the first frames of job '{job.id}' were matted from the project's track, which "
        "has changed since (tracked again, or its points edited) and whose masks the job "
        "does not hold (it began before jobs kept them): its other frames cannot be "
        "matted alike; start a new job for them"
    )


def forget_masks(store: Store, job_id: str) -> None:
    """Let go of the track's masks the job holds: no run reads them again (its last frame is
    stored, or none matted from them is: Store.needs_masks)."""
    shutil.rmtree(store.track_links_dir(job_id), ignore_errors=True)


def _frame_order(job: Job) -> list[int]:
    """SAM2's order (Segmenter.track): forward from the first prompted frame, then backward, so
    each frame's previous alpha is the same as with SAM2."""
    anchor = min(frame for _obj, frame in job.prompts)
    return [*range(anchor, job.end + 1), *range(anchor - 1, job.start - 1, -1)]


def reuse(store: Store, job: Job, sam_features: bool) -> Iterator[Masks] | None:
    """The job's masks read from the project's track, frame by frame, when the track is a
    finished one over the job's range (or a wider one) made on the job's prompts (for the job's
    objects: none outside its range) and the head needs no SAM2 `sam_features`; else None: SAM2
    must run. The job reads its own copy of the masks, kept until its last frame is stored
    (`forget_masks`), so a track re-run meanwhile (Track pressed again, or a correction)
    changes the project's track, not the job, nor its resume: a copy held by an earlier run is
    read before the project's track is looked at."""
    if sam_features:
        return None
    held = _held(store, job)
    if held.whole:
        return _read_held(held.paths, held.frames, held.objects)
    if (seen := _fitting_track(store, job)) is None:
        return None
    # A re-run saves its manifest before it removes or writes a mask: an unchanged manifest and
    # every mask held means the copy is the finished track's.
    keys = list(held.paths)
    if not _hold_masks(store, job, keys) or _mtime(manifest_path(store, job.project_id)) != seen:
        forget_masks(store, job.id)
        return None
    return _read_held(held.paths, held.frames, held.objects)


@dataclass(frozen=True)
class _Held:
    """The paths of the job's copy of the track's masks, per (frame, object) in SAM2's order,
    and whether every one is there."""

    frames: list[int]
    objects: list[int]
    paths: dict[tuple[int, int], Path]
    whole: bool


def _held(store: Store, job: Job) -> _Held:
    objects, frames = matted_objects(job), _frame_order(job)
    copy = store.track_links_dir(job.id)
    paths = {
        (f, o): copy / mask_path(store, job.project_id, f, o).name for f in frames for o in objects
    }
    return _Held(frames, objects, paths, _all_there(copy, paths.values()))


def _all_there(folder: Path, files: Iterable[Path]) -> bool:
    """Whether all these files of `folder` are there, from one read of the folder instead of a
    look per file: a list of jobs asks it of each stopped one (routes/jobs.py `resumable`)."""
    try:
        with os.scandir(folder) as entries:
            there = {entry.name for entry in entries if entry.is_file()}
    except (FileNotFoundError, NotADirectoryError):
        return False
    return all(path.name in there for path in files)


def _fitting_track(store: Store, job: Job) -> int | None:
    """The modification time of the project's track manifest when that track is a finished
    one over the job's range (or a wider one) made on the job's prompts (for the job's objects:
    none outside its range), else None."""
    manifest = manifest_path(store, job.project_id)
    try:  # its time before its content: a re-run saved after the read shows as a change
        seen = manifest.stat().st_mtime_ns
        track = _load(manifest)
    except FileNotFoundError:  # no track, or the project deleted meanwhile (no look first)
        return None
    objects = matted_objects(job)
    made_on = [e for e in track.prompts if e["object_id"] in objects]
    # SAM2 runs forward from the first prompted frame and backward from it, each frame from the
    # ones before it in that pass: over a wider range, on the same prompts (none outside the
    # job's range), the job's frames come out the same.
    if (
        track.status != "done"
        or track.sam2 != job.sam2  # a track from before a restart with another SAM2
        or not track.start <= job.start <= job.end <= track.end
        or made_on != prompts_in(job.prompts, job.start, job.end)
    ):
        return None
    return seen


def _read_held(
    paths: Mapping[tuple[int, int], Path], frames: list[int], objects: list[int]
) -> Iterator[Masks]:
    for frame in frames:
        masks = {}
        for obj in objects:
            stored = _read_mask(paths[frame, obj])
            assert stored is not None  # the job's own links: nothing else removes them
            logits = torch.from_numpy(dequantize(stored))[None, None]
            masks[obj] = FrameMasks(frame, obj, logits, logits, 0.0, None, None)
        yield frame, masks


def _mtime(path: Path) -> int | None:
    """The file's modification time, None once it is gone."""
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _hold_masks(store: Store, job: Job, keys: list[tuple[int, int]]) -> bool:
    """Whether the track's masks of these (frame, object) keys are held for the job (in
    `store.track_links_dir`), False when one is missing. Masks are replaced by renaming over
    them, never rewritten in place, so a hard link keeps the mask it was made to whatever the
    track does next. Made beside it and moved in whole: a copy that is there is complete (a
    crash leaves the partial one, which the next start removes: Store._collect_garbage).
    Stopped when the job is deleted meanwhile."""
    folder, partial = store.track_links_dir(job.id), store.track_links_dir(job.id, partial=True)
    shutil.rmtree(folder, ignore_errors=True)  # an incomplete copy (of an earlier version)
    shutil.rmtree(partial, ignore_errors=True)
    try:
        whole = _link_masks(store, job.project_id, keys, partial)
        if whole:
            partial.rename(folder)
    except FileNotFoundError:  # the partial copy's folder removed by a delete
        whole = False
    # A delete removes the job's rows, then its folder: one that came during the copy made
    # the copy (or the folders above it) outlive the job. Looked at after the copy: a delete
    # after the look removes the copy with the folder.
    try:
        store.job(job.id)
    except NotFound:
        _drop_copy(store, job.id)
        raise Stopped(f"job '{job.id}' was deleted") from None
    if not whole:
        shutil.rmtree(partial, ignore_errors=True)
    return whole


def _link_masks(store: Store, project_id: str, keys: list[tuple[int, int]], partial: Path) -> bool:
    """Link (or copy) the track's masks of these keys into `partial`; False when one is
    missing."""
    partial.mkdir(parents=True)
    for frame, obj in keys:
        source = mask_path(store, project_id, frame, obj)
        try:
            _link_or_copy(source, partial / source.name)
        except FileNotFoundError:
            return False
    return True


def _drop_copy(store: Store, job_id: str) -> None:
    """Remove a deleted job's copy of the track's masks, and its folder once empty: a
    download that streams the job's files keeps them (Store.lease), and removes it after."""
    shutil.rmtree(store.track_links_dir(job_id), ignore_errors=True)
    shutil.rmtree(store.track_links_dir(job_id, partial=True), ignore_errors=True)
    with contextlib.suppress(OSError):
        store.job_dir(job_id).rmdir()


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except FileNotFoundError:
        raise
    except OSError:  # a file system without hard links
        shutil.copyfile(source, target)


class Stopped(Exception):
    """A track or job run was told to stop (a cancel, a newer run, a shutdown, Ctrl-C) or no
    longer owns its work."""


class Tracker:
    """Runs tracks, one per project at a time, each in its own thread; keeps the newest state of
    each in memory and in its manifest, and publishes every change to event streams."""

    def __init__(self, store: Store, segmenter: Segmenter, sam2: str):
        """`sam2` names the model as jobs record it (Services.sam2_name)."""
        self.store, self.segmenter, self.sam2 = store, segmenter, sam2
        self.changes = JobChanges()
        self._lock = threading.Lock()
        # Starting, cancelling and forgetting run one at a time: each halts the run before
        # it, and two at once (a double-clicked Track) would both replace the same run.
        self._control = threading.RLock()
        self._tracks: dict[str, Track] = {}
        self._runs: dict[str, tuple[threading.Thread, threading.Event]] = {}
        # Deletes begun so far, and the projects being deleted: a track read from disk while
        # one runs is not kept (`get`), else it outlived its project.
        self._deletes = 0
        self._removing: set[str] = set()

    # -- reading -------------------------------------------------------------------------
    def get(self, project_id: str) -> Track:
        """The project's track (NotFound when it has none, or when the project is gone). A
        track kept in memory is the live project's (a delete forgets it); one read from disk
        is checked against the database: a delete removes the rows first, and the files stay
        while a download holds them (Store.lease)."""
        with self._lock:
            track, deletes = self._tracks.get(project_id), self._deletes
        if track is not None:
            return track
        try:  # no look first: a delete between a look and the read would be a missing file
            track = _load(manifest_path(self.store, project_id))
        except FileNotFoundError:
            self.store.project(project_id)  # deleted meanwhile: its 404
            raise NotFound(f"project '{project_id}' has no track: start one first") from None
        self.store.project(project_id)
        if track.status == "running":  # a process that died while tracking
            track.status, track.error = "interrupted", CRASHED
        with self._lock:
            if deletes != self._deletes or project_id in self._removing:
                return track  # read as a delete began: the answer of a read just before it
            return self._tracks.setdefault(project_id, track)

    def has(self, project_id: str) -> bool:
        """Whether `get` finds a track: its manifest is written as it starts and goes only
        with the project."""
        return manifest_path(self.store, project_id).is_file()

    def mask(self, project_id: str, frame: int, object_id: int) -> np.ndarray | None:
        """A tracked mask as an 8-bit probability, None when that frame is not tracked: the
        track's record says so (after a crash, masks written since its last save are not)."""
        if str(object_id) not in self.get(project_id).stats.get(str(frame), {}):
            return None
        stored = _read_mask(mask_path(self.store, project_id, frame, object_id))
        return None if stored is None else probability(stored)

    def stale(self, track: Track) -> bool:
        """Whether the project's prompts in the track's range differ from the track's, or
        another SAM2 made it (a server since restarted with another model: no job reuses it)."""
        entries = prompts_in(self.store.points(track.project_id), track.start, track.end)
        return prompts_hash(entries) != track.prompts_hash or track.sam2 != self.sam2

    # -- running -------------------------------------------------------------------------
    def start(self, project: Project, start: int, end: int) -> Track:
        """Track start..end of the project (as the caller read it) on the current prompts (only
        what changed when a finished track of the same range exists). Replaces a track still
        running. Raises ValueError when no frame of the range holds points."""
        with self._control:
            return self._start(project, start, end)

    def _start(self, project: Project, start: int, end: int) -> Track:
        project_id = project.id
        # Read under the control lock, which a delete holds (`removing`): NotFound when the
        # project went after the caller read it, else it stays until the track has started.
        entries = self._entries(project_id, start, end)
        # Replaced, not cancelled: followers (another tab) hear the new run next, and go on.
        replaced = self._halt(project_id, announce=False)
        try:
            old = self.get(project_id)
        except NotFound:
            old = None
        run = plan_run(old, start, end, entries, self.sam2)
        width, height = mask_size(project.info.width, project.info.height)
        objects = {e["object_id"] for e in entries}
        whole = run == Run(start, end, sorted(objects))
        stats: dict[str, dict[str, MaskStats]] = {}
        if not whole:  # a re-run: the others keep their masks, objects without points lose theirs
            assert old is not None
            stats = _kept_stats(old.stats, objects, run)
        track = Track(
            project_id=project_id,
            status="running" if run.object_ids else "done",
            start=start,
            end=end,
            mask_width=width,
            mask_height=height,
            prompts=entries,
            prompts_hash=prompts_hash(entries),
            run=run,
            frames_total=run.end - run.start + 1 if run.object_ids else 0,
            stats=stats,
            version=(old.version + 1) if old else 1,
            sam2=self.sam2,
        )
        # Saved before any mask goes: a start that cannot record its track (a full disk)
        # leaves the last one whole. Masks the new record does not list are never served.
        try:
            self._save(track)
        except OSError:
            if replaced:  # no new run follows: its followers hear that the old one stopped
                self.changes.publish(self._tracks[project_id])
            raise
        if whole:
            self._remove_masks(project_id, "*")
        elif old is not None:
            for gone in {int(o) for objs in old.stats.values() for o in objs} - objects:
                self._remove_masks(project_id, str(gone))
        self._publish(track)
        if run.object_ids:
            stop = threading.Event()
            thread = threading.Thread(
                target=self._work,
                args=(track, project, stop),
                name=f"vidmatte-track-{project_id}",
            )
            with self._lock:
                self._runs[project_id] = (thread, stop)
            thread.start()
        return track

    def _entries(self, project_id: str, start: int, end: int) -> list[dict]:
        """The prompts in start..end a track is made with (`prompts_in`). Raises ValueError
        when they make none: no points, or an object with negative clicks alone (a track has
        no choice of objects: that one would be tracked as nothing, so the user hears which
        to fix)."""
        while True:
            prompts = self.store.points(project_id)
            entries = prompts_in(prompts, start, end)
            if not entries:
                raise ValueError(
                    f"no frame in {start}..{end} holds points: click on the object first"
                )
            objects = {e["object_id"] for e in entries}
            if (blind := unanchored(prompts, objects, start, end)) is None:
                return entries
            try:
                name = self.store.object(project_id, blind)["name"]
            except NotFound:
                # Deleted (another tab) since its points were read: they went with it, so the
                # prompts are read again, without it. Not its 404: the request named no object.
                continue
            raise ValueError(
                f"object {blind} ('{name}') has only negative clicks in frames {start}..{end}: "
                "add a positive click or a box on it there, or remove its clicks"
            )

    def cancel(self, project_id: str) -> Track:
        """Stop a running track (its masks so far stay); a finished one is returned as is."""
        self.get(project_id)
        with self._control:
            self._halt(project_id)
        return self.get(project_id)

    def object_deleted(self, project_id: str) -> None:
        """After a delete of one of the project's objects: a running track none of whose
        objects is left is cancelled, instead of running SAM2 to its end for nothing (taking
        turns with the previews and jobs). A re-run whose own objects went while others of the
        track stay runs on: cancelled, its next start would track those again in whole. The
        objects are read under the control lock: a track started meanwhile goes on."""
        with self._control:
            with self._lock:
                track, running = self._tracks.get(project_id), project_id in self._runs
            if track is None or not running:
                return
            try:
                left = {o["id"] for o in self.store.objects(project_id)}
            except NotFound:  # the project's delete halted it
                return
            if left.isdisjoint(track.object_ids):
                self._halt(project_id)

    def stop(self) -> None:
        """At shutdown: every running track stops and is recorded as interrupted."""
        with self._lock:
            projects = list(self._runs)
        for project_id in projects:
            # Under the control lock a delete holds (`removing`): a run's end recorded as its
            # project went wrote track.json back into the folder the delete had removed.
            with self._control:
                self._halt(project_id, "interrupted")

    @contextmanager
    def removing(self, project_id: str) -> Iterator[None]:
        """While the project is deleted: its track stops and its state goes, and a track
        started meanwhile waits for the delete, then finds no project (a 404), instead of
        writing into a folder that is going."""
        with self._control:
            self._halt(project_id)
            with self._lock:
                self._tracks.pop(project_id, None)
                self._deletes += 1
                self._removing.add(project_id)
            try:
                yield
            finally:
                with self._lock:
                    self._removing.discard(project_id)

    def _halt(self, project_id: str, status: str = "cancelled", announce: bool = True) -> bool:
        """Stop the project's run and record it as `status`; told to its event streams unless
        not `announce` (a new run replaces it at once: they follow that one). Whether a
        running track was stopped so."""
        with self._lock:
            thread, stop = self._runs.pop(project_id, (None, None))
        if thread is None or stop is None:
            return False
        stop.set()
        thread.join()
        track = self._tracks.get(project_id)
        if track is None or track.status != "running":
            return False
        error = SHUT_DOWN if status == "interrupted" else None
        changes = {"status": status, "fps": None, "eta_seconds": None, "error": error}
        self._end(track, announce, **changes)
        return True

    def _end(self, track: Track, announce: bool = True, **changes) -> None:
        """Record how a run ended. Its end is shown even when it cannot be saved (a full disk):
        the run has stopped either way (a cancel, a shutdown, a delete go on), and a record
        left "running" reads as interrupted after a restart."""
        try:
            self._update(track, announce=announce, **changes)
        except OSError:
            log.exception("the end of the track of project %s was not saved", track.project_id)

    def _update(self, track: Track, save: bool = True, announce: bool = True, **changes) -> Track:
        """The track changed, shown before it is saved: when saving fails (a full disk), what
        the editor sees is still the newest state (a cancel, a failure), not a run that goes
        on for ever. A record left behind reads as interrupted after a restart."""
        new = replace(track, **changes, version=track.version + 1)
        self._publish(new, announce)
        if save:
            self._save(new)
        return new

    def _publish(self, track: Track, announce: bool = True) -> None:
        with self._lock:
            self._tracks[track.project_id] = track
        if announce:
            self.changes.publish(track)

    def _save(self, track: Track) -> None:
        path = manifest_path(self.store, track.project_id)
        write_atomic(path, json.dumps(asdict(track)).encode())

    def _remove_masks(self, project_id: str, object_id: str) -> None:
        for path in (track_dir(self.store, project_id) / "masks").glob(f"*-{object_id}.png"):
            path.unlink(missing_ok=True)

    def _work(self, track: Track, project: Project, stop: threading.Event) -> None:
        try:
            track = self._track(track, project, stop.is_set)
            if not stop.is_set():
                self._update(track, status="done", eta_seconds=0.0)
        except Stopped:
            return  # _halt records the end
        except Exception as exc:
            log.exception("track of project %s failed", track.project_id)
            if not stop.is_set():
                error = describe(exc, retry="track again")  # no server paths: as a job's
                self._end(self._tracks[track.project_id], status="failed", error=error)
            return
        with self._lock:
            if self._runs.get(track.project_id, (None, None))[1] is stop:
                del self._runs[track.project_id]

    def _track(self, track: Track, project: Project, should_stop: Callable[[], bool]) -> Track:
        pid, run, info = track.project_id, track.run, project.info
        prompts = {
            (e["object_id"], e["frame"]): [Point(**p) for p in e["points"]]
            for e in track.prompts
            if e["object_id"] in run.object_ids
        }
        size = (track.mask_width, track.mask_height)
        reader = VideoReader(project.source, self.store.pts_index(pid), info.rotation)
        started, saved = time.monotonic(), 0.0
        try:
            state = self.segmenter.new_state(reader, info.height, info.width)
            tracked = self.segmenter.track(state, prompts, run.start, run.end, features=False)
            for frame, masks in tracked:
                if should_stop():
                    raise Stopped
                stats = dict(track.stats.get(str(frame), {}))
                for obj, m in masks.items():
                    logits = Image.fromarray(m.low_res_logits[0, 0].numpy(), mode="F")
                    stored = quantize(np.asarray(logits.resize(size, Image.Resampling.BILINEAR)))
                    write_atomic(mask_path(self.store, pid, frame, obj), encode_png(stored))
                    stats[str(obj)] = mask_stats(probability(stored))
                done = track.frames_done + 1
                fps = done / max(time.monotonic() - started, 1e-6)
                now = time.monotonic()
                track = self._update(
                    track,
                    save=now - saved >= SAVE_EVERY_SECONDS,
                    frames_done=done,
                    fps=round(fps, 3),
                    eta_seconds=round((track.frames_total - done) / fps, 1),
                    stats={**track.stats, str(frame): stats},
                )
                saved = now if now - saved >= SAVE_EVERY_SECONDS else saved
        finally:
            reader.close()
        return track


def _load(path: Path) -> Track:
    data = json.loads(path.read_text())
    data["run"] = Run(**data["run"])
    data["stats"] = {
        f: {o: MaskStats(**s) for o, s in objs.items()} for f, objs in data["stats"].items()
    }
    return Track(**data)
