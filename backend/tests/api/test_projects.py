"""Projects over real HTTP: upload, probe, list, rename, frames, thumbnails, delete, bad input."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from tests.conftest import upload
from tests.media.test_video import ALPHA_NOTE, write_with_alpha
from tests.synth import frame_and_alpha, write_video


def test_health_names_models(api: httpx.Client) -> None:
    body = api.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["device"] == "cpu"
    assert body["sam2_model"] == "test-tiny" and body["sam2_test_model"] is True
    assert body["max_points_per_frame"] == 50  # the editor refuses more points before sending them
    assert body["matting_head"]


def test_upload_probes_video(api: httpx.Client, clip: Path) -> None:
    project = upload(api, clip, "my clip")
    assert project["name"] == "my clip" and project["filename"] == "disk.mp4"
    video = project["video"]
    assert (video["width"], video["height"], video["frame_count"]) == (96, 64, 12)
    assert video["fps"] == 12.0 and abs(video["duration"] - 1.0) < 1e-6
    assert video["codec"] == "h264" and video["has_audio"] is False and video["rotation"] == 0
    assert video["timecode"] is None
    assert api.get(f"/api/projects/{project['id']}").json() == project
    assert project["id"] in [p["id"] for p in api.get("/api/projects").json()]


def test_upload_without_name_uses_file_stem(api: httpx.Client, clip: Path, tmp_path: Path) -> None:
    # A stem no other test uploads: the server is shared, and a name taken gets " (2)".
    renamed = tmp_path / "stem-only-here.mp4"
    renamed.write_bytes(clip.read_bytes())
    assert upload(api, renamed)["name"] == "stem-only-here"


@pytest.mark.parametrize(
    ("filename", "name"),
    [("   .mp4", "video"), ("  only-here spaced  .mp4", "only-here spaced")],
)
def test_an_uploads_name_from_its_file_is_trimmed(
    api: httpx.Client, clip: Path, filename: str, name: str
) -> None:
    """A project named after its file was named "   " (blank, which a rename refuses) or kept
    the spaces around the file's name, which a rename trims."""
    response = api.post("/api/projects", files={"file": (filename, clip.read_bytes())})
    assert response.status_code == 201, response.text
    assert api.delete(f"/api/projects/{response.json()['id']}").status_code == 204  # shared
    assert (response.json()["name"], response.json()["filename"]) == (name, filename)


def test_a_long_file_name_keeps_its_extension(api: httpx.Client, clip: Path) -> None:
    """A file name past 255 characters was cut at 255, its extension with it (FFmpeg picks
    its reader by it): the name is shortened before the extension instead."""
    filename = "long-name-" + "x" * 300 + ".mp4"
    response = api.post("/api/projects", files={"file": (filename, clip.read_bytes())})
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == filename[:251] + ".mp4"


def test_frames_are_decoded_exactly(api: httpx.Client, project: dict) -> None:
    for index in (0, 7, 3, 11):  # forward, backward and to the end
        response = api.get(f"/api/projects/{project['id']}/frames/{index}")
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
        image = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"), np.float32)
        expected, _ = frame_and_alpha(index, 64, 96)
        assert image.shape == (64, 96, 3)
        assert np.abs(image - expected).mean() < 6  # H.264 + JPEG, but the right frame
        other, _ = frame_and_alpha(index + 4, 64, 96)
        assert np.abs(image - expected).mean() < np.abs(image - other).mean()


def test_frame_scaling_and_thumbnail(api: httpx.Client, project: dict) -> None:
    small = api.get(f"/api/projects/{project['id']}/frames/2", params={"max_side": 48})
    assert Image.open(io.BytesIO(small.content)).size == (48, 32)
    thumb = api.get(f"/api/projects/{project['id']}/thumbnail")
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).size == (96, 64)


