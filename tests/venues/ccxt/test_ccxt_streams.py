"""``bars`` over ccxt.pro ``watch_ohlcv`` against the stand-in's Binance kline streams."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from tradewind.model.data import Bar
from tradewind.testing.binance_standin import BinanceStandin
from tradewind.venues.ccxt import CcxtVenue

M = 60_000
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
NS = 1_000_000


def candle(i: int, close: float | None = None) -> list[Any]:
    o = 100.0 + i
    return [T0 + i * M, o, o + 2, o - 1, close if close is not None else o + 1, 10 + i]


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms * NS


async def until(check: Callable[[], bool], wait: float = 3.0) -> None:
    for _ in range(int(wait / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


def klines_fetched(standin: BinanceStandin) -> int:
    return len(standin.seen("GET", "/api/v3/klines"))


def test_closed_bars_come_from_the_stream(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    streams = standin.streams
    assert streams is not None
    standin.set_candles("BTCUSDT", [candle(0)])
    clock = Clock(T0 + 30_000)

    async def go() -> list[Bar]:
        venue = make_venue(now_ns=clock, poll_interval=0.05)
        try:
            it = venue.bars("BTC/USDT", "1m")
            first = asyncio.ensure_future(anext(it))
            await until(lambda: any(streams.subscriptions.values()))
            rest_before = klines_fetched(standin)
            standin.add_candle("BTCUSDT", candle(0, close=120.0))  # bar 0 updates, forming
            await asyncio.sleep(0.2)
            assert not first.done()
            clock.ms = T0 + M + 1_000
            standin.add_candle("BTCUSDT", candle(1))  # a newer candle: bar 0 is closed
            got = [await asyncio.wait_for(first, 3.0)]
            clock.ms = T0 + 2 * M + 1_000
            standin.add_candle("BTCUSDT", candle(2))
            got.append(await asyncio.wait_for(anext(it), 3.0))
            assert klines_fetched(standin) == rest_before  # no REST once streaming
            return got
        finally:
            await venue.close()

    got = asyncio.run(go())
    assert [b.ts for b in got] == [T0 * NS, (T0 + M) * NS]
    assert got[0].close == 120.0
    assert streams.received[0] == {"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m"], "id": 1}


def test_disconnect_resubscribes_and_backfills_missed_bars(
    make_venue: Callable[..., CcxtVenue],
    standin: BinanceStandin,
    caplog: pytest.LogCaptureFixture,
) -> None:
    streams = standin.streams
    assert streams is not None
    standin.set_candles("BTCUSDT", [candle(0)])
    clock = Clock(T0 + 30_000)

    async def go() -> list[Bar]:
        venue = make_venue(now_ns=clock, poll_interval=0.05)
        try:
            it = venue.bars("BTC/USDT", "1m")
            first = asyncio.ensure_future(anext(it))
            await until(lambda: any(streams.subscriptions.values()))
            streams.drop_all()
            standin.book.add_candle("BTCUSDT", candle(1))  # missed while disconnected
            standin.book.add_candle("BTCUSDT", candle(2))
            clock.ms = T0 + 2 * M + 10_000
            got = [await asyncio.wait_for(first, 3.0), await asyncio.wait_for(anext(it), 3.0)]
            third = asyncio.ensure_future(anext(it))  # keeps the generator running
            await until(lambda: streams.connections == 2 and any(streams.subscriptions.values()))
            clock.ms = T0 + 3 * M + 1_000
            standin.add_candle("BTCUSDT", candle(3))  # over the new subscription
            got.append(await asyncio.wait_for(third, 3.0))
            return got
        finally:
            await venue.close()

    with caplog.at_level(logging.WARNING, logger="tradewind.venues.ccxt"):
        got = asyncio.run(go())
    assert [b.ts for b in got] == [(T0 + i * M) * NS for i in range(3)]
    assert any("candle stream BTC/USDT 1m" in r.getMessage() for r in caplog.records)
    subscribes = [m for m in streams.received if m.get("method") == "SUBSCRIBE"]
    assert len(subscribes) == 2 and all(m["params"] == ["btcusdt@kline_1m"] for m in subscribes)


def test_websocket_off_polls_rest_only(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    streams = standin.streams
    assert streams is not None
    standin.set_candles("BTCUSDT", [candle(0), candle(1)])
    clock = Clock(T0 + M + 1_000)

    async def go() -> Bar:
        venue = make_venue(now_ns=clock, poll_interval=0.02, websocket=False)
        try:
            return await asyncio.wait_for(anext(venue.bars("BTC/USDT", "1m", T0 * NS)), 3.0)
        finally:
            await venue.close()

    assert asyncio.run(go()).ts == T0 * NS
    assert streams.connections == 0


def test_local_rest_urls_without_a_stream_url_never_stream_from_the_real_exchange(
    standin: BinanceStandin,
) -> None:
    rest_only = {k: v for k, v in standin.ccxt_urls().items() if k != "ws"}
    assert CcxtVenue("binance", urls=rest_only).websocket is False
    assert CcxtVenue("binance", urls=standin.ccxt_urls()).websocket is True
    assert CcxtVenue("binance").websocket is True
