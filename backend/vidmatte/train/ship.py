"""Reproduce the shipped head: build the split's clips, train, validate, write models/.

    python -m vidmatte.train.ship all --work /tmp/vidmatte-ship --device cuda --minutes 5.82

(without --device cuda: 30 minutes on one CPU thread).

Stages (`build`, `train`, `eval`, `all`) can run separately; each reuses the previous one's
output under --work. Training data: the 18 alphamatting training images over 8 of the shared
background photos plus the Apache-2.0 sample videos; validation: the 5 held-out images over the
3 held-out photos (see splits.py).

A fine-tune of the shipped head with the opt-in data (glass-like and furry objects, defocus
and shake, H.264) and a hold-out to judge it by, never the validation clips:

    python -m vidmatte.train.ship build --work W --transparent 8 --object-blur 0.3 --holdout
    python -m vidmatte.train.ship train --work W --init models/matting_head.safetensors
    python -m vidmatte.train.ship judge --work W

A CPU fine-tune learns the new content but drifts on what the shipped head knew; `blend` puts
its weights part-way back (`--share`: the fine-tune's part), written as W/blend, which `judge`
and `eval` then take with `--weights W/blend/matting_head.safetensors`:

    python -m vidmatte.train.ship blend --work W --init models/matting_head.safetensors --share 0.4

`--holdout` keeps splits.HOLDOUT_IMAGES out of training and builds them as `W/holdout` (and
through H.264 as `W/holdout_h264`), with new glass and furry objects as `W/holdout_glass` and
`W/holdout_fur`; `judge` puts the new head beside the shipped one on those (W/judge.md).
They are seeded, but take the build's `--object-blur`: judge heads from builds that differ
there on one build's hold-out sets (`judge --work` it `--weights` one `--against` the other),
or the figures do not compare.
bench/gpu_train.sh runs build, train and judge on a GPU in one go.

`build` also writes `W/tune`, the training images as clips that inference settings are chosen
on (`vidmatte eval W/tune --methods head`), so no setting is ever picked on `W/val`, and
`W/tune_h264`, the same clips through H.264 (`--codec` adds such clips to training).
"""

from __future__ import annotations

import copy
import json
import shlex
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import torch
import typer

from vidmatte.matte.head import HeadConfig, MattingHead
from vidmatte.matte.infer import Matter
from vidmatte.matte.weights import default_head_path, load_head, save_head

from . import splits
from .dataset import build_dataset, compressed_copy
from .evaluate import BEAT_ON, MAD_RATIO_GOAL, check, evaluate, markdown_table, per_clip_markdown
from .trainer import TrainConfig, train

TRAIN_VIDEOS = ("cups", "blocks", "coffee", "bedroom", "juggle", "dog")  # Apache-2.0 SAM2 media
TRAIN_CONFIG = TrainConfig(steps=3000, batch_size=4, crop=192, lr=2e-3, seed=0)
TIME_LIMIT_S = 30 * 60
WORK = "/tmp/vidmatte-ship"
BLENDED = "blend/matting_head.safetensors"  # where `blend` writes, under --work
REPRODUCE = f"python -m vidmatte.train.ship all --work {WORK}"
# On a GPU the same wall clock buys far more samples: bigger batches, more steps.
GPU_TRAIN_CONFIG = TrainConfig(steps=40000, batch_size=16, crop=192, lr=2e-3, seed=0, workers=12)
# Fine-tuning starts from a trained head: a quarter of the peak learning rate, so the first
# steps on new data do not undo what it learned.
FINE_TUNE_LR_SCALE = 0.25
HOLDOUT_GLASS = 6  # glass objects in the hold-out (new ones: another seed)
HOLDOUT_FUR = 6  # furry objects in the hold-out (likewise)
# `W/tune_h264`: the tuning clips through H.264 at libx264's default quality, the way most
# footage arrives, so settings are also judged on codec noise and 4:2:0 chroma.
TUNE_CRF = 23


