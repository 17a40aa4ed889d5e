"""Candles from any exchange the ``ccxt`` library supports (default: Binance spot).

Wire format: whatever the exchange speaks, through ccxt's unified ``fetch_ohlcv(symbol,
timeframe, since, limit)``, which returns ``[[open_time_ms, open, high, low, close, volume],
...]`` (for Binance spot that is ``GET /api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=
&limit=``, after ``load_markets`` reads ``GET /api/v3/exchangeInfo``). Symbols are ccxt's unified
ones (``BTC/USDT``; ``BTC/USDT:USDT`` for a linear perpetual), timeframes are the exchange's
``timeframes`` keys (``1m 5m 15m 1h 4h 1d 1w ...``).

Pagination: ``since`` + ``limit`` — each request starts one bar after the newest bar received,
with ``limit`` the exchange's documented page size (ccxt ``features``; Binance spot 1000) capped
to the bars still wanted, until ``end_ns`` or the newest *closed* bar. The still-forming newest bar
(``ts + timeframe > now``) is never returned, so resuming with ``start_ns`` = last stored bar + one
bar fetches only newer, complete bars.

Rate limits: ccxt's own throttle (``enableRateLimit``, the exchange's ``rateLimit`` spacing, or
``1000 / rate_per_sec`` ms when given), plus retries here: ``RateLimitExceeded`` /
``DDoSProtection`` (HTTP 429/418) wait the response's ``Retry-After`` (else exponential backoff),
other ``NetworkError`` (timeouts, 5xx) back off; after ``max_retries`` they become
``RateLimited`` / ``SourceError``. ``BadSymbol`` and other ``ExchangeError`` fail at once.

Only public market data is used, so no API key is needed or accepted.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import ccxt
import httpx
import pandas as pd

from tradewind.data.sources.base import RateLimited, SourceError, bars_frame, retry_delay
from tradewind.errors import ConfigError

T = TypeVar("T")

_DEFAULT_PAGE = 500  # when neither ``limit`` nor the exchange's features give a page size


def _rebase(value: Any, base_url: str) -> Any:
    """``value`` (a URL, or a nested dict of them as in ccxt's ``urls['api']``) with scheme and
    host replaced by ``base_url``'s, keeping each URL's path (``/api/v3``)."""
    if isinstance(value, dict):
        return {k: _rebase(v, base_url) for k, v in value.items()}
    if isinstance(value, str) and urlsplit(value).netloc:
        parts = urlsplit(value)
        return base_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
    return value


class CcxtSource:
    """Historical candles from a ccxt exchange (``exchange_id``, default ``binance``)."""

    name = "ccxt"

    def __init__(
        self,
        exchange_id: str = "binance",
        *,
        base_url: str | None = None,
        options: Mapping[str, Any] | None = None,
        limit: int | None = None,
        rate_per_sec: float | None = None,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        """``base_url`` replaces the host of every ``urls['api']`` entry (a mirror, or a test
        server); ``options`` are ccxt exchange options (e.g. ``{"fetchMarkets": {"types":
        ["spot"]}}``); ``limit`` overrides the page size; ``rate_per_sec`` overrides ccxt's
        request spacing."""
        if exchange_id not in ccxt.exchanges:
            raise ConfigError(
                f"ccxt: unknown exchange {exchange_id!r} (ccxt {ccxt.__version__} knows "
                f"{len(ccxt.exchanges)} exchanges, e.g. binance, bybit, coinbase, kraken, okx)"
            )
        if limit is not None and limit < 1:
            raise ConfigError(f"ccxt: limit must be a positive number of bars, got {limit}")
        config: dict[str, Any] = {
            "enableRateLimit": True,
            "timeout": int(timeout * 1000),
            "options": dict(options or {}),
        }
        if rate_per_sec is not None:
            config["rateLimit"] = 1000.0 / rate_per_sec
        self.exchange_id = exchange_id
        self.exchange: Any = getattr(ccxt, exchange_id)(config)
        if not self.exchange.has.get("fetchOHLCV"):
            raise ConfigError(f"ccxt: exchange {exchange_id!r} does not offer OHLCV candles")
        if base_url is not None:
            self.exchange.urls["api"] = _rebase(self.exchange.urls["api"], base_url)
        self.limit = limit
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retries = 0  # how many retries were made (for reports and tests)
        self._sleep = sleep
        self._now_ns = now_ns

    def __repr__(self) -> str:
        return f"CcxtSource({self.exchange_id!r})"

    def timeframes(self) -> list[str]:
        return list(self.exchange.timeframes or {})

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, start_ns: int, end_ns: int | None = None
    ) -> Iterator[pd.DataFrame]:
        """Closed bars of ``symbol`` with ``start_ns <= ts < end_ns``, one page per request."""
        supported = self.timeframes()
        if timeframe not in supported:
            raise ConfigError(
                f"ccxt: {self.exchange_id} does not support timeframe {timeframe!r} "
                f"(supported: {', '.join(supported)})"
            )
        market = self._market(symbol)
        tf_ms = int(self.exchange.parse_timeframe(timeframe)) * 1000
        page = self.limit or self._page_limit(market)
        since = -(-start_ns // 1_000_000)  # first ms whose bar is >= start_ns
        end_ms = None if end_ns is None else -(-end_ns // 1_000_000)
        while True:
            now_ms = self._now_ns() // 1_000_000
            last_open = now_ms - tf_ms  # the newest open time of a closed bar
            if end_ms is not None:
                last_open = min(last_open, end_ms - 1)
            if since > last_open:
                return  # no closed bar in range can open at or after ``since``
            want = min(page, (last_open - since) // tf_ms + 1)
            fetch = functools.partial(self.exchange.fetch_ohlcv, symbol, timeframe, since, want)
            rows = self._call(symbol, fetch)
            rows = [r for r in rows or [] if r and r[0] is not None and int(r[0]) >= since]
            if not rows:
                return  # the exchange has nothing new
            keep = [
                r
                for r in rows
                if (end_ms is None or int(r[0]) < end_ms) and int(r[0]) + tf_ms <= now_ms
            ]
            if keep:
                yield bars_frame(
                    [int(r[0]) * 1_000_000 for r in keep],
                    [r[1] for r in keep],
                    [r[2] for r in keep],
                    [r[3] for r in keep],
                    [r[4] for r in keep],
                    [r[5] for r in keep],
                )
            since = max(int(r[0]) for r in rows) + tf_ms

    def _market(self, symbol: str) -> dict[str, Any]:
        markets = self._call(symbol, self.exchange.load_markets)
        if symbol not in (markets or {}):
            raise SourceError(f"ccxt: {self.exchange_id} has no market {symbol!r}")
        market: dict[str, Any] = markets[symbol]
        return market

    def _page_limit(self, market: Mapping[str, Any]) -> int:
        """The exchange's documented candles-per-request for this market type (ccxt features)."""
        node: Any = (self.exchange.features or {}).get(market.get("type")) or {}
        sub = market.get("subType")
        if sub and isinstance(node.get(sub), dict):
            node = node[sub]
        value = (node.get("fetchOHLCV") or {}).get("limit")
        return int(value) if value else _DEFAULT_PAGE

    def _call(self, symbol: str, fn: Callable[[], T]) -> T:
        """``fn()`` with ccxt errors mapped to ours and rate limits / network errors retried."""
        attempt = 0
        while True:
            self.exchange.last_response_headers = None
            try:
                return fn()
            except (ccxt.RateLimitExceeded, ccxt.DDoSProtection) as exc:
                if attempt >= self.max_retries:
                    raise RateLimited(
                        f"ccxt: {self.exchange_id} kept rate-limiting requests for {symbol!r} "
                        f"after {attempt + 1} attempts: {exc}"
                    ) from None
                wait = self._retry_wait(attempt)
            except ccxt.BadSymbol as exc:
                raise SourceError(
                    f"ccxt: {self.exchange_id} rejected symbol {symbol!r}: {exc}"
                ) from None
            except ccxt.NetworkError as exc:
                if attempt >= self.max_retries:
                    raise SourceError(
                        f"ccxt: {self.exchange_id} unreachable for {symbol!r} after "
                        f"{attempt + 1} attempts: {type(exc).__name__}: {exc}"
                    ) from None
                wait = min(self.backoff_cap, self.backoff_base * 2**attempt)
            except ccxt.BaseError as exc:  # ExchangeError and everything else ccxt raises
                raise SourceError(
                    f"ccxt: {self.exchange_id} error for {symbol!r}: {type(exc).__name__}: {exc}"
                ) from None
            self.retries += 1
            self._sleep(wait)
            attempt += 1

    def _retry_wait(self, attempt: int) -> float:
        """The rate-limited response's ``Retry-After`` (Binance sends it with 429/418), else
        exponential backoff with jitter — the same policy as ``HttpClient``."""
        headers = dict(self.exchange.last_response_headers or {})
        response = httpx.Response(429, headers={k: str(v) for k, v in headers.items()})
        return retry_delay(response, attempt, self.backoff_base, self.backoff_cap)
