from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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
