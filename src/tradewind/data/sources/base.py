"""What every market-data source shares: the page format, the HTTP client, errors, secrets.

A source turns one provider's wire format into pages of bars in one shape (``bars_frame``):
``ts`` (int64 ns since epoch, UTC, the bar's *open* time) and float64 ``open high low close
volume``, ascending, no duplicates. Everything else (catalog writes, resuming, merging) is done
by the caller on that shape, so a new source is only its request/response mapping.

``HttpClient`` is the one way sources talk HTTP: a token-bucket rate limit, retries on HTTP 429
and 5xx that honour ``Retry-After`` / ``x-ratelimit-reset`` (else exponential backoff with
jitter), and errors that name the source, the URL and the provider's message — with every
secret (API keys in headers or query parameters) replaced by ``***``.
"""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx
import numpy as np
import pandas as pd

from tradewind.errors import DataError

COLUMNS = ("ts", "open", "high", "low", "close", "volume")


class SourceError(DataError):
    """A data source failed: unreachable, an error body, bad credentials, or exhausted retries."""


class RateLimited(SourceError):
    """The provider kept answering HTTP 429 after every retry."""


@runtime_checkable
class OhlcvSource(Protocol):
    """A provider of historical candles."""

    name: str

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, start_ns: int, end_ns: int | None = None
    ) -> Iterator[pd.DataFrame]:
        """Yield pages of bars (``bars_frame`` shape) with ``start_ns <= ts < end_ns``
        (``end_ns`` None: up to the newest closed bar), oldest page first."""
        ...


@dataclass(frozen=True)
class PriceQuote:
    """A latest price from a price feed (Jupiter Price v3, Pyth Hermes)."""

    id: str  # the provider's id: a mint address, a Pyth feed id
    price: float
    ts_ns: int | None = None  # publish time when the provider gives one
    confidence: float | None = None  # Pyth's ± interval, in price units
    extra: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class PriceSource(Protocol):
    """A provider of latest prices."""

    name: str

    def latest_prices(self, ids: list[str]) -> dict[str, PriceQuote]:
        """Latest price per requested id; ids the provider does not know are left out."""
        ...


def bars_frame(
    ts_ns: Any, open_: Any, high: Any, low: Any, close: Any, volume: Any
) -> pd.DataFrame:
    """The page shape: int64 ns ``ts`` + float64 OHLCV, sorted by ``ts``, duplicates dropped
    (keeping the last: a provider's re-sent newest bar is its most complete version)."""
    frame = pd.DataFrame(
        {
            "ts": np.asarray(ts_ns, dtype=np.int64),
            "open": np.asarray(open_, dtype=np.float64),
            "high": np.asarray(high, dtype=np.float64),
            "low": np.asarray(low, dtype=np.float64),
            "close": np.asarray(close, dtype=np.float64),
            "volume": np.asarray(volume, dtype=np.float64),
        }
    )
    frame = frame.drop_duplicates("ts", keep="last").sort_values("ts", kind="stable")
    return frame.reset_index(drop=True)


def empty_bars() -> pd.DataFrame:
    return bars_frame([], [], [], [], [], [])


def redact(text: str, secrets: Mapping[str, str] | list[str] | tuple[str, ...]) -> str:
    """``text`` with every secret value replaced by ``***``."""
    values = secrets.values() if isinstance(secrets, Mapping) else secrets
    for value in values:
        if value:
            text = text.replace(value, "***")
    return text


