"""Peak memory while SAM2 tracks 100 vs 400 frames: vidmatte's lazy, pruned wrapper against
SAM2's own predictor (which loads every frame up front and keeps every frame's memory).

    uv run python bench/segment_memory.py [--sam2 test-tiny|tiny|small ... --random-init]

Each run is a fresh subprocess, so peak RSS (VmHWM) belongs to that run alone. Prints a table
and exits non-zero if vidmatte's 400-frame peak exceeds its 100-frame peak by more than 15%.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import typer
from common import ROOT, peak_rss_mb

app = typer.Typer(add_completion=False)


def make_video(path: Path, frames: int, width: int, height: int) -> None:
    from tests.synth import write_video

    write_video(path, frames=frames, width=width, height=height, fps=30)


def run_vidmatte(video: Path, model: str, random_init: bool) -> dict:
    from vidmatte.media.video import VideoReader, probe
    from vidmatte.segment.models import build_predictor
    from vidmatte.segment.session import Segmenter
    from vidmatte.store import Point

    info, pts = probe(video)
    segmenter = Segmenter(
        build_predictor(model, ROOT / "checkpoints", random_init=random_init), model
    )
    state = segmenter.new_state(VideoReader(video, pts, 0), info.height, info.width)
    prompts = {(1, 0): [Point(info.width * 0.3, info.height * 0.5, "positive")]}
    started = time.perf_counter()
    count = sum(1 for _ in segmenter.track(state, prompts, 0, info.frame_count - 1))
    return {"frames": count, "seconds": time.perf_counter() - started}


def run_stock(video: Path, model: str, random_init: bool) -> dict:
    """SAM2's documented path: a folder of JPEGs, init_state, propagate_in_video."""
    import av
    import numpy as np
    from sam2.build_sam import build_sam2_video_predictor

    from vidmatte.segment.models import MODELS

    spec = MODELS[model]
    folder = Path(tempfile.mkdtemp())
    for i, frame in enumerate(av.open(str(video)).decode(video=0)):
        frame.to_image().save(folder / f"{i:05d}.jpg", quality=95)
    ckpt = (
        None if (random_init or spec.checkpoint is None) else ROOT / "checkpoints" / spec.checkpoint
    )
    predictor = build_sam2_video_predictor(
        spec.config, ckpt_path=ckpt, device="cpu", hydra_overrides_extra=list(spec.overrides)
    )
    import torch

    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        state = predictor.init_state(str(folder))
        h, w = state["video_height"], state["video_width"]
        predictor.add_new_points_or_box(
            state,
            frame_idx=0,
            obj_id=1,
            points=np.array([[w * 0.3, h * 0.5]], np.float32),
            labels=np.array([1], np.int32),
        )
        started = time.perf_counter()
        count = sum(1 for _ in predictor.propagate_in_video(state))
    return {"frames": count, "seconds": time.perf_counter() - started}


@app.command()
def main(
    sam2: str = "test-tiny",
    random_init: bool = False,
    width: int = 480,
    height: int = 270,
    child: str = typer.Option(None, hidden=True),
    video: Path = typer.Option(None, hidden=True),
) -> None:
    if child:  # one measurement, in its own process
        runner = run_vidmatte if child == "vidmatte" else run_stock
        result = runner(video, sam2, random_init)
        print(json.dumps({**result, "peak_rss_mb": peak_rss_mb()}))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for frames in (100, 400):
            clip = Path(tmp) / f"clip{frames}.mp4"
            make_video(clip, frames, width, height)
            for kind in ("vidmatte", "sam2-stock"):
                command = [
                    sys.executable,
                    __file__,
                    "--sam2",
                    sam2,
                    "--child",
                    kind,
                    "--video",
                    str(clip),
                ] + (["--random-init"] if random_init else [])
                out = subprocess.run(command, capture_output=True, text=True, check=True)
                result = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append((kind, frames, result))
    print(f"\nSAM2 '{sam2}'{' (random init)' if random_init else ''}, {width}x{height} video\n")
    print(f"| {'predictor':<10} | {'frames':>6} | {'peak RSS MB':>11} | {'s/frame':>8} |")
    print(f"|{'-' * 12}|{'-' * 8}|{'-' * 13}|{'-' * 10}|")
    for kind, frames, r in rows:
        print(
            f"| {kind:<10} | {frames:>6} | {r['peak_rss_mb']:>11.0f} | "
            f"{r['seconds'] / r['frames']:>8.3f} |"
        )
    peaks = {(k, f): r["peak_rss_mb"] for k, f, r in rows}
    ours = peaks["vidmatte", 400] / peaks["vidmatte", 100]
    stock = peaks["sam2-stock", 400] / peaks["sam2-stock", 100]
    print(
        f"\npeak RSS 400/100 frames: vidmatte {ours:.2f}x, SAM2 stock {stock:.2f}x "
        f"(goal: vidmatte <= 1.15x)"
    )
    raise typer.Exit(0 if ours <= 1.15 else 1)


if __name__ == "__main__":
    app()
