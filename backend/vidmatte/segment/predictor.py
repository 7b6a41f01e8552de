"""A SAM2 video predictor that keeps what the matting head needs and streams its frames.

SAM2's own predictor (1) keeps only the low-resolution mask of each frame and drops the
high-resolution logits, the object score and the backbone's high-resolution features, and
(2) loads every frame of the video up front as float32 at image_size² and keeps the memory of
every tracked frame. This subclass records the intermediates per (frame, object), reads frames
lazily through a small cache, and lets the caller prune memory outside SAM2's window, so memory
stays flat in video length.
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sam2.sam2_video_predictor import SAM2VideoPredictor, SAM2VideoPredictorVOS

# Without SAM2's optional CUDA extension it skips hole filling and warns on every frame; the
# skip is harmless (SAM2's own INSTALL notes) and the install notes in the README say so once.
warnings.filterwarnings("ignore", message="cannot import name '_C'")

PREDICTOR_TARGET = "vidmatte.segment.predictor.MattingVideoPredictor"
COMPILED_TARGET = "vidmatte.segment.predictor.CompiledMattingVideoPredictor"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class FrameMasks:
    """SAM2's per-frame output for one object, before any thresholding."""

    frame: int
    obj_id: int
    mask_logits: torch.Tensor  # (1,1,S,S): high-res logits at SAM2's square input size S
    low_res_logits: torch.Tensor  # (1,1,S/4,S/4)
    object_score: float
    feat_s0: torch.Tensor | None
    feat_s1: torch.Tensor | None


class LazyFrames:
    """SAM2's `inference_state["images"]`, decoded on demand, one frame ahead.

    `load(index)` returns an RGB uint8 frame (it must be thread-safe: VideoReader is); each is
    squashed to image_size² and normalised the way SAM2's own loader does, on `device` (SAM2's:
    a GPU resizes a 4K frame in well under a millisecond where a CPU core takes 100 to 200 ms,
    longer than SAM2's whole step on the GPU, and only the uint8 frame crosses the bus, a
    quarter of the float32 image). Only the last few frames are kept. While SAM2 works on a
    frame, a background thread decodes and prepares the next one in the direction of travel
    (forward or backward), so the device does not wait on decoding; a frame that fails there
    fails again, with its own error, only if it is asked for.
    """

    def __init__(
        self,
        load: Callable[[int], np.ndarray],
        count: int,
        image_size: int,
        cache_size: int = 4,
        device: torch.device | str = "cpu",
    ):
        self.load, self.count, self.image_size, self.cache_size = (
            load,
            count,
            image_size,
            cache_size,
        )
        self.device = torch.device(device)
        self._cache: OrderedDict[int, torch.Tensor] = OrderedDict()
        self._mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(3, 1, 1)
        self._std = torch.tensor(IMAGENET_STD, device=self.device).view(3, 1, 1)
        self._ahead: tuple[int, Future[torch.Tensor]] | None = None
        self._last: int | None = None
        self._lock = threading.Lock()  # the cache and the look-ahead, between SAM2's threads

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> torch.Tensor:
        with self._lock:
            image = self._cache.get(index)
            ahead = self._ahead
            step = 1 if self._last is None or index >= self._last else -1
            self._last = index
        if image is None:
            if ahead is not None and ahead[0] == index:
                image = ahead[1].result()
            else:
                image = self._prepare(index)
            with self._lock:
                self._cache[index] = image
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        self._look_ahead(index + step)
        return image

    def _look_ahead(self, index: int) -> None:
        """Start preparing frame `index` in the background, unless it is out of range, cached
        or already on its way."""
        with self._lock:
            if not 0 <= index < self.count or index in self._cache:
                return
            if self._ahead is not None and (self._ahead[0] == index or not self._ahead[1].done()):
                return
            self._ahead = (index, _AHEAD.submit(self._prepare, index))

    def _prepare(self, index: int) -> torch.Tensor:
        rgb = torch.from_numpy(np.ascontiguousarray(self.load(index))).to(self.device)
        rgb = rgb.permute(2, 0, 1)
        image = F.interpolate(
            rgb[None].float() / 255.0,
            size=(self.image_size,) * 2,
            mode="bilinear",
            align_corners=False,
            antialias=True,
        )[0]
        return (image - self._mean) / self._std


