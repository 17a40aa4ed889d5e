"""Submit / cancel / lookup and rejections through real ccxt binance against the stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest

from tradewind.errors import InsufficientFunds, InvalidOrder, VenueError
from tradewind.model.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from tradewind.model.order import Order
from tradewind.testing.binance_standin import BinanceStandin
from tradewind.venues.ccxt import CcxtVenue

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def test_market_buy_sends_exact_decimal_strings_and_fills(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    order = Order("BTC/USDT", BUY, 0.0012349)  # rounds down to the 0.00001 step

    async def go() -> None:
        venue = make_venue()
        try:
            ack = await venue.submit(order)
        finally:
            await venue.close()
        assert ack.client_order_id == order.client_order_id
        assert ack.status is OrderStatus.FILLED
        assert ack.filled_qty == pytest.approx(0.00123)
        assert ack.avg_price == pytest.approx(50005.0)
        assert ack.venue_order_id == str(standin.orders()[0].order_id)

    asyncio.run(go())
    (sent,) = standin.seen("POST", "/api/v3/order")
    assert sent.params["quantity"] == "0.00123"
    assert sent.params["type"] == "MARKET" and sent.params["side"] == "BUY"
    assert sent.params["newClientOrderId"] == order.client_order_id
    assert standin.book.free("BTC") == Decimal("0.5") + Decimal("0.00123") * Decimal("0.999")


def test_limit_order_rests_rounds_price_and_cancels(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    order = Order("BTC/USDT", BUY, 0.01, OrderType.LIMIT, price=49000.123)

    async def go() -> None:
        venue = make_venue()
        try:
            ack = await venue.submit(order)
            assert ack.status is OrderStatus.ACCEPTED and ack.price == 49000.12
            assert standin.book.locked("USDT") == Decimal("490.0012")
            assert [o.client_order_id for o in await venue.open_orders(["BTC/USDT"])] == [
                order.client_order_id
            ]
            done = await venue.cancel(order)
            assert done is not None and done.status is OrderStatus.CANCELED
            assert done.client_order_id == order.client_order_id
            assert await venue.cancel(order) is None  # no longer open: -2011 Unknown order
            found = await venue.lookup(order.client_order_id, "BTC/USDT")
            assert found is not None and found.status is OrderStatus.CANCELED
            assert await venue.lookup("never-sent", "BTC/USDT") is None
        finally:
            await venue.close()

    asyncio.run(go())
    (sent,) = standin.seen("POST", "/api/v3/order")
    assert (sent.params["price"], sent.params["quantity"]) == ("49000.12", "0.01")
    assert sent.params["timeInForce"] == "GTC"
    assert standin.book.locked("USDT") == 0 and standin.book.free("USDT") == Decimal("10000")


def test_limit_ioc_and_post_only(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    async def go() -> None:
        venue = make_venue()
        try:
            ioc = await venue.submit(
                Order("ETH/USDT", BUY, 1.5, OrderType.LIMIT, price=3000.4, tif=TimeInForce.IOC)
            )
            assert ioc.status is OrderStatus.EXPIRED and ioc.filled_qty == 1.0  # one level
            maker = Order("BTC/USDT", SELL, 0.001, OrderType.LIMIT, price=50100, post_only=True)
            assert (await venue.submit(maker)).status is OrderStatus.ACCEPTED
            taker = Order("BTC/USDT", SELL, 0.001, OrderType.LIMIT, price=49000, post_only=True)
            with pytest.raises(InvalidOrder, match="would immediately match"):
                await venue.submit(taker)
        finally:
            await venue.close()

    asyncio.run(go())
    types = [r.params["type"] for r in standin.seen("POST", "/api/v3/order")]
    assert types == ["LIMIT", "LIMIT_MAKER", "LIMIT_MAKER"]


def test_quote_quantity_market_buy(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    async def go() -> None:
        venue = make_venue()
        try:
            ack = await venue.submit(Order("BTC/USDT", BUY, 1.0, quote_quantity=100.0))
        finally:
            await venue.close()
        assert ack.status is OrderStatus.FILLED
        assert ack.filled_qty == pytest.approx(0.00199)  # 100 / 50005, down to the step

    asyncio.run(go())
    (sent,) = standin.seen("POST", "/api/v3/order")
    assert sent.params["quoteOrderQty"] == "100" and "quantity" not in sent.params


@pytest.mark.parametrize(
    ("order", "error", "message"),
    [
        (Order("BTC/USDT", BUY, 1.0), InsufficientFunds, "insufficient balance"),
        (
            Order("BTC/USDT", SELL, 1.0, OrderType.LIMIT, price=51000),
            InsufficientFunds,
            "insufficient",
        ),
        (Order("BTC/USDT", BUY, 0.00001), InvalidOrder, "Filter failure: NOTIONAL"),
        (Order("BTC/USDT", BUY, 10000.0, OrderType.LIMIT, price=1), InvalidOrder, "LOT_SIZE"),
        (Order("BTC/USDT", SELL, 0.001, OrderType.LIMIT, price=2e6), InvalidOrder, "PRICE_FILTER"),
        (  # refused while rounding, before sending
            Order("BTC/USDT", BUY, 0.001, OrderType.LIMIT, price=0.001),
            InvalidOrder,
            "must be greater than minimum price precision of 0.01",
        ),
    ],
)
def test_rejections_map_to_our_errors_with_the_venue_reason(
    make_venue: Callable[..., CcxtVenue],
    standin: BinanceStandin,
    order: Order,
    error: type[Exception],
    message: str,
) -> None:
    async def go() -> None:
        venue = make_venue()
        try:
            with pytest.raises(error) as info:
                await venue.submit(order)
        finally:
            await venue.close()
        text = str(info.value)
        assert message.lower() in text.lower()
        assert text.startswith("binance: submit") and order.client_order_id in text

    asyncio.run(go())
    assert standin.orders() == []


def test_second_submit_of_the_same_order_does_not_create_a_second_order(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    market = Order("BTC/USDT", BUY, 0.001)
    resting = Order("BTC/USDT", BUY, 0.001, OrderType.LIMIT, price=40000)

    async def go() -> None:
        venue = make_venue()
        other = make_venue()  # e.g. the node after a restart: no memory of what it sent
        try:
            first = await venue.submit(market)
            again = await venue.submit(market)  # filled already: looked up, not resent
            assert again.venue_order_id == first.venue_order_id
            await venue.submit(resting)
            dup = await other.submit(resting)  # open: Binance answers "Duplicate order sent."
            assert dup.status is OrderStatus.ACCEPTED
        finally:
            await venue.close()
            await other.close()

    asyncio.run(go())
    assert len(standin.orders()) == 2


def test_wrong_secret_is_a_clear_authentication_error_without_secrets(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    wrong = "W" * 64

    async def go() -> None:
        venue = make_venue(secret=wrong)
        try:
            with pytest.raises(VenueError) as info:
                await venue.submit(Order("BTC/USDT", BUY, 0.001))
        finally:
            await venue.close()
        text = str(info.value)
        assert "authentication" in text and "Signature for this request is not valid" in text
        assert "-1022" in text
        assert wrong not in text and standin.api_key not in text and "signature=" not in text
        assert info.value.__cause__ is None and info.value.__suppress_context__

    asyncio.run(go())
    assert standin.orders() == []


def test_unknown_api_key(make_venue: Callable[..., CcxtVenue]) -> None:
    async def go() -> None:
        venue = make_venue(api_key="K" * 64)
        try:
            with pytest.raises(VenueError, match=r"authentication.*Invalid API-key.*-2015"):
                await venue.balances()
        finally:
            await venue.close()

    asyncio.run(go())
