"""The `vidmatte` command treated roughly: stopped from outside (a `kill`, a closed terminal,
Ctrl-C under a shell that ignores it), given folder options that are files, or a download that
is not the checkpoint it names."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.test_cli_errors import _interrupt_matte, frames_in, refused, vidmatte
from tests.waiting import wait_until

# Starts `vidmatte` with SIGHUP, SIGINT and SIGTERM at their defaults, as from a terminal: a
# test run started under nohup (a CI job) ignores SIGHUP, and so would the command it starts.
# Its first argument: the signals a shell ignored for it (`trap '' TERM`, nohup's SIGHUP).
_FROM_A_TERMINAL = """import os, signal, sys
for each in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
    signal.signal(each, signal.SIG_DFL)
for name in filter(None, sys.argv[1].split(",")):
    signal.signal(getattr(signal, name), signal.SIG_IGN)
os.execv(sys.executable, [sys.executable, "-m", "vidmatte.cli", *sys.argv[2:]])"""


def _started(*args: str, scratch: Path, ignoring: str = "") -> subprocess.Popen:
    """The command as a user runs it, its temporary folders in `scratch` (TMPDIR), the signals
    named in `ignoring` (e.g. "SIGTERM,SIGHUP") ignored as a shell can leave them."""
    scratch.mkdir()
    return subprocess.Popen(
        [sys.executable, "-c", _FROM_A_TERMINAL, ignoring, *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TMPDIR": str(scratch), "COLUMNS": "200"},
    )  # fmt: skip


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP])
def test_a_kill_while_an_image_sequence_is_read_leaves_no_video_behind(
    tmp_path: Path, stop: int
) -> None:
    """A `kill` while the images were made into a video ended the process on the spot: the
    video, partly written, stayed in TMPDIR (GBs for long plates), without a word."""
    plates, out, scratch = tmp_path / "plates", tmp_path / "out", tmp_path / "scratch"
    plates.mkdir()
    noise = np.random.default_rng(0).integers(0, 256, (720, 1280, 3), np.uint8)
    for n in range(150):  # noise: slow to code losslessly, so the kill comes midway
        Image.fromarray(np.roll(noise, n, axis=1)).save(
            plates / f"plate.{n:04d}.png", compress_level=0
        )
    run = _started(
        "matte", str(plates), "--point", "30,32,0", "--sam2", "test-tiny", "--out", str(out),
        scratch=scratch,
    )  # fmt: skip

    def writing() -> bool:
        return any(p.stat().st_size for p in scratch.glob("vidmatte-*/sequence.nut"))

    assert wait_until(lambda: writing() or run.poll() is not None, seconds=240, every=0.02)
    assert run.poll() is None, "the video was written before the kill"
    run.send_signal(stop)
    _, stderr = run.communicate(timeout=120)
    assert (run.returncode, stderr) == (
        130,
        "error: interrupted while reading the image sequence; wrote nothing\n",
    )
    assert not list(scratch.iterdir()) and not out.exists()


@pytest.mark.parametrize("ignoring", ["", "SIGTERM"])
def test_a_kill_during_dataset_build_leaves_nothing_to_take_for_a_dataset(
    tiny_sources: dict[str, Path], tmp_path: Path, ignoring: str
) -> None:
    """A `kill` (SIGTERM) left the clips built so far in OUT: a dataset cut short that
    `train` takes as one, and a retry refused for the files. A `kill` stops it also where the
    shell that started it ignores SIGTERM, as it stops `matte`: the dataset commands kept such
    an ignore (only nohup's SIGHUP stays ignored, for both)."""
    out, scratch = tmp_path / "ds", tmp_path / "scratch"
    run = _started(
        "dataset", "build", str(out), "--images", str(tiny_sources["images"]),
        "--backgrounds", str(tiny_sources["bg"]), "--clips-per-foreground", "400",
        "--frames", "4", "--height", "32", "--width", "48",
        scratch=scratch, ignoring=ignoring,
    )  # fmt: skip

    def clips() -> int:
        folder = out / "clips"
        return len(list(folder.iterdir())) if folder.is_dir() else 0

    assert wait_until(lambda: clips() >= 2 or run.poll() is not None, seconds=240, every=0.05)
    assert run.poll() is None, "the dataset was built before the kill"
    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130 and "Traceback" not in stderr, stderr
    assert stderr.splitlines()[-1] == f"error: interrupted; nothing is left in {out}"
    assert not out.exists()


@pytest.mark.parametrize("below", [False, True])
def test_weights_download_names_a_checkpoint_folder_that_is_a_file(
    tmp_path: Path, below: bool
) -> None:
    """A --dir (or VIDMATTE_CHECKPOINT_DIR) that is a file, or below one, was "error: [Errno
    17] File exists: '...'" (or "[Errno 20] Not a directory"), naming neither the option nor
    the fix."""
    mirror, taken = tmp_path / "sam2.1_hiera_tiny.pt", tmp_path / "checkpoints"
    mirror.write_bytes(b"weights")
    taken.write_bytes(b"keep me")
    folder = taken / "sam2" if below else taken
    problem = f"{folder} cannot be made: {taken} is a file" if below else f"{folder} is a file"
    given = vidmatte("weights", "download", "tiny", "--mirror", str(mirror), "--dir", str(folder))
    assert refused(given, 2, f"Invalid value for '--dir': {problem}"), given.stderr
    from_env = vidmatte(
        "weights", "download", "tiny", "--mirror", str(mirror), VIDMATTE_CHECKPOINT_DIR=str(folder)
    )
    assert refused(from_env, 2, f"Invalid value for VIDMATTE_CHECKPOINT_DIR: {problem}")
    assert taken.read_bytes() == b"keep me"


def test_weights_download_names_a_mirror_that_is_not_there(tmp_path: Path) -> None:
    """A --mirror path with a typo was "error: [Errno 2] No such file or directory: '...'",
    after the checkpoint folder was made."""
    missing, folder = tmp_path / "usb" / "sam2", tmp_path / "checkpoints"
    result = vidmatte("weights", "download", "tiny", "--mirror", str(missing), "--dir", str(folder))
    assert refused(result, 2, f"Invalid value for '--mirror': path '{missing}' does not exist")
    assert not folder.exists()


@pytest.mark.parametrize("command", ["train", "eval"])
def test_train_and_eval_name_an_out_that_is_a_file(
    tiny_dataset: Path, tmp_path: Path, command: str
) -> None:
    """--out naming a file said "{out} cannot be made or written to: File exists"."""
    out = tmp_path / "run"
    out.write_text("keep me")
    extra = ("--steps", "1", "--device", "cpu") if command == "train" else ("--methods", "raw")
    result = vidmatte(command, str(tiny_dataset), "--out", str(out), *extra)
    message = f"Invalid value for '--out': {out} is a file; give a folder (made if missing)"
    assert refused(result, 2, message), result.stderr
    assert out.read_text() == "keep me"


def test_dataset_compress_names_an_out_below_a_file(tiny_dataset: Path, tmp_path: Path) -> None:
    """OUT below a file was "error: NotADirectoryError: [Errno 20] Not a directory", exit 1."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    out = blocker / "copy"
    result = vidmatte("dataset", "compress", str(tiny_dataset), str(out))
    assert refused(result, 2, f"Invalid value for 'OUT': {out} cannot be made: {blocker} is a file")


def test_a_hangup_ignored_by_nohup_does_not_stop_a_matte_run(tmp_path: Path) -> None:
    """`nohup vidmatte matte ...` ignores SIGHUP so the run outlives its terminal; the run put
    its own handler over that, so closing the terminal stopped it after the frame in hand."""
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    run, stderr = _interrupt_matte(tmp_path, out, scratch, 2, signal.SIGHUP, 40, ignoring="HUP")
    assert run.returncode == 0, stderr
    assert frames_in(out) == list(range(40))


def test_ctrl_c_stops_a_run_whose_shell_ignores_it(tmp_path: Path) -> None:
    """A shell ignores SIGINT for a job it starts with `&` (CI runners do); keeping every
    ignored signal ignored (the nohup fix's first cut) made Ctrl-C and its tests do nothing."""
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    run, stderr = _interrupt_matte(tmp_path, out, scratch, 2, signal.SIGINT, 40, ignoring="INT")
    assert run.returncode == 130, stderr
    assert "error: interrupted; wrote the frames matted before it" in stderr
    assert 2 <= len(frames_in(out)) < 40


def test_weights_download_of_a_wrong_file_keeps_the_checkpoint(
    tmp_path: Path, file_server: tuple[str, bytes]
) -> None:
    """`--mirror notes.txt` replaced a good checkpoint with the notes, and said it was done.
    Then it said "file deleted", of its copy, which read as the notes themselves."""
    url, payload = file_server
    folder, notes = tmp_path / "ckpt", tmp_path / "notes.txt"
    notes.write_text("ask IT for the weights")
    fetched = vidmatte("weights", "download", "tiny", "--dir", str(folder), "--url", url)
    assert fetched.returncode == 0, fetched.stderr
    result = vidmatte("weights", "download", "tiny", "--dir", str(folder), "--mirror", str(notes))
    assert result.returncode == 1 and result.stderr.splitlines()[-1] == (
        f"error: {notes} is not a SAM2 checkpoint; nothing written to {folder}, any "
        "sam2.1_hiera_tiny.pt already there kept"
    ), result.stderr
    assert (folder / "sam2.1_hiera_tiny.pt").read_bytes() == payload
    assert notes.read_text() == "ask IT for the weights"


def test_ctrl_c_while_a_command_starts_says_so(
    tiny_sources: dict[str, Path], tmp_path: Path
) -> None:
    """Ctrl-C after the imports and before the command took over the signals (reading its
    arguments, checking the photos' headers) ended it with exit code 130 and not a word. The
    photo is a FIFO here: the command waits at it, reading its header, until the signal."""
    images, out = tmp_path / "images", tmp_path / "ds"
    for sub in ("image", "alpha"):
        (images / sub).mkdir(parents=True)
    os.mkfifo(images / "image" / "a.png")
    shutil.copy(next((tiny_sources["images"] / "alpha").iterdir()), images / "alpha" / "a.png")
    run = _started("dataset", "build", str(out), "--images", str(images), "--backgrounds",
                   str(tiny_sources["bg"]), scratch=tmp_path / "scratch")  # fmt: skip
    writer = None

    def reading() -> bool:  # the FIFO opens for writing once the command opened it to read
        nonlocal writer
        with contextlib.suppress(OSError):
            writer = os.open(images / "image" / "a.png", os.O_WRONLY | os.O_NONBLOCK)
        return writer is not None or run.poll() is not None

    wait_until(reading, seconds=120, every=0.05)
    assert writer is not None, run.communicate()[1]
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    os.close(writer)
    assert run.returncode == 130 and stderr == "error: interrupted while starting\n", stderr
    assert not out.exists()
