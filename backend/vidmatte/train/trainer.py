"""Training loop for the matting head.

Samples are pairs of consecutive (every-Nth) frames cropped at the same place, so the loss has
a temporal term. Crops are centred on the object's boundary most of the time: everywhere else
the mask is already right and the residual head has nothing to learn. Loss:
  L1 weighted 10x in the semi-transparent band (the prototype's recipe)
  + L1 on spatial gradients (sharp, correctly placed edges)
  + L1 on frame-to-frame change against the GT's change (less flicker; dtSSD's counterpart).
Checkpoints hold model, optimiser, elapsed time and RNG states, so a resumed run continues the
same sample stream.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d, spatial_gradient
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from vidmatte.matte.head import HeadConfig, MattingHead
from vidmatte.matte.weights import load_head, save_head

from .augment import PairAugment
from .dataset import SAM_FEATURES, Clip, DatasetError, clip_folders, clip_frames, read_clips


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000
    batch_size: int = 4  # pairs of frames
    crop: int = 256
    lr: float = 2e-3
    every_nth: int = 1  # use every Nth frame of each clip
    boundary_crop_p: float = 0.85
    prev_alpha_p: float = 0.5  # chance a sample gets a (perturbed) previous alpha
    band_weight: float = 10.0
    grad_weight: float = 1.0
    temporal_weight: float = 1.0
    seed: int = 0
    checkpoint_every: int = 100
    # Sampling processes. 0 samples in the training loop: reproducible, also across resumes.
    # A GPU outruns one sampling core many times over; workers trade that exactness for speed
    # (each worker and each resume draws its own stream, seeded from seed, step and worker).
    workers: int = 0


# ---------------------------------------------------------------- sampling


class PairSampler:
    """Draws (rgb, gt, logits, prev) crops of consecutive frame pairs from clips in memory."""

    def __init__(self, clips: list[Clip], cfg: TrainConfig, rng: np.random.Generator) -> None:
        self.clips = [c for c in clips if len(c) >= 2]
        if not self.clips:
            raise ValueError("training needs clips with at least 2 (sampled) frames")
        self.cfg = cfg
        self.rng = rng

    def _crop_box(self, pha: np.ndarray) -> tuple[int, int, int]:
        """(top, left, side) of a square crop, scale-jittered, usually centred on the boundary."""
        h, w = pha.shape
        side = int(min(h, w, self.cfg.crop / self.rng.uniform(0.7, 1.0)))
        band = np.argwhere((pha > 0.02) & (pha < 0.98))
        if len(band) and self.rng.random() < self.cfg.boundary_crop_p:
            cy, cx = band[self.rng.integers(len(band))]
        else:
            cy, cx = self.rng.integers(h), self.rng.integers(w)
        top = int(np.clip(cy - side // 2, 0, h - side))
        left = int(np.clip(cx - side // 2, 0, w - side))
        return top, left, side

    def sample(self) -> dict[str, torch.Tensor]:
        items = [self._one() for _ in range(self.cfg.batch_size)]
        return {k: torch.stack([it[k] for it in items]) for k in items[0]}

    def _one(self) -> dict[str, torch.Tensor]:
        clip = self.clips[self.rng.integers(len(self.clips))]
        t = int(self.rng.integers(len(clip) - 1))
        idx = [t, t + 1]
        if self.rng.random() < 0.5:  # play backwards half the time
            idx.reverse()
        top, left, side = self._crop_box(clip.pha[idx[0]])
        size = (self.cfg.crop, self.cfg.crop)
        full_hw = clip.pha.shape[1:]

        def crop(x: torch.Tensor) -> torch.Tensor:
            x = x[..., top : top + side, left : left + side]
            return F.interpolate(
                x, size=size, mode="bilinear", align_corners=False, antialias=side > size[0]
            )

        rgb = crop(torch.from_numpy(clip.rgb[idx]).permute(0, 3, 1, 2).float() / 255)
        gt = crop(torch.from_numpy(clip.pha[idx])[:, None])

        def crop_square(x: np.ndarray) -> torch.Tensor:
            """Crop a map in SAM2's square layout (logits, features): un-squash to the frame."""
            x = torch.from_numpy(x).float()
            return crop(F.interpolate(x, size=full_hw, mode="bilinear", align_corners=False))

        logits = crop_square(clip.logits[idx][:, None])
        prev = torch.sigmoid(logits)  # "no previous alpha" means the soft mask, as in the head
        if self.rng.random() < self.cfg.prev_alpha_p:
            prev = prev.clone()
            prev[1] = self._perturbed(gt[0])
        # SAM2's features ride along as extra channels so every warp moves them with the frame.
        feats = [
            crop_square(clip.features[key][idx]) for key in SAM_FEATURES if key in clip.features
        ]
        return {"rgb": rgb, "other": torch.cat([gt, logits, prev, *feats], dim=1)}

    def _perturbed(self, alpha: torch.Tensor) -> torch.Tensor:
        """A previous frame's alpha as the head would have produced it: shifted, a bit blurred."""
        dy, dx = (int(v) for v in self.rng.integers(-3, 4, 2))
        shifted = torch.roll(alpha, shifts=(dy, dx), dims=(-2, -1))
        sigma = float(self.rng.uniform(0.3, 1.5))
        return gaussian_blur2d(shifted[None], (7, 7), (sigma, sigma))[0].clamp(0, 1)


