"""Access control at the HTTP edge: the token, Host and Origin checks, security headers, and
answers that never show a server path.

The token works the way Jupyter's does: made once per data dir (or given with --token), printed
in the editor's URL at start. Opening `/?token=...` trades it for an HttpOnly, SameSite=Strict
cookie and redirects to the same page without it, so it stays out of the address bar and history;
scripts send `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import HTTPException, Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vidmatte.config import Settings
from vidmatte.errors import describe, redact_paths
from vidmatte.store import Store, is_disk_full

log = logging.getLogger(__name__)
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_API_PATHS = frozenset({"/api/health"})  # answers its status only without the token

# Self only: the editor and /docs load every script, style and image from this server.
# Inline styles: Solid and Swagger UI set style attributes; no inline script is allowed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the token must not leak through Referer
}


# -- the token ---------------------------------------------------------------------------------
def token_path(data_dir: Path) -> Path:
    return data_dir / "token"


def load_or_create_token(data_dir: Path) -> str:
    """The data dir's token, made at first use: 48 random hex digits in a file only its owner
    can read (0600, created so, never widened)."""
    path = token_path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)  # a copied or restored file may have lost its mode
        token = path.read_text().strip()
        if token:
            return token
        raise ValueError(f"the token file {path} is empty: delete it to make a new token") from None
    token = secrets.token_hex(24)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def resolve_token(settings: Settings) -> str | None:
    """The token this server asks for: --token / VIDMATTE_TOKEN, else the data dir's; None with
    --no-auth."""
    if settings.no_auth:
        return None
    return settings.token or load_or_create_token(settings.data_dir)


def accepted_hosts(settings: Settings) -> tuple[str, ...]:
    """Host names besides loopback ones: --allowed-hosts and the bound address (a wildcard
    address names no host)."""
    bound = () if settings.host in ("0.0.0.0", "::", "") else (settings.host,)
    return (*settings.allowed_hosts, *bound)


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def editor_url(host: str, port: int, token: str | None) -> str:
    """The URL to open: the bound address, or 127.0.0.1 for a wildcard one."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


# -- the middleware --------------------------------------------------------------------------
def _hostname(host_header: str) -> str:
    """`example.org:8000` → `example.org`, `[::1]:8000` → `::1`."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") == 1 else host.rstrip(".")


class AccessGuard:
    """ASGI middleware in front of the whole app. In order: security headers on every answer,
    400 for a Host that is not ours (DNS rebinding), 403 for a state-changing request from a
    foreign Origin (before a byte of its body is read), the `?token=` exchange for a cookie,
    401 for /api without the token, no server paths in error answers, and a JSON 500 for an
    unhandled error (a 507 for a full disk)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        token_given: bool = False,
        allowed_hosts: tuple[str, ...] = (),
        cors_origins: tuple[str, ...] = (),
        data_dir: Path | None = None,
    ):
        self.app = app
        self.token = token.encode() if token else None
        # --token / VIDMATTE_TOKEN: `vidmatte token` prints the data dir's, which this one is not
        self.token_given = token_given
        self.hosts = LOOPBACK_NAMES | {_hostname(h) for h in allowed_hosts if h}
        self.cors_origins = frozenset(cors_origins)
        self.roots = _roots(data_dir)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._guarded_send(send)
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        given = _bearer(headers) or _cookie(headers, _cookie_name(scope))
        if refusal is None and not self._authorised(scope, given):
            if scope["path"] in OPEN_API_PATHS:
                send = _status_only(send)
            else:
                refusal = _unauthorised(given, self.token_given)
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await (refusal or self.app)(scope, receive, tracked)
        except Exception as exc:
            if started:  # too late for another answer: uvicorn logs it and closes
                raise
            # Starlette's own answer to an unhandled error is plain text sent from outside
            # every middleware, without the headers: answer here. (Raising on would make
            # uvicorn drop the connection.)
            await _unhandled(exc, scope)(scope, receive, tracked)

    def _refusal(self, scope: Scope, headers: Headers) -> ASGIApp | None:
        host = headers.get("host", "")
        if not self._accepts(_hostname(host)):
            return _error(
                400, "this server does not answer to that Host name (see --allowed-hosts)"
            )
        method = scope["method"]
        origin = headers.get("origin")
        if method not in SAFE_METHODS and origin is not None and not self._own(origin, host):
            return _error(403, "cross-origin requests may not change anything on this server")
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if method == "GET" and "token" in query and not scope["path"].startswith("/api/"):
            return self._exchange(scope, query)
        return None

    def _authorised(self, scope: Scope, given: str | None) -> bool:
        if self.token is None or not scope["path"].startswith("/api/"):
            return True
        if scope["method"] == "OPTIONS":
            return True  # CORS preflights carry no credentials, and OPTIONS gives no data
        return given is not None and hmac.compare_digest(given.encode(), self.token)

    def _accepts(self, hostname: str) -> bool:
        """Our names, or an IP address: DNS rebinding needs a name, so a typed-in address of
        this machine is safe."""
        if hostname in self.hosts:
            return True
        try:
            ipaddress.ip_address(hostname)
        except ValueError:
            return False
        return True

    def _own(self, origin: str, host: str) -> bool:
        """The app's own origin (scheme aside: a TLS proxy in front keeps Host) or a CORS one."""
        return origin in self.cors_origins or urlsplit(origin).netloc.lower() == host.lower()

    def _exchange(self, scope: Scope, query: dict[str, str]):
        """`/?token=T` → the same page without it, with the session cookie when T is right."""
        given = query.pop("token")
        rest = urlencode(query)
        response = RedirectResponse(scope["path"] + (f"?{rest}" if rest else ""), status_code=303)
        response.headers["Cache-Control"] = "no-store"
        if self.token is not None and hmac.compare_digest(given.encode(), self.token):
            response.set_cookie(
                _cookie_name(scope),
                given,
                httponly=True,
                samesite="strict",
                secure=scope.get("scheme") == "https",
            )
        return response

    def _guarded_send(self, send: Send) -> Send:
        """Adds the security headers; buffers error bodies (small JSON) to take paths out."""
        held: list[Message] = []

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if message["status"] >= 400:
                    held.append(message)
                    return
            elif held and message["type"] == "http.response.body":
                held.append(message)
                if message.get("more_body"):
                    return
                start, *bodies = held
                held.clear()
                body = b"".join(m.get("body", b"") for m in bodies)
                clean = redact_paths(body.decode("utf-8", "replace"), self.roots).encode()
                headers = MutableHeaders(scope=start)
                if "content-length" in headers:
                    headers["content-length"] = str(len(clean))
                await send(start)
                await send({"type": "http.response.body", "body": clean})
                return
            await send(message)

        return guarded


