"""The order state machine (OrderManager / TRANSITIONS) and fill bookkeeping."""

from __future__ import annotations

import itertools

import pytest

from tradewind.engine.oms import TRANSITIONS, OrderManager
from tradewind.errors import InvalidOrderTransition
from tradewind.model import Fill, LiquiditySide, Order, OrderSide, OrderStatus, OrderType

S = OrderStatus

# The lifecycle written out by hand (DESIGN.md: INITIALIZED -> SUBMITTED -> ACCEPTED ->
# PARTIALLY_FILLED -> FILLED | CANCELED | REJECTED | EXPIRED); a venue may also fill, cancel,
# reject or expire a SUBMITTED order before acknowledging it.
ALLOWED = {
    (S.INITIALIZED, S.SUBMITTED),
    (S.INITIALIZED, S.REJECTED),  # denied by the pre-trade risk checks
    (S.SUBMITTED, S.ACCEPTED),
    (S.SUBMITTED, S.REJECTED),
    (S.SUBMITTED, S.CANCELED),
    (S.SUBMITTED, S.EXPIRED),
    (S.SUBMITTED, S.PARTIALLY_FILLED),
    (S.SUBMITTED, S.FILLED),
    (S.ACCEPTED, S.PARTIALLY_FILLED),
    (S.ACCEPTED, S.FILLED),
    (S.ACCEPTED, S.CANCELED),
    (S.ACCEPTED, S.EXPIRED),
    (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
    (S.PARTIALLY_FILLED, S.FILLED),
    (S.PARTIALLY_FILLED, S.CANCELED),
    (S.PARTIALLY_FILLED, S.EXPIRED),
}
ALL_PAIRS = list(itertools.product(S, S))
FORBIDDEN = [p for p in ALL_PAIRS if p not in ALLOWED]


def _order(status: OrderStatus = S.INITIALIZED, qty: float = 3.0) -> Order:
    o = Order("BTCUSD", OrderSide.BUY, qty, OrderType.LIMIT, price=100.0)
    o.status = status
    return o


def _fill(order: Order, qty: float, price: float, ts: int = 5) -> Fill:
    return Fill(
        1, order.client_order_id, order.instrument, order.side, qty, price, 0.0, "USD",
        LiquiditySide.MAKER, ts,
    )  # fmt: skip


def test_table_matches_design() -> None:
    table = {(a, b) for a, nxt in TRANSITIONS.items() for b in nxt}
    assert table == ALLOWED
    assert set(TRANSITIONS) == set(S)
    for terminal in (S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED):
        assert not TRANSITIONS[terminal]
        assert terminal.is_closed
        assert not terminal.is_open


@pytest.mark.parametrize(("src", "dst"), sorted(ALLOWED))
def test_allowed_transition(src: OrderStatus, dst: OrderStatus) -> None:
    oms = OrderManager()
    o = _order(src)
    oms.add(o)
    oms.transition(o, dst, ts=42, reason="because")
    assert o.status is dst
    assert o.ts_last == 42
    assert o.reason == "because"
    assert (o.client_order_id in oms.open) == dst.is_open
    assert oms.open_orders() == ([o] if dst.is_open else [])


@pytest.mark.parametrize(("src", "dst"), FORBIDDEN)
def test_forbidden_transition(src: OrderStatus, dst: OrderStatus) -> None:
    oms = OrderManager()
    o = _order(src)
    oms.add(o)
    with pytest.raises(InvalidOrderTransition) as err:
        oms.transition(o, dst, ts=42)
    msg = str(err.value)
    assert f"from {src.value} to {dst.value}" in msg
    assert o.client_order_id in msg
    assert o.status is src  # unchanged
    assert o.ts_last == 0


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        (S.FILLED, S.CANCELED),
        (S.INITIALIZED, S.FILLED),
        (S.CANCELED, S.ACCEPTED),
        (S.REJECTED, S.SUBMITTED),
        (S.EXPIRED, S.FILLED),
        (S.ACCEPTED, S.SUBMITTED),
        (S.INITIALIZED, S.ACCEPTED),
    ],
)
def test_named_invalid_transitions(src: OrderStatus, dst: OrderStatus) -> None:
    o = _order(src)
    with pytest.raises(InvalidOrderTransition, match=f"{src.value} to {dst.value}"):
        OrderManager().transition(o, dst, 0)


def test_duplicate_client_id() -> None:
    oms = OrderManager()
    o = _order()
    oms.add(o)
    assert oms.get(o.client_order_id) is o
    assert oms.get("nope") is None
    with pytest.raises(InvalidOrderTransition, match="duplicate"):
        oms.add(o)


def test_partial_fills_average_price() -> None:
    oms = OrderManager()
    o = _order(S.ACCEPTED, qty=3.0)
    oms.add(o)
    oms.apply_fill(o, _fill(o, 1.0, 100.0, ts=7))
    assert o.status is S.PARTIALLY_FILLED
    assert (o.filled_qty, o.leaves_qty, o.avg_price) == (1.0, 2.0, 100.0)
    assert o.ts_last == 7
    assert oms.open_orders("BTCUSD") == [o]
    oms.apply_fill(o, _fill(o, 2.0, 103.0, ts=8))
    assert o.status is S.FILLED
    assert o.avg_price == pytest.approx(102.0)  # (1 x 100 + 2 x 103) / 3 = 306 / 3
    assert o.leaves_qty == 0.0
    assert oms.open_orders() == []


def test_fill_of_submitted_order_straight_to_filled() -> None:
    oms = OrderManager()
    o = _order(S.SUBMITTED, qty=2.0)
    oms.apply_fill(o, _fill(o, 2.0, 99.0))
    assert o.status is S.FILLED
    assert o.avg_price == 99.0


def test_overfill_raises() -> None:
    oms = OrderManager()
    o = _order(S.ACCEPTED, qty=3.0)
    oms.apply_fill(o, _fill(o, 2.0, 100.0))
    with pytest.raises(InvalidOrderTransition, match="exceeds"):
        oms.apply_fill(o, _fill(o, 1.5, 100.0))  # only 1 left
    assert (o.filled_qty, o.status) == (2.0, S.PARTIALLY_FILLED)
    oms.apply_fill(o, _fill(o, 1.0, 100.0))
    with pytest.raises(InvalidOrderTransition):
        oms.apply_fill(o, _fill(o, 0.1, 100.0))  # a filled order takes nothing more


def test_fill_on_closed_order_raises() -> None:
    o = _order(S.CANCELED, qty=3.0)
    with pytest.raises(InvalidOrderTransition, match="canceled to partially_filled"):
        OrderManager().apply_fill(o, _fill(o, 1.0, 100.0))


def test_rejected_fill_leaves_order_unchanged() -> None:
    o = _order(S.CANCELED, qty=3.0)
    with pytest.raises(InvalidOrderTransition):
        OrderManager().apply_fill(o, _fill(o, 1.0, 100.0))
    assert o.filled_qty == 0.0
    assert o.avg_price == 0.0
