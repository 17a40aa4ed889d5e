"""Built-in strategies, by name (``tradewind backtest --strategy NAME``)."""

from tradewind.strategy.base import Strategy
from tradewind.strategy.builtin.bollinger_reversion import BollingerReversion
from tradewind.strategy.builtin.donchian_breakout import DonchianBreakout
from tradewind.strategy.builtin.ema_rsi import EmaRsi
from tradewind.strategy.builtin.grid import Grid
from tradewind.strategy.builtin.macd_cross import MacdCross
from tradewind.strategy.builtin.momentum import Momentum
from tradewind.strategy.builtin.pairs import Pairs
from tradewind.strategy.builtin.rsi_reversion import RsiReversion
from tradewind.strategy.builtin.sma_cross import SmaCross

BUILTINS: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (
        SmaCross,
        EmaRsi,
        MacdCross,
        RsiReversion,
        BollingerReversion,
        DonchianBreakout,
        Momentum,
        Pairs,
        Grid,
    )
}

__all__ = ["BUILTINS"]