def _unauthorised(given: str | None, token_given: bool) -> JSONResponse:
    """The 401, saying where this server's token comes from: the one it was started with, or
    the data dir's that `vidmatte token` prints."""
    if token_given:
        source = "the one this server was started with (--token or VIDMATTE_TOKEN)"
        detail = (
            f"wrong access token: send {source}"
            if given
            else "this server needs its access token: open the URL that `vidmatte serve` "
            f"printed, or send `Authorization: Bearer <token>` with {source}"
        )
    else:
        detail = (
            "wrong access token: `vidmatte token` on the server prints the right one"
            if given
            else "this server needs its access token: open the URL that `vidmatte serve` "
            "printed, or send `Authorization: Bearer <token>` (`vidmatte token` prints it)"
        )
    return _error(401, detail, {"WWW-Authenticate": "Bearer"})


def _status_only(send: Send) -> Send:
    """/api/health without the token: its status code and `status`, none of its data. An
    error (a 405 for another method, a 415 for a coded request, the 503 of a stopped worker)
    goes out whole: its `detail` holds no data, and says what was wrong."""
    held: list[Message] = []
    whole = False

    async def filtered(message: Message) -> None:
        nonlocal whole
        if message["type"] == "http.response.start":
            whole = not 200 <= message["status"] < 300
        if whole:
            await send(message)
            return
        held.append(message)
        if message["type"] != "http.response.body" or message.get("more_body"):
            return
        start, *bodies = held
        try:
            body = json.loads(b"".join(m.get("body", b"") for m in bodies))
            short = json.dumps({"status": body.get("status")}).encode()
        except (ValueError, AttributeError):
            short = b"{}"
        headers = MutableHeaders(scope=start)
        headers["content-length"] = str(len(short))
        await send(start)
        await send({"type": "http.response.body", "body": short})

    return filtered


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


# The request's state (scope["state"], shared by every middleware) under this name holds what a
# route's 507 for a full disk tells the user to do once there is room (`retry_on_disk_full`).
_RETRY = "disk_full_retry"


def retry_on_disk_full(step: str) -> Callable[[Request], Awaitable[None]]:
    """A route's dependency: its 507 for a full disk says to `step` ("track again") once there
    is room, not "try again". The 507 itself is the app-wide one (`_unhandled`)."""

    async def tag(request: Request) -> None:  # no blocking work: no thread
        setattr(request.state, _RETRY, step)

    return tag


def _unhandled(exc: Exception, scope: Scope) -> JSONResponse:
    """The answer to an error no route answered, called while it is handled. A full disk (the
    file system's or SQLite's) is a 507 that says what to do (the route's next step, else "try
    again"): what the request began to write was undone (the store's transactions,
    `write_atomic`'s files), so sending it again once there is room is safe. Anything else is
    a 500, its traceback in the log, not the answer."""
    where = f"{scope['method']} {scope['path']}"
    if is_disk_full(exc):
        log.warning("disk full in %s: %s", where, exc)
        return _error(507, describe(exc, scope.get("state", {}).get(_RETRY, "try again")))
    log.exception("unhandled error in %s", where)
    detail = f"internal server error ({type(exc).__name__}): the server's log has the details"
    return _error(500, detail)


def _bearer(headers: Headers) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _cookie_name(scope: Scope) -> str:
    """One name per port: cookies ignore ports, and two servers on one host must not clash."""
    server = scope.get("server") or ("", 0)
    return f"vidmatte-token-{server[1]}"


def _cookie(headers: Headers, name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


# -- quotas: what one data dir and one server take ----------------------------------------
def require_room_for_a_project(store: Store, settings: Settings) -> None:
    """507 before an upload's body is read, once the data dir holds its limit of projects.
    (The store checks again as it adds one: uploads may arrive together.)"""
    if len(store.projects()) >= settings.max_projects:
        raise no_room_for_a_project(settings)


def no_room_for_a_project(settings: Settings) -> HTTPException:
    return HTTPException(
        507,
        f"this data dir holds {settings.max_projects} projects, its limit (setting "
        "VIDMATTE_MAX_PROJECTS): delete some first",
    )


# -- no paths in answers (the matching itself is errors.redact_paths) --------------------------
def _roots(data_dir: Path | None) -> tuple[str, ...]:
    if data_dir is None:
        return ()
    forms = {str(data_dir), str(data_dir.resolve())}
    return tuple(sorted((f for f in forms if f not in ("", ".", "/")), key=len, reverse=True))
