"""The archive's frame headers stay small enough for proxies and clients, however many gaps."""

from __future__ import annotations

from vidmatte.api.routes.jobs import RUNS_HEADER_CHARS, frame_runs


def test_few_runs_are_listed_whole() -> None:
    assert frame_runs([0, 1, 2, 3, 4, 5, 8, 9], "j_1") == "0-5,8-9"
    assert frame_runs([7], "j_1") == "7-7"


def test_every_other_frame_of_a_long_job_is_summed_up_not_listed() -> None:
    """Every other frame of 20,000 listed as runs made a header of about 110 KB: nginx
    (4-8 KB for a response's headers by default) and some clients refuse the response."""
    header = frame_runs(list(range(0, 20_000, 2)), "j_1")
    assert header == (
        "10000 frames in 10000 runs, from 0-0 to 19998-19998 (too many to list: "
        "GET /api/jobs/j_1/frames lists them)"
    )
    header.encode("latin-1")  # what HTTP headers are sent in


def test_runs_are_listed_up_to_the_limit() -> None:
    runs = ",".join(f"{f}-{f}" for f in range(0, 20_000, 2))
    cut = runs[:RUNS_HEADER_CHARS].rsplit(",", 1)[0]  # the most whole runs within the limit
    within = [int(r.split("-")[0]) for r in cut.split(",")]
    assert frame_runs(within, "j_1") == cut
    longer = [*within, within[-1] + 2]  # one run more: over the limit
    assert len(",".join(f"{f}-{f}" for f in longer)) > RUNS_HEADER_CHARS
    summed = frame_runs(longer, "j_1")
    assert summed.startswith(f"{len(longer)} frames in {len(longer)} runs, from 0-0")
