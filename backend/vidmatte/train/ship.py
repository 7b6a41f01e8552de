"""Reproduce the shipped head: build the split's clips, train on CPU, validate, write models/.

    python -m vidmatte.train.ship all --work /tmp/vidmatte-ship

Stages (`build`, `train`, `eval`, `all`) can run separately; each reuses the previous one's
output under --work. Training data: the 18 alphamatting training images over 8 of the shared
background photos plus the Apache-2.0 sample videos; validation: the 5 held-out images over the
3 held-out photos (see splits.py).
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import typer

from vidmatte.matte.head import HeadConfig
from vidmatte.matte.infer import Matter
from vidmatte.matte.weights import default_head_path, load_head, save_head

from . import splits
from .dataset import build_dataset
from .evaluate import evaluate, markdown_table
from .trainer import TrainConfig, train

TRAIN_VIDEOS = ("cups", "blocks", "coffee", "bedroom", "juggle", "dog")  # Apache-2.0 SAM2 media
TRAIN_CONFIG = TrainConfig(steps=3000, batch_size=4, crop=192, lr=2e-3, seed=0)
TIME_LIMIT_S = 30 * 60


def build(work: Path) -> None:
    data = splits.shared_data()
    videos = [data / "videos" / f"{n}.mp4" for n in TRAIN_VIDEOS]
    cache = work / "foreground_cache"
    build_dataset(
        work / "train",
        image_sets=[data / "alphamatting"],
        backgrounds=splits.backgrounds(False) + videos,
        names=splits.TRAIN_IMAGES,
        clips_per_foreground=10,
        frames=8,
        seed=1,
        foreground_cache=cache,
    )
    build_dataset(
        work / "val",
        image_sets=[data / "alphamatting"],
        backgrounds=splits.backgrounds(True),
        names=splits.VAL_IMAGES,
        clips_per_foreground=2,
        frames=10,
        seed=12345,
        foreground_cache=cache,
    )


def run_training(work: Path) -> Path:
    return train(
        work / "train",
        work / "run",
        TRAIN_CONFIG,
        HeadConfig(),
        device="cpu",
        threads=1,
        time_limit_s=TIME_LIMIT_S,
    )


def run_eval(work: Path, weights: Path, ship_to: Path | None) -> dict:
    """Validate `weights`; with `ship_to`, copy them there with the table in the card."""
    methods = ("raw", "guided", "closed_form", "head", "head_noprev")
    results = evaluate(work / "val", weights, work / "eval", methods, threads=1)
    if ship_to is not None:
        head, card = load_head(weights)
        card["validation"] = {
            "split": {"images": splits.VAL_IMAGES, "backgrounds": splits.VAL_BACKGROUNDS},
            "table": results,
            "markdown": markdown_table(results),
        }
        card["reproduce"] = "python -m vidmatte.train.ship all --work /tmp/vidmatte-ship"
        card["training"]["budget"] = (
            f"{TIME_LIMIT_S // 60} min wall clock, CPU, 1 thread; the learning rate is scheduled "
            "by wall clock, so the number of steps depends on the machine"
        )
        matter = Matter(head)
        card["inference"] = {
            "matter": "vidmatte.matte.infer.Matter",
            "guided_filter_radius": matter.gf_radius,
            "guided_filter_eps": matter.gf_eps,
            "head": "prev_alpha = previous frame's output (as the jobs pipeline does)",
            "head_noprev": "prev_alpha = None",
        }
        save_head(ship_to, head, card)
    return results


app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
def main(
    stage: str = typer.Argument("all", help="build, train, eval or all"),
    work: Path = typer.Option(Path("/tmp/vidmatte-ship"), help="Working folder for every stage."),
    ship: bool = typer.Option(True, "--ship/--no-ship", help="Write the weights to models/."),
) -> None:
    if stage not in ("build", "train", "eval", "all"):
        raise typer.BadParameter(f"stage is build, train, eval or all, not '{stage}'")
    weights = work / "run" / "matting_head.safetensors"
    if stage in ("build", "all"):
        build(work)
    if stage in ("train", "all"):
        weights = run_training(work)
    if stage in ("eval", "all"):
        results = run_eval(work, weights, default_head_path() if ship else None)
        print(json.dumps(results, indent=2))
    print("command:", shlex.join(["python", "-m", "vidmatte.train.ship", *sys.argv[1:]]))


if __name__ == "__main__":
    app()
