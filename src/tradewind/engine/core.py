"""The trading engine: the one object a strategy talks to, in backtest, paper and live alike.

It owns the clock, the message bus, the order manager, the risk checks, the portfolio and the
market-data feeds a strategy reads. A venue (simulated or real) is plugged in with
``attach_venue``; it reports back through ``order_event`` / ``order_fill`` / ``order_updated``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from tradewind.engine.bus import MessageBus
from tradewind.engine.clock import Clock
from tradewind.engine.oms import OrderManager
from tradewind.engine.portfolio import Portfolio
from tradewind.engine.risk import RiskEngine
from tradewind.errors import ConfigError, LookAheadError
from tradewind.model.enums import (
    REJECTED as _REJECTED,
)
from tradewind.model.enums import (
    SUBMITTED as _SUBMITTED,
)
from tradewind.model.enums import OrderStatus
from tradewind.model.instrument import Instrument
from tradewind.model.order import Fill, Order, new_client_order_id

if TYPE_CHECKING:
    from numpy.typing import NDArray


class Venue(Protocol):
    """What the engine needs from any venue: take, cancel and change orders."""

    def submit(self, order: Order, ts: int) -> None: ...

    def cancel(self, order: Order, ts: int, reason: str = ...) -> None: ...

    def modify(
        self,
        order: Order,
        ts: int,
        *,
        quantity: float | None = ...,
        price: float | None = ...,
        trigger_price: float | None = ...,
    ) -> None: ...


class Listener(Protocol):
    """The engine's view of a strategy: the callbacks it is sent."""

    def on_order(self, order: Order) -> None: ...

    def on_fill(self, fill: Fill) -> None: ...


FIELDS = ("open", "high", "low", "close", "volume")
_TOPICS = {s: f"order.{s.value}" for s in OrderStatus}


class Feed:
    """One bar series (instrument × timeframe) and how much of it is known so far.

    ``cursor`` is the index of the last CLOSED bar the strategy may see (-1 before the first).
    Everything a strategy reads goes through it, which is what makes look-ahead impossible.
    """

    __slots__ = ("_buffers", "arrays", "cursor", "instrument", "tf_ns", "timeframe")

    def __init__(
        self, instrument: str, timeframe: str, tf_ns: int, arrays: dict[str, NDArray[Any]]
    ) -> None:
        self.instrument = instrument
        self.timeframe = timeframe
        self.tf_ns = tf_ns
        arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}  # fast buffer access
        for arr in arrays.values():
            arr.flags.writeable = False  # strategies get views; history is immutable
        self.arrays = arrays  # "ts" (int64 ns, bar open) and the OHLCV float64 columns
        self.cursor = -1
        self._buffers: dict[str, NDArray[Any]] | None = None  # live feeds: see ``append``

    def __len__(self) -> int:
        return len(self.arrays["ts"])

    def known(self, field: str) -> NDArray[Any]:
        """The column up to the current bar: a numpy view, never a copy."""
        arr = self.arrays.get(field)
        if arr is None:
            raise ConfigError(f"no field {field!r}; bars have ts, {', '.join(FIELDS)}")
        return arr[: self.cursor + 1]

    def append(self, ts: int, values: dict[str, float]) -> None:
        """Add one closed bar at the end (live feeds). The columns grow in place inside a
        buffer of doubling capacity; ``arrays`` stay read-only views of the filled part, so
        what a strategy already holds keeps its values."""
        n = len(self)
        buffers = self._buffers
        if buffers is None or n >= len(buffers["ts"]):
            cap = max(64, 2 * n)
            grown = {}
            for k, arr in self.arrays.items():
                buf = np.empty(cap, dtype=arr.dtype)
                buf[:n] = arr
                grown[k] = buf
            buffers = self._buffers = grown
        for k, buf in buffers.items():
            buf[n] = ts if k == "ts" else values.get(k, np.nan)
        arrays = {}
        for k, buf in buffers.items():
            view = buf[: n + 1]
            view.flags.writeable = False
            arrays[k] = view
        self.arrays = arrays

    def last(self, field: str = "close") -> float:
        if self.cursor < 0:
            raise LookAheadError(f"{self.instrument} {self.timeframe}: no bar has closed yet")
        return float(self.arrays[field][self.cursor])


def _overridden(listener: Any, name: str) -> Any:
    """The bound callback, or None when the listener's class keeps the base no-op (marked by
    ``_noop = True`` on the function)."""
    if listener is None:
        return None
    fn = getattr(listener, name, None)
    if fn is None or getattr(getattr(fn, "__func__", fn), "_noop", False):
        return None
    return fn


