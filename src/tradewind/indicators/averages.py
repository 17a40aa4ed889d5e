"""Moving averages: SMA, EMA, WMA, DEMA, TEMA, KAMA (TA-Lib) and HMA (own, from TA-Lib's WMA).

EMA-type averages are seeded TA-Lib style with the simple average of the first ``period`` values.
A ``period`` of 1 is accepted by ``sma``/``ema``/``wma`` and returns the input unchanged.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import talib

from tradewind.indicators._util import arr, check_period, ta
from tradewind.indicators.rolling_mean import compensated_rolling_mean, rolling_mean

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


def _identity(a: NDArray[np.float64]) -> NDArray[np.float64]:
    return a.copy()


def sma(x: ArrayLike, period: int, *, compensated: bool = False) -> NDArray[np.float64]:
    """Simple moving average over ``period`` values; equals TA-Lib ``SMA`` to ~1e-12.

    By default a compiled running sum as fast as TA-Lib's, but exact on flat stretches (a
    window of equal prices returns that price, so SMA(10) = SMA(30) ties there stay ties) and
    with its rounding drift bounded by a periodic re-sum. ``compensated=True`` computes pandas'
    ``rolling(period).mean()`` bit for bit (Kahan-compensated, ~3x slower): crosses of two
    averages then reproduce a pandas computation even where the true averages tie to the cent
    and only rounding orders them. A NaN gap gives NaN while the window contains it.
    """
    p = check_period(period)
    a = arr(x)
    if p == 1:
        return _identity(a)
    return compensated_rolling_mean(a, p) if compensated else rolling_mean(a, p)


def ema(x: ArrayLike, period: int) -> NDArray[np.float64]:
    """Exponential moving average, alpha = 2 / (period + 1), SMA-seeded (TA-Lib ``EMA``)."""
    p = check_period(period)
    a = arr(x)
    return _identity(a) if p == 1 else ta(talib.EMA, a, timeperiod=p)[0]


def wma(x: ArrayLike, period: int) -> NDArray[np.float64]:
    """Linearly weighted moving average, weights 1..period (TA-Lib ``WMA``)."""
    p = check_period(period)
    a = arr(x)
    return _identity(a) if p == 1 else ta(talib.WMA, a, timeperiod=p)[0]


def dema(x: ArrayLike, period: int = 30) -> NDArray[np.float64]:
    """Double EMA: 2·EMA − EMA(EMA) (TA-Lib ``DEMA``; first value at index 2·(period−1))."""
    p = check_period(period, minimum=2)
    return ta(talib.DEMA, arr(x), timeperiod=p)[0]


def tema(x: ArrayLike, period: int = 30) -> NDArray[np.float64]:
    """Triple EMA: 3·E1 − 3·E2 + E3 (TA-Lib ``TEMA``; first value at index 3·(period−1))."""
    p = check_period(period, minimum=2)
    return ta(talib.TEMA, arr(x), timeperiod=p)[0]


def kama(x: ArrayLike, period: int = 30) -> NDArray[np.float64]:
    """Kaufman adaptive moving average, fast 2 / slow 30 constants (TA-Lib ``KAMA``)."""
    p = check_period(period, minimum=2)
    return ta(talib.KAMA, arr(x), timeperiod=p)[0]


def hma(x: ArrayLike, period: int) -> NDArray[np.float64]:
    """Hull moving average: WMA(2·WMA(x, ⌊n/2⌋) − WMA(x, n), ⌊√n⌋).

    TA-Lib has no HMA. First value at index (n − 1) + (⌊√n⌋ − 1).
    """
    n = check_period(period, minimum=2)
    a = arr(x)
    raw = 2.0 * wma(a, n // 2) - wma(a, n)
    return wma(raw, math.isqrt(n))
