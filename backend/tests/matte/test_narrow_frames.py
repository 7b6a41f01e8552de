"""Frames as narrow as VIDMATTE_MAX_ASPECT lets in are matted, whatever it is set to."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidmatte.config import MIN_WORKING_SIDE, SettingError, Settings
from vidmatte.matte.infer import Matter, working_shape
from vidmatte.matte.weights import random_head


@pytest.mark.parametrize(
    "size,shape",
    [
        ((16, 640), (16, 640)),  # 40:1, the default limit: already 16 at 640
        ((16, 1600), (16, 1600)),  # 100:1 at its own size: not shrunk below 16
        ((64, 8000), (16, 2000)),  # 125:1 shrunk: to 16 on the short side, not to 640 long
        ((8000, 64), (2000, 16)),
        ((1080, 1920), (360, 640)),  # ordinary frames: as before
    ],
)
def test_the_working_size_keeps_16_pixels_on_the_short_side(
    size: tuple[int, int], shape: tuple[int, int]
) -> None:
    assert working_shape(*size, 640, 8) == shape
    assert min(shape) >= MIN_WORKING_SIDE


@pytest.mark.parametrize("edges", ["best", "fast", "none"])
def test_frames_narrower_than_40_to_1_are_matted_when_allowed(monkeypatch, edges: str) -> None:
    """VIDMATTE_MAX_ASPECT above 40 let in frames the working size (640 px long) shrank to
    under 12 px on the short side, where the "fast" edges' guided filter cannot run: every
    job on them failed."""
    monkeypatch.setenv("VIDMATTE_MAX_ASPECT", "125")
    settings = Settings()
    short = settings.min_side
    long = round(short * settings.max_aspect)
    matter = Matter(random_head(), "cpu", edges)
    for height, width in [(short, long), (long, short), (short * 4, long * 4)]:
        rgb = np.random.default_rng(0).integers(0, 256, (height, width, 3), np.uint8)
        logits = torch.zeros(1, 1, 256, 256)
        assert matter(rgb, logits).shape == (height, width)


def test_a_min_side_under_16_is_refused_by_name(monkeypatch) -> None:
    """VIDMATTE_MIN_SIDE=8 let in 8 px frames, which the working size keeps at 8 px: every
    job on them failed in the guided filter."""
    monkeypatch.setenv("VIDMATTE_MIN_SIDE", "8")
    with pytest.raises(SettingError) as refused:
        Settings()
    assert str(refused.value) == "VIDMATTE_MIN_SIDE must be a whole number of at least 16, not '8'"
    monkeypatch.setenv("VIDMATTE_MIN_SIDE", "16")
    assert Settings().min_side == 16
