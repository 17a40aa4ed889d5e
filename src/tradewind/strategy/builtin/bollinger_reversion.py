"""Buy a close below the lower Bollinger band; sell when price returns to the middle band."""

from tradewind.indicators import bbands
from tradewind.model import Bar
from tradewind.strategy import Strategy, param


class BollingerReversion(Strategy):
    name = "bollinger_reversion"
    period: int = param(20, ge=2)
    k: float = param(2.0, gt=0, help="band width in standard deviations")

    def on_start(self) -> None:
        _, self.mid, self.lower = self.indicator(bbands, "close", self.period, self.k)

    def on_bar(self, bar: Bar) -> None:
        if not self.position() and bar.close < self.lower.value:
            self.buy()
        elif self.position() and bar.close > self.mid.value:
            self.close()
