"""Part of a job downloaded: the archive's `start` and `end` (the API's frame indices, each
defaulting to the job's own) pick the frames it holds, and its name and headers say which; a
range the job does not cover is a 422 that names the job's frames. Over real HTTP."""

from __future__ import annotations

import io
import zipfile

import httpx

from tests.api.test_jobs import prompt, wait_job


def alphas(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(zipfile.ZipFile(io.BytesIO(response.content)).namelist())


def done_job(api: httpx.Client, pid: str, start: int, end: int) -> str:
    prompt(api, pid)
    job = api.post(f"/api/projects/{pid}/jobs", json={"start": start, "end": end}).json()
    wait_job(api, job["id"], {"done"})
    return job["id"]


def test_an_archive_of_part_of_a_job_holds_those_frames(api: httpx.Client, project: dict) -> None:
    job_id = done_job(api, project["id"], 2, 9)
    url = f"/api/jobs/{job_id}/archive"
    part = api.get(url, params={"start": 4, "end": 6, "formats": "alpha_png,composite_mp4"})
    names = alphas(part)
    assert [n for n in names if n.startswith("alpha/")] == [f"alpha/{i:06d}.png" for i in (4, 5, 6)]
    assert any(n.endswith("_composite.mp4") for n in names)
    assert part.headers["X-Vidmatte-Frames"] == "4-6"
    assert "X-Vidmatte-Frames-Missing" not in part.headers  # none of 4-6 is missing
    assert "4-6" in part.headers["Content-Disposition"]
    # Each end defaults to the job's own.
    assert alphas(api.get(url, params={"start": 8})) == ["alpha/000008.png", "alpha/000009.png"]
    assert alphas(api.get(url, params={"end": 2})) == ["alpha/000002.png"]
    assert len(alphas(api.get(url))) == 8


def test_a_range_the_job_does_not_cover_is_a_422_naming_its_frames(
    api: httpx.Client, project: dict
) -> None:
    job_id = done_job(api, project["id"], 2, 9)
    url = f"/api/jobs/{job_id}/archive"
    for params in ({"start": 1}, {"end": 10}, {"start": 0, "end": 20}):
        refused = api.get(url, params=params)
        assert refused.status_code == 422, params
        detail = refused.json()["detail"]
        assert f"job '{job_id}' has frames 2-9" in detail, detail
    backwards = api.get(url, params={"start": 6, "end": 4})
    assert backwards.status_code == 422
    assert "start 6 is after end 4" in backwards.json()["detail"]
    negative = api.get(url, params={"start": -1})
    assert negative.status_code == 422 and "start" in negative.text