class _SampleStream(torch.utils.data.IterableDataset):
    """Endless batches from a PairSampler per worker process, each with its own seed."""

    def __init__(self, clips: list[Clip], cfg: TrainConfig, start_step: int) -> None:
        self.clips, self.cfg, self.start_step = clips, cfg, start_step

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        torch.set_num_threads(1)  # the workers are the parallelism
        worker = torch.utils.data.get_worker_info()
        seed = [self.cfg.seed, self.start_step, worker.id if worker else 0]
        sampler = PairSampler(self.clips, self.cfg, np.random.default_rng(seed))
        while True:
            yield sampler.sample()


def _batches(
    clips: list[Clip], cfg: TrainConfig, rng: np.random.Generator, step: int, pin: bool
) -> Iterator[dict[str, torch.Tensor]]:
    if cfg.workers == 0:
        sampler = PairSampler(clips, cfg, rng)
        return iter(sampler.sample, None)
    loader = torch.utils.data.DataLoader(
        _SampleStream(clips, cfg, step),
        batch_size=None,
        num_workers=cfg.workers,
        pin_memory=pin,
        prefetch_factor=4,
        persistent_workers=True,
    )
    return iter(loader)


# ---------------------------------------------------------------- loss


def matting_loss(pred: torch.Tensor, gt: torch.Tensor, cfg: TrainConfig) -> dict[str, torch.Tensor]:
    """pred, gt: (B,2,1,H,W) for frame pairs. Returns the terms and their weighted sum."""
    b = pred.shape[0]
    flat_p, flat_g = pred.flatten(0, 1), gt.flatten(0, 1)
    unsure = ((flat_g > 0.01) & (flat_g < 0.99)).float()
    band = F.max_pool2d(unsure, 7, stride=1, padding=3)
    weight = 1.0 + (cfg.band_weight - 1.0) * band
    l1 = (weight * (flat_p - flat_g).abs()).mean()
    grad = (spatial_gradient(flat_p) - spatial_gradient(flat_g)).abs().mean()
    dp = pred[:, 1] - pred[:, 0]
    dg = gt[:, 1] - gt[:, 0]
    temporal = (dp - dg).abs().mean() if b else torch.zeros(())
    total = l1 + cfg.grad_weight * grad + cfg.temporal_weight * temporal
    return {"loss": total, "l1": l1, "grad": grad, "temporal": temporal}


def train_step(
    head: MattingHead, batch: dict[str, torch.Tensor], cfg: TrainConfig
) -> dict[str, torch.Tensor]:
    rgb, other = batch["rgb"], batch["other"]
    b, _, _, h, w = rgb.shape
    flat = other.flatten(0, 1)
    feats = {}
    if head.config.use_sam_features:
        c0 = head.config.feat_s0_channels
        feats = {"feat_s0": flat[:, 3 : 3 + c0], "feat_s1": flat[:, 3 + c0 :]}
    pred = head(rgb.flatten(0, 1), flat[:, 1:2], flat[:, 2:3], **feats).reshape(b, 2, 1, h, w)
    gt = other[:, :, 0:1]
    return matting_loss(pred, gt, cfg)


# ---------------------------------------------------------------- checkpoints and plots


# What a fine-tune's card keeps of the card of the weights it started from.
INIT_CARD_KEYS = ("training", "training_data", "reproduce")


