"""Turtle-style breakout: buy a close above the prior ``entry``-bar high, exit below the prior
``exit``-bar low."""

from tradewind.indicators import donchian
from tradewind.model import Bar
from tradewind.strategy import Strategy, param


class DonchianBreakout(Strategy):
    name = "donchian_breakout"
    entry: int = param(20, ge=1, help="breakout lookback (bars)")
    exit: int = param(10, ge=1, help="exit lookback (bars)")

    def on_start(self) -> None:
        self.upper, _ = self.indicator(donchian, "high", "low", self.entry)
        _, self.lower = self.indicator(donchian, "high", "low", self.exit)

    def on_bar(self, bar: Bar) -> None:
        if len(self.upper) < 2:
            return
        if not self.position() and bar.close > self.upper[-2]:
            self.buy()
        elif self.position() and bar.close < self.lower[-2]:
            self.close()
