"""A TradingNode on Binance (the stand-in) through ccxt: a strategy's orders reach the exchange,
fills are stored once, and a restart adopts what happened while the node was down — an order
placed by another client and a fill of the node's own resting order."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tradewind.live.config import NodeConfig
from tradewind.live.live_node import LiveNode
from tradewind.model.data import Bar
from tradewind.store import Store
from tradewind.store.models import DiscrepancyRow, FillRow, OrderRow
from tradewind.strategy import Strategy
from tradewind.testing.binance_standin import DEFAULT_KEY, DEFAULT_SECRET, BinanceStandin
from tradewind.testing.live import run_for_bars, start_and_close


class RestAndBuy(Strategy):
    """A resting limit buy 2 % below the market on the first live bar, a market buy on the
    second."""

    qty: float = 0.01

    def on_start(self) -> None:
        self.n = 0

    def on_bar(self, bar: Bar) -> None:
        self.n += 1
        if self.n == 1:
            self.buy(self.qty, price=round(bar.close * 0.98, 2))
        elif self.n == 2:
            self.buy(self.qty)


class Candles:
    """Writes a 1-second kline at the stand-in's current price, like an exchange does."""

    def __init__(self, ex: BinanceStandin, price: float) -> None:
        self.ex, self.price = ex, price
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            open_ms = time.time_ns() // 1_000_000 // 1000 * 1000
            p = self.price
            self.ex.add_candle("BTCUSDT", [open_ms, p, p, p, p, 1.0])
            self._stop.wait(0.05)

    def __enter__(self) -> Candles:
        now_ms = time.time_ns() // 1_000_000 // 1000 * 1000
        history = [[now_ms - k * 1000, self.price, self.price, self.price, self.price, 1.0]
                   for k in range(30, 0, -1)]  # fmt: skip
        self.ex.set_candles("BTCUSDT", history, interval="1s")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def exchange() -> Iterator[BinanceStandin]:
    from tradewind.testing.binance_standin import SymbolSpec

    with BinanceStandin(
        [SymbolSpec("BTC", "USDT")], balances={"USDT": "10000"}, streams=False
    ) as ex:
        yield ex


def config(ex: BinanceStandin) -> NodeConfig:
    return NodeConfig.model_validate(
        {
            "id": "bin-node",
            "cash": 2_000,
            "on_stop": "keep",
            "strategies": [{"id": "rb", "strategy": f"{__name__}:RestAndBuy"}],
            "venue": {
                "kind": "ccxt",
                "exchange": "binance",
                "symbol": "BTC/USDT",
                "timeframe": "1s",
                "warmup": 10,
                "urls": ex.ccxt_urls(),
                "poll_interval": 0.05,
                "reconcile_every": 1.0,
            },
        }
    )


def test_node_trades_and_restart_adopts_what_happened_while_down(
    exchange: BinanceStandin, tmp_path: object, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("TRADEWIND_CCXT_API_KEY", DEFAULT_KEY)
    monkeypatch.setenv("TRADEWIND_CCXT_SECRET", DEFAULT_SECRET)
    store = Store(sqlite_url)
    store.migrate()
    ex = exchange
    with Candles(ex, 50_000.0) as candles:
        node = LiveNode(config(ex), store)
        asyncio.run(run_for_bars(node, 3, timeout=30))
        assert node.discrepancies == []
        with store.session() as s:
            orders = {o.type: o for o in s.scalars(select(OrderRow))}
            fills = list(s.scalars(select(FillRow)))
        assert orders["limit"].status == "accepted" and orders["market"].status == "filled"
        assert len(fills) == 1 and fills[0].client_order_id == orders["market"].client_order_id
        limit_cid = orders["limit"].client_order_id
        # the exchange has exactly the node's two orders, under the node's client order ids
        assert {o.client_order_id for o in ex.orders()} == {
            o.client_order_id for o in orders.values()
        }

        # while the node is down: the market falls through the resting limit (it fills), and
        # someone places an order by hand
        candles.price = 48_000.0
        ex.set_price("BTCUSDT", "48000")
        manual = ex.place_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
            quantity="0.002", price="40000", newClientOrderId="by-hand-1",
        )  # fmt: skip

        again = LiveNode(config(ex), store)

        asyncio.run(start_and_close(again))
    assert again.discrepancies == []
    trader = again.traders["rb"]
    oms = trader.engine.oms
    assert oms.orders[limit_cid].status.value == "filled"  # the fill while down was applied
    adopted = oms.orders["by-hand-1"]
    assert adopted.status.value == "accepted" and adopted.tag == "adopted"
    assert adopted.venue_order_id == str(manual.order_id)
    with store.session() as s:
        fills = list(s.scalars(select(FillRow).order_by(FillRow.ts)))
        rows = {o.client_order_id: o for o in s.scalars(select(OrderRow))}
        assert s.scalar(select(DiscrepancyRow)) is None
    assert [f.client_order_id for f in fills].count(limit_cid) == 1
    assert rows["by-hand-1"].status == "accepted" and rows[limit_cid].status == "filled"
    # the node's position is what the exchange's trades say the account received (bought, less
    # the commission Binance takes in the asset bought) — and what the exchange holds
    trades = [t for t in ex.trades() if t.side == "BUY"]
    got = sum(t.qty - (t.commission if t.commission_asset == "BTC" else 0) for t in trades)
    assert trader.engine.portfolio.qty["BTC/USDT"] == pytest.approx(float(got), abs=1e-12)
    assert float(ex.book.free("BTC")) == pytest.approx(float(got), abs=1e-12)
    store.dispose()
