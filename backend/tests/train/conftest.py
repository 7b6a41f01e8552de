"""Tiny synthetic sources and a dataset built from them, so tests never need the shared data."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidmatte.train.dataset import build_dataset
from vidmatte.train.toy import toy_sources


@pytest.fixture(scope="session")
def tiny_sources(tmp_path_factory) -> dict[str, Path]:
    return toy_sources(tmp_path_factory.mktemp("sources"))


@pytest.fixture(scope="session")
def tiny_dataset(tiny_sources, tmp_path_factory) -> Path:
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
