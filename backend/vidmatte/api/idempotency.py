"""The Idempotency-Key request header on the POSTs that make something (a project, an object, a
job, a track run, a resume): a client that lost the answer retries with the same key and gets
the first answer again instead of a second project or job (the IETF httpapi draft "The
Idempotency-Key HTTP Header Field", with Stripe's semantics; docs/API.md).

The key is taken before the route does its work (`Claim.take`; in memory: Store.claim_key) and
its answer is kept once it succeeded (a 2xx); a failed request lets its key go, so a retry runs
it again. A request that makes a row (a project, an object, a job) or queues a job again (a
resume) has its answer kept by the write that makes or moves the row, in the same transaction
(`Keying`): kept after it, a crash between the two left the row made and the key unanswered,
and the retry after the restart made a second one (a resume's was refused: its job was queued
already). A track run's is kept after its work; one the store cannot keep (a full disk, a
database locked past its busy timeout) is still the answer, held in memory for the retries
this process answers (Store.answer_key): what the request did is done, and a 500 or a freed
key would have the client do it again. A JSON POST goes through `once`, an upload through
`Claim` itself (its fingerprint is known only once its body is in), with the same steps. A
thread that takes a key or makes what it answers runs to its end even when the upload awaiting
it is cancelled (a client gone, a shutdown's deadline), and the key is let go or answered after
it (`to_its_end`): one left taken was a 409 for every retry until a restart, one let go too
soon had its retry make a second project. A request is the same when it has the same route and
the same fingerprint: its validated body, or an upload's file (name, size, SHA-256) and fields,
which a retry sends with another multipart boundary. An upload's retry is held to its first
file's name and size and to its fields as its body comes in (`UploadRetry`), so another file,
or fields sent before the file that differ, are refused before all of it is hashed.
GET /api/idempotency-keys/{key} (api/routes/keys.py) tells a client whether its request was
answered without sending it again."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, HTTPException, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from vidmatte.api.upload import FORM_BYTES, Upload
from vidmatte.store import Answered, KeyedAnswer, KeyInUse, Made, Store

log = logging.getLogger(__name__)
KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"  # "true" on an answer given again (Stripe's name)
MAX_KEY = 255
# Visible ASCII: a key is an opaque token (a UUID, say), kept and logged as it came.
_KEY = re.compile(r"[\x21-\x7e]+")


def idempotency_key(
    request: Request,
    key: str | None = Header(
        None,
        alias=KEY_HEADER,
        description=f"Up to {MAX_KEY} visible ASCII characters, unique per request (a UUID): "
        "a retry with the same key and the same request gets the first answer again.",
    ),
) -> str | None:
    """The request's key, None without one; 400 for one the server cannot keep."""
    if key is None:
        return None
    if len(request.headers.getlist(KEY_HEADER)) > 1:
        raise HTTPException(400, f"{KEY_HEADER}: give one key, not several")
    return checked_key(key, "send a key such as a UUID, or no header")


def checked_key(key: str, if_empty: str) -> str:
    """`key` as kept (without the draft's quotes); 400 for one the server cannot keep, saying
    `if_empty` for an empty one."""
    # The draft sends it as a structured-field string, quoted; Stripe's clients send it bare.
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key:
        raise HTTPException(400, f"{KEY_HEADER} is empty: {if_empty}")
    if len(key) > MAX_KEY:
        raise HTTPException(
            400, f"{KEY_HEADER} is {len(key)} characters long: at most {MAX_KEY} are kept"
        )
    if not _KEY.fullmatch(key):
        raise HTTPException(
            400,
            f"{KEY_HEADER} holds a space or a character outside visible ASCII: use letters, "
            "digits and punctuation (a UUID)",
        )
    return key


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
Answer = TypeVar("Answer", bound=BaseModel)
Result = TypeVar("Result")
# The threads that cancelled requests left to finish: held here, as the event loop holds only
# weak references to its tasks.
_left_running: set[asyncio.Task[Any]] = set()


def route_of(request: Request) -> str:
    """What a key is tied to besides the body: the method and the path as sent."""
    return f"{request.method} {request.url.path}"


def fingerprint(what: object) -> str:
    """A digest of a request's parts as JSON (sorted keys: the order sent does not matter)."""
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


def body_fingerprint(body: BaseModel | None) -> str:
    return fingerprint(None if body is None else body.model_dump(mode="json"))


def digest_of(print_: str) -> str:
    """What two requests are compared by: a kept fingerprint's digest, without what an upload's
    goes on with (`UploadPrint`); one kept before it went on with anything is its digest."""
    return print_.partition(" ")[0]


