"""Jobs on a Ray cluster (issue 16): one server, many GPUs and machines.

Each worker is a Ray actor that loads SAM2 and the matting head once: one per GPU of the cluster
(`num_gpus=1`), or `ray_cpu_workers` on a CPU-only cluster. A job goes to a free worker, the rest
wait `queued`. The server stays the only writer of the store (no shared disk, no shared
database): it sends the worker the job (its prompt snapshot, range and settings), the video
through Ray's object store in chunks, and which frames are already finished; the worker streams
each finished frame's alpha back (a streaming generator) and the server stores it as it arrives,
with the same ownership checks as the in-process runner, so progress, cancel and "every frame
written once" hold. The weights travel the same way, so every worker runs the models the server
names in its jobs.

A worker that dies mid-job (its process or its machine) fails the stream; the job, still
`running` under the same attempt, goes back to the front of the queue and continues on the next
free worker from its first unfinished frame, at most `ray_max_retries` times. Ray restarts the
dead actor meanwhile. Previews stay on the server's own device: only jobs go to the cluster.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import tempfile
import threading
from collections.abc import Container, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidmatte.config import Settings
from vidmatte.jobs.pipeline import (
    Stopped,
    boundary,
    encoded,
    encoder_threads,
    finished,
    matte_frames,
    matter_for,
    store_frames,
)
from vidmatte.jobs.runner import (
    WaitingLine,
    cancel_in_store,
    end_at_shutdown,
    end_in_store,
    fail_in_store,
    progress_reporter,
    recover,
    waiting,
)
from vidmatte.jobs.stops import WORKER_DIED
from vidmatte.jobs.tracks import MasksGone, forget_masks
from vidmatte.matte.head import HeadConfig, MattingHead
from vidmatte.matte.infer import Matter
from vidmatte.media.video import VideoReader
from vidmatte.segment.models import build_predictor
from vidmatte.segment.session import Segmenter
from vidmatte.store import InvalidTransition, Job, NotFound, StopCause, Store

# Workers run vidmatte as installed on their machines (the image of docs/DEPLOY.md): Ray must
# not rebuild a server started with `uv run` in a new environment on each of them. Read when
# Ray is first imported.
os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
import ray
from ray.exceptions import (
    ActorDiedError,
    ActorUnavailableError,
    GetTimeoutError,
    RayError,
    RayTaskError,
)

log = logging.getLogger(__name__)
CHUNK_BYTES = 64 * 1024 * 1024  # the video goes to a worker in object-store chunks this big


class ClusterUnavailable(ConnectionError):
    """No Ray cluster at the address, or one without workers to run jobs; says what to do."""


def _check_reachable(address: str) -> None:
    """ValueError for an address that is no address, ClusterUnavailable for one where nothing
    listens: ray.init would retry such a one for about 14 minutes (20 tries of ~40 s each),
    printing warnings, before it gave up. Ray's own resolution is private API: a Ray without
    it skips this early check."""
    try:
        from ray._private.services import canonicalize_bootstrap_address
    except ImportError:
        return
    try:  # what ray.init connects to: auto resolved, a loopback host made the node's address
        target = canonicalize_bootstrap_address(address)
    except ValueError as exc:
        raise ValueError(
            f"--ray-address {address!r} is not auto, local or HOST:PORT of a Ray head "
            "(e.g. 10.0.0.5:6379)"
        ) from exc
    if target is None:  # auto with no cluster on this machine: ray.init says so at once
        return
    host, _, port = target.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
    except OSError as exc:
        raise ClusterUnavailable(
            f"no Ray cluster answers at --ray-address {address} ({target}: "
            f"{exc.strerror or exc}): start its head with `ray start --head --port={port}`, "
            "or give the address that `ray start --head` printed (docs/DEPLOY.md)"
        ) from exc


@dataclass(frozen=True)
class Models:
    """What a worker builds its models from: the server's own weights, on the CPU."""

    sam2_name: str
    sam2_state: dict[str, torch.Tensor]
    head_config: dict[str, Any]
    head_state: dict[str, torch.Tensor]
    edges: str
    plate: bool  # the server's resolved setting (VIDMATTE_PLATE=on for GPU workers of a CPU server)

    @classmethod
    def of(cls, segmenter: Segmenter, matter: Matter) -> Models:
        def cpu(module: torch.nn.Module) -> dict[str, torch.Tensor]:
            return {k: v.detach().cpu() for k, v in module.state_dict().items()}

        head = matter.head
        return cls(
            segmenter.name,
            cpu(segmenter.predictor),
            head.config.to_dict(),
            cpu(head),
            matter.edges,
            matter.plate,
        )


