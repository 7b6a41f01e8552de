"""The same file uploaded twice gets two names the project list tells apart. Over real HTTP."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.conftest import upload
from tests.server import LiveServer


def test_the_same_file_twice_gets_distinct_names(
    api: httpx.Client, clip: Path, tmp_path: Path
) -> None:
    twice = tmp_path / "twice.mp4"
    shutil.copy(clip, twice)
    names = [upload(api, twice)["name"] for _ in range(3)]
    assert names == ["twice", "twice (2)", "twice (3)"]
    # A name the user gives is theirs, even when another project has it.
    assert upload(api, twice, name="twice")["name"] == "twice"


def test_concurrent_uploads_keep_the_quota_and_distinct_names(tmp_path: Path, clip: Path) -> None:
    """Uploads that arrive together are counted and named one at a time: the limit of
    projects holds and two blank-named copies of a file never share a name."""
    live = LiveServer(tmp_path / "data", env={"VIDMATTE_MAX_PROJECTS": "3"}).start()
    try:
        body = clip.read_bytes()
        barrier = threading.Barrier(6)

        def post(_: int) -> httpx.Response:
            barrier.wait()
            with live.client() as api:
                files = {"file": ("race.mp4", body, "video/mp4")}
                return api.post("/api/projects", files=files)

        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(post, range(6)))
        made = [a.json()["name"] for a in answers if a.status_code == 201]
        refused = [a for a in answers if a.status_code != 201]
        assert sorted(made) == ["race", "race (2)", "race (3)"]
        assert [a.status_code for a in refused] == [507] * 3
        assert all("VIDMATTE_MAX_PROJECTS" in a.json()["detail"] for a in refused)
        with live.client() as api:
            assert len(api.get("/api/projects").json()) == 3
        assert list((live.data_dir / "tmp").iterdir()) == []
        assert len(list((live.data_dir / "projects").iterdir())) == 3
    finally:
        live.stop()
