"""CcxtSource against a real ccxt ``binance`` instance pointed at the local wire server.

The server speaks Binance spot's documented shapes: ``GET /api/v3/exchangeInfo`` (one
``BTCUSDT`` symbol), ``GET /api/v3/klines`` (arrays ``[openTime, "open", "high", "low",
"close", "volume", closeTime, ...]``, bars with ``openTime >= startTime``, at most ``limit``
(default 500, max 1000), including the still-forming newest bar), the error body
``{"code": -1121, "msg": "Invalid symbol."}`` and HTTP 429 with ``Retry-After`` and
``x-mbx-used-weight-1m``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from wire import Reply, Request, WireServer

from tradewind.data.sources.base import OhlcvSource, RateLimited, SourceError
from tradewind.data.sources.ccxt_source import CcxtSource
from tradewind.errors import ConfigError

H_MS = 3_600_000
T0_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC
NS = 1_000_000  # ns per ms

EXCHANGE_INFO: dict[str, Any] = {
    "timezone": "UTC",
    "serverTime": T0_MS,
    "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
    ],
    "exchangeFilters": [],
    "symbols": [
        {
            "symbol": "BTCUSDT",
            "status": "TRADING",
            "baseAsset": "BTC",
            "baseAssetPrecision": 8,
            "quoteAsset": "USDT",
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": True,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": "0.01000000",
                    "maxPrice": "1000000.00000000",
                    "tickSize": "0.01000000",
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": "0.00001000",
                    "maxQty": "9000.00000000",
                    "stepSize": "0.00001000",
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT", "MARGIN"]],
        }
    ],
}


def kline(open_ms: int) -> list[Any]:
    """One Binance kline; prices derive from the bar index so every bar is distinct."""
    i = (open_ms - T0_MS) // H_MS
    o = 42_000.0 + i
    return [
        open_ms,
        f"{o:.8f}",
        f"{o + 10.5:.8f}",
        f"{o - 5.25:.8f}",
        f"{o + 2.0:.8f}",
        f"{1.5 + i:.8f}",
        open_ms + H_MS - 1,
        "63000.00000000",
        120,
        "0.70000000",
        "29400.00000000",
        "0",
    ]


class Binance:
    """A fake Binance spot market: hourly bars from T0 up to (and including the forming) bar at
    ``now_ms``; ``/api/v3/klines`` serves them like the real endpoint."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def klines(self, req: Request) -> Reply:
        if req.arg("symbol") != "BTCUSDT":
            return Reply(400, {"code": -1121, "msg": "Invalid symbol."})
        assert req.arg("interval") == "1h"
        limit = min(int(req.arg("limit") or 500), 1000)
        start = int(req.arg("startTime") or T0_MS)
        first = max(T0_MS, -(-start // H_MS) * H_MS)
        bars = [kline(t) for t in range(first, self.now_ms + 1, H_MS)][:limit]
        return Reply(200, bars, {"x-mbx-used-weight-1m": "7"})

    def now_ns(self) -> int:
        return self.now_ms * NS


@pytest.fixture
def market() -> Binance:
    return Binance(now_ms=T0_MS + 2 * H_MS + 30 * 60_000)  # 02:30: bars 00:00, 01:00 closed


@pytest.fixture
def make(wire: WireServer, market: Binance, no_sleep: list[float]) -> Callable[..., CcxtSource]:
    wire.route("/api/v3/exchangeInfo", lambda req: Reply(200, EXCHANGE_INFO))
    wire.route("/api/v3/klines", market.klines)

    def build(**kw: Any) -> CcxtSource:
        args: dict[str, Any] = {
            "base_url": wire.url,
            "options": {"fetchMarkets": {"types": ["spot"]}},
            "rate_per_sec": 1000.0,
            "backoff_base": 0.25,
            "sleep": no_sleep.append,
            "now_ns": market.now_ns,
        }
        args.update(kw)
        return CcxtSource("binance", **args)

    return build


def collect(pages: Any) -> pd.DataFrame:
    frames = list(pages)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def test_success_maps_klines_and_drops_forming_bar(
    wire: WireServer, make: Callable[..., CcxtSource]
) -> None:
    source = make()
    assert isinstance(source, OhlcvSource)
    assert source.name == "ccxt"
    pages = list(source.fetch_ohlcv("BTC/USDT", "1h", T0_MS * NS))

    assert len(pages) == 1
    bars = pages[0]
    assert list(bars.columns) == ["ts", "open", "high", "low", "close", "volume"]
    assert bars["ts"].dtype == np.int64
    # 00:00 and 01:00 are closed; 02:00 is still forming at 02:30 and is left out
    assert bars["ts"].tolist() == [T0_MS * NS, (T0_MS + H_MS) * NS]
    assert pd.Timestamp(int(bars["ts"].iloc[0]), tz="UTC") == pd.Timestamp(
        "2024-01-01 00:00", tz="UTC"
    )
    assert bars.iloc[1][["open", "high", "low", "close", "volume"]].tolist() == [
        42_001.0,
        42_011.5,
        41_995.75,
        42_003.0,
        2.5,
    ]

    # load_markets asked only the spot exchangeInfo endpoint, once
    assert [r.path for r in wire.requests] == ["/api/v3/exchangeInfo", "/api/v3/klines"]
    req = wire.hits("/api/v3/klines")[0]
    assert req.method == "GET"
    assert req.arg("symbol") == "BTCUSDT"
    assert req.arg("interval") == "1h"
    assert req.arg("startTime") == str(T0_MS)
    assert req.arg("limit") == "2"  # only the closed bars that can exist are asked for


def test_pagination_follows_since_and_limit(
    wire: WireServer, make: Callable[..., CcxtSource], market: Binance
) -> None:
    market.now_ms = T0_MS + 2_500 * H_MS + 1  # 2500 closed bars, the 2501st forming
    source = make()
    pages = list(source.fetch_ohlcv("BTC/USDT", "1h", T0_MS * NS))

    assert [len(p) for p in pages] == [1000, 1000, 500]  # Binance spot's page size is 1000
    ts = collect(pages)["ts"].to_numpy()
    assert ts.tolist() == [(T0_MS + i * H_MS) * NS for i in range(2_500)]
    hits = wire.hits("/api/v3/klines")
    assert [r.arg("startTime") for r in hits] == [
        str(T0_MS),
        str(T0_MS + 1_000 * H_MS),
        str(T0_MS + 2_000 * H_MS),
    ]
    assert [r.arg("limit") for r in hits] == ["1000", "1000", "500"]


def test_explicit_page_size_and_end_bound(
    wire: WireServer, make: Callable[..., CcxtSource], market: Binance
) -> None:
    market.now_ms = T0_MS + 100 * H_MS
    source = make(limit=10)
    start, end = T0_MS + 5 * H_MS, T0_MS + 32 * H_MS
    bars = collect(source.fetch_ohlcv("BTC/USDT", "1h", start * NS, end * NS))

    assert bars["ts"].iloc[0] == start * NS
    assert bars["ts"].iloc[-1] == (end - H_MS) * NS  # end is exclusive
    assert len(bars) == 27
    hits = wire.hits("/api/v3/klines")
    assert [r.arg("limit") for r in hits] == ["10", "10", "7"]


def test_resume_fetches_only_newer_bars(
    wire: WireServer, make: Callable[..., CcxtSource], market: Binance
) -> None:
    market.now_ms = T0_MS + 5 * H_MS
    source = make()
    first = collect(source.fetch_ohlcv("BTC/USDT", "1h", T0_MS * NS))
    assert len(first) == 5

    market.now_ms = T0_MS + 9 * H_MS + 1  # four more bars closed since
    resume = int(first["ts"].iloc[-1]) + H_MS * NS
    again = collect(source.fetch_ohlcv("BTC/USDT", "1h", resume))

    assert again["ts"].tolist() == [(T0_MS + i * H_MS) * NS for i in range(5, 9)]
    last = wire.hits("/api/v3/klines")[-1]
    assert last.arg("startTime") == str(T0_MS + 5 * H_MS)
    assert len(wire.hits("/api/v3/exchangeInfo")) == 1  # markets are cached

    # nothing new: no request at all
    before = len(wire.requests)
    assert list(source.fetch_ohlcv("BTC/USDT", "1h", (T0_MS + 9 * H_MS) * NS)) == []
    assert len(wire.requests) == before


def test_unknown_symbol_is_named(wire: WireServer, make: Callable[..., CcxtSource]) -> None:
    with pytest.raises(SourceError, match=r"binance has no market 'DOGE/EUR'"):
        list(make().fetch_ohlcv("DOGE/EUR", "1h", T0_MS * NS))
    assert wire.hits("/api/v3/klines") == []


def test_invalid_symbol_error_body(wire: WireServer, make: Callable[..., CcxtSource]) -> None:
    # the market is listed but the klines endpoint answers Binance's -1121 error body
    wire.route("/api/v3/klines", lambda req: Reply(400, {"code": -1121, "msg": "Invalid symbol."}))
    with pytest.raises(SourceError) as info:
        list(make().fetch_ohlcv("BTC/USDT", "1h", T0_MS * NS))
    text = str(info.value)
    assert text.startswith("ccxt: binance")
    assert "'BTC/USDT'" in text
    assert "Invalid symbol." in text


def test_exchange_error_message(wire: WireServer, make: Callable[..., CcxtSource]) -> None:
    msg = "Invalid interval."
    wire.route("/api/v3/klines", lambda req: Reply(400, {"code": -1120, "msg": msg}))
    with pytest.raises(
        SourceError, match=r"ccxt: binance error for 'BTC/USDT'.*Invalid interval\."
    ):
        list(make().fetch_ohlcv("BTC/USDT", "1h", T0_MS * NS))


@pytest.mark.parametrize("status", [429, 418])
def test_rate_limited_waits_retry_after_then_succeeds(
    wire: WireServer,
    make: Callable[..., CcxtSource],
    market: Binance,
    no_sleep: list[float],
    status: int,
) -> None:
    limited = Reply(
        status,
        {"code": -1003, "msg": "Too much request weight used; current limit is 6000."},
        {"Retry-After": "7", "x-mbx-used-weight-1m": "6012"},
    )
    wire.sequence("/api/v3/klines", [limited], then=market.klines)
    source = make()
    bars = collect(source.fetch_ohlcv("BTC/USDT", "1h", T0_MS * NS))

    assert len(bars) == 2
    assert no_sleep == [7.0]
    assert source.retries == 1
    hits = wire.hits("/api/v3/klines")
    assert len(hits) == 2
    assert hits[0].query == hits[1].query  # the same request, repeated


def test_rate_limit_retries_exhausted(
    wire: WireServer, make: Callable[..., CcxtSource], no_sleep: list[float]
) -> None:
    wire.route(
        "/api/v3/klines",
        lambda req: Reply(
            429,
            {"code": -1003, "msg": "Too much request weight used; current limit is 6000."},
            {"Retry-After": "3", "x-mbx-used-weight-1m": "6100"},
        ),
    )
    source = make(max_retries=2)
    with pytest.raises(RateLimited, match=r"after 3 attempts.*Too much request weight"):
        list(source.fetch_ohlcv("BTC/USDT", "1h", T0_MS * NS))
    assert no_sleep == [3.0, 3.0]
    assert len(wire.hits("/api/v3/klines")) == 3


def test_network_errors_back_off_then_fail(
    wire: WireServer, make: Callable[..., CcxtSource], no_sleep: list[float]
) -> None:
    wire.route("/api/v3/klines", lambda req: Reply(503, "Service Unavailable"))
    source = make(max_retries=3)
    with pytest.raises(SourceError, match=r"unreachable for 'BTC/USDT' after 4 attempts") as info:
        list(source.fetch_ohlcv("BTC/USDT", "1h", T0_MS * NS))
    assert not isinstance(info.value, RateLimited)
    assert no_sleep == [0.25, 0.5, 1.0]
    assert len(wire.hits("/api/v3/klines")) == 4


def test_network_error_recovers(
    wire: WireServer, make: Callable[..., CcxtSource], market: Binance, no_sleep: list[float]
) -> None:
    wire.sequence("/api/v3/klines", [Reply(502, "Bad Gateway")], then=market.klines)
    bars = collect(make().fetch_ohlcv("BTC/USDT", "1h", T0_MS * NS))
    assert len(bars) == 2
    assert no_sleep == [0.25]


def test_unsupported_timeframe_lists_supported(make: Callable[..., CcxtSource]) -> None:
    with pytest.raises(ConfigError, match=r"'7m'.*supported: 1s, 1m, 3m, 5m, 15m"):
        list(make().fetch_ohlcv("BTC/USDT", "7m", T0_MS * NS))


def test_configuration(make: Callable[..., CcxtSource], wire: WireServer) -> None:
    source = make()
    assert source.exchange.enableRateLimit is True
    assert source.exchange.rateLimit == 1.0  # 1000 / rate_per_sec ms between requests
    assert source.exchange.urls["api"]["public"] == wire.url + "/api/v3"
    assert repr(source) == "CcxtSource('binance')"
    with pytest.raises(ConfigError, match=r"unknown exchange 'nosuchexchange'"):
        CcxtSource("nosuchexchange")
