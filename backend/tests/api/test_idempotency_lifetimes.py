"""How long an Idempotency-Key stays taken and its answer held, in process over a real store:
a request cancelled while it holds its key (a client gone, a shutdown's deadline) neither
leaves the key taken nor lets a retry make what it made a second time, and answers the
database could not keep do not pile up in memory (api/idempotency.py, store.py)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import Request

from vidmatte import store as store_module
from vidmatte.api.routes import projects
from vidmatte.api.schemas import Object
from vidmatte.config import Settings
from vidmatte.store import Answered, KeyInUse, Store

BOUNDARY = "k3y"
ROUTE = "POST /api/projects"


def upload_request(body: bytes = b"frames") -> Request:
    """A multipart upload of one file, `body`, to POST /api/projects, all of it at once."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    )
    form = head.encode() + body + f"\r\n--{BOUNDARY}--\r\n".encode()
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # a client that sends nothing more
        sent = True
        return {"type": "http.request", "body": form, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/projects",
        "query_string": b"",
        "headers": [
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            (b"content-length", str(len(form)).encode()),
        ],
    }
    return Request(scope, receive)


def held(store: Store, key: str, within: float = 5.0) -> Answered | None:
    """`key`'s answer once no request holds it (its thread's work done), None when it is free;
    fails when the key is still taken after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            return store.key_answer(key)
        except KeyInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def blocked(method: Callable[..., Any], started: threading.Event, go_on: threading.Event):
    """`method`, which tells `started` once it has run and then waits for `go_on`: a thread the
    request's cancellation lands on."""

    def run(*args: Any) -> Any:
        result = method(*args)
        started.set()
        assert go_on.wait(10)
        return result

    return run


async def cancel_when(task: asyncio.Task[Any], started: threading.Event) -> None:
    while not started.is_set():
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_an_upload_cancelled_as_it_takes_its_key_lets_the_key_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled while the thread that takes the key runs: the thread takes it all the same,
    and nothing let it go. Every retry was a 409 "still being answered" until a restart."""
    store = Store(tmp_path / "data")
    started, go_on = threading.Event(), threading.Event()
    monkeypatch.setattr(store, "claim_key", blocked(store.claim_key, started, go_on))
    s = SimpleNamespace(store=store, settings=Settings())

    async def main() -> None:
        task = asyncio.create_task(projects.create_project_once(upload_request(), "k", s))
        await cancel_when(task, started)
        go_on.set()
        # Free once its thread has taken it, the server running on: the retry runs.
        assert await asyncio.to_thread(held, store, "k") is None

    asyncio.run(main())
    store.close()


def test_an_upload_cancelled_while_its_project_is_made_answers_its_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled while the thread that makes the project runs: the thread makes it all the
    same. The key was let go at the cancellation, so a retry made a second project (and the
    first one's answer was never kept)."""
    store = Store(tmp_path / "data")
    started, go_on = threading.Event(), threading.Event()
    made = Object(id=1, project_id="p_1", name="a", color="#ffffff")

    def add_upload(_: object, upload: Any, keying: object) -> Object:
        upload.path.unlink()
        return made

    monkeypatch.setattr(projects, "add_upload", blocked(add_upload, started, go_on))
    s = SimpleNamespace(store=store, settings=Settings())

    async def main() -> None:
        task = asyncio.create_task(projects.create_project_once(upload_request(), "k", s))
        await cancel_when(task, started)
        with pytest.raises(KeyInUse):  # its project is still being made
            store.key_answer("k")
        go_on.set()

    asyncio.run(main())
    answered = held(store, "k")
    assert answered is not None
    assert (answered.route, answered.status, answered.body) == (ROUTE, 201, made.model_dump_json())
    assert list(store.tmp_dir.iterdir()) == []
    store.close()


def test_an_upload_cancelled_while_its_body_comes_in_lets_its_key_go(tmp_path: Path) -> None:
    """Nothing is made before the body is in: the retry runs."""
    store = Store(tmp_path / "data")
    s = SimpleNamespace(store=store, settings=Settings())
    request = upload_request()

    async def never() -> dict[str, Any]:
        await asyncio.Event().wait()
        raise AssertionError

    request._receive = never

    async def main() -> None:
        task = asyncio.create_task(projects.create_project_once(request, "k", s))
        while "k" not in store._keys_in_flight:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # receiving now
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert held(store, "k", within=0) is None
    store.close()


