"""Birdeye token OHLCV (paid API key) — USD candles of one token, by mint address.

Wire format (docs.birdeye.so "OHLCV - token", ``/defi/ohlcv``): ``GET {base}/defi/ohlcv?
address=<mint>&type=15m&time_from=S&time_to=S`` with headers ``X-API-KEY`` and
``x-chain: solana``; answers ``{"success": true, "data": {"items": [{"address", "unixTime",
"o", "h", "l", "c", "v", "type"}, ...]}}``, at most 1000 items per call. ``unixTime`` is the bar
open (seconds); ``o h l c`` are in USD and ``v`` is the volume in *token units* (Birdeye's
definition, not USD). Errors: ``{"success": false, "message": "..."}`` (401 without a valid key,
400 for a bad address, 429 when over the account limit).

Timeframes: 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w (Birdeye ``1H``… ``1W``); Birdeye's
``1M`` (calendar month) is not offered because our bars need a fixed width.

Pagination goes forwards in windows of exactly 1000 bars (``time_from`` .. ``time_to``,
inclusive seconds), so a window can never hold more than one response's worth; each non-empty
window is yielded as it arrives, so resuming with ``start_ns`` = last stored bar + 1 bar asks
only for newer data. On Solana no window starts before mainnet-beta (2020-03-16).

Limits: per account — Standard 1 rps (OHLCV needs Starter or above), Starter 15 rps, Premium
50 rps; ``rate_per_sec`` defaults to 1. 429 has no documented wait header: retries back off
exponentially, honouring ``Retry-After`` / ``x-ratelimit-reset`` if Birdeye sends them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from tradewind.config import Settings, secret
from tradewind.data.loader import timeframe_to_ns
from tradewind.data.sources.base import HttpClient, SourceError, bars_frame, redact
from tradewind.errors import ConfigError

DEFAULT_BASE_URL = "https://public-api.birdeye.so"
MAX_ITEMS = 1000
SOLANA_GENESIS_NS = 1_584_316_800 * 1_000_000_000  # 2020-03-16T00:00Z, mainnet-beta launch
_NS = 1_000_000_000

# our timeframe -> Birdeye ``type``
_TIMEFRAMES: dict[str, str] = {
    "1m": "1m",
    "3m": "3m",
    "5m": "5m",
    "15m": "15m",
    "30m": "30m",
    "1h": "1H",
    "2h": "2H",
    "4h": "4H",
    "6h": "6H",
    "8h": "8H",
    "12h": "12H",
    "1d": "1D",
    "3d": "3D",
    "1w": "1W",
}
_BY_NS = {timeframe_to_ns(tf): code for tf, code in _TIMEFRAMES.items()}


def _resolve(timeframe: str) -> tuple[str, int]:
    """``"1h"`` -> ("1H", bar_ns); anything unsupported -> ConfigError."""
    try:
        bar_ns = timeframe_to_ns(timeframe)
    except ConfigError:
        bar_ns = -1
    if bar_ns not in _BY_NS:
        raise ConfigError(
            f"birdeye does not support timeframe {timeframe!r} "
            f"(supported: {', '.join(_TIMEFRAMES)})"
        )
    return _BY_NS[bar_ns], bar_ns


class BirdeyeSource:
    """Historical USD candles of one token from Birdeye's ``/defi/ohlcv``."""

    name = "birdeye"

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        *,
        chain: str = "solana",
        rate_per_sec: float = 1.0,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        key = api_key if api_key is not None else secret(Settings().birdeye_api_key)
        self.chain = chain
        self._has_key = bool(key)
        self._key = key or ""
        headers = {"Accept": "application/json", "x-chain": chain}
        if key:
            headers["X-API-KEY"] = key
        self._http = HttpClient(
            self.name,
            base_url,
            headers=headers,
            secrets=("X-API-KEY",),
            rate_per_sec=rate_per_sec,
            max_retries=max_retries,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        key = "***" if self._has_key else None
        return f"BirdeyeSource({self._http.base_url!r}, chain={self.chain!r}, api_key={key})"

    def close(self) -> None:
        self._http.close()

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, start_ns: int, end_ns: int | None = None
    ) -> Iterator[pd.DataFrame]:
        """Pages of bars of token ``symbol`` (a mint) with ``start_ns <= ts < end_ns``, oldest
        first (``end_ns`` None: up to the newest closed bar)."""
        address = symbol.strip() if isinstance(symbol, str) else ""
        if not address:
            raise ConfigError(f"birdeye needs a token address as symbol, got {symbol!r}")
        code, bar_ns = _resolve(timeframe)
        if not self._has_key:
            raise ConfigError(
                "birdeye needs an API key: set TRADEWIND_BIRDEYE_API_KEY or pass api_key="
            )
        start = int(start_ns)
        if self.chain == "solana":
            start = max(start, SOLANA_GENESIS_NS)
        end = end_ns if end_ns is not None else time.time_ns() // bar_ns * bar_ns
        return self._pages(address, code, bar_ns, start, int(end))

    def _pages(
        self, address: str, code: str, bar_ns: int, start_ns: int, end_ns: int
    ) -> Iterator[pd.DataFrame]:
        window_ns = MAX_ITEMS * bar_ns
        last_ts = start_ns - 1  # everything yielded so far is <= last_ts
        lo = start_ns
        while lo < end_ns:
            hi = min(lo + window_ns, end_ns)
            time_from = -(-lo // _NS)
            time_to = -(-hi // _NS) - 1  # inclusive; the next window starts at ``hi``
            if time_to >= time_from:
                frame = self._window(address, code, time_from, time_to)
                frame = frame[(frame["ts"] > last_ts) & (frame["ts"] >= lo) & (frame["ts"] < hi)]
                if len(frame):
                    last_ts = int(frame["ts"].iloc[-1])
                    yield frame.reset_index(drop=True)
            lo = hi

    def _window(self, address: str, code: str, time_from: int, time_to: int) -> pd.DataFrame:
        params = {"address": address, "type": code, "time_from": time_from, "time_to": time_to}
        try:
            body = self._http.get_json("/defi/ohlcv", params)
        except SourceError as exc:
            detail = str(exc).removeprefix(f"{self.name}: ")
            raise type(exc)(f"{self.name}: token {address!r}: {self._safe(detail)}") from None
        return self._items(address, body)

    def _items(self, address: str, body: Any) -> pd.DataFrame:
        if not isinstance(body, dict) or body.get("success") is False:
            message = body.get("message") if isinstance(body, dict) else None
            raise SourceError(
                f"{self.name}: token {address!r}: {self._safe(str(message or body)[:300])}"
            )
        try:
            items = (body.get("data") or {}).get("items") or []
            return bars_frame(
                [int(i["unixTime"]) * _NS for i in items],
                [i["o"] for i in items],
                [i["h"] for i in items],
                [i["l"] for i in items],
                [i["c"] for i in items],
                [i["v"] for i in items],
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise SourceError(
                f"{self.name}: token {address!r}: unexpected response shape (expected "
                "data.items of {unixTime, o, h, l, c, v})"
            ) from None

    def _safe(self, text: str) -> str:
        return redact(text, [self._key])
