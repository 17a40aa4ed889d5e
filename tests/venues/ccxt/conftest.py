"""Fixtures: a Binance stand-in on 127.0.0.1 and real ccxt ``CcxtVenue`` s pointed at it.

The stand-in lists spot BTCUSDT (tick 0.01, step 0.00001, min notional 5) and ETHUSDT, and the
USD-M perpetual BTCUSDT (tick 0.10, step 0.001); mids 50000 / 3000, synthetic liquidity of
1 unit per level, levels 0.01 % apart (best ask 50005.00, best bid 49995.00 for BTC).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tradewind.testing.binance_standin import (
    DEFAULT_KEY,
    DEFAULT_SECRET,
    BinanceStandin,
    SymbolSpec,
)
from tradewind.venues.base import VenueFill, VenueOrder
from tradewind.venues.ccxt import CcxtVenue

SYMBOLS = [
    SymbolSpec("BTC", "USDT"),
    SymbolSpec("ETH", "USDT", price="3000", step_size="0.0001", min_qty="0.0001"),
    SymbolSpec(
        "BTC", "USDT", market="futures", tick_size="0.10", step_size="0.001", min_qty="0.001"
    ),
]


class Recorder:
    """A ``VenueReports`` that keeps everything it is told."""

    def __init__(self) -> None:
        self.orders: list[VenueOrder] = []
        self.fills: list[VenueFill] = []

    def on_order(self, report: VenueOrder) -> None:
        self.orders.append(report)

    def on_fill(self, fill: VenueFill) -> None:
        self.fills.append(fill)


@pytest.fixture
def standin() -> Iterator[BinanceStandin]:
    with BinanceStandin(
        SYMBOLS, balances={"USDT": "10000", "BTC": "0.5"}, futures_balance="5000"
    ) as ex:
        yield ex


@pytest.fixture
def make_venue(standin: BinanceStandin) -> Callable[..., CcxtVenue]:
    """Build a venue inside the running event loop (ccxt's aiohttp session binds to it)."""

    def make(market: str = "spot", **kw: Any) -> CcxtVenue:
        args: dict[str, Any] = {
            "market": market,
            "api_key": DEFAULT_KEY,
            "secret": DEFAULT_SECRET,
            "urls": standin.ccxt_urls(),
            "timeout": 2.0,
            "poll_interval": 0.05,
            "backoff_base": 0.01,
            "backoff_cap": 5.0,
            "rate_limit_ms": 1.0,  # ccxt's throttle would space requests by their weight
        }
        args.update(kw)
        return CcxtVenue("binance", **args)

    return make


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
