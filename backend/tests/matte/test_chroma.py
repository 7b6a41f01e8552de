"""A 4:2:0 or 4:2:2 video's colour, which decoding repeats over each chroma block, restored
from luma before matting (matte/chroma.py): real libx264 files, read as a job reads them."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from scipy import ndimage

from vidmatte.jobs.pipeline import read_for_matting
from vidmatte.matte import Matter, random_head
from vidmatte.matte.chroma import restored
from vidmatte.matte.foreground import foreground_rgb
from vidmatte.matte.head import HeadConfig
from vidmatte.matte.refine import BestSettings, best_edges
from vidmatte.media.video import VideoReader, chroma_blocks, probe

H, W = 96, 128
HAIR = np.array([150.0, 60.0, 20.0])  # auburn, over a light teal: luma tells them apart (as
BACKDROP = np.array([110.0, 200.0, 190.0])  # it must: one colour alone is not restored)


def strands(height: int = H, width: int = W, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Thin straight strands (about 1.6 px wide, anti-aliased, partly see-through) over a
    softly shaded backdrop: (rgb uint8 (H,W,3), alpha (H,W))."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width].astype(np.float64)
    alpha = np.zeros((height, width))
    for _ in range(14):
        angle, x0 = rng.uniform(0, np.pi), rng.uniform(0, width)
        distance = np.abs((xx - x0) * np.sin(angle) - (yy - height / 2) * np.cos(angle))
        alpha = np.maximum(alpha, np.clip(1 - distance / 0.8, 0, 1) * rng.uniform(0.6, 1))
    shade = 0.85 + 0.15 * np.sin(xx / 17.0)[..., None]
    rgb = alpha[..., None] * HAIR + (1 - alpha[..., None]) * BACKDROP * shade
    return rgb.round().astype(np.uint8), alpha


def write(path: Path, rgb: np.ndarray, pix_fmt: str) -> Path:
    """Two frames of `rgb` through libx264 at qp 0 in `pix_fmt`: lossless but for the chroma
    the format leaves out (and YUV's rounding)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], pix_fmt
        stream.options = {"qp": "0"}
        for _ in range(2):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    return path


def reader(path: Path) -> VideoReader:
    info, pts = probe(path)
    return VideoReader(path, pts, info.rotation)


def matter() -> Matter:
    return Matter(random_head(config=HeadConfig(base_channels=8, working_size=W)), "cpu", "best")


def as_read(path: Path) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
    """A video's chroma blocks, and its first frame as decoded and as a job mattes it."""
    video = reader(path)
    try:
        return (
            video.chroma_blocks,
            video.frame(0),
            read_for_matting(matter(), video, 0).pixels.numpy(),
        )
    finally:
        video.close()


def off(picture: np.ndarray | torch.Tensor, source: np.ndarray) -> np.ndarray:
    """Per pixel, the mean absolute difference from `source` over the channels, 0..255."""
    return np.abs(np.asarray(picture, np.float64) - source).mean(-1)


def test_a_job_reads_a_420_video_with_the_colour_of_thin_strands_restored(
    tmp_path: Path,
) -> None:
    """Decoded, a 4:2:0 video gives each 2x2 block one colour: a strand a pixel wide takes
    its block's, the blend of strand and backdrop that matting reads from each pixel is
    wrong. The frames a job mattes (`read_for_matting`) get it back from luma: at the
    strands' pixels 7.6 levels off the source on average (measured), against 17.5 as decoded;
    away from them no further off than decoding left them."""
    rgb, alpha = strands()
    blocks, decoded, taken = as_read(write(tmp_path / "hair.mp4", rgb, "yuv420p"))
    assert blocks == (2, 2)
    hair = alpha > 0.05
    backdrop = ~ndimage.binary_dilation(hair, iterations=3)
    assert off(decoded, rgb)[hair].mean() > 12
    assert off(taken, rgb)[hair].mean() < 0.5 * off(decoded, rgb)[hair].mean()
    assert off(taken, rgb)[backdrop].mean() <= off(decoded, rgb)[backdrop].mean() + 0.1


def test_a_444_videos_frames_are_matted_as_decoded(tmp_path: Path) -> None:
    """Every pixel of a 4:4:4 video has its own colour: nothing to restore."""
    rgb, _ = strands()
    blocks, decoded, taken = as_read(write(tmp_path / "hair.mp4", rgb, "yuv444p"))
    assert blocks == (1, 1)
    np.testing.assert_array_equal(taken, decoded)
    assert off(taken, rgb).max() <= 1


def test_a_422_videos_colour_is_restored_along_its_rows(tmp_path: Path) -> None:
    """4:2:2 keeps a chroma sample per two pixels of a row: blocks of (1, 2), and the
    strands' colour comes back there too (3.1 levels off, against 12.6 as decoded; turned a
    quarter, the blocks turn with it)."""
    rgb, alpha = strands()
    blocks, decoded, taken = as_read(write(tmp_path / "hair.mp4", rgb, "yuv422p"))
    assert blocks == (1, 2)
    hair = alpha > 0.05
    assert off(taken, rgb)[hair].mean() < 0.4 * off(decoded, rgb)[hair].mean()
    assert chroma_blocks(av.VideoFormat("yuv422p"), 90) == (2, 1)
    assert chroma_blocks(av.VideoFormat("yuv420p"), 270) == (2, 2)
    assert chroma_blocks(av.VideoFormat("gbrp")) == chroma_blocks(av.VideoFormat("gray")) == (1, 1)


@pytest.mark.parametrize("size", [(35, 49), (2, 3)])
def test_a_flat_frame_of_any_size_keeps_its_colour(size: tuple[int, int]) -> None:
    """A frame of one colour, odd-sized (the last blocks cut short), comes back that colour,
    its size kept."""
    pixels = torch.tensor([200, 30, 90], dtype=torch.uint8).expand(*size, 3).contiguous()
    out = restored(pixels, (2, 2))
    assert out.shape == pixels.shape and out.dtype == torch.uint8
    assert (out.int() - pixels.int()).abs().max() <= 1


@pytest.mark.parametrize("scale", [1, 257])
def test_restoring_moves_colour_only_every_pixels_luma_stays(tmp_path: Path, scale: int) -> None:
    """Only chroma was left out, so only chroma changes: each pixel's luma (Rec. 709, which
    green is solved from) stays the decoded one's, within the rounding of three channels,
    for 8-bit and 16-bit frames alike; and the strands' colour does change."""
    rgb, alpha = strands()
    _, decoded, _ = as_read(write(tmp_path / "hair.mp4", rgb, "yuv420p"))
    pixels = decoded.astype(np.uint16) * scale if scale > 1 else decoded
    out = restored(torch.from_numpy(pixels), (2, 2)).numpy()
    assert out.dtype == pixels.dtype and out.shape == pixels.shape
    weights = np.array([0.2126, 0.7152, 0.0722])
    luma_moved = np.abs((out.astype(np.float64) - pixels) @ weights) / scale
    assert luma_moved.max() <= 0.6
    assert off(out / scale, decoded)[alpha > 0.05].mean() > 5


def test_the_best_edges_find_strands_closer_on_restored_colour(tmp_path: Path) -> None:
    """What the restoring is for: the `best` edges' colour samples and solve, given the head's
    blurred guess at strands over a 4:2:0 video, come closer to their true alpha on the
    restored frame: at least 40% of what the subsampling cost them is won back (mean error
    at and around the strands 0.142 on the source, 0.168 decoded, 0.154 restored: 55%)."""
    rgb, alpha = strands()
    _, decoded, _ = as_read(write(tmp_path / "hair.mp4", rgb, "yuv420p"))
    guess = ndimage.uniform_filter(alpha, 5).clip(0, 1)
    near = ndimage.binary_dilation(alpha > 0.05, iterations=2)

    def error(picture: np.ndarray) -> float:
        image = torch.from_numpy(picture).permute(2, 0, 1)[None].float() / 255
        head = torch.from_numpy(guess).float()[None, None]
        out = best_edges(image, head, BestSettings()).alpha[0, 0].numpy()
        return float(np.abs(out - alpha)[near].mean())

    repaired = restored(torch.from_numpy(decoded), (2, 2)).numpy()
    cost = error(decoded) - error(rgb)
    assert cost > 0.015
    assert error(repaired) < error(decoded) - 0.4 * cost


def test_an_exports_foreground_of_a_420_video_takes_the_strands_colour_back(
    tmp_path: Path,
) -> None:
    """The estimated foreground an export puts over a new background (RGBA, composites) is
    solved from the restored colour too: over blue, with the true matte, the composite is
    10.3 levels off the truth at the strands (measured; 2.1 solved from the source) against
    20.3 solved from the decoded blocks; opaque pixels keep the decoded values, bit for bit."""
    rgb, alpha = strands()
    chroma, decoded, _ = as_read(write(tmp_path / "hair.mp4", rgb, "yuv420p"))
    matte = (alpha * 255).round().astype(np.uint8)
    matte[:8] = 255  # an opaque strip
    blue = np.array([0.0, 0.0, 255.0])
    seen = matte[..., None] / 255.0

    def composite_error(colour: np.ndarray) -> float:
        over = seen * colour + (1 - seen) * blue
        truth = seen * np.where(matte[..., None] == 255, decoded, HAIR) + (1 - seen) * blue
        return float(np.abs(over - truth)[(matte > 5) & (matte < 255)].mean())

    plain = foreground_rgb(decoded, matte)
    solved = foreground_rgb(decoded, matte, chroma=chroma)
    assert composite_error(plain) > 15
    assert composite_error(solved) < 0.6 * composite_error(plain)
    np.testing.assert_array_equal(solved[matte == 255], decoded[matte == 255])
    # A 10-bit source's 16-bit frames the same way.
    wide = decoded.astype(np.uint16) * 257
    solved16 = foreground_rgb(wide, matte, chroma=chroma)
    assert solved16.dtype == np.uint16
    assert np.abs(solved16.astype(np.float64) / 257 - solved).max() <= 2
