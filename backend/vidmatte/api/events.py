"""Server-Sent Events that follow one thing (a job, a track) until it stops changing.

`event: progress` carries its JSON whenever it changes. Changes are pushed (jobs/events.py);
when none comes for a while (another process may have changed it), or its delete is pushed,
the stream reads the thing itself, and sse-starlette's comments keep idle connections open. A
stream ends when the thing reaches a final state, or the server shuts down (so Ctrl+C never
waits on it), or with `event: deleted` when the thing is deleted: while its delete is under
way, the states it passes through (a job's cancel) are not sent, as they are not its last.
"""

from __future__ import annotations

import asyncio
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TypeVar

import anyio
from sse_starlette import EventSourceResponse

from vidmatte.jobs.events import Subscription
from vidmatte.store import NotFound

# How long an event stream has to end by itself at shutdown before it is cut.
SHUTDOWN_GRACE_SECONDS = 2.0

T = TypeVar("T")


def follow(
    subscribe: Callable[[], AbstractContextManager[Subscription]],
    read: Callable[[], T],
    to_json: Callable[[T], str],
    finished: Callable[[T], bool],
    deleted: str,
    wait: float,
) -> EventSourceResponse:
    """Stream `read()`'s value as it changes: `subscribe()` gives its pushed changes, `read` (run
    in a thread) the current value or NotFound, `to_json` (in a thread) its JSON or NotFound,
    `finished` whether it can change no more, `deleted` the data of the last event once it is
    gone, `wait` the seconds between pings and re-reads."""
    shutdown = anyio.Event()  # set by sse-starlette when the server shuts down

    async def stream():
        stop = asyncio.ensure_future(shutdown.wait())
        change: asyncio.Future | None = None
        try:
            with subscribe() as changes:
                value, last = await asyncio.to_thread(read), None
                changes.saw(value)
                while True:
                    if not changes.deleting:  # else its delete's end is next: wait for it
                        snapshot = await asyncio.to_thread(to_json, value)
                        if snapshot != last:
                            last = snapshot
                            yield {"event": "progress", "data": snapshot}
                        if finished(value):
                            return
                    change = asyncio.ensure_future(changes.next())
                    await asyncio.wait({change, stop}, timeout=wait, return_when=FIRST_COMPLETED)
                    if stop.done():
                        return  # the stream ends cleanly, so that the shutdown goes on
                    if change.done() and (pushed := change.result()) is not None:
                        value = pushed
                        continue
                    change.cancel()  # a ping's re-read, or a delete's (`gone`)
                    value = await asyncio.to_thread(read)
                    changes.saw(value)
        except NotFound:  # found by a read, or by `to_json` (a track's reads its project)
            yield {"event": "deleted", "data": deleted}
        finally:
            for task in (stop, change):
                if task is not None:
                    task.cancel()

    return EventSourceResponse(
        stream(),
        ping=wait,
        headers={"Cache-Control": "no-cache"},
        shutdown_event=shutdown,
        shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
    )
