"""The `vidmatte` command refusing what it cannot do: before any work, in one clear line, no
traceback, and in the API's words where the API checks the same thing."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
import typer
from PIL import Image

import vidmatte as vidmatte_package
from tests.conftest import fill, upload
from tests.server import LiveServer, free_port
from tests.synth import write_mjpeg_avi, write_video
from tests.waiting import wait_until
from vidmatte import cli
from vidmatte.matte import random_head, save_head
from vidmatte.store import SCHEMA_VERSION, Store

NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


def vidmatte(
    *args: str, timeout: float = 300, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess:
    """The command as a user runs it; `env` adds VIDMATTE_* variables. A server that starts
    although it should not runs until `timeout`, and the test fails there."""
    return subprocess.run(
        [sys.executable, "-m", "vidmatte.cli", *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **env},
    )


def refused(result: subprocess.CompletedProcess, code: int, message: str) -> bool:
    return (
        result.returncode == code
        and message in result.stderr
        and "Traceback" not in (result.stderr)
    )


def frames_in(out: Path) -> list[int]:
    return sorted(int(p.stem) for p in (out / "alpha").glob("*.png"))


def test_matte_refuses_a_file_as_out_before_any_work(clip: Path, tmp_path: Path) -> None:
    target = tmp_path / "a.mp4"
    target.write_bytes(b"keep me")
    base = ("matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny", "--out")
    result = vidmatte(*base, str(target))
    assert refused(result, 2, f"Invalid value for '--out': {target} is a file; give a folder")
    assert "matting" not in result.stderr  # refused before the run, not after it
    below = vidmatte(*base, str(target / "x"))
    assert refused(below, 2, f"{target / 'x'} cannot be made: {target} is a file")
    assert target.read_bytes() == b"keep me"


def test_matte_names_a_damaged_frame_and_writes_the_frames_before_it(tmp_path: Path) -> None:
    """Frame 5 is damaged: tracking from frame 8 goes 8..11, then back to 5 and fails there.
    Frames 6..11 were matted by then (those still being encoded are stored too, as in the
    API's job), and are written; the error is the API job's, word for word."""
    video, out = tmp_path / "damaged.avi", tmp_path / "out"
    write_mjpeg_avi(video, [(96, 64)] * 12, damaged=frozenset({5}))
    result = vidmatte(
        "matte", str(video), "--point", "30,32,8", "--start", "5", "--sam2", "test-tiny",
        "--out", str(out),
    )  # fmt: skip
    assert refused(
        result,
        1,
        "error: frame 5 cannot be decoded (the file is damaged there); "
        f"wrote the frames matted before it (6..11) to {out}",
    )
    assert frames_in(out) == [6, 7, 8, 9, 10, 11]
    assert all(np.asarray(Image.open(p)).shape == (64, 96) for p in (out / "alpha").iterdir())


def _interrupt_matte(
    tmp_path: Path,
    out: Path,
    scratch: Path,
    stored: int,
    stop: int,
    frames: int = 200,
    ignoring: str | None = None,
) -> tuple[subprocess.Popen, str]:
    """`matte` of a `frames`-frame clip working in `scratch` (TMPDIR), sent `stop` once it has
    stored `stored` frames; the ended run and its stderr. `ignoring`: a signal (`HUP`) the
    shell starting it ignores, as nohup does SIGHUP and a script's `&` job SIGINT."""
    video = tmp_path / "long.mp4"
    write_video(video, frames=frames)
    scratch.mkdir()
    command = [sys.executable, "-m", "vidmatte.cli", "matte", str(video), "--point", "30,32,0",
               "--sam2", "test-tiny", "--out", str(out)]  # fmt: skip
    if ignoring is not None:
        command = ["bash", "-c", f"trap '' {ignoring}; exec {shlex.join(command)}"]
    run = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
    )  # fmt: skip

    def done() -> int:
        return len(list(scratch.glob("vidmatte-*/jobs/*/alpha/*.png")))

    wait_until(lambda: done() >= stored or run.poll() is not None, seconds=120, every=0.05)
    assert done() >= stored, "too few frames were stored in time"
    assert run.poll() is None, "the run ended before the signal"
    run.send_signal(stop)
    _, stderr = run.communicate(timeout=120)
    return run, stderr


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_during_matte_writes_the_frames_matted_so_far(tmp_path: Path, stop: int) -> None:
    """Ctrl-C threw away every frame matted so far (a damaged frame kept them), and a `kill`
    (SIGTERM) still does that and leaves the work folder behind. Now either stops the run after
    the frame in hand and writes what it finished, exit code 130."""
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    run, stderr = _interrupt_matte(tmp_path, out, scratch, stored=3, stop=stop)
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr
    written = frames_in(out)
    assert 3 <= len(written) < 200 and written == list(range(len(written)))
    assert f"error: interrupted; wrote the frames matted before it (0..{written[-1]}) to {out}" in (
        stderr
    )
    assert not list(scratch.iterdir())  # the run's scratch folder went with it