@dataclass(frozen=True)
class UploadPrint:
    """An upload's fingerprint as kept: the digest of its file (name as sent, size, SHA-256)
    and its fields, then the file's size and name and the fields in the clear (JSON), which a
    retry is held to while its body comes in (`UploadRetry`). `fields` is None in one kept
    before they were (the digest, the size and the name)."""

    digest: str
    size: int
    filename: str
    fields: dict[str, str] | None

    @classmethod
    def of(cls, upload: Upload) -> UploadPrint:
        """Its form's fields are in the digest whatever multipart boundary each was sent with."""
        assert upload.digest is not None  # received with digest=True
        parts = {
            "filename": upload.filename,
            "size": upload.size,
            "sha256": upload.digest.hexdigest(),
            "fields": upload.fields,
        }
        return cls(fingerprint(parts), upload.size, upload.filename, upload.fields)

    def kept(self) -> str:
        clear = {"size": self.size, "filename": self.filename, "fields": self.fields}
        return f"{self.digest} {json.dumps(clear, sort_keys=True)}"

    @classmethod
    def read(cls, kept: str) -> UploadPrint | None:
        """The upload's print kept as `kept`; None for a JSON POST's, or an upload's kept
        before its size and name were (its digest alone)."""
        digest, _, rest = kept.partition(" ")
        if rest.startswith("{"):
            clear = json.loads(rest)
            return cls(digest, clear["size"], clear["filename"], clear["fields"])
        # Kept before its fields were: "<digest> <size> <file name>".
        size, _, filename = rest.partition(" ")
        return cls(digest, int(size), filename, None) if size.isdigit() else None


def keep(store: Store, key: str, answered: Answered) -> None:
    """Keep the answer of the request that took `key`. Where the store cannot (a full disk, a
    database locked past its busy timeout) the answer goes out all the same, held in memory
    for this process's retries (Store.answer_key): what it made is made, and an error would
    have the client make it again."""
    try:
        store.answer_key(key, answered)
    except (OSError, sqlite3.Error) as exc:
        log.warning(
            "the answer to Idempotency-Key '%s' is held in memory only, the store could not "
            "keep it: %s",
            key,
            exc,
        )


@dataclass(frozen=True)
class Claim:
    """A request's Idempotency-Key as the request found it: taken for it (`first`: it runs,
    and its success is kept), or holding its first request's answer (a retry: given again).
    Every keyed route goes through it, a JSON POST (`once`) and an upload, whose fingerprint is
    known only once its body is in; as a context, a request that took the key and failed (an
    error, a dropped client) lets it go, so a retry runs again."""

    store: Store
    key: str
    route: str
    answered: Answered | None

    @classmethod
    def take(cls, store: Store, key: str, route: str) -> Claim:
        """The key taken for this request, or its first answer; 409 while the request that
        took it is still being answered. Blocking (the database): a thread's work."""
        try:
            return cls(store, key, route, store.claim_key(key, route))
        except KeyInUse as exc:
            raise HTTPException(409, str(exc)) from exc

    @classmethod
    async def taken(cls, store: Store, key: str, route: str) -> Claim:
        """`take` from an async route: a request cancelled while its thread takes the key
        lets the key go once it is taken."""
        return await to_its_end(partial(cls.take, store, key, route), Claim.let_go)

    @property
    def first(self) -> bool:
        return self.answered is None

    def let_go(self) -> None:
        """Let go of the key, when this request took it: it failed, and a retry runs again."""
        if self.first:
            self.store.release_key(self.key)

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            self.let_go()

    def check_route(self) -> None:
        """422 for a retry whose key was used for another route: told before its body is
        read (an upload's whole file)."""
        if self.answered is not None and self.answered.route != self.route:
            raise HTTPException(
                422,
                f"{KEY_HEADER} '{self.key}' was used for {self.answered.route}: a key belongs "
                "to one request; send a new key for this one",
            )

    def differs(self, why: str) -> HTTPException:
        """The 422 of a retry that is another request to the key's route, saying `why`."""
        return HTTPException(
            422,
            f"{KEY_HEADER} '{self.key}' was used for another request to {self.route} ({why}): "
            "a key belongs to one request; send a new key for this one",
        )

    def upload_check(self, request: Request) -> UploadRetry | None:
        """For the retry of an upload, before its body is read: a 422 when its Content-Length
        cannot hold the first request's file, or holds more than that file and the most form
        an upload may send beside it (upload.FORM_BYTES); then the check `receive_upload` makes
        of its body as it comes in (`UploadRetry`). None for the request that took the key, or
        a retry of one kept before its file's size and name were."""
        first = None if self.answered is None else UploadPrint.read(self.answered.fingerprint)
        if first is None:
            return None
        declared = request.headers.get("content-length", "")
        if declared.isdigit():
            length, of_file = int(declared), f"its file '{first.filename}' was {first.size} bytes"
            if length < first.size:
                raise self.differs(f"{of_file}; this body is {length} bytes, too short to hold it")
            if length > first.size + FORM_BYTES:
                raise self.differs(
                    f"{of_file}; this body is {length} bytes, more than that file and "
                    f"{FORM_BYTES} bytes of form"
                )
        return UploadRetry(self, first)

    def replay(self, print_: str) -> Response | None:
        """None for the request that took the key; for a retry the first answer again, when
        `print_` is the first request's fingerprint (else a 422)."""
        answered = self.answered
        if answered is None:
            return None
        self.check_route()
        if digest_of(answered.fingerprint) != digest_of(print_):
            raise self.differs("its body differs")
        return Response(
            answered.body,
            status_code=answered.status,
            media_type="application/json",
            headers={REPLAYED_HEADER: "true"},
        )

    def keep(self, print_: str, status: int, answer: Answer) -> Answer:
        """`answer`, kept for the retries of the request that took the key. Blocking."""
        keep(self.store, self.key, Answered(self.route, print_, status, answer.model_dump_json()))
        return answer

    def answer(self, print_: str, status: int, run: Callable[[Keying], Answer]) -> Answer:
        """`run(keying)` for the request that took the key, its answer kept for the retries: by
        the write that makes its row, where `run` hands `keying` to one, else after it; its
        failure lets the key go. Blocking: with the key, its thread owns its fate."""
        keying = Keying(self, print_, status)
        with self:
            answer = run(keying)
            return answer if keying.kept else self.keep(print_, status, answer)


