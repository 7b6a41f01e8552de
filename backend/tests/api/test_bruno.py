"""The Bruno collection in rest/ run by the Bruno CLI against a live test-tiny server.

Needs `npm ci --prefix rest` (installs the pinned @usebruno/cli into rest/node_modules).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.server import TOKEN, LiveServer

REST = Path(__file__).resolve().parents[3] / "rest"
BRU = REST / "node_modules" / ".bin" / "bru"
TERMINAL_RUN_SECONDS = 600  # the job polls give up after about four minutes each


def bru_run(
    collection: Path, base_url: str, report: Path, token: str = TOKEN
) -> subprocess.CompletedProcess:
    """`bru run`; the environment file reads the token from VIDMATTE_TOKEN, as the README says."""
    if not BRU.exists():
        pytest.fail(f"the Bruno CLI is not installed at {BRU}: run `npm ci --prefix rest` first")
    command = [
        str(BRU),
        "run",
        "--env",
        "local",
        "--env-var",
        f"baseUrl={base_url}",
        "--reporter-junit",
        str(report),
    ]
    return subprocess.run(
        command,
        cwd=collection,
        capture_output=True,
        text=True,
        check=False,
        timeout=TERMINAL_RUN_SECONDS,
        env={**os.environ, "VIDMATTE_TOKEN": token},
    )


def requests_in(collection: Path) -> list[Path]:
    return sorted(collection.glob("[0-9][0-9]-*.bru"))


def junit_suites(report: Path) -> dict[str, ET.Element]:
    """file name → its last <testsuite> (a polled request appears once per poll)."""
    return {suite.get("file"): suite for suite in ET.parse(report).getroot().iter("testsuite")}


def failed_requests(report: Path) -> str:
    """The requests whose assertions failed, with what failed: the run's own output is long,
    and its tail (all a message holds) lists the last requests, not the failed ones."""
    if not report.exists():
        return "no report written"
    failed = []
    for suite in ET.parse(report).getroot().iter("testsuite"):
        for case in suite.iter("testcase"):
            for failure in [*case.iter("failure"), *case.iter("error")]:
                what = failure.get("message") or (failure.text or "").strip()
                failed.append(f"{suite.get('file')}: {case.get('name')}: {what}")
    return "\n".join(failed) or "none in the report"


def test_collection_passes(server: LiveServer, tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    run = bru_run(REST, server.url, report)
    assert run.returncode == 0, (
        f"bru run failed: {failed_requests(report)}\n{run.stdout[-6000:]}\n{run.stderr[-3000:]}"
    )
    suites = junit_suites(report)
    files = [p.name for p in requests_in(REST)]
    assert len(files) >= 30
    assert sorted(suites) == files, "every request in rest/ must run"
    for root_suite in ET.parse(report).getroot().iter("testsuite"):
        name = root_suite.get("file")
        assert root_suite.get("failures") == "0" and root_suite.get("errors") == "0", name
        cases = list(root_suite.iter("testcase"))
        assert len(cases) >= 2, f"{name} must assert its status and its body"
        assert all(c.get("status") == "pass" for c in cases), name


def test_requests_are_numbered_in_order() -> None:
    for number, path in enumerate(requests_in(REST), start=1):
        assert path.name.startswith(f"{number:02d}-"), path.name
        text = path.read_text()
        assert re.search(rf"^\s*seq: {number}$", text, re.MULTILINE), (
            f"{path.name}: seq must be {number}"
        )
        assert re.search(r"^assert \{\n\s+res\.status: eq \d{3}$", text, re.MULTILINE), (
            f"{path.name} must assert its status first"
        )


def test_collection_covers_every_endpoint(server: LiveServer) -> None:
    """Each (method, path) of the OpenAPI schema has a request; new endpoints need one too."""
    import httpx

    schema = httpx.get(f"{server.url}/openapi.json").json()
    wanted = {
        (method.upper(), path)
        for path, ops in schema["paths"].items()
        for method in ops
        if path.startswith("/api/")
    }
    covered = set()
    for path in requests_in(REST):
        text = path.read_text()
        match = re.search(
            r"^(get|post|put|patch|delete) \{\n\s+url: \{\{baseUrl\}\}(\S+)$", text, re.MULTILINE
        )
        assert match, f"{path.name} has no request line"
        url = match.group(2).split("?")[0]
        covered.add((match.group(1).upper(), url))

    def matches(template: str, url: str) -> bool:
        pattern = re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template))
        return re.fullmatch(pattern, url) is not None

    missing = sorted(
        f"{m} {p}" for m, p in wanted if not any(m == cm and matches(p, cu) for cm, cu in covered)
    )
    assert not missing, f"endpoints without a Bruno request: {missing}"


def test_a_wrong_expectation_fails_the_run(server: LiveServer, tmp_path: Path) -> None:
    """The runner setup really fails: one flipped assertion makes `bru run` exit 1."""
    copy = tmp_path / "rest"
    copy.mkdir()
    shutil.copy(REST / "bruno.json", copy)
    shutil.copy(REST / "collection.bru", copy)
    shutil.copytree(REST / "environments", copy / "environments")
    health = (REST / "01-health.bru").read_text()
    flipped = health.replace('res.body.status: eq "ok"', 'res.body.status: eq "broken"')
    assert flipped != health
    (copy / "01-health.bru").write_text(flipped)
    report = tmp_path / "junit.xml"
    run = bru_run(copy, server.url, report)
    assert run.returncode == 1, run.stdout[-3000:]
    suite = junit_suites(report)["01-health.bru"]
    assert suite.get("failures") == "1"
    failed = [c.get("name") for c in suite.iter("testcase") if c.get("status") != "pass"]
    assert failed == ['res.body.status eq "broken"']

    # And a server that is not there fails it too.
    gone = bru_run(copy, "http://127.0.0.1:9", tmp_path / "refused.xml")
    assert gone.returncode == 1
