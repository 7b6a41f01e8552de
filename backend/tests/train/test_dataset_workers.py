"""Dataset builds in worker processes: the same clips as one process, the same errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.test_cli_errors import refused, vidmatte
from vidmatte.train import dataset
from vidmatte.train.dataset import DatasetError, build_dataset


def _mixed(sources: dict) -> dict:
    """build_dataset's arguments for small clips of every kind: photos, a video, glass, with
    object blur and the codec drawing their chances, so each draw's order is exercised."""
    return dict(
        image_sets=[sources["images"]],
        video_sets=[sources["video"]],
        backgrounds=[sources["bg"]],
        clips_per_foreground=2,
        frames=3,
        height=48,
        width=64,
        seed=5,
        transparent=1,
        object_blur_p=0.5,
        codec_p=0.5,
    )


def _files(dataset: Path) -> dict[str, bytes]:
    return {str(p.relative_to(dataset)): p.read_bytes() for p in dataset.rglob("*") if p.is_file()}


def test_workers_build_the_same_clips_as_one_process(tiny_sources, tmp_path) -> None:
    """Each clip draws from its own generator, seeded by (seed, clip index), so which process
    makes it, and in which order, changes no byte of it."""
    serial = _files(build_dataset(tmp_path / "one", workers=1, **_mixed(tiny_sources)))
    pooled = _files(build_dataset(tmp_path / "two", workers=2, **_mixed(tiny_sources)))
    clips = sorted({Path(name).parts[1] for name in serial if name.startswith("clips/")})
    assert clips == [f"{fg}_{k:03d}" for fg in ("A01", "A02", "clip0", "glass000") for k in (0, 1)]
    assert serial.keys() == pooled.keys()
    assert [name for name in serial if serial[name] != pooled[name]] == []
    # A clip's draws are its own: its neighbours' differ.
    assert serial["clips/A01_000/rgb/00000.png"] != serial["clips/A01_001/rgb/00000.png"]


def test_a_background_that_does_not_read_stops_a_pooled_build(tiny_sources, tmp_path) -> None:
    """Raised in a worker, the error reaches the caller as the same DatasetError, and the build
    stops without writing dataset.json (the CLI then removes OUT)."""
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    args = {**_mixed(tiny_sources), "backgrounds": [bad]}
    message = f"background {bad} is not a readable image or video; remove it from --backgrounds"
    for workers in (1, 2):
        out = tmp_path / f"ds{workers}"
        with pytest.raises(DatasetError) as raised:
            build_dataset(out, workers=workers, **args)
        assert str(raised.value) == message
        assert not (out / "dataset.json").exists()


def test_workers_must_be_positive(tiny_sources, tmp_path) -> None:
    with pytest.raises(ValueError, match="workers must be >= 1"):
        build_dataset(tmp_path / "ds", workers=0, **_mixed(tiny_sources))
    assert not (tmp_path / "ds").exists()


def test_the_cli_passes_workers_on(tiny_sources, tmp_path) -> None:
    """`dataset build --workers 1` makes the clips a pool makes; 0 is refused before any work."""
    common = ["--images", str(tiny_sources["images"]), "--backgrounds", str(tiny_sources["bg"])]
    common += ["--clips-per-foreground", "1", "--frames", "2", "--height", "32", "--width", "48"]
    zero = vidmatte("dataset", "build", str(tmp_path / "zero"), *common, "--workers", "0")
    assert refused(zero, 2, "Invalid value for '--workers'"), zero.stderr
    assert not (tmp_path / "zero").exists()
    one = vidmatte("dataset", "build", str(tmp_path / "one"), *common, "--workers", "1")
    assert one.returncode == 0, one.stderr
    pooled = build_dataset(
        tmp_path / "two",
        image_sets=[tiny_sources["images"]],
        backgrounds=[tiny_sources["bg"]],
        clips_per_foreground=1,
        frames=2,
        height=32,
        width=48,
        workers=2,
    )
    clips = _files(tmp_path / "one" / "clips")
    assert sorted({Path(n).parts[0] for n in clips}) == ["A01_000", "A02_000"]
    assert clips == _files(pooled / "clips")


def test_one_process_writes_a_clip_while_it_makes_the_next(tiny_sources, tmp_path, monkeypatch):
    """In one process (where SAM2 labels clips on its device) the next clip is composited while
    a clip's PNGs are written: each write here waits for the next clip to be started, which
    one clip after another never does. The clips are those a pool makes, and a
    write that fails stops the build as a failure in a worker does."""
    started = [0]  # clips composited so far
    overlapped: list[bool] = []  # per write: had the next clip started?
    changed = threading.Condition()
    composite, write = dataset.composite_layers, dataset.write_clip

    def compositing(*args, **kwargs):
        with changed:
            started[0] += 1
            changed.notify_all()
        return composite(*args, **kwargs)

    def writing(folder, clip, meta):
        # clip n's write waits for clip n + 1 to be started; the last one's, in vain, 2 s
        with changed:
            n = len(overlapped) + 1
            overlapped.append(changed.wait_for(lambda: started[0] > n, timeout=2))
        write(folder, clip, meta)

    monkeypatch.setattr(dataset, "composite_layers", compositing)
    monkeypatch.setattr(dataset, "write_clip", writing)
    serial = build_dataset(tmp_path / "one", workers=1, **_mixed(tiny_sources))
    assert overlapped == [True] * 7 + [False]
    monkeypatch.undo()
    pooled = build_dataset(tmp_path / "two", workers=2, **_mixed(tiny_sources))
    assert _files(serial) == _files(pooled)

    def failing(folder, clip, meta):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dataset, "write_clip", failing)
    with pytest.raises(OSError, match="No space left"):
        build_dataset(tmp_path / "full", workers=1, **_mixed(tiny_sources))
    assert not (tmp_path / "full" / "dataset.json").exists()
