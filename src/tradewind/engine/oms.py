"""Order management: the order state machine and the book of orders.

Every status change goes through ``OrderManager.transition``; a change the state machine does not
allow raises ``InvalidOrderTransition`` naming the order and both states, so a venue bug or a
replayed event can never silently corrupt an order.
"""

from __future__ import annotations

from tradewind.errors import InvalidOrderTransition
from tradewind.model.enums import (
    FILLED as _FILLED,
)
from tradewind.model.enums import (
    PARTIALLY_FILLED as _PARTIALLY_FILLED,
)
from tradewind.model.enums import OrderStatus as S
from tradewind.model.order import Fill, Order

TRANSITIONS: dict[S, frozenset[S]] = {
    S.INITIALIZED: frozenset({S.SUBMITTED, S.REJECTED}),
    S.SUBMITTED: frozenset(
        {S.ACCEPTED, S.REJECTED, S.CANCELED, S.EXPIRED, S.PARTIALLY_FILLED, S.FILLED}
    ),
    S.ACCEPTED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}


# Enum hashing is a Python call on 3.11; the hot path checks transitions by object identity.
_ALLOWED: dict[int, frozenset[int]] = {
    id(src): frozenset(id(dst) for dst in dsts) for src, dsts in TRANSITIONS.items()
}
_OPEN_IDS = frozenset(id(s) for s in S if s.is_open)


class OrderManager:
    """Holds every order by client id and applies validated transitions and fills."""

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.open: dict[str, Order] = {}

    def add(self, order: Order) -> None:
        if order.client_order_id in self.orders:
            raise InvalidOrderTransition(f"duplicate client order id {order.client_order_id}")
        self.orders[order.client_order_id] = order

    def get(self, client_order_id: str) -> Order | None:
        return self.orders.get(client_order_id)

    def transition(self, order: Order, status: S, ts: int, reason: str = "") -> None:
        if id(status) not in _ALLOWED[id(order.status)]:
            raise InvalidOrderTransition(
                f"order {order.client_order_id}: cannot go from {order.status.value} to "
                f"{status.value}"
            )
        order.status = status
        order.ts_last = ts
        if reason:
            order.reason = reason
        if id(status) in _OPEN_IDS:
            self.open[order.client_order_id] = order
        else:
            self.open.pop(order.client_order_id, None)

    def apply_fill(self, order: Order, fill: Fill) -> None:
        """Update filled quantity, average price and status (PARTIALLY_FILLED or FILLED)."""
        if id(_PARTIALLY_FILLED) not in _ALLOWED[id(order.status)]:  # check before changing it
            raise InvalidOrderTransition(
                f"order {order.client_order_id}: cannot go from {order.status.value} to "
                f"{S.PARTIALLY_FILLED.value} (a fill on a {order.status.value} order)"
            )
        filled, qty = order.filled_qty, fill.quantity
        left = order.quantity - filled
        if qty > left * (1 + 1e-9):
            raise InvalidOrderTransition(
                f"order {order.client_order_id}: fill of {qty} exceeds the {left} left"
            )
        new_filled = filled + qty
        order.avg_price = (order.avg_price * filled + fill.price * qty) / new_filled
        order.filled_qty = new_filled
        done = order.quantity - new_filled <= 1e-9 * order.quantity
        self.transition(order, _FILLED if done else _PARTIALLY_FILLED, fill.ts)

    def open_orders(self, instrument: str | None = None) -> list[Order]:
        return [o for o in self.open.values() if instrument is None or o.instrument == instrument]
