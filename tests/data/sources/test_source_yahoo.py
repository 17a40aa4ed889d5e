"""YahooSource against the local wire server speaking Yahoo's v8 chart shapes.

``GET /v8/finance/chart/{symbol}?period1=&period2=&interval=&includePrePost=false
&events=div,splits`` answers ``{"chart": {"result": [{"meta", "timestamp", "indicators":
{"quote", "adjclose"}}], "error": null}}``; errors are ``{"chart": {"result": null, "error":
{"code", "description"}}}``; HTTP 429 has a plain "Too Many Requests" body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from wire import Reply, Request, WireServer

from tradewind.data.sources.base import OhlcvSource, RateLimited, SourceError
from tradewind.data.sources.yahoo import YahooSource
from tradewind.errors import ConfigError

DAY = 86_400
NS = 1_000_000_000
CHART = "/v8/finance/chart/AAPL"


def utc(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").timestamp())


META = {
    "currency": "USD",
    "symbol": "AAPL",
    "exchangeName": "NMS",
    "instrumentType": "EQUITY",
    "gmtoffset": -18000,
    "timezone": "EST",
    "exchangeTimezoneName": "America/New_York",
    "priceHint": 2,
}


def chart(
    stamps: list[int], quote: dict[str, list[Any]], adjclose: list[Any] | None = None
) -> dict[str, Any]:
    indicators: dict[str, Any] = {"quote": [quote]}
    if adjclose is not None:
        indicators["adjclose"] = [{"adjclose": adjclose}]
    result: dict[str, Any] = {"meta": META, "indicators": indicators}
    if stamps:  # Yahoo leaves "timestamp" out when the range has no data
        result["timestamp"] = stamps
    else:
        result["indicators"] = {"quote": [{}]}
    return {"chart": {"result": [result], "error": None}}


def not_found() -> Reply:
    return Reply(
        404,
        {
            "chart": {
                "result": None,
                "error": {
                    "code": "Not Found",
                    "description": "No data found, symbol may be delisted",
                },
            }
        },
    )


class Yahoo:
    """A fake Yahoo: an equity trading 14:30-21:00 UTC on weekdays. Daily points are stamped
    with the session open (today's with the live time, as Yahoo does); intraday points every
    ``interval``; 2024-01-03 is a row of nulls. Serves points with period1 <= t < period2."""

    def __init__(self, now: int) -> None:
        self.now = now

    def now_ns(self) -> int:
        return self.now * NS

    @staticmethod
    def values(t: int) -> tuple[float, float, float, float, float]:
        i = (t - utc("2024-01-01")) // 60
        o = 180.0 + (i % 1000) / 100
        return o, o + 1.5, o - 0.75, o + 0.25, float(1_000 + i % 500)

    def stamps(self, interval: str, p1: int, p2: int) -> list[int]:
        out: list[int] = []
        day = p1 - p1 % DAY
        while day < min(p2, self.now + 1):
            if pd.Timestamp(day, unit="s").weekday() < 5:
                if interval == "1d":
                    t = day + 14 * 3600 + 1800
                    live = day <= self.now < day + DAY and self.now < day + 21 * 3600
                    out.append(self.now if live and t <= self.now else t)
                else:
                    step = int(interval.removesuffix("m")) * 60
                    out.extend(range(day + 14 * 3600 + 1800, day + 21 * 3600, step))
            day += DAY
        return [t for t in out if p1 <= t < p2 and t <= self.now]

    def handler(self, req: Request) -> Reply:
        p1, p2 = int(req.arg("period1") or 0), int(req.arg("period2") or 0)
        interval = req.arg("interval") or "1d"
        stamps = self.stamps(interval, p1, p2)
        rows = [self.values(t) for t in stamps]
        quote: dict[str, list[Any]] = {
            k: [r[j] for r in rows]
            for j, k in enumerate(["open", "high", "low", "close", "volume"])
        }
        for j, t in enumerate(stamps):
            if pd.Timestamp(t, unit="s").date() == pd.Timestamp("2024-01-03").date():
                for values in quote.values():
                    values[j] = None
        adj = [None if c is None else round(c * 0.98, 6) for c in quote["close"]]
        return Reply(200, chart(stamps, quote, adj if interval == "1d" else None))


@pytest.fixture
def yahoo() -> Yahoo:
    return Yahoo(now=utc("2024-01-10 15:00"))  # a Wednesday, mid-session


@pytest.fixture
def make(wire: WireServer, yahoo: Yahoo, no_sleep: list[float]) -> Callable[..., YahooSource]:
    wire.route(CHART, yahoo.handler)

    def build(**kw: Any) -> YahooSource:
        args: dict[str, Any] = {
            "rate_per_sec": 1000.0,
            "sleep": no_sleep.append,
            "now_ns": yahoo.now_ns,
        }
        args.update(kw)
        return YahooSource(wire.url, **args)

    return build


def collect(pages: Any) -> pd.DataFrame:
    frames = list(pages)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["ts"])


def backoffs(no_sleep: list[float]) -> list[float]:
    """Retry waits (the token bucket's sub-millisecond spacing waits are left out)."""
    return [w for w in no_sleep if w > 0.01]


def test_daily_success(wire: WireServer, make: Callable[..., YahooSource], yahoo: Yahoo) -> None:
    source = make()
    assert isinstance(source, OhlcvSource)
    assert source.name == "yahoo"
    start = utc("2024-01-02") * NS
    pages = list(source.fetch_ohlcv("AAPL", "1d", start))

    assert len(pages) == 1
    bars = pages[0]
    assert bars["ts"].dtype == np.int64
    # trading dates at midnight UTC; the null row (01-03) is dropped; 01-10 is still trading
    assert [pd.Timestamp(t, tz="UTC").strftime("%Y-%m-%d %H:%M") for t in bars["ts"]] == [
        "2024-01-02 00:00",
        "2024-01-04 00:00",
        "2024-01-05 00:00",
        "2024-01-08 00:00",
        "2024-01-09 00:00",
    ]
    o, h, lo, c, v = Yahoo.values(utc("2024-01-04 14:30"))
    assert bars.iloc[1][["open", "high", "low", "close", "volume"]].tolist() == [o, h, lo, c, v]

    (req,) = wire.hits(CHART)
    assert req.method == "GET"
    assert req.arg("interval") == "1d"
    assert req.arg("includePrePost") == "false"
    assert req.arg("events") == "div,splits"
    assert req.arg("period1") == str(utc("2024-01-02") - DAY)  # a day early: stamps are opens
    assert req.arg("period2") == str(yahoo.now + DAY)
    assert "mozilla" in req.headers["user-agent"].lower()


def test_adjusted_scales_ohlc_by_adjclose(make: Callable[..., YahooSource]) -> None:
    raw = collect(make().fetch_ohlcv("AAPL", "1d", utc("2024-01-02") * NS))
    adj = collect(make(adjusted=True).fetch_ohlcv("AAPL", "1d", utc("2024-01-02") * NS))
    assert adj["ts"].tolist() == raw["ts"].tolist()
    factor = adj["close"] / raw["close"]
    np.testing.assert_allclose(factor, 0.98, rtol=1e-6)
    for col in ("open", "high", "low"):
        np.testing.assert_allclose(adj[col], raw[col] * factor, rtol=1e-12)
    assert adj["volume"].tolist() == raw["volume"].tolist()
    with pytest.raises(ConfigError, match=r"adjusted prices exist only for 1d and 1w"):
        list(make(adjusted=True).fetch_ohlcv("AAPL", "5m", utc("2024-01-09") * NS))


def test_daily_resume_asks_from_the_next_date(
    wire: WireServer, make: Callable[..., YahooSource], yahoo: Yahoo
) -> None:
    source = make()
    first = collect(source.fetch_ohlcv("AAPL", "1d", utc("2024-01-02") * NS))
    yahoo.now = utc("2024-01-12 22:00")  # Friday after the close
    resume = int(first["ts"].iloc[-1]) + DAY * NS  # 2024-01-10
    again = collect(source.fetch_ohlcv("AAPL", "1d", resume))

    assert [pd.Timestamp(t, tz="UTC").strftime("%m-%d") for t in again["ts"]] == ["01-10", "01-11"]
    assert wire.hits(CHART)[-1].arg("period1") == str(utc("2024-01-10") - DAY)


def test_intraday_windows_within_yahoo_limits(
    wire: WireServer, make: Callable[..., YahooSource], yahoo: Yahoo
) -> None:
    yahoo.now = utc("2024-03-15 16:00:30")
    source = make()
    pages = list(source.fetch_ohlcv("AAPL", "1m", (yahoo.now - 40 * DAY) * NS))

    hits = wire.hits(CHART)
    p1 = [int(r.arg("period1") or 0) for r in hits]
    p2 = [int(r.arg("period2") or 0) for r in hits]
    assert all(r.arg("interval") == "1m" for r in hits)
    # 1m: only the last 30 days exist, at most 7 days per request
    assert p1[0] == yahoo.now - 30 * DAY + 600
    assert len(hits) == 5
    assert all(b - a <= 7 * DAY for a, b in zip(p1, p2, strict=True))
    assert p1[1:] == p2[:-1]  # contiguous windows
    assert p2[-1] == yahoo.now

    bars = collect(pages)
    ts = bars["ts"].to_numpy()
    assert len(pages) == 5
    assert (np.diff(ts) > 0).all()
    assert ts[0] >= p1[0] * NS
    # 16:00 is still forming at 16:00:30; 15:59 is the newest closed bar
    assert ts[-1] == utc("2024-03-15 15:59") * NS
    assert len(bars) == len(set(ts.tolist()))


def test_intraday_resume_and_lookback(
    wire: WireServer, make: Callable[..., YahooSource], yahoo: Yahoo
) -> None:
    yahoo.now = utc("2024-03-15 16:02")
    source = make()
    first = collect(source.fetch_ohlcv("AAPL", "5m", utc("2024-03-14") * NS))
    assert first["ts"].iloc[-1] == utc("2024-03-15 15:55") * NS
    assert wire.hits(CHART)[0].arg("period1") == str(utc("2024-03-14"))

    yahoo.now = utc("2024-03-15 17:00:01")
    resume = int(first["ts"].iloc[-1]) + 300 * NS
    again = collect(source.fetch_ohlcv("AAPL", "5m", resume))
    last = wire.hits(CHART)[-1]
    assert last.arg("period1") == str(resume // NS)
    assert last.arg("period2") == str(yahoo.now)
    assert again["ts"].iloc[0] == utc("2024-03-15 16:00") * NS
    assert again["ts"].iloc[-1] == utc("2024-03-15 16:55") * NS
    assert len(again) == 12

    # a start older than Yahoo's 60-day reach for 5m bars is moved up to it
    list(source.fetch_ohlcv("AAPL", "5m", utc("2023-01-01") * NS))
    assert wire.hits(CHART)[-1].arg("period1") == str(yahoo.now - 60 * DAY + 600)


def test_end_bound_and_empty_window(
    wire: WireServer, make: Callable[..., YahooSource], yahoo: Yahoo
) -> None:
    source = make()
    bars = collect(
        source.fetch_ohlcv(
            "AAPL", "15m", utc("2024-01-09 15:00") * NS, utc("2024-01-09 16:00") * NS
        )
    )
    assert bars["ts"].tolist() == [
        utc(f"2024-01-09 {t}") * NS for t in ("15:00", "15:15", "15:30", "15:45")
    ]
    # a weekend: Yahoo sends a result without "timestamp"; no page, no error
    assert (
        list(source.fetch_ohlcv("AAPL", "15m", utc("2024-01-06") * NS, utc("2024-01-08") * NS))
        == []
    )
    assert len(wire.hits(CHART)) == 2


def test_unknown_symbol_error_body(wire: WireServer, make: Callable[..., YahooSource]) -> None:
    wire.route("/v8/finance/chart/NOPE", lambda req: not_found())
    with pytest.raises(SourceError) as info:
        list(make().fetch_ohlcv("NOPE", "1d", utc("2024-01-02") * NS))
    text = str(info.value)
    assert text.startswith("yahoo: symbol 'NOPE'")
    assert "HTTP 404" in text
    assert "Not Found: No data found, symbol may be delisted" in text
    assert len(wire.hits("/v8/finance/chart/NOPE")) == 1  # a 404 is not retried


def test_range_refused_and_error_in_200(wire: WireServer, make: Callable[..., YahooSource]) -> None:
    desc = (
        "1m data not available for startTime=1700000000 and endTime=1710000000. "
        "The requested range must be within the last 30 days."
    )
    body = {
        "chart": {"result": None, "error": {"code": "Unprocessable Entity", "description": desc}}
    }
    wire.route(CHART, lambda req: Reply(422, body))
    with pytest.raises(SourceError, match=r"HTTP 422.*Unprocessable Entity: 1m data not available"):
        list(make().fetch_ohlcv("AAPL", "1m", utc("2024-01-09") * NS))
    wire.route(CHART, lambda req: Reply(200, body))
    with pytest.raises(SourceError, match=r"symbol 'AAPL' \(1m\): Unprocessable Entity"):
        list(make().fetch_ohlcv("AAPL", "1m", utc("2024-01-09") * NS))


def test_symbol_is_escaped_in_the_path(
    wire: WireServer, make: Callable[..., YahooSource], yahoo: Yahoo
) -> None:
    wire.route("/v8/finance/chart/%5EGSPC", yahoo.handler)
    bars = collect(make().fetch_ohlcv("^GSPC", "1d", utc("2024-01-08") * NS))
    assert len(bars) == 2
    assert wire.hits("/v8/finance/chart/%5EGSPC")


def test_429_backs_off_then_succeeds(
    wire: WireServer, make: Callable[..., YahooSource], yahoo: Yahoo, no_sleep: list[float]
) -> None:
    wire.sequence(CHART, [Reply(429, "Too Many Requests")], then=yahoo.handler)
    source = make()
    bars = collect(source.fetch_ohlcv("AAPL", "1d", utc("2024-01-02") * NS))
    assert len(bars) == 5
    assert source.http.retries == 1
    (wait,) = backoffs(no_sleep)  # no Retry-After from Yahoo: exponential backoff with jitter
    assert 0.25 <= wait <= 0.5
    hits = wire.hits(CHART)
    assert len(hits) == 2
    assert hits[0].query == hits[1].query


def test_429_retries_exhausted(
    wire: WireServer, make: Callable[..., YahooSource], no_sleep: list[float]
) -> None:
    wire.route(CHART, lambda req: Reply(429, "Too Many Requests"))
    source = make(max_retries=2)
    with pytest.raises(RateLimited, match=r"HTTP 429 .* after 3 attempts: Too Many Requests"):
        list(source.fetch_ohlcv("AAPL", "1d", utc("2024-01-02") * NS))
    assert len(wire.hits(CHART)) == 3
    assert len(backoffs(no_sleep)) == 2


def test_unsupported_timeframe(make: Callable[..., YahooSource]) -> None:
    with pytest.raises(ConfigError, match=r"'4h' is not supported \(supported: 1m, 2m, 5m"):
        list(make().fetch_ohlcv("AAPL", "4h", 0))
    assert repr(make()).startswith("YahooSource('http://127.0.0.1:")
