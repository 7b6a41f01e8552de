"""Evaluation: every method on the same masks, CSVs written, trimap from the mask's band."""

from __future__ import annotations

import csv

import numpy as np

from vidmatte.matte import HeadConfig, random_head, save_head
from vidmatte.metrics import METRICS
from vidmatte.train.evaluate import evaluate, markdown_table, trimap_from_mask


def test_trimap_band() -> None:
    mask = np.zeros((40, 40), np.float32)
    mask[10:30, 10:30] = 1
    trimap = trimap_from_mask(mask, band_px=3)
    assert trimap[20, 20] == 1 and trimap[0, 0] == 0
    assert trimap[10, 20] == 0.5 and trimap[8, 20] == 0.5 and trimap[13, 20] == 1


def test_evaluate_writes_tables(tiny_dataset, tmp_path) -> None:
    weights = tmp_path / "head.safetensors"
    save_head(weights, random_head(config=HeadConfig(base_channels=8, working_size=96)), {})
    methods = ("raw", "guided", "closed_form", "head", "head_fast", "head_noprev")
    summary = evaluate(tiny_dataset, weights, tmp_path / "eval", methods)
    assert set(summary) == set(methods)
    assert all(set(v) == set(METRICS) for v in summary.values())
    rows = list(csv.DictReader((tmp_path / "eval" / "per_clip.csv").open()))
    assert len(rows) == 6 * 3
    assert markdown_table(summary).count("\n") == 7
    # the two edge refinements give different mattes of the same head
    assert summary["head"]["MAD"] != summary["head_fast"]["MAD"]
