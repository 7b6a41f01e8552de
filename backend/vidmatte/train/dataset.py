"""Training / validation clips: foregrounds with exact alpha, moved over real backgrounds.

Inputs are image+alpha sets (alphamatting layout: `image/X.png`, `alpha/X.png`) and video sets
(VideoMatte240K layout: `fgr/<clip>/<frame>`, `pha/<clip>/<frame>`). Where only the image is
known, its foreground colours are estimated (pymatting's estimate_foreground_ml) so it can be
re-composited over new backgrounds. Each clip moves the foreground and the camera with random
homographies interpolated over time, adds motion blur, and stores:

    <out>/clips/<name>/rgb/00000.png   composite, uint8
    <out>/clips/<name>/pha/00000.png   ground-truth alpha, uint8 (exact: the composite used it)
    <out>/clips/<name>/logits.npy      guidance mask logits (T,256,256) float16, SAM2's layout
    <out>/clips/<name>/features.npz    --masks sam2 only: SAM2's feat_s0 / feat_s1 per frame
    <out>/clips/<name>/meta.json       source, background, mask kind, review status
    <out>/dataset.json                 build settings

The composite is blended in premultiplied form, C = blur(F·alpha) + B·(1 - blur(alpha)), with
GT alpha = blur(alpha), so blur and warping never make the GT disagree with the pixels. Opt-in
(`transparent`, `strands`, `object_blur_p`): procedural glass-like objects (transparent.py),
furry ones (strands.py), and objects out of focus (a disc kernel) or shaken along a curved
path, blurred the same exact way.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import math
import multiprocessing
import shutil
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np
import torch
import torch.nn.functional as F
from kornia.filters import filter2d, gaussian_blur2d, motion_blur
from kornia.geometry.transform import get_perspective_transform, warp_perspective
from PIL import Image
from rich.progress import Progress

from vidmatte.ahead import running_ahead
from vidmatte.config import usable_cores
from vidmatte.matte import chroma
from vidmatte.media.export import pad_even
from vidmatte.media.video import chroma_blocks
from vidmatte.npy_reads import NPY_READS

from .masks import SyntheticMaskConfig, synthetic_logits

if TYPE_CHECKING:
    from .sam2_masks import Sam2Labeller

IMAGE_EXTS = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class ClipConfig:
    frames: int = 8
    height: int = 360
    width: int = 640
    fg_scale: tuple[float, float] = (0.6, 1.0)  # foreground height / frame height
    max_shift: float = 0.15  # object travel over the clip, x frame width
    max_rotation: float = 12.0  # degrees, over the clip
    perspective: float = 0.06  # corner jitter, x object size
    camera_zoom: tuple[float, float] = (1.0, 1.4)
    camera_pan: float = 0.08  # x background crop size over the clip
    motion_blur_p: float = 0.5
    defocus_p: float = 0.5  # blur the background like a shallow depth of field
    # The object itself out of focus: a disc kernel whose radius drifts over the clip (px).
    lens_blur_p: float = 0.0
    lens_radius: tuple[float, float] = (1.0, 6.0)
    # Camera shake: each frame blurred along its own smooth random path of this length (px).
    shake_p: float = 0.0
    shake_length: tuple[float, float] = (4.0, 24.0)
    # The composite round-tripped through H.264 4:2:0 at a random CRF, as footage reaches the
    # tool: blocking, ringing and half-resolution chroma that the head must not read as edges.
    codec_p: float = 0.0
    codec_crf: tuple[int, int] = (18, 32)


# SAM2's high-resolution features a --masks sam2 clip caches beside its logits.
SAM_FEATURES = ("feat_s0", "feat_s1")


@dataclass
class Foreground:
    """One foreground: colours (T,h,w,3) and alpha (T,h,w), float32 in [0,1]; T=1 for images.
    `cover` (T,h,w) is what a segmenter outlines when that is not the alpha: a glass object's
    silhouette (its guidance masks are made from it); None means the alpha."""

    name: str
    fgr: np.ndarray
    pha: np.ndarray
    cover: np.ndarray | None = None


# ---------------------------------------------------------------- reading sources


def _open_8bit(path: Path) -> Image.Image:
    """The image at `path`, a 16-bit grayscale one (an alpha as Photoshop or Nuke write it)
    scaled to 8 bits: Pillow's convert() clips it instead, so all above 255 of 65535 is white."""
    image = Image.open(path)
    if image.mode.startswith("I"):  # "I;16", "I;16B", "I" (16-bit values)
        scaled = (np.asarray(image, np.float64) / 257).round().clip(0, 255)
        return Image.fromarray(scaled.astype(np.uint8))
    return image


def read_rgb(path: Path) -> np.ndarray:
    return np.asarray(_open_8bit(path).convert("RGB"))


def read_alpha(path: Path) -> np.ndarray:
    """An alpha layer, uint8: a grey PNG's values (the layout's convention), or, for one kept
    as a cut-out (RGBA, LA: an rgba_png export), its alpha channel, where that is not all
    opaque; grey for brightness would make a dark foreground transparent."""
    image = _open_8bit(path)
    if "A" in image.getbands():
        alpha = np.asarray(image.getchannel("A"))
        if alpha.min() < 255:
            return alpha
    return np.asarray(image.convert("L"))


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS)


