"""Persistent state: SQLite for metadata, the data directory for media.

Layout of the data directory:
    vidmatte.lock                    held by the one process that serves this data dir
    vidmatte.db                      projects, objects, points, jobs, finished job frames (WAL)
    projects/<pid>/source<.ext>      the uploaded video, untouched
    projects/<pid>/frames.npy        presentation timestamps, one per frame (see media.video)
    projects/<pid>/thumbnail.jpg
    jobs/<jid>/alpha/<frame>.png     a finished frame's mattes, one per object (jobs/mattes.py)
    jobs/<jid>/track/                a job's hard links to the track's masks, while it reads them
    tmp/                             uploads in flight; emptied at start-up
    reserve                          disk space set aside to record a job's failure, or to
                                     delete something, on a full disk

Every file lands by rename from a temporary file, and a project's row is inserted only after its
files are complete, so a crash never leaves a half-written project visible.

A job's status changes only through `Store.transition`, a compare-and-set along `TRANSITIONS`;
each run of a job has its own `attempt` number, and a run writes frames and progress only while
the job is running under its number, so a late word from a cancelled run changes nothing.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import fcntl
import json
import os
import secrets
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Generic, Literal, TypeVar

import numpy as np

from vidmatte.jobs.events import JobChanges
from vidmatte.media.video import VideoInfo
from vidmatte.npy_reads import NPY_READS

SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, filename TEXT NOT NULL, source TEXT NOT NULL,
    created_at TEXT NOT NULL, info TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL, color TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS points (
    object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
    frame INTEGER NOT NULL, ord INTEGER NOT NULL, x REAL NOT NULL, y REAL NOT NULL,
    label TEXT NOT NULL, PRIMARY KEY (object_id, frame, ord)
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    status TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, object_ids TEXT NOT NULL,
    frames_total INTEGER NOT NULL, fps REAL, eta_seconds REAL, error TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0,
    prompts TEXT NOT NULL DEFAULT '[]', edges TEXT NOT NULL DEFAULT '',
    head TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS job_frames (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE, frame INTEGER NOT NULL,
    PRIMARY KEY (job_id, frame)
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY, route TEXT NOT NULL, fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);
"""

# PRAGMA user_version of the databases this code makes or upgrades: one from a newer version may
# rely on tables or columns this code would write without. 0: made before the version was kept.
# 2: a stopped job's error says what went wrong, its `stop` column how it stopped (an older
# version would show its error without what to do). The idempotency_keys table needs no new
# version: an older version neither reads nor writes it, so all it loses is the replay of a
# request retried across a downgrade, and a newer one makes it with CREATE TABLE IF NOT EXISTS.
SCHEMA_VERSION = 2
RESERVE_BYTES = 4 * 1024 * 1024  # see Store.keep_reserve
T = TypeVar("T")
Made = TypeVar("Made")
# Object colours: distinct, readable on dark video and on the editor's dark UI.
PALETTE = (
    "#ff5a5f",
    "#3ba4ff",
    "#ffc234",
    "#a66bff",
    "#2fd4a7",
    "#ff8a3d",
    "#ff5ac8",
    "#8bd450",
    "#5ad7ff",
    "#c9a27e",
)


def fresh_name(taken: set[str]) -> str:
    """`Object N` for the first N from the count of objects on that no object is called."""
    n = len(taken) + 1
    while f"Object {n}" in taken:
        n += 1
    return f"Object {n}"


def fresh_color(used: list[str]) -> str:
    """The first palette colour no object has; once all are taken, round the palette again."""
    lower = {c.lower() for c in used}
    return next((c for c in PALETTE if c not in lower), PALETTE[len(used) % len(PALETTE)])


ACTIVE = ("queued", "running")
TERMINAL = ("done", "failed", "cancelled", "interrupted")
# Where a job may go, from where: the worker runs queued jobs and ends running ones (interrupted
# at shutdown), a user cancels active jobs and resumes (queues again) ended ones.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "running": ("queued",),
    "done": ("running",),
    "failed": ("running",),
    "interrupted": ("running", "queued"),  # queued: made with models the server lacks now
    "cancelled": ACTIVE,
    "queued": ("cancelled", "interrupted", "failed"),
}
# Columns added since the first release, for data dirs made by an older version.
JOB_COLUMNS = {
    "attempt": "INTEGER NOT NULL DEFAULT 0",
    "version": "INTEGER NOT NULL DEFAULT 0",
    "prompts": "TEXT NOT NULL DEFAULT '[]'",
    "edges": "TEXT NOT NULL DEFAULT ''",
    "head": "TEXT NOT NULL DEFAULT ''",
    "used_track": "INTEGER NOT NULL DEFAULT 0",
    "export": "TEXT NOT NULL DEFAULT ''",  # JSON: the downloads chosen with the job, or ''
    "sam2": "TEXT NOT NULL DEFAULT ''",
    "object_names": "TEXT NOT NULL DEFAULT '{}'",  # JSON: object id -> its name at the time
    "plate": "INTEGER NOT NULL DEFAULT 0",  # the background plate setting (resolved) it runs with
    # Its place in the queue, by when it was last queued (made or resumed): larger is later.
    # Timestamps cannot order it, being in milliseconds: two jobs queued in one would swap.
    "queue_seq": "INTEGER NOT NULL DEFAULT 0",
    "stop": "TEXT",  # a StopCause, or NULL
}
# How a job stopped, when a resume may finish it or mend what went wrong (jobs/stops.py says
# what to do): the server crashed or was shut down under it, its Ray worker ended its run
# early, a server with other models held it from the queue; or it failed for a full disk, or
# for a Ray worker that died too often. NULL for any other end: its error is final.
StopCause = Literal[
    "crash", "shutdown", "worker_stopped", "held_other_models", "disk_full", "worker_died"
]
# Errors as versions before the `stop` column stored them, whole (`_older_stop`): how an
# interrupted job's began, by how it stopped, and how a failure a resume may mend began, with
# the advice it ended with. Copies, not the texts of today: they must match what was stored.
_OLDER_INTERRUPTIONS: dict[str, StopCause] = {
    "the server stopped while this job ran (a crash or a kill)": "crash",
    "the server was shut down while this job ran": "shutdown",
    "the worker running this job ended it before its last frame": "worker_stopped",
}
_OLDER_FAILURES: dict[str, tuple[StopCause, str]] = {
    "not enough disk space in the data dir": (
        "disk_full",
        ": free some space, then resume the job",
    ),
    "the worker running the job died": ("worker_died", ": resume the job to try again"),
}
# When the first version with the background plate was made (VIDMATTE_PLATE; no job kept its
# setting until the `plate` column came): a job made before it was matted without a plate.
PLATES_SINCE = "2026-11-30T09:32:53"
# Whether job `j` reads its copy of the track's masks again (jobs/tracks.py `job_masks`): it may
# run again, and frames it stored were matted from the track. One with no stored frame takes,
# when resumed, whatever fits then (the track or SAM2), as a new job does; one matted by SAM2
# goes on with SAM2.
NEEDS_MASKS = (
    "(j.status != 'done' AND j.used_track "
    "AND EXISTS (SELECT 1 FROM job_frames f WHERE f.job_id = j.id))"
)
# The next place at the back of the queue, in an INSERT or UPDATE of `jobs`.
NEXT_IN_QUEUE = "(SELECT COALESCE(MAX(queue_seq), 0) + 1 FROM jobs)"


class NotFound(LookupError):
    """An id that does not exist; the message names it."""

    def __init__(self, message: str):
        # Ids come from the request: a 20 kB id must not come back 20 kB long. The middle goes,
        # so the message still says what was not found.
        if len(message) > 300:
            message = f"{message[:200]}…{message[-80:]}"
        super().__init__(message)


