"""Job runners. The API talks to the `JobRunner` interface; `InProcessRunner` is the default,
a single worker thread, so one job uses the GPU at a time and the rest wait in a queue.

All job state lives in the store (SQLite) and changes only by `Store.transition`: a runner moves
queued jobs to running and running ones to done, failed or interrupted, each run under its own
attempt number; cancel and resume are the user's moves. A restarted process finds what was
running marked `interrupted`, with its finished frames intact (or `done` when they are all
there). `RayRunner` (ray_runner.py) takes the same interface on a Ray cluster, its workers
streaming frames to this process's store.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
from collections.abc import Callable, Container, Iterator
from typing import Generic, Protocol, TypeVar

from vidmatte.errors import describe
from vidmatte.jobs.pipeline import Progress, Stopped, finished, matter_for, run_job
from vidmatte.jobs.stops import WHAT, other_models
from vidmatte.jobs.tracks import MasksGone, forget_masks, masks_gone
from vidmatte.matte.infer import Matter
from vidmatte.segment.session import Segmenter
from vidmatte.store import (
    ACTIVE,
    InvalidTransition,
    Job,
    NotFound,
    StopCause,
    Store,
    is_disk_full,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class JobRunner(Protocol):
    def start(self) -> None:
        """End the jobs a dead process left running (`recover`), queue the queued ones."""

    def submit(self, job_id: str) -> None:
        """Run a queued job when a worker is free."""

    def cancel(self, job_id: str) -> Job:
        """Cancel an active job (at once: its run writes nothing more); others are returned."""

    def stop(self) -> None:
        """Stop within seconds; a job still running becomes `interrupted`."""

    def alive(self) -> bool:
        """Whether queued jobs will run."""

    def masks_gone(self, job: Job, done: Container[int]) -> str | None:
        """MasksGone's message when a run of `job` here, with these frames stored, would fail
        with it at once, else None: a resume is refused up front (routes/jobs.py)."""


def recover(store: Store) -> None:
    """At start, before a runner takes the queue: the jobs a dead process left running end
    `interrupted` by a crash, except those whose frames were all stored before it died, which
    end `done`: their result is whole, and a resume would have nothing to do. (What their error
    tells to do depends on the models this server runs: jobs/stops.py.)"""
    for job in store.jobs(status=("running",)):
        if finished(job, store.done_frames(job.id)):
            end_in_store(store, job, "done")
            forget_masks(store, job.id)
        else:
            end_in_store(store, job, "interrupted", stop="crash")


def hold_other_models(store: Store, head: str, sam2: str) -> None:
    """At start, before a runner takes the queue: queued jobs made with another matting head or
    SAM2 are interrupted, held, instead of run: their frames would mix two models' mattes (a
    resume is refused likewise). Their error, as every stopped job's, names the reason on this
    server and tells to resume on one with their models (jobs/stops.py)."""
    for job in store.jobs(status=("queued",)):
        if other_models(job, head, sam2) is not None:
            with contextlib.suppress(NotFound, InvalidTransition):
                store.transition(job.id, "interrupted", stop="held_other_models")


def waiting(store: Store) -> list[Job]:
    """The queued jobs in the order they joined the queue, for a runner's start: a resumed job
    by its resume, not by when it was made, so a restart keeps it behind the jobs that were
    waiting before it; jobs queued in the same millisecond in the order they came."""
    return sorted(store.jobs(status=("queued",)), key=lambda job: job.queue_seq)


def cancel_in_store(store: Store, job_id: str) -> Job:
    """Cancel an active job in the store (its run then writes nothing more); a job that has
    ended, or ends meanwhile, is returned as it is."""
    job = store.job(job_id)
    if job.status in ACTIVE:
        try:
            job = store.cancel(job_id)
        except InvalidTransition:
            job = store.job(job_id)  # it ended meanwhile
    return job


def end_in_store(
    store: Store,
    job: Job,
    status: str,
    stop: StopCause | None = None,
    error: str | None = None,
) -> None:
    """End this run of `job` (its attempt) as `status`, stopped by `stop` (what went wrong: the
    stop's own words, unless `error` says it); a cancel, resume or delete that came meanwhile
    stands."""
    if error is None and stop is not None:
        error = WHAT[stop]
    with contextlib.suppress(NotFound, InvalidTransition):
        store.transition(job.id, status, attempt=job.attempt, error=error, stop=stop)


def fail_in_store(store: Store, job: Job, exc: BaseException) -> None:
    """End this run of `job` as failed, with `exc` told as users may see it (`describe`); a
    full disk is a stop a resume may mend once there is room; MasksGone says it all itself."""
    if isinstance(exc, MasksGone):
        log.error("job %s failed: %s", job.id, exc)
        end_in_store(store, job, "failed", error=str(exc))
        return
    log.error("job %s failed: %s", job.id, exc, exc_info=exc)
    if is_disk_full(exc):
        store.release_reserve()  # room to record the failure
        end_in_store(store, job, "failed", stop="disk_full")
    else:
        end_in_store(store, job, "failed", error=describe(exc))


def progress_reporter(store: Store, job: Job) -> Callable[[Progress], None]:
    """What a run calls with its frames/s and time left: stored under its attempt."""

    def report(p: Progress) -> None:
        store.progress(job.id, job.attempt, p.fps, p.eta_seconds)

    return report


class WaitingLine(Generic[T]):
    """Jobs waiting for a worker, first come first served; worker threads block in `next` until
    one comes or the line closes. Both runners keep their queue in one."""

    def __init__(self) -> None:
        self._items: collections.deque[T] = collections.deque()
        self._ready = threading.Condition()
        self.closed = threading.Event()  # the runner is stopping

    def join(self, item: T) -> None:
        """Put `item` at the back. A job cancelled while queued, then resumed, waits behind the
        jobs queued before its resume: an equal entry's old place in the line goes."""
        with self._ready:
            with contextlib.suppress(ValueError):
                self._items.remove(item)
            self._items.append(item)
            self._ready.notify()

    def first(self, item: T) -> None:
        """Put `item` at the front: it was running."""
        with self._ready:
            self._items.appendleft(item)
            self._ready.notify()

    def next(self) -> T | None:
        """The next item, once there is one; None once closed (what waits stays queued in the
        store for the next start)."""
        with self._ready:
            while not self._items and not self.closed.is_set():
                self._ready.wait()
            return None if self.closed.is_set() else self._items.popleft()

    def close(self) -> None:
        """Wake every waiting worker thread to end."""
        self.closed.set()
        with self._ready:
            self._ready.notify_all()

    def __iter__(self) -> Iterator[T]:
        with self._ready:
            return iter(list(self._items))


def end_at_shutdown(store: Store, job_id: str, attempt: int) -> None:
    """End a run that a shutdown waited for in vain (a frame that takes longer than the wait):
    the process ends under it, so it is interrupted by the shutdown, not left running for the
    next start to take for a crash. What the run does after this is refused (it owns no job)."""
    log.warning("job %s did not stop in time: interrupted by the shutdown", job_id)
    with contextlib.suppress(NotFound, InvalidTransition):
        store.transition(
            job_id, "interrupted", attempt=attempt, error=WHAT["shutdown"], stop="shutdown"
        )


class InProcessRunner:
    stop_timeout = 30.0  # seconds `stop` waits for the running job to stop

    def __init__(self, store: Store, segmenter: Segmenter, matter: Matter):
        self.store, self.segmenter, self.matter = store, segmenter, matter
        self._line: WaitingLine[str] = WaitingLine()
        self._thread = threading.Thread(target=self._work, name="vidmatte-jobs", daemon=True)
        self._current: Job | None = None  # the job the worker runs

    def start(self) -> None:
        recover(self.store)
        for job in waiting(self.store):
            self._line.join(job.id)
        self._thread.start()

    def stop(self) -> None:
        self._line.close()  # the running job stops before its next frame or object
        self._thread.join(timeout=self.stop_timeout)
        if self._thread.is_alive() and (job := self._current) is not None:
            end_at_shutdown(self.store, job.id, job.attempt)

    def alive(self) -> bool:
        return self._thread.is_alive() and not self._line.closed.is_set()

    def submit(self, job_id: str) -> None:
        self._line.join(job_id)

    def cancel(self, job_id: str) -> Job:
        return cancel_in_store(self.store, job_id)

    def masks_gone(self, job: Job, done: Container[int]) -> str | None:
        return masks_gone(self.store, job, done)

    def _work(self) -> None:
        while (job_id := self._line.next()) is not None:
            try:
                self._run(job_id)
            except Exception:  # nothing a job does may end the worker
                log.exception("job %s: unexpected error in the worker", job_id)

    def _run(self, job_id: str) -> None:
        self.store.keep_reserve()
        try:
            job = self.store.transition(job_id, "running")
        except (NotFound, InvalidTransition):
            return  # deleted, cancelled, or a duplicate queue entry of a job already run

        def should_stop() -> bool:
            return self._line.closed.is_set() or not self.store.owns(job.id, job.attempt)

        report = progress_reporter(self.store, job)
        self._current = job
        try:
            matter = matter_for(self.matter, job)
            run_job(job, self.store, self.segmenter, matter, should_stop, report)
        except Stopped:
            # A cancel, resume or delete has already set the status; a shutdown has not.
            if self._line.closed.is_set():
                end_in_store(self.store, job, "interrupted", stop="shutdown")
        except Exception as exc:
            if not self.store.owns(job.id, job.attempt):
                return  # cancelled or deleted meanwhile (its files went with it): that stands
            fail_in_store(self.store, job, exc)
        else:
            end_in_store(self.store, job, "done")
        finally:
            self._current = None
