"""SMPTE timecode (`HH:MM:SS:FF`) as frame counts, the way editors conform media to a source.

Timecode counts frames at the nominal integer rate, round(fps): 30 for 29.97, 24 for 23.976.
At 29.97 and 59.94 that clock runs ahead of real time, so drop-frame timecode (`;` before the
frames) skips frame numbers 0 and 1 (0..3 at 59.94) at the start of every minute except each
tenth one; no picture is dropped, only its label. Non-drop (`:`) counts every number. Counts wrap
at 24 hours, as a timecode clock does.
"""

from __future__ import annotations

import re

# ASCII digits only, not other scripts'. Above 100 fps FFmpeg writes three frame digits.
_FORM = re.compile(r"(\d\d):(\d\d):(\d\d)([:;])(\d\d\d?)", re.ASCII)
_DAY_SECONDS = 24 * 3600


def nominal_rate(fps: float) -> int:
    """The frames a second timecode counts: 30 at 29.97, 24 at 23.976."""
    rate = round(fps)
    if rate < 1:
        raise ValueError(f"a timecode needs a frame rate of at least 1, got {fps:g}")
    return rate


def _dropped_per_minute(rate: int) -> int:
    """Frame numbers skipped each minute in drop-frame: 2 at 30, 4 at 60 (0 for no drop)."""
    if rate % 30:
        raise ValueError(f"drop-frame timecode is for 29.97 and 59.94 fps, not {rate}")
    return rate // 15


def _day_frames(rate: int, drop: int) -> int:
    """Labels in 24 hours: 144 ten-minute blocks, each dropping 9 minutes' worth."""
    return _DAY_SECONDS * rate - 144 * 9 * drop


def parse(tc: str, fps: float) -> int:
    """Frames from 00:00:00:00 to `tc` at `fps`; ValueError for anything that is not one of
    its labels (a wrong form, a field out of range, a number drop-frame skips)."""
    match = _FORM.fullmatch(tc)
    if match is None:
        raise ValueError(f"'{tc}' is not a timecode of the form HH:MM:SS:FF (or ;FF)")
    hours, minutes, seconds, frames = (int(match.group(i)) for i in (1, 2, 3, 5))
    rate = nominal_rate(fps)
    drop = _dropped_per_minute(rate) if match.group(4) == ";" else 0
    if hours > 23 or minutes > 59 or seconds > 59 or frames >= rate:
        raise ValueError(f"'{tc}' is out of range at {rate} fps")
    if seconds == 0 and minutes % 10 and frames < drop:
        raise ValueError(f"'{tc}' is a frame number drop-frame timecode skips")
    total_minutes = 60 * hours + minutes
    skipped = drop * (total_minutes - total_minutes // 10)
    return (3600 * hours + 60 * minutes + seconds) * rate + frames - skipped


def format_frames(frames: int, fps: float, drop_frame: bool) -> str:
    """The label of frame `frames` counted from 00:00:00:00 (wrapping at 24 hours)."""
    rate = nominal_rate(fps)
    drop = _dropped_per_minute(rate) if drop_frame else 0
    frames %= _day_frames(rate, drop)
    if drop:
        # Put back the numbers skipped before this frame, then count as non-drop.
        per_minute, per_ten = 60 * rate - drop, 600 * rate - 9 * drop
        tens, rest = divmod(frames, per_ten)
        minutes_in = max(rest - drop, 0) // per_minute  # the block's first minute skips none
        frames += drop * (9 * tens + minutes_in)
    seconds, ff = divmod(frames, rate)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}{';' if drop else ':'}{ff:02d}"


def offset(tc: str, frames: int, fps: float) -> str:
    """The timecode `frames` after `tc` (before, if negative), drop-frame if `tc` is."""
    return format_frames(parse(tc, fps) + frames, fps, drop_frame=";" in tc)


def normalised(tc: str, fps: float) -> str | None:
    """`tc` in the exports' spelling (two frame digits below 100 fps, whatever the file's), or
    None when it is not a timecode label at `fps` (see `parse`)."""
    try:
        return offset(tc, 0, fps)
    except ValueError:
        return None