@dataclass(frozen=True)
class Task:
    """One run of a job on a worker: everything it needs, nothing it must read elsewhere."""

    job: Job
    video: list[ray.ObjectRef]  # the source file, in chunks
    suffix: str  # the source's extension (the container is probed by content, named for tools)
    pts: np.ndarray  # the frame index (media.video)
    rotation: int
    size: tuple[int, int]  # height, width
    done: frozenset[int]  # finished frames: tracked again for SAM2's memory, not matted
    stored: dict[int, bytes]  # stored PNGs of the finished frames a run reads (`boundary`)


class MattingWorker:
    """A Ray actor (see `RayRunner._spawn`): the models, loaded once; one job at a time, plus
    `stop` calls on a second thread."""

    def __init__(self, models: Models):
        device = "cuda" if ray.get_gpu_ids() else "cpu"
        if device == "cpu":  # the CPUs Ray gave this worker, not the whole machine's
            cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
            torch.set_num_threads(max(1, int(cpus)))
        predictor = build_predictor(models.sam2_name, Path(), device, random_init=True)
        predictor.load_state_dict(models.sam2_state)
        self.segmenter = Segmenter(predictor, models.sam2_name)
        head = MattingHead(HeadConfig.from_dict(models.head_config))
        head.load_state_dict(models.head_state)
        self.matter = Matter(head.eval(), device, models.edges, plate=models.plate)
        self._stopped: set[tuple[str, int]] = set()  # (job id, attempt) told to stop

    def ready(self) -> int:
        """The worker's process id, once its models are loaded."""
        return os.getpid()

    def stop(self, job_id: str, attempt: int) -> None:
        self._stopped.add((job_id, attempt))

    def run(self, task: Task) -> Iterator[tuple[int, bytes]]:
        """(frame, mattes PNG) for each unfinished frame, as it is finished."""
        job, key = task.job, (task.job.id, task.job.attempt)
        with tempfile.TemporaryDirectory(prefix="vidmatte-") as tmp:
            source = Path(tmp) / f"source{task.suffix}"
            with source.open("wb") as f:
                for chunk in task.video:
                    f.write(ray.get(chunk))
            reader = VideoReader(source, task.pts, task.rotation)
            try:
                yield from encoded(
                    matte_frames(
                        job,
                        reader,
                        task.size,
                        self.segmenter,
                        matter_for(self.matter, job),
                        set(task.done),
                        task.stored.__getitem__,
                        lambda: key in self._stopped,
                    ),
                    encoder_threads(*task.size),
                )
            except Stopped:
                return
            finally:
                reader.close()
                self._stopped.discard(key)


@dataclass(frozen=True)
class _Queued:
    job_id: str
    attempt: int | None = None  # set when a run that lost its worker continues
    retries: int = 0


