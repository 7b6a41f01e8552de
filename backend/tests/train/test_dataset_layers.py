"""The dataset builder keeps each clip's true foreground colour F and background B next to its
frames, so the export's colour can be judged against the truth (bench/export_colour.py)."""

from __future__ import annotations

import numpy as np

from vidmatte.train.dataset import clip_folders, read_clip


def test_clips_keep_their_foreground_and_background(tiny_dataset) -> None:
    for folder in clip_folders(tiny_dataset):
        clip = read_clip(folder)
        assert clip.fgr is not None and clip.bgr is not None, folder.name
        assert clip.fgr.shape == clip.bgr.shape == clip.rgb.shape
        assert clip.fgr.dtype == clip.bgr.dtype == np.uint8
        # The frame is their composite under the stored alpha, to 8-bit rounding of F and B.
        a = clip.pha[..., None]
        recomposed = a * clip.fgr + (1 - a) * clip.bgr.astype(np.float32)
        assert np.abs(recomposed - clip.rgb).max() <= 1.01, folder.name
        assert (clip.fgr[clip.pha == 0] == 0).all()  # no colour where there is no foreground
        # Every other frame keeps its own F and B.
        half = read_clip(folder, step=2)
        assert np.array_equal(half.fgr, clip.fgr[::2]) and np.array_equal(half.bgr, clip.bgr[::2])