def test_ctrl_c_during_the_export_finishes_it(tmp_path: Path) -> None:
    """Once every frame is matted, Ctrl-C during the export lost them all, silently (exit 130,
    an empty --out). Now the export is finished: a second Ctrl-C would quit."""
    video, out = tmp_path / "clip.mp4", tmp_path / "out"
    write_video(video, frames=16, width=320, height=240)
    run = subprocess.Popen(
        [sys.executable, "-m", "vidmatte.cli", "matte", str(video), "--point", "100,120,0",
         "--sam2", "test-tiny", "--random-head", "--edges", "none", "--out", str(out),
         "--formats", "alpha_png,exr,rgba_png,prores4444,webm_alpha"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def staging() -> list[Path]:
        return list(out.glob(".vidmatte-export-*"))

    wait_until(lambda: staging() or run.poll() is not None, seconds=240, every=0.02)
    assert staging(), "the export never began"
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=240)
    assert run.returncode == 0, stderr
    assert "finishing the export of the frames matted (Ctrl-C again quits" in stderr
    assert frames_in(out) == list(range(16)) and len(list((out / "exr").glob("*.exr"))) == 16
    assert f"wrote alpha_png, exr, rgba_png, prores4444, webm_alpha for frames 0..15 to {out}" in (
        stdout
    )
    assert not staging()


@pytest.mark.parametrize("option", [("--sam2", "bogus"), ("--edges", "bogus"), ("--sam2", "small")])
def test_models_that_do_not_load_leave_no_out_folder(
    clip: Path, tmp_path: Path, option: tuple[str, str]
) -> None:
    """--out is made before the models load, to fail early on a folder that cannot be written;
    a model that then does not load left it behind, empty."""
    out = tmp_path / "out"
    base = ("matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny", "--out", str(out))
    result = vidmatte(*base, *option, VIDMATTE_CHECKPOINT_DIR=str(tmp_path))
    assert result.returncode in (1, 2) and "Traceback" not in result.stderr, result.stderr
    assert option[1] in result.stderr and not out.exists()


def test_models_that_do_not_load_leave_no_folder_made_for_out(clip: Path, tmp_path: Path) -> None:
    """--out a/b/c, none of them there: a head that does not load removed c, and left the a/b
    made for it. The folders made go, those that were there stay."""
    junk = tmp_path / "junk.safetensors"
    junk.write_text("not weights")
    kept = tmp_path / "kept"
    kept.mkdir()
    base = ("matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny", "--head", str(junk))
    for out in (tmp_path / "a" / "b" / "c", kept / "b" / "c"):
        result = vidmatte(*base, "--out", str(out))
        assert refused(result, 2, f"error: {junk} is not a matting head's weights"), result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.safetensors", "kept"]
    assert list(kept.iterdir()) == []


def test_a_bad_export_colour_setting_is_named(clip: Path, tmp_path: Path) -> None:
    """Without --fg, VIDMATTE_EXPORT_FG chooses; its bad value was blamed on nothing."""
    result = vidmatte("matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny",
                      "--out", str(tmp_path / "out"), VIDMATTE_EXPORT_FG="bogus")  # fmt: skip
    assert refused(result, 2, "Invalid value for VIDMATTE_EXPORT_FG: unknown foreground 'bogus'")


def test_serve_on_a_taken_port_says_so_before_loading_models(tmp_path: Path) -> None:
    """It loaded the models, printed an editor URL with a token for the port (which led to the
    other program), then failed in uvicorn."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = vidmatte("serve", "--port", str(port), "--sam2", "test-tiny", "--random-head",
                          "--data-dir", str(tmp_path / "data"), timeout=120)  # fmt: skip
    assert refused(result, 1, f"error: cannot listen on 127.0.0.1:{port}: "), result.stderr
    assert "choose another with --port" in result.stderr and "vidmatte editor" not in result.stdout


def test_token_refuses_a_data_dir_that_is_not_there(tmp_path: Path) -> None:
    """A typo in --data-dir made that folder and a token no server uses (then 401s)."""
    typo = tmp_path / "dtaa"
    result = vidmatte("token", "--data-dir", str(typo))
    assert refused(result, 2, f"{typo} is not a folder: give the --data-dir the server runs with")
    assert not typo.exists()


def test_matte_with_a_damaged_frame_before_any_finished_one_writes_nothing(
    tmp_path: Path,
) -> None:
    video, out = tmp_path / "damaged.avi", tmp_path / "out"
    write_mjpeg_avi(video, [(96, 64)] * 12, damaged=frozenset({5}))
    result = vidmatte(
        "matte", str(video), "--point", "30,32,5", "--sam2", "test-tiny", "--out", str(out)
    )
    assert refused(result, 1, "error: frame 5 cannot be decoded (the file is damaged there); ")
    assert "wrote nothing" in result.stderr and not out.exists()


def test_an_unknown_device_is_refused_before_any_model_loads(clip: Path, tmp_path: Path) -> None:
    matte = vidmatte(
        "matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny", "--device", "bogus",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert refused(matte, 2, "error: --device must be cpu, cuda or cuda:N (a GPU's index), not")
    assert not (tmp_path / "out").exists()
    data = tmp_path / "data"
    serve = vidmatte(
        "serve", "--sam2", "test-tiny", "--data-dir", str(data), timeout=120,
        VIDMATTE_DEVICE="bogus",
    )  # fmt: skip
    assert refused(
        serve, 2, "error: VIDMATTE_DEVICE must be cpu, cuda or cuda:N (a GPU's index), not 'bogus'"
    )
    assert not data.exists()
    (tmp_path / "ds" / "clips" / "c0").mkdir(parents=True)  # the device is checked before it
    train = vidmatte(
        "train", str(tmp_path / "ds"), "--out", str(tmp_path / "run"), "--device", "gpu"
    )
    assert refused(train, 2, "error: --device must be cpu, cuda or cuda:N (a GPU's index), not")
    assert not (tmp_path / "run").exists()


@NO_GPU
def test_cuda_without_a_gpu_is_refused_with_the_fix(clip: Path, tmp_path: Path) -> None:
    matte = vidmatte(
        "matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny", "--device", "cuda",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert refused(
        matte,
        2,
        "error: --device cuda: no CUDA GPU is available (torch sees none); use --device cpu",
    )
    data = tmp_path / "data"
    serve = vidmatte(
        "serve", "--sam2", "test-tiny", "--data-dir", str(data), "--device", "cuda:0",
        timeout=120,
    )  # fmt: skip
    assert refused(serve, 2, "error: --device cuda:0: no CUDA GPU is available (torch sees none)")
    from_env = vidmatte(
        "serve", "--sam2", "test-tiny", "--data-dir", str(data), timeout=120,
        VIDMATTE_DEVICE="cuda",
    )  # fmt: skip
    assert refused(from_env, 2, "(torch sees none); use VIDMATTE_DEVICE=cpu")
    assert not data.exists()


@pytest.mark.parametrize(
    "args, env, blamed",
    [(("matte", "--sam2", "test-tiny", "--edges", "sharp"), {}, "'--edges'"),
     (("matte", "--sam2", "test-tiny"), {"VIDMATTE_EDGES": "sharp"}, "VIDMATTE_EDGES"),
     (("matte", "--sam2", "bogus"), {}, "'--sam2'"),
     (("serve", "--sam2", "test-tiny", "--plate", "maybe"), {}, "'--plate'"),
     (("serve", "--sam2", "test-tiny"), {"VIDMATTE_PLATE": "maybe"}, "VIDMATTE_PLATE"),
     (("serve", "--sam2", "test-tiny", "--runner", "bogus"), {}, "'--runner'"),
     (("serve",), {"VIDMATTE_SAM2": "bogus"}, "VIDMATTE_SAM2")],
)  # fmt: skip
def test_a_bad_model_choice_is_blamed_on_its_option_or_variable(
    clip: Path, tmp_path: Path, args: tuple[str, ...], env: dict[str, str], blamed: str
) -> None:
    """typer's bare "Invalid value: edges must be one of ..." named neither the option nor the
    variable behind it; serve had opened its data dir before the plate and runner were read."""
    out, data = tmp_path / "out", tmp_path / "data"
    where = (
        (str(clip), "--point", "30,32,4", "--out", str(out))
        if args[0] == "matte"
        else ("--data-dir", str(data))
    )
    result = vidmatte(*args[:1], *where, *args[1:], timeout=120, **env)
    assert refused(result, 2, f"Invalid value for {blamed}: "), result.stderr
    assert not out.exists() and not data.exists()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 32 KiB tmpfs (the tests run as root, see api/test_disk.py): room for the zip of a
    12-frame alpha_png export, not for its files as well."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def test_an_out_disk_that_fills_up_leaves_no_cut_off_file(clip: Path, small_disk: Path) -> None:
    """The export was unpacked into --out file by file: the file the disk filled up in stayed
    there, 0 bytes, beside whole ones, looking like a result; the error named the disk of the
    temporary folder, not that of --out."""
    out = small_disk / "out"
    result = vidmatte(
        "matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny", "--out", str(out)
    )
    assert refused(result, 1, f"error: no space left on the disk of {out} (--out)"), result.stderr
    assert "wrote nothing" in result.stderr
    assert not out.exists()  # made by the command, so removed again with nothing in it
    assert list(small_disk.iterdir()) == []


def test_a_damaged_frame_stays_the_error_when_the_out_disk_is_full_too(
    tmp_path: Path, small_disk: Path
) -> None:
    """A job that failed on a damaged frame, whose frames then did not fit on the disk of
    --out, ended on the disk-full error alone: the damaged frame went unsaid. It stays the
    error; the disk is named on a line of its own."""
    video, out = tmp_path / "damaged.avi", small_disk / "out"
    write_mjpeg_avi(video, [(96, 64)] * 24, damaged=frozenset({5}))
    result = vidmatte(
        "matte", str(video), "--point", "30,32,20", "--start", "5", "--sam2", "test-tiny",
        "--out", str(out),
    )  # fmt: skip
    assert refused(
        result,
        1,
        "error: frame 5 cannot be decoded (the file is damaged there); wrote nothing\n"
        f"also: could not write the frames matted (6..23) to --out: no space left on the disk "
        f"of {out}\n",
    ), result.stderr
    assert list(small_disk.iterdir()) == []


def test_ctrl_c_stays_the_error_when_the_out_disk_is_full_too(
    tmp_path: Path, small_disk: Path
) -> None:
    """Ctrl-C, then an --out disk too small for the frames matted: the run ended with exit
    code 1 and the disk-full error, as if it had not been interrupted. It ends as an
    interruption (130), and names the disk on a line of its own."""
    out, scratch = small_disk / "out", tmp_path / "scratch"
    run, stderr = _interrupt_matte(tmp_path, out, scratch, stored=16, stop=signal.SIGINT)
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "error: interrupted; wrote nothing\nalso: could not write the frames matted (0.." in (
        stderr
    )
    assert f") to --out: no space left on the disk of {out}\n" in stderr
    assert list(small_disk.iterdir()) == []
    assert not list(scratch.iterdir())


def test_a_work_folder_disk_that_fills_up_while_the_run_is_set_up_is_named(
    clip: Path, tmp_path: Path
) -> None:
    """TMPDIR on a disk with room for the work folder's database, not for the run's project,
    points and job in it: that ended in a traceback (sqlite3.OperationalError: database or
    disk is full); only a disk that filled up during the matting was named. 148 KiB: from
    about 132 to 164 KiB the database is made and the setup fills the disk."""
    disk, out = tmp_path / "disk", tmp_path / "out"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=148k", "tmpfs", str(disk)], check=True)
    try:
        result = vidmatte(
            "matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny", "--out", str(out),
            TMPDIR=str(disk),
        )  # fmt: skip
        assert list(disk.iterdir()) == []  # the work folder went with the run
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    work = re.escape(str(disk / "vidmatte-"))
    assert re.fullmatch(
        f"error: no space left on the disk of the work folder {work}[^/ ]+: set TMPDIR to a "
        "folder on a disk with room; wrote nothing\n",
        result.stderr,
    ), result.stderr
    assert not out.exists()  # made by the command, so removed again with nothing in it


@pytest.mark.parametrize("port", ["99999", "0"])
def test_serve_refuses_a_port_out_of_range(port: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = vidmatte(
        "serve", "--sam2", "test-tiny", "--data-dir", str(data), "--port", port, timeout=60
    )
    assert refused(result, 2, "Invalid value for '--port'")
    assert not data.exists()


def test_matte_takes_points_on_the_far_edges_as_the_api_does(clip: Path, tmp_path: Path) -> None:
    """Continuous coordinates: x = width and y = height are on the 96x64 frame (docs/API.md)."""
    out = tmp_path / "out"
    base = ("matte", str(clip), "--sam2", "test-tiny", "--end", "5", "--out")
    edges = vidmatte(*base, str(out), "--point", "96,64,4", "--point", "0,0,4,neg")
    assert edges.returncode == 0, edges.stderr
    assert frames_in(out) == list(range(6))
    beyond = vidmatte(*base, str(tmp_path / "b"), "--point", "96.5,64,4")
    assert refused(beyond, 2, "point (96.5, 64) is outside the 96x64 frame")
    below = vidmatte(*base, str(tmp_path / "b"), "--point", "3,-0.5,4")
    assert refused(below, 2, "point (3, -0.5) is outside the 96x64 frame")
    late = vidmatte(*base, str(tmp_path / "b"), "--point", "3,3,12")
    assert refused(late, 2, "'--point': frame 12 is outside the video (0..11)")
    assert not (tmp_path / "b").exists()


def test_matte_range_errors_are_the_apis(clip: Path, tmp_path: Path) -> None:
    base = ("matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny")
    out = ("--out", str(tmp_path / "out"))
    backwards = vidmatte(*base, "--start", "5", "--end", "2", *out)
    assert refused(backwards, 2, "start frame 5 is after end frame 2")
    past = vidmatte(*base, "--start", "20", *out)  # --end: the last frame, 11
    assert refused(past, 2, "'--start': frame range 20.. is outside the video (frames 0..11)")
    beyond = vidmatte(*base, "--end", "12", *out)
    assert refused(beyond, 2, "'--start' / '--end': frame range 0..12 is outside the video")
    negative = vidmatte(*base, "--start", "-1", *out)
    assert refused(negative, 2, "Invalid value for '--start'")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["dataset", "compress", "{empty}", "{tmp}/copy"],
        ["dataset", "review", "{empty}"],
        ["train", "{empty}", "--out", "{tmp}/run", "--steps", "1"],
        ["eval", "{empty}", "--out", "{tmp}/eval"],
    ],
)
def test_dataset_commands_refuse_a_folder_that_is_no_dataset(
    command: list[str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [a.format(empty=empty, tmp=tmp_path) for a in command]
    result = vidmatte(*args)
    assert refused(result, 2, "is not a dataset (no clips/ folder)"), result.stderr
    assert "vidmatte dataset build" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]  # nothing half made


def test_dataset_build_refuses_sets_without_their_layout(tmp_path: Path) -> None:
    photos, whole = tmp_path / "photos", tmp_path / "whole"
    (photos / "image").mkdir(parents=True)
    for sub in ("image", "alpha"):
        (whole / sub).mkdir(parents=True)
    cases = [
        ("--images", photos, photos, "needs image/ and alpha/ folders (the alphamatting layout"),
        ("--videos", photos, photos, "needs fgr/ and pha/ folders (the VideoMatte240K layout"),
        ("--images", whole, tmp_path / "nope", "does not exist"),
    ]
    for option, folder, backgrounds, message in cases:
        result = vidmatte("dataset", "build", str(tmp_path / "ds"), option, str(folder),
                          "--backgrounds", str(backgrounds))  # fmt: skip
        assert refused(result, 2, message), (option, result.stderr)
        assert not (tmp_path / "ds").exists()


def test_dataset_build_without_foregrounds_is_a_usage_error(
    tiny_sources: dict[str, Path], tmp_path: Path
) -> None:
    """No foreground set, or --names that picks none in them, ended in `error: ValueError: no
    foregrounds in --images, ...` (exit 1), once OUT was made."""
    out, bg = tmp_path / "ds", str(tiny_sources["bg"])
    images, video = tiny_sources["images"], tiny_sources["video"]
    none = vidmatte("dataset", "build", str(out), "--backgrounds", bg)
    assert refused(
        none,
        2,
        "Error: Invalid value for '--images' / '--videos' / '--transparent' / '--strands': give "
        "foregrounds to composite: an --images or --videos set, or --transparent or --strands "
        "objects",
    ), none.stderr
    picked = vidmatte("dataset", "build", str(out), "--images", str(images), "--videos",
                      str(video), "--backgrounds", bg, "--names", "NOPE,nope2")  # fmt: skip
    assert refused(
        picked,
        2,
        f"Error: Invalid value for '--names': no foregrounds named NOPE, nope2 in {images}, "
        f"{video}",
    ), picked.stderr
    assert "ValueError" not in none.stderr + picked.stderr and not out.exists()


def test_a_download_that_cannot_connect_names_the_host_and_the_offline_fix(
    tmp_path: Path, file_server
) -> None:
    """Was `error: <urlopen error [Errno 111] Connection refused>` with the progress bar drawn
    after it."""
    url, _ = file_server
    folder = tmp_path / "ckpt"
    for source, reason in [
        ("https://127.0.0.1:9/sam2.1_hiera_tiny.pt", "Connection refused"),  # nothing listens
        (url.rsplit("/", 1)[0] + "/missing.pt", "HTTP 404"),
    ]:
        arguments = ["--dir", str(folder), "--url", source]
        result = subprocess.run(
            [sys.executable, "-m", "vidmatte.cli", "weights", "download", "tiny", *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # one stream: the order a terminal shows
            text=True,
            timeout=300,
            env={**os.environ, "COLUMNS": "200"},
            check=False,
        )
        last = result.stdout.strip().splitlines()[-1]
        host = source.split("/")[2]
        assert result.returncode == 1, result.stdout
        assert last.startswith(f"error: could not download sam2.1_hiera_tiny.pt from {host}")
        assert reason in last and "--mirror" in last and "<urlopen" not in result.stdout
        assert not folder.exists()  # nothing half-written, no folder made for nothing


@pytest.mark.parametrize(
    "option, value",
    [("--steps", "-5"), ("--steps", "0"), ("--batch-size", "0"), ("--crop", "0"),
     ("--every-nth", "0"), ("--lr", "-1"), ("--time-limit", "0")],
)  # fmt: skip
def test_train_refuses_numbers_out_of_range_before_any_work(
    tiny_dataset: Path, tmp_path: Path, option: str, value: str
) -> None:
    """`--steps -5` trained for ever; `--steps 0` ended in a ZeroDivisionError."""
    result = vidmatte("train", str(tiny_dataset), "--out", str(tmp_path / "run"), option, value)
    assert refused(result, 2, f"Invalid value for '{option}'"), result.stderr
    assert not (tmp_path / "run").exists()


def test_train_refuses_a_crop_larger_than_the_clips(tiny_dataset: Path, tmp_path: Path) -> None:
    """`--crop 4096` of 64x64 clips was scaled up from them: 24 GB, then the OOM killer. The
    least crop refused here (an old build that takes 4096 would take the test machine down)."""
    out = tmp_path / "run"
    base = ("train", str(tiny_dataset), "--out", str(out), "--batch-size", "1", "--steps", "1",
            "--device", "cpu")  # fmt: skip
    result = vidmatte(*base, "--crop", "65")
    first = sorted((tiny_dataset / "clips").iterdir())[0]  # all 96x64
    assert refused(
        result,
        2,
        f"Invalid value for '--crop': 65 px is more than the clips' shorter side (64 px in "
        f"{first}): give --crop 64 or less",
    ), result.stderr
    assert not out.exists()
    fits = vidmatte(*base, "--crop", "64")
    assert fits.returncode == 0, fits.stderr


def test_train_without_crop_fits_the_default_to_small_clips(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    """Without --crop, 64 px clips were refused for the default 256 (a new user's first run
    on a small dataset failed): the default is the clips' shorter side where that is less."""
    out = tmp_path / "run"
    result = vidmatte("train", str(tiny_dataset), "--out", str(out), "--batch-size", "1",
                      "--steps", "1", "--device", "cpu")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (out / "matting_head.safetensors").is_file()
    card = json.loads((out / "matting_head.json").read_text())
    assert card["training"]["crop"] == 64


@pytest.mark.parametrize(
    "option, value", [("--frames", "0"), ("--clips-per-foreground", "0"), ("--width", "-64")]
)
def test_dataset_build_refuses_numbers_out_of_range(
    tiny_sources: dict[str, Path], tmp_path: Path, option: str, value: str
) -> None:
    result = vidmatte(
        "dataset", "build", str(tmp_path / "ds"), "--images", str(tiny_sources["images"]),
        "--backgrounds", str(tiny_sources["bg"]), option, value,
    )  # fmt: skip
    assert refused(result, 2, f"Invalid value for '{option}'"), result.stderr
    assert not (tmp_path / "ds").exists()


def test_output_folders_holding_files_are_refused_not_mixed(
    clip: Path, tiny_sources: dict[str, Path], tmp_path: Path
) -> None:
    """A second `matte` into the same folder left the first run's frames beside its own; a
    second `dataset build` kept clips the first one made (and eval then crashed on them)."""
    used = tmp_path / "used"
    used.mkdir()
    (used / "000000.png").write_bytes(b"an earlier run's")
    matte = vidmatte("matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny",
                     "--out", str(used))  # fmt: skip
    assert refused(matte, 2, f"{used} already holds files"), matte.stderr
    assert "matting" not in matte.stderr
    build = vidmatte("dataset", "build", str(used), "--images", str(tiny_sources["images"]),
                     "--backgrounds", str(tiny_sources["bg"]))  # fmt: skip
    assert refused(build, 2, f"{used} already holds files"), build.stderr
    assert sorted(p.name for p in used.iterdir()) == ["000000.png"]


def test_matte_refuses_an_out_it_cannot_make_before_any_work(clip: Path) -> None:
    result = vidmatte("matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny",
                      "--out", "/proc/vidmatte-out")  # fmt: skip
    assert refused(result, 2, "/proc/vidmatte-out cannot be made"), result.stderr
    assert "matting" not in result.stderr


def test_matte_refuses_more_objects_than_a_project_holds_before_loading_models(
    clip: Path, tmp_path: Path
) -> None:
    points = [arg for i in range(17) for arg in ("--point", f"o{i}:30,32,4")]
    result = vidmatte("matte", str(clip), *points, "--sam2", "test-tiny",
                      "--out", str(tmp_path / "out"))  # fmt: skip
    assert refused(result, 2, "17 objects: a project holds at most 16"), result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "points, message",
    [([("dog", 4, 30, 32, "positive"), ("cat", 3, 90, 5, "negative")],
      "cat has only negative points on frames 0..6: give it a positive --point or a --box there"),
     ([("dog", 4, 30, 32, "positive"), ("cat", 9, 30, 32, "positive")],
      "cat has no --point or --box on frames 0..6: give it a positive --point or a --box there"),
     ([(None, 2, 90, 5, "negative"), (None, 8, 30, 32, "positive")],
      "the object has only negative points on frames 0..6: give it a positive --point or a "
      "--box there")],
)  # fmt: skip
def test_matte_refuses_an_object_without_a_positive_point_in_the_range(
    points: list, message: str
) -> None:
    """Negative points alone matted the object as nothing; an object with no point in the
    range failed in the store with a message about another tab. Both named, before any work."""
    with pytest.raises(typer.BadParameter) as refused:
        cli._check_prompts(points, 0, 6, cli._settings())
    assert refused.value.message == message
    name = points[1][0]  # the object refused
    box = [(name, 3, 10, 10, "box"), (name, 3, 40, 30, "box")]
    cli._check_prompts([*points, *box], 0, 6, cli._settings())  # a box is enough


