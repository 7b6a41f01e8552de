"""Track (SAM2 alone over a range, a small mask per frame and object) over real HTTP against the
real (shrunk) SAM2, and its flags on masks of a disk that leaves the frame."""

from __future__ import annotations

import io
import json
import threading
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from tests.api.test_jobs import read_events_at
from tests.conftest import upload
from tests.synth import disk_alpha, write_video
from vidmatte.jobs.tracks import Flag, find_flags, intervals, mask_size, mask_stats

POS = {"x": 30, "y": 32, "label": "positive"}


def add_object(api: httpx.Client, pid: str) -> int:
    return api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]


def put_points(api: httpx.Client, pid: str, obj: int, frame: int, points: list[dict]) -> None:
    url = f"/api/projects/{pid}/objects/{obj}/frames/{frame}/points"
    assert api.put(url, json={"points": points}).status_code == 200


def follow(api: httpx.Client, pid: str) -> list[dict]:
    """The track's events until it stops running."""
    events = []
    with api.stream("GET", f"/api/projects/{pid}/track/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line.split(":", 1)[1]))
    return events


def track(api: httpx.Client, pid: str, start: int, end: int) -> tuple[dict, dict]:
    """Start a track and follow it to the end: (POST's answer, final state)."""
    started = api.post(f"/api/projects/{pid}/track", json={"start": start, "end": end})
    assert started.status_code == 202, started.text
    events = follow(api, pid)
    assert events[-1]["status"] == "done", events[-1]
    done = [e["frames_done"] for e in events]
    assert done == sorted(done) and done[-1] == events[-1]["frames_total"]
    return started.json(), events[-1]


def mask(api: httpx.Client, pid: str, frame: int, obj: int | None = None) -> Image.Image:
    params = {"object_id": obj} if obj is not None else {}
    response = api.get(f"/api/projects/{pid}/track/masks/{frame}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def test_track_keeps_a_mask_for_every_frame_of_the_range(api: httpx.Client, project: dict) -> None:
    pid = project["id"]
    obj = add_object(api, pid)
    put_points(api, pid, obj, 5, [POS])
    started, done = track(api, pid, 2, 10)
    assert started["status"] == "running" and started["frames_total"] == 9
    assert started["run"] == {"start": 2, "end": 10, "object_ids": [obj]}
    assert done["frames_done"] == done["frames_total"] == 9
    assert (done["mask_width"], done["mask_height"]) == (96, 64)  # small videos keep their size
    assert done["stale"] is False and done["object_ids"] == [obj]
    assert done["tracked"] == [[2, 10]]
    for frame in range(2, 11):  # every frame, forward and backward from the prompted one
        image = mask(api, pid, frame, obj)
        assert image.mode == "L" and image.size == (96, 64)
    assert mask(api, pid, 7).mode == "RGBA"  # every object in its colour
    assert api.get(f"/api/projects/{pid}/track").json() == done
    outside = api.get(f"/api/projects/{pid}/track/masks/11", params={"object_id": obj})
    assert outside.status_code == 404 and "outside the track's range 2..10" in outside.text
    other = api.get(f"/api/projects/{pid}/track/masks/5", params={"object_id": obj + 99})
    assert other.status_code == 404 and "is not in the track" in other.text


def test_a_point_change_makes_the_track_stale(api: httpx.Client, project: dict) -> None:
    pid = project["id"]
    obj = add_object(api, pid)
    put_points(api, pid, obj, 3, [POS])
    track(api, pid, 0, 11)
    put_points(api, pid, obj, 3, [{"x": 31, "y": 32, "label": "positive"}])
    assert api.get(f"/api/projects/{pid}/track").json()["stale"] is True
    put_points(api, pid, obj, 3, [POS])  # back as it was
    assert api.get(f"/api/projects/{pid}/track").json()["stale"] is False


def test_a_correction_re_tracks_only_what_changed(api: httpx.Client, project: dict) -> None:
    pid = project["id"]
    a, b = add_object(api, pid), add_object(api, pid)
    put_points(api, pid, a, 2, [POS])
    put_points(api, pid, b, 2, [{"x": 70, "y": 20, "label": "positive"}])
    _, first = track(api, pid, 0, 11)
    assert first["run"] == {"start": 0, "end": 11, "object_ids": [a, b]}

    put_points(api, pid, a, 8, [{"x": 50, "y": 32, "label": "positive"}])  # a correction
    started, done = track(api, pid, 0, 11)
    # Object a from frame 8 on; object b is untouched.
    assert started["run"] == {"start": 8, "end": 11, "object_ids": [a]}
    assert done["frames_done"] == done["frames_total"] == 4 and done["stale"] is False
    assert all(mask(api, pid, f, b).size == (96, 64) for f in range(12))

    put_points(api, pid, b, 1, [{"x": 70, "y": 20, "label": "positive"}])  # before b's first
    started, _ = track(api, pid, 0, 11)
    assert started["run"] == {"start": 0, "end": 11, "object_ids": [b]}  # both directions

    unchanged = api.post(f"/api/projects/{pid}/track", json={"start": 0, "end": 11}).json()
    assert unchanged["status"] == "done" and unchanged["run"]["object_ids"] == []
    assert unchanged["frames_total"] == 0


def test_a_deleted_object_leaves_the_track(server, api: httpx.Client, project: dict) -> None:
    """Its masks are no longer served, nor listed or flagged; the other object's stay. The
    next track drops its files."""
    pid = project["id"]
    keep, gone = add_object(api, pid), add_object(api, pid)
    put_points(api, pid, keep, 2, [POS])
    put_points(api, pid, gone, 2, [{"x": 70, "y": 20, "label": "positive"}])
    _, done = track(api, pid, 0, 11)
    assert done["object_ids"] == [keep, gone]
    assert mask(api, pid, 2, gone).mode == "L"

    assert api.delete(f"/api/projects/{pid}/objects/{gone}").status_code == 204
    now = api.get(f"/api/projects/{pid}/track").json()
    assert now["object_ids"] == [keep] and now["tracked"] == [[0, 11]]
    assert now["flags"] == [f for f in done["flags"] if f["object_id"] == keep]
    assert now["stale"] is True  # its points went with it
    deleted = api.get(f"/api/projects/{pid}/track/masks/2", params={"object_id": gone})
    assert deleted.status_code == 404 and f"object {gone} is not in the track" in deleted.text
    assert mask(api, pid, 2, keep).mode == "L"

    again = api.post(f"/api/projects/{pid}/track", json={"start": 0, "end": 11}).json()
    assert again["run"]["object_ids"] == [] and again["object_ids"] == [keep]
    assert again["stale"] is False
    masks = server.data_dir / "projects" / pid / "track" / "masks"
    assert {p.name.split("-")[1] for p in masks.iterdir()} == {f"{keep}.png"}


def test_deleting_one_of_two_objects_keeps_the_other_in_the_overlay(
    api: httpx.Client, project: dict
) -> None:
    """The all-objects mask still shows the object left, in its colour where its own mask is,
    and nothing of the deleted one; the last run lists only the object left."""
    pid = project["id"]
    keep, gone = add_object(api, pid), add_object(api, pid)
    put_points(api, pid, keep, 2, [POS])
    put_points(api, pid, gone, 2, [{"x": 70, "y": 20, "label": "positive"}])
    _, done = track(api, pid, 0, 11)
    assert done["run"]["object_ids"] == [keep, gone]
    kept, deleted = (np.asarray(mask(api, pid, 2, o)) > 127 for o in (keep, gone))
    assert kept.any() and deleted.any()

    assert api.delete(f"/api/projects/{pid}/objects/{gone}").status_code == 204
    now = api.get(f"/api/projects/{pid}/track").json()
    assert now["object_ids"] == [keep] and now["run"]["object_ids"] == [keep]
    overlay = np.asarray(mask(api, pid, 2))
    colour = next(o for o in api.get(f"/api/projects/{pid}/objects").json() if o["id"] == keep)
    rgb = [int(colour["color"][i : i + 2], 16) for i in (1, 3, 5)]
    assert ((overlay[..., 3] > 0) == kept).all()
    assert (overlay[kept, :3] == rgb).all()


def test_a_track_whose_objects_are_all_deleted_has_no_mask(
    api: httpx.Client, project: dict
) -> None:
    """Its all-objects mask is a 404 naming the deleted objects, not an empty image, and the
    track lists no object, no tracked frame, no flag, and no object in its last run."""
    pid = project["id"]
    a, b = add_object(api, pid), add_object(api, pid)
    put_points(api, pid, a, 2, [POS])
    put_points(api, pid, b, 2, [{"x": 70, "y": 20, "label": "positive"}])
    _, done = track(api, pid, 0, 11)
    for obj in (a, b):
        assert api.delete(f"/api/projects/{pid}/objects/{obj}").status_code == 204

    now = api.get(f"/api/projects/{pid}/track").json()
    assert now["status"] == "done" and now["stale"] is True
    assert (now["object_ids"], now["run"]["object_ids"]) == ([], [])
    assert (now["tracked"], now["flags"]) == ([], [])
    assert now["frames_done"] == done["frames_done"]  # frames it ran: objects do not count
    assert api.get(f"/api/projects/{pid}").json()["has_track"] is True
    combined = api.get(f"/api/projects/{pid}/track/masks/2")
    assert combined.status_code == 404
    assert combined.json()["detail"] == (
        f"the track of project '{pid}' has no objects left: "
        f"every object it tracked ({a}, {b}) was deleted since it was made"
    )
    one = api.get(f"/api/projects/{pid}/track/masks/2", params={"object_id": a})
    assert one.status_code == 404
    assert one.json()["detail"] == (
        f"object {a} is not in the track of project '{pid}': it was deleted since"
    )


def run_job(api: httpx.Client, pid: str, start: int, end: int) -> dict:
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": start, "end": end})
    assert job.status_code == 201, job.text
    with api.stream("GET", f"/api/jobs/{job.json()['id']}/events") as response:
        for _ in response.iter_lines():
            pass
    done = api.get(f"/api/jobs/{job.json()['id']}").json()
    assert done["status"] == "done", done
    return done


def test_a_job_on_unchanged_prompts_reuses_the_track(api: httpx.Client, project: dict) -> None:
    pid = project["id"]
    obj = add_object(api, pid)
    put_points(api, pid, obj, 4, [POS])
    before = run_job(api, pid, 1, 9)
    assert before["used_track"] is False  # no track yet: SAM2 runs
    track(api, pid, 1, 9)
    reused = run_job(api, pid, 1, 9)
    assert reused["used_track"] is True and reused["frames_done"] == 9
    # The head sees the track's logits instead of SAM2's: nearly the same mattes.
    for frame in (1, 4, 9):
        a, b = (
            np.asarray(
                Image.open(io.BytesIO(api.get(f"/api/jobs/{j['id']}/alpha/{frame}").content))
            )
            for j in (before, reused)
        )
        assert a.shape == b.shape and np.abs(a.astype(int) - b.astype(int)).mean() < 2

    assert run_job(api, pid, 2, 8)["used_track"] is True  # within the track's range
    assert run_job(api, pid, 0, 9)["used_track"] is False  # beyond it
    put_points(api, pid, obj, 1, [POS])
    track(api, pid, 1, 9)
    assert run_job(api, pid, 2, 8)["used_track"] is False  # the track saw a prompt it does not
    put_points(api, pid, obj, 4, [{"x": 31, "y": 32, "label": "positive"}])
    assert run_job(api, pid, 1, 9)["used_track"] is False  # other prompts: the track is stale


def test_a_job_reading_the_track_carries_on_when_it_is_re_tracked(
    server, api: httpx.Client, tmp_path: Path
) -> None:
    """A job holds the track's masks it started with: Track pressed again, on the same points
    or on a correction, changes the project's track, not the running job."""
    path = tmp_path / "long.mp4"
    write_video(path, frames=40)
    pid = upload(api, path, "long")["id"]
    obj = add_object(api, pid)
    put_points(api, pid, obj, 0, [POS])
    track(api, pid, 0, 39)
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 39}).json()
    for _ in range(600):  # until it has read a mask or two
        if api.get(f"/api/jobs/{job['id']}").json()["frames_done"] >= 1:
            break
    same = api.post(f"/api/projects/{pid}/track", json={"start": 0, "end": 39})
    assert same.status_code == 202 and same.json()["run"]["object_ids"] == []
    put_points(api, pid, obj, 0, [{"x": 31, "y": 32, "label": "positive"}])
    track(api, pid, 0, 39)  # a correction on the anchor frame: every mask made again
    with api.stream("GET", f"/api/jobs/{job['id']}/events") as response:
        for _ in response.iter_lines():
            pass
    done = api.get(f"/api/jobs/{job['id']}").json()
    assert done["status"] == "done", done
    assert done["used_track"] is True and done["frames_done"] == 40
    assert not (server.data_dir / "jobs" / job["id"] / "track").exists()  # its copy is gone


