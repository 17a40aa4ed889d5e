"""Candles from Yahoo Finance's chart API — the public, unofficial endpoint yfinance itself uses.

Endpoint: ``GET {base}/v8/finance/chart/{symbol}?period1=&period2=&interval=&includePrePost=false
&events=div,splits`` (``period1``/``period2`` unix seconds; base ``https://query2.finance.yahoo.com``),
no key. The answer is ``{"chart": {"result": [{"meta": {..., "gmtoffset", "exchangeTimezoneName"},
"timestamp": [...], "indicators": {"quote": [{"open": [], "high": [], "low": [], "close": [],
"volume": []}], "adjclose": [{"adjclose": []}]}}], "error": null}}``; an error is ``{"chart":
{"result": null, "error": {"code": "Not Found", "description": "No data found, symbol may be
delisted"}}}`` (HTTP 404; a range Yahoo refuses is HTTP 422 with the same shape). Points Yahoo
fills with ``null`` (non-trading rows) are dropped. HTTP 429 comes with a plain "Too Many
Requests" body and no Retry-After, so ``HttpClient`` backs off exponentially.

Intervals: ``1m 2m 5m 15m 30m 90m 1h 1d 1w`` (Yahoo ``1wk``). Intraday history is limited by
Yahoo: ``1m`` at most 7 days per request and only the last 30 days; ``2m``–``90m`` the last 60
days; ``1h`` the last 730 days. Pagination is by time windows within those limits, oldest first;
a ``start_ns`` older than the interval's reach is moved up to the oldest time Yahoo serves.
Daily and weekly bars come in one request; their ``ts`` is the trading *date* (midnight UTC of
the exchange-local date; Yahoo stamps them with the session open time), so resuming with the last
stored date + one bar asks for the next date. The newest bar is returned only once closed
(``ts + timeframe <= now``).

``adjusted=True`` scales open/high/low/close by ``adjclose / close`` (split- and
dividend-adjusted; Yahoo's plain ``close`` is split-adjusted only); daily and weekly only, since
Yahoo sends no ``adjclose`` for intraday intervals.

Partial: no cookie/crumb handshake (the chart endpoint serves without it today); Yahoo may
throttle or block non-browser clients at any time — there is no contract for this endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
import numpy.typing as npt
import pandas as pd

from tradewind.data.sources.base import HttpClient, RateLimited, SourceError, bars_frame
from tradewind.errors import ConfigError

DEFAULT_BASE_URL = "https://query2.finance.yahoo.com"

_DAY_S = 86_400
# our timeframe -> (Yahoo interval, bar seconds, seconds per request, how far back Yahoo serves)
_INTERVALS: dict[str, tuple[str, int, int | None, int | None]] = {
    "1m": ("1m", 60, 7 * _DAY_S, 30 * _DAY_S),
    "2m": ("2m", 120, 60 * _DAY_S, 60 * _DAY_S),
    "5m": ("5m", 300, 60 * _DAY_S, 60 * _DAY_S),
    "15m": ("15m", 900, 60 * _DAY_S, 60 * _DAY_S),
    "30m": ("30m", 1_800, 60 * _DAY_S, 60 * _DAY_S),
    "90m": ("90m", 5_400, 60 * _DAY_S, 60 * _DAY_S),
    "1h": ("1h", 3_600, 730 * _DAY_S, 730 * _DAY_S),
    "1d": ("1d", _DAY_S, None, None),
    "1w": ("1wk", 7 * _DAY_S, None, None),
}
_LOOKBACK_MARGIN_S = 600  # stay clear of Yahoo's "must be within the last N days" edge


class _ChartHttp(HttpClient):
    """``HttpClient`` that reads Yahoo's ``{"chart": {"error": {code, description}}}`` body."""

    def _message(self, response: httpx.Response) -> str:
        try:
            error = response.json()["chart"]["error"]
            return self._safe(f"{error['code']}: {error['description']}")
        except (ValueError, KeyError, TypeError):
            return super()._message(response)