@pytest.mark.parametrize(
    "points, message",
    [([(None, 3, 30, 32, "positive"), (None, 3, 30.0, 32, "negative")],
      "--point 30,32,3 and --point 30,32,3,neg are both at (30, 32) on frame 3, one positive and "
      "one negative: keep one of them"),
     ([("dog", 4, 30, 32, "positive"), ("cat", 4, 9.5, 5, "negative"),
       ("cat", 4, 9.5, 5, "positive")],
      "--point cat:9.5,5,4 and --point cat:9.5,5,4,neg are both at (9.5, 5) on frame 4, one "
      "positive and one negative: keep one of them")],
)  # fmt: skip
def test_matte_refuses_a_positive_and_a_negative_point_at_one_spot(
    points: list, message: str
) -> None:
    """The API refuses them (a 422, store.check_clicks): the object would both be and not be
    there. Refused before any work, with exit 2 (typer's BadParameter), naming both points."""
    with pytest.raises(typer.BadParameter) as refused:
        cli._check_prompts(points, 0, 6, cli._settings())
    assert refused.value.message == message
    assert refused.value.param_hint == "'--point'"
    # The same spot on another frame, for another object, or twice alike is no contradiction.
    pos, neg = (None, 3, 30, 32, "positive"), (None, 3, 30, 32, "negative")
    for fine in (
        [pos, (None, 4, 30, 32, "negative")],
        [("a", *pos[1:]), ("b", *neg[1:]), ("b", 3, 1, 1, "positive")],
        [pos, pos],
    ):
        cli._check_prompts(fine, 0, 6, cli._settings())


