"""The SAM2 wrapper: intermediates per frame, every frame once, bounded memory, lazy frames."""

from __future__ import annotations

import pytest
import torch

from tests.synth import write_video
from vidmatte.media.video import VideoReader, probe
from vidmatte.segment.models import build_predictor
from vidmatte.segment.session import Segmenter
from vidmatte.store import Point


@pytest.fixture(scope="module")
def segmenter(tmp_path_factory) -> Segmenter:
    return Segmenter(build_predictor("test-tiny", tmp_path_factory.mktemp("ck")), "test-tiny")


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> tuple[VideoReader, int, int]:
    path = tmp_path_factory.mktemp("v") / "long.mp4"
    write_video(path, frames=60)
    info, pts = probe(path)
    return VideoReader(path, pts, 0), info.height, info.width


def test_track_yields_every_frame_once_with_intermediates(segmenter, video) -> None:
    reader, h, w = video
    state = segmenter.new_state(reader, h, w)
    prompts = {
        (1, 20): [Point(30, 32, "positive"), Point(90, 5, "negative")],
        (2, 30): [Point(60, 20, "positive")],
    }
    order, outputs = [], {}
    for frame, masks in segmenter.track(state, prompts, 5, 50):
        order.append(frame)
        outputs[frame] = masks
    # forward from the first prompted frame, then backward from it
    assert order == list(range(20, 51)) + list(range(19, 4, -1))
    size = segmenter.image_size
    for frame in (5, 20, 30, 50):
        assert set(outputs[frame]) == {1, 2}
        m = outputs[frame][1]
        assert m.mask_logits.shape == (1, 1, size, size)
        assert m.low_res_logits.shape == (1, 1, size // 4, size // 4)
        assert m.feat_s0.shape[-1] == size // 4 and m.feat_s1.shape[-1] == size // 8
        assert not m.mask_logits.is_inference()  # usable by autograd (training)
        assert torch.isfinite(m.mask_logits).all()
    # The prompted frame's logits come from its clicks: they differ from a tracked frame's.
    assert not torch.equal(outputs[20][1].mask_logits, outputs[21][1].mask_logits)


def test_features_can_be_left_out_with_the_masks_unchanged(segmenter, video) -> None:
    """A job whose head takes no SAM2 features, and a track, ask for none: on a GPU each frame
    copied 12 MB of them to the host, two waits on the device, for nothing."""
    reader, h, w = video
    prompts = {(1, 3): [Point(30, 32, "positive")]}
    runs = {}
    for features in (True, False):
        state = segmenter.new_state(reader, h, w)
        runs[features] = dict(segmenter.track(state, prompts, 0, 6, features=features))
    assert sorted(runs[False]) == sorted(runs[True]) == list(range(7))
    for frame, masks in runs[False].items():
        kept, lean = runs[True][frame][1], masks[1]
        assert lean.feat_s0 is None and lean.feat_s1 is None
        assert kept.feat_s0 is not None and kept.feat_s1 is not None
        assert torch.equal(lean.mask_logits, kept.mask_logits)
        assert torch.equal(lean.low_res_logits, kept.low_res_logits)


def test_memory_is_bounded(segmenter, video) -> None:
    reader, h, w = video
    state = segmenter.new_state(reader, h, w)
    predictor = segmenter.predictor
    window = max(predictor.num_maskmem, predictor.max_obj_ptrs_in_encoder) + 1
    for _ in segmenter.track(state, {(1, 0): [Point(30, 32, "positive")]}, 0, 59):
        kept = state["output_dict_per_obj"][0]["non_cond_frame_outputs"]
        assert len(kept) <= window
        assert len(state["matting"]) <= 1  # only the prompted frame's extras stay
        assert len(state["cached_features"]) <= 1
        assert len(state["images"]._cache) <= state["images"].cache_size


def test_track_without_points_in_range(segmenter, video) -> None:
    reader, h, w = video
    state = segmenter.new_state(reader, h, w)
    with pytest.raises(ValueError, match=r"no frame in 30\.\.40 holds points"):
        list(segmenter.track(state, {(1, 3): [Point(1, 1, "positive")]}, 30, 40))


def test_preview_only_for_objects_with_points(segmenter, video) -> None:
    reader, h, w = video
    masks = segmenter.preview("p", reader, h, w, 10, {1: [Point(30, 32, "positive")], 2: []})
    assert set(masks) == {1}
    assert masks[1].shape == (h, w) and 0 <= masks[1].min() <= masks[1].max() <= 1


def test_a_box_reaches_sam2_as_its_box_labels_before_the_clicks(segmenter, video) -> None:
    """SAM2 was trained with a box as corners labelled 2 and 3 ahead of the clicks: stored in
    either corner order, it goes in min corner first."""
    reader, h, w = video
    corners = [Point(50, 48, "box"), Point(10, 16, "box")]
    masks = segmenter.preview("box", reader, h, w, 7, {1: [Point(30, 32, "negative"), *corners]})
    assert masks[1].shape == (h, w)
    inputs = segmenter._preview_states["box"]["point_inputs_per_obj"][0][7]
    assert inputs["point_labels"].tolist() == [[2, 3, 0]]
    scale = torch.tensor([segmenter.image_size / w, segmenter.image_size / h])
    coords = inputs["point_coords"][0].cpu() / scale
    assert torch.allclose(coords, torch.tensor([[10.0, 16], [50, 48], [30, 32]]), atol=1e-3)


def test_a_box_alone_previews_and_tracks(segmenter, video) -> None:
    reader, h, w = video
    box = [Point(10, 16, "box"), Point(50, 48, "box")]
    masks = segmenter.preview("alone", reader, h, w, 7, {1: box})
    inputs = segmenter._preview_states["alone"]["point_inputs_per_obj"][0][7]
    assert inputs["point_labels"].tolist() == [[2, 3]]
    assert masks[1].shape == (h, w) and 0 <= masks[1].min() <= masks[1].max() <= 1
    state = segmenter.new_state(reader, h, w)
    frames = [frame for frame, masks in segmenter.track(state, {(1, 7): box}, 5, 9)]
    assert frames == [7, 8, 9, 6, 5]
