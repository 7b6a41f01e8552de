"""Matting jobs end to end over real HTTP: SSE progress, results, archive, cancel, resume."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Callable
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from tests import waiting
from tests.conftest import upload
from tests.synth import write_video
from vidmatte.config import Settings
from vidmatte.jobs.mattes import encode_mattes
from vidmatte.matte.adjust import adjust_matte, median3, still_pixels
from vidmatte.media.video import VideoReader, probe


def prompt(api: httpx.Client, pid: str, frame: int = 4) -> int:
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    points = [{"x": 30, "y": 32, "label": "positive"}, {"x": 90, "y": 5, "label": "negative"}]
    response = api.put(
        f"/api/projects/{pid}/objects/{obj}/frames/{frame}/points", json={"points": points}
    )
    assert response.status_code == 200
    return obj


def wait_job(
    api: httpx.Client,
    job_id: str,
    until: set[str] | Callable[[dict], object],
    timeout: float = 180,
    every: float = 0.05,
) -> dict:
    """The job once `until` holds: one of these statuses, or a test of the job's JSON."""
    test = (lambda job: job["status"] in until) if isinstance(until, set) else until
    what = f"job {job_id} to reach {until}" if isinstance(until, set) else f"job {job_id}"

    def fetch() -> dict:
        return api.get(f"/api/jobs/{job_id}").json()

    return waiting.wait_for(fetch, timeout, what, every, test)


def read_events(api: httpx.Client, job_id: str, first: threading.Event | None = None) -> list[dict]:
    """The job's `progress` events until its stream ends (of a job not deleted meanwhile);
    `first` is set once one has come."""
    events = read_stream(api, job_id, first)
    assert {kind for kind, _ in events} <= {"progress"}, events
    return [data for _, data in events]


def read_stream(
    api: httpx.Client, job_id: str, first: threading.Event | None = None
) -> list[tuple[str, dict]]:
    """The job's events, each as its name and data, until its stream ends; `first` is set once
    one has come."""
    return read_events_at(api, f"/api/jobs/{job_id}/events", first)


def read_events_at(
    api: httpx.Client, path: str, first: threading.Event | None = None
) -> list[tuple[str, dict]]:
    """The events of the stream at `path` (a job's, a track's), each as its name and data,
    until it ends; `first` is set once one has come."""
    events = []
    with api.stream("GET", path) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((kind, json.loads(line.split(":", 1)[1])))
                if first is not None:
                    first.set()
    return events


def decode_alpha(data: bytes, name: str, codec: str | None = None) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        # FFmpeg's native vp9 decoder drops the alpha plane; libvpx keeps it.
        decoder = av.codec.CodecContext.create(codec, "r") if codec else stream.codec_context
        frames = []
        for packet in container.demux(stream):
            for frame in decoder.decode(packet):
                assert "a" in frame.format.name, f"{name}: {frame.format.name} has no alpha"
                frames.append(frame.to_ndarray(format="rgba")[..., 3])
        return frames


