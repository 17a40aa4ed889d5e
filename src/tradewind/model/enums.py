"""Enumerations shared by the model, the engine and the venues."""

from __future__ import annotations

from enum import StrEnum


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for buys, -1 for sells: the direction a fill moves the position."""
        return 1 if self is BUY else -1

    @property
    def opposite(self) -> OrderSide:
        return SELL if self is BUY else BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class TimeInForce(StrEnum):
    GTC = "GTC"  # good till canceled
    IOC = "IOC"  # immediate or cancel: fill what is possible at once, cancel the rest
    FOK = "FOK"  # fill or kill: fill everything at once or nothing
    DAY = "DAY"  # expires at the end of the (UTC) trading day it was submitted on
    GTD = "GTD"  # good till date: expires at ``Order.expire_ts``


class OrderStatus(StrEnum):
    INITIALIZED = "initialized"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        return self in _OPEN  # tuple: identity compare, no Python-level Enum.__hash__

    @property
    def is_closed(self) -> bool:
        return self in _CLOSED


_OPEN = (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)
_CLOSED = (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED)


class LiquiditySide(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class InstrumentKind(StrEnum):
    SPOT = "spot"  # a currency pair: buying pays the quote currency, receives the base asset
    EQUITY = "equity"  # a share: like spot, quoted in a currency
    PERPETUAL = "perpetual"  # a perpetual future: margin-settled, no notional exchanged, funding
    SPL_TOKEN = "spl_token"  # a Solana SPL token traded against a quote token (like spot)


class CostBasis(StrEnum):
    """How realized PnL picks the lots a closing fill is matched against."""

    FIFO = "fifo"
    LIFO = "lifo"
    AVERAGE = "average"


class AccountType(StrEnum):
    CASH = "cash"  # no borrowing: buys need cash, no shorting, leverage 1
    MARGIN = "margin"  # borrowing up to the leverage, shorting allowed


class TrailingOffsetType(StrEnum):
    PRICE = "price"  # the offset is an absolute price distance
    PERCENT = "percent"  # the offset is a fraction of the extreme price (0.02 = 2 %)


class ContingencyType(StrEnum):
    NONE = "none"
    OCO = "oco"  # one cancels the other(s)
    OTO = "oto"  # one triggers the other(s): children activate when the parent fills


# Members as module constants. On Python 3.11 every `OrderSide.BUY`-style lookup runs a
# Python-level descriptor, so hot code imports these names instead.
CASH = AccountType.CASH
MARGIN = AccountType.MARGIN
NONE = ContingencyType.NONE
OCO = ContingencyType.OCO
OTO = ContingencyType.OTO
AVERAGE = CostBasis.AVERAGE
LIFO = CostBasis.LIFO
EQUITY = InstrumentKind.EQUITY
PERPETUAL = InstrumentKind.PERPETUAL
SPL_TOKEN = InstrumentKind.SPL_TOKEN
SPOT = InstrumentKind.SPOT
MAKER = LiquiditySide.MAKER
TAKER = LiquiditySide.TAKER
BUY = OrderSide.BUY
SELL = OrderSide.SELL
ACCEPTED = OrderStatus.ACCEPTED
CANCELED = OrderStatus.CANCELED
EXPIRED = OrderStatus.EXPIRED
FILLED = OrderStatus.FILLED
INITIALIZED = OrderStatus.INITIALIZED
REJECTED = OrderStatus.REJECTED
SUBMITTED = OrderStatus.SUBMITTED
LIMIT = OrderType.LIMIT
MARKET = OrderType.MARKET
STOP_LIMIT = OrderType.STOP_LIMIT
STOP_MARKET = OrderType.STOP_MARKET
TRAILING_STOP = OrderType.TRAILING_STOP
PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
DAY = TimeInForce.DAY
FOK = TimeInForce.FOK
GTC = TimeInForce.GTC
GTD = TimeInForce.GTD
IOC = TimeInForce.IOC
PERCENT = TrailingOffsetType.PERCENT
PRICE = TrailingOffsetType.PRICE
