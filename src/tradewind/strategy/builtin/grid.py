"""Grid trading: resting buy limits below the price; each filled buy is sold one step higher,
each filled sell re-buys one step lower. Long-only, ``levels`` equal slices of the starting cash."""

from tradewind.model import Bar, Fill, OrderSide
from tradewind.strategy import Strategy, param


class Grid(Strategy):
    name = "grid"
    levels: int = param(10, ge=1, help="number of buy levels below the start price")
    step_pct: float = param(1.0, gt=0, help="distance between levels in percent")

    def on_bar(self, bar: Bar) -> None:
        if self.open_orders() or self.position():
            return
        self.slice = self.equity / self.levels  # (re)build the grid around the current price
        for i in range(1, self.levels + 1):
            px = bar.close * (1 - self.step_pct / 100) ** i
            self.buy(self.slice / px, price=px)

    def on_fill(self, fill: Fill) -> None:
        step = 1 + self.step_pct / 100
        if fill.side is OrderSide.BUY:
            self.sell(fill.quantity, price=fill.price * step)
        else:
            self.buy(fill.quantity, price=fill.price / step)
