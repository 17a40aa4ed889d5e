"""Reports (fills once each, order changes), reconciliation, balances and perpetual positions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from tradewind.errors import InsufficientFunds, InvalidOrder
from tradewind.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from tradewind.model.order import Order
from tradewind.testing.binance_standin import BinanceStandin
from tradewind.venues.ccxt import CcxtVenue

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def test_fills_and_order_changes_are_reported_once_across_polls(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin, recorder: Any
) -> None:
    resting = Order("BTC/USDT", BUY, 0.01, OrderType.LIMIT, price=49900)

    async def go() -> None:
        venue = make_venue(report_task=False)  # only the polls below (no racing background poll)
        try:
            await venue.instruments(["BTC/USDT"])
            await venue.connect(recorder)
            await venue.submit(Order("BTC/USDT", BUY, 0.001))
            await venue.submit(resting)
            await venue.poll_reports()
            await venue.poll_reports()
            assert [f.quantity for f in recorder.fills] == [0.001]
            assert recorder.orders == []  # nothing changed since the submit answers
            standin.set_price("BTCUSDT", "49850")  # moves through the resting buy
            await venue.poll_reports()
            await venue.poll_reports()
        finally:
            await venue.close()

    asyncio.run(go())
    first, second = recorder.fills
    assert second.client_order_id == resting.client_order_id
    assert (second.price, second.quantity) == (49900.0, 0.01)
    assert second.liquidity is LiquiditySide.MAKER and first.liquidity is LiquiditySide.TAKER
    assert second.fee == pytest.approx(0.00001) and second.fee_currency == "BTC"
    assert len({f.fill_id for f in recorder.fills}) == 2
    (changed,) = recorder.orders
    assert changed.client_order_id == resting.client_order_id
    assert changed.status is OrderStatus.FILLED and changed.filled_qty == 0.01


def test_background_task_reports_without_duplicates(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin, recorder: Any
) -> None:
    async def go() -> None:
        venue = make_venue(poll_interval=0.02)
        try:
            await venue.connect(recorder)
            await venue.submit(Order("BTC/USDT", SELL, 0.002))
            for _ in range(200):
                if recorder.fills:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.15)  # several more polls
        finally:
            await venue.close()

    asyncio.run(go())
    (fill,) = recorder.fills
    assert (fill.side, fill.price, fill.quantity) == (SELL, 49995.0, 0.002)
    assert fill.fee_currency == "USDT"


def test_reconciliation_finds_other_clients_order_and_a_fill_nobody_polled(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    since_ns = time.time_ns() - 1_000_000_000
    other = standin.place_order(
        symbol="BTCUSDT",
        side="SELL",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.1",
        price="50500.00",
        newClientOrderId="web-ui-1",
    )
    standin.set_price("BTCUSDT", "50600")  # fills it while no client is connected

    async def go() -> None:
        venue = make_venue()
        try:
            assert await venue.open_orders(["BTC/USDT"]) == []
            fills = await venue.fills(["BTC/USDT"], since_ns)
            found = await venue.lookup("web-ui-1", "BTC/USDT")
            standin.place_order(
                symbol="BTCUSDT",
                side="BUY",
                type="LIMIT",
                timeInForce="GTC",
                quantity="0.001",
                price="45000.00",
                newClientOrderId="web-ui-2",
            )
            (open_,) = await venue.open_orders(["BTC/USDT"])
            later = await venue.fills(["BTC/USDT"], time.time_ns() + 10**9)
        finally:
            await venue.close()
        (fill,) = fills
        assert fill.client_order_id == "web-ui-1"
        assert fill.venue_order_id == str(other.order_id)
        assert (fill.price, fill.quantity, fill.side) == (50500.0, 0.1, SELL)
        assert found is not None and found.status is OrderStatus.FILLED
        assert open_.client_order_id == "web-ui-2" and open_.status is OrderStatus.ACCEPTED
        assert (open_.price, open_.quantity) == (45000.0, 0.001)
        assert later == []

    asyncio.run(go())


def test_spot_balances(make_venue: Callable[..., CcxtVenue]) -> None:
    async def go() -> None:
        venue = make_venue()
        try:
            await venue.submit(Order("BTC/USDT", SELL, 0.1, OrderType.LIMIT, price=60000))
            got = {b.currency: b for b in await venue.balances()}
            assert await venue.positions(["BTC/USDT"]) == []
        finally:
            await venue.close()
        assert got["BTC"].total == pytest.approx(0.5) and got["BTC"].free == pytest.approx(0.4)
        assert got["USDT"].total == 10000.0

    asyncio.run(go())


def test_perpetual_positions_balances_and_reduce_only(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    symbol = "BTC/USDT:USDT"

    async def go() -> None:
        venue = make_venue("swap")
        try:
            assert await venue.positions([symbol]) == []
            ack = await venue.submit(Order(symbol, SELL, 0.01))
            assert ack.status is OrderStatus.FILLED and ack.avg_price == pytest.approx(49995.0)
            (pos,) = await venue.positions([symbol])
            assert (pos.instrument, pos.quantity, pos.avg_price) == (symbol, -0.01, 49995.0)
            with pytest.raises(InvalidOrder, match="ReduceOnly Order is rejected"):
                await venue.submit(Order(symbol, SELL, 0.01, reduce_only=True))
            with pytest.raises(InsufficientFunds, match="Margin is insufficient"):
                await venue.submit(Order(symbol, BUY, 5.0))  # 250k notional / 20x > 5000
            await venue.submit(Order(symbol, BUY, 0.01, reduce_only=True))
            assert await venue.positions([symbol]) == []
            (usdt,) = [b for b in await venue.balances() if b.currency == "USDT"]
        finally:
            await venue.close()
        # realized (49995 - 50005) * 0.01 = -0.1, fees 0.1 % of both notionals
        assert usdt.total == pytest.approx(5000 - 0.1 - 0.49995 - 0.50005)

    asyncio.run(go())
    sent = standin.seen("POST", "/fapi/v1/order")
    assert [r.params.get("reduceOnly") for r in sent] == [None, "true", None, "true"]
    assert sent[0].params["quantity"] == "0.01"
