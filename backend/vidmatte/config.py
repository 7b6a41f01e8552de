"""Every setting in one place: read from the environment (``VIDMATTE_*``), overridden by the CLI."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import platformdirs
import torch

PACKAGE_DIR = Path(__file__).resolve().parent
GB = 1024**3
MAX_IDEMPOTENCY_HOURS = 10 * 365 * 24  # VIDMATTE_IDEMPOTENCY_HOURS: 10 years
# The short side the matting head runs at, where the frame has as many (matte/infer.py
# working_shape): the "fast" edges' guided filter pads by its radius (8 px) by reflection,
# which needs more pixels than that. The least VIDMATTE_MIN_SIDE.
MIN_WORKING_SIDE = 16


def source_root(package_dir: Path) -> Path | None:
    """The source checkout the package runs from (the README's way), None when installed."""
    root = package_dir.parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "backend").is_dir() else None


def default_paths(package_dir: Path) -> dict[str, Path]:
    """Where data, checkpoints, the head and the built editor live by default. In a source
    checkout, inside it; installed from a wheel, in the user's data and cache folders, with the
    head shipped inside the package (pyproject.toml's force-include)."""
    root = source_root(package_dir)
    if root is not None:
        return {
            "data_dir": root / "data",
            "checkpoint_dir": root / "checkpoints",
            "head_path": root / "models" / "matting_head.safetensors",
            "frontend_dir": root / "frontend" / "dist",
        }
    return {
        "data_dir": platformdirs.user_data_path("vidmatte"),
        "checkpoint_dir": platformdirs.user_cache_path("vidmatte") / "checkpoints",
        "head_path": package_dir / "models" / "matting_head.safetensors",
        "frontend_dir": package_dir / "frontend",
    }


DEFAULT_PATHS = default_paths(PACKAGE_DIR)


def _env(name: str, default: str) -> str:
    return os.environ.get(f"VIDMATTE_{name}", default)


Number = TypeVar("Number", int, float)


def _env_int(name: str, default: int, minimum: int) -> int:
    return _number(name, default, int, minimum)


def _env_float(name: str, default: float, minimum: float, maximum: float = math.inf) -> float:
    return _number(name, default, float, minimum, maximum)


class SettingError(ValueError):
    """A bad value of a VIDMATTE_ variable; the message names it and what it must be."""


def _number(
    name: str, default: Number, kind: type[Number], minimum: Number, maximum: float = math.inf
) -> Number:
    """A number from VIDMATTE_<name>, at least `minimum` (and at most `maximum`); a bad one is
    named (int() alone says only "invalid literal for int() with base 10: 'abc'", not which
    setting, and a negative limit would refuse every request with a nonsense message). A
    float is finite: float() takes "inf" and "1e999", which turned a limit off without a word
    (an idle timeout, a ping) or into nonsense (every slow upload a 408 below "inf" bytes/s)."""
    raw = _env(name, str(default))
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum or not math.isfinite(value):  # also NaN
        what = "a whole number" if kind is int else "a number"
        if kind is float and maximum == math.inf:
            what = "a finite number"  # a bounded range says so already
        bounds = (
            f"from {minimum} to {maximum:g}" if maximum < math.inf else f"of at least {minimum}"
        )
        raise SettingError(f"VIDMATTE_{name} must be {what} {bounds}, not {raw!r}")
    return value


def _env_flag(name: str) -> bool:
    """VIDMATTE_<name> as 1 (on) or 0 (off, the default); any other value is refused, named:
    `true` or `yes` turned the setting off without a word."""
    raw = _env(name, "0")
    if raw not in ("0", "1"):
        raise SettingError(f"VIDMATTE_{name} must be 1 or 0, not {raw!r}")
    return raw == "1"


