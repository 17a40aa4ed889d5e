"""Technical indicators (vectorized numpy)."""

from tradewind.indicators.core import (
    bbands,
    donchian,
    ema,
    macd,
    roc,
    rsi,
    sma,
    spread,
    stddev,
    zscore,
)

__all__ = ["bbands", "donchian", "ema", "macd", "roc", "rsi", "sma", "spread", "stddev", "zscore"]
