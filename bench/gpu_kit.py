"""Pack what bench/gpu.sh needs on a GPU machine that reaches no package registry but has CUDA
PyTorch installed (this workplace's lent GPU machines: Python 3.12 with torch, numpy, scipy,
numba and pillow, nothing to fetch from): wheels of the project's other runtime packages for
that Python, at uv.lock's versions, and the benchmark's photo (GT04) from the shared data.

    uv run python bench/gpu_kit.py          # here, where PyPI is reachable
    GPU_KIT=.device bash bench/gpu.sh       # there, with .device carried beside the checkout

Everything goes under .device/ (git-ignored: never committed). The image's own torch is used:
a CUDA build of torch, and what it depends on, is gigabytes and must match the driver there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import typer
from common import ROOT, SHARED_DATA
from packaging.markers import Marker
from packaging.utils import canonicalize_name

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
}
PROVIDED_PREFIXES = ("nvidia-", "cuda-")
# uvicorn[standard]'s speed-ups (6 MiB of the 64 a call carries): the benchmark serves nothing,
# and uvicorn runs without them.
LEFT_OUT = {"uvloop", "httptools", "watchfiles", "websockets", "python-dotenv"}
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


def to_carry(pins: dict[str, str]) -> dict[str, str]:
    """The pins a GPU image lacks and the benchmark needs."""
    return {
        name: version
        for name, version in pins.items()
        if name not in PROVIDED | LEFT_OUT and not name.startswith(PROVIDED_PREFIXES)
    }


def pip(*args: str, env: dict[str, str] | None = None) -> None:
    """pip from an overlay on the project's environment (torch there builds sam2's wheel)."""
    command = ["uv", "run", "--with", "pip", "python", "-m", "pip", *args]
    subprocess.run(command, cwd=ROOT, check=True, env=env)


def main(
    out: Path = typer.Option(ROOT / ".device", help="Kit folder (carried to the GPU machine)."),
    python: str = typer.Option("3.12", help="The GPU machine's Python version."),
    data: Path = typer.Option(SHARED_DATA / "alphamatting", help="alphamatting folder."),
) -> None:
    wheels = out / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir(parents=True)
    carry = to_carry(locked_runtime(python))
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
    for kind in ("image", "alpha"):
        (out / "alphamatting" / kind).mkdir(parents=True, exist_ok=True)
        shutil.copy(data / kind / "GT04.png", out / "alphamatting" / kind / "GT04.png")
    got = sorted(wheels.glob("*.whl"))
    if len(got) != len(carry):
        sys.exit(f"expected {len(carry)} wheels, got {len(got)}: {[w.name for w in got]}")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
    print(f"{len(got)} wheels and GT04 in {out}: {size:.1f} MiB (a device call carries 64 MiB)")


if __name__ == "__main__":
    typer.run(main)
