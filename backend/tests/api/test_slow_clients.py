"""Slow work and slow clients do not hold the server: a long probe runs beside other requests,
and clients that stall in their headers or mid-upload (VIDMATTE_IDLE_TIMEOUT) or trickle an
upload (VIDMATTE_MIN_UPLOAD_RATE) are dropped, their temporary files removed."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from tests.server import LiveServer
from tests.waiting import wait_until

IDLE = 1.5  # VIDMATTE_IDLE_TIMEOUT of the server below, seconds
DEADLINE = 60.0  # how long a test waits for something that must happen


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(
        tmp_path_factory.mktemp("slow") / "data", env={"VIDMATTE_IDLE_TIMEOUT": str(IDLE)}
    )
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def many_frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30000 tiny frames after one keyframe: small to send, seconds to probe (6000 took 0.4 s,
    less than a health request on a busy CI machine)."""
    path = tmp_path_factory.mktemp("many") / "many.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(25))
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "x264-params": "keyint=infinite:scenecut=0"}
        image = np.zeros((64, 64, 3), np.uint8)
        for i in range(30000):
            image[:, :, 0] = i % 256
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def connect(server: LiveServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)


def upload_head(server: LiveServer, length: int) -> bytes:
    return (
        f"POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {server.token}\r\n"
        f"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def part(name: str) -> bytes:
    return (
        f'--B\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()


def wait_for(condition: Callable[[], object], what: str) -> None:
    assert wait_until(condition, DEADLINE, 0.05), f"timed out waiting until {what}"


def temp_files(server: LiveServer) -> list[Path]:
    return list((server.data_dir / "tmp").glob("upload-*"))


def read_all(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def test_health_answers_while_an_upload_is_probed(
    slow_server: LiveServer, many_frames: Path
) -> None:
    body = part("many.mp4") + many_frames.read_bytes() + b"\r\n--B--\r\n"
    with connect(slow_server) as sock:
        sock.sendall(upload_head(slow_server, len(body)) + body)
        # The whole file is on the server's disk: from here on it is probing.
        wait_for(
            lambda: any(
                f.stat().st_size == many_frames.stat().st_size for f in temp_files(slow_server)
            ),
            "the upload is received",
        )
        with slow_server.client() as api:
            health = api.get("/api/health")
        assert health.status_code == 200
        # The health answer came while the upload still had none.
        assert select.select([sock], [], [], 0)[0] == [], "the probe blocked other requests"
        head = read_all(sock).split(b"\r\n", 1)[0]
        assert head == b"HTTP/1.1 201 Created", head


def test_a_stalled_upload_is_dropped_and_its_file_removed(
    slow_server: LiveServer, clip: Path
) -> None:
    data = clip.read_bytes()
    body = part("stall.mp4") + data + b"\r\n--B--\r\n"
    with connect(slow_server) as sock:
        sock.sendall(upload_head(slow_server, len(body)) + body[: len(body) // 2])
        wait_for(lambda: temp_files(slow_server), "the upload's temp file exists")
        with slow_server.client() as api:  # others are served meanwhile
            assert api.get("/api/health").status_code == 200
        wait_for(lambda: not temp_files(slow_server), "the stalled upload's file is removed")
        answer = read_all(sock)
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 408 Request Timeout", answer[:300]
    assert b"the upload stalled" in answer
    with slow_server.client() as api:
        assert "stall.mp4" not in [p["filename"] for p in api.get("/api/projects").json()]


def test_a_trickling_upload_is_dropped_and_its_file_removed(
    slow_server: LiveServer, clip: Path
) -> None:
    """A byte at a time never goes idle, but stays far under VIDMATTE_MIN_UPLOAD_RATE."""
    body = part("trickle.mp4") + clip.read_bytes() + b"\r\n--B--\r\n"
    with connect(slow_server) as sock:
        sock.sendall(upload_head(slow_server, len(body)) + body[:1000])
        deadline = time.monotonic() + DEADLINE
        for byte in body[1000:]:
            assert time.monotonic() < deadline, "the trickling upload was never dropped"
            if select.select([sock], [], [], 0.1)[0]:
                break  # the server answered
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
        answer = read_all(sock)
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 408 Request Timeout", answer[:300]
    assert b"the upload is too slow" in answer
    wait_for(lambda: not temp_files(slow_server), "the trickling upload's file is removed")


@pytest.mark.parametrize(
    "sent",
    [b"", b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "],
    ids=["nothing", "half"],
)
def test_slow_headers_are_dropped(slow_server: LiveServer, sent: bytes) -> None:
    with connect(slow_server) as sock:
        sock.sendall(sent)
        assert read_all(sock) == b""  # closed by the server, not by our timeout
    with httpx.Client(base_url=slow_server.url, headers=slow_server.headers) as api:
        assert api.get("/api/health").status_code == 200
