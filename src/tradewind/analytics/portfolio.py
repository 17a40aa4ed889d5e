"""Portfolio analytics: where PnL and exposure came from (per instrument, per strategy), and how
strategies move together.

Attribution per instrument rebuilds each instrument's PnL over time from its fills and its
marked position value, so the instruments' PnL add up to the portfolio's (apart from cash
movements that belong to no fill, such as perpetual funding, reported as ``pnl:other``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tradewind.errors import ConfigError

__all__ = ["attribution", "combine_strategies", "strategy_correlation"]


def attribution(
    frame: pd.DataFrame,
    fills: pd.DataFrame,
    initial_equity: float,
    multipliers: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """PnL and exposure over time per instrument.

    ``frame``: the per-bar result frame (``equity`` and ``value:SYM`` columns, UTC index);
    ``fills``: one row per fill with ``instrument, side, quantity, price, fee, time``.
    Returns, per instrument, ``pnl:SYM`` (cash flows of its fills up to each bar plus its
    marked position value: realized + unrealized, net of fees), ``exposure:SYM`` (position value
    / equity), and ``pnl:other`` = total PnL − Σ instrument PnL (funding and other cash).
    For margin-settled instruments (whose ``value:SYM`` is unrealized PnL) pass their
    multiplier; cash flows then exclude the notional.
    """
    symbols = [c.split(":", 1)[1] for c in frame.columns if c.startswith("value:")]
    if "equity" not in frame.columns:
        raise ConfigError("attribution needs the result frame with an 'equity' column")
    settled = set(multipliers or {})
    out: dict[str, np.ndarray] = {}
    bar_ns = pd.DatetimeIndex(frame.index).as_unit("ns").asi8
    total = np.zeros(len(frame))
    for sym in symbols:
        mine = fills[fills["instrument"] == sym]
        mult = (multipliers or {}).get(sym, 1.0)
        signed = np.where(mine["side"].to_numpy() == "buy", 1.0, -1.0) * mine["quantity"].to_numpy()
        fee = mine["fee"].to_numpy(np.float64)
        notional = signed * mine["price"].to_numpy(np.float64) * mult
        flow = -fee if sym in settled else -notional - fee
        when = (
            pd.DatetimeIndex(mine["time"]).as_unit("ns").asi8
            if len(mine)
            else np.empty(0, np.int64)
        )
        # a fill belongs to the bar it happened in (fills are stamped with a bar's open time)
        at = np.searchsorted(bar_ns, when, side="right") - 1
        cum = np.cumsum(np.bincount(np.maximum(at, 0), weights=flow, minlength=len(frame)))
        pnl = cum + frame[f"value:{sym}"].to_numpy(np.float64)
        out[f"pnl:{sym}"] = pnl
        total += pnl
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"exposure:{sym}"] = frame[f"value:{sym}"].to_numpy(np.float64) / frame[
                "equity"
            ].to_numpy(np.float64)
    out["pnl:other"] = frame["equity"].to_numpy(np.float64) - initial_equity - total
    return pd.DataFrame(out, index=frame.index)


def combine_strategies(curves: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Equity of several strategies on one time axis (each carried forward between its own
    points) plus their ``total``; PnL per strategy is each column minus its first value."""
    if not curves:
        raise ConfigError("no equity curves given")
    frame = pd.concat(curves, axis=1).sort_index().ffill()
    first = frame.bfill().iloc[0]
    frame = frame.fillna(first)  # before a strategy starts it holds its starting equity
    frame["total"] = frame.sum(axis=1)
    return frame


def strategy_correlation(curves: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Correlation matrix of the strategies' per-period returns on a common time axis."""
    equity = combine_strategies(curves).drop(columns="total")
    if len(equity) < 3:
        raise ConfigError("need at least 3 common points to correlate strategies")
    return equity.pct_change().iloc[1:].corr()
