"""The same file uploaded twice gets two names the project list tells apart. Over real HTTP."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from tests.conftest import upload


def test_the_same_file_twice_gets_distinct_names(
    api: httpx.Client, clip: Path, tmp_path: Path
) -> None:
    twice = tmp_path / "twice.mp4"
    shutil.copy(clip, twice)
    names = [upload(api, twice)["name"] for _ in range(3)]
    assert names == ["twice", "twice (2)", "twice (3)"]
    # A name the user gives is theirs, even when another project has it.
    assert upload(api, twice, name="twice")["name"] == "twice"
