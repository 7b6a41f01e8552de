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


def test_the_plate_is_on_on_every_device_unless_told() -> None:
    """On the CPU too since it takes its views from at most 8 frames there (0.12 s more on a
    1080p frame's matting call of about 0.33 s on two threads, where all 15 took 0.29-0.35)."""
    assert Settings(device="cuda", plate="auto").use_plate
    assert Settings(device="cpu", plate="auto").use_plate
    assert Settings(device="cpu", plate="on").use_plate
    assert not Settings(device="cuda:1", plate="off").use_plate
    assert not Settings(device="cpu", plate="off").use_plate


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
    [
        ("MAX_OBJECTS", "abc", "a whole number of at least 1"),
        ("IDLE_TIMEOUT", "soon", "a finite number of at least 0.1"),
    ],
)
def test_a_setting_that_is_no_number_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    """int() said only "invalid literal for int() with base 10: 'abc'": not which setting."""
    monkeypatch.setenv(f"VIDMATTE_{name}", value)
    with pytest.raises(ValueError, match=f"^VIDMATTE_{name} must be {says}, not '{value}'$"):
        Settings()


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("MAX_UPLOAD_BYTES", "-1", "a whole number of at least 1"),
        ("MAX_QUEUED_JOBS", "-3", "a whole number of at least 0"),
        ("MAX_OBJECTS", "0", "a whole number of at least 1"),
        ("IDLE_TIMEOUT", "-5", "a finite number of at least 0.1"),
        ("IDLE_TIMEOUT", "nan", "a finite number of at least 0.1"),
        ("EVENT_PING_SECONDS", "0", "a finite number of at least 0.1"),
        ("MAX_ASPECT", "0.5", "a finite number of at least 1"),
    ],
)
def test_a_setting_out_of_its_range_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    """A negative limit was taken as it was: the server then refused every upload ("upload too
    large: the limit is -1 bytes", "this data dir holds -1 projects")."""
    monkeypatch.setenv(f"VIDMATTE_{name}", value)
    with pytest.raises(ValueError, match=f"^VIDMATTE_{name} must be {says}, not '{value}'$"):
        Settings()


@pytest.mark.parametrize("name", ["RANDOM_INIT", "COMPILE", "RANDOM_HEAD", "NO_AUTH"])
@pytest.mark.parametrize("value", ["true", "yes", "on", "", "2"])
def test_a_switch_that_is_not_1_or_0_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """Anything but "1" was taken as off without a word: VIDMATTE_COMPILE=yes ran uncompiled."""
    monkeypatch.setenv(f"VIDMATTE_{name}", value)
    with pytest.raises(ValueError, match=f"^VIDMATTE_{name} must be 1 or 0, not '{value}'$"):
        Settings()


def test_switches_are_1_or_0(monkeypatch: pytest.MonkeyPatch) -> None:
    switches = {"RANDOM_INIT": "1", "COMPILE": "0", "RANDOM_HEAD": "1", "NO_AUTH": "0"}
    for name, value in switches.items():
        monkeypatch.setenv(f"VIDMATTE_{name}", value)
    settings = Settings()
    assert (settings.random_init, settings.compile_sam2) == (True, False)
    assert (settings.random_head, settings.no_auth) == (True, False)


def test_the_limits_tests_use_are_in_range(monkeypatch: pytest.MonkeyPatch) -> None:
    """0 is a limit, not nonsense, where it means none allowed (a server that queues no job)."""
    for name in ("MAX_QUEUED_JOBS", "MAX_PROJECTS", "MIN_FREE_BYTES", "MIN_UPLOAD_RATE"):
        monkeypatch.setenv(f"VIDMATTE_{name}", "0")
    monkeypatch.setenv("VIDMATTE_EVENT_PING_SECONDS", "0.5")
    settings = Settings()
    assert (settings.max_queued_jobs, settings.max_projects, settings.min_free_bytes) == (0, 0, 0)
    assert (settings.min_upload_rate, settings.event_ping_seconds) == (0, 0.5)