def test_an_anamorphic_videos_thumbnail_shows_its_display_shape(
    api: httpx.Client, tmp_path: Path
) -> None:
    """The list shows what a player shows: 96x64 stored at 32:27 pixels is 114x64 on screen
    (the editor's frames stay in stored pixels: clicks are in them)."""
    path = tmp_path / "dv.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.codec_context.sample_aspect_ratio = Fraction(32, 27)
        for i in range(2):
            rgb, _ = frame_and_alpha(i, 64, 96)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    project = upload(api, path, "dv")
    assert project["video"]["pixel_aspect"] == round(32 / 27, 6)
    thumb = api.get(f"/api/projects/{project['id']}/thumbnail")
    assert Image.open(io.BytesIO(thumb.content)).size == (114, 64)
    frame = api.get(f"/api/projects/{project['id']}/frames/0")
    assert Image.open(io.BytesIO(frame.content)).size == (96, 64)


def test_an_upload_with_alpha_says_it_is_ignored(api: httpx.Client, tmp_path: Path) -> None:
    """ProRes 4444 with alpha (a keyed render): its alpha was dropped without a word."""
    path = write_with_alpha(
        tmp_path / "render.mov", "prores_ks", "yuva444p10le", {"profile": "4444"}
    )
    project = upload(api, path, "render")
    assert project["video"]["notes"] == [ALPHA_NOTE]
    listed = {p["id"]: p for p in api.get("/api/projects").json()}
    assert listed[project["id"]]["video"]["notes"] == [ALPHA_NOTE]


def test_an_uploads_start_timecode_is_in_its_project(api: httpx.Client, tmp_path: Path) -> None:
    path = tmp_path / "camera.mov"
    write_video(path, frames=2, fps=Fraction(30000, 1001), timecode="00:59:59;28")
    project = upload(api, path, "camera")
    assert project["video"]["timecode"] == "00:59:59;28"
    assert api.get(f"/api/projects/{project['id']}").json()["video"]["timecode"] == "00:59:59;28"