class RayRunner:
    """The `JobRunner` on a Ray cluster; one thread per worker takes jobs from one queue."""

    def __init__(self, store: Store, settings: Settings, segmenter: Segmenter, matter: Matter):
        self.store, self.settings = store, settings
        self.max_retries = settings.ray_max_retries
        self._segmenter, self._matter = segmenter, matter
        self._line: WaitingLine[_Queued] = WaitingLine()
        self._running: dict[str, tuple[Any, int]] = {}  # job id -> (worker, attempt)
        self._slots: list[threading.Thread] = []
        self._workers: list[Any] = []  # actor handles
        self._owns_ray = False  # Ray was set up here, so it is shut down here
        self._connect()
        self._count = self._worker_count()

    # -- JobRunner ---------------------------------------------------------------------------
    def start(self) -> None:
        recover(self.store)
        for job in waiting(self.store):
            self._line.join(_Queued(job.id))
        # Held for the runner's life: a worker that Ray restarts is built from it again.
        self._models_ref = ray.put(Models.of(self._segmenter, self._matter))
        for _ in range(self._count):
            self._spawn(self._models_ref)

    def submit(self, job_id: str) -> None:
        self._line.join(_Queued(job_id))

    def cancel(self, job_id: str) -> Job:
        job = cancel_in_store(self.store, job_id)
        self._tell_stop(job_id)
        return job

    def masks_gone(self, job: Job, done: Container[int]) -> str | None:
        """A job whose first frames were matted in process from the project's track cannot go
        on here, whatever masks it holds: workers run SAM2, and its frames would not match.
        One with every frame stored is done at once, without a worker (`_stream`)."""
        stored = [f in done for f in range(job.start, job.end + 1)]
        if not job.used_track or not any(stored) or all(stored):
            return None
        return (
            f"the first frames of job '{job.id}' were matted from the project's track, which "
            "Ray workers do not read (they run SAM2): resume it on a server that runs jobs in "
            "process (--runner inprocess)"
        )

    def stop(self) -> None:
        self._line.close()
        for job_id in list(self._running):
            self._tell_stop(job_id)
        for slot in self._slots:
            slot.join(timeout=30 / max(len(self._slots), 1))
        for job_id, (_, attempt) in list(self._running.items()):  # runs that did not stop in time
            end_at_shutdown(self.store, job_id, attempt)
        # Runs waiting for another worker end here; queued jobs stay queued for the next start.
        for item in self._line:
            if item.attempt is not None:
                with contextlib.suppress(NotFound):
                    job = self.store.job(item.job_id)
                    end_in_store(self.store, job, "interrupted", stop="shutdown")
        for worker in self._workers:  # their CPUs and GPUs are free for the next server
            ray.kill(worker)
        if self._owns_ray:
            ray.shutdown()

    def alive(self) -> bool:
        return not self._line.closed.is_set() and any(s.is_alive() for s in self._slots)

    def wait_ready(self) -> list[int]:
        """Block until every worker has loaded its models; their process ids."""
        return ray.get([worker.ready.remote() for worker in self._workers])

    # -- the cluster -------------------------------------------------------------------------
    def _connect(self) -> None:
        if ray.is_initialized():  # a caller (the bench) set Ray up itself
            return
        self._owns_ray = True
        address = self.settings.ray_address
        if address != "local" and "://" not in address:  # not for Ray Client's ray://
            _check_reachable(address)
        try:
            if address == "local":
                ray.init(include_dashboard=False, namespace="vidmatte")
            else:
                ray.init(address=address, namespace="vidmatte")
        except (ConnectionError, RuntimeError) as exc:
            raise ClusterUnavailable(
                f"no Ray cluster at --ray-address {address}: start one with `ray start --head` "
                f"(docs/DEPLOY.md), or use --ray-address local ({exc})"
            ) from exc

    def _worker_count(self) -> int:
        if wanted := self.settings.ray_cpu_workers:
            # A worker the cluster has no CPU for never starts, and jobs would wait for it
            # `queued` for ever while /api/health says the worker is running.
            cpus = int(ray.cluster_resources().get("CPU", 0))
            if cpus < wanted:
                raise ClusterUnavailable(
                    f"the Ray cluster has {cpus} CPUs, fewer than --ray-cpu-workers {wanted} "
                    "needs (one per worker): add CPUs (`ray start --num-cpus=N`, or machines) "
                    "or lower --ray-cpu-workers"
                )
            return wanted
        gpus = int(ray.cluster_resources().get("GPU", 0))
        if not gpus:
            raise ClusterUnavailable(
                "the Ray cluster has no GPU: add GPU machines (`ray start --address=HEAD:6379` "
                "on each), or run CPU workers with --ray-cpu-workers N"
            )
        return gpus

    def _spawn(self, models: ray.ObjectRef) -> None:
        gpu = not self.settings.ray_cpu_workers
        actor_class = ray.remote(MattingWorker).options(
            num_gpus=1 if gpu else 0,
            num_cpus=0 if gpu else 1,
            max_concurrency=2,  # `stop` while `run` streams
            max_restarts=-1,  # Ray brings a dead worker back (its models reload)
            max_task_retries=0,  # a lost run continues here, from its first unfinished frame
        )
        worker = actor_class.remote(models)
        self._workers.append(worker)
        slot = threading.Thread(
            target=self._serve, args=(worker,), name=f"vidmatte-ray-{len(self._slots)}", daemon=True
        )
        self._slots.append(slot)
        slot.start()

    # -- one thread per worker ---------------------------------------------------------------
    def _serve(self, worker) -> None:
        while not self._line.closed.is_set():
            try:  # loaded, or back after a restart; a shutdown does not wait for it
                ray.get(worker.ready.remote(), timeout=1)
            except ActorDiedError:
                log.exception("a Ray worker is gone for good; jobs run on the others")
                return
            except (GetTimeoutError, ActorUnavailableError):  # still loading or restarting
                continue
            if (item := self._line.next()) is None:
                return
            if not self._answers(worker):  # lost while waiting: the job goes to the front
                self._line.first(item)
                continue
            try:
                self._run(item, worker)
            except Exception:  # nothing a job does may end the worker's thread
                log.exception("job %s: unexpected error in the Ray runner", item.job_id)

    @staticmethod
    def _answers(worker) -> bool:
        """Whether the worker answers now, before a job's video goes to the object store: Ray
        ends this whole process, without a word, on a `ray.put` once the cluster (its head on
        this machine) is gone. A worker or cluster lost meanwhile is then caught by the loop."""
        try:
            ray.get(worker.ready.remote(), timeout=10)
        except RayError:
            return False
        return True

    def _run(self, item: _Queued, worker) -> None:
        job = self._claim(item)
        if job is None:
            return
        try:
            self._stream(job, worker)
        except Stopped:
            # A cancel, resume or delete has already set the status; a shutdown, or a worker
            # told to stop by an earlier word, has not: the job can be resumed.
            stop: StopCause = "shutdown" if self._line.closed.is_set() else "worker_stopped"
            end_in_store(self.store, job, "interrupted", stop=stop)
        except RayTaskError as exc:  # the job's own error, raised on the worker
            if self.store.owns(job.id, job.attempt):  # else cancelled or deleted: that stands
                fail_in_store(self.store, job, exc.cause if exc.cause is not None else exc)
        except RayError as exc:  # the worker died or its machine is gone
            if item.retries >= self.max_retries:
                end_in_store(
                    self.store,
                    job,
                    "failed",
                    stop="worker_died",
                    error=f"{WORKER_DIED} {item.retries + 1} times (setting "
                    "VIDMATTE_RAY_MAX_RETRIES)",
                )
                return
            log.warning("job %s: its worker died (%s); it continues on another", job.id, exc)
            self._line.first(_Queued(job.id, job.attempt, item.retries + 1))
        except Exception as exc:
            if self.store.owns(job.id, job.attempt):  # else cancelled or deleted: that stands
                fail_in_store(self.store, job, exc)
        else:
            end_in_store(self.store, job, "done")

    def _claim(self, item: _Queued) -> Job | None:
        """The job to run: queued ones start a new attempt; a run that lost its worker goes on
        under its own attempt if it still owns the job (a cancel may have come meanwhile)."""
        try:
            if item.attempt is None:
                self.store.keep_reserve()
                return self.store.transition(item.job_id, "running")
            if self.store.owns(item.job_id, item.attempt):
                return self.store.job(item.job_id)
        except (NotFound, InvalidTransition):
            pass  # deleted, cancelled, or a duplicate queue entry of a job already run
        return None

    def _stream(self, job: Job, worker) -> None:
        """Send the job to the worker and store the frames it streams back."""
        done = self.store.done_frames(job.id)
        if finished(job, done):
            forget_masks(self.store, job.id)  # as in process: no run reads them again
            return  # nothing to send a worker
        if (why := self.masks_gone(job, done)) is not None:
            raise MasksGone(why)
        matter = matter_for(self._matter, job)  # as the worker's: whether it has plates
        project = self.store.project(job.project_id)
        task = Task(
            job=job,
            video=self._chunks(project.source),
            suffix=project.source.suffix,
            pts=self.store.pts_index(project.id),
            rotation=project.info.rotation,
            size=(project.info.height, project.info.width),
            done=frozenset(done),
            stored={
                f: self.store.alpha_path(job.id, f).read_bytes()
                for f in boundary(done, job.start, job.end, max(1, matter.plate_frames))
            },
        )

        # Workers run SAM2 themselves: a project's stored track (jobs/tracks.py) stays here.
        self.store.record_used_track(job.id, job.attempt, False)
        self._running[job.id] = (worker, job.attempt)
        try:
            # Known before this look: a cancel (or delete) after it tells the worker to stop.
            if not self.store.owns(job.id, job.attempt):
                raise Stopped  # cancelled or deleted while the video went to the object store
            self._send(job, worker, task, len(done))
        finally:
            # Not a later run's (a cancel and a resume while this one drained): its worker
            # must stay known, for a cancel or a shutdown to tell it to stop.
            if self._running.get(job.id, (None, None))[1] == job.attempt:
                del self._running[job.id]

    def _send(self, job: Job, worker, task: Task, done: int) -> None:
        """Run the task on the worker, storing each frame it streams back (`done` were
        finished before)."""
        frames = worker.run.options(num_returns="streaming").remote(task)
        try:
            report = progress_reporter(self.store, job)
            store_frames(job, self.store, self._received(frames), done, report)
            if len(self.store.done_frames(job.id)) < job.frames_total:
                raise Stopped  # the worker ended early: it was told to stop
        except Stopped:
            worker.stop.remote(job.id, job.attempt)
            with contextlib.suppress(RayError):  # the worker is free once its run has ended
                for ref in frames:
                    ray.get(ref)
            raise

    def _received(self, frames) -> Iterator[tuple[int, bytes]]:
        for ref in frames:
            if self._line.closed.is_set():
                raise Stopped
            yield ray.get(ref)

    @staticmethod
    def _chunks(source: Path) -> list[ray.ObjectRef]:
        chunks = []
        with source.open("rb") as f:
            while data := f.read(CHUNK_BYTES):
                chunks.append(ray.put(data))
        return chunks

    def _tell_stop(self, job_id: str) -> None:
        running = self._running.get(job_id)
        if running is not None:
            worker, attempt = running
            worker.stop.remote(job_id, attempt)
