"""Pairs trading on the z-score of the spread ``a - hedge_ratio * b`` (needs a margin account).

Short the spread when z > entry, long it when z < -entry, flat when |z| < exit. Each leg holds
``allocation`` of equity. Trades when both instruments' bars for the same time have closed.
"""

from tradewind.indicators import spread, zscore
from tradewind.model import Bar
from tradewind.strategy import Strategy, param


def _spread_z(a, b, ratio, lookback):  # type: ignore[no-untyped-def]
    return zscore(spread(a, b, ratio), lookback)


class Pairs(Strategy):
    name = "pairs"
    a: str = param("", help="first instrument (default: the first data set)")
    b: str = param("", help="second instrument (default: the second data set)")
    lookback: int = param(100, ge=2)
    entry: float = param(2.0, gt=0)
    exit: float = param(0.5, ge=0)
    hedge_ratio: float = param(1.0, gt=0)
    allocation: float = param(0.5, gt=0, le=1, help="fraction of equity per leg")

    def on_start(self) -> None:
        syms = self.instruments
        self.require(len(syms) >= 2 or bool(self.a and self.b), "pairs needs two instruments")
        self.a, self.b = self.a or syms[0], self.b or syms[1]
        self.z = self.indicator(
            _spread_z,
            "close",
            self.source("close", self.b),
            self.hedge_ratio,
            self.lookback,
            instrument=self.a,
        )
        self.hist_a, self.hist_b = self.history(self.a), self.history(self.b)

    def on_bar(self, bar: Bar) -> None:
        if len(self.hist_a) != len(self.hist_b) or len(self.hist_a) < self.lookback:
            return  # wait until both legs' bars for this time have closed
        z, held = self.z.value, self.position(self.a)
        if held == 0 and abs(z) > self.entry:
            side = -1 if z > 0 else 1
            self.target_percent(side * self.allocation, self.a)
            self.target_percent(-side * self.allocation * self.hedge_ratio, self.b)
        elif held != 0 and abs(z) < self.exit:
            self.close(self.a)
            self.close(self.b)
