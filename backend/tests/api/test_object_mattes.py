"""One matte per object: a job of two objects keeps each object's own matte, equal to what a job
of that object alone makes on the same frames; the union is their maximum. Over real HTTP."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.api.test_jobs import wait_job
from tests.conftest import upload
from tests.server import LiveServer

FRAMES = range(3, 7)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A server with an untrained head: test-tiny SAM2's masks are empty under the shipped
    head, an untrained one gives each object a different, non-empty matte."""
    folder = tmp_path_factory.mktemp("objects")
    env = {"VIDMATTE_HEAD": str(folder / "none.safetensors"), "VIDMATTE_RANDOM_HEAD": "1"}
    live = LiveServer(folder / "data", env=env)
    live.start()
    with live.client() as client:
        yield client
    live.stop()


@pytest.fixture
def project(api: httpx.Client, clip: Path) -> dict:
    return upload(api, clip)


def add_object(api: httpx.Client, pid: str, name: str, point: tuple[int, int]) -> int:
    obj = api.post(f"/api/projects/{pid}/objects", json={"name": name}).json()["id"]
    points = [{"x": point[0], "y": point[1], "label": "positive"}]
    response = api.put(
        f"/api/projects/{pid}/objects/{obj}/frames/4/points", json={"points": points}
    )
    assert response.status_code == 200, response.text
    return obj


def run(api: httpx.Client, pid: str, objects: list[int]) -> str:
    body = {"start": FRAMES[0], "end": FRAMES[-1], "object_ids": objects}
    job = api.post(f"/api/projects/{pid}/jobs", json=body)
    assert job.status_code == 201, job.text
    wait_job(api, job.json()["id"], {"done"})
    return job.json()["id"]


def archive(api: httpx.Client, job_id: str, **params: str) -> zipfile.ZipFile:
    response = api.get(f"/api/jobs/{job_id}/archive", params={"formats": "alpha_png16", **params})
    assert response.status_code == 200, response.text
    return zipfile.ZipFile(io.BytesIO(response.content))


def png16(zipped: zipfile.ZipFile, name: str) -> np.ndarray:
    with Image.open(zipped.open(name)) as image:
        return np.asarray(image).astype(np.int64)


def test_each_object_keeps_its_own_matte(api: httpx.Client, project: dict) -> None:
    pid = project["id"]
    disk = add_object(api, pid, "Red disk", (30, 32))
    corner = add_object(api, pid, "Ecke/oben", (88, 6))
    both = run(api, pid, [disk, corner])
    alone = {disk: run(api, pid, [disk]), corner: run(api, pid, [corner])}

    layered = archive(api, both, mattes="both")
    names = layered.namelist()
    for folder in ("Red_disk", "Ecke_oben", "union"):
        want = [f"alpha16/{folder}/{i:06d}.png" for i in FRAMES]
        assert [n for n in names if n.startswith(f"alpha16/{folder}/")] == want
    singles = {obj: archive(api, job) for obj, job in alone.items()}
    for i in FRAMES:
        own = {
            disk: png16(layered, f"alpha16/Red_disk/{i:06d}.png"),
            corner: png16(layered, f"alpha16/Ecke_oben/{i:06d}.png"),
        }
        for obj, matte in own.items():
            single = png16(singles[obj], f"alpha16/{i:06d}.png")  # one object: flat layout
            assert matte.shape == (64, 96)
            # The same matte as the object's own job (within float noise of a batch of two).
            print("DIFF", np.abs(matte - single).max())
            assert np.abs(matte - single).max() <= 257, (obj, i)
        union = png16(layered, f"alpha16/union/{i:06d}.png")
        np.testing.assert_array_equal(union, np.maximum(own[disk], own[corner]))
    assert own[disk].max() > 0 and own[corner].max() > 0
    # Two different mattes, not one twice (an untrained head varies little with the object).
    assert not np.array_equal(own[disk], own[corner])

    # The union alone is the flat layout; each object's matte over the alpha route.
    flat = archive(api, both, mattes="union")
    assert flat.namelist() == [f"alpha16/{i:06d}.png" for i in FRAMES]
    for obj, folder in ((disk, "Red_disk"), (corner, "Ecke_oben"), (None, "union")):
        params = {} if obj is None else {"object_id": obj}
        response = api.get(f"/api/jobs/{both}/alpha/4", params=params)
        assert response.status_code == 200
        got = np.asarray(Image.open(io.BytesIO(response.content))).astype(np.int64)
        want = png16(layered, f"alpha16/{folder}/000004.png")
        assert np.abs(got * 257 - want).max() <= 129  # 8 bits of the same matte
    missing = api.get(f"/api/jobs/{both}/alpha/4", params={"object_id": 99999})
    assert missing.status_code == 404 and "object 99999 is not matted" in missing.json()["detail"]
    bad = api.get(f"/api/jobs/{both}/archive", params={"mattes": "each"})
    assert bad.status_code == 422

    videos = archive(api, both, formats="alpha_mp4", mattes="both").namelist()
    assert sorted(videos) == sorted(
        f"{project['name']}_frames_3-6_{name}_alpha.mp4"
        for name in ("Red_disk", "Ecke_oben", "union")
    )


