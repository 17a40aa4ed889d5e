"""AlpacaSource against a local server speaking Alpaca's Market Data wire format."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from wire import Reply, Request, WireServer

from tradewind.data.sources.alpaca import AlpacaSource, alpaca_timeframe
from tradewind.data.sources.base import OhlcvSource, RateLimited, SourceError
from tradewind.errors import ConfigError

KEY = "PKTESTKEY0123456789"
SECRET = "sEcReT-do-not-leak-42"
T0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
NS = 1_000_000_000
MIN = 60 * NS


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ns(dt: datetime) -> int:
    return int(dt.timestamp()) * NS


def _bar(i: int, start: datetime = T0, step: timedelta = timedelta(minutes=1)) -> dict[str, Any]:
    return {
        "t": _iso(start + i * step),
        "o": 100.0 + i,
        "h": 101.5 + i,
        "l": 99.25 + i,
        "c": 100.5 + i,
        "v": 1000 + i,
        "n": 10 + i,
        "vw": 100.4 + i,
    }


def _provider(
    bars: list[dict[str, Any]], symbol: str = "AAPL", crypto: bool = False
) -> Callable[[Request], Reply]:
    """A handler that filters ``bars`` by start/end (inclusive) and pages them by ``limit``
    with an opaque ``next_page_token``, the way Alpaca does."""

    def handler(req: Request) -> Reply:
        start = req.arg("start")
        end = req.arg("end")
        limit = int(req.arg("limit") or 1000)
        chosen = [b for b in bars if (not start or b["t"] >= start) and (not end or b["t"] <= end)]
        token = req.arg("page_token")
        offset = int(base64.b64decode(token).decode()) if token else 0
        page = chosen[offset : offset + limit]
        more = offset + limit < len(chosen)
        next_token = base64.b64encode(str(offset + limit).encode()).decode() if more else None
        if crypto:
            return Reply(200, {"bars": {symbol: page}, "next_page_token": next_token})
        return Reply(200, {"bars": page, "symbol": symbol, "next_page_token": next_token})

    return handler


def _source(wire: WireServer, sleep: Any = None, **kw: Any) -> AlpacaSource:
    return AlpacaSource(
        base_url=wire.url,
        api_key=KEY,
        api_secret=SECRET,
        rate_per_sec=1e6,
        sleep=sleep or (lambda s: None),
        **kw,
    )


def test_timeframe_mapping() -> None:
    assert alpaca_timeframe("1m") == "1Min"
    assert alpaca_timeframe("15m") == "15Min"
    assert alpaca_timeframe("60m") == "1Hour"
    assert alpaca_timeframe("4h") == "4Hour"
    assert alpaca_timeframe("1d") == "1Day"
    assert alpaca_timeframe("1w") == "1Week"
    for bad in ("30s", "2d", "90m", "bogus"):
        with pytest.raises(ConfigError, match=rf"{bad!r}.*1m\.\.59m, 1h\.\.23h, 1d, 1w"):
            alpaca_timeframe(bad)


def test_success_maps_values_and_sends_documented_request(wire: WireServer) -> None:
    wire.route("/v2/stocks/AAPL/bars", _provider([_bar(i) for i in range(3)]))
    src = _source(wire)
    assert isinstance(src, OhlcvSource)
    pages = list(src.fetch_ohlcv("AAPL", "1m", _ns(T0), _ns(T0) + 3 * MIN))
    assert len(pages) == 1
    page = pages[0]
    assert list(page.columns) == ["ts", "open", "high", "low", "close", "volume"]
    assert page["ts"].dtype == "int64"
    assert page["ts"].tolist() == [_ns(T0) + i * MIN for i in range(3)]
    # bar open time: 2024-01-02T14:30:00Z is the first bar, in ns UTC
    assert pd.Timestamp(page["ts"].iloc[0], unit="ns", tz="UTC") == pd.Timestamp(T0)
    assert page.iloc[1][["open", "high", "low", "close", "volume"]].tolist() == [
        101.0,
        102.5,
        100.25,
        101.5,
        1001.0,
    ]
    (req,) = wire.hits("/v2/stocks/AAPL/bars")
    assert req.headers["apca-api-key-id"] == KEY
    assert req.headers["apca-api-secret-key"] == SECRET
    assert req.arg("timeframe") == "1Min"
    assert req.arg("start") == "2024-01-02T14:30:00Z"
    assert req.arg("end") == "2024-01-02T14:32:59Z"  # inclusive end = our exclusive end - 1
    assert req.arg("limit") == "10000"
    assert req.arg("adjustment") == "all"
    assert req.arg("feed") == "iex"
    assert req.arg("sort") == "asc"
    assert req.arg("page_token") is None


def test_end_is_exclusive_and_start_inclusive(wire: WireServer) -> None:
    wire.route("/v2/stocks/AAPL/bars", _provider([_bar(i) for i in range(5)]))
    (page,) = _source(wire).fetch_ohlcv("AAPL", "1m", _ns(T0) + MIN, _ns(T0) + 3 * MIN)
    assert page["ts"].tolist() == [_ns(T0) + MIN, _ns(T0) + 2 * MIN]


def test_pagination_follows_next_page_token_and_resume(wire: WireServer) -> None:
    bars = [_bar(i) for i in range(7)]
    wire.route("/v2/stocks/AAPL/bars", _provider(bars))
    src = _source(wire, limit=3, feed="sip", adjustment="raw")
    pages = list(src.fetch_ohlcv("AAPL", "1m", _ns(T0), _ns(T0) + 5 * MIN))
    assert [len(p) for p in pages] == [3, 2]
    assert pd.concat(pages)["ts"].tolist() == [_ns(T0) + i * MIN for i in range(5)]
    first, second = wire.hits("/v2/stocks/AAPL/bars")
    assert first.arg("page_token") is None
    assert second.arg("page_token") == base64.b64encode(b"3").decode()
    # the other parameters are left unchanged on the next page
    assert second.arg("start") == first.arg("start") == "2024-01-02T14:30:00Z"
    assert second.arg("feed") == "sip"
    assert second.arg("adjustment") == "raw"

    # resume: start at the last stored bar + one bar; only newer bars are asked for and served
    last = int(pages[-1]["ts"].iloc[-1])
    wire.requests.clear()
    newer = list(src.fetch_ohlcv("AAPL", "1m", last + MIN, _ns(T0) + 7 * MIN))
    (req,) = wire.requests
    assert req.arg("start") == "2024-01-02T14:35:00Z"
    assert pd.concat(newer)["ts"].tolist() == [_ns(T0) + 5 * MIN, _ns(T0) + 6 * MIN]


def test_repeated_page_token_stops(wire: WireServer) -> None:
    def handler(req: Request) -> Reply:
        i = 0 if req.arg("page_token") is None else 1
        return Reply(200, {"bars": [_bar(i)], "symbol": "AAPL", "next_page_token": "same"})

    wire.route("/v2/stocks/AAPL/bars", handler)
    pages = list(_source(wire).fetch_ohlcv("AAPL", "1m", _ns(T0), _ns(T0) + 60 * MIN))
    assert [len(p) for p in pages] == [1, 1]
    assert len(wire.requests) == 2


def test_page_with_nothing_new_stops(wire: WireServer) -> None:
    def handler(req: Request) -> Reply:
        token = f"t{len(wire.requests)}"  # a fresh token each time, same bar each time
        return Reply(200, {"bars": [_bar(0)], "symbol": "AAPL", "next_page_token": token})

    wire.route("/v2/stocks/AAPL/bars", handler)
    pages = list(_source(wire).fetch_ohlcv("AAPL", "1m", _ns(T0), _ns(T0) + 60 * MIN))
    assert [len(p) for p in pages] == [1]
    assert len(wire.requests) == 2


def test_no_end_excludes_the_bar_still_forming(wire: WireServer) -> None:
    now_min = (time.time_ns() // MIN) * MIN
    start = now_min - 3 * MIN
    bars = [
        _bar(i, start=datetime.fromtimestamp(start // NS, tz=UTC)) for i in range(4)
    ]  # the last one opens this minute
    wire.route("/v2/stocks/AAPL/bars", _provider(bars))
    pages = list(_source(wire).fetch_ohlcv("AAPL", "1m", start))
    assert pd.concat(pages)["ts"].tolist() == [start, start + MIN, start + 2 * MIN]
    (req,) = wire.requests
    assert req.arg("end") is None


def test_empty_bars_yields_nothing(wire: WireServer) -> None:
    wire.route(
        "/v2/stocks/AAPL/bars",
        lambda r: Reply(200, {"bars": None, "symbol": "AAPL", "next_page_token": None}),
    )
    assert list(_source(wire).fetch_ohlcv("AAPL", "1d", _ns(T0), _ns(T0) + 86400 * NS)) == []


def test_crypto_bars(wire: WireServer) -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    bars = [_bar(i, start=start, step=timedelta(hours=1)) for i in range(5)]
    wire.route("/v1beta3/crypto/us/bars", _provider(bars, symbol="BTC/USD", crypto=True))
    src = AlpacaSource(base_url=wire.url, api_key="", api_secret="", limit=2, rate_per_sec=1e6)
    pages = list(src.fetch_ohlcv("BTC/USD", "1h", _ns(start), _ns(start) + 5 * 3600 * NS))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert pd.concat(pages)["ts"].tolist() == [_ns(start) + i * 3600 * NS for i in range(5)]
    assert pages[0]["close"].tolist() == [100.5, 101.5]
    reqs = wire.hits("/v1beta3/crypto/us/bars")
    assert [r.arg("symbols") for r in reqs] == ["BTC/USD"] * 3
    assert reqs[0].arg("timeframe") == "1Hour"
    assert reqs[0].arg("feed") is None and reqs[0].arg("adjustment") is None
    assert "apca-api-key-id" not in reqs[0].headers  # crypto needs no keys


def test_stock_bars_need_keys(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.delenv("TRADEWIND_ALPACA_API_KEY", raising=False)
    monkeypatch.delenv("TRADEWIND_ALPACA_API_SECRET", raising=False)
    src = AlpacaSource(base_url=wire.url)
    with pytest.raises(ConfigError, match="TRADEWIND_ALPACA_API_KEY"):
        next(src.fetch_ohlcv("AAPL", "1d", 0, NS))
    assert wire.requests == []


def test_keys_read_from_settings(wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_ALPACA_API_KEY", KEY)
    monkeypatch.setenv("TRADEWIND_ALPACA_API_SECRET", SECRET)
    wire.route("/v2/stocks/AAPL/bars", _provider([_bar(0)]))
    src = AlpacaSource(base_url=wire.url, rate_per_sec=1e6)
    list(src.fetch_ohlcv("AAPL", "1m", _ns(T0), _ns(T0) + MIN))
    assert wire.requests[0].headers["apca-api-secret-key"] == SECRET
    assert KEY not in repr(src) and SECRET not in repr(src) and SECRET not in repr(src.http)


def test_error_body_becomes_source_error_without_keys(wire: WireServer) -> None:
    wire.route(
        "/v2/stocks/NOPE/bars",
        lambda r: Reply(404, {"code": 40410000, "message": "asset not found for NOPE"}),
    )
    with pytest.raises(SourceError) as err:
        list(_source(wire).fetch_ohlcv("NOPE", "1d", _ns(T0), _ns(T0) + 86400 * NS))
    text = str(err.value)
    assert not isinstance(err.value, RateLimited)
    assert text.startswith("alpaca:")
    assert "asset not found for NOPE" in text
    assert "'NOPE'" in text
    assert KEY not in text and SECRET not in text


def test_unauthorized(wire: WireServer) -> None:
    wire.route("/v2/stocks/AAPL/bars", lambda r: Reply(403, {"message": "forbidden"}))
    with pytest.raises(SourceError, match=r"alpaca: HTTP 403.*forbidden") as err:
        list(_source(wire).fetch_ohlcv("AAPL", "1d", _ns(T0), _ns(T0) + 86400 * NS))
    assert SECRET not in str(err.value) and KEY not in str(err.value)


def test_429_waits_for_ratelimit_reset_then_succeeds(wire: WireServer) -> None:
    waits: list[float] = []
    reset = int(time.time()) + 30
    wire.sequence(
        "/v2/stocks/AAPL/bars",
        [
            Reply(
                429,
                {"message": "too many requests."},
                {
                    "X-RateLimit-Limit": "200",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(reset),
                },
            )
        ],
        then=_provider([_bar(0), _bar(1)]),
    )
    src = _source(wire, sleep=waits.append)
    (page,) = src.fetch_ohlcv("AAPL", "1m", _ns(T0), _ns(T0) + 2 * MIN)
    assert len(page) == 2
    assert src.http.retries == 1
    assert any(25 <= w <= 31 for w in waits)  # waited until X-RateLimit-Reset
    assert len(wire.requests) == 2


def test_429_exhausted_retries_raise_rate_limited(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(
        "/v2/stocks/AAPL/bars",
        lambda r: Reply(429, {"message": "too many requests."}, {"X-RateLimit-Reset": "1"}),
    )
    src = _source(wire, sleep=no_sleep.append, max_retries=2)
    with pytest.raises(RateLimited, match="too many requests") as err:
        list(src.fetch_ohlcv("AAPL", "1m", _ns(T0), _ns(T0) + MIN))
    assert len(wire.requests) == 3
    assert src.http.retries == 2
    assert KEY not in str(err.value) and SECRET not in str(err.value)


def test_empty_window_makes_no_request(wire: WireServer) -> None:
    assert list(_source(wire).fetch_ohlcv("AAPL", "1m", _ns(T0), _ns(T0))) == []
    assert wire.requests == []
