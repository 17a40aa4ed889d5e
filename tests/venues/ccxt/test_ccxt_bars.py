"""``bars``: closed candles only, back-fill, recovery after errors, staleness warnings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tradewind.model.data import Bar
from tradewind.testing.binance_standin import BinanceStandin
from tradewind.venues.ccxt import CcxtVenue

M = 60_000  # ms per minute
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


async def next_or_none(task: asyncio.Task[Bar], wait: float = 0.25) -> Bar | None:
    done, _ = await asyncio.wait({task}, timeout=wait)
    return task.result() if done else None


def pull(it: AsyncIterator[Bar]) -> asyncio.Task[Bar]:
    async def one() -> Bar:
        return await anext(it)

    return asyncio.ensure_future(one())


def test_only_closed_bars_oldest_first_with_backfill(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    standin.set_candles("BTCUSDT", [candle(0), candle(1), candle(2)])
    clock = Clock(T0 + 2 * M + 30_000)  # 00:02:30, bar 2 is forming

    async def go() -> list[Bar]:
        venue = make_venue(now_ns=clock, poll_interval=0.02)
        got: list[Bar] = []
        try:
            it = venue.bars("BTC/USDT", "1m", since_ns=T0 * NS)
            got.append(await anext(it))
            got.append(await anext(it))
            task = pull(it)
            assert await next_or_none(task) is None  # bar 2 has not closed
            standin.add_candle("BTCUSDT", candle(2, close=150.0))  # bar 2 still updating
            assert await next_or_none(task) is None
            clock.ms = T0 + 3 * M + 1  # bar 2 ended, no newer candle yet
            bar = await next_or_none(task, 2.0)
            assert bar is not None
            got.append(bar)
            standin.add_candle("BTCUSDT", candle(3))
            standin.add_candle("BTCUSDT", candle(4))  # a newer candle started: 3 is closed
            got.append(await asyncio.wait_for(anext(it), 2.0))
            assert await next_or_none(pull(it)) is None  # 4 is forming at 00:03
        finally:
            await venue.close()
        return got

    got = asyncio.run(go())
    assert [b.ts for b in got] == [(T0 + i * M) * NS for i in range(4)]
    assert got[0] == Bar("BTC/USDT", "1m", T0 * NS, 100.0, 102.0, 99.0, 101.0, 10.0)
    assert got[2].close == 150.0


def test_starts_with_the_forming_bar_and_survives_errors(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin, caplog: pytest.LogCaptureFixture
) -> None:
    standin.set_candles("BTCUSDT", [candle(0), candle(1), candle(2)])
    clock = Clock(T0 + 2 * M + 10_000)

    async def go() -> Bar:
        venue = make_venue(now_ns=clock, poll_interval=0.02, max_retries=1)
        try:
            it = venue.bars("BTC/USDT", "1m")  # no back-fill: bars 0 and 1 are history
            task = pull(it)
            assert await next_or_none(task) is None
            standin.fail_next("/api/v3/klines", 502, count=6)  # several failed polls
            clock.ms = T0 + 3 * M
            standin.add_candle("BTCUSDT", candle(3))
            return await asyncio.wait_for(task, 3.0)
        finally:
            await venue.close()

    with caplog.at_level(logging.WARNING, logger="tradewind.venues.ccxt"):
        bar = asyncio.run(go())
    assert bar.ts == (T0 + 2 * M) * NS
    assert any("candles BTC/USDT 1m" in r.getMessage() for r in caplog.records)


def test_staleness_is_detected(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin, caplog: pytest.LogCaptureFixture
) -> None:
    standin.set_candles("BTCUSDT", [candle(0)])
    clock = Clock(T0 + 30_000)

    async def go() -> None:
        venue = make_venue(now_ns=clock, poll_interval=0.02, stale_bars=2)
        try:
            task = pull(venue.bars("BTC/USDT", "1m"))
            assert await next_or_none(task, 0.1) is None
            clock.ms = T0 + 10 * M  # nothing new for 10 minutes... but bar 0 closed
            first = await asyncio.wait_for(task, 2.0)
            assert first.ts == T0 * NS
            task = pull(venue.bars("BTC/USDT", "1m", since_ns=(T0 + M) * NS))
            assert await next_or_none(task, 0.1) is None  # polling, nothing after bar 0
            clock.ms = T0 + 20 * M  # and still nothing 19 minutes later
            assert await next_or_none(task, 0.2) is None
        finally:
            await venue.close()

    with caplog.at_level(logging.WARNING, logger="tradewind.venues.ccxt"):
        asyncio.run(go())
    assert any("no new 1m candle for BTC/USDT" in r.getMessage() for r in caplog.records)
