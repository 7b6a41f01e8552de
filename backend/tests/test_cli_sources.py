"""`vidmatte matte` on unusual but real source files: real subprocess, real files."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.synth import frame_and_alpha
from tests.test_cli import vidmatte
from vidmatte.cli import _as_the_api_takes, app
from vidmatte.media.sequence import MAX_FPS, MIN_FPS


def _matte(video: Path, out: Path, formats: str, point: str = "48,32,0"):
    return vidmatte(
        "matte", str(video), "--point", point, "--out", str(out), "--formats", formats,
        "--fg", "raw", "--sam2", "test-tiny", "--random-head", "--device", "cpu",
    )  # fmt: skip


def _encode_clip(container: av.container.OutputContainer, stream: av.VideoStream, n: int) -> None:
    for i in range(n):
        rgb, _ = frame_and_alpha(i, stream.height, stream.width)
        container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
    container.mux(stream.encode(None))


def test_matte_takes_the_video_not_a_still_stream_stored_before_it(tmp_path: Path) -> None:
    """A file whose first video stream is a one-picture thumbnail (320x240 grey) and whose
    second is the 6-frame clip: players show the clip, and the clip is what gets matted (the
    thumbnail was, as a 1-frame video, and the run said it wrote frames 0..0)."""
    path = tmp_path / "thumb_first.mkv"
    with av.open(str(path), "w") as container:
        thumb = container.add_stream("mjpeg", rate=1)
        thumb.width, thumb.height, thumb.pix_fmt = 320, 240, "yuvj420p"
        clip = container.add_stream("libx264", rate=12)
        clip.width, clip.height, clip.pix_fmt = 96, 64, "yuv444p"
        clip.options = {"crf": "0"}
        grey = np.full((240, 320, 3), 128, np.uint8)
        container.mux(thumb.encode(av.VideoFrame.from_ndarray(grey, format="rgb24")))
        container.mux(thumb.encode(None))
        _encode_clip(container, clip, 6)
    out = tmp_path / "out"
    result = _matte(path, out, "rgba_png")
    assert result.returncode == 0, result.stderr
    assert "for frames 0..5" in result.stdout
    written = sorted((out / "rgba").iterdir())
    assert [p.stem for p in written] == [f"{i:06d}" for i in range(6)]
    rgba = np.asarray(Image.open(written[3])).astype(int)
    assert np.abs(rgba[..., :3] - frame_and_alpha(3, 64, 96)[0]).max() <= 3


def test_matte_turns_a_rotation_off_the_quarter_turns_to_the_nearest(tmp_path: Path) -> None:
    """A display matrix of 170° (not a quarter turn) shows the picture about upside down:
    it is matted turned by 180°. The size was swapped as for 90° while the frames were not
    turned, and the export failed after all the matting with 'stored matte of 64 rows is
    not a stack of 96'."""
    path = tmp_path / "tilted.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv444p"
        stream.options = {"crf": "0"}
        stream.set_display_rotation(170)
        _encode_clip(container, stream, 4)
    out = tmp_path / "out"
    result = _matte(path, out, "rgba_png,prores4444")
    assert result.returncode == 0, result.stderr
    written = sorted((out / "rgba").iterdir())
    assert len(written) == 4
    rgba = np.asarray(Image.open(written[2])).astype(int)
    upside_down = np.rot90(frame_and_alpha(2, 64, 96)[0], 2).astype(int)
    assert np.abs(rgba[..., :3] - upside_down).max() <= 3
    with av.open(str(out / "tilted_prores4444.mov")) as movie:
        assert [(f.width, f.height) for f in movie.decode(video=0)] == [(96, 64)] * 4


def test_matte_takes_a_folder_image_sequence(tmp_path: Path) -> None:
    """A folder of numbered PNGs (RGBA: the alpha is dropped) is matted as a video at --fps;
    the exports carry the images' exact colours and numbers. Junk beside it is passed over."""
    plates = tmp_path / "plates"
    plates.mkdir()
    images = [frame_and_alpha(i, 64, 96)[0] for i in range(4)]
    for i, image in enumerate(images):
        rgba = np.dstack([image, np.full((64, 96), 7, np.uint8)])
        Image.fromarray(rgba).save(plates / f"shot.{1001 + i}.png")
    (plates / ".DS_Store").write_bytes(b"junk")
    out = tmp_path / "out"
    result = vidmatte(
        "matte", str(plates), "--fps", "12", "--point", "48,32,0", "--out", str(out),
        "--formats", "rgba_png", "--fg", "raw", "--sam2", "test-tiny", "--random-head",
        "--device", "cpu",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # The frames as --start and --point count them, and the numbers the files carry.
    assert f"wrote rgba_png for frames 0..3 (images 1001..1004) to {out}" in result.stdout
    written = sorted((out / "rgba").iterdir())
    assert [p.stem for p in written] == [f"{1001 + i:06d}" for i in range(4)]  # the plates'
    rgba = np.asarray(Image.open(written[2]))
    assert np.array_equal(rgba[..., :3], images[2])


def test_matte_names_what_is_wrong_with_a_sequence_and_fps(clip: Path, tmp_path: Path) -> None:
    plates = tmp_path / "plates"
    plates.mkdir()
    image = Image.fromarray(frame_and_alpha(0, 64, 96)[0])
    for n in (1, 2, 5):
        image.save(plates / f"shot_{n:02d}.png")
    gap = _matte(plates, tmp_path / "a", "alpha_png")
    assert gap.returncode == 2
    assert "'VIDEO': shot_##.png has a gap: frames 3-4 missing (it has 1..5)" in gap.stderr
    with_fps = vidmatte("matte", str(clip), "--fps", "30", "--point", "48,32,0")
    assert with_fps.returncode == 2
    assert "'--fps': only an image sequence (a folder, a zip or a tar of" in with_fps.stderr
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize(
    ("fps", "detail"),
    [
        # typer's own range check called NaN "more than 240"
        ("nan", "Input should be a finite number"),
        ("inf", "Input should be a finite number"),
        ("0", "Input should be greater than or equal to 1"),
        ("240.5", "Input should be less than or equal to 240"),
        # float() read it as 10
        ("1_0", "must be a plain decimal number, as 10, 23.976 or 1e-3"),
        ("+24", "must be a plain decimal number, as 10, 23.976 or 1e-3"),
    ],
)
def test_matte_refuses_an_fps_that_is_no_rate_naming_it(
    fps: str, detail: str, tmp_path: Path
) -> None:
    """Refused as the command line is read, before the images are, in the words an upload's
    fps is refused in."""
    plates = tmp_path / "plates"
    plates.mkdir()
    result = CliRunner().invoke(app, ["matte", str(plates), "--point", "1,1,0", "--fps", fps])
    assert result.exit_code == 2, result.output
    assert " ".join(result.output.split()).endswith(f"Invalid value for '--fps': {detail}")


@pytest.mark.parametrize(("written", "fps"), [("2.4e1", 24.0), ("23.976", 23.976), ("3E+1", 30.0)])
def test_matte_takes_an_fps_in_exponent_form_as_the_api_does(written: str, fps: float) -> None:
    """An exponent is plain decimal to the API (a client writes small floats so): the command
    takes what an upload's fps takes."""
    assert _as_the_api_takes(MIN_FPS, MAX_FPS)(written) == fps
