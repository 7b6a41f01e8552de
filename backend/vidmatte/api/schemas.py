"""Pydantic schemas at the API edge (see docs/API.md)."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
)

from vidmatte import store
from vidmatte.jobs.results import Foreground, Mattes
from vidmatte.jobs.stops import shown_error
from vidmatte.matte.adjust import MAX_FEATHER, MAX_SHIFT_EDGE
from vidmatte.media.export import parse_formats
from vidmatte.media.sequence import MAX_FPS, MIN_FPS

HEX_COLOR = r"^#[0-9a-fA-F]{6}$"
# SQLite stores 64-bit integers; a larger id must be a 4xx, not an OverflowError in the driver.
MAX_ID = 2**63 - 1
# The matte's edge adjustments (matte/adjust.py), applied when it is served or exported: the
# stored mattes stay as matted.
SHIFT_EDGE = (
    "Pixels to grow (positive) or choke (negative) the matte by, fractions too; shift first, "
    "then feather."
)
FEATHER = "Pixels to soften the matte's edge over: a hard edge ramps up over about this width."
REDUCE_CHATTER = (
    "Take out the matte's flicker between frames where the picture is still: each still "
    "pixel the median of its values on the frame and the frames before and after it (where "
    "finished), before shift and feather."
)
# Bidi embeddings, overrides and isolates can disguise a name ("evil\u202egpj.exe" shows as
# "evilexe.jpg"); control characters and line breaks garble lists, logs and terminals.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# Invisible characters make two names that look the same differ ("cat", "c\u200bat"): zero-width
# space, word joiner, BOM (zero-width no-break space), the direction marks (Arabic's too), the soft
# hyphen, the combining grapheme joiner, the Mongolian vowel separator, the invisible math
# operators, the Hangul fillers and the Khmer inherent vowels (Unicode's default-ignorable
# characters that no script needs). Zero-width non-joiner (U+200C) is refused too, unless it
# follows a character of the Arabic or Indic blocks, where it changes the letters' shapes
# (Persian writes it inside words); tag characters unless they follow the black flag or another
# tag (England's flag is U+1F3F4 and tags). Zero-width joiner (U+200D) stays allowed everywhere:
# emoji sequences (a family, a rainbow flag) and Indic conjuncts are made with it, and a rule
# for its neighbours would refuse some of them.
_INVISIBLE = frozenset(
    "\u200b\u200e\u200f\u2060\ufeff\u00ad\u034f\u061c\u180e\u2061\u2062\u2063\u2064"
    "\u3164\uffa0\u17b4\u17b5"
)
_ZWNJ = "\u200c"
_BLACK_FLAG = "\U0001f3f4"
# Characters that show nothing where a script or an emoji allows them (the joiners, variation
# selectors, conjoining Hangul's fillers, the blank braille pattern): a name of these alone
# looks blank.
_SHOW_NOTHING = frozenset("\u200c\u200d\u115f\u1160\u2800")


def _joining(char: str) -> bool:
    """A character of the Arabic (U+0600..U+08FF) or Indic (U+0900..U+0DFF) blocks."""
    return "\u0600" <= char <= "\u0dff"


def _tag(char: str) -> bool:
    return "\U000e0000" <= char <= "\U000e007f"


def _hidden(char: str) -> bool:
    return char in _BIDI or unicodedata.category(char) in ("Cc", "Zl", "Zp")


def _invisible_at(text: str, i: int) -> bool:
    """Whether `text[i]` shows nothing there and makes `text` look like text without it."""
    char, before = text[i], text[i - 1] if i else ""
    if char == _ZWNJ:
        return not _joining(before)
    if _tag(char):
        return not (before == _BLACK_FLAG or _tag(before))
    return char in _INVISIBLE


def _invisible(name: str) -> str | None:
    """The first invisible character of a name that makes it look like another, or None."""
    return next((c for i, c in enumerate(name) if _invisible_at(name, i)), None)


def blank(text: str) -> bool:
    """Whether `text` shows nothing: empty, or spaces and characters that show nothing alone."""
    return all(
        c.isspace() or c in _SHOW_NOTHING or "\ufe00" <= c <= "\ufe0f" or _tag(c) for c in text
    )


def without_hidden(text: str) -> str:
    """Drop control, line-break, bidi-override and invisible characters (for names we did not
    choose)."""
    return "".join(c for i, c in enumerate(text) if not _hidden(c) and not _invisible_at(text, i))


def clean_name(value: str) -> str:
    """A name as shown: trimmed, not blank, no control, bidi-override or invisible
    characters."""
    name = value.strip()
    if blank(name):
        raise ValueError("the name is blank")
    bad = next((c for c in name if _hidden(c)), None)
    if bad is not None:
        raise ValueError(f"the name contains a control character (U+{ord(bad):04X})")
    if (bad := _invisible(name)) is not None:
        raise ValueError(
            f"the name contains an invisible character (U+{ord(bad):04X}): it would look like "
            "a name without it"
        )
    return name


# Trimmed before the length is counted: the spaces around a pasted name are not kept, so they
# must not make it too long. An empty one is blank (clean_name).
ProjectName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(clean_name)
]
ObjectName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(clean_name)
]
PROJECT_NAME = TypeAdapter(ProjectName)
# A number written as text (a form field, a query parameter, a command-line option) in plain
# decimal: a '-', ASCII digits with a '.' among them, and an exponent, as clients write small
# and large floats (JavaScript's String(1e-7) is "1e-7", Python's str(0.00001) "1e-05").
_PLAIN_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def plain_decimal(value: object) -> object:
    """`value`, unless it is text that Python's float() reads as a number but that is not a
    plain decimal one: "1_0" (read as 10: an fps of 1_0 made a 10 fps sequence), "+5", " 5",
    fullwidth digits. Text that is no number at all, "nan" and "inf" go on to pydantic's own
    words."""
    if isinstance(value, str) and not _PLAIN_DECIMAL.fullmatch(value):
        try:
            number = float(value)
        except ValueError:
            return value
        if math.isfinite(number):
            raise ValueError("must be a plain decimal number, as 10, 23.976 or 1e-3")
    return value


SEQUENCE_FPS = TypeAdapter(
    Annotated[
        float, Field(ge=MIN_FPS, le=MAX_FPS, allow_inf_nan=False), BeforeValidator(plain_decimal)
    ]
)
ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _decimal(value: object) -> object:
    # int() also reads "1.0", "+1", " 1", "1_0", "07" and "-0": a URL that names frame "1.0"
    # has a bug its client should hear about, and two spellings of one frame defeat the
    # browser's cache.
    if not isinstance(value, str):
        return value
    if not re.fullmatch(r"-?[0-9]+", value):
        raise ValueError("must be a whole number in decimal digits")
    if not re.fullmatch(r"0|-?[1-9][0-9]*", value):
        raise ValueError(
            "must be a whole number in decimal digits, without leading zeros or a minus on 0"
        )
    return value


# A number in a URL's path or query: decimal digits, as the API writes them.
UrlInt = Annotated[int, BeforeValidator(_decimal)]


class Body(BaseModel):
    """A request body: unknown fields and lax types refused (JSON's true is no frame 1, "0"
    no frame 0: a client that sends them has a bug to hear about)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    device: str
    sam2_model: str
    sam2_test_model: bool
    sam2_random_init: bool
    matting_head: str
    version: str
    max_points_per_frame: int = Field(
        description="The most points (box corners included) one object may hold on a frame "
        "(VIDMATTE_MAX_POINTS_PER_FRAME): the editor refuses more before sending them."
    )
    # The job worker; when it is not running, /api/health answers 503 instead.
    worker: Literal["running"] = "running"


