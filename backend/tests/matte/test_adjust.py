"""Edge adjustments of a matte: grow/choke by whole and fractional pixels, feather by a stated
width, and nothing else (opaque and clear frames, values, sizes, both 0); chatter reduced by
a median of three frames."""

from __future__ import annotations

import numpy as np
import pytest

from vidmatte.matte.adjust import EdgeAdjust, adjust_matte, median3, still_pixels


def square(height: int = 41, width: int = 57) -> np.ndarray:
    """A hard-edged 12x20 square, rows 14..25, columns 18..37."""
    alpha = np.zeros((height, width), np.float32)
    alpha[14:26, 18:38] = 1
    return alpha


def extent(row_or_column: np.ndarray) -> tuple[int, int]:
    inside = np.flatnonzero(row_or_column == 1)
    return int(inside[0]), int(inside[-1])


@pytest.mark.parametrize("r", [1, 2, 3, 5])
def test_a_shift_moves_a_hard_edge_by_exactly_its_pixels(r: int) -> None:
    grown, choked = adjust_matte(square(), r), adjust_matte(square(), -r)
    assert set(np.unique(grown)) == set(np.unique(choked)) == {0.0, 1.0}  # still hard
    assert extent(grown[20]) == (18 - r, 37 + r) and extent(grown[:, 28]) == (14 - r, 25 + r)
    assert extent(choked[20]) == (18 + r, 37 - r) and extent(choked[:, 28]) == (14 + r, 25 - r)
    # A choked square is the square shrunk by r all round (its corners too).
    want = np.zeros_like(choked)
    want[14 + r : 26 - r, 18 + r : 38 - r] = 1
    np.testing.assert_array_equal(choked, want)
    # A grown one is round-ish: its corners cut off, less than the square grown by r.
    assert grown.sum() < (12 + 2 * r) * (20 + 2 * r)
    assert grown[14 - r, 18 - r] == 0


def test_a_fractional_shift_lies_between_the_whole_ones() -> None:
    low, half, high = (adjust_matte(square(), s) for s in (2, 2.25, 3))
    np.testing.assert_array_equal(half, 0.75 * low + 0.25 * high)
    assert half[20, 15] == pytest.approx(0.25) and half[20, 16] == 1 and half[20, 14] == 0
    choke = adjust_matte(square(), -0.5)
    assert choke[20, 18] == pytest.approx(0.5) and choke[20, 19] == 1


def test_feather_spreads_a_step_over_its_width_symmetrically() -> None:
    step = np.zeros((9, 200), np.float32)
    step[:, 100:] = 1
    for feather in (2.0, 6.0, 15.0):
        row = adjust_matte(step, feather=feather)[4]
        x = np.arange(200)
        rise = np.interp(0.9, row, x) - np.interp(0.1, row, x)  # 10 % to 90 %
        assert rise == pytest.approx(feather, rel=0.06, abs=0.3), feather
        # Symmetric about the edge: what the clear side gains the opaque side loses.
        np.testing.assert_allclose(row[:100][::-1], 1 - row[100:], atol=1e-6)
        assert row.sum() == pytest.approx(step[4].sum(), abs=1e-3)
        assert np.all(np.diff(row) >= 0)
    soft = adjust_matte(square(), feather=3)
    assert ((soft > 0) & (soft < 1)).sum() > 100 and soft.sum() == pytest.approx(240, rel=1e-4)


def test_feather_keeps_an_opaque_frame_opaque_and_a_clear_one_clear() -> None:
    for value in (0.0, 1.0):
        frame = np.full((33, 47), value, np.float32)
        for feather in (0.3, 1, 7.5, 32):
            for shift in (0, -4, 2.5):
                out = adjust_matte(frame, shift, feather)
                assert np.all(out == value), (value, feather, shift)
    # The frame's edge is no edge: a matte opaque up to the border stays so there.
    half = np.zeros((40, 40), np.float32)
    half[:, 20:] = 1
    out = adjust_matte(half, -3, 4)
    assert np.all(out[:, -1] == 1) and np.all(out[:, 0] == 0)


def test_both_zero_is_the_matte_itself() -> None:
    alpha = np.random.default_rng(0).random((17, 23), np.float32)
    assert adjust_matte(alpha) is alpha
    assert adjust_matte(alpha, 0.0, 0.0) is alpha


def test_odd_sizes_stay_float32_in_range() -> None:
    rng = np.random.default_rng(1)
    for shape in ((1, 1), (1, 9), (7, 1), (13, 31)):
        alpha = rng.random(shape, np.float32)
        for shift, feather in ((1.5, 0), (-2.7, 0), (0, 2.2), (3, 31.9), (-32, 32)):
            out = adjust_matte(alpha, shift, feather)
            assert out.shape == shape and out.dtype == np.float32
            assert out.min() >= 0 and out.max() <= 1
    grey = rng.random((13, 31), np.float32)
    assert np.all(adjust_matte(grey, 1) >= grey) and np.all(adjust_matte(grey, -1) <= grey)


