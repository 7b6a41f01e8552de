"""The project routes in process, over a real store that counts and times its reads: a request
reads its project once (the 404 check is that read), and a delete that lands between that read
and the video's opening (or a track's file's) is a 404, not a 500. Over HTTP the second is a
race a test cannot time; so are a track's states between two frames, and a full disk."""

from __future__ import annotations

import errno
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.in_process import add_clip, client_of, tiny_segmenter
from tests.waiting import wait_until
from vidmatte.config import Settings
from vidmatte.errors import DISK_FULL
from vidmatte.jobs import tracks
from vidmatte.jobs.mattes import encode_mattes
from vidmatte.jobs.tracks import Stopped, Tracker
from vidmatte.store import Point, Project, Store

TOKEN = "reads-test-token"


class WatchedStore(Store):
    """A real store that counts its project reads, and can delete a project just before its
    frame index is read: when a decoder is about to be opened for it."""

    def __init__(self, data_dir: Path):
        super().__init__(data_dir)
        self.project_reads = 0
        self.delete_before_opening = False

    def project(self, project_id: str) -> Project:
        self.project_reads += 1
        return super().project(project_id)

    def pts_index(self, project_id: str) -> np.ndarray:
        if self.delete_before_opening:
            self.delete_project(project_id)
        return super().pts_index(project_id)


@pytest.fixture
def served(tmp_path: Path, clip: Path) -> Iterator[tuple[TestClient, WatchedStore, str]]:
    """The app built as `create_app` builds it (test-tiny SAM2; no matting head, which these
    requests do not need), on a `WatchedStore` holding the clip."""
    settings = Settings(data_dir=tmp_path / "data", token=TOKEN)
    store = WatchedStore(settings.data_dir)
    pid, _ = add_clip(store, clip)
    client = client_of(settings, store, tiny_segmenter(tmp_path / "ck"))
    yield client, store, pid
    client.close()
    store.close()


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "", None),
        ("GET", "/frames/3", None),
        ("PUT", "/objects/{obj}/frames/3/points", {"points": [{"x": 9, "y": 9, "label": "box"}]}),
    ],
    ids=["project", "frame", "points"],
)
def test_a_request_reads_its_project_once(
    served: tuple[TestClient, WatchedStore, str], method: str, path: str, body: dict | None
) -> None:
    """The read that makes an unknown project a 404 is the one the route works with: a frame
    request (the editor's scrubbing) or a points edit does not read it again."""
    client, store, pid = served
    obj = store.add_object(pid, None, None)["id"]
    store.project_reads = 0
    answer = client.request(method, f"/api/projects/{pid}{path.format(obj=obj)}", json=body)
    # The points' one box corner is refused after the project and object checks.
    assert answer.status_code == (422 if body else 200), answer.text
    assert store.project_reads == 1


@pytest.mark.parametrize("path", ["/frames/3", "/frames/3/preview"], ids=["frame", "preview"])
def test_a_delete_between_the_read_and_the_video_is_a_404(
    served: tuple[TestClient, WatchedStore, str], path: str
) -> None:
    """The project deleted after the request read it, before its decoder opened the video (a
    delete from another tab while the editor previews a click): the delete's 404, not the
    missing file's 500."""
    client, store, pid = served
    store.delete_before_opening = True
    method = "POST" if path.endswith("preview") else "GET"
    answer = client.request(method, f"/api/projects/{pid}{path}")
    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"] == f"project '{pid}' does not exist"


def test_a_delete_before_a_chatter_reduced_matte_opens_the_video_is_a_404(
    served: tuple[TestClient, WatchedStore, str],
) -> None:
    """A finished frame's matte with chatter reduced reads the video's frames around it: a
    delete landing before the decoder opens is the job's 404, not the missing file's 500."""
    client, store, pid = served
    obj = store.add_object(pid, None, None)["id"]
    store.set_points(pid, obj, 3, [Point(9, 9, "positive")])
    job = store.add_job(pid, 2, 4, [obj], "fast", "head", "test-tiny")
    attempt = store.transition(job.id, "running").attempt
    height, width = store.project(pid).info.height, store.project(pid).info.width
    for frame in (2, 3, 4):
        alpha = np.full((height, width), 0.5, np.float32)
        assert store.save_alpha(job.id, attempt, frame, encode_mattes([alpha]))
    store.delete_before_opening = True
    answer = client.get(f"/api/jobs/{job.id}/alpha/3", params={"reduce_chatter": "true"})
    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"] == f"job '{job.id}' does not exist"