def test_cancel_stops_a_running_track(api: httpx.Client, tmp_path: Path) -> None:
    path = tmp_path / "long.mp4"
    write_video(path, frames=120)
    pid = upload(api, path, "long")["id"]
    obj = add_object(api, pid)
    put_points(api, pid, obj, 0, [POS])
    assert api.post(f"/api/projects/{pid}/track", json={"start": 0, "end": 119}).status_code == 202
    cancelled = api.delete(f"/api/projects/{pid}/track")
    assert cancelled.status_code == 200
    state = cancelled.json()
    assert state["status"] == "cancelled" and state["frames_done"] < 120
    assert follow(api, pid)[-1] == api.get(f"/api/projects/{pid}/track").json()
    assert api.get(f"/api/projects/{pid}/track").json()["frames_done"] == state["frames_done"]
    # Forward from the click on frame 0: the frames made so far, and only those, have masks.
    assert state["tracked"] == ([[0, state["frames_done"] - 1]] if state["frames_done"] else [])
    # A frame the cancel left without a mask will not get one: not "not tracked yet".
    for params in ({}, {"object_id": obj}):
        missing = api.get(f"/api/projects/{pid}/track/masks/119", params=params)
        assert missing.status_code == 404 and missing.json()["detail"] == (
            "frame 119 is not tracked: the track was cancelled before it reached the frame "
            "(track again to make it)"
        )