def _path(name: str, key: str) -> Path:
    return Path(_env(name, str(DEFAULT_PATHS[key])))


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: _path("DATA_DIR", "data_dir"))
    # SAM2 size: tiny | small | base_plus | large | test-tiny (shrunk, random weights, for tests)
    sam2_model: str = field(default_factory=lambda: _env("SAM2", "small"))
    # Build the real architecture with random weights: same compute, for benchmarks.
    random_init: bool = field(default_factory=lambda: _env_flag("RANDOM_INIT"))
    # SAM2's compiled path (torch.compile, SAM2's vos_optimized): for CUDA; the first frames
    # wait for compilation (minutes), later ones run about twice as fast on a GPU.
    compile_sam2: bool = field(default_factory=lambda: _env_flag("COMPILE"))
    checkpoint_dir: Path = field(default_factory=lambda: _path("CHECKPOINT_DIR", "checkpoint_dir"))
    head_path: Path = field(default_factory=lambda: _path("HEAD", "head_path"))
    # Run with an untrained head when head_path is missing: an explicit choice, never a fallback.
    random_head: bool = field(default_factory=lambda: _env_flag("RANDOM_HEAD"))
    max_upload_bytes: int = field(default_factory=lambda: _env_int("MAX_UPLOAD_BYTES", 2 * GB, 1))
    # Frame size limits of an upload (422 beyond): the matte's edge filter needs 16 pixels on the
    # short side at its working resolution, which min_side guarantees (at least 16: a smaller
    # one let in frames every job failed on); the working size keeps them however narrow the
    # frame (matte/infer.py working_shape), so max_aspect may be raised: frames narrower than
    # 40:1 are matted at more than 640 px on the long side.
    min_side: int = field(default_factory=lambda: _env_int("MIN_SIDE", 16, MIN_WORKING_SIDE))
    max_aspect: float = field(default_factory=lambda: _env_float("MAX_ASPECT", 40, 1))
    # Pixels per frame of an upload (422 beyond): 8K UHD; a larger header is lying or the file
    # is not for us.
    max_pixels: int = field(default_factory=lambda: _env_int("MAX_PIXELS", 7680 * 4320, 1))
    # Disk space that must stay free in the data dir after an upload (for results, the
    # database): an upload that would cut into it is refused with 507.
    min_free_bytes: int = field(default_factory=lambda: _env_int("MIN_FREE_BYTES", GB, 0))
    # Largest JSON (non-upload) request body; a larger one is refused with 413 unread.
    max_json_bytes: int = field(default_factory=lambda: _env_int("MAX_JSON_BYTES", 1024 * 1024, 1))
    # Seconds a client may send nothing while sending headers or an upload before it is dropped.
    idle_timeout: float = field(default_factory=lambda: _env_float("IDLE_TIMEOUT", 60, 0.1))
    # Bytes per second an upload must average once idle_timeout has passed (a trickle holds a
    # connection and a file open as surely as silence).
    min_upload_rate: float = field(default_factory=lambda: _env_float("MIN_UPLOAD_RATE", 4096, 0))
    device: str = field(default_factory=lambda: _env("DEVICE", default_device()))
    # Edge refinement of the matte: best (classical matting of the unsure pixels on the compute
    # device, matte/refine.py), fast (the guided filter) or none.
    edges: str = field(default_factory=lambda: _env("EDGES", "best"))
    # "best" edges also take the background seen behind the object in other frames
    # (matte/plate.py): auto (the default; on, on every device since it takes its views from
    # at most 8 frames, the farthest in time), on (the same) or off. On a GPU it costs
    # milliseconds; on the CPU about 0.1 s of a 1080p frame's matting (bench/edges.py).
    plate: str = field(default_factory=lambda: _env("PLATE", "auto"))
    # Colour of the exports that carry it: "estimated" foreground F or the frame's "raw" colour
    # (jobs/results.py); a request's `fg` overrides it.
    export_fg: str = field(default_factory=lambda: _env("EXPORT_FG", "estimated"))
    frontend_dir: Path = field(default_factory=lambda: _path("FRONTEND_DIR", "frontend_dir"))
    # Origins allowed by CORS besides the app's own (comma separated); none by default.
    cors_origins: tuple[str, ...] = field(
        default_factory=lambda: tuple(o for o in _env("CORS_ORIGINS", "").split(",") if o)
    )
    # Access control (README "Running on a network"). The token: by default made once and kept
    # in <data dir>/token (mode 0600). no_auth turns it off, on a loopback host only.
    token: str | None = field(default_factory=lambda: _env("TOKEN", "") or None)
    no_auth: bool = field(default_factory=lambda: _env_flag("NO_AUTH"))
    # The address `serve` binds; it is also accepted in the Host header.
    host: str = field(default_factory=lambda: _env("HOST", "127.0.0.1"))
    # Names accepted in the Host header besides loopback ones and `host` (comma separated).
    allowed_hosts: tuple[str, ...] = field(
        default_factory=lambda: tuple(h for h in _env("ALLOWED_HOSTS", "").split(",") if h)
    )
    # Quotas: projects kept in one data dir, jobs waiting in one server's queue.
    max_projects: int = field(default_factory=lambda: _env_int("MAX_PROJECTS", 500, 0))
    max_queued_jobs: int = field(default_factory=lambda: _env_int("MAX_QUEUED_JOBS", 50, 0))
    # Hours the answer to a POST with an Idempotency-Key is kept: a retry with the key within
    # them gets that answer again instead of a second project or job (docs/API.md).
    # At most 10 years: keys are dated by the clock, and a retention reaching back before year 1
    # ("inf", 1e9) kept the server from starting, with an OverflowError's traceback.
    idempotency_hours: float = field(
        default_factory=lambda: _env_float("IDEMPOTENCY_HOURS", 24, 0, MAX_IDEMPOTENCY_HOURS)
    )
    # Objects per project (also object ids per job) and points per object and frame: every
    # object is tracked and matted on every frame, so they bound how long a job holds the worker.
    max_objects: int = field(default_factory=lambda: _env_int("MAX_OBJECTS", 16, 1))
    max_points_per_frame: int = field(
        default_factory=lambda: _env_int("MAX_POINTS_PER_FRAME", 50, 1)
    )
    # Seconds between keep-alive comments on an event stream (proxies drop silent connections).
    event_ping_seconds: float = field(
        default_factory=lambda: _env_float("EVENT_PING_SECONDS", 15, 0.1)
    )
    # Who runs jobs: "inprocess" (one worker thread on `device`) or "ray" (a Ray cluster, the
    # `ray` extra; docs/DEPLOY.md). Previews always run here, on `device`.
    runner: str = field(default_factory=lambda: _env("RUNNER", "inprocess"))
    # The Ray cluster: "auto" (one started with `ray start` on this machine), "local" (start
    # Ray in this process) or a head's address (HOST:6379).
    ray_address: str = field(default_factory=lambda: _env("RAY_ADDRESS", "auto"))
    # CPU workers instead of one per GPU (CPU-only clusters, tests); 0: one per GPU.
    ray_cpu_workers: int = field(default_factory=lambda: _env_int("RAY_CPU_WORKERS", 0, 0))
    # Times a job continues on another worker after the one running it died, before it fails.
    ray_max_retries: int = field(default_factory=lambda: _env_int("RAY_MAX_RETRIES", 3, 0))

    @property
    def use_plate(self) -> bool:
        """Whether `plate` is on; ValueError for an unknown value."""
        check_plate(self.plate)
        return self.plate != "off"


