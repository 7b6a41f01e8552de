"""Head weights on disk: a safetensors file plus a JSON card with the same stem.

The config is written into both the safetensors metadata (so the weights rebuild their own
architecture) and the card (so people can read it); loading trusts the metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from vidmatte.config import DEFAULT_PATHS, PACKAGE_DIR, source_root
from vidmatte.store import write_atomic

from .head import HeadConfig, MattingHead

_CONFIG_KEY = "head_config"


def default_head_path() -> Path:
    """The shipped weights, where the server looks by default: `<repo>/models/` in a source
    checkout, inside the package in a wheel (config.default_paths)."""
    return DEFAULT_PATHS["head_path"]


def restore_hint(path: Path) -> str:
    """How to get the shipped head back when `path` is where it ships ("" for another file):
    a damaged or deleted default otherwise sent people to train a head of their own."""
    if path != default_head_path():
        return ""
    root = source_root(PACKAGE_DIR)
    if root is None:
        return "; reinstall vidmatte to restore the shipped head"
    return (
        f"; restore the shipped head with `git -C {root} checkout -- "
        "models/matting_head.safetensors models/matting_head.json`"
    )


def card_path(weights_path: str | Path) -> Path:
    return Path(weights_path).with_suffix(".json")


def save_head(path: str | Path, head: MattingHead, card: dict[str, Any]) -> None:
    """Write weights and card; the card always gets the config under "config". Each lands by
    rename: a crash or a full disk mid-write leaves the old file whole, not a truncated one."""
    path = Path(path)
    config = head.config.to_dict()
    state = {k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()}
    write_atomic(path, save(state, metadata={_CONFIG_KEY: json.dumps(config)}))
    full_card = {**card, "config": config}
    write_atomic(card_path(path), (json.dumps(full_card, indent=2, default=str) + "\n").encode())


def load_head(path: str | Path | None = None) -> tuple[MattingHead, dict[str, Any]]:
    """Load a head (eval mode, CPU) and its card ({} when the card is missing)."""
    path = Path(path) if path is not None else default_head_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"matting head weights not found at {path}; train them with `vidmatte train` "
            f"or pass the path of an existing .safetensors file{restore_hint(path)}"
        )
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        if _CONFIG_KEY not in meta:
            raise ValueError(f"no '{_CONFIG_KEY}' metadata: not written by save_head")
        head = MattingHead(HeadConfig.from_dict(json.loads(meta[_CONFIG_KEY])))
        state = load_file(str(path))
        head.load_state_dict(state)
    except (SafetensorError, ValueError, RuntimeError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{path} is not a matting head's weights (.safetensors written by `vidmatte "
            f"train`): {str(exc)[:200]}{restore_hint(path)}"
        ) from exc
    # A NaN or an infinity in the weights makes every alpha NaN, exported as 0: a run that
    # ended in all-empty mattes, exit code 0, rather than one refused here.
    broken = [name for name, tensor in state.items() if not torch.isfinite(tensor).all()]
    if broken:
        more = f" and {len(broken) - 1} more" if len(broken) > 1 else ""
        raise ValueError(
            f"{path} holds weights that are not finite (NaN or infinity, in {broken[0]}{more}): "
            f"every matte would be empty; use other weights or train them again"
            f"{restore_hint(path)}"
        )
    head.eval()
    cpath = card_path(path)
    card = json.loads(cpath.read_text()) if cpath.is_file() else {}
    return head, card


def random_head(seed: int = 0, config: HeadConfig | None = None) -> MattingHead:
    """An untrained head with seeded, non-trivial weights, for tests (the output layer is
    re-initialised so the head does not collapse to the identity)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        head = MattingHead(config)
        with torch.no_grad():
            for p in head.out[-1].parameters():
                p.normal_(0.0, 0.05)
    return head.eval()