def test_deleting_a_project_while_it_tracks_leaves_nothing(server, tmp_path: Path) -> None:
    """The track stops before the project's folder goes: no mask is written after it. Its
    event stream ends saying the project was deleted, not that the track was cancelled."""
    path = tmp_path / "long.mp4"
    write_video(path, frames=120)
    events: list[tuple[str, dict]] = []
    following = threading.Event()

    def read(client: httpx.Client) -> None:
        events.extend(read_events_at(client, f"/api/projects/{pid}/track/events", following))

    with server.client() as api, server.client() as follower:
        pid = upload(api, path, "long")["id"]
        obj = add_object(api, pid)
        put_points(api, pid, obj, 0, [POS])
        assert api.post(f"/api/projects/{pid}/track", json={"start": 0, "end": 119}).status_code
        for _ in range(100):  # until it has written masks
            if api.get(f"/api/projects/{pid}/track").json()["frames_done"] >= 2:
                break
        reader = threading.Thread(target=read, args=(follower,))
        reader.start()
        assert following.wait(10)
        assert api.delete(f"/api/projects/{pid}").status_code == 204
        reader.join(10)
        assert not reader.is_alive()  # the stream ended
        assert api.get(f"/api/projects/{pid}/track").status_code == 404
    assert not (server.data_dir / "projects" / pid).exists()
    assert events[-1] == ("deleted", {"project_id": pid})
    assert {data["status"] for _, data in events[:-1]} == {"running"}


