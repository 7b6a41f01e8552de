"""Pydantic schemas at the API edge (see docs/API.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vidmatte import store

HEX_COLOR = r"^#[0-9a-fA-F]{6}$"


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    device: str
    sam2_model: str
    sam2_test_model: bool
    sam2_random_init: bool
    matting_head: str
    version: str


class VideoInfo(BaseModel):
    width: int
    height: int
    fps: float
    frame_count: int
    duration: float
    rotation: int
    codec: str
    has_audio: bool


class Project(BaseModel):
    id: str
    name: str
    filename: str
    created_at: str
    video: VideoInfo

    @classmethod
    def of(cls, p: store.Project) -> Project:
        return cls(
            id=p.id,
            name=p.name,
            filename=p.filename,
            created_at=p.created_at,
            video=VideoInfo(**p.info.to_dict()),
        )


class ProjectUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class ObjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    color: str | None = Field(default=None, pattern=HEX_COLOR, examples=["#22c55e"])


class ObjectUpdate(ObjectCreate):
    pass


class Object(BaseModel):
    id: int
    project_id: str
    name: str
    color: str


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: float = Field(allow_inf_nan=False)
    y: float = Field(allow_inf_nan=False)
    label: Literal["positive", "negative"]


class PointsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: list[Point] = Field(max_length=200)


class FramePoints(BaseModel):
    object_id: int
    frame: int
    points: list[Point]


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    object_ids: list[int] | None = None


JobStatus = Literal["queued", "running", "done", "failed", "cancelled", "interrupted"]


class Job(BaseModel):
    id: str
    project_id: str
    status: JobStatus
    start: int
    end: int
    object_ids: list[int]
    frames_done: int
    frames_total: int
    fps: float | None
    eta_seconds: float | None
    error: str | None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, j: store.Job) -> Job:
        return cls(**j.__dict__)


class Error(BaseModel):
    detail: str
