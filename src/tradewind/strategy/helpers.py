"""Small signal helpers for strategies (cheap enough to call on every bar)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tradewind.strategy.indicator import Indicator

if TYPE_CHECKING:
    from numpy.typing import NDArray


def _at(x: Indicator | float, back: int) -> float:
    if isinstance(x, Indicator):
        return x[-1 - back]
    return x


def crossover(a: Indicator, b: Indicator | float) -> bool:
    """True on the bar where ``a`` moves from at-or-below ``b`` to above it."""
    i = a._feed.cursor
    if i < 1:
        return False
    av = a._list
    if isinstance(b, Indicator):
        bv = b._list
        return av[i - 1] <= bv[i - 1] and av[i] > bv[i]
    return av[i - 1] <= b and av[i] > b


def crossunder(a: Indicator, b: Indicator | float) -> bool:
    """True on the bar where ``a`` moves from at-or-above ``b`` to below it."""
    i = a._feed.cursor
    if i < 1:
        return False
    av = a._list
    if isinstance(b, Indicator):
        bv = b._list
        return av[i - 1] >= bv[i - 1] and av[i] < bv[i]
    return av[i - 1] >= b and av[i] < b


def cross(a: Indicator, b: Indicator) -> int:
    """+1 on the bar where ``a`` crosses above ``b``, -1 where it crosses below, else 0.

    One call per bar instead of ``crossover`` plus ``crossunder``: the hot path of crossing
    strategies.
    """
    signs = a._crosses.get(b)
    if signs is None:  # first call: compute every bar's crossing at once, vectorized
        signs = a._crosses[b] = crossing_signs(
            a.full_series_for_engine(), b.full_series_for_engine()
        )
    return signs[a._feed.cursor]


def crossing_signs(a: NDArray[np.float64], b: NDArray[np.float64]) -> list[int]:
    """Per bar: +1 where ``a`` crosses above ``b``, -1 below, else 0 (NaN never crosses).

    Uses bars t-1 and t only, so it is causal; the first bar is always 0.
    """
    signs: list[int] = crossings(a, b).tolist()
    return signs  # a list: the hot path indexes it once per bar


def crossings(a: NDArray[np.float64], b: NDArray[np.float64] | float) -> NDArray[np.int8]:
    """``crossing_signs`` as an int8 array (the vectorized strategies' form)."""
    diff = a - b
    now, prev = diff[1:], diff[:-1]
    out = np.zeros(len(diff), dtype=np.int8)
    out[1:] = ((now > 0) & (prev <= 0)).view(np.int8) - ((now < 0) & (prev >= 0)).view(np.int8)
    return out


def above(a: Indicator, b: Indicator | float) -> bool:
    """``a`` is above ``b`` on the current bar."""
    return a.value > _at(b, 0)
