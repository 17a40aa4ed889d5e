"""Rate limits, bans, 5xx and lost answers: retries that never duplicate an order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tradewind.errors import OrderStateUnknown, VenueRateLimited, VenueUnavailable
from tradewind.model.enums import OrderSide, OrderStatus, OrderType
from tradewind.model.order import Order
from tradewind.testing.binance_standin import BinanceStandin
from tradewind.venues.ccxt import CcxtVenue

ORDER_PATH = "/api/v3/order"


def test_429_waits_retry_after_then_succeeds(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    standin.fail_next(ORDER_PATH, 429, method="POST", retry_after=1)

    async def go() -> None:
        venue = make_venue()
        try:
            ack = await venue.submit(Order("BTC/USDT", OrderSide.BUY, 0.001))
        finally:
            await venue.close()
        assert ack.status is OrderStatus.FILLED
        assert venue.waits == [1.0]  # the Retry-After header, not the 0.01 s backoff

    asyncio.run(go())
    assert len(standin.seen("POST", ORDER_PATH)) == 2  # the 429 was not processed
    assert len(standin.orders()) == 1


def test_429_without_retry_after_backs_off_then_gives_up(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    standin.fail_next("/api/v3/account", 429, retry_after=None, count=10)

    async def go() -> None:
        venue = make_venue(max_retries=3)
        try:
            with pytest.raises(VenueRateLimited, match="fetch balances rate-limited") as info:
                await venue.balances()
        finally:
            await venue.close()
        assert "Too many requests" in str(info.value)
        assert len(venue.waits) == 3
        assert venue.waits[0] < venue.waits[2] <= 0.04  # exponential from 0.01 s

    asyncio.run(go())


def test_418_ban_longer_than_the_cap_is_raised_with_retry_after(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    standin.fail_next(ORDER_PATH, 418, method="POST", retry_after=120)

    async def go() -> None:
        venue = make_venue()
        try:
            with pytest.raises(VenueRateLimited) as info:
                await venue.submit(Order("BTC/USDT", OrderSide.BUY, 0.001))
        finally:
            await venue.close()
        assert info.value.retry_after == 120.0
        assert "banned until" in str(info.value)
        assert venue.waits == []

    asyncio.run(go())
    assert standin.orders() == []


def test_5xx_on_reads_is_retried(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    standin.fail_next("/api/v3/openOrders", 502, count=2)

    async def go() -> None:
        venue = make_venue()
        try:
            assert await venue.open_orders(["BTC/USDT"]) == []
            standin.fail_next("/api/v3/openOrders", 503, count=10)
            with pytest.raises(VenueUnavailable, match="fetch open orders BTC/USDT failed"):
                await venue.open_orders(["BTC/USDT"])
        finally:
            await venue.close()
        assert len(venue.waits) == 2 + 5

    asyncio.run(go())


@pytest.mark.parametrize("fault", ["hang", "drop"])
def test_lost_answer_after_accepting_gives_exactly_one_order_via_lookup(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin, fault: str
) -> None:
    if fault == "hang":
        standin.hang_next(ORDER_PATH)  # accepted, answered only after the client's timeout
    else:
        standin.drop_next(ORDER_PATH)  # accepted, connection closed unanswered
    order = Order("BTC/USDT", OrderSide.BUY, 0.002, OrderType.LIMIT, price=49000)

    async def go() -> None:
        venue = make_venue(timeout=0.5)
        try:
            ack = await venue.submit(order)
        finally:
            await venue.close()
        assert ack.client_order_id == order.client_order_id
        assert ack.status is OrderStatus.ACCEPTED and ack.price == 49000.0

    asyncio.run(go())
    assert len(standin.seen("POST", ORDER_PATH)) == 1
    (only,) = standin.orders()
    assert only.client_order_id == order.client_order_id
    lookups = standin.seen("GET", ORDER_PATH)
    assert [r.params["origClientOrderId"] for r in lookups] == [order.client_order_id]


def test_request_that_never_arrived_is_not_resent_by_default(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    """A lost answer and a lookup that finds nothing: unknown, not sent again (a request still
    in flight could be matched after a resend)."""
    standin.fail_next(ORDER_PATH, 503, method="POST")  # not processed: lookup finds nothing
    order = Order("BTC/USDT", OrderSide.BUY, 0.001)

    async def go() -> None:
        venue = make_venue()
        try:
            with pytest.raises(OrderStateUnknown, match=order.client_order_id):
                await venue.submit(order)
        finally:
            await venue.close()

    asyncio.run(go())
    assert len(standin.seen("POST", ORDER_PATH)) == 1
    assert standin.orders() == []


def test_request_that_never_arrived_is_resent_with_the_same_client_order_id_on_request(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    standin.fail_next(ORDER_PATH, 503, method="POST")  # not processed: lookup finds nothing
    order = Order("BTC/USDT", OrderSide.BUY, 0.001)

    async def go() -> None:
        venue = make_venue(submit_attempts=2)
        try:
            ack = await venue.submit(order)
        finally:
            await venue.close()
        assert ack.status is OrderStatus.FILLED

    asyncio.run(go())
    sent = standin.seen("POST", ORDER_PATH)
    assert [r.params["newClientOrderId"] for r in sent] == [order.client_order_id] * 2
    assert len(standin.orders()) == 1


def test_unsettled_submit_raises_order_state_unknown(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    standin.fail_next(ORDER_PATH, 503, method="POST", count=2)
    order = Order("BTC/USDT", OrderSide.BUY, 0.001)

    async def go() -> None:
        venue = make_venue(submit_attempts=2)
        try:
            with pytest.raises(OrderStateUnknown, match=order.client_order_id):
                await venue.submit(order)
        finally:
            await venue.close()

    asyncio.run(go())
    assert len(standin.seen("POST", ORDER_PATH)) == 2
    assert standin.orders() == []


def test_lookup_failing_too_raises_order_state_unknown(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    standin.drop_next(ORDER_PATH)
    standin.fail_next(ORDER_PATH, 503, method="GET", count=10)
    order = Order("BTC/USDT", OrderSide.BUY, 0.001)

    async def go() -> None:
        venue = make_venue(max_retries=2)
        try:
            with pytest.raises(OrderStateUnknown, match="lookup failed too"):
                await venue.submit(order)
        finally:
            await venue.close()

    asyncio.run(go())
    assert len(standin.seen("POST", ORDER_PATH)) == 1  # never resent while unsettled
    assert len(standin.orders()) == 1