class VideoInfo(BaseModel):
    width: int
    height: int
    fps: float
    frame_count: int
    duration: float
    rotation: int
    codec: str
    has_audio: bool
    pixel_aspect: float = Field(
        default=1.0,
        description="How wide one pixel shows relative to its height (1: square; 32/27: "
        "16:9 DV stored 720x480). Points, frames and mattes are in stored pixels.",
    )
    timecode: str | None = Field(
        default=None,
        description="The source's start timecode, HH:MM:SS:FF (HH:MM:SS;FF: drop-frame), "
        "null when it has none. Exported video files start at the timecode of their first "
        "frame.",
    )
    first_number: int = Field(
        default=0,
        description="The number of frame 0 in the source's own count: an image sequence's "
        "first image's (1001 for shot.1001.png), 0 for a video. Per-frame export files are "
        "named first_number + index (alpha/001001.png); the API's frame indices start at 0.",
    )
    notes: list[str] = Field(
        default_factory=list,
        description="What to know about how the file is read, in words for the user: that "
        "it is cut short (truncated: only the frames it holds are used), that its alpha "
        "channel is ignored (the tool makes its own matte). Empty for most videos.",
    )


class Project(BaseModel):
    id: str
    name: str
    filename: str
    created_at: str
    video: VideoInfo
    has_track: bool = Field(
        description="Whether the project has a track: GET .../track answers it, else a 404 "
        "(a client opening the project need not ask for one it does not have).",
    )

    @classmethod
    def of(cls, p: store.Project, has_track: bool) -> Project:
        return cls(
            id=p.id,
            name=p.name,
            filename=p.filename,
            created_at=p.created_at,
            video=VideoInfo(**p.info.to_dict()),
            has_track=has_track,
        )


