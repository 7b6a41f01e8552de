"""An error nobody foresaw (a bug, a damaged file in the data dir) still answers like every
other error: JSON `{"detail": ...}` without server paths, with the security headers. Over real
HTTP: a finished frame's stored matte is damaged on disk."""

from __future__ import annotations

import httpx

from tests.api.test_jobs import prompt, wait_for
from tests.server import LiveServer
from vidmatte.api.security import SECURITY_HEADERS


def test_an_unhandled_error_is_json_with_the_security_headers(
    api: httpx.Client, project: dict, server: LiveServer
) -> None:
    prompt(api, project["id"])
    job = api.post(f"/api/projects/{project['id']}/jobs", json={"start": 3, "end": 5}).json()
    wait_for(api, job["id"], {"done"})
    stored = server.data_dir / "jobs" / job["id"] / "alpha" / "000004.png"
    stored.write_bytes(b"not a PNG any more")

    response = api.get(f"/api/jobs/{job['id']}/alpha/4")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    detail = response.json()["detail"]
    assert detail.startswith("internal server error") and "log" in detail
    assert str(server.data_dir) not in response.text and "/tmp" not in response.text
    assert "unhandled error in GET" in server.log.read_text()  # the traceback is logged
    # The server is unharmed: the frames around it still come.
    assert api.get(f"/api/jobs/{job['id']}/alpha/5").status_code == 200
