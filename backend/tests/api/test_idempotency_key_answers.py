"""GET /api/idempotency-keys/{key}: a client that lost the answer to a keyed request asks for
it without sending the request (an upload's whole file) again (api/idempotency.py)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests import in_process
from tests.api.test_idempotency import post_upload
from vidmatte.api.idempotency import Claim
from vidmatte.api.schemas import Object
from vidmatte.store import Answered, Store


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    with in_process.served(tmp_path) as app:
        yield app


def unknown(key: str) -> dict[str, str]:
    return {
        "detail": f"Idempotency-Key '{key}' has no answer kept: no request with it was answered "
        "in the last 24 hours (or it failed); send the request again"
    }


def test_an_answered_upload_is_told_without_its_file_over_http(
    api: httpx.Client, clip: Path
) -> None:
    key = str(uuid.uuid4())
    made = post_upload(api, clip, {"Idempotency-Key": key}, f"asked-{key}")
    assert made.status_code == 201, made.text
    asked = api.get(f"/api/idempotency-keys/{key}")
    assert asked.status_code == 200, asked.text
    assert asked.json() == {
        "key": key,
        "route": "POST /api/projects",
        "status": 201,
        "body": made.json(),
    }
    names = [p["name"] for p in api.get("/api/projects").json()]
    assert names.count(f"asked-{key}") == 1  # asking makes nothing
    other = str(uuid.uuid4())
    missing = api.get(f"/api/idempotency-keys/{other}")
    assert (missing.status_code, missing.json()) == (404, unknown(other))


def test_a_key_whose_request_runs_is_a_409_worded_as_a_post_s(
    served: tuple[TestClient, Store],
) -> None:
    client, store = served
    assert store.claim_key("k-1", "POST /api/projects") is None  # an upload being received
    running = client.get("/api/idempotency-keys/k-1")
    assert (running.status_code, running.json()) == (
        409,
        {
            "detail": "a request with Idempotency-Key 'k-1' (POST /api/projects) is still being "
            "answered: retry once it has finished"
        },
    )
    store.release_key("k-1")  # it failed: nothing to give, send it again
    assert client.get("/api/idempotency-keys/k-1").json() == unknown("k-1")


def test_a_failed_upload_s_key_has_no_answer(served: tuple[TestClient, Store], clip: Path) -> None:
    client, _ = served
    refused = client.post(
        "/api/projects",
        files={"file": ("disk.mp4", b"not a video", "video/mp4")},
        headers={"Idempotency-Key": "k-2"},
    )
    assert refused.status_code == 422
    asked = client.get("/api/idempotency-keys/k-2")
    assert (asked.status_code, asked.json()) == (404, unknown("k-2"))


def test_an_answer_held_in_memory_only_is_told(served: tuple[TestClient, Store]) -> None:
    """The database could not keep it (a full disk): a retry of the POST gets it from memory,
    and so does asking for it."""
    client, store = served
    claim = Claim.take(store, "k-3", "POST /api/projects/p_1/objects")

    def full(*_: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    store._write = full  # type: ignore[method-assign]
    made = Object(id=1, project_id="p_1", name="a", color="#ffffff")
    claim.keep("print", 201, made)
    del store._write  # the disk has room again; the answer is still not in the database
    asked = client.get("/api/idempotency-keys/k-3")
    assert (asked.status_code, asked.json()) == (
        200,
        {
            "key": "k-3",
            "route": "POST /api/projects/p_1/objects",
            "status": 201,
            "body": made.model_dump(mode="json"),
        },
    )


def test_an_expired_answer_is_unknown(served: tuple[TestClient, Store], clip: Path) -> None:
    client, store = served
    made = client.post(
        "/api/projects",
        files={"file": ("disk.mp4", clip.read_bytes(), "video/mp4")},
        headers={"Idempotency-Key": "k-4"},
    )
    assert made.status_code == 201, made.text
    assert client.get("/api/idempotency-keys/k-4").json()["body"] == made.json()
    store.idempotency_seconds = 0
    assert client.get("/api/idempotency-keys/k-4").status_code == 404


def test_a_key_is_read_as_the_header_reads_it(served: tuple[TestClient, Store]) -> None:
    """A key with a slash (base64) sent percent-encoded, and the draft's quoted form, are the
    key the POST took; one the header refuses is the header's 400."""
    client, _ = served
    url = "/api/projects/p_x/objects"
    made = client.post(url, json={}, headers={"Idempotency-Key": "a/b+c="})
    assert made.status_code == 404  # no such project: a failed request, no answer
    assert client.get("/api/idempotency-keys/a%2Fb%2Bc%3D").json() == unknown("a/b+c=")
    store = served[1]
    assert store.claim_key("a/b+c=", "POST /x") is None
    store.answer_key("a/b+c=", Answered("POST /x", "print", 201, '{"id": 7}'))
    for path in ("a%2Fb%2Bc%3D", "a/b+c=", "%22a%2Fb%2Bc%3D%22"):
        asked = client.get(f"/api/idempotency-keys/{path}")
        assert asked.json() == {
            "key": "a/b+c=",
            "route": "POST /x",
            "status": 201,
            "body": {"id": 7},
        }
    spaced = client.get("/api/idempotency-keys/a%20b")
    assert spaced.status_code == 400
    assert spaced.json()["detail"].startswith("Idempotency-Key holds a space")
    long = client.get(f"/api/idempotency-keys/{'k' * 256}")
    assert (long.status_code, long.json()) == (
        400,
        {"detail": "Idempotency-Key is 256 characters long: at most 255 are kept"},
    )


def test_asking_needs_the_token(served: tuple[TestClient, Store]) -> None:
    client, store = served
    assert store.claim_key("k-5", "POST /x") is None
    store.answer_key("k-5", Answered("POST /x", "print", 201, '{"id": 1}'))
    refused = client.get("/api/idempotency-keys/k-5", headers={"Authorization": "Bearer no"})
    assert refused.status_code == 401
    assert "id" not in refused.text
