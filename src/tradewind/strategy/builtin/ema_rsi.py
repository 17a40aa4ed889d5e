"""Buy RSI dips in an uptrend (close above the EMA); sell when RSI recovers or the trend breaks."""

from tradewind.indicators import ema, rsi
from tradewind.model import Bar
from tradewind.strategy import Strategy, param


class EmaRsi(Strategy):
    name = "ema_rsi"
    ema_period: int = param(200, ge=2, help="trend EMA period")
    rsi_period: int = param(14, ge=2, help="RSI period")
    entry: float = param(30.0, gt=0, lt=100, help="buy when RSI is below this")
    exit: float = param(70.0, gt=0, lt=100, help="sell when RSI is above this")

    def on_start(self) -> None:
        self.trend = self.indicator(ema, "close", self.ema_period)
        self.rsi = self.indicator(rsi, "close", self.rsi_period)

    def on_bar(self, bar: Bar) -> None:
        if not self.position():
            if bar.close > self.trend.value and self.rsi.value < self.entry:
                self.buy()
        elif self.rsi.value > self.exit or bar.close < self.trend.value:
            self.close()
