"""Orders and fills.

An ``Order`` is mutable state owned by the engine's order manager: its status changes only through
``tradewind.engine.oms`` (which validates each transition). Strategies read orders, never mutate
them. A ``Fill`` is an immutable record of one execution.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

from tradewind.errors import ConfigError
from tradewind.model.enums import (
    BUY as _BUY,
)
from tradewind.model.enums import (
    GTC as _GTC,
)
from tradewind.model.enums import (
    GTD as _GTD,
)
from tradewind.model.enums import (
    INITIALIZED as _INITIALIZED,
)
from tradewind.model.enums import (
    LIMIT as _LIMIT,
)
from tradewind.model.enums import (
    MARKET as _MARKET,
)
from tradewind.model.enums import (
    NONE as _NONE,
)
from tradewind.model.enums import (
    PERCENT as _PERCENT,
)
from tradewind.model.enums import (
    PRICE as _PRICE,
)
from tradewind.model.enums import (
    STOP_LIMIT as _STOP_LIMIT,
)
from tradewind.model.enums import (
    STOP_MARKET as _STOP_MARKET,
)
from tradewind.model.enums import (
    TRAILING_STOP as _TRAILING_STOP,
)
from tradewind.model.enums import (
    LiquiditySide,
    OrderSide,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)

_ids = itertools.count(1)


def new_client_order_id(prefix: str = "TW") -> str:
    """A client order id, generated before the order is sent (unique within the process)."""
    return f"{prefix}-{next(_ids)}"


class Order:
    """An order and its execution state.

    ``quantity`` is in base units (shares, coins, contracts). A market order may instead carry
    ``quote_quantity``: trade that much quote currency *including fees* (at most the cash
    available), with the quantity worked out at the fill price (like Binance's
    ``quoteOrderQty``); this is how "all-in" sizing buys exactly what the cash affords at the
    next open. On a sell it sizes a short by notional in a margin account.
    """

    __slots__ = (
        "active_ts",
        "avg_price",
        "client_order_id",
        "contingency",
        "expire_ts",
        "filled_qty",
        "instrument",
        "linked_ids",
        "parent_id",
        "post_only",
        "price",
        "quantity",
        "quote_quantity",
        "reason",
        "reduce_only",
        "side",
        "status",
        "tag",
        "tif",
        "trailing_offset",
        "trailing_offset_type",
        "trigger_price",
        "triggered",
        "ts_init",
        "ts_last",
        "type",
        "venue_order_id",
        "working",
    )

    def __init__(
        self,
        instrument: str,
        side: OrderSide,
        quantity: float,
        type: OrderType = _MARKET,
        *,
        price: float | None = None,
        trigger_price: float | None = None,
        trailing_offset: float | None = None,
        trailing_offset_type: TrailingOffsetType = _PRICE,
        tif: TimeInForce = _GTC,
        expire_ts: int | None = None,
        reduce_only: bool = False,
        post_only: bool = False,
        quote_quantity: float | None = None,
        client_order_id: str | None = None,
        tag: str = "",
        ts_init: int = 0,
    ) -> None:
        self.instrument = instrument
        self.side = side
        self.quantity = float(quantity)
        self.type = type
        self.price = price
        self.trigger_price = trigger_price
        self.trailing_offset = trailing_offset
        self.trailing_offset_type = trailing_offset_type
        self.tif = tif
        self.expire_ts = expire_ts
        self.reduce_only = reduce_only
        self.post_only = post_only
        self.quote_quantity = quote_quantity
        self.client_order_id = client_order_id or new_client_order_id()
        self.venue_order_id: str | None = None
        self.tag = tag
        self.status = _INITIALIZED
        self.filled_qty = 0.0
        self.avg_price = 0.0
        self.ts_init = ts_init
        self.ts_last = ts_init
        self.active_ts = ts_init
        self.triggered = False
        self.working = False  # True once the venue has seen it (after submission latency)
        self.reason = ""
        self.contingency = _NONE
        self.linked_ids: tuple[str, ...] = ()
        self.parent_id: str | None = None
        self.validate()

    def validate(self) -> None:
        """Check the fields fit the order type; raises ``ConfigError`` naming the bad field."""
        problem = self._problem()
        if problem is not None:
            where = f"order {self.client_order_id} ({self.type} {self.side} {self.instrument})"
            raise ConfigError(f"{where}: {problem}")

    def _problem(self) -> str | None:
        if (
            self.type is _MARKET
            and self.price is None
            and self.trigger_price is None
            and self.trailing_offset is None
            and not self.post_only
            and self.tif is not _GTD
        ):  # the common case, decided in a few comparisons
            if self.quote_quantity is None:
                return None if self.quantity > 0 else f"quantity must be > 0, got {self.quantity}"
            return (
                None
                if self.quote_quantity > 0
                else (f"quote_quantity must be > 0, got {self.quote_quantity}")
            )
        if self.quote_quantity is not None:
            if self.type is not _MARKET:
                return "quote_quantity is only for market orders"
            if not self.quote_quantity > 0:
                return f"quote_quantity must be > 0, got {self.quote_quantity}"
        elif not self.quantity > 0:
            return f"quantity must be > 0, got {self.quantity}"
        needs_price = self.type in (_LIMIT, _STOP_LIMIT)
        needs_trigger = self.type in (_STOP_MARKET, _STOP_LIMIT)
        if needs_price and not (self.price is not None and self.price > 0):
            return f"a {self.type.value} order needs a price > 0, got {self.price}"
        if not needs_price and self.price is not None:
            return f"a {self.type.value} order takes no limit price"
        if needs_trigger and not (self.trigger_price is not None and self.trigger_price > 0):
            return f"a {self.type.value} order needs a trigger_price > 0, got {self.trigger_price}"
        if not needs_trigger and self.type is not _TRAILING_STOP and self.trigger_price is not None:
            return f"a {self.type.value} order takes no trigger_price"
        if self.type is _TRAILING_STOP:
            if not (self.trailing_offset is not None and self.trailing_offset > 0):
                return "a trailing stop needs a trailing_offset > 0"
            if self.trailing_offset_type is _PERCENT and not self.trailing_offset < 1:
                return (
                    f"a percent trailing_offset is a fraction below 1 (0.02 = 2 %), "
                    f"got {self.trailing_offset}"
                )
        elif self.trailing_offset is not None:
            return "only trailing stops take a trailing_offset"
        if self.tif is _GTD and self.expire_ts is None:
            return "GTD needs expire_ts"
        if self.post_only and self.type is not _LIMIT:
            return "post_only is only for limit orders"
        return None

    @property
    def leaves_qty(self) -> float:
        """Quantity still to fill."""
        left = self.quantity - self.filled_qty
        return left if left > 0.0 else 0.0

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def is_closed(self) -> bool:
        return self.status.is_closed

    @property
    def is_stop(self) -> bool:
        return self.type in (_STOP_MARKET, _STOP_LIMIT, _TRAILING_STOP)

    def to_dict(self) -> dict[str, object]:
        return {
            "client_order_id": self.client_order_id,
            "instrument": self.instrument,
            "side": str(self.side),
            "type": str(self.type),
            "quantity": self.quantity,
            "price": self.price,
            "trigger_price": self.trigger_price,
            "trailing_offset": self.trailing_offset,
            "tif": str(self.tif),
            "reduce_only": self.reduce_only,
            "post_only": self.post_only,
            "status": str(self.status),
            "filled_qty": self.filled_qty,
            "avg_price": self.avg_price,
            "ts_init": self.ts_init,
            "ts_last": self.ts_last,
            "reason": self.reason,
            "parent_id": self.parent_id,
            "linked_ids": list(self.linked_ids),
            "contingency": str(self.contingency),
            "tag": self.tag,
        }

    def __repr__(self) -> str:
        px = f" @{self.price}" if self.price is not None else ""
        trg = f" trg {self.trigger_price}" if self.trigger_price is not None else ""
        return (
            f"Order({self.client_order_id} {self.side.value} {self.quantity} {self.instrument} "
            f"{self.type.value}{px}{trg} {self.tif.value} {self.status.value})"
        )


class Fill(NamedTuple):
    """One execution of (part of) an order. ``fee`` is in ``fee_currency``, always >= 0 here."""

    fill_id: int | str  # the simulated venue numbers fills; a real venue names them
    client_order_id: str
    instrument: str
    side: OrderSide
    quantity: float
    price: float
    fee: float
    fee_currency: str
    liquidity: LiquiditySide
    ts: int
    liquidation: bool = False

    @property
    def signed_qty(self) -> float:
        return self.quantity if self.side is _BUY else -self.quantity
