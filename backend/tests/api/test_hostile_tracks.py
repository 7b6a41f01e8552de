"""A track's run cut short (a cancel after a correction, the delete of its objects) over real
HTTP against the real (shrunk) SAM2."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.api.test_track import POS, add_object, follow, put_points, track
from tests.conftest import upload
from tests.synth import write_video


def test_a_correction_cancelled_midway_serves_no_mask_of_the_old_points(
    api: httpx.Client, tmp_path: Path
) -> None:
    """A re-run of a corrected object that stops before a frame leaves that frame without the
    object's mask, as a whole track does: the mask made on the old points is not served as the
    track's (the track is not stale, so nothing else would tell it apart)."""
    path = tmp_path / "long.mp4"
    write_video(path, frames=120)
    pid = upload(api, path, "long")["id"]
    obj = add_object(api, pid)
    put_points(api, pid, obj, 0, [POS])
    track(api, pid, 0, 119)

    put_points(api, pid, obj, 10, [{"x": 40, "y": 30, "label": "positive"}])  # a correction
    started = api.post(f"/api/projects/{pid}/track", json={"start": 0, "end": 119}).json()
    assert started["run"] == {"start": 10, "end": 119, "object_ids": [obj]}
    cancelled = api.delete(f"/api/projects/{pid}/track").json()
    done = cancelled["frames_done"]
    assert cancelled["status"] == "cancelled" and done < 110 and cancelled["stale"] is False
    assert follow(api, pid)[-1] == api.get(f"/api/projects/{pid}/track").json()
    # Frames 0..9 keep their masks (before the change); from frame 10 on, those re-made alone.
    assert cancelled["tracked"] == [[0, 9 + done]]
    for params in ({}, {"object_id": obj}):
        missing = api.get(f"/api/projects/{pid}/track/masks/119", params=params)
        assert missing.status_code == 404 and missing.json()["detail"] == (
            "frame 119 is not tracked: the track was cancelled before it reached the frame "
            "(track again to make it)"
        )


def test_deleting_every_object_of_a_running_track_stops_it(
    api: httpx.Client, tmp_path: Path
) -> None:
    """A track left with no object would run SAM2 to its end for nothing, taking turns with
    the previews and jobs meanwhile: the delete of its last object cancels it. One that still
    has an object goes on."""
    path = tmp_path / "long.mp4"
    write_video(path, frames=120)
    pid = upload(api, path, "long")["id"]
    a, b = add_object(api, pid), add_object(api, pid)
    put_points(api, pid, a, 0, [POS])
    put_points(api, pid, b, 0, [{"x": 70, "y": 20, "label": "positive"}])
    assert api.post(f"/api/projects/{pid}/track", json={"start": 0, "end": 119}).status_code == 202

    assert api.delete(f"/api/projects/{pid}/objects/{a}").status_code == 204
    assert api.get(f"/api/projects/{pid}/track").json()["status"] == "running"
    assert api.delete(f"/api/projects/{pid}/objects/{b}").status_code == 204
    stopped = api.get(f"/api/projects/{pid}/track").json()
    assert stopped["status"] == "cancelled" and stopped["frames_done"] < 120
    assert follow(api, pid)[-1] == api.get(f"/api/projects/{pid}/track").json() == stopped
