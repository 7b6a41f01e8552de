"""Hardening at the HTTP edge: path parameters stay inside the data dir, CORS allows only the
app's own origin by default, and the upload size limit holds while the body streams in."""

from __future__ import annotations

import select
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import upload
from tests.server import LiveServer

LIMIT = 3 * 1024 * 1024  # the session server's VIDMATTE_MAX_UPLOAD_BYTES


def raw_request(server: LiveServer, target: str, method: str = "GET") -> tuple[int, bytes]:
    """Send the request target byte for byte (clients normalise `..` and `%2F`)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Authorization: Bearer {server.token}\r\n"
            "Content-Length: 0\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.fixture(scope="module")
def outside(server: LiveServer) -> Path:
    """Files beside the data dir that look like what the routes read."""
    root = server.data_dir.parent / "outside"
    (root / "alpha").mkdir(parents=True, exist_ok=True)
    (root / "thumbnail.jpg").write_bytes(b"SECRET-THUMBNAIL")
    (root / "alpha" / "000000.png").write_bytes(b"SECRET-ALPHA")
    (root / "frames.npy").write_bytes(b"SECRET-FRAMES")
    return root


TRAVERSALS = [
    "..%2F..%2Foutside",
    "..%2foutside",
    "%2E%2E%2F%2E%2E%2Foutside",
    "..%5C..%5Coutside",
    "%2Fetc%2Fpasswd",
    "..",
    "%2E%2E",
    "....%2F%2F....%2F%2Foutside",
    "p_x%00..%2F..%2Foutside",
    "%252E%252E%252Foutside",
]
ROUTES = [
    ("GET", "/api/projects/{id}"),
    ("GET", "/api/projects/{id}/thumbnail"),
    ("GET", "/api/projects/{id}/frames/0"),
    ("GET", "/api/projects/{id}/objects"),
    ("GET", "/api/projects/{id}/points"),
    ("GET", "/api/projects/{id}/jobs"),
    ("DELETE", "/api/projects/{id}"),
    ("POST", "/api/projects/{id}/frames/0/preview"),
    ("GET", "/api/jobs/{id}"),
    ("GET", "/api/jobs/{id}/alpha/0"),
    ("GET", "/api/jobs/{id}/archive"),
    ("POST", "/api/jobs/{id}/cancel"),
    ("POST", "/api/jobs/{id}/resume"),
]


@pytest.mark.parametrize("method, route", ROUTES)
def test_ids_cannot_leave_the_data_dir(
    server: LiveServer, outside: Path, method: str, route: str
) -> None:
    for evil in TRAVERSALS:
        status, body = raw_request(server, route.replace("{id}", evil), method)
        assert status in (400, 404, 405, 422), (route, evil, status, body[:200])
        assert b"SECRET" not in body and b"root:" not in body, (route, evil)
    assert sorted(p.name for p in outside.rglob("*")) == [
        "000000.png",
        "alpha",
        "frames.npy",
        "thumbnail.jpg",
    ]


def test_dot_segments_in_raw_paths(server: LiveServer) -> None:
    for target in (
        "/api/projects/../../../../etc/passwd",
        "/../../etc/passwd",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/api/..%2F..%2F..%2Fetc%2Fpasswd",
        "/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    ):
        status, body = raw_request(server, target)
        assert b"root:" not in body, target
        assert status in (400, 404, 405, 422, 503), (target, status)


def test_numeric_path_params_refuse_paths(api: httpx.Client, project: dict) -> None:
    pid = project["id"]
    for bad in ("..%2F0", "0%2F..%2F..", "1e3", "-0x1"):
        response = api.get(f"/api/projects/{pid}/frames/{bad}")
        assert response.status_code in (404, 422), (bad, response.text)
        assert isinstance(response.json()["detail"], str)
    assert api.get(f"/api/projects/{pid}/frames/-1").status_code == 404


def test_upload_filename_cannot_place_files(
    server: LiveServer, api: httpx.Client, clip: Path
) -> None:
    for name in ("../../../evil.mp4", "..\\..\\evil.mp4", "/tmp/evil.mp4"):
        with clip.open("rb") as f:
            response = api.post("/api/projects", files={"file": (name, f, "video/mp4")})
        assert response.status_code == 201, response.text
        project = response.json()
        assert project["filename"] == "evil.mp4"
        folder = server.data_dir / "projects" / project["id"]
        assert sorted(p.name for p in folder.iterdir()) == [
            "frames.npy",
            "source.mp4",
            "thumbnail.jpg",
        ]
        assert api.delete(f"/api/projects/{project['id']}").status_code == 204
    for folder in (
        server.data_dir,
        server.data_dir.parent,
        server.data_dir.parent.parent,
        Path("/tmp"),
    ):
        assert not (folder / "evil.mp4").exists()


# -- CORS ------------------------------------------------------------------------------------
def preflight(base_url: str, origin: str) -> httpx.Response:
    return httpx.options(
        f"{base_url}/api/projects",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def test_cors_foreign_origin_gets_nothing(server: LiveServer, api: httpx.Client) -> None:
    for origin in ("http://evil.example", "null", server.url.replace("127.0.0.1", "localhost")):
        response = api.get("/api/projects", headers={"Origin": origin})
        assert response.status_code == 200  # the server answers; the browser will not share it
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-credentials" not in response.headers
        answer = preflight(server.url, origin)
        assert "access-control-allow-origin" not in answer.headers
        assert "access-control-allow-methods" not in answer.headers
    # The app's own origin is same-origin: it needs no CORS header and works.
    own = api.get("/api/health", headers={"Origin": server.url})
    assert own.status_code == 200


def test_cors_only_configured_origins(tmp_path: Path) -> None:
    allowed = "http://editor.example:5173"
    live = LiveServer(tmp_path / "data", env={"VIDMATTE_CORS_ORIGINS": allowed})
    live.start()
    try:
        ok = httpx.get(f"{live.url}/api/health", headers={"Origin": allowed})
        assert ok.headers.get("access-control-allow-origin") == allowed
        assert preflight(live.url, allowed).headers.get("access-control-allow-origin") == allowed
        foreign = httpx.get(f"{live.url}/api/health", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in foreign.headers
        refused = preflight(live.url, "http://evil.example")
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
    finally:
        live.stop()


# -- upload size ---------------------------------------------------------------------------
def stream_until_answered(
    server: LiveServer, head: bytes, chunks, max_bytes: int
) -> tuple[int, bytes, int]:
    """Send `head`, then chunks (chunked transfer encoding) until the server answers or
    `max_bytes` are sent. Returns status, body and how many body bytes went out."""
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head)
        try:
            for chunk in chunks:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable or sent >= max_bytes:
                    break
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: read what it said
        data = b""
        sock.settimeout(30)
        try:
            while part := sock.recv(65536):
                data += part
                if b"\r\n\r\n" in data and data.rstrip().endswith(b"}"):
                    break
        except ConnectionResetError:
            pass
    head_part, _, body = data.partition(b"\r\n\r\n")
    assert head_part, "no answer from the server"
    return int(head_part.split(b" ", 2)[1]), body, sent


def multipart_head(server: LiveServer, boundary: str) -> bytes:
    return (
        f"POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {server.token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()


def test_oversize_upload_refused_while_streaming(server: LiveServer, api: httpx.Client) -> None:
    """No Content-Length: the server counts as it goes and answers 413 long before the end."""
    before = api.get("/api/projects").json()
    boundary = "vidmatte-boundary"
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        'filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()

    def body():
        yield part
        while True:
            yield b"\0" * 65536

    started = time.monotonic()
    status, answer, sent = stream_until_answered(
        server, multipart_head(server, boundary), body(), max_bytes=200 * 1024 * 1024
    )
    assert status == 413, answer
    assert b"upload too large" in answer
    assert sent < 40 * 1024 * 1024, f"the server let {sent} bytes in before refusing"
    assert time.monotonic() - started < 30
    time.sleep(0.2)
    assert list((server.data_dir / "tmp").iterdir()) == []
    assert api.get("/api/projects").json() == before


def test_oversize_body_without_a_file_is_refused(server: LiveServer) -> None:
    """Text fields and part headers count too: a body with no file part cannot stream forever.
    (A field sent twice, or one the upload does not take, is refused at its header: one
    endless field.)"""
    boundary = "b0undary"

    def body():
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n'.encode()
        while True:
            yield b"x" * 60000

    status, answer, sent = stream_until_answered(
        server, multipart_head(server, boundary), body(), max_bytes=200 * 1024 * 1024
    )
    assert status == 413, answer
    assert sent < 40 * 1024 * 1024
    assert list((server.data_dir / "tmp").iterdir()) == []


def test_declared_oversize_refused_before_the_body(server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            (
                f"POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {server.token}\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n"
                f"Content-Length: {10 * LIMIT}\r\n\r\n"
            ).encode()
        )
        answer = sock.recv(65536)  # answered without a single body byte sent
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_upload_just_under_the_limit_passes_the_size_check(api: httpx.Client, clip: Path) -> None:
    """Padding a real clip's name field keeps it well under the limit: accepted."""
    project = upload(api, clip, "x" * 150)
    assert project["name"] == "x" * 150
    assert api.delete(f"/api/projects/{project['id']}").status_code == 204
