"""The store on its own: the job state machine (compare-and-set in SQLite), the job's snapshot of
its prompts and settings, the data-dir lock, plain reads, and pushed job changes."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.npy_loads import InFlight
from tests.waiting import wait_until
from vidmatte.api import schemas
from vidmatte.jobs.runner import InProcessRunner, end_in_store, hold_other_models, waiting
from vidmatte.jobs.stops import shown_error
from vidmatte.matte.infer import Matter
from vidmatte.matte.weights import random_head
from vidmatte.media.video import VideoInfo
from vidmatte.segment.models import build_predictor
from vidmatte.segment.session import Segmenter
from vidmatte.store import (
    ACTIVE,
    SCHEMA_VERSION,
    BadDataDir,
    DataDirInUse,
    InvalidTransition,
    LimitExceeded,
    NotFound,
    Point,
    PointsChanged,
    Store,
    split_box,
    wrong_corners,
)

INFO = VideoInfo(
    width=96,
    height=64,
    fps=24.0,
    frame_count=12,
    duration=0.5,
    rotation=0,
    codec="h264",
    has_audio=False,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "data")
    yield s
    s.close()


def new_job(store: Store, tmp_path: Path) -> str:
    staged = store.tmp_dir / "upload"
    staged.write_bytes(b"video")
    project = store.add_project("p", "p.mp4", staged, INFO, np.arange(12), b"jpeg")
    obj = store.add_object(project.id, None, None)["id"]
    store.set_points(project.id, obj, 3, [Point(10, 20, "positive")])
    return store.add_job(project.id, 0, 5, [obj], edges="fast", head="head-v1", sam2="test-tiny").id


def test_job_states_change_only_along_allowed_transitions(store: Store, tmp_path: Path) -> None:
    jid = new_job(store, tmp_path)
    with pytest.raises(InvalidTransition, match=r"job '.*' is queued; it cannot become done"):
        store.transition(jid, "done", attempt=0)
    run = store.transition(jid, "running")
    assert run.status == "running" and run.attempt == 1
    assert store.transition(jid, "cancelled").status == "cancelled"
    assert store.transition(jid, "queued").status == "queued"  # resume
    # The first run's late report must not overwrite the resume.
    with pytest.raises(InvalidTransition):
        store.transition(jid, "cancelled", attempt=1)
    with pytest.raises(InvalidTransition):
        store.transition(jid, "failed", attempt=1, error="late")
    assert store.job(jid).status == "queued"
    second = store.transition(jid, "running")
    assert second.attempt == 2
    with pytest.raises(InvalidTransition):  # the first run no longer owns the job
        store.transition(jid, "done", attempt=1)
    assert store.transition(jid, "done", attempt=2).status == "done"
    with pytest.raises(InvalidTransition, match="is done"):
        store.transition(jid, "queued")


def test_a_run_writes_frames_only_while_it_owns_the_job(store: Store, tmp_path: Path) -> None:
    jid = new_job(store, tmp_path)
    attempt = store.transition(jid, "running").attempt
    assert store.save_alpha(jid, attempt, 0, b"png0")
    store.transition(jid, "cancelled")
    assert not store.save_alpha(jid, attempt, 1, b"png1")
    assert store.done_frames(jid) == {0}
    assert sorted(p.name for p in store.alpha_path(jid, 0).parent.iterdir()) == ["000000.png"]


def test_a_job_keeps_the_prompts_and_settings_it_was_made_with(
    store: Store, tmp_path: Path
) -> None:
    jid = new_job(store, tmp_path)
    job = store.job(jid)
    obj = job.object_ids[0]
    store.set_points(job.project_id, obj, 3, [Point(1, 1, "negative")])
    store.set_points(job.project_id, obj, 4, [Point(2, 2, "positive")])
    again = store.job(jid)
    assert again.prompts == {(obj, 3): [Point(10, 20, "positive")]}
    assert (again.edges, again.head) == ("fast", "head-v1")


def test_a_job_stored_before_edge_adjustments_reads_them_as_off(store: Store) -> None:
    """The export JSON of a job made by an older version lacks shift_edge, feather and
    reduce_chatter."""
    staged = store.tmp_dir / "upload"
    staged.write_bytes(b"video")
    project = store.add_project("p", "p.mp4", staged, INFO, np.arange(12), b"jpeg")
    obj = store.add_object(project.id, None, None)["id"]
    store.set_points(project.id, obj, 3, [Point(10, 20, "positive")])
    older = {"formats": ["exr"], "background": "00ff00", "fg": None, "mattes": "objects"}
    job = store.add_job(project.id, 0, 5, [obj], edges="", head="", sam2="", export=older)
    export = schemas.Job.of(store.job(job.id), "head-v1", "test-tiny", resumable=False).export
    assert export is not None and (export.shift_edge, export.feather) == (0, 0)
    assert export.reduce_chatter is False
    assert export.model_dump() == {**older, "shift_edge": 0, "feather": 0, "reduce_chatter": False}


def test_jobs_of_an_older_data_dir_get_their_objects_names_of_the_upgrade(
    tmp_path: Path,
) -> None:
    """A data dir from before jobs kept their objects' names: each job gets the names its
    objects have when the new version opens it, and keeps them from then on."""
    store = Store(tmp_path / "data")
    jid = new_job(store, tmp_path)
    job = store.job(jid)
    obj = job.object_ids[0]
    assert job.object_names == {obj: "Object 1"}
    store.update_object(job.project_id, obj, "renamed", None)
    store.close()
    db = sqlite3.connect(tmp_path / "data" / "vidmatte.db")
    db.execute("ALTER TABLE jobs DROP COLUMN object_names")
    db.close()
    store = Store(tmp_path / "data")
    store.update_object(job.project_id, obj, "later", None)
    assert store.job(jid).object_names == {obj: "renamed"}
    store.close()


def _older_data_dir(data: Path, drop: list[str], made_at: str | None = None) -> None:
    """Make `data` as a version before these job columns left it; its jobs made at `made_at`."""
    with closing(sqlite3.connect(data / "vidmatte.db")) as db, db:
        for column in drop:
            db.execute(f"ALTER TABLE jobs DROP COLUMN {column}")
        if made_at is not None:
            db.execute("UPDATE jobs SET created_at = ?", (made_at,))


@pytest.mark.parametrize("plate", [True, False])
def test_jobs_of_an_older_data_dir_get_the_plate_setting_of_the_server_that_upgrades_it(
    tmp_path: Path, plate: bool
) -> None:
    """A data dir from the versions that had the background plate setting but kept it with no
    job: each job gets the setting of the server that opens it (the one it most likely ran
    with), and keeps it through later restarts with another setting; the API says which."""
    store = Store(tmp_path / "data")
    jid = new_job(store, tmp_path)
    store.close()
    _older_data_dir(tmp_path / "data", ["plate"], "2026-12-01T10:00:00.000+00:00")
    store = Store(tmp_path / "data", plate=plate)
    assert store.job(jid).plate is plate
    store.close()
    store = Store(tmp_path / "data", plate=not plate)
    assert schemas.Job.of(store.job(jid), "head-v1", "test-tiny", resumable=False).plate is plate
    store.close()


@pytest.mark.parametrize(
    ("drop", "made_at"),
    [
        (["plate"], "2026-11-29T10:00:00.000+00:00"),  # made before plates existed
        (["used_track", "plate"], None),  # last opened by a version before plates
    ],
)
def test_jobs_made_before_the_background_plate_existed_keep_it_off(
    tmp_path: Path, drop: list[str], made_at: str | None
) -> None:
    """A job made by a version without the background plate was matted without one: a server
    with the plate on upgraded it to "on", so its resume matted the rest with a plate and the
    start without. It stays off, under any server."""
    store = Store(tmp_path / "data")
    jid = new_job(store, tmp_path)
    store.close()
    _older_data_dir(tmp_path / "data", drop, made_at)
    store = Store(tmp_path / "data", plate=True)
    assert store.job(jid).plate is False
    store.close()


def test_a_job_from_before_plates_that_an_upgrade_gave_one_gets_it_off_again(
    tmp_path: Path,
) -> None:
    """A data dir already upgraded by a version that gave every older job the server's plate
    setting: a job made before plates existed gets it off at the next start (its first run had
    none); one made since keeps its own."""
    store = Store(tmp_path / "data")
    old, new = new_job(store, tmp_path), new_job(store, tmp_path)
    store.close()
    with closing(sqlite3.connect(tmp_path / "data" / "vidmatte.db")) as db, db:
        db.execute("UPDATE jobs SET plate = 1")
        db.execute(
            "UPDATE jobs SET created_at = '2026-11-28T08:00:00.000+00:00' WHERE id = ?", (old,)
        )
    store = Store(tmp_path / "data", plate=True)
    assert (store.job(old).plate, store.job(new).plate) == (False, True)
    store.close()


def test_jobs_of_an_older_data_dir_get_the_edge_mode_of_the_server_that_upgrades_it(
    tmp_path: Path,
) -> None:
    """Jobs of the first release kept no edge mode (''): each ran with the edge mode of the
    server of the day, so a restart with another mode changed a job's mattes midway. Each now
    gets the mode of the server that opens it, and keeps it through later restarts; a store
    opened without a mode (a tool that runs no job) leaves it for the next server."""
    store = Store(tmp_path / "data")
    jid = new_job(store, tmp_path)
    store.close()
    with closing(sqlite3.connect(tmp_path / "data" / "vidmatte.db")) as db, db:
        db.execute("UPDATE jobs SET edges = ''")
    store = Store(tmp_path / "data")
    assert store.job(jid).edges == ""
    store.close()
    store = Store(tmp_path / "data", edges="none")
    assert store.job(jid).edges == "none"
    store.close()
    store = Store(tmp_path / "data", edges="best")
    assert schemas.Job.of(store.job(jid), "head-v1", "test-tiny", resumable=False).edges == "none"
    store.close()


def _user_version(db: Path, set_to: int | None = None) -> int:
    with closing(sqlite3.connect(db)) as conn:
        if set_to is not None:
            conn.execute(f"PRAGMA user_version = {set_to}")
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_a_database_without_a_version_is_upgraded_and_keeps_its_jobs(tmp_path: Path) -> None:
    """A data dir made before the schema was versioned (user_version 0) opens as before and
    is marked with the current version; a new one is marked at once."""
    store = Store(tmp_path / "data")
    jid = new_job(store, tmp_path)
    store.close()
    db = tmp_path / "data" / "vidmatte.db"
    assert _user_version(db) == SCHEMA_VERSION
    _user_version(db, set_to=0)
    store = Store(tmp_path / "data")
    assert store.job(jid).status == "queued"
    store.close()
    assert _user_version(db) == SCHEMA_VERSION


def test_a_project_stored_before_timecodes_were_read_loads_without_one(store: Store) -> None:
    staged = store.tmp_dir / "upload"
    staged.write_bytes(b"video")
    info = replace(INFO, timecode="01:00:00:00")
    project = store.add_project("p", "p.mp4", staged, info, np.arange(12), b"jpeg")
    assert store.project(project.id).info.timecode == "01:00:00:00"
    old = {k: v for k, v in info.to_dict().items() if k != "timecode"}  # as older versions wrote
    with closing(sqlite3.connect(store.data_dir / "vidmatte.db")) as db, db:
        db.execute("UPDATE projects SET info = ? WHERE id = ?", (json.dumps(old), project.id))
    assert store.project(project.id).info == INFO


def test_a_database_of_a_newer_vidmatte_is_refused_and_touches_nothing(tmp_path: Path) -> None:
    """Opened by older code, a newer version's database would get rows that version does not
    expect: it is refused, naming the file, and nothing in the data dir changes."""
    data = tmp_path / "data"
    store = Store(data)
    jid = new_job(store, tmp_path)
    store.close()
    db = data / "vidmatte.db"
    _user_version(db, set_to=SCHEMA_VERSION + 1)
    (data / "tmp" / "in-flight").write_bytes(b"half")
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    with pytest.raises(BadDataDir, match=f"the database {db} was written by a newer vidmatte"):
        Store(data)
    after = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    assert {p: b for p, b in after.items() if p.name != "vidmatte.lock"} == {
        p: b for p, b in before.items() if p.name != "vidmatte.lock"
    }
    _user_version(db, set_to=SCHEMA_VERSION)  # the lock was let go: it opens once downgraded
    store = Store(data)
    assert store.job(jid).status == "queued"
    store.close()


def test_a_restart_lets_go_of_the_masks_that_no_resume_reads(store: Store, tmp_path: Path) -> None:
    """Only a job whose stored frames were matted from the track reads its copy of the
    track's masks again (jobs/tracks.py `job_masks`); the copies of the others (stopped before
    their first frame, or matted by SAM2) stayed on the disk for good, however often the
    track was redone since."""
    kept, unmatted, by_sam2 = (new_job(store, tmp_path) for _ in range(3))
    for job_id, used, frames in ((kept, True, 1), (unmatted, True, 0), (by_sam2, False, 1)):
        attempt = store.transition(job_id, "running").attempt
        store.record_used_track(job_id, attempt, used)
        for frame in range(frames):
            assert store.save_alpha(job_id, attempt, frame, b"png")
        store.transition(job_id, "cancelled")
        store.track_links_dir(job_id).mkdir(parents=True)
        (store.track_links_dir(job_id) / "000000-1.png").write_bytes(b"mask")
    store.close()

    reopened = Store(tmp_path / "data")
    try:
        assert [reopened.track_links_dir(j).exists() for j in (kept, unmatted, by_sam2)] == [
            True,
            False,
            False,
        ]
        assert reopened.done_frames(kept) == reopened.done_frames(by_sam2) == {0}
    finally:
        reopened.close()


def test_a_download_holds_back_only_the_files_it_reads(store: Store, tmp_path: Path) -> None:
    """A job's download reads the project's source and the job's mattes (`Store.lease`): the
    files of the project's other jobs, deleted meanwhile, waited for it too (the lease was the
    project's), and so did the job's copy of the track's masks, which it does not read. They
    go at once; what it reads goes when it ends."""
    downloaded = new_job(store, tmp_path)
    pid = store.job(downloaded).project_id
    obj = store.objects(pid)[0]["id"]
    other, third = (
        store.add_job(pid, 0, 5, [obj], edges="fast", head="head-v1", sam2="test-tiny").id
        for _ in range(2)
    )
    for job_id in (downloaded, other, third):
        attempt = store.transition(job_id, "running").attempt
        assert store.save_alpha(job_id, attempt, 3, b"png")
        store.track_links_dir(job_id).mkdir()
    release = store.lease(pid, downloaded)
    store.delete_job(other)
    assert not store.job_dir(other).exists()
    store.delete_job(downloaded)
    assert not store.track_links_dir(downloaded).exists()
    assert store.alpha_path(downloaded, 3).read_bytes() == b"png"
    store.delete_project(pid)
    assert not store.job_dir(third).exists()
    assert (store.project_dir(pid) / "frames.npy").is_file()
    release()
    assert not store.job_dir(downloaded).exists()
    assert not store.project_dir(pid).exists()
    release()  # twice is harmless


def test_limits_are_refused_before_anything_is_stored(store: Store, tmp_path: Path) -> None:
    jid = new_job(store, tmp_path)
    pid = store.job(jid).project_id
    store.max_objects = 2
    store.add_object(pid, None, None)
    with pytest.raises(LimitExceeded, match="at most 2 objects"):
        store.add_object(pid, None, None)
    assert len(store.objects(pid)) == 2


def test_a_killed_jobs_links_to_the_track_stay_when_the_data_dir_opens(
    store: Store, tmp_path: Path
) -> None:
    """A job reading the project's track holds hard links to its masks (jobs/tracks.py) until
    its last frame is stored: a kill leaves them, and they stay, as its resume reads them (its
    first frames were matted from them); a copy a kill left half made goes, and so does a done
    job's. The job's frames stay."""
    jid, done = new_job(store, tmp_path), new_job(store, tmp_path)
    attempt = store.transition(jid, "running").attempt
    store.record_used_track(jid, attempt, True)
    assert store.save_alpha(jid, attempt, 0, b"png0")
    store.transition(done, "running")
    store.transition(done, "done", attempt=1)
    for job_id in (jid, done):
        for partial in (False, True):
            links = store.track_links_dir(job_id, partial)
            links.mkdir(parents=True)
            (links / "000000-1.png").write_bytes(b"mask")
    store.close()

    reopened = Store(tmp_path / "data")
    try:
        assert (reopened.track_links_dir(jid) / "000000-1.png").read_bytes() == b"mask"
        assert not reopened.track_links_dir(jid, partial=True).exists()
        assert not reopened.track_links_dir(done).exists()
        assert not reopened.track_links_dir(done, partial=True).exists()
        assert reopened.done_frames(jid) == {0}
        assert reopened.alpha_path(jid, 0).read_bytes() == b"png0"
    finally:
        reopened.close()


def test_a_second_store_on_the_data_dir_is_refused_and_touches_nothing(
    store: Store, tmp_path: Path
) -> None:
    jid = new_job(store, tmp_path)
    in_flight = store.tmp_dir / "in-flight"
    in_flight.write_bytes(b"half")
    store.transition(jid, "running")
    with pytest.raises(DataDirInUse, match=f"is in use by PID {os.getpid()}"):
        Store(store.data_dir)
    assert in_flight.read_bytes() == b"half"
    assert store.job(jid).status == "running"
    store.close()
    Store(store.data_dir).close()  # free again once the first is closed


def test_reads_take_no_write_lock(store: Store, tmp_path: Path) -> None:
    jid = new_job(store, tmp_path)
    writer = sqlite3.connect(store.data_dir / "vidmatte.db", timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        store.busy_timeout = 0.2  # a read that waited for the writer would fail at once
        assert store.job(jid).status == "queued"
        assert len(store.projects()) == 1
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_job_changes_are_pushed_to_listeners(store: Store, tmp_path: Path) -> None:
    jid = new_job(store, tmp_path)

    async def listen() -> list[str]:
        seen = []
        with store.changes.subscribe(jid) as changes:
            threading.Thread(target=lambda: store.transition(jid, "running")).start()
            seen.append((await asyncio.wait_for(changes.next(), 10)).status)
            threading.Thread(target=lambda: store.transition(jid, "cancelled")).start()
            seen.append((await asyncio.wait_for(changes.next(), 10)).status)
        return seen

    assert asyncio.run(listen()) == ["running", "cancelled"]


def test_a_restart_queues_a_resumed_job_behind_those_waiting_before_its_resume(
    store: Store, tmp_path: Path
) -> None:
    """As the running server's queue has it (jobs/runner.py WaitingLine): the oldest job,
    cancelled and resumed after another was queued, waits behind that one and ahead of one
    made after its resume, whatever its cancelled run says late."""
    first, second = new_job(store, tmp_path), new_job(store, tmp_path)
    attempt = store.transition(first, "running").attempt
    store.transition(first, "cancelled")
    time.sleep(0.01)  # the stamps are in milliseconds
    store.transition(first, "queued")
    time.sleep(0.01)
    third = new_job(store, tmp_path)
    time.sleep(0.01)
    store.record_used_track(first, attempt, True)  # the cancelled run, late
    assert [job.id for job in waiting(store)] == [second, first, third]
    assert not store.job(first).used_track


def test_a_restart_queues_jobs_made_in_the_same_millisecond_in_the_order_they_came(
    store: Store, tmp_path: Path
) -> None:
    """The stamps are in milliseconds: jobs queued within one (a script's burst, a resume
    at the instant of a new job) came back from a restart in any order, the newest often
    first."""
    made = [new_job(store, tmp_path) for _ in range(4)]
    jobs = made[1:]
    resumed = made[0]
    store.transition(resumed, "cancelled")
    store.transition(resumed, "queued")
    jobs.append(resumed)  # behind those queued before its resume
    with closing(sqlite3.connect(tmp_path / "data" / "vidmatte.db")) as db, db:
        db.execute("UPDATE jobs SET created_at = '2026-01-01', updated_at = '2026-01-01'")
    assert [job.id for job in waiting(store)] == jobs
    assert [job.id for job in store.jobs()] == made[::-1]  # newest first


def test_projects_made_in_the_same_millisecond_are_listed_newest_first(store: Store) -> None:
    """The stamps are in milliseconds: within one, projects were listed by their random ids."""
    made = []
    for name in "abcd":
        staged = store.tmp_dir / "upload"
        staged.write_bytes(b"video")
        made.append(store.add_project(name, "p.mp4", staged, INFO, np.arange(12), b"jpeg").id)
    with closing(sqlite3.connect(store.data_dir / "vidmatte.db")) as db, db:
        db.execute("UPDATE projects SET created_at = '2026-01-01'")
    assert [p.id for p in store.projects()] == made[::-1]


def test_jobs_of_an_older_data_dir_keep_their_queue_order(tmp_path: Path) -> None:
    """A data dir from before jobs kept their place in the queue: they wait in the order
    they were queued, ahead of the jobs queued after the upgrade."""
    store = Store(tmp_path / "data")
    first, second = new_job(store, tmp_path), new_job(store, tmp_path)
    store.close()
    with closing(sqlite3.connect(tmp_path / "data" / "vidmatte.db")) as db, db:
        db.execute("ALTER TABLE jobs DROP COLUMN queue_seq")
        db.execute("UPDATE jobs SET updated_at = '2026-01-02' WHERE id = ?", (first,))
        db.execute("UPDATE jobs SET updated_at = '2026-01-01' WHERE id = ?", (second,))
    store = Store(tmp_path / "data")
    try:
        third = new_job(store, tmp_path)
        assert [job.id for job in waiting(store)] == [second, first, third]
    finally:
        store.close()


def test_a_restart_with_other_models_tells_interrupted_jobs_their_resume_is_refused(
    store: Store, tmp_path: Path
) -> None:
    """A job interrupted by a shutdown said "resume it to matte the rest" after a restart with
    another matting head, whose resume is refused (409). It now gives the refusal's reason;
    back on its own models, it says to resume again, as does a job held from the queue. What
    is stored does not change with the server's models: only the held job's status does."""
    stopped, held = new_job(store, tmp_path), new_job(store, tmp_path)
    end_in_store(store, store.transition(stopped, "running"), "interrupted", stop="shutdown")
    shut_down = "the server was shut down while this job ran"

    def served(job_id: str, head: str) -> str | None:
        return schemas.Job.of(store.job(job_id), head, "test-tiny", resumable=False).error

    hold_other_models(store, "head-v1", "test-tiny")  # its own models: nothing changes
    assert served(stopped, "head-v1") == f"{shut_down}: resume it to matte the rest"
    assert store.job(held).status == "queued"
    stored = store.job(stopped)
    hold_other_models(store, "head-v2", "test-tiny")
    other = "was made with the matting head 'head-v1', this server runs 'head-v2': start a new job"
    assert served(stopped, "head-v2") == f"{shut_down}; job '{stopped}' {other}"
    assert (store.job(held).status, served(held, "head-v2")) == (
        "interrupted",
        f"job '{held}' {other}",
    )
    hold_other_models(store, "head-v2", "test-tiny")  # restarted again: said alike
    assert served(held, "head-v2") == f"job '{held}' {other}"
    hold_other_models(store, "head-v1", "test-tiny")
    assert served(stopped, "head-v1") == f"{shut_down}: resume it to matte the rest"
    assert served(held, "head-v1") == (
        f"job '{held}' was held by a server that ran other models than its own: resume it "
        "to matte the rest"
    )
    assert store.job(stopped) == stored


def test_the_worker_says_whether_it_runs_and_survives_a_failing_job(
    store: Store, tmp_path: Path
) -> None:
    """What /api/health reports (503 once the worker is not running): a job that fails (its
    video vanished) leaves the worker running, and a stopped worker says so."""
    segmenter = Segmenter(build_predictor("test-tiny", tmp_path / "ck"), "test-tiny")
    runner = InProcessRunner(store, segmenter, Matter(random_head()))
    runner.start()
    try:
        jid = new_job(store, tmp_path)
        store.project(store.job(jid).project_id).source.unlink()
        runner.submit(jid)
        assert wait_until(lambda: store.job(jid).status not in ACTIVE, 60, every=0.05)
        assert store.job(jid).status == "failed"
        assert runner.alive()
    finally:
        runner.stop()
    assert not runner.alive()


def test_a_job_made_as_its_object_is_deleted_is_a_404_naming_it(
    store: Store, tmp_path: Path
) -> None:
    """The route looks for the object and its points, then the store writes the job: an object
    deleted in between was called a removal of its points (409, "click on it again": on an
    object that is gone), where docs/API.md promises a delete's 404."""
    job = store.job(new_job(store, tmp_path))
    obj = job.object_ids[0]
    store.delete_object(job.project_id, obj)
    with pytest.raises(
        NotFound, match=rf"^object {obj} does not exist in project '{job.project_id}'$"
    ):
        store.add_job(job.project_id, 0, 5, [obj], edges="fast", head="h", sam2="test-tiny")
    assert [j.id for j in store.jobs(job.project_id)] == [job.id]