class InvalidTransition(RuntimeError):
    """A job status change that its current status does not allow; the message says why."""


class LimitExceeded(ValueError):
    """More of something than a limit in config.py allows; the message names the setting."""


class PointsChanged(RuntimeError):
    """A points save that began from points no longer stored; the message says so."""


class QueueFull(RuntimeError):
    """The server already has its limit of jobs waiting; the message names the setting."""


class ProjectLimit(LimitExceeded):
    """The data dir already holds its limit of projects."""


class KeyInUse(RuntimeError):
    """An Idempotency-Key whose first request is still being answered."""


class DataDirInUse(RuntimeError):
    """Another process serves this data dir."""


class DataDirUnusable(RuntimeError):
    """The data dir cannot be opened: its disk is full or its database is damaged; the message
    names it and the fix."""


class BadDataDir(DataDirUnusable):
    """The data dir given cannot be one: a path below a file, or a database a newer vidmatte
    wrote; the message names it and says to give another."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def ago(seconds: float) -> str:
    """The time `seconds` before now, as `now` writes it (the two compare as strings)."""
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Answered:
    """The answer kept for an Idempotency-Key: the request's route and fingerprint, and the
    response's status and JSON body."""

    route: str
    fingerprint: str
    status: int
    body: str


@dataclass(frozen=True)
class KeyedAnswer(Generic[Made]):
    """The answer to a request that took an Idempotency-Key and makes a row (a project, an
    object, a job) or queues a job again (a resume), kept by the write that makes or moves the
    row, in its transaction: kept after it, a crash between the two left the row written and
    the key unanswered, and the retry after the restart made a second one (or was refused, the
    job queued already). `of` is the answer to give for the row as written."""

    key: str
    of: Callable[[Made], Answered]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    filename: str
    source: Path
    created_at: str
    info: VideoInfo


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # "positive" | "negative" | "box" (a corner of the object's box on the frame)

    @property
    def positive(self) -> bool:
        return self.label == "positive"


# Frame prompts: (object id, frame index) -> points in video pixels.
Prompts = dict[tuple[int, int], list[Point]]


def unanchored(prompts: Prompts, object_ids: Iterable[int], start: int, end: int) -> int | None:
    """The first of these objects with no positive click and no box on frames start..end of
    `prompts`, or None. Negative clicks only say where an object is not: from them alone SAM2
    finds nothing."""
    anchored = {
        obj
        for (obj, frame), points in prompts.items()
        if start <= frame <= end and any(p.label != "negative" for p in points)
    }
    return next((obj for obj in sorted(object_ids) if obj not in anchored), None)


# A box is two opposite corners stored among the clicks: prompts, their hashes, job snapshots
# and the editors' `expected` compare it as they compare clicks.
BOX = "box"


def wrong_corners(points: Sequence[Point]) -> int | None:
    """How many box corners a frame's points hold when they are not one box (2 opposite
    corners; one box per object and frame), else None. The API (split_box) and the CLI refuse
    such a frame, each naming it in its own words."""
    count = sum(p.label == BOX for p in points)
    return None if count in (0, 2) else count


def split_box(points: Sequence[Point]) -> tuple[list[Point], list[float] | None]:
    """A frame's clicks, and its box as SAM2 takes it ([x0, y0, x1, y1], min corner first) or
    None. ValueError unless the box is two corners at least 1 px apart each way."""
    if (count := wrong_corners(points)) is not None:
        raise ValueError(
            f"a box is 2 opposite corners labelled 'box' (one box per object and frame): "
            f"got {count}"
        )
    corners = [p for p in points if p.label == BOX]
    clicks = [p for p in points if p.label != BOX]
    if not corners:
        return clicks, None
    (ax, ay), (bx, by) = ((p.x, p.y) for p in corners)
    box = [min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)]
    if box[2] - box[0] < 1 or box[3] - box[1] < 1:
        raise ValueError(
            f"the box from ({ax:g}, {ay:g}) to ({bx:g}, {by:g}) is degenerate: "
            "it must be at least 1 px wide and 1 px high"
        )
    return clicks, box


def without_repeats(points: Sequence[Point]) -> list[Point]:
    """The points with each click once, in order: the same click sent twice (a retried
    request, a script's repeat) is one prompt, stored once and counted once against the
    frame's limit. Box corners are left as they are: two at one spot are a degenerate box
    (split_box), not one corner."""
    seen: set[Point] = set()
    kept = []
    for p in points:
        if p.label != BOX and p in seen:
            continue
        seen.add(p)
        kept.append(p)
    return kept


def clashing_clicks(points: Sequence[Point]) -> tuple[int, int] | None:
    """The places in `points` of the first positive and negative click at one spot, or None.
    The object would both be and not be there, and the editor would draw one marker over the
    other: the API (check_clicks) and the CLI refuse such a pair, each naming it in its own
    words. Box corners are not clicks."""
    first: dict[tuple[float, float], tuple[int, str]] = {}
    for i, p in enumerate(points):
        if p.label == BOX:
            continue
        j, label = first.setdefault((p.x, p.y), (i, p.label))
        if label != p.label:
            return j, i
    return None


def check_clicks(points: Sequence[Point]) -> None:
    """ValueError naming the `clashing_clicks` of a frame by their places in the list."""
    if (pair := clashing_clicks(points)) is not None:
        j, i = pair
        raise ValueError(
            f"points {j} and {i} are both at ({points[i].x:g}, {points[i].y:g}), one positive "
            "and one negative: keep one of them"
        )


@dataclass(frozen=True)
class Job:
    id: str
    project_id: str
    status: str
    start: int
    end: int
    object_ids: list[int]
    frames_done: int
    frames_total: int
    fps: float | None
    eta_seconds: float | None
    error: str | None
    created_at: str
    updated_at: str
    attempt: int  # runs so far; a run acts on the job only while this is its number
    version: int  # grows with every change, so listeners can drop stale news
    prompts: Prompts  # what the job was made with: resume uses these, not today's
    edges: str
    head: str
    sam2: str = ""  # the SAM2 model it tracks with ('' for jobs of an older version)
    plate: bool = False  # whether its "best" edges take the background plate (Matter.plate)
    used_track: bool = False  # its last run read the project's track instead of running SAM2
    export: dict | None = None  # the downloads chosen with it (the API's ExportChoice)
    # Its objects' names when it was made: its exports' folders keep them (a renamed or
    # deleted object does not rename a finished job's results).
    object_names: dict[int, str] = field(default_factory=dict)
    queue_seq: int = 0  # its place in the queue when last queued: larger is later
    # How it stopped, when what to do depends on it and on the server's models: then `error`
    # says only what went wrong (None for a job held from the queue: the stop says it all), and
    # jobs/stops.py `shown_error` adds what to do. None: `error` (if any) is the whole message.
    stop: StopCause | None = None


def _dump_prompts(prompts: Prompts) -> str:
    return json.dumps(
        [
            {"object_id": obj, "frame": frame, "points": [p.__dict__ for p in points]}
            for (obj, frame), points in sorted(prompts.items())
        ]
    )


def _load_prompts(text: str) -> Prompts:
    return {
        (entry["object_id"], entry["frame"]): [Point(**p) for p in entry["points"]]
        for entry in json.loads(text)
    }


def source_suffix(filename: str) -> str:
    """The extension an uploaded video is kept under: its own, else .mp4. FFmpeg picks its
    reader by it as well as by the bytes, so the upload is probed under it too."""
    return Path(filename).suffix.lower()[:10] or ".mp4"


