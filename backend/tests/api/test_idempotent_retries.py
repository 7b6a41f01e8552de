"""An upload's Idempotency-Key in process, over a real store: the retries a client sends after
losing the answer to an upload that made its project (the project deleted since, the data dir
at its limit or short of room meanwhile), a retry that sends another file (refused as soon as
that shows), and what a retry leaves on disk (api/idempotency.py, routes/projects.py)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests import in_process
from vidmatte.api import upload
from vidmatte.config import SettingError, Settings
from vidmatte.store import Answered, Store

KEY = {"Idempotency-Key": "upload-1"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    """The app over an empty data dir that holds one project at most."""
    with in_process.served(tmp_path, max_projects=1) as app:
        yield app


def send(client: TestClient, clip: Path, name: str = "clip", filename: str = "disk.mp4"):
    return client.post(
        "/api/projects",
        files={"file": (filename, clip.read_bytes(), "video/mp4")},
        data={"name": name},
        headers=KEY,
    )


def left_in_tmp(store: Store) -> list[str]:
    return sorted(p.name for p in store.tmp_dir.iterdir())


def test_the_retry_of_an_upload_whose_project_was_deleted_gets_its_first_answer(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    """A client that lost the answer asks "was my upload made?": it was (the first answer, the
    same id), and it was deleted since (a GET of the id is a 404). The retry makes no new
    project (docs/API.md, "A deleted resource"): uploading again takes a new key."""
    client, store = served
    first = send(client, clip)
    assert first.status_code == 201, first.text
    pid = first.json()["id"]
    assert client.delete(f"/api/projects/{pid}").status_code == 204
    again = send(client, clip)
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert client.get(f"/api/projects/{pid}").status_code == 404
    assert client.get("/api/projects").json() == []
    assert left_in_tmp(store) == []


def test_the_retry_of_an_upload_at_the_project_limit_gets_its_first_answer(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    """The upload made the data dir's last project: its retry is its answer, not the 507 of a
    full data dir; another upload with the key is still the key's 422."""
    client, store = served
    first = send(client, clip)
    assert first.status_code == 201, first.text
    again = send(client, clip)
    assert (again.status_code, again.json()) == (201, first.json())
    other = send(client, clip, name="other")
    assert other.status_code == 422
    assert other.json()["detail"] == (
        "Idempotency-Key 'upload-1' was used for another request to POST /api/projects (its "
        "'name' field was 'clip'; this one is 'other'): a key belongs to one request; send a new "
        "key for this one"
    )
    assert left_in_tmp(store) == []