def tracked(client: TestClient, store: WatchedStore, pid: str) -> Tracker:
    """The project's frames 2..4 tracked, the track finished."""
    obj = store.add_object(pid, None, None)["id"]
    store.set_points(pid, obj, 3, [Point(9, 9, "positive")])
    tracker: Tracker = client.app.state.services.tracker  # type: ignore[attr-defined]
    started = client.post(f"/api/projects/{pid}/track", json={"start": 2, "end": 4})
    assert started.status_code == 202, started.text
    wait_until(lambda: tracker.get(pid).status == "done", 60, every=0.01)
    return tracker


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/track"),
        ("GET", "/track"),
        ("GET", "/track/events"),
        ("GET", "/track/masks/3"),
        ("GET", "/track/masks/3?object_id=1"),
        ("DELETE", "/track"),
    ],
    ids=["start", "track", "events", "overlay", "mask", "cancel"],
)
def test_a_track_request_reads_its_project_once(
    served: tuple[TestClient, WatchedStore, str], method: str, path: str
) -> None:
    """The tracker took the project's id and read the project again (the editor polls the
    track and fetches a mask per frame while scrubbing): it works with the route's read."""
    client, store, pid = served
    tracker = tracked(client, store, pid)
    store.set_points(pid, 1, 3, [Point(12, 9, "positive")])  # a start has something to run
    store.project_reads = 0
    body = {"start": 2, "end": 4} if method == "POST" else None
    answer = client.request(method, f"/api/projects/{pid}{path}", json=body)
    assert answer.status_code == (202 if method == "POST" else 200), answer.text
    wait_until(lambda: tracker.get(pid).status == "done", 60, every=0.01)  # its run's reads too
    assert store.project_reads == 1


@pytest.mark.parametrize("path", ["/track", "/track/masks/3", "/track/masks/3?object_id=1"])
def test_a_delete_before_a_track_file_opens_is_a_404(
    served: tuple[TestClient, WatchedStore, str], path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project deleted (another tab) after the tracker saw its track's manifest or mask,
    before it opened it: the delete's 404, not the missing file's 500."""
    client, store, pid = served
    tracker = tracked(client, store, pid)
    services = client.app.state.services  # type: ignore[attr-defined]
    load, open_image = tracks._load, Image.open
    armed = [True]

    def delete_first(opened: Callable, path: Path):
        if armed.pop() if armed else False:
            services.delete_project(pid)
        return opened(path)

    if "masks" in path:
        monkeypatch.setattr(Image, "open", lambda p: delete_first(open_image, p))
    else:
        tracker._tracks.clear()  # a restarted server: the track is read from its manifest
        monkeypatch.setattr(tracks, "_load", lambda p: delete_first(load, p))
    answer = client.get(f"/api/projects/{pid}{path}")
    assert not armed, "the delete was not timed"
    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"] == f"project '{pid}' does not exist"


def test_a_track_started_on_a_full_disk_is_a_507(
    served: tuple[TestClient, WatchedStore, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start that cannot record its track for want of space was the server's 500: it is a
    507 that says what to do, and the finished track stays as it was."""
    client, store, pid = served
    tracked(client, store, pid)
    store.set_points(pid, 1, 3, [Point(12, 9, "positive")])  # every mask made anew

    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tracks, "write_atomic", full)
    answer = client.post(f"/api/projects/{pid}/track", json={"start": 2, "end": 4})
    assert answer.status_code == 507, answer.text
    assert answer.json()["detail"] == f"{DISK_FULL}: free some space, then track again"
    kept = client.get(f"/api/projects/{pid}/track")
    assert kept.json()["status"] == "done" and kept.json()["tracked"] == [[2, 4]]
    assert client.get(f"/api/projects/{pid}/track/masks/4").status_code == 200


def test_the_overlay_of_a_frame_the_track_lists_shows_the_masks_it_has(
    served: tuple[TestClient, WatchedStore, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An object added to a finished track runs alone: until it reaches a frame (or for good,
    when that run is cancelled), the frame is in `tracked` by the other object's mask, and the
    overlay of every object was a 404 there: the editor showed no mask at all."""
    client, store, pid = served
    tracker = tracked(client, store, pid)
    added = store.add_object(pid, None, None)["id"]
    store.set_points(pid, added, 4, [Point(40, 20, "positive")])

    def until_stopped(track, project, should_stop):  # the added object's run, not yet on a frame
        while not should_stop():
            time.sleep(0.01)
        raise Stopped

    monkeypatch.setattr(tracker, "_track", until_stopped)
    started = client.post(f"/api/projects/{pid}/track", json={"start": 2, "end": 4}).json()
    assert started["run"]["object_ids"] == [added] and started["tracked"] == [[2, 4]]
    assert client.delete(f"/api/projects/{pid}/track").json()["status"] == "cancelled"
    overlay = client.get(f"/api/projects/{pid}/track/masks/3")
    assert overlay.status_code == 200, overlay.text
    alone = client.get(f"/api/projects/{pid}/track/masks/3", params={"object_id": 1})
    shown = np.asarray(Image.open(io.BytesIO(overlay.content)))
    inside = np.asarray(Image.open(io.BytesIO(alone.content))) >= 128  # probability > 0.5
    assert shown.shape == (*inside.shape, 4) and np.array_equal(shown[..., 3] > 0, inside)
    missing = client.get(f"/api/projects/{pid}/track/masks/3", params={"object_id": added})
    assert missing.status_code == 404 and missing.json()["detail"] == (
        "frame 3 is not tracked: the track was cancelled before it reached the frame "
        "(track again to make it)"
    )