def test_job_end_to_end(api: httpx.Client, project: dict) -> None:
    pid = project["id"]
    prompt(api, pid, frame=4)
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 1, "end": 10})
    assert job.status_code == 201, job.text
    job = job.json()
    assert job["status"] == "queued" and job["frames_total"] == 10
    events = read_events(api, job["id"])
    assert len(events) >= 3
    assert events[-1]["status"] == "done" and events[-1]["frames_done"] == 10
    done = [e["frames_done"] for e in events]
    assert done == sorted(done)  # progress only moves forward
    assert any(e["fps"] for e in events)
    assert api.get(f"/api/projects/{pid}/jobs").json()[0]["id"] == job["id"]

    for index in (1, 4, 10):
        alpha = api.get(f"/api/jobs/{job['id']}/alpha/{index}")
        assert alpha.status_code == 200
        image = Image.open(io.BytesIO(alpha.content))
        assert image.mode == "L" and image.size == (96, 64)
    # The editor asks for mattes at its stage's size (a 4K matte is 33 MB decoded).
    small = api.get(f"/api/jobs/{job['id']}/alpha/4", params={"max_side": 48})
    assert Image.open(io.BytesIO(small.content)).size == (48, 32)
    too_small = api.get(f"/api/jobs/{job['id']}/alpha/4", params={"max_side": 8})
    assert too_small.status_code == 422 and "max_side" in too_small.text
    assert api.get(f"/api/jobs/{job['id']}/alpha/0").status_code == 404

    response = api.get(
        f"/api/jobs/{job['id']}/archive",
        params={"formats": "alpha_png,rgba_png,prores4444,webm_alpha,composite_mp4"},
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    alphas = sorted(n for n in names if n.startswith("alpha/"))
    assert alphas == [f"alpha/{i:06d}.png" for i in range(1, 11)]
    assert len([n for n in names if n.startswith("rgba/")]) == 10
    mattes = [np.asarray(Image.open(archive.open(n))) for n in alphas]
    for matte in mattes:
        assert matte.shape == (64, 96) and matte.dtype == np.uint8
    rgba = Image.open(archive.open("rgba/000004.png"))
    assert rgba.mode == "RGBA" and np.array_equal(np.asarray(rgba)[..., 3], mattes[3])
    prores = next(n for n in names if n.endswith("_prores4444.mov"))
    webm = next(n for n in names if n.endswith("_alpha.webm"))
    for name, codec, tolerance in ((prores, None, 1.5), (webm, "libvpx-vp9", 3.0)):
        decoded = decode_alpha(archive.read(name), name, codec)
        assert len(decoded) == 10
        for got, want in zip(decoded, mattes, strict=True):
            assert got.shape == want.shape
            assert np.abs(got.astype(float) - want).mean() < tolerance, name
    assert any(n.endswith("_composite.mp4") for n in names)


def test_archive_bad_format(api: httpx.Client, project: dict) -> None:
    prompt(api, project["id"])
    job = api.post(f"/api/projects/{project['id']}/jobs", json={"start": 3, "end": 5}).json()
    wait_job(api, job["id"], {"done"})
    bad = api.get(f"/api/jobs/{job['id']}/archive", params={"formats": "gif"})
    assert bad.status_code == 422 and "unknown export format 'gif'" in bad.json()["detail"]
    colour = api.get(f"/api/jobs/{job['id']}/archive", params={"background": "green"})
    assert colour.status_code == 422
    fg = api.get(f"/api/jobs/{job['id']}/archive", params={"fg": "clean"})
    assert fg.status_code == 422 and "fg" in str(fg.json()["detail"])
    for choice in ("estimated", "raw"):
        params = {"formats": "rgba_png", "fg": choice}
        rgba = api.get(f"/api/jobs/{job['id']}/archive", params=params)
        assert rgba.status_code == 200
        assert len(zipfile.ZipFile(io.BytesIO(rgba.content)).namelist()) == 3
    # What comes back of a wrong value is bounded: a 50 kB query is not echoed 50 kB long.
    for param in ("formats", "background"):
        long = api.get(f"/api/jobs/{job['id']}/archive", params={param: "a" * 50_000})
        assert long.status_code == 422 and len(long.json()["detail"]) < 400, param
    # Formats repeated in the query all count (the last one alone did).
    both = api.get(
        f"/api/jobs/{job['id']}/archive", params=[("formats", "alpha_png"), ("formats", "exr")]
    )
    names = zipfile.ZipFile(io.BytesIO(both.content)).namelist()
    assert {n.split("/")[0] for n in names} == {"alpha", "exr"}, names
    # A job's download colour is written as the archive's is: with or without '#'.
    export = {"formats": ["composite_mp4"], "background": "#00FF00"}
    made = api.post(
        f"/api/projects/{project['id']}/jobs", json={"start": 3, "end": 4, "export": export}
    )
    assert made.status_code == 201, made.text
    assert made.json()["export"]["background"] == "00ff00"  # kept in one spelling


def test_an_archive_of_a_project_named_in_another_script_keeps_its_name(
    api: httpx.Client, project: dict
) -> None:
    """A project named 日本語の動画 downloaded as `vidmatte_frames_4-4.zip`: the ASCII name
    had nothing left of it. Browsers read RFC 6266's `filename*` where it is given."""
    pid = project["id"]
    api.patch(f"/api/projects/{pid}", json={"name": "日本語の動画"}).raise_for_status()
    prompt(api, pid)
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 4, "end": 4}).json()
    wait_job(api, job["id"], {"done"})
    disposition = api.head(f"/api/jobs/{job['id']}/archive").headers["content-disposition"]
    plain, extended = disposition.split("; filename*=UTF-8''")
    assert plain == 'attachment; filename="vidmatte_frames_4-4.zip"'
    assert urllib.parse.unquote(extended) == "日本語の動画_frames_4-4.zip"


