"""Technical indicators, vectorized over numpy arrays.

Every function takes float64 arrays (anything ``np.asarray`` accepts) and returns float64 arrays
(or a tuple of them) of the same length, NaN during the warm-up, and is causal: the value at bar t
uses bars up to t only. Bad parameters raise ``tradewind.errors.ConfigError``.

Where TA-Lib has the indicator we call it (exact parity, C speed); the others (HMA, Keltner,
Donchian, VWAP, Ichimoku, Supertrend, z-score, rolling beta) are vectorized numpy/pandas (plus
one plain loop for Supertrend's recursion). NaN policy: leading NaN are skipped; an interior NaN
is a gap after which the indicator restarts its warm-up (see ``_util``).

Families: ``averages``, ``momentum``, ``volatility``, ``trend``, ``volume``, ``stats``,
``patterns``.
"""

from tradewind.indicators.averages import dema, ema, hma, kama, sma, tema, wma
from tradewind.indicators.momentum import cci, macd, roc, rsi, stoch, stochrsi, willr
from tradewind.indicators.patterns import PATTERN_NAMES, all_patterns, pattern
from tradewind.indicators.stats import rolling_beta, rolling_corr, simple_returns, spread, zscore
from tradewind.indicators.trend import (
    Ichimoku,
    adx,
    ichimoku,
    minus_di,
    plus_di,
    sar,
    supertrend,
)
from tradewind.indicators.volatility import atr, bbands, donchian, keltner, natr, stddev
from tradewind.indicators.volume import mfi, obv, vwap

__all__ = [
    "PATTERN_NAMES",
    "Ichimoku",
    "adx",
    "all_patterns",
    "atr",
    "bbands",
    "cci",
    "dema",
    "donchian",
    "ema",
    "hma",
    "ichimoku",
    "kama",
    "keltner",
    "macd",
    "mfi",
    "minus_di",
    "natr",
    "obv",
    "pattern",
    "plus_di",
    "roc",
    "rolling_beta",
    "rolling_corr",
    "rsi",
    "sar",
    "simple_returns",
    "sma",
    "spread",
    "stddev",
    "stoch",
    "stochrsi",
    "supertrend",
    "tema",
    "vwap",
    "willr",
    "wma",
    "zscore",
]
