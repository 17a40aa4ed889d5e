"""Run vectorized signals through the event-driven engine, with the vectorized engine's rules.

``SignalReplay`` is an ordinary ``Strategy``: it reads one column of precomputed signals bar by
bar and submits the orders the vectorized kernel models (an all-or-fraction market entry sized by
quote currency, a reduce-only market exit, and stop-loss / take-profit / trailing stop orders
linked one-cancels-other once the entry has filled). Running it with ``replay_backtest`` gives
the event-driven engine's answer for the same signals — the parity test compares the two, and it
is how a vectorized strategy's best parameters are checked with the full simulator.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from tradewind.backtest.result import BacktestResult
from tradewind.backtest.runner import Backtest, BacktestConfig
from tradewind.backtest.vector.engine import Bars, Signals, VectorConfig
from tradewind.errors import ConfigError
from tradewind.model.data import Bar
from tradewind.model.enums import (
    BUY,
    LIMIT,
    OCO,
    PERCENT,
    SELL,
    STOP_MARKET,
    TRAILING_STOP,
    AccountType,
)
from tradewind.model.order import Fill, Order
from tradewind.strategy.base import Strategy


def _column(a: Any, n: int, column: int, *, default: bool = False) -> np.ndarray:
    if a is None:
        return np.full(n, default)
    arr = np.asarray(a)
    if arr.ndim == 2:
        arr = arr[:, column if arr.shape[1] > 1 else 0]
    return np.broadcast_to(arr, (n,))


def _scalar(a: Any, column: int) -> float:
    if a is None:
        return math.nan
    arr = np.asarray(a, dtype=np.float64)
    return float(arr if arr.ndim == 0 else arr[column])


class SignalReplay(Strategy):
    """Trade column ``column`` of ``signals`` (see ``vector.kernel`` for the rules)."""

    name = "signal_replay"

    def __init__(self, signals: Signals, n: int, column: int = 0) -> None:
        super().__init__()
        self.le = _column(signals.entries, n, column).astype(bool).tolist()
        self.lx = _column(signals.exits, n, column).astype(bool).tolist()
        self.se = _column(signals.short_entries, n, column).astype(bool).tolist()
        self.sx = _column(signals.short_exits, n, column).astype(bool).tolist()
        size = np.asarray(signals.size, dtype=np.float64)
        if size.ndim == 1 and size.shape[0] != n:  # one size per column
            size = np.asarray(size[column])
        self.size = _column(size, n, column).astype(float).tolist()
        self.sl = _scalar(signals.sl_stop, column)
        self.tp = _scalar(signals.tp_stop, column)
        self.trail = _scalar(signals.trail_stop, column)
        self._entry_id = ""

    def on_bar(self, bar: Bar) -> None:
        i = self.engine.exec_feed[self._primary].cursor
        pf = self.engine.portfolio
        q = pf.qty[self._primary]
        want = 0
        exit_now = False
        if q > 0:
            exit_now, want = (True, -1) if self.se[i] else (self.lx[i], 0)
        elif q < 0:
            exit_now, want = (True, 1) if self.le[i] else (self.sx[i], 0)
        elif self.le[i] and not self.se[i]:
            want = 1
        elif self.se[i] and not self.le[i]:
            want = -1
        if exit_now:
            self.cancel_all()  # the position's stops go with it
            self.close()
        if want:
            budget = self.size[i] * pf.equity()
            if budget > 0:
                side = BUY if want > 0 else SELL
                order = Order(self._primary, side, 0.0, quote_quantity=budget, tag="entry")
                self._entry_id = order.client_order_id
                self.engine.submit(order)

    def on_fill(self, fill: Fill) -> None:
        if fill.client_order_id != self._entry_id:
            return
        long = fill.side is BUY
        px, qty, sym = fill.price, fill.quantity, fill.instrument
        exit_side = SELL if long else BUY
        orders: list[Order] = []
        if not math.isnan(self.sl):
            level = px * (1.0 - self.sl) if long else px * (1.0 + self.sl)
            orders.append(
                Order(sym, exit_side, qty, STOP_MARKET, trigger_price=level, reduce_only=True)
            )
        if not math.isnan(self.tp):
            level = px * (1.0 + self.tp) if long else px * (1.0 - self.tp)
            orders.append(Order(sym, exit_side, qty, LIMIT, price=level, reduce_only=True))
        if not math.isnan(self.trail):
            level = px * (1.0 - self.trail) if long else px * (1.0 + self.trail)
            orders.append(
                Order(
                    sym,
                    exit_side,
                    qty,
                    TRAILING_STOP,
                    trigger_price=level,
                    trailing_offset=self.trail,
                    trailing_offset_type=PERCENT,
                    reduce_only=True,
                )
            )
        if len(orders) > 1:
            for o in orders:
                o.contingency = OCO
                o.linked_ids = tuple(x.client_order_id for x in orders if x is not o)
        for o in orders:
            self.engine.submit(o)


def replay_backtest(
    bars: Bars | pd.DataFrame,
    signals: Signals,
    config: VectorConfig | None = None,
    *,
    column: int = 0,
    symbol: str | None = None,
) -> BacktestResult:
    """The event-driven backtest of one signal column, configured like the vectorized run."""
    cfg = config or VectorConfig()
    cfg.validate()
    b = bars if isinstance(bars, Bars) else Bars(bars)
    if not 0 <= column < signals.columns:
        raise ConfigError(f"column {column} is outside 0..{signals.columns - 1}")
    margin = signals.short_entries is not None
    bt_cfg = BacktestConfig(
        cash=cfg.cash,
        commission=cfg.commission,
        slippage_bps=cfg.slippage_bps,
        fill_at_close=cfg.fill_at_close,
        liquidation_fee=cfg.liquidation_fee,
        account=AccountType.MARGIN if margin else AccountType.CASH,
    )
    strategy = SignalReplay(signals, len(b), column)
    return Backtest({symbol or b.symbol: b.frame()}, strategy, bt_cfg).run()
