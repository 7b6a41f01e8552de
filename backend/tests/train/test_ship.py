"""The ship script's `eval` stage: the card it writes carries every method the README reports,
with the check of both defaults (without the plate, the CPU's; with it, CUDA's). Its `judge`
stage puts a new head beside the shipped one on the hold-out sets; its `blend` stage puts a
fine-tune part-way back towards the head it started from."""

from __future__ import annotations

import json

import pytest
import torch
import typer

from vidmatte.matte import HeadConfig, random_head, save_head
from vidmatte.matte.weights import card_path, load_head
from vidmatte.train.ship import app, blended, reproduce, run_blend, run_eval, run_judge


def test_eval_stage_cards_the_default_with_its_check(tiny_dataset, tmp_path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "val").symlink_to(tiny_dataset, target_is_directory=True)
    weights = tmp_path / "trained.safetensors"
    head = random_head(config=HeadConfig(base_channels=8, working_size=96))
    save_head(weights, head, {"training": {"device": "cpu", "minutes": 0.1}})
    shipped = tmp_path / "models" / "matting_head.safetensors"

    summary = run_eval(work, weights, shipped)

    card = json.loads(card_path(shipped).read_text())["validation"]
    methods = [
        "raw", "guided", "closed_form", "head", "head_fast", "head_plate", "head_noprev"
    ]  # fmt: skip
    assert list(summary) == list(card["table"]) == methods
    assert {r["method"] for r in card["per_clip"]} == set(methods)
    check = card["check"]
    assert check["goal"].startswith("head_plate beats closed_form")
    assert check["mad_ratio"] == summary["head_plate"]["MAD"] / summary["raw"]["MAD"]
    assert isinstance(check["passed"], bool) and isinstance(check["losses"], list)
    # The default has the plate.
    assert check["mad_ratio"] != summary["head"]["MAD"] / summary["raw"]["MAD"]
    assert set(json.loads(card_path(shipped).read_text())["inference"]) >= {
        "head",
        "head_plate",
        "head_fast",
        "head_noprev",
    }


def test_reproduce_names_a_fine_tunes_data_options_and_start() -> None:
    scratch = {"training": {"device": "cuda (NVIDIA H100)", "minutes": 5.82, "init": None}}
    assert reproduce(scratch) == (
        "python -m vidmatte.train.ship all --work /tmp/vidmatte-ship --device cuda --minutes 5.82"
    )
    tuned = {
        "training": {"device": "cpu", "minutes": 75.0, "init": "/tmp/x/start.safetensors"},
        "training_data": {
            "foregrounds": ["GT01", "GT02"],  # the hold-out images left out
            "transparent": 0,
            "clip": {"lens_blur_p": 0.0, "codec_p": 0.5},
        },
    }
    build, train, evaluate = reproduce(tuned).split(" && ")
    ship = "python -m vidmatte.train.ship"
    assert build == f"{ship} build --work /tmp/vidmatte-ship --codec 0.5 --holdout"
    assert train == (
        f"{ship} train --work /tmp/vidmatte-ship --init models/matting_head.safetensors"
        " --device cpu --minutes 75.0"
    )
    assert evaluate == f"{ship} eval --work /tmp/vidmatte-ship"


def test_reproduce_names_the_data_options_of_a_head_trained_from_scratch() -> None:
    """bench/gpu_train.sh trains from scratch on the footage options with the hold-out images
    left out: a bare `all` would make a different head."""
    card = {
        "training": {"device": "cuda (NVIDIA H200)", "minutes": 4.2, "init": None},
        "training_data": {
            "foregrounds": ["GT01", "GT02"],
            "transparent": 8,
            "strands": 6,
            "clip": {"lens_blur_p": 0.3, "codec_p": 0.5},
        },
    }
    ship = "python -m vidmatte.train.ship"
    assert reproduce(card).split(" && ") == [
        f"{ship} build --work /tmp/vidmatte-ship --transparent 8 --strands 6 --object-blur 0.3"
        " --codec 0.5 --holdout",
        f"{ship} train --work /tmp/vidmatte-ship --device cuda --minutes 4.2",
        f"{ship} eval --work /tmp/vidmatte-ship",
    ]