def test_matte_counts_a_point_given_twice_once_against_the_limit() -> None:
    """The store keeps the same click once, and counts it once against
    VIDMATTE_MAX_POINTS_PER_FRAME (as the API does); the CLI counted each --point, and refused
    a repeated one the store would have kept."""
    pos, neg = (None, 3, 30, 32, "positive"), (None, 3, 5, 5, "negative")
    settings = cli._settings(max_points_per_frame=2)
    cli._check_prompts([pos, pos, neg], 0, 6, settings)
    with pytest.raises(typer.BadParameter) as refused:
        cli._check_prompts([pos, pos, neg, (None, 3, 6, 6, "negative")], 0, 6, settings)
    assert refused.value.message == (
        "3 points for the object on frame 3: at most 2 (setting VIDMATTE_MAX_POINTS_PER_FRAME)"
    )


def test_damaged_weights_are_named_with_the_fix(clip: Path, tmp_path: Path) -> None:
    """A junk checkpoint ended in torch's `KeyError: 174812789`; a head file that is no
    safetensors in `SafetensorError: header too small`."""
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "sam2.1_hiera_tiny.pt").write_bytes(b"junk!")
    base = ("matte", str(clip), "--point", "30,32,4", "--out", str(tmp_path / "out"))
    sam2 = vidmatte(*base, "--sam2", "tiny", VIDMATTE_CHECKPOINT_DIR=str(folder))
    assert refused(sam2, 2, "is damaged or is not the SAM2.1 tiny checkpoint"), sam2.stderr
    assert "vidmatte weights download tiny" in sam2.stderr
    head = vidmatte(*base, "--sam2", "test-tiny", "--head", str(clip))
    assert refused(head, 2, f"{clip} is not a matting head's weights"), head.stderr


def test_a_head_with_nan_weights_is_refused_before_any_work(clip: Path, tmp_path: Path) -> None:
    """It was taken, and every matte written was empty (all 0), with exit code 0. Refused as a
    head of the wrong shape is."""
    head = random_head()
    with torch.no_grad():
        head.out[-1].weight.fill_(float("nan"))
    weights, out = tmp_path / "nan.safetensors", tmp_path / "out"
    save_head(weights, head, {})
    result = vidmatte("matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny",
                      "--head", str(weights), "--out", str(out))  # fmt: skip
    assert refused(
        result,
        2,
        f"error: {weights} holds weights that are not finite (NaN or infinity, in out.1.weight): "
        "every matte would be empty; use other weights or train them again\n",
    ), result.stderr
    assert "matting" not in result.stdout and not out.exists()


def test_one_mirror_file_is_one_checkpoint(tmp_path: Path) -> None:
    mirror = tmp_path / "sam2.1_hiera_tiny.pt"
    mirror.write_bytes(b"weights")
    result = vidmatte("weights", "download", "tiny", "small", "--dir", str(tmp_path / "ck"),
                      "--mirror", str(mirror))  # fmt: skip
    assert refused(result, 2, "a --mirror file is one checkpoint"), result.stderr
    assert not (tmp_path / "ck").exists()


