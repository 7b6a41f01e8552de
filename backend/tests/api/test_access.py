"""Access control over real HTTP (issue 12): the token, Host and Origin checks, quotas, security
headers, the offline /docs page, and answers that never show where the data lives."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import av
import httpx
import pytest

from tests.conftest import upload
from tests.server import LiveServer
from vidmatte.api.security import SECURITY_HEADERS
from vidmatte.errors import public_error

DUMMY = {
    "project_id": "p_x",
    "object_id": "1",
    "job_id": "j_x",
    "index": "0",
    "frame": "0",
    "key": "k",
}


def operations(server: LiveServer) -> list[tuple[str, str]]:
    schema = httpx.get(f"{server.url}/openapi.json").json()
    found = [
        (method.upper(), re.sub(r"\{(\w+)\}", lambda m: DUMMY[m.group(1)], path))
        for path, ops in schema["paths"].items()
        for method in ops
        if path.startswith("/api/") and path != "/api/health"
    ]
    assert len(found) >= 20  # every operation of the API, not a handful
    return found


def test_every_api_operation_needs_the_token(server: LiveServer) -> None:
    cookie = f"vidmatte-token-{server.port}"
    for method, path in operations(server):
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": f"Basic {server.token}"},
            {"Cookie": f"{cookie}=wrong-token"},
            {"Cookie": f"vidmatte-token-1={server.token}"},  # another port's cookie
        ):
            response = httpx.request(method, server.url + path, headers=headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            assert "access token" in response.json()["detail"]


def test_a_given_token_s_401_names_where_it_comes_from(server: LiveServer) -> None:
    """The test server takes VIDMATTE_TOKEN (as with --token): its 401 sent users to
    `vidmatte token`, which prints the data dir's token, one this server refuses."""
    for headers in ({"Authorization": "Bearer wrong-token"}, {}):
        refused = httpx.get(f"{server.url}/api/projects", headers=headers)
        assert refused.status_code == 401
        detail = refused.json()["detail"]
        assert "--token or VIDMATTE_TOKEN" in detail, detail
        assert "vidmatte token" not in detail, detail


def test_header_and_cookie_both_work(server: LiveServer, project: dict) -> None:
    pid = project["id"]
    by_header = httpx.get(f"{server.url}/api/projects/{pid}", headers=server.headers)
    assert by_header.status_code == 200 and by_header.json()["id"] == pid
    cookies = {f"vidmatte-token-{server.port}": server.token}
    by_cookie = httpx.get(f"{server.url}/api/projects/{pid}", cookies=cookies)
    assert by_cookie.status_code == 200 and by_cookie.json()["id"] == pid


def test_the_printed_url_trades_the_token_for_a_cookie(server: LiveServer, project: dict) -> None:
    with httpx.Client(base_url=server.url) as browser:
        opened = browser.get(f"/?token={server.token}&keep=1")
        assert opened.status_code == 303
        assert opened.headers["location"] == "/?keep=1"  # the token leaves the address bar
        assert opened.headers["cache-control"] == "no-store"
        set_cookie = opened.headers["set-cookie"]
        assert set_cookie.startswith(f"vidmatte-token-{server.port}={server.token};")
        assert "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie
        assert "Secure" not in set_cookie  # plain http on loopback: a Secure cookie is not sent
        assert browser.get(f"/api/projects/{project['id']}").status_code == 200
    with httpx.Client(base_url=server.url) as stranger:
        wrong = stranger.get("/?token=guess")
        assert wrong.status_code == 303 and wrong.headers["location"] == "/"
        assert "set-cookie" not in wrong.headers
        assert stranger.get("/api/projects").status_code == 401


def test_health_without_the_token_says_only_that_it_is_up(server: LiveServer) -> None:
    anonymous = httpx.get(f"{server.url}/api/health")
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
    full = httpx.get(f"{server.url}/api/health", headers=server.headers).json()
    assert full["sam2_model"] == "test-tiny" and "device" in full


