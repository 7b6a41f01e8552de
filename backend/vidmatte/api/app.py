"""The FastAPI application: routes under /api, the built editor at /."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from starlette.types import Receive, Scope, Send

from vidmatte import __version__
from vidmatte.api.docs import mount_docs
from vidmatte.api.http import HeadAsGet, NoContentCoding, one_key_each, query_as_declared
from vidmatte.api.idempotency import REPLAYED_HEADER
from vidmatte.api.limits import BodyLimit
from vidmatte.api.routes import jobs, keys, projects, prompts, tracks
from vidmatte.api.routes.jobs import FRAMES_HEADER, MISSING_HEADER
from vidmatte.api.schemas import Error, Health
from vidmatte.api.security import AccessGuard, accepted_hosts, resolve_token
from vidmatte.api.services import Services, services
from vidmatte.config import Settings, check_runner
from vidmatte.jobs.results import FOREGROUNDS
from vidmatte.jobs.runner import InProcessRunner, JobRunner, hold_other_models
from vidmatte.jobs.tracks import Tracker
from vidmatte.matte.infer import Matter
from vidmatte.matte.refine import check_edges
from vidmatte.matte.weights import load_head, random_head, restore_hint
from vidmatte.media.video import MediaError
from vidmatte.segment.models import build_predictor
from vidmatte.segment.session import Segmenter, Superseded
from vidmatte.store import LimitExceeded, NotFound, PointsChanged, QueueFull, Store

log = logging.getLogger(__name__)
UNTRAINED_HEAD = "untrained (random weights)"


class HeadMissing(FileNotFoundError):
    """No matting head weights where the settings point, and no opt-in to an untrained head."""


def build_services(settings: Settings) -> Services:
    """Load the models and open the store. Raises HeadMissing or CheckpointMissing when weights
    are absent, DataDirInUse when another process serves the data dir."""
    if settings.export_fg not in FOREGROUNDS:  # else every archive would fail with a 500
        choices = ", ".join(FOREGROUNDS)
        raise ValueError(f"VIDMATTE_EXPORT_FG must be one of {choices}, not '{settings.export_fg}'")
    if not settings.head_path.is_file() and not settings.random_head:
        raise HeadMissing(
            f"no matting head weights at {settings.head_path}: pass --head PATH (env "
            "VIDMATTE_HEAD), or --random-head to run with an untrained head (poor mattes)"
            f"{restore_hint(settings.head_path)}"
        )
    plate = settings.use_plate  # bad values refused before the data dir is touched
    check_edges(settings.edges)
    store = Store(
        settings.data_dir,
        settings.max_objects,
        settings.max_points_per_frame,
        settings.max_queued_jobs,
        plate=plate,
        edges=settings.edges,
        idempotency_seconds=settings.idempotency_hours * 3600,
    )
    predictor = build_predictor(
        settings.sam2_model,
        settings.checkpoint_dir,
        settings.device,
        random_init=settings.random_init,
        compile=settings.compile_sam2,
    )
    segmenter = Segmenter(predictor, settings.sam2_model)
    if settings.head_path.is_file():
        head, card = load_head(settings.head_path)
        head_name = card.get("name", settings.head_path.stem)
    else:
        log.warning("no matting head weights at %s: using an untrained head", settings.head_path)
        head, head_name = random_head(), UNTRAINED_HEAD
    matter = Matter(head, settings.device, settings.edges, plate=plate)
    runner = build_runner(settings, store, segmenter, matter)
    # Random weights of a real size make other masks than its checkpoint: another model.
    random = settings.random_init and settings.sam2_model != "test-tiny"
    sam2_name = f"{settings.sam2_model} (random weights)" if random else settings.sam2_model
    return Services(
        settings=settings,
        store=store,
        segmenter=segmenter,
        matter=matter,
        head_name=head_name,
        sam2_name=sam2_name,
        runner=runner,
        tracker=Tracker(store, segmenter, sam2_name),
    )


def build_runner(
    settings: Settings, store: Store, segmenter: Segmenter, matter: Matter
) -> JobRunner:
    """The job runner the settings name; Ray only when asked for (an optional extra)."""
    if settings.runner == "inprocess":
        return InProcessRunner(store, segmenter, matter)
    check_runner(settings.runner)
    try:
        from vidmatte.jobs.ray_runner import RayRunner
    except ModuleNotFoundError as exc:
        raise ValueError(
            "--runner ray needs Ray: install the extra (`uv sync --extra ray`, or "
            "`pip install 'vidmatte[ray]'`)"
        ) from exc
    return RayRunner(store, settings, segmenter, matter)


def unreadable_json(cause: BaseException | None) -> str | None:
    """Why Python's JSON parser gave up on a body that may well be valid JSON: a number longer
    than Python reads into an int, or nesting past its recursion limit; None for other causes."""
    if isinstance(cause, RecursionError):
        return "is nested too deeply (JSON arrays and objects)"
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        return f"holds a number of over {sys.get_int_max_str_digits()} digits"
    return None


def create_app(settings: Settings | None = None, built: Services | None = None) -> FastAPI:
    settings = settings or Settings()
    svc = built or build_services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        hold_other_models(svc.store, svc.head_name, svc.sam2_name)
        svc.runner.start()
        yield
        svc.tracker.stop()
        svc.runner.stop()  # event streams have ended by now (sse-starlette), the job is stopped
        svc.store.close()

    app = FastAPI(
        title="vidmatte",
        version=__version__,
        lifespan=lifespan,
        description="Interactive video matting: SAM2 click prompts and a matting head.",
        docs_url=None,  # mount_docs serves it without a CDN
        redoc_url=None,
        dependencies=[Depends(query_as_declared), Depends(one_key_each)],
    )
    app.state.services = svc
    # Bodies are read as sent: a coded one is refused before it is read. Added first, so it
    # runs inside CORS: a browser on another allowed origin can read the 415.
    app.add_middleware(NoContentCoding)
    if settings.cors_origins:  # same-origin needs no CORS; others only when configured
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
            # what the editor reads of an archive's answer (routes/jobs.py), and the mark of a
            # replayed answer (api/idempotency.py)
            expose_headers=["Content-Disposition", FRAMES_HEADER, MISSING_HEADER, REPLAYED_HEADER],
        )
    # JSON bodies are capped before parsing; the upload streams against its own limit.
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_json_bytes, exempt={("POST", "/api/projects")}
    )
    # Host, Origin and token checks, headers on every answer: before any route.
    app.add_middleware(
        AccessGuard,
        token=resolve_token(settings),
        token_given=bool(settings.token) and not settings.no_auth,
        allowed_hosts=accepted_hosts(settings),
        cors_origins=settings.cors_origins,
        data_dir=settings.data_dir,
    )
    app.add_middleware(HeadAsGet)  # added last, so it runs first: the rest sees a GET

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # One readable string, like every other error (docs/API.md), not FastAPI's list; a body
        # that is not JSON at all is a 400 (unparseable), not a 422 (parsed but invalid); one
        # sent as another type (FastAPI then reads no JSON from it) is a 415 that says so.
        errors = exc.errors()
        sent = request.headers.get("content-type", "")
        if sent and "json" not in sent and any(e.get("loc") == ("body",) for e in errors):
            want = "the body must be JSON, sent as Content-Type: application/json"
            detail = f"{want} (got {sent[:100]})"
            return JSONResponse({"detail": detail}, status_code=415)
        broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if broken is not None:
            at = broken.get("loc", ("body", "?"))[-1]
            detail = f"the body is not valid JSON (at character {at})"
            return JSONResponse({"detail": detail}, status_code=400)
        return JSONResponse({"detail": validation_message(errors)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI answers a JSON body it cannot decode with "There was an error parsing the
        # body"; JSON is UTF-8 (RFC 8259), so say where the text broke.
        cause = exc.__cause__
        if isinstance(cause, UnicodeDecodeError):
            detail = f"the body is not valid UTF-8 (at byte {cause.start}): JSON must be UTF-8"
            return JSONResponse({"detail": detail}, status_code=400)
        if (why := unreadable_json(cause)) is not None:
            detail = f"the body {why}: it cannot be read as JSON"
            return JSONResponse({"detail": detail}, status_code=400)
        return await http_exception_handler(request, exc)

    @app.exception_handler(MediaError)
    @app.exception_handler(LimitExceeded)
    async def unprocessable(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(Superseded)
    @app.exception_handler(PointsChanged)
    async def conflict(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(QueueFull)
    async def queue_full(_: Request, exc: QueueFull) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": "60"})

    @app.get(
        "/api/health", response_model=Health, tags=["health"], responses={503: {"model": Error}}
    )
    def health(request: Request) -> Health | JSONResponse:
        s = services(request)
        if not s.runner.alive():
            detail = "the job worker is not running: jobs stay queued; restart the server"
            return JSONResponse({"detail": detail}, status_code=503)
        return Health(
            device=s.settings.device,
            sam2_model=s.segmenter.name,
            sam2_test_model=s.segmenter.name == "test-tiny",
            sam2_random_init=s.settings.random_init or s.segmenter.name == "test-tiny",
            matting_head=s.head_name,
            version=__version__,
            max_points_per_frame=s.settings.max_points_per_frame,
        )

    for module in (projects, prompts, jobs, tracks, keys):
        app.include_router(module.router)

    # Before the editor's files, which are mounted at / and would answer any other /api path
    # (a GET of a POST-only route included) with their own bare 404. For every method, TRACE
    # and WebDAV's too: one it left out was answered by the path's first route, a 405 naming
    # that route's methods alone.
    app.add_route("/api/{rest:path}", NO_ENDPOINT, include_in_schema=False)
    mount_docs(app)
    _mount_frontend(app, settings.frontend_dir)
    return app


MAX_ERRORS_SHOWN = 3


def _no_endpoint(request: Request) -> JSONResponse:
    """404 for an /api path no route has, 405 (with Allow) for a method it does not take."""
    path = request.url.path
    allowed = sorted(allowed_methods(request))
    if not allowed:
        return JSONResponse({"detail": f"no API endpoint at {path}"}, status_code=404)
    detail = f"{path} does not answer {request.method}; it takes {', '.join(allowed)}"
    return JSONResponse({"detail": detail}, 405, headers={"Allow": ", ".join(allowed)})


class _AnyMethod:
    """`_no_endpoint` as an ASGI app: Starlette routes a function endpoint given no methods
    for GET alone, an ASGI app for every method."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _no_endpoint(Request(scope, receive))(scope, receive, send)


