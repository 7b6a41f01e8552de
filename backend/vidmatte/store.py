"""Persistent state: SQLite for metadata, the data directory for media.

Layout of the data directory:
    vidmatte.db                      projects, objects, points, jobs, finished job frames
    projects/<pid>/source<.ext>      the uploaded video, untouched
    projects/<pid>/frames.npy        presentation timestamps, one per frame (see media.video)
    projects/<pid>/thumbnail.jpg
    jobs/<jid>/alpha/<frame>.png     8-bit alpha per finished frame
    tmp/                             uploads in flight; emptied at start-up

Every file lands by rename from a temporary file, and a project's row is inserted only after its
files are complete, so a crash never leaves a half-written project visible.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from vidmatte.media.video import VideoInfo

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
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS job_frames (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE, frame INTEGER NOT NULL,
    PRIMARY KEY (job_id, frame)
);
"""

PALETTE = ("#22c55e", "#3b82f6", "#f97316", "#e11d48", "#a855f7", "#eab308", "#14b8a6", "#ec4899")
ACTIVE = ("queued", "running")
TERMINAL = ("done", "failed", "cancelled", "interrupted")


class NotFound(LookupError):
    """An id that does not exist; the message names it."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


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
    label: str  # "positive" | "negative"

    @property
    def positive(self) -> bool:
        return self.label == "positive"


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


class Store:
    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        # Uploads that were in flight when the process died are garbage now.
        for leftover in self.tmp_dir.iterdir():
            shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink()
        with closing(sqlite3.connect(self.data_dir / "vidmatte.db")) as db:
            db.executescript(SCHEMA)  # executescript manages its own transaction
        self._collect_garbage()

    def _collect_garbage(self) -> None:
        """Remove what a crash can leave behind: folders of projects and jobs that have no row
        (killed between moving a project into place and inserting its row, or while deleting
        one) and half-written files of `write_atomic`. Rows always point at complete files."""
        with self._db() as db:
            projects = {r[0] for r in db.execute("SELECT id FROM projects")}
            jobs = {r[0] for r in db.execute("SELECT id FROM jobs")}
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

    # -- paths -------------------------------------------------------------------------------
    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    def project_dir(self, project_id: str) -> Path:
        return self.data_dir / "projects" / project_id

    def job_dir(self, job_id: str) -> Path:
        return self.data_dir / "jobs" / job_id

    def alpha_path(self, job_id: str, frame: int) -> Path:
        return self.job_dir(job_id) / "alpha" / f"{frame:06d}.png"

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per unit of work: safe across threads and processes.
        db = sqlite3.connect(self.data_dir / "vidmatte.db", timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = WAL")
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    # -- projects ----------------------------------------------------------------------------
    def add_project(
        self,
        name: str,
        filename: str,
        staged_video: Path,
        info: VideoInfo,
        pts_index: np.ndarray,
        thumbnail_jpeg: bytes,
    ) -> Project:
        """Move a fully received and probed upload into place, then make it visible."""
        project_id = new_id("p")
        staging = self.tmp_dir / f"{project_id}.dir"
        staging.mkdir()
        source = staging / f"source{Path(filename).suffix.lower()[:10] or '.mp4'}"
        os.replace(staged_video, source)
        np.save(staging / "frames.npy", pts_index)
        (staging / "thumbnail.jpg").write_bytes(thumbnail_jpeg)
        final = self.project_dir(project_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, final)
        created = now()
        with self._db() as db:
            db.execute(
                "INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?)",
                (project_id, name, filename, source.name, created, json.dumps(info.to_dict())),
            )
        return self.project(project_id)

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
        with self._db() as db:
            row = db.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
        if row is None:
            raise NotFound(f"project '{project_id}' does not exist")
        return self._project(row)

    def projects(self) -> list[Project]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM projects ORDER BY created_at DESC, id").fetchall()
        return [self._project(r) for r in rows]

    def rename_project(self, project_id: str, name: str) -> Project:
        with self._db() as db:
            if (
                db.execute("UPDATE projects SET name = ? WHERE id = ?", (name, project_id)).rowcount
                == 0
            ):
                raise NotFound(f"project '{project_id}' does not exist")
        return self.project(project_id)

    def delete_project(self, project_id: str) -> None:
        job_ids = [j.id for j in self.jobs(project_id)]
        with self._db() as db:
            if db.execute("DELETE FROM projects WHERE id = ?", (project_id,)).rowcount == 0:
                raise NotFound(f"project '{project_id}' does not exist")
        # Rows go first: a crash here leaves unreachable files, never rows without files.
        shutil.rmtree(self.project_dir(project_id), ignore_errors=True)
        for job_id in job_ids:
            shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def pts_index(self, project_id: str) -> np.ndarray:
        return np.load(self.project_dir(project_id) / "frames.npy")

    # -- objects and points ------------------------------------------------------------------
    def add_object(self, project_id: str, name: str | None, color: str | None) -> dict:
        self.project(project_id)
        with self._db() as db:
            count = db.execute(
                "SELECT COUNT(*) FROM objects WHERE project_id = ?", (project_id,)
            ).fetchone()[0]
            cur = db.execute(
                "INSERT INTO objects (project_id, name, color) VALUES (?, ?, ?)",
                (project_id, name or f"Object {count + 1}", color or PALETTE[count % len(PALETTE)]),
            )
            object_id = cur.lastrowid
        return self.object(project_id, object_id)

    def objects(self, project_id: str) -> list[dict]:
        self.project(project_id)
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM objects WHERE project_id = ? ORDER BY id", (project_id,)
            ).fetchall()
        return [dict(r) for r in rows]

    def object(self, project_id: str, object_id: int) -> dict:
        self.project(project_id)
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM objects WHERE id = ? AND project_id = ?", (object_id, project_id)
            ).fetchone()
        if row is None:
            raise NotFound(f"object {object_id} does not exist in project '{project_id}'")
        return dict(row)

    def update_object(
        self, project_id: str, object_id: int, name: str | None, color: str | None
    ) -> dict:
        current = self.object(project_id, object_id)
        with self._db() as db:
            db.execute(
                "UPDATE objects SET name = ?, color = ? WHERE id = ?",
                (name or current["name"], color or current["color"], object_id),
            )
        return self.object(project_id, object_id)

    def delete_object(self, project_id: str, object_id: int) -> None:
        self.object(project_id, object_id)
        with self._db() as db:
            db.execute("DELETE FROM objects WHERE id = ?", (object_id,))

    def set_points(self, project_id: str, object_id: int, frame: int, points: list[Point]) -> None:
        self.object(project_id, object_id)
        with self._db() as db:
            db.execute("DELETE FROM points WHERE object_id = ? AND frame = ?", (object_id, frame))
            db.executemany(
                "INSERT INTO points VALUES (?, ?, ?, ?, ?, ?)",
                [(object_id, frame, i, p.x, p.y, p.label) for i, p in enumerate(points)],
            )

    def points(self, project_id: str) -> dict[tuple[int, int], list[Point]]:
        """Every prompt of a project: (object id, frame) → points, sorted by object and frame."""
        self.project(project_id)
        with self._db() as db:
            rows = db.execute(
                "SELECT p.* FROM points p JOIN objects o ON o.id = p.object_id "
                "WHERE o.project_id = ? ORDER BY p.object_id, p.frame, p.ord",
                (project_id,),
            ).fetchall()
        prompts: dict[tuple[int, int], list[Point]] = {}
        for r in rows:
            prompts.setdefault((r["object_id"], r["frame"]), []).append(
                Point(r["x"], r["y"], r["label"])
            )
        return prompts

    # -- jobs --------------------------------------------------------------------------------
    def add_job(self, project_id: str, start: int, end: int, object_ids: list[int]) -> Job:
        job_id, stamp = new_id("j"), now()
        with self._db() as db:
            db.execute(
                "INSERT INTO jobs VALUES (?, ?, 'queued', ?, ?, ?, ?, NULL, NULL, NULL, ?, ?)",
                (
                    job_id,
                    project_id,
                    start,
                    end,
                    json.dumps(object_ids),
                    end - start + 1,
                    stamp,
                    stamp,
                ),
            )
        return self.job(job_id)

    def _job(self, db: sqlite3.Connection, row: sqlite3.Row) -> Job:
        done = db.execute(
            "SELECT COUNT(*) FROM job_frames WHERE job_id = ?", (row["id"],)
        ).fetchone()[0]
        return Job(
            id=row["id"],
            project_id=row["project_id"],
            status=row["status"],
            start=row["start"],
            end=row["end"],
            object_ids=json.loads(row["object_ids"]),
            frames_done=done,
            frames_total=row["frames_total"],
            fps=row["fps"],
            eta_seconds=row["eta_seconds"],
            error=row["error"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def job(self, job_id: str) -> Job:
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise NotFound(f"job '{job_id}' does not exist")
            return self._job(db, row)

    def jobs(
        self, project_id: str | None = None, status: tuple[str, ...] | None = None
    ) -> list[Job]:
        query, args = "SELECT * FROM jobs WHERE 1", []
        if project_id is not None:
            query, args = query + " AND project_id = ?", [project_id]
        if status:
            query += f" AND status IN ({', '.join('?' * len(status))})"
            args += list(status)
        with self._db() as db:
            rows = db.execute(query + " ORDER BY created_at DESC, id", args).fetchall()
            return [self._job(db, r) for r in rows]

    def update_job(self, job_id: str, **fields: object) -> Job:
        allowed = {"status", "fps", "eta_seconds", "error"}
        assert set(fields) <= allowed, set(fields) - allowed
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._db() as db:
            db.execute(
                f"UPDATE jobs SET {sets}, updated_at = ? WHERE id = ?",
                (*fields.values(), now(), job_id),
            )
        return self.job(job_id)

    def done_frames(self, job_id: str) -> set[int]:
        with self._db() as db:
            rows = db.execute("SELECT frame FROM job_frames WHERE job_id = ?", (job_id,)).fetchall()
        return {r[0] for r in rows}

    def load_alpha(self, job_id: str, frame: int) -> np.ndarray:
        """A finished frame's 8-bit alpha, (H, W) uint8."""
        with Image.open(self.alpha_path(job_id, frame)) as image:
            return np.asarray(image.convert("L"))

    def save_alpha(self, job_id: str, frame: int, png: bytes) -> None:
        """File first, then the row: a frame counts as done only once its file is complete."""
        write_atomic(self.alpha_path(job_id, frame), png)
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO job_frames VALUES (?, ?)", (job_id, frame))
            db.execute("UPDATE jobs SET updated_at = ? WHERE id = ?", (now(), job_id))
