"""Pacing for periodic work that runs inside other loops."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta


class Periodic:
    """True at most once per ``period`` (monotonic clock); the first call is True."""

    def __init__(self, period: timedelta, clock: Callable[[], float] = time.monotonic):
        self.period_s = period.total_seconds()
        self.clock = clock
        self._last = -float("inf")

    def __call__(self) -> bool:
        if self.clock() - self._last < self.period_s:
            return False
        self._last = self.clock()
        return True
