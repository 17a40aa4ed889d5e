"""The engine's venue when orders go to a real venue client (CCXT, Solana, ...).

The engine is synchronous; a venue client is asynchronous. ``VenueLink`` is what the engine
calls (``submit`` / ``cancel``): each call becomes a task on the running event loop, and what
the venue reports back (acknowledgements, state changes, fills) is turned into the engine's
own events — the same ``order_event`` / ``order_fill`` the simulated venue uses, so the OMS
state machine, the portfolio and the recorder work unchanged.

Rules that keep real money safe:

* The intent is committed by the recorder before ``submit`` is called (``order.submitted``).
* A submit whose outcome is unknown (``OrderStateUnknown``) leaves the order SUBMITTED and in
  ``uncertain``; the node looks it up again until the venue settles it. It is never re-sent.
* Each venue fill is applied once (``fill_ids``), whatever the number of reports of it.
* A terminal report (canceled, expired) that says more was filled than we have applied waits
  for those fills, so a late fill never lands on a closed order.
* An order sized in quote currency (``quote_quantity``: "spend this much") learns its quantity
  from the venue: its fills are held until the venue reports the order done with its executed
  quantity, then applied together.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from tradewind.engine.core import TradingEngine
from tradewind.errors import OrderStateUnknown, VenueError
from tradewind.model.enums import OrderSide, OrderStatus
from tradewind.model.instrument import Instrument
from tradewind.model.order import Fill, Order
from tradewind.venues.base import VenueClient, VenueFill, VenueOrder

log = logging.getLogger("tradewind.live")

_TERMINAL = (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED)
_EPS = 1e-9


def now_ns() -> int:
    return time.time_ns()


class VenueLink:
    """One trader's connection from its engine to a shared venue client."""

    def __init__(
        self,
        client: VenueClient,
        engine: TradingEngine,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.engine = engine
        self.on_change = on_change  # wakes the node to commit what changed
        self.fill_ids: set[str] = set()
        self.uncertain: set[str] = set()  # client ids whose submit the venue has not settled
        self._pending_end: dict[str, VenueOrder] = {}  # terminal reports waiting for fills
        self._held: dict[str, list[VenueFill]] = {}  # fills of quote-sized orders, see above
        self._tasks: set[asyncio.Task[None]] = set()
        self.book: dict[str, list[Order]] = {}  # the simulated venue's; empty for a live venue

    # --- the engine's Venue protocol ------------------------------------------------------------

    def submit(self, order: Order, ts: int) -> None:
        self._spawn(self._submit(order))

    def cancel(self, order: Order, ts: int, reason: str = "canceled by strategy") -> None:
        self._spawn(self._cancel(order))

    def modify(
        self,
        order: Order,
        ts: int,
        *,
        quantity: float | None = None,
        price: float | None = None,
        trigger_price: float | None = None,
    ) -> None:
        raise VenueError(
            f"{self.client.name}: changing an open order is not supported on live venues yet "
            f"({order.client_order_id}); cancel it and submit a new one"
        )

    # what the node's recovery asks of any venue (the simulated one keeps more)
    def counters(self) -> dict[str, int]:
        return {"fill_ids": 0, "seq": 0}

    def set_counters(self, counters: dict[str, int]) -> None:
        """Nothing to restore: a live venue numbers its own fills."""

    def restore(self, order: Order, parent: Order | None = None) -> None:
        """An open order rebuilt from the store is still on the venue (reconciliation checks)."""

    # --- tasks --------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: venue task failed: %s", self.client.name, task.exception())

    async def drain(self) -> None:
        """Wait for every request in flight (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _submit(self, order: Order) -> None:
        try:
            ack = await self.client.submit(order)
        except OrderStateUnknown as exc:
            self.uncertain.add(order.client_order_id)
            log.warning("%s: %s", self.client.name, exc)
            return
        except VenueError as exc:
            if order.status is OrderStatus.SUBMITTED:
                self.engine.order_event(order, OrderStatus.REJECTED, now_ns(), str(exc))
                self.on_change()
            return
        self.on_order(ack)

    async def _cancel(self, order: Order) -> None:
        try:
            report = await self.client.cancel(order)
        except VenueError as exc:
            log.warning("%s: cancel %s failed: %s", self.client.name, order.client_order_id, exc)
            return
        if report is not None:
            self.on_order(report)

    async def resolve_uncertain(self, symbol: str) -> None:
        """Look every unsettled submit up; found: adopt the venue's state, absent: rejected
        (the venue never received it, so nothing was traded)."""
        for cid in sorted(self.uncertain):
            order = self.engine.oms.get(cid)
            if order is None or not order.is_open:
                self.uncertain.discard(cid)
                continue
            try:
                found = await self.client.lookup(cid, symbol)
            except VenueError as exc:
                log.warning("%s: lookup of %s failed: %s", self.client.name, cid, exc)
                continue
            self.uncertain.discard(cid)
            if found is None:
                self.engine.order_event(
                    order, OrderStatus.REJECTED, now_ns(), "the venue never received the order"
                )
                self.on_change()
            else:
                self.on_order(found)

    # --- venue reports ------------------------------------------------------------------------

    def on_order(self, report: VenueOrder) -> None:
        order = self.engine.oms.get(report.client_order_id)
        if order is None or not order.is_open:
            return
        if report.venue_order_id:
            order.venue_order_id = report.venue_order_id
        ts = report.ts or now_ns()
        if order.status is OrderStatus.SUBMITTED and report.status is not OrderStatus.REJECTED:
            self.engine.order_event(order, OrderStatus.ACCEPTED, ts)
        done = report.status in _TERMINAL or report.status is OrderStatus.FILLED
        if done and _sized_by_venue(order) and report.filled_qty > 0:
            order.quantity = report.filled_qty  # what the quote amount bought
            for vf in self._held.pop(order.client_order_id, []):
                self.on_fill(vf)
            if not order.is_open:
                self.on_change()
                return
        if done:
            if report.filled_qty > order.filled_qty + _EPS * max(1.0, order.quantity):
                self._pending_end[order.client_order_id] = report  # its fills come first
            else:
                self._end(order, report, ts)
        self.on_change()

    def _end(self, order: Order, report: VenueOrder, ts: int) -> None:
        """The venue closed the order and every fill it reports has been applied."""
        if not order.is_open:
            return
        if report.status is OrderStatus.FILLED:
            # done at the venue with less than asked (a DEX swap delivers what the pool gave):
            # the order is what was executed
            if order.filled_qty > 0:
                order.quantity = order.filled_qty
                self.engine.order_event(order, OrderStatus.FILLED, ts, "filled at the venue")
            return
        self.engine.order_event(order, report.status, ts, report.status.value)

    def on_fill(self, vf: VenueFill) -> bool:
        """Apply one execution (once). False: unknown order or already applied."""
        if vf.fill_id in self.fill_ids:
            return False
        order = self.engine.oms.get(vf.client_order_id)
        if order is None or order.is_closed:
            return False
        if order.status is OrderStatus.SUBMITTED:
            self.engine.order_event(order, OrderStatus.ACCEPTED, vf.ts)
        if _sized_by_venue(order):
            held = self._held.setdefault(order.client_order_id, [])
            if all(h.fill_id != vf.fill_id for h in held):
                held.append(vf)
            return True
        inst = self.engine.instruments[vf.instrument]
        fee_currency = vf.fee_currency or inst.quote
        fill = Fill(vf.fill_id, vf.client_order_id, vf.instrument, vf.side, vf.quantity,
                    vf.price, vf.fee, fee_currency, vf.liquidity, vf.ts)  # fmt: skip
        self.engine.order_fill(order, fill, booked=_booked(fill, inst, vf.network_fee))
        self.fill_ids.add(vf.fill_id)
        end = self._pending_end.get(order.client_order_id)
        if end is not None and order.filled_qty + _EPS * order.quantity >= end.filled_qty:
            del self._pending_end[order.client_order_id]
            self._end(order, end, end.ts or vf.ts)
        self.on_change()
        return True


def _sized_by_venue(order: Order) -> bool:
    """A quote-sized order whose executed quantity the venue has not reported yet."""
    return order.quote_quantity is not None and order.quantity == 0.0


def _booked(fill: Fill, inst: Instrument, network_fee: bool = False) -> Fill:
    """The fill as the strategy's account sees it, fees in the quote currency.

    A trading fee charged in the base asset (Binance's default on a buy) changes the base the
    account holds: a buy brings ``quantity - fee``, a sell takes ``quantity + fee``; the quote
    paid or received is unchanged, so the fee, valued at the fill price, is booked in quote. A
    network fee (a Solana transaction's) is paid from the account's reserve: the position is
    the traded amount, the fee is booked in quote when it is paid in the base asset. A fee in
    any other asset (an exchange token; SOL for a non-SOL pair) is not booked.
    """
    if fill.fee_currency == inst.quote:
        return fill
    if fill.fee_currency == inst.base and network_fee:
        return fill._replace(fee=fill.fee * fill.price, fee_currency=inst.quote)
    if fill.fee_currency == inst.base and fill.fee:
        net = fill.quantity - fill.fee if fill.side is OrderSide.BUY else fill.quantity + fill.fee
        return fill._replace(quantity=net, fee=fill.fee * fill.price, fee_currency=inst.quote)
    return fill._replace(fee=0.0, fee_currency=inst.quote)