def estimate_foreground(
    image_path: Path, alpha: np.ndarray, cache: Path | None = None
) -> np.ndarray:
    """Foreground colours (H,W,3) float32 for an image file and its uint8 alpha. Cached as an
    8-bit PNG (the image's own precision) because estimating is slow; on a cache hit the image
    is not even decoded."""
    if cache is not None and cache.is_file():
        return read_rgb(cache).astype(np.float32) / 255
    from pymatting import estimate_foreground_ml  # numba JIT: import only when needed

    image = read_rgb(image_path)
    fg = estimate_foreground_ml(image / 255.0, alpha / 255.0).clip(0, 1)
    fg8 = np.round(fg * 255).astype(np.uint8)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(fg8).save(cache)
    return fg8.astype(np.float32) / 255


def image_pairs(root: Path, names: Sequence[str] | None = None) -> list[tuple[Path, Path]]:
    """(photo, alpha) paths of an alphamatting-layout set, paired by stem; `names` picks stems.
    DatasetError naming every photo without an alpha, or with one of another size, found from
    file names and image headers before the foreground estimates (minutes each) rather than at
    that photo's turn."""
    alphas = {p.stem: p for p in _images_in(root / "alpha")}
    photos = [p for p in _images_in(root / "image") if names is None or p.stem in names]
    if unpaired := [p.name for p in photos if p.stem not in alphas]:
        raise DatasetError(
            f"{root / 'alpha'} holds no alpha of the same name for {', '.join(unpaired)} in "
            f"{root / 'image'}: add them, or leave those photos out with --names"
        )
    pairs = [(p, alphas[p.stem]) for p in photos]
    if misfits := [m for photo, alpha in pairs if (m := _size_misfit(photo, alpha))]:
        raise DatasetError(
            f"in {root}: {'; '.join(misfits)}: each alpha needs its photo's size; fix them, or "
            "leave those photos out with --names"
        )
    return pairs


def _size_misfit(photo: Path, alpha: Path) -> str | None:
    """'X.png is WxH but its alpha is wxh' when they differ (headers only), else None."""
    with Image.open(photo) as image, Image.open(alpha) as matte:
        if image.size == matte.size:
            return None
        return f"{photo.name} is {_wxh(image)} but its alpha is {_wxh(matte)}"


def _wxh(image: Image.Image) -> str:
    return f"{image.width}x{image.height}"


def image_alpha_set(
    root: Path, names: Sequence[str] | None = None, cache: Path | None = None
) -> list[Foreground]:
    """alphamatting layout: root/image/X.png + root/alpha/X.png; `names` picks stems. The two
    are paired by stem, so a photo kept as JPEG (smaller to carry) keeps its exact PNG alpha."""
    out = []
    for image_path, alpha_path in image_pairs(root, names):
        alpha = read_alpha(alpha_path)
        fg = estimate_foreground(
            image_path, alpha, cache / f"{image_path.stem}.png" if cache else None
        )
        out.append(Foreground(image_path.stem, fg[None], (alpha / 255.0).astype(np.float32)[None]))
    return out


def video_clips(root: Path, names: Sequence[str] | None = None) -> list[Path]:
    """The clip folders of a VideoMatte240K-layout set (root/fgr/<clip>), in order; `names`
    picks them by name."""
    clips = sorted(p for p in (root / "fgr").iterdir() if p.is_dir())
    return [clip for clip in clips if names is None or clip.name in names]


def video_set(
    root: Path, frames: int, step: int = 1, names: Sequence[str] | None = None
) -> list[Foreground]:
    """VideoMatte240K layout: root/fgr/<clip>/* + root/pha/<clip>/*, first `frames` every `step`."""
    out = []
    for clip in video_clips(root, names):
        paths = _images_in(clip)[: frames * step : step]
        if not paths:
            raise ValueError(f"{clip} holds no frames")
        fgr = np.stack([read_rgb(p) for p in paths]).astype(np.float32) / 255
        pha = (
            np.stack([read_alpha(root / "pha" / clip.name / p.name) for p in paths]).astype(
                np.float32
            )
            / 255
        )
        out.append(Foreground(clip.name, fgr, pha))
    return out


BACKGROUND_EXTS = (*IMAGE_EXTS, ".mp4", ".mov", ".webm", ".mkv")


def background_paths(paths: Sequence[Path]) -> list[Path]:
    """Images and videos (BACKGROUND_EXTS): the files given, and those inside given folders."""
    files = [f for p in paths for f in (p.iterdir() if p.is_dir() else [p])]
    return sorted(f for f in files if f.suffix.lower() in BACKGROUND_EXTS)


def read_background(path: Path, frames: int, rng: np.random.Generator) -> np.ndarray:
    """(T,H,W,3) uint8: an image repeated, or `frames` consecutive video frames from a random
    start. DatasetError naming the file where it is no image or video (only its name says so)."""
    try:
        return _read_background(path, frames, rng)
    except (OSError, ValueError, IndexError) as exc:  # PIL's, PyAV's; IndexError: no frame
        raise DatasetError(
            f"background {path} is not a readable image or video; remove it from --backgrounds"
        ) from exc


def _read_background(path: Path, frames: int, rng: np.random.Generator) -> np.ndarray:
    if path.suffix.lower() in IMAGE_EXTS:
        return read_rgb(path)[None].repeat(frames, 0)
    import av

    with av.open(str(path)) as container:
        count = container.streams.video[0].frames or frames
        start = int(rng.integers(0, max(1, count - frames)))
        clip = []
        for i, frame in enumerate(container.decode(video=0)):
            if i >= start:
                clip.append(frame.to_ndarray(format="rgb24"))
            if len(clip) == frames:
                break
    return np.stack(clip + [clip[-1]] * (frames - len(clip)))


