"""Polygon.io aggregates (custom bars): ``GET {base}/v2/aggs/ticker/{ticker}/range/{multiplier}/
{timespan}/{from}/{to}?adjusted=true&sort=asc&limit=50000&apiKey=...``.

``from``/``to`` are sent as unix-millisecond timestamps (both inclusive); ``timespan`` is
``second``/``minute``/``hour``/``day``/``week`` with any ``multiplier`` (``"5m"`` -> 5/minute,
``"4h"`` -> 4/hour, ``"1d"`` -> 1/day). The key goes in the ``apiKey`` query parameter and is
redacted from every error. Response: ``{"ticker", "status": "OK" | "DELAYED", "queryCount",
"resultsCount", "adjusted", "results": [{"t": ms, "o", "h", "l", "c", "v", "vw", "n"}],
"request_id", "next_url"}``; ``t`` is the start (open) of the aggregate window in unix ms UTC
(daily bars: midnight America/New_York).

Pagination: ``next_url`` (a cursor URL without the key) until it is absent; we request its path
and query on our own ``base_url`` with the key added, so the key never goes to another host.
Stops on a repeated cursor or a page with nothing newer. ``limit`` (max 50000) caps the *base*
aggregates used per response, so long ranges of small bars come in several pages.

Errors: ``{"status": "ERROR", "request_id": "...", "error": "..."}`` (HTTP 4xx, or 200 with
``status`` ERROR) -> ``SourceError`` with the message and the ticker; HTTP 429 (``{"status":
"ERROR", "error": "You've exceeded the maximum requests per minute..."}``) is retried with
backoff — Polygon documents no Retry-After/rate-limit headers (honoured if sent). Limits: the free
plan allows 5 requests/minute (the default ``rate_per_sec``; raise it on paid plans).

Partial: an unknown ticker comes back as ``status: OK`` with no results (not an error), so it
yields no pages instead of raising.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pandas as pd

from tradewind.config import Settings, secret
from tradewind.data.loader import timeframe_to_ns
from tradewind.data.sources.base import HttpClient, SourceError, bars_frame, redact
from tradewind.errors import ConfigError

BASE_URL = "https://api.polygon.io"
MAX_LIMIT = 50_000
SUPPORTED_TIMEFRAMES = "whole seconds, minutes, hours, days or weeks (e.g. 1s, 1m, 5m, 4h, 1d, 1w)"

_MS = 1_000_000
_SECOND = 1_000_000_000
_UNITS = (  # largest first
    ("week", 7 * 86_400 * _SECOND),
    ("day", 86_400 * _SECOND),
    ("hour", 3_600 * _SECOND),
    ("minute", 60 * _SECOND),
    ("second", _SECOND),
)


def polygon_timespan(timeframe: str) -> tuple[int, str]:
    """Our timeframe as Polygon's ``(multiplier, timespan)``: ``"15m"`` -> ``(15, "minute")``."""
    try:
        ns = timeframe_to_ns(timeframe)
    except ConfigError:
        ns = 0
    for unit, size in _UNITS:
        if ns > 0 and ns % size == 0:
            return ns // size, unit
    raise ConfigError(
        f"polygon: timeframe {timeframe!r} is not supported (supported: {SUPPORTED_TIMEFRAMES})"
    )


