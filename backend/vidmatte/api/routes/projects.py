"""Projects: upload, list, rename, delete, frames and thumbnails."""

from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from PIL import Image
from pydantic import ValidationError

from vidmatte import store
from vidmatte.api.idempotency import (
    Claim,
    IdempotencyKey,
    Keying,
    UploadPrint,
    route_of,
    to_its_end,
)
from vidmatte.api.schemas import (
    PROJECT_NAME,
    SEQUENCE_FPS,
    Error,
    Project,
    ProjectUpdate,
    UrlInt,
    blank,
    without_hidden,
)
from vidmatte.api.security import no_room_for_a_project, require_room_for_a_project
from vidmatte.api.services import Services, services
from vidmatte.api.upload import Upload, disk_full, receive_upload
from vidmatte.media.sequence import (
    NoRoomForVideo,
    is_sequence_source,
    sequence_to_video,
)
from vidmatte.media.video import MediaError, OutsideVideo, VideoReader, probe
from vidmatte.store import ProjectLimit, is_disk_full

router = APIRouter(prefix="/api/projects", tags=["projects"])
ERRORS = {404: {"model": Error}, 422: {"model": Error}}
_FILENAME_MAX = 255  # characters of an upload's file name kept
_RATIO = re.compile(r"([0-9]+)\s*/\s*([0-9]+)")  # an fps written as FFmpeg writes one
# Routes that read a body also answer 400 when it cannot be parsed at all, 413 when it is over
# VIDMATTE_MAX_JSON_BYTES (api/limits.py).
BODY_ERRORS = {400: {"model": Error}, 413: {"model": Error}, 415: {"model": Error}, **ERRORS}
# Routes that write answer 507 when the data dir's disk is full (api/security.py `_unhandled`).
DISK_FULL_ERROR = {507: {"model": Error}}

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    # Each part once, and no other (api/upload.py): a 422 naming it.
                    "additionalProperties": False,
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "name": {"type": "string"},
                        "fps": {
                            "type": "number",
                            "description": "frame rate of an image sequence (a zip): 1..240, a "
                            "decimal (23.976 is exactly 24000/1001); default: the rate its "
                            "images state (EXR, DPX), else 24",
                        },
                    },
                }
            }
        },
    }
}


def jpeg(
    image: np.ndarray, max_side: int | None = None, quality: int = 90, pixel_aspect: float = 1.0
) -> bytes:
    """`image` as a JPEG, within `max_side`; a `pixel_aspect` other than 1 widens it to the
    shape a player shows (thumbnails; frames for clicks stay in stored pixels)."""
    picture = Image.fromarray(image)
    if pixel_aspect != 1:
        width = max(1, round(picture.width * pixel_aspect))
        picture = picture.resize((width, picture.height), Image.Resampling.BILINEAR)
    if max_side and max(picture.size) > max_side:
        picture.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    picture.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def existing_project(project_id: str, s: Services = Depends(services)) -> store.Project:
    """The path's project, read once for the whole request. FastAPI runs dependencies before
    it validates the body, the other path parameters and the query: an unknown project is a
    404 whatever the request holds, not a 422 that has the client fix a body (or a frame
    number) for a project that is not there."""
    return s.store.project(project_id)


# Every route under /api/projects/{project_id} takes its project as this (its `project_id`
# path parameter comes from `existing_project`). Cached per request: a route and its other
# dependencies (an object's) share the one read.
KnownProject = Annotated[store.Project, Depends(existing_project)]


def check_frame(project: store.Project, index: int) -> None:
    """404 unless `index` is one of the project's frames."""
    try:
        project.info.check_frame(index)
    except OutsideVideo as exc:
        raise HTTPException(404, str(exc)) from exc


def check_range(project: store.Project, start: int, end: int) -> None:
    """422 unless start..end is an ordered range of the video's frames (jobs and tracks)."""
    try:
        project.info.check_range(start, end)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.post(
    "",
    status_code=201,
    response_model=Project,
    openapi_extra=UPLOAD_BODY,
    responses={
        408: {"model": Error},
        409: {"model": Error},
        413: {"model": Error},
        415: {"model": Error},
        **DISK_FULL_ERROR,
        **BODY_ERRORS,
    },
)
async def create_project(
    request: Request, key: IdempotencyKey, s: Services = Depends(services)
) -> Project | Response:
    settings = s.settings
    # Blocking work (the database, probing the whole file) runs in threads: this route is
    # async only to stream the body in, and the event loop serves every other request.
    if key is not None:
        return await create_project_once(request, key, s)
    await run_in_threadpool(require_room_for_a_project, s.store, settings)
    upload = await receive_upload(request, s.store.tmp_dir, settings)
    return await run_in_threadpool(add_upload, s, upload)


