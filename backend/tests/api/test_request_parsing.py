"""A request body is read one way only, over real HTTP: a JSON object with a key given twice
is a 422 naming the key (the last one won: `{"start":0,"end":11,"start":3}` tracked frames
3..11), on every JSON route; and a body under a content coding (Content-Encoding: gzip), which
the server does not decode, is a 415 before any of it is read (it was read as plain)."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.api.test_jobs import prompt
from tests.server import LiveServer

JSON = {"content-type": "application/json"}


def test_a_key_given_twice_is_a_422_naming_it_and_nothing_runs(
    api: httpx.Client, project: dict
) -> None:
    pid = project["id"]
    prompt(api, pid)
    answer = api.post(
        f"/api/projects/{pid}/track", content=b'{"start":0,"end":11,"start":3}', headers=JSON
    )
    assert answer.status_code == 422, answer.text  # was 202, tracking frames 3..11
    assert answer.json() == {
        "detail": "invalid request: start: given 2 times in the JSON body; a key takes one value"
    }
    assert api.get(f"/api/projects/{pid}/track").status_code == 404  # no track was started
    # Refused as the body is read, before the project is looked up (docs/API.md).
    unknown = api.post("/api/projects/nope/track", content=b'{"end":1,"end":2}', headers=JSON)
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["detail"].startswith("invalid request: end: given 2 times")


def test_a_key_given_twice_deep_in_the_body_is_named_by_its_place(
    api: httpx.Client, project: dict
) -> None:
    pid = project["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    body = (
        b'{"points":[{"x":30,"y":32,"label":"positive"},'
        b'{"x":1,"y":2,"label":"negative","x":40,"x":50}]}'
    )
    url = f"/api/projects/{pid}/objects/{obj}/frames/1/points"
    answer = api.put(url, content=body, headers=JSON)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == (
        "invalid request: points.1.x: given 3 times in the JSON body; a key takes one value"
    )
    assert api.get(f"/api/projects/{pid}/points").json() == []
    # The same key in two objects is no repeat.
    twice = b'{"points":[{"x":30,"y":32,"label":"positive"},{"x":1,"y":2,"label":"negative"}]}'
    assert api.put(url, content=twice, headers=JSON).status_code == 200


def test_every_json_route_refuses_a_key_given_twice(
    api: httpx.Client, project: dict, server: LiveServer
) -> None:
    """Each operation the live schema gives a JSON body, the routes added later included."""
    pid = project["id"]
    obj = prompt(api, pid)
    ids = {"project_id": pid, "object_id": obj, "index": 4}
    schema = httpx.get(f"{server.url}/openapi.json").json()
    sent = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "application/json" not in operation.get("requestBody", {}).get("content", {}):
                continue
            answer = api.request(
                method, path.format(**ids), content=b'{"zz":1,"zz":1}', headers=JSON
            )
            assert answer.status_code == 422, (method, path, answer.text)
            assert answer.json()["detail"] == (
                "invalid request: zz: given 2 times in the JSON body; a key takes one value"
            ), (method, path)
            sent.append((method, path))
    assert len(sent) >= 6, sent  # the project, object, points, job and track edits


@pytest.mark.parametrize("coding", ["gzip", "br", "identity, deflate"])
def test_a_coded_json_body_is_a_415_naming_the_coding(
    api: httpx.Client, project: dict, coding: str
) -> None:
    pid = project["id"]
    url = f"/api/projects/{pid}/objects"
    answer = api.post(
        url, content=b'{"name":"plain"}', headers={**JSON, "content-encoding": coding}
    )
    assert answer.status_code == 415, answer.text  # was 201: the body read as plain
    named = coding.removeprefix("identity, ")
    assert answer.json() == {
        "detail": f"Content-Encoding {named} is not supported: send the body as it is, "
        "without Content-Encoding"
    }
    assert answer.headers["accept-encoding"] == "identity"  # RFC 9110 15.5.16
    assert api.get(url).json() == []
    # identity is no coding at all.
    made = api.post(url, json={"name": "plain"}, headers={"content-encoding": "identity"})
    assert made.status_code == 201, made.text


def test_a_coded_upload_is_a_415_before_its_body_is_read(server: LiveServer) -> None:
    """The headers alone are answered: the 1 MB the request announces never comes."""
    head = (
        f"POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {server.token}\r\nContent-Encoding: gzip\r\n"
        "Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 1000000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head.encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)  # a timeout here: the server waited for the body
            assert chunk, answer
            answer += chunk
    status, _, _ = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 415 Unsupported Media Type", answer
    assert b"Content-Encoding gzip is not supported" in answer
    with server.client() as api:
        assert api.get("/api/projects").status_code == 200  # the server is unharmed
