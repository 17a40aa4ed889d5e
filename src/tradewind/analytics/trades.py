"""Trade statistics from closed round trips, exposure and turnover.

Inputs are per-trade values (``pnl`` net of fees, or R-multiples) as an array, list or Series;
NaN values are dropped. Everything returns a Python ``float`` (or ``int``) or ``None`` when the
statistic is undefined.

- :func:`win_rate` = share of trades with ``pnl > 0`` (break-even trades are not wins);
- :func:`profit_factor` = gross profit / gross loss: **0.0 when every trade loses**, ``None``
  when no trade loses (division by zero) or there are no trades;
- :func:`average_win` = mean pnl of winners; :func:`average_loss` = mean pnl of losers (a
  negative number); :func:`payoff_ratio` = ``average_win / |average_loss|``;
- :func:`expectancy` = mean pnl per trade (= ``W * avg_win - L * |avg_loss|`` with ``W`` / ``L``
  the shares of winning / losing trades);
- :func:`sqn` = Van Tharp's System Quality Number ``sqrt(n) * mean(x) / std(x, ddof=1)`` of the
  values passed: pass R-multiples (pnl / initial risk) for Tharp's definition, or pnl (what
  :func:`tradewind.analytics.full_metrics` uses, since a round trip does not record its initial
  risk). Not capped at n = 100;
- :func:`kelly_fraction` = ``W - (1 - W) / R`` with ``W`` the win rate and ``R`` the payoff
  ratio; None without at least one winner and one loser;
- :func:`exposure_time` = fraction of bars with a non-zero position (a DataFrame of positions
  counts a bar when any column is non-zero; NaN counts as flat);
  :func:`exposure_from_trades` = fraction of timestamps ``t`` inside some trade,
  ``entry_time <= t < exit_time``;
- :func:`turnover` = total traded notional / average equity over the whole period (not
  annualised); :func:`traded_notional` = ``quantity * (entry_price + exit_price)`` summed over
  round trips (both legs, contract multiplier 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from tradewind.analytics._common import num
from tradewind.errors import ConfigError

__all__ = [
    "average_loss",
    "average_win",
    "expectancy",
    "exposure_from_trades",
    "exposure_time",
    "kelly_fraction",
    "payoff_ratio",
    "profit_factor",
    "sqn",
    "traded_notional",
    "turnover",
    "win_rate",
]

ValuesLike = np.ndarray | pd.Series | Sequence[float]


def _values(values: ValuesLike) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ConfigError(f"trade values must be 1-D, got shape {arr.shape}")
    ok = ~np.isnan(arr)
    return arr if bool(ok.all()) else arr[ok]


def win_rate(pnl: ValuesLike) -> float | None:
    """Share of trades with pnl > 0; None without trades."""
    x = _values(pnl)
    return num(np.mean(x > 0)) if len(x) else None


def profit_factor(pnl: ValuesLike) -> float | None:
    """Gross profit / gross loss; 0.0 if all trades lose, None if none loses."""
    x = _values(pnl)
    loss = -float(x[x < 0].sum())
    if not loss > 0:
        return None
    return num(float(x[x > 0].sum()) / loss)


def average_win(pnl: ValuesLike) -> float | None:
    """Mean pnl of the winning trades; None without winners."""
    x = _values(pnl)
    wins = x[x > 0]
    return num(wins.mean()) if len(wins) else None


def average_loss(pnl: ValuesLike) -> float | None:
    """Mean pnl of the losing trades (negative); None without losers."""
    x = _values(pnl)
    losses = x[x < 0]
    return num(losses.mean()) if len(losses) else None


def payoff_ratio(pnl: ValuesLike) -> float | None:
    """``average_win / |average_loss|``; None without winners or losers."""
    w, lo = average_win(pnl), average_loss(pnl)
    return None if w is None or lo is None else num(w / abs(lo))


def expectancy(pnl: ValuesLike) -> float | None:
    """Mean pnl per trade; None without trades."""
    x = _values(pnl)
    return num(x.mean()) if len(x) else None


def sqn(values: ValuesLike) -> float | None:
    """``sqrt(n) * mean / std(ddof=1)``; None with fewer than 2 trades or zero std."""
    x = _values(values)
    if len(x) < 2:
        return None
    std = float(np.std(x, ddof=1))
    if not std > 1e-15 * max(1.0, abs(float(x.mean()))):
        return None
    return num(math.sqrt(len(x)) * float(x.mean()) / std)


def kelly_fraction(pnl: ValuesLike) -> float | None:
    """``W - (1 - W) / R``; None without at least one winner and one loser."""
    w, r = win_rate(pnl), payoff_ratio(pnl)
    if w is None or r is None:
        return None
    return num(w - (1.0 - w) / r)


def exposure_time(positions: pd.Series | pd.DataFrame | np.ndarray) -> float | None:
    """Fraction of bars holding a non-zero position; None for no bars."""
    arr = np.asarray(positions, dtype=np.float64)
    if arr.ndim == 0 or arr.ndim > 2:
        raise ConfigError(f"positions must be 1-D or 2-D, got shape {arr.shape}")
    if len(arr) == 0:
        return None
    held = np.nan_to_num(arr, nan=0.0) != 0.0
    if held.ndim == 2:
        held = held.any(axis=1)
    return num(held.mean())


def _ns(values: pd.DatetimeIndex | pd.Series | np.ndarray | Sequence[object]) -> np.ndarray:
    idx = pd.DatetimeIndex(pd.to_datetime(values, utc=True))  # type: ignore[arg-type]
    return idx.as_unit("ns").asi8


def exposure_from_trades(
    index: pd.DatetimeIndex,
    entry_times: pd.Series | np.ndarray | Sequence[object],
    exit_times: pd.Series | np.ndarray | Sequence[object],
) -> float | None:
    """Fraction of the timestamps in ``index`` with ``entry <= t < exit`` for some trade.

    Overlapping trades count once. None for an empty index.
    """
    if len(index) == 0:
        return None
    ts = _ns(index)
    entries, exits = _ns(entry_times), _ns(exit_times)
    if len(entries) != len(exits):
        raise ConfigError("entry_times and exit_times must have the same length")
    if len(entries) == 0:
        return 0.0
    # +1 at the first bar >= entry, -1 at the first bar >= exit; open trades where sum > 0.
    delta = np.zeros(len(ts) + 1, dtype=np.int64)
    np.add.at(delta, np.searchsorted(ts, entries, side="left"), 1)
    np.add.at(delta, np.searchsorted(ts, exits, side="left"), -1)
    open_count = np.cumsum(delta[:-1])
    return num(np.mean(open_count > 0))


def traded_notional(trades: pd.DataFrame) -> float | None:
    """``sum(quantity * (entry_price + exit_price))``; None without those columns."""
    cols = ("quantity", "entry_price", "exit_price")
    if not all(c in trades.columns for c in cols):
        return None
    qty = np.abs(trades["quantity"].to_numpy(dtype=np.float64))
    px = trades["entry_price"].to_numpy(dtype=np.float64) + trades["exit_price"].to_numpy(
        dtype=np.float64
    )
    return num(np.nansum(qty * np.abs(px)))


def turnover(notional: float | ValuesLike, equity: ValuesLike) -> float | None:
    """Total traded notional / mean equity (not annualised); None if equity is empty or <= 0."""
    eq = _values(equity)
    if len(eq) == 0:
        return None
    avg = float(eq.mean())
    if not avg > 0:
        return None
    total = float(np.nansum(np.abs(np.asarray(notional, dtype=np.float64))))
    return num(total / avg)