def test_a_job_keeps_the_object_names_it_was_made_with(api: httpx.Client, project: dict) -> None:
    """The archive named each object's folder after the object's name of the moment: renaming
    or deleting an object later renamed the folders of the finished jobs, which keep their
    prompts and mattes all the same."""
    pid = project["id"]
    first = add_object(api, pid, "first", (30, 32))
    second = add_object(api, pid, "second", (88, 6))
    job = run(api, pid, [first, second])
    renamed = api.patch(f"/api/projects/{pid}/objects/{first}", json={"name": "renamed"})
    assert renamed.status_code == 200, renamed.text
    assert api.delete(f"/api/projects/{pid}/objects/{second}").status_code == 204

    folders = {n.split("/")[1] for n in archive(api, job, mattes="both").namelist()}
    assert folders == {"first", "second", "union"}
    videos = archive(api, job, formats="alpha_mp4").namelist()
    assert sorted(v.split("_frames_3-6_")[1] for v in videos) == [
        "first_alpha.mp4",
        "second_alpha.mp4",
    ]


def test_the_job_says_the_object_names_its_results_carry(api: httpx.Client, project: dict) -> None:
    """The API's job left its objects' names out, so the editor labelled a finished job's
    downloads with the objects' names of today: "renamed" (or "object N" once deleted) for an
    archive whose folders say "first" and "second"."""
    pid = project["id"]
    first = add_object(api, pid, "first", (30, 32))
    second = add_object(api, pid, "second", (88, 6))
    job = run(api, pid, [first, second])
    assert api.patch(f"/api/projects/{pid}/objects/{first}", json={"name": "renamed"}).is_success
    assert api.delete(f"/api/projects/{pid}/objects/{second}").status_code == 204

    made_with = {str(first): "first", str(second): "second"}  # JSON keys are strings
    assert api.get(f"/api/jobs/{job}").json()["object_names"] == made_with
    listed = {j["id"]: j for j in api.get(f"/api/projects/{pid}/jobs").json()}
    assert listed[job]["object_names"] == made_with


def test_objects_whose_names_meet_once_suffixed_keep_their_own_files(
    api: httpx.Client, project: dict
) -> None:
    """Two objects named `a` became `a-<id>`, which a third object may be named already: the
    archive then held two `alpha16/a-<id>/` folders of the same entries (one overwrote the other
    when unzipped) and one object's video was lost, both sinks encoding into one file."""
    pid = project["id"]
    first = add_object(api, pid, "a", (30, 32))
    second = add_object(api, pid, "a", (88, 6))
    third = add_object(api, pid, f"a-{second}", (60, 40))
    job = run(api, pid, [first, second, third])

    names = archive(api, job, formats="alpha_png16,alpha_mp4").namelist()
    assert len(names) == len(set(names)), names
    folders = {n.split("/")[1] for n in names if n.startswith("alpha16/")}
    videos = [n for n in names if n.endswith("_alpha.mp4")]
    assert len(folders) == 3 and len(videos) == 3, names
    assert f"a-{second}" in folders  # the object of that name keeps it
