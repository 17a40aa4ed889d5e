"""Clocks: the engine asks a clock for the time, so backtest and live share one code path."""

from __future__ import annotations

import time


class Clock:
    """Simulated clock: time is whatever the driver last set (nanoseconds, UTC)."""

    __slots__ = ("ts",)

    def __init__(self, ts: int = 0) -> None:
        self.ts = ts

    def now(self) -> int:
        return self.ts

    def set(self, ts: int) -> None:
        self.ts = ts


class LiveClock(Clock):
    """Wall-clock time; ``set`` is ignored (the world moves on its own)."""

    __slots__ = ()

    def now(self) -> int:
        return time.time_ns()

    def set(self, ts: int) -> None:
        return None
