"""An error nobody foresaw (a bug, a damaged file in the data dir) still answers like every
other error: JSON `{"detail": ...}` without server paths, with the security headers. Over real
HTTP: a finished frame's stored matte is damaged on disk."""

from __future__ import annotations

import httpx

from tests.api.test_jobs import prompt, wait_job
from tests.server import LiveServer
from vidmatte.api.security import SECURITY_HEADERS


def test_an_unhandled_error_is_json_with_the_security_headers(
    api: httpx.Client, project: dict, server: LiveServer
) -> None:
    prompt(api, project["id"])
    job = api.post(f"/api/projects/{project['id']}/jobs", json={"start": 3, "end": 5}).json()
    wait_job(api, job["id"], {"done"})
    stored = server.data_dir / "jobs" / job["id"] / "alpha" / "000004.png"
    stored.write_bytes(b"not a PNG any more")

    log_start = server.log_mark()
    response = api.get(f"/api/jobs/{job['id']}/alpha/4")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    detail = response.json()["detail"]
    assert detail.startswith("internal server error") and "log" in detail
    assert str(server.data_dir) not in response.text and "/tmp" not in response.text
    logged = server.log_since(log_start)  # the traceback, for the operator
    assert f"unhandled error in GET /api/jobs/{job['id']}/alpha/4" in logged, logged[-3000:]
    assert "Traceback" in logged
    # The server is unharmed: the frames around it still come.
    assert api.get(f"/api/jobs/{job['id']}/alpha/5").status_code == 200


def test_a_wrong_method_is_405_and_an_unknown_api_path_404(
    api: httpx.Client, project: dict
) -> None:
    """GET and HEAD as well as the other methods: the editor's static files must not answer
    for /api paths (they said 404 'Not Found' to a GET of a POST-only route). HEAD goes
    wherever GET does."""
    pid = project["id"]
    for method, path, allowed in [
        ("GET", f"/api/projects/{pid}/track/cancel", None),
        ("GET", "/api/jobs/j_0/cancel", "POST"),
        ("HEAD", "/api/jobs/j_0/cancel", "POST"),
        ("POST", f"/api/projects/{pid}", "DELETE, GET, HEAD, PATCH"),
        ("PUT", "/api/projects", "GET, HEAD, POST"),
    ]:
        _assert_refused(api.request(method, path), method, path, allowed)


def _assert_refused(answer: httpx.Response, method: str, path: str, allowed: str | None) -> None:
    """`answer` to `method` on `path` is the 404 of no endpoint (`allowed` None) or the 405
    naming the methods `allowed`, in its Allow header and (but to HEAD) its detail."""
    if allowed is None:
        assert answer.status_code == 404, (method, path)
        assert answer.json()["detail"] == f"no API endpoint at {path}"
        return
    assert answer.status_code == 405, (method, path, answer.status_code)
    assert answer.headers["allow"] == allowed, (method, path)
    if method != "HEAD":
        assert answer.json()["detail"] == f"{path} does not answer {method}; it takes {allowed}"


def test_a_method_no_route_takes_is_answered_as_patch_is(api: httpx.Client, project: dict) -> None:
    """TRACE, PROPFIND (WebDAV), any method no route takes: they got a bare 405 "Method Not
    Allowed" whose Allow named the methods of the path's first route (`GET, HEAD` for
    /api/projects, which takes POST; for a POST-only route; for a path with no endpoint)."""
    pid = project["id"]
    points = f"/api/projects/{pid}/objects/1/frames/0/points"
    for method in ("TRACE", "PROPFIND"):
        for path, allowed in [
            ("/api/projects", "GET, HEAD, POST"),
            ("/api/jobs/j_0/cancel", "POST"),
            (points, "PUT"),
            (f"/api/projects/{pid}", "DELETE, GET, HEAD, PATCH"),
            ("/api/no-such-endpoint", None),
        ]:
            _assert_refused(api.request(method, path), method, path, allowed)
        # The editor's pages (built or not) and /docs take GET and HEAD, and say so.
        for path in ("/", "/docs"):
            answer = api.request(method, path)
            assert answer.status_code == 405, (method, path, answer.status_code)
            assert answer.headers["allow"] == "GET, HEAD", (method, path)


def test_a_source_video_gone_from_the_data_dir_is_a_500(
    api: httpx.Client, clip, server: LiveServer
) -> None:
    """A file the server itself kept and lost is its fault, not the request's: 500, not 422."""
    from tests.conftest import upload

    pid = upload(api, clip, "lost")["id"]
    (source,) = (server.data_dir / "projects" / pid).glob("source.*")
    source.unlink()
    answer = api.get(f"/api/projects/{pid}/frames/1")
    assert answer.status_code == 500, answer.text
    assert "internal server error" in answer.json()["detail"]


def test_a_finished_frame_gone_from_the_data_dir_is_a_500_before_any_archive_byte(
    api: httpx.Client, project: dict, server: LiveServer
) -> None:
    """A finished frame whose stored matte was lost: the alpha route said 404 "not matted yet"
    (it is matted: resuming the job does not redo it), and the archive answered 200 and broke
    off at that frame, a cut-off download. Both are the server's fault, said before a byte."""
    prompt(api, project["id"])
    job = api.post(f"/api/projects/{project['id']}/jobs", json={"start": 3, "end": 5}).json()
    wait_job(api, job["id"], {"done"})
    alpha_dir = server.data_dir / "jobs" / job["id"] / "alpha"
    (alpha_dir / "000004.png").unlink()

    alpha = api.get(f"/api/jobs/{job['id']}/alpha/4")
    assert alpha.status_code == 500, alpha.text
    archive = api.get(f"/api/jobs/{job['id']}/archive")
    assert archive.status_code == 500, archive.text
    detail = archive.json()["detail"]
    assert "frame 4" in detail and "data dir" in detail, detail
    assert str(server.data_dir) not in detail
    # The other frames are unharmed; the first one lost is said too (the plan reads it).
    assert api.get(f"/api/jobs/{job['id']}/alpha/5").status_code == 200
    (alpha_dir / "000003.png").unlink()
    archive = api.get(f"/api/jobs/{job['id']}/archive")
    assert archive.status_code == 500 and "frame 3" in archive.json()["detail"], archive.text


def test_a_damaged_matte_file_is_a_500_before_any_archive_byte(
    api: httpx.Client, project: dict, server: LiveServer
) -> None:
    """A matte file cut short (a disk that filled, a copy broken off) is there but unreadable:
    the archive answered 200 and broke off at that frame, a zip no tool opens."""
    prompt(api, project["id"])
    job = api.post(f"/api/projects/{project['id']}/jobs", json={"start": 3, "end": 5}).json()
    wait_job(api, job["id"], {"done"})
    damaged = server.data_dir / "jobs" / job["id"] / "alpha" / "000005.png"
    damaged.write_bytes(damaged.read_bytes()[:60])

    archive = api.get(f"/api/jobs/{job['id']}/archive")
    assert archive.status_code == 500, archive.text
    detail = archive.json()["detail"]
    assert "frame 5" in detail and "damaged" in detail, detail
    assert str(server.data_dir) not in detail
    assert api.get(f"/api/jobs/{job['id']}/alpha/4").status_code == 200