def test_an_upload_cancelled_midway_leaves_no_temporary_file(tmp_path: Path) -> None:
    """Cancelled (a shutdown's deadline) after part of its file came in: the part written went
    only at the next start-up, its file still open."""
    store = Store(tmp_path / "data")
    s = SimpleNamespace(store=store, settings=Settings())
    request = upload_request(b"x" * 100_000)
    whole = request._receive
    calls = 0

    async def part_then_nothing() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls > 1:
            await asyncio.Event().wait()
        message = await whole()
        return {**message, "body": message["body"][:60_000], "more_body": True}

    request._receive = part_then_nothing

    async def main() -> None:
        task = asyncio.create_task(projects.create_project_once(request, "k", s))
        while not any(store.tmp_dir.iterdir()) or calls < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # waiting for the rest now
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert list(store.tmp_dir.iterdir()) == []
    store.close()


def full(*_: object) -> None:
    raise sqlite3.OperationalError("database or disk is full")


class Clock:
    """The store's clock (store.now, store.ago), set by hand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.at = datetime(2026, 1, 1, tzinfo=UTC)
        monkeypatch.setattr(store_module, "now", lambda: self.ago(0))
        monkeypatch.setattr(store_module, "ago", self.ago)

    def ago(self, seconds: float) -> str:
        return (self.at - timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def test_answers_the_database_could_not_keep_are_kept_by_its_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each answer a full disk kept from the database was held in memory for the life of the
    process, whether or not its key was asked for again: one more per failed write."""
    store = Store(tmp_path / "data")
    write = store._write
    monkeypatch.setattr(store, "_write", full)
    for key in ("a", "b"):
        assert store.claim_key(key, "POST /x") is None
        with pytest.raises(sqlite3.OperationalError):
            store.answer_key(key, Answered("POST /x", f"print-{key}", 201, "{}"))
    monkeypatch.setattr(store, "_write", write)  # room again
    assert store.claim_key("c", "POST /x") is None
    store.answer_key("c", Answered("POST /x", "print-c", 201, "{}"))
    assert store._answers_unkept == {}
    with closing(sqlite3.connect(tmp_path / "data" / "vidmatte.db")) as db:
        kept = db.execute("SELECT key, fingerprint FROM idempotency_keys ORDER BY key").fetchall()
    assert kept == [("a", "print-a"), ("b", "print-b"), ("c", "print-c")]
    store.close()
    store = Store(tmp_path / "data")  # a restart replays them too
    assert store.claim_key("a", "POST /x") == Answered("POST /x", "print-a", 201, "{}")
    store.close()


def test_answers_held_in_memory_expire_with_the_retention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A held answer past the retention went only when its own key was asked for again."""
    clock = Clock(monkeypatch)
    store = Store(tmp_path / "data", idempotency_seconds=60)
    monkeypatch.setattr(store, "_write", full)
    for key in ("a", "b"):
        assert store.claim_key(key, "POST /x") is None
        with pytest.raises(sqlite3.OperationalError):
            store.answer_key(key, Answered("POST /x", "print", 201, "{}"))
    assert store.key_answer("a") == Answered("POST /x", "print", 201, "{}")
    clock.at += timedelta(seconds=60)
    assert store.claim_key("c", "POST /x") is None  # another key: a and b have expired
    assert store._answers_unkept == {}
    assert store.key_answer("a") is None
    store.close()


@pytest.mark.parametrize("retention", [0, 60])
@pytest.mark.parametrize("unkept", [False, True])
def test_a_key_expires_once_its_age_is_the_retention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, retention: int, unkept: bool
) -> None:
    """Kept while younger than the retention, not at it: VIDMATTE_IDEMPOTENCY_HOURS=0 keeps a
    key only while its request runs (docs/API.md), where a retry within the same millisecond
    got the answer again. The same for an answer held in memory (`unkept`)."""
    clock = Clock(monkeypatch)
    store = Store(tmp_path / "data", idempotency_seconds=retention)
    assert store.claim_key("k", "POST /x") is None
    answered = Answered("POST /x", "print", 201, "{}")
    if unkept:
        monkeypatch.setattr(store, "_write", full)
        with pytest.raises(sqlite3.OperationalError):
            store.answer_key("k", answered)
    else:
        store.answer_key("k", answered)
    if retention:
        clock.at += timedelta(seconds=retention - 0.001)
        assert store.key_answer("k") == answered
        clock.at += timedelta(seconds=0.001)
    assert store.key_answer("k") is None
    store.close()