def test_a_project_says_whether_it_has_a_track(api: httpx.Client, project: dict) -> None:
    """An editor opening a project never tracked need not ask for its track (a 404)."""
    pid = project["id"]

    def has_track() -> tuple[bool, bool]:  # as GET .../{pid} and the list say
        listed = next(p for p in api.get("/api/projects").json() if p["id"] == pid)
        return api.get(f"/api/projects/{pid}").json()["has_track"], listed["has_track"]

    assert project["has_track"] is False and has_track() == (False, False)
    put_points(api, pid, add_object(api, pid), 3, [POS])
    assert has_track() == (False, False)  # points alone are no track
    assert api.post(f"/api/projects/{pid}/track", json={"start": 0, "end": 11}).status_code == 202
    assert has_track() == (True, True)  # from its start on, while it runs
    follow(api, pid)
    assert has_track() == (True, True)
    renamed = api.patch(f"/api/projects/{pid}", json={"name": "tracked disk"})
    assert renamed.json()["has_track"] is True


def test_track_errors(api: httpx.Client, project: dict) -> None:
    pid = project["id"]
    none = api.get(f"/api/projects/{pid}/track")
    assert none.status_code == 404 and "has no track" in none.json()["detail"]
    assert api.get(f"/api/projects/{pid}/track/masks/0").status_code == 404
    assert api.delete(f"/api/projects/{pid}/track").status_code == 404
    empty = api.post(f"/api/projects/{pid}/track", json={"start": 0, "end": 11})
    assert empty.status_code == 422 and "holds points" in empty.json()["detail"]
    backwards = api.post(f"/api/projects/{pid}/track", json={"start": 5, "end": 2})
    assert backwards.status_code == 422 and "after end frame" in backwards.json()["detail"]
    outside = api.post(f"/api/projects/{pid}/track", json={"start": 0, "end": 12})
    assert outside.status_code == 422 and "outside the video" in outside.json()["detail"]
    unknown = api.post("/api/projects/nope/track", json={"start": 0, "end": 1})
    assert unknown.status_code == 404


