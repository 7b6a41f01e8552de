"""Matting jobs: start, follow (polling or Server-Sent Events), cancel, resume, delete,
results."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from PIL import Image
from pydantic import BeforeValidator

from vidmatte import store
from vidmatte.api.events import follow
from vidmatte.api.idempotency import IdempotencyKey, Keying, once
from vidmatte.api.routes.projects import (
    BODY_ERRORS,
    DISK_FULL_ERROR,
    ERRORS,
    KnownProject,
    check_range,
)
from vidmatte.api.routes.prompts import png_response
from vidmatte.api.schemas import (
    FEATHER,
    MAX_ID,
    REDUCE_CHATTER,
    SHIFT_EDGE,
    Error,
    Job,
    JobCreate,
    JobFrames,
    UrlInt,
    plain_decimal,
)
from vidmatte.api.services import Services, services
from vidmatte.errors import DISK_FULL
from vidmatte.jobs.results import (
    Foreground,
    MatteLost,
    Mattes,
    export_frames,
    foreground_for,
    frame_matte,
    missing_frames,
    plan_export,
)
from vidmatte.jobs.stops import other_models
from vidmatte.jobs.tracks import intervals
from vidmatte.matte.adjust import MAX_FEATHER, MAX_SHIFT_EDGE, EdgeAdjust, adjust_matte
from vidmatte.media.export import (
    archive_name,
    iter_archive,
    parse_color,
    parse_formats,
    staging_bytes,
)
from vidmatte.store import TERMINAL, TRANSITIONS, InvalidTransition, unanchored

router = APIRouter(tags=["jobs"])


@router.post(
    "/api/projects/{project_id}/jobs",
    status_code=201,
    response_model=Job,
    responses={409: {"model": Error}, 429: {"model": Error}, **BODY_ERRORS, **DISK_FULL_ERROR},
)
def create_job(
    project: KnownProject,
    body: JobCreate,
    request: Request,
    key: IdempotencyKey,
    s: Services = Depends(services),
) -> Job | Response:
    return once(
        s.store, key, request, body, 201, lambda keying: _create_job(project, body, s, keying)
    )


def _create_job(project: store.Project, body: JobCreate, s: Services, keying: Keying | None) -> Job:
    project_id = project.id
    check_range(project, body.start, body.end)
    limit = s.settings.max_objects
    # An id sent twice is one object: the limit counts objects, not the list's entries.
    chosen = None if body.object_ids is None else sorted(set(body.object_ids))
    if chosen == []:  # not "no points in the range": the points may be there
        raise HTTPException(
            422,
            "object_ids is empty: list the objects to matte, or send null (or leave it out) "
            "for every object with points in the range",
        )
    if chosen is not None and len(chosen) > limit:
        raise HTTPException(
            422,
            f"{len(chosen)} object ids: a job takes at most {limit} object ids "
            "(setting VIDMATTE_MAX_OBJECTS)",
        )
    known = {o["id"]: o["name"] for o in s.store.objects(project_id)}
    unknown = sorted(set(chosen or []) - set(known))
    if unknown:
        raise HTTPException(404, f"object(s) {unknown} do not exist in project '{project_id}'")
    prompts = s.store.points(project_id)
    prompted = {
        obj for (obj, frame), pts in prompts.items() if pts and body.start <= frame <= body.end
    }
    object_ids = sorted(prompted) if chosen is None else chosen
    if not object_ids or not prompted & set(object_ids):
        raise HTTPException(
            422,
            f"no frame in {body.start}..{body.end} holds points of the "
            "chosen objects: click on the object first",
        )
    # A chosen object left out would go missing from the results without a word.
    if silent := [o for o in object_ids if o not in prompted]:
        raise HTTPException(
            422,
            f"object {silent[0]} ('{known[silent[0]]}') has no points in frames "
            f"{body.start}..{body.end}: click on it there, or leave it out of the job",
        )
    # Refused even when the job's objects were not chosen: left out silently, the object the
    # user clicked on would be missing from the results; matted, its matte would be empty.
    if (blind := unanchored(prompts, object_ids, body.start, body.end)) is not None:
        raise HTTPException(
            422,
            f"object {blind} ('{known[blind]}') has only negative clicks in frames "
            f"{body.start}..{body.end}: add a positive click or a box on it there, or leave it "
            "out of the job",
        )
    job = s.store.add_job(
        project_id,
        body.start,
        body.end,
        object_ids,
        edges=s.settings.edges,
        head=s.head_name,
        sam2=s.sam2_name,
        export=body.export.model_dump() if body.export else None,
        plate=s.matter.plate,
        keyed=keyed_job(keying, s),
    )
    s.runner.submit(job.id)
    return served(job, s)


def keyed_job(keying: Keying | None, s: Services) -> store.KeyedAnswer[store.Job] | None:
    """The answer to its Idempotency-Key (None: no key) that the write queueing a job keeps
    with it: the job as served once queued."""
    return None if keying is None else keying.of(lambda made: served(made, s))


def served(job: store.Job, s: Services) -> Job:
    """The job as this server serves it: its error tells what to do with the models it runs,
    `resumable` whether it would take a resume now."""
    return Job.of(job, s.head_name, s.sam2_name, resumable(job, s))


def resumable(job: store.Job, s: Services) -> bool:
    """Whether `_resume_job` would take the job now (a full queue aside: that passes): it
    stopped, is not being deleted (its delete's cancel stopped it), and nothing else refuses
    it (`refused_resume`)."""
    return (
        job.status in TRANSITIONS["queued"]
        and not s.store.changes.deleting(job.id)
        and refused_resume(job, s) is None
    )


def refused_resume(job: store.Job, s: Services) -> str | None:
    """Why a resume of the stopped `job` would be refused now (a 409), else None: this server
    runs other models, or the masks its first frames were matted from are not at hand. Cheap
    enough for every job of a list and every event: only a job with frames matted from the
    track looks at files (`masks_gone`: one folder read). Told at the resume, not once it has
    waited its turn in the queue to fail again."""
    if (why := other_models(job, s.head_name, s.sam2_name)) is not None:
        return why
    if not job.used_track or job.frames_done == 0:  # masks_gone says None without a look
        return None
    return s.runner.masks_gone(job, s.store.done_frames(job.id))


@router.get("/api/projects/{project_id}/jobs", response_model=list[Job], responses=ERRORS)
def list_jobs(project: KnownProject, s: Services = Depends(services)) -> list[Job]:
    return [served(j, s) for j in s.store.jobs(project.id)]


@router.get("/api/jobs/{job_id}", response_model=Job, responses=ERRORS)
def get_job(job_id: str, s: Services = Depends(services)) -> Job:
    return served(s.store.job(job_id), s)


@router.get("/api/jobs/{job_id}/frames", response_model=JobFrames, responses=ERRORS)
def get_job_frames(job_id: str, s: Services = Depends(services)) -> JobFrames:
    """The finished and missing frames as runs, however many (the archive's headers sum up a
    long list and point here)."""
    done = s.store.done_frames(job_id)
    # Read after the frames: a delete that came between is this job's 404, not a job whose
    # every frame is missing.
    job = s.store.job(job_id)
    return JobFrames(
        job_id=job.id,
        start=job.start,
        end=job.end,
        done=intervals(done),
        missing=intervals(missing_frames(job, done)),
    )


@router.get(
    "/api/jobs/{job_id}/events", responses={200: {"content": {"text/event-stream": {}}}, **ERRORS}
)
async def job_events(job_id: str, s: Services = Depends(services)):
    """`event: progress` with the job as JSON whenever it changes; ends at a final status, at
    shutdown, or with `event: deleted` and the job's id when it is deleted (api/events.py)."""
    await asyncio.to_thread(s.store.job, job_id)  # 404 before the stream starts
    return follow(
        lambda: s.store.changes.subscribe(job_id),
        lambda: s.store.job(job_id),
        lambda job: served(job, s).model_dump_json(),
        lambda job: job.status in TERMINAL,
        json.dumps({"id": job_id}),  # as its `progress` events name it
        s.settings.event_ping_seconds,
    )


@router.post(
    "/api/jobs/{job_id}/cancel", response_model=Job, responses={**ERRORS, **DISK_FULL_ERROR}
)
def cancel_job(job_id: str, s: Services = Depends(services)) -> Job:
    return served(s.runner.cancel(job_id), s)


@router.delete("/api/jobs/{job_id}", status_code=204, responses={**ERRORS, **DISK_FULL_ERROR})
def delete_job(job_id: str, s: Services = Depends(services)) -> Response:
    """Delete the job, its mattes and its copy of the track's masks; one queued or running is
    cancelled first. Its project and the project's other jobs stay."""
    s.delete_job(job_id)
    return Response(status_code=204)


@router.post(
    "/api/jobs/{job_id}/resume",
    response_model=Job,
    responses={
        400: {"model": Error},
        409: {"model": Error},
        429: {"model": Error},
        **ERRORS,
        **DISK_FULL_ERROR,
    },
)
def resume_job(
    job_id: str, request: Request, key: IdempotencyKey, s: Services = Depends(services)
) -> Job | Response:
    return once(s.store, key, request, None, 200, lambda keying: _resume_job(job_id, s, keying))


def _resume_job(job_id: str, s: Services, keying: Keying | None = None) -> Job:
    job = s.store.job(job_id)
    # A job that cannot be resumed at all (running, done) gets the transition's 409 below.
    if job.status in TRANSITIONS["queued"] and (why := refused_resume(job, s)) is not None:
        s.store.job(job_id)  # a delete that came meanwhile took the copy and the track: its 404
        raise HTTPException(409, why)
    try:
        # Its key's answer kept with the move: kept after it, a crash between the two had the
        # retry refused (the job was queued or running by then).
        job = s.store.transition(job_id, "queued", keyed=keyed_job(keying, s))
    except InvalidTransition as exc:
        raise HTTPException(
            409, f"{exc}: only interrupted, cancelled or failed jobs can be resumed"
        ) from exc
    s.runner.submit(job_id)
    return served(job, s)


def edge_adjust(
    # float() read `feather=1_0` as 10: plain_decimal refuses it. Annotated, it last: put
    # before the range, it would push the range out of the OpenAPI schema's minimum and maximum
    # and call NaN out of range instead of not finite.
    shift_edge: Annotated[
        float,
        Query(ge=-MAX_SHIFT_EDGE, le=MAX_SHIFT_EDGE, allow_inf_nan=False, description=SHIFT_EDGE),
        BeforeValidator(plain_decimal),
    ] = 0.0,
    feather: Annotated[
        float,
        Query(ge=0, le=MAX_FEATHER, allow_inf_nan=False, description=FEATHER),
        BeforeValidator(plain_decimal),
    ] = 0.0,
    reduce_chatter: bool = Query(False, description=REDUCE_CHATTER),
) -> EdgeAdjust:
    """The matte's edge adjustments as the alpha preview and the archive both take them."""
    return EdgeAdjust(shift_edge, feather, reduce_chatter)


@router.get(
    "/api/jobs/{job_id}/alpha/{index}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **ERRORS},
)
def get_alpha(
    job_id: str,
    index: UrlInt,
    object_id: UrlInt | None = Query(
        None,
        ge=1,
        le=MAX_ID,
        description="The object whose matte (8-bit grey PNG); default: the union of all.",
    ),
    max_side: UrlInt | None = Query(
        None, ge=16, le=8192, description="Shrink to at most this many pixels on the long side."
    ),
    edge: EdgeAdjust = Depends(edge_adjust),
    s: Services = Depends(services),
) -> Response:
    job = s.store.job(job_id)
    if not job.start <= index <= job.end:
        raise HTTPException(404, f"frame {index} is outside the job's range {job.start}..{job.end}")
    if index not in s.store.done_frames(job_id):
        raise HTTPException(404, f"frame {index} of job '{job_id}' is not matted yet")
    try:
        # The picture tells still pixels, where chatter is taken out, from moving ones.
        pictures = s.reader(s.store.project(job.project_id)).frame if edge.reduce_chatter else None
        alpha = frame_matte(s.store, job_id, index, object_id, pictures)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    except OSError:
        s.store.job(job_id)  # a delete that came meanwhile took the file: its 404
        raise  # a finished frame's file lost from the data dir is the server's fault: a 500
    # At full size, as the archive does: shrunk first, the edge would move by more pixels.
    alpha = adjust_matte(alpha, edge.shift_edge, edge.feather, s.settings.device)
    image = Image.fromarray(np.round(alpha * 255).astype(np.uint8))
    if max_side and max(image.size) > max_side:  # the editor asks at its stage's size
        image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return png_response(image)


@router.get(
    "/api/jobs/{job_id}/archive",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}},
        409: {"model": Error},
        **ERRORS,
        **DISK_FULL_ERROR,
    },
)
def get_archive(
    job_id: str,
    formats: list[str] = Query(
        ["alpha_png"],
        description="Comma-separated, or the parameter repeated: "
        "alpha_png,rgba_png or formats=alpha_png&formats=rgba_png.",
    ),
    background: str = Query("00ff00"),
    fg: Foreground | None = Query(
        None,
        description="Colour of rgba_png, exr, prores4444, webm_alpha and composite_mp4: the "
        "estimated foreground (old background taken out of soft edges) or the frame's raw "
        "colour. Default: the server's VIDMATTE_EXPORT_FG (estimated).",
    ),
    mattes: Mattes = Query(
        "objects",
        description="A job of several objects: each object's matte in its own folder and "
        "video files (named after the object), their union, or both.",
    ),
    start: int | None = Query(
        None, ge=0, description="The first frame it holds (a frame index); default: the job's."
    ),
    end: int | None = Query(
        None, ge=0, description="The last frame it holds (a frame index); default: the job's."
    ),
    edge: EdgeAdjust = Depends(edge_adjust),
    s: Services = Depends(services),
) -> StreamingResponse:
    job = s.store.job(job_id)  # 404 for an unknown job
    span = archive_span(job, start, end)
    try:
        chosen, colour = parse_formats(",".join(formats)), parse_color(background)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    colour_from = foreground_for(chosen, fg or s.settings.export_fg)  # type: ignore[arg-type]
    # Held from before the plan reads the job's files until the stream ends: a delete of the
    # job or its project that comes meanwhile leaves them to the last download reading them
    # (the headers go out before the first chunk).
    release_files = s.store.lease(job.project_id, job_id)
    try:
        try:
            export = plan_export(s.store, job_id, mattes, span)
        except MatteLost as exc:  # said now: once streaming, it would cut the zip off
            raise HTTPException(500, str(exc)) from exc
        if not export.frames:
            latest = s.store.job(job_id)  # a delete that came meanwhile took the rows: its 404
            raise HTTPException(409, _no_frames(latest, span))
        info = export.project.info
        need = staging_bytes(
            chosen, len(export.frames), info.width, info.height, len(export.layers)
        )
        release_room = reserve_room_to_stage(s.store.staging, need)
    except BaseException:
        release_files()
        raise

    def release() -> None:
        release_room()
        release_files()

    # Named by the source's own frame numbers, as the files inside are (an image sequence's).
    first, last = (
        export.project.info.first_number + i for i in (export.frames[0], export.frames[-1])
    )
    name = archive_name(export.project.name, first, last)
    in_script = archive_name(export.project.name, first, last, script=True)
    body = iter_archive(
        lambda: export_frames(s.store, export, colour_from, s.settings.device, edge),
        chosen,
        export.project.info.fps,
        export.audio_from,
        colour,
        stem=name.removesuffix(".zip"),
        staging=s.store.tmp_dir,
        layers=export.layer_names,
        timecode=export.project.info.timecode,
    )
    missing = missing_frames(job, export.frames, span)
    headers = {
        "Content-Disposition": _attachment(name, in_script),
        # A cancelled, interrupted or running job's archive holds the frames finished so far.
        FRAMES_HEADER: frame_runs(export.frames, job_id),
        **({MISSING_HEADER: frame_runs(missing, job_id)} if missing else {}),
    }
    return StreamingResponse(
        releasing(body, release), media_type="application/zip", headers=headers
    )