def test_health_s_errors_without_the_token_keep_their_message(server: LiveServer) -> None:
    """Only its answer is cut to its status: a 405 or 415 without the token came back as
    `{"status": null}`, the message that said what was wrong taken out with the data."""
    coded = {"Content-Encoding": "gzip"}
    gzip = (
        "Content-Encoding gzip is not supported: send the body as it is, without Content-Encoding"
    )
    for method, headers, status, detail in [
        ("POST", {}, 405, "/api/health does not answer POST; it takes GET, HEAD"),
        ("PUT", {}, 405, "/api/health does not answer PUT; it takes GET, HEAD"),
        ("DELETE", {}, 405, "/api/health does not answer DELETE; it takes GET, HEAD"),
        ("GET", coded, 415, gzip),
    ]:
        for token in ({}, server.headers):
            answer = httpx.request(method, f"{server.url}/api/health", headers={**headers, **token})
            assert (answer.status_code, answer.json()) == (status, {"detail": detail}), token
            if status == 405:
                assert answer.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8000", "localhost.evil"])
def test_foreign_host_names_are_refused(server: LiveServer, host: str) -> None:
    """DNS rebinding: a page whose name points at 127.0.0.1 still sends its own Host."""
    for path in ("/api/projects", "/api/health", "/", "/docs"):
        response = httpx.get(server.url + path, headers={**server.headers, "Host": host})
        assert response.status_code == 400, (path, response.text)
        assert "Host" in response.json()["detail"]
    for host_ok in ("localhost", f"127.0.0.1:{server.port}", f"[::1]:{server.port}"):
        ok = httpx.get(f"{server.url}/api/projects", headers={**server.headers, "Host": host_ok})
        assert ok.status_code == 200, host_ok


def test_allowed_hosts_setting(tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "data", env={"VIDMATTE_ALLOWED_HOSTS": "vidmatte.lan"}).start()
    try:
        for host, status in (("vidmatte.lan", 200), ("vidmatte.lan:443", 200), ("evil.lan", 400)):
            response = httpx.get(f"{live.url}/api/projects", headers={**live.headers, "Host": host})
            assert response.status_code == status, host
    finally:
        live.stop()


def test_cross_origin_upload_is_refused_before_its_body(
    server: LiveServer, api: httpx.Client, clip: Path
) -> None:
    """A multipart POST is a 'simple' request: no preflight stops it, the Origin check does."""
    before = api.get("/api/projects").json()
    cookies = {f"vidmatte-token-{server.port}": server.token}
    for origin in ("https://evil.example", "null", f"http://localhost:{server.port}"):
        with clip.open("rb") as f:
            response = httpx.post(
                f"{server.url}/api/projects",
                files={"file": ("x.mp4", f, "video/mp4")},
                headers={"Origin": origin},
                cookies=cookies,
            )
        assert response.status_code == 403, (origin, response.text)
        assert "cross-origin" in response.json()["detail"]
    for method, path in (("DELETE", f"/api/projects/{before[0]['id']}"), ("PATCH", "/api/x")):
        foreign = httpx.request(
            method, server.url + path, headers={"Origin": "https://evil.example"}, cookies=cookies
        )
        assert foreign.status_code == 403, path
    assert list((server.data_dir / "tmp").iterdir()) == []
    assert api.get("/api/projects").json() == before
    # The app's own origin (the editor) is fine.
    project = upload_from(server, clip, origin=server.url)
    assert api.delete(f"/api/projects/{project['id']}").status_code == 204


def upload_from(server: LiveServer, clip: Path, origin: str) -> dict:
    with clip.open("rb") as f:
        response = httpx.post(
            f"{server.url}/api/projects",
            files={"file": ("own.mp4", f, "video/mp4")},
            headers={**server.headers, "Origin": origin},
        )
    assert response.status_code == 201, response.text
    return response.json()


