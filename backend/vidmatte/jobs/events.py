"""Job changes pushed to the event streams that follow them, instead of each stream polling.

The store publishes every new state of a job (from the worker thread or a request thread); each
subscriber, an asyncio task, keeps only the newest one, so a slow stream skips states, never
falls behind. A delete carries no new state: it tells subscribers to read the job again
(`gone`), which ends their streams at once. While a delete is under way (`deleting`), its
cancel is no state to show: streams wait for the delete's end. Changes made by another process
are not seen here: streams re-read the job when they have heard nothing for a while
(routes/jobs.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vidmatte.store import Job


class Subscription:
    def __init__(self, loop: asyncio.AbstractEventLoop, deleting: Callable[[], bool]):
        self._loop = loop
        self._deleting = deleting
        self._ready = asyncio.Event()
        self._latest: Job | None = None
        self._reread = False  # the thing was deleted: `next` says to read it (NotFound)

    def _deliver(self, job: Job) -> None:  # on the subscriber's loop
        # Publishers race (a cancel and the worker's last progress): keep the newest state.
        if self._latest is None or job.version > self._latest.version:
            self._latest = job
            self._ready.set()

    def _deliver_reread(self) -> None:  # on the subscriber's loop
        self._reread = True
        self._ready.set()

    def put(self, job: Job) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody listens any more
            self._loop.call_soon_threadsafe(self._deliver, job)

    def reread(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._deliver_reread)

    def saw(self, job: Job) -> None:
        """The subscriber read `job` itself: changes pushed before its read are old news, even
        when they arrive after it (a publisher reads the state it pushes before the
        subscriber's read may read a newer one)."""
        if self._latest is None or job.version >= self._latest.version:
            self._latest = job
            if not self._reread:  # a delete after the read: the read did not find it gone
                self._ready.clear()

    @property
    def deleting(self) -> bool:
        """The thing is being deleted (JobChanges.deleting): what it is now goes with it."""
        return self._deleting()

    async def next(self) -> Job | None:
        """The newest state not yet returned, or None when the subscriber must read the thing
        itself (it was deleted); waits for one."""
        await self._ready.wait()
        self._ready.clear()
        if self._reread:
            self._reread = False
            return None
        assert self._latest is not None
        return self._latest


class JobChanges:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscription]] = {}
        self._deleting: Counter[str] = Counter()

    def publish(self, job: Job) -> None:
        with self._lock:
            subscribers = list(self._subscribers.get(job.id, ()))
        for subscription in subscribers:
            subscription.put(job)

    def gone(self, job_id: str) -> None:
        """The job was deleted: its streams read it, find it gone and end, instead of waiting
        for their next re-read."""
        with self._lock:
            subscribers = list(self._subscribers.get(job_id, ()))
        for subscription in subscribers:
            subscription.reread()

    @contextmanager
    def being_deleted(self, job_ids: Iterable[str]) -> Iterator[None]:
        """While the jobs are deleted: the delete cancels an active one first, and a stream that
        ended at that `cancelled` would offer a resume of a job about to go. Their streams wait
        for the delete's end instead; then they read each job again, and end as deleted, or,
        when the delete failed, go on from what they read."""
        ids = list(job_ids)
        with self._lock:
            self._deleting.update(ids)
        try:
            yield
        finally:
            with self._lock:
                for job_id in ids:
                    self._deleting[job_id] -= 1
                    if not self._deleting[job_id]:
                        del self._deleting[job_id]
            for job_id in ids:
                self.gone(job_id)

    def deleting(self, job_id: str) -> bool:
        """Whether a delete of the job is under way (`being_deleted`)."""
        with self._lock:
            return self._deleting[job_id] > 0

    @contextmanager
    def subscribe(self, job_id: str) -> Iterator[Subscription]:
        """Changes of one job, for the running asyncio task."""
        subscription = Subscription(asyncio.get_running_loop(), lambda: self.deleting(job_id))
        with self._lock:
            self._subscribers.setdefault(job_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                subscribers = self._subscribers[job_id]
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[job_id]