# ---------------------------------------------------------------- motion and compositing


def _quad(center: np.ndarray, size: np.ndarray, angle: float, jitter: np.ndarray) -> np.ndarray:
    """Corners (4,2) of a rotated rectangle (x,y order) with per-corner jitter."""
    half = size / 2
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half
    c, s = math.cos(angle), math.sin(angle)
    rot = corners @ np.array([[c, s], [-s, c]])
    return center + rot + jitter


def object_homographies(
    fg_hw: tuple[int, int], cfg: ClipConfig, rng: np.random.Generator
) -> torch.Tensor:
    """(T,3,3) maps from foreground pixels to frame pixels: translation, scale, rotation and
    perspective, each interpolated linearly between a random start and end pose."""
    h, w = fg_hw
    frame = np.array([cfg.width, cfg.height], dtype=np.float64)
    t = np.linspace(0, 1, cfg.frames)
    scale = rng.uniform(*cfg.fg_scale, 2) * cfg.height / h
    center0 = frame / 2 + rng.uniform(-0.15, 0.15, 2) * frame
    center1 = center0 + rng.uniform(-1, 1, 2) * cfg.max_shift * cfg.width
    angles = np.radians(rng.uniform(-1, 1, 2) * cfg.max_rotation / 2)
    size = np.array([w, h], dtype=np.float64)
    jit = rng.uniform(-1, 1, (2, 4, 2)) * cfg.perspective * size.max() * scale.mean()
    src = torch.tensor([[0, 0], [w, 0], [w, h], [0, h]], dtype=torch.float32)[None]
    mats = []
    for k in range(cfg.frames):
        s = scale[0] + (scale[1] - scale[0]) * t[k]
        dst = _quad(
            center0 + (center1 - center0) * t[k],
            size * s,
            angles[0] + (angles[1] - angles[0]) * t[k],
            jit[0] + (jit[1] - jit[0]) * t[k],
        )
        mats.append(get_perspective_transform(src, torch.tensor(dst, dtype=torch.float32)[None])[0])
    return torch.stack(mats)


def camera_homographies(
    bg_hw: tuple[int, int], cfg: ClipConfig, rng: np.random.Generator
) -> torch.Tensor:
    """(T,3,3) maps from background pixels to frame pixels: a crop of the frame's aspect that
    pans and zooms slowly (a moving camera)."""
    bh, bw = bg_hw
    aspect = cfg.width / cfg.height
    crop_w = min(bw, bh * aspect) / rng.uniform(*cfg.camera_zoom, 2)
    crop = np.stack([crop_w, crop_w / aspect], axis=1)  # (2 poses, 2)
    room = np.array([bw, bh])[None] - crop
    centers = crop / 2 + rng.uniform(0, 1, (2, 2)) * room
    pan = rng.uniform(-1, 1, 2) * cfg.camera_pan * crop[0]
    centers[1] = np.clip(centers[0] + pan, crop[1] / 2, np.array([bw, bh]) - crop[1] / 2)
    dst = torch.tensor(
        [[0, 0], [cfg.width, 0], [cfg.width, cfg.height], [0, cfg.height]], dtype=torch.float32
    )[None]
    mats = []
    for t in np.linspace(0, 1, cfg.frames):
        c = centers[0] + (centers[1] - centers[0]) * t
        size = crop[0] + (crop[1] - crop[0]) * t
        src = torch.tensor(_quad(c, size, 0.0, np.zeros((4, 2))), dtype=torch.float32)[None]
        mats.append(get_perspective_transform(src, dst)[0])
    return torch.stack(mats)


def _to_tensor(frames: np.ndarray) -> torch.Tensor:
    """(T,H,W[,C]) array -> (T,C,H,W) float tensor."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).float()
    return x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)


def _motion_blur(
    layers: torch.Tensor, homs: torch.Tensor, fg_hw: tuple[int, int], exposure: float
) -> torch.Tensor:
    """Blur each frame along the object's motion (centre displacement per frame x exposure)."""
    h, w = fg_hw
    center = torch.tensor([w / 2, h / 2, 1.0])
    pts = homs @ center
    pts = pts[:, :2] / pts[:, 2:]
    velocity = torch.gradient(pts, dim=0)[0] if len(pts) > 1 else torch.zeros_like(pts)
    out = []
    for frame, v in zip(layers, velocity, strict=True):
        length = float(v.norm()) * exposure
        size = int(length) // 2 * 2 + 1
        if size < 3:
            out.append(frame)
            continue
        angle = -math.degrees(math.atan2(float(v[1]), float(v[0])))
        out.append(motion_blur(frame[None], size, angle, 0.0, border_type="constant")[0])
    return torch.stack(out)


def disc_kernel(radius: float) -> torch.Tensor:
    """A lens's out-of-focus blur: a disc of `radius` px, antialiased (8x supersampled), sum 1."""
    half = math.ceil(radius)
    n = (2 * half + 1) * 8
    r = (torch.arange(n, dtype=torch.float32) + 0.5) / 8 - (half + 0.5)
    inside = (r[:, None] ** 2 + r[None, :] ** 2 <= radius**2).float()
    kernel = F.avg_pool2d(inside[None, None], 8)[0, 0]
    return kernel / kernel.sum()


