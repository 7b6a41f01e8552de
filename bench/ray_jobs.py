"""Jobs per minute on a Ray cluster with 1 and 2 CPU workers: the same set of jobs, one run.

    uv run --extra ray python bench/ray_jobs.py [--jobs 6] [--frames 24] [--workers 1,2]
        [--sam2 test-tiny] [--edges best] [--size 128x96]

Ray starts in this process (`ray.init`, two CPUs, a 200 MB object store, no dashboard). For
each worker count, a fresh data dir gets `--jobs` projects of one synthetic clip (a soft disk
moving right, `--frames` frames of `--size`) with one prompted object each, and the app's own
`RayRunner` (built by `build_services`, `--runner ray --ray-cpu-workers N`) runs all of their
jobs: the clock starts when every worker has loaded its models and the jobs are submitted, and
stops when the last job is done. Each worker gets one CPU (torch threads too), so two workers
on a two-core machine should approach twice the jobs per minute of one; the table's last column
is that ratio against the first row.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import typer
from common import ROOT

app = typer.Typer(add_completion=False)
OBJECT_STORE_BYTES = 200 * 1024 * 1024


def run_jobs(workers: int, clip: Path, jobs: int, data_dir: Path, sam2: str, edges: str) -> dict:
    from vidmatte.api.app import build_services
    from vidmatte.config import Settings
    from vidmatte.media.video import probe
    from vidmatte.store import TERMINAL, Point

    settings = dataclasses.replace(
        Settings(),
        data_dir=data_dir,
        sam2_model=sam2,
        edges=edges,
        head_path=ROOT / "models" / "matting_head.safetensors",
        runner="ray",
        ray_cpu_workers=workers,
    )
    services = build_services(settings)
    store, runner = services.store, services.runner
    info, pts = probe(clip)
    queued = []
    for i in range(jobs):
        staged = store.tmp_dir / f"clip{i}.mp4"
        shutil.copyfile(clip, staged)
        project = store.add_project(f"clip {i}", clip.name, staged, info, pts, b"")
        obj = store.add_object(project.id, None, None)["id"]
        store.set_points(project.id, obj, 0, [Point(info.width / 4, info.height / 2, "positive")])
        job = store.add_job(
            project.id,
            0,
            info.frame_count - 1,
            [obj],
            edges,
            services.head_name,
            services.sam2_name,
            plate=services.matter.plate,  # the runner mattes with the job's setting
        )
        queued.append(job.id)
    runner.start()
    try:
        runner.wait_ready()
        started = time.monotonic()
        for job_id in queued:
            runner.submit(job_id)
        while not all(store.job(j).status in TERMINAL for j in queued):
            time.sleep(0.05)
        seconds = time.monotonic() - started
        ended = [store.job(j) for j in queued]
    finally:
        runner.stop()
        store.close()
    failed = [j for j in ended if j.status != "done"]
    if failed:
        raise SystemExit(
            f"{len(failed)} job(s) did not finish: {failed[0].status} {failed[0].error}"
        )
    frames = sum(j.frames_done for j in ended)
    return {"workers": workers, "jobs": jobs, "frames": frames, "seconds": seconds}


@app.command()
def main(
    jobs: int = typer.Option(6, help="Jobs per worker count (one project each)."),
    frames: int = typer.Option(24, help="Frames per job."),
    workers: str = typer.Option("1,2", help="Comma-separated CPU worker counts."),
    sam2: str = typer.Option("test-tiny", help="SAM2 size (test-tiny: random, small)."),
    edges: str = typer.Option("best", help="Edge refinement of the jobs."),
    size: str = typer.Option("128x96", help="Frame size of the clip, WIDTHxHEIGHT."),
) -> None:
    from tests.synth import write_video
    from vidmatte.jobs.ray_runner import ray  # Ray as the runner sets it up (workers: this env)

    counts = [int(n) for n in workers.split(",")]
    width, height = (int(v) for v in size.split("x"))
    ray.init(num_cpus=max(counts), object_store_memory=OBJECT_STORE_BYTES, include_dashboard=False)
    results = []
    with tempfile.TemporaryDirectory(prefix="vidmatte-ray-bench-") as tmp:
        clip = Path(tmp) / "clip.mp4"
        write_video(clip, frames=frames, width=width, height=height)
        for n in counts:
            results.append(run_jobs(n, clip, jobs, Path(tmp) / f"data{n}", sam2, edges))
    ray.shutdown()

    print(f"\n{jobs} jobs of {frames} frames ({size}, SAM2 {sam2}, edges {edges}) per row\n")
    print("| CPU workers | jobs | frames | seconds | jobs/min | frames/s | vs first row |")
    print("|---|---|---|---|---|---|---|")
    base = results[0]["jobs"] / results[0]["seconds"]
    for r in results:
        rate = r["jobs"] / r["seconds"]
        print(
            f"| {r['workers']} | {r['jobs']} | {r['frames']} | {r['seconds']:.1f} | "
            f"{60 * rate:.1f} | {r['frames'] / r['seconds']:.1f} | {rate / base:.2f}x |"
        )


if __name__ == "__main__":
    app()
