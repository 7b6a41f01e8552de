"""The benchmarks that run the real job code run and print a sensible table: bench/pipeline.py
(what bench/gpu.sh runs on a GPU) broke once unnoticed when the job code started asking its
matter for more than a call, bench/track.py when the Tracker began to take its SAM2's name."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.synth import write_alphamatting_photo

ROOT = Path(__file__).resolve().parents[2]


def test_the_job_benchmark_runs_and_reports_every_row(tmp_path: Path) -> None:
    write_alphamatting_photo(tmp_path)
    result = subprocess.run(
        [sys.executable, "bench/pipeline.py", "--sam2", "test-tiny", "--resolutions", "120",
         "--frames", "2", "--warmup", "1", "--variants", "best,raw", "--data", str(tmp_path),
         "--threads", "1"],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rows = re.findall(r"^\| 120p \| \d+x120 \| (best|raw) \| (.*) \|$", result.stdout, re.M)
    assert [variant for variant, _ in rows] == ["best", "raw"]
    for _, cells in rows:
        fps, _, _, sam2, matting, store, wall, overlap, *_ = cells.split(" | ")
        assert float(fps) > 0
        assert float(wall) == pytest.approx(1000 / float(fps), rel=0.01, abs=0.1)
        # The stages' own times against the wall time: SAM2 may overlap the matting, no more
        # (up to one step of SAM2 in the timed frames ran before they began: over 2x a little).
        stages = float(sam2) + float(matting) + float(store)
        assert float(overlap.rstrip("x")) == pytest.approx(stages / float(wall), abs=0.02)
        assert 0 < float(overlap.rstrip("x")) < 3
    assert "SAM2 tiny forward_image, one 1024² frame:" in result.stdout


def test_the_track_benchmark_runs_and_the_second_job_reads_the_track() -> None:
    result = subprocess.run(
        [sys.executable, "bench/track.py", "--frames", "3", "--height", "64"],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]  # it asserts the job read the track
    rows = re.findall(r"^\| (Track|Matting job)[^|]* \| ([\d.]+) \|$", result.stdout, re.M)
    assert [name for name, _ in rows] == ["Track", "Matting job", "Matting job"]
    assert all(float(fps) > 0 for _, fps in rows)
