"""The app in process, as `create_app` builds it, over a given store with test-tiny SAM2: for
tests that must reach inside the store at a precise moment (a race, a full disk), which over
HTTP to a server process they cannot time."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from vidmatte.api.app import create_app
from vidmatte.api.services import Services
from vidmatte.config import Settings
from vidmatte.jobs.runner import JobRunner
from vidmatte.jobs.tracks import Tracker
from vidmatte.matte.infer import Matter
from vidmatte.media.video import VideoInfo, probe
from vidmatte.segment.models import build_predictor
from vidmatte.segment.session import Segmenter
from vidmatte.store import Store


def add_clip(store: Store, clip: Path) -> tuple[str, VideoInfo]:
    """A project of `clip` in `store`: its id and video."""
    staged = store.tmp_dir / "upload.mp4"
    shutil.copy(clip, staged)
    info, pts = probe(staged)
    return store.add_project("disk", "disk.mp4", staged, info, pts, b"jpeg").id, info


def tiny_segmenter(checkpoints: Path) -> Segmenter:
    return Segmenter(build_predictor("test-tiny", checkpoints), "test-tiny")


def client_of(
    settings: Settings,
    store: Store,
    segmenter: Segmenter,
    matter: Matter | None = None,
    runner: JobRunner | None = None,
) -> TestClient:
    """The app over `store` (`settings.token` required); no matting head or runner unless
    given, for requests that need none. A 500 is an answer, not an exception."""
    built = Services(
        settings=settings,
        store=store,
        segmenter=segmenter,
        matter=matter,  # type: ignore[arg-type]
        head_name="head",
        sam2_name="test-tiny",
        runner=runner,  # type: ignore[arg-type]
        tracker=Tracker(store, segmenter, "test-tiny"),
    )
    return TestClient(
        create_app(settings, built),
        base_url="http://127.0.0.1",
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {settings.token}"},
    )


TOKEN = "in-process-token"


@contextmanager
def served(tmp_path: Path, **settings: Any) -> Iterator[tuple[TestClient, Store]]:
    """The app over a new store in `tmp_path`, with these Settings and the token TOKEN, with
    test-tiny SAM2 alone; both closed after."""
    config = Settings(data_dir=tmp_path / "data", token=TOKEN, **settings)
    store = Store(config.data_dir)
    client = client_of(config, store, tiny_segmenter(tmp_path / "ck"))
    try:
        yield client, store
    finally:
        client.close()
        store.close()
