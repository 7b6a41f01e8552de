"""The project routes in process, over a real store that counts and times its reads: a request
reads its project once (the 404 check is that read), and a delete that lands between that read
and the video's opening is a 404, not a 500. Over HTTP the second is a race a test cannot time."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from vidmatte.api.app import create_app
from vidmatte.api.services import Services
from vidmatte.config import Settings
from vidmatte.jobs.mattes import encode_mattes
from vidmatte.jobs.tracks import Tracker
from vidmatte.media.video import probe
from vidmatte.segment.models import build_predictor
from vidmatte.segment.session import Segmenter
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
    staged = store.tmp_dir / "upload.mp4"
    shutil.copy(clip, staged)
    info, pts = probe(staged)
    pid = store.add_project("disk", "disk.mp4", staged, info, pts, b"jpeg").id
    segmenter = Segmenter(build_predictor("test-tiny", tmp_path / "ck"), "test-tiny")
    built = Services(
        settings=settings,
        store=store,
        segmenter=segmenter,
        matter=None,  # type: ignore[arg-type]
        head_name="head",
        sam2_name="test-tiny",
        runner=None,  # type: ignore[arg-type]
        tracker=Tracker(store, segmenter, "test-tiny"),
    )
    client = TestClient(
        create_app(settings, built),
        base_url="http://127.0.0.1",
        raise_server_exceptions=False,  # a 500 is an answer the tests check
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
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
