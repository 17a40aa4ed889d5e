"""Pure value types: instruments, market data, orders, fills, positions, accounts. No I/O."""

from tradewind.model.account import Account
from tradewind.model.data import Bar, QuoteTick, TradeTick
from tradewind.model.enums import (
    AccountType,
    ContingencyType,
    CostBasis,
    InstrumentKind,
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from tradewind.model.instrument import Instrument
from tradewind.model.order import Fill, Order, new_client_order_id
from tradewind.model.orderbook import BookDelta, BookLevel, OrderBook
from tradewind.model.position import Position

__all__ = [
    "Account",
    "AccountType",
    "Bar",
    "BookDelta",
    "BookLevel",
    "ContingencyType",
    "CostBasis",
    "Fill",
    "Instrument",
    "InstrumentKind",
    "LiquiditySide",
    "Order",
    "OrderBook",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Position",
    "QuoteTick",
    "TimeInForce",
    "TradeTick",
    "TrailingOffsetType",
    "new_client_order_id",
]
