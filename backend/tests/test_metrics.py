"""Matting metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from vidmatte import metrics


def a(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def test_mad_mse() -> None:
    pred, true = a([[0, 0], [0.5, 1]]), a([[1, 0], [0, 1]])
    # |d| = 1, 0, 0.5, 0 -> mean 0.375; d² = 1, 0, 0.25, 0 -> mean 0.3125
    assert metrics.mad(pred, true) == pytest.approx(375.0)
    assert metrics.mse(pred, true) == pytest.approx(312.5)


def test_dtssd() -> None:
    true = np.zeros((2, 2), np.float32)
    # Prediction moves by 0.1 everywhere while the truth stays: sqrt(4·0.01/4)·100 = 10.
    assert metrics.dtssd(true + 0.1, true, true, true) == pytest.approx(10.0)
    # Following the truth's own change exactly costs nothing.
    assert metrics.dtssd(true + 0.3, true, true + 0.3, true) == pytest.approx(0.0)


def test_gradient_filter_shape() -> None:
    fx, fy = metrics.gaussian_derivative_filters(1.4)
    # half = ceil(1.4·sqrt(-2·ln(sqrt(2π)·1.4·0.01))) = ceil(3.62) = 4 -> 9x9
    assert fx.shape == (9, 9)
    assert (fx**2).sum() == pytest.approx(1.0)
    np.testing.assert_allclose(fx, -fx[:, ::-1])  # odd in x
    np.testing.assert_allclose(fy, fx.T)


def test_grad_identical_and_inverted() -> None:
    rng = np.random.default_rng(0)
    true = rng.random((20, 20)).astype(np.float32)
    assert metrics.grad(true, true) == 0.0
    # 1 - alpha has the same gradient magnitude after min-max normalisation.
    assert metrics.grad(1 - true, true) == pytest.approx(0.0, abs=1e-9)


def test_grad_step_edge_against_direct_sum() -> None:
    """A vertical step vs a flat prediction: far from the top/bottom border every row sees the
    1-D response g_x(c) = Σ_i G_i · Σ_{j: c+j ≥ edge} D_j / norm, worked out without filtering."""
    true = np.zeros((9, 30), np.float32)
    true[:, 15:] = 1
    fx, _ = metrics.gaussian_derivative_filters(1.4)
    half = 4
    expected = 0.0
    for c in range(30):
        gx = sum(
            fx[i, j] * (1.0 if min(max(c + j - half, 0), 29) >= 15 else 0.0)
            for i in range(9)
            for j in range(9)
        )
        expected += 9 * gx**2  # replicate border: every row is the same
    assert metrics.grad(np.zeros_like(true), true) == pytest.approx(expected / 1e3, rel=1e-5)


def test_conn_hand_cases() -> None:
    assert metrics.conn(a([[0.5, 0.5]]), a([[0.5, 0.5]])) == 0.0
    # true [.5 .5], pred [.5 0]: pixel 1 drops out at t=0.1 (l=0), pixel 0 at t=0.6 (l=0.5).
    # φ_true = [1, 1-0.5], φ_pred = [1, 1] -> |Δ| sums to 0.5 -> 0.0005.
    assert metrics.conn(a([[0.5, 0.0]]), a([[0.5, 0.5]])) == pytest.approx(0.0005)
    # true [1 1 1], pred [1 .05 1]: at t=0.1 the intersection splits; the first component wins,
    # so l = [1, 0, 0]; φ_true = [1, 0, 0], φ_pred = [1, 1 (0.05 < 0.15), 0] -> 1 -> 0.001.
    assert metrics.conn(a([[1, 0.05, 1]]), a([[1, 1, 1]])) == pytest.approx(0.001)


def test_clip_metrics_follows_rvm_averaging() -> None:
    true = [np.zeros((2, 2), np.float32)] * 2
    pred = [np.zeros((2, 2), np.float32), np.full((2, 2), 0.1, np.float32)]
    out = metrics.clip_metrics(pred, true)
    assert set(out) == set(metrics.METRICS)
    assert out["dtSSD"] == pytest.approx(5.0)  # (0 for frame 0 + 10) / 2
    assert out["MAD"] == pytest.approx(50.0)


def test_composite_error_by_hand() -> None:
    """One soft pixel between sure foreground and background, radius 0: the band is that pixel.
    True F red at alpha 0.5; new background blue -> true composite (0.5, 0, 0.5)."""
    true_alpha = a([[1, 0.5, 0]])
    true_fg = np.zeros((1, 3, 3), np.float32)
    true_fg[..., 0] = 1
    background = np.zeros((1, 3, 3), np.float32)
    background[..., 2] = 1
    assert metrics.composite_error(true_fg, true_alpha, true_fg, true_alpha, background, 0) == 0
    # Raw colour of a frame shot over green: (0.5, 0.5, 0) composites to (0.25, 0.25, 0.5);
    # |Δ| = (0.25, 0.25, 0) -> mean 1/6 -> 166.67.
    raw = true_fg.copy()
    raw[0, 1] = [0.5, 0.5, 0]
    error = metrics.composite_error(raw, true_alpha, true_fg, true_alpha, background, 0)
    assert error == pytest.approx(1e3 / 6)
    # Radius 1 grows the band to all 3 pixels, whose other two composites agree: a third.
    error = metrics.composite_error(raw, true_alpha, true_fg, true_alpha, background, 1)
    assert error == pytest.approx(1e3 / 18)
    # An alpha error shows too: opaque (alpha 1) red at the soft pixel gives (1, 0, 0) vs
    # (0.5, 0, 0.5) -> mean 1/3.
    opaque = a([[1, 1, 0]])
    error = metrics.composite_error(true_fg, opaque, true_fg, true_alpha, background, 0)
    assert error == pytest.approx(1e3 / 3)


def test_composite_error_needs_a_soft_edge() -> None:
    hard = a([[1, 0]])
    colour = np.zeros((1, 2, 3), np.float32)
    with pytest.raises(ValueError, match="soft alpha"):
        metrics.composite_error(colour, hard, colour, hard, colour)


def test_a_one_frame_clip_has_no_dtssd() -> None:
    """A one-frame clip has no frame-to-frame change to score: its dtSSD was 0, a perfect
    score that lowered the mean dtSSD of every method evaluated on it."""
    out = metrics.clip_metrics([np.full((2, 2), 0.1, np.float32)], [np.zeros((2, 2), np.float32)])
    assert np.isnan(out["dtSSD"])
    assert out["MAD"] == pytest.approx(100.0)
