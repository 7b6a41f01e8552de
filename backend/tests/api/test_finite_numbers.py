"""Numbers in request bodies too large for a float, over real HTTP: JSON's 1e400 reads as
infinity and 10**400 as an integer no float holds. Each float field says it is not finite,
as a point's coordinate did: the export's shift_edge and feather called 10**400 "a valid
number", which it is."""

from __future__ import annotations

import httpx
import pytest

TOO_LARGE = {
    "int": b"1" + b"0" * 400,
    "-int": b"-1" + b"0" * 400,
    "float": b"1e400",
    "-float": b"-1e400",
}
# Each float field of a request body: its route, the body with the number at `{}`, and
# where the refusal names it.
FIELDS = {
    "x": ("points", b'{"points": [{"x": %s, "y": 1, "label": "positive"}]}', "points.0.x"),
    "y": ("points", b'{"points": [{"x": 1, "y": %s, "label": "negative"}]}', "points.0.y"),
    "box": ("points", b'{"points": [{"x": %s, "y": 1, "label": "box"}]}', "points.0.x"),
    "expected": (
        "points",
        b'{"points": [], "expected": [{"x": 1, "y": %s, "label": "positive"}]}',
        "expected.0.y",
    ),
    "shift_edge": (
        "jobs",
        b'{"start": 0, "end": 1, "export": {"formats": ["exr"], "shift_edge": %s}}',
        "export.shift_edge",
    ),
    "feather": (
        "jobs",
        b'{"start": 0, "end": 1, "export": {"formats": ["exr"], "feather": %s}}',
        "export.feather",
    ),
}


def _send(api: httpx.Client, pid: str, route: str, body: bytes) -> httpx.Response:
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    url = {
        "points": f"/api/projects/{pid}/objects/{obj}/frames/0/points",
        "jobs": f"/api/projects/{pid}/jobs",
    }[route]
    method = api.put if route == "points" else api.post
    return method(url, content=body, headers={"Content-Type": "application/json"})


def _nothing_stored(api: httpx.Client, pid: str) -> bool:
    points = api.get(f"/api/projects/{pid}/points").json()
    jobs = api.get(f"/api/projects/{pid}/jobs").json()
    return points == [] and jobs == []


@pytest.mark.parametrize("raw", TOO_LARGE.values(), ids=TOO_LARGE.keys())
@pytest.mark.parametrize("field", FIELDS)
def test_a_number_too_large_for_a_float_is_called_not_finite(
    api: httpx.Client, project: dict, field: str, raw: bytes
) -> None:
    route, body, where = FIELDS[field]
    sent = _send(api, project["id"], route, body % raw)
    assert sent.status_code == 422, sent.text
    assert sent.json()["detail"] == f"invalid request: {where}: Input should be a finite number"
    assert _nothing_stored(api, project["id"])


@pytest.mark.parametrize(
    "field, raw, words",
    [
        ("x", b"1e308", "outside the 96x64 frame"),
        (
            "shift_edge",
            b"1e308",
            "invalid request: export.shift_edge: Input should be less than or equal to 32",
        ),
        (
            "shift_edge",
            b"-1e308",
            "invalid request: export.shift_edge: Input should be greater than or equal to -32",
        ),
        (
            "feather",
            b"1" + b"0" * 300,
            "invalid request: export.feather: Input should be less than or equal to 32",
        ),
    ],
)
def test_a_finite_number_far_out_of_range_is_called_out_of_range(
    api: httpx.Client, project: dict, field: str, raw: bytes, words: str
) -> None:
    route, body, _ = FIELDS[field]
    sent = _send(api, project["id"], route, body % raw)
    assert sent.status_code == 422, sent.text
    assert words in sent.json()["detail"]
    assert _nothing_stored(api, project["id"])


def test_the_export_ranges_stay_in_the_openapi_schema(api: httpx.Client) -> None:
    """The editor and schema-driven clients read the ranges from it: written after a
    validator, pydantic would put them there as "ge" and "le", which JSON Schema ignores."""
    fields = api.get("/openapi.json").json()["components"]["schemas"]["ExportChoice"]["properties"]
    ranges = {
        name: (fields[name].get("minimum"), fields[name].get("maximum"))
        for name in ("shift_edge", "feather")
    }
    assert ranges == {"shift_edge": (-32, 32), "feather": (0, 32)}
    assert not {"ge", "le"} & (fields["shift_edge"].keys() | fields["feather"].keys())
