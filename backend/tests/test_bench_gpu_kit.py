"""bench/gpu_kit.py picks, from uv.lock, what a registry-less GPU machine with its own CUDA torch
lacks: never the torch stack it must keep, always what the job code imports beyond it. Its
training kit carries what retraining imports and the training split, shrunk to travel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import numpy as np
from PIL import Image

from vidmatte.train import splits
from vidmatte.train.ship import TRAIN_VIDEOS

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


def test_a_training_kit_carries_only_what_training_imports() -> None:
    carried = gpu_kit.to_carry(gpu_kit.locked_runtime("3.12"), training=True)
    assert set(carried) == gpu_kit.TRAINING  # every name a real, carried package
    assert {"av", "kornia", "pymatting", "pydantic", "typer"} <= set(carried)
    assert not {"sam2", "fastapi", "uvicorn", "hydra-core", "torch"} & set(carried)


def test_training_and_eval_import_with_everything_else_blocked() -> None:
    """The training kit leaves SAM2's and the server's packages behind, and the dev tools are
    never there: `ship` (build, train, judge), its loss plot and `vidmatte eval` work without."""
    left = set(gpu_kit.to_carry(gpu_kit.locked_runtime("3.12"))) - gpu_kit.TRAINING
    left |= {"matplotlib", "pytest", "ipykernel"}
    probe = f"""
import importlib.abc, importlib.metadata, sys
left = {sorted(left)!r}
blocked = {{m for m, dists in importlib.metadata.packages_distributions().items()
           if any(d.lower().replace("_", "-") in left for d in dists)}}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"{{name}} is not in the training kit")
sys.meta_path.insert(0, Block())
import pymatting, vidmatte.cli, vidmatte.train.evaluate, vidmatte.train.ship
from vidmatte.train.ship import app
try:  # parses every option of the stages bench/gpu_train.sh runs (typer imports lazily)
    app(["judge", "--work", "/nonexistent", "--no-validation"], standalone_mode=False)
except FileNotFoundError as error:
    assert "--holdout" in str(error), error
import pathlib, tempfile
from vidmatte.train.trainer import plot_losses
terms = {{"loss": 1.0, "l1": 0.5, "grad": 0.1, "temporal": 0.1}}
plot_losses([{{"step": 1, **terms}}], pathlib.Path(tempfile.mkdtemp()) / "loss.png")
print(len(blocked), "modules blocked")
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[0]) >= 10  # sam2, fastapi, pydantic, ... really blocked


def _video(path: Path, width: int, height: int, frames: int) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for t in range(frames):
            pixels = np.full((height, width, 3), 40 * t, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        out.mux(stream.encode())


def test_training_data_travels_shrunk_and_without_the_validation_split(tmp_path) -> None:
    data, out = tmp_path / "shared", tmp_path / "kit"
    rng = np.random.default_rng(0)
    for kind in ("image", "alpha"):
        (data / "alphamatting" / kind).mkdir(parents=True)
    for name in (*splits.TRAIN_IMAGES, *splits.VAL_IMAGES):
        photo = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
        Image.fromarray(photo).save(data / "alphamatting" / "image" / f"{name}.png")
        alpha = rng.integers(0, 256, (24, 32), dtype=np.uint8)
        Image.fromarray(alpha).save(data / "alphamatting" / "alpha" / f"{name}.png")
    (data / "backgrounds").mkdir()
    for name, size in (
        ("Autumn.jpg", (2560, 1600)),
        ("Grey.jpg", (640, 400)),
        ("Path.jpg", (64, 40)),
    ):
        Image.new("RGB", size, (90, 120, 150)).save(data / "backgrounds" / name)
    (data / "videos").mkdir()
    for i, name in enumerate(TRAIN_VIDEOS):
        _video(data / "videos" / f"{name}.mp4", *((1280, 720) if i == 0 else (64, 48)), frames=3)

    gpu_kit.pack_training_data(data, out)

    images = out / "alphamatting" / "image"
    assert sorted(p.name for p in images.iterdir()) == sorted(
        f"{n}.jpg" for n in splits.TRAIN_IMAGES
    )
    for name in splits.TRAIN_IMAGES:  # the alphas exact, the photos close
        alpha = out / "alphamatting" / "alpha" / f"{name}.png"
        assert alpha.read_bytes() == (data / "alphamatting" / "alpha" / alpha.name).read_bytes()
        photo = np.asarray(Image.open(images / f"{name}.jpg"), dtype=float)
        source = np.asarray(
            Image.open(data / "alphamatting" / "image" / f"{name}.png"), dtype=float
        )
        assert np.abs(photo - source).mean() < 12  # noise photos are JPEG's worst case
    assert sorted(p.name for p in (out / "backgrounds").iterdir()) == ["Autumn.jpg", "Grey.jpg"]
    assert Image.open(out / "backgrounds" / "Autumn.jpg").size == (1280, 800)
    assert Image.open(out / "backgrounds" / "Grey.jpg").size == (640, 400)  # never enlarged
    for i, name in enumerate(TRAIN_VIDEOS):
        with av.open(str(out / "videos" / f"{name}.mp4")) as video:
            frames = [f.to_ndarray(format="rgb24") for f in video.decode(video=0)]
        assert len(frames) == 3
        assert frames[0].shape == ((360, 640, 3) if i == 0 else (48, 64, 3))
