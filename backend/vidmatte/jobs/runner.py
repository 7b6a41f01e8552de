"""Job runners. The API talks to the `JobRunner` interface; `InProcessRunner` is the default,
a single worker thread, so one job uses the GPU at a time and the rest wait in a queue.

All job state lives in the store (SQLite): a restarted process finds what was running marked
`interrupted`, with its finished frames intact, and a distributed runner could take the same
interface with workers reading the same store.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Protocol

from vidmatte.jobs.pipeline import Cancelled, Progress, run_job
from vidmatte.matte.infer import Matter
from vidmatte.segment.session import Segmenter
from vidmatte.store import ACTIVE, Job, Store

log = logging.getLogger(__name__)


class JobRunner(Protocol):
    def start(self) -> None: ...
    def submit(self, job_id: str) -> None: ...
    def cancel(self, job_id: str) -> Job: ...
    def stop(self) -> None: ...


class InProcessRunner:
    def __init__(self, store: Store, segmenter: Segmenter, matter: Matter):
        self.store, self.segmenter, self.matter = store, segmenter, matter
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="vidmatte-jobs", daemon=True)

    def start(self) -> None:
        # Whatever was running when the last process died is interrupted, not lost.
        for job in self.store.jobs(status=("running",)):
            self.store.update_job(job.id, status="interrupted", fps=None, eta_seconds=None)
        for job in reversed(self.store.jobs(status=("queued",))):
            self._queue.put(job.id)
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def submit(self, job_id: str) -> None:
        with self._lock:
            self._cancelled.discard(job_id)
        self._queue.put(job_id)

    def cancel(self, job_id: str) -> Job:
        job = self.store.job(job_id)
        if job.status in ACTIVE:
            with self._lock:
                self._cancelled.add(job_id)
            # The worker sees the flag before its next frame; the status changes right away so
            # the client is not left waiting.
            job = self.store.update_job(job_id, status="cancelled", fps=None, eta_seconds=None)
        return job

    def _is_cancelled(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._cancelled

    def _work(self) -> None:
        while (job_id := self._queue.get()) is not None:
            try:
                job = self.store.job(job_id)
            except LookupError:
                continue  # deleted while queued
            if job.status != "queued" or self._is_cancelled(job_id):
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        self.store.update_job(job.id, status="running", error=None)

        def report(p: Progress) -> None:
            if not self._is_cancelled(job.id):
                self.store.update_job(job.id, fps=p.fps, eta_seconds=p.eta_seconds)

        try:
            run_job(
                job,
                self.store,
                self.segmenter,
                self.matter,
                lambda: self._is_cancelled(job.id),
                report,
            )
        except Cancelled:
            self.store.update_job(job.id, status="cancelled", fps=None, eta_seconds=None)
        except LookupError:
            pass  # the project was deleted while its job ran
        except Exception as exc:  # a crashed job must not take the worker down with it
            log.exception("job %s failed", job.id)
            self.store.update_job(
                job.id,
                status="failed",
                error=f"{type(exc).__name__}: {exc}",
                fps=None,
                eta_seconds=None,
            )
        else:
            if not self._is_cancelled(job.id):
                self.store.update_job(job.id, status="done", eta_seconds=0.0)