NO_ENDPOINT = _AnyMethod()
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> set[str]:
    """The methods the API's routes answer at the request's path, found by asking each route
    as the router does (the catch-all and mounted static files aside)."""
    routes = [
        route
        for route in request.app.router.routes
        if not isinstance(route, Mount) and getattr(route, "endpoint", None) is not NO_ENDPOINT
    ]
    found = {
        method
        for method in ALL_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    }
    return found | {"HEAD"} if "GET" in found else found  # HeadAsGet answers it (api/http.py)


def validation_message(errors: Sequence[dict]) -> str:
    """`index: Input should be a valid integer; start: ...` from pydantic's error list.

    The first few errors only, each cut short: a body of 100 000 bad items gets a short answer.
    """
    parts = []
    for error in errors[:MAX_ERRORS_SHOWN]:
        loc = [str(part) for part in error.get("loc", ())]
        field = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "request")
        # Our own validators' ValueErrors come back as "Value error, <message>": the message.
        message = error.get("msg", "invalid value").removeprefix("Value error, ")
        parts.append(f"{field}: {message}"[:200])
    if len(errors) > MAX_ERRORS_SHOWN:
        parts.append(f"and {len(errors) - MAX_ERRORS_SHOWN} more")
    return "invalid request: " + ("; ".join(parts) or "validation failed")


def _mount_frontend(app: FastAPI, dist: Path) -> None:
    if (dist / "index.html").exists():
        app.mount("/", StaticFiles(directory=dist, html=True), name="editor")
    else:

        @app.get("/", include_in_schema=False)
        def no_editor() -> JSONResponse:
            return JSONResponse(
                {
                    "detail": f"the editor is not built ({dist} is missing): run "
                    "`npm --prefix frontend ci && npm --prefix frontend run build`"
                },
                status_code=503,
            )