def test_head_answers_as_get_does_without_the_body(
    server, api: httpx.Client, project: dict
) -> None:
    """Download managers and proxies ask HEAD first."""
    log_start = server.log_mark()
    pid = project["id"]
    prompt(api, pid)
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 3, "end": 5}).json()
    wait_job(api, job["id"], {"done"})
    for path in (
        "/api/projects",
        f"/api/projects/{pid}",
        f"/api/projects/{pid}/frames/4",
        f"/api/projects/{pid}/thumbnail",
        f"/api/jobs/{job['id']}",
        f"/api/jobs/{job['id']}/alpha/4",
        "/",
    ):
        got, head = api.get(path), api.head(path)
        assert head.status_code == 200 and head.content == b"", path
        for header in ("content-type", "content-length"):
            assert head.headers[header] == got.headers[header], (path, header)
    archive = api.head(f"/api/jobs/{job['id']}/archive", params={"formats": "prores4444,exr"})
    assert archive.status_code == 200 and archive.content == b""
    assert archive.headers["content-type"] == "application/zip"
    assert archive.headers["content-disposition"].endswith('_frames_3-5.zip"')
    missing = api.head("/api/jobs/j_000000000000")
    assert missing.status_code == 404 and missing.content == b""
    assert api.head(f"/api/projects/{pid}/objects").status_code == 200
    assert "Traceback" not in server.log_since(log_start)


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"start": 6, "end": 2}, 422, "after end frame"),
        ({"start": 0, "end": 12}, 422, "outside the video (frames 0..11)"),
        ({"start": 6, "end": 11}, 422, "no frame in 6..11 holds points"),
        ({"start": 0, "end": 5, "object_ids": [99999]}, 404, "do not exist"),
        # Was "no frame in 0..5 holds points of the chosen objects", though frame 4 holds some.
        ({"start": 0, "end": 5, "object_ids": []}, 422, "object_ids is empty: list the objects"),
        ({"start": -1, "end": 5}, 422, ""),
        # JSON's true is not frame 1, nor "0" frame 0: a client that sends them has a bug.
        ({"start": True, "end": 5}, 422, "valid integer"),
        ({"start": "0", "end": 5}, 422, "valid integer"),
    ],
)
def test_bad_job_requests_start_nothing(
    api: httpx.Client, project: dict, body: dict, status: int, words: str
) -> None:
    prompt(api, project["id"], frame=4)
    response = api.post(f"/api/projects/{project['id']}/jobs", json=body)
    assert response.status_code == status, response.text
    assert words in str(response.json()["detail"])
    assert api.get(f"/api/projects/{project['id']}/jobs").json() == []


def test_a_chosen_object_without_points_in_the_range_is_named(
    api: httpx.Client, project: dict
) -> None:
    pid = project["id"]
    inside, outside = prompt(api, pid, frame=4), prompt(api, pid, frame=10)
    name = api.get(f"/api/projects/{pid}/objects").json()[1]["name"]
    refused = api.post(
        f"/api/projects/{pid}/jobs", json={"start": 0, "end": 6, "object_ids": [inside, outside]}
    )
    assert refused.status_code == 422, refused.text  # was 201, matting the first one only
    assert refused.json()["detail"] == (
        f"object {outside} ('{name}') has no points in frames 0..6: click on it there, or "
        "leave it out of the job"
    )
    assert api.get(f"/api/projects/{pid}/jobs").json() == []


