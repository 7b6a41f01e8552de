"""Export seconds per frame at 1080p, per colour-carrying format, for an 8-bit SDR source (the
baseline column) and a 10-bit HLG BT.2020 source (what iPhones record), in the same run.

    uv run python bench/export_speed.py [--frames 6] [--height 1080] [--image GT04]
        [--data ../shared/data/alphamatting] [--formats rgba_png,composite_mp4,prores4444,exr]

The frames are an alphamatting photo (hair over its own background) with its true alpha,
cropped to 16:9 at `--height` and panned 8 px a frame so the video encoders see motion. The
10-bit source is the same picture in HLG: sRGB's light at HDR reference white, BT.2020
primaries, 10-bit code values held in 16 bits as exports get them (`VideoReader(deep=True)`).
Each format is written alone (`write_archive`, one pass over the frames, into memory) after a
one-frame warm-up, wall time divided by the frames, so a video's encoder start-up and flush
are counted. The
"estimated foreground" row is `foreground_rgb` on each frame (fg="estimated", done once for all
formats; an HDR source's in linear light). MB/frame is what each adds to the archive.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import typer
from common import SHARED_DATA

DATA = SHARED_DATA / "alphamatting"
FPS = 30
PAN_PX = 8  # a frame

app = typer.Typer(add_completion=False)


def picture(data: Path, image: str, height: int):
    """(sRGB uint8 HxWx3, alpha uint16 HxW) of the photo and its true alpha, scaled to cover
    16:9 at `height` and cropped to it (even sizes, as 1080p is)."""
    import numpy as np
    from PIL import Image

    rgb = Image.open(data / "image" / f"{image}.png").convert("RGB")
    alpha = Image.open(data / "alpha" / f"{image}.png").convert("L")
    width = round(height * 16 / 9) // 2 * 2
    scale = max(width / rgb.width, height / rgb.height)
    size = (round(rgb.width * scale), round(rgb.height * scale))
    box = ((size[0] - width) // 2, (size[1] - height) // 2)
    box = (*box, box[0] + width, box[1] + height)
    rgb = np.asarray(rgb.resize(size, Image.Resampling.BICUBIC).crop(box))
    matte = np.asarray(alpha.resize(size, Image.Resampling.BILINEAR).crop(box))
    return rgb, matte.astype(np.uint16) * 257


def hlg10(rgb):
    """sRGB (uint8) as 10-bit HLG BT.2020 code values in 16 bits (0..65535)."""
    import numpy as np

    from vidmatte.media import hdr
    from vidmatte.media.export import srgb_to_linear

    code = np.round(hdr.signal(srgb_to_linear(rgb), hdr.HLG, hdr.BT2020) * 1023)
    return (code.astype(np.uint32) * 65535 // 1023).astype(np.uint16)


def frames(rgb, alpha, count: int, primaries: int, transfer: int) -> Iterator:
    """`count` ExportFrames of the picture panned right."""
    import numpy as np

    from vidmatte.media.export import ExportFrame

    for i in range(count):
        yield ExportFrame(
            i,
            Fraction(i, FPS),
            np.roll(rgb, i * PAN_PX, axis=1),
            np.roll(alpha, i * PAN_PX, axis=1),
            primaries=primaries,
            transfer=transfer,
        )


def measure(pictures: list, fmt: str) -> tuple[float, float]:
    """(seconds a frame, archive MB a frame) of writing `pictures` as `fmt` alone."""
    from vidmatte.media.export import write_archive

    out = io.BytesIO()
    with tempfile.TemporaryDirectory() as staging:
        start = time.perf_counter()
        write_archive(out, pictures, [fmt], FPS, staging=Path(staging))
        seconds = time.perf_counter() - start
    return seconds / len(pictures), out.tell() / len(pictures) / 1e6


def measure_foreground(pictures: list) -> float:
    """Seconds a frame of `foreground_rgb` (the matte as the export passes it)."""
    from vidmatte.matte.foreground import foreground_rgb

    start = time.perf_counter()
    for frame in pictures:
        matte = frame.alpha16 if frame.deep else frame.alpha8
        foreground_rgb(frame.rgb, matte, transfer=frame.transfer)
    return (time.perf_counter() - start) / len(pictures)


@app.command()
def main(
    frames_: int = typer.Option(6, "--frames", help="Frames per format and source."),
    height: int = typer.Option(1080),
    image: str = typer.Option("GT04", help="alphamatting image (image/, alpha/)"),
    data: Path = typer.Option(DATA, help="alphamatting folder, read only"),
    formats: str = typer.Option("rgba_png,composite_mp4,prores4444,exr"),
) -> None:
    from vidmatte.media import hdr

    rgb, alpha = picture(data, image, height)
    sources = {
        "8-bit SDR": list(frames(rgb, alpha, frames_, 1, 1)),
        "10-bit HLG": list(frames(hlg10(rgb), alpha, frames_, hdr.BT2020, hdr.HLG)),
    }
    print(f"\nExport at {rgb.shape[1]}x{rgb.shape[0]}, {frames_} frames, wall seconds a frame\n")
    print("| format | 8-bit s/frame | 10-bit HLG s/frame | 10-bit vs 8-bit | MB/frame 8 / 10 |")
    print("|---|---|---|---|---|")
    for fmt in formats.split(","):
        for pictures in sources.values():  # warm-up: imports, encoders' first set-up
            measure(pictures[:1], fmt)
        (sdr, sdr_mb), (deep, deep_mb) = (measure(p, fmt) for p in sources.values())
        print(
            f"| {fmt} | {sdr:.3f} | {deep:.3f} | {deep / sdr:.2f}x "
            f"| {sdr_mb:.2f} / {deep_mb:.2f} |",
            flush=True,
        )
    for pictures in sources.values():  # warm-up: numba's compiled sweeps load
        measure_foreground(pictures[:1])
    sdr, deep = (measure_foreground(p) for p in sources.values())
    print(f"| estimated foreground | {sdr:.3f} | {deep:.3f} | {deep / sdr:.2f}x | |")


if __name__ == "__main__":
    app()
