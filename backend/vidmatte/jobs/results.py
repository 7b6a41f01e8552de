"""A job's finished frames as export input, shared by the HTTP archive and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vidmatte.matte.foreground import foreground_rgb8
from vidmatte.media.export import COLOUR_FORMATS, ExportFrame
from vidmatte.media.video import VideoReader
from vidmatte.store import Project, Store

# The colour paired with the matte: "estimated" is the foreground F alone (the old background
# taken out of soft edges, matte/foreground.py), "raw" the frame's own pixel colour.
Foreground = Literal["estimated", "raw"]
FOREGROUNDS: tuple[Foreground, ...] = ("estimated", "raw")


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


def foreground_for(formats: list[str], fg: Foreground) -> Foreground:
    """`fg` where one of `formats` carries colour; "raw" (nothing to estimate) otherwise."""
    if fg not in FOREGROUNDS:
        raise ValueError(f"unknown foreground '{fg}'; choose one of {', '.join(FOREGROUNDS)}")
    return fg if COLOUR_FORMATS.intersection(formats) else "raw"


def export_frames(
    store: Store, export: Export, fg: Foreground = "raw", device: str = "cpu"
) -> Iterator[ExportFrame]:
    """Source frame + stored alpha, one at a time, with the time the frame shows at. With
    `fg="estimated"` the colour is the foreground estimated on `device` from the frame and its
    stored alpha (so jobs made before this existed get it too)."""
    project = export.project
    reader = VideoReader(project.source, store.pts_index(project.id), project.info.rotation)
    try:
        for index in export.frames:
            alpha = store.load_alpha(export.job_id, index)
            rgb = reader.frame(index)
            if fg == "estimated":
                rgb = foreground_rgb8(rgb, alpha, device=device)
            yield ExportFrame(index, reader.time(index), rgb, alpha)
    finally:
        reader.close()
