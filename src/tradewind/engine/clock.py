"""Clocks: the engine asks a clock for the time, so backtest and live share one code path."""

from __future__ import annotations

import time
from typing import Any, Protocol


class _Cursor(Protocol):
    cursor: int
    tf_ns: int
    arrays: dict[str, Any]


class Clock:
    """Simulated clock: time is whatever the driver last set (nanoseconds, UTC).

    ``follow(feed)`` makes it read the time off a bar feed instead (the close of the feed's
    current bar), so a backtest loop over one feed need not set the clock on every bar.
    """

    __slots__ = ("_feed", "ts")

    def __init__(self, ts: int = 0) -> None:
        self.ts = ts
        self._feed: _Cursor | None = None

    def now(self) -> int:
        feed = self._feed
        if feed is None:
            return self.ts
        i = feed.cursor
        if i < 0:
            return self.ts
        return int(feed.arrays["ts"][i]) + feed.tf_ns

    def set(self, ts: int) -> None:
        self.ts = ts

    def follow(self, feed: _Cursor | None) -> None:
        self._feed = feed


class LiveClock(Clock):
    """Wall-clock time; ``set`` is ignored (the world moves on its own)."""

    __slots__ = ()

    def now(self) -> int:
        return time.time_ns()

    def set(self, ts: int) -> None:
        return None