def test_weights_download_checks_every_name_before_any_download(tmp_path: Path) -> None:
    """`small huge` downloaded small, then drew a progress bar for huge and failed with exit 1,
    offering test-tiny, which has nothing to download, among the choices."""
    mirror, folder = tmp_path / "www", tmp_path / "ck"
    mirror.mkdir()
    (mirror / "sam2.1_hiera_small.pt").write_bytes(b"weights")
    downloadable = "choose one of tiny, small, base_plus, large"
    for names, problem in [
        (["small", "huge"], f"unknown SAM2 model 'huge'; {downloadable}"),
        (["test-tiny"], f"'test-tiny' has no checkpoint: its weights are random; {downloadable}"),
    ]:
        result = vidmatte("weights", "download", *names, "--dir", str(folder),
                          "--mirror", str(mirror))  # fmt: skip
        assert refused(result, 2, f"Invalid value for 'names': {problem}\n"), result.stderr
        assert not folder.exists()


def test_a_malformed_or_shared_sha256_or_url_is_refused_before_any_download(
    tmp_path: Path,
) -> None:
    """A digest with a typo (or an MD5) was found wrong only after the whole download, which
    was then deleted; one --sha256 or --url for several models fits at most one of them."""
    mirror, folder = tmp_path / "www", tmp_path / "ck"
    mirror.mkdir()
    for name in ("tiny", "small"):
        (mirror / f"sam2.1_hiera_{name}.pt").write_bytes(b"weights")
    source = ["--mirror", str(mirror)]
    for args, problem in [
        (["tiny", "--sha256", "abc123", *source], "is not a SHA-256 (64 hexadecimal digits)"),
        (["tiny", "--sha256", "g" * 64, *source], "is not a SHA-256 (64 hexadecimal digits)"),
        (["tiny", "small", "--sha256", "a" * 64, *source], "one --sha256 is one checkpoint's"),
        (["tiny", "small", "--url", "https://example.org/x.pt"], "a --url is one checkpoint"),
    ]:
        result = vidmatte("weights", "download", *args, "--dir", str(folder))
        assert refused(result, 2, problem), result.stderr
        assert not folder.exists()
    upper = "A" * 64  # a digest pasted in capitals is still a digest: it fails only on content
    result = vidmatte("weights", "download", "tiny", "--dir", str(folder), *source,
                      "--sha256", upper)  # fmt: skip
    assert result.returncode == 1 and "checksum mismatch" in result.stderr


@pytest.mark.parametrize(
    "methods, weights, message",
    [("raw,foo", None, "Invalid value for '--methods': unknown method 'foo'"),
     ("", None, "Invalid value for '--methods': no method given"),
     ("raw,head", "missing.safetensors", "Invalid value for '--weights': matting head weights "
      "not found")],
)  # fmt: skip
def test_eval_checks_its_methods_before_any_work(
    tiny_dataset: Path, tmp_path: Path, methods: str, weights: str | None, message: str
) -> None:
    """A bad method or head came to light after the earlier methods had run on every clip,
    and their results were lost; the message said "Invalid value:", naming no option."""
    extra = ["--weights", str(tmp_path / weights)] if weights else []
    out = tmp_path / "eval"
    result = vidmatte("eval", str(tiny_dataset), "--out", str(out), "--methods", methods, *extra)
    assert refused(result, 2, message), result.stderr
    assert "evaluating" not in result.stdout + result.stderr
    assert not out.exists()


def test_review_names_decision_lines_it_cannot_apply(tiny_dataset: Path, tmp_path: Path) -> None:
    """`GT01_000 rejct` and unknown clips were dropped without a word."""
    clip_name = sorted(p.name for p in (tiny_dataset / "clips").iterdir())[0]
    meta = tiny_dataset / "clips" / clip_name / "meta.json"
    before = meta.read_text()
    decisions = tmp_path / "decisions.txt"
    decisions.write_text(f"{clip_name} rejct\nGT99_000 accept\n")
    result = vidmatte("dataset", "review", str(tiny_dataset), "--decisions", str(decisions))
    assert refused(result, 2, f"line 1: '{clip_name} rejct'"), result.stderr
    assert "line 2: no clip 'GT99_000'" in result.stderr
    assert meta.read_text() == before


def test_a_failed_dataset_build_leaves_nothing_to_refuse_a_retry(
    tiny_sources: dict[str, Path], tmp_path: Path
) -> None:
    """A build without backgrounds failed after estimating foregrounds into its folder (and
    said only "need at least one foreground and one background"); the retry was then refused
    for the files it had left."""
    out, empty = tmp_path / "ds", tmp_path / "no_backgrounds"
    empty.mkdir()
    args = ("dataset", "build", str(out), "--images", str(tiny_sources["images"]), "--frames",
            "2", "--clips-per-foreground", "1", "--height", "32", "--width", "48")  # fmt: skip
    failed = vidmatte(*args, "--backgrounds", str(empty))
    assert refused(failed, 2, "Invalid value for '--backgrounds'"), failed.stderr
    assert f"no background images or videos in {empty}" in _unwrapped(failed.stderr)
    assert not out.exists()
    retried = vidmatte(*args, "--backgrounds", str(tiny_sources["bg"]))
    assert retried.returncode == 0, retried.stderr
    assert list((out / "clips").iterdir())


def test_a_clip_with_a_broken_meta_file_is_named(tiny_dataset: Path, tmp_path: Path) -> None:
    """`error: JSONDecodeError: Expecting value` named no file (and review blamed --decisions,
    not given); a failed compress left its half copy, so the retry was refused."""
    import shutil

    copy = tmp_path / "ds"
    shutil.copytree(tiny_dataset, copy)
    meta = sorted((copy / "clips").iterdir())[0] / "meta.json"
    meta.write_text("junk")
    for command in (("train", str(copy), "--out", str(tmp_path / "run"), "--steps", "1"),
                    ("eval", str(copy), "--out", str(tmp_path / "eval")),
                    ("dataset", "review", str(copy)),
                    ("dataset", "compress", str(copy), str(tmp_path / "coded"))):  # fmt: skip
        result = vidmatte(*command)
        said = f"{meta} is not valid JSON"
        if command[0] == "eval":  # a usage error there, blamed on the argument
            said = f"Invalid value for 'DATASET': {said}"
        assert refused(result, 2 if command[0] == "eval" else 1, said), (command, result.stderr)
        assert "--decisions" not in result.stderr
    assert not (tmp_path / "coded").exists()


def test_a_background_that_is_no_image_or_video_is_one_error_line(
    tiny_sources: dict[str, Path], tmp_path: Path
) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    result = vidmatte("dataset", "build", str(tmp_path / "ds"), "--images",
                      str(tiny_sources["images"]), "--backgrounds", str(text))  # fmt: skip
    assert refused(result, 1, "error: "), result.stderr
    assert "notes.mp4" in result.stderr and not (tmp_path / "ds").exists()


def test_a_clip_folder_without_its_meta_file_is_named(tiny_dataset: Path, tmp_path: Path) -> None:
    """A stray folder in clips/ ended eval with `error: FileNotFoundError: [Errno 2] …`, a
    Python exception's name, not the argument at fault."""
    import shutil

    copy = tmp_path / "ds"
    shutil.copytree(tiny_dataset, copy)
    stray = copy / "clips" / "stray"
    stray.mkdir()
    result = vidmatte("eval", str(copy), "--out", str(tmp_path / "eval"))
    said = f"Invalid value for 'DATASET': {stray} has no meta.json"
    assert refused(result, 2, said), result.stderr


# -- serve on a data dir it cannot use ----------------------------------------------------------
def _made_with_a_project(data: Path, clip: Path) -> dict[Path, bytes]:
    """A data dir a real server made, holding one uploaded project: every file and its bytes."""
    server = LiveServer(data).start()
    try:
        with server.client() as api:
            upload(api, clip, "kept")
    finally:
        server.stop()
    return {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}


