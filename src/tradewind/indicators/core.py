"""Backward-compatible home of the original indicators; the code lives in the family modules."""

from __future__ import annotations

from tradewind.indicators.averages import ema, sma
from tradewind.indicators.momentum import macd, roc, rsi
from tradewind.indicators.stats import spread, zscore
from tradewind.indicators.volatility import bbands, donchian, stddev

__all__ = ["bbands", "donchian", "ema", "macd", "roc", "rsi", "sma", "spread", "stddev", "zscore"]