# One thread prepares frames ahead for every video: a second would only compete for the CPU
# with the device's own feeding.
_AHEAD = ThreadPoolExecutor(1, thread_name_prefix="vidmatte-decode-ahead")


class MattingVideoPredictor(SAM2VideoPredictor):
    """SAM2VideoPredictor + per-frame intermediates + lazy frames + bounded memory."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # _track_step has no access to the inference state; hand its extras over per thread.
        self._local = threading.local()

    @torch.inference_mode()
    def init_lazy_state(self, frames: LazyFrames, video_height: int, video_width: int) -> dict:
        """The same state as `init_state`, over frames that are decoded only when needed."""
        device = self.device
        state = {
            "images": frames,
            "num_frames": len(frames),
            "offload_video_to_cpu": True,
            "offload_state_to_cpu": False,
            "video_height": video_height,
            "video_width": video_width,
            "device": device,
            "storage_device": device,
            "point_inputs_per_obj": {},
            "mask_inputs_per_obj": {},
            "cached_features": {},
            "constants": {},
            "obj_id_to_idx": OrderedDict(),
            "obj_idx_to_id": OrderedDict(),
            "obj_ids": [],
            "output_dict_per_obj": {},
            "temp_output_dict_per_obj": {},
            "frames_tracked_per_obj": {},
            "matting": {},  # (frame, obj_idx) -> FrameMasks fields, filled by inference
        }
        return state

    def _track_step(self, *args, **kwargs):
        current_out, sam_outputs, high_res_features, pix_feat = super()._track_step(*args, **kwargs)
        _, _, _, low_res_masks, high_res_masks, _, object_score_logits = sam_outputs
        feats = high_res_features or [None, None]
        self._local.extras = {
            "mask_logits": high_res_masks,
            "low_res_logits": low_res_masks,
            "object_score": object_score_logits,
            "feat_s0": feats[0],
            "feat_s1": feats[1],
        }
        return current_out, sam_outputs, high_res_features, pix_feat

    def _run_single_frame_inference(self, inference_state, output_dict, frame_idx, *args, **kwargs):
        out = super()._run_single_frame_inference(
            inference_state, output_dict, frame_idx, *args, **kwargs
        )
        out[0]["maskmem_features"] = self._memory_dtype(out[0]["maskmem_features"])
        extras = self._local.__dict__.pop("extras", None)
        if extras is not None and "matting" in inference_state:
            # Both callers pass the object's own slice of the output dict: find it by identity.
            obj_idx = next(
                i for i, d in inference_state["output_dict_per_obj"].items() if d is output_dict
            )
            inference_state["matting"][(frame_idx, obj_idx)] = extras
        return out

    def _run_memory_encoder(self, *args, **kwargs):
        features, pos_enc = super()._run_memory_encoder(*args, **kwargs)
        return self._memory_dtype(features), pos_enc

    def _memory_dtype(self, features: torch.Tensor | None) -> torch.Tensor | None:
        # SAM2 stores memories as bfloat16 and relies on CUDA autocast to mix them with float32
        # weights; on the CPU (no autocast) they must stay float32.
        if features is None or self.device.type == "cuda":
            return features
        return features.float()


class CompiledMattingVideoPredictor(MattingVideoPredictor, SAM2VideoPredictorVOS):
    """`MattingVideoPredictor` on SAM2's compiled path (`vos_optimized`, `--compile`): its
    image encoder, memory encoder, memory attention and SAM heads go through torch.compile,
    with the clones SAM2's VOS predictor adds so compiled outputs are not overwritten. The
    first frames are slow (compilation); on a GPU later ones are about twice as fast (SAM2's
    README: 47 → 91 fps for tiny on an A100)."""

    def _compile_all_components(self) -> None:
        # max-autotune benchmarks kernels for CUDA; on the CPU it only lengthens compilation.
        mode = "max-autotune" if torch.cuda.is_available() else "default"
        for module, dynamic in (
            (self.image_encoder, False),
            (self.memory_encoder, False),
            (self.memory_attention, True),  # the number of memories varies
            (self.sam_prompt_encoder, False),
            (self.sam_mask_decoder, False),
        ):
            module.forward = torch.compile(
                module.forward, mode=mode, fullgraph=True, dynamic=dynamic
            )
