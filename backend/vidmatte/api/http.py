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
answered for object 2 as if the first had not been sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import is_scalar_field
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


def one_value_each(request: Request) -> None:
    """An app-wide dependency: 422 for a single-value query parameter of the route given more
    than once (list parameters, like the archive's `formats`, take repeats)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return
    counts = Counter(key for key, _ in request.query_params.multi_items())
    for field in _query_params(dependant):
        if counts[field.alias] > 1 and is_scalar_field(field):
            given = f"given {counts[field.alias]} times; it takes one value"
            raise HTTPException(422, f"invalid request: {field.alias}: {given}")
