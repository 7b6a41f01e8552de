"""SAM2 model registry: which config and checkpoint each size uses, downloading the official
checkpoints, and the one place that turns a name into a built predictor."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import torch
from sam2.build_sam import build_sam2_video_predictor

from vidmatte.segment.predictor import COMPILED_TARGET, PREDICTOR_TARGET, MattingVideoPredictor

BASE_URL = "https://dl.fbaipublicfiles.com/segment_anything_2/092824"  # SAM2's download_ckpts.sh


@dataclass(frozen=True)
class ModelSpec:
    name: str
    config: str  # inside the sam2 package's configs
    checkpoint: str | None  # file name under the checkpoint dir; None = random weights only
    # SHA-256 of the official file. Meta publishes none; `vidmatte weights download` records the
    # digest of the first verified download beside the file and checks it on every later load,
    # and `--sha256` pins a digest obtained elsewhere.
    sha256: str | None = None
    overrides: tuple[str, ...] = ()
    # The image encoder's width and block count in the official checkpoint: a download that is
    # another size, or no SAM2 checkpoint at all, is refused before it replaces a good one.
    trunk: tuple[int, int] | None = None

    @property
    def url(self) -> str | None:
        return f"{BASE_URL}/{self.checkpoint}" if self.checkpoint else None


# A SAM2.1-tiny shrunk to ~2 M parameters at 256²: every code path of the real model, on a CPU
# in milliseconds. Channel counts follow the rules in shared NOTES (memory encoder dims = d_model).
_TEST_TINY = (
    "++model.image_size=256",
    "++model.image_encoder.trunk.embed_dim=16",
    "++model.image_encoder.trunk.num_heads=1",
    "++model.image_encoder.trunk.stages=[1,2,3,1]",
    "++model.image_encoder.trunk.global_att_blocks=[4,5]",
    "++model.image_encoder.trunk.window_pos_embed_bkg_spatial_size=[4,4]",
    "++model.image_encoder.neck.backbone_channel_list=[128,64,32,16]",
    "++model.image_encoder.neck.d_model=64",
    "++model.image_encoder.neck.position_encoding.num_pos_feats=64",
    "++model.memory_attention.d_model=64",
    "++model.memory_attention.num_layers=1",
    "++model.memory_attention.layer.d_model=64",
    "++model.memory_attention.layer.dim_feedforward=128",
    "++model.memory_attention.layer.self_attention.embedding_dim=64",
    "++model.memory_attention.layer.self_attention.feat_sizes=[16,16]",
    "++model.memory_attention.layer.cross_attention.embedding_dim=64",
    "++model.memory_attention.layer.cross_attention.kv_in_dim=32",
    "++model.memory_attention.layer.cross_attention.feat_sizes=[16,16]",
    "++model.memory_encoder.out_dim=32",
    "++model.memory_encoder.position_encoding.num_pos_feats=32",
    "++model.memory_encoder.in_dim=64",
    "++model.memory_encoder.mask_downsampler.embed_dim=64",
    "++model.memory_encoder.fuser.layer.dim=64",
    "++model.num_maskmem=4",
    # Random weights would mostly call the object absent and blank every mask; a test model
    # that always sees its object gives masks with real values to check.
    "++model.pred_obj_scores=false",
    "++model.pred_obj_scores_mlp=false",
    "++model.fixed_no_obj_ptr=false",
)

MODELS: dict[str, ModelSpec] = {
    "tiny": ModelSpec(
        "tiny", "configs/sam2.1/sam2.1_hiera_t.yaml", "sam2.1_hiera_tiny.pt", trunk=(96, 12)
    ),
    "small": ModelSpec(
        "small", "configs/sam2.1/sam2.1_hiera_s.yaml", "sam2.1_hiera_small.pt", trunk=(96, 16)
    ),
    "base_plus": ModelSpec(
        "base_plus",
        "configs/sam2.1/sam2.1_hiera_b+.yaml",
        "sam2.1_hiera_base_plus.pt",
        trunk=(112, 24),
    ),
    "large": ModelSpec(
        "large", "configs/sam2.1/sam2.1_hiera_l.yaml", "sam2.1_hiera_large.pt", trunk=(144, 48)
    ),
    "test-tiny": ModelSpec(
        "test-tiny", "configs/sam2.1/sam2.1_hiera_t.yaml", None, overrides=_TEST_TINY
    ),
}


class CheckpointMissing(FileNotFoundError):
    pass


class ChecksumMismatch(ValueError):
    pass


class CheckpointDamaged(ValueError):
    """A checkpoint file that does not load as the model it is named for."""


class DownloadFailed(OSError):
    """The checkpoint's host could not be reached or refused the file."""


def spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ValueError(f"unknown SAM2 model '{name}'; choose one of {', '.join(MODELS)}")
    return MODELS[name]


def check_downloadable(name: str) -> None:
    """ValueError unless `name` is a model with an official checkpoint to download."""
    choices = ", ".join(n for n, model in MODELS.items() if model.checkpoint is not None)
    if name not in MODELS:
        raise ValueError(f"unknown SAM2 model '{name}'; choose one of {choices}")
    if MODELS[name].checkpoint is None:
        raise ValueError(
            f"'{name}' has no checkpoint: its weights are random; choose one of {choices}"
        )


def checkpoint_path(name: str, checkpoint_dir: Path) -> Path:
    model = spec(name)
    if model.checkpoint is None:
        raise ValueError(f"'{name}' has no checkpoint: it is always randomly initialised")
    return checkpoint_dir / model.checkpoint


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _digest_file(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def download(
    name: str,
    checkpoint_dir: Path,
    url: str | None = None,
    sha256: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    mirror: Path | None = None,
) -> Path:
    """Fetch a checkpoint into `checkpoint_dir`, verify its SHA-256, then move it into place.

    From `url` (https only; default Meta's) or, on an air-gapped machine, from `mirror`: a
    folder holding the official file names, or the file itself. `progress(done_bytes,
    total_bytes)` is called as data arrives. A mismatch raises ChecksumMismatch, a file that is
    not `name`'s SAM2 checkpoint CheckpointDamaged; on any failure the download is deleted, so
    nothing half-written or wrong ever replaces a checkpoint or is left beside them.
    """
    model = spec(name)
    target = checkpoint_path(name, checkpoint_dir)
    expected = sha256 or model.sha256
    partial = target.with_name(target.name + ".part")
    try:
        with _open_source(url or model.url, mirror, target.name) as (source, total, origin):
            checkpoint_dir.mkdir(parents=True, exist_ok=True)  # not for a source refused
            got = _copy(source, partial, total, progress)
        if expected and got != expected.lower():
            raise ChecksumMismatch(
                f"checksum mismatch for {target.name}: expected {expected}, got {got}; "
                f"{_kept(target)}"
            )
        _check_trunk(partial, model, origin, target)
    except BaseException:  # Ctrl+C and a dropped connection too
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    _digest_file(target).write_text(got + "\n")
    return target


def _copy(
    source: BinaryIO, path: Path, total: int, progress: Callable[[int, int], None] | None
) -> str:
    """`source` written to `path`, `progress` told as it goes; its SHA-256."""
    digest, done = hashlib.sha256(), 0
    with path.open("wb") as f:
        for block in iter(lambda: source.read(1 << 20), b""):
            f.write(block)
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def _kept(target: Path) -> str:
    """What a refused download did: its copy in the checkpoint folder went, and a checkpoint
    there stays. It said "file deleted", which read as the --mirror file (the user's own, kept)."""
    return f"nothing written to {target.parent}, any {target.name} already there kept"


def _check_trunk(path: Path, model: ModelSpec, origin: str, target: Path) -> None:
    """CheckpointDamaged unless `path` (staged for `target`) holds a SAM2 state dict whose image
    encoder is the size of `model`'s: a mirror's wrong file (notes, another size) or an error
    page served in place of the file would otherwise replace a good checkpoint and fail only at
    the next start."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)["model"]
        width = state["image_encoder.trunk.patch_embed.proj.weight"].shape[0]
    except Exception as exc:  # the unpickler's errors say it in pages
        raise CheckpointDamaged(f"{origin} is not a SAM2 checkpoint; {_kept(target)}") from exc
    blocks = len(
        {key.split(".")[3] for key in state if key.startswith("image_encoder.trunk.blocks.")}
    )
    if (width, blocks) != model.trunk:
        raise CheckpointDamaged(
            f"{origin} is not the SAM2.1 {model.name} checkpoint: its image encoder is "
            f"{width} wide with {blocks} blocks, {model.name}'s is {model.trunk[0]} wide with "
            f"{model.trunk[1]} blocks; {_kept(target)}"
        )


@contextmanager
def _open_source(
    url: str | None, mirror: Path | None, file_name: str
) -> Iterator[tuple[BinaryIO, int, str]]:
    """The bytes to download, their size (0 when unknown) and where they come from."""
    if mirror is not None:
        path = mirror / file_name if mirror.is_dir() else mirror
        with path.open("rb") as f:
            yield f, path.stat().st_size, str(path)
        return
    scheme = urlsplit(url or "").scheme
    if scheme != "https":
        raise ValueError(
            f"refusing {scheme + ':' if scheme else 'a plain path as a'} URL: weights are "
            "downloaded over https only; for a local copy use --mirror PATH"
        )
    try:
        opened = urllib.request.urlopen(url, timeout=60)
    except urllib.error.URLError as exc:  # HTTPError is one too
        raise DownloadFailed(_why_not(url, file_name, exc)) from exc
    with opened as response:
        if urlsplit(response.geturl()).scheme != "https":
            raise ValueError(f"refusing the redirect from {url} to a URL that is not https")
        yield response, int(response.headers.get("Content-Length") or 0), url


def _why_not(url: str, file_name: str, exc: urllib.error.URLError) -> str:
    """One line naming the file, the host and the reason, with the fix for a machine that has
    no internet (the raw URLError reads `<urlopen error [Errno -2] ...>`)."""
    if isinstance(exc, urllib.error.HTTPError):
        reason = f"HTTP {exc.code} {exc.reason}"
    else:
        reason = exc.reason.strerror if isinstance(exc.reason, OSError) else exc.reason
    return (
        f"could not download {file_name} from {urlsplit(url).netloc}: {reason or exc}; without "
        "internet access, copy the file from a machine that has it and use --mirror PATH"
    )


def verify(path: Path) -> None:
    """Check a checkpoint against the digest recorded when it was downloaded (if any)."""
    recorded = _digest_file(path)
    if recorded.exists() and sha256_of(path) != recorded.read_text().strip():
        raise ChecksumMismatch(
            f"{path} does not match its recorded SHA-256 (damaged?); "
            f"delete it and run `vidmatte weights download`"
        )


def build_predictor(
    name: str,
    checkpoint_dir: Path,
    device: str = "cpu",
    random_init: bool = False,
    checkpoint: Path | None = None,
    compile: bool = False,
) -> MattingVideoPredictor:
    """Build the SAM2 video predictor that keeps matting intermediates.

    Real sizes need their checkpoint unless `random_init` (same compute, random weights).
    `checkpoint` loads a specific file instead (used to load a saved test-tiny model).
    `compile` takes SAM2's compiled path (`CompiledMattingVideoPredictor`).
    """
    model = spec(name)
    ckpt = checkpoint
    if ckpt is None and model.checkpoint is not None and not random_init:
        ckpt = checkpoint_path(name, checkpoint_dir)
        if not ckpt.exists():
            raise CheckpointMissing(
                f"SAM2 checkpoint {ckpt} is missing. Download it with:\n"
                f"    vidmatte weights download {name} --dir {checkpoint_dir}\n"
                f"or start with --random-init (random weights) or --sam2 test-tiny."
            )
        verify(ckpt)
    target = COMPILED_TARGET if compile else PREDICTOR_TARGET
    overrides = [f"++model._target_={target}", *model.overrides]
    if ckpt is None:
        torch.manual_seed(0)  # a random model that is the same on every start
    try:
        return build_sam2_video_predictor(
            model.config,
            ckpt_path=str(ckpt) if ckpt else None,
            device=device,
            hydra_overrides_extra=overrides,
        )
    except Exception as exc:
        if ckpt is None:
            raise
        # torch's unpickler and load_state_dict say it in thousands of characters of keys
        fix = (
            f"; download it again with:\n    vidmatte weights download {name} --dir {ckpt.parent}"
            if model.checkpoint is not None
            else ""
        )
        raise CheckpointDamaged(
            f"SAM2 checkpoint {ckpt} is damaged or is not the SAM2.1 {name} checkpoint "
            f"({type(exc).__name__}){fix}"
        ) from exc


def save_checkpoint(predictor: torch.nn.Module, path: Path) -> None:
    """Save weights in the official checkpoint layout ({"model": state_dict})."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": predictor.state_dict()}, path)
