"""What the routes share: settings, store, SAM2, the head, the job runner, open video readers.

Built once per app; routes get it with `Depends(services)`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from fastapi import Request

from vidmatte.config import Settings
from vidmatte.jobs.runner import JobRunner
from vidmatte.jobs.tracks import Tracker
from vidmatte.matte.infer import Matter
from vidmatte.media.video import VideoReader
from vidmatte.segment.session import Segmenter
from vidmatte.store import ACTIVE, Project, Store


@dataclass
class Services:
    settings: Settings
    store: Store
    segmenter: Segmenter
    matter: Matter
    head_name: str
    sam2_name: str  # the SAM2 model as jobs and tracks record it
    runner: JobRunner
    tracker: Tracker
    _readers: OrderedDict[str, VideoReader] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reader(self, project: Project) -> VideoReader:
        """A decoder per recently used project, so scrubbing reuses its cache and position;
        HDR frames tone mapped, as the editor shows them and SAM2 takes them."""
        with self._lock:
            if project.id not in self._readers:
                self._readers[project.id] = VideoReader(
                    project.source, self.store.pts_index(project.id), project.info.rotation
                )
            self._readers.move_to_end(project.id)
            while len(self._readers) > 4:
                self._readers.popitem(last=False)[1].close()
            return self._readers[project.id]

    def delete_project(self, project_id: str) -> None:
        """Cancel the project's jobs, stop its track, close its decoder, then delete it. The
        event streams of its jobs and its track end as deleted, not as cancelled."""
        jobs = self.store.jobs(project_id)
        with (
            self.store.changes.being_deleted(job.id for job in jobs),
            self.tracker.changes.being_deleted([project_id]),
        ):
            for job in jobs:
                if job.status in ACTIVE:
                    self.runner.cancel(job.id)
            with self.tracker.removing(project_id):
                self._close_reader(project_id)
                self.segmenter.forget(project_id)
                self.store.delete_project(project_id)
        self._close_reader(project_id)  # one that a frame request opened meanwhile

    def delete_job(self, job_id: str) -> None:
        """Cancel the job if it is queued or running (its worker stops), then delete it, as a
        project's delete does with its jobs; its event streams hear `deleted`, not the cancel.
        NotFound for an unknown job."""
        with self.store.changes.being_deleted([job_id]):
            if self.store.job(job_id).status in ACTIVE:
                self.runner.cancel(job_id)
            self.store.delete_job(job_id)

    def _close_reader(self, project_id: str) -> None:
        with self._lock:
            reader = self._readers.pop(project_id, None)
        if reader is not None:
            reader.close()


def services(request: Request) -> Services:
    return request.app.state.services