def test_the_retry_of_an_upload_that_filled_the_disk_gets_its_first_answer(
    served: tuple[TestClient, Store], clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project took the room its upload needed: its retry, received only to be compared,
    was a 507 "not enough disk space" (the client told its upload failed, for a project that
    is there). It is the first answer, and nothing of it is written."""
    client, store = served
    first = send(client, clip)
    assert first.status_code == 201, first.text
    usage = shutil.disk_usage(store.tmp_dir)
    monkeypatch.setattr(upload.shutil, "disk_usage", lambda _: usage._replace(free=0))
    again = send(client, clip)
    assert (again.status_code, again.json()) == (201, first.json())
    assert left_in_tmp(store) == []
    # A first upload still needs its room.
    client.delete(f"/api/projects/{first.json()['id']}")
    refused = client.post(
        "/api/projects",
        files={"file": ("disk.mp4", clip.read_bytes(), "video/mp4")},
        headers={"Idempotency-Key": "upload-2"},
    )
    assert refused.status_code == 507, refused.text
    assert refused.json()["detail"].startswith("not enough disk space: 0.0 MB free")


def test_a_key_of_another_route_is_refused_and_the_upload_leaves_nothing(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    client, store = served
    pid = send(client, clip).json()["id"]
    made = client.post(f"/api/projects/{pid}/objects", json={}, headers={**KEY, "X": "1"})
    assert made.status_code == 422  # the key is the upload's
    headers = {"Idempotency-Key": "object-1"}
    assert client.post(f"/api/projects/{pid}/objects", json={}, headers=headers).status_code == 201
    client.delete(f"/api/projects/{pid}")
    refused = client.post(
        "/api/projects",
        files={"file": ("disk.mp4", clip.read_bytes(), "video/mp4")},
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        f"Idempotency-Key 'object-1' was used for POST /api/projects/{pid}/objects: a key "
        "belongs to one request; send a new key for this one"
    )
    assert client.get("/api/projects").json() == []
    assert left_in_tmp(store) == []


def test_a_failed_upload_lets_its_key_go(served: tuple[TestClient, Store], clip: Path) -> None:
    """Not a video (a 422), then the video with the same key: made, not replayed."""
    client, store = served
    broken = client.post(
        "/api/projects",
        files={"file": ("disk.mp4", b"not a video", "video/mp4")},
        headers=KEY,
    )
    assert broken.status_code == 422, broken.text
    made = send(client, clip)
    assert made.status_code == 201, made.text
    assert "Idempotent-Replayed" not in made.headers
    assert left_in_tmp(store) == []


def test_an_upload_sent_without_a_body_lets_its_key_go(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    client, _ = served
    empty = client.post("/api/projects", content=b"", headers=KEY)
    assert empty.status_code == 415
    assert send(client, clip).status_code == 201


def test_a_retry_under_a_project_deleted_since_is_its_404(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    """The object's answer is not replayed for a project that is gone: the path's project is
    looked up first, and the 404 says what happened."""
    client, _ = served
    pid = send(client, clip).json()["id"]
    headers = {"Idempotency-Key": "object-1"}
    url = f"/api/projects/{pid}/objects"
    assert client.post(url, json={"name": "a"}, headers=headers).status_code == 201
    assert client.delete(f"/api/projects/{pid}").status_code == 204
    again = client.post(url, json={"name": "a"}, headers=headers)
    assert (again.status_code, again.json()) == (404, {"detail": f"project '{pid}' does not exist"})


@pytest.mark.parametrize("hours", ["inf", "1e9", "87601"])
def test_a_retention_past_what_the_clock_can_date_is_refused_by_name(
    hours: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was taken: the store then could not date a key (an OverflowError), and the server
    did not start, with a traceback instead of the setting's name."""
    monkeypatch.setenv("VIDMATTE_IDEMPOTENCY_HOURS", hours)
    with pytest.raises(SettingError) as refused:
        Settings()
    assert str(refused.value) == (
        f"VIDMATTE_IDEMPOTENCY_HOURS must be a number from 0 to 87600, not '{hours}'"
    )


def test_ten_years_of_retention_dates_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDMATTE_IDEMPOTENCY_HOURS", "87600")
    store = Store(tmp_path / "data", idempotency_seconds=Settings().idempotency_hours * 3600)
    assert store.claim_key("k", "POST /x") is None
    store.answer_key("k", Answered("POST /x", "print", 201, "{}"))
    assert store.claim_key("k", "POST /x") == Answered("POST /x", "print", 201, "{}")
    store.close()


def form(data: bytes, filename: str = "disk.mp4", boundary: str = "b", after: bytes = b"") -> bytes:
    """A multipart body of the file `data` and the name field "clip" (the field after the file,
    as a client other than httpx may send it), with `after` as its epilogue."""
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: video/mp4\r\n\r\n'.encode()
        + data
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nclip'
        f"\r\n--{boundary}--\r\n".encode()
        + after
    )