class TradingEngine:
    def __init__(
        self,
        instruments: dict[str, Instrument],
        portfolio: Portfolio,
        *,
        clock: Clock | None = None,
        bus: MessageBus | None = None,
        risk: RiskEngine | None = None,
    ) -> None:
        self.instruments = instruments
        self.portfolio = portfolio
        self.clock = clock or Clock()
        self.bus = bus or MessageBus()
        self.oms = OrderManager()
        self.risk = risk or RiskEngine()
        self.feeds: dict[tuple[str, str], Feed] = {}
        self.exec_feed: dict[str, Feed] = {}  # the finest bar feed of each instrument
        self.venue: Venue | None = None
        self.listener: Listener | None = None
        self._on_order: Callable[[Order], None] | None = None
        self._on_fill: Callable[[Fill], None] | None = None
        self.last_tick_price: dict[str, float] = {}
        # client order ids: process-unique by default; a live node installs a durable sequence
        self.next_order_id: Callable[[], str] = new_client_order_id
        portfolio.mark = self.mark

    # --- wiring -------------------------------------------------------------------------------

    def attach_venue(self, venue: Venue) -> None:
        self.venue = venue

    def add_feed(self, feed: Feed) -> None:
        if feed.instrument not in self.instruments:
            raise ConfigError(f"feed for unknown instrument {feed.instrument!r}")
        self.feeds[(feed.instrument, feed.timeframe)] = feed
        best = self.exec_feed.get(feed.instrument)
        if best is None or feed.tf_ns < best.tf_ns:
            self.exec_feed[feed.instrument] = feed

    def feed(self, instrument: str, timeframe: str | None = None) -> Feed:
        if timeframe is None:
            found = self.exec_feed.get(instrument)
        else:
            found = self.feeds.get((instrument, timeframe))
        if found is None:
            have = ", ".join(f"{s} {tf}" for s, tf in self.feeds) or "none"
            what = instrument + (f" {timeframe}" if timeframe else "")
            raise ConfigError(f"no bar data for {what} (have: {have})")
        return found

    def mark(self, instrument: str) -> float:
        """Last known price: the latest tick, else the last closed bar's close."""
        px = self.last_tick_price.get(instrument)
        if px is not None:
            return px
        feed = self.exec_feed.get(instrument)
        if feed is None or feed.cursor < 0:
            return float("nan")
        return float(feed.arrays["close"][feed.cursor])

    # --- orders from strategies ---------------------------------------------------------------

    def submit(self, order: Order) -> Order:
        """Pre-trade risk checks, then to the venue. A denied order comes back REJECTED."""
        if self.venue is None:
            raise ConfigError("no venue attached to the engine")
        if order.instrument not in self.instruments:
            raise ConfigError(
                f"unknown instrument {order.instrument!r}; known: {', '.join(self.instruments)}"
            )
        now = self.clock.now()
        order.ts_init = order.ts_last = order.active_ts = now
        self.oms.add(order)
        if self.risk.active:
            sym = order.instrument
            price = order.price if order.price is not None else self.mark(sym)
            pending = sum(
                o.side.sign * o.leaves_qty
                for o in self.oms.open.values()
                if o.instrument == sym and not o.reduce_only
            )
            reason = self.risk.check(
                order,
                price,
                self.portfolio.qty[sym],
                multiplier=self.instruments[sym].multiplier,
                pending_qty=pending,
            )
            if reason is not None:
                self.order_event(order, _REJECTED, now, reason)
                return order
        self.oms.transition(order, _SUBMITTED, now)
        self.bus.publish("order.submitted", order)
        self.venue.submit(order, now)
        return order

    def cancel(self, order: Order) -> None:
        if self.venue is not None and order.is_open:
            self.venue.cancel(order, self.clock.now())

    def modify(
        self,
        order: Order,
        *,
        quantity: float | None = None,
        price: float | None = None,
        trigger_price: float | None = None,
    ) -> None:
        if self.venue is not None and order.is_open:
            self.venue.modify(
                order, self.clock.now(), quantity=quantity, price=price, trigger_price=trigger_price
            )

    # --- venue events -------------------------------------------------------------------------

    def order_event(self, order: Order, status: OrderStatus, ts: int, reason: str = "") -> None:
        if order.client_order_id not in self.oms.orders:
            self.oms.add(order)  # venue-originated (liquidation)
        self.oms.transition(order, status, ts, reason)
        if self.bus.active:
            self.bus.publish(_TOPICS[status], order)
        if self._on_order is not None:
            self._on_order(order)

    def order_updated(self, order: Order, ts: int) -> None:
        order.ts_last = ts
        self.bus.publish("order.updated", order)
        if self.listener is not None:
            self.listener.on_order(order)

    def order_fill(self, order: Order, fill: Fill, booked: Fill | None = None) -> None:
        """``fill`` executes (part of) ``order``. ``booked``: what the account really changed by
        when it differs (a real venue that charges its fee in the asset bought); it is what the
        portfolio, the bus and the strategy see."""
        self.oms.apply_fill(order, fill)
        if booked is not None:
            fill = booked
        self.portfolio.apply_fill(fill)
        if self.bus.active:
            self.bus.publish("fill", fill)
        if self._on_order is not None:
            self._on_order(order)
        if self._on_fill is not None:
            self._on_fill(fill)

    def set_listener(self, listener: Listener | None) -> None:
        """Route order/fill events to ``listener``; callbacks it leaves as no-ops are skipped."""
        self.listener = listener
        self._on_order = _overridden(listener, "on_order")
        self._on_fill = _overridden(listener, "on_fill")
