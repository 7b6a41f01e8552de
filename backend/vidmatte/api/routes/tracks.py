"""A project's track: SAM2 alone over a range, a small mask per frame and object (jobs/tracks.py).

Start, follow (polling or Server-Sent Events), cancel, and read the masks as PNGs.
"""

from __future__ import annotations

import asyncio
import json

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from PIL import Image

from vidmatte import store
from vidmatte.api.events import follow
from vidmatte.api.idempotency import IdempotencyKey, once
from vidmatte.api.routes.projects import (
    BODY_ERRORS,
    DISK_FULL_ERROR,
    ERRORS,
    KnownProject,
    check_frame,
    check_range,
)
from vidmatte.api.routes.prompts import coloured_masks, png_response
from vidmatte.api.schemas import MAX_ID, Error, Track, TrackCreate, TrackFlag, TrackRun, UrlInt
from vidmatte.api.security import retry_on_disk_full
from vidmatte.api.services import Services, services
from vidmatte.jobs import tracks

router = APIRouter(prefix="/api/projects/{project_id}/track", tags=["track"])
# How a track that stopped before a frame stopped: that frame gets no mask until a new track.
_STOPPED = {
    "cancelled": "was cancelled",
    "failed": "failed",
    "interrupted": "was interrupted (the server stopped)",
}


def _live(s: Services, track: tracks.Track) -> tuple[tracks.Track, dict[int, str]]:
    """The track as every route shows it: its objects that still exist alone, and the colours of
    the project's objects. A deleted object leaves the track at once; its masks stay on disk,
    unseen, until the next track drops them (object ids are never reused)."""
    colours = {o["id"]: o["color"] for o in s.store.objects(track.project_id)}
    return track.only(colours), colours


def _schema(s: Services, recorded: tracks.Track) -> Track:
    track, _ = _live(s, recorded)
    return Track(
        project_id=track.project_id,
        status=track.status,  # type: ignore[arg-type]
        start=track.start,
        end=track.end,
        object_ids=track.object_ids,
        mask_width=track.mask_width,
        mask_height=track.mask_height,
        run=TrackRun(**track.run.__dict__),
        frames_done=track.frames_done,
        frames_total=track.frames_total,
        fps=track.fps,
        eta_seconds=track.eta_seconds,
        error=track.error,
        stale=s.tracker.stale(track),
        tracked=tracks.intervals(int(frame) for frame in track.stats),
        flags=[TrackFlag(**f.__dict__) for f in track.flags()],  # type: ignore[arg-type]
    )


@router.post(
    "",
    status_code=202,
    response_model=Track,
    responses={409: {"model": Error}, **BODY_ERRORS, **DISK_FULL_ERROR},
    # A track's record that cannot be saved for want of space (the last track is kept whole:
    # Tracker.start) is the app-wide 507, its next step "track again".
    dependencies=[Depends(retry_on_disk_full("track again"))],
)
def start_track(
    project: KnownProject,
    body: TrackCreate,
    request: Request,
    key: IdempotencyKey,
    s: Services = Depends(services),
) -> Track | Response:
    """Track the current prompts over start..end. When a finished track of the same range
    exists, only the objects whose points changed run again, from their first changed frame
    on (`run` says what runs); a track still running is replaced."""
    return once(s.store, key, request, body, 202, lambda _: _start_track(project, body, s))


def _start_track(project: store.Project, body: TrackCreate, s: Services) -> Track:
    check_range(project, body.start, body.end)
    try:
        track = s.tracker.start(project, body.start, body.end)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return _schema(s, track)


@router.get("", response_model=Track, responses=ERRORS)
def get_track(project: KnownProject, s: Services = Depends(services)) -> Track:
    return _schema(s, s.tracker.get(project.id))


@router.delete("", response_model=Track, responses=ERRORS)
def cancel_track(project: KnownProject, s: Services = Depends(services)) -> Track:
    """Cancel a running track; the masks made so far stay. A finished track is returned."""
    return _schema(s, s.tracker.cancel(project.id))


@router.get("/events", responses={200: {"content": {"text/event-stream": {}}}, **ERRORS})
async def track_events(project: KnownProject, s: Services = Depends(services)):
    """`event: progress` with the track as JSON whenever it changes; ends when it stops
    running, at shutdown, or with `event: deleted` and the project's id when the project is
    deleted (like a job's events: api/events.py)."""
    project_id = project.id
    await asyncio.to_thread(s.tracker.get, project_id)  # 404 before the stream starts
    return follow(
        lambda: s.tracker.changes.subscribe(project_id),
        lambda: s.tracker.get(project_id),
        lambda track: _schema(s, track).model_dump_json(),
        lambda track: track.status in tracks.TERMINAL,
        json.dumps({"project_id": project_id}),  # as its `progress` events name it
        s.settings.event_ping_seconds,
    )


@router.get(
    "/masks/{frame}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **ERRORS},
)
def get_mask(
    project: KnownProject,
    frame: UrlInt,
    object_id: UrlInt | None = Query(None, ge=1, le=MAX_ID),
    v: str | None = Query(
        None, description="Not read: a cache key (the editor's changes when a track is re-run)."
    ),
    s: Services = Depends(services),
) -> Response:
    """The tracked mask of a frame (mask_width x mask_height): a grey probability PNG for
    `object_id`, else every object tracked on it in its colour over a transparent background
    (a 404 once every one of them was deleted: there is nothing to show)."""
    check_frame(project, frame)
    project_id = project.id
    recorded = s.tracker.get(project_id)
    track, colours = _live(s, recorded)
    if not track.start <= frame <= track.end:
        raise HTTPException(
            404, f"frame {frame} is outside the track's range {track.start}..{track.end}"
        )
    # What the track was made with and is no longer in it was deleted since.
    if object_id is not None and object_id not in track.object_ids:
        why = ": it was deleted since" if object_id in recorded.object_ids else ""
        raise HTTPException(
            404, f"object {object_id} is not in the track of project '{project_id}'{why}"
        )
    if not track.object_ids:  # a track is made with points: its objects were all deleted
        raise HTTPException(
            404,
            f"the track of project '{project_id}' has no objects left: every object it tracked "
            f"({', '.join(map(str, recorded.object_ids))}) was deleted since it was made",
        )
    wanted = [object_id] if object_id is not None else track.object_ids
    # The overlay shows the objects tracked on the frame so far: an object added to a finished
    # track runs alone, and the frame is in `tracked` by the others' masks meanwhile.
    masks = {obj: m for obj in wanted if (m := s.tracker.mask(project_id, frame, obj)) is not None}
    if not masks:
        s.store.project(project_id)  # its masks gone with a delete meanwhile: the delete's 404
        raise HTTPException(404, _untracked(frame, recorded.status))
    if object_id is not None:
        return png_response(Image.fromarray(masks[object_id], mode="L"))
    probs = {obj: m.astype(np.float32) / 255 for obj, m in masks.items()}
    image = coloured_masks(probs, colours, track.mask_height, track.mask_width)
    return png_response(image)


def _untracked(frame: int, status: str) -> str:
    """Why `frame` has no mask: not made yet by a running track, or never by a stopped one."""
    if (stopped := _STOPPED.get(status)) is None:
        return f"frame {frame} is not tracked yet"
    return (
        f"frame {frame} is not tracked: the track {stopped} before it reached the frame "
        "(track again to make it)"
    )