def learning_rate(progress: float, peak: float, warmup: float = 0.03) -> float:
    """Linear warm-up, then cosine decay to zero at progress 1."""
    if progress < warmup:
        return peak * (progress + 1e-3) / warmup
    return 0.5 * peak * (1 + np.cos(np.pi * min(1.0, (progress - warmup) / (1 - warmup))))


def _progress(
    step: int, elapsed_s: float, config: TrainConfig, time_limit_s: float | None
) -> float:
    """How far the run is, 0..1 and on: by steps, or by the wall-clock budget if further."""
    done = step / config.steps
    if time_limit_s is None:
        return done
    return max(done, elapsed_s / max(time_limit_s, 1e-9))


def _resumable(path: Path, head_config: HeadConfig, device: str) -> dict:
    """The state an earlier run left in `path`, when this run can go on from it; ValueError
    naming the file and the fix when it cannot (damaged, or a head of other options)."""
    fix = f"delete {path} to start afresh, or give --out another folder"
    try:
        state = torch.load(path, map_location=device, weights_only=False)
        saved = HeadConfig.from_dict(state["head_config"]).to_dict()
    except Exception as exc:  # torch's unpickler raises many kinds, EOFError for an empty file
        raise ValueError(f"{path} is damaged ({type(exc).__name__}): {fix}") from exc
    wanted = head_config.to_dict()
    differ = [f"{k} {saved[k]!r} there, {v!r} here" for k, v in wanted.items() if saved[k] != v]
    if differ:
        raise ValueError(
            f"{path} trains another head ({'; '.join(differ)}): give the options it was "
            f"started with (e.g. --sam-features), or {fix}"
        )
    return state


def _save_checkpoint(
    path: Path, head, opt, step: int, elapsed_s: float, rng: np.random.Generator, history: list
) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "head": head.state_dict(),
            "head_config": head.config.to_dict(),
            "opt": opt.state_dict(),
            "step": step,
            "elapsed_s": elapsed_s,
            "np_rng": rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "history": history,
        },
        tmp,
    )
    tmp.replace(path)


LOSS_COLOURS = {
    "loss": (31, 119, 180),
    "l1": (255, 127, 14),
    "grad": (44, 160, 44),
    "temporal": (214, 39, 40),
}


