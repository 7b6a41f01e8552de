"""Alpha matte metrics as Robust Video Matting's evaluation defines them (evaluate_lr.py).

All inputs are float arrays in [0,1] of equal shape (H,W). Scales follow RVM so numbers are
comparable with its paper: MAD and MSE x1e3, Grad and Conn ÷1e3, dtSSD x1e2. Clip averages
also follow RVM: every frame counts, and the first frame's dtSSD is 0; a clip of one frame has
no frame pairs, so no dtSSD (NaN), and is left out of dtSSD means.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np
from scipy import ndimage

METRICS = ("MAD", "MSE", "Grad", "Conn", "dtSSD")


def mad(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.abs(pred - true).mean() * 1e3)


def mse(pred: np.ndarray, true: np.ndarray) -> float:
    return float(((pred - true) ** 2).mean() * 1e3)


@lru_cache(maxsize=4)
def gaussian_derivative_filters(
    sigma: float = 1.4, epsilon: float = 1e-2
) -> tuple[np.ndarray, np.ndarray]:
    """x- and y-derivative-of-Gaussian kernels, unit L2 norm, truncated where the Gaussian
    falls below `epsilon` of its peak (RVM's / the alphamatting benchmark's construction)."""
    half = int(np.ceil(sigma * np.sqrt(-2 * np.log(np.sqrt(2 * np.pi) * sigma * epsilon))))
    r = np.arange(-half, half + 1, dtype=np.float64)
    gauss = np.exp(-(r**2) / (2 * sigma**2)) / (sigma * np.sqrt(2 * np.pi))
    dgauss = -r * gauss / sigma**2
    fx = np.outer(gauss, dgauss)  # rows: smoothing, columns: derivative
    fx /= np.sqrt((fx**2).sum())
    return fx, fx.T.copy()


def _minmax(x: np.ndarray) -> np.ndarray:
    """Scale to [0,1] like cv2.normalize(NORM_MINMAX); a constant image becomes 0."""
    lo, hi = float(x.min()), float(x.max())
    if hi - lo <= np.finfo(np.float64).eps:
        return np.zeros_like(x, dtype=np.float64)
    return (x.astype(np.float64) - lo) / (hi - lo)


def _gradient_magnitude(x: np.ndarray, sigma: float) -> np.ndarray:
    fx, fy = gaussian_derivative_filters(sigma)
    # cv2.filter2D correlates (no kernel flip) and BORDER_REPLICATE is scipy's "nearest".
    gx = ndimage.correlate(x, fx, mode="nearest")
    gy = ndimage.correlate(x, fy, mode="nearest")
    return np.sqrt(gx**2 + gy**2).astype(np.float32)


def grad(pred: np.ndarray, true: np.ndarray, sigma: float = 1.4) -> float:
    """Sum of squared differences of Gaussian-gradient magnitudes of min-max normalised mattes."""
    diff = _gradient_magnitude(_minmax(true), sigma) - _gradient_magnitude(_minmax(pred), sigma)
    return float((diff.astype(np.float64) ** 2).sum() / 1e3)


_FOUR_CONNECTED = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]])


def _largest_component(mask: np.ndarray) -> np.ndarray:
    labels, count = ndimage.label(mask, structure=_FOUR_CONNECTED)
    if count == 0:
        return np.zeros_like(mask, dtype=bool)
    sizes = np.bincount(labels.ravel())[1:]
    return labels == (int(np.argmax(sizes)) + 1)


def conn(pred: np.ndarray, true: np.ndarray, step: float = 0.1) -> float:
    """Connectivity error (Rhemann et al. 2009): per pixel, the highest threshold at which it
    still belongs to the largest 4-connected component of (true ≥ t) ∧ (pred ≥ t)."""
    thresholds = np.arange(0, 1 + step, step)
    round_down = -np.ones_like(true, dtype=np.float64)
    for i in range(1, len(thresholds)):
        omega = _largest_component((true >= thresholds[i]) & (pred >= thresholds[i]))
        newly_cut = (round_down == -1) & ~omega
        round_down[newly_cut] = thresholds[i - 1]
    round_down[round_down == -1] = 1.0
    true_diff = true - round_down
    pred_diff = pred - round_down
    # Differences below 0.15 count as connected (the benchmark's tolerance).
    true_phi = 1 - true_diff * (true_diff >= 0.15)
    pred_phi = 1 - pred_diff * (pred_diff >= 0.15)
    return float(np.abs(true_phi - pred_phi).sum() / 1e3)


def dtssd(
    pred_t: np.ndarray, pred_tm1: np.ndarray, true_t: np.ndarray, true_tm1: np.ndarray
) -> float:
    """Temporal coherence: RMS difference between predicted and true frame-to-frame change."""
    d = (pred_t - pred_tm1) - (true_t - true_tm1)
    return float(np.sqrt((d.astype(np.float64) ** 2).sum() / true_t.size) * 1e2)


def frame_metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """The per-frame metrics (all but dtSSD)."""
    return {
        "MAD": mad(pred, true),
        "MSE": mse(pred, true),
        "Grad": grad(pred, true),
        "Conn": conn(pred, true),
    }


def clip_metrics(preds: Iterable[np.ndarray], trues: Iterable[np.ndarray]) -> dict[str, float]:
    """Mean of every metric over a clip's frames, RVM-style (first frame's dtSSD counts as 0;
    a one-frame clip's dtSSD is NaN: with no frame pairs, its 0 would read as perfect)."""
    rows: list[dict[str, float]] = []
    prev: tuple[np.ndarray, np.ndarray] | None = None
    for pred, true in zip(preds, trues, strict=True):
        row = frame_metrics(pred, true)
        row["dtSSD"] = 0.0 if prev is None else dtssd(pred, prev[0], true, prev[1])
        rows.append(row)
        prev = (pred, true)
    if not rows:
        raise ValueError("clip_metrics needs at least one frame")
    means = {k: float(np.mean([r[k] for r in rows])) for k in METRICS}
    return {**means, "dtSSD": means["dtSSD"] if len(rows) > 1 else float("nan")}


def composite_error(
    fg: np.ndarray,
    alpha: np.ndarray,
    true_fg: np.ndarray,
    true_alpha: np.ndarray,
    background: np.ndarray,
    radius: int = 3,
) -> float:
    """What a compositor sees: (fg, alpha) and (true_fg, true_alpha) each composited over the
    same new `background`, mean absolute difference (x1e3) on the edge band, the pixels with
    0 < true_alpha < 1 grown by `radius` (square). Colours (H,W,3) and alphas (H,W) in [0,1];
    straight (not premultiplied) colour. Away from the band both composites are the
    foreground or the background itself, so a frame-wide mean would only dilute the fringe."""
    band = (true_alpha > 0) & (true_alpha < 1)
    if not band.any():
        raise ValueError("composite_error needs soft alpha (0 < true_alpha < 1) somewhere")
    if radius > 0:  # (binary_dilation reads 0 iterations as "until nothing changes")
        band = ndimage.binary_dilation(band, np.ones((3, 3), bool), iterations=radius)

    def over(f: np.ndarray, a: np.ndarray) -> np.ndarray:
        a = a[..., None].astype(np.float64)
        return a * f + (1 - a) * background

    return float(np.abs(over(fg, alpha) - over(true_fg, true_alpha))[band].mean() * 1e3)
