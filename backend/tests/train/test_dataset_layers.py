"""The dataset builder keeps each clip's true foreground colour F and background B next to its
frames, so the export's colour can be judged against the truth (bench/export_colour.py)."""

from __future__ import annotations

import numpy as np
import pytest

from vidmatte.train.dataset import ClipError, clip_folders, read_clip


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


def test_a_clip_whose_layers_hold_other_frames_is_refused_naming_them(
    tiny_dataset, tmp_path
) -> None:
    """A frame missing from one layer paired each later frame with the next one's alpha (or
    ended in an IndexError); one layer holding a frame more, or logits of another length, the
    same."""
    import shutil

    folder = tmp_path / "clip"
    shutil.copytree(clip_folders(tiny_dataset)[0], folder)
    (folder / "pha" / "00001.png").unlink()
    shutil.copy(folder / "rgb" / "00002.png", folder / "fgr" / "00003.png")
    with pytest.raises(ClipError) as refused:
        read_clip(folder)
    assert str(refused.value) == (
        f"{folder}: pha/ lacks 00001.png; fgr/ has 00003.png that rgb/ lacks: each layer "
        "needs the frames rgb/ holds: rebuild the dataset, or remove this clip's folder"
    )
    shutil.copy(folder / "pha" / "00000.png", folder / "pha" / "00001.png")
    (folder / "fgr" / "00003.png").unlink()
    assert len(read_clip(folder)) == 3  # whole again
    np.save(folder / "logits.npy", np.zeros((2, 256, 256), np.float16))
    with pytest.raises(ClipError) as refused:
        read_clip(folder)
    assert f"{folder}: logits.npy holds 2 frames, rgb/ 3" in str(refused.value)


def test_sam2_features_of_another_length_are_refused_naming_the_clip(
    tiny_dataset, tmp_path
) -> None:
    """features.npz was never counted: fewer frames than rgb/ ended training in an IndexError
    at a random step, more paired frames with another frame's features without a word."""
    import shutil

    folder = tmp_path / "clip"
    shutil.copytree(clip_folders(tiny_dataset)[0], folder)
    features = folder / "features.npz"
    for frames in (2, 4):
        np.savez(features, feat_s0=np.zeros((3, 8, 8, 8), np.float16),
                 feat_s1=np.zeros((frames, 16, 4, 4), np.float16))  # fmt: skip
        with pytest.raises(ClipError) as refused:
            read_clip(folder)
        assert f"{folder}: features.npz holds {frames} frames of feat_s1, rgb/ 3" in str(
            refused.value
        )
    np.savez(features, feat_s0=np.zeros((3, 8, 8, 8)), feat_s1=np.zeros((3, 16, 4, 4)))
    assert read_clip(folder, step=2).features["feat_s1"].shape == (2, 16, 4, 4)
    features.write_bytes(b"not a zip")
    with pytest.raises(ClipError, match=f"{features} cannot be read"):
        read_clip(folder)
