"""Rolling (trailing-window) Sharpe ratio, volatility and drawdown.

``window`` is a number of periods (returns). NaN/inf returns are dropped first (a Series keeps
the index of the remaining returns). The output has one value per return: NaN during the
warm-up (the first ``window - 1`` values) and, for the Sharpe ratio, where the window's returns
do not vary (zero std), so the series stays aligned with its input; it is a Series when the
input is a Series, else a numpy array.

- :func:`rolling_volatility` = ``std(window, ddof=1) * sqrt(ppy)``;
- :func:`rolling_sharpe` = ``mean(window - rf) / std(window, ddof=1) * sqrt(ppy)`` with ``rf``
  the per-period rate of the *annual* ``risk_free``;
- :func:`rolling_drawdown` = the drawdown against the trailing peak, ``W_t / max(W_{t-window},
  ..., W_t) - 1`` where ``W`` is cumulative wealth with the anchor ``W_0 = 1`` (so the peak is
  searched over the wealth before the window's first return too); defined from the first value.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tradewind.analytics._common import ReturnsLike, resolve_ppy
from tradewind.errors import ConfigError

__all__ = ["rolling_drawdown", "rolling_sharpe", "rolling_volatility"]


def _prepare(returns: ReturnsLike, window: int) -> pd.Series:
    if not isinstance(window, int | np.integer) or window < 2:
        raise ConfigError(f"window must be an integer >= 2, got {window!r}")
    s = (
        returns.astype(np.float64)
        if isinstance(returns, pd.Series)
        else pd.Series(np.asarray(returns, dtype=np.float64))
    )
    return s[np.isfinite(s.to_numpy())]


def _out(
    values: np.ndarray, s: pd.Series, returns: ReturnsLike, name: str
) -> pd.Series | np.ndarray:
    if isinstance(returns, pd.Series):
        return pd.Series(values, index=s.index, name=name)
    return values


def rolling_volatility(
    returns: ReturnsLike, window: int, periods_per_year: float | None = None
) -> pd.Series | np.ndarray:
    """Annualised trailing standard deviation (``ddof=1``)."""
    s = _prepare(returns, window)
    ppy = resolve_ppy(returns, periods_per_year)
    std = s.rolling(window).std(ddof=1).to_numpy()
    return _out(std * math.sqrt(ppy), s, returns, "rolling_volatility")


def rolling_sharpe(
    returns: ReturnsLike,
    window: int,
    periods_per_year: float | None = None,
    risk_free: float = 0.0,
) -> pd.Series | np.ndarray:
    """Annualised trailing Sharpe ratio; NaN in the warm-up and for zero-std windows."""
    s = _prepare(returns, window)
    ppy = resolve_ppy(returns, periods_per_year)
    rf = (1.0 + risk_free) ** (1.0 / ppy) - 1.0 if risk_free else 0.0
    roll = (s - rf).rolling(window)
    mean = roll.mean().to_numpy()
    std = roll.std(ddof=1).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = np.where(std > 1e-15 * np.maximum(1.0, np.abs(mean)), mean / std, np.nan)
    return _out(sharpe * math.sqrt(ppy), s, returns, "rolling_sharpe")


def rolling_drawdown(returns: ReturnsLike, window: int) -> pd.Series | np.ndarray:
    """Drawdown against the peak of the last ``window + 1`` wealth points (<= 0)."""
    s = _prepare(returns, window)
    wealth = np.concatenate(([1.0], np.cumprod(s.to_numpy() + 1.0)))
    peak = pd.Series(wealth).rolling(window + 1, min_periods=1).max().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = wealth[1:] / peak[1:] - 1.0
    return _out(dd, s, returns, "rolling_drawdown")
