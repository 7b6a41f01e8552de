"""Polling for what another process or thread does in its own time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _poll(
    fetch: Callable[[], T], until: Callable[[T], object], seconds: float, every: float
) -> tuple[bool, T]:
    """Whether `until(fetch())` came true within `seconds`, and the last value fetched."""
    deadline = time.monotonic() + seconds
    while not until(value := fetch()):
        if time.monotonic() > deadline:
            return False, value
        time.sleep(every)
    return True, value


def wait_until(condition: Callable[[], object], seconds: float = 5, every: float = 0.02) -> bool:
    """Whether `condition` came true within `seconds`."""
    return _poll(condition, bool, seconds, every)[0]


def wait_for(
    fetch: Callable[[], T],
    seconds: float,
    what: str,
    every: float = 0.02,
    until: Callable[[T], object] = bool,
) -> T:
    """The first value of `fetch()` that passes `until` (by default: the first truthy one) within
    `seconds`; fails the test, naming `what` and the last value, if none came."""
    came, value = _poll(fetch, until, seconds, every)
    if not came:
        raise AssertionError(f"timed out waiting for {what} (the last was {value!r})")
    return value
