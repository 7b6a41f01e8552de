"""The room an archive's staged files need (videos encoded whole, EXRs, in the data dir's
tmp/), told before the download starts (store.py `StagingRoom`): a download
that ran out of it midway was cut off, a broken zip the browser called only "failed"."""

from __future__ import annotations

import gc
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from fastapi import HTTPException
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from tests.in_process import add_clip, client_of, tiny_segmenter
from vidmatte.api.routes import jobs
from vidmatte.config import Settings
from vidmatte.errors import DISK_FULL
from vidmatte.jobs.mattes import encode_mattes
from vidmatte.jobs.runner import InProcessRunner
from vidmatte.matte.adjust import EdgeAdjust
from vidmatte.media.export import staging_bytes
from vidmatte.store import RESERVE_BYTES, Point, StagingRoom, Store

TOKEN = "archive-staging-token"
REFUSED = {"detail": f"{DISK_FULL}: free some space, then download again"}


@dataclass
class Done:
    client: TestClient
    store: Store
    job: str
    frames: int
    width: int
    height: int


@pytest.fixture
def done(tmp_path: Path, clip: Path) -> Iterator[Done]:
    """A finished job of two objects over the clip's 12 frames."""
    settings = Settings(data_dir=tmp_path / "data", token=TOKEN)
    store = Store(settings.data_dir)
    pid, info = add_clip(store, clip)
    objects = [store.add_object(pid, name, "#112233")["id"] for name in ("a", "b")]
    for obj in objects:
        store.set_points(pid, obj, 0, [Point(9, 9, "positive")])
    job = store.add_job(pid, 0, info.frame_count - 1, objects, "fast", "head", "test-tiny")
    attempt = store.transition(job.id, "running").attempt
    alpha = np.full((info.height, info.width), 0.5, np.float32)
    for frame in range(info.frame_count):
        assert store.save_alpha(job.id, attempt, frame, encode_mattes([alpha, alpha]))
    store.transition(job.id, "done", attempt=attempt)
    segmenter = tiny_segmenter(tmp_path / "ck")
    matter = SimpleNamespace(plate=False)
    runner = InProcessRunner(store, segmenter, matter)  # type: ignore[arg-type]
    client = client_of(settings, store, segmenter, matter, runner)  # type: ignore[arg-type]
    yield Done(client, store, job.id, info.frame_count, info.width, info.height)
    client.close()
    store.close()


def free_space(monkeypatch: pytest.MonkeyPatch, store: Store, free: int) -> None:
    usage = shutil.disk_usage(store.tmp_dir)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=free))


def test_staging_bytes_grow_with_frames_size_layers_and_formats() -> None:
    one = staging_bytes(["prores4444"], 10, 100, 50, 1)
    assert one > 0
    assert staging_bytes(["prores4444"], 20, 100, 50, 1) == 2 * one
    assert staging_bytes(["prores4444"], 10, 100, 50, 3) == 3 * one
    assert staging_bytes(["prores4444", "alpha_mp4"], 10, 100, 50, 1) > one
    assert staging_bytes(["alpha_png", "rgba_png", "alpha_png16"], 10**6, 4096, 4096, 16) == 0
    # An EXR is staged one frame at a time: its room does not grow with the frames.
    assert staging_bytes(["exr"], 10, 100, 50, 1) == staging_bytes(["exr"], 1000, 100, 50, 1)


@pytest.mark.parametrize(
    "formats, mattes",
    [("prores4444", "objects"), ("alpha_mp4,webm_alpha", "both"), ("exr", "union")],
)
def test_an_archive_whose_staged_files_would_not_fit_is_a_507_before_it_starts(
    done: Done, monkeypatch: pytest.MonkeyPatch, formats: str, mattes: str
) -> None:
    """More than the 4 MiB reserve was free, not enough for the videos: the download started
    (200) and could be cut off midway."""
    layers = {"objects": 2, "both": 3, "union": 1}[mattes]
    need = staging_bytes(formats.split(","), done.frames, done.width, done.height, layers)
    free_space(monkeypatch, done.store, RESERVE_BYTES + need - 1)
    answer = done.client.get(
        f"/api/jobs/{done.job}/archive", params={"formats": formats, "mattes": mattes}
    )
    assert (answer.status_code, answer.json()) == (507, REFUSED)
    assert list(done.store.tmp_dir.iterdir()) == []