def test_judge_puts_the_new_head_beside_the_one_it_must_beat(tiny_dataset, tmp_path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for name in (
        "holdout",
        "holdout_glass",
        "holdout_fur",
    ):  # no holdout_h264: judged on what exists
        (work / name).symlink_to(tiny_dataset, target_is_directory=True)
    heads = {}
    for seed in (0, 1):
        heads[seed] = tmp_path / f"head{seed}.safetensors"
        torch_head = random_head(config=HeadConfig(base_channels=8, working_size=96), seed=seed)
        save_head(heads[seed], torch_head, {})

    text = run_judge(work, heads[1], heads[0])

    assert text == (work / "judge.md").read_text()
    assert [line for line in text.splitlines() if line.startswith("###")] == [
        "### holdout",
        "### holdout_glass",
        "### holdout_fur",
    ]
    table = text.split("### holdout_glass")[0]
    mad = {
        cells[0]: float(cells[1])
        for line in table.splitlines()
        if (cells := [c.strip() for c in line.strip("|").split("|")])[0]
        in ("raw", "head (before)", "head (new)")
    }
    assert set(mad) == {"raw", "head (before)", "head (new)"}
    assert mad["head (before)"] != mad["head (new)"]  # two different heads, each measured
    ratios = []
    for part in text.split("### ")[1:]:
        cells = {
            row[0]: float(row[1])
            for line in part.splitlines()
            if (row := [c.strip() for c in line.strip("|").split("|")])[0].startswith("head (")
        }
        ratios.append(cells["head (new)"] / cells["head (before)"])
    assert f"**Mean of the 3 sets' MAD ratios (new / before): {sum(ratios) / 3:.3f}**" in text
    with pytest.raises(FileNotFoundError, match="--holdout"):
        run_judge(tmp_path / "empty", heads[1], heads[0])


def test_judge_says_when_a_head_was_trained_on_the_hold_out_images(tiny_dataset, tmp_path) -> None:
    """The shipped head predates `--holdout`: it was trained on GT05, GT14 and GT20, so the
    judge's hold-out tables favour it. The judge says so, naming the images and the head, and
    that only the glass and fur sets are new to both; a fine-tune counts what its starting head
    saw."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "holdout").symlink_to(tiny_dataset, target_is_directory=True)
    config = HeadConfig(base_channels=8, working_size=96)
    shipped, fair, tuned = (tmp_path / f"{n}.safetensors" for n in ("shipped", "fair", "tuned"))
    shipped_card = {"training_data": {"foregrounds": ["GT01", "GT05", "GT14", "GT20"]}}
    save_head(shipped, random_head(config=config), shipped_card)
    fair_card = {"training_data": {"foregrounds": ["GT01"]}}
    save_head(fair, random_head(config=config, seed=1), fair_card)
    save_head(tuned, random_head(config=config, seed=2), {"training": {"init_card": shipped_card}})

    caveat = run_judge(work, fair, shipped).split("###")[0]
    assert f"`{shipped}` was trained on GT05, GT14, GT20" in caveat
    assert "holdout_glass and holdout_fur" in caveat and f"`{fair}` was" not in caveat
    assert f"`{tuned}` was trained on GT05, GT14, GT20" in run_judge(work, tuned, fair)
    assert "was trained on" not in run_judge(work, fair, fair)


def test_all_without_validation_clips_is_refused_before_any_work(tmp_path) -> None:
    with pytest.raises(typer.BadParameter, match="drop --no-validation"):
        app(["all", "--work", str(tmp_path / "w"), "--no-validation"], standalone_mode=False)
    assert not (tmp_path / "w").exists()


def test_reproduce_names_the_blend_of_a_fine_tune_with_its_start() -> None:
    card = {
        "training": {
            "device": "cpu (1 threads)",
            "minutes": 39.5,
            "init": "models/matting_head.safetensors",
            "blend": {"share": 0.4, "start": "models/matting_head.safetensors"},
        },
        "training_data": {"foregrounds": ["GT01"], "strands": 6, "clip": {"codec_p": 0.5}},
    }
    ship = "python -m vidmatte.train.ship"
    assert reproduce(card).split(" && ") == [
        f"{ship} build --work /tmp/vidmatte-ship --strands 6 --codec 0.5 --holdout",
        f"{ship} train --work /tmp/vidmatte-ship --init models/matting_head.safetensors"
        " --device cpu --minutes 39.5",
        f"{ship} blend --work /tmp/vidmatte-ship --init models/matting_head.safetensors"
        " --share 0.4",
        f"{ship} eval --work /tmp/vidmatte-ship"
        " --weights /tmp/vidmatte-ship/blend/matting_head.safetensors",
    ]


def test_blend_puts_every_weight_part_way_from_the_start_to_the_fine_tune(tmp_path) -> None:
    """WiSE-FT: share 0 is the start, 1 the fine-tune, 0.25 a quarter of the way, for every
    parameter and running statistic; the card is the fine-tune's, with the blend recorded."""
    config = HeadConfig(base_channels=8, working_size=96)
    start, tuned = random_head(config=config, seed=0), random_head(config=config, seed=1)
    for value in tuned.state_dict().values():  # every weight and running statistic differs
        if value.is_floating_point():
            value.add_(1.0 + torch.rand_like(value))
    a, b = start.state_dict(), tuned.state_dict()
    for share in (0.0, 1.0, 0.25):
        got = blended(start, tuned, share).state_dict()
        assert got.keys() == b.keys()
        for key, value in got.items():
            expected = a[key] + share * (b[key] - a[key]) if value.is_floating_point() else b[key]
            torch.testing.assert_close(value, expected, rtol=0, atol=1e-6, msg=key)

    work = tmp_path / "work"
    (work / "run").mkdir(parents=True)
    start_path, tuned_path = (
        tmp_path / "start.safetensors",
        work / "run" / "matting_head.safetensors",
    )
    save_head(start_path, start, {"training": {"device": "cuda"}})
    save_head(tuned_path, tuned, {"training": {"device": "cpu", "init": str(start_path)}})
    out = run_blend(work, tuned_path, start_path, 0.25)
    assert out == work / "blend" / "matting_head.safetensors"
    head, card = load_head(out)
    torch.testing.assert_close(head.state_dict(), blended(start, tuned, 0.25).state_dict())
    assert card["training"]["init"] == str(start_path)
    assert card["training"]["blend"]["share"] == 0.25
    assert card["training"]["blend"]["start"] == str(start_path)
    with pytest.raises(ValueError, match="same architecture"):
        blended(random_head(config=HeadConfig(base_channels=4, working_size=96)), tuned, 0.5)


def test_blend_needs_its_start_and_share_before_any_work(tmp_path) -> None:
    for args in (["--share", "0.4"], ["--init", str(tmp_path / "start.safetensors")]):
        with pytest.raises(typer.BadParameter, match=r"--init .* --share"):
            app(["blend", "--work", str(tmp_path / "w"), *args], standalone_mode=False)
    assert not (tmp_path / "w").exists()


def test_train_plans_the_steps_asked_for_and_reproduce_names_them(tiny_dataset, tmp_path) -> None:
    """The CPU plan stops at 3,000 steps whatever --minutes allows; --steps plans more (or
    fewer), the card records them and the command that makes the head again names them."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "train").symlink_to(tiny_dataset, target_is_directory=True)
    app(["train", "--work", str(work), "--steps", "3", "--minutes", "5"], standalone_mode=False)
    _, card = load_head(work / "run" / "matting_head.safetensors")
    assert card["training"]["steps"] == card["training"]["steps_done"] == 3
    assert " --steps 3 " in f"{reproduce(card)} "

    ship = "python -m vidmatte.train.ship"
    longer = {"training": {"device": "cpu (1 threads)", "minutes": 80.0, "steps": 6500}}
    assert (
        reproduce(longer)
        == f"{ship} all --work /tmp/vidmatte-ship --device cpu --minutes 80.0 --steps 6500"
    )
    planned = {"training": {"device": "cuda (NVIDIA H100)", "minutes": 5.82, "steps": 40000}}
    assert "--steps" not in reproduce(planned)  # the device's own plan goes without saying
