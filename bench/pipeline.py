"""End-to-end matting jobs: frames/s from decode to stored frame at 480p, 1080p and 4K for the
`best` and `fast` edges against the `raw` baseline (no matting) in the same run, and the
matting stage against SAM2 tiny's image encoder.

    uv run python bench/pipeline.py [--sam2 tiny|small] [--frames 4] [--device cuda]
        [--resolutions 480,1080,2160] [--variants best,fast,raw] [--image GT04]

Content with real unsure pixels: an alphamatting photo (hair, strings, over its own
background; ../shared/data/alphamatting or --data) becomes a moving clip (a 16:9 window pans
across it and back), scaled to each height and encoded as H.264 once per resolution. Each
(resolution, variant) then runs in a fresh process, so its peak RSS (VmHWM) is its own, and runs
the job as the app does: `jobs.pipeline.run_job` over a real Store (decode → SAM2 → Matter →
PNG → stored frame). SAM2 runs with random weights (the same compute as the checkpoint), and the
mask logits it hands on are swapped for SAM2-like logits made from the clip's true alpha
(train/masks.py, seeded, the same at every resolution), so the matting stage works on the
unsure pixels a real object gives.

Columns (milliseconds per frame over the frames after --warmup; the first carries the prompt and
one-off allocations):
- job fps: timed frames per second of wall time, from when the last warm-up frame was matted
  to when the last frame was stored, so it stays right when the job overlaps its stages.
- decode: VideoReader.frame over the whole clip in a pass of its own before the job (inside the
  job SAM2's step decodes its frame, so the SAM2 column includes it).
- SAM2: Segmenter.track's step for one frame (in a thread of its own where the job tracks
  ahead of the matting: on a GPU, or with --threads leaving the cores room, as
  jobs/pipeline.tracks_ahead decides). matting: the Matter call (or, for `raw`, sigmoid of
  the logits resized to the frame). store: Store.save_alpha. Each stage's time is its own
  thread's: each ends by copying its result to the host, which waits for its kernels, so no
  device-wide synchronisation is added (one would wait for the other thread's kernels too).
- wall: the frame's share of the wall time (1000 / job fps). overlap: SAM2 + matting + store
  over wall: 1.0x when the stages run one after another, up to 2x when SAM2 and the matting
  overlap fully; under 1.0x when something else holds the job up (PNG encoding not keeping up,
  waits).

After the table: the matting stage with the default edges at 1080p against SAM2 tiny's image
encoder (`forward_image` on one 1024² frame, in its own process with the same threads; goal
<= 25% on a CPU), and the GPU goals (>= 30 job fps at 1080p with SAM2 tiny, matting <= half of
SAM2's time). bench/gpu.sh runs all of it on a GPU.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import typer
from common import ROOT, SHARED_DATA, peak_rss_mb

DATA = SHARED_DATA / "alphamatting"
VARIANTS = ("best", "fast", "raw")  # edges of Matter, and no matting at all
DEFAULT_EDGES = "best"
MASK_SIZE = (640, 360)  # the true alpha the SAM2-like logits are made from (any height)
PAN_FRAMES = 30
ENCODER_GOAL = 0.25  # matting at 1080p / SAM2 tiny's forward_image (CPU)
GPU_FPS_GOAL = 30.0  # job frames/s at 1080p with SAM2 tiny on an H100/H200
GPU_SHARE_GOAL = 0.5  # matting / SAM2 step at 1080p on a GPU

app = typer.Typer(add_completion=False)


def scaled_size(width: int, height: int, target_height: int) -> tuple[int, int]:
    """(w, h) with h = target_height, aspect kept, both even (yuv420p)."""
    return round(width * target_height / height / 2) * 2, target_height


def panned(data: Path, image: str, frames: int, height: int):
    """The alphamatting photo `image` seen through a 16:9 window at 90% of its width or height,
    panned corner to corner and back every 2 * PAN_FRAMES frames (the same motion whatever the
    clip's length): the frames, RGB uint8 (T,H,W,3) at `height`, and SAM2-like logits
    (T,256,256) made from the panned true alpha (seeded), with that alpha (T,360,640)."""
    import numpy as np
    from PIL import Image

    from vidmatte.train.masks import synthetic_logits

    photo = Image.open(data / "image" / f"{image}.png").convert("RGB")
    truth = Image.open(data / "alpha" / f"{image}.png").convert("L")
    win_w = min(0.9 * photo.width, 0.9 * photo.height * 16 / 9)
    win_h = win_w * 9 / 16
    size = scaled_size(round(win_w), round(win_h), height)
    rgbs, alphas = [], []
    for t in range(frames):
        w = 1 - abs(t / PAN_FRAMES % 2 - 1)
        x0, y0 = w * (photo.width - win_w), w * (photo.height - win_h)
        box = (x0, y0, x0 + win_w, y0 + win_h)
        rgbs.append(np.array(photo.resize(size, Image.Resampling.BICUBIC, box=box)))
        alphas.append(np.asarray(truth.resize(MASK_SIZE, Image.Resampling.BILINEAR, box=box)))
    true = np.stack(alphas).astype(np.float32) / 255
    return np.stack(rgbs), synthetic_logits(true, np.random.default_rng(0)), true


def panned_clip(data: Path, image: str, frames: int, height: int) -> list:
    """`panned`'s frames as `Matter` takes them: (rgb uint8 (H,W,3), logits (1,1,256,256))."""
    import torch

    rgbs, logits, _ = panned(data, image, frames, height)
    return [(rgb, torch.from_numpy(lg)[None, None]) for rgb, lg in zip(rgbs, logits, strict=True)]


def fed_clip(matter, clip: list, chroma: tuple[int, int] = (1, 1)) -> tuple:
    """The object's plate (`matter.new_plate`, None without one) and the `(t, frame, _)` of
    `clip` in order as a job hands them to matting: each once the plate was fed the frames
    `matter.plate_ahead` after it, its pixels prepared (`Matter.prepare`, as decoded from a
    video with `chroma` blocks) when it was fed."""
    from vidmatte.ahead import fed_ahead

    plate = matter.new_plate(*clip[0][0].shape[:2])

    def feed(_t: int, frame) -> tuple:
        prepared = matter.prepare(frame[0], chroma)  # once for feeding and matting, as a job does
        if plate is not None:
            matter.feed_plate(plate, prepared, frame[1])
        return prepared, frame[1]

    steps = fed_ahead(enumerate(clip), matter.plate_ahead, feed)
    return plate, ((t, fed, None) for t, _frame, fed in steps)


def make_clip(data: Path, image: str, out: Path, frames: int, height: int) -> dict:
    """Write `out`/clip.mp4 (`panned`'s frames) and `out`/logits.npy (its logits); return the
    first frame's object centre in video pixels, where the job's prompt goes."""
    import av
    import numpy as np

    rgbs, logits, true = panned(data, image, frames, height)
    height, width = rgbs.shape[1:3]
    out.mkdir(parents=True, exist_ok=True)
    with av.open(str(out / "clip.mp4"), "w") as dst:
        stream = dst.add_stream("libx264", rate=Fraction(30))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        for t, rgb in enumerate(rgbs):
            picture = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            picture.pts = t
            dst.mux(stream.encode(picture.reformat(format="yuv420p")))
        dst.mux(stream.encode(None))
    np.save(out / "logits.npy", logits)
    ys, xs = np.nonzero(true[0] > 0.5)
    return {
        "x": float(xs.mean()) * width / MASK_SIZE[0],
        "y": float(ys.mean()) * height / MASK_SIZE[1],
    }


# --- one measurement, in its own process -------------------------------------------------------


def measure_job(
    clip: Path,
    prompt: dict,
    sam2: str,
    device: str,
    variant: str,
    head_path: Path | None,
    warmup: int,
    compile_sam2: bool = False,
) -> dict:
    import dataclasses

    import numpy as np
    import torch

    from vidmatte.jobs.pipeline import run_job
    from vidmatte.matte import random_head
    from vidmatte.matte.infer import Frame, Matter, resize
    from vidmatte.matte.weights import default_head_path, load_head
    from vidmatte.media.video import VideoReader, probe
    from vidmatte.segment.models import build_predictor
    from vidmatte.segment.session import Segmenter
    from vidmatte.store import Point, Store

    now = time.perf_counter
    video = clip / "clip.mp4"
    logits = torch.from_numpy(np.load(clip / "logits.npy"))
    info, pts = probe(video)
    count = info.frame_count
    reader = VideoReader(video, pts, info.rotation)
    started = now()
    for index in range(count):
        reader.frame(index)
    decode = (now() - started) / count
    reader.close()

    seconds: dict[str, list[float]] = {"sam2": [], "matting": [], "store": []}
    stored_at: list[float] = []
    matted_at: list[float] = []

    class SyntheticMasks:
        """The real SAM2 step, timed, handing on SAM2-like logits of the true alpha."""

        def __init__(self, segmenter: Segmenter) -> None:
            self.segmenter = segmenter

        def new_state(self, *args):
            return self.segmenter.new_state(*args)

        def track(self, state, prompts, start, end, forward=True, features=True):
            steps = self.segmenter.track(state, prompts, start, end, forward, features)
            while True:
                t0 = now()
                try:
                    frame, masks = next(steps)
                except StopIteration:
                    return
                seconds["sam2"].append(now() - t0)
                yield (
                    frame,
                    {
                        obj: dataclasses.replace(m, mask_logits=logits[frame][None, None])
                        for obj, m in masks.items()
                    },
                )

    class TimedStore(Store):
        def save_alpha(self, *args, **kwargs):
            t0 = now()
            stored = super().save_alpha(*args, **kwargs)
            stored_at.append(now())
            seconds["store"].append(stored_at[-1] - t0)
            return stored

    class TimedMatter(Matter):
        """The job's Matter, each call timed (the job code uses its head, edges and plates),
        with the frames prepared and the plate's feeds since the last call: a job prepares
        and feeds one frame ahead for each it mattes."""

        fed = 0.0  # seconds spent preparing frames and feeding the plate since the last call

        def _ahead(self, call, *args, **kwargs):
            t0 = now()
            try:
                return call(*args, **kwargs)
            finally:
                self.fed += now() - t0

        def prepare(self, *args, **kwargs):
            return self._ahead(super().prepare, *args, **kwargs)

        def feed_plate(self, *args, **kwargs):
            return self._ahead(super().feed_plate, *args, **kwargs)

        def __call__(self, *args, **kwargs):
            t0 = now()
            try:
                return self.matte(*args, **kwargs)
            finally:
                matted_at.append(now())
                seconds["matting"].append(matted_at[-1] - t0 + self.fed)
                self.fed = 0.0

        def matte(self, *args, **kwargs):
            return super().__call__(*args, **kwargs)

    class RawMatter(TimedMatter):
        """The baseline row: sigmoid of SAM2's logits as the alpha, no head."""

        def prepare(self, rgb, chroma=(1, 1)):  # the raw mask needs no colour: no head runs
            return rgb if isinstance(rgb, Frame) else Frame(torch.from_numpy(rgb), torch.empty(0))

        def matte(self, frame, mask_logits, *_, **__):
            size = frame.pixels.shape[:2]
            with torch.inference_mode():
                alpha = resize(mask_logits.to(device, torch.float32), size).sigmoid_()
                return alpha[0, 0].cpu().numpy()

    if variant == "raw":
        head_name = "none"
        matte: Matter = RawMatter(random_head(), device)  # its head is never run
    else:
        path = head_path or default_head_path()
        head, _ = load_head(path)
        head_name = path.name
        # The server's default: the background plate with CUDA (VIDMATTE_PLATE=auto).
        plate = variant == "best" and torch.device(device).type == "cuda"
        matte = TimedMatter(head, device, variant, plate=plate)

    with tempfile.TemporaryDirectory(prefix="bench-job-") as tmp:
        store = TimedStore(Path(tmp))
        staged = store.tmp_dir / "source.mp4"
        staged.symlink_to(video.resolve())
        project = store.add_project("bench", "clip.mp4", staged, info, pts, b"")
        obj = store.add_object(project.id, None, None)["id"]
        store.set_points(project.id, obj, 0, [Point(prompt["x"], prompt["y"], "positive")])
        queued = store.add_job(
            project.id,
            0,
            count - 1,
            [obj],
            edges=variant,
            head=head_name,
            sam2="bench",
            plate=matte.plate,
        )
        job = store.transition(queued.id, "running")  # as the runner starts it
        segmenter = Segmenter(
            build_predictor(
                sam2, ROOT / "checkpoints", device=device, random_init=True, compile=compile_sam2
            ),
            sam2,
        )
        run_job(job, store, SyntheticMasks(segmenter), matte, lambda: False, lambda _: None)
    if len(stored_at) != count or count <= warmup:
        raise ValueError(f"{len(stored_at)} of {count} frames stored; need more than {warmup}")
    timed = count - warmup
    # From the last warm-up frame's matte to the last frame stored: frames are encoded a few
    # at a time behind the matting (jobs/pipeline.encoded), so store times bunch up at the end.
    wall = (stored_at[-1] - matted_at[warmup - 1]) / timed
    result = {k: sum(v[warmup:]) / timed for k, v in seconds.items()}
    return {
        **result,
        "decode": decode,
        "wall": wall,
        "fps": 1 / wall,
        "frames": timed,
        "width": info.width,
        "height": info.height,
        "head_name": head_name,
        "threads": torch.get_num_threads(),
    }


def encoder_timer(device: str):
    """A function that runs SAM2 tiny's image encoder (`forward_image`) once on a 1024² frame,
    as Segmenter runs it, and returns its seconds (the first call is a warm-up's)."""
    import contextlib

    import torch

    from vidmatte.segment.models import build_predictor

    predictor = build_predictor("tiny", ROOT / "checkpoints", device=device, random_init=True)
    cuda = torch.device(device).type == "cuda"
    image = torch.randn(1, 3, 1024, 1024, device=device)

    def timed() -> float:
        bf16 = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else contextlib.nullcontext()
        with torch.inference_mode(), bf16:
            started = time.perf_counter()
            predictor.forward_image(image)
            if cuda:
                torch.cuda.synchronize()
            return time.perf_counter() - started

    return timed


def measure_encoder(device: str, repeats: int = 3) -> dict:
    """SAM2 tiny's image encoder on one 1024² frame (`encoder_timer`): the median of `repeats`
    calls after a warm-up."""
    import torch

    timed = encoder_timer(device)
    timed()
    seconds = statistics.median(timed() for _ in range(repeats))
    return {"seconds": seconds, "threads": torch.get_num_threads()}


# --- the driver --------------------------------------------------------------------------------


def _label(height: int) -> str:
    return {2160: "4K"}.get(height, f"{height}p")


def _child(args: list[str], threads: int | None) -> dict:
    env = dict(os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {}))
    out = subprocess.run(
        [sys.executable, __file__, *args], check=False, capture_output=True, text=True, env=env
    )
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise typer.Exit(2)
    return json.loads(out.stdout.strip().splitlines()[-1])


