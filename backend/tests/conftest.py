from __future__ import annotations

import contextlib
import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import torch

from tests.server import LiveServer
from tests.synth import write_video


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-frame 96x64 H.264 clip of a soft-edged disk moving right."""
    path = tmp_path_factory.mktemp("media") / "disk.mp4"
    write_video(path)
    return path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server for the session; tests create their own projects in it."""
    live = LiveServer(
        tmp_path_factory.mktemp("server") / "data",
        env={"VIDMATTE_MAX_UPLOAD_BYTES": str(3 * 1024 * 1024)},
    )
    live.start()
    yield live
    live.stop()


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def upload(api: httpx.Client, path: Path, name: str | None = None) -> dict:
    data = {"name": name} if name else {}
    with path.open("rb") as f:
        response = api.post("/api/projects", files={"file": (path.name, f, "video/mp4")}, data=data)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def project(api: httpx.Client, clip: Path) -> dict:
    return upload(api, clip, "disk")


def sam2_shaped(path: Path, width: int, blocks: int) -> bytes:
    """A file laid out as an official SAM2.1 checkpoint whose image encoder is `width` wide
    with `blocks` blocks (SAM2.1 tiny: 96, 12), about 3 MB: the parts the downloader checks,
    and random bytes to take a while; what `path` now holds."""
    generator = torch.Generator().manual_seed(0)
    state = {"image_encoder.trunk.patch_embed.proj.weight": torch.zeros(width, 3, 7, 7)}
    for block in range(blocks):
        state[f"image_encoder.trunk.blocks.{block}.norm1.weight"] = torch.ones(width)
    state["image_encoder.trunk.pos_embed"] = torch.rand(1, width, 96, 85, generator=generator)
    torch.save({"model": state}, path)
    return path.read_bytes()


@pytest.fixture
def file_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, bytes]]:
    """A local HTTPS server standing in for Meta's download host. Its self-signed certificate
    is trusted through SSL_CERT_FILE, for this test and the commands it runs."""
    www = tmp_path / "www"
    www.mkdir()
    payload = sam2_shaped(www / "sam2.1_hiera_tiny.pt", width=96, blocks=12)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(www), **kwargs)

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_port}/sam2.1_hiera_tiny.pt", payload
    httpd.shutdown()


@pytest.fixture(scope="session")
def tiny_sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny synthetic image, video and background sets, so tests never need the shared data."""
    from vidmatte.train.toy import toy_sources

    return toy_sources(tmp_path_factory.mktemp("sources"))


@pytest.fixture(scope="session")
def tiny_dataset(tiny_sources: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset built from `tiny_sources`: three 3-frame 96x64 clips."""
    from vidmatte.train.dataset import build_dataset

    return build_dataset(
        tmp_path_factory.mktemp("ds"),
        image_sets=[tiny_sources["images"]],
        video_sets=[tiny_sources["video"]],
        backgrounds=[tiny_sources["bg"]],
        clips_per_foreground=1,
        frames=3,
        height=64,
        width=96,
        seed=0,
    )


@pytest.fixture
def one_mb_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (the tests run as root): room for a data dir's database, not its reserve."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(disk: Path) -> None:
    """Write to `disk` until it is full."""
    with (disk / "filler").open("ab", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 4096)