def test_unknown_job(api: httpx.Client) -> None:
    for path in (
        "/api/jobs/j_nope",
        "/api/jobs/j_nope/alpha/0",
        "/api/jobs/j_nope/archive",
        "/api/jobs/j_nope/events",
    ):
        response = api.get(path)
        assert response.status_code == 404 and "job 'j_nope' does not exist" in response.text
    assert api.post("/api/jobs/j_nope/cancel").status_code == 404


def test_cancel_stops_quickly_and_resume_finishes(
    api: httpx.Client, tmp_path: Path, server
) -> None:
    path = tmp_path / "long.mp4"
    write_video(path, frames=40, width=320, height=240)
    pid = upload(api, path)["id"]
    prompt(api, pid, frame=0)
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 39}).json()
    assert waiting.wait_until(
        lambda: api.get(f"/api/jobs/{job['id']}").json()["frames_done"] >= 2, 60
    )
    cancelled = api.post(f"/api/jobs/{job['id']}/cancel").json()
    assert cancelled["status"] == "cancelled"
    time.sleep(2)
    after = api.get(f"/api/jobs/{job['id']}").json()
    assert after["status"] == "cancelled"
    assert after["frames_done"] <= cancelled["frames_done"] + 2 < 40
    # Its finished frames are intact and downloadable.
    assert api.get(f"/api/jobs/{job['id']}/alpha/0").status_code == 200
    assert api.post(f"/api/jobs/{job['id']}/resume").json()["status"] == "queued"
    finished = wait_job(api, job["id"], {"done", "failed"})
    assert finished["status"] == "done" and finished["frames_done"] == 40
    files = sorted((server.data_dir / "jobs" / job["id"] / "alpha").iterdir())
    assert [f.name for f in files] == [f"{i:06d}.png" for i in range(40)]
    again = api.post(f"/api/jobs/{job['id']}/resume")
    assert again.status_code == 409 and "is done" in again.json()["detail"]


def test_deleting_a_project_while_its_archive_downloads(server, clip: Path) -> None:
    """The delete answers at once and the project is gone from the API, but a download already
    under way ends whole; its files go when it does."""
    with server.client() as api:
        pid = upload(api, clip, "doomed")["id"]
        prompt(api, pid)
        job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 11}).json()
        wait_job(api, job["id"], {"done"})
        formats = "alpha_png,rgba_png,exr,prores4444,webm_alpha,composite_mp4"
        url = f"/api/jobs/{job['id']}/archive"
        with api.stream("GET", url, params={"formats": formats}) as download:
            assert download.status_code == 200  # headers are in; the body is still coming
            assert api.delete(f"/api/projects/{pid}").status_code == 204
            assert api.get(f"/api/projects/{pid}").status_code == 404
            body = download.read()
        names = zipfile.ZipFile(io.BytesIO(body)).namelist()
        assert len([n for n in names if n.startswith("exr/")]) == 12
        assert len([n for n in names if n.endswith((".mov", ".webm", ".mp4"))]) == 3
    leftovers = [server.data_dir / "projects" / pid, server.data_dir / "jobs" / job["id"]]
    assert waiting.wait_until(lambda: not any(p.exists() for p in leftovers), 10, every=0.05)