def build(
    work: Path,
    data: Path,
    transparent: int = 0,
    object_blur: float = 0.0,
    holdout: bool = False,
    codec: float = 0.0,
    validation: bool = True,
    strands: int = 0,
) -> None:
    videos = [data / "videos" / f"{n}.mp4" for n in TRAIN_VIDEOS]
    cache = work / "foreground_cache"
    train_bgs = splits.backgrounds(False, data) + videos
    kept = set(splits.HOLDOUT_IMAGES) if holdout else set()
    build_dataset(
        work / "train",
        image_sets=[data / "alphamatting"],
        backgrounds=train_bgs,
        names=[n for n in splits.TRAIN_IMAGES if n not in kept],
        clips_per_foreground=10,
        frames=8,
        seed=1,
        foreground_cache=cache,
        transparent=transparent,
        strands=strands,
        object_blur_p=object_blur,
        codec_p=codec,
    )
    if holdout:
        build_dataset(
            work / "holdout",
            image_sets=[data / "alphamatting"],
            backgrounds=train_bgs,
            names=splits.HOLDOUT_IMAGES,
            clips_per_foreground=2,
            frames=8,
            seed=2,
            foreground_cache=cache,
            object_blur_p=object_blur,
        )
        build_dataset(
            work / "holdout_glass",
            backgrounds=train_bgs,
            clips_per_foreground=1,
            frames=8,
            seed=3,
            transparent=HOLDOUT_GLASS,
            object_blur_p=object_blur,
        )
        build_dataset(
            work / "holdout_fur",
            backgrounds=train_bgs,
            clips_per_foreground=1,
            frames=8,
            seed=4,  # not the glass clips' backgrounds and motion again
            strands=HOLDOUT_FUR,
            object_blur_p=object_blur,
        )
        shutil.rmtree(work / "holdout_h264", ignore_errors=True)
        compressed_copy(work / "holdout", work / "holdout_h264", TUNE_CRF)
    build_tuning(work / "tune", data, cache)
    shutil.rmtree(work / "tune_h264", ignore_errors=True)  # a rebuild replaces it
    compressed_copy(work / "tune", work / "tune_h264", TUNE_CRF)
    if validation:
        build_validation(work / "val", data, cache)


def build_tuning(out: Path, data: Path, cache: Path | None = None) -> None:
    """The clips inference settings are chosen on (refine.BestSettings): the training images,
    one moving clip each, over the training backgrounds, never the validation ones. The head
    has seen these objects, so its unsure band here is narrower than on new content."""
    _image_clips(
        out, data, cache, splits.TRAIN_IMAGES, validation=False, clips=1, frames=8, seed=777
    )


def build_validation(out: Path, data: Path, cache: Path | None = None) -> None:
    """The validation clips: the held-out images over the held-out backgrounds (also what
    bench/export_colour.py measures on)."""
    _image_clips(
        out, data, cache, splits.VAL_IMAGES, validation=True, clips=2, frames=10, seed=12345
    )


def _image_clips(
    out: Path,
    data: Path,
    cache: Path | None,
    names: tuple[str, ...],
    validation: bool,
    clips: int,
    frames: int,
    seed: int,
) -> None:
    """`clips` moving clips of each alphamatting image in `names` over the validation or the
    training backgrounds."""
    build_dataset(
        out,
        image_sets=[data / "alphamatting"],
        backgrounds=splits.backgrounds(validation, data),
        names=names,
        clips_per_foreground=clips,
        frames=frames,
        seed=seed,
        foreground_cache=cache,
    )


def planned_config(device: str) -> TrainConfig:
    """The device's own training plan: `GPU_TRAIN_CONFIG` on CUDA, `TRAIN_CONFIG` otherwise."""
    return GPU_TRAIN_CONFIG if device.startswith("cuda") else TRAIN_CONFIG