def test_a_rename_and_a_recolour_from_two_tabs_both_stay(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PATCH wrote the fields it was not sent back as it had read them: a recolour from another
    tab landing between a rename's read and write was undone by it (a lost update)."""
    job = store.job(new_job(store, tmp_path))
    pid, obj = job.project_id, job.object_ids[0]
    read = store.object

    def recoloured_meanwhile(project_id: str, object_id: int) -> dict:
        seen = read(project_id, object_id)
        monkeypatch.setattr(store, "object", read)
        store.update_object(project_id, object_id, None, "#123456")  # the other tab
        return seen

    monkeypatch.setattr(store, "object", recoloured_meanwhile)
    store.update_object(pid, obj, "dog", None)
    assert {k: v for k, v in store.object(pid, obj).items() if k in ("name", "color")} == {
        "name": "dog",
        "color": "#123456",
    }


def test_a_job_made_as_its_objects_last_positive_click_goes_is_refused(
    store: Store, tmp_path: Path
) -> None:
    """The route refuses an object with negative clicks only, then the store writes the job: a
    positive click removed in between (another tab) let a job through that mattes nothing."""
    job = store.job(new_job(store, tmp_path))
    pid, obj = job.project_id, job.object_ids[0]
    store.set_points(pid, obj, 3, [Point(1, 1, "negative")])  # the other tab, meanwhile
    with pytest.raises(PointsChanged) as refused:
        store.add_job(pid, 0, 5, [obj], edges="fast", head="h", sam2="test-tiny")
    assert str(refused.value) == (
        f"object {obj} has only negative clicks in frames 0..5 now (its positive clicks and box "
        "there were removed meanwhile, in another tab or window?): add a positive click or a "
        "box on it there"
    )
    assert [j.id for j in store.jobs(pid)] == [job.id]


def test_a_repeated_click_is_stored_once_and_takes_one_place(tmp_path: Path) -> None:
    """The limit counts the clicks stored, not the entries sent."""
    limited = Store(tmp_path / "limited", max_points_per_frame=2)
    try:
        staged = limited.tmp_dir / "upload"
        staged.write_bytes(b"video")
        project = limited.add_project("p", "p.mp4", staged, INFO, np.arange(12), b"jpeg")
        obj = limited.add_object(project.id, None, None)["id"]
        a, b = Point(10, 20, "positive"), Point(5, 5, "negative")
        limited.set_points(project.id, obj, 0, [a, b, a])
        assert limited.points(project.id) == {(obj, 0): [a, b]}
        # Corners are left to split_box: two at one spot are a degenerate box, not one corner.
        corner = Point(1, 1, "box")
        limited.set_points(project.id, obj, 1, [corner, corner])
        assert limited.points(project.id)[(obj, 1)] == [corner, corner]
        # A repeat an older version stored: an edit that began from either list goes through.
        with closing(sqlite3.connect(tmp_path / "limited" / "vidmatte.db")) as db, db:
            db.execute("INSERT INTO points VALUES (?, 2, 0, 10, 20, 'positive')", (obj,))
            db.execute("INSERT INTO points VALUES (?, 2, 1, 10, 20, 'positive')", (obj,))
        limited.set_points(project.id, obj, 2, [b], expected=[a])
        assert limited.points(project.id)[(obj, 2)] == [b]
    finally:
        limited.close()


def test_an_object_delete_that_loses_a_race_with_its_projects_is_a_404(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delete looked for the object, then deleted it by id in a later write: a delete of
    the project (or of the object, from another tab) landing in between was answered 204."""
    job = store.job(new_job(store, tmp_path))
    pid, obj = job.project_id, job.object_ids[0]
    write = store._write

    @contextmanager
    def project_deleted_meanwhile() -> Iterator[sqlite3.Connection]:
        monkeypatch.setattr(store, "_write", write)
        store.delete_project(pid)  # the other tab
        with write() as db:
            yield db

    monkeypatch.setattr(store, "_write", project_deleted_meanwhile)
    with pytest.raises(NotFound, match=rf"^project '{pid}' does not exist$"):
        store.delete_object(pid, obj)


def test_stopped_jobs_of_an_older_data_dir_tell_what_they_told_and_follow_the_models(
    tmp_path: Path,
) -> None:
    """A data dir from before jobs kept how they stopped, its errors stored whole by servers
    with one matting head or another: each job tells what it told on a server with the models
    that wrote it, and what to do on one with the other; an error that promised no resume
    stays as it is, on any server."""
    store = Store(tmp_path / "data")
    ids = [new_job(store, tmp_path) for _ in range(8)]
    store.close()
    other = "was made with the matting head 'head-v1', this server runs 'head-v2': start a new job"
    resume = "resume it to matte the rest"
    crash = "the server stopped while this job ran (a crash or a kill)"
    shutdown = "the server was shut down while this job ran"
    held = "was held by a server that ran other models than its own"
    died = "the worker running the job died 3 times (setting VIDMATTE_RAY_MAX_RETRIES)"
    full = "not enough disk space in the data dir"
    # (status, error, the head of the server that wrote it, the stop cause it has now)
    older = [
        ("interrupted", f"{crash}: {resume}", "head-v1", "crash"),
        ("interrupted", f"{shutdown}; job '{ids[1]}' {other}", "head-v2", "shutdown"),
        ("interrupted", f"job '{ids[2]}' {other}", "head-v2", "held_other_models"),
        ("interrupted", f"job '{ids[3]}' {held}: {resume}", "head-v1", "held_other_models"),
        ("failed", f"{full}: free some space, then resume the job", "head-v1", "disk_full"),
        ("failed", f"{died}; job '{ids[5]}' {other}", "head-v2", "worker_died"),
        ("failed", "frame 3 cannot be decoded (the file is damaged there)", "head-v1", None),
        ("cancelled", None, "head-v1", None),
    ]
    with closing(sqlite3.connect(tmp_path / "data" / "vidmatte.db")) as db, db:
        for jid, (status, error, _, _) in zip(ids, older, strict=True):
            db.execute("UPDATE jobs SET status = ?, error = ? WHERE id = ?", (status, error, jid))
        db.execute("ALTER TABLE jobs DROP COLUMN stop")
        db.execute("PRAGMA user_version = 1")
    store = Store(tmp_path / "data")
    try:
        jobs = [store.job(jid) for jid in ids]
        assert [job.stop for job in jobs] == [stop for *_, stop in older]
        as_before = [
            (shown_error(job, head, "test-tiny"), error)
            for job, (_, error, head, _) in zip(jobs, older, strict=True)
        ]
        assert [shown for shown, _ in as_before] == [error for _, error in as_before]
        assert [shown_error(job, "head-v1", "test-tiny") for job in jobs[1:3]] == [
            f"{shutdown}: {resume}",
            f"job '{ids[2]}' {held}: {resume}",
        ]
        assert [shown_error(job, "head-v2", "test-tiny") for job in (jobs[0], jobs[6])] == [
            f"{crash}; job '{ids[0]}' {other}",
            older[6][1],
        ]
        assert [job.status for job in jobs] == [status for status, *_ in older]
    finally:
        store.close()


@pytest.mark.parametrize(
    "labels, wrong",
    [
        ([], None),
        (["positive", "negative"], None),
        (["box", "positive", "box"], None),
        (["box"], 1),
        (["box", "box", "box"], 3),
        (["box", "box", "box", "box"], 4),  # two --box of one object on one frame (the CLI)
    ],
)
def test_one_box_per_object_and_frame_is_one_rule(labels: list[str], wrong: int | None) -> None:
    """The API (split_box) and the CLI (--box) each counted a frame's box corners their own
    way: both now take the count from `wrong_corners`, and word it their own way."""
    points = [Point(i, 2 * i, label) for i, label in enumerate(labels)]
    assert wrong_corners(points) == wrong
    if wrong is not None:
        with pytest.raises(ValueError, match=f"one box per object and frame\\): got {wrong}$"):
            split_box(points)


def test_frame_indexes_read_in_threads_parse_one_npy_header_at_a_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job opening its reader while a request opens another reads the project's frame index
    (frames.npy) in two threads. numpy parses its header with ast.literal_eval, which CPython
    3.11 cannot run in two threads at once (python/cpython#106905; train/dataset.py met it):
    the reads go one at a time. Each load is slowed so that two in flight would be seen."""
    staged = store.tmp_dir / "upload"
    staged.write_bytes(b"video")
    project = store.add_project("p", "p.mp4", staged, INFO, np.arange(12), b"jpeg")
    loads = InFlight(monkeypatch)
    indexes: list[np.ndarray] = []
    threads = [
        threading.Thread(target=lambda: indexes.append(store.pts_index(project.id)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(indexes) == 4 and all(np.array_equal(i, np.arange(12)) for i in indexes)
    assert loads.most == 1
