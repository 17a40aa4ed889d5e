"""Shared helpers for the simulated-venue tests (imported as ``from simkit import ...``; pytest's
default "prepend" import mode puts this folder on ``sys.path``).

* ``bars(rows)`` builds a daily OHLCV frame starting 2024-01-01 00:00 UTC (daily, not minute
  bars: the result's CAGR overflows on minute-long profitable runs, see test_orders.py).
* ``Scripted`` is a strategy that runs ``script[i](self)`` when bar ``i`` closes (and
  ``ticks[n](self)`` on the n-th quote/trade tick) and records every callback.
* ``run(...)`` runs a backtest and checks the accounting identity on every bar.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tradewind.backtest.result import BacktestResult
from tradewind.backtest.runner import Backtest, BacktestConfig
from tradewind.model.data import Bar, QuoteTick, TradeTick
from tradewind.model.instrument import Instrument
from tradewind.model.order import Fill, Order
from tradewind.strategy.base import Strategy

DAY = 86_400_000_000_000  # one day in ns
T0 = pd.Timestamp("2024-01-01", tz="UTC").value
SYM = "BTCUSD"  # guessed as a spot pair quoted in USD, no rounding

Action = Callable[["Scripted"], object]


def bars(
    rows: Sequence[Sequence[float]],
    *,
    start: int = T0,
    step: int = DAY,
    volume: float = 1_000.0,
) -> pd.DataFrame:
    """Rows of (open, high, low, close[, volume]); bar i opens at ``start + i * step``."""
    out = []
    for r in rows:
        o, h, lo, c = (float(x) for x in r[:4])
        assert lo <= min(o, c) and h >= max(o, c), f"bad bar {r}"
        out.append((o, h, lo, c, float(r[4]) if len(r) > 4 else volume))
    frame = pd.DataFrame(out, columns=["open", "high", "low", "close", "volume"])
    frame.insert(0, "ts", start + np.arange(len(rows), dtype=np.int64) * step)
    return frame


def at(i: int, *, start: int = T0, step: int = DAY) -> int:
    """Open time of bar ``i`` (what fills inside that bar are stamped with)."""
    return start + i * step


class Scripted(Strategy):
    """Submits scripted orders and records what the engine reports back."""

    def __init__(
        self,
        script: Mapping[int, Action] | None = None,
        ticks: Mapping[int, Action] | None = None,
    ) -> None:
        super().__init__()
        self.script = dict(script or {})
        self.tick_script = dict(ticks or {})
        self.refs: dict[str, Order] = {}
        self.updates: list[tuple[str, str, str]] = []  # (client id, status, reason)
        self.fills: list[Fill] = []
        self.seen_equity: list[float] = []
        self.notes: list[Any] = []  # free-form observations made by script actions
        self.n_ticks = 0

    def keep(self, name: str, order: Order | None) -> Order | None:
        """Remember an order under a name (returns it, for use inside lambdas)."""
        assert order is not None, f"order {name!r} was not created"
        self.refs[name] = order
        return order

    def keep_all(self, names: Sequence[str], orders: Sequence[Order] | None) -> None:
        assert orders is not None
        for name, order in zip(names, orders, strict=True):
            self.refs[name] = order

    def on_bar(self, bar: Bar) -> None:
        if bar.instrument != self.instrument:
            return  # the script follows the primary (first) instrument's bars
        self.seen_equity.append(self.equity)
        act = self.script.get(len(self.history()) - 1)
        if act is not None:
            act(self)

    def _tick(self) -> None:
        act = self.tick_script.get(self.n_ticks)
        self.n_ticks += 1
        if act is not None:
            act(self)

    def on_quote(self, quote: QuoteTick) -> None:
        self._tick()

    def on_trade(self, trade: TradeTick) -> None:
        self._tick()

    def on_order(self, order: Order) -> None:
        self.updates.append((order.client_order_id, order.status.value, order.reason))

    def on_fill(self, fill: Fill) -> None:
        self.fills.append(fill)

    # --- reading what happened ------------------------------------------------------------

    def statuses(self, name: str) -> list[str]:
        cid = self.refs[name].client_order_id
        return [s for i, s, _ in self.updates if i == cid]

    def fills_of(self, name: str) -> list[Fill]:
        cid = self.refs[name].client_order_id
        return [f for f in self.fills if f.client_order_id == cid]


def check_identity(
    result: BacktestResult, strat: Scripted | None = None, *, last_seen: bool = True
) -> None:
    """equity == cash + position_value on every bar (1e-9 relative), Σ fill fees == total_fees,
    and, unless market orders fill at the close (after ``on_bar``), the equity the strategy saw
    in ``on_bar`` equals the rebuilt curve (``last_seen=False``: except on the last bar, where
    funding due at the last close is paid after the final ``on_bar``)."""
    f = result.frame
    eq = f["equity"].to_numpy()
    np.testing.assert_allclose(
        eq, (f["cash"] + f["position_value"]).to_numpy(), rtol=1e-9, atol=1e-9
    )
    value_cols = [c for c in f.columns if c.startswith("value:")]
    np.testing.assert_allclose(
        f["position_value"].to_numpy(), f[value_cols].sum(axis=1).to_numpy(), rtol=1e-9, atol=1e-9
    )
    # every fill's fee adds up to the reported total
    fees = float(result.fills["fee"].sum()) if len(result.fills) else 0.0
    assert abs(fees - result.metrics["total_fees"]) <= 1e-9 * max(1.0, abs(fees))
    at_open = result.settings["market_orders_fill_at"] == "next bar's open"
    if strat is not None and strat.seen_equity and at_open:
        n = len(eq) if last_seen else len(eq) - 1
        np.testing.assert_allclose(eq[:n], strat.seen_equity[:n], rtol=1e-9, atol=1e-9)


def run(
    data: pd.DataFrame | Mapping[str, pd.DataFrame] | None,
    script: Mapping[int, Action] | None = None,
    *,
    ticks: Mapping[int, Action] | None = None,
    instruments: Mapping[str, Instrument] | None = None,
    quotes: Mapping[str, pd.DataFrame] | None = None,
    trades: Mapping[str, pd.DataFrame] | None = None,
    funding: Mapping[str, pd.DataFrame] | None = None,
    **config: Any,
) -> tuple[BacktestResult, Scripted]:
    """Run ``Scripted(script, ticks)`` on ``data`` (a frame means {SYM: frame})."""
    if isinstance(data, pd.DataFrame):
        data = {SYM: data}
    strat = Scripted(script, ticks)
    result = Backtest(
        data or {},
        strat,
        BacktestConfig(**config),
        instruments=instruments,
        quotes=quotes,
        trades=trades,
        funding=funding,
    ).run()
    check_identity(result, strat, last_seen=not funding)
    return result, strat


def order_row(result: BacktestResult, order: Order) -> dict[str, Any]:
    """The result's record of one order."""
    rows = [o for o in result.orders if o["client_order_id"] == order.client_order_id]
    assert len(rows) == 1
    return rows[0]
