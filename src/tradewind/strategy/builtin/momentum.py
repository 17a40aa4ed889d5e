"""Time-series momentum: long while the ``period``-bar rate of change is above ``threshold`` %."""

from tradewind.indicators import roc
from tradewind.model import Bar
from tradewind.strategy import Strategy, param


class Momentum(Strategy):
    name = "momentum"
    period: int = param(50, ge=1, help="lookback (bars)")
    threshold: float = param(0.0, help="minimum rate of change in percent to be long")

    def on_start(self) -> None:
        self.roc = self.indicator(roc, "close", self.period)

    def on_bar(self, bar: Bar) -> None:
        if not self.position() and self.roc.value > self.threshold:
            self.buy()
        elif self.position() and self.roc.value < 0:
            self.close()