def path_kernel(length: float, rng: np.random.Generator) -> torch.Tensor:
    """Camera shake: a smooth random path of `length` px (turning as a random walk), centred on
    its mean point and drawn with bilinear splats into a kernel that sums to 1."""
    steps = max(8, int(length * 4))
    turn = np.cumsum(rng.normal(0, 0.25, steps)) + rng.uniform(0, 2 * np.pi)
    pts = np.cumsum(np.stack([np.cos(turn), np.sin(turn)], 1), 0) * length / steps
    pts -= pts.mean(0)
    half = math.ceil(np.abs(pts).max()) + 1
    pts += half
    kernel = np.zeros((2 * half + 1, 2 * half + 1), np.float32)
    base = np.floor(pts).astype(int)
    frac = pts - base
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        weight = np.abs(1 - dx - frac[:, 0]) * np.abs(1 - dy - frac[:, 1])
        np.add.at(kernel, (base[:, 1] + dy, base[:, 0] + dx), weight)
    return torch.from_numpy(kernel / kernel.sum())


def blur_layers(layers: torch.Tensor, kernels: Sequence[torch.Tensor]) -> torch.Tensor:
    """Each frame of premultiplied layers (T,C,H,W) through its own kernel (sum 1), zeros
    outside: F·alpha and alpha blur together, so the composite stays exact and alpha's mass
    is kept."""
    return torch.cat(
        [
            filter2d(frame[None], kernel[None], border_type="constant")
            for frame, kernel in zip(layers, kernels, strict=True)
        ]
    )


def _object_blur(layers: torch.Tensor, cfg: ClipConfig, rng: np.random.Generator) -> torch.Tensor:
    """Defocus and shake (each opt-in). Draws nothing when both are off, so clips built with the
    default config stay identical for a given seed."""
    frames = len(layers)
    if cfg.lens_blur_p > 0 and rng.random() < cfg.lens_blur_p:
        r0, r1 = rng.uniform(*cfg.lens_radius, 2)
        layers = blur_layers(layers, [disc_kernel(r) for r in np.linspace(r0, r1, frames)])
    if cfg.shake_p > 0 and rng.random() < cfg.shake_p:
        length = rng.uniform(*cfg.shake_length)
        kernels = [path_kernel(length * rng.uniform(0.5, 1.0), rng) for _ in range(frames)]
        layers = blur_layers(layers, kernels)
    return layers


@dataclass
class Layers:
    """A composited clip and what it was made of: rgb = fgr·pha + bgr·(1 - pha) (to rounding, or
    to the codec's error where `ClipConfig.codec_p` compressed it)."""

    rgb: np.ndarray  # (T,H,W,3) uint8
    pha: np.ndarray  # (T,H,W) float32, quantised to 1/255
    cover: np.ndarray  # (T,H,W) float32
    fgr: np.ndarray  # (T,H,W,3) uint8 straight foreground colour (0 where pha is 0)
    bgr: np.ndarray  # (T,H,W,3) uint8 background


def ping_pong(frames: int, source: int) -> list[int]:
    """Indices of `frames` frames from a source of `source`: forwards, then back and forth
    when it is shorter (a loop would jump from its last frame to its first, a cut no footage
    has); a photo (source 1) repeats."""
    period = max(2 * source - 2, 1)
    return [min(t % period, period - t % period) for t in range(frames)]


def composite_layers(
    fg: Foreground, background: np.ndarray, cfg: ClipConfig, rng: np.random.Generator
) -> Layers:
    """Move `fg` over `background` (T,Hb,Wb,3 uint8): the composite, the exact alpha
    (quantised to 1/255, the value the composite was blended with), the cover the guidance
    masks are made from (the alpha unless `fg.cover`), and the foreground colour F and
    background B it was made of (what bench/export_colour.py's metric needs)."""
    size = (cfg.height, cfg.width)
    fgr, pha = _to_tensor(fg.fgr), _to_tensor(fg.pha)
    cover = pha if fg.cover is None else _to_tensor(fg.cover)
    # Shrink the layers once with antialiasing so warping does not alias hair.
    target_h = int(np.mean(cfg.fg_scale) * cfg.height)
    if fgr.shape[-2] > target_h * 1.2:
        hw = (target_h, max(1, round(fgr.shape[-1] * target_h / fgr.shape[-2])))

        def shrink(x: torch.Tensor) -> torch.Tensor:
            return F.interpolate(x, size=hw, mode="bilinear", antialias=True, align_corners=False)

        fgr, pha, cover = shrink(fgr), shrink(pha), shrink(cover)
    fg_hw = tuple(fgr.shape[-2:])
    homs = object_homographies(fg_hw, cfg, rng)
    premult = torch.cat([fgr * pha, pha, cover], dim=1)
    index = torch.as_tensor(ping_pong(cfg.frames, premult.shape[0]))
    layers = warp_perspective(premult[index], homs, size, mode="bilinear", padding_mode="zeros")
    if rng.random() < cfg.motion_blur_p:
        layers = _motion_blur(layers, homs, fg_hw, exposure=rng.uniform(0.3, 1.0))
    layers = _object_blur(layers, cfg, rng)
    # Un-premultiply, then blend with the alpha exactly as stored (uint8), so
    # C = F·alpha + B·(1-alpha) holds for the saved files to within rounding.
    raw = layers[:, 3:4].clamp(0, 1)
    colour = (layers[:, :3] / raw.clamp_min(1e-6)).clamp(0, 1)
    alpha = (raw * 255).round() / 255
    bg = _to_tensor(background) / 255
    cams = camera_homographies(tuple(bg.shape[-2:]), cfg, rng)
    bg = warp_perspective(bg, cams, size, mode="bilinear", padding_mode="border")
    if rng.random() < cfg.defocus_p:
        sigma = float(rng.uniform(0.5, 2.5))
        bg = gaussian_blur2d(bg, (int(4 * sigma) * 2 + 1,) * 2, (sigma, sigma))
    rgb = colour * alpha + bg * (1 - alpha)

    def rgb8(x: torch.Tensor) -> np.ndarray:
        return (x.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()

    cover_out = layers[:, 4].clamp(0, 1).numpy().astype(np.float32)
    pha = alpha[:, 0].numpy().astype(np.float32)
    frames = rgb8(rgb)
    if cfg.codec_p and rng.random() < cfg.codec_p:  # no draw when off: seeds build as before
        frames = h264_round_trip(frames, int(rng.integers(cfg.codec_crf[0], cfg.codec_crf[1] + 1)))
    return Layers(frames, pha, cover_out, rgb8(colour * (alpha > 0)), rgb8(bg))


def h264_round_trip(frames: np.ndarray, crf: int) -> np.ndarray:
    """(T,H,W,3) uint8 frames encoded with libx264 in yuv420p at `crf`, then decoded as a job
    reads such a video for matting (its colour restored from luma: `Matter.prepare`): what a
    camera's or an editor's export does to them. Odd sizes are edge-padded for 4:2:0, as the
    exports are. Without libx264's macroblock tree (mbtree=0): on an AVX-512 machine it read
    memory it had not written, and the same frames came back two ways (a seed must build the
    same clips); it only moves quality between a clip's frames, not the kind of error."""
    height, width = frames.shape[1:3]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.height, stream.width = height + height % 2, width + width % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast", "x264-params": "mbtree=0"}
        for frame in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(pad_even(frame), format="rgb24")))
        out.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer) as inp:
        decoded = [
            chroma.restored(torch.from_numpy(f.to_ndarray(format="rgb24")), chroma_blocks(f.format))
            for f in inp.decode(video=0)
        ]
    return np.stack([f.numpy() for f in decoded])[:, :height, :width]


