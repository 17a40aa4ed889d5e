"""Trend indicators: ADX, +DI, −DI, Parabolic SAR (TA-Lib); Supertrend, Ichimoku (own)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import talib
from numba import njit

from tradewind.indicators._util import arrays, check_period, check_positive, ta
from tradewind.indicators.volatility import atr

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

_HLC = ("high", "low", "close")


def adx(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> NDArray[np.float64]:
    """Average directional index (TA-Lib ``ADX``; first value at index 2·period − 1)."""
    p = check_period(period)
    h, lo, c = arrays(high, low, close, names=_HLC)
    return ta(talib.ADX, h, lo, c, timeperiod=p)[0]


def plus_di(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14
) -> NDArray[np.float64]:
    """Plus directional indicator +DI (TA-Lib ``PLUS_DI``)."""
    p = check_period(period)
    h, lo, c = arrays(high, low, close, names=_HLC)
    return ta(talib.PLUS_DI, h, lo, c, timeperiod=p)[0]


def minus_di(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14
) -> NDArray[np.float64]:
    """Minus directional indicator −DI (TA-Lib ``MINUS_DI``)."""
    p = check_period(period)
    h, lo, c = arrays(high, low, close, names=_HLC)
    return ta(talib.MINUS_DI, h, lo, c, timeperiod=p)[0]


def sar(
    high: ArrayLike, low: ArrayLike, acceleration: float = 0.02, maximum: float = 0.2
) -> NDArray[np.float64]:
    """Parabolic SAR (TA-Lib ``SAR``; first value at index 1)."""
    a = check_positive(acceleration, "acceleration")
    m = check_positive(maximum, "maximum")
    h, lo = arrays(high, low, names=("high", "low"))
    return ta(talib.SAR, h, lo, acceleration=a, maximum=m)[0]


def supertrend(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    period: int = 10,
    multiplier: float = 3.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Supertrend (line, direction), the TradingView convention. TA-Lib has no Supertrend.

    With hl2 = (high + low) / 2 and ATR = Wilder ATR(period) (TA-Lib):
    basic lower = hl2 − multiplier·ATR, basic upper = hl2 + multiplier·ATR;
    lower[t] = max(basic lower, lower[t−1]) if close[t−1] > lower[t−1] else basic lower;
    upper[t] = min(basic upper, upper[t−1]) if close[t−1] < upper[t−1] else basic upper;
    direction starts at +1 on the first bar with an ATR, then flips to +1 when close > upper[t−1]
    (while −1) and to −1 when close < lower[t−1] (while +1); line = lower if direction is +1,
    else upper. Both outputs are NaN until ATR is warm (index ``period``); a NaN gap restarts it.
    """
    p = check_period(period)
    m = check_positive(multiplier, "multiplier")
    h, lo, c = arrays(high, low, close, names=_HLC)
    n = len(c)
    line = np.full(n, np.nan)
    direction = np.full(n, np.nan)
    if n == 0:
        return line, direction
    width = m * atr(h, lo, c, p)
    hl2 = (h + lo) / 2.0
    _supertrend_bands(hl2 - width, hl2 + width, c, line, direction)
    return line, direction


@njit(cache=True, nogil=True)
def _supertrend_bands(
    basic_lo: NDArray[np.float64],
    basic_up: NDArray[np.float64],
    close: NDArray[np.float64],
    line: NDArray[np.float64],
    direction: NDArray[np.float64],
) -> None:
    """The ratcheting bands and direction flips (compiled: one pass, state carried per bar).
    ``line``/``direction`` arrive NaN-filled and stay NaN where the ATR or close is NaN."""
    started = False
    low_b = up_b = prev_c = 0.0
    d = 1.0
    for i in range(close.shape[0]):
        bl = basic_lo[i]
        bu = basic_up[i]
        ci = close[i]
        if math.isnan(bl) or math.isnan(ci):
            started = False
            continue
        if not started:
            started = True
            d = 1.0
        else:
            if prev_c > low_b and bl < low_b:
                bl = low_b
            if prev_c < up_b and bu > up_b:
                bu = up_b
            if d < 0.0 and ci > up_b:
                d = 1.0
            elif d > 0.0 and ci < low_b:
                d = -1.0
        low_b = bl
        up_b = bu
        prev_c = ci
        direction[i] = d
        line[i] = bl if d > 0.0 else bu


class Ichimoku(NamedTuple):
    """Ichimoku lines, each aligned to the bar at which it is known (see ``ichimoku``)."""

    tenkan: NDArray[np.float64]
    kijun: NDArray[np.float64]
    senkou_a: NDArray[np.float64]
    senkou_b: NDArray[np.float64]
    chikou: NDArray[np.float64]


def ichimoku(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    tenkan_period: int = 9,
    kijun_period: int = 26,
    senkou_period: int = 52,
) -> Ichimoku:
    """Ichimoku Kinko Hyo, causal form. TA-Lib has no Ichimoku.

    tenkan = midpoint (highest high + lowest low) / 2 over ``tenkan_period``; kijun = same over
    ``kijun_period``; senkou_a = (tenkan + kijun) / 2; senkou_b = midpoint over ``senkou_period``;
    chikou = close.

    Causality: the classic chart plots senkou A/B ``kijun_period`` bars FORWARD and chikou
    ``kijun_period`` bars BACKWARD. Here every line is returned at the bar where it becomes known
    (unshifted): the cloud the classic chart shows over bar t is ``senkou_a[t − kijun_period]`` /
    ``senkou_b[t − kijun_period]``, and the chikou comparison is ``close[t]`` versus
    ``close[t − kijun_period]``.
    """
    tp = check_period(tenkan_period, "tenkan_period", minimum=2)
    kp = check_period(kijun_period, "kijun_period", minimum=2)
    sp = check_period(senkou_period, "senkou_period", minimum=2)
    h, lo, c = arrays(high, low, close, names=_HLC)
    tenkan = ta(talib.MIDPRICE, h, lo, timeperiod=tp)[0]
    kijun = ta(talib.MIDPRICE, h, lo, timeperiod=kp)[0]
    senkou_b = ta(talib.MIDPRICE, h, lo, timeperiod=sp)[0]
    return Ichimoku(tenkan, kijun, (tenkan + kijun) / 2.0, senkou_b, c.copy())