def send_chunks(
    client: TestClient, body: bytes, boundary: str = "b", length: bool = True
) -> tuple[httpx.Response, int]:
    """POST `body` with the key in 64 KiB chunks the server pulls one by one (declared in a
    Content-Length, or chunked without one): the answer, and how many chunks it pulled."""
    chunks = [body[at : at + 64 * 1024] for at in range(0, len(body), 64 * 1024)]
    pulled = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal pulled
        for chunk in chunks:
            pulled += 1
            yield chunk

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            headers = {
                **KEY,
                "Authorization": f"Bearer {in_process.TOKEN}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            }
            if length:
                headers["Content-Length"] = str(len(body))
            return await http.post("/api/projects", content=stream(), headers=headers)

    return asyncio.run(post()), pulled


def differs(why: str) -> dict[str, str]:
    return {
        "detail": "Idempotency-Key 'upload-1' was used for another request to POST /api/projects "
        f"({why}): a key belongs to one request; send a new key for this one"
    }


@pytest.mark.parametrize(
    ("change", "then"),
    [
        (lambda data: data + bytes(70 * 1024), "more than that file and 65536 bytes of form"),
        (lambda data: data[:1000], "too short to hold it"),
    ],
)
def test_the_retry_of_an_upload_with_another_file_size_is_refused_before_its_body_is_read(
    served: tuple[TestClient, Store], clip: Path, change: Callable[[bytes], bytes], then: str
) -> None:
    """Its Content-Length cannot hold the first request's file (or holds more than that file
    and the most form an upload may send beside it): it was refused only once the whole body
    had been hashed, minutes for a GB file sent for nothing."""
    client, store = served
    first = send(client, clip)
    assert first.status_code == 201, first.text
    size = len(clip.read_bytes())
    body = form(change(clip.read_bytes()))
    refused, pulled = send_chunks(client, body)
    assert (refused.status_code, refused.json()) == (
        422,
        differs(f"its file 'disk.mp4' was {size} bytes; this body is {len(body)} bytes, {then}"),
    )
    assert pulled == 0
    assert [p["id"] for p in client.get("/api/projects").json()] == [first.json()["id"]]
    assert left_in_tmp(store) == []
    assert send(client, clip).json() == first.json()  # the true retry still gets its answer


def test_the_retry_of_an_upload_with_another_file_name_is_refused_at_its_part_header(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    """Sent without a Content-Length (chunked): the file's name, in the part's header, tells
    it is another request before the file is read."""
    client, store = served
    assert send(client, clip).status_code == 201
    body = form(clip.read_bytes() * 4, filename="other.mp4")
    refused, pulled = send_chunks(client, body, length=False)
    assert (refused.status_code, refused.json()) == (
        422,
        differs("its file was 'disk.mp4'; this one is 'other.mp4'"),
    )
    assert pulled == 1
    assert left_in_tmp(store) == []


def test_the_retry_of_an_upload_with_a_longer_file_is_refused_once_it_is_past_the_first(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    client, store = served
    assert send(client, clip).status_code == 201
    size = len(clip.read_bytes())
    body = form(clip.read_bytes() + bytes(4 * 1024 * 1024))
    refused, pulled = send_chunks(client, body, length=False)
    assert (refused.status_code, refused.json()) == (
        422,
        differs(f"its file 'disk.mp4' was {size} bytes; this one is longer"),
    )
    assert pulled <= size // (64 * 1024) + 2 < len(body) // (64 * 1024)
    assert left_in_tmp(store) == []


def test_a_true_retry_with_a_longer_boundary_and_an_epilogue_is_the_first_answer(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    """The early checks leave room for what a retry may send differently around the same
    file: another boundary (up to 70 characters), an epilogue, its fields in another order;
    a file name with spaces is kept whole beside its size."""
    client, _ = served
    first = send(client, clip, filename="my clip é.mp4")
    boundary = "x" * 70
    body = form(clip.read_bytes(), "my clip é.mp4", boundary, after=b"epilogue " * 1000)
    for length in (True, False):
        again, _ = send_chunks(client, body, boundary, length)
        assert (again.status_code, again.json()) == (201, first.json())
        assert again.headers["Idempotent-Replayed"] == "true"


def test_an_upload_with_more_than_64_kib_of_form_beside_its_file_is_a_413(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    """What bounds a retry's body from its first request's file: every upload keeps to it."""
    client, store = served
    body = form(clip.read_bytes(), after=bytes(65 * 1024))
    refused, _ = send_chunks(client, body)
    assert (refused.status_code, refused.json()) == (
        413,
        {
            "detail": f"the form beside the file is {len(body) - len(clip.read_bytes())} bytes: "
            "at most 65536 are taken (the file, its name and fps fields)"
        },
    )
    assert client.get("/api/projects").json() == []
    assert left_in_tmp(store) == []
    assert send(client, clip).status_code == 201  # its key was let go


def test_an_upload_kept_with_its_digest_alone_is_still_its_retry_s_answer(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    """An answer an older version kept (the fingerprint's digest without the file's size and
    name) is given again to its retry after an upgrade, with no early check to make."""
    client, store = served
    first = send(client, clip)
    with closing(sqlite3.connect(store.data_dir / "vidmatte.db")) as db, db:
        db.execute("UPDATE idempotency_keys SET fingerprint = substr(fingerprint, 1, 64)")
    again, _ = send_chunks(client, form(clip.read_bytes()))
    assert (again.status_code, again.json()) == (201, first.json())
    other = send(client, clip, name="other")
    assert (other.status_code, other.json()) == (422, differs("its body differs"))


def multipart(parts: list[tuple[str, bytes]], filename: str = "disk.mp4") -> bytes:
    """A multipart body of `parts` in their order, with boundary "b": the part named "file"
    is the file `filename`, any other a text field."""
    body = b""
    for name, value in parts:
        disposition = f'name="{name}"' + (f'; filename="{filename}"' if name == "file" else "")
        body += f"--b\r\nContent-Disposition: form-data; {disposition}\r\n\r\n".encode()
        body += value + b"\r\n"
    return body + b"--b--\r\n"


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ([("name", b"other")], "its 'name' field was 'clip'; this one is 'other'"),
        ([("fps", b"24"), ("name", b"clip")], "it had no 'fps' field; this one has '24'"),
    ],
)
def test_the_retry_of_an_upload_with_other_fields_before_its_file_is_refused_before_it(
    served: tuple[TestClient, Store], clip: Path, fields: list[tuple[str, bytes]], why: str
) -> None:
    """Its fields sent before its file (as browsers and httpx send a form) tell it is another
    request: it was refused only once the whole file had been hashed."""
    client, store = served
    # The same file, long enough to come in many chunks: an MP4 box of padding after the clip.
    big = clip.parent / "padded.mp4"
    big.write_bytes(
        clip.read_bytes() + (1024 * 1024).to_bytes(4, "big") + b"free" + bytes(1024 * 1024 - 8)
    )
    assert send(client, big, filename="padded.mp4").status_code == 201
    body = multipart([*fields, ("file", big.read_bytes())], "padded.mp4")
    refused, pulled = send_chunks(client, body, length=False)
    assert (refused.status_code, refused.json()) == (422, differs(why))
    assert pulled == 1
    assert left_in_tmp(store) == []


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ([("name", b"other")], "its 'name' field was 'clip'; this one is 'other'"),
        ([], "its 'name' field was 'clip'; this one has none"),
    ],
)
def test_the_retry_of_an_upload_with_other_fields_after_its_file_says_which(
    served: tuple[TestClient, Store], clip: Path, fields: list[tuple[str, bytes]], why: str
) -> None:
    """Sent after the file (the order is the client's), the fields are known once the file is
    in: the refusal says the same."""
    client, _ = served
    assert send(client, clip).status_code == 201
    refused, _ = send_chunks(client, multipart([("file", clip.read_bytes()), *fields]))
    assert (refused.status_code, refused.json()) == (422, differs(why))


def test_an_upload_kept_before_its_fields_were_is_held_to_its_file_as_it_comes(
    served: tuple[TestClient, Store], clip: Path
) -> None:
    """A print an older version kept ("<digest> <size> <file name>", without the fields in
    the clear) still holds a retry to its file as it comes in; its fields are compared by the
    digest, once the body is in."""
    client, store = served
    first = send(client, clip)
    with closing(sqlite3.connect(store.data_dir / "vidmatte.db")) as db, db:
        db.execute(
            "UPDATE idempotency_keys SET fingerprint = substr(fingerprint, 1, 64) || ?",
            (f" {len(clip.read_bytes())} disk.mp4",),
        )
    again, _ = send_chunks(client, form(clip.read_bytes()))
    assert (again.status_code, again.json()) == (201, first.json())
    other = send(client, clip, name="other")
    assert (other.status_code, other.json()) == (422, differs("its body differs"))
    renamed = send(client, clip, filename="other.mp4")
    assert (renamed.status_code, renamed.json()) == (
        422,
        differs("its file was 'disk.mp4'; this one is 'other.mp4'"),
    )