# ---------------------------------------------------------------- dataset on disk


@dataclass
class Clip:
    name: str
    rgb: np.ndarray  # (T,H,W,3) uint8
    pha: np.ndarray  # (T,H,W) float32 in [0,1]
    logits: np.ndarray  # (T,256,256) float32
    # SAM2's high-resolution features in its square layout, (T,C,h,w) float16; --masks sam2 only
    features: dict[str, np.ndarray] = field(default_factory=dict)
    # The true foreground colour and background (T,H,W,3) uint8, stored since they were kept
    # (for bench/export_colour.py); None in clips built before.
    fgr: np.ndarray | None = None
    bgr: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rgb)


def write_clip(folder: Path, clip: Clip, meta: dict) -> None:
    colours = {"rgb": clip.rgb, "fgr": clip.fgr, "bgr": clip.bgr}
    colours = {sub: frames for sub, frames in colours.items() if frames is not None}
    for sub in (*colours, "pha"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for t in range(len(clip)):
        for sub, frames in colours.items():
            Image.fromarray(frames[t]).save(folder / sub / f"{t:05d}.png", compress_level=1)
        pha8 = (clip.pha[t] * 255).round().astype(np.uint8)
        Image.fromarray(pha8).save(folder / "pha" / f"{t:05d}.png", compress_level=1)
    np.save(folder / "logits.npy", clip.logits.astype(np.float16))
    if clip.features:
        np.savez(folder / "features.npz", **clip.features)
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


# Threads that encode and decode a dataset's PNGs (Pillow releases the GIL for both): on a GPU
# machine building and loading clips is time the device waits.
IO_THREADS = min(8, usable_cores())


def read_clips(folders: Sequence[Path], step: int = 1) -> list[Clip]:
    """`read_clip` of each folder, in order, decoded in IO_THREADS threads."""
    with ThreadPoolExecutor(IO_THREADS) as pool:
        return list(pool.map(lambda folder: read_clip(folder, step), folders))


class DatasetError(ValueError):
    """A dataset that cannot serve as asked (a broken clip, none to train on); the message
    names it and the fix."""


class ClipError(DatasetError):
    """A clip folder whose layers do not hold the same frames; the message names it and them."""


_CLIP_FIX = "rebuild the dataset, or remove this clip's folder"  # what every ClipError ends with


# A clip's per-frame image layers; rgb/ is the reference, fgr/ and bgr/ are absent in clips
# built before they were kept.
FRAME_LAYERS = ("rgb", "pha", "fgr", "bgr")


def clip_side(folder: Path) -> int:
    """The shorter side of a clip's frames, in pixels, from its first frame's header."""
    with Image.open(folder / "rgb" / clip_frames(folder)[0]) as first:
        return min(first.size)


def clip_frames(folder: Path) -> list[str]:
    """The frame file names of a clip, the same in each of its layers and as many as its
    logits: one frame missing from one layer would pair each later frame with the next one's
    alpha. ClipError naming the folder and every frame missing or extra where they differ."""
    names = [p.name for p in _images_in(folder / "rgb")]
    problems = []
    for layer in FRAME_LAYERS[1:]:
        if layer != "pha" and not (folder / layer).is_dir():
            continue
        held = {p.name for p in _images_in(folder / layer)}
        if missing := [n for n in names if n not in held]:
            problems.append(f"{layer}/ lacks {', '.join(missing)}")
        if extra := sorted(held.difference(names)):
            problems.append(f"{layer}/ has {', '.join(extra)} that rgb/ lacks")
    if problems:
        raise ClipError(
            f"{folder}: {'; '.join(problems)}: each layer needs the frames rgb/ holds: {_CLIP_FIX}"
        )
    with NPY_READS:
        logits = len(np.load(folder / "logits.npy", mmap_mode="r"))  # reads the header only
    if logits != len(names):
        raise ClipError(
            f"{folder}: logits.npy holds {logits} frames, rgb/ {len(names)}: {_CLIP_FIX}"
        )
    if (folder / "features.npz").is_file():
        for key, shape in npz_shapes(folder / "features.npz").items():
            if shape[:1] != (len(names),):
                frames = shape[0] if shape else 0
                raise ClipError(
                    f"{folder}: features.npz holds {frames} frames of {key}, rgb/ {len(names)}: "
                    f"{_CLIP_FIX}"
                )
    return names


def npz_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """The shape of each array in an .npz, read from the headers of its members: the arrays
    (SAM2's features: megabytes a frame) are not read. ClipError naming the file when it is no
    .npz."""
    shapes = {}
    try:
        with NPY_READS, zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                with archive.open(member) as stored:
                    version = np.lib.format.read_magic(stored)
                    header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shapes[member.removesuffix(".npy")] = header(stored)[0]
    except (zipfile.BadZipFile, ValueError) as exc:  # ValueError: a member that is no .npy
        raise ClipError(f"{path} cannot be read ({exc}): {_CLIP_FIX}") from exc
    return shapes


def read_clip(folder: Path, step: int = 1) -> Clip:
    """Load a clip, every `step`-th frame."""
    names = clip_frames(folder)[::step]
    rgb = np.stack([read_rgb(folder / "rgb" / n) for n in names])
    fgr, bgr = (
        np.stack([read_rgb(folder / sub / n) for n in names]) if (folder / sub).is_dir() else None
        for sub in ("fgr", "bgr")
    )
    pha = np.stack([read_alpha(folder / "pha" / n) for n in names]).astype(np.float32) / 255
    with NPY_READS:
        logits = np.load(folder / "logits.npy")[::step].astype(np.float32)
        features = {}
        if (folder / "features.npz").is_file():
            with np.load(folder / "features.npz") as stored:
                features = {key: stored[key][::step] for key in stored.files}
    return Clip(folder.name, rgb, pha, logits, features, fgr, bgr)


def compressed_copy(dataset: Path, out: Path, crf: int) -> Path:
    """A copy of `dataset` whose clips went through H.264 at `crf` (`h264_round_trip`): the
    same clips and true alphas, with the pixels as footage reaches the tool."""
    # Read from `dataset`, so that what is missing or broken is named there, not in the copy.
    settings = json.loads((dataset / "dataset.json").read_text())
    folders = [out / "clips" / f.name for f in clip_folders(dataset, include_rejected=True)]
    shutil.copytree(dataset, out)
    with Progress() as progress:
        task = progress.add_task("coding clips", total=len(folders))
        for folder in folders:
            paths = _images_in(folder / "rgb")
            coded = h264_round_trip(np.stack([read_rgb(p) for p in paths]), crf)
            for path, frame in zip(paths, coded, strict=True):
                Image.fromarray(frame).save(path, compress_level=1)
            progress.advance(task)
    (out / "dataset.json").write_text(json.dumps({**settings, "h264_crf": crf}, indent=2) + "\n")
    return out


def feature_channels(dataset: Path) -> dict[str, int]:
    """SAM2 feature channel counts of a --masks sam2 dataset ({} when it has none)."""
    folders = clip_folders(dataset)
    if not folders or not (folders[0] / "features.npz").is_file():
        return {}
    shapes = npz_shapes(folders[0] / "features.npz")
    return {key: int(shape[1]) for key, shape in shapes.items()}


def read_meta(folder: Path) -> dict:
    """A clip's meta.json; ValueError naming the file when it is missing or not JSON."""
    path = folder / "meta.json"
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError) as exc:  # a stray entry in clips/
        raise ValueError(f"{folder} has no meta.json: not a clip of this dataset") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc})") from exc