def test_rename_and_delete(api: httpx.Client, clip: Path, server) -> None:
    keep, doomed = upload(api, clip, "keep"), upload(api, clip, "doomed")
    renamed = api.patch(f"/api/projects/{doomed['id']}", json={"name": "renamed"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "renamed"
    assert api.patch(f"/api/projects/{doomed['id']}", json={"name": ""}).status_code == 422
    assert api.delete(f"/api/projects/{doomed['id']}").status_code == 204
    assert api.get(f"/api/projects/{doomed['id']}").status_code == 404
    assert not (server.data_dir / "projects" / doomed["id"]).exists()
    assert api.get(f"/api/projects/{keep['id']}").json()["name"] == "keep"
    assert api.delete(f"/api/projects/{doomed['id']}").status_code == 404


def _assert_refused(
    api: httpx.Client, server, content: bytes, filename: str, status: int, words: str
) -> None:
    before = api.get("/api/projects").json()
    response = api.post("/api/projects", files={"file": (filename, content, "video/mp4")})
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert api.get("/api/projects").json() == before  # earlier projects untouched
    assert list((server.data_dir / "tmp").iterdir()) == []  # nothing left behind


def test_bad_uploads_get_clear_errors(api: httpx.Client, server, clip: Path, project: dict) -> None:
    data = clip.read_bytes()
    _assert_refused(api, server, b"hello, this is text", "notes.mp4", 422, "not a readable video")
    # Shorter than a box header: it was "cut short before the end of its index ('moov')".
    _assert_refused(api, server, b"ok\n", "note.mov", 422, "not a readable video")
    _assert_refused(api, server, b"", "empty.mp4", 422, "empty")
    _assert_refused(api, server, data[: len(data) // 2], "half.mp4", 422, "cannot use")
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    _assert_refused(api, server, png.getvalue(), "image.mp4", 422, "cannot use")
    _assert_refused(api, server, b"\0" * (3 * 1024 * 1024 + 10), "huge.mp4", 413, "too large")
    assert api.get(f"/api/projects/{project['id']}").status_code == 200


def test_upload_needs_multipart_file(api: httpx.Client) -> None:
    assert api.post("/api/projects", json={"file": "x"}).status_code == 415
    response = api.post("/api/projects", files={"other": ("a.mp4", b"123")})
    assert response.status_code == 422 and "'file'" in response.json()["detail"]


def test_zero_frame_video_is_refused(api: httpx.Client, server, tmp_path: Path) -> None:
    import av

    path = tmp_path / "zero.mp4"
    with av.open(str(path), "w") as container:  # a valid mp4 header and no frames at all
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        container.start_encoding()
    _assert_refused(api, server, path.read_bytes(), "zero.mp4", 422, "no video stream")


def test_unknown_ids_and_frames(api: httpx.Client, project: dict) -> None:
    assert api.get("/api/projects/p_nope").json()["detail"] == "project 'p_nope' does not exist"
    response = api.get(f"/api/projects/{project['id']}/frames/12")
    assert response.status_code == 404 and "outside the video (0..11)" in response.json()["detail"]
    assert api.get(f"/api/projects/{project['id']}/frames/-1").status_code == 404


@pytest.mark.parametrize("written", ["1.0", "+1", "%201", "1_0"])
def test_numbers_in_urls_are_decimal_digits(api: httpx.Client, project: dict, written: str) -> None:
    """Python's int() reads "1.0", "+1", " 1" and "1_0" as numbers: a URL that says frame "1.0"
    is a client's bug to hear about (and two spellings of one frame defeat the cache)."""
    pid = project["id"]
    for method, url in (
        ("GET", f"/api/projects/{pid}/frames/{written}"),
        ("POST", f"/api/projects/{pid}/frames/{written}/preview"),
    ):
        detail = api.request(method, url).json()["detail"]
        assert detail == "invalid request: index: must be a whole number in decimal digits", url
    shrunk = api.get(f"/api/projects/{pid}/frames/0", params={"max_side": "64.0"})
    assert shrunk.status_code == 422 and "max_side: " in shrunk.json()["detail"]
    assert api.get(f"/api/projects/{pid}/frames/0", params={"max_side": "64"}).status_code == 200


@pytest.mark.parametrize("written", ["00", "07", "-0", "-01"])
def test_numbers_in_urls_have_one_spelling(api: httpx.Client, project: dict, written: str) -> None:
    """Frame 7 written "07", frame 0 written "00" or "-0": two spellings of one frame defeat the
    browser's cache, as "+7" does."""
    pid = project["id"]
    for method, url, params in (
        ("GET", f"/api/projects/{pid}/frames/{written}", {}),
        ("POST", f"/api/projects/{pid}/frames/{written}/preview", {}),
        ("GET", f"/api/projects/{pid}/frames/0", {"max_side": f"{written}64"}),
    ):
        answer = api.request(method, url, params=params)
        assert answer.status_code == 422, url
        name = "max_side" if params else "index"
        assert answer.json()["detail"] == (
            f"invalid request: {name}: must be a whole number in decimal digits, without "
            "leading zeros or a minus on 0"
        ), url


def test_a_query_parameter_of_one_value_given_twice_is_refused(
    api: httpx.Client, project: dict
) -> None:
    """FastAPI keeps the last of a repeated single-value parameter: `?max_side=64&max_side=9999`
    answered at 9999 pixels, as if the first had not been sent. Say it; a list parameter
    (the archive's `formats`) still takes repeats."""
    url = f"/api/projects/{project['id']}/frames/0"
    twice = api.get(url, params=[("max_side", "64"), ("max_side", "128")])
    assert twice.status_code == 422, twice.headers
    assert twice.json()["detail"] == "invalid request: max_side: given 2 times; it takes one value"
    once = api.get(url, params=[("max_side", "64")])
    assert once.status_code == 200 and max(Image.open(io.BytesIO(once.content)).size) == 64
