"""Files cut short, as a recording that stopped or an upload that broke off leaves them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidmatte.media.video import VideoReader, probe


def cut_keeps_whole_frames(whole: Path, expected: list[np.ndarray], at: int) -> int:
    """Cut `whole` (whose frames decode as `expected`) to its first `at` bytes: the note says
    it is cut short and how many frames it keeps, each of which reads as it did whole (one cut
    in two left out); the whole file has no note. The frames kept."""
    cut = whole.with_name(f"cut-{whole.name}")
    cut.write_bytes(whole.read_bytes()[:at])
    info, pts = probe(cut)
    count = info.frame_count
    assert info.notes == [
        f"the file is cut short (truncated): only its first {count} frames are there, and "
        "those are used"
    ]
    reader = VideoReader(cut, pts, info.rotation, cache_size=4)
    for index in [count - 1, 0, count // 2, *range(count)]:
        np.testing.assert_array_equal(reader.frame(index), expected[index], f"frame {index}")
    assert probe(whole)[0].notes == []
    return count
