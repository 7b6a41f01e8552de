"""Default paths: inside a source checkout as the README describes, and sensible for an installed
wheel (user data and cache folders, the head shipped inside the package)."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest
import torch

from vidmatte.config import PACKAGE_DIR, Settings, check_device, default_paths


def test_a_source_checkout_keeps_everything_in_the_checkout() -> None:
    root = PACKAGE_DIR.parents[1]
    assert default_paths(PACKAGE_DIR) == {
        "data_dir": root / "data",
        "checkpoint_dir": root / "checkpoints",
        "head_path": root / "models" / "matting_head.safetensors",
        "frontend_dir": root / "frontend" / "dist",
    }
    assert Settings().head_path.is_file()  # the shipped head, found by default


def test_an_installed_package_uses_user_folders_and_its_own_head(tmp_path: Path) -> None:
    package = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "vidmatte"
    package.mkdir(parents=True)
    paths = default_paths(package)
    assert paths["data_dir"] == platformdirs.user_data_path("vidmatte")
    assert paths["checkpoint_dir"] == platformdirs.user_cache_path("vidmatte") / "checkpoints"
    assert paths["head_path"] == package / "models" / "matting_head.safetensors"
    assert paths["frontend_dir"] == package / "frontend"
    assert not paths["data_dir"].is_relative_to(tmp_path)  # not inside the venv


def test_the_plate_is_on_with_cuda_unless_told() -> None:
    assert Settings(device="cuda", plate="auto").use_plate
    assert not Settings(device="cpu", plate="auto").use_plate
    assert Settings(device="cpu", plate="on").use_plate
    assert not Settings(device="cuda:1", plate="off").use_plate


@pytest.mark.parametrize("device", ["bogus", "gpu", "cuda:", "cuda:x", "CPU", "cpu:0", " cpu"])
def test_a_device_torch_does_not_name_is_refused(device: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_device(device, "VIDMATTE_DEVICE")
    message = f"VIDMATTE_DEVICE must be cpu, cuda or cuda:N (a GPU's index), not '{device}'"
    assert str(refused.value) == message


def test_the_cpu_is_always_there() -> None:
    check_device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_a_gpu_names_the_fix(device: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_device(device)
    assert str(refused.value) == (
        f"--device {device}: no CUDA GPU is available (torch sees none); use --device cpu"
    )


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [("MAX_OBJECTS", "abc", "a whole number"), ("IDLE_TIMEOUT", "soon", "a number")],
)
def test_a_setting_that_is_no_number_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    """int() said only "invalid literal for int() with base 10: 'abc'": not which setting."""
    monkeypatch.setenv(f"VIDMATTE_{name}", value)
    with pytest.raises(ValueError, match=f"^VIDMATTE_{name} must be {says}, not '{value}'$"):
        Settings()