class PolygonSource:
    """Historical aggregates (stocks, and any Polygon ticker such as ``X:BTCUSD``)."""

    name = "polygon"

    def __init__(
        self,
        *,
        base_url: str = BASE_URL,
        api_key: str | None = None,
        adjusted: bool = True,
        limit: int = MAX_LIMIT,
        sleep: Callable[[float], None] = time.sleep,
        rate_per_sec: float = 5 / 60,
        max_retries: int = 5,
    ) -> None:
        if api_key is None:
            api_key = secret(Settings().polygon_api_key)
        if not 1 <= limit <= MAX_LIMIT:
            raise ConfigError(f"polygon: limit must be 1..{MAX_LIMIT}, got {limit}")
        self._api_key = api_key or ""
        self.adjusted = adjusted
        self.limit = limit
        self.http = HttpClient(
            self.name,
            base_url,
            params={"apiKey": self._api_key} if self._api_key else {},
            secrets=("apiKey",),
            rate_per_sec=rate_per_sec,
            max_retries=max_retries,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"PolygonSource(base_url={self.http.base_url!r})"

    def close(self) -> None:
        self.http.close()

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, start_ns: int, end_ns: int | None = None
    ) -> Iterator[pd.DataFrame]:
        """Pages of bars with ``start_ns <= ts < end_ns`` (``end_ns`` None: up to the newest
        closed bar), oldest first; one page per Polygon response."""
        multiplier, timespan = polygon_timespan(timeframe)
        if not self._api_key:
            raise ConfigError(
                "polygon: an API key is needed (set TRADEWIND_POLYGON_API_KEY or pass api_key)"
            )
        tf_ns = timeframe_to_ns(timeframe)
        stop_ns = end_ns if end_ns is not None else time.time_ns() - tf_ns + 1
        if stop_ns <= start_ns:
            return
        from_ms = -(-start_ns // _MS)  # inclusive: round up to a millisecond
        to_ms = (stop_ns - 1) // _MS  # Polygon's `to` is inclusive, ours exclusive
        path = (
            f"/v2/aggs/ticker/{quote(symbol, safe=':')}/range/{multiplier}/{timespan}/"
            f"{from_ms}/{to_ms}"
        )
        params: dict[str, str] = {
            "adjusted": "true" if self.adjusted else "false",
            "sort": "asc",
            "limit": str(self.limit),
        }
        last_ns = start_ns - 1
        cursors: set[str] = set()
        while True:
            body = self._get(path, params, symbol)
            raw = _results_page(body, symbol)
            page = raw[(raw["ts"] > last_ns) & (raw["ts"] < stop_ns)].reset_index(drop=True)
            if len(page):
                yield page
                last_ns = int(page["ts"].iloc[-1])
            next_url = body.get("next_url")
            if not next_url or next_url in cursors or page.empty:
                return  # done, a repeated cursor, or a page with nothing new
            if int(raw["ts"].iloc[-1]) >= stop_ns:
                return
            cursors.add(next_url)
            path, params = _split_next_url(next_url)

    def _get(self, path: str, params: Mapping[str, str], symbol: str) -> dict[str, Any]:
        try:
            body = self.http.get_json(path, params)
        except SourceError as exc:
            raise type(exc)(f"{exc} (ticker {symbol!r})") from None
        if not isinstance(body, dict):
            raise SourceError(f"polygon: unexpected response for {symbol!r}: {str(body)[:200]}")
        if body.get("status") == "ERROR":
            message = body.get("error") or body.get("message") or "status ERROR"
            raise SourceError(
                f"polygon: {redact(str(message), [self._api_key])} (ticker {symbol!r}, "
                f"request_id {body.get('request_id')})"
            )
        return body


def _split_next_url(next_url: str) -> tuple[str, dict[str, str]]:
    """``next_url``'s path and query (the cursor), to be sent to our base URL with the key."""
    parts = urlsplit(next_url)
    query = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "apiKey"}
    return parts.path, query


def _results_page(body: Mapping[str, Any], symbol: str) -> pd.DataFrame:
    """One response's ``results`` in the page shape (unfiltered)."""
    results = body.get("results") or []
    try:
        return bars_frame(
            [int(r["t"]) * _MS for r in results],
            [r["o"] for r in results],
            [r["h"] for r in results],
            [r["l"] for r in results],
            [r["c"] for r in results],
            [r["v"] for r in results],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(
            f"polygon: malformed results for {symbol!r}: {type(exc).__name__}: {exc}"
        ) from None