def test_a_job_keeps_the_export_chosen_for_it(api: httpx.Client, project: dict) -> None:
    """The formats, colour and mattes chosen in the Matting dialog live with the job, so any
    browser that opens the project later downloads what was chosen."""
    pid = project["id"]
    prompt(api, pid)
    chosen = {
        "formats": ["exr", "prores4444"],
        "background": "112233",
        "fg": "raw",
        "mattes": "both",
        "shift_edge": -1.5,
        "feather": 2,
        "reduce_chatter": True,
    }
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": 4, "end": 5, "export": chosen})
    assert job.status_code == 201, job.text
    assert job.json()["export"] == chosen
    assert api.get(f"/api/jobs/{job.json()['id']}").json()["export"] == chosen
    # So does the server's background plate setting (resolved): a resume mattes with it.
    assert job.json()["plate"] is Settings().use_plate
    plain = api.post(f"/api/projects/{pid}/jobs", json={"start": 4, "end": 5}).json()
    assert plain["export"] is None
    unadjusted = {"start": 4, "end": 5, "export": {"formats": ["exr"]}}
    export = api.post(f"/api/projects/{pid}/jobs", json=unadjusted).json()["export"]
    assert (export["shift_edge"], export["feather"], export["reduce_chatter"]) == (0, 0, False)
    for bad, words in [
        ({"formats": ["gif"]}, "unknown export format 'gif'"),
        ({"formats": []}, "export.formats"),
        ({"formats": ["exr"], "background": "green"}, "export.background"),
        ({"formats": ["exr"], "mattes": "all"}, "export.mattes"),
        ({"formats": ["exr"], "shift_edge": 32.5}, "export.shift_edge"),
        ({"formats": ["exr"], "shift_edge": "2"}, "export.shift_edge"),
        ({"formats": ["exr"], "feather": -1}, "export.feather"),
        ({"formats": ["exr"], "reduce_chatter": "true"}, "export.reduce_chatter"),
    ]:
        refused = api.post(f"/api/projects/{pid}/jobs", json={"start": 4, "end": 5, "export": bad})
        assert refused.status_code == 422 and words in refused.json()["detail"], refused.text


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("name", ["shift_edge", "feather"])
@pytest.mark.parametrize("path", ["archive", "alpha/0"])
def test_an_edge_adjustment_that_is_not_a_number_is_called_so(
    api: httpx.Client, path: str, name: str, value: str
) -> None:
    """`shift_edge=nan` was refused as "less than or equal to 32", which it is not: the user
    is told what is wrong with it."""
    response = api.get(f"/api/jobs/j_000000000000/{path}", params={name: value})
    assert response.status_code == 422
    assert response.json()["detail"] == f"invalid request: {name}: Input should be a finite number"


@pytest.mark.parametrize("value", ["1_0", "+2", "\uff12", " 2"])
@pytest.mark.parametrize("name", ["shift_edge", "feather"])
@pytest.mark.parametrize("path", ["archive", "alpha/0"])
def test_an_edge_adjustment_not_in_plain_digits_is_refused(
    api: httpx.Client, path: str, name: str, value: str
) -> None:
    """float() reads "1_0" as 10, "+2" and a fullwidth two (U+FF12) as 2: `feather=1_0` was served
    feathered 10. Refused as an upload's fps and the command's --feather are (the job does not
    exist: the query is read first)."""
    response = api.get(f"/api/jobs/j_000000000000/{path}", params={name: value})
    assert response.status_code == 422, response.text  # was a 404: the value was taken
    assert response.json()["detail"] == (
        f"invalid request: {name}: must be a plain decimal number, as 10, 23.976 or 1e-3"
    )


@pytest.mark.parametrize("value", ["1e-7", "5e-324", "1E-05", "2.5e+1", "-.5e1", "3."])
@pytest.mark.parametrize("name", ["shift_edge", "feather"])
@pytest.mark.parametrize("path", ["archive", "alpha/0"])
def test_an_edge_adjustment_in_exponent_form_is_taken(
    api: httpx.Client, path: str, name: str, value: str
) -> None:
    """A client writes a small float so (JavaScript's String(1e-7), Python's str(1e-05)): the
    value is read, and the missing job answered."""
    if name == "feather" and value.startswith("-"):
        value = value[1:]
    response = api.get(f"/api/jobs/j_000000000000/{path}", params={name: value})
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("name", ["shift_edge", "feather", "reduce_chatter"])
@pytest.mark.parametrize("path", ["archive", "alpha/0"])
def test_an_edge_adjustment_given_twice_is_refused(api: httpx.Client, path: str, name: str) -> None:
    """The edge adjustments are read by a dependency, whose query parameters the check for
    repeats did not see: `feather=1&feather=30` was served feathered 30 as if the first had
    not been sent."""
    twice = [(name, "1"), (name, "0")]
    response = api.get(f"/api/jobs/j_000000000000/{path}", params=twice)
    assert response.status_code == 422, response.text  # was a 404: the repeat went unseen
    assert response.json()["detail"] == (
        f"invalid request: {name}: given 2 times; it takes one value"
    )


