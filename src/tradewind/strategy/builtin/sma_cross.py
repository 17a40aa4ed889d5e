"""Long when the fast SMA crosses above the slow one; flat when it crosses back below.

The averages are the compensated ones (pandas' ``rolling().mean()`` bit for bit), so where the
two averages tie to the cent and only rounding orders them, this strategy crosses exactly where
a pandas computation of the same rules does.
"""

from tradewind.indicators import sma
from tradewind.model import Bar
from tradewind.strategy import Strategy, cross, param


class SmaCross(Strategy):
    name = "sma_cross"
    fast: int = param(10, ge=1, help="fast SMA period")
    slow: int = param(30, ge=2, help="slow SMA period")

    def validate(self) -> None:
        self.require(self.fast < self.slow, "fast must be below slow")

    def on_start(self) -> None:
        self.fast_ma = self.indicator(sma, "close", self.fast, compensated=True)
        self.slow_ma = self.indicator(sma, "close", self.slow, compensated=True)

    def on_bar(self, bar: Bar) -> None:
        signal = cross(self.fast_ma, self.slow_ma)  # +1 crossed above, -1 crossed below
        if signal > 0 and not self.position():
            self.buy()  # all-in: spend the available cash at the next open
        elif signal < 0:
            self.close()