def reserve_room_to_stage(staging: store.StagingRoom, need: int) -> Callable[[], None]:
    """507 before the download starts when its staged files (`need` bytes, estimated by
    `staging_bytes`) would not fit beside those of the downloads under way (StagingRoom):
    once started, a write failing for want of space can only cut the zip off, which a browser
    tells as a failed download, not why. Call the returned release when the download ends."""
    if (release := staging.promise(need)) is None:
        raise HTTPException(507, f"{DISK_FULL}: free some space, then download again")
    return release


def archive_span(job: store.Job, start: int | None, end: int | None) -> tuple[int, int]:
    """The frames of `job` an archive holds: `start` to `end`, each the job's own when not
    given; a 422 unless in order and among the job's frames."""
    first = job.start if start is None else start
    last = job.end if end is None else end
    if first > last:
        raise HTTPException(422, f"start {first} is after end {last}")
    if first < job.start or last > job.end:
        raise HTTPException(
            422,
            f"frames {first}-{last} are not all matted by this job: job '{job.id}' has "
            f"frames {job.start}-{job.end}",
        )
    return first, last


def _no_frames(job: store.Job, span: tuple[int, int]) -> str:
    """Why a job's archive (of the frames `span`) is refused, and what to do: wait, or resume
    a job that stopped."""
    among = "" if span == (job.start, job.end) else f" among frames {span[0]}-{span[1]}"
    if job.status in ("queued", "running"):
        wait = "for its first frame" if not among else "for them"
        return (
            f"job '{job.id}' has no finished frames{among} yet: wait {wait} "
            f"(GET /api/jobs/{job.id}/events follows it)"
        )
    return (
        f"job '{job.id}' is {job.status} and has no finished frames{among}: resume it "
        f"(POST /api/jobs/{job.id}/resume) to make some"
    )


