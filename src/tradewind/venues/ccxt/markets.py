"""Mapping between ccxt's unified structures and Tradewind's model.

* ``instrument`` — a ccxt market -> ``Instrument`` (increments from the market precision in the
  exchange's precision mode, min size / notional from the limits, fees, spot or perpetual).
* ``order_args`` — an ``Order`` -> the arguments of ccxt ``create_order``, amounts and prices as
  exact decimal strings rounded with the market's precision (``amount_to_precision``), and
  ``InvalidOrder`` for what the exchange or market type cannot do.
* ``venue_order`` / ``venue_fill`` — ccxt orders and trades -> ``VenueOrder`` / ``VenueFill``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ccxt.base.decimal_to_precision import DECIMAL_PLACES, TICK_SIZE

from tradewind.errors import InvalidOrder
from tradewind.model.enums import (
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from tradewind.model.instrument import Instrument
from tradewind.model.order import Order
from tradewind.venues.base import VenueFill, VenueOrder

NS_PER_MS = 1_000_000


def increment(value: Any, precision_mode: int) -> float | None:
    """A price/size increment from a ccxt precision value (a step in TICK_SIZE mode, a number
    of decimals in DECIMAL_PLACES mode; significant digits have no fixed increment)."""
    if value is None:
        return None
    if precision_mode == TICK_SIZE:
        return float(value) if float(value) > 0 else None
    if precision_mode == DECIMAL_PLACES:
        return 10.0 ** -int(value)
    return None


def instrument(market: Mapping[str, Any], venue: str, precision_mode: int) -> Instrument:
    """The ``Instrument`` for one ccxt market of ``venue``."""
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    amount = limits.get("amount") or {}
    cost = limits.get("cost") or {}
    common: dict[str, Any] = {
        "venue": venue,
        "price_increment": increment(precision.get("price"), precision_mode),
        "size_increment": increment(precision.get("amount"), precision_mode),
        "min_size": float(amount.get("min") or 0.0),
        "min_notional": float(cost.get("min") or 0.0),
        "maker_fee": float(market.get("maker") or 0.0),
        "taker_fee": float(market.get("taker") or 0.0),
        "extra": {"ccxt_id": str(market.get("id", "")), "type": str(market.get("type", ""))},
    }
    symbol, base, quote = str(market["symbol"]), str(market["base"]), str(market["quote"])
    if market.get("swap"):
        leverage = (limits.get("leverage") or {}).get("max")
        if leverage:
            common["margin_init"] = 1.0 / float(leverage)
            common["margin_maint"] = common["margin_init"] / 2
        common["multiplier"] = float(market.get("contractSize") or 1.0)
        return Instrument.perpetual(symbol, base, quote, **common)
    return Instrument.spot(symbol, base, quote, **common)


def order_args(
    order: Order, market: Mapping[str, Any], exchange: Any
) -> tuple[str, str, str, str | None, dict[str, Any]]:
    """``(type, side, amount, price, params)`` for ``exchange.create_order``."""
    venue, symbol = str(exchange.id), str(market["symbol"])
    has: Mapping[str, Any] = exchange.has
    spot = bool(market.get("spot"))

    def refuse(what: str) -> InvalidOrder:
        return InvalidOrder(
            f"{venue}: cannot place {order.type.value} order {order.client_order_id} on "
            f"{symbol}: {what}"
        )

    params: dict[str, Any] = {"clientOrderId": order.client_order_id}
    price: str | None = None
    kind = "market"
    if order.type is OrderType.LIMIT or order.type is OrderType.STOP_LIMIT:
        kind = "limit"
        assert order.price is not None
        price = exchange.price_to_precision(symbol, order.price)
    if order.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
        if not (has.get("createTriggerOrder") or has.get("createStopOrder")):
            raise refuse(f"{venue} has no trigger orders")
        assert order.trigger_price is not None
        params["triggerPrice"] = exchange.price_to_precision(symbol, order.trigger_price)
    if order.type is OrderType.TRAILING_STOP:
        if spot:
            raise refuse(f"{venue} has no trailing stops for spot markets")
        if not has.get("createTrailingPercentOrder"):
            raise refuse(f"{venue} has no trailing stop orders")
        if order.trailing_offset_type is not TrailingOffsetType.PERCENT:
            raise refuse("only percent trailing offsets are supported through ccxt")
        assert order.trailing_offset is not None
        params["trailingPercent"] = f"{order.trailing_offset * 100:g}"
    if order.tif in (TimeInForce.IOC, TimeInForce.FOK):
        if kind != "limit":
            raise refuse(f"time in force {order.tif.value} needs a limit price")
        params["timeInForce"] = order.tif.value
    elif order.tif in (TimeInForce.DAY, TimeInForce.GTD):
        raise refuse(f"time in force {order.tif.value} is not supported through ccxt")
    if order.post_only:
        params["postOnly"] = True
    if order.reduce_only and not spot:
        params["reduceOnly"] = True
    # spot: a sell can only spend what the account holds (no borrowing), so a reduce-only sell
    # needs no flag; the node's risk checks keep it within the strategy's position
    side = order.side.value
    if order.quote_quantity is not None:
        wanted = (
            "createMarketBuyOrderWithCost" if side == "buy" else "createMarketSellOrderWithCost"
        )
        if not spot or not has.get(wanted):
            raise refuse(f"{venue} cannot size a {side} by quote amount on this market")
        params["cost"] = exchange.cost_to_precision(symbol, order.quote_quantity)
        return kind, side, str(params["cost"]), None, params
    amount = exchange.amount_to_precision(symbol, order.quantity)
    return kind, side, amount, price, params


_STATUS = {
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


def order_status(raw: Mapping[str, Any]) -> OrderStatus:
    status = str(raw.get("status") or "open")
    if status in _STATUS:
        return _STATUS[status]
    return (
        OrderStatus.PARTIALLY_FILLED if float(raw.get("filled") or 0) > 0 else OrderStatus.ACCEPTED
    )


def order_type(raw: Mapping[str, Any]) -> OrderType:
    """Our order type for a ccxt order (``limit_maker`` is a limit; stop-loss / take-profit
    variants are stops, with or without a limit price)."""
    kind = str(raw.get("type") or "").lower()
    triggered = bool(raw.get("triggerPrice") or raw.get("stopPrice"))
    if "trailing" in kind:
        return OrderType.TRAILING_STOP
    if kind in ("stop_market", "stop_loss", "take_profit_market", "take_profit"):
        return OrderType.STOP_MARKET
    if kind in ("stop", "stop_loss_limit", "take_profit_limit"):
        return OrderType.STOP_LIMIT
    if kind == "market":
        return OrderType.STOP_MARKET if triggered else OrderType.MARKET
    return OrderType.STOP_LIMIT if triggered else OrderType.LIMIT


def venue_order(raw: Mapping[str, Any], client_order_id: str | None = None) -> VenueOrder:
    """A ccxt order as a ``VenueOrder`` (``client_order_id`` overrides the parsed one, e.g. for
    Binance cancel answers, whose ``clientOrderId`` is a fresh id)."""
    ts_ms = raw.get("lastUpdateTimestamp") or raw.get("lastTradeTimestamp") or raw.get("timestamp")
    kind = order_type(raw)
    price = raw.get("price")
    return VenueOrder(
        client_order_id=str(client_order_id or raw.get("clientOrderId") or ""),
        venue_order_id=str(raw.get("id") or ""),
        instrument=str(raw.get("symbol") or ""),
        side=OrderSide(str(raw.get("side") or "buy")),
        type=kind,
        quantity=float(raw.get("amount") or 0.0),
        price=float(price) if price and kind is not OrderType.MARKET else None,
        status=order_status(raw),
        filled_qty=float(raw.get("filled") or 0.0),
        avg_price=float(raw.get("average") or 0.0),
        ts=int(ts_ms or 0) * NS_PER_MS,
    )


def venue_fill(raw: Mapping[str, Any], client_order_id: str) -> VenueFill:
    """A ccxt trade (``fetch_my_trades``) as a ``VenueFill``."""
    fee = raw.get("fee") or {}
    liquidity = LiquiditySide.MAKER if raw.get("takerOrMaker") == "maker" else LiquiditySide.TAKER
    return VenueFill(
        fill_id=str(raw.get("id")),
        client_order_id=client_order_id,
        venue_order_id=str(raw.get("order") or ""),
        instrument=str(raw.get("symbol") or ""),
        side=OrderSide(str(raw.get("side") or "buy")),
        quantity=float(raw.get("amount") or 0.0),
        price=float(raw.get("price") or 0.0),
        fee=float(fee.get("cost") or 0.0),
        fee_currency=str(fee.get("currency") or ""),
        liquidity=liquidity,
        ts=int(raw.get("timestamp") or 0) * NS_PER_MS,
    )