def test_an_archive_whose_staged_files_fit_is_made(
    done: Done, monkeypatch: pytest.MonkeyPatch
) -> None:
    need = staging_bytes(["prores4444"], done.frames, done.width, done.height, 2)
    free_space(monkeypatch, done.store, RESERVE_BYTES + need)
    answer = done.client.get(f"/api/jobs/{done.job}/archive", params={"formats": "prores4444"})
    assert answer.status_code == 200, answer.text
    names = sorted(zipfile.ZipFile(BytesIO(answer.content)).namelist())
    assert [n.rsplit("_", 2)[-2:] for n in names] == [
        ["a", "prores4444.mov"],
        ["b", "prores4444.mov"],
    ]


def test_an_archive_of_images_alone_needs_no_staging_room(
    done: Done, monkeypatch: pytest.MonkeyPatch
) -> None:
    free_space(monkeypatch, done.store, 0)
    answer = done.client.get(
        f"/api/jobs/{done.job}/archive", params={"formats": "alpha_png,rgba_png,alpha_png16"}
    )
    assert answer.status_code == 200, answer.text


def test_downloads_under_way_keep_the_room_they_were_promised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two downloads started together each found room for itself, not for both: the second
    could cut both off midway."""
    usage = shutil.disk_usage(tmp_path)
    free = RESERVE_BYTES + 3000
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=free))
    room = StagingRoom(tmp_path, RESERVE_BYTES)
    first = jobs.reserve_room_to_stage(room, 2000)
    with pytest.raises(HTTPException) as refused:
        jobs.reserve_room_to_stage(room, 2000)
    assert (refused.value.status_code, refused.value.detail) == (507, REFUSED["detail"])
    assert room.promised == 2000
    StagingRoom(tmp_path, RESERVE_BYTES).promise(2000)()  # another store's own
    first()
    first()  # twice: harmless, the room is not given back twice
    assert room.promised == 0
    second = jobs.reserve_room_to_stage(room, 2000)
    with pytest.raises(HTTPException):
        jobs.reserve_room_to_stage(room, 2000)
    second()
    assert room.promised == 0


def test_a_finished_download_gives_its_room_back(
    done: Done, monkeypatch: pytest.MonkeyPatch
) -> None:
    need = staging_bytes(["alpha_mp4"], done.frames, done.width, done.height, 2)
    free_space(monkeypatch, done.store, RESERVE_BYTES + need)
    for _ in range(2):
        answer = done.client.get(f"/api/jobs/{done.job}/archive", params={"formats": "alpha_mp4"})
        assert answer.status_code == 200, answer.text
    assert done.client.head(f"/api/jobs/{done.job}/archive?formats=alpha_mp4").status_code == 200
    answer = done.client.get(f"/api/jobs/{done.job}/archive", params={"formats": "alpha_mp4"})
    assert answer.status_code == 200, answer.text
    assert done.store.staging.promised == 0


def test_room_promised_by_a_closed_store_is_not_taken_from_the_next_one(
    done: Done, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The promises were kept in the routes module, for every app of the process, keyed by
    the staging folder: a download that a store's app left unread outlived the store, and the
    next store opened on the same data dir (a restart in one process) was refused its room."""
    need = staging_bytes(["alpha_mp4"], done.frames, done.width, done.height, 2)
    free_space(monkeypatch, done.store, RESERVE_BYTES + need)

    def archive(store: Store) -> StreamingResponse:
        served = SimpleNamespace(store=store, settings=Settings(data_dir=store.data_dir))
        return jobs.get_archive(
            done.job,
            ["alpha_mp4"],
            "00ff00",
            None,
            "objects",
            start=None,
            end=None,
            edge=EdgeAdjust(),
            s=served,  # type: ignore[arg-type]
        )

    unread = archive(done.store)  # its client never read it: the room stays promised
    done.store.close()
    again = Store(done.store.data_dir)
    try:
        assert archive(again).status_code == 200
    finally:
        again.close()
    assert done.store.staging.promised == need  # until its release, or its collection
    del unread
    gc.collect()
    assert done.store.staging.promised == 0