PLATE_CHOICES = ("auto", "on", "off")
RUNNERS = ("inprocess", "ray")


def check_plate(plate: str) -> None:
    if plate not in PLATE_CHOICES:
        raise ValueError(f"plate must be one of {', '.join(PLATE_CHOICES)}, not {plate!r}")


def check_runner(runner: str) -> None:
    if runner not in RUNNERS:
        raise ValueError(f"runner must be {' or '.join(RUNNERS)}, not {runner!r}")


def usable_cores() -> int:
    """The cores this process may run on (its affinity, as a container or `taskset` limits it)."""
    if hasattr(os, "sched_getaffinity"):  # Linux; macOS and Windows have only cpu_count
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@lru_cache(maxsize=1)
def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


DEVICE_PATTERN = re.compile(r"cpu|cuda(:\d+)?")


def check_device(device: str, option: str = "--device") -> None:
    """ValueError unless `device` is cpu, cuda or cuda:N and, for CUDA, a GPU torch sees: the
    message names `option` (the flag, or VIDMATTE_DEVICE) and the fix, before a model loads."""
    if not DEVICE_PATTERN.fullmatch(device):
        raise ValueError(f"{option} must be cpu, cuda or cuda:N (a GPU's index), not '{device}'")
    if device == "cpu":
        return
    fix = "VIDMATTE_DEVICE=cpu" if option == "VIDMATTE_DEVICE" else f"{option} cpu"
    if not torch.cuda.is_available():
        raise ValueError(
            f"{option} {device}: no CUDA GPU is available (torch sees none); use {fix}"
        )
    count = torch.cuda.device_count()
    index = int(device.partition(":")[2] or 0)
    if index >= count:
        raise ValueError(
            f"{option} {device}: torch sees {count} CUDA GPU(s), cuda:0..cuda:{count - 1}"
        )
