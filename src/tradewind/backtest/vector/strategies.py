"""Vectorized strategies: typed parameters (as event-driven ones) and one ``signals`` method.

    class SmaCross(VectorStrategy):
        fast: int = param(10, ge=1)
        slow: int = param(30, ge=2)

        def signals(self, bars: Bars) -> Signals:
            fast = bars.ind(sma, "close", self.fast, compensated=True)
            slow = bars.ind(sma, "close", self.slow, compensated=True)
            x = crossings(fast, slow)
            return Signals(entries=x > 0, exits=x < 0)

``bars.ind`` memoises indicators per data set, so a sweep computes each window once. The
built-ins here trade exactly like the event-driven built-ins of the same name (all-in long,
exit on the opposite signal): ``tests/backtest/test_vector_parity.py`` runs both.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np

from tradewind.backtest.vector.engine import Bars, Signals
from tradewind.errors import StrategyNotFound
from tradewind.indicators import bbands, donchian, ema, macd, rsi, sma
from tradewind.strategy.helpers import crossings
from tradewind.strategy.params import Parameterized, param
from tradewind.strategy.registry import import_class


class VectorStrategy(Parameterized):
    """Base class: map bars to entry/exit (and optional short/size/stop) arrays."""

    name: ClassVar[str] = "vector_strategy"

    @abstractmethod
    def signals(self, bars: Bars) -> Signals:
        """Signals for these bars; bar t's values may use bars up to t only."""


class SmaCross(VectorStrategy):
    name = "sma_cross"
    fast: int = param(10, ge=1, help="fast SMA period")
    slow: int = param(30, ge=2, help="slow SMA period")

    def signals(self, bars: Bars) -> Signals:
        fast = bars.ind(sma, "close", self.fast, compensated=True)
        slow = bars.ind(sma, "close", self.slow, compensated=True)
        x = crossings(fast, slow)
        return Signals(entries=x > 0, exits=x < 0)


class MacdCross(VectorStrategy):
    name = "macd_cross"
    fast: int = param(12, ge=1)
    slow: int = param(26, ge=2)
    signal: int = param(9, ge=1)

    def validate(self) -> None:
        self.require(self.fast < self.slow, "fast must be below slow")

    def signals(self, bars: Bars) -> Signals:
        line, sig, _ = bars.ind(macd, "close", self.fast, self.slow, self.signal)
        x = crossings(line, sig)
        return Signals(entries=x > 0, exits=x < 0)


class RsiReversion(VectorStrategy):
    name = "rsi_reversion"
    period: int = param(14, ge=2)
    lower: float = param(30.0, gt=0, lt=100, help="buy below this RSI")
    upper: float = param(70.0, gt=0, lt=100, help="sell above this RSI")

    def validate(self) -> None:
        self.require(self.lower < self.upper, "lower must be below upper")

    def signals(self, bars: Bars) -> Signals:
        r = bars.ind(rsi, "close", self.period)
        return Signals(entries=r < self.lower, exits=r > self.upper)


class BollingerReversion(VectorStrategy):
    name = "bollinger_reversion"
    period: int = param(20, ge=2)
    k: float = param(2.0, gt=0, help="band width in standard deviations")

    def signals(self, bars: Bars) -> Signals:
        _, mid, lower = bars.ind(bbands, "close", self.period, self.k)
        return Signals(entries=bars.close < lower, exits=bars.close > mid)


class DonchianBreakout(VectorStrategy):
    name = "donchian_breakout"
    entry: int = param(20, ge=1, help="breakout lookback (bars)")
    exit: int = param(10, ge=1, help="exit lookback (bars)")

    def signals(self, bars: Bars) -> Signals:
        upper, _ = bars.ind(donchian, "high", "low", self.entry)
        _, lower = bars.ind(donchian, "high", "low", self.exit)
        entries = np.zeros(len(bars), np.bool_)
        exits = np.zeros(len(bars), np.bool_)
        entries[1:] = bars.close[1:] > upper[:-1]  # yesterday's channel: no look-ahead
        exits[1:] = bars.close[1:] < lower[:-1]
        return Signals(entries=entries, exits=exits)


class EmaRsi(VectorStrategy):
    name = "ema_rsi"
    ema_period: int = param(200, ge=2, help="trend EMA period")
    rsi_period: int = param(14, ge=2, help="RSI period")
    entry: float = param(30.0, gt=0, lt=100, help="buy when RSI is below this")
    exit: float = param(70.0, gt=0, lt=100, help="sell when RSI is above this")

    def signals(self, bars: Bars) -> Signals:
        trend = bars.ind(ema, "close", self.ema_period)
        r = bars.ind(rsi, "close", self.rsi_period)
        c = bars.close
        return Signals(entries=(c > trend) & (r < self.entry), exits=(r > self.exit) | (c < trend))


VECTOR_BUILTINS: dict[str, type[VectorStrategy]] = {
    cls.name: cls
    for cls in (SmaCross, MacdCross, RsiReversion, BollingerReversion, DonchianBreakout, EmaRsi)
}


def load_vector_strategy(spec: str) -> type[VectorStrategy]:
    """A vectorized strategy by built-in name, ``package.module:Class`` or ``file.py:Class``."""
    if spec in VECTOR_BUILTINS:
        return VECTOR_BUILTINS[spec]
    if ":" not in spec:
        raise StrategyNotFound(
            f"no vectorized strategy {spec!r}: built-ins are {', '.join(sorted(VECTOR_BUILTINS))}"
            "; or give module:Class / path/to/file.py:Class (or use --engine event)"
        )
    return import_class(spec, VectorStrategy)  # type: ignore[type-abstract]
