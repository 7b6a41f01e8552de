"""Training: two steps on one fixed batch lower the loss; resuming continues from the checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from vidmatte.matte import HeadConfig, MattingHead, load_head, save_head
from vidmatte.train.dataset import clip_folders, read_clip
from vidmatte.train.trainer import (
    LOSS_COLOURS,
    PairSampler,
    TrainConfig,
    plot_losses,
    train,
    train_step,
)

TINY = TrainConfig(steps=2, batch_size=2, crop=32, lr=1e-3, checkpoint_every=1)
TINY_HEAD = HeadConfig(base_channels=8, working_size=96)


def test_two_steps_lower_the_loss(tiny_dataset) -> None:
    torch.manual_seed(0)
    clips = [read_clip(f) for f in clip_folders(tiny_dataset)]
    batch = PairSampler(clips, TINY, np.random.default_rng(0)).sample()
    head = MattingHead(TINY_HEAD).train()
    opt = torch.optim.Adam(head.parameters(), lr=TINY.lr)
    losses = []
    for _ in range(3):  # two updates, then measure
        loss = train_step(head, batch, TINY)["loss"]
        losses.append(float(loss.detach()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert losses[2] < losses[0]


def test_train_stops_on_time_and_resumes(tiny_dataset, tmp_path) -> None:
    weights = train(tiny_dataset, tmp_path, TINY, TINY_HEAD, threads=1, time_limit_s=0)
    assert weights.is_file() and (tmp_path / "loss.png").is_file()
    head, card = load_head(weights)
    assert card["training"]["steps_done"] == 1 and head.config == TINY_HEAD
    assert card["training"]["device"].startswith("cpu (") and card["training"]["minutes"] >= 0
    train(tiny_dataset, tmp_path, TINY, TINY_HEAD, threads=1)  # picks up the checkpoint
    assert load_head(weights)[1]["training"]["steps_done"] == 2


def test_a_finished_run_is_left_as_it_is_and_fewer_steps_are_refused(tiny_dataset, tmp_path):
    """Run again after it finished, with another --lr, `train` rewrote the weights unchanged and
    recorded the new rate in the card as if it had trained with it; with --steps below the
    checkpoint's it did the same, the card saying steps 1 beside steps_done 2."""
    weights = train(tiny_dataset, tmp_path, TINY, TINY_HEAD, threads=1)
    written, card = weights.read_bytes(), weights.with_suffix(".json").read_text()
    again = TrainConfig(**{**TINY.__dict__, "lr": 5e-2})
    assert train(tiny_dataset, tmp_path, again, TINY_HEAD, threads=1) == weights
    assert weights.read_bytes() == written and weights.with_suffix(".json").read_text() == card
    fewer = TrainConfig(**{**TINY.__dict__, "steps": 1})
    with pytest.raises(ValueError) as refused:
        train(tiny_dataset, tmp_path, fewer, TINY_HEAD, threads=1)
    assert str(refused.value) == (
        f"{tmp_path / 'checkpoint.pt'} has trained 2 steps, past --steps 1: give --steps 2 or "
        "more to go on from it, or delete it to train afresh"
    )
    assert weights.read_bytes() == written
    more = TrainConfig(**{**TINY.__dict__, "steps": 3})
    train(tiny_dataset, tmp_path, more, TINY_HEAD, threads=1)
    assert load_head(weights)[1]["training"]["steps_done"] == 3


def test_a_checkpoint_it_cannot_go_on_from_is_named_with_the_fix(tiny_dataset, tmp_path) -> None:
    """A run of other head options (--sam-features, channels) in the same --out failed deep in
    load_state_dict with thousands of characters of keys; a damaged one with the unpickler's."""
    train(tiny_dataset, tmp_path, TINY, TINY_HEAD, threads=1, time_limit_s=0)
    checkpoint = tmp_path / "checkpoint.pt"
    wider = HeadConfig(base_channels=12, working_size=96)
    with pytest.raises(ValueError) as other:
        train(tiny_dataset, tmp_path, TINY, wider, threads=1)
    assert str(other.value).startswith(f"{checkpoint} trains another head (base_channels 8 there")
    assert f"delete {checkpoint} to start afresh" in str(other.value)
    for damaged in (b"", b"\x80\x04not a checkpoint"):
        checkpoint.write_bytes(damaged)
        with pytest.raises(ValueError, match=r"checkpoint\.pt is damaged \(\w+\): delete"):
            train(tiny_dataset, tmp_path, TINY, TINY_HEAD, threads=1)


def test_train_with_sampling_workers(tiny_dataset, tmp_path) -> None:
    """Worker processes feed the same loop: the run finishes its steps and writes its weights."""
    config = TrainConfig(steps=3, batch_size=2, crop=32, lr=1e-3, workers=2)
    weights = train(tiny_dataset, tmp_path, config, TINY_HEAD, threads=1)
    card = load_head(weights)[1]
    assert card["training"]["steps_done"] == 3 and card["training"]["workers"] == 2
    assert len(json.loads((tmp_path / "history.json").read_text())) == 3


def test_fine_tune_starts_from_given_weights(tiny_dataset, tmp_path) -> None:
    """`init` loads the weights (and their architecture) before the first step: with a zero
    learning rate the convolutions come out exactly as they went in; the card names the start
    and keeps how it was made."""
    start = MattingHead(TINY_HEAD)
    with torch.no_grad():
        for p in start.parameters():
            p.normal_()
    made = {"training": {"device": "cuda (H100)", "minutes": 5.8}, "reproduce": "ship all"}
    save_head(tmp_path / "start.safetensors", start, {**made, "validation": {"MAD": 1}})
    config = TrainConfig(steps=1, batch_size=2, crop=32, lr=0.0)
    weights = train(
        tiny_dataset, tmp_path / "run", config, threads=1, init=tmp_path / "start.safetensors"
    )
    head, card = load_head(weights)
    assert head.config == TINY_HEAD and card["training"]["init"].endswith("start.safetensors")
    assert card["training"]["init_card"] == made  # how the start was made, not its scores
    for (name, got), want in zip(head.named_parameters(), start.parameters(), strict=True):
        assert torch.equal(got, want), name


def test_loss_plot_draws_every_term_falling_on_a_log_scale(tmp_path) -> None:
    history = [
        {"step": s, "loss": 2.0 / s, "l1": 1.0 / s, "grad": 0.5, "temporal": 0.0}
        for s in range(1, 201)
    ]
    plot_losses(history, tmp_path / "loss.png")
    pixels = np.asarray(Image.open(tmp_path / "loss.png").convert("RGB")).astype(int)
    assert pixels.shape == (400, 700, 3)

    def drawn(key: str) -> tuple[np.ndarray, np.ndarray]:
        return np.nonzero(np.abs(pixels - LOSS_COLOURS[key]).sum(-1) < 10)

    for key in ("loss", "l1", "grad"):
        assert len(drawn(key)[0]) > 300, key  # a curve, not only the legend
    assert 0 < len(drawn("temporal")[0]) < 100  # all zeros: its legend only
    rows, cols = drawn("loss")
    early, late = rows[cols < 150], rows[(cols > 450) & (cols < 600)]  # left of the legend
    assert early.mean() < late.mean() - 100  # the falling total is drawn falling
