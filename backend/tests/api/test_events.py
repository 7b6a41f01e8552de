"""An event stream on its own, against the real store: it ends, without an error, when the thing
it follows is deleted, whichever of its reads finds it gone, and it never goes back to a state
older than one it has sent. Over HTTP these are races (a project deleted mid-track, a change
pushed while a stream starts) that a test cannot time."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from vidmatte.api.events import follow
from vidmatte.jobs.events import JobChanges
from vidmatte.media.video import VideoInfo
from vidmatte.store import TERMINAL, Point, Store

INFO = VideoInfo(96, 64, 24.0, 12, 0.5, 0, "h264", False)
DELETED = json.dumps({"id": "gone"})  # the data of a stream's last event, once its thing is gone


@dataclass(frozen=True)
class Change:  # what JobChanges pushes: a state of the thing followed
    id: str
    version: int


def points_project(tmp_path: Path) -> tuple[Store, str]:
    store = Store(tmp_path / "data")
    staged = store.tmp_dir / "upload"
    staged.write_bytes(b"video")
    pid = store.add_project("p", "p.mp4", staged, INFO, np.arange(12), b"jpeg").id
    obj = store.add_object(pid, None, None)["id"]
    store.set_points(pid, obj, 3, [Point(10, 20, "positive")])
    return store, pid


def events(
    store: Store, pid: str, changes: JobChanges, on_event: Callable[[], None] = lambda: None
) -> list[dict]:
    """The stream's events until it ends (the data of each, with its name). Like a track's, each
    carries what it reads of the project's points (a track's `stale`); `on_event` runs after
    each `progress` one."""

    def current() -> Change:
        store.project(pid)  # NotFound once deleted
        return Change(pid, 0)

    def to_json(change: Change) -> str:
        return json.dumps({"version": change.version, "points": len(store.points(pid))})

    async def read() -> list[dict]:
        response = follow(
            lambda: changes.subscribe(pid),
            current,
            to_json,
            lambda _change: False,
            DELETED,
            wait=60,  # no re-read: only what is pushed and serialised
        )
        seen = []
        async for event in response.body_iterator:
            seen.append({"event": event["event"], **json.loads(event["data"])})
            if event["event"] == "progress":
                await asyncio.to_thread(on_event)
        return seen

    return asyncio.run(asyncio.wait_for(read(), 10))


def test_a_stream_ends_when_a_pushed_change_finds_its_project_deleted(tmp_path: Path) -> None:
    """The last change (a track halted by the project's delete) is serialised after the
    project has gone."""
    store, pid = points_project(tmp_path)
    changes = JobChanges()

    def delete_then_push() -> None:
        store.delete_project(pid)
        changes.publish(Change(pid, 1))

    try:
        assert events(store, pid, changes, delete_then_push) == [
            {"event": "progress", "version": 0, "points": 1},
            {"event": "deleted", "id": "gone"},
        ]
    finally:
        store.close()


def test_a_stream_of_a_project_deleted_before_its_first_read_ends(tmp_path: Path) -> None:
    """The route found the project; it was deleted before the stream read it."""
    store, pid = points_project(tmp_path)
    store.delete_project(pid)
    try:
        assert events(store, pid, JobChanges()) == [{"event": "deleted", "id": "gone"}]
    finally:
        store.close()


def test_a_change_older_than_the_streams_own_read_is_not_sent(tmp_path: Path) -> None:
    """A publisher reads a job's state (version 1) and the stream, subscribed just before, reads
    a newer one (2, a frame finished meanwhile) before version 1 reaches it: the stream goes on
    from 2. Sending 1 after 2 would take a job's frames_done and progress backwards."""
    changes = JobChanges()

    def current() -> Change:
        changes.publish(Change("j", 1))  # delivered to the stream after this read returns
        return Change("j", 2)

    async def read() -> list[int]:
        response = follow(
            lambda: changes.subscribe("j"),
            current,
            lambda change: json.dumps({"version": change.version}),
            lambda change: change.version >= 3,
            DELETED,
            wait=60,
        )
        seen = []
        async for event in response.body_iterator:
            seen.append(json.loads(event["data"])["version"])
            if len(seen) == 1:  # the job's next change, a while later
                asyncio.get_running_loop().call_later(0.2, changes.publish, Change("j", 3))
        return seen

    assert asyncio.run(asyncio.wait_for(read(), 10)) == [2, 3]


def test_a_job_stream_ends_as_soon_as_its_project_is_deleted(tmp_path: Path) -> None:
    """A delete changes no job's state, so it pushed nothing: a stream following a job that
    the delete did not cancel first (one made as the project was deleted) went on until its
    next re-read, VIDMATTE_EVENT_PING_SECONDS later."""
    ended: list[float] = []

    def delete(store: Store, jid: str) -> None:
        store.delete_project(store.job(jid).project_id)
        ended.append(time.monotonic())

    seen = job_events_around(tmp_path, delete)
    after = time.monotonic() - ended[0]
    assert seen == [("progress", {"status": "queued"}), ("deleted", {"id": "gone"})]
    assert after < 2, f"the stream ended {after:.1f} s after the delete"


def job_events_around(tmp_path: Path, change: Callable[[Store, str], None]) -> list[tuple]:
    """A queued job's events (name, data) until its stream ends; `change` runs, in a thread,
    once the first has come."""
    store, pid = points_project(tmp_path)
    obj = store.objects(pid)[0]["id"]
    jid = store.add_job(pid, 0, 5, [obj], edges="fast", head="h", sam2="test-tiny").id

    async def read() -> list[tuple]:
        response = follow(
            lambda: store.changes.subscribe(jid),
            lambda: store.job(jid),
            lambda job: json.dumps({"status": job.status}),
            lambda job: job.status in TERMINAL,
            DELETED,
            wait=60,
        )
        seen = []
        async for event in response.body_iterator:
            seen.append((event["event"], json.loads(event["data"])))
            if len(seen) == 1:
                await asyncio.to_thread(change, store, jid)
        return seen

    try:
        return asyncio.run(asyncio.wait_for(read(), 10))
    finally:
        store.close()


def test_the_cancel_that_a_delete_begins_with_is_not_sent(tmp_path: Path) -> None:
    """Sent, `cancelled` would be the stream's last event, and the job resumable: a client
    would offer a resume of a job about to go."""

    def cancel_then_delete(store: Store, jid: str) -> None:
        with store.changes.being_deleted([jid]):
            store.cancel(jid)
            time.sleep(0.2)  # the cancel reaches the stream
            store.delete_job(jid)

    assert job_events_around(tmp_path, cancel_then_delete) == [
        ("progress", {"status": "queued"}),
        ("deleted", {"id": "gone"}),
    ]


def test_a_failed_delete_sends_the_state_it_left(tmp_path: Path) -> None:
    """The job stays, cancelled: its stream ends at that, not waiting on a delete that is over."""

    def cancel_then_fail(store: Store, jid: str) -> None:
        with pytest.raises(OSError), store.changes.being_deleted([jid]):
            store.cancel(jid)
            time.sleep(0.2)  # the cancel reaches the stream
            raise OSError("disk full")

    assert job_events_around(tmp_path, cancel_then_fail) == [
        ("progress", {"status": "queued"}),
        ("progress", {"status": "cancelled"}),
    ]


def test_a_delete_told_while_a_stream_reads_still_ends_it() -> None:
    """The stream's own read found the job, then the delete's word came: the read is older
    than the delete, so the word stands (taken as old news, the stream would wait for its next
    re-read)."""
    changes = JobChanges()

    async def next_after_read() -> Change | None:
        with changes.subscribe("j") as subscription:
            read = Change("j", 1)  # the stream's read, before the delete
            changes.gone("j")
            await asyncio.sleep(0.05)  # the word reaches the stream's loop
            subscription.saw(read)
            return await subscription.next()

    assert asyncio.run(asyncio.wait_for(next_after_read(), 2)) is None
