"""Level-2 order book: aggregated size per price level, built from a snapshot plus deltas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from tradewind.errors import DataError
from tradewind.model.enums import OrderSide


class BookLevel(NamedTuple):
    price: float
    size: float


class BookDelta(NamedTuple):
    """Set the size at one level; ``size == 0`` deletes the level (exchange L2 diff semantics)."""

    side: OrderSide  # BUY = bid side, SELL = ask side
    price: float
    size: float


class OrderBook:
    """An L2 book for one instrument.

    ``apply_snapshot`` replaces the book; ``apply_deltas`` applies diffs in order. ``sequence``
    guards against applying stale or out-of-order updates (a gap means the book must be
    re-snapshotted, as every exchange's L2 stream documents).
    """

    __slots__ = ("_asks", "_bids", "instrument", "sequence", "ts")

    def __init__(self, instrument: str) -> None:
        self.instrument = instrument
        self._bids: dict[float, float] = {}
        self._asks: dict[float, float] = {}
        self.sequence = 0
        self.ts = 0

    def apply_snapshot(
        self,
        bids: Iterable[tuple[float, float]],
        asks: Iterable[tuple[float, float]],
        *,
        ts: int = 0,
        sequence: int = 0,
    ) -> None:
        self._bids = {}
        self._asks = {}
        for side, levels in ((OrderSide.BUY, bids), (OrderSide.SELL, asks)):
            for price, size in levels:
                self._set(side, price, size)
        self.ts = ts
        self.sequence = sequence

    def apply_deltas(
        self, deltas: Iterable[BookDelta], *, ts: int = 0, sequence: int | None = None
    ) -> None:
        if sequence is not None and sequence <= self.sequence:
            raise DataError(
                f"{self.instrument}: book update sequence {sequence} is not after the current "
                f"{self.sequence} (stale or duplicated update)"
            )
        for d in deltas:
            self._set(d.side, d.price, d.size)
        self.ts = ts or self.ts
        if sequence is not None:
            self.sequence = sequence

    def _set(self, side: OrderSide, price: float, size: float) -> None:
        if not price > 0:
            raise DataError(f"{self.instrument}: book price must be > 0, got {price!r}")
        if not size >= 0:
            raise DataError(f"{self.instrument}: book size must be >= 0, got {size!r} at {price}")
        levels = self._bids if side is OrderSide.BUY else self._asks
        if size == 0:
            levels.pop(price, None)
        else:
            levels[price] = size

    def bids(self, depth: int | None = None) -> list[BookLevel]:
        """Bid levels, best (highest) first."""
        prices = sorted(self._bids, reverse=True)[:depth]
        return [BookLevel(p, self._bids[p]) for p in prices]

    def asks(self, depth: int | None = None) -> list[BookLevel]:
        """Ask levels, best (lowest) first."""
        prices = sorted(self._asks)[:depth]
        return [BookLevel(p, self._asks[p]) for p in prices]

    def best_bid(self) -> BookLevel | None:
        return BookLevel(p := max(self._bids), self._bids[p]) if self._bids else None

    def best_ask(self) -> BookLevel | None:
        return BookLevel(p := min(self._asks), self._asks[p]) if self._asks else None

    def mid(self) -> float | None:
        bid, ask = self.best_bid(), self.best_ask()
        return None if bid is None or ask is None else (bid.price + ask.price) / 2.0

    def spread(self) -> float | None:
        bid, ask = self.best_bid(), self.best_ask()
        return None if bid is None or ask is None else ask.price - bid.price

    def is_crossed(self) -> bool:
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid.price >= ask.price

    def simulate_fill(
        self, side: OrderSide, quantity: float, limit: float | None = None
    ) -> list[BookLevel]:
        """Walk the opposite side for a taker order: the (price, size) slices it would fill.

        Stops at ``limit`` when given. Sizes sum to at most ``quantity`` (less if the book or the
        limit runs out). Does not change the book.
        """
        levels = self.asks() if side is OrderSide.BUY else self.bids()
        out: list[BookLevel] = []
        left = quantity
        for price, size in levels:
            if left <= 0:
                break
            if limit is not None and (price > limit if side is OrderSide.BUY else price < limit):
                break
            take = min(size, left)
            out.append(BookLevel(price, take))
            left -= take
        return out

    def __repr__(self) -> str:
        return f"OrderBook({self.instrument}, bid={self.best_bid()}, ask={self.best_ask()})"
