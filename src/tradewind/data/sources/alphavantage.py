"""Alpha Vantage stock time series: ``GET {base}/query?function=...&symbol=&apikey=&datatype=json``.

Daily (``"1d"``): ``function=TIME_SERIES_DAILY`` in one request, ``outputsize=compact`` (the
latest 100 trading days) when ``start`` is within the last 100 days, else ``outputsize=full``
(20+ years; Alpha Vantage may reserve ``full`` for premium keys), filtered to [start, end).
Intraday (``"1m"``, ``"5m"``, ``"15m"``, ``"30m"``, ``"1h"``): ``function=TIME_SERIES_INTRADAY``
with ``interval=1min|5min|15min|30min|60min``, ``month=YYYY-MM``, ``outputsize=full`` (the whole
month), ``adjusted`` and ``extended_hours`` (both true by default, as in the API); pagination is
one request per calendar month (US/Eastern) from start's month to end's month, oldest first, and
never before 2000-01 (where Alpha Vantage's intraday history begins). The key goes in the
``apikey`` query parameter and is redacted from every error.

Response: ``{"Meta Data": {..., "6. Time Zone": "US/Eastern"} ("5. Time Zone" for daily),
"Time Series (5min)" | "Time Series (Daily)": {"2024-01-05 19:55:00": {"1. open": "...",
"2. high", "3. low", "4. close", "5. volume"}}}``, newest first, prices as strings.

Timestamps are local to the Meta Data time zone (US/Eastern) and converted to UTC. A daily bar is
stamped midnight US/Eastern of its date (as Alpaca and Polygon stamp theirs). An intraday key is
taken as the bar's OPEN time, unchanged: the documentation does not say which end of the bar it
labels, but the current API's extended-hours day (documented as 4:00am-8:00pm Eastern) comes back
as keys 04:00 ... 19:55 for 5min bars (19:59 for 1min) — 04:00 is present and 20:00 never is —
so a key is the start of its interval. (Before the 2023 rework the keys labelled bar ends, e.g.
a 20:00:00 5min bar; data from that API is not what this source reads.)

Errors arrive as HTTP 200: ``{"Error Message": "..."}`` (bad call or unknown symbol) ->
``SourceError`` with the message and the symbol; ``{"Information": "..."}`` that is not about the
rate limit (e.g. a premium-only parameter) -> ``SourceError``. Rate limit: HTTP 200 with
``{"Note": "..."}`` or ``{"Information": "...rate limit..."}`` -> wait ``rate_limit_wait`` seconds
(60: the limits are per minute) and retry, up to ``max_retries``, then ``RateLimited``. Limits:
25 requests/day on a free key (a daily cap is also retried, which cannot help — see
``max_retries``); premium keys are per minute. HTTP 429/5xx are retried by ``HttpClient``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from tradewind.config import Settings, secret
from tradewind.data.loader import timeframe_to_ns
from tradewind.data.sources.base import HttpClient, RateLimited, SourceError, bars_frame, redact
from tradewind.errors import ConfigError

BASE_URL = "https://www.alphavantage.co"
SUPPORTED_TIMEFRAMES = "1m, 5m, 15m, 30m, 1h, 1d"
FIRST_INTRADAY_MONTH = (2000, 1)

_MINUTE = 60_000_000_000
_DAY = 1440 * _MINUTE
_INTERVALS = {_MINUTE * n: f"{n}min" for n in (1, 5, 15, 30, 60)}
_COMPACT_DAYS = 100  # compact = the latest 100 trading days, which span more than 100 days
_RATE_LIMIT_TEXT = re.compile(
    r"rate limit|call frequency|calls per|requests per|spreading out", re.IGNORECASE
)
_FIELDS = ("1. open", "2. high", "3. low", "4. close", "5. volume")
_ZONES = {"US/Eastern": "America/New_York"}  # the canonical name of the zone AV reports


def alphavantage_interval(timeframe: str) -> str | None:
    """Our timeframe as Alpha Vantage's intraday ``interval`` (``"5m"`` -> ``"5min"``), or None
    for daily; ``ConfigError`` naming it and the supported ones otherwise."""
    try:
        ns = timeframe_to_ns(timeframe)
    except ConfigError:
        ns = 0
    if ns == _DAY:
        return None
    if ns in _INTERVALS:
        return _INTERVALS[ns]
    raise ConfigError(
        f"alphavantage: timeframe {timeframe!r} is not supported "
        f"(supported: {SUPPORTED_TIMEFRAMES})"
    )


class AlphaVantageSource:
    """Historical stock bars from Alpha Vantage (daily and 1-60 minute intraday)."""

    name = "alphavantage"

    def __init__(
        self,
        *,
        base_url: str = BASE_URL,
        api_key: str | None = None,
        adjusted: bool = True,
        extended_hours: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        rate_per_sec: float = 1.0,
        max_retries: int = 5,
        rate_limit_wait: float = 60.0,
    ) -> None:
        if api_key is None:
            api_key = secret(Settings().alphavantage_api_key)
        self._api_key = api_key or ""
        self.adjusted = adjusted
        self.extended_hours = extended_hours
        self.max_retries = max_retries
        self.rate_limit_wait = rate_limit_wait
        self.rate_limit_waits = 0  # how often a "Note"/"Information" rate limit made us wait
        self._sleep = sleep
        self.http = HttpClient(
            self.name,
            base_url,
            params={"apikey": self._api_key} if self._api_key else {},
            secrets=("apikey",),
            rate_per_sec=rate_per_sec,
            max_retries=max_retries,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"AlphaVantageSource(base_url={self.http.base_url!r})"

    def close(self) -> None:
        self.http.close()

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, start_ns: int, end_ns: int | None = None
    ) -> Iterator[pd.DataFrame]:
        """Pages of bars with ``start_ns <= ts < end_ns`` (``end_ns`` None: up to the newest
        closed bar), oldest first: one page for daily, one per month for intraday."""
        interval = alphavantage_interval(timeframe)
        if not self._api_key:
            raise ConfigError(
                "alphavantage: an API key is needed "
                "(set TRADEWIND_ALPHAVANTAGE_API_KEY or pass api_key)"
            )
        now_ns = time.time_ns()
        stop_ns = end_ns if end_ns is not None else now_ns - timeframe_to_ns(timeframe) + 1
        if stop_ns <= start_ns:
            return
        if interval is None:
            recent = start_ns >= now_ns - _COMPACT_DAYS * _DAY
            params = {
                "function": "TIME_SERIES_DAILY",
                "symbol": symbol,
                "outputsize": "compact" if recent else "full",
                "datatype": "json",
            }
            page = self._page(params, symbol, start_ns, stop_ns)
            if len(page):
                yield page
            return
        last_ns = start_ns - 1
        for month in _months(start_ns, stop_ns - 1):
            params = {
                "function": "TIME_SERIES_INTRADAY",
                "symbol": symbol,
                "interval": interval,
                "month": month,
                "outputsize": "full",
                "adjusted": "true" if self.adjusted else "false",
                "extended_hours": "true" if self.extended_hours else "false",
                "datatype": "json",
            }
            page = self._page(params, symbol, last_ns + 1, stop_ns)
            if len(page):
                yield page
                last_ns = int(page["ts"].iloc[-1])

    def _page(
        self, params: Mapping[str, str], symbol: str, start_ns: int, stop_ns: int
    ) -> pd.DataFrame:
        body = self._get(params, symbol)
        frame = _series_frame(body, symbol)
        frame = frame[(frame["ts"] >= start_ns) & (frame["ts"] < stop_ns)]
        return frame.reset_index(drop=True)

    def _get(self, params: Mapping[str, str], symbol: str) -> dict[str, Any]:
        """One answered request: provider errors raised, rate-limit notes waited out."""
        attempt = 0
        while True:
            try:
                body = self.http.get_json("/query", params)
            except SourceError as exc:
                raise type(exc)(f"{exc} (symbol {symbol!r})") from None
            if not isinstance(body, dict):
                shown = self._safe(str(body)[:200])
                raise SourceError(f"alphavantage: unexpected response for {symbol!r}: {shown}")
            note = self._rate_limit_note(body)
            if note is None:
                break
            if attempt >= self.max_retries:
                raise RateLimited(
                    f"alphavantage: rate limited after {attempt + 1} attempts "
                    f"(symbol {symbol!r}): {note}"
                )
            self.rate_limit_waits += 1
            self._sleep(self.rate_limit_wait)
            attempt += 1
        for key in ("Error Message", "Information"):
            if body.get(key):
                raise SourceError(f"alphavantage: {self._safe(str(body[key]))} (symbol {symbol!r})")
        return body

    def _rate_limit_note(self, body: Mapping[str, Any]) -> str | None:
        note = body.get("Note")
        if note:
            return self._safe(str(note))
        info = body.get("Information")
        if info and _RATE_LIMIT_TEXT.search(str(info)):
            return self._safe(str(info))
        return None

    def _safe(self, text: str) -> str:
        return redact(text, [self._api_key])


def _months(first_ns: int, last_ns: int) -> list[str]:
    """``YYYY-MM`` of every US/Eastern month from ``first_ns``'s to ``last_ns``'s."""
    eastern = ZoneInfo("America/New_York")
    first = pd.Timestamp(first_ns, unit="ns", tz="UTC").tz_convert(eastern)
    last = pd.Timestamp(last_ns, unit="ns", tz="UTC").tz_convert(eastern)
    year, month = max((first.year, first.month), FIRST_INTRADAY_MONTH)
    months = []
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _series_frame(body: Mapping[str, Any], symbol: str) -> pd.DataFrame:
    """The response's time series in the page shape: local keys -> UTC ns, strings -> floats."""
    key = next((k for k in body if k.startswith("Time Series")), None)
    if key is None or not isinstance(body[key], dict):
        raise SourceError(
            f"alphavantage: no time series in the response for {symbol!r} "
            f"(keys: {', '.join(map(str, body)) or 'none'})"
        )
    meta = body.get("Meta Data") or {}
    zone_name = next((v for k, v in meta.items() if k.endswith("Time Zone")), "US/Eastern")
    series: dict[str, dict[str, str]] = body[key]
    try:
        zone = ZoneInfo(_ZONES.get(str(zone_name), str(zone_name)))
        local = pd.to_datetime(list(series), format="ISO8601")
        ts = local.tz_localize(zone).tz_convert("UTC").as_unit("ns").asi8
        columns = [[float(bar[field]) for bar in series.values()] for field in _FIELDS]
    except (ZoneInfoNotFoundError, KeyError, TypeError, ValueError) as exc:
        raise SourceError(
            f"alphavantage: malformed time series for {symbol!r}: {type(exc).__name__}: {exc}"
        ) from None
    return bars_frame(ts, *columns)
