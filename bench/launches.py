"""Torch operations one frame of the matting stage runs, per edge mode, with and without the
background plate: what a GPU launches a kernel for. On an H200 the stage is bound by those
launches, not by arithmetic (bench/gpu.sh, 2026-12-04: `best` with the plate took 68 to 100 ms
a frame at every size, `fast` 10 to 35), so this count, which any machine can make, tracks its
GPU cost between GPU sessions. `none` (the head alone) is the baseline row of the same run.

    uv run python bench/launches.py [--image GT04] [--height 1080] [--frames 25]

An alphamatting photo panned across `--frames` frames, with SAM2-like logits from its true
alpha (bench/pipeline.py's `panned`, the job benchmark's clip), is matted as a job does, each
frame's alpha the next one's previous, the plate fed `Matter.plate_ahead` frames ahead; the
frame the last one is fed ahead of is counted, with that feed, by torch's profiler, in the
forms a GPU takes (`filters.gpu_forms`; the CPU splits some operations in parts):
operators called from Python, views (slices, reshapes) left out as they launch nothing, split
into the plate's registration and combination, the edge refinement, and the rest (the head,
resizing, the guided upsampling).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import itertools
from collections.abc import Iterator
from pathlib import Path

import typer
from pipeline import DATA, fed_clip, panned_clip

# Operators that only make views or read a scalar: no kernel of their own.
VIEWS = frozenset(
    "aten::" + name
    for name in [
        "alias",
        "as_strided",
        "chunk",
        "contiguous",
        "detach",
        "diagonal",
        "empty",
        "empty_like",
        "expand",
        "expand_as",
        "flatten",
        "is_nonzero",
        "item",
        "_local_scalar_dense",
        "lift_fresh",
        "narrow",
        "permute",
        "reshape",
        "resolve_conj",
        "resolve_neg",
        "result_type",
        "select",
        "slice",
        "split",
        "squeeze",
        "t",
        "transpose",
        "unbind",
        "unflatten",
        "unsqueeze",
        "view",
        "view_as",
    ]
)
STAGE = "stage:"
# Where each share is counted: (module, attribute) wrapped with a profiler label.
STAGES = {
    "plate": ("vidmatte.matte.plate", "BackgroundPlate", ("plate", "covered", "add", "feed")),
    "edges": ("vidmatte.matte.infer", None, ("best_edges",)),
}
# The H200's cost of one operation, from bench/gpu.sh's table of 2026-12-04: `best` with the
# plate took about 60 ms more than `fast` at 1080p for about 3,200 more operations.
US_PER_OPERATION = 18


@contextlib.contextmanager
def labelled() -> Iterator[None]:
    """The STAGES' functions wrapped in profiler labels while inside."""
    import importlib

    import torch

    undo = []
    for label, (module_name, owner_name, names) in STAGES.items():
        module = importlib.import_module(module_name)
        owner = getattr(module, owner_name) if owner_name else module
        for name in names:
            original = getattr(owner, name)

            @functools.wraps(original)
            def wrapped(*args, _original=original, _label=label, **kwargs):
                with torch.profiler.record_function(STAGE + _label):
                    return _original(*args, **kwargs)

            setattr(owner, name, wrapped)
            undo.append((owner, name, original))
    try:
        yield
    finally:
        for owner, name, original in undo:
            setattr(owner, name, original)


def count(events) -> collections.Counter[str]:
    """Operators called from Python (not from inside another), views left out, by stage."""
    shares: collections.Counter[str] = collections.Counter()
    for event in events:
        parent = event.cpu_parent
        if not event.name.startswith("aten::") or event.name in VIEWS:
            continue
        if parent is not None and parent.name.startswith("aten::"):
            continue
        stage = "rest"
        while parent is not None:
            if parent.name.startswith(STAGE):
                stage = parent.name[len(STAGE) :]
            parent = parent.cpu_parent
        shares[stage] += 1
    return shares


def operations(matter, clip) -> collections.Counter[str]:
    """One frame's operations by stage, the frames before it matted as a job does: the frame
    counted is the last one fed to the plate ahead of its matting (`Matter.plate_ahead`, 0
    without a plate: the last frame), with that feed."""
    from torch.profiler import ProfilerActivity, profile

    plate, steps = fed_clip(matter, clip)
    counted = max(0, len(clip) - 1 - matter.plate_ahead)
    prev = None
    for _t, frame, _ in itertools.islice(steps, counted):
        prev = matter(*frame, prev, plate=plate)
    with labelled(), profile(activities=[ProfilerActivity.CPU]) as prof:
        _t, frame, _ = next(steps)  # feeds the frame `plate_ahead` after it
        matter(*frame, prev, plate=plate)
    return count(prof.events())


def main(
    image: str = typer.Option("GT04", help="Alphamatting image made into the panned clip."),
    height: int = typer.Option(1080),
    frames: int = typer.Option(
        25, help="Frames matted; the one the last is fed ahead of is counted (its plate full)."
    ),
    device: str = typer.Option("cpu"),
    head: Path = typer.Option(None, help="Head weights (default: models/matting_head)."),
    data: Path = typer.Option(DATA, help="alphamatting folder (image/, alpha/), read only"),
) -> None:
    from vidmatte.matte.filters import gpu_forms
    from vidmatte.matte.infer import Matter
    from vidmatte.matte.weights import load_head

    net, _ = load_head(head)
    clip = panned_clip(data, image, frames, height)
    rows = []
    for edges, plate in (("none", False), ("fast", False), ("best", False), ("best", True)):
        with gpu_forms():  # one pooling, one sampling call, one sort, as a GPU runs them
            shares = operations(Matter(net, device, edges, plate=plate), clip)
        rows.append((edges, plate, shares))
    base = sum(rows[0][2].values())
    print(f"\nTorch operations in a frame of {image} panned at {height}p on {device}")
    print("(views left out); the GPU estimate at the H200's ~18 µs an operation\n")
    print("| edges | plate | operations | vs none | plate | edges | rest | H200 est. ms |")
    print("|---|---|---|---|---|---|---|---|")
    for edges, plate, shares in rows:
        total = sum(shares.values())
        cells = [edges, "on" if plate else "off", str(total), f"{total / base:.1f}x"]
        cells += [str(shares[s]) for s in ("plate", "edges", "rest")]
        cells.append(f"{total * US_PER_OPERATION / 1e3:.0f}")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    typer.run(main)