def clip_folders(dataset: Path, include_rejected: bool = False) -> list[Path]:
    """The dataset's clips, without those marked rejected by `review`. Their frames are
    checked here (`clip_frames`: file names only), so a broken clip is named before any work."""
    out = []
    for folder in sorted((dataset / "clips").iterdir()):
        meta = read_meta(folder)
        if include_rejected or meta.get("review") != "reject":
            clip_frames(folder)
            out.append(folder)
    return out


@dataclass(frozen=True)
class _Recipe:
    """What every clip of a build shares."""

    folder: Path  # the dataset's clips/
    backgrounds: tuple[Path, ...]
    cfg: ClipConfig
    masks: str


@dataclass(frozen=True)
class _ClipJob:
    """One clip to make: clip `k` of `fg`, drawn from a generator seeded with `seed`."""

    fg: Foreground
    k: int
    seed: tuple[int, int]  # (build seed, clip index)


def _made_clip(
    job: _ClipJob, recipe: _Recipe, labeller: Sam2Labeller | None = None
) -> tuple[Path, Clip, dict]:
    """One clip composited, with its guidance masks (SAM2's where `labeller`): where to write
    it, the clip and its meta.json."""
    rng = np.random.default_rng(job.seed)
    bg_path = recipe.backgrounds[int(rng.integers(len(recipe.backgrounds)))]
    background = read_background(bg_path, recipe.cfg.frames, rng)
    made = composite_layers(job.fg, background, recipe.cfg, rng)
    features: dict[str, np.ndarray] = {}
    if labeller:
        logits, features = labeller(made.rgb, made.cover, rng)
    else:
        logits = synthetic_logits(made.cover, rng, SyntheticMaskConfig())
    name = f"{job.fg.name}_{job.k:03d}"
    meta = {
        "foreground": job.fg.name,
        "background": bg_path.name,
        "masks": recipe.masks,
        "frames": recipe.cfg.frames,
    }
    clip = Clip(name, made.rgb, made.pha, logits, features, made.fgr, made.bgr)
    return recipe.folder / name, clip, meta


