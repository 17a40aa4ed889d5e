"""Alpaca Market Data API: historical stock bars (v2) and crypto bars (v1beta3).

Stocks: ``GET {base}/v2/stocks/{symbol}/bars`` with the headers ``APCA-API-KEY-ID`` and
``APCA-API-SECRET-KEY``. Parameters: ``timeframe`` (``1Min``..``59Min``, ``1Hour``..``23Hour``,
``1Day``, ``1Week``), ``start``/``end`` (RFC 3339, both inclusive), ``limit`` (1-10000, default
1000; we ask for 10000), ``adjustment`` (``raw``, ``split``, ``dividend``, ``all``), ``feed``
(``iex`` is the free plan's feed; ``sip`` needs a subscription), ``sort=asc`` and
``page_token``. Response: ``{"bars": [{"t": "2024-01-02T14:30:00Z", "o", "h", "l", "c", "v",
"n", "vw"}], "symbol": "AAPL", "next_page_token": "..." | null}``; ``t`` is the bar's open time
in UTC (daily bars are stamped midnight America/New_York).

Crypto (a symbol with a slash, e.g. ``BTC/USD``): ``GET {base}/v1beta3/crypto/us/bars?symbols=``
with the same timeframe/start/end/limit/sort/page_token parameters (no adjustment or feed) and
the bars keyed by symbol: ``{"bars": {"BTC/USD": [...]}, "next_page_token": ...}``. Keys are
optional for crypto and sent when configured.

Pagination: the same request again with ``page_token = next_page_token`` until the token is null
(or repeats, or a page brings no newer bar). Errors: ``{"code": 40410000, "message": "..."}`` ->
``SourceError`` with that message and the symbol. Limits: 200 requests/minute on the free plan
(the default ``rate_per_sec``); HTTP 429 carries ``X-RateLimit-Reset`` (unix seconds), which
``HttpClient`` waits for before retrying.

Partial: Alpaca answers an unknown but well-formed symbol with an empty ``bars`` rather than an
error, so such a symbol yields no pages instead of raising; only the ``us`` crypto location is
the default (``crypto_loc`` changes it); month timeframes are not offered (ours stop at weeks).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pandas as pd

from tradewind.config import Settings, secret
from tradewind.data.loader import timeframe_to_ns
from tradewind.data.sources.base import HttpClient, SourceError, bars_frame
from tradewind.errors import ConfigError

BASE_URL = "https://data.alpaca.markets"
MAX_LIMIT = 10_000
SUPPORTED_TIMEFRAMES = "1m..59m, 1h..23h, 1d, 1w"

_SECOND = 1_000_000_000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_WEEK = 7 * _DAY
_KEY_HEADER = "APCA-API-KEY-ID"
_SECRET_HEADER = "APCA-API-SECRET-KEY"


def alpaca_timeframe(timeframe: str) -> str:
    """Our timeframe (``"5m"``, ``"1h"``, ``"1d"``) as Alpaca's (``"5Min"``, ``"1Hour"``,
    ``"1Day"``); ``ConfigError`` naming it and the supported ones otherwise."""
    try:
        ns = timeframe_to_ns(timeframe)
    except ConfigError:
        ns = 0
    if ns == _WEEK:
        return "1Week"
    if ns == _DAY:
        return "1Day"
    if ns % _HOUR == 0 and 1 <= ns // _HOUR <= 23:
        return f"{ns // _HOUR}Hour"
    if ns % _MINUTE == 0 and 1 <= ns // _MINUTE <= 59:
        return f"{ns // _MINUTE}Min"
    raise ConfigError(
        f"alpaca: timeframe {timeframe!r} is not supported (supported: {SUPPORTED_TIMEFRAMES})"
    )


def _rfc3339(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AlpacaSource:
    """Historical bars from Alpaca's Market Data API (stocks, and crypto pairs like BTC/USD)."""

    name = "alpaca"

    def __init__(
        self,
        *,
        base_url: str = BASE_URL,
        api_key: str | None = None,
        api_secret: str | None = None,
        feed: str | None = "iex",
        adjustment: str = "all",
        crypto_loc: str = "us",
        limit: int = MAX_LIMIT,
        sleep: Callable[[float], None] = time.sleep,
        rate_per_sec: float = 200 / 60,
        max_retries: int = 5,
    ) -> None:
        if api_key is None or api_secret is None:
            settings = Settings()
            api_key = api_key if api_key is not None else secret(settings.alpaca_api_key)
            api_secret = (
                api_secret if api_secret is not None else secret(settings.alpaca_api_secret)
            )
        if not 1 <= limit <= MAX_LIMIT:
            raise ConfigError(f"alpaca: limit must be 1..{MAX_LIMIT}, got {limit}")
        self._has_keys = bool(api_key and api_secret)
        headers = {_KEY_HEADER: api_key or "", _SECRET_HEADER: api_secret or ""}
        self.feed = feed
        self.adjustment = adjustment
        self.crypto_loc = crypto_loc
        self.limit = limit
        self.http = HttpClient(
            self.name,
            base_url,
            headers=headers if self._has_keys else {},
            secrets=(_KEY_HEADER, _SECRET_HEADER),
            rate_per_sec=rate_per_sec,
            max_retries=max_retries,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"AlpacaSource(base_url={self.http.base_url!r}, feed={self.feed!r})"

    def close(self) -> None:
        self.http.close()

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, start_ns: int, end_ns: int | None = None
    ) -> Iterator[pd.DataFrame]:
        """Pages of bars with ``start_ns <= ts < end_ns`` (``end_ns`` None: up to the newest
        closed bar), oldest first; one page per Alpaca response."""
        tf = alpaca_timeframe(timeframe)
        tf_ns = timeframe_to_ns(timeframe)
        crypto = "/" in symbol
        if not crypto and not self._has_keys:
            raise ConfigError(
                "alpaca: stock bars need an API key and secret (set TRADEWIND_ALPACA_API_KEY "
                "and TRADEWIND_ALPACA_API_SECRET, or pass api_key/api_secret)"
            )
        stop_ns = end_ns if end_ns is not None else time.time_ns() - tf_ns + 1
        if stop_ns <= start_ns:
            return
        params: dict[str, str] = {
            "timeframe": tf,
            "start": _rfc3339(-(-start_ns // _SECOND)),  # inclusive: round up to a second
            "limit": str(self.limit),
            "sort": "asc",
        }
        if end_ns is not None:  # Alpaca's end is inclusive, ours exclusive
            params["end"] = _rfc3339((end_ns - 1) // _SECOND)
        if crypto:
            path = f"/v1beta3/crypto/{self.crypto_loc}/bars"
            params["symbols"] = symbol
        else:
            path = f"/v2/stocks/{quote(symbol, safe='')}/bars"
            params["adjustment"] = self.adjustment
            if self.feed:
                params["feed"] = self.feed
        last_ns = start_ns - 1
        tokens: set[str] = set()
        while True:
            body = self._get(path, params, symbol)
            raw = _bars_page(body, symbol, crypto)
            page = raw[(raw["ts"] > last_ns) & (raw["ts"] < stop_ns)].reset_index(drop=True)
            if len(page):
                yield page
                last_ns = int(page["ts"].iloc[-1])
            token = body.get("next_page_token")
            if not token or token in tokens or page.empty or int(raw["ts"].iloc[-1]) >= stop_ns:
                return  # done, a repeated token, a page with nothing new, or past the end
            tokens.add(token)
            params["page_token"] = token

    def _get(self, path: str, params: Mapping[str, str], symbol: str) -> dict[str, Any]:
        try:
            body = self.http.get_json(path, params)
        except SourceError as exc:
            raise type(exc)(f"{exc} (symbol {symbol!r})") from None
        if not isinstance(body, dict):
            raise SourceError(f"alpaca: unexpected response for {symbol!r}: {str(body)[:200]}")
        return body


def _bars_page(body: Mapping[str, Any], symbol: str, crypto: bool) -> pd.DataFrame:
    """One response's bars in the page shape (unfiltered)."""
    bars: Any = body.get("bars")
    if crypto and isinstance(bars, dict):
        bars = bars.get(symbol)
    bars = bars or []
    try:
        ts = pd.to_datetime([b["t"] for b in bars], utc=True, format="ISO8601")
        return bars_frame(
            ts.as_unit("ns").asi8,
            [b["o"] for b in bars],
            [b["h"] for b in bars],
            [b["l"] for b in bars],
            [b["c"] for b in bars],
            [b["v"] for b in bars],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(
            f"alpaca: malformed bars for {symbol!r}: {type(exc).__name__}: {exc}"
        ) from None
