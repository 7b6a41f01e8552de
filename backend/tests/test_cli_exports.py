"""`vidmatte matte` with several named objects and the issue-14 formats: real subprocess, real
files."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import OpenEXR
import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.media.test_video import ALPHA_NOTE, write_with_alpha
from tests.test_cli import vidmatte
from vidmatte.cli import app
from vidmatte.matte.adjust import adjust_matte


def test_matte_writes_one_matte_per_object(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = vidmatte(
        "matte",
        str(clip),
        "--point",
        "disk:30,32,4",
        "--point",
        "corner:88,6,4",
        "--start",
        "3",
        "--end",
        "5",
        "--out",
        str(out),
        "--formats",
        "alpha_png16,exr",
        "--mattes",
        "both",
        "--fg",
        "raw",
        "--shift-edge",
        "1",
        "--sam2",
        "test-tiny",
        "--random-head",
        "--head",
        str(tmp_path / "none.safetensors"),
    )
    assert result.returncode == 0, result.stderr
    assert "wrote alpha_png16, exr for frames 3..5" in result.stdout
    frames = [f"{i:06d}" for i in range(3, 6)]
    for layer in ("disk", "corner", "union"):
        assert sorted(p.stem for p in (out / "alpha16" / layer).iterdir()) == frames
        assert sorted(p.stem for p in (out / "exr" / layer).iterdir()) == frames
    own = {
        layer: np.asarray(Image.open(out / "alpha16" / layer / "000004.png")).astype(np.int64)
        for layer in ("disk", "corner", "union")
    }
    # Grown by a whole pixel each (a union grown is the union of the grown ones): an opening
    # (choke, then grow, by 1) leaves a grown matte as it is, and changed this one by ~1000.
    np.testing.assert_array_equal(own["union"], np.maximum(own["disk"], own["corner"]))
    disk = own["disk"].astype(np.float32) / 65535
    opened = adjust_matte(adjust_matte(disk, -1), 1)
    np.testing.assert_array_equal(np.round(opened * 65535), own["disk"])
    with OpenEXR.File(str(out / "exr" / "disk" / "000004.exr"), separate_channels=True) as exr:
        alpha = exr.channels()["A"].pixels.astype(np.float64)
    assert np.abs(alpha - own["disk"] / 65535).max() <= 1 / 255


def test_matte_shows_the_progress_of_the_export(clip: Path, tmp_path: Path) -> None:
    """The export after the matting passed without a word (22 s for 60 frames of 720p in
    ProRes, EXR and a composite): the matting bar stood at its end meanwhile."""
    out = tmp_path / "out"
    result = vidmatte(
        "matte", str(clip), "--point", "30,32,4", "--start", "2", "--end", "9", "--out", str(out),
        "--formats", "rgba_png,exr,composite_mp4", "--sam2", "test-tiny",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # As the matting bar, on stdout: stderr stays for errors.
    exporting = [line for line in result.stdout.splitlines() if line.startswith("exporting")]
    assert len(exporting) == 1 and " 8/8 frames " in exporting[0], result.stdout
    assert result.stdout.index("matting") < result.stdout.index("exporting")
    assert result.stdout.index("exporting") < result.stdout.index("wrote rgba_png, exr")


def test_matte_rejects_a_bad_mattes_choice(clip: Path, tmp_path: Path) -> None:
    """Named as every other bad choice is ("Invalid value for '--edges': ..."), not by typer's
    bare "Invalid value: ..."."""
    result = vidmatte("matte", str(clip), "--point", "30,32,4", "--mattes", "each")
    assert result.returncode == 2, result.stderr
    expected = "Invalid value for '--mattes': mattes must be one of objects, union, both, not"
    assert f"{expected} 'each'" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "option,value,message",
    [
        ("--feather", "nan", "Input should be a finite number"),
        ("--shift-edge", "-inf", "Input should be a finite number"),
        ("--shift-edge", "40", "Input should be less than or equal to 32"),
        ("--feather", "-1", "Input should be greater than or equal to 0"),
        # float() read it as 10
        ("--feather", "1_0", "must be a plain decimal number, as 10, 23.976 or 1e-3"),
        ("--shift-edge", "+2", "must be a plain decimal number, as 10, 23.976 or 1e-3"),
    ],
)
def test_matte_refuses_edge_adjustments_in_the_archive_s_words(
    clip: Path, option: str, value: str, message: str
) -> None:
    """The archive's query parameter of the same name says the same: NaN was "less than or
    equal to 32" to the command, which it is not."""
    result = CliRunner().invoke(app, ["matte", str(clip), "--point", "30,32,4", option, value])
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == f"Error: Invalid value for '{option}': {message}"