def plot_losses(history: list[dict], path: Path, size: tuple[int, int] = (700, 400)) -> None:
    """Loss curve PNG: the total and each term, smoothed over a 50th of the run, on a log scale
    (a term that is 0, such as the temporal one without pairs, has no curve). Drawn with Pillow,
    a runtime dependency, so training needs none of the notebooks' tools."""
    from PIL import Image, ImageDraw

    steps = np.array([h["step"] for h in history], float)
    curves = {}
    for key in LOSS_COLOURS:
        values = np.array([h[key] for h in history], float)
        k = max(1, len(values) // 50)
        smooth = np.convolve(values, np.ones(k) / k, mode="valid")
        drawn = smooth > 0
        curves[key] = (steps[k - 1 :][drawn], np.log10(smooth[drawn]))
    logs = np.concatenate([c[1] for c in curves.values()] + [np.zeros(1)])
    low, high = np.floor(logs.min()), max(np.ceil(logs.max()), np.floor(logs.min()) + 1)
    first, last = steps[0], max(steps[-1], steps[0] + 1)
    left, top, right, bottom = 60, 15, size[0] - 15, size[1] - 35
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)

    def xy(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
        u = left + (x - first) / (last - first) * (right - left)
        v = bottom - (y - low) / (high - low) * (bottom - top)
        return list(zip(u.tolist(), v.tolist(), strict=True))

    for decade in np.arange(low, high + 1):  # grid and labels at every power of ten
        (_, v), *_ = xy(np.array([first]), np.array([decade]))
        draw.line([(left, v), (right, v)], fill=(225, 225, 225))
        draw.text((5, v - 6), f"1e{int(decade)}", fill="black")
    draw.rectangle([left, top, right, bottom], outline="black")
    draw.text((left, bottom + 8), f"step {int(first)}", fill="black")
    draw.text((right - 70, bottom + 8), f"step {int(last)}", fill="black")
    for row, (key, (x, y)) in enumerate(curves.items()):
        colour = LOSS_COLOURS[key]
        if len(x):
            draw.line(xy(x, y) if len(x) > 1 else xy(x, y) * 2, fill=colour, width=2)
        draw.text((right - 80, top + 8 + 14 * row), key, fill=colour)
    image.save(path)


# ---------------------------------------------------------------- entry point


class Stopped(Exception):
    """`train` was asked to stop (Ctrl-C): the checkpoint holds the steps done, to go on from."""

    def __init__(self, checkpoint: Path, step: int, steps: int) -> None:
        super().__init__(
            f"interrupted at step {step} of {steps}; {checkpoint} holds it: run the same command "
            "again to go on"
            if step
            else "interrupted before the first step; nothing was saved"
        )


class Diverged(ValueError):
    """The loss or the weights stopped being finite numbers: the learning rate is too high."""


def _finite(head: MattingHead, loss: float) -> bool:
    """Whether the loss and every weight and statistic of the head are finite numbers (a
    diverged head's BatchNorm statistics can overflow while its loss still looks fine)."""
    state = head.state_dict().values()
    return math.isfinite(loss) and bool(torch.stack([t.isfinite().all() for t in state]).all())


def _check_features(clips: list[Clip], config: HeadConfig) -> None:
    """A head with `use_sam_features` needs every clip's SAM2 features, at its channel counts."""
    want = {"feat_s0": config.feat_s0_channels, "feat_s1": config.feat_s1_channels}
    for clip in clips:
        have = {key: clip.features[key].shape[1] for key in SAM_FEATURES if key in clip.features}
        if have != want:
            raise ValueError(
                f"clip {clip.name} has SAM2 features {have or 'none'}, the head wants {want}: "
                "build the dataset with --masks sam2 and the same SAM2 model"
            )


def _device_name(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return f"{device} ({torch.get_num_threads()} threads)"


def training_folders(dataset: Path, every_nth: int = 1) -> list[Path]:
    """The clips training samples pairs of frames from: those not rejected, with 2 frames or
    more every `every_nth`. DatasetError naming the dataset and the fix where there are none,
    found from file names, before any clip is read or anything written."""
    folders = clip_folders(dataset)
    if not folders:
        total = len(clip_folders(dataset, include_rejected=True))
        why = (
            f"all {total} of its clips are rejected: accept some with `vidmatte dataset review "
            "--decisions`, or build more"
        )
    else:
        frames = {folder: len(clip_frames(folder)) for folder in folders}
        folders = [f for f in folders if len(range(0, frames[f], every_nth)) >= 2]
        longest = max(frames.values())
        why = (
            "its clips hold under 2 frames each: build them with --frames 2 or more"
            if longest < 2
            else f"its clips of at most {longest} frames give 1 each at --every-nth {every_nth}: "
            "give a lower --every-nth"
        )
    if not folders:
        raise DatasetError(
            f"{dataset} has no clip to train on (training pairs consecutive frames): {why}"
        )
    return folders


def train(
    dataset: Path,
    out: Path,
    config: TrainConfig | None = None,
    head_config: HeadConfig | None = None,
    device: str = "cpu",
    threads: int | None = None,
    resume: bool = True,
    time_limit_s: float | None = None,
    init: Path | None = None,
    stop: Callable[[], bool] | None = None,
) -> Path:
    """Train a head on `dataset` (built by build_dataset); writes `<out>/checkpoint.pt`,
    `<out>/loss.png`, `<out>/history.json` and `<out>/matting_head.safetensors` (+ .json card).
    Resumes from the checkpoint when there is one. The learning rate follows a cosine over
    progress = max(step / steps, elapsed / time_limit_s), so a wall-clock budget still ends
    with a fully annealed model, however fast the machine. `init` fine-tunes from existing
    weights (their architecture unless `head_config` is given; a checkpoint still wins).
    When `stop()` comes true (Ctrl-C) the run saves its checkpoint after the step in hand and
    raises Stopped; a loss or weights that stop being finite raise Diverged, saving nothing
    (neither overwrites an earlier checkpoint or weights with worse). Returns the weights path."""
    config = config or TrainConfig()
    folders = training_folders(dataset, config.every_nth)
    start, start_card = load_head(init) if init is not None else (None, {})
    head_config = head_config or (start.config if start is not None else HeadConfig())
    if threads:
        torch.set_num_threads(threads)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    head = MattingHead(head_config)
    if start is not None:
        head.load_state_dict(start.state_dict())
    head = head.to(device)
    opt = torch.optim.AdamW(head.parameters(), lr=config.lr, weight_decay=1e-4)
    ckpt_path, weights = out / "checkpoint.pt", out / "matting_head.safetensors"
    step, history, elapsed_before = 0, [], 0.0
    if resume and ckpt_path.is_file():
        state = _resumable(ckpt_path, head_config, device)
        head.load_state_dict(state["head"])
        opt.load_state_dict(state["opt"])
        step, history, elapsed_before = state["step"], state["history"], state["elapsed_s"]
        rng.bit_generator.state = state["np_rng"]
        torch.set_rng_state(state["torch_rng"])
        if step > config.steps:  # the run asked for cannot be had from this checkpoint
            raise ValueError(
                f"{ckpt_path} has trained {step} steps, past --steps {config.steps}: give "
                f"--steps {step} or more to go on from it, or delete it to train afresh"
            )
        if _progress(step, elapsed_before, config, time_limit_s) >= 1.0 and weights.is_file():
            # Finished already: the weights and their card stay as that run wrote them (a
            # new --lr recorded there would not have applied to a single step).
            print(f"{ckpt_path}: already trained {step} steps, nothing left to train")
            return weights
    clips = read_clips(folders, config.every_nth)
    if head_config.use_sam_features:
        _check_features(clips, head_config)
    batches = _batches(clips, config, rng, step, pin=device.startswith("cuda"))
    saved, stopped = step, False  # the step the checkpoint on disk holds
    augment = PairAugment().to(device)
    head.train()
    started = time.monotonic()
    columns = (
        TextColumn("training"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} loss {task.fields[loss]:.4f}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns) as progress:
        task = progress.add_task("train", total=config.steps, completed=step, loss=float("nan"))
        while True:
            elapsed = elapsed_before + time.monotonic() - started
            progress_frac = _progress(step, elapsed, config, time_limit_s)
            if progress_frac >= 1.0 and step > 0:
                break
            if stop is not None and stop():
                stopped = True
                break
            for group in opt.param_groups:
                group["lr"] = learning_rate(progress_frac, config.lr)
            batch = next(batches)
            # Augment where the model runs: on a GPU the warps are free, on the CPU the same.
            rgb, other = augment(batch["rgb"].to(device), batch["other"].to(device))
            terms = train_step(head, {"rgb": rgb, "other": other}, config)
            opt.zero_grad(set_to_none=True)
            terms["loss"].backward()
            opt.step()
            step += 1
            history.append({"step": step, **{k: float(v.detach()) for k, v in terms.items()}})
            if not _finite(head, history[-1]["loss"]):
                kept = f"{ckpt_path} keeps step {saved}" if saved else "nothing was saved"
                raise Diverged(
                    f"training diverged at step {step}: the loss or the weights are no longer "
                    f"finite numbers; give a lower --lr than {config.lr:g} ({kept})"
                )
            progress.update(task, completed=step, loss=history[-1]["loss"])
            if step % config.checkpoint_every == 0:
                elapsed = elapsed_before + time.monotonic() - started
                _save_checkpoint(ckpt_path, head, opt, step, elapsed, rng, history)
                plot_losses(history, out / "loss.png")
                saved = step
        if step > saved:
            _save_checkpoint(ckpt_path, head, opt, step, elapsed, rng, history)
            plot_losses(history, out / "loss.png")
    if history:
        (out / "history.json").write_text(json.dumps(history) + "\n")
    if stopped:
        raise Stopped(ckpt_path, step, config.steps)
    head.eval()
    card = {
        "inputs": ["rgb", "mask_logits", "prev_alpha"],
        "working_resolution": head_config.working_size,
        "training": {
            "dataset": str(dataset),
            "steps_done": step,
            "device": _device_name(device),
            "minutes": round(elapsed / 60, 2),
            "init": str(init) if init is not None else None,
            # How the starting weights were made: the path above will not outlive the run.
            "init_card": {k: start_card[k] for k in INIT_CARD_KEYS if k in start_card},
            **asdict(config),
        },
        "training_data": json.loads((dataset / "dataset.json").read_text())
        if (dataset / "dataset.json").is_file()
        else {},
    }
    save_head(weights, head.cpu(), card)
    return weights