def write_leaving_clip(path: Path, frames: int = 12, width: int = 96, height: int = 64) -> None:
    """A red disk that crosses the frame to the right and leaves it at about frame 7."""
    yy, xx = np.mgrid[0:height, 0:width]
    checker = (((yy // 8) + (xx // 8)) % 2).astype(np.float32)
    background = np.stack([40 + 40 * checker, 60 + 40 * checker, 120 + 60 * checker], axis=-1)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            alpha = disk_alpha(height, width, 30 + i * 12, 32, 14)[..., None]
            rgb = alpha * np.array([220.0, 40.0, 30.0]) + (1 - alpha) * background
            frame = av.VideoFrame.from_ndarray(np.round(rgb).astype(np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def test_flags_are_those_of_the_served_masks(api: httpx.Client, tmp_path: Path) -> None:
    """The test SAM2 has random weights and does not follow the disk out of the frame, so the
    flags of a leaving object are asserted on exact masks below; here, that the server flags
    exactly what its own stored masks show."""
    path = tmp_path / "leaving.mp4"
    write_leaving_clip(path)
    pid = upload(api, path, "leaving")["id"]
    obj = add_object(api, pid)
    put_points(api, pid, obj, 0, [POS])
    _, done = track(api, pid, 0, 11)
    stats = {f: {obj: mask_stats(np.asarray(mask(api, pid, f, obj)))} for f in range(12)}
    assert done["flags"] == [f.__dict__ for f in find_flags(stats)]


def test_flags_on_a_disk_that_leaves_the_frame() -> None:
    """The flags of masks of a disk that moves right, jumps, and leaves the frame."""
    width, height = mask_size(192, 108)
    xs = [60, 64, 68, 120, 124, 200, 260, 260]  # a jump at 3, leaving at 5..6
    stats = {
        frame: {1: mask_stats(np.round(disk_alpha(height, width, x, 54, 20) * 255))}
        for frame, x in enumerate(xs)
    }
    assert find_flags(stats) == [
        Flag(3, 1, "moved"),
        Flag(5, 1, "area jump"),  # half out of the frame
        Flag(6, 1, "lost"),
        Flag(7, 1, "lost"),
    ]


def test_intervals() -> None:
    assert intervals([5, 3, 4, 9, 10, 12, 4]) == [(3, 5), (9, 10), (12, 12)]
    assert intervals([]) == []


@pytest.mark.parametrize(("size", "expected"), [((96, 64), (96, 64)), ((3840, 2160), (256, 144))])
def test_mask_size_keeps_the_aspect(size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert mask_size(*size) == expected


def test_an_object_with_only_negative_clicks_is_not_tracked(
    api: httpx.Client, project: dict
) -> None:
    """A track took an object whose clicks in the range were all negative, and tracked nothing
    for it: refused, naming it, before anything runs."""
    pid = project["id"]
    put_points(api, pid, add_object(api, pid), 4, [POS])
    blind = api.post(f"/api/projects/{pid}/objects", json={"name": "shadow"}).json()["id"]
    put_points(api, pid, blind, 3, [{"x": 90, "y": 5, "label": "negative"}])
    refused = api.post(f"/api/projects/{pid}/track", json={"start": 0, "end": 11})
    assert refused.status_code == 422, refused.text  # was 202
    assert refused.json()["detail"] == (
        f"object {blind} ('shadow') has only negative clicks in frames 0..11: add a positive "
        "click or a box on it there, or remove its clicks"
    )
    assert api.get(f"/api/projects/{pid}/track").status_code == 404  # none was started
