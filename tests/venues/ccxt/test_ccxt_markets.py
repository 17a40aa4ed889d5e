"""Markets -> instruments, and orders the exchange cannot take, through real ccxt binance."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tradewind.errors import ConfigError, InvalidOrder
from tradewind.model.enums import InstrumentKind, OrderSide, OrderType, TimeInForce
from tradewind.model.enums import TrailingOffsetType as Offset
from tradewind.model.order import Order
from tradewind.testing.binance_standin import BinanceStandin
from tradewind.venues.ccxt import CcxtVenue


def test_spot_instruments_carry_precision_limits_and_fees(
    make_venue: Callable[..., CcxtVenue],
) -> None:
    async def go() -> None:
        venue = make_venue()
        try:
            got = await venue.instruments(["BTC/USDT", "ETH/USDT"])
        finally:
            await venue.close()
        btc = got["BTC/USDT"]
        assert btc.kind is InstrumentKind.SPOT
        assert (btc.base, btc.quote, btc.venue) == ("BTC", "USDT", "binance")
        assert btc.price_increment == 0.01
        assert btc.size_increment == 0.00001
        assert btc.min_size == 0.00001
        assert btc.min_notional == 5.0
        assert btc.taker_fee == 0.001 and btc.maker_fee == 0.001
        assert btc.extra["ccxt_id"] == "BTCUSDT"
        assert got["ETH/USDT"].size_increment == 0.0001

    asyncio.run(go())


def test_perpetual_instrument(make_venue: Callable[..., CcxtVenue]) -> None:
    async def go() -> None:
        venue = make_venue("swap")
        try:
            inst = (await venue.instruments(["BTC/USDT:USDT"]))["BTC/USDT:USDT"]
            with pytest.raises(
                InvalidOrder, match=r"unknown swap symbol 'BTC/USDT'.*BTC/USDT:USDT"
            ):
                await venue.instruments(["BTC/USDT"])
        finally:
            await venue.close()
        assert inst.kind is InstrumentKind.PERPETUAL
        assert inst.price_increment == 0.1 and inst.size_increment == 0.001
        assert inst.min_size == 0.001 and inst.min_notional == 5.0
        assert inst.is_margin_settled

    asyncio.run(go())


def test_unknown_symbol_names_it_and_some_that_exist(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    async def go() -> None:
        venue = make_venue()
        try:
            with pytest.raises(InvalidOrder, match=r"unknown spot symbol 'DOGE/USDT'.*BTC/USDT"):
                await venue.instruments(["DOGE/USDT"])
        finally:
            await venue.close()

    asyncio.run(go())
    assert [r.path for r in standin.requests] == ["/api/v3/exchangeInfo"]  # spot markets only


@pytest.mark.parametrize(
    ("order", "market", "symbol", "why"),
    [
        (
            Order(
                "BTC/USDT",
                OrderSide.SELL,
                0.01,
                OrderType.TRAILING_STOP,
                trailing_offset=0.02,
                trailing_offset_type=Offset.PERCENT,
            ),
            "spot",
            "BTC/USDT",
            "binance has no trailing stops for spot markets",
        ),
        (
            Order(
                "BTC/USDT", OrderSide.BUY, 0.01, OrderType.LIMIT, price=40000, tif=TimeInForce.DAY
            ),
            "spot",
            "BTC/USDT",
            "time in force DAY",
        ),
        (
            Order("BTC/USDT", OrderSide.BUY, 0.01, OrderType.STOP_MARKET, trigger_price=60000),
            "spot",
            "BTC/USDT",
            "stop_market",
        ),
        (
            Order("BTC/USDT:USDT", OrderSide.BUY, 0.01, quote_quantity=100.0),
            "swap",
            "BTC/USDT:USDT",
            "by quote amount",
        ),
    ],
)
def test_orders_the_exchange_cannot_take_are_refused_before_sending(
    make_venue: Callable[..., CcxtVenue],
    standin: BinanceStandin,
    order: Order,
    market: str,
    symbol: str,
    why: str,
) -> None:
    async def go() -> None:
        venue = make_venue(market)
        try:
            with pytest.raises(InvalidOrder) as info:
                await venue.submit(order)
        finally:
            await venue.close()
        assert why in str(info.value)
        assert "binance" in str(info.value)
        assert order.type.value in str(info.value) or order.type is OrderType.MARKET

    asyncio.run(go())
    assert not standin.seen("POST", "/api/v3/order") and not standin.seen("POST", "/fapi/v1/order")


def test_bad_construction_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown exchange 'nope'"):
        CcxtVenue("nope")
    with pytest.raises(ConfigError, match="market must be one of"):
        CcxtVenue("binance", market="future")
