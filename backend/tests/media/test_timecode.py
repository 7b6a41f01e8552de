"""SMPTE timecode arithmetic: frame counts at the nominal rate, drop-frame exactly."""

from __future__ import annotations

import pytest

from vidmatte.media.timecode import format_frames, normalised, offset, parse

NTSC = 30000 / 1001
NTSC60 = 60000 / 1001


@pytest.mark.parametrize(
    ("tc", "fps", "frames"),
    [
        ("00:00:00:00", 25, 0),
        ("01:00:00:00", 25, 90_000),
        ("00:00:01:05", 24, 29),
        ("00:01:00;02", NTSC, 1800),  # ;00 and ;01 of minute 1 are dropped
        ("00:10:00;00", NTSC, 17_982),  # every tenth minute keeps them
        ("01:00:00;00", NTSC, 107_892),
        ("00:01:00;04", NTSC60, 3600),
        ("00:10:00;00", NTSC60, 35_964),
        ("00:00:01:00", NTSC, 30),  # non-drop 29.97 counts at 30 without skipping
    ],
)
def test_known_values(tc: str, fps: float, frames: int) -> None:
    assert parse(tc, fps) == frames
    assert format_frames(frames, fps, drop_frame=";" in tc) == tc


@pytest.mark.parametrize(
    ("tc", "frames", "fps", "expected"),
    [
        ("00:00:59;29", 1, NTSC, "00:01:00;02"),
        ("00:09:59;29", 1, NTSC, "00:10:00;00"),
        ("00:01:00;02", -1, NTSC, "00:00:59;29"),
        ("00:00:59;59", 1, NTSC60, "00:01:00;04"),
        ("01:00:00:00", 25, 25, "01:00:01:00"),
        ("01:00:00:00", 3, 25, "01:00:00:03"),
        ("00:59:59:29", 1, NTSC, "01:00:00:00"),
        ("23:59:59:24", 1, 25, "00:00:00:00"),  # a day on, the clock starts over
    ],
)
def test_offset(tc: str, frames: int, fps: float, expected: str) -> None:
    assert offset(tc, frames, fps) == expected


@pytest.mark.parametrize(("fps", "drop"), [(25, False), (24, False), (NTSC, True), (NTSC60, True)])
def test_every_frame_count_round_trips(fps: float, drop: bool) -> None:
    # Over an hour and a bit, in steps that land on every minute boundary's neighbours.
    counts = list(range(0, 40_000)) + list(range(100_000, 250_000, 7))
    seen = set()
    for frames in counts:
        tc = format_frames(frames, fps, drop_frame=drop)
        assert parse(tc, fps) == frames
        seen.add(tc)
    assert len(seen) == len(counts)  # no two frames share a timecode


@pytest.mark.parametrize(
    ("tc", "fps"),
    [
        ("01:00:00:25", 25),  # frame 25 of a 25 fps second does not exist
        ("00:01:00;00", NTSC),  # dropped: minute 1 starts at ;02
        ("00:01:00;03", NTSC60),  # dropped: minute 1 of 59.94 starts at ;04
        ("00:00:00;00", 25),  # drop-frame is for 29.97 and 59.94 only
        ("00:60:00:00", 25),
        ("24:00:00:00", 25),
        ("1:00:00:00", 25),
        ("01:00:00.00", 25),
        ("01:00:00:00 ", 25),
        ("", 25),
    ],
)
def test_invalid_timecodes_are_refused(tc: str, fps: float) -> None:
    assert normalised(tc, fps) is None
    with pytest.raises(ValueError):
        parse(tc, fps)


def test_valid_timecodes_pass() -> None:
    assert normalised("01:00:00:00", 25) == "01:00:00:00"
    assert normalised("00:10:00;00", NTSC) == "00:10:00;00"
    assert normalised("00:00:00;00", NTSC) == "00:00:00;00"
