"""Streaming multipart upload: the file part goes straight to a temporary file on disk while it
arrives, and the size limit is enforced on the way, so a 2 GB upload never sits in memory and an
oversize one is refused as soon as it crosses the limit. A full disk is a 507 and a client that
stops sending is dropped; either way the temporary file goes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from python_multipart.multipart import MultipartParser, parse_options_header

from vidmatte.config import Settings
from vidmatte.store import is_disk_full

MB = 1024 * 1024
# The form's text fields beside its `file` part, each taken once.
FIELDS = ("name", "fps")
# What an upload's body may hold beside its file: boundaries, part headers, the name and fps
# fields. It also bounds the retry of a keyed upload: a body longer than the first request's
# file and this much is another request (api/idempotency.py), told from its Content-Length.
FORM_BYTES = 64 * 1024


@dataclass
class Upload:
    path: Path
    filename: str
    size: int
    fields: dict[str, str]
    # The file's SHA-256 as it streamed in, when asked for (an Idempotency-Key's fingerprint).
    digest: hashlib._Hash | None = None


class FormCheck(Protocol):
    """What `receive_upload` holds a body to as it comes in (the retry of an upload with an
    Idempotency-Key: api/idempotency.py); an HTTPException it raises ends the upload."""

    def file(self, upload: Upload) -> None:
        """Once the file part's header is in, then as each piece of the file comes."""

    def field(self, name: str, value: str) -> None:
        """Once a text field is in."""

    def form(self, fields: dict[str, str]) -> None:
        """Once the whole body is in, with every field it sent."""


