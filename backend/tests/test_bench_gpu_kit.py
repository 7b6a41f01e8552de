"""bench/gpu_kit.py picks, from uv.lock, what a registry-less GPU machine with its own CUDA torch
lacks: never the torch stack it must keep, always what the job code imports beyond it."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import gpu_kit  # noqa: E402


def test_the_kit_carries_the_project_but_not_the_gpu_images_torch() -> None:
    locked = gpu_kit.locked_runtime("3.12")
    assert {"torch", "torchvision", "sam2", "av", "numpy"} <= locked.keys()
    assert "colorama" not in locked  # Windows only
    carried = gpu_kit.to_carry(locked)
    assert {"sam2", "av", "pydantic", "pydantic-core", "kornia", "pymatting", "openexr"} <= set(
        carried
    )
    assert {"hydra-core", "omegaconf", "iopath", "fastapi", "platformdirs"} <= set(carried)
    assert not {"torch", "torchvision", "triton", "numpy", "scipy"} & set(carried)
    assert not [name for name in carried if name.startswith(("nvidia-", "cuda-"))]
    assert all(carried[name] == locked[name] for name in carried)  # uv.lock's versions
    # Nothing falls between the lists: what is not carried is provided or deliberately left out.
    for name in set(locked) - set(carried):
        assert name in gpu_kit.PROVIDED | gpu_kit.LEFT_OUT or name.startswith(
            gpu_kit.PROVIDED_PREFIXES
        ), name