def _one_thread() -> None:
    """A pool worker's start: torch's own threads would multiply by the workers."""
    torch.set_num_threads(1)


def _make_clips(jobs: list[_ClipJob], recipe: _Recipe) -> int:
    for job in jobs:
        write_clip(*_made_clip(job, recipe))
    return len(jobs)


def _make_clips_here(
    jobs: list[_ClipJob],
    recipe: _Recipe,
    labeller: Sam2Labeller | None,
    advance: Callable[[], None],
) -> None:
    """Each job's clip made in this process (where SAM2 labels them on its device), the next
    one made in a thread while this one's PNGs are written, so the device does not wait on
    the encoder (`running_ahead`: one made ahead, so at most two clips are held). A failed
    write stops the build, the clip in hand finished and no more made."""
    made = (_made_clip(job, recipe, labeller) for job in jobs)
    with contextlib.closing(running_ahead(made, name="vidmatte-clip-ahead")) as clips:
        for folder, clip, meta in clips:
            write_clip(folder, clip, meta)
            advance()


def _make_clips_in_pool(
    jobs: list[_ClipJob], recipe: _Recipe, workers: int, advance: Callable[[], None]
) -> None:
    """Each job's clip made and written in `workers` processes, `advance` called per clip
    made. Jobs go in chunks of one foreground's clips, so its layers (megabytes for a photo)
    are sent once a chunk, about four chunks a worker, so none idles long at the end. Workers
    write their clips: none is held here. The first failure stops the build, unstarted chunks
    cancelled. Spawned, not forked: torch's threads do not survive a fork."""
    size = math.ceil(len(jobs) / (4 * workers))
    groups = [list(group) for _, group in itertools.groupby(jobs, key=lambda job: id(job.fg))]
    chunks = [group[i : i + size] for group in groups for i in range(0, len(group), size)]
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(min(workers, len(chunks)), context, initializer=_one_thread)
    try:
        pending = [pool.submit(_make_clips, chunk, recipe) for chunk in chunks]
        for future in as_completed(pending):
            for _ in range(future.result()):
                advance()
    finally:
        pool.shutdown(cancel_futures=True)


def build_dataset(
    out: Path,
    image_sets: Sequence[Path] = (),
    video_sets: Sequence[Path] = (),
    backgrounds: Sequence[Path] = (),
    names: Sequence[str] | None = None,
    clips_per_foreground: int = 4,
    frames: int = 8,
    height: int = 360,
    width: int = 640,
    masks: str = "synthetic",
    sam2_model: str = "test-tiny",
    sam2_checkpoint_dir: Path | None = None,
    seed: int = 0,
    foreground_cache: Path | None = None,
    transparent: int = 0,
    strands: int = 0,
    object_blur_p: float = 0.0,
    codec_p: float = 0.0,
    workers: int | None = None,
) -> Path:
    """Build a clip dataset under `out` and return it.

    `names` selects foregrounds by image stem / clip name (e.g. the training split); `masks` is
    "synthetic" (degraded GT, see masks.py) or "sam2" (random positive clicks on frame 0, SAM2
    in video mode over the clip, its logits cached). `foreground_cache` keeps the slow
    foreground estimates between builds (default: `<out>/foreground_cache`). Opt-in extras:
    `transparent` procedural glass-like objects (transparent.py) and `strands` procedural
    furry ones (strands.py), each getting `clips_per_foreground` clips after the others, and
    `object_blur_p`, the chance a clip's
    object is out of focus and, separately, shaken, and `codec_p`, the chance a clip is
    round-tripped through H.264 (`ClipConfig.codec_p`). With all at 0 a seed builds the same
    clips as before they existed (since 2026-12-04, when clips got their own generators).

    Clips are made in `workers` processes (default: one per usable core); each draws from its
    own generator, seeded by (seed, clip index), so the clips are the same whatever their
    number. --masks sam2 clips are made in this process, where the SAM2 model is.
    """
    if masks not in ("synthetic", "sam2"):
        raise ValueError(f"masks must be 'synthetic' or 'sam2', not {masks!r}")
    if min(transparent, strands) < 0 or not (0 <= object_blur_p <= 1 and 0 <= codec_p <= 1):
        raise ValueError(
            "transparent and strands must be >= 0, object_blur_p and codec_p within [0, 1]"
        )
    workers = usable_cores() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be >= 1, not {workers}")
    # Both build on Foreground, defined here.
    from .strands import strand_foregrounds
    from .transparent import transparent_foregrounds

    cfg = ClipConfig(
        frames=frames,
        height=height,
        width=width,
        lens_blur_p=object_blur_p,
        shake_p=object_blur_p,
        codec_p=codec_p,
    )
    # What fails fast comes before the foreground estimates, which take minutes.
    bgs = background_paths([Path(b) for b in backgrounds])
    if not bgs:
        shown = ", ".join(str(b) for b in backgrounds) or "none given"
        raise ValueError(f"no background images or videos ({shown}): give --backgrounds")
    for root in image_sets:  # every photo paired before the first slow estimate
        image_pairs(Path(root), names)
    labeller = None
    if masks == "sam2":
        from .sam2_masks import Sam2Labeller  # imports SAM2 only when it is used

        labeller = Sam2Labeller(sam2_model, sam2_checkpoint_dir)
    cache = foreground_cache or out / "foreground_cache"
    foregrounds = [fg for root in image_sets for fg in image_alpha_set(Path(root), names, cache)]
    foregrounds += [fg for root in video_sets for fg in video_set(Path(root), frames, names=names)]
    foregrounds += transparent_foregrounds(transparent, seed)
    foregrounds += strand_foregrounds(strands, seed)
    if not foregrounds:
        picked = f" named {', '.join(names)}" if names else ""
        raise ValueError(
            f"no foregrounds{picked} in --images, --videos, --transparent or --strands"
        )
    (out / "clips").mkdir(parents=True, exist_ok=True)
    jobs = [
        _ClipJob(fg, k, seed=(seed, i * clips_per_foreground + k))
        for i, fg in enumerate(foregrounds)
        for k in range(clips_per_foreground)
    ]
    recipe = _Recipe(out / "clips", tuple(bgs), cfg, masks)
    with Progress() as progress:
        task = progress.add_task("building clips", total=len(jobs))
        if labeller or workers == 1:  # SAM2 runs once, on its device, in this process
            _make_clips_here(jobs, recipe, labeller, lambda: progress.advance(task))
        else:
            _make_clips_in_pool(jobs, recipe, workers, lambda: progress.advance(task))
    settings = {
        "image_sets": image_sets,
        "video_sets": video_sets,
        "backgrounds": [p.name for p in bgs],
        "foregrounds": [fg.name for fg in foregrounds],
        "clips_per_foreground": clips_per_foreground,
        "transparent": transparent,
        "strands": strands,
        "masks": masks,
        "sam2_model": sam2_model if masks == "sam2" else None,
        "seed": seed,
        "clip": asdict(cfg),
    }
    (out / "dataset.json").write_text(json.dumps(settings, indent=2, default=str) + "\n")
    return out


