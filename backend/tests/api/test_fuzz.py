"""Contract fuzzing with schemathesis against the live server's OpenAPI schema.

Every operation gets generated requests (valid and invalid); no answer may be a 5xx, and every
answer must match the schema: a documented status code, its content type, its body schema.
Most generated ids are swapped for real ones (a project with an object and clicks, a finished
job) so the fuzzing reaches past the 404s; a quarter keep their random ids.
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from tests.conftest import upload
from tests.server import LiveServer
from tests.waiting import wait_until

MAX_EXAMPLES = 12
# The paths whose DELETE keeps its random ids: the real project and job outlive the fuzzing.
UNDELETED = ("/api/projects/{project_id}", "/api/jobs/{job_id}")


def app_schema() -> dict:
    """The app's OpenAPI document, built without models (the routes need no services for it).

    Loaded at import so that each operation is its own test; schemathesis' lazy
    `from_fixture` loader does not work with pytest 9.
    """
    from vidmatte.api.app import create_app
    from vidmatte.config import Settings

    return create_app(Settings(token="schema-only"), built=SimpleNamespace()).openapi()


OPENAPI = app_schema()
schema = schemathesis.openapi.from_dict(OPENAPI)


@pytest.fixture(scope="module")
def real_ids(server: LiveServer, clip) -> dict[str, str]:
    """A project with one prompted object and a finished job over three frames."""
    with server.client() as api:
        project = upload(api, clip, "fuzz")
        pid = project["id"]
        obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
        api.put(
            f"/api/projects/{pid}/objects/{obj}/frames/1/points",
            json={"points": [{"x": 30, "y": 32, "label": "positive"}]},
        ).raise_for_status()
        job = api.post(f"/api/projects/{pid}/jobs", json={"start": 0, "end": 2}).json()
        assert wait_until(
            lambda: api.get(f"/api/jobs/{job['id']}").json()["status"] == "done", 60, every=0.1
        ), "the fuzzing fixture's job did not finish"
    return {"project_id": pid, "object_id": str(obj), "job_id": job["id"]}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_contract(case, real_ids: dict[str, str], server: LiveServer) -> None:
    params = case.path_parameters or {}
    # Deterministic per case: three quarters of the cases address real resources. The project
    # and the job themselves are never deleted, so the other cases keep reaching them.
    keep_random = int(hashlib.sha1(repr(sorted(params.items())).encode()).hexdigest(), 16) % 4 == 0
    deleting_real = case.method.upper() == "DELETE" and case.path in UNDELETED
    if params and not keep_random and not deleting_real:
        for name in params:
            if name in real_ids:
                params[name] = real_ids[name]
    response = case.call(base_url=server.url, timeout=60, headers=server.headers)
    case.validate_response(
        response,
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
        ],
    )


def test_live_schema_is_the_fuzzed_one(server: LiveServer) -> None:
    assert httpx.get(f"{server.url}/openapi.json").json() == OPENAPI


def test_fixture_project_survived(real_ids: dict[str, str], server: LiveServer) -> None:
    """The fuzzing above ran against real data: the project is still there and still valid."""
    with server.client() as api:
        project = api.get(f"/api/projects/{real_ids['project_id']}")
        assert project.status_code == 200
        assert project.json()["video"]["frame_count"] == 12
        assert api.get(f"/api/jobs/{real_ids['job_id']}/alpha/1").status_code == 200
