"""L2 order book: snapshot + deltas, best levels, stale updates, simulated taker fills."""

from __future__ import annotations

import pytest

from tradewind.errors import DataError
from tradewind.model import BookDelta, BookLevel, OrderBook, OrderSide

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def _book() -> OrderBook:
    b = OrderBook("BTCUSD")
    b.apply_snapshot(
        bids=[(99.0, 2.0), (100.0, 1.0), (98.0, 5.0)],  # unsorted on purpose
        asks=[(102.0, 3.0), (101.0, 1.5), (105.0, 10.0)],
        ts=1_000,
        sequence=10,
    )
    return b


def test_snapshot_sorted_best_first() -> None:
    b = _book()
    assert b.bids() == [BookLevel(100.0, 1.0), BookLevel(99.0, 2.0), BookLevel(98.0, 5.0)]
    assert b.asks() == [BookLevel(101.0, 1.5), BookLevel(102.0, 3.0), BookLevel(105.0, 10.0)]
    assert b.bids(depth=2) == [BookLevel(100.0, 1.0), BookLevel(99.0, 2.0)]
    assert b.best_bid() == BookLevel(100.0, 1.0)
    assert b.best_ask() == BookLevel(101.0, 1.5)
    assert b.spread() == pytest.approx(1.0)  # 101 - 100
    assert b.mid() == pytest.approx(100.5)  # (100 + 101) / 2
    assert not b.is_crossed()
    assert (b.ts, b.sequence) == (1_000, 10)


def test_snapshot_replaces_book() -> None:
    b = _book()
    b.apply_snapshot(bids=[(90.0, 1.0)], asks=[(91.0, 1.0), (92.0, 0.0)], sequence=3)
    assert b.bids() == [BookLevel(90.0, 1.0)]
    assert b.asks() == [BookLevel(91.0, 1.0)]  # a zero-size level is not a level
    assert b.sequence == 3  # a snapshot resets the sequence


def test_deltas_update_insert_and_remove() -> None:
    b = _book()
    b.apply_deltas(
        [
            BookDelta(BUY, 100.0, 0.0),  # remove the best bid
            BookDelta(BUY, 99.5, 4.0),  # new level
            BookDelta(SELL, 101.0, 0.5),  # change size
            BookDelta(SELL, 100.5, 2.0),  # new best ask
        ],
        ts=2_000,
        sequence=11,
    )
    assert b.best_bid() == BookLevel(99.5, 4.0)
    assert b.best_ask() == BookLevel(100.5, 2.0)
    assert b.asks(depth=2) == [BookLevel(100.5, 2.0), BookLevel(101.0, 0.5)]
    assert b.spread() == pytest.approx(1.0)  # 100.5 - 99.5
    assert b.mid() == pytest.approx(100.0)
    assert (b.ts, b.sequence) == (2_000, 11)
    b.apply_deltas([BookDelta(SELL, 777.0, 0.0)], sequence=12)  # removing a missing level: no-op
    assert len(b.asks()) == 4


@pytest.mark.parametrize("seq", [10, 9])
def test_stale_sequence_rejected_and_book_untouched(seq: int) -> None:
    b = _book()
    with pytest.raises(DataError, match=f"sequence {seq}"):
        b.apply_deltas([BookDelta(BUY, 100.0, 0.0)], sequence=seq)
    assert b.best_bid() == BookLevel(100.0, 1.0)
    assert b.sequence == 10


def test_bad_levels_rejected() -> None:
    b = OrderBook("X")
    with pytest.raises(DataError, match="price"):
        b.apply_deltas([BookDelta(BUY, 0.0, 1.0)])
    with pytest.raises(DataError, match="size"):
        b.apply_deltas([BookDelta(SELL, 10.0, -1.0)])


def test_empty_and_crossed() -> None:
    b = OrderBook("X")
    assert b.best_bid() is None
    assert b.best_ask() is None
    assert b.mid() is None
    assert b.spread() is None
    assert not b.is_crossed()
    b.apply_snapshot(bids=[(101.0, 1.0)], asks=[(100.0, 1.0)])
    assert b.is_crossed()


def test_simulate_fill_walks_levels() -> None:
    b = _book()
    # buy 4: 1.5 @ 101, then 2.5 of the 3 @ 102
    assert b.simulate_fill(BUY, 4.0) == [BookLevel(101.0, 1.5), BookLevel(102.0, 2.5)]
    # sell 2.5: 1 @ 100, 1.5 @ 99
    assert b.simulate_fill(SELL, 2.5) == [BookLevel(100.0, 1.0), BookLevel(99.0, 1.5)]
    # more than the book holds: everything there is (1.5 + 3 + 10 = 14.5)
    assert sum(s for _, s in b.simulate_fill(BUY, 100.0)) == pytest.approx(14.5)
    # the book is not changed
    assert b.best_ask() == BookLevel(101.0, 1.5)


def test_simulate_fill_stops_at_limit() -> None:
    b = _book()
    # a buy limited to 102 takes 1.5 @ 101 + 3 @ 102 and stops before 105
    assert b.simulate_fill(BUY, 20.0, limit=102.0) == [
        BookLevel(101.0, 1.5),
        BookLevel(102.0, 3.0),
    ]
    # a sell limited to 99.5 takes only the 100 bid
    assert b.simulate_fill(SELL, 20.0, limit=99.5) == [BookLevel(100.0, 1.0)]
    # a buy limit below the best ask takes nothing
    assert b.simulate_fill(BUY, 1.0, limit=100.5) == []