def distinct(name: str, taken: set[str], limit: int = 200) -> str:
    """`name`, else `name (2)`, `name (3)`, ... the first not `taken`, all within `limit`."""
    candidate, n = name[:limit], 1
    while candidate in taken:
        n += 1
        suffix = f" ({n})"
        candidate = name[: limit - len(suffix)] + suffix
    return candidate


def is_disk_full(exc: BaseException) -> bool:
    """The file system (ENOSPC, or a quota: EDQUOT) or SQLite ran out of space."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, sqlite3.Error) and "disk is full" in str(exc)


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes so that readers see either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class StagingRoom:
    """The room on a staging folder's disk promised to the archive downloads under way, for
    their staged files (encoded videos, EXRs): two downloads started together each found the
    disk's room free, and both could run out midway. One per Store: an app's promises end with
    it, not with the process (another store, on the same data dir or not, starts with none)."""

    def __init__(self, folder: Path, spare: int):
        self.folder, self.spare = folder, spare
        self._promised = 0
        self._lock = threading.Lock()

    def promise(self, need: int) -> Callable[[], None] | None:
        """Promise `need` bytes when they fit on the disk beside those promised already and
        `spare` (the room a delete, the way out of a full disk, needs), else None. The room
        stays promised until the returned release is called (releasing twice is harmless). A
        file being written counts in the disk's use and in its download's promise: downloads
        together are refused early, never late."""
        if need == 0:
            return lambda: None
        with self._lock:
            if shutil.disk_usage(self.folder).free < self._promised + need + self.spare:
                return None
            self._promised += need
        held = [True]

        def release() -> None:
            with self._lock:
                if held[0]:
                    held[0] = False
                    self._promised -= need

        return release

    @property
    def promised(self) -> int:
        """The bytes promised to the downloads under way."""
        with self._lock:
            return self._promised


class Store:
    def __init__(
        self,
        data_dir: Path,
        max_objects: int | None = None,
        max_points_per_frame: int | None = None,
        max_queued_jobs: int | None = None,
        plate: bool = False,
        edges: str | None = None,
        idempotency_seconds: float = 24 * 3600,
    ):
        """`plate` and `edges`: the background plate setting and edge mode of the server opening
        the data dir, which its jobs made before the setting was saved with them most likely ran
        with (a server is restarted with the settings it had far more often than with others);
        jobs made before plates existed had none.
        Without `edges` (a tool that runs no job), jobs without an edge mode are left so.
        `idempotency_seconds`: how long the answer to a request with an Idempotency-Key is kept
        for its retries (api/idempotency.py)."""
        self.data_dir = Path(data_dir)
        self.max_objects, self.max_points_per_frame = max_objects, max_points_per_frame
        self.max_queued_jobs = max_queued_jobs
        self.idempotency_seconds = idempotency_seconds
        # Keys whose request is being answered, with its route. In memory, not in the database:
        # taking and letting go of a key writes nothing (a full disk cannot leave a key taken
        # for good), and a crash forgets them with the requests (one process serves a data dir).
        self._keys_in_flight: dict[str, str] = {}
        # Answers given that the database could not keep (a full disk, a lock held past the
        # busy timeout), with when they were given (as `now` writes it): what their request
        # made is made, so this process answers their retries from here, until the retention
        # ends or a later write keeps them in the database.
        self._answers_unkept: dict[str, tuple[Answered, str]] = {}
        self._keys_lock = threading.Lock()
        self._older_plate, self._older_edges = plate, edges
        self.busy_timeout = 30.0  # seconds a write waits for another writer
        self.changes = JobChanges()
        self._keeper: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        # The folders downloads still read (`lease`), with how many read each, and those of
        # them deleted meanwhile: each goes when the last download reading it ends (a restart
        # collects them too).
        self._leases: collections.Counter[Path] = collections.Counter()
        self._doomed: set[Path] = set()
        self._leases_lock = threading.Lock()
        self.staging = StagingRoom(self.tmp_dir, RESERVE_BYTES)
        try:
            self._lock_fd = self._lock()  # before any clean-up: it must not hit a running server
            # Held open for the store's life, never used: the WAL and its index stay in place, so
            # reads go on when the disk is full (the last connection to close deletes them and
            # the next one must create them again).
            self._keeper = sqlite3.connect(self.data_dir / "vidmatte.db", check_same_thread=False)
            self._check_version(self._keeper)  # before anything in the data dir changes
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            # Uploads that were in flight when the process died are garbage now.
            for leftover in self.tmp_dir.iterdir():
                if leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink()
            # WAL: readers never wait for the writer (the mode is stored in the file).
            self._keeper.execute("PRAGMA journal_mode = WAL")
            self._keeper.executescript(SCHEMA)  # executescript manages its own transaction
            self._migrate()
            self._collect_garbage()
            self.keep_reserve()
        except BaseException as exc:
            self.close()
            if (why := self._unusable(exc)) is not None:
                raise DataDirUnusable(why) from exc
            raise

    def _unusable(self, exc: BaseException) -> str | None:
        """Why the data dir cannot be opened, naming it and the fix, when that is a full disk
        or a database SQLite cannot use; None for another error (which names its path)."""
        db = self.data_dir / "vidmatte.db"
        # SQLite reports a file it cannot grow on a full disk as "disk I/O error" as well.
        full = is_disk_full(exc) or (
            isinstance(exc, sqlite3.OperationalError)
            and shutil.disk_usage(self.data_dir).free < RESERVE_BYTES
        )
        if full:
            return (
                f"no space left on the disk of {self.data_dir}: free some space there, then "
                "start again"
            )
        if isinstance(exc, sqlite3.OperationalError):  # locked by another program, unreadable
            return f"the database {db} cannot be opened: {exc}"
        if isinstance(exc, sqlite3.DatabaseError):  # malformed, or not an SQLite file
            return (
                f"the database {db} is damaged or is not vidmatte's ({exc}); it was left as "
                "it is: restore the data dir from a backup, or start with another --data-dir"
            )
        return None

    def _check_version(self, db: sqlite3.Connection) -> None:
        """Refuse a database that a newer vidmatte wrote: this code would change it in ways
        that version does not expect."""
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise BadDataDir(
                f"the database {self.data_dir / 'vidmatte.db'} was written by a newer vidmatte "
                f"(schema version {version}; this one knows up to {SCHEMA_VERSION}); it was left "
                "as it is: upgrade vidmatte, or start with another --data-dir"
            )

    def _lock(self) -> int:
        """Hold an exclusive lock on the data dir for this process's life; the lock file names
        the holder so that a second server can say who it is."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:  # it, or a folder above, is a file
            file = next((p for p in (self.data_dir, *self.data_dir.parents) if p.is_file()), None)
            if file is None:  # not a plain file (a socket, a device): the error names it
                raise
            below = "" if file == self.data_dir else f" cannot be made: {file}"
            raise BadDataDir(f"--data-dir {self.data_dir}{below} is a file; give a folder") from exc
        fd = os.open(self.data_dir / "vidmatte.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirInUse(f"data dir {self.data_dir} is in use by PID {holder}") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        return fd

    def close(self) -> None:
        """Let another process use the data dir."""
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the only descriptor releases the flock
            self._lock_fd = None

    def _migrate(self) -> None:
        """Give jobs of an older data dir the columns added since; their snapshot of prompts
        and object names is what the project holds now (they had none), their plate setting
        off when they predate plates, else the opening server's, as is their edge mode, their
        place in the queue their order of queueing, their stop cause what their error told
        (`_older_stop`). Then mark the database with SCHEMA_VERSION."""
        with self._write() as db:
            have = {r["name"] for r in db.execute("PRAGMA table_info(jobs)")}
            for column, kind in JOB_COLUMNS.items():
                if column not in have:
                    db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")
            if "prompts" not in have:
                for row in db.execute('SELECT id, start, "end", object_ids FROM jobs').fetchall():
                    prompts = self._prompts_of(db, json.loads(row[3]), row[1], row[2])
                    db.execute(
                        "UPDATE jobs SET prompts = ? WHERE id = ?", (_dump_prompts(prompts), row[0])
                    )
            if "object_names" not in have:
                for row in db.execute("SELECT id, object_ids FROM jobs").fetchall():
                    names = self._names_of(db, json.loads(row[1]))
                    db.execute(
                        "UPDATE jobs SET object_names = ? WHERE id = ?", (json.dumps(names), row[0])
                    )
            if "plate" not in have:  # left to the server's setting, a resume could mix two
                # A data dir that no version with plates opened (`used_track` came before
                # them) holds jobs matted without one; else the server's is the likeliest.
                plate = "used_track" in have and self._older_plate
                db.execute("UPDATE jobs SET plate = ?", (int(plate),))
            # Every time: an earlier upgrade gave the server's setting to jobs made before
            # plates existed too, whose first frames were matted without one.
            db.execute("UPDATE jobs SET plate = 0 WHERE created_at < ?", (PLATES_SINCE,))
            # Not only when the column is added: jobs of the first release had the column, empty.
            if self._older_edges is not None:
                db.execute("UPDATE jobs SET edges = ? WHERE edges = ''", (self._older_edges,))
            if "queue_seq" not in have:  # a queued job's updated_at is when it was queued
                rows = db.execute("SELECT id FROM jobs ORDER BY updated_at, rowid").fetchall()
                db.executemany(
                    "UPDATE jobs SET queue_seq = ? WHERE id = ?",
                    [(seq, row[0]) for seq, row in enumerate(rows, 1)],
                )
            if "stop" not in have:
                rows = db.execute(
                    "SELECT id, status, error FROM jobs WHERE status IN ('interrupted', 'failed') "
                    "AND error IS NOT NULL"
                ).fetchall()
                db.executemany(
                    "UPDATE jobs SET stop = ?, error = ? WHERE id = ?",
                    [(*_older_stop(row[0], row[1], row[2]), row[0]) for row in rows],
                )
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")  # in the same transaction

    def _collect_garbage(self) -> None:
        """Remove what a crash can leave behind: folders of projects and jobs that have no row
        (killed between moving a project into place and inserting its row, or while deleting
        one), half-written files of `write_atomic`, copies of the track's masks a job run was
        making, and those no resume reads (`NEEDS_MASKS`: a job that may be resumed keeps its
        own, which its first frames were matted from). Rows always point at complete files. Expired
        idempotency keys go too."""
        with self._write() as db:
            self._forget_expired_keys(db)
        with self._read() as db:
            projects = {r[0] for r in db.execute("SELECT id FROM projects")}
            needs = dict(db.execute(f"SELECT j.id, {NEEDS_MASKS} FROM jobs j").fetchall())
        jobs = set(needs)
        for folder, known in (
            (self.data_dir / "projects", projects),
            (self.data_dir / "jobs", jobs),
        ):
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if entry.name not in known:
                    shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()
        for partial in (self.data_dir / "jobs").glob("*/alpha/.*"):
            partial.unlink(missing_ok=True)
        for job_id, needed in needs.items():
            shutil.rmtree(self.track_links_dir(job_id, partial=True), ignore_errors=True)
            if not needed:
                shutil.rmtree(self.track_links_dir(job_id), ignore_errors=True)

    # -- disk space --------------------------------------------------------------------------
    @property
    def reserve_path(self) -> Path:
        return self.data_dir / "reserve"

    def keep_reserve(self) -> None:
        """Set a little disk space aside (if there is any), so that when the disk fills up
        during a job, the job's failure can still be recorded, and a delete can make room
        (`_on_the_reserve`): `release_reserve` frees it."""
        with contextlib.suppress(OSError):
            if not self.reserve_path.exists():
                write_atomic(self.reserve_path, bytes(RESERVE_BYTES))

    def release_reserve(self) -> None:
        self.reserve_path.unlink(missing_ok=True)

    def _on_the_reserve(self, delete: Callable[[], T]) -> T:
        """`delete()`, run again on the reserve's space when the disk is too full for SQLite to
        write it (its write-ahead log must grow even to delete): deleting is how a user makes
        room, it must not fail for want of it. The caller sets the reserve aside again."""
        try:
            return delete()
        except sqlite3.Error as exc:
            if not is_disk_full(exc):
                raise
        self.release_reserve()
        return delete()

    # -- paths -------------------------------------------------------------------------------
    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    def project_dir(self, project_id: str) -> Path:
        return self.data_dir / "projects" / project_id

    def job_dir(self, job_id: str) -> Path:
        return self.data_dir / "jobs" / job_id

    def track_links_dir(self, job_id: str, partial: bool = False) -> Path:
        """Where a job holds the track's masks it reads, from its first run to its last frame
        (jobs/tracks.py `reuse`); `partial`: where that copy is made, then moved there whole."""
        return self.job_dir(job_id) / (".track" if partial else "track")

    def alpha_path(self, job_id: str, frame: int) -> Path:
        return self.job_dir(job_id) / "alpha" / f"{frame:06d}.png"

    def _connect(self) -> sqlite3.Connection:
        # One short-lived connection per unit of work: safe across threads and processes.
        db = sqlite3.connect(
            self.data_dir / "vidmatte.db", timeout=self.busy_timeout, isolation_level=None
        )
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        return db

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """Plain reads: in WAL mode they see the last commit and take no lock."""
        with closing(self._connect()) as db:
            yield db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                # A COMMIT that failed (e.g. "database or disk is full") has rolled back already;
                # a second ROLLBACK would replace that error with "no transaction is active".
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    @staticmethod
    def _require(db: sqlite3.Connection, project_id: str, object_id: int | None = None) -> None:
        """NotFound unless the project (and its object) exists: checked inside a write, where a
        delete committed since the caller's own look cannot slip in (it would surface as a
        foreign-key error, a 500); in a read, on its connection (no second one, and no project
        row built for a look)."""
        if db.execute("SELECT 1 FROM projects WHERE id = ?", (project_id,)).fetchone() is None:
            raise NotFound(f"project '{project_id}' does not exist")
        if object_id is not None and (
            db.execute(
                "SELECT 1 FROM objects WHERE id = ? AND project_id = ?", (object_id, project_id)
            ).fetchone()
            is None
        ):
            raise NotFound(f"object {object_id} does not exist in project '{project_id}'")

    def _require_room_in_the_queue(self, db: sqlite3.Connection) -> None:
        """QueueFull when the limit of waiting jobs is reached; inside the write that queues
        one, so requests at the same instant cannot all pass."""
        limit = self.max_queued_jobs
        if limit is None:
            return
        if db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").fetchone()[0] >= limit:
            raise QueueFull(
                f"{limit} jobs are already waiting, this server's limit "
                "(setting VIDMATTE_MAX_QUEUED_JOBS): let some finish or cancel some first"
            )

    # -- idempotency keys --------------------------------------------------------------------
    def claim_key(self, key: str, route: str) -> Answered | None:
        """The kept answer of `key`'s first request, or None once `key` is taken for this one:
        `answer_key` keeps its answer, `release_key` lets a retry run it again. KeyInUse while
        another request with the key is being answered."""
        with self._keys_lock:  # two requests with one key cannot both take it
            answered = self._key_answer(key)
            if answered is None:
                self._keys_in_flight[key] = route
            return answered

    def key_answer(self, key: str) -> Answered | None:
        """The kept answer of `key`'s request, None when it has none (unknown, expired, or
        its request failed): `claim_key` without taking the key. KeyInUse while its request
        is being answered."""
        with self._keys_lock:  # its answer is kept and the key let go in one step
            return self._key_answer(key)

    def _key_answer(self, key: str) -> Answered | None:
        """`key_answer` under the keys' lock: its answer in memory (one the database could
        not keep), else in the database, within the retention window."""
        if (running := self._keys_in_flight.get(key)) is not None:
            raise KeyInUse(
                f"a request with Idempotency-Key '{key}' ({running}) is still being "
                "answered: retry once it has finished"
            )
        self._forget_expired_unkept()
        if (unkept := self._answers_unkept.get(key)) is not None:
            return unkept[0]
        with self._read() as db:
            row = db.execute(
                "SELECT route, fingerprint, status, body FROM idempotency_keys "
                "WHERE key = ? AND created_at > ?",
                (key, ago(self.idempotency_seconds)),
            ).fetchone()
        if row is None:
            return None
        return Answered(row["route"], row["fingerprint"], row["status"], row["body"])

    def answer_key(self, key: str, answered: Answered) -> None:
        """Keep `answered`, the answer to the request that took `key`, for its retries; the key
        is free then (its retries read the answer). An answer the database cannot keep (the
        error is raised) is kept in memory instead, for this process's retries: its key is
        never free while its request's work stands. A request that makes or moves a row keeps
        its answer in the row's write instead (`KeyedAnswer`)."""
        held, given = self._held_answers(), now()
        try:
            with self._write() as db:
                self._keep_answer(db, held, key, answered, given)
        except BaseException:
            with self._keys_lock:  # one step: a retry finds the key taken, or this answer
                self._answers_unkept[key] = (answered, given)
                self._keys_in_flight.pop(key, None)
            raise
        self._answered(key, held)

    def _held_answers(self) -> list[tuple[str, tuple[Answered, str]]]:
        """The answers held in memory (`answer_key`), for the next write of an answer."""
        with self._keys_lock:
            self._forget_expired_unkept()
            return list(self._answers_unkept.items())

    def _keep_answer(
        self,
        db: sqlite3.Connection,
        held: list[tuple[str, tuple[Answered, str]]],
        key: str,
        answered: Answered,
        given: str,
    ) -> None:
        """In a write: keep `key`'s answer, and the answers `held` in memory, dated when they
        were given. Expired keys go in the same write: the table holds about one retention
        window's keys without waiting for a restart."""
        self._forget_expired_keys(db)
        # IGNORE: a row of the key is this answer, or a later one's (it expired here).
        db.executemany(
            "INSERT OR IGNORE INTO idempotency_keys "
            "(key, route, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [self._key_row(other, *answer) for other, answer in held],
        )
        db.execute(
            "INSERT OR REPLACE INTO idempotency_keys "
            "(key, route, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            self._key_row(key, answered, given),
        )

    @contextmanager
    def _keyed_write(
        self, keyed: KeyedAnswer[Made] | None
    ) -> Iterator[tuple[sqlite3.Connection, Callable[[Made, str], None]]]:
        """A write that makes or moves a row, and `keep(made, given)` to call in it: the row's
        key's answer (`keyed`; None: no key) kept in the same transaction, with the answers held
        in memory; once the write is committed, the key is answered (`_answered`). A write that
        writes no row raises: committed without `keep`, it would free the key unanswered."""
        held = self._held_answers() if keyed is not None else []
        with self._write() as db:

            def keep(made: Made, given: str) -> None:
                if keyed is not None:
                    self._keep_answer(db, held, keyed.key, keyed.of(made), given)

            yield db, keep
        if keyed is not None:
            self._answered(keyed.key, held)

    def _answered(self, key: str, held: list[tuple[str, tuple[Answered, str]]]) -> None:
        """Once the write that kept `key`'s answer and the `held` ones is committed: the key is
        free (its retries read the answer), and those held are in the database now."""
        with self._keys_lock:
            for other, answer in held:
                if self._answers_unkept.get(other) == answer:
                    del self._answers_unkept[other]
            self._keys_in_flight.pop(key, None)

    def release_key(self, key: str) -> None:
        """Let go of `key` taken by a request that failed: a retry runs it again."""
        with self._keys_lock:
            self._keys_in_flight.pop(key, None)

    def _forget_expired_keys(self, db: sqlite3.Connection) -> None:
        """A key is kept while younger than the retention: one kept for 0 s is never
        answered again (`_key_answer` reads the same bound)."""
        db.execute(
            "DELETE FROM idempotency_keys WHERE created_at <= ?", (ago(self.idempotency_seconds),)
        )

    def _forget_expired_unkept(self) -> None:
        """Drop the answers held in memory past the retention (under the keys' lock), as
        `_forget_expired_keys` does the database's: one per write that failed piled up for
        the life of the process."""
        since = ago(self.idempotency_seconds)
        for key, (_, given) in list(self._answers_unkept.items()):
            if given <= since:
                del self._answers_unkept[key]

    @staticmethod
    def _key_row(key: str, answered: Answered, given: str) -> tuple[str, str, str, int, str, str]:
        """An idempotency_keys row: `key`, its answer, and when it was given."""
        return (key, answered.route, answered.fingerprint, answered.status, answered.body, given)

    # -- projects ----------------------------------------------------------------------------
    def add_project(
        self,
        name: str,
        filename: str,
        staged_video: Path,
        info: VideoInfo,
        pts_index: np.ndarray,
        thumbnail_jpeg: bytes,
        *,
        distinct_name: bool = False,
        max_projects: int | None = None,
        keyed: KeyedAnswer[Project] | None = None,
    ) -> Project:
        """Move a fully received and probed upload into place, then make it visible. One that
        cannot be stored completely (a full disk) leaves neither files nor a row.

        The limit (ProjectLimit) and `distinct_name` (`clip (2)` when `clip` is taken) are
        checked in the same transaction as the insert, so uploads that arrive together are
        counted and named one at a time. `keyed`: its Idempotency-Key's answer, kept with it."""
        project_id = new_id("p")
        staging = self.tmp_dir / f"{project_id}.dir"
        final = self.project_dir(project_id)
        # A converted upload (an image sequence's .nut) is named by what it now is.
        suffix = staged_video.suffix or source_suffix(filename)
        source = staging / f"source{suffix}"
        try:
            staging.mkdir()
            os.replace(staged_video, source)
            np.save(staging / "frames.npy", pts_index)
            (staging / "thumbnail.jpg").write_bytes(thumbnail_jpeg)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging, final)
            with self._keyed_write(keyed) as (db, keep):
                names = [row[0] for row in db.execute("SELECT name FROM projects")]
                if max_projects is not None and len(names) >= max_projects:
                    raise ProjectLimit(f"the data dir holds its limit of {max_projects} projects")
                name = distinct(name, set(names)) if distinct_name else name
                stamp = now()
                db.execute(
                    "INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?)",
                    (project_id, name, filename, source.name, stamp, json.dumps(info.to_dict())),
                )
                made = self._project(
                    db.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
                )
                keep(made, stamp)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(final, ignore_errors=True)
            raise
        return made

    def _project(self, row: sqlite3.Row) -> Project:
        return Project(
            id=row["id"],
            name=row["name"],
            filename=row["filename"],
            source=self.project_dir(row["id"]) / row["source"],
            created_at=row["created_at"],
            info=VideoInfo(**json.loads(row["info"])),
        )

    def project(self, project_id: str) -> Project:
        with self._read() as db:
            row = db.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
        if row is None:
            raise NotFound(f"project '{project_id}' does not exist")
        return self._project(row)

    def projects(self) -> list[Project]:
        with self._read() as db:
            # Projects made in the same millisecond: the later insert (larger rowid) first.
            rows = db.execute(
                "SELECT * FROM projects ORDER BY created_at DESC, rowid DESC"
            ).fetchall()
        return [self._project(r) for r in rows]

    def rename_project(self, project_id: str, name: str) -> Project:
        with self._write() as db:
            if (
                db.execute("UPDATE projects SET name = ? WHERE id = ?", (name, project_id)).rowcount
                == 0
            ):
                raise NotFound(f"project '{project_id}' does not exist")
        return self.project(project_id)

    def delete_project(self, project_id: str) -> None:
        job_ids = self._on_the_reserve(lambda: self._delete_project_rows(project_id))
        for job_id in job_ids:  # their event streams end now, not at their next re-read
            self.changes.gone(job_id)
        folders = [self.project_dir(project_id)]
        for job_id in job_ids:
            folders += self._job_folders(job_id)
        self._remove_when_free(folders)

    def _delete_project_rows(self, project_id: str) -> list[str]:
        """Delete the project's rows (its objects, points and jobs go with it); its job ids."""
        with self._write() as db:
            # Read in the delete's own write: a job made just before it has its folder removed.
            rows = db.execute("SELECT id FROM jobs WHERE project_id = ?", (project_id,))
            job_ids = [row[0] for row in rows.fetchall()]
            if db.execute("DELETE FROM projects WHERE id = ?", (project_id,)).rowcount == 0:
                raise NotFound(f"project '{project_id}' does not exist")
        return job_ids

    def _job_folders(self, job_id: str) -> list[Path]:
        """A deleted job's folders: its copy of the track's masks, which no download reads,
        before the folder that holds it and the mattes, which the job's downloads read."""
        return [
            self.track_links_dir(job_id),
            self.track_links_dir(job_id, partial=True),
            self.job_dir(job_id),
        ]

    def _remove_when_free(self, folders: list[Path]) -> None:
        """Remove the folders of a deleted project or job, whose rows are gone (rows go first:
        a crash leaves unreachable files, which the next start removes, never rows without
        files): each at once, or, where a download reads it (`lease`), when the last of those
        ends."""
        with self._leases_lock:
            held = [folder for folder in folders if self._leases[folder]]
            self._doomed.update(held)
        free = [folder for folder in folders if folder not in held]
        if free:
            self._remove_files(free)

    def _remove_files(self, folders: list[Path]) -> None:
        """Remove a deleted project's or job's folders, then set the reserve aside again in
        the room they made: the delete may have used it (`_on_the_reserve`), now or, where a
        download held the files back (`lease`), before."""
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        self.keep_reserve()

    def lease(self, project_id: str, job_id: str) -> Callable[[], None]:
        """Keep what a download of the job reads on disk, the project's folder (its source and
        frame times) and the job's (its mattes), until the returned release is called, even
        when the job or the project is deleted meanwhile: the download ends whole instead of
        failing halfway. The project's other jobs are not held: a delete of one of them frees
        its disk space at once. Releasing twice is harmless."""
        folders = [self.project_dir(project_id), self.job_dir(job_id)]
        with self._leases_lock:
            self._leases.update(folders)
        held = [True]

        def release() -> None:
            freed = []
            with self._leases_lock:
                if not held[0]:
                    return
                held[0] = False
                for folder in folders:
                    self._leases[folder] -= 1
                    if self._leases[folder]:
                        continue
                    del self._leases[folder]
                    if folder in self._doomed:
                        self._doomed.remove(folder)
                        freed.append(folder)
            if freed:
                self._remove_files(freed)

        return release

    def pts_index(self, project_id: str) -> np.ndarray:
        with NPY_READS:  # read by a job's thread and a request's at once
            return np.load(self.project_dir(project_id) / "frames.npy")

    # -- objects and points ------------------------------------------------------------------
    def add_object(
        self,
        project_id: str,
        name: str | None,
        color: str | None,
        keyed: KeyedAnswer[dict] | None = None,
    ) -> dict:
        """A new object of the project, its name and colour fresh ones where not given.
        `keyed`: its Idempotency-Key's answer, kept with it."""
        with self._keyed_write(keyed) as (db, keep):
            self._require(db, project_id)
            others = db.execute(
                "SELECT name, color FROM objects WHERE project_id = ?", (project_id,)
            ).fetchall()
            if self.max_objects is not None and len(others) >= self.max_objects:
                raise LimitExceeded(
                    f"a project holds at most {self.max_objects} objects "
                    "(setting VIDMATTE_MAX_OBJECTS): delete one first"
                )
            # Chosen here, in the write, from the whole list: two tabs adding at once, or an
            # add after a delete, still get a name and colour no other object has.
            cur = db.execute(
                "INSERT INTO objects (project_id, name, color) VALUES (?, ?, ?)",
                (
                    project_id,
                    name or fresh_name({r["name"] for r in others}),
                    color or fresh_color([r["color"] for r in others]),
                ),
            )
            made = dict(
                db.execute("SELECT * FROM objects WHERE id = ?", (cur.lastrowid,)).fetchone()
            )
            keep(made, now())
        return made

    def objects(self, project_id: str) -> list[dict]:
        with self._read() as db:
            self._require(db, project_id)
            rows = db.execute(
                "SELECT * FROM objects WHERE project_id = ? ORDER BY id", (project_id,)
            ).fetchall()
        return [dict(r) for r in rows]

    def object(self, project_id: str, object_id: int) -> dict:
        with self._read() as db:
            self._require(db, project_id)
            row = db.execute(
                "SELECT * FROM objects WHERE id = ? AND project_id = ?", (object_id, project_id)
            ).fetchone()
        if row is None:
            raise NotFound(f"object {object_id} does not exist in project '{project_id}'")
        return dict(row)

    def update_object(
        self, project_id: str, object_id: int, name: str | None, color: str | None
    ) -> dict:
        # The fields left out keep their stored values, read in the same write: a rename and a
        # recolour from two tabs at once both stay (neither writes back what it read before).
        with self._write() as db:
            self._require(db, project_id, object_id)
            db.execute(
                "UPDATE objects SET name = COALESCE(?, name), color = COALESCE(?, color) "
                "WHERE id = ?",
                (name, color, object_id),
            )
        return self.object(project_id, object_id)

    def delete_object(self, project_id: str, object_id: int) -> None:
        # Looked for in the delete's own write: one that loses a race with another delete (of
        # the object from another tab, or of its project) is a NotFound, not a silent success.
        def delete() -> None:
            with self._write() as db:
                self._require(db, project_id, object_id)
                db.execute("DELETE FROM objects WHERE id = ?", (object_id,))

        self._on_the_reserve(delete)
        self.keep_reserve()

    def set_points(
        self,
        project_id: str,
        object_id: int,
        frame: int,
        points: list[Point],
        expected: list[Point] | None = None,
    ) -> list[Point]:
        """Replace the object's points on the frame, each click once (`without_repeats`), and
        return them as stored; with `expected`, only if they are still those (PointsChanged
        otherwise: an editor in another tab saved in between)."""
        points = without_repeats(points)
        limit = self.max_points_per_frame
        if limit is not None and len(points) > limit:
            raise LimitExceeded(
                f"{len(points)} points: an object holds at most {limit} points per frame "
                "(setting VIDMATTE_MAX_POINTS_PER_FRAME)"
            )
        with self._write() as db:
            self._require(db, project_id, object_id)
            if expected is not None:
                stored = db.execute(
                    "SELECT x, y, label FROM points WHERE object_id = ? AND frame = ? ORDER BY ord",
                    (object_id, frame),
                ).fetchall()
                # Compared without repeats on either side: an editor keeps the list it sent,
                # repeats and all, and a data dir may hold repeats stored by an older version.
                if without_repeats([Point(*row) for row in stored]) != without_repeats(expected):
                    raise PointsChanged(
                        f"the points of object {object_id} on frame {frame} changed since this "
                        "editor read them (in another tab or window?): reload them and click again"
                    )
            db.execute("DELETE FROM points WHERE object_id = ? AND frame = ?", (object_id, frame))
            db.executemany(
                "INSERT INTO points VALUES (?, ?, ?, ?, ?, ?)",
                [(object_id, frame, i, p.x, p.y, p.label) for i, p in enumerate(points)],
            )
        return points

    def points(self, project_id: str) -> Prompts:
        """Every prompt of a project: (object id, frame) → points, sorted by object and frame."""
        with self._read() as db:
            self._require(db, project_id)
            rows = db.execute(
                "SELECT p.* FROM points p JOIN objects o ON o.id = p.object_id "
                "WHERE o.project_id = ? ORDER BY p.object_id, p.frame, p.ord",
                (project_id,),
            ).fetchall()
        return _group_points(rows)

    @staticmethod
    def _prompts_of(db: sqlite3.Connection, object_ids: list[int], start: int, end: int) -> Prompts:
        """The points of these objects on frames start..end."""
        marks = ", ".join("?" * len(object_ids))
        rows = db.execute(
            f"SELECT * FROM points WHERE object_id IN ({marks}) AND frame BETWEEN ? AND ? "
            "ORDER BY object_id, frame, ord",
            (*object_ids, start, end),
        ).fetchall()
        return _group_points(rows)

    @staticmethod
    def _names_of(db: sqlite3.Connection, object_ids: list[int]) -> dict[int, str]:
        marks = ", ".join("?" * len(object_ids))
        rows = db.execute(f"SELECT id, name FROM objects WHERE id IN ({marks})", object_ids)
        return {r[0]: r[1] for r in rows}

    # -- jobs --------------------------------------------------------------------------------
    def add_job(
        self,
        project_id: str,
        start: int,
        end: int,
        object_ids: list[int],
        edges: str,
        head: str,
        sam2: str,
        export: dict | None = None,
        plate: bool = False,
        keyed: KeyedAnswer[Job] | None = None,
    ) -> Job:
        """A queued job with a snapshot of its objects' prompts and names, the settings it runs
        with and the downloads chosen with it. QueueFull at the limit of waiting jobs;
        PointsChanged when an object has no points in the range, or negative clicks alone (any
        more: the caller looked before this write). `keyed`: its Idempotency-Key's answer, kept
        with it."""
        job_id, stamp = new_id("j"), now()
        with self._keyed_write(keyed) as (db, keep):
            self._require(db, project_id)
            for obj in object_ids:  # one deleted since the caller looked: its 404, not a 409
                self._require(db, project_id, obj)
            self._require_room_in_the_queue(db)
            prompts = self._prompts_of(db, object_ids, start, end)
            prompted = {obj for obj, _ in prompts}
            if gone := [obj for obj in object_ids if obj not in prompted]:
                raise PointsChanged(
                    f"object {gone[0]} has no points in frames {start}..{end} any more (they "
                    "were removed meanwhile, in another tab or window?): click on it again"
                )
            # The route refused negative clicks alone too; a positive click removed since
            # would have the job matte the object as nothing.
            if (blind := unanchored(prompts, object_ids, start, end)) is not None:
                raise PointsChanged(
                    f"object {blind} has only negative clicks in frames {start}..{end} now (its "
                    "positive clicks and box there were removed meanwhile, in another tab or "
                    "window?): add a positive click or a box on it there"
                )
            db.execute(
                'INSERT INTO jobs (id, project_id, status, start, "end", object_ids, '
                "frames_total, created_at, updated_at, prompts, edges, head, sam2, export, "
                "object_names, plate, queue_seq) "
                f"VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {NEXT_IN_QUEUE})",
                (
                    job_id,
                    project_id,
                    start,
                    end,
                    json.dumps(object_ids),
                    end - start + 1,
                    stamp,
                    stamp,
                    _dump_prompts(prompts),
                    edges,
                    head,
                    sam2,
                    json.dumps(export) if export is not None else "",
                    json.dumps(self._names_of(db, object_ids)),
                    int(plate),
                ),
            )
            made = self._job(db.execute(f"{self._JOB_SELECT} WHERE j.id = ?", (job_id,)).fetchone())
            keep(made, stamp)
        return made

    _JOB_SELECT = (
        "SELECT j.*, (SELECT COUNT(*) FROM job_frames f WHERE f.job_id = j.id) AS frames_done "
        "FROM jobs j"
    )

    @staticmethod
    def _job(row: sqlite3.Row) -> Job:
        return Job(
            id=row["id"],
            project_id=row["project_id"],
            status=row["status"],
            start=row["start"],
            end=row["end"],
            object_ids=json.loads(row["object_ids"]),
            frames_done=row["frames_done"],
            frames_total=row["frames_total"],
            fps=row["fps"],
            eta_seconds=row["eta_seconds"],
            error=row["error"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            attempt=row["attempt"],
            version=row["version"],
            prompts=_load_prompts(row["prompts"]),
            edges=row["edges"],
            head=row["head"],
            sam2=row["sam2"],
            plate=bool(row["plate"]),
            used_track=bool(row["used_track"]),
            queue_seq=row["queue_seq"],
            stop=row["stop"],
            export=json.loads(row["export"]) if row["export"] else None,
            object_names={int(obj): name for obj, name in json.loads(row["object_names"]).items()},
        )

    def job(self, job_id: str) -> Job:
        with self._read() as db:
            row = db.execute(f"{self._JOB_SELECT} WHERE j.id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"job '{job_id}' does not exist")
        return self._job(row)

    def jobs(
        self, project_id: str | None = None, status: tuple[str, ...] | None = None
    ) -> list[Job]:
        query, args = f"{self._JOB_SELECT} WHERE 1", []
        if project_id is not None:
            query, args = query + " AND j.project_id = ?", [project_id]
        if status:
            query += f" AND j.status IN ({', '.join('?' * len(status))})"
            args += list(status)
        with self._read() as db:
            # Jobs made in the same millisecond: the later insert (larger rowid) first.
            rows = db.execute(query + " ORDER BY j.created_at DESC, j.rowid DESC", args).fetchall()
        return [self._job(r) for r in rows]

    def _changed(self, job_id: str) -> Job:
        job = self.job(job_id)
        self.changes.publish(job)
        return job

    def transition(
        self,
        job_id: str,
        to: str,
        attempt: int | None = None,
        error: str | None = None,
        stop: StopCause | None = None,
        keyed: KeyedAnswer[Job] | None = None,
    ) -> Job:
        """Move a job to status `to` if its status allows it now (a compare-and-set): the one
        way a job's status changes, setting its `error` and `stop` (Job) anew. With `attempt` (a
        run speaking), only while that run owns the job: it is running under that number.
        Entering `running` starts a new attempt; progress is cleared except a finished job's
        zero ETA. Raises InvalidTransition (or NotFound) and changes nothing otherwise.
        `keyed`: the Idempotency-Key's answer of the request that moves it (a resume), kept
        with the move."""
        if attempt is not None and "running" not in TRANSITIONS[to]:
            raise ValueError(f"a run cannot make its job {to}")
        sources = TRANSITIONS[to] if attempt is None else ("running",)
        query = (
            "UPDATE jobs SET status = ?, error = ?, stop = ?, "
            "fps = CASE WHEN ? = 'done' THEN fps END, "
            "eta_seconds = CASE WHEN ? = 'done' THEN 0.0 END, "
            "attempt = attempt + (? = 'running'), version = version + 1, updated_at = ?, "
            f"queue_seq = CASE WHEN ? = 'queued' THEN {NEXT_IN_QUEUE} ELSE queue_seq END "
            f"WHERE id = ? AND status IN ({', '.join('?' * len(sources))})"
        )
        stamp = now()
        args: list[object] = [to, error, stop, to, to, to, stamp, to, job_id, *sources]
        if attempt is not None:
            query, args = query + " AND attempt = ?", [*args, attempt]
        with self._keyed_write(keyed) as (db, keep):
            if to == "queued":  # a resume: it waits like a new job
                self._require_room_in_the_queue(db)
            moved = db.execute(query, args).rowcount
            # Read in the write: the job as moved, or as it was when it could not be.
            row = db.execute(f"{self._JOB_SELECT} WHERE j.id = ?", (job_id,)).fetchone()
            if row is None:
                raise NotFound(f"job '{job_id}' does not exist")
            job = self._job(row)
            if not moved:
                late = attempt is not None and job.attempt != attempt
                raise InvalidTransition(
                    f"job '{job_id}' is {job.status}"
                    + (" (a later run)" if late else "")
                    + f"; it cannot become {to}"
                )
            keep(job, stamp)
        self.changes.publish(job)
        return job

    def cancel(self, job_id: str) -> Job:
        """`transition` to cancelled, on the reserve when the disk is full: a cancel stops a
        job's writes, and deleting a project cancels its jobs first (`_on_the_reserve`)."""
        job = self._on_the_reserve(lambda: self.transition(job_id, "cancelled"))
        self.keep_reserve()
        return job

    def delete_job(self, job_id: str) -> None:
        """Delete a job's row and its frames' rows, then its folder: its copy of the track's
        masks at once, its mattes once no download of the job reads them (`lease`). On the
        reserve when the disk is full: deleting is how a user makes room. Its event streams end
        at once. A run of it writes nothing after the delete (`save_alpha`); the caller cancels
        an active one first, as a project's delete does (Services.delete_job), so that its
        worker stops at once."""
        self._on_the_reserve(lambda: self._delete_job_row(job_id))
        self.changes.gone(job_id)
        self._remove_when_free(self._job_folders(job_id))

    def _delete_job_row(self, job_id: str) -> None:
        """Delete the job's row (its frames' rows go with it). NotFound for a job unknown or
        deleted meanwhile."""
        with self._write() as db:
            if db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount == 0:
                raise NotFound(f"job '{job_id}' does not exist")

    def owns(self, job_id: str, attempt: int) -> bool:
        """Whether run `attempt` may still act on the job: it is running, under that number."""
        with self._read() as db:
            row = db.execute(
                "SELECT 1 FROM jobs WHERE id = ? AND status = 'running' AND attempt = ?",
                (job_id, attempt),
            ).fetchone()
        return row is not None

    def progress(self, job_id: str, attempt: int, fps: float, eta_seconds: float) -> None:
        """Speed and time left of a running job; ignored once the run no longer owns it."""
        with self._write() as db:
            moved = db.execute(
                "UPDATE jobs SET fps = ?, eta_seconds = ?, version = version + 1, updated_at = ? "
                "WHERE id = ? AND status = 'running' AND attempt = ?",
                (fps, eta_seconds, now(), job_id, attempt),
            ).rowcount
        if moved:
            self._changed(job_id)

    def record_used_track(self, job_id: str, attempt: int, used: bool) -> None:
        """Whether run `attempt` takes its masks from the project's track (jobs/tracks.py);
        ignored once the run no longer owns the job (a queued job's `updated_at` is when it
        was queued: `_migrate` orders an older data dir's queue by it)."""
        with self._write() as db:
            moved = db.execute(
                "UPDATE jobs SET used_track = ?, version = version + 1, updated_at = ? "
                "WHERE id = ? AND status = 'running' AND attempt = ?",
                (int(used), now(), job_id, attempt),
            ).rowcount
        if moved:
            self._changed(job_id)

    def needs_masks(self, job_id: str) -> bool:
        """Whether the job reads its copy of the track's masks again (`NEEDS_MASKS`); False
        for a job deleted meanwhile."""
        with self._read() as db:
            row = db.execute(f"SELECT {NEEDS_MASKS} FROM jobs j WHERE j.id = ?", (job_id,))
            needed = row.fetchone()
        return bool(needed and needed[0])

    def done_frames(self, job_id: str) -> set[int]:
        with self._read() as db:
            rows = db.execute("SELECT frame FROM job_frames WHERE job_id = ?", (job_id,)).fetchall()
        return {r[0] for r in rows}

    def save_alpha(self, job_id: str, attempt: int, frame: int, png: bytes) -> bool:
        """Store a finished frame of run `attempt`, file first, then the row, both under the
        write lock and only while the run owns the job: once a cancel (or a delete) has
        committed, nothing more is written. False when the run no longer owns it. A frame that
        cannot be stored completely (a full disk) leaves neither file nor row."""
        path = self.alpha_path(job_id, frame)
        written = False
        try:
            with self._write() as db:
                owned = db.execute(
                    "SELECT 1 FROM jobs WHERE id = ? AND status = 'running' AND attempt = ?",
                    (job_id, attempt),
                ).fetchone()
                if owned is None:
                    return False
                write_atomic(path, png)
                written = True
                db.execute("INSERT INTO job_frames VALUES (?, ?)", (job_id, frame))
                db.execute(
                    "UPDATE jobs SET version = version + 1, updated_at = ? WHERE id = ?",
                    (now(), job_id),
                )
        except BaseException:
            if written:
                path.unlink(missing_ok=True)
            raise
        return True


def _older_stop(job_id: str, status: str, error: str) -> tuple[StopCause | None, str | None]:
    """How a job stopped and what went wrong, from its error as an older version stored it:
    whole, with what to do, or with why a server with other models would refuse its resume
    after it (`; job '<id>' was made with ...`); a held job's error, which its stop says all
    of, None. The cause None and the error as it is for any other error: it was final."""
    refused = f"; job '{job_id}' was made with "
    if status == "interrupted":
        if error.startswith((f"job '{job_id}' was made with ", f"job '{job_id}' was held by ")):
            return "held_other_models", None
        for begins, cause in _OLDER_INTERRUPTIONS.items():
            if error.startswith(f"{begins}: ") or error.startswith(f"{begins}; "):
                return cause, begins
    else:
        for begins, (cause, advice) in _OLDER_FAILURES.items():
            if not error.startswith(begins):
                continue
            if error.endswith(advice):
                return cause, error.removesuffix(advice)
            if refused in error:
                return cause, error.split(refused)[0]
    return None, error


def _group_points(rows: list[sqlite3.Row]) -> Prompts:
    prompts: Prompts = {}
    for r in rows:
        prompts.setdefault((r["object_id"], r["frame"]), []).append(
            Point(r["x"], r["y"], r["label"])
        )
    return prompts
