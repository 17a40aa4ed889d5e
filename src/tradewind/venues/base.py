"""The one protocol every live venue implements, and the value types it reports with.

A venue client is asynchronous (it does network I/O) and venue-specific; everything the node
and the engine see is venue-neutral: ``Instrument`` s, closed ``Bar`` s, and the reports below.
Rules every client keeps (they are what make a retry safe with real money):

* ``submit`` sends the order under its ``client_order_id`` (the node commits the intent first).
  A request whose outcome is uncertain (timeout after sending, connection reset) is resolved by
  looking the client order id up — never by sending again — and raises ``OrderStateUnknown``
  when the lookup cannot settle it yet. A second ``submit`` with the same client order id must
  not create a second order.
* Order state changes and fills are reported through ``VenueReports`` (from the client's own
  streams or polls), each fill once with the venue's own execution id, so the node can drop
  duplicates across reconnects and restarts.
* Errors are ``tradewind.errors.VenueError`` subclasses whose message names the venue, the
  request and the venue's reason — and never a secret (API keys, signatures, keypairs).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from tradewind.model.data import Bar
from tradewind.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from tradewind.model.instrument import Instrument
from tradewind.model.order import Order


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """An order as the venue reports it (open-order lookups and reconciliation)."""

    client_order_id: str
    venue_order_id: str
    instrument: str
    side: OrderSide
    type: OrderType
    quantity: float
    price: float | None
    status: OrderStatus
    filled_qty: float = 0.0
    avg_price: float = 0.0
    ts: int = 0  # ns, the venue's last update time


@dataclass(frozen=True, slots=True)
class VenueFill:
    """One execution, identified by the venue's own id (``fill_id``)."""

    fill_id: str
    client_order_id: str
    venue_order_id: str
    instrument: str
    side: OrderSide
    quantity: float
    price: float
    fee: float
    fee_currency: str
    liquidity: LiquiditySide
    ts: int  # ns
    # a network (transaction) fee paid from the account's reserve, not out of the traded
    # amount (Solana); otherwise a fee in the asset bought is taken from what was bought
    network_fee: bool = False


@dataclass(frozen=True, slots=True)
class VenueBalance:
    currency: str
    total: float
    free: float


@dataclass(frozen=True, slots=True)
class VenuePosition:
    """A derivatives position (signed quantity: > 0 long, < 0 short)."""

    instrument: str
    quantity: float
    avg_price: float


class VenueReports(Protocol):
    """Where a client reports what happens to orders; the node implements it."""

    def on_order(self, report: VenueOrder) -> None: ...

    def on_fill(self, fill: VenueFill) -> None: ...


class VenueClient(Protocol):
    """What the node needs from a live venue."""

    name: str

    async def connect(self, reports: VenueReports) -> None:
        """Open connections, load markets, start the streams/polls that feed ``reports``."""
        ...

    async def close(self) -> None: ...

    async def instruments(self, symbols: Sequence[str]) -> dict[str, Instrument]:
        """Instruments with the venue's precision, limits and fees; unknown symbols raise
        ``InvalidOrder`` naming the symbol and some that exist."""
        ...

    def bars(self, symbol: str, timeframe: str, since_ns: int | None = None) -> AsyncIterator[Bar]:
        """Closed bars only, oldest first (history from ``since_ns`` first, when given), then
        live; resubscribing and back-filling after a disconnect."""
        ...

    async def submit(self, order: Order) -> VenueOrder:
        """Send ``order`` (see the module rules); returns the venue's acknowledgement."""
        ...

    async def cancel(self, order: Order) -> VenueOrder | None:
        """Cancel; ``None`` when the venue no longer has the order open."""
        ...

    async def lookup(self, client_order_id: str, symbol: str) -> VenueOrder | None:
        """The order with this client order id, or ``None`` if the venue never received it."""
        ...

    async def open_orders(self, symbols: Sequence[str]) -> list[VenueOrder]: ...

    async def fills(self, symbols: Sequence[str], since_ns: int) -> list[VenueFill]:
        """Executions at or after ``since_ns``, oldest first."""
        ...

    async def balances(self) -> list[VenueBalance]: ...

    async def positions(self, symbols: Sequence[str]) -> list[VenuePosition]: ...