class YahooSource:
    """Historical candles from Yahoo Finance's v8 chart endpoint (stocks, ETFs, indices, FX)."""

    name = "yahoo"

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        adjusted: bool = False,
        rate_per_sec: float = 2.0,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.adjusted = adjusted
        self._now_ns = now_ns
        self.http = _ChartHttp(
            self.name,
            base_url,
            headers={"User-Agent": "Mozilla/5.0 (compatible; tradewind)", "Accept": "*/*"},
            rate_per_sec=rate_per_sec,
            max_retries=max_retries,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"YahooSource({self.http.base_url!r}, adjusted={self.adjusted})"

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, start_ns: int, end_ns: int | None = None
    ) -> Iterator[pd.DataFrame]:
        """Closed bars of ``symbol`` with ``start_ns <= ts < end_ns``, one page per request."""
        if timeframe not in _INTERVALS:
            raise ConfigError(
                f"yahoo: timeframe {timeframe!r} is not supported "
                f"(supported: {', '.join(_INTERVALS)})"
            )
        interval, bar_s, window_s, lookback_s = _INTERVALS[timeframe]
        daily = bar_s >= _DAY_S
        if self.adjusted and not daily:
            raise ConfigError(
                f"yahoo: adjusted prices exist only for 1d and 1w bars, not {timeframe!r}"
            )
        now_s = self._now_ns() // 1_000_000_000
        first = -(-start_ns // 1_000_000_000)
        last = now_s if end_ns is None else min(now_s, -(-end_ns // 1_000_000_000))
        if lookback_s is not None:
            first = max(first, now_s - lookback_s + _LOOKBACK_MARGIN_S)
        if daily:  # daily stamps are session opens: widen by a day, filter on the trading date
            first, last = first - _DAY_S, last + _DAY_S
        if first >= last:
            return
        newest = -1  # the newest ts yielded so far: a window re-sending a bar yields it once
        lo = first
        while lo < last:
            hi = last if window_s is None else min(last, lo + window_s)
            page = self._window(symbol, interval, lo, hi, daily)
            now = self._now_ns()
            ts = page["ts"].to_numpy()
            keep = (ts >= start_ns) & (ts > newest) & (ts + bar_s * 1_000_000_000 <= now)
            if end_ns is not None:
                keep &= ts < end_ns
            page = page[keep].reset_index(drop=True)
            if len(page):
                newest = int(page["ts"].iloc[-1])
                yield page
            lo = hi

    def _window(
        self, symbol: str, interval: str, period1: int, period2: int, daily: bool
    ) -> pd.DataFrame:
        """One chart request as a ``bars_frame`` page (``ts`` not yet range-filtered)."""
        params = {
            "period1": period1,
            "period2": period2,
            "interval": interval,
            "includePrePost": "false",
            "events": "div,splits",
        }
        try:
            body = self.http.get_json(f"/v8/finance/chart/{quote(symbol, safe='=')}", params)
        except RateLimited:
            raise
        except SourceError as exc:
            detail = str(exc).removeprefix(f"{self.name}: ")
            raise SourceError(f"yahoo: symbol {symbol!r} ({interval}): {detail}") from None
        chart = body.get("chart") if isinstance(body, dict) else None
        if not isinstance(chart, dict):
            raise SourceError(f"yahoo: symbol {symbol!r}: unexpected response {str(body)[:200]}")
        error = chart.get("error")
        if error:
            text = (
                f"{error.get('code')}: {error.get('description')}"
                if isinstance(error, dict)
                else str(error)
            )
            raise SourceError(f"yahoo: symbol {symbol!r} ({interval}): {text}")
        results = chart.get("result") or []
        if not results:
            raise SourceError(f"yahoo: symbol {symbol!r} ({interval}): no result in the answer")
        return self._bars(results[0], daily)

    def _bars(self, result: dict[str, Any], daily: bool) -> pd.DataFrame:
        stamps = result.get("timestamp") or []  # absent when the window has no data
        indicators = result.get("indicators") or {}
        quote_ = (indicators.get("quote") or [{}])[0] or {}
        n = len(stamps)

        def column(values: Any) -> npt.NDArray[np.float64]:
            vals = list(values or [])[:n]
            vals += [None] * (n - len(vals))
            return np.array([np.nan if x is None else float(x) for x in vals], dtype=np.float64)

        ts_s = np.asarray(stamps, dtype=np.int64)
        o, h, lo, c = (column(quote_.get(k)) for k in ("open", "high", "low", "close"))
        v = column(quote_.get("volume"))
        ok = ~(np.isnan(o) | np.isnan(h) | np.isnan(lo) | np.isnan(c))
        if self.adjusted:
            adj = column(((indicators.get("adjclose") or [{}])[0] or {}).get("adjclose"))
            factor = adj / c
            o, h, lo, c = o * factor, h * factor, lo * factor, adj
            ok &= ~np.isnan(factor)
        ts_ns = ts_s * 1_000_000_000
        if daily:
            ts_ns = _trading_dates(ts_ns, result.get("meta") or {})
        return bars_frame(ts_ns[ok], o[ok], h[ok], lo[ok], c[ok], np.nan_to_num(v[ok]))


def _trading_dates(ts_ns: npt.NDArray[np.int64], meta: dict[str, Any]) -> npt.NDArray[np.int64]:
    """Yahoo's daily stamps (session open, UTC) -> midnight UTC of the exchange-local date."""
    tz = meta.get("exchangeTimezoneName")
    if tz:
        try:
            local = pd.DatetimeIndex(pd.to_datetime(ts_ns, utc=True)).tz_convert(tz)
            dates: npt.NDArray[np.int64] = local.tz_localize(None).normalize().asi8
            return dates
        except (KeyError, ValueError):  # an unknown zone name: fall back to the offset
            pass
    offset_ns = int(meta.get("gmtoffset") or 0) * 1_000_000_000
    day_ns = _DAY_S * 1_000_000_000
    return (ts_ns + offset_ns) // day_ns * day_ns