@pytest.mark.parametrize(
    "path, typo, takes",
    [
        (
            "archive",
            "format",
            "background, end, feather, fg, formats, mattes, reduce_chatter, shift_edge, start",
        ),
        ("alpha/0", "maxside", "feather, max_side, object_id, reduce_chatter, shift_edge"),
    ],
)
def test_a_query_parameter_the_route_does_not_read_is_refused(
    api: httpx.Client, path: str, typo: str, takes: str
) -> None:
    """A misspelt parameter was ignored: `archive?format=exr` answered 200 with the default
    PNGs, `alpha/0?maxside=16` at full size. Say so, naming what the route takes."""
    response = api.get(f"/api/jobs/j_000000000000/{path}", params={typo: "16"})
    assert response.status_code == 422, response.text  # was the unknown job's 404
    assert response.json()["detail"] == (
        f"invalid request: {typo}: not a query parameter here; it takes {takes}"
    )


def test_edge_adjustments_apply_to_what_is_served_not_what_is_stored(
    api: httpx.Client, server, project: dict, clip: Path
) -> None:
    """shift_edge and feather on the archive and the alpha preview: the matte grown, choked and
    softened at the stored size; the stored matte as it was when both are 0. reduce_chatter:
    the median of the frame's and its neighbours' mattes where the picture is still, before
    the shift; the job's first and last frames keep their own."""
    prompt(api, project["id"])
    job = api.post(f"/api/projects/{project['id']}/jobs", json={"start": 3, "end": 5}).json()
    job_id = wait_job(api, job["id"], {"done"})["id"]
    # A known hard-edged disk stands in for the job's matte (test-tiny's have no edge to move),
    # between two frames where it stands further right: on frame 4 it flickers.
    yy, xx = np.mgrid[:64, :96]
    disk = ((yy - 32) ** 2 + (xx - 40) ** 2 <= 15**2).astype(np.float32)
    around = [((yy - 32) ** 2 + (xx - c) ** 2 <= 15**2).astype(np.float32) for c in (46, 48)]
    for frame, alpha in zip((3, 4, 5), (around[0], disk, around[1]), strict=True):
        stored = server.data_dir / "jobs" / job_id / "alpha" / f"{frame:06d}.png"
        stored.write_bytes(encode_mattes([alpha]))

    def matte(frame: int = 4, **params: str) -> np.ndarray:
        response = api.get(f"/api/jobs/{job_id}/archive", params={"formats": "alpha_png", **params})
        assert response.status_code == 200, response.text
        with Image.open(
            zipfile.ZipFile(io.BytesIO(response.content)).open(f"alpha/{frame:06d}.png")
        ) as im:
            return np.asarray(im).astype(np.int64)

    plain, zero = matte(), matte(shift_edge="0", feather="0")
    np.testing.assert_array_equal(plain, disk * 255)
    np.testing.assert_array_equal(zero, plain)
    grown, choked = matte(shift_edge="3"), matte(shift_edge="-2.5")
    assert (grown == 255).sum() > (plain == 255).sum() and np.all(grown >= plain)
    np.testing.assert_array_equal(grown, adjust_matte(disk, 3) * 255)
    assert (choked == 255).sum() < (plain == 255).sum() and np.all(choked <= plain)
    soft = matte(feather="4")
    assert ((soft > 0) & (soft < 255)).sum() > 100  # none were soft
    assert soft.sum() == pytest.approx(plain.sum(), rel=0.01)  # a blur moves, it adds nothing

    def preview(frame: int = 4, **params: str) -> np.ndarray:
        response = api.get(f"/api/jobs/{job_id}/alpha/{frame}", params=params)
        assert response.status_code == 200, response.text
        with Image.open(io.BytesIO(response.content)) as image:
            return np.asarray(image).astype(np.int64)

    # The preview is the archive's adjusted matte, adjusted at full size before any shrink.
    adjusted = preview(shift_edge="2", feather="1.5")
    np.testing.assert_array_equal(adjusted, matte(shift_edge="2", feather="1.5"))
    np.testing.assert_array_equal(preview(), plain)
    shrunk = Image.fromarray(adjusted.astype(np.uint8))
    shrunk.thumbnail((48, 48), Image.Resampling.BILINEAR)
    small = preview(shift_edge="2", feather="1.5", max_side="48")
    np.testing.assert_array_equal(small, np.asarray(shrunk))

    # The disk's left edge on frame 4 is gone where the video's picture is still there.
    reader = VideoReader(clip, probe(clip)[1], 0)  # the uploaded file, decoded as the server does
    still = still_pixels(*(reader.frame(frame) for frame in (3, 4, 5)))
    reader.close()
    steady = median3(around[0], disk, around[1], still)
    assert (steady != disk).sum() > 50 and not still.all()
    calm = {"reduce_chatter": "true", "shift_edge": "2"}
    np.testing.assert_array_equal(matte(**calm), adjust_matte(steady, 2) * 255)
    np.testing.assert_array_equal(preview(**calm), matte(**calm))
    np.testing.assert_array_equal(matte(reduce_chatter="false"), plain)
    for end, own in [(3, around[0]), (5, around[1])]:  # the job's first and last frames
        np.testing.assert_array_equal(matte(end, **calm), adjust_matte(own, 2) * 255)
        np.testing.assert_array_equal(preview(end, **calm), matte(end, **calm))

    for params, name in [
        ({"shift_edge": "40"}, "shift_edge"),
        ({"shift_edge": "-32.5"}, "shift_edge"),
        ({"shift_edge": "nan"}, "shift_edge"),
        ({"feather": "-1"}, "feather"),
        ({"feather": "inf"}, "feather"),
        ({"reduce_chatter": "maybe"}, "reduce_chatter"),
    ]:
        for url in (f"/api/jobs/{job_id}/archive", f"/api/jobs/{job_id}/alpha/4"):
            refused = api.get(url, params=params)
            assert refused.status_code == 422 and name in refused.json()["detail"], refused.text


