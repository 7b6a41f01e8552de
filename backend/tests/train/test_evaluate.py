"""Evaluation: every method on the same masks, CSVs and per-clip tables written, trimap from the
mask's band, and the check of the default against closed-form and the raw mask."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from vidmatte.matte import HeadConfig, random_head, save_head
from vidmatte.metrics import METRICS
from vidmatte.train.evaluate import (
    check,
    evaluate,
    markdown_table,
    per_clip_markdown,
    summarize,
    trimap_from_mask,
)


def test_trimap_band() -> None:
    mask = np.zeros((40, 40), np.float32)
    mask[10:30, 10:30] = 1
    trimap = trimap_from_mask(mask, band_px=3)
    assert trimap[20, 20] == 1 and trimap[0, 0] == 0
    assert trimap[10, 20] == 0.5 and trimap[8, 20] == 0.5 and trimap[13, 20] == 1


def test_evaluate_writes_tables(tiny_dataset, tmp_path, capsys) -> None:
    weights = tmp_path / "head.safetensors"
    save_head(weights, random_head(config=HeadConfig(base_channels=8, working_size=96)), {})
    methods = ("raw", "guided", "closed_form", "head", "head_fast", "head_noprev")
    result = evaluate(tiny_dataset, weights, tmp_path / "eval", methods)
    assert list(result.summary) == list(methods)
    assert all(set(v) == set(METRICS) for v in result.summary.values())
    rows = list(csv.DictReader((tmp_path / "eval" / "per_clip.csv").open()))
    assert len(rows) == len(result.rows) == 6 * 3
    clips = {r["clip"] for r in rows}
    assert len(clips) == 3
    assert markdown_table(result.summary).count("\n") == 7
    # 2 header lines, 6 methods x 3 clips, 6 means
    assert per_clip_markdown(result.rows).count("\n") == 2 + 18 + 6 - 1
    printed = capsys.readouterr().out
    assert all(clip in printed for clip in clips)
    assert "mean MAD / raw" in printed  # the check ran on head vs closed_form and raw
    # the two edge refinements give different mattes of the same head
    assert result.summary["head"]["MAD"] != result.summary["head_fast"]["MAD"]


def _rows(values: dict[tuple[str, str], tuple[float, ...]]) -> list[dict]:
    return [
        {"method": m, "clip": c, **dict(zip(METRICS, v, strict=True))}
        for (m, c), v in values.items()
    ]


#                          MAD   MSE  Grad  Conn  dtSSD
ROWS = _rows(
    {
        ("raw", "a"): (20.0, 9.0, 9.0, 5.0, 9.0),
        ("raw", "b"): (30.0, 9.0, 9.0, 5.0, 9.0),
        ("closed_form", "a"): (15.0, 6.0, 6.0, 4.0, 7.0),
        ("closed_form", "b"): (16.0, 6.0, 6.0, 4.0, 7.0),
        ("head", "a"): (10.0, 9.0, 5.0, 3.0, 6.0),  # worse MSE: not a condition
        ("head", "b"): (12.0, 3.0, 6.0, 4.5, 5.0),  # ties Grad, loses Conn
    }
)


def test_check_lists_every_clip_metric_the_default_loses() -> None:
    verdict = check(ROWS)
    assert verdict.losses == ["b Grad: 6.00 >= 6.00", "b Conn: 4.50 >= 4.00"]
    assert verdict.mad_ratio == pytest.approx(11 / 25)
    assert not verdict.passed
    assert "FAIL" in verdict.report() and "0.440" in verdict.report()


def test_check_passes_when_every_clip_wins_and_mad_ratio_meets_the_goal() -> None:
    rows = [dict(r, Grad=5.0, Conn=3.0) if r["method"] == "head" else r for r in ROWS]
    verdict = check(rows)
    assert verdict.losses == [] and verdict.passed
    assert "beats closed_form on MAD, Grad, Conn, dtSSD on every clip" in verdict.report()
    # the same wins with a mean MAD above 0.45 x raw's fail
    worse = [dict(r, MAD=12.0) if r["method"] == "head" else r for r in rows]
    assert check(worse).mad_ratio == pytest.approx(0.48) and not check(worse).passed


def test_check_needs_the_baselines() -> None:
    with pytest.raises(ValueError, match="'closed_form'"):
        check([r for r in ROWS if r["method"] != "closed_form"])
    with pytest.raises(ValueError, match="no row for b"):
        check([r for r in ROWS if (r["method"], r["clip"]) != ("closed_form", "b")])


def test_per_clip_markdown_groups_by_clip_then_means() -> None:
    lines = per_clip_markdown(ROWS).splitlines()
    assert lines[0] == "| clip | method | MAD | MSE | Grad | Conn | dtSSD |"
    assert [line.split(" | ")[:2] for line in lines[2:]] == [
        ["| a", "raw"],
        ["| a", "closed_form"],
        ["| a", "head"],
        ["| b", "raw"],
        ["| b", "closed_form"],
        ["| b", "head"],
        ["| mean", "raw"],
        ["| mean", "closed_form"],
        ["| mean", "head"],
    ]
    assert lines[-1] == "| mean | head | 11.00 | 6.00 | 5.50 | 3.75 | 5.50 |"
    assert summarize(ROWS)["raw"]["MAD"] == 25.0


def test_a_clip_without_dtssd_is_left_out_of_its_mean_and_shown_as_n_a() -> None:
    """A one-frame clip (dtSSD NaN: no frame pairs) counted as dtSSD 0 in the mean."""
    rows = [dict(r, dtSSD=float("nan")) if r["clip"] == "b" else r for r in ROWS]
    assert summarize(rows)["head"]["dtSSD"] == 6.0  # clip a's alone
    assert summarize(rows)["head"]["MAD"] == 11.0
    lines = per_clip_markdown(rows).splitlines()
    assert "| b | head | 12.00 | 3.00 | 6.00 | 4.50 | n/a |" in lines
    assert lines[-1] == "| mean | head | 11.00 | 6.00 | 5.50 | 3.75 | 6.00 |"
    only_b = [r for r in rows if r["clip"] == "b"]
    assert markdown_table(summarize(only_b)).splitlines()[-1].endswith(" | n/a |")
    assert "dtSSD" not in " ".join(check(rows).losses)  # not a loss: there is nothing to score
