"""Objects, points and previews over real HTTP against the real (shrunk) SAM2."""

from __future__ import annotations

import io
import math
import re
import sys

import httpx
import numpy as np
import pytest
from PIL import Image

POS = {"x": 30, "y": 32, "label": "positive"}
NEG = {"x": 80, "y": 10, "label": "negative"}


def test_default_object_names_and_colours_are_fresh_in_the_project(
    api: httpx.Client, project: dict
) -> None:
    """The server picks them where the list is whole: two tabs each adding an object, or an
    add after a delete, never make a second "Object 2" (editors sent names from their lists)."""
    base = f"/api/projects/{project['id']}/objects"
    one, two = (api.post(base, json={}).json() for _ in range(2))
    assert api.delete(f"{base}/{one['id']}").status_code == 204
    three = api.post(base, json={}).json()
    named = api.post(base, json={"name": "Object 4"}).json()
    four = api.post(base, json={}).json()
    assert [o["name"] for o in (two, three, named, four)] == [
        "Object 2",
        "Object 3",
        "Object 4",
        "Object 5",
    ]
    colours = [o["color"] for o in (two, three, named, four)]
    assert len(set(colours)) == 4 and all(re.fullmatch("#[0-9a-f]{6}", c) for c in colours)


def test_objects_lifecycle(api: httpx.Client, project: dict) -> None:
    base = f"/api/projects/{project['id']}/objects"
    first = api.post(base, json={}).json()
    second = api.post(base, json={"name": "dog", "color": "#ff0000"}).json()
    assert first["name"] == "Object 1" and first["color"].startswith("#")
    assert second == {
        "id": second["id"],
        "project_id": project["id"],
        "name": "dog",
        "color": "#ff0000",
    }
    assert api.patch(f"{base}/{first['id']}", json={"name": "cat"}).json()["name"] == "cat"
    assert api.post(base, json={"color": "red"}).status_code == 422
    # Colours are kept as the docs write them, #rrggbb, whichever case they came in.
    recoloured = api.patch(f"{base}/{first['id']}", json={"color": "#ABCDEF"})
    assert recoloured.json()["color"] == "#abcdef"
    assert [o["id"] for o in api.get(base).json()] == [first["id"], second["id"]]
    assert api.delete(f"{base}/{second['id']}").status_code == 204
    assert [o["id"] for o in api.get(base).json()] == [first["id"]]
    assert api.delete(f"{base}/{second['id']}").status_code == 404


def test_an_object_s_patch_refuses_null_as_a_project_s_does(
    api: httpx.Client, project: dict
) -> None:
    """`{"name": null}` or `{"color": null}` was a 200 that changed nothing; a field left out
    keeps its value."""
    base = f"/api/projects/{project['id']}/objects"
    made = api.post(base, json={"name": "cat", "color": "#123456"}).json()
    for field in ("name", "color"):
        refused = api.patch(f"{base}/{made['id']}", json={field: None})
        assert refused.status_code == 422, refused.text
        detail = f"invalid request: {field}: Input should be a valid string"
        assert refused.json() == {"detail": detail}
    assert api.patch(f"{base}/{made['id']}", json={}).json() == made
    renamed = api.patch(f"{base}/{made['id']}", json={"name": "dog"}).json()
    assert renamed == {**made, "name": "dog"}
    recoloured = api.patch(f"{base}/{made['id']}", json={"color": "#ABCDEF"}).json()
    assert recoloured == {**made, "name": "dog", "color": "#abcdef"}