def _attachment(name: str, in_script: str) -> str:
    """Content-Disposition of a download: the ASCII `name` for every client, and the name in
    its own script as RFC 6266's `filename*` where it differs (browsers prefer that one)."""
    value = f'attachment; filename="{name}"'
    if in_script != name:
        value += f"; filename*=UTF-8''{urllib.parse.quote(in_script)}"
    return value


def releasing(body: AsyncIterator[bytes], release: Callable[[], None]) -> AsyncIterator[bytes]:
    """`body`, then `release`: when it ends, fails or its client goes away, and also when it
    is never started (a generator that never ran has no `finally` to run)."""

    async def stream() -> AsyncIterator[bytes]:
        try:
            async for chunk in body:
                yield chunk
        finally:
            release()

    wrapped = stream()
    weakref.finalize(wrapped, release)
    return wrapped


FRAMES_HEADER = "X-Vidmatte-Frames"  # the frames an archive holds, as runs: `0-5,8-9`
MISSING_HEADER = "X-Vidmatte-Frames-Missing"  # the job's frames it lacks (not finished yet)
# The longest list of runs a header carries: nginx buffers all of a response's headers in
# 4 or 8 KiB by default (proxy_buffer_size) and refuses the response beyond; every other
# frame of 20,000 listed made a header of 110 KB.
RUNS_HEADER_CHARS = 1000


def frame_runs(frames: list[int], job_id: str) -> str:
    """Job `job_id`'s frames as runs (`0-5,8-9`), or, when those would be longer than
    RUNS_HEADER_CHARS, how many there are, the first and last runs, and where all are listed
    (docs/API.md)."""
    runs = [f"{first}-{last}" for first, last in intervals(frames)]
    listed = ",".join(runs)
    if len(listed) <= RUNS_HEADER_CHARS:
        return listed
    return (
        f"{len(frames)} frames in {len(runs)} runs, from {runs[0]} to {runs[-1]} "
        f"(too many to list: GET /api/jobs/{job_id}/frames lists them)"
    )