@app.command()
def main(
    frames: int = typer.Option(4, help="timed frames per job (after the warm-up frames)"),
    warmup: int = typer.Option(1, help="frames run first and not timed (the prompted one too)"),
    sam2: str = typer.Option("tiny", help="SAM2 size tracked with (random weights)"),
    device: str = typer.Option("cpu"),
    resolutions: str = typer.Option("480,1080,2160", help="frame heights, comma-separated"),
    variants: str = typer.Option(",".join(VARIANTS), help=f"rows per height, of {VARIANTS}"),
    image: str = typer.Option("GT04", help="alphamatting image made into the moving clip"),
    data: Path = typer.Option(DATA, help="alphamatting folder (image/, alpha/), read only"),
    head: Path = typer.Option(None, help="head weights (default models/matting_head.safetensors)"),
    threads: int = typer.Option(None, help="torch threads in every process (default torch's)"),
    compile_sam2: bool = typer.Option(
        False, "--compile", help="SAM2 through torch.compile (`vidmatte serve --compile`)"
    ),
    child: str = typer.Option(None, hidden=True),
    clip: Path = typer.Option(None, hidden=True),
    prompt: str = typer.Option(None, hidden=True),
) -> None:
    if child:  # one measurement, in its own process
        if threads:
            import torch

            torch.set_num_threads(threads)
        result = (
            measure_encoder(device)
            if child == "encoder"
            else measure_job(
                clip, json.loads(prompt), sam2, device, child, head, warmup, compile_sam2
            )
        )
        print(json.dumps({**result, "peak_rss_mb": peak_rss_mb()}))
        return
    variant_list = [v.strip() for v in variants.split(",") if v.strip()]
    heights = [int(r) for r in resolutions.split(",") if r.strip()]
    if unknown := [v for v in variant_list if v not in VARIANTS]:
        raise typer.BadParameter(f"unknown variant {unknown[0]!r}; choose from {VARIANTS}")
    if not (data / "image" / f"{image}.png").is_file():
        raise typer.BadParameter(f"{data}/image/{image}.png not found (see --data)")
    if frames < 1 or warmup < 1:
        raise typer.BadParameter("--frames and --warmup must be at least 1")
    common = ["--sam2", sam2, "--device", device, "--warmup", str(warmup)]
    common += (["--head", str(head)] if head else []) + (
        ["--threads", str(threads)] if threads else []
    )
    common += ["--compile"] if compile_sam2 else []
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        for height in heights:
            folder = Path(tmp) / f"h{height}"
            where = make_clip(data, image, folder, frames + warmup, height)
            for variant in variant_list:
                args = ["--child", variant, "--clip", str(folder), "--prompt", json.dumps(where)]
                rows.append((height, variant, _child(args + common, threads)))
                print(
                    f"  {_label(height)} {variant}: {rows[-1][2]['fps']:.2f} fps "
                    f"({time.perf_counter() - started:.0f} s)",
                    file=sys.stderr,
                )
    encoder = _child(["--child", "encoder", *common], threads)

    head_name = next((r["head_name"] for _, v, r in rows if v != "raw"), "none")
    print(
        f"\nJobs with SAM2 '{sam2}'{' compiled' if compile_sam2 else ''} (random init) on "
        f"{device}, {rows[0][2]['threads']} torch "
        f"threads, head {head_name}; alphamatting {image} panned, SAM2-like masks; "
        f"{frames} timed frames after {warmup} warm-up\n"
    )
    header = ["res", "size", "variant", "job fps", "vs raw", "decode ms", "SAM2 ms",
              "matting ms", "store ms", "wall ms", "overlap", "matting/SAM2",
              "peak RSS MB"]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    raw_fps = {h: r["fps"] for h, v, r in rows if v == "raw"}
    for height, variant, r in rows:
        ms = [1e3 * r[k] for k in ("decode", "sam2", "matting", "store", "wall")]
        overlap = (r["sam2"] + r["matting"] + r["store"]) / r["wall"]
        vs_raw = f"{r['fps'] / raw_fps[height]:.2f}x" if height in raw_fps else "-"
        cells = [_label(height), f"{r['width']}x{r['height']}", variant, f"{r['fps']:.2f}",
                 vs_raw, *(f"{x:.1f}" for x in ms), f"{overlap:.2f}x",
                 f"{100 * r['matting'] / r['sam2']:.1f}%",
                 f"{r['peak_rss_mb']:.0f}"]  # fmt: skip
        print("| " + " | ".join(cells) + " |")

    print(f"\nSAM2 tiny forward_image, one 1024² frame: {1e3 * encoder['seconds']:.1f} ms "
          f"({encoder['threads']} torch threads)")  # fmt: skip
    default = {h: r for h, v, r in rows if v == DEFAULT_EDGES}
    if 1080 in default:
        r = default[1080]
        share = r["matting"] / encoder["seconds"]
        verdict = "PASS" if share <= ENCODER_GOAL else "FAIL"
        print(f"matting ({DEFAULT_EDGES}, 1080p) {1e3 * r['matting']:.1f} ms = {100 * share:.1f}% "
              f"of it (goal <= {100 * ENCODER_GOAL:.0f}% on a CPU): {verdict}")  # fmt: skip
        if device.startswith("cuda"):
            fps_ok = r["fps"] >= GPU_FPS_GOAL
            part = r["matting"] / r["sam2"]
            print(f"GPU: 1080p job {r['fps']:.1f} fps (goal >= {GPU_FPS_GOAL:.0f} with SAM2 tiny): "
                  f"{'PASS' if fps_ok else 'FAIL'}; matting/SAM2 {100 * part:.1f}% "
                  f"(goal <= {100 * GPU_SHARE_GOAL:.0f}%): "
                  f"{'PASS' if part <= GPU_SHARE_GOAL else 'FAIL'}")  # fmt: skip
    print(
        f"\ntotal wall time {time.perf_counter() - started:.0f} s; CPU timings are noisy when "
        f"the machine is shared (load average now {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    app()
