"""An independent plain-pandas reference for the built-in ``sma_cross`` strategy.

Written only from the stated rules, without looking at the engine, so that a test can compare
the two. It imports nothing from tradewind.

Rules (long only, all-in sizing, fills at the next bar's open):

- ``fast = close.rolling(fast).mean()``, ``slow = close.rolling(slow).mean()``.
- With ``d = fast - slow``: cross up at bar t when ``d[t] > 0 and d[t-1] <= 0``; cross down when
  ``d[t] < 0 and d[t-1] >= 0``. NaN compares False, so there is no signal during the warm-up.
- Flat and cross up at t: buy ``q = cash / (open[t+1] * (1 + c))`` at ``open[t+1]``, fee
  ``q * open * c``, cash becomes ``cash - q * open - fee``.
- Long and cross down at t: sell all ``q`` at ``open[t+1]``, fee ``q * open * c``, cash becomes
  ``cash + q * open - fee``.
- A fill at ``open[t+1]`` happens before the signal of bar t+1 is evaluated; a signal on the
  last bar has no next bar and no fill.
- Equity at bar i = cash + q * close[i] (state after the fills at bar i's open).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class ReferenceResult:
    trades: pd.DataFrame  # closed round trips
    equity: pd.Series  # per bar, indexed by bar open time (UTC), valued at the bar's close
    final_equity: float
    final_cash: float
    final_quantity: float  # quantity still held at the end (0.0 when flat)


def crossings(close: pd.Series, fast: int, slow: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean arrays (cross_up, cross_down) per bar, from the rolling means of ``close``."""
    diff = close.rolling(fast).mean() - close.rolling(slow).mean()
    prev = diff.shift(1)
    # pandas comparisons with NaN are False, which is exactly the warm-up rule
    up = ((diff > 0) & (prev <= 0)).to_numpy()
    down = ((diff < 0) & (prev >= 0)).to_numpy()
    return up, down


def sma_cross_reference(
    bars: pd.DataFrame,
    fast: int,
    slow: int,
    *,
    cash: float = 100_000.0,
    commission: float = 0.0,
) -> ReferenceResult:
    """Simulate ``sma_cross`` on ``bars`` (columns ts [int64 ns bar open], open, close)."""
    ts = bars["ts"].to_numpy(np.int64)
    opens = bars["open"].to_numpy(np.float64)
    close_arr = bars["close"].to_numpy(np.float64)
    n = len(ts)
    up, down = crossings(pd.Series(close_arr), fast, slow)

    c = float(commission)
    qty = 0.0
    money = float(cash)
    # bar index of each fill and the state (cash, qty) right after it
    fill_bar: list[int] = []
    fill_cash: list[float] = []
    fill_qty: list[float] = []
    trades: list[dict[str, object]] = []
    entry: dict[str, float] = {}

    # only bars with a signal matter; fills land on the next bar, before its own signal
    for t in np.flatnonzero(up | down).tolist():
        if t + 1 >= n:
            break  # a signal on the last bar has no next bar: no fill
        px = float(opens[t + 1])
        if qty == 0.0 and up[t]:
            q = money / (px * (1 + c))
            fee = q * px * c
            money = money - q * px - fee
            qty = q
            entry = {"bar": t + 1, "price": px, "fee": fee, "qty": q}
        elif qty != 0.0 and down[t]:
            q = qty
            fee = q * px * c
            money = money + q * px - fee
            qty = 0.0
            proceeds = q * px - fee
            cost = q * entry["price"] + entry["fee"]
            trades.append(
                {
                    "entry_time": pd.Timestamp(int(ts[int(entry["bar"])]), tz="UTC"),
                    "exit_time": pd.Timestamp(int(ts[t + 1]), tz="UTC"),
                    "side": "long",
                    "quantity": q,
                    "entry_price": entry["price"],
                    "exit_price": px,
                    "fees": entry["fee"] + fee,
                    "pnl": proceeds - cost,
                }
            )
        else:
            continue
        fill_bar.append(t + 1)
        fill_cash.append(money)
        fill_qty.append(qty)

    # per-bar state: a step function that changes at each fill bar (fills happen at the open)
    idx = np.searchsorted(np.asarray(fill_bar, np.int64), np.arange(n), side="right") - 1
    have = idx >= 0
    safe = np.maximum(idx, 0)
    cash_per_bar = np.where(have, np.asarray([*fill_cash, 0.0])[safe], float(cash))
    qty_per_bar = np.where(have, np.asarray([*fill_qty, 0.0])[safe], 0.0)
    equity_arr = cash_per_bar + qty_per_bar * close_arr
    equity = pd.Series(equity_arr, index=pd.to_datetime(ts, utc=True), name="equity")

    columns = [
        "entry_time",
        "exit_time",
        "side",
        "quantity",
        "entry_price",
        "exit_price",
        "fees",
        "pnl",
    ]
    return ReferenceResult(
        trades=pd.DataFrame(trades, columns=columns),
        equity=equity,
        final_equity=money + qty * float(close_arr[-1]) if n else float(cash),
        final_cash=money,
        final_quantity=qty,
    )