def test_points_replace_per_frame_and_survive(api: httpx.Client, project: dict) -> None:
    pid = project["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    url = f"/api/projects/{pid}/objects/{obj}/frames/3/points"
    assert api.put(url, json={"points": [POS, NEG]}).json()["points"] == [
        {"x": 30.0, "y": 32.0, "label": "positive"},
        {"x": 80.0, "y": 10.0, "label": "negative"},
    ]
    api.put(f"/api/projects/{pid}/objects/{obj}/frames/8/points", json={"points": [POS]})
    api.put(url, json={"points": [NEG]})  # replaces frame 3's points
    listed = api.get(f"/api/projects/{pid}/points").json()
    assert [(p["frame"], len(p["points"])) for p in listed] == [(3, 1), (8, 1)]
    assert listed[0]["points"][0]["label"] == "negative"
    api.put(url, json={"points": []})  # clearing a frame removes it
    assert [p["frame"] for p in api.get(f"/api/projects/{pid}/points").json()] == [8]


def test_bad_points(api: httpx.Client, project: dict) -> None:
    pid = project["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    url = f"/api/projects/{pid}/objects/{obj}/frames/0/points"
    outside = api.put(url, json={"points": [{"x": 96.1, "y": 10, "label": "positive"}]})
    assert outside.status_code == 422 and "outside the 96x64 frame" in outside.json()["detail"]
    below = api.put(url, json={"points": [{"x": 5, "y": -0.1, "label": "positive"}]})
    assert below.status_code == 422 and "outside the 96x64 frame" in below.json()["detail"]
    assert api.put(url, json={"points": [{"x": 1, "y": 1, "label": "maybe"}]}).status_code == 422
    late = api.put(f"/api/projects/{pid}/objects/{obj}/frames/12/points", json={"points": [POS]})
    assert late.status_code == 404 and "outside the video" in late.json()["detail"]
    unknown = api.put(f"/api/projects/{pid}/objects/999/frames/0/points", json={"points": [POS]})
    assert unknown.status_code == 404 and "object 999" in unknown.json()["detail"]
    assert api.get(f"/api/projects/{pid}/points").json() == []  # nothing was stored


@pytest.mark.parametrize("x", [b"1" + b"0" * 400, b"1e400", b"-1e400"], ids=["int", "float", "neg"])
def test_a_point_too_large_to_be_a_number_is_called_not_finite(
    api: httpx.Client, project: dict, x: bytes
) -> None:
    """10**400, an integer, was "a valid number" it is not told apart from; 1e400 was "a
    finite number". Both are too large for a float."""
    pid = project["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    sent = api.put(
        f"/api/projects/{pid}/objects/{obj}/frames/0/points",
        content=b'{"points": [{"x": ' + x + b', "y": 1, "label": "positive"}]}',
        headers={"Content-Type": "application/json"},
    )
    assert sent.status_code == 422, sent.text
    assert sent.json()["detail"] == "invalid request: points.0.x: Input should be a finite number"
    assert api.get(f"/api/projects/{pid}/points").json() == []


def test_a_point_at_minus_zero_is_stored_at_zero(api: httpx.Client, project: dict) -> None:
    """-0.0 is the frame's edge, 0.0: stored and echoed with its sign, it read as two points."""
    pid = project["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    url = f"/api/projects/{pid}/objects/{obj}/frames/0/points"
    edge = {"x": -0.0, "y": -0.0, "label": "positive"}
    sent = api.put(url, json={"points": [edge]})
    assert sent.status_code == 200, sent.text
    stored = api.get(f"/api/projects/{pid}/points").json()[0]["points"]
    for point in (sent.json()["points"][0], stored[0]):
        assert [math.copysign(1, point[axis]) for axis in "xy"] == [1, 1], point
    # The stored points match an `expected` of either sign.
    again = api.put(url, json={"points": [edge], "expected": [{**edge, "x": 0.0, "y": 0.0}]})
    assert again.status_code == 200, again.text


def test_a_bad_body_for_a_missing_object_is_a_404(api: httpx.Client, project: dict) -> None:
    """Bad points (or a bad rename) for an object that does not exist were a 422 about the
    body; the missing object comes first: 404, whatever the body holds."""
    pid = project["id"]
    missing = f"/api/projects/{pid}/objects/999"
    bad_points = {"points": [{"x": 1, "y": 1, "label": "maybe"}]}
    for response in (
        api.put(f"{missing}/frames/0/points", json=bad_points),
        api.put(f"{missing}/frames/0/points", json={"pointz": []}),
        api.patch(missing, json={"color": "green"}),
    ):
        assert response.status_code == 404, response.text  # was 422
        assert response.json()["detail"] == f"object 999 does not exist in project '{pid}'"
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    url = f"/api/projects/{pid}/objects/{obj}/frames/0/points"
    assert api.put(url, json=bad_points).status_code == 422  # an existing one: the body's fault
    assert api.put(f"/api/projects/nope/objects/{obj}/frames/0/points", json=bad_points).json() == {
        "detail": "project 'nope' does not exist"
    }


def test_an_unknown_project_is_a_404_whatever_the_request_holds(api: httpx.Client) -> None:
    """A bad body (or a bad id or query after the project's) sent to a project that does not
    exist was a 422 about the body: the client fixed a body it could not store anyway. The
    missing project comes first on every route that names one."""
    bad = {"pointz": [], "start": "x"}
    for method, path in (
        ("PATCH", ""),
        ("GET", "/frames/x"),
        ("POST", "/objects"),
        ("PATCH", "/objects/1"),
        ("DELETE", "/objects/x"),
        ("PUT", "/objects/x/frames/0/points"),
        ("POST", "/frames/x/preview?object_id=x"),
        ("POST", "/jobs"),
        ("POST", "/track"),
        ("GET", "/track/masks/x"),
    ):
        response = api.request(method, f"/api/projects/nope{path}", json=bad)
        assert response.status_code == 404, (method, path, response.text)  # was 422
        assert response.json() == {"detail": "project 'nope' does not exist"}


def test_a_click_sent_twice_is_stored_once(api: httpx.Client, project: dict) -> None:
    """The same click twice in one save (a retried request, a script's repeat) was stored
    twice: a point the user cannot tell from the first, sent to SAM2 twice and counted twice
    against the frame's limit. It is one click; the answer holds what is stored."""
    pid = project["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    url = f"/api/projects/{pid}/objects/{obj}/frames/2/points"
    twice = api.put(url, json={"points": [POS, NEG, POS]})
    assert twice.status_code == 200, twice.text
    assert twice.json()["points"] == [POS, NEG]
    assert api.get(f"/api/projects/{pid}/points").json() == [
        {"object_id": obj, "frame": 2, "points": [POS, NEG]}
    ]
    # An editor that kept the repeat in its own list began from the points stored.
    again = api.put(url, json={"points": [POS], "expected": [POS, NEG, POS]})
    assert again.status_code == 200, again.text


def test_a_positive_and_a_negative_click_on_one_spot_are_refused(
    api: httpx.Client, project: dict
) -> None:
    """A spot both in and out of the object: SAM2 gets two contradicting prompts and the
    editor draws one marker over the other. Nothing is stored."""
    pid = project["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    url = f"/api/projects/{pid}/objects/{obj}/frames/2/points"
    clash = api.put(url, json={"points": [POS, NEG, {**POS, "label": "negative"}]})
    assert clash.status_code == 422, clash.text
    assert clash.json()["detail"] == (
        "points 0 and 2 are both at (30, 32), one positive and one negative: keep one of them"
    )
    assert api.get(f"/api/projects/{pid}/points").json() == []
    # A box corner on a click is no clash: they are prompts of another kind.
    corner = {**POS, "label": "box"}
    box = [corner, {"x": 60, "y": 50, "label": "box"}, POS]
    assert api.put(url, json={"points": box}).status_code == 200


def test_a_body_that_is_not_json_is_400(api: httpx.Client, project: dict) -> None:
    """Unparseable is not the same as invalid: docs/API.md promises 400, with where it broke."""
    pid = project["id"]
    json_type = {"Content-Type": "application/json"}
    for url in (f"/api/projects/{pid}/objects", f"/api/projects/{pid}/track"):
        broken = api.post(url, content=b'{"name": ', headers=json_type)
        assert broken.status_code == 400, broken.text
        assert broken.json()["detail"] == "the body is not valid JSON (at character 9)"
    assert api.get(f"/api/projects/{pid}/objects").json() == []  # nothing was made


def test_a_body_that_is_not_utf8_says_so(api: httpx.Client, project: dict) -> None:
    """JSON is UTF-8 (RFC 8259): a Latin-1 name is told where its text broke, not FastAPI's
    "There was an error parsing the body"."""
    pid = project["id"]
    latin1 = '{"name": "Café"}'.encode("latin-1")
    sent = api.post(
        f"/api/projects/{pid}/objects", content=latin1, headers={"Content-Type": "application/json"}
    )
    assert sent.status_code == 400, sent.text
    assert sent.json()["detail"] == "the body is not valid UTF-8 (at byte 13): JSON must be UTF-8"
    assert api.get(f"/api/projects/{pid}/objects").json() == []  # nothing was made


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            b'{"start": 0, "end": ' + b"9" * (sys.get_int_max_str_digits() + 1) + b"}",
            f"holds a number of over {sys.get_int_max_str_digits()} digits",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "is nested too deeply (JSON arrays and objects)"),
    ],
    ids=["long number", "deep nesting"],
)
def test_a_body_python_cannot_parse_says_why(
    api: httpx.Client, project: dict, body: bytes, detail: str
) -> None:
    """JSON that Python's parser gives up on (its limit on a number's digits, its recursion
    limit) got FastAPI's "There was an error parsing the body", naming nothing."""
    pid = project["id"]
    for url in (f"/api/projects/{pid}/jobs", f"/api/projects/{pid}/track"):
        sent = api.post(url, content=body, headers={"Content-Type": "application/json"})
        assert sent.status_code == 400, sent.text
        assert sent.json()["detail"] == f"the body {detail}: it cannot be read as JSON"
    assert api.get(f"/api/projects/{pid}/jobs").json() == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_json_body_sent_as_another_type_says_which_type_to_send(
    api: httpx.Client, project: dict, content_type: str
) -> None:
    """A script that forgot its Content-Type header is told so (415), not that its valid JSON
    "should be a valid dictionary"."""
    pid = project["id"]
    sent = api.post(
        f"/api/projects/{pid}/track",
        content=b'{"start": 0, "end": 3}',
        headers={"Content-Type": content_type},
    )
    assert sent.status_code == 415, sent.text
    assert sent.json()["detail"] == (
        f"the body must be JSON, sent as Content-Type: application/json (got {content_type})"
    )


def test_clicks_on_the_frame_edges_are_accepted(api: httpx.Client, project: dict) -> None:
    """The editor sends a click on the right or bottom edge as x = width, y = height."""
    pid = project["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    corners = [
        {"x": 96, "y": 64, "label": "positive"},
        {"x": 0, "y": 0, "label": "negative"},
        {"x": 96, "y": 0, "label": "negative"},
        {"x": 0, "y": 64, "label": "negative"},
    ]
    url = f"/api/projects/{pid}/objects/{obj}/frames/2/points"
    response = api.put(url, json={"points": corners})
    assert response.status_code == 200, response.text
    assert response.json()["points"] == [
        {**c, "x": float(c["x"]), "y": float(c["y"])} for c in corners
    ]
    preview = api.post(f"/api/projects/{pid}/frames/2/preview", params={"object_id": obj})
    assert preview.status_code == 200
    assert Image.open(io.BytesIO(preview.content)).size == (96, 64)


def test_preview_masks_have_frame_size(api: httpx.Client, project: dict) -> None:
    pid = project["id"]
    a = api.post(f"/api/projects/{pid}/objects", json={"color": "#ff0000"}).json()["id"]
    b = api.post(f"/api/projects/{pid}/objects", json={"color": "#0000ff"}).json()["id"]
    api.put(f"/api/projects/{pid}/objects/{a}/frames/5/points", json={"points": [POS, NEG]})
    api.put(
        f"/api/projects/{pid}/objects/{b}/frames/5/points",
        json={"points": [{"x": 70, "y": 50, "label": "positive"}]},
    )
    grey = api.post(f"/api/projects/{pid}/frames/5/preview", params={"object_id": a})
    assert grey.status_code == 200 and grey.headers["content-type"] == "image/png"
    mask = Image.open(io.BytesIO(grey.content))
    assert mask.mode == "L" and mask.size == (96, 64)
    values = np.asarray(mask)
    assert values.std() > 0  # a real, varying probability map
    both = Image.open(io.BytesIO(api.post(f"/api/projects/{pid}/frames/5/preview").content))
    assert both.mode == "RGBA" and both.size == (96, 64)
    rgba = np.asarray(both)
    assert set(np.unique(rgba[..., 3])) <= {0, 160}
    colours = {tuple(c) for c in rgba[rgba[..., 3] > 0][:, :3]}
    assert colours <= {(255, 0, 0), (0, 0, 255)}
    # A frame without points previews as empty, not as an error.
    empty = api.post(f"/api/projects/{pid}/frames/9/preview", params={"object_id": a})
    assert np.asarray(Image.open(io.BytesIO(empty.content))).max() == 0
    assert api.post(f"/api/projects/{pid}/frames/12/preview").status_code == 404
    assert (
        api.post(f"/api/projects/{pid}/frames/5/preview", params={"object_id": 999}).status_code
        == 404
    )


def test_a_save_over_points_changed_elsewhere_is_refused(api: httpx.Client, project: dict) -> None:
    """Two tabs on one frame: each says which points its edit began from (`expected`), so the
    second save cannot silently drop the first tab's click."""
    pid = project["id"]
    obj = api.post(f"/api/projects/{pid}/objects", json={}).json()["id"]
    url = f"/api/projects/{pid}/objects/{obj}/frames/2/points"
    tab_a = api.put(url, json={"points": [POS], "expected": []})
    assert tab_a.status_code == 200
    tab_b = api.put(url, json={"points": [NEG], "expected": []})
    assert tab_b.status_code == 409
    assert tab_b.json()["detail"] == (
        f"the points of object {obj} on frame 2 changed since this editor read them (in another "
        "tab or window?): reload them and click again"
    )
    assert api.get(f"/api/projects/{pid}/points").json() == [
        {"object_id": obj, "frame": 2, "points": [POS]}
    ]
    # Knowing the points it replaces, the save goes through; without `expected` it always does.
    assert api.put(url, json={"points": [POS, NEG], "expected": [POS]}).status_code == 200
    assert api.put(url, json={"points": [NEG]}).status_code == 200
    assert api.get(f"/api/projects/{pid}/points").json()[0]["points"] == [NEG]
