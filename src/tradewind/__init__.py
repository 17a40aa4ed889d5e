"""Tradewind: research, backtest, paper and live trading with the same strategy code."""

__version__ = "0.1.0"
