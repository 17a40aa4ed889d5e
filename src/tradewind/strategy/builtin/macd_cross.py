"""Long when the MACD line crosses above its signal line; flat when it crosses below."""

from tradewind.indicators import macd
from tradewind.model import Bar
from tradewind.strategy import Strategy, cross, param


class MacdCross(Strategy):
    name = "macd_cross"
    fast: int = param(12, ge=1)
    slow: int = param(26, ge=2)
    signal: int = param(9, ge=1)

    def validate(self) -> None:
        self.require(self.fast < self.slow, "fast must be below slow")

    def on_start(self) -> None:
        self.line, self.sig, _ = self.indicator(macd, "close", self.fast, self.slow, self.signal)

    def on_bar(self, bar: Bar) -> None:
        signal = cross(self.line, self.sig)
        if signal > 0 and not self.position():
            self.buy()
        elif signal < 0:
            self.close()
