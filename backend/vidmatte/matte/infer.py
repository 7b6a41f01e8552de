"""Run the head on one full-resolution frame.

The head runs at a working resolution (long side `config.working_size`, aspect kept) because
its cost grows with pixels and SAM2's mask is only 256² of information anyway. Its alpha is
then refined (refine.py) where it is unsure, on the same device: by default ("best") with
classical matting at working resolution, guided-upsampled to the frame; "fast" with the guided
filter alone.
"""

from __future__ import annotations

import contextlib
import math
from typing import NamedTuple

import numpy as np
import torch

from vidmatte.config import MIN_WORKING_SIDE
from vidmatte.memory import keep_freed_memory

from .chroma import Blocks, restored
from .filters import launch_bound, shrunk_along
from .head import MattingHead, for_inference
from .plate import BackgroundPlate, PlateSettings
from .refine import (
    BestSettings,
    Edges,
    Gate,
    best_edges,
    check_edges,
    glass_pixels,
    guided_coefficients,
    guided_finish,
    near_object,
    resize,
)

# logit(0.01): SAM2's probability of 1%, below which a pixel is background for the plate.
SURE_OUTSIDE_LOGIT = math.log(0.01 / 0.99)


def working_shape(height: int, width: int, working_size: int, stride: int) -> tuple[int, int]:
    """(h, w) with the long side at most `working_size`, aspect kept, multiples of `stride`;
    a frame narrower than `working_size` / MIN_WORKING_SIDE keeps MIN_WORKING_SIDE on its short
    side instead (its long side then beyond `working_size`), and is never enlarged. Frames up
    to 40:1 (VIDMATTE_MAX_ASPECT's default) have it at 640; narrower ones (a higher
    VIDMATTE_MAX_ASPECT) were shrunk to 8 px, and every job on them failed."""
    short, long = sorted((height, width))
    scale = min(1.0, max(working_size / long, MIN_WORKING_SIDE / short))
    h = max(stride, round(height * scale / stride) * stride)
    w = max(stride, round(width * scale / stride) * stride)
    return h, w


