"""What compositors see in an export: the colour-carrying formats' colour, raw (the frame's own)
or the estimated foreground (the default, `fg=estimated`), with the true alpha and with the
head's alpha, as the archive computes it (`foreground_rgb8` on the 8-bit frame and matte).

    uv run python bench/export_colour.py [--images GT04,GT08,GT13,GT24,GT27] [--device cpu]
        [--edges best|fast|none]

Each validation image of the alphamatting set becomes a frame with known F, alpha and B: a
"true" foreground F from pymatting at high quality (50/20 iterations) and the true alpha over
one background photo, rounded to 8 bits. The export's (colour, alpha) and the truth are each
composited over a second photo and compared (`metrics.composite_error`: mean absolute error
x1e3 on the soft band of the true alpha grown by 3 px). "true alpha" pairs the colour with the
ground-truth matte (isolates the colour estimate; the issue asks it to cut the raw colour's
error at least in half); "head's alpha" with the shipped head's matte (`Matter`, default
edges) made from SAM2-like logits of the true alpha, what users get: there alpha errors
dominate.
"""

from __future__ import annotations

import os

import typer
from foreground import background, load

os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # see bench/foreground.py

app = typer.Typer(add_completion=False)


@app.command()
def main(
    images: str = typer.Option("GT04,GT08,GT13,GT24,GT27"),
    device: str = typer.Option("cpu"),
    edges: str = typer.Option(
        "best", help="The head's edge refinement: best (default), fast, none."
    ),
) -> None:
    import numpy as np
    import torch
    from pymatting import estimate_foreground_ml

    from vidmatte.matte import Matter, load_head
    from vidmatte.matte.foreground import foreground_rgb8
    from vidmatte.metrics import composite_error
    from vidmatte.train.masks import synthetic_logits

    net, _ = load_head()
    matter = Matter(net, device, edges)
    print(
        f"\nComposite error (x1e3, edge band) over a new background; head edges: {matter.edges}\n"
    )
    print(
        "| image | true alpha: raw | true alpha: estimated F | head's alpha: raw "
        "| head's alpha: estimated F |"
    )
    print("|---|---|---|---|---|")
    rows = []
    for k, name in enumerate(images.split(",")):
        rgb_photo, alpha = load(name)
        true_fg = estimate_foreground_ml(
            rgb_photo, alpha, n_small_iterations=50, n_big_iterations=20
        )
        h, w = alpha.shape
        shot_bg, new_bg = background(2 * k, w, h), background(2 * k + 1, w, h)
        a = alpha[..., None]
        frame = np.round((a * true_fg + (1 - a) * shot_bg) * 255).astype(np.uint8)
        logits = torch.from_numpy(synthetic_logits(alpha[None], np.random.default_rng(k))[:1])[None]
        head_alpha = matter(frame, logits)
        row = []
        for matte in (alpha, head_alpha):
            matte8 = np.round(matte * 255).astype(np.uint8)
            stored = matte8.astype(np.float32) / 255
            for colour in (frame, foreground_rgb8(frame, matte8, device=device)):
                fg = colour.astype(np.float32) / 255
                row.append(composite_error(fg, stored, true_fg, alpha, new_bg))
        rows.append(row)
        print(f"| {name} | " + " | ".join(f"{v:.2f}" for v in row) + " |", flush=True)
    mean = np.mean(rows, axis=0)
    print("| mean | " + " | ".join(f"{v:.2f}" for v in mean) + " |")
    print(
        f"\nestimated F keeps {mean[1] / mean[0]:.0%} of the raw colour's error with the true "
        f"alpha, {mean[3] / mean[2]:.0%} with the head's"
    )


if __name__ == "__main__":
    app()
