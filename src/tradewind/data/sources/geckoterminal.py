"""GeckoTerminal pool OHLCV (public API, no key) — candles of one DEX pool, by pool address.

Wire format (apiguide.geckoterminal.com; docs.coingecko.com "Pool OHLCV chart by Pool Address"):
``GET {base}/api/v2/networks/{network}/pools/{pool}/ohlcv/{day|hour|minute}?aggregate=N
&before_timestamp=S&limit=1000&currency=usd&token=base`` answers ``{"data": {"attributes":
{"ohlcv_list": [[ts, open, high, low, close, volume], ...]}}, "meta": {...}}`` with rows NEWEST
FIRST, ``ts`` the interval's start (bar open, unix seconds), prices and volume in USD for the
pool's base token. Errors: ``{"errors": [{"status": "404", "title": "Not Found"}]}``.

Timeframes: 1m, 5m, 15m (``minute`` × 1/5/15), 1h, 4h, 12h (``hour`` × 1/4/12), 1d (``day``).
The symbol is the pool address (not a token mint); ``network`` defaults to ``solana``.

Pagination goes backwards: each request asks for ≤1000 rows ``before_timestamp`` the oldest row
seen so far, until a page reaches ``start_ns``, comes back empty or makes no progress. Because
the provider only pages backwards, every request is made first and the pages are then yielded
oldest first (the collected chunks in reverse order); resuming with ``start_ns`` = last stored
bar + 1 bar therefore stops as soon as the newest page covers it.

Partial by nature: minutes/hours without a swap are *skipped* by the provider, so gaps in the
output are real (no trades), not lost data. The public API serves about 6 months of history
and allows 30 calls/min (default ``rate_per_sec`` 0.5); a 429 carries no documented wait
header, so retries back off from 15 s (a ``Retry-After`` would be honoured).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from tradewind.data.loader import timeframe_to_ns
from tradewind.data.sources.base import HttpClient, SourceError, bars_frame
from tradewind.errors import ConfigError

DEFAULT_BASE_URL = "https://api.geckoterminal.com"
PAGE_LIMIT = 1000
_NS = 1_000_000_000

# our timeframe -> (path timeframe, aggregate)
_TIMEFRAMES: dict[str, tuple[str, int]] = {
    "1m": ("minute", 1),
    "5m": ("minute", 5),
    "15m": ("minute", 15),
    "1h": ("hour", 1),
    "4h": ("hour", 4),
    "12h": ("hour", 12),
    "1d": ("day", 1),
}
_BY_NS = {timeframe_to_ns(tf): (tf, spec) for tf, spec in _TIMEFRAMES.items()}


def _resolve(timeframe: str) -> tuple[str, int, int]:
    """``"15m"`` -> ("minute", 15, bar_ns); anything unsupported -> ConfigError."""
    try:
        bar_ns = timeframe_to_ns(timeframe)
    except ConfigError:
        bar_ns = -1
    if bar_ns not in _BY_NS:
        raise ConfigError(
            f"geckoterminal does not support timeframe {timeframe!r} "
            f"(supported: {', '.join(_TIMEFRAMES)})"
        )
    (period, aggregate) = _BY_NS[bar_ns][1]
    return period, aggregate, bar_ns


class GeckoTerminalSource:
    """Historical candles of one pool from the GeckoTerminal public API."""

    name = "geckoterminal"

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        network: str = "solana",
        rate_per_sec: float = 0.5,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.network = network
        self._http = HttpClient(
            self.name,
            base_url,
            headers={"Accept": "application/json"},
            rate_per_sec=rate_per_sec,
            max_retries=max_retries,
            backoff_base=15.0,
            backoff_cap=60.0,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"GeckoTerminalSource({self._http.base_url!r}, network={self.network!r})"

    def close(self) -> None:
        self._http.close()

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, start_ns: int, end_ns: int | None = None
    ) -> Iterator[pd.DataFrame]:
        """Pages of bars of pool ``symbol`` with ``start_ns <= ts < end_ns``, oldest first
        (``end_ns`` None: up to the newest closed bar)."""
        pool = symbol.strip() if isinstance(symbol, str) else ""
        if not pool:
            raise ConfigError(f"geckoterminal needs a pool address as symbol, got {symbol!r}")
        period, aggregate, bar_ns = _resolve(timeframe)
        end = end_ns if end_ns is not None else time.time_ns() // bar_ns * bar_ns
        return self._pages(pool, period, aggregate, int(start_ns), int(end))

    def _pages(
        self, pool: str, period: str, aggregate: int, start_ns: int, end_ns: int
    ) -> Iterator[pd.DataFrame]:
        chunks: list[pd.DataFrame] = []
        upper_ns = end_ns  # bars already collected are all >= upper_ns
        before_s = -(-end_ns // _NS)  # ceil: bars with ts < end_ns are all before it
        while start_ns < upper_ns:
            rows = self._request(pool, period, aggregate, before_s)
            if rows.size == 0:
                break
            ts_ns = rows[:, 0].astype(np.int64) * _NS
            keep = (ts_ns >= start_ns) & (ts_ns < upper_ns)
            if keep.any():
                r = rows[keep]
                chunks.append(bars_frame(ts_ns[keep], r[:, 1], r[:, 2], r[:, 3], r[:, 4], r[:, 5]))
            oldest_ns = int(ts_ns.min())
            if oldest_ns >= upper_ns:
                break  # nothing older than what we already have: no progress, stop
            upper_ns = oldest_ns
            before_s = oldest_ns // _NS
        yield from reversed(chunks)

    def _request(self, pool: str, period: str, aggregate: int, before_s: int) -> np.ndarray:
        path = f"/api/v2/networks/{self.network}/pools/{pool}/ohlcv/{period}"
        params = {
            "aggregate": aggregate,
            "before_timestamp": before_s,
            "limit": PAGE_LIMIT,
            "currency": "usd",
            "token": "base",
        }
        try:
            body = self._http.get_json(path, params)
        except SourceError as exc:
            detail = str(exc).removeprefix(f"{self.name}: ")
            raise type(exc)(
                f"{self.name}: pool {pool!r} on network {self.network!r}: {detail}"
            ) from None
        return self._rows(pool, body)

    def _rows(self, pool: str, body: Any) -> np.ndarray:
        if isinstance(body, dict) and body.get("errors"):
            raise SourceError(f"{self.name}: pool {pool!r}: {_error_text(body['errors'])}")
        try:
            rows = body["data"]["attributes"]["ohlcv_list"]
            array = np.asarray(rows, dtype=np.float64).reshape(-1, 6) if rows else np.empty((0, 6))
        except (KeyError, TypeError, ValueError):
            raise SourceError(
                f"{self.name}: pool {pool!r}: unexpected response shape "
                "(expected data.attributes.ohlcv_list of [ts, o, h, l, c, v] rows)"
            ) from None
        return array


def _error_text(errors: Any) -> str:
    """``[{"status": "404", "title": "Not Found"}]`` -> ``"404 Not Found"``."""
    if isinstance(errors, list):
        parts = [
            " ".join(str(e[k]) for k in ("status", "title", "detail") if e.get(k))
            for e in errors
            if isinstance(e, dict)
        ]
        if any(parts):
            return "; ".join(p for p in parts if p)
    return str(errors)[:300]