async def create_project_once(request: Request, key: str, s: Services) -> Project | Response:
    """An upload with an Idempotency-Key. Its retry is received as well (hashed, not written):
    the file's SHA-256 tells whether it is the first request again (its answer, and the file
    goes) or another one (a 422). A key of another route is refused before the body is read,
    another file or other fields as soon as they show (its Content-Length, its name, its size,
    each field: Claim.upload_check)."""
    claim = await Claim.taken(s.store, key, route_of(request))
    with claim:  # a failure or a cancellation before the project is being made frees the key
        claim.check_route()
        check = claim.upload_check(request)
        if claim.first:  # a retry of an upload that made its project needs no room
            await run_in_threadpool(require_room_for_a_project, s.store, s.settings)
        # A retry's file is hashed to be compared, not written: it needs no room either.
        upload = await receive_upload(
            request, s.store.tmp_dir, s.settings, digest=True, to_disk=claim.first, check=check
        )
        print_ = UploadPrint.of(upload).kept()
        if not claim.first:  # its file is empty: hashed only
            upload.path.unlink(missing_ok=True)
        if (again := claim.replay(print_)) is not None:
            return again
    # Made and its answer kept (or its key let go) by a thread that a cancelled request leaves
    # to finish: the key let go at the cancellation had the retry make a second project.
    return await to_its_end(partial(claim.answer, print_, 201, partial(add_upload, s, upload)))


def add_upload(s: Services, upload: Upload, keying: Keying | None = None) -> Project:
    """Probe a received upload and make it a project; the temporary files go either way. A
    zip is an image sequence, made a lossless video first, named after the sequence. With
    `keying`, its Idempotency-Key's answer is kept with the project."""
    filename = _kept_filename(upload.filename)
    video = upload.path.with_suffix(".nut")  # a sequence's video, beside the upload
    try:
        name, blank = upload_name(upload.fields.get("name") or "", filename)
        fps = upload_fps(upload.fields.get("fps"))
        if is_sequence_source(upload.path):
            sequence = sequence_to_video(upload.path, video, fps, s.settings)
            name = default_name(sequence.name, "sequence") if blank else name
        elif fps is not None:
            raise HTTPException(
                422, "invalid fps: only an image sequence (a zip) takes one; a video has its own"
            )
        else:
            # Probed under the name it is read by later: FFmpeg picks its reader by the
            # extension too (a raw MJPEG stream named .jpg is one picture).
            video = upload.path.with_name(upload.path.name + store.source_suffix(filename))
            upload.path.rename(video)
        info, pts = probe(video)
        reader = VideoReader(video, pts, info.rotation)
        try:
            thumbnail = jpeg(reader.frame(0), 320, 85, info.pixel_aspect)
        finally:
            reader.close()
        project = s.store.add_project(
            name,
            filename,
            video,
            info,
            pts,
            thumbnail,
            distinct_name=blank,
            max_projects=s.settings.max_projects,
            keyed=None if keying is None else keying.of(partial(_project, s)),
        )
    except ProjectLimit as exc:
        raise no_room_for_a_project(s.settings) from exc
    except MediaError as exc:
        raise HTTPException(422, f"cannot use '{filename}': {exc}") from exc
    except (OSError, sqlite3.Error) as exc:
        if not is_disk_full(exc):
            raise
        need = exc.need if isinstance(exc, NoRoomForVideo) else upload.size
        raise disk_full(s.store.tmp_dir, need, s.settings.min_free_bytes) from exc
    finally:
        upload.path.unlink(missing_ok=True)
        video.unlink(missing_ok=True)
    return _project(s, project)


