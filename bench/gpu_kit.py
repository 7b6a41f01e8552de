"""Pack what bench/gpu.sh needs on a GPU machine that reaches no package registry but has CUDA
PyTorch installed (this workplace's lent GPU machines: Python 3.12 with torch, numpy, scipy,
numba and pillow, nothing to fetch from): wheels of the project's other runtime packages for
that Python, at uv.lock's versions, and the benchmark's photo (GT04) from the shared data.

    uv run python bench/gpu_kit.py          # here, where PyPI is reachable
    GPU_KIT=.device bash bench/gpu.sh       # there, with .device carried beside the checkout

Everything goes under .device/ (git-ignored: never committed). The image's own torch is used:
a CUDA build of torch, and what it depends on, is gigabytes and must match the driver there.

With --train it packs what bench/gpu_train.sh needs to retrain the head there instead: the
wheels that training and `vidmatte eval` import, and the training split of the shared data,
shrunk to fit beside them (under .devtrain/):

    uv run python bench/gpu_kit.py --train
    GPU_KIT=.devtrain bash bench/gpu_train.sh
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import av
import typer
from common import ROOT, SHARED_DATA
from packaging.markers import Marker
from packaging.utils import canonicalize_name
from PIL import Image

from vidmatte.train import splits
from vidmatte.train.ship import TRAIN_VIDEOS

# What the GPU image already holds and must not be shadowed: the torch stack (built for its
# CUDA driver) and the numeric packages compiled against it. Everything else in uv.lock's
# runtime closure travels.
PROVIDED = {
    "torch",
    "torchvision",
    "triton",
    "numpy",
    "scipy",
    "numba",
    "llvmlite",
    "pillow",
    # torch's own dependencies
    "filelock",
    "fsspec",
    "jinja2",
    "markupsafe",
    "mpmath",
    "networkx",
    "sympy",
    "setuptools",
    "typing-extensions",
    # Pure-Python packages the image also holds, left there: the training kit ran on it without
    # them on 2026-12-04 (ship build, typer's output and the head's weights), and its 64 MB
    # needed the room.
    "annotated-doc",
    "markdown-it-py",
    "mdurl",
    "packaging",
    "pygments",
    "pyyaml",
    "rich",
    "safetensors",
    "shellingham",
    "tqdm",
}
PROVIDED_PREFIXES = ("nvidia-", "cuda-")
# uvicorn[standard]'s speed-ups (6 MB of the 64 a call carries): the benchmark serves nothing,
# and uvicorn runs without them.
LEFT_OUT = {"uvloop", "httptools", "watchfiles", "websockets", "python-dotenv"}
# What `ship build/train` and `vidmatte eval` import beyond the image's torch stack: a training kit
# carries only these (not SAM2's or the server's) to leave room for the data, since av alone is
# 36 of the 64 MB a call carries. tests/test_bench_gpu_kit.py imports the training code with
# every other carried package blocked.
TRAINING = {
    "annotated-types",
    "av",
    "click",
    "kornia",
    "kornia-rs",
    "openexr",
    "platformdirs",
    "pydantic",  # typer's parameter parsing, and what pydantic needs
    "pydantic-core",
    "pymatting",
    "typer",
    "typing-inspection",
}
# The training clips are 640x360: photos larger than twice that (the camera zooms in at most
# 1.4x) and videos larger than that carry nothing the clips keep.
PHOTO_SIZE = (1280, 800)
VIDEO_SIZE = (640, 360)
# What one device call carries, the checkout and the kit together: 64 MB, not MiB (a call of
# 63.7 MiB, 66.8 MB, was refused on 2026-12-04; one of 63.6 MB went).
CALL_MB = 64
PLATFORMS = [f"manylinux_2_{n}_x86_64" for n in (17, 24, 27, 28, 31, 34, 35, 39)]
PLATFORMS += ["manylinux2014_x86_64", "manylinux1_x86_64"]


def locked_runtime(python: str) -> dict[str, str]:
    """{name: version} of uv.lock's runtime closure that applies to Linux x86-64 `python`."""
    out = subprocess.run(
        ["uv", "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    env = {
        "sys_platform": "linux",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "python_version": python,
        "python_full_version": f"{python}.0",
    }
    pins = {}
    for line in out.splitlines():
        if not line or line[0] in "# ":
            continue
        requirement, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate(env):
            continue
        name, version = requirement.strip().split("==")
        pins[canonicalize_name(name)] = version
    return pins


def to_carry(pins: dict[str, str], training: bool = False) -> dict[str, str]:
    """The pins a GPU image lacks and the benchmark (or, `training`, the retraining) needs."""
    return {
        name: version
        for name, version in pins.items()
        if name not in PROVIDED | LEFT_OUT
        and not name.startswith(PROVIDED_PREFIXES)
        and (not training or name in TRAINING)
    }


def _fit(width: int, height: int, box: tuple[int, int]) -> tuple[int, int]:
    """The size within `box`, aspect kept, never enlarged, even (for 4:2:0 video)."""
    scale = min(1.0, box[0] / width, box[1] / height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def _shrink_video(src: Path, dst: Path) -> None:
    with av.open(str(src)) as source, av.open(str(dst), "w") as target:
        video = source.streams.video[0]
        width, height = _fit(video.width, video.height, VIDEO_SIZE)
        stream = target.add_stream("libx264", rate=video.average_rate or 30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "23"}
        for frame in source.decode(video=0):
            target.mux(stream.encode(frame.reformat(width, height, "yuv420p")))
        target.mux(stream.encode())


def pack_training_data(data: Path, out: Path) -> None:
    """The training split of `data` (the shared data's layout) under `out`, small enough to
    travel: the training photos as JPEG (quality 95, full-resolution colour) beside their exact
    PNG alphas, the training backgrounds within PHOTO_SIZE and the sample videos within
    VIDEO_SIZE. Nothing of the validation split goes."""
    images, alphas = out / "alphamatting" / "image", out / "alphamatting" / "alpha"
    for folder in (images, alphas, out / "backgrounds", out / "videos"):
        folder.mkdir(parents=True, exist_ok=True)
    for name in splits.TRAIN_IMAGES:
        photo = Image.open(data / "alphamatting" / "image" / f"{name}.png").convert("RGB")
        photo.save(images / f"{name}.jpg", quality=95, subsampling=0)
        shutil.copy(data / "alphamatting" / "alpha" / f"{name}.png", alphas)
    for path in splits.backgrounds(False, data):
        photo = Image.open(path).convert("RGB")
        photo.resize(_fit(*photo.size, PHOTO_SIZE), Image.Resampling.LANCZOS).save(
            out / "backgrounds" / path.name, quality=90
        )
    for name in TRAIN_VIDEOS:
        _shrink_video(data / "videos" / f"{name}.mp4", out / "videos" / f"{name}.mp4")


def pip(*args: str, env: dict[str, str] | None = None) -> None:
    """pip from an overlay on the project's environment (torch there builds sam2's wheel)."""
    command = ["uv", "run", "--with", "pip", "python", "-m", "pip", *args]
    subprocess.run(command, cwd=ROOT, check=True, env=env)


def main(
    out: Path = typer.Option(
        None, help="Kit folder, carried to the GPU machine (default .device, or .devtrain)."
    ),
    python: str = typer.Option("3.12", help="The GPU machine's Python version."),
    data: Path = typer.Option(SHARED_DATA, help="The shared data folder."),
    train: bool = typer.Option(False, help="A kit for bench/gpu_train.sh (retraining)."),
) -> None:
    out = out or ROOT / (".devtrain" if train else ".device")
    wheels = out / "wheels"
    for made in (wheels, out / "data"):  # what an earlier run left: a rerun replaces it
        shutil.rmtree(made, ignore_errors=True)
    wheels.mkdir(parents=True)
    carry = to_carry(locked_runtime(python), training=train)
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    # Without its CUDA extension sam2 is pure Python; its metadata needs torch, hence no
    # build isolation (the project's torch builds it).
    env = {**os.environ, "SAM2_BUILD_CUDA": "0"}
    pip(
        "download", "--quiet", "--no-deps", "--prefer-binary", "--no-build-isolation",
        "--dest", str(wheels), "--python-version", python, "--implementation", "cp",
        *platforms, *(f"{n}=={v}" for n, v in sorted(carry.items())), env=env,
    )  # fmt: skip
    # Packages PyPI has only as source (sam2, antlr4-python3-runtime, iopath): built here.
    # Built with this machine's Python: only a pure-Python result also runs there.
    for sdist in [f for f in wheels.iterdir() if f.suffix != ".whl"]:
        before = set(wheels.glob("*.whl"))
        pip(
            "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(wheels),
            str(sdist), env=env,
        )  # fmt: skip
        sdist.unlink()
        if built := [
            w.name for w in set(wheels.glob("*.whl")) - before if "-none-any" not in w.name
        ]:
            sys.exit(f"{sdist.name} built into {built}, which needs this machine's Python")
    if train:
        pack_training_data(data, out / "data")
    else:
        for kind in ("image", "alpha"):
            (out / "alphamatting" / kind).mkdir(parents=True, exist_ok=True)
            shutil.copy(data / "alphamatting" / kind / "GT04.png", out / "alphamatting" / kind)
    got = sorted(wheels.glob("*.whl"))
    if len(got) != len(carry):
        sys.exit(f"expected {len(carry)} wheels, got {len(got)}: {[w.name for w in got]}")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6
    what = "the training data" if train else "GT04"
    total = size + checkout_mb()
    print(f"{len(got)} wheels and {what} in {out}: {size:.1f} MB, {total:.1f} with the checkout")
    if total > CALL_MB:
        sys.exit(f"over the {CALL_MB} MB a device call carries: the call would be refused")


def checkout_mb() -> float:
    """What the checkout adds to a device call: its tracked and untracked, not ignored files."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    files = [ROOT / name.decode() for name in listed if name]
    return sum(f.stat().st_size for f in files if f.is_file()) / 1e6


if __name__ == "__main__":
    typer.run(main)