def test_matte_takes_formats_repeated_as_the_archive_does(clip: Path) -> None:
    """`--formats exr --formats alpha_png16` is both, as the archive's `formats` repeated is:
    the last one given replaced the others, and a bad one before it went unsaid (frame 99 of
    12 stops the run right after the probe, so nothing is matted)."""
    formats = ["--formats", "exr", "--formats", "alpha_pngg", "--formats", "alpha_png16"]
    result = CliRunner().invoke(
        app, ["matte", str(clip), "--point", "30,32,4", *formats, "--start", "99"]
    )
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--formats': unknown export format 'alpha_pngg'" in result.output
    result = CliRunner().invoke(app, ["matte", "--help"])
    assert "or the option repeated" in result.output, result.output


def test_matte_refuses_edge_adjustments_out_of_range_before_any_work(clip: Path) -> None:
    """In-process (typer refuses them before the command runs), NaN too."""
    for args, name in [
        (["--shift-edge", "40"], "'--shift-edge'"),
        (["--shift-edge", "-32.5"], "'--shift-edge'"),
        (["--feather", "-1"], "'--feather'"),
        (["--feather", "nan"], "'--feather'"),
    ]:
        result = CliRunner().invoke(app, ["matte", str(clip), "--point", "30,32,4", *args])
        assert result.exit_code == 2 and name in result.output, (args, result.output)
    # --reduce-chatter is a flag of its own: given with a bad value, that one is what is refused.
    result = CliRunner().invoke(
        app, ["matte", str(clip), "--point", "30,32,4", "--reduce-chatter", "--feather", "-1"]
    )
    assert result.exit_code == 2 and "'--feather'" in result.output, result.output
    result = CliRunner().invoke(app, ["matte", "--help"])
    assert "--reduce-chatter" in result.output and "median" in result.output, result.output


def test_matte_notes_a_sources_alpha_that_it_ignores(tmp_path: Path) -> None:
    """As the upload does; frame 99 of 3 stops it right after the probe, so nothing is matted."""
    path = write_with_alpha(tmp_path / "render.webm", "libvpx-vp9", "yuva420p", {})
    result = CliRunner().invoke(app, ["matte", str(path), "--point", "30,32,4", "--start", "99"])
    assert result.exit_code == 2, result.output
    assert f"note: {ALPHA_NOTE}\n" in result.output


def _bytes_under(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def test_matte_writes_the_export_into_out_once_not_a_zip_unpacked(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export takes the room of its files in --out, not twice that: the files are written
    there (staged, then moved in), not zipped and unpacked beside the zip, which needed 20 GB
    free for a 10 GB ProRes export and failed halfway on a disk sized for the result. --out is
    measured as each temporary directory is removed, when a zip staged in it was whole."""
    out = tmp_path / "out"
    seen: list[tuple[int, list[str]]] = []
    cleanup = tempfile.TemporaryDirectory.cleanup

    def measured(self: tempfile.TemporaryDirectory) -> None:
        if out.exists():
            seen.append((_bytes_under(out), [p.name for p in out.rglob("*.zip")]))
        cleanup(self)

    monkeypatch.setattr(tempfile.TemporaryDirectory, "cleanup", measured)
    result = CliRunner().invoke(
        app,
        ["matte", str(clip), "--point", "30,32,4", "--start", "3", "--end", "5",
         "--out", str(out), "--formats", "alpha_png,alpha_mp4", "--fg", "raw",
         "--sam2", "test-tiny", "--random-head", "--head", str(tmp_path / "none.safetensors"),
         "--device", "cpu"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["alpha", "disk_alpha.mp4"]
    assert [p.name for p in sorted((out / "alpha").iterdir())] == [
        f"{i:06d}.png" for i in range(3, 6)
    ]
    assert seen, "no temporary directory was measured"
    result_bytes = _bytes_under(out)
    assert max(size for size, _ in seen) <= result_bytes
    assert [zips for _, zips in seen if zips] == []


def test_matte_names_its_files_short_enough_for_a_windows_path(clip: Path, tmp_path: Path) -> None:
    """A video named in 200 characters and objects of 100 wrote `<200>_<100>_alpha.mp4` into
    --out (and `<230>` while staged there): past Windows' 259-character paths in any folder.
    Each name is cut to 40 characters, the frame numbers whole."""
    long_clip = tmp_path / ("n" * 200 + ".mp4")
    long_clip.symlink_to(clip)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["matte", str(long_clip), "--point", "o" * 100 + ":30,32,4",
         "--point", "p" * 100 + ":88,6,4", "--start", "3", "--end", "4", "--out", str(out),
         "--formats", "alpha_png,alpha_mp4", "--fg", "raw", "--sam2", "test-tiny",
         "--random-head", "--head", str(tmp_path / "none.safetensors"), "--device", "cpu"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == [
        f"alpha/{layer}/{number:06d}.png" for layer in ("o" * 40, "p" * 40) for number in (3, 4)
    ] + [f"{'n' * 40}_{layer}_alpha.mp4" for layer in ("o" * 40, "p" * 40)]