def test_security_headers_on_every_kind_of_answer(
    server: LiveServer, api: httpx.Client, project: dict
) -> None:
    pid = project["id"]
    answers = {
        "html": api.get("/docs"),
        "json": api.get("/api/projects"),
        "image": api.get(f"/api/projects/{pid}/thumbnail"),
        "png": api.get(f"/api/projects/{pid}/frames/0"),
        "script": api.get("/docs/start.js"),
        "401": httpx.get(f"{server.url}/api/projects"),
        "404": api.get("/api/projects/p_nothing"),
        "400": httpx.get(f"{server.url}/", headers={"Host": "attacker.example"}),
    }
    assert answers["html"].headers["content-type"].startswith("text/html")
    assert answers["image"].headers["content-type"] == "image/jpeg"
    for kind, response in answers.items():
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (kind, name)
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
    assert "http" not in csp  # no CDN


def test_docs_work_offline(server: LiveServer) -> None:
    page = httpx.get(f"{server.url}/docs")
    assert page.status_code == 200
    assert not re.search(r"(https?:)?//[\w.-]+", page.text), "the page names another host"
    assert "<script>" not in page.text  # the CSP allows no inline script
    for asset in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert asset.startswith("/docs/"), asset
        loaded = httpx.get(server.url + asset)
        assert loaded.status_code == 200 and len(loaded.content) > 100, asset
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_no_auth_is_for_loopback_only(tmp_path: Path) -> None:
    for host in ("0.0.0.0", "192.168.1.20", "::"):
        run = subprocess.run(
            [
                *(sys.executable, "-m", "vidmatte.cli", "serve", "--host", host, "--no-auth"),
                *("--data-dir", str(tmp_path / "d"), "--sam2", "test-tiny"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 2, run.stderr[-2000:]
        assert "--no-auth is allowed on a loopback --host only" in run.stderr


def test_no_auth_on_loopback(tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "data", env={"VIDMATTE_NO_AUTH": "1"}).start()
    try:
        assert httpx.get(f"{live.url}/api/projects").status_code == 200
        refused = httpx.get(f"{live.url}/api/projects", headers={"Host": "attacker.example"})
        assert refused.status_code == 400  # the Host check stays on
    finally:
        live.stop()


def test_token_made_at_first_start(tmp_path: Path) -> None:
    """No VIDMATTE_TOKEN: the server makes one in the data dir (0600), prints the URL with it,
    and `vidmatte token` prints the same one; an empty editor dir gives a 503 without its path."""
    missing_editor = tmp_path / "data" / "no-editor-here"
    live = LiveServer(
        tmp_path / "data",
        env={"VIDMATTE_TOKEN": "", "VIDMATTE_FRONTEND_DIR": str(missing_editor)},
    ).start()
    try:
        token_file = live.data_dir / "token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        assert len(token) == 48
        assert f"http://127.0.0.1:{live.port}/?token={token}" in live.log.read_text()
        printed = subprocess.run(
            [sys.executable, "-m", "vidmatte.cli", "token", "--data-dir", str(live.data_dir)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env={**os.environ, "VIDMATTE_TOKEN": ""},
        )
        assert printed.stdout.strip() == token
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{live.url}/api/projects", headers=auth).status_code == 200
        assert httpx.get(f"{live.url}/api/projects").status_code == 401
        wrong = httpx.get(f"{live.url}/api/projects", headers={"Authorization": "Bearer x"})
        assert "`vidmatte token` on the server prints the right one" in wrong.json()["detail"]
        no_editor = httpx.get(f"{live.url}/", headers=auth)
        assert no_editor.status_code == 503 and "not built" in no_editor.json()["detail"]
        assert str(tmp_path) not in no_editor.text and "no-editor-here" in no_editor.text
    finally:
        live.stop()
    restarted = LiveServer(live.data_dir, env={"VIDMATTE_TOKEN": ""}).start()
    try:  # the same token after a restart
        assert token_file.read_text().strip() == token
        assert httpx.get(f"{restarted.url}/api/projects").status_code == 401
        with httpx.Client(base_url=restarted.url, headers=auth) as client:
            assert client.get("/api/projects").status_code == 200
    finally:
        restarted.stop()


def test_error_answers_name_no_server_path(
    server: LiveServer, api: httpx.Client, clip: Path, project: dict, tmp_path: Path
) -> None:
    pid = project["id"]
    damaged = tmp_path / "damaged.mp4"
    data = clip.read_bytes()
    damaged.write_bytes(data[: len(data) // 2] + b"\0" * 4096)
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("not a video")
    answers = [
        api.get("/api/projects/p_missing"),
        api.get("/api/jobs/j_missing"),
        api.get(f"/api/projects/{pid}/frames/999"),
        api.get(f"/api/projects/{pid}/frames/x"),
        api.post(f"/api/projects/{pid}/jobs", json={"start": 5, "end": 1}),
        api.post(f"/api/projects/{pid}/jobs", json={"start": "a"}),
        api.post("/api/projects", content=b"x", headers={"Content-Type": "text/plain"}),
        api.post("/api/projects", files={"file": ("notes.mp4", not_video.read_bytes())}),
        api.post("/api/projects", files={"file": ("d.mp4", damaged.read_bytes())}),
        api.post("/api/projects", files={"file": ("big.mp4", b"\0" * (4 * 1024 * 1024))}),
        httpx.get(f"{server.url}/api/projects"),
        httpx.get(f"{server.url}/", headers={"Host": "evil.example"}),
    ]
    assert {r.status_code for r in answers} >= {400, 401, 404, 413, 415, 422}
    for response in answers:
        assert response.status_code >= 400
        for secret in (str(server.data_dir), str(server.data_dir.parent), str(tmp_path)):
            assert secret not in response.text, response.text
        assert "Traceback" not in response.text


def test_public_error_drops_paths_from_real_exceptions(tmp_path: Path) -> None:
    bad = tmp_path / "data" / "projects" / "p_1" / "source.mp4"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a video")
    with pytest.raises(av.error.FFmpegError) as caught:
        av.open(str(bad))
    assert str(bad) in str(caught.value)  # PyAV names the file
    text = public_error(caught.value)
    assert str(tmp_path) not in text and text.endswith("'.../source.mp4'"), text
    with pytest.raises(FileNotFoundError) as missing:
        Path("relative/data/projects/x.npy").read_bytes()
    assert "relative/data" not in public_error(missing.value)
    assert public_error(ValueError("frame 3 cannot be decoded")) == (
        "ValueError: frame 3 cannot be decoded"
    )
    assert len(public_error(RuntimeError("x" * 5000))) == 500


def test_quotas(tmp_path: Path, clip: Path) -> None:
    live = LiveServer(
        tmp_path / "data", env={"VIDMATTE_MAX_PROJECTS": "1", "VIDMATTE_MAX_QUEUED_JOBS": "0"}
    ).start()
    try:
        with live.client() as api:
            first = upload(api, clip)
            with clip.open("rb") as f:
                second = api.post("/api/projects", files={"file": ("b.mp4", f, "video/mp4")})
            assert second.status_code == 507
            assert "VIDMATTE_MAX_PROJECTS" in second.json()["detail"]
            assert list((live.data_dir / "tmp").iterdir()) == []
            pid = first["id"]
            obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
            api.put(
                f"/api/projects/{pid}/objects/{obj}/frames/0/points",
                json={"points": [{"x": 30, "y": 32, "label": "positive"}]},
            ).raise_for_status()
            job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 1})
            assert job.status_code == 429, job.text
            assert "VIDMATTE_MAX_QUEUED_JOBS" in job.json()["detail"]
            assert job.headers["retry-after"] == "60"
            assert api.get(f"/api/projects/{pid}/jobs").json() == []
            assert api.delete(f"/api/projects/{pid}").status_code == 204
            upload(api, clip)  # room again
    finally:
        live.stop()