POS, NEG = {"x": 30, "y": 32, "label": "positive"}, {"x": 90, "y": 5, "label": "negative"}


def test_an_object_with_only_negative_clicks_in_the_range_is_named(
    api: httpx.Client, project: dict
) -> None:
    """An object whose clicks in the range were all negative was matted as nothing: SAM2 has no
    positive click or box to find it from. Refused, named, whether chosen or picked by default
    (the other object alone would be matted, and the one clicked on missing without a word)."""
    pid = project["id"]
    good = prompt(api, pid, frame=4)
    blind = api.post(f"/api/projects/{pid}/objects", json={"name": "shadow"}).json()["id"]
    url = f"/api/projects/{pid}/objects/{blind}/frames"
    assert api.put(f"{url}/2/points", json={"points": [NEG]}).status_code == 200
    assert api.put(f"{url}/9/points", json={"points": [POS]}).status_code == 200  # outside 0..6
    expected = (
        f"object {blind} ('shadow') has only negative clicks in frames 0..6: add a positive "
        "click or a box on it there, or leave it out of the job"
    )
    for chosen in ({"object_ids": [good, blind]}, {}):
        refused = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 6, **chosen})
        assert refused.status_code == 422, refused.text  # was 201
        assert refused.json()["detail"] == expected
    assert api.get(f"/api/projects/{pid}/jobs").json() == []
    # A box is as good as a positive click: it says where the object is.
    box = [{"x": 10, "y": 10, "label": "box"}, {"x": 40, "y": 30, "label": "box"}, NEG]
    assert api.put(f"{url}/2/points", json={"points": box}).status_code == 200
    made = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 6})
    assert made.status_code == 201, made.text
    assert made.json()["object_ids"] == [good, blind]
    api.post(f"/api/jobs/{made.json()['id']}/cancel")


def test_one_object_id_sent_many_times_is_one_object(api: httpx.Client, project: dict) -> None:
    """17 copies of one id were refused as "17 object ids", over VIDMATTE_MAX_OBJECTS (16),
    before the copies were merged into the one object they name."""
    pid = project["id"]
    obj = prompt(api, pid, frame=4)
    made = api.post(
        f"/api/projects/{pid}/jobs", json={"start": 0, "end": 6, "object_ids": [obj] * 17}
    )
    assert made.status_code == 201, made.text  # was 422
    assert made.json()["object_ids"] == [obj]
    api.post(f"/api/jobs/{made.json()['id']}/cancel")