def run_training(
    work: Path, device: str, minutes: float, init: Path | None = None, steps: int | None = None
) -> Path:
    on_gpu = device.startswith("cuda")
    config = planned_config(device)
    if steps is not None:
        config = replace(config, steps=steps)
    if init is not None:
        config = replace(config, lr=config.lr * FINE_TUNE_LR_SCALE)
    return train(
        work / "train",
        work / "run",
        config,
        None if init is not None else HeadConfig(),
        device=device,
        threads=None if on_gpu else 1,
        time_limit_s=minutes * 60,
        init=init,
    )


def blended(start: MattingHead, tuned: MattingHead, share: float) -> MattingHead:
    """Weight-space ensembling of a fine-tune with the head it started from (WiSE-FT: Wortsman
    et al., CVPR 2022): every weight and running statistic (1 - share) x start + share x tuned.
    Both lie near each other in weight space, and the heads between are often good heads too:
    part of the way can keep most of what the fine-tune learned and of what the start knew
    (`ship judge` tells; docs/MATTING.md, "The fur blend")."""
    if start.config != tuned.config:
        raise ValueError(
            f"blend needs heads of the same architecture: {start.config} against {tuned.config}"
        )
    a, b = start.state_dict(), tuned.state_dict()
    out = copy.deepcopy(tuned)
    out.load_state_dict(
        {k: torch.lerp(a[k], v, share) if v.is_floating_point() else v for k, v in b.items()}
    )
    return out


def run_blend(work: Path, weights: Path, start: Path, share: float) -> Path:
    """The fine-tune in `weights` blended with `start` into W/blend, its card with the blend."""
    tuned, card = load_head(weights)
    out = work / BLENDED
    out.parent.mkdir(parents=True, exist_ok=True)
    card.setdefault("training", {})["blend"] = {
        "share": share,
        "start": str(start),
        "how": "(1 - share) x start + share x fine-tune, every weight (WiSE-FT)",
        "chosen_by": "`ship judge` of each share: the lowest mean of the hold-out sets' MAD "
        "ratios against the start (training images and procedural objects; never W/val)",
    }
    save_head(out, blended(load_head(start)[0], tuned, share), card)
    return out


# Every method the README and the card report; head_plate is the default (best edges with the
# background plate), checked against the goals.
VALIDATION_METHODS = (
    "raw",
    "guided",
    "closed_form",
    "head",
    "head_fast",
    "head_plate",
    "head_noprev",
)
CHECKS = {"check": "head_plate"}


def run_eval(work: Path, weights: Path, ship_to: Path | None) -> dict:
    """Validate `weights`; with `ship_to`, copy them there with the tables in the card."""
    result = evaluate(work / "val", weights, work / "eval", VALIDATION_METHODS, threads=1)
    if ship_to is not None:
        head, card = load_head(weights)
        card["validation"] = {
            "split": {"images": splits.VAL_IMAGES, "backgrounds": splits.VAL_BACKGROUNDS},
            "table": result.summary,
            "markdown": markdown_table(result.summary),
            "per_clip": result.rows,
            "per_clip_markdown": per_clip_markdown(result.rows),
            **{key: _check_card(result.rows, method) for key, method in CHECKS.items()},
        }
        trained = card["training"]
        card["reproduce"] = reproduce(card)
        trained["schedule"] = (
            "cosine learning rate over a wall-clock budget: the steps done depend on the machine"
        )
        matter = Matter(head)
        card["inference"] = {
            "matter": "vidmatte.matte.infer.Matter",
            "guided_filter_radius": matter.gf_radius,
            "guided_filter_eps": matter.gf_eps,
            "edges": matter.edges,
            "head": "prev_alpha = previous frame's output (as the jobs pipeline does), "
            "without the background plate (VIDMATTE_PLATE=off)",
            "head_fast": "the same with edges = fast (guided filter only)",
            "head_plate": "the same with the background plate from other frames, at most 8 "
            "views, the farthest in time (the default)",
            "head_noprev": "prev_alpha = None",
        }
        save_head(ship_to, head, card)
    return result.summary