class ProjectUpdate(Body):
    name: ProjectName


# Kept as the docs write it (#rrggbb), whichever case it came in.
Color = Annotated[str, Field(pattern=HEX_COLOR, examples=["#22c55e"]), AfterValidator(str.lower)]


class ObjectCreate(Body):
    name: ObjectName | None = None
    color: Color | None = None


class ObjectUpdate(Body):
    # A field left out keeps its value. A null is no name or colour: a 422 naming the field,
    # as a project's rename answers (it was taken for left out, a 200 that changed nothing).
    # Not Optional: pydantic does not validate the default, so only a null sent is refused.
    name: ObjectName = Field(default=None)
    color: Color = Field(default=None)


class Object(BaseModel):
    id: int
    project_id: str
    name: str
    color: str


def _overflow_to_infinity(value: object) -> object:
    """An integer too large for a float (JSON's 10**400) as the infinity it rounds to: refused
    as 1e400 is, "a finite number", not "a valid number", which it is."""
    if type(value) is int:  # not bool: strict, it is refused as no number
        try:
            float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return value


def _unsigned_zero(value: float) -> float:
    return value + 0.0  # -0.0 is 0.0: one spelling stored and echoed


def finite_float(ge: float | None = None, le: float | None = None) -> Any:
    """The type of each float in a request body, in [ge, le] where given: infinity, NaN and
    numbers too large for a float (JSON's 1e400 and 10**400) are "not a finite number", the
    rest outside the range "greater than or equal to" or "less than or equal to" it, and -0.0
    is 0.0. The range goes in here, with the float, not in a Field after the validators:
    there pydantic would write it into the OpenAPI schema as "ge" and "le", which JSON
    Schema ignores, instead of "minimum" and "maximum"."""
    return Annotated[
        float,
        Field(ge=ge, le=le, allow_inf_nan=False),
        BeforeValidator(_overflow_to_infinity),
        AfterValidator(_unsigned_zero),
    ]


Coordinate = finite_float()  # in frame pixels; the store checks it is on the frame
ShiftEdge = finite_float(-MAX_SHIFT_EDGE, MAX_SHIFT_EDGE)
Feather = finite_float(0, MAX_FEATHER)


class Point(Body):
    x: Coordinate
    y: Coordinate
    # "box": one of the two opposite corners of the object's box on the frame (at most one).
    label: Literal["positive", "negative", "box"]


class PointsUpdate(Body):
    points: list[Point]  # at most settings.max_points_per_frame (the store checks)
    expected: list[Point] | None = Field(
        None,
        description="The points this edit began from. When given and the frame's stored "
        "points differ (another tab or window changed them), nothing is stored: 409.",
    )


class FramePoints(BaseModel):
    object_id: int
    frame: int
    points: list[Point]


def _formats(value: list[str]) -> list[str]:
    return parse_formats(",".join(value))  # ValueError (a 422) for an unknown format


class ExportChoice(Body):
    """What to download from a job, chosen with it: the archive's query parameters."""

    formats: Annotated[list[str], Field(min_length=1, max_length=32), AfterValidator(_formats)]
    # The composite's colour, written as the archive takes it (with or without '#', either
    # case); kept without and in lower case, as the editor's URLs want it.
    background: Annotated[
        str,
        Field(pattern=r"^#?[0-9a-fA-F]{6}$"),
        AfterValidator(lambda v: v.removeprefix("#").lower()),
    ] = "00ff00"
    fg: Foreground | None = None  # None: the server's VIDMATTE_EXPORT_FG
    mattes: Mattes = "objects"
    # 0 for jobs stored before these existed (their export JSON lacks them).
    shift_edge: ShiftEdge = Field(0.0, description=SHIFT_EDGE)
    feather: Feather = Field(0.0, description=FEATHER)
    reduce_chatter: bool = Field(False, description=REDUCE_CHATTER)