class _Collector:
    """Callbacks for python-multipart: routes each part to a file or a small text field. A
    part sent twice (a second video, a name given twice) or one the upload does not take is a
    422 at its header, before its body is read: the second video was ignored, a field's
    earlier value lost, without a word."""

    def __init__(
        self,
        tmp_dir: Path,
        digest: bool = False,
        to_disk: bool = True,
        check: FormCheck | None = None,
    ):
        self.tmp_dir = tmp_dir
        self.digest = digest
        self.to_disk = to_disk
        self.check = check
        self.fields: dict[str, str] = {}
        self.file: Upload | None = None
        self._header_field = b""
        self._headers: dict[bytes, bytes] = {}
        self._text = bytearray()
        self._sink = None
        self._name = ""
        self._names: set[str] = set()

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field_cb,
            "on_header_value": self._header_value,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers, self._text = {}, bytearray()

    def _header_field_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_field = data[start:end].lower()

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._headers[self._header_field] = (
            self._headers.get(self._header_field, b"") + data[start:end]
        )

    def _headers_done(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        self._count(self._name)
        filename = options.get(b"filename")
        if self._name == "file" and filename is not None:
            # Stays open across parser callbacks; closed in _part_end or discard.
            handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
                dir=self.tmp_dir, prefix="upload-", delete=False
            )
            self._sink = handle
            name = Path(filename.decode("utf-8", "replace").replace("\\", "/")).name
            self.file = Upload(Path(handle.name), name or "video", 0, self.fields)
            if self.digest:
                self.file.digest = hashlib.sha256()
            if self.check is not None:
                self.check.file(self.file)

    def _count(self, name: str) -> None:
        """422 for a part the form does not take, or takes once and already has."""
        if name != "file" and name not in FIELDS:
            part = f"a '{name}' part" if name else "a part without a name"
            raise HTTPException(
                422,
                f"the form has {part}: an upload takes a 'file' part and optional 'name' and "
                "'fps' fields",
            )
        if name in self._names:
            advice = (
                "send one video (or one zip or tar of an image sequence) per upload"
                if name == "file"
                else "it takes one value"
            )
            raise HTTPException(422, f"the form has 2 '{name}' parts: {advice}")
        self._names.add(name)

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._sink is not None:
            if self.to_disk:
                self._sink.write(data[start:end])
            self.file.size += end - start
            if self.file.digest is not None:
                self.file.digest.update(data[start:end])
            if self.check is not None:
                self.check.file(self.file)
        elif len(self._text) < 10_000:  # text fields are names: small
            self._text += data[start:end]

    def _part_end(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        elif self._name in FIELDS:  # a 'file' part without a file name is no video
            self.fields[self._name] = self._text.decode("utf-8", "replace")
            if self.check is not None:
                self.check.field(self._name, self.fields[self._name])

    def discard(self) -> None:
        if self._sink is not None:
            with contextlib.suppress(OSError):  # flushing may hit the same full disk
                self._sink.close()
        if self.file is not None:
            self.file.path.unlink(missing_ok=True)


def disk_full(tmp_dir: Path, need: int, reserve: int) -> HTTPException:
    free = shutil.disk_usage(tmp_dir).free
    return HTTPException(
        507,
        f"not enough disk space: {free / MB:.1f} MB free, the upload needs {need / MB:.1f} MB "
        f"and {reserve / MB:.1f} MB must stay free",
    )


def check_free_space(tmp_dir: Path, need: int, reserve: int) -> None:
    if shutil.disk_usage(tmp_dir).free < need + reserve:
        raise disk_full(tmp_dir, need, reserve)


async def receive_upload(
    request: Request,
    tmp_dir: Path,
    settings: Settings,
    digest: bool = False,
    to_disk: bool = True,
    check: FormCheck | None = None,
) -> Upload:
    """Parse a multipart body with a `file` part (and optional text fields) as it streams in;
    with `digest`, the file's SHA-256 is taken on the way. Without `to_disk` (the retry of an
    upload, received only to be compared with its first try) the file is hashed, not written:
    its temporary file stays empty, and it needs no room. `check` sees the file once its part's
    header is in and as each piece of it comes, each field once it is in, and the whole form
    at the end: an HTTPException it raises ends the upload.

    Refused up front when the declared size would leave less than `min_free_bytes` on the disk.
    A body that sends nothing for `idle_timeout` seconds, or that trickles in slower than
    `min_upload_rate` once that long has passed, is dropped (408): each holds a file open."""
    max_bytes, min_free = settings.max_upload_bytes, settings.min_free_bytes
    idle, min_rate = settings.idle_timeout, settings.min_upload_rate
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise HTTPException(415, "send the video as multipart/form-data with a 'file' field")
    # The file may use the whole limit; the rest of the body (boundaries, part headers, the
    # name field) gets this much on top. The body as a whole is counted too, so a request
    # without a file part (or with huge part headers) cannot stream on without end.
    max_body = max_bytes + FORM_BYTES
    declared = request.headers.get("content-length")
    size = int(declared) if declared and declared.isdigit() else 0
    if size > max_body:
        raise HTTPException(413, f"upload too large: the limit is {max_bytes} bytes")
    if to_disk:
        check_free_space(tmp_dir, size, min_free)
    collector = _Collector(tmp_dir, digest, to_disk, check)
    parser = MultipartParser(options[b"boundary"], collector.callbacks())
    received, started = 0, time.monotonic()
    chunks = aiter(request.stream())
    try:
        while True:
            try:
                async with asyncio.timeout(idle):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise HTTPException(
                    408, f"the upload stalled: nothing arrived for {idle:g} s"
                ) from None
            received += len(chunk)
            elapsed = time.monotonic() - started
            if elapsed > idle and received < min_rate * elapsed:
                raise HTTPException(
                    408,
                    f"the upload is too slow: {received / elapsed:.0f} bytes/s, "
                    f"the minimum is {min_rate:g}",
                )
            file_size = collector.file.size if collector.file is not None else 0
            if received > max_body or file_size > max_bytes:
                raise HTTPException(413, f"upload too large: the limit is {max_bytes} bytes")
            await run_in_threadpool(parser.write, chunk)  # file writes stay off the event loop
        parser.finalize()
        if collector.file is not None and collector.file.size > max_bytes:
            raise HTTPException(413, f"upload too large: the limit is {max_bytes} bytes")
        if collector.file is not None and (form := received - collector.file.size) > FORM_BYTES:
            raise HTTPException(
                413,
                f"the form beside the file is {form} bytes: at most {FORM_BYTES} are taken "
                "(the file, its name and fps fields)",
            )
        if check is not None:
            check.form(collector.fields)
    except HTTPException:
        collector.discard()
        raise
    except Exception as exc:  # a malformed body, a client that went away, a full disk
        collector.discard()
        if is_disk_full(exc):
            raise disk_full(tmp_dir, max(size, received), min_free) from exc
        raise HTTPException(400, f"malformed multipart upload: {exc}") from exc
    except BaseException:  # cancelled (a shutdown's deadline): its part goes now, not at start-up
        collector.discard()
        raise
    if collector.file is None:
        raise HTTPException(422, "the upload has no 'file' field with a video")
    if collector.file.size == 0:
        collector.discard()
        raise HTTPException(422, "the uploaded file is empty")
    return collector.file