# The sets `build --holdout` writes, on which a new head is judged against the shipped one:
# training images it never saw (clean and as footage arrives), glass and furry objects.
JUDGE_SETS = ("holdout", "holdout_h264", "holdout_glass", "holdout_fur")


def run_judge(work: Path, weights: Path, against: Path) -> str:
    """Markdown tables, one per hold-out set: the raw mask, the head in `against` and the head in
    `weights`, each with the default edges. Also written to W/judge.md."""
    sets = [name for name in JUDGE_SETS if (work / name).is_dir()]
    if not sets:
        raise FileNotFoundError(f"no hold-out sets in {work}: build with --holdout first")
    parts = [f"`{weights}` (new) against `{against}` (before), default edges"]
    for head in (against, weights):
        seen = sorted(trained_on(load_head(head)[1]) & set(splits.HOLDOUT_IMAGES))
        if seen:
            parts.append(
                f"**Not a fair comparison on the hold-out images:** `{head}` was trained on "
                f"{', '.join(seen)}; only holdout_glass and holdout_fur are new to both heads."
            )
    ratios: list[float] = []
    for name in sets:
        rows: dict[str, dict[str, float]] = {}
        for label, head, methods in (
            ("before", against, ["raw", "head"]),
            ("new", weights, ["head"]),
        ):
            result = evaluate(work / name, head, work / "eval" / f"{name}-{label}", methods)
            rows |= {m if m == "raw" else f"head ({label})": v for m, v in result.summary.items()}
        parts.append(f"### {name}\n\n{markdown_table(rows)}")
        ratios.append(rows["head (new)"]["MAD"] / rows["head (before)"]["MAD"])
    # One figure to choose by (a blend's share, say): each set counts alike, whatever its scale.
    parts.append(
        f"**Mean of the {len(sets)} sets' MAD ratios (new / before): "
        f"{sum(ratios) / len(ratios):.3f}**"
    )
    text = "\n\n".join(parts) + "\n"
    (work / "judge.md").write_text(text)
    return text


def trained_on(card: dict) -> set[str]:
    """The foreground images a head's `card` says it was trained on, those of the head a
    fine-tune started from (`training.init_card`) included."""
    names = set(card.get("training_data", {}).get("foregrounds", []))
    init = card.get("training", {}).get("init_card")
    return names | trained_on(init) if init else names


def reproduce(card: dict) -> str:
    """The commands that make these weights again. The shipped recipe (no data options, every
    training image): one `all`. Otherwise `build` with the data options the card records,
    `train` (a fine-tune from the head it started from, whose own making is
    `training.init_card.reproduce`), `blend` for a blended fine-tune, `eval`. `train` names
    `--steps` where the card's differ from the device's plan (`planned_config`)."""
    trained, data = card["training"], card.get("training_data", {})
    device = trained["device"].split()[0]
    run = f"--device {device} --minutes {trained['minutes']}"
    # Training stops at the plan's steps or the minutes, whichever comes first.
    planned = planned_config(device).steps
    if trained.get("steps", planned) != planned:
        run += f" --steps {trained['steps']}"
    clip = data.get("clip", {})
    options = {
        "--transparent": data.get("transparent", 0),
        "--strands": data.get("strands", 0),
        "--object-blur": clip.get("lens_blur_p", 0.0),
        "--codec": clip.get("codec_p", 0.0),
    }
    flags = [f"{flag} {value}" for flag, value in options.items() if value]
    if set(splits.HOLDOUT_IMAGES).isdisjoint(data.get("foregrounds", splits.HOLDOUT_IMAGES)):
        flags.append("--holdout")
    if not trained.get("init") and not flags:
        return f"{REPRODUCE} {run}"
    stage = REPRODUCE.replace(" all ", " {} ")
    init = " --init models/matting_head.safetensors" if trained.get("init") else ""
    steps = [" ".join([stage.format("build"), *flags]), f"{stage.format('train')}{init} {run}"]
    validate = stage.format("eval")
    if blend := trained.get("blend"):
        steps.append(f"{stage.format('blend')}{init} --share {blend['share']}")
        validate += f" --weights {WORK}/{BLENDED}"
    return " && ".join([*steps, validate])


