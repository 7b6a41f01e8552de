"""Every setting in one place: read from the environment (``VIDMATTE_*``), overridden by the CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
GB = 1024**3


def _env(name: str, default: str) -> str:
    return os.environ.get(f"VIDMATTE_{name}", default)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(_env("DATA_DIR", str(REPO_ROOT / "data"))))
    # SAM2 size: tiny | small | base_plus | large | test-tiny (shrunk, random weights, for tests)
    sam2_model: str = field(default_factory=lambda: _env("SAM2", "small"))
    # Build the real architecture with random weights: same compute, for benchmarks.
    random_init: bool = field(default_factory=lambda: _env("RANDOM_INIT", "0") == "1")
    checkpoint_dir: Path = field(
        default_factory=lambda: Path(_env("CHECKPOINT_DIR", str(REPO_ROOT / "checkpoints")))
    )
    head_path: Path = field(
        default_factory=lambda: Path(
            _env("HEAD", str(REPO_ROOT / "models" / "matting_head.safetensors"))
        )
    )
    max_upload_bytes: int = field(
        default_factory=lambda: int(_env("MAX_UPLOAD_BYTES", str(2 * GB)))
    )
    device: str = field(default_factory=lambda: _env("DEVICE", default_device()))
    # Edge refinement of the matte: best (classical matting on the CPU per frame), fast or none.
    edges: str = field(default_factory=lambda: _env("EDGES", "best"))
    frontend_dir: Path = field(
        default_factory=lambda: Path(_env("FRONTEND_DIR", str(REPO_ROOT / "frontend" / "dist")))
    )
    # Origins allowed by CORS besides the app's own (comma separated); none by default.
    cors_origins: tuple[str, ...] = field(
        default_factory=lambda: tuple(o for o in _env("CORS_ORIGINS", "").split(",") if o)
    )

    @property
    def db_path(self) -> Path:
        return self.data_dir / "vidmatte.db"


@lru_cache(maxsize=1)
def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"
