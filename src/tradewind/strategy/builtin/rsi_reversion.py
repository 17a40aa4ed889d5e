"""Mean reversion: buy when RSI is oversold, sell when it is overbought."""

from tradewind.indicators import rsi
from tradewind.model import Bar
from tradewind.strategy import Strategy, param


class RsiReversion(Strategy):
    name = "rsi_reversion"
    period: int = param(14, ge=2)
    lower: float = param(30.0, gt=0, lt=100, help="buy below this RSI")
    upper: float = param(70.0, gt=0, lt=100, help="sell above this RSI")

    def validate(self) -> None:
        self.require(self.lower < self.upper, "lower must be below upper")

    def on_start(self) -> None:
        self.rsi = self.indicator(rsi, "close", self.period)

    def on_bar(self, bar: Bar) -> None:
        if not self.position() and self.rsi.value < self.lower:
            self.buy()
        elif self.position() and self.rsi.value > self.upper:
            self.close()
