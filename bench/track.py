"""Track against Matting on the same clip and range, in one run: frames/s of a track (SAM2
alone, masks stored), of a Matting job that runs SAM2 itself, and of the same job once the
track exists (it reads the track's masks instead: `used_track`).

    uv run python bench/track.py [--sam2 test-tiny|tiny] [--frames 24] [--height 360]
        [--device cpu|cuda] [--edges best|fast|none]

The clip is the tests' synthetic disk (tests/synth.py) at --height, 16:9, one click on frame 0,
the range all frames. SAM2 has random weights (the same compute as the checkpoint) and the
head is untrained (the same compute as a trained one). Each figure is frames over the wall
time of the whole run (first frame included), over a real Store as the server runs them.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import typer
from common import ROOT

app = typer.Typer(add_completion=False)


@app.command()
def main(
    sam2: str = "test-tiny",
    frames: int = 24,
    height: int = 360,
    device: str = "cpu",
    edges: str = "best",
) -> None:
    import sys

    import torch

    sys.path.insert(0, str(ROOT / "backend"))
    from tests.synth import write_video
    from vidmatte.jobs.pipeline import run_job
    from vidmatte.jobs.tracks import Tracker
    from vidmatte.matte.infer import Matter
    from vidmatte.matte.weights import random_head
    from vidmatte.media.video import probe
    from vidmatte.segment.models import build_predictor
    from vidmatte.segment.session import Segmenter
    from vidmatte.store import Point, Store

    width = round(height * 16 / 9 / 2) * 2
    segmenter = Segmenter(
        build_predictor(sam2, ROOT / "checkpoints", device=device, random_init=True), sam2
    )
    matter = Matter(random_head(), device, edges)
    with tempfile.TemporaryDirectory(prefix="bench-track-") as tmp:
        store = Store(Path(tmp) / "data")
        staged = store.tmp_dir / "source.mp4"
        write_video(staged, frames=frames, width=width, height=height)
        info, pts = probe(staged)
        project = store.add_project("bench", "clip.mp4", staged, info, pts, b"")
        obj = store.add_object(project.id, None, None)["id"]
        store.set_points(project.id, obj, 0, [Point(width * 0.3, height * 0.5, "positive")])

        def job_fps() -> tuple[float, bool]:
            queued = store.add_job(
                project.id, 0, frames - 1, [obj], edges=edges, head="bench", sam2="bench"
            )
            job = store.transition(queued.id, "running")
            started = time.monotonic()
            run_job(job, store, segmenter, matter, lambda: False, lambda _: None)
            return frames / (time.monotonic() - started), store.job(job.id).used_track

        sam2_job, reused_before = job_fps()
        tracker = Tracker(store, segmenter, "bench")  # the jobs' SAM2 name: they reuse it
        started = time.monotonic()
        tracker.start(project, 0, frames - 1)
        while tracker.get(project.id).status == "running":
            time.sleep(0.01)
        track_fps = frames / (time.monotonic() - started)
        assert tracker.get(project.id).status == "done"
        reuse_job, reused = job_fps()
        assert not reused_before and reused, "the second job must read the track"
        store.close()

    print(
        f"{sam2} SAM2, {width}x{height}, {frames} frames, {device}, edges={edges}, "
        f"{torch.get_num_threads()} threads"
    )
    print("| run | frames/s |")
    print("| --- | --- |")
    print(f"| Track (SAM2 alone, masks stored) | {track_fps:.2f} |")
    print(f"| Matting job, SAM2 + head | {sam2_job:.2f} |")
    print(f"| Matting job on the track (used_track) | {reuse_job:.2f} |")


if __name__ == "__main__":
    app()
