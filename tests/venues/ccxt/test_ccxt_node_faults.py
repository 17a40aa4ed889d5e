"""Faults while a node trades on the Binance stand-in: after each one (and a restart), the
exchange's orders and trades and the node's stored orders, fills and position agree — no order
twice, no fill lost."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from sqlalchemy import select

from tradewind.live.config import NodeConfig
from tradewind.live.live_node import LiveNode
from tradewind.model.data import Bar
from tradewind.store import Store
from tradewind.store.models import FillRow, OrderRow
from tradewind.strategy import Strategy
from tradewind.testing.binance_standin import (
    DEFAULT_KEY,
    DEFAULT_SECRET,
    BinanceStandin,
    SymbolSpec,
)
from tradewind.testing.live import run_for_bars, start_and_close

ORDER = "/api/v3/order"


class Alternate(Strategy):
    """Buy 0.01 BTC on odd live bars, sell it on even ones (four orders)."""

    def on_start(self) -> None:
        self.n = 0

    def on_bar(self, bar: Bar) -> None:
        self.n += 1
        if self.n <= 4:
            (self.buy if self.n % 2 else self.sell)(0.01)


@pytest.fixture
def ex() -> Iterator[BinanceStandin]:
    with BinanceStandin(
        [SymbolSpec("BTC", "USDT")], balances={"USDT": "10000", "BTC": "0.05"}, streams=False
    ) as standin:
        stop = threading.Event()

        def candles() -> None:  # a 1-second kline at 50,000, as the exchange would print
            while not stop.is_set():
                open_ms = time.time_ns() // 1_000_000 // 1000 * 1000
                standin.add_candle("BTCUSDT", [open_ms, 50000, 50000, 50000, 50000, 1])
                stop.wait(0.05)

        standin.set_candles("BTCUSDT", [], interval="1s")
        thread = threading.Thread(target=candles, daemon=True)
        thread.start()
        yield standin
        stop.set()
        thread.join()


def config(ex: BinanceStandin) -> NodeConfig:
    return NodeConfig.model_validate(
        {
            "id": "faulty",
            "cash": 2_000,
            "strategies": [{"id": "alt", "strategy": f"{__name__}:Alternate"}],
            "venue": {
                "kind": "ccxt", "exchange": "binance", "symbol": "BTC/USDT",
                "timeframe": "1s", "warmup": 0, "urls": ex.ccxt_urls(),
                "poll_interval": 0.05, "reconcile_every": 0.5, "timeout": 1.0,
            },
        }
    )  # fmt: skip


FAULTS: dict[str, Callable[[BinanceStandin], None]] = {
    "timeout after the exchange accepted": lambda ex: ex.hang_next(ORDER, delay=3.0),
    "connection dropped after accepting": lambda ex: ex.drop_next(ORDER),
    "429 with Retry-After": lambda ex: ex.fail_next(ORDER, 429, method="POST", retry_after=1),
    "503 before the exchange saw it": lambda ex: ex.fail_next(ORDER, 503, method="POST"),
    "418 IP ban": lambda ex: ex.fail_next(ORDER, 418, method="POST", retry_after=600),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_after_a_fault_the_exchange_and_the_store_agree(
    fault: str, ex: BinanceStandin, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("TRADEWIND_CCXT_API_KEY", DEFAULT_KEY)
    monkeypatch.setenv("TRADEWIND_CCXT_SECRET", DEFAULT_SECRET)
    store = Store(sqlite_url)
    store.migrate()
    FAULTS[fault](ex)  # the node's first order meets it
    node = LiveNode(config(ex), store)
    asyncio.run(run_for_bars(node, 6, timeout=40, settle=1.5))
    again = LiveNode(config(ex), store)  # a restart reconciles whatever was still unsettled

    asyncio.run(start_and_close(again))

    with store.session() as s:
        orders = {o.client_order_id: o for o in s.scalars(select(OrderRow))}
        fills = list(s.scalars(select(FillRow)))
    at_exchange = {o.client_order_id: o for o in ex.orders()}
    # no order twice, and every order the exchange has is the node's, settled the same way
    assert len(ex.orders()) == len(at_exchange)
    assert set(at_exchange) <= set(orders)
    for cid, row in orders.items():
        if cid in at_exchange:
            assert row.status == "filled", (fault, cid, row.status, row.reason)
            assert row.filled_qty == pytest.approx(float(at_exchange[cid].executed))
        else:  # never reached the exchange: closed as such, nothing traded
            assert row.status == "rejected", (fault, cid, row.status)
            assert row.filled_qty == 0
    assert len(orders) == 4
    assert len(at_exchange) >= 3  # only the faulted order may be lost, never the others
    # every exchange trade stored once, and the position is what the trades moved
    trades = ex.trades()
    assert sorted(f.fill_id for f in fills) == sorted(str(t.trade_id) for t in trades)
    moved = sum(
        ((t.qty - (t.commission if t.commission_asset == "BTC" else 0)) * (1 if t.side == "BUY"
         else -1) for t in trades),
        Decimal(0),
    )  # fmt: skip
    assert again.traders["alt"].engine.portfolio.qty["BTC/USDT"] == pytest.approx(float(moved))
    assert float(ex.book.free("BTC")) - 0.05 == pytest.approx(float(moved), abs=1e-12)
    assert again.discrepancies == []
    store.dispose()
