"""A full disk at upload: 507 "not enough disk space", no half-written file, earlier projects
intact, and uploads work again once space is freed. The data dir is a 12 MB tmpfs (the tests
run as root, in CI too)."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.conftest import upload
from tests.server import LiveServer

MB = 1024 * 1024
RESERVE = 2 * MB  # VIDMATTE_MIN_FREE_BYTES of the server below


PAGE = 4096  # tmpfs allocates whole pages


def tmpfs(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    mount = tmp_path_factory.mktemp(name)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from tmpfs(tmp_path_factory, "small-disk")


@pytest.fixture(scope="module")
def disk_server(small_disk: Path) -> Iterator[LiveServer]:
    live = LiveServer(small_disk, env={"VIDMATTE_MIN_FREE_BYTES": str(RESERVE)})
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def exact_disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from tmpfs(tmp_path_factory, "exact-disk")


@pytest.fixture(scope="module")
def no_reserve_server(exact_disk: Path) -> Iterator[LiveServer]:
    live = LiveServer(exact_disk, env={"VIDMATTE_MIN_FREE_BYTES": "0"})
    live.start()
    yield live
    live.stop()


def fill_until_free(disk: Path, free: int) -> Path:
    """Leave about `free` bytes on the disk with one filler file."""
    filler = disk / "filler.bin"
    filler.unlink(missing_ok=True)
    size = shutil.disk_usage(disk).free - free
    with filler.open("wb") as f:
        f.truncate(0)
        f.write(b"\0" * size)
    return filler


def multipart(name: str, data: bytes, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """A multipart body sent in chunks with no Content-Length (so no check up front)."""
    yield (
        f'--B\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    for i in range(0, len(data), chunk):
        yield data[i : i + chunk]
    yield b"\r\n--B--\r\n"


def assert_nothing_left(server: LiveServer, api: httpx.Client, before: list[dict]) -> None:
    assert list((server.data_dir / "tmp").iterdir()) == []
    assert api.get("/api/projects").json() == before
    for project in before:
        assert api.get(f"/api/projects/{project['id']}/frames/11").status_code == 200


def test_full_disk_at_upload_is_507_and_loses_nothing(
    disk_server: LiveServer, small_disk: Path, clip: Path
) -> None:
    with disk_server.client() as api:
        kept = upload(api, clip, "kept")
        before = api.get("/api/projects").json()
        assert [p["id"] for p in before] == [kept["id"]]

        # Above the reserve, so the upload starts; the disk fills up while it streams.
        filler = fill_until_free(small_disk, RESERVE + 2 * MB)
        body = multipart("big.mp4", b"\1" * (6 * MB))
        response = api.post(
            "/api/projects",
            content=body,
            headers={"content-type": "multipart/form-data; boundary=B"},
        )
        assert response.status_code == 507, response.text
        assert response.json()["detail"].startswith("not enough disk space")
        assert_nothing_left(disk_server, api, before)

        # A declared size that would cut into the reserve is refused before a byte is written.
        declared = api.post("/api/projects", files={"file": ("big.mp4", b"\1" * (3 * MB))})
        assert declared.status_code == 507, declared.text
        assert "must stay free" in declared.json()["detail"]
        assert_nothing_left(disk_server, api, before)

        # Below the reserve even a small upload is refused.
        fill_until_free(small_disk, RESERVE // 2)
        small = api.post("/api/projects", files={"file": ("disk.mp4", clip.read_bytes())})
        assert small.status_code == 507, small.text
        assert_nothing_left(disk_server, api, before)

        # Space freed: uploads work again.
        filler.unlink()
        again = upload(api, clip, "again")
        assert api.get(f"/api/projects/{again['id']}/frames/11").status_code == 200


def test_an_image_sequence_without_room_for_its_video_is_507(
    disk_server: LiveServer, small_disk: Path
) -> None:
    """A small zip of plain images whose video needs more than the disk has left: refused
    before a frame is written, naming the video's size (10 frames of 512x512 RGB)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        plain = io.BytesIO()
        Image.new("RGB", (512, 512), (90, 120, 30)).save(plain, format="PNG")
        for n in range(10):
            archive.writestr(f"flat.{n:04d}.png", plain.getvalue())
    with disk_server.client() as api:
        before = api.get("/api/projects").json()
        filler = fill_until_free(small_disk, RESERVE + MB)
        try:
            response = api.post("/api/projects", files={"file": ("flat.zip", buf.getvalue())})
        finally:
            filler.unlink()
        assert response.status_code == 507, response.text
        assert "the upload needs 7.5 MB and 2.0 MB must stay free" in response.json()["detail"]
        assert_nothing_left(disk_server, api, before)


def test_disk_full_after_the_upload_leaves_no_half_made_project(
    no_reserve_server: LiveServer, exact_disk: Path, clip: Path
) -> None:
    """The video fits exactly; storing its frame index and thumbnail does not."""
    with no_reserve_server.client() as api:
        kept = upload(api, clip, "kept")
        before = api.get("/api/projects").json()
        data = clip.read_bytes()
        filler = fill_until_free(exact_disk, -(-len(data) // PAGE) * PAGE)
        response = api.post("/api/projects", files={"file": ("disk.mp4", data)})
        assert response.status_code == 507, response.text
        assert response.json()["detail"].startswith("not enough disk space")
        assert_nothing_left(no_reserve_server, api, before)
        projects = {p.name for p in (exact_disk / "projects").iterdir()}
        assert projects == {kept["id"]}
        filler.unlink()
        upload(api, clip, "again")
