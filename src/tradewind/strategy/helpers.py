"""Small signal helpers for strategies (cheap enough to call on every bar)."""

from __future__ import annotations

from tradewind.strategy.indicator import Indicator


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
    i = a._feed.cursor
    if i < 1:
        return 0
    av = a._list
    bv = b._list
    prev = av[i - 1] - bv[i - 1]
    now = av[i] - bv[i]
    if now > 0 >= prev:
        return 1
    if now < 0 <= prev:
        return -1
    return 0


def above(a: Indicator, b: Indicator | float) -> bool:
    """``a`` is above ``b`` on the current bar."""
    return a.value > _at(b, 0)
