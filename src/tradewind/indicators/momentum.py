"""Momentum oscillators: RSI, MACD, Stochastic, StochRSI, CCI, ROC, Williams %R (all TA-Lib).

Constant prices (TA-Lib's behaviour, which we keep): RSI = 0, Stochastic %K/%D = 0,
StochRSI = 0, Williams %R = 0, CCI = 0, ROC = 0 — never NaN or a division error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import talib

from tradewind.errors import ConfigError
from tradewind.indicators._util import arr, arrays, check_period, ta

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

_HLC = ("high", "low", "close")


def rsi(x: ArrayLike, period: int = 14) -> NDArray[np.float64]:
    """Wilder's relative strength index, 0-100 (TA-Lib ``RSI``; first value at index ``period``).

    ``period=1`` is accepted: 100 after an up move, 0 otherwise.
    """
    p = check_period(period)
    a = arr(x)
    if p > 1:
        return ta(talib.RSI, a, timeperiod=p)[0]
    out = np.full(a.shape, np.nan)
    if len(a) > 1:
        d = np.diff(a)
        out[1:] = np.where(d > 0, 100.0, 0.0)
        out[1:][np.isnan(d)] = np.nan
    return out


def macd(
    x: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """MACD (line, signal, histogram) — TA-Lib ``MACD``.

    line = EMA(fast) − EMA(slow) with TA-Lib's alignment (the fast EMA is seeded on the bars
    where the slow one is), signal = EMA(line, signal), hist = line − signal. All three are NaN
    until index slow + signal − 2.
    """
    f = check_period(fast, "fast", minimum=2)
    s = check_period(slow, "slow", minimum=2)
    g = check_period(signal, "signal")
    if f >= s:
        raise ConfigError(f"macd fast period ({fast}) must be below slow ({slow})")
    line, sig, hist = ta(talib.MACD, arr(x), fastperiod=f, slowperiod=s, signalperiod=g)
    return line, sig, hist


def stoch(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    fastk_period: int = 5,
    slowk_period: int = 3,
    slowd_period: int = 3,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Slow stochastic (slowk, slowd), SMA smoothing — TA-Lib ``STOCH`` with its defaults."""
    fk = check_period(fastk_period, "fastk_period")
    sk = check_period(slowk_period, "slowk_period")
    sd = check_period(slowd_period, "slowd_period")
    h, lo, c = arrays(high, low, close, names=_HLC)
    k, d = ta(talib.STOCH, h, lo, c,
        fastk_period=fk, slowk_period=sk, slowk_matype=0, slowd_period=sd, slowd_matype=0,
    )  # fmt: skip
    return k, d


def stochrsi(
    x: ArrayLike, period: int = 14, fastk_period: int = 5, fastd_period: int = 3
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Stochastic RSI (fastk, fastd) — TA-Lib ``STOCHRSI`` (fast stochastic of RSI, SMA %D)."""
    p = check_period(period, minimum=2)
    fk = check_period(fastk_period, "fastk_period")
    fd = check_period(fastd_period, "fastd_period")
    k, d = ta(
        talib.STOCHRSI, arr(x), timeperiod=p, fastk_period=fk, fastd_period=fd, fastd_matype=0
    )
    return k, d


def cci(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> NDArray[np.float64]:
    """Commodity channel index (TA-Lib ``CCI``)."""
    p = check_period(period, minimum=2)
    h, lo, c = arrays(high, low, close, names=_HLC)
    return ta(talib.CCI, h, lo, c, timeperiod=p)[0]


def roc(x: ArrayLike, period: int = 10) -> NDArray[np.float64]:
    """Rate of change in percent: 100 × (x / x[t − period] − 1) (TA-Lib ``ROC``)."""
    p = check_period(period)
    return ta(talib.ROC, arr(x), timeperiod=p)[0]


def willr(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14
) -> NDArray[np.float64]:
    """Williams %R, −100..0 (TA-Lib ``WILLR``)."""
    p = check_period(period, minimum=2)
    h, lo, c = arrays(high, low, close, names=_HLC)
    return ta(talib.WILLR, h, lo, c, timeperiod=p)[0]