@pytest.mark.parametrize(
    ("shift", "feather", "named"),
    [(32.5, 0, "shift_edge"), (-40, 0, "shift_edge"), (float("nan"), 0, "shift_edge"),
     (0, -1, "feather"), (0, 33, "feather"), (0, float("inf"), "feather")],
)  # fmt: skip
def test_out_of_range_is_refused_naming_the_parameter(
    shift: float, feather: float, named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        adjust_matte(square(), shift, feather)
    with pytest.raises(ValueError, match=named):
        EdgeAdjust(shift, feather)


STILL = np.ones(
    (41, 57), bool
)  # a still picture as large as square(): any pixel may lose its flicker


def test_a_one_frame_flicker_up_or_down_is_taken_out_where_the_picture_is_still() -> None:
    steady = square()
    spike, hole = steady.copy(), steady.copy()
    spike[2:6, 3:9] = 0.7  # a speck that shows on one frame only
    hole[18:22, 25:30] = 0.2  # a hole punched in one frame only
    np.testing.assert_array_equal(median3(steady, spike, steady, STILL), steady)
    np.testing.assert_array_equal(median3(steady, hole, steady, STILL), steady)
    # Each pixel on its own: the one frame that differs loses, up or down.
    rng = np.random.default_rng(2)
    a, b, c = (rng.random((9, 11), np.float32) for _ in range(3))
    everywhere = np.ones((9, 11), bool)
    np.testing.assert_array_equal(median3(a, b, c, everywhere), np.median([a, b, c], axis=0))
    np.testing.assert_array_equal(median3(a, b, c, ~everywhere), b)


def test_a_strand_moving_past_is_kept_because_the_picture_moves_with_it() -> None:
    """A dark 2 px strand crossing a light background 6 px a frame: at each pixel it covers,
    its matte runs 0, 1, 0 over the three frames, which a median alone erases. Its picture
    changes there as much, so those pixels are not still and keep their matte."""
    x = np.arange(48)
    mattes = [
        np.tile(((x >= 10 + 6 * t) & (x < 12 + 6 * t)).astype(np.float32), (32, 1))
        for t in range(3)
    ]
    pictures = [np.where(m[..., None] > 0, 30, 220).astype(np.uint8).repeat(3, -1) for m in mattes]
    still = still_pixels(*pictures)
    np.testing.assert_array_equal(median3(*mattes, still), mattes[1])
    assert not median3(*mattes, np.ones((32, 48), bool)).any()  # ungated: the strand is gone
    # The background away from the strand is still: a flicker there would go.
    crossed = [10, 11, 16, 17, 22, 23]  # under the strand on one of the three frames
    assert not still[:, crossed].any() and np.delete(still, crossed, axis=1).all()


def test_still_pixels_allow_a_codec_s_noise_but_not_more() -> None:
    rng = np.random.default_rng(5)
    here = rng.integers(20, 230, (6, 7, 3), dtype=np.uint8)
    noisy = (here.astype(np.int16) + rng.integers(-7, 8, here.shape)).astype(np.uint8)
    assert still_pixels(noisy, here, noisy).all()
    changed = here.copy()
    changed[2, 3, 1] += 8  # one channel of one pixel, by 8 levels
    moved = still_pixels(here, here, changed)
    assert not moved[2, 3] and moved.sum() == moved.size - 1


def test_a_moving_edge_keeps_the_frame_own_matte_bit_for_bit() -> None:
    """A soft edge moving right (or left, or a fade): each pixel's values run monotonically
    over the three frames, so the median is the middle frame's own value: nothing ghosts,
    even where the picture happens to stay still."""
    x = np.arange(64, dtype=np.float32)
    edges = [np.tile(np.clip((x - 20 - 3 * t) / 7, 0, 1), (5, 1)) for t in range(3)]
    fades = [np.full((4, 4), v, np.float32) for v in (0.1, 0.4, 0.9)]
    for frames in (edges, edges[::-1], fades):
        out = median3(*frames, np.ones(frames[1].shape, bool))
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, frames[1])
        assert not np.array_equal(frames[1], frames[0])


def test_without_a_neighbour_the_frame_keeps_its_own_matte() -> None:
    """The first and last frames of a job, or one whose neighbour is not matted (yet)."""
    own, other = square(), np.zeros_like(square())
    assert median3(None, own, other, STILL) is own
    assert median3(other, own, None, STILL) is own
    assert median3(None, own, None, STILL) is own
    assert median3(other, own, other, None) is own  # no picture to tell still pixels by
    assert EdgeAdjust().reduce_chatter is False and EdgeAdjust(1, 2, True).reduce_chatter
