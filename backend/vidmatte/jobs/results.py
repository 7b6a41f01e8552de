"""A job's finished frames as export input, shared by the HTTP archive and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vidmatte.media.export import ExportFrame
from vidmatte.media.video import VideoReader
from vidmatte.store import Project, Store


@dataclass(frozen=True)
class Export:
    project: Project
    job_id: str
    frames: list[int]  # finished frames, in order
    audio_from: Path | None


def plan_export(store: Store, job_id: str) -> Export:
    """Raise LookupError for an unknown job; `frames` is empty when nothing is finished yet."""
    job = store.job(job_id)
    project = store.project(job.project_id)
    frames = sorted(store.done_frames(job_id))
    contiguous = bool(frames) and frames[-1] - frames[0] == len(frames) - 1
    # The exporter cuts the source's audio to the frames' time span; with gaps it would not fit.
    audio = project.source if project.info.has_audio and contiguous else None
    return Export(project, job_id, frames, audio)


def export_frames(store: Store, export: Export) -> Iterator[ExportFrame]:
    """Source frame + stored alpha, one at a time, with the time the frame shows at."""
    project = export.project
    reader = VideoReader(project.source, store.pts_index(project.id), project.info.rotation)
    try:
        for index in export.frames:
            alpha = store.load_alpha(export.job_id, index)
            yield ExportFrame(index, reader.time(index), reader.frame(index), alpha)
    finally:
        reader.close()
