"""Market data value types.

These are ``NamedTuple`` s on purpose: immutable, cheap to create (the backtest makes one per bar)
and unpackable. Timestamps are int64 nanoseconds since the epoch, UTC.
"""

from __future__ import annotations

from typing import NamedTuple

from tradewind.model.enums import OrderSide


class Bar(NamedTuple):
    """An OHLCV bar; ``ts`` is the bar's OPEN time, ``timeframe`` like ``"1m"``.

    A strategy only ever receives a bar after it has closed (at ``ts`` + the timeframe).
    """

    instrument: str
    timeframe: str
    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class QuoteTick(NamedTuple):
    """Top of book: best bid/ask and their sizes at ``ts``."""

    instrument: str
    ts: int
    bid: float
    ask: float
    bid_size: float = 0.0
    ask_size: float = 0.0

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2.0

    @property
    def spread(self) -> float:
        return self.ask - self.bid


class TradeTick(NamedTuple):
    """One trade printed on the venue; ``aggressor`` is the taker's side when known."""

    instrument: str
    ts: int
    price: float
    size: float
    aggressor: OrderSide | None = None
