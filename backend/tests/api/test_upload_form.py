"""An upload's form holds one `file` part and at most one `name` and one `fps`: a part sent
twice, or one the upload does not take, is a 422 naming it, told at its header, before its
body is read, and leaves nothing behind (api/upload.py). Over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.api.test_security import multipart_head, stream_until_answered
from tests.server import LiveServer

TAKES = "an upload takes a 'file' part and optional 'name' and 'fps' fields"


def video(clip: Path, name: str = "disk.mp4") -> tuple[str, tuple[str, bytes, str]]:
    return ("file", (name, clip.read_bytes(), "video/mp4"))


def left_in_tmp(server: LiveServer) -> list[Path]:
    return list((server.data_dir / "tmp").iterdir())


def test_a_second_file_is_refused_at_its_header_before_its_body(
    server: LiveServer, api: httpx.Client, clip: Path
) -> None:
    """The second video was ignored without a word (the project made of the first); here its
    body never ends: refused at its header, not by the size limit once the server read on."""
    before = api.get("/api/projects").json()
    first = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
        + clip.read_bytes()
        + b'\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="b.mp4"\r\n\r\n'
    )

    def body():
        yield first
        while True:
            yield b"\0" * 65536

    status, answer, _ = stream_until_answered(
        server, multipart_head(server, "b"), body(), max_bytes=200 * 1024 * 1024
    )
    assert (status, json.loads(answer)) == (
        422,
        {
            "detail": "the form has 2 'file' parts: send one video (or one zip or tar of an "
            "image sequence) per upload"
        },
    )
    assert left_in_tmp(server) == []
    assert api.get("/api/projects").json() == before


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        ({"name": ["a", "b"]}, "the form has 2 'name' parts: it takes one value"),
        ({"fps": ["24", "25"]}, "the form has 2 'fps' parts: it takes one value"),
        ({"title": "a"}, f"the form has a 'title' part: {TAKES}"),
    ],
    ids=["name twice", "fps twice", "unknown field"],
)
def test_a_field_sent_twice_or_unknown_is_refused_by_name(
    server: LiveServer, api: httpx.Client, clip: Path, data: dict, detail: str
) -> None:
    """A repeated field took its last value, the first lost without a word; an unknown one was
    ignored, as no JSON body's is (an unknown field is a 422 there)."""
    before = api.get("/api/projects").json()
    # httpx sends the fields before the file: each is refused before the video is read.
    refused = api.post("/api/projects", files=[video(clip)], data=data)
    assert (refused.status_code, refused.json()) == (422, {"detail": detail})
    assert left_in_tmp(server) == []
    assert api.get("/api/projects").json() == before


def test_two_files_sent_whole_are_refused_and_the_key_goes(
    server: LiveServer, api: httpx.Client, clip: Path
) -> None:
    """With an Idempotency-Key: the refusal lets it go, and the upload sent again as one video
    is made under it."""
    headers = {"Idempotency-Key": "two-files"}
    files = [video(clip, "a.mp4"), video(clip, "b.mp4")]
    refused = api.post("/api/projects", files=files, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("the form has 2 'file' parts")
    assert left_in_tmp(server) == []
    made = api.post("/api/projects", files=[video(clip, "a.mp4")], headers=headers)
    assert made.status_code == 201, made.text
    assert "Idempotent-Replayed" not in made.headers
    assert made.json()["filename"] == "a.mp4"
    assert api.delete(f"/api/projects/{made.json()['id']}").status_code == 204
