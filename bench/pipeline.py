"""Seconds per frame of each stage of a matting job (decode, SAM2, head, encode) and peak RSS,
at 480p, 1080p and 4K, with the head against a no-head baseline in the same run.

    uv run python bench/pipeline.py --sam2 small --random-init [--frames 4] [--device cuda]
        [--resolutions 480,1080,2160] [--variants head,raw] [--encoders webm_alpha,prores4444]

The first frames of ../shared/data/videos/bedroom.mp4 are re-encoded (H.264, PyAV) at each
height into a temporary directory (downscaled for 480p, upscaled for 1080p and 4K; the source is
960x540), and each (resolution, variant) runs in a fresh subprocess, so its peak RSS (VmHWM)
belongs to it alone. In that subprocess the job's own chain runs frame by frame, as
jobs/pipeline.py chains it: Segmenter.track → VideoReader.frame → Matter → the export sinks.

Stages (seconds per frame, the first frame excluded as warm-up: it carries the prompt and
one-off allocations):
- decode: VideoReader.frame (H.264 → RGB) over every frame of the clip in a pass of its own
  before the job, wall time / frames. (Inside the job PyAV's frame-threaded decoder decodes a
  short clip ahead in the background, so the time the job waits in VideoReader.frame,
  reported as in_job_decode in the child's JSON, hides most of it.)
- SAM2: Segmenter.track's step, less the decoding inside it; includes SAM2's input preparation
  (the frame squashed to 1024², normalised), shown on its own as "prep" because it grows with
  the resolution while the network does not.
- head: Matter(rgb, mask_logits, prev_alpha), i.e. the head at its working resolution plus its
  edge refinement (the variant's); for the baseline rows, what replaces it.
- encode: one column per export sink of media/export.py (the _VideoSink that write_archive uses),
  fed rgb + uint8 alpha, audio off. Encoders buffer frames (libvpx-vp9 looks ahead), so this is
  (all add() calls + finish()) / all frames, the warm-up frame included. Copying the finished
  file into the zip is not counted.

Variants (one row each per resolution):
- head: the real head (models/matting_head.safetensors, or --head; if that file is missing, the
  same architecture with random weights: the same compute) with its default edge refinement,
  "best" (guided filter + shared matting and a Laplacian solve at working resolution).
- fast: the same head with edges="fast" (the guided filter only, no CPU matting).
- raw: no head: alpha = sigmoid(SAM2's logits) resized to the frame, "doing nothing".

Prints a table and the head's share of SAM2's time per resolution (goal: <= 10% for the default
SAM2 size); exits non-zero if a "head" row misses it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import typer
from common import ROOT, peak_rss_mb

DEFAULT_VIDEO = ROOT.parent / "shared" / "data" / "videos" / "bedroom.mp4"
VARIANTS = ("head", "fast", "raw")
ENCODERS = ("webm_alpha", "prores4444")
GOAL = 0.10  # head time / SAM2 time for the default SAM2 size

app = typer.Typer(add_completion=False)


def scaled_size(width: int, height: int, target_height: int) -> tuple[int, int]:
    """(w, h) with h = target_height, aspect kept, both even (yuv420p)."""
    w = round(width * target_height / height / 2) * 2
    return w, target_height


def make_clip(source: Path, out: Path, frames: int, target_height: int) -> tuple[int, int]:
    """The first `frames` frames of `source`, resized to `target_height`, as H.264 (crf 18)."""
    import av

    with av.open(str(source)) as src, av.open(str(out), "w") as dst:
        stream_in = src.streams.video[0]
        stream_in.thread_type = "AUTO"
        width, height = scaled_size(
            stream_in.codec_context.width, stream_in.codec_context.height, target_height
        )
        rate = stream_in.average_rate or Fraction(30)
        stream = dst.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        written = 0
        for frame in src.decode(stream_in):
            picture = frame.reformat(
                width=width, height=height, format="yuv420p", interpolation="BICUBIC"
            )
            picture.pts = written
            picture.time_base = 1 / rate
            dst.mux(stream.encode(picture))
            written += 1
            if written == frames:
                break
        dst.mux(stream.encode(None))
    if written < frames:
        raise ValueError(f"{source} has only {written} frames, {frames} asked for")
    return width, height


# --- one measurement, in its own process -------------------------------------------------------


def measure(
    video: Path,
    sam2: str,
    random_init: bool,
    device: str,
    variant: str,
    head_path: Path | None,
    encoders: list[str],
    warmup: int = 1,
) -> dict:
    import numpy as np
    import torch

    from vidmatte.matte.infer import Matter, resize
    from vidmatte.matte.weights import default_head_path, load_head, random_head
    from vidmatte.media.export import _VIDEO_SPECS, ExportFrame, _VideoSink
    from vidmatte.media.video import VideoReader, probe
    from vidmatte.segment.models import build_predictor
    from vidmatte.segment.predictor import LazyFrames
    from vidmatte.segment.session import Segmenter
    from vidmatte.store import Point

    cuda = torch.device(device).type == "cuda"

    def now() -> float:
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    info, pts = probe(video)
    count = info.frame_count
    # Decode on its own first. Inside the job, PyAV's frame-threaded decoder works ahead in the
    # background on a short clip, so the time spent in VideoReader.frame there (in_job_decode)
    # hides most of the cost; this pass shows what decoding a frame costs.
    alone = VideoReader(video, pts, info.rotation)
    started = now()
    for index in range(count):
        alone.frame(index)
    decode_alone = (now() - started) / count
    alone.close()
    del alone
    reader = VideoReader(video, pts, info.rotation)
    segmenter = Segmenter(
        build_predictor(sam2, ROOT / "checkpoints", device=device, random_init=random_init), sam2
    )

    clock = {"decode": 0.0, "prep": 0.0}
    decode_frame = reader.frame

    def timed_frame(index: int) -> np.ndarray:
        started = now()
        try:
            return decode_frame(index)
        finally:
            clock["decode"] += now() - started

    reader.frame = timed_frame  # type: ignore[method-assign]  # LazyFrames gets this one too

    class TimedFrames(LazyFrames):
        def __getitem__(self, index: int) -> torch.Tensor:
            started, decoded = now(), clock["decode"]
            try:
                return super().__getitem__(index)
            finally:
                clock["prep"] += (now() - started) - (clock["decode"] - decoded)

    state = segmenter.new_state(reader, info.height, info.width)
    state["images"] = TimedFrames(reader.frame, len(reader), segmenter.image_size)

    head_name = "none"
    matter = None
    if variant in ("head", "fast"):
        path = head_path or default_head_path()
        if path.is_file():
            head, _ = load_head(path)
            head_name = path.name
        else:
            head, head_name = random_head(), "random weights (no trained file)"
        matter = Matter(head, device, "best" if variant == "head" else "fast")

    def raw_alpha(logits: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            alpha = torch.sigmoid(
                resize(logits.to(device, torch.float32), (info.height, info.width))
            )
            return alpha[0, 0].cpu().numpy()

    rate = Fraction(info.fps).limit_denominator(1001)
    out_dir = tempfile.TemporaryDirectory(prefix="bench-encode-")
    sinks = {
        name: _VideoSink(
            Path(out_dir.name) / f"out{_VIDEO_SPECS[name].suffix}",
            _VIDEO_SPECS[name],
            rate,
            (0, 255, 0),
            None,
        )
        for name in encoders
    }
    enc_all = dict.fromkeys(encoders, 0.0)  # every frame, warm-up included, + finish()
    timed = {"in_job_decode": 0.0, "sam2": 0.0, "prep": 0.0, "head": 0.0}
    prompts = {(1, 0): [Point(info.width * 0.5, info.height * 0.5, "positive")]}
    steps = segmenter.track(state, prompts, 0, count - 1)
    prev = None
    frames = 0
    for k in range(count):
        d0, p0 = clock["decode"], clock["prep"]
        t0 = now()
        frame, masks = next(steps)
        t1 = now()
        rgb = reader.frame(frame)  # a cache hit after SAM2 read it; a miss is counted as decode
        t2 = now()
        logits = masks[1].mask_logits
        alpha = raw_alpha(logits) if matter is None else matter(rgb, logits, prev)
        prev = alpha
        t3 = now()
        alpha8 = np.round(alpha * 255).astype(np.uint8)  # as jobs/pipeline.encode_alpha stores it
        for name, sink in sinks.items():
            e0 = now()
            sink.add(ExportFrame(frame, rgb, alpha8), k, None)
            enc_all[name] += now() - e0
        if k < warmup:
            continue
        frames += 1
        decode = clock["decode"] - d0
        decode_in_sam2 = decode - (t2 - t1)
        timed["in_job_decode"] += decode
        timed["sam2"] += (t1 - t0) - decode_in_sam2
        timed["prep"] += clock["prep"] - p0
        timed["head"] += t3 - t2
    for name, sink in sinks.items():
        e0 = now()
        sink.finish()
        enc_all[name] += now() - e0
    out_dir.cleanup()
    if frames == 0:
        raise ValueError("no timed frames: give more frames than the warm-up")
    result = {k: v / frames for k, v in timed.items()}
    result["decode"] = decode_alone
    result.update({f"enc_{name}": v / count for name, v in enc_all.items()})
    return {
        **result,
        "frames": frames,
        "width": info.width,
        "height": info.height,
        "head_name": head_name,
        "threads": torch.get_num_threads(),
    }


# --- the driver --------------------------------------------------------------------------------


def _label(height: int) -> str:
    return {2160: "4K"}.get(height, f"{height}p")


@app.command()
def main(
    video: Path = typer.Option(DEFAULT_VIDEO, help="source clip (read, never copied)"),
    frames: int = typer.Option(4, help="timed frames per run (one more is run first as warm-up)"),
    sam2: str = typer.Option("small", help="SAM2 size (models.MODELS)"),
    random_init: bool = typer.Option(
        False, help="random SAM2 weights: same compute, no checkpoint"
    ),
    device: str = typer.Option("cpu"),
    resolutions: str = typer.Option("480,1080,2160", help="frame heights, comma-separated"),
    variants: str = typer.Option("head,raw", help=f"rows per resolution, of {','.join(VARIANTS)}"),
    encoders: str = typer.Option(",".join(ENCODERS), help=f"sinks timed, of {','.join(ENCODERS)}"),
    head: Path = typer.Option(None, help="head weights (default models/matting_head.safetensors)"),
    child: str = typer.Option(None, hidden=True),
) -> None:
    encoder_list = [e.strip() for e in encoders.split(",") if e.strip()]
    if child:  # one measurement, in its own process
        result = measure(video, sam2, random_init, device, child, head, encoder_list)
        print(json.dumps({**result, "peak_rss_mb": peak_rss_mb()}))
        return
    variant_list = [v.strip() for v in variants.split(",") if v.strip()]
    heights = [int(r) for r in resolutions.split(",") if r.strip()]
    for name in variant_list:
        if name not in VARIANTS:
            raise typer.BadParameter(f"unknown variant '{name}'; choose from {', '.join(VARIANTS)}")
    for name in encoder_list:
        if name not in ENCODERS:
            raise typer.BadParameter(f"unknown encoder '{name}'; choose from {', '.join(ENCODERS)}")
    if not video.is_file():
        raise typer.BadParameter(f"{video} not found")
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        for height in heights:
            clip = Path(tmp) / f"clip{height}.mp4"
            make_clip(video, clip, frames + 1, height)
            for variant in variant_list:
                command = (
                    [
                        sys.executable,
                        __file__,
                        "--video",
                        str(clip),
                        "--sam2",
                        sam2,
                        "--device",
                        device,
                        "--encoders",
                        ",".join(encoder_list),
                        "--child",
                        variant,
                    ]
                    + (["--random-init"] if random_init else [])
                    + (["--head", str(head)] if head else [])
                )
                out = subprocess.run(command, check=False, capture_output=True, text=True)
                if out.returncode != 0:
                    sys.stderr.write(out.stderr)
                    raise typer.Exit(2)
                result = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append((height, variant, result))
                print(
                    f"  {_label(height)} {variant}: done ({time.perf_counter() - started:.0f} s)",
                    file=sys.stderr,
                )

    head_name = next((r["head_name"] for _, v, r in rows if v != "raw"), "none")
    threads = rows[0][2]["threads"] if rows else 0
    print(
        f"\nSAM2 '{sam2}'{' (random init)' if random_init else ''} on {device} "
        f"({threads} torch threads), head: {head_name}; {video.name} resized; "
        f"s/frame over {frames} frames after 1 warm-up\n"
    )
    enc_cols = [f"enc {e}" for e in encoder_list]
    header = [
        "res",
        "size",
        "variant",
        "decode",
        "SAM2",
        "(prep)",
        "head",
        *enc_cols,
        "total",
        "peak RSS MB",
        "head/SAM2",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    verdicts = {}
    for height, variant, r in rows:
        encode = [r[f"enc_{e}"] for e in encoder_list]
        total = r["decode"] + r["sam2"] + r["head"] + sum(encode)
        share = r["head"] / r["sam2"]
        cells = [
            _label(height),
            f"{r['width']}x{r['height']}",
            variant,
            *(f"{x:.3f}" for x in (r["decode"], r["sam2"], r["prep"], r["head"], *encode, total)),
            f"{r['peak_rss_mb']:.0f}",
            f"{100 * share:.1f}%",
        ]
        print("| " + " | ".join(cells) + " |")
        if variant == "head":
            verdicts[height] = share
    if verdicts:
        print(f"\nhead share of SAM2 time (goal <= {100 * GOAL:.0f}% for the default SAM2 size):")
        for height, share in verdicts.items():
            print(
                f"  {_label(height):>5}: {100 * share:5.1f}%  {'PASS' if share <= GOAL else 'FAIL'}"
            )
    print(
        f"\ntotal wall time {time.perf_counter() - started:.0f} s; CPU timings are noisy when "
        f"the machine is shared (load average now {os.getloadavg()[0]:.1f})"
    )
    raise typer.Exit(0 if all(s <= GOAL for s in verdicts.values()) else 1)


if __name__ == "__main__":
    app()
