"""bench/launches.py counts the torch operations a frame of the matting stage runs (a GPU's
kernel launches, which bound the stage on an H200), and the plate's registration stays within
its budget of operations a Gauss-Newton step."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from tests.synth import write_alphamatting_photo
from vidmatte.matte.plate import BackgroundPlate, register

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import launches  # noqa: E402


def operations(call) -> int:
    """The torch operations `call()` runs, as bench/launches.py counts them."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        call()
    return sum(launches.count(prof.events()).values())


def test_a_registration_step_runs_at_most_50_operations() -> None:
    """On the H200 the plate's registration was most of `best`'s 72 ms at 1080p, about 18 µs
    an operation: a step ran 64 operations before it was written for fewer."""
    size, frames, steps = (45, 80), 3, 10
    g = torch.Generator().manual_seed(0)
    stored = [
        torch.cat([torch.rand(frames, 1, *size, generator=g), torch.ones(frames, 1, *size)], 1)
    ]
    current = [torch.cat([torch.rand(1, 1, *size, generator=g), torch.ones(1, 1, *size)], 1)]
    start = torch.eye(3).repeat(frames, 1, 1)
    per_step = operations(lambda: register(stored, current, start, (steps,), 0.02, 1e-3)) / steps
    assert 20 < per_step <= 50


def test_the_plate_runs_few_operations_a_frame() -> None:
    """A frame fed to the plate is registered to the one fed before it through the whole
    pyramid: 28 Gauss-Newton steps (1,414 operations) when each started from identity, 11 now
    that each starts from the last frame's motion. A frame's plate weighs three candidate maps
    for every stored frame: 416 operations when each candidate was weighed on its own pass and
    pixel grids were made anew each call."""
    size = (240, 320)  # four pyramid levels, as at 1080p
    g = torch.Generator().manual_seed(0)
    frames = [torch.rand(3, *size, generator=g) for _ in range(4)]
    alpha = torch.zeros(1, *size)
    alpha[:, 100:140, 140:180] = 1
    plate = BackgroundPlate(size)
    assert len(plate.sizes) == 4
    plate.feed(frames[0], alpha)
    plate.feed(frames[1], alpha)
    assert 300 < operations(lambda: plate.feed(frames[2], alpha)) <= 600
    assert 100 < operations(lambda: plate.plate(frames[0], alpha)) <= 350


def test_the_benchmark_counts_every_row(tmp_path: Path) -> None:
    write_alphamatting_photo(tmp_path)
    result = subprocess.run(
        [sys.executable, "bench/launches.py", "--height", "120", "--frames", "3",
         "--data", str(tmp_path)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 8 and re.fullmatch(r"\d+", cells[2]):
            rows[(cells[0], cells[1])] = [int(c) for c in cells[2:3] + cells[4:7]]
    assert set(rows) == {("none", "off"), ("fast", "off"), ("best", "off"), ("best", "on")}
    total = {key: row[0] for key, row in rows.items()}
    assert total["none", "off"] < total["fast", "off"] < total["best", "off"] < total["best", "on"]
    assert rows["best", "off"][1] == 0 < rows["best", "on"][1]  # the plate's share
    assert rows["none", "off"][2] == 0 < rows["best", "off"][2]  # the edges' share
    for total_ops, plate, edges, rest in rows.values():
        assert total_ops == plate + edges + rest
