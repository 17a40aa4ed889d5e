"""Volatility and channels: ATR, NATR, STDDEV, Bollinger (TA-Lib); Keltner, Donchian (own)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import talib

from tradewind.indicators._util import arr, arrays, check_period, check_positive, ta
from tradewind.indicators.averages import ema

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

_HLC = ("high", "low", "close")


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> NDArray[np.float64]:
    """Wilder's average true range (TA-Lib ``ATR``; first value at index ``period``)."""
    p = check_period(period)
    h, lo, c = arrays(high, low, close, names=_HLC)
    return ta(talib.ATR, h, lo, c, timeperiod=p)[0]


def natr(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14
) -> NDArray[np.float64]:
    """Normalized ATR in percent of close: 100 × ATR / close (TA-Lib ``NATR``)."""
    p = check_period(period)
    h, lo, c = arrays(high, low, close, names=_HLC)
    return ta(talib.NATR, h, lo, c, timeperiod=p)[0]


def stddev(x: ArrayLike, period: int, ddof: int = 0) -> NDArray[np.float64]:
    """Rolling standard deviation; ``ddof=0`` (population) is TA-Lib's ``STDDEV``.

    ``ddof != 0`` or ``period == 1`` use pandas' rolling std.
    """
    p = check_period(period)
    a = arr(x)
    if ddof == 0 and p > 1:
        return ta(talib.STDDEV, a, timeperiod=p, nbdev=1.0)[0]
    return pd.Series(a).rolling(p).std(ddof=ddof).to_numpy()


def bbands(
    x: ArrayLike, period: int = 20, k: float = 2.0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Bollinger Bands (upper, middle, lower) = SMA ± k × population std (TA-Lib ``BBANDS``)."""
    p = check_period(period, minimum=2)
    kk = check_positive(k, "k")
    up, mid, lo = ta(talib.BBANDS, arr(x), timeperiod=p, nbdevup=kk, nbdevdn=kk, matype=0)
    return up, mid, lo


def keltner(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    period: int = 20,
    multiplier: float = 2.0,
    atr_period: int = 10,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Keltner Channels (upper, middle, lower), the modern (Raschke) convention.

    middle = EMA(close, period) (TA-Lib EMA, SMA-seeded); upper/lower = middle ± multiplier ×
    ATR(atr_period) (Wilder ATR, TA-Lib). Defaults 20 / 2.0 / 10. The middle line starts at
    index period − 1; upper/lower wait for both: index max(period − 1, atr_period). A NaN
    high/low restarts only the ATR part (the EMA of close never saw it).
    """
    p = check_period(period)
    ap = check_period(atr_period, "atr_period")
    m = check_positive(multiplier, "multiplier")
    h, lo, c = arrays(high, low, close, names=_HLC)
    mid = ema(c, p)
    width = m * atr(h, lo, c, ap)
    return mid + width, mid, mid - width


def donchian(
    high: ArrayLike, low: ArrayLike, period: int = 20
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Donchian channel (highest high, lowest low) over ``period`` bars including this one.

    TA-Lib ``MAX``/``MIN``; a NaN gap restarts the window.
    """
    p = check_period(period)
    h, lo = arrays(high, low, names=("high", "low"))
    if p == 1:
        return h.copy(), lo.copy()
    return ta(talib.MAX, h, timeperiod=p)[0], ta(talib.MIN, lo, timeperiod=p)[0]
