"""Counting numpy loads in flight at once, for the tests of `vidmatte.npy_reads`' lock."""

from __future__ import annotations

import time

import numpy as np
import pytest


class InFlight:
    """`np.load` slowed (20 ms) so that two loads in flight together are seen: `most` is the
    largest number seen at once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now, self.most = 0, 0
        self._load = np.load
        monkeypatch.setattr(np, "load", self._slow_load)

    def _slow_load(self, *args, **kwargs):
        self.now += 1
        self.most = max(self.most, self.now)
        time.sleep(0.02)
        try:
            return self._load(*args, **kwargs)
        finally:
            self.now -= 1
