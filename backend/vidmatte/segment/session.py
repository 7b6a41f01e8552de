"""Prompts (clicks and boxes) in, masks out: previews on one frame and tracking over a frame
range, in video mode.

Every frame, the prompted ones included, goes through SAM2's video predictor (the prototype
segmented its first frame in image mode and got visibly worse, inconsistent results).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import torch

from vidmatte.media.video import VideoReader
from vidmatte.segment.predictor import FrameMasks, LazyFrames, MattingVideoPredictor
from vidmatte.store import Point, split_box

# Frame prompts: (object id, frame index) -> points in video pixels.
Prompts = Mapping[tuple[int, int], Sequence[Point]]


def first_prompted(prompts: Prompts, start: int, end: int) -> int:
    """The first frame in [start, end] with points: tracking starts there (`Segmenter.track`)."""
    frames = [
        frame for (_obj, frame), points in prompts.items() if start <= frame <= end and points
    ]
    if not frames:
        raise ValueError(f"no frame in {start}..{end} holds points")
    return min(frames)


class Superseded(Exception):
    """A preview replaced by a newer one of the same frame before it could run."""


class Segmenter:
    """Serialises access to one SAM2 model shared by previews and jobs.

    The lock is taken per frame, so a preview waits for at most one tracked frame of a job.
    A preview still waiting when a newer one of the same frame arrives is dropped: the editor
    has moved on (it cancels the old request, which a server does not see), so it would only
    delay the new one.
    """

    def __init__(self, predictor: MattingVideoPredictor, name: str):
        self.predictor = predictor
        self.name = name
        self.device = predictor.device
        self._lock = threading.Lock()
        self._preview_states: OrderedDict[str, dict] = OrderedDict()
        self._tickets = itertools.count()
        self._newest: dict[tuple[str, int], int] = {}  # (key, frame) -> newest preview's ticket
        self._newest_lock = threading.Lock()

    @property
    def image_size(self) -> int:
        return self.predictor.image_size

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def new_state(self, reader: VideoReader, height: int, width: int) -> dict:
        frames = LazyFrames(reader.frame, len(reader), self.image_size, device=self.device)
        return self.predictor.init_lazy_state(frames, height, width)

    def _preview_state(self, key: str, reader: VideoReader, height: int, width: int) -> dict:
        # Keep the state of the last few videos so repeated clicks on a frame reuse its features.
        if key not in self._preview_states:
            self._preview_states[key] = self.new_state(reader, height, width)
        self._preview_states.move_to_end(key)
        while len(self._preview_states) > 2:
            self._preview_states.popitem(last=False)
        return self._preview_states[key]

    def forget(self, key: str) -> None:
        with self._lock:
            self._preview_states.pop(key, None)

    def preview(
        self,
        key: str,
        reader: VideoReader,
        height: int,
        width: int,
        frame: int,
        points: Mapping[int, Sequence[Point]],
    ) -> dict[int, np.ndarray]:
        """Mask probabilities (H, W float32 in [0,1]) on `frame`, per object with points there.
        Raises Superseded when a newer preview of the frame came while this one waited."""
        slot = (key, frame)
        with self._newest_lock:
            ticket = self._newest[slot] = next(self._tickets)
        try:
            with self._lock, torch.inference_mode(), self._autocast():
                if self._newest.get(slot) != ticket:  # a newer one waits, or has run already
                    raise Superseded(f"superseded by a newer preview of frame {frame}")
                return self._preview(key, reader, height, width, frame, points)
        finally:
            with self._newest_lock:
                if self._newest.get(slot) == ticket:
                    del self._newest[slot]

    def _preview(
        self,
        key: str,
        reader: VideoReader,
        height: int,
        width: int,
        frame: int,
        points: Mapping[int, Sequence[Point]],
    ) -> dict[int, np.ndarray]:
        state = self._preview_state(key, reader, height, width)
        self.predictor.reset_state(state)
        state["matting"].clear()
        obj_ids, video_res = [], None
        for obj_id, obj_points in points.items():
            if obj_points:
                _, obj_ids, video_res = self.predictor.add_new_points_or_box(
                    state, frame_idx=frame, obj_id=obj_id, **_as_arrays(obj_points)
                )
        return {
            obj_id: torch.sigmoid(video_res[i, 0].float()).cpu().numpy()
            for i, obj_id in enumerate(obj_ids)
        }

    def track(
        self,
        state: dict,
        prompts: Prompts,
        start: int,
        end: int,
        forward: bool = True,
        features: bool = True,
    ) -> Iterator[tuple[int, dict[int, FrameMasks]]]:
        """Track every prompted object over [start, end]: forward from the first prompted frame
        (`anchor`) to `end`, then backward from it to `start`. Yields each frame once, in that
        order. `forward=False` leaves out the forward pass: the backward one comes out the
        same without it (it drops the forward frames from SAM2's memory before it starts).
        `features=False` leaves SAM2's high-resolution features out of the masks (None): most
        heads do not take them, and copying them from a GPU cost 12 MB and two waits a frame."""
        in_range = {k: v for k, v in prompts.items() if start <= k[1] <= end and v}
        anchor = first_prompted(prompts, start, end)
        with self._lock, torch.inference_mode(), self._autocast():
            self.predictor.reset_state(state)
            state["matting"].clear()
            for (obj_id, frame), points in sorted(in_range.items(), key=lambda kv: kv[0][1]):
                self.predictor.add_new_points_or_box(
                    state, frame_idx=frame, obj_id=obj_id, **_as_arrays(points)
                )
        if forward:
            yield from self._propagate(state, anchor, end - anchor, False, features)
        if anchor > start:
            with self._lock:
                # The backward pass must not take forward-tracked frames for its memory.
                for obj_output in state["output_dict_per_obj"].values():
                    obj_output["non_cond_frame_outputs"].clear()
            passes = self._propagate(state, anchor, anchor - start, True, features)
            next(passes)  # the anchor itself, already yielded by the forward pass
            yield from passes

    def _propagate(
        self,
        state: dict,
        anchor: int,
        count: int,
        reverse: bool,
        features: bool,
    ) -> Iterator[tuple[int, dict[int, FrameMasks]]]:
        step = -1 if reverse else 1
        # SAM2 reads the memory of the last num_maskmem frames and object pointers of up to
        # max_obj_ptrs_in_encoder frames; older tracked frames can go.
        keep = max(self.predictor.num_maskmem, self.predictor.max_obj_ptrs_in_encoder) + 1
        frames = self.predictor.propagate_in_video(
            state, start_frame_idx=anchor, max_frame_num_to_track=count, reverse=reverse
        )
        while True:
            with self._lock, torch.inference_mode(), self._autocast():
                try:
                    frame, obj_ids, _ = next(frames)
                except StopIteration:
                    return
                extras = {
                    obj_id: _take_extras(state, frame, obj_idx)
                    for obj_idx, obj_id in enumerate(obj_ids)
                }
                for obj_output in state["output_dict_per_obj"].values():
                    obj_output["non_cond_frame_outputs"].pop(frame - step * keep, None)
            # Outside inference mode: the clones are normal tensors that autograd can take.
            yield (
                frame,
                {obj_id: _frame_masks(frame, obj_id, e, features) for obj_id, e in extras.items()},
            )


def _take_extras(state: dict, frame: int, obj_idx: int) -> dict:
    # Prompted frames keep theirs (a later pass may come back to them); the rest are used once.
    is_cond = frame in state["output_dict_per_obj"][obj_idx]["cond_frame_outputs"]
    return (state["matting"].get if is_cond else state["matting"].pop)((frame, obj_idx))


def _frame_masks(frame: int, obj_id: int, extras: dict, features: bool) -> FrameMasks:
    def cpu(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else t.detach().float().cpu().clone()

    if not features:
        extras = {**extras, "feat_s0": None, "feat_s1": None}

    return FrameMasks(
        frame=frame,
        obj_id=obj_id,
        mask_logits=cpu(extras["mask_logits"]),
        low_res_logits=cpu(extras["low_res_logits"]),
        object_score=float(extras["object_score"].max()),
        feat_s0=cpu(extras["feat_s0"]),
        feat_s1=cpu(extras["feat_s1"]),
    )


def _as_arrays(points: Sequence[Point]) -> dict[str, np.ndarray | list[float] | None]:
    """A frame's prompts as add_new_points_or_box takes them. SAM2 puts a box before the clicks
    (labels 2 and 3, as it was trained) and wants no clicks as None: an empty array is 1-D."""
    clicks, box = split_box(points)
    if not clicks:
        return {"points": None, "labels": None, "box": box}
    return {
        "points": np.array([[p.x, p.y] for p in clicks], dtype=np.float32),
        "labels": np.array([1 if p.positive else 0 for p in clicks], dtype=np.int32),
        "box": box,
    }