class JobCreate(Body):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    object_ids: list[ObjectId] | None = None  # at most settings.max_objects (the route checks)
    export: ExportChoice | None = Field(
        None, description="The downloads chosen with the job, kept with it for any browser."
    )


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
    # What went wrong and what to do about it on this server (jobs/stops.py `shown_error`).
    error: str | None
    created_at: str
    updated_at: str
    # What the job runs with, fixed when it was made: a resume uses the same.
    prompts: list[FramePoints]
    edges: str
    head: str
    sam2_model: str  # '' for jobs of an older version
    plate: bool = Field(
        description="Whether its best edges take the background seen behind each object in"
        " other frames (the server's VIDMATTE_PLATE when it was made, resolved)"
    )
    # Its last run read the masks of the project's track (same range and prompts) instead of
    # running SAM2 again.
    used_track: bool
    export: ExportChoice | None  # as chosen when it was made
    object_names: dict[int, str] = Field(
        description="Each object's name when the job was made (JSON keys: the ids as strings):"
        " its archive's folders and files keep these names after a rename or delete. An"
        " older job lacks the objects deleted before the upgrade that recorded them."
    )

    resumable: bool = Field(
        description="Whether POST /api/jobs/{id}/resume would take it now: it is cancelled,"
        " interrupted or failed, this server runs its matting head and SAM2, and the masks its"
        " first frames were matted from are at hand (a full queue aside)"
    )

    @classmethod
    def of(cls, j: store.Job, head: str, sam2: str, resumable: bool) -> Job:
        """The job as a server with this matting head and SAM2 serves it; `resumable` as the
        route found it (api/routes/jobs.py `resumable`)."""
        fields = {k: v for k, v in j.__dict__.items() if k in cls.model_fields}
        fields["resumable"] = resumable
        fields["error"] = shown_error(j, head, sam2)
        fields["sam2_model"] = j.sam2
        fields["prompts"] = [
            FramePoints(
                object_id=obj,
                frame=frame,
                points=[Point(x=p.x, y=p.y, label=p.label) for p in points],
            )
            for (obj, frame), points in j.prompts.items()
        ]
        return cls(**fields)


# A run of frames, [first, last]: a list of two, not a tuple, whose schema here came out as an
# array of item schemas, which schema validators (schemathesis: tests/api/test_fuzz.py) refuse.
FrameRun = Annotated[list[int], Field(min_length=2, max_length=2)]


class JobFrames(BaseModel):
    """A job's frames by whether they are matted, as [first, last] runs: all of them, where the
    archive's headers sum up a long list."""

    job_id: str
    start: int
    end: int
    done: list[FrameRun] = Field(description="The finished frames, as runs.")
    missing: list[FrameRun] = Field(
        description="The job's other frames (not finished yet), as runs; empty when complete."
    )


class Error(BaseModel):
    detail: str


class KeyAnswer(BaseModel):
    """The answer kept for an Idempotency-Key: what a retry of its request would get again,
    asked for without sending that request (an upload's whole file) again."""

    key: str
    route: str = Field(description="The method and path its request went to: `POST /api/projects`.")
    status: int = Field(description="Its answer's status code: 201 for what it made.")
    body: dict[str, Any] = Field(description="Its answer's JSON body: the project an upload made.")


class TrackCreate(Body):
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class TrackFlag(BaseModel):
    frame: int
    object_id: int
    reason: Literal["lost", "area jump", "moved"]


class TrackRun(BaseModel):
    """What the last run (re-)tracked: after a correction, only the changed part."""

    start: int
    end: int
    object_ids: list[int]


class Track(BaseModel):
    project_id: str
    status: Literal["running", "done", "cancelled", "failed", "interrupted"]
    start: int
    end: int
    object_ids: list[int]
    mask_width: int
    mask_height: int
    run: TrackRun
    frames_done: int
    frames_total: int
    fps: float | None
    eta_seconds: float | None
    error: str | None
    stale: bool  # the prompts in the range changed since the track was made
    # Frames with masks, as [first, last] runs: they grow as the track runs.
    tracked: list[tuple[int, int]]
    flags: list[TrackFlag]  # frames to check: an object lost, or its area or position jumps
