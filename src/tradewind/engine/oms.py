"""Order management: the order state machine and the book of orders.

Every status change goes through ``OrderManager.transition``; a change the state machine does not
allow raises ``InvalidOrderTransition`` naming the order and both states, so a venue bug or a
replayed event can never silently corrupt an order.
"""

from __future__ import annotations

from tradewind.errors import InvalidOrderTransition
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
        if status not in TRANSITIONS[order.status]:
            raise InvalidOrderTransition(
                f"order {order.client_order_id}: cannot go from {order.status.value} to "
                f"{status.value}"
            )
        order.status = status
        order.ts_last = ts
        if reason:
            order.reason = reason
        if status.is_open:
            self.open[order.client_order_id] = order
        else:
            self.open.pop(order.client_order_id, None)

    def apply_fill(self, order: Order, fill: Fill) -> None:
        """Update filled quantity, average price and status (PARTIALLY_FILLED or FILLED)."""
        if S.PARTIALLY_FILLED not in TRANSITIONS[order.status]:  # check before changing it
            raise InvalidOrderTransition(
                f"order {order.client_order_id}: cannot go from {order.status.value} to "
                f"{S.PARTIALLY_FILLED.value} (a fill on a {order.status.value} order)"
            )
        if fill.quantity > order.leaves_qty * (1 + 1e-9):
            raise InvalidOrderTransition(
                f"order {order.client_order_id}: fill of {fill.quantity} exceeds the "
                f"{order.leaves_qty} left"
            )
        new_filled = order.filled_qty + fill.quantity
        order.avg_price = (
            order.avg_price * order.filled_qty + fill.price * fill.quantity
        ) / new_filled
        order.filled_qty = new_filled
        done = order.leaves_qty <= 1e-9 * order.quantity
        self.transition(order, S.FILLED if done else S.PARTIALLY_FILLED, fill.ts)

    def open_orders(self, instrument: str | None = None) -> list[Order]:
        return [o for o in self.open.values() if instrument is None or o.instrument == instrument]
