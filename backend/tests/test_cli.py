"""The `vidmatte` command as a user runs it: real subprocesses, real files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def vidmatte(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "vidmatte.cli", *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
        env=env,
        cwd=cwd,
    )


def test_matte_writes_every_frame(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = vidmatte(
        "matte",
        str(clip),
        "--point",
        "30,32,4",
        "--point",
        "90,5,4,neg",
        "--start",
        "2",
        "--end",
        "9",
        "--out",
        str(out),
        "--formats",
        "alpha_png,alpha_mp4",
        "--sam2",
        "test-tiny",
    )
    assert result.returncode == 0, result.stderr
    assert "wrote alpha_png, alpha_mp4 for frames 2..9" in result.stdout
    mattes = sorted((out / "alpha").iterdir())
    assert [m.name for m in mattes] == [f"{i:06d}.png" for i in range(2, 10)]
    for path in mattes:
        alpha = np.asarray(Image.open(path))
        assert alpha.shape == (64, 96) and alpha.dtype == np.uint8
    assert len(list(out.glob("*_alpha.mp4"))) == 1


def test_matte_with_the_background_plate(clip: Path, tmp_path: Path) -> None:
    """--plate on (what auto, the default, means on every device) mattes every frame on the CPU."""
    out = tmp_path / "plate"
    result = vidmatte(
        "matte", str(clip), "--point", "30,32,4", "--end", "7", "--plate", "on",
        "--sam2", "test-tiny", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    mattes = [np.asarray(Image.open(p)) for p in sorted((out / "alpha").iterdir())]
    assert len(mattes) == 8 and all(m.shape == (64, 96) for m in mattes)


def test_matte_rejects_bad_input(clip: Path, tmp_path: Path) -> None:
    outside = vidmatte(
        "matte",
        str(clip),
        "--point",
        "300,32,4",
        "--sam2",
        "test-tiny",
        "--out",
        str(tmp_path / "a"),
    )
    assert outside.returncode == 2
    assert "'--point': point (300, 32) is outside the 96x64 frame" in outside.stderr
    malformed = vidmatte("matte", str(clip), "--point", "30;32", "--sam2", "test-tiny")
    assert malformed.returncode == 2
    assert "'--point': '30;32': expected x,y,frame" in malformed.stderr
    no_points = vidmatte(
        "matte",
        str(clip),
        "--point",
        "30,32,1",
        "--start",
        "5",
        "--sam2",
        "test-tiny",
        "--out",
        str(tmp_path / "b"),
    )
    assert no_points.returncode == 2
    assert "no --point or --box lies on a frame in 5..11" in no_points.stderr
    bad_edges = vidmatte(
        "matte",
        str(clip),
        "--point",
        "30,32,4",
        "--sam2",
        "test-tiny",
        "--edges",
        "sharp",
        "--out",
        str(tmp_path / "c"),
    )
    assert bad_edges.returncode == 2
    assert "edges must be one of best, fast, none, not 'sharp'" in bad_edges.stderr
    bad_plate = vidmatte(
        "matte", str(clip), "--point", "30,32,4", "--sam2", "test-tiny", "--plate", "maybe",
        "--out", str(tmp_path / "c"),
    )  # fmt: skip
    assert bad_plate.returncode == 2
    assert "plate must be one of auto, on, off, not 'maybe'" in bad_plate.stderr
    assert not (tmp_path / "c" / "alpha").exists()
    assert not (tmp_path / "a").exists() and not (tmp_path / "b" / "alpha").exists()


def test_matte_with_boxes_alone_and_with_clicks(clip: Path, tmp_path: Path) -> None:
    """A box picks an object without a click; named objects take a box each, clicks correct."""
    out = tmp_path / "out"
    result = vidmatte(
        "matte", str(clip), "--box", "disk:55,50,18,14,4", "--point", "disk:90,5,4,neg",
        "--box", "corner:0,0,20,20,6", "--start", "3", "--end", "7", "--out", str(out),
        "--sam2", "test-tiny",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "wrote alpha_png for frames 3..7" in result.stdout
    for name in ("disk", "corner"):
        mattes = sorted((out / "alpha" / name).iterdir())
        assert [m.name for m in mattes] == [f"{i:06d}.png" for i in range(3, 8)]
    alone = vidmatte(
        "matte", str(clip), "--box", "10,10,40,40,2", "--end", "3", "--out", str(tmp_path / "a"),
        "--sam2", "test-tiny",
    )  # fmt: skip
    assert alone.returncode == 0, alone.stderr
    assert len(list((tmp_path / "a" / "alpha").iterdir())) == 4


def test_matte_refuses_bad_boxes_before_any_work(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    base = ("matte", str(clip), "--sam2", "test-tiny", "--out", str(out))
    refusals = {
        "30,32,4": "'--box': '30,32,4': expected x0,y0,x1,y1,frame",
        "10,10,10.5,40,4": "'--box': the box from (10, 10) to (10.5, 40) is degenerate",
        "10,10,100,40,4": "'--box': point (100, 40) is outside the 96x64 frame",
        "10,10,40,40,12": "'--box': frame 12 is outside the video (0..11)",
    }
    for box, message in refusals.items():
        result = vidmatte(*base, "--box", box)
        assert result.returncode == 2 and message in " ".join(result.stderr.split()), box
    twice = vidmatte(*base, "--box", "a:1,1,9,9,4", "--box", "a:2,2,8,8,4")
    assert twice.returncode == 2
    assert "2 boxes for a on frame 4: one box per object and frame" in twice.stderr
    neither = vidmatte(*base)
    assert neither.returncode == 2 and "give a --point or a --box" in neither.stderr
    assert not out.exists()


def test_serve_without_checkpoint_names_the_download_command(tmp_path: Path) -> None:
    result = vidmatte(
        "serve",
        "--sam2",
        "large",
        "--checkpoint-dir",
        str(tmp_path),
        "--data-dir",
        str(tmp_path / "data"),
    )
    assert result.returncode == 2
    assert "vidmatte weights download large" in result.stderr


def test_serve_refuses_an_unknown_export_colour_setting(tmp_path: Path) -> None:
    """A bad VIDMATTE_EXPORT_FG stops the server at start, not every archive with a 500."""
    env = {**os.environ, "COLUMNS": "200", "VIDMATTE_EXPORT_FG": "clean"}
    serve = ["serve", "--sam2", "test-tiny", "--data-dir", str(tmp_path / "data")]
    result = subprocess.run(
        [sys.executable, "-m", "vidmatte.cli", *serve],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,  # a server that started anyway would run until then
        env=env,
    )
    assert result.returncode == 2
    assert "VIDMATTE_EXPORT_FG must be one of estimated, raw, not 'clean'" in result.stderr
    assert not (tmp_path / "data" / "vidmatte.db").exists()


def test_dataset_train_eval_chain(tmp_path: Path) -> None:
    """The training workflow as commands: build clips, review, train two steps, evaluate."""
    from vidmatte.train.toy import toy_sources

    src = toy_sources(tmp_path / "src")
    data, run, report = tmp_path / "clips", tmp_path / "run", tmp_path / "eval"
    built = vidmatte(
        "dataset",
        "build",
        str(data),
        "--images",
        str(src["images"]),
        "--backgrounds",
        str(src["bg"]),
        "--clips-per-foreground",
        "1",
        "--frames",
        "3",
        "--height",
        "48",
        "--width",
        "64",
        "--codec",
        "1",
        "--strands",
        "1",
    )
    assert built.returncode == 0, built.stderr
    clips = sorted((data / "clips").iterdir())
    assert len(clips) == 3 and clips[-1].name == "fur000_000"
    settings = json.loads((data / "dataset.json").read_text())
    assert settings["clip"]["codec_p"] == 1.0 and settings["strands"] == 1
    coded = vidmatte("dataset", "compress", str(data), str(tmp_path / "h264"), "--crf", "30")
    assert coded.returncode == 0, coded.stderr
    assert json.loads((tmp_path / "h264" / "dataset.json").read_text())["h264_crf"] == 30
    assert len(list((tmp_path / "h264" / "clips").iterdir())) == 3
    again = vidmatte("dataset", "compress", str(data), str(tmp_path / "h264"))
    assert again.returncode == 2 and "exists" in again.stderr
    (tmp_path / "decisions.txt").write_text(f"{clips[0].name} reject\n")
    reviewed = vidmatte(
        "dataset", "review", str(data), "--decisions", str(tmp_path / "decisions.txt")
    )
    assert reviewed.returncode == 0 and "2 of 3 clips accepted" in reviewed.stdout
    trained = vidmatte(
        "train",
        str(data),
        "--out",
        str(run),
        "--steps",
        "2",
        "--batch-size",
        "1",
        "--crop",
        "32",
        "--device",
        "cpu",
    )
    assert trained.returncode == 0, trained.stderr
    assert (run / "matting_head.safetensors").exists() and (run / "loss.png").exists()
    scored = vidmatte(
        "eval",
        str(data),
        "--weights",
        str(run / "matting_head.safetensors"),
        "--out",
        str(report),
        "--methods",
        "raw,head",
    )
    assert scored.returncode == 0, scored.stderr
    csv = next(report.glob("*.csv")).read_text()
    assert "raw" in csv and "head" in csv and "MAD" in csv
    bad = vidmatte("dataset", "build", str(tmp_path / "x"), "--masks", "magic")
    assert bad.returncode == 2 and "synthetic or sam2" in bad.stderr
    no_features = vidmatte("train", str(data), "--out", str(tmp_path / "r2"), "--sam-features")
    assert no_features.returncode == 2 and "--masks sam2" in no_features.stderr


def test_weights_download_checks_the_digest(tmp_path: Path, file_server) -> None:
    url, payload = file_server
    folder = tmp_path / "ckpt"
    bad = vidmatte(
        "weights", "download", "tiny", "--dir", str(folder), "--url", url, "--sha256", "0" * 64
    )
    assert bad.returncode == 1 and "checksum mismatch" in bad.stderr
    assert not (folder / "sam2.1_hiera_tiny.pt").exists()
    good = vidmatte(
        "weights",
        "download",
        "tiny",
        "--dir",
        str(folder),
        "--url",
        url,
        "--sha256",
        hashlib.sha256(payload).hexdigest(),
    )
    assert good.returncode == 0, good.stderr
    assert (folder / "sam2.1_hiera_tiny.pt").read_bytes() == payload
    local = vidmatte(
        "weights", "download", "tiny", "--dir", str(folder), "--url", "file:///etc/passwd"
    )
    assert local.returncode == 1 and "https only; for a local copy use --mirror" in local.stderr
    mirrored = vidmatte(
        "weights",
        "download",
        "tiny",
        "--dir",
        str(tmp_path / "m"),
        "--mirror",
        str(tmp_path / "www"),
    )
    assert mirrored.returncode == 0, mirrored.stderr
    assert (tmp_path / "m" / "sam2.1_hiera_tiny.pt").read_bytes() == payload
    unknown = vidmatte("weights", "download", "huge", "--dir", str(folder))
    assert unknown.returncode == 2 and "unknown SAM2 model 'huge'" in unknown.stderr


def test_help_shows_bracketed_notes_as_written() -> None:
    """Option help holds `[env VIDMATTE_…]` and `[OBJECT:]X,Y,FRAME[,neg]`: text, not markup
    for the help's renderer to swallow."""
    serve = " ".join(vidmatte("serve", "--help").stdout.split())  # as one line, unwrapped
    assert "Where projects and results live [env VIDMATTE_DATA_DIR]." in serve
    assert "live ." not in serve
    matte = " ".join(vidmatte("matte", "--help").stdout.split())
    assert "--point [OBJECT:]X,Y,FRAME[,neg] A click in video pixels" in matte
