"""The `vidmatte` command between its start and its work: the progress of what comes before the
matting, and options refused before anything is made."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from tests.server import free_port
from tests.synth import frame_and_alpha
from tests.test_cli_errors import _unwrapped as unwrapped
from tests.test_cli_errors import refused, vidmatte


def test_matte_shows_the_progress_of_making_an_image_sequence_a_video(tmp_path: Path) -> None:
    """A long plate's images were made into a video for minutes without a word: the matting
    bar came only after."""
    plates = tmp_path / "plates"
    plates.mkdir()
    for i in range(5):
        Image.fromarray(frame_and_alpha(i, 64, 96)[0]).save(plates / f"shot.{1001 + i}.png")
    out = tmp_path / "out"
    result = vidmatte(
        "matte", str(plates), "--point", "48,32,0", "--out", str(out), "--sam2", "test-tiny",
        "--random-head", "--device", "cpu",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # As the matting bar, on stdout: stderr stays for errors.
    reading = [line for line in result.stdout.splitlines() if line.startswith("reading images")]
    assert len(reading) == 1 and " 5/5 images " in reading[0], result.stdout
    assert result.stdout.index("reading images") < result.stdout.index("matting")
    assert "5/5 frames" in result.stdout


def test_a_sequence_refused_before_its_images_are_read_shows_no_bar(tmp_path: Path) -> None:
    plates = tmp_path / "plates"
    plates.mkdir()
    (plates / "notes.txt").write_text("no images here")
    result = vidmatte("matte", str(plates), "--point", "1,1,0", "--out", str(tmp_path / "out"))
    assert refused(result, 2, "Invalid value for 'VIDEO': no PNG"), result.stderr
    assert "reading images" not in result.stdout + result.stderr


def test_serve_refuses_a_head_that_is_no_head_s_weights_before_making_the_data_dir(
    tmp_path: Path,
) -> None:
    """A --head holding other bytes was refused after a new data dir was made (and SAM2
    loaded); a missing one, before."""
    junk, missing = tmp_path / "junk.safetensors", tmp_path / "missing.safetensors"
    junk.write_text("not weights")
    data = tmp_path / "data"
    base = ("serve", "--sam2", "test-tiny", "--port", str(free_port()), "--data-dir", str(data))
    bad = vidmatte(*base, "--head", str(junk), timeout=120)
    said = unwrapped(bad.stderr)
    assert refused(bad, 2, "Invalid value for '--head'"), bad.stderr
    assert f"{junk} is not a matting head's weights" in said, said
    assert not data.exists()
    gone = vidmatte(*base, "--head", str(missing), timeout=120)
    assert refused(gone, 2, f"no matting head weights at {missing}: pass --head"), gone.stderr
    assert not data.exists()


def test_serve_refuses_a_checkpoint_dir_that_is_a_file_naming_it(tmp_path: Path) -> None:
    """It said to run `vidmatte weights download --dir FILE`, which fails on that file."""
    blocker = tmp_path / "checkpoints"
    blocker.write_text("")
    data = tmp_path / "data"
    for folder in (blocker, blocker / "sam2"):
        result = vidmatte("serve", "--sam2", "tiny", "--port", str(free_port()), "--data-dir",
                          str(data), "--checkpoint-dir", str(folder), timeout=120)  # fmt: skip
        said = unwrapped(result.stderr)
        assert refused(result, 2, "Invalid value for '--checkpoint-dir'"), result.stderr
        assert str(blocker) in said and "is a file" in said, said
        assert "weights download" not in said, said
        assert not data.exists()


def test_dataset_build_refuses_backgrounds_without_an_image_or_video_before_any_work(
    tiny_sources: dict[str, Path], tmp_path: Path
) -> None:
    """An empty --backgrounds folder, or one holding no image or video, ended in
    `error: ValueError: no background images or videos (...)` (exit 1)."""
    empty, notes = tmp_path / "empty", tmp_path / "notes"
    empty.mkdir()
    notes.mkdir()
    (notes / "readme.txt").write_text("backgrounds go here")
    out = tmp_path / "ds"
    for folder in (empty, notes):
        result = vidmatte("dataset", "build", str(out), "--images", str(tiny_sources["images"]),
                          "--backgrounds", str(folder), "--frames", "2")  # fmt: skip
        said = unwrapped(result.stderr)
        assert refused(result, 2, "Invalid value for '--backgrounds'"), result.stderr
        assert f"no background images or videos in {folder}" in said, said
        assert "ValueError" not in said and "building clips" not in result.stdout
        assert not out.exists()
    none = vidmatte("dataset", "build", str(out), "--images", str(tiny_sources["images"]))
    assert refused(none, 2, "Invalid value for '--backgrounds'"), none.stderr
    assert not out.exists()


def test_dataset_build_names_a_background_that_does_not_read(
    tiny_sources: dict[str, Path], tmp_path: Path
) -> None:
    """A background named as a video that is none (or an image that is none) ended the build
    in `error: InvalidDataError: [Errno 1094995529] Invalid data found ...`."""
    backgrounds, out = tmp_path / "bg", tmp_path / "ds"
    backgrounds.mkdir()
    for name in ("notes.mp4", "notes.png"):
        bad = backgrounds / name
        bad.write_text("not a picture")
        result = vidmatte("dataset", "build", str(out), "--images", str(tiny_sources["images"]),
                          "--backgrounds", str(bad), "--frames", "2", "--height", "32",
                          "--width", "48", "--clips-per-foreground", "1")  # fmt: skip
        assert refused(
            result, 1, f"error: background {bad} is not a readable image or video; remove it"
        ), result.stderr
        assert not out.exists()