def _check_card(rows: list[dict], method: str) -> dict:
    verdict = check(rows, method)
    return {
        "goal": f"{method} beats closed_form on {', '.join(BEAT_ON)} on every clip; "
        f"mean MAD <= {MAD_RATIO_GOAL} x raw",
        "passed": verdict.passed,
        "losses": verdict.losses,
        "mad_ratio": verdict.mad_ratio,
    }


app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
def main(
    stage: str = typer.Argument("all", help="build, train, blend, eval, all, or judge"),
    work: Path = typer.Option(Path(WORK), help="Working folder for every stage."),
    data: Path = typer.Option(None, help="Shared data folder (default: ../shared/data)."),
    device: str = typer.Option("cpu", help="cpu (1 thread) or cuda (the shipped head)."),
    minutes: float = typer.Option(TIME_LIMIT_S / 60, help="Training wall-clock budget."),
    steps: int = typer.Option(
        None,
        min=1,
        help=f"`train`: steps to plan for (default {TRAIN_CONFIG.steps} on the CPU, "
        f"{GPU_TRAIN_CONFIG.steps} on CUDA); training ends there or at --minutes, whichever "
        "comes first.",
    ),
    ship: bool = typer.Option(True, "--ship/--no-ship", help="Write the weights to models/."),
    weights: Path = typer.Option(
        None,
        help="Head to validate in `eval` or `judge` (default: the one `train` wrote under --work).",
    ),
    against: Path = typer.Option(
        None, help="`judge`: the head to beat (default: the shipped one)."
    ),
    transparent: int = typer.Option(0, min=0, help="`build`: glass-like objects to add."),
    strands: int = typer.Option(0, min=0, help="`build`: furry objects (hair, strands) to add."),
    object_blur: float = typer.Option(
        0.0, min=0.0, max=1.0, help="`build`: chance a clip's object is defocused / shaken."
    ),
    holdout: bool = typer.Option(
        False, help="`build`: keep splits.HOLDOUT_IMAGES out of training, as W/holdout."
    ),
    codec: float = typer.Option(
        0.0, min=0.0, max=1.0, help="`build`: chance a training clip goes through H.264."
    ),
    init: Path = typer.Option(
        None, help="`train`: fine-tune from these weights; `blend`: the head it started from."
    ),
    share: float = typer.Option(
        None, min=0.0, max=1.0, help="`blend`: the fine-tune's part (0: the start, 1: itself)."
    ),
    validation: bool = typer.Option(
        True,
        "--validation/--no-validation",
        help="`build`: also W/val (a GPU kit carries no validation images, so builds none).",
    ),
) -> None:
    if stage not in ("build", "train", "blend", "eval", "all", "judge"):
        raise typer.BadParameter(f"stage is build, train, blend, eval, all or judge, not '{stage}'")
    if stage == "blend" and (init is None or share is None):
        raise typer.BadParameter("`blend` needs --init (the fine-tune's start) and --share")
    if stage == "all" and not validation:
        raise typer.BadParameter("`all` ends by validating on W/val: drop --no-validation")
    weights = weights or work / "run" / "matting_head.safetensors"
    if stage in ("build", "all"):
        build(
            work,
            data or splits.shared_data(),
            transparent,
            object_blur,
            holdout,
            codec,
            validation,
            strands,
        )
    if stage in ("train", "all"):
        weights = run_training(work, device, minutes, init, steps)
    if stage == "blend":
        weights = run_blend(work, weights, init, share)
    if stage in ("eval", "all"):
        results = run_eval(work, weights, default_head_path() if ship else None)
        print(json.dumps(results, indent=2))
    if stage == "judge":
        print(run_judge(work, weights, against or default_head_path()))
    print("command:", shlex.join(["python", "-m", "vidmatte.train.ship", *sys.argv[1:]]))


if __name__ == "__main__":
    app()
