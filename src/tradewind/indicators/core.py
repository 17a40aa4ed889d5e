"""Vectorized indicators over numpy arrays (float64 in, float64 out, NaN during warm-up).

Conventions follow TA-Lib: EMA and Wilder smoothing are seeded with the simple average of the
first ``period`` values; the output is NaN until the first full window. Every function is causal:
the value at bar *t* uses bars up to *t* only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tradewind.errors import ConfigError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


def _arr(x: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(x, dtype=np.float64)


def _check_period(period: int, name: str = "period") -> None:
    if isinstance(period, bool) or not isinstance(period, int | np.integer) or period < 1:
        raise ConfigError(f"{name} must be a positive int, got {period!r}")


def sma(x: ArrayLike, period: int) -> NDArray[np.float64]:
    """Simple moving average over ``period`` values."""
    _check_period(period)
    a = _arr(x)
    out = np.full(a.shape, np.nan)
    if len(a) >= period:
        out[period - 1 :] = pd.Series(a).rolling(period).mean().to_numpy()[period - 1 :]
    return out


def _smooth(a: NDArray[np.float64], period: int, alpha: float) -> NDArray[np.float64]:
    """Recursive smoothing seeded by the SMA of the first ``period`` valid values (TA-Lib style)."""
    out = np.full(a.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(a))
    if len(valid) < period:
        return out
    start = int(valid[0])
    seed_end = start + period
    seed = float(np.mean(a[start:seed_end]))
    tail = np.concatenate(([seed], a[seed_end:]))
    sm = pd.Series(tail).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    out[seed_end - 1 :] = sm
    return out


def ema(x: ArrayLike, period: int) -> NDArray[np.float64]:
    """Exponential moving average, alpha = 2 / (period + 1), seeded with an SMA."""
    _check_period(period)
    return _smooth(_arr(x), period, 2.0 / (period + 1))


def rsi(x: ArrayLike, period: int = 14) -> NDArray[np.float64]:
    """Wilder's relative strength index (0-100)."""
    _check_period(period)
    a = _arr(x)
    out = np.full(a.shape, np.nan)
    if len(a) <= period:
        return out
    d = np.diff(a)
    up = _smooth(np.where(d > 0, d, 0.0), period, 1.0 / period)
    dn = _smooth(np.where(d < 0, -d, 0.0), period, 1.0 / period)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = 100.0 * up / (up + dn)
    r[(up + dn) == 0] = 0.0
    out[1:] = r
    return out


def macd(
    x: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """MACD line (EMA fast − EMA slow), its signal EMA, and the histogram."""
    if fast >= slow:
        raise ConfigError(f"macd fast period ({fast}) must be below slow ({slow})")
    a = _arr(x)
    line = ema(a, fast) - ema(a, slow)
    sig = _smooth(line, signal, 2.0 / (signal + 1))
    return line, sig, line - sig


def stddev(x: ArrayLike, period: int, ddof: int = 0) -> NDArray[np.float64]:
    """Rolling standard deviation (population by default, like TA-Lib's STDDEV)."""
    _check_period(period)
    return pd.Series(_arr(x)).rolling(period).std(ddof=ddof).to_numpy()


def bbands(
    x: ArrayLike, period: int = 20, k: float = 2.0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Bollinger Bands: (upper, middle, lower) = SMA ± k × population std."""
    a = _arr(x)
    mid = sma(a, period)
    sd = stddev(a, period)
    return mid + k * sd, mid, mid - k * sd


def donchian(
    high: ArrayLike, low: ArrayLike, period: int = 20
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Donchian channel: (highest high, lowest low) over ``period`` bars including this one."""
    _check_period(period)
    hi = pd.Series(_arr(high)).rolling(period).max().to_numpy()
    lo = pd.Series(_arr(low)).rolling(period).min().to_numpy()
    return hi, lo


def roc(x: ArrayLike, period: int = 10) -> NDArray[np.float64]:
    """Rate of change in percent: 100 × (x / x[t − period] − 1)."""
    _check_period(period)
    a = _arr(x)
    out = np.full(a.shape, np.nan)
    out[period:] = 100.0 * (a[period:] / a[:-period] - 1.0)
    return out


def zscore(x: ArrayLike, period: int = 20) -> NDArray[np.float64]:
    """Rolling z-score: (x − rolling mean) / rolling population std."""
    a = _arr(x)
    sd = stddev(a, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a - sma(a, period)) / sd


def spread(a: ArrayLike, b: ArrayLike, hedge_ratio: float = 1.0) -> NDArray[np.float64]:
    """Price spread a − hedge_ratio × b (for pairs trading)."""
    return _arr(a) - hedge_ratio * _arr(b)