def _kept_filename(raw: str) -> str:
    """The upload's file name as kept: without hidden characters, at most 255 long, shortened
    before its extension (FFmpeg picks its reader by it, the project says what was sent)."""
    name = without_hidden(raw) or "video"
    if len(name) <= _FILENAME_MAX:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension if stem and len(extension) < 10 else ""
    return name[: _FILENAME_MAX - len(suffix)] + suffix


def default_name(text: str, fallback: str) -> str:
    """A name from a file's or a zip member's name, which anyone chose: as a rename would take
    it (without hidden characters, trimmed; the store cuts it to length), else `fallback`
    (also for a name that would show nothing)."""
    name = without_hidden(text).strip()
    return fallback if blank(name) else name


def upload_fps(field: str | None) -> float | None:
    """The `fps` field: None when absent or blank."""
    if field is None or not field.strip():
        return None
    if (ratio := _RATIO.fullmatch(field.strip())) and int(ratio[2]):
        # FFmpeg's way to write a rate: the decimal it is, which frame_rate makes exact.
        decimal = f"{int(ratio[1]) / int(ratio[2]):.3f}".rstrip("0").rstrip(".")
        raise HTTPException(
            422,
            f"invalid fps: a decimal number is needed: {decimal} for {field.strip()} (the NTSC "
            "rates 23.976, 29.97, 59.94... are taken as exactly n*1000/1001)",
        )
    try:
        return SEQUENCE_FPS.validate_python(field.strip())
    except ValidationError as exc:
        # Our own validator's ValueError comes back as "Value error, <message>": the message.
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise HTTPException(422, f"invalid fps: {message}") from exc


def upload_name(field: str, filename: str) -> tuple[str, bool]:
    """The `name` field, checked like a rename (a blank one refused as a rename's is), and
    whether it was empty or left out: then it is the file's name without extension, which the
    store makes distinct (the same file uploaded twice: `clip`, `clip (2)`). An HTML form sends
    its empty text field as `name=`: no name given."""
    if not field:
        # Trimmed as a rename is: "   .mp4" is not named "   ".
        return default_name(filename.rsplit(".", 1)[0], "video"), True
    try:
        return PROJECT_NAME.validate_python(field), False
    except ValidationError as exc:
        # Our own validator's ValueError comes back as "Value error, <message>": the message.
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise HTTPException(422, f"invalid name: {message}") from exc


def _project(s: Services, project: store.Project) -> Project:
    return Project.of(project, s.tracker.has(project.id))


@router.get("", response_model=list[Project])
def list_projects(s: Services = Depends(services)) -> list[Project]:
    return [_project(s, p) for p in s.store.projects()]


@router.get("/{project_id}", response_model=Project, responses=ERRORS)
def get_project(project: KnownProject, s: Services = Depends(services)) -> Project:
    return _project(s, project)


@router.patch("/{project_id}", response_model=Project, responses={**BODY_ERRORS, **DISK_FULL_ERROR})
def rename_project(
    project: KnownProject, body: ProjectUpdate, s: Services = Depends(services)
) -> Project:
    return _project(s, s.store.rename_project(project.id, body.name))


@router.delete("/{project_id}", status_code=204, responses={**ERRORS, **DISK_FULL_ERROR})
def delete_project(project: KnownProject, s: Services = Depends(services)) -> Response:
    s.delete_project(project.id)
    return Response(status_code=204)


@contextmanager
def deleted_is_404(s: Services, project_id: str) -> Iterator[None]:
    """A project's file gone while it is read: a 404 when the project was deleted meanwhile
    (the error stands otherwise: a damaged data dir is the server's fault)."""
    try:
        yield
    except OSError:
        s.store.project(project_id)
        raise


@router.get(
    "/{project_id}/frames/{index}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, **ERRORS},
)
def get_frame(
    project: KnownProject,
    index: UrlInt,
    max_side: UrlInt | None = Query(None, ge=16, le=8192),
    s: Services = Depends(services),
) -> Response:
    check_frame(project, index)
    with deleted_is_404(s, project.id):
        image = s.reader(project).frame(index)
    return Response(
        jpeg(image, max_side),
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.get(
    "/{project_id}/thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, **ERRORS},
)
def get_thumbnail(project: KnownProject, s: Services = Depends(services)) -> Response:
    with deleted_is_404(s, project.id):
        data = (s.store.project_dir(project.id) / "thumbnail.jpg").read_bytes()
    return Response(data, media_type="image/jpeg")
