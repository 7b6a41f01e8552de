"""HTTP that the framework leaves out: a deadline for a request's headers, HEAD wherever GET,
one value for a query parameter that takes one.

uvicorn times a connection out only while it idles between two requests (timeout_keep_alive),
so a client that connects and sends nothing, or its headers a byte at a time, holds the
connection (and its buffers) for good. A slow request body is the upload's own business
(`receive_upload` drops it after the same idle time). At shutdown it waits for every request
still answering, a download whose client stopped reading too: they get SHUTDOWN_SECONDS.

FastAPI answers HEAD with 405 on its GET routes, though HTTP wants HEAD wherever GET is and
download managers and proxies ask it first.

FastAPI keeps the last of a single-value query parameter given twice: `?object_id=1&object_id=2`
answered for object 2 as if the first had not been sent. Python's JSON parser does the same with
a key given twice in one object: `{"start":0,"end":11,"start":3}` tracked frames 3..11.

Nor does anything decode a request body's content coding: a body sent with
`Content-Encoding: gzip` was read as if plain.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import is_scalar_field
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

if TYPE_CHECKING:
    from fastapi._compat import ModelField

# Requests still answering at shutdown (a download under way, or one whose client stopped
# reading) get this long to end, then are cut: uvicorn would wait for them for ever, and the
# running job, stopped only after them, would go on matting.
SHUTDOWN_SECONDS = 5


class _Answered(Exception):
    """A HEAD's headers are out: what the GET would send next is not wanted."""


class HeadAsGet:
    """ASGI middleware: a HEAD request is answered by its GET route, headers only. The body
    ends with the headers, and the route's own body stops at its first chunk (an archive is not
    built for a HEAD)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        answered = False

        async def headers_only(message: Message) -> None:
            nonlocal answered
            if answered:
                raise _Answered
            await send(message)
            if message["type"] == "http.response.start":
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                answered = True

        with contextlib.suppress(_Answered):
            await self.app({**scope, "method": "GET"}, receive, headers_only)


def header_timeout_protocol(seconds: float) -> type[HttpToolsProtocol]:
    """A protocol class that closes a connection whose request headers take over `seconds`."""

    class HeaderTimeoutProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(seconds, self._drop)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _drop(self) -> None:
            if not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()  # a client that never sends a byte

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()  # each request on a kept-alive connection

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderTimeoutProtocol


def _query_params(dependant: Dependant) -> Iterator[ModelField]:
    """The query parameters a route reads, its dependencies' included (the edge adjustments
    of the alpha preview and the archive are read by one)."""
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _query_params(sub)


def query_as_declared(request: Request) -> None:
    """An app-wide dependency for the API's routes: 422 for a query parameter the route does
    not read (a typo was ignored: `archive?format=exr` answered 200 with the default PNGs)
    and for a single-value one given more than once (list parameters, like the archive's
    `formats`, take repeats)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None or not request.url.path.startswith("/api/"):
        return
    fields = list(_query_params(dependant))
    counts = Counter(key for key, _ in request.query_params.multi_items())
    names = sorted({field.alias for field in fields})
    unknown = next((key for key in counts if key not in names), None)
    if unknown is not None:
        takes = f"it takes {', '.join(names)}" if names else "it takes none"
        raise HTTPException(
            422, f"invalid request: {unknown[:100]}: not a query parameter here; {takes}"
        )
    for field in fields:
        if counts[field.alias] > 1 and is_scalar_field(field):
            given = f"given {counts[field.alias]} times; it takes one value"
            raise HTTPException(422, f"invalid request: {field.alias}: {given}")


class _Pairs(list):
    """A JSON object as the key-value pairs sent, repeats kept (json's object_pairs_hook)."""


def repeated_key(body: bytes) -> tuple[str, int] | None:
    """The first key given more than once in an object of a JSON body, as its place
    (`points.1.x`, as validation errors name a field) and how many times; None when there is
    none. Walked without recursion: the parser's own nesting limit is the only one."""
    try:
        stack: list[tuple[tuple[str, ...], object]] = [
            ((), json.loads(body, object_pairs_hook=_Pairs))
        ]
    except (ValueError, RecursionError):
        return None  # not read as JSON: FastAPI refuses it (app.py's handlers word it)
    while stack:
        place, value = stack.pop()
        if isinstance(value, _Pairs):
            repeats = [(key, n) for key, n in Counter(key for key, _ in value).items() if n > 1]
            if repeats:
                key, count = repeats[0]
                return ".".join((*place, key)), count
            children = [((*place, key), item) for key, item in value]
        elif isinstance(value, list):
            children = [((*place, str(i)), item) for i, item in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))  # in the order sent
    return None


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI reads a body of this type as JSON: application/json or application/*+json."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def one_key_each(request: Request) -> None:
    """An app-wide dependency: 422 for a JSON body with a key given more than once in an
    object. FastAPI has read the body by now (and answered one that is not JSON): this reads
    it again, keeping the repeats that its parse drops. Like `query_as_declared`, it runs before
    the route's own dependencies: a repeat sent to an unknown project is this 422, not a 404."""
    if getattr(request.scope.get("route"), "body_field", None) is None:
        return  # no body, or the upload's stream, which the route reads itself
    if not _is_json(request.headers.get("content-type")):
        return
    repeated = repeated_key(await request.body())
    if repeated is not None:
        place, count = repeated
        given = f"given {count} times in the JSON body; a key takes one value"
        raise HTTPException(422, f"invalid request: {place[:200]}: {given}")


class NoContentCoding:
    """ASGI middleware: 415 for a request with a Content-Encoding other than identity, before
    its body is read; with Accept-Encoding: identity, as RFC 9110 (15.5.16) asks."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = Headers(scope=scope).getlist("content-encoding")
            codings = [c.strip() for value in given for c in value.split(",")]
            coded = ", ".join(c for c in codings if c and c.lower() != "identity")
            if coded:
                detail = (
                    f"Content-Encoding {coded[:100]} is not supported: send the body as it is, "
                    "without Content-Encoding"
                )
                answer = JSONResponse({"detail": detail}, 415, {"Accept-Encoding": "identity"})
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
