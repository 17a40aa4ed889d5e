"""Rolling statistics: z-score, spread, rolling beta and correlation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import talib

from tradewind.indicators._util import arr, arrays, check_period, ta
from tradewind.indicators.volatility import stddev

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


def zscore(x: ArrayLike, period: int = 20) -> NDArray[np.float64]:
    """Rolling z-score: (x − rolling mean) / rolling population std over ``period`` values.

    The mean is pandas' compensated rolling mean and the deviation TA-Lib's STDDEV: pandas'
    one-pass rolling std loses ~1e-7 on large prices (BTC near 40,000), which would break the
    1e-9 agreement with the streaming ``ZScore``. NaN while a window contains a NaN. A window
    with zero spread (constant prices) gives 0, not NaN/inf. TA-Lib has no z-score.
    """
    p = check_period(period)
    a = arr(x)
    mean = pd.Series(a).rolling(p).mean().to_numpy()
    sd = stddev(a, p) if p > 1 else np.zeros_like(a)
    sd[np.isnan(mean)] = np.nan
    dev = a - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        z = dev / sd
    z[sd == 0.0] = 0.0
    return np.asarray(z, dtype=np.float64)


def spread(a: ArrayLike, b: ArrayLike, hedge_ratio: float = 1.0) -> NDArray[np.float64]:
    """Price spread a − hedge_ratio × b (for pairs trading)."""
    x, y = arrays(a, b, names=("a", "b"))
    return x - hedge_ratio * y


def simple_returns(x: ArrayLike) -> NDArray[np.float64]:
    """Simple returns x[t] / x[t − 1] − 1, NaN at index 0 (aligned to the input)."""
    a = arr(x)
    out = np.full(a.shape, np.nan)
    if len(a) > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            out[1:] = a[1:] / a[:-1] - 1.0
    return out


def _mean(a: NDArray[np.float64], p: int) -> NDArray[np.float64]:
    return ta(talib.SMA, a, timeperiod=p)[0]


def rolling_beta(
    x: ArrayLike, y: ArrayLike, period: int = 20, returns: bool = False
) -> NDArray[np.float64]:
    """Rolling OLS beta of ``x`` on ``y`` (``y`` is the benchmark): cov(x, y) / var(y).

    ``returns=False`` (default): computed on the values given (pass returns for a return beta,
    prices for a price-level beta), population moments from rolling means. ``returns=True``:
    both price series are converted to simple returns first and the value at t uses the
    ``period`` returns ending at t (``period + 1`` prices) — that is exactly TA-Lib's
    ``BETA(y, x, period)`` (benchmark first), which we call. A window where var(y) = 0 gives 0
    (TA-Lib's choice). Equals pandas ``x.rolling(n).cov(y) / y.rolling(n).var()``.
    """
    p = check_period(period, minimum=2)
    a, b = arrays(x, y, names=("x", "y"))
    if returns:  # TA-Lib's BETA is exactly this, on prices, with the benchmark first
        return ta(talib.BETA, b, a, timeperiod=p)[0]
    ma, mb = _mean(a, p), _mean(b, p)
    cov = _mean(a * b, p) - ma * mb
    var = _mean(b * b, p) - mb * mb
    with np.errstate(divide="ignore", invalid="ignore"):
        out = cov / var
    out[var <= 0.0] = 0.0
    return out


def rolling_corr(
    x: ArrayLike, y: ArrayLike, period: int = 20, returns: bool = False
) -> NDArray[np.float64]:
    """Rolling Pearson correlation (TA-Lib ``CORREL``), on the values given or on simple returns
    with ``returns=True``. A window where either series is constant gives 0 (TA-Lib's choice)."""
    p = check_period(period, minimum=2)
    a, b = arrays(x, y, names=("x", "y"))
    if returns:
        a, b = simple_returns(a), simple_returns(b)
    return ta(talib.CORREL, a, b, timeperiod=p)[0]