@pytest.mark.parametrize("damage", ["truncated", "not a database"])
def test_serve_names_a_damaged_database_and_touches_nothing(
    clip: Path, tmp_path: Path, damage: str
) -> None:
    """A damaged vidmatte.db (a crash mid-copy, a bad restore) ended serve in a traceback
    ("sqlite3.DatabaseError: database disk image is malformed") naming neither the file nor
    what to do."""
    data = tmp_path / "data"
    before = _made_with_a_project(data, clip)
    db = data / "vidmatte.db"
    db.write_bytes(before[db][: len(before[db]) // 2] if damage == "truncated" else b"<html>" * 99)
    before[db] = db.read_bytes()
    result = vidmatte("serve", "--port", str(free_port()), "--data-dir", str(data),
                      timeout=120, VIDMATTE_SAM2="test-tiny")  # fmt: skip
    assert refused(result, 1, f"error: the database {db} is damaged or is not vidmatte's"), (
        result.stderr[-2000:]
    )
    assert "restore the data dir from a backup" in result.stderr
    kept = {p: b for p, b in before.items() if p.name != "vidmatte.lock"}
    assert {p: p.read_bytes() for p in kept} == kept


@pytest.mark.parametrize("existing", [False, True], ids=["new data dir", "restart"])
def test_serve_on_a_full_disk_names_the_data_dir_s_disk(one_mb_disk: Path, existing: bool) -> None:
    """A new data dir on a full disk was blamed on the disk of /tmp; a server restarted after its
    disk filled up ended in a traceback ("sqlite3.OperationalError: disk I/O error")."""
    data = one_mb_disk / "data"
    if existing:
        Store(data).close()
    db = data / "vidmatte.db"
    kept = db.read_bytes() if existing else None
    fill(one_mb_disk)
    result = vidmatte("serve", "--port", str(free_port()), "--data-dir", str(data),
                      timeout=120, VIDMATTE_SAM2="test-tiny")  # fmt: skip
    assert refused(result, 1, f"error: no space left on the disk of {data}: free some space"), (
        result.stderr[-2000:]
    )
    assert (db.read_bytes() if existing else None) == kept


def test_serve_refuses_an_address_it_cannot_listen_on_naming_host(tmp_path: Path) -> None:
    """An address not of this machine, or a name that does not resolve, was blamed on the
    port ("another server may hold the port: choose another with --port")."""
    for host in ("192.0.2.1", "no-such-host.invalid"):  # TEST-NET-1, never assigned; RFC 2606
        result = vidmatte("serve", "--host", host, "--port", "8123", "--sam2", "test-tiny",
                          "--data-dir", str(tmp_path / "data"), timeout=120)  # fmt: skip
        assert refused(result, 1, f"error: cannot listen on {host}:8123: "), result.stderr
        assert "give an address of this machine with --host" in result.stderr, result.stderr
        assert "--port" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_serve_refuses_a_negative_limit_before_opening_the_data_dir(tmp_path: Path) -> None:
    """VIDMATTE_MAX_UPLOAD_BYTES=-1 started a server that refused every upload ("upload too
    large: the limit is -1 bytes"). The line is the setting's alone: it began "ValueError:"."""
    data = tmp_path / "data"
    result = vidmatte("serve", "--sam2", "test-tiny", "--data-dir", str(data), timeout=120,
                      VIDMATTE_MAX_UPLOAD_BYTES="-1")  # fmt: skip
    assert refused(result, 2, "error: VIDMATTE_MAX_UPLOAD_BYTES must be a whole number of at "
                   "least 1, not '-1'\n"), result.stderr  # fmt: skip
    assert not data.exists()


def test_matte_refuses_a_switch_that_is_not_1_or_0(clip: Path, tmp_path: Path) -> None:
    """VIDMATTE_COMPILE=yes matted uncompiled without a word, as any value but 1 did."""
    out = tmp_path / "out"
    result = vidmatte("matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny",
                      "--out", str(out), VIDMATTE_COMPILE="yes")  # fmt: skip
    assert refused(result, 2, "error: VIDMATTE_COMPILE must be 1 or 0, not 'yes'\n"), result.stderr
    assert "matting" not in result.stdout and not out.exists()


def test_a_bad_setting_is_blamed_on_its_variable_alone(clip: Path, tmp_path: Path) -> None:
    """`matte` read the settings while checking VIDMATTE_EXPORT_FG, and blamed another
    variable's bad value on it."""
    result = vidmatte("matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny",
                      "--out", str(tmp_path / "out"), VIDMATTE_MAX_PROJECTS="many")  # fmt: skip
    assert (
        result.stderr
        == ("error: VIDMATTE_MAX_PROJECTS must be a whole number of at least 0, not 'many'\n")
        and result.returncode == 2
    )


@pytest.mark.parametrize("below", [False, True], ids=["a file", "below a file"])
def test_serve_refuses_a_data_dir_that_is_a_file_naming_it(tmp_path: Path, below: bool) -> None:
    """A --data-dir below a file ended in "NotADirectoryError: [Errno 20] Not a directory",
    naming neither the option nor the file."""
    file = tmp_path / "notes.txt"
    file.write_bytes(b"keep me")
    data = file / "data" if below else file
    result = vidmatte("serve", "--port", str(free_port()), "--data-dir", str(data),
                      timeout=120, VIDMATTE_SAM2="test-tiny")  # fmt: skip
    said = f"{data} cannot be made: {file}" if below else str(file)
    assert result.stderr == f"error: --data-dir {said} is a file; give a folder\n", result.stderr[
        -2000:
    ]
    assert result.returncode == 2 and file.read_bytes() == b"keep me"


def test_serve_refuses_a_data_dir_of_a_newer_vidmatte_and_touches_nothing(
    tmp_path: Path,
) -> None:
    """A database whose schema version is newer than this vidmatte's was opened and written to
    as if it were its own."""
    data = tmp_path / "data"
    Store(data).close()
    db = data / "vidmatte.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    result = vidmatte("serve", "--port", str(free_port()), "--data-dir", str(data),
                      timeout=120, VIDMATTE_SAM2="test-tiny")  # fmt: skip
    assert result.returncode == 2 and result.stderr.startswith(
        f"error: the database {db} was written by a newer vidmatte "
    ), result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and "upgrade vidmatte" in result.stderr
    kept = {p: b for p, b in before.items() if p.name != "vidmatte.lock"}
    assert {p: p.read_bytes() for p in kept} == kept


def test_ctrl_c_while_torch_loads_ends_in_one_line(tmp_path: Path) -> None:
    """Ctrl-C while `serve` was still importing torch (seconds, before the command runs)
    printed the import's traceback."""
    data = tmp_path / "data"
    # Tests started in the background by a script (`./.ci/run &`) ignore SIGINT, as a shell
    # does for its background jobs, and a child inherits that, so its Python would never turn
    # the signal into KeyboardInterrupt: the child is started with the default handling.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        run = subprocess.Popen(
            [sys.executable, "-m", "vidmatte.cli", "serve", "--data-dir", str(data)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
    finally:
        signal.signal(signal.SIGINT, previous)
    maps = Path(f"/proc/{run.pid}/maps")
    # torch's library is mapped as its import begins, seconds before the import ends

    def loading() -> bool:
        return run.poll() is None and "libtorch_cpu" in maps.read_text()

    assert wait_until(loading, seconds=120, every=0.01), run.communicate()[1]
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert (run.returncode, stderr) == (130, "error: interrupted while starting\n")
    assert not data.exists()


TRAIN_FAST = ("--batch-size", "1", "--crop", "32", "--device", "cpu")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_during_train_keeps_a_checkpoint_to_go_on_from(
    tiny_dataset: Path, tmp_path: Path, stop: int
) -> None:
    """Ctrl-C lost every step since the last checkpoint (one each 100 steps: all of a short
    run) without a word, and a `kill` (SIGTERM) the same. Now the run stops after the step in
    hand, saves its checkpoint there and says how to go on, exit code 130."""
    out = tmp_path / "run"
    base = ("train", str(tiny_dataset), "--out", str(out), *TRAIN_FAST)
    run = subprocess.Popen(
        [sys.executable, "-m", "vidmatte.cli", *base, "--steps", "1000000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    checkpoint = out / "checkpoint.pt"
    wait_until(lambda: checkpoint.is_file() or run.poll() is not None, seconds=240, every=0.05)
    assert checkpoint.is_file(), "no checkpoint in time"
    run.send_signal(stop)
    _, stderr = run.communicate(timeout=120)
    step = torch.load(checkpoint, weights_only=False)["step"]
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr and step >= 100
    assert (
        f"error: interrupted at step {step} of 1000000; {checkpoint} holds it: run the same "
        "command again to go on" in stderr
    )
    # A second Ctrl-C would not keep "nothing": the checkpoint last saved stays.
    assert "(Ctrl-C again quits now, keeping only the last checkpoint saved" in stderr
    assert not (out / "matting_head.safetensors").exists()  # the run did not finish
    resumed = vidmatte(*base, "--steps", str(step + 1))
    assert resumed.returncode == 0, resumed.stderr
    card = json.loads((out / "matting_head.json").read_text())
    assert card["training"]["steps_done"] == step + 1


def test_a_learning_rate_that_diverges_is_refused_and_keeps_the_earlier_run(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    """--lr 1e30 trained weights to NaN and infinity without a word (exit 0) and wrote them
    over the earlier run's checkpoint and weights: eval then printed nan for every metric."""
    out = tmp_path / "run"
    base = ("train", str(tiny_dataset), "--out", str(out), *TRAIN_FAST)
    first = vidmatte(*base, "--steps", "2")
    assert first.returncode == 0, first.stderr
    kept = [out / "checkpoint.pt", out / "matting_head.safetensors"]
    before = [path.read_bytes() for path in kept]
    result = vidmatte(*base, "--steps", "8", "--lr", "1e30")
    assert refused(result, 2, "Invalid value for '--lr': training diverged at step "), result.stderr
    assert "give a lower --lr than 1e+30" in result.stderr
    assert f"{out / 'checkpoint.pt'} keeps step 2" in result.stderr
    assert [path.read_bytes() for path in kept] == before


def test_eval_refuses_a_head_whose_inputs_the_clips_lack_before_any_work(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    """A head trained with --sam-features, evaluated on clips without SAM2's features (or of
    another SAM2 size), failed after the other methods had run on every clip, their results
    lost: 'this head was trained with SAM2's features: pass feat_s0/feat_s1', naming no file."""
    import shutil

    from vidmatte.matte import HeadConfig, MattingHead, save_head

    weights = tmp_path / "sam_head.safetensors"
    config = HeadConfig(use_sam_features=True, base_channels=8, working_size=96)
    save_head(weights, MattingHead(config), {})
    other = tmp_path / "ds"  # clips with the features of a SAM2 of other widths
    shutil.copytree(tiny_dataset, other)
    for folder in (other / "clips").iterdir():
        frames = len(list((folder / "rgb").iterdir()))
        np.savez(folder / "features.npz", feat_s0=np.zeros((frames, 16, 8, 8), np.float16),
                 feat_s1=np.zeros((frames, 24, 4, 4), np.float16))  # fmt: skip
    for dataset, has in [(tiny_dataset, "none"), (other, "{'feat_s0': 16, 'feat_s1': 24}")]:
        out = tmp_path / "eval"
        result = vidmatte("eval", str(dataset), "--weights", str(weights), "--out", str(out),
                          "--methods", "raw,head")  # fmt: skip
        said = (
            f"Invalid value for '--weights': {weights} takes SAM2's features "
            f"{{'feat_s0': 32, 'feat_s1': 64}}; the clips of {dataset} have {has}"
        )
        assert refused(result, 2, said), result.stderr
        assert "--masks sam2" in result.stderr
        assert "evaluating" not in result.stdout + result.stderr and not out.exists()


def _package_copy(root: Path, checkout: bool) -> Path:
    """A copy of the vidmatte package laid out as a source checkout (pyproject.toml beside
    backend/) or as an installed one, so its default head path is a test's own, never the real
    models/ folder. Returns the folder to put on PYTHONPATH."""
    site = root / "backend" if checkout else root / "site"
    shutil.copytree(
        Path(vidmatte_package.__file__).parent,
        site / "vidmatte",
        ignore=shutil.ignore_patterns("__pycache__", "models", "frontend"),
    )
    if checkout:
        (root / "pyproject.toml").write_text("")
    return site


@pytest.mark.parametrize("checkout", [True, False], ids=["checkout", "installed"])
def test_a_missing_or_damaged_shipped_head_says_how_to_restore_it(
    clip: Path, tmp_path: Path, checkout: bool
) -> None:
    """Without the shipped head the errors named --head, --random-head or `vidmatte train`, not
    how to get the shipped weights back."""
    site = _package_copy(tmp_path / "root", checkout)
    head = (tmp_path / "root" / "models" if checkout else site / "vidmatte" / "models") / (
        "matting_head.safetensors"
    )
    fix = (
        f"git -C {tmp_path / 'root'} checkout -- models/matting_head.safetensors "
        "models/matting_head.json"
        if checkout
        else "reinstall vidmatte"
    )
    # cwd: `python -m` puts it first on sys.path, and backend/ holds the real package
    copy = {"cwd": tmp_path, "PYTHONPATH": str(site)}
    base = ("matte", str(clip), "--point", "30,32,4", "--out", str(tmp_path / "out"))
    missing = vidmatte(*base, "--sam2", "test-tiny", **copy)
    assert refused(missing, 2, f"no matting head weights at {head}"), missing.stderr
    assert fix in missing.stderr, missing.stderr
    head.parent.mkdir(parents=True, exist_ok=True)
    head.write_bytes(b"junk!")
    damaged = vidmatte("serve", "--sam2", "test-tiny", "--port", str(free_port()),
                       "--data-dir", str(tmp_path / "data"), **copy)  # fmt: skip
    assert refused(damaged, 2, f"{head} is not a matting head's weights"), damaged.stderr
    assert fix in damaged.stderr, damaged.stderr


def test_a_missing_head_given_with_head_names_only_that_path(clip: Path, tmp_path: Path) -> None:
    gone = tmp_path / "gone.safetensors"
    base = ("matte", str(clip), "--point", "30,32,4", "--out", str(tmp_path / "out"))
    result = vidmatte(*base, "--sam2", "test-tiny", "--head", str(gone))
    assert refused(result, 2, f"no matting head weights at {gone}"), result.stderr
    assert "git" not in result.stderr and "reinstall" not in result.stderr, result.stderr


def _unwrapped(stderr: str) -> str:
    """typer's error panel as one line: its border gone, the lines it wrapped at spaces joined."""
    return " ".join(stderr.replace("│", " ").split())


def test_train_refuses_an_out_holding_weights_without_a_checkpoint(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    """`vidmatte train DS --out models --steps 2` wrote a 2-step head over the shipped
    models/matting_head.safetensors (and its card) without a word."""
    import shutil

    out = tmp_path / "models"
    out.mkdir()
    shipped = Path(__file__).resolve().parents[2] / "models"
    for name in ("matting_head.safetensors", "matting_head.json"):
        shutil.copy(shipped / name, out / name)
    before = {p: p.read_bytes() for p in out.iterdir()}
    result = vidmatte("train", str(tiny_dataset), "--out", str(out), *TRAIN_FAST, "--steps", "2")
    said = _unwrapped(result.stderr)
    assert refused(result, 2, "Invalid value for '--out'"), result.stderr
    assert f"{out / 'matting_head.safetensors'} and no checkpoint.pt" in said, said
    assert "choose another --out" in said, said
    assert {p: p.read_bytes() for p in out.iterdir()} == before  # nothing written, none replaced


def test_a_clip_whose_layers_lack_a_frame_is_named(tiny_dataset: Path, tmp_path: Path) -> None:
    """A clip missing pha/00001.png: train died with an IndexError traceback, eval said
    `error: ValueError: zip() argument 2 is shorter than argument 1` naming no clip, and a
    frame missing in the middle paired every later frame with the next one's alpha."""
    import shutil

    copy = tmp_path / "ds"
    shutil.copytree(tiny_dataset, copy)
    clip = sorted((copy / "clips").iterdir())[0]
    (clip / "pha" / "00001.png").unlink()
    train = ("train", str(copy), "--out", str(tmp_path / "run"), *TRAIN_FAST, "--steps", "1")
    evaluate = ("eval", str(copy), "--out", str(tmp_path / "eval"), "--methods", "raw")
    for command in (train, evaluate):
        result = vidmatte(*command)
        said = _unwrapped(result.stderr)
        assert refused(result, 2, "Invalid value for 'DATASET'"), (command, result.stderr)
        assert f"{clip}: pha/ lacks 00001.png" in said, (command, said)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


@pytest.mark.parametrize("command", ["train", "eval"])
def test_train_and_eval_refuse_an_out_they_cannot_make_before_any_work(
    tiny_dataset: Path, tmp_path: Path, command: str
) -> None:
    """`--out` below a file, or where nothing can be made, ended in `error: NotADirectoryError`
    or `FileNotFoundError` (exit 1), naming neither the option nor the fix."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    extra = (*TRAIN_FAST, "--steps", "1") if command == "train" else ("--methods", "raw")
    for out in (blocker / "run", Path("/proc/vidmatte-out")):
        result = vidmatte(command, str(tiny_dataset), "--out", str(out), *extra)
        assert refused(result, 2, f"Invalid value for '--out': {out} cannot be made"), result.stderr
        assert "training" not in result.stdout + result.stderr
        assert "evaluating" not in result.stdout + result.stderr


def test_dataset_commands_name_a_dataset_without_clips(tmp_path: Path) -> None:
    """An empty clips/ folder: train said "training needs clips with at least 2 (sampled)
    frames" (exit 1), review "0 of 0 clips accepted" (exit 0) and compress
    `FileNotFoundError: ... dataset.json`, none naming the dataset."""
    empty = tmp_path / "ds"
    (empty / "clips").mkdir(parents=True)
    for command in (("train", str(empty), "--out", str(tmp_path / "run"), *TRAIN_FAST),
                    ("eval", str(empty), "--out", str(tmp_path / "eval")),
                    ("dataset", "review", str(empty)),
                    ("dataset", "compress", str(empty), str(tmp_path / "coded"))):  # fmt: skip
        result = vidmatte(*command)
        assert refused(result, 2, f"{empty} holds no clips"), (command, result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]  # nothing half made
    assert [p.name for p in empty.iterdir()] == ["clips"]


def test_dataset_review_and_compress_name_a_clip_whose_layers_differ(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    """They ended in `error: ClipError: ...` with exit 1, where train and eval blame DATASET."""
    copy = tmp_path / "ds"
    shutil.copytree(tiny_dataset, copy)
    folder = sorted((copy / "clips").iterdir())[0]
    (folder / "pha" / "00001.png").unlink()
    for command in (("dataset", "review", str(copy)),
                    ("dataset", "compress", str(copy), str(tmp_path / "coded"))):  # fmt: skip
        result = vidmatte(*command)
        said = f"Invalid value for 'DATASET': {folder}: pha/ lacks 00001.png"
        assert refused(result, 2, said), (command, result.stderr)
        assert "ClipError" not in result.stderr
    assert not (tmp_path / "coded").exists()


@pytest.mark.parametrize("case", ["all_rejected", "too_short"])
def test_train_names_a_dataset_without_a_clip_to_pair(
    tiny_dataset: Path, tmp_path: Path, case: str
) -> None:
    """Every clip rejected by review, or under 2 frames as sampled: train read every clip, then
    said `error: ValueError: training needs clips with at least 2 (sampled) frames` (exit 1),
    naming neither the dataset nor what to do."""
    copy = tmp_path / "ds"
    shutil.copytree(tiny_dataset, copy)
    extra: tuple[str, ...] = ()
    if case == "all_rejected":
        for folder in (copy / "clips").iterdir():
            meta = folder / "meta.json"
            meta.write_text(json.dumps({**json.loads(meta.read_text()), "review": "reject"}))
        fix = "all 3 of its clips are rejected: accept some with `vidmatte dataset review"
    else:
        extra = ("--every-nth", "3")  # its clips hold 3 frames: one each sampled
        fix = "its clips of at most 3 frames give 1 each at --every-nth 3: give a lower --every-nth"
    out = tmp_path / "run"
    result = vidmatte("train", str(copy), "--out", str(out), *TRAIN_FAST, "--steps", "1", *extra)
    said = _unwrapped(result.stderr)
    assert refused(result, 2, "Invalid value for 'DATASET'"), result.stderr
    assert f"{copy} has no clip to train on" in said and fix in said, said
    assert "training" not in result.stdout and not out.exists()


def test_train_names_a_clip_whose_sam2_features_hold_other_frames(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    """A features.npz one frame short ended `train --sam-features` in an IndexError traceback
    at whichever step first drew its last frame."""
    copy = tmp_path / "ds"
    shutil.copytree(tiny_dataset, copy)
    folders = sorted((copy / "clips").iterdir())
    for folder in folders:
        frames = 2 if folder == folders[-1] else 3
        np.savez(folder / "features.npz", feat_s0=np.zeros((frames, 8, 8, 8), np.float16),
                 feat_s1=np.zeros((frames, 16, 4, 4), np.float16))  # fmt: skip
    out = tmp_path / "run"
    result = vidmatte("train", str(copy), "--sam-features", "--out", str(out), *TRAIN_FAST)
    said = _unwrapped(result.stderr)
    assert refused(result, 2, "Invalid value for 'DATASET'"), result.stderr
    assert f"{folders[-1]}: features.npz holds 2 frames of feat_s0, rgb/ 3" in said, said
    assert not out.exists()


def test_dataset_build_refuses_an_out_it_cannot_make_before_any_work(
    tiny_sources: dict[str, Path],
) -> None:
    """An OUT where nothing can be made was found when the first clip or foreground estimate
    was written, after the slow work before it: `error: FileNotFoundError: [Errno 2] ...`,
    exit 1, naming neither the argument nor the fix."""
    out = Path("/proc/vidmatte-dataset")
    result = vidmatte("dataset", "build", str(out), "--videos", str(tiny_sources["video"]),
                      "--backgrounds", str(tiny_sources["bg"]), "--frames", "2")  # fmt: skip
    assert refused(result, 2, f"Invalid value for 'OUT': {out} cannot be made"), result.stderr
    assert "building clips" not in result.stdout + result.stderr


def test_dataset_build_blames_an_unknown_sam2_on_its_option(
    tiny_sources: dict[str, Path], tmp_path: Path
) -> None:
    """`--masks sam2 --sam2 huge` said `error: ValueError: unknown SAM2 model 'huge'`, exit 1,
    not naming the option."""
    out = tmp_path / "ds"
    result = vidmatte("dataset", "build", str(out), "--videos", str(tiny_sources["video"]),
                      "--backgrounds", str(tiny_sources["bg"]), "--masks", "sam2",
                      "--sam2", "huge")  # fmt: skip
    assert refused(result, 2, "Invalid value for '--sam2': unknown SAM2 model 'huge'"), (
        result.stderr
    )
    assert not out.exists()


def test_dataset_build_names_every_photo_of_another_size_than_its_alpha_before_any_work(
    tiny_sources: dict[str, Path], tmp_path: Path
) -> None:
    """A photo whose alpha is another size was found at its turn, after the foreground
    estimates of the photos before it: `error: ValueError: ...`, exit 1, one photo named (and
    before that check, the build wrote clips whose alpha did not line up with the photo)."""
    images = tmp_path / "set"
    shutil.copytree(tiny_sources["images"], images)
    with Image.open(images / "image" / "A01.png") as photo:
        width, height = photo.size
        for name in ("B", "C"):
            photo.save(images / "image" / f"{name}.png")
            photo.convert("L").resize((width // 2, height)).save(images / "alpha" / f"{name}.png")
    out = tmp_path / "ds"
    result = vidmatte("dataset", "build", str(out), "--images", str(images), "--backgrounds",
                      str(tiny_sources["bg"]), "--frames", "2")  # fmt: skip
    said = _unwrapped(result.stderr)
    assert refused(result, 2, "Invalid value for '--images'"), result.stderr
    for name in ("B", "C"):
        misfit = f"{name}.png is {width}x{height} but its alpha is {width // 2}x{height}"
        assert misfit in said, said
    assert not out.exists()


def test_dataset_build_names_every_photo_without_an_alpha_before_any_work(
    tiny_sources: dict[str, Path], tmp_path: Path
) -> None:
    """A photo without an alpha was found when its turn came, after estimating the foregrounds
    of those before it (minutes each for real photos, and their cache went with the failed
    build): `error: FileNotFoundError: B.png has no alpha in ...`, exit 1, one photo named."""
    images = tmp_path / "set"
    shutil.copytree(tiny_sources["images"], images)
    for name in ("B", "C"):
        shutil.copy(images / "image" / "A01.png", images / "image" / f"{name}.png")
    out = tmp_path / "ds"
    result = vidmatte("dataset", "build", str(out), "--images", str(images), "--backgrounds",
                      str(tiny_sources["bg"]), "--frames", "2")  # fmt: skip
    said = _unwrapped(result.stderr)
    assert refused(result, 2, "Invalid value for '--images'"), result.stderr
    assert f"{images / 'alpha'} holds no alpha of the same name for B.png, C.png in" in said, said
    assert not out.exists()
    # Photos left out with --names need none.
    picked = vidmatte("dataset", "build", str(out), "--images", str(images), "--backgrounds",
                      str(tiny_sources["bg"]), "--frames", "2", "--names", "A01",
                      "--height", "32", "--width", "48")  # fmt: skip
    assert picked.returncode == 0, picked.stderr