@dataclass
class Keying:
    """The work of a request that took a key (`Claim.answer`) gets this: a route whose work
    makes a row (a project, an object, a job) or queues a job again (a resume) hands
    `of(answer)` to the store's write that does it (Store.add_project, Store.add_object,
    Store.add_job, Store.transition), which keeps the answer in the row's transaction; the
    answer of any other is kept after its work. A route's work run without a key gets None."""

    claim: Claim
    print_: str
    status: int
    kept: bool = False

    def of(self, answer: Callable[[Made], BaseModel]) -> KeyedAnswer[Made]:
        """What the write that makes or moves a row keeps: `answer` of the row as written."""

        def answered(made: Made) -> Answered:
            # In the write: one that fails after this raises, and its key is let go.
            self.kept = True
            body = answer(made).model_dump_json()
            return Answered(self.claim.route, self.print_, self.status, body)

        return KeyedAnswer(self.claim.key, answered)


@dataclass(frozen=True)
class UploadRetry:
    """The retry of an upload held to its first request's print as its body comes in (the
    `receive_upload` check): its file's name, then its size so far; each field once it is in;
    the fields it lacks once the whole form is in. A form sends its parts in the client's
    order: fields sent before the file (as browsers and httpx send them) that differ refuse it
    before its file is read; sent after it, they are known only once the file is in (and
    hashed). Whatever the order, a difference is told by the same message."""

    claim: Claim
    first: UploadPrint

    def file(self, upload: Upload) -> None:
        first = self.first
        if upload.filename != first.filename:
            raise self.claim.differs(
                f"its file was '{first.filename}'; this one is '{upload.filename}'"
            )
        if upload.size > first.size:
            raise self.claim.differs(
                f"its file '{first.filename}' was {first.size} bytes; this one is longer"
            )

    def field(self, name: str, value: str) -> None:
        # Each field comes once: a form that sends one twice is refused at its second
        # (`receive_upload`), the first request's as this one's.
        fields = self.first.fields
        if fields is None:  # kept before its fields were: the digest tells, at the end
            return
        if name not in fields:
            raise self.claim.differs(f"it had no '{name}' field; this one has '{value}'")
        if fields[name] != value:
            raise self.claim.differs(
                f"its '{name}' field was '{fields[name]}'; this one is '{value}'"
            )

    def form(self, fields: dict[str, str]) -> None:
        first = self.first.fields
        if first is not None and (lacking := sorted(first.keys() - fields.keys())):
            name = lacking[0]
            raise self.claim.differs(f"its '{name}' field was '{first[name]}'; this one has none")


async def to_its_end(
    run: Callable[[], Result], if_left: Callable[[Result], None] | None = None
) -> Result:
    """`run()` in a thread, for a request whose cancellation (a client gone, a shutdown's
    deadline) must not cut it off from what the thread does to a key: the thread runs on
    whatever the request does, so a cancelled request leaves it to finish, and `if_left` gets
    what it returned. (Awaited plainly, the thread's result was dropped at the cancellation.)"""
    work = asyncio.ensure_future(run_in_threadpool(run))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        _left_running.add(work)
        work.add_done_callback(partial(_left_finished, if_left))
        raise


def _left_finished(if_left: Callable[[Any], None] | None, work: asyncio.Task[Any]) -> None:
    _left_running.discard(work)
    if work.cancelled():
        return
    error = work.exception()  # an HTTPException is an answer no one is left to get
    if error is not None and not isinstance(error, HTTPException):
        log.warning("the work of a cancelled request failed after it: %r", error)
    elif error is None and if_left is not None:
        if_left(work.result())


def once(
    store: Store,
    key: str | None,
    request: Request,
    body: BaseModel | None,
    status: int,
    run: Callable[[Keying | None], Answer],
) -> Answer | Response:
    """`run(keying)` for a request whose body is known before it runs; with a key, once per
    key (answered again from the store for its retries); without one, `keying` is None."""
    if key is None:
        return run(None)
    print_ = body_fingerprint(body)
    claim = Claim.take(store, key, route_of(request))
    if (again := claim.replay(print_)) is not None:
        return again
    return claim.answer(print_, status, run)
