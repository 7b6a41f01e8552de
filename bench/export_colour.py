"""What compositors see in an export: the colour-carrying formats' colour, raw (the frame's own)
or the estimated foreground (the default, `fg=estimated`), with the true alpha and with the
head's alpha, as the archive computes it (`foreground_rgb` on the 8-bit frame and matte).

    uv run python bench/export_colour.py --dataset DIR [--build] [--step 1] [--device cpu]
        [--edges best|fast|none]

DIR holds clips made by the dataset builder (`train/dataset.py`), which keeps each clip's true
foreground colour F and background B next to its frames and exact alpha (clips built before it
kept them have no `fgr/`, `bgr/` and are refused). `--build` makes DIR first when it has no
clips: the validation half of `python -m vidmatte.train.ship build` (the five validation images
of the alphamatting set, two 10-frame 640x360 clips each, seed 12345; ~2 minutes with its
foreground cache, `--cache`).

Each frame's export colour and matte, and the truth (F, alpha), are composited over a new
background photo (one the clip was not made over) and compared (`metrics.composite_error`: mean
absolute error x1e3 on the soft band of the true alpha grown by 3 px), averaged over the clip's
frames. "true alpha" pairs the colour with the clip's own matte (isolates the colour estimate;
issue 14 asks it to cut the raw colour's error at least in half); "head's alpha" with the shipped
head's matte (`Matter`, default edges, fed its previous frame's alpha as a job does) made from
the clip's SAM2-like logits: what users get, where alpha errors dominate.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
from common import SHARED_DATA
from foreground import background

os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # see bench/foreground.py

app = typer.Typer(add_completion=False)


def new_background(own: str, k: int, width: int, height: int):
    """The k-th background photo that is not `own` (the clip's), at the frame's size."""
    photos = sorted((SHARED_DATA / "backgrounds").glob("*.jpg"))
    others = [i for i, p in enumerate(photos) if p.name != own]
    return background(others[k % len(others)], width, height)


@app.command()
def main(
    dataset: Path = typer.Option(..., help="Clips from the dataset builder (with fgr/, bgr/)."),
    build: bool = typer.Option(False, help="Build the validation clips into DATASET first."),
    cache: Path = typer.Option(None, help="Foreground cache for --build (saves ~10 minutes)."),
    step: int = typer.Option(1, help="Every step-th frame of each clip."),
    device: str = typer.Option("cpu"),
    edges: str = typer.Option(
        "best", help="The head's edge refinement: best (default), fast, none."
    ),
) -> None:
    import json

    import numpy as np

    from vidmatte.matte import Matter, load_head
    from vidmatte.matte.foreground import foreground_rgb
    from vidmatte.metrics import composite_error
    from vidmatte.train.dataset import clip_folders, read_clip
    from vidmatte.train.evaluate import matte_clip
    from vidmatte.train.ship import build_validation

    if build and not (dataset / "clips").is_dir():
        build_validation(dataset, SHARED_DATA, cache)
    net, _ = load_head()
    matter = Matter(net, device, edges)
    print(
        f"\nComposite error (x1e3, edge band) over a new background, mean over each clip's "
        f"frames (every {step}); head edges: {matter.edges}; device: {device}\n"
    )
    print(
        "| clip | true alpha: raw | true alpha: estimated F | head's alpha: raw "
        "| head's alpha: estimated F |"
    )
    print("|---|---|---|---|---|")
    rows = []
    for k, folder in enumerate(clip_folders(dataset)):
        clip = read_clip(folder, step)
        if clip.fgr is None or clip.bgr is None:
            raise SystemExit(
                f"{folder.name} has no true foreground and background (fgr/, bgr/): it was "
                "built before the dataset builder kept them; rebuild it (--build, empty DATASET)"
            )
        own = json.loads((folder / "meta.json").read_text())["background"]
        h, w = clip.pha.shape[1:]
        new_bg = new_background(own, k, w, h)
        head_alphas = matte_clip(matter, clip, recurrent=True)
        per_frame = []
        for t in range(len(clip)):
            true_alpha, true_fg = clip.pha[t], clip.fgr[t].astype(np.float32) / 255
            if not ((true_alpha > 0) & (true_alpha < 1)).any():
                continue  # nothing soft to judge
            row = []
            for matte in (true_alpha, head_alphas[t]):
                matte8 = np.round(matte * 255).astype(np.uint8)
                stored = matte8.astype(np.float32) / 255
                for colour in (clip.rgb[t], foreground_rgb(clip.rgb[t], matte8, device=device)):
                    fg = colour.astype(np.float32) / 255
                    row.append(composite_error(fg, stored, true_fg, true_alpha, new_bg))
            per_frame.append(row)
        rows.append(np.mean(per_frame, axis=0))
        print(f"| {folder.name} | " + " | ".join(f"{v:.2f}" for v in rows[-1]) + " |", flush=True)
    mean = np.mean(rows, axis=0)
    print("| mean | " + " | ".join(f"{v:.2f}" for v in mean) + " |")
    verdict = "meets" if mean[1] <= mean[0] / 2 else "MISSES"
    print(
        f"\nestimated F keeps {mean[1] / mean[0]:.0%} of the raw colour's error with the true "
        f"alpha ({verdict} the goal, <= 50%), {mean[3] / mean[2]:.0%} with the head's"
    )


if __name__ == "__main__":
    app()