class TokenBucket:
    """At most ``rate`` requests per second on average, bursts up to ``burst``."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = float(rate)
        self.burst = max(1.0, float(burst))
        self._tokens = self.burst
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens < 1.0:
                wait = (1.0 - self._tokens) / self.rate
                self._sleep(wait)
                self._last = self._clock()
                self._tokens = 0.0
            else:
                self._tokens -= 1.0


class HasHeaders(Protocol):
    """An HTTP response of any client (httpx, httpx2): only its headers are read."""

    @property
    def headers(self) -> Mapping[str, str]: ...


def retry_delay(response: HasHeaders, attempt: int, base: float, cap: float) -> float:
    """Seconds to wait before retrying ``response``: the provider's ``Retry-After`` (seconds
    or an HTTP date) or ``x-ratelimit-reset`` (unix seconds, or seconds from now when small)
    when present, else exponential backoff with full jitter."""
    headers = response.headers
    retry_after = headers.get("retry-after")
    if retry_after:
        try:
            return min(cap, max(0.0, float(retry_after)))
        except ValueError:
            when = email.utils.parsedate_to_datetime(retry_after)
            if when is not None:
                return min(cap, max(0.0, when.timestamp() - time.time()))
    reset = headers.get("x-ratelimit-reset") or headers.get("x-rate-limit-reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            value = -1.0
        if value > 1e9:  # an absolute unix time (seconds, or ms when huge)
            value = value / 1000.0 if value > 1e12 else value
            return min(cap, max(0.0, value - time.time()))
        if value >= 0:
            return min(cap, value)
    return min(cap, base * (1 << attempt)) * random.uniform(0.5, 1.0)


class HttpClient:
    """JSON over HTTP for one source, with rate limiting, retries and redacted errors.

    ``secrets`` are header names and query-parameter names whose values must never appear in
    an error, a log line or a repr (they are still sent, of course).
    """

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        secrets: tuple[str, ...] = (),
        rate_per_sec: float = 5.0,
        burst: float = 1.0,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 60.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers or {})
        self._params = dict(params or {})
        secret_names = {s.lower() for s in secrets}
        self._secret_values = [
            v for k, v in {**self._headers, **self._params}.items() if k.lower() in secret_names
        ]
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self.bucket = TokenBucket(rate_per_sec, burst, sleep=sleep)
        self.retries = 0  # how many retries this client made (for reports and tests)
        self._client = httpx.Client(timeout=timeout, headers=self._headers, transport=transport)

    def __repr__(self) -> str:
        return f"HttpClient({self.source!r}, {self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``base_url + path`` and decode JSON; retry 429/5xx/transport errors."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        query = {**self._params, **(params or {})}
        attempt = 0
        while True:
            self.bucket.take()
            try:
                response = self._client.get(url, params=query)
            except httpx.HTTPError as exc:
                if attempt >= self.max_retries:
                    raise SourceError(
                        f"{self.source}: {self._safe(url)} unreachable after {attempt + 1} "
                        f"attempts: {self._safe(str(exc)) or type(exc).__name__}"
                    ) from None
                self._wait(min(self.backoff_cap, self.backoff_base * 2**attempt))
                attempt += 1
                continue
            status = response.status_code
            if status == 429 or status >= 500:
                if attempt >= self.max_retries:
                    kind = RateLimited if status == 429 else SourceError
                    raise kind(
                        f"{self.source}: HTTP {status} from {self._safe(str(response.url))} "
                        f"after {attempt + 1} attempts: {self._message(response)}"
                    )
                self._wait(retry_delay(response, attempt, self.backoff_base, self.backoff_cap))
                attempt += 1
                continue
            if status >= 400:
                raise SourceError(
                    f"{self.source}: HTTP {status} from {self._safe(str(response.url))}: "
                    f"{self._message(response)}"
                )
            try:
                return response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise SourceError(
                    f"{self.source}: {self._safe(str(response.url))} did not return JSON: "
                    f"{self._safe(response.text[:200])!r}"
                ) from None

    def _wait(self, seconds: float) -> None:
        self.retries += 1
        self._sleep(seconds)

    def _safe(self, text: str) -> str:
        return redact(text, self._secret_values)

    def _message(self, response: httpx.Response) -> str:
        """The provider's own error text when the body has one, else the start of the body."""
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return self._safe(response.text[:300].strip()) or response.reason_phrase
        if isinstance(body, dict):
            for key in ("message", "msg", "error", "errors", "detail", "Error Message", "status"):
                if body.get(key):
                    value = body[key]
                    text = value if isinstance(value, str) else json.dumps(value)[:300]
                    return self._safe(text)
        return self._safe(json.dumps(body)[:300])
