"""Replay-paper parity: the same strategy on the same data makes the same orders and fills in a
backtest and on the TradingNode (replay feed, paper venue), read back from the database."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from live_helpers import make_bars
from sqlalchemy import select

from tradewind.backtest.runner import run_backtest
from tradewind.live import NodeConfig, StrategyConfig, TradingNode, VenueConfig
from tradewind.store import Store
from tradewind.store.models import FillRow, OrderRow

CASES = [
    ("sma_cross", {"fast": 5, "slow": 20}),
    ("grid", {"levels": 5, "step_pct": 0.4}),
    ("donchian_breakout", {"entry": 20, "exit": 10}),
    ("rsi_reversion", {}),
]


@pytest.mark.parametrize(("name", "params"), CASES, ids=[c[0] for c in CASES])
def test_node_orders_and_fills_equal_the_backtest(
    sqlite_url: str, name: str, params: dict[str, Any]
) -> None:
    df = make_bars(2000, seed=3)
    bt = run_backtest({"BTCUSDT": df}, name, params, cash=10_000, commission=0.001,
                      slippage_bps=2.0)  # fmt: skip
    store = Store(sqlite_url)
    store.migrate()
    cfg = NodeConfig(
        id="parity",
        strategies=[StrategyConfig(id="s", strategy=name, params=params)],
        venue=VenueConfig(commission=0.001, slippage_bps=2.0),
        cash=10_000,
    )
    status = asyncio.run(TradingNode(cfg, store, data={"BTCUSDT": df}).run())
    assert status.state == "finished"
    with store.session() as s:
        fills = [
            (f.side, f.quantity, f.price, f.fee, f.ts, f.liquidity)
            for f in s.scalars(select(FillRow).order_by(FillRow.id))
        ]
        orders = [
            (o.side, o.type, o.quantity, o.price, o.status, o.filled_qty, o.avg_price, o.ts_init)
            for o in s.scalars(select(OrderRow).order_by(OrderRow.seq))
        ]
    expected_fills = [
        (f.side.value, f.quantity, f.price, f.fee, f.ts, f.liquidity.value) for f in bt.fill_log
    ]
    expected_orders = [
        (o.side.value, o.type.value, o.quantity, o.price, o.status.value, o.filled_qty,
         o.avg_price, o.ts_init)
        for o in bt.order_log
    ]  # fmt: skip
    assert len(expected_fills) > 5
    assert fills == expected_fills
    assert orders == expected_orders
    assert status.traders["s"]["equity"] == pytest.approx(bt.final_equity, rel=1e-12)
    store.dispose()
