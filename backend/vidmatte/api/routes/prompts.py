"""Objects, their click and box prompts, and the live mask preview of a frame."""

from __future__ import annotations

import io
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from PIL import Image

from vidmatte.api.idempotency import IdempotencyKey, Keying, once
from vidmatte.api.routes.projects import (
    BODY_ERRORS,
    DISK_FULL_ERROR,
    ERRORS,
    KnownProject,
    check_frame,
    deleted_is_404,
)
from vidmatte.api.schemas import (
    MAX_ID,
    Error,
    FramePoints,
    Object,
    ObjectCreate,
    ObjectUpdate,
    PointsUpdate,
    UrlInt,
)
from vidmatte.api.schemas import Point as PointSchema
from vidmatte.api.services import Services, services
from vidmatte.store import Point, check_clicks, split_box

router = APIRouter(prefix="/api/projects/{project_id}", tags=["prompts"])
PREVIEW_OPACITY = 160
ObjectPath = Annotated[UrlInt, Path(ge=1, le=MAX_ID)]


def existing_object(
    project: KnownProject, object_id: ObjectPath, s: Services = Depends(services)
) -> int:
    """The path's object id, once the object is known to exist. FastAPI runs dependencies
    before it validates the body: an unknown object is a 404 whatever the body holds, not a
    422 that has the client fix a body it cannot store anyway."""
    s.store.object(project.id, object_id)
    return object_id


KnownObject = Annotated[int, Depends(existing_object)]


@router.post(
    "/objects",
    status_code=201,
    response_model=Object,
    responses={409: {"model": Error}, **BODY_ERRORS, **DISK_FULL_ERROR},
)
def add_object(
    project: KnownProject,
    request: Request,
    key: IdempotencyKey,
    body: ObjectCreate | None = None,
    s: Services = Depends(services),
) -> Object | Response:
    body = body or ObjectCreate()

    def add(keying: Keying | None) -> Object:
        keyed = None if keying is None else keying.of(lambda made: Object(**made))
        return Object(**s.store.add_object(project.id, body.name, body.color, keyed))

    return once(s.store, key, request, body, 201, add)


@router.get("/objects", response_model=list[Object], responses=ERRORS)
def list_objects(project: KnownProject, s: Services = Depends(services)) -> list[Object]:
    return [Object(**o) for o in s.store.objects(project.id)]


@router.patch(
    "/objects/{object_id}", response_model=Object, responses={**BODY_ERRORS, **DISK_FULL_ERROR}
)
def update_object(
    project: KnownProject,
    object_id: KnownObject,
    body: ObjectUpdate,
    s: Services = Depends(services),
) -> Object:
    return Object(**s.store.update_object(project.id, object_id, body.name, body.color))


@router.delete("/objects/{object_id}", status_code=204, responses={**ERRORS, **DISK_FULL_ERROR})
def delete_object(
    project: KnownProject, object_id: ObjectPath, s: Services = Depends(services)
) -> Response:
    s.store.delete_object(project.id, object_id)
    s.tracker.object_deleted(project.id)
    return Response(status_code=204)


@router.put(
    "/objects/{object_id}/frames/{index}/points",
    response_model=FramePoints,
    responses={409: {"model": Error}, **BODY_ERRORS, **DISK_FULL_ERROR},
)
def set_points(
    project: KnownProject,
    object_id: KnownObject,
    index: UrlInt,
    body: PointsUpdate,
    s: Services = Depends(services),
) -> FramePoints:
    """Replace the object's points on the frame (an empty list clears it); the answer holds
    them as stored. The same click sent twice is stored once (it takes one place under
    VIDMATTE_MAX_POINTS_PER_FRAME); a positive and a negative click at one spot are a 422
    naming both, and nothing is stored."""
    check_frame(project, index)
    points = [Point(**p.model_dump()) for p in body.points]
    try:
        for p in points:
            project.info.check_point(p.x, p.y)
        check_clicks(points)
        split_box(points)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    expected = None if body.expected is None else [Point(**p.model_dump()) for p in body.expected]
    stored = s.store.set_points(project.id, object_id, index, points, expected)
    return FramePoints(
        object_id=object_id,
        frame=index,
        points=[PointSchema(x=p.x, y=p.y, label=p.label) for p in stored],
    )


@router.get("/points", response_model=list[FramePoints], responses=ERRORS)
def list_points(project: KnownProject, s: Services = Depends(services)) -> list[FramePoints]:
    return [
        FramePoints(
            object_id=obj,
            frame=frame,
            points=[PointSchema(x=p.x, y=p.y, label=p.label) for p in points],
        )
        for (obj, frame), points in s.store.points(project.id).items()
    ]


def png_response(image: Image.Image) -> Response:
    """`image` as a PNG answer (the previews, overlays and mattes the editor shows)."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return Response(buf.getvalue(), media_type="image/png")


def coloured_masks(
    masks: dict[int, np.ndarray], colours: dict[int, str], height: int, width: int
) -> Image.Image:
    """Each object's mask (probability > 0.5) in its colour over transparency: the preview's
    and the track's overlay."""
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    for obj_id, prob in masks.items():
        inside = prob > 0.5
        rgba[inside, :3] = [int(colours[obj_id][i : i + 2], 16) for i in (1, 3, 5)]
        rgba[inside, 3] = PREVIEW_OPACITY
    return Image.fromarray(rgba, mode="RGBA")


@router.post(
    "/frames/{index}/preview",
    response_class=Response,
    # 409: a newer preview of the same frame came while this one waited (Segmenter.preview).
    responses={200: {"content": {"image/png": {}}}, 409: {"model": Error}, **ERRORS},
)
def preview(
    project: KnownProject,
    index: UrlInt,
    object_id: UrlInt | None = Query(None, ge=1, le=MAX_ID),
    max_side: UrlInt | None = Query(None, ge=16, le=8192),
    s: Services = Depends(services),
) -> Response:
    """The current prompts' masks on one frame: a grey probability PNG for `object_id`,
    else every object in its colour over a transparent background."""
    check_frame(project, index)
    objects = {o["id"]: o["color"] for o in s.store.objects(project.id)}
    if object_id is not None and object_id not in objects:
        raise HTTPException(404, f"object {object_id} does not exist in project '{project.id}'")
    wanted = [object_id] if object_id is not None else list(objects)
    prompts = s.store.points(project.id)
    points = {obj: prompts.get((obj, index), []) for obj in wanted}
    info = project.info
    # The project was read before: a delete that came since took its video (a 404).
    with deleted_is_404(s, project.id):
        reader = s.reader(project)
        masks = s.segmenter.preview(project.id, reader, info.height, info.width, index, points)
    if object_id is not None:
        prob = masks.get(object_id, np.zeros((info.height, info.width), np.float32))
        image = Image.fromarray(np.round(prob * 255).astype(np.uint8), mode="L")
    else:
        image = coloured_masks(masks, objects, info.height, info.width)
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return png_response(image)