def working_frame(pixels: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A frame uint8 (H,W,3) as (1,3,h,w) in [0,1] at `size`, by `resize` (antialiased
    bilinear). Where each side shrinks by a whole factor of at least 3 on the CPU (1080p and
    4K to the working size: 3x, 6x), as its two passes of triangle weights over strided
    slices, rows first (whole rows: contiguous), the frame kept interleaved: a 4K frame in
    half the time (one thread: 89 -> 42 to 52 ms; 1080p 12 -> 10 ms; at 2x torch's is the
    faster)."""
    height, width = pixels.shape[:2]
    factors = (height // size[0], width // size[1])
    whole = factors[0] * size[0] == height and factors[1] * size[1] == width
    if launch_bound(pixels) or not whole or min(factors) < 3:
        return resize(pixels.permute(2, 0, 1)[None].float().div_(255.0), size)
    out = shrunk_along(shrunk_along(pixels, 0, factors[0]), 1, factors[1])
    return out.div_(255.0).permute(2, 0, 1)[None].contiguous()


class Frame(NamedTuple):
    """A frame as matting takes it (`Matter.prepare`): its pixels on the device, uint8
    (H,W,3), and at the working size, (1,3,h,w) in [0,1]. A job feeds a frame to its objects'
    plates ahead of matting it: prepared once for all of them, it is not shrunk again (a
    1080p frame: 14 ms on one thread, each time)."""

    pixels: torch.Tensor
    low: torch.Tensor


Picture = np.ndarray | Frame  # what Matter's calls take: rgb uint8 (H,W,3), or it prepared


class Matter:
    """Callable that turns a frame + SAM2 mask logits into a full-resolution alpha matte.

    `edges` picks the edge refinement (refine.py): "best" (the default), "fast" (the guided
    filter only) or "none". `plate`: "best" also takes the background seen behind the object in
    other frames (plate.py) as known; a job keeps one `new_plate()` per object, feeds it each
    frame `plate_ahead` frames before matting it (`feed_plate`) and passes it with every
    frame; `plate_settings` are its plate's (default: `PlateSettings()`). `gf_radius` /
    `gf_eps` are the "fast" guided filter's (radius in working-resolution pixels), `up_radius`
    / `up_eps` those of the guided upsampling of the "best" alpha to frames above the working
    size, `best` the rest of its settings (chosen as docs/MATTING.md says).

    gf_radius 8, gf_eps 1e-4: on the 18 training images at 640 px (as in docs/MATTING.md, "The
    sweeps behind `BestSettings`"), the gated filter scores MAD 6.79 against 6.99 / 7.72 for eps
    1e-3 / 1e-2, 7.10 for radius 4 and 7.27 for radius 2; ungated (before issue 13) it scored
    7.70, its background error 0.82 where the head's is 0.23 (gated 0.24): the gate, not a
    larger eps, is what keeps the filter off textured backgrounds. up_radius 2, up_eps 1e-4: the
    upsampling only transfers the frame's own edges within a few working pixels; those images
    are no larger than the working size, so these are not tuned.
    """

    def __init__(
        self,
        head: MattingHead,
        device: str | torch.device = "cpu",
        edges: Edges = "best",
        gf_radius: int = 8,
        gf_eps: float = 1e-4,
        up_radius: int = 2,
        up_eps: float = 1e-4,
        best: BestSettings = BestSettings(),
        plate: bool = False,
        plate_settings: PlateSettings | None = None,
    ) -> None:
        keep_freed_memory()  # each frame allocates again what the last one freed (memory.py)
        self.device = torch.device(device)
        self.plate = plate
        self.plate_settings = plate_settings or PlateSettings()
        self.head = head.to(self.device)  # the caller's module (Ray workers copy its weights)
        self._net = for_inference(self.head)  # what runs
        check_edges(edges)
        self.edges = edges
        self.gf_radius, self.gf_eps = gf_radius, gf_eps
        self.up_radius, self.up_eps = up_radius, up_eps
        self.best = best

    @property
    def gate(self) -> Gate:
        return self.best.gate

    @property
    def plate_frames(self) -> int:
        """How many frames an object's plate holds, before and after the one matted: 0 where
        none is used (`plate` off, or edges other than "best")."""
        return self.plate_settings.frames if self.plate and self.edges == "best" else 0

    @property
    def plate_ahead(self) -> int:
        """How many frames ahead of the one it mattes a job feeds each object's plate
        (`feed_plate`): 0 where no plate is used."""
        return self.plate_settings.upcoming if self.plate_frames else 0

    def new_plate(self, height: int, width: int) -> BackgroundPlate | None:
        """An empty background plate for frames of this size, or None where none is used."""
        if not self.plate_frames:
            return None
        cfg = self.head.config
        return BackgroundPlate(
            working_shape(height, width, cfg.working_size, cfg.stride),
            self.device,
            self.plate_settings,
        )

    @torch.inference_mode()
    def prepare(self, rgb: Picture, chroma: Blocks = (1, 1)) -> Frame:
        """rgb uint8 (H,W,3) as matting takes it (`Frame`); a `Frame` as it is. `chroma`: the
        pixels that share one chroma sample in the video it was decoded from
        (`VideoReader.chroma_blocks`), whose colour is first restored from luma (chroma.py)."""
        if isinstance(rgb, Frame):
            return rgb
        cfg = self.head.config
        size = working_shape(*rgb.shape[:2], cfg.working_size, cfg.stride)
        pixels = restored(torch.from_numpy(np.ascontiguousarray(rgb)).to(self.device), chroma)
        return Frame(pixels, working_frame(pixels, size))

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    @torch.inference_mode()
    def __call__(
        self,
        rgb: Picture,
        mask_logits: torch.Tensor,
        prev_alpha: np.ndarray | None = None,
        feat_s0: torch.Tensor | None = None,
        feat_s1: torch.Tensor | None = None,
        plate: BackgroundPlate | None = None,
    ) -> np.ndarray:
        """rgb uint8 (H,W,3) or its `prepare`d `Frame`, mask_logits (1,1,h,w) at any
        resolution (SAM2's square logits included: resizing to the frame's aspect undoes its
        squash), prev_alpha float (H,W) or None, SAM2's feat_s0 / feat_s1 (used only by a head
        trained with them), `plate` this object's `new_plate()` (the frame is added to it).
        Returns float32 (H,W) alpha in [0,1]."""
        cfg = self.head.config
        frame, low = self.prepare(rgb)
        size = tuple(low.shape[-2:])
        logits = resize(
            mask_logits.to(self.device, torch.float32).reshape(1, 1, *mask_logits.shape[-2:]), size
        )
        prev = None
        if prev_alpha is not None:
            prev = torch.from_numpy(np.asarray(prev_alpha, dtype=np.float32)).to(self.device)
            prev = resize(prev[None, None], size)
        feats = {}
        if cfg.use_sam_features:
            if feat_s0 is None or feat_s1 is None:
                raise ValueError("this head was trained with SAM2's features: pass feat_s0/feat_s1")
            feats = {"feat_s0": feat_s0.to(self.device), "feat_s1": feat_s1.to(self.device)}
        with self._autocast():
            alpha_low = self._net(low, logits, prev, **feats).float()
        alpha = self.refine(frame, low, alpha_low, plate)
        return alpha[0, 0].cpu().numpy().astype(np.float32, copy=False)

    @torch.inference_mode()
    def add_to_plate(self, plate: BackgroundPlate, rgb: Picture, alpha: np.ndarray) -> None:
        """Give `plate` the final alpha float (H,W) of a frame fed to it (`feed_plate`) and
        matted before, rgb uint8 (H,W,3) or its `Frame`, as matting it did: a resumed job's
        plates hold what an uninterrupted run's held (tests/test_resume_mattes.py)."""
        low = self.prepare(rgb).low
        alpha_t = torch.from_numpy(np.asarray(alpha, dtype=np.float32)).to(self.device)
        plate.add(low[0], resize(alpha_t[None, None], tuple(low.shape[-2:]))[0])

    @torch.inference_mode()
    def feed_plate(self, plate: BackgroundPlate, rgb: Picture, mask_logits: torch.Tensor) -> None:
        """Feed `plate` a frame ahead of its matting, rgb uint8 (H,W,3) or its `Frame` (which
        matting it later takes too), with its SAM2 mask logits (1,1,h,w) as the object
        (probability above 1%: the tracking mask is coarse, and a pixel of the object taken
        for background spoils the plate more than a pixel of background left out)."""
        low = self.prepare(rgb).low
        logits = mask_logits.to(self.device, torch.float32).reshape(1, 1, *mask_logits.shape[-2:])
        obj = resize(logits, tuple(low.shape[-2:])) > SURE_OUTSIDE_LOGIT
        plate.feed(low[0], obj[0].float())

    def plate_query(
        self, alpha_low: torch.Tensor, unsure: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """What a frame asks its plate for, from its alpha (1,1,h,w) and unsure band: the
        region it needs, that band, the sure background near the object (which
        `opened_by_plate` may open) and the pixels `seen_through` fits for clear glass
        (`glass_pixels`); that near background alone, which the plate's check
        of the current frame must not count on: a strand the head missed there differs from
        the plate and would read as a plate gone wrong, and nothing would be opened
        (`BestSettings.reach`); and the glass pixels alone, where `moved_through` asks for
        the views its object covered too (`BackgroundPlate.covered`)."""
        near = near_object(alpha_low, self.best.reach, self.gate)
        glass = glass_pixels(alpha_low, self.best)
        return unsure | near | glass, near, glass

    def refine(
        self,
        frame: torch.Tensor,
        low: torch.Tensor,
        alpha_low: torch.Tensor,
        plate: BackgroundPlate | None = None,
    ) -> torch.Tensor:
        """The head's `alpha_low` (1,1,h,w) on `low` (the frame at working resolution) refined
        by `self.edges` and brought to the resolution of `frame` (H,W,3) uint8; with "best", `plate`
        gives the background seen in other frames and gets this one's alpha."""
        head = resize(alpha_low, tuple(frame.shape[:2]))
        if self.edges == "none":
            return head
        unsure = self.gate.unsure(alpha_low)
        if self.edges == "best":
            background = covered = None
            if plate is not None:
                region, near, glass = self.plate_query(alpha_low, unsure)
                seen, known = plate.plate(low[0], alpha_low[0], region[0], near[0])
                background = seen[None], known[None]
                covered = plate.covered(low[0], alpha_low[0], glass[0], self.best.glass_moved)
            refined, floor, opened = best_edges(low, alpha_low, self.best, background, covered)
            if plate is not None:
                plate.add(low[0], refined[0])
            if refined.shape == head.shape:
                return refined
            unsure = unsure | opened  # the filtered box must hold what the plate opened
            # Guided upsampling: the refined alpha's local linear model in the colour, fitted
            # at working resolution, applied to the frame's own colours.
            radius, eps, src = self.up_radius, self.up_eps, refined
        else:
            radius, eps, src = self.gf_radius, self.gf_eps, alpha_low
        margin = 2 * radius + 2 + self.gate.grow
        box = band_box(unsure, margin, tuple(head.shape[-2:]))
        if box is None:
            return head
        (low_rows, low_cols), (rows, cols) = box
        coeffs = guided_coefficients(
            low[..., low_rows, low_cols], src[..., low_rows, low_cols], radius, eps
        )
        out = head.clone() if head is alpha_low else head  # written into: not the head's own
        scale = head.shape[-2] / low.shape[-2]
        if self.edges == "best":
            floor = floor[..., low_rows, low_cols]
            opened = opened[..., low_rows, low_cols]
        else:
            floor = opened = None
        return guided_finish(coeffs, frame, out, (rows, cols), self.gate, scale, floor, opened)


Box = tuple[tuple[slice, slice], tuple[slice, slice]]


def band_box(band: torch.Tensor, margin: int, size: tuple[int, int]) -> Box | None:
    """The bounding box of `band` (bool (1,1,h,w)) grown by `margin`, as (rows, columns) at its
    resolution and the same box at `size`, or None if `band` is empty. Box edges sit where both
    grids have a pixel edge, so bilinear upsampling of the small box gives exactly the big box's
    share of upsampling the whole: only the band's box pays for full-resolution filtering."""
    if not bool(band.any()):
        return None
    out_low, out_full = [], []
    (h, w), (height, width) = band.shape[-2:], size
    for across, small, big in ((-1, h, height), (-2, w, width)):  # rows, then columns
        hits = torch.nonzero(band.any(across).flatten())
        step = small // math.gcd(small, big)  # low-res pixels per shared edge
        start = max(0, int(hits.min()) - margin) // step * step
        stop = min(small, -(-(int(hits.max()) + 1 + margin) // step) * step)
        out_low.append(slice(start, stop))
        out_full.append(slice(start * big // small, stop * big // small))
    return (out_low[0], out_low[1]), (out_full[0], out_full[1])