# ---------------------------------------------------------------- review


def contact_sheet(clip: Clip, columns: int = 4, thumb_width: int = 240) -> Image.Image:
    """Frames with the guidance mask (red) and GT alpha (green) blended over them."""
    thumbs = []
    for t in range(len(clip)):
        rgb = clip.rgb[t].astype(np.float32)
        mask = F.interpolate(
            torch.from_numpy(clip.logits[t])[None, None], size=rgb.shape[:2], mode="bilinear"
        )
        mask = torch.sigmoid(mask)[0, 0].numpy()
        tint = rgb * 0.5
        tint[..., 0] += 127 * mask
        tint[..., 1] += 127 * clip.pha[t]
        img = Image.fromarray(tint.clip(0, 255).astype(np.uint8))
        thumbs.append(img.resize((thumb_width, round(img.height * thumb_width / img.width))))
    rows = math.ceil(len(thumbs) / columns)
    sheet = Image.new("RGB", (columns * thumb_width, rows * thumbs[0].height))
    for i, thumb in enumerate(thumbs):
        sheet.paste(thumb, ((i % columns) * thumb_width, (i // columns) * thumb.height))
    return sheet


class DecisionError(ValueError):
    """A decisions file that cannot be applied (nothing of it is)."""


def read_decisions(path: Path, clips: set[str]) -> dict[str, str]:
    """clip -> accept|reject from `<clip> accept|reject` lines (blank lines and # comments
    aside). DecisionError naming every line that is neither, or names no clip of the dataset:
    a typo must not leave a clip the user rejected in training."""
    try:
        text = path.read_text()
    except UnicodeDecodeError as exc:
        raise DecisionError(f"{path} is not text ({exc.reason})") from exc
    verdicts, problems = {}, []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or parts[1] not in ("accept", "reject"):
            problems.append(f"line {number}: '{line[:80]}' is not '<clip> accept|reject'")
        elif parts[0] not in clips:
            problems.append(f"line {number}: no clip '{parts[0][:80]}' in the dataset")
        else:
            verdicts[parts[0]] = parts[1]
    if problems:
        raise DecisionError(f"{path}: nothing applied; " + "; ".join(problems))
    return verdicts


def review(dataset: Path, decisions: Path | None = None) -> list[Path]:
    """Write `<dataset>/review/<clip>.png` for every clip and apply `decisions`: a text file of
    `<clip> accept|reject` lines (the status lands in each clip's meta.json; rejected clips are
    skipped by training and evaluation). Returns the contact sheets written."""
    folders = clip_folders(dataset, include_rejected=True)
    verdicts = read_decisions(decisions, {f.name for f in folders}) if decisions else {}
    sheets = []
    (dataset / "review").mkdir(exist_ok=True)
    with Progress() as progress:
        task = progress.add_task("reviewing clips", total=len(folders))
        for folder in folders:
            sheet = dataset / "review" / f"{folder.name}.png"
            contact_sheet(read_clip(folder)).save(sheet)
            sheets.append(sheet)
            if folder.name in verdicts:
                meta = {**read_meta(folder), "review": verdicts[folder.name]}
                (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
            progress.advance(task)
    return sheets
