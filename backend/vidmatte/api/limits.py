"""Request body limit: a JSON body is read whole before validation, so a huge one would be
parsed (and held in memory) before any schema could refuse it. This refuses it first."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """413 for a body over `max_bytes`: at once by its Content-Length, else as it streams in.

    `exempt` (method, path) pairs bring their own limit: the upload counts its bytes itself,
    against the much larger upload limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, exempt: set[tuple[str, str]]):
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt

    def message(self) -> str:
        return f"request body too large: the limit is {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in self.exempt:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await JSONResponse({"detail": self.message()}, 413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # Raised where the route reads its body; FastAPI answers it as JSON.
                raise HTTPException(413, self.message())
            return message

        await self.app(scope, counted, send)
