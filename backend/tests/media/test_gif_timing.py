"""A GIF's frames show for as long as browsers show them, in probe's rate and the reader's
times (which exports place frames by)."""

from __future__ import annotations

import io
import zipfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests.synth import running_job
from vidmatte.jobs.results import export_frames, plan_export
from vidmatte.media.export import write_archive
from vidmatte.media.video import VideoReader, probe
from vidmatte.store import Store


def _gif(path: Path, delays_ms: list[int]) -> None:
    """A GIF of one frame per delay (Pillow writes each in centiseconds: 10 ms is 1)."""
    images = [Image.new("RGB", (32, 24), (60 * i, 255 - 60 * i, 0)) for i in range(len(delays_ms))]
    images[0].save(path, save_all=True, append_images=images[1:], duration=delays_ms, loop=0)


@pytest.mark.parametrize("delay_ms", [0, 10])
def test_a_gif_of_the_shortest_delays_plays_as_browsers_show_it(
    tmp_path: Path, delay_ms: int
) -> None:
    """Chrome, Firefox and Safari show a frame of delay 0 or 1 (centiseconds) for 10. One of
    delay 1 was read at 100 fps, 0.03 s for three frames, its frames 10 ms apart in exports."""
    path = tmp_path / "fast.gif"
    _gif(path, [delay_ms] * 3)
    info, pts = probe(path)
    assert (info.frame_count, info.fps, info.duration) == (3, 10.0, 0.3)
    reader = VideoReader(path, pts, info.rotation)
    assert [reader.time(i) for i in range(3)] == [0, Fraction(1, 10), Fraction(2, 10)]


def test_a_gif_of_mixed_delays_shows_each_frame_as_browsers_do(tmp_path: Path) -> None:
    """Delays of 1, 5 and 1 centiseconds show for 100, 50 and 100 ms: 3 frames in 0.25 s."""
    path = tmp_path / "mixed.gif"
    _gif(path, [10, 50, 10])
    info, pts = probe(path)
    assert (info.frame_count, info.fps) == (3, 12.0)
    reader = VideoReader(path, pts, info.rotation)
    assert [reader.time(i) for i in range(3)] == [0, Fraction(1, 10), Fraction(15, 100)]
    assert reader.frame(2)[0, 0].tolist() == [120, 135, 0]


def test_a_gif_of_longer_delays_keeps_its_times(tmp_path: Path) -> None:
    """A delay of 2 (20 ms), which browsers show as it is, stays 50 fps."""
    path = tmp_path / "brisk.gif"
    _gif(path, [20] * 3)
    info, pts = probe(path)
    assert (info.fps, info.duration) == (50.0, 0.06)
    reader = VideoReader(path, pts, info.rotation)
    assert [reader.time(i) for i in range(3)] == [0, Fraction(2, 100), Fraction(4, 100)]


@pytest.mark.parametrize(("last_ms", "shown_ms"), [(500, 500), (10, 100)])
def test_a_gif_s_last_frame_ends_after_its_own_delay(
    tmp_path: Path, last_ms: int, shown_ms: int
) -> None:
    """The last frame shows for its own delay, as browsers show it (a delay of 1 for 100 ms),
    where exports end it (ExportFrame.end); the frames before until the next one."""
    path = tmp_path / "slow_end.gif"
    _gif(path, [20, 20, last_ms])
    info, pts = probe(path)
    reader = VideoReader(path, pts, info.rotation)
    assert reader.end(1) == Fraction(4, 100)
    assert reader.end(2) == Fraction(4, 100) + Fraction(shown_ms, 1000)


def test_a_gif_of_delay_1_exports_at_the_rate_browsers_show_it(tmp_path: Path) -> None:
    """A matted GIF of delay 1 came out as a video 10 ms a frame (100 fps), ten times faster
    than it plays in a browser, and in the editor: 100 ms a frame now."""
    path = tmp_path / "fast.gif"
    _gif(path, [10] * 3)
    store = Store(tmp_path / "data")
    info, pts = probe(path)
    project = store.add_project("fast", "fast.gif", path, info, pts, b"")
    job = running_job(store, project.id, 0, 2, (4, 4))
    for i in range(3):
        buf = io.BytesIO()
        Image.fromarray(np.full((24, 32), 255, np.uint8)).save(buf, "PNG")
        assert store.save_alpha(job.id, job.attempt, i, buf.getvalue())
    out = io.BytesIO()
    export = plan_export(store, job.id)
    write_archive(out, export_frames(store, export), ["composite_mp4"], export.project.info.fps)
    store.close()
    with av.open(zipfile.ZipFile(out).open("matte_composite.mp4")) as container:
        times = [float(f.time) for f in container.decode(video=0)]
    assert times == pytest.approx([0.0, 0.1, 0.2])
