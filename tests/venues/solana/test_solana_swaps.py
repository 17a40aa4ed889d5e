"""Happy swaps through every Jupiter path; fills come from the chain and agree with LiteSVM."""

from __future__ import annotations

import asyncio

import pytest
from solana_fixtures import SOL, USDC, Reports, World, run
from spl.token.constants import TOKEN_2022_PROGRAM_ID
from spl.token.instructions import get_associated_token_address

from tradewind.errors import InvalidOrder
from tradewind.model.enums import OrderSide, OrderStatus, OrderType
from tradewind.model.order import Order
from tradewind.testing.solana_rpc import NATIVE_MINT, USDC_MINT
from tradewind.venues.solana.ledger import Outcome


@pytest.mark.parametrize("mode", ["execute", "swap", "build"])
def test_buy_then_sell_sol_fills_match_chain(world: World, mode: str) -> None:
    venue = world.venue(mode)
    reports = Reports()
    rpc, pool = world.rpc, world.sol_pool

    async def go() -> None:
        await venue.connect(reports)
        try:
            inst = (await venue.instruments(["SOL/USDC"]))["SOL/USDC"]
            assert inst.mint == str(NATIVE_MINT) and inst.decimals == 9 and inst.quote == "USDC"
            usdc0, pool_sol0 = rpc.token_balance(world.me, USDC_MINT), pool.reserve(NATIVE_MINT)
            buy = Order("SOL/USDC", OrderSide.BUY, 1.0)
            ack = await venue.submit(buy)
            assert ack.status is OrderStatus.FILLED
            fill = reports.fills[-1]
            got_sol = pool_sol0 - pool.reserve(NATIVE_MINT)  # what really left the pool
            paid_usdc = usdc0 - rpc.token_balance(world.me, USDC_MINT)
            assert round(fill.quantity * SOL) == got_sol
            assert round(fill.quantity * fill.price * USDC) == paid_usdc
            assert 0.97 < fill.quantity < 1.0  # ExactIn of the quote estimate: fees both ways
            assert (
                fill.fee > 0 and fill.fee_currency == "SOL" and fill.fill_id == ack.venue_order_id
            )
            # no wSOL account is left behind (wrapped/unwrapped inside the swap)
            assert rpc.svm.get_account(get_associated_token_address(world.me, NATIVE_MINT)) is None
            # sell what we got
            sol0, usdc1 = rpc.balance(world.me), rpc.token_balance(world.me, USDC_MINT)
            sell = Order("SOL/USDC", OrderSide.SELL, inst.round_size(fill.quantity))
            ack2 = await venue.submit(sell)
            assert ack2.status is OrderStatus.FILLED
            f2 = reports.fills[-1]
            got_usdc = rpc.token_balance(world.me, USDC_MINT) - usdc1
            sol_spent = sol0 - rpc.balance(world.me)  # swap input + fee
            assert round(f2.quantity * f2.price * USDC) == got_usdc
            assert round(f2.quantity * SOL) == sol_spent - round(f2.fee * SOL)
            rec = venue.ledger.get(sell.client_order_id)
            assert rec is not None and rec.outcome is Outcome.LANDED and rec.attempts == 1
            assert [f.fill_id for f in await venue.fills(["SOL/USDC"], 0)] == [
                fill.fill_id,
                f2.fill_id,
            ]
            bal = {b.currency: b for b in await venue.balances()}
            assert bal["SOL"].total == rpc.balance(world.me) / 1e9
            assert bal["USDC"].total == rpc.token_balance(world.me, USDC_MINT) / 1e6
        finally:
            await venue.close()

    run(go())


def test_fill_comes_from_chain_not_quote(world: World) -> None:
    world.jup.faults.realized_slippage_bps = 40  # delivered < quoted (within 100 bps slippage)
    venue = world.venue("swap")
    reports = Reports()

    async def go() -> None:
        await venue.connect(reports)
        try:
            order = Order("SOL/USDC", OrderSide.SELL, 2.0)
            usdc0 = world.rpc.token_balance(world.me, USDC_MINT)
            await venue.submit(order)
            rec = venue.ledger.get(order.client_order_id)
            assert rec is not None
            got = world.rpc.token_balance(world.me, USDC_MINT) - usdc0
            fill = reports.fills[-1]
            assert round(fill.price * fill.quantity * USDC) == got
            quoted = int(world.jup._swaps[next(reversed(world.jup._swaps))].out_amount)
            assert got < quoted  # the quote said more; the fill reports what arrived
        finally:
            await venue.close()

    run(go())


@pytest.mark.parametrize("mode", ["execute", "build"])
def test_token_2022_buy_and_sell(world: World, mode: str) -> None:
    venue = world.venue(mode)
    reports = Reports()
    mint = world.t22_mint

    async def go() -> None:
        await venue.connect(reports)
        try:
            inst = (await venue.instruments(["T22/USDC"]))["T22/USDC"]
            assert inst.decimals == 9 and inst.extra["token_program"] == str(TOKEN_2022_PROGRAM_ID)
            await venue.submit(Order("T22/USDC", OrderSide.BUY, 100.0))
            held = world.rpc.token_balance(world.me, mint)
            assert held > 0 and round(reports.fills[-1].quantity * SOL) == held
            await venue.submit(Order("T22/USDC", OrderSide.SELL, held / SOL))
            assert world.rpc.token_balance(world.me, mint) == 0
            assert round(reports.fills[-1].quantity * SOL) == held
        finally:
            await venue.close()

    run(go())


def test_same_client_order_id_never_swaps_twice(world: World) -> None:
    venue = world.venue("execute")
    reports = Reports()

    async def go() -> None:
        await venue.connect(reports)
        try:
            order = Order("SOL/USDC", OrderSide.SELL, 1.0)
            first = await venue.submit(order)
            pool_usdc = world.sol_pool.reserve(USDC_MINT)
            orders_seen = world.jup.faults.orders
            again = await venue.submit(order)
            assert (
                again.venue_order_id == first.venue_order_id and again.status is OrderStatus.FILLED
            )
            assert world.sol_pool.reserve(USDC_MINT) == pool_usdc
            assert world.jup.faults.orders == orders_seen
            looked = await venue.lookup(order.client_order_id, "SOL/USDC")
            assert looked is not None and looked.filled_qty == first.filled_qty
            assert await venue.lookup("never-sent", "SOL/USDC") is None
        finally:
            await venue.close()

    run(go())


def test_unknown_symbol_and_limit_orders_are_refused(world: World) -> None:
    venue = world.venue()

    async def go() -> None:
        await venue.connect(Reports())
        try:
            with pytest.raises(InvalidOrder, match=r"unknown symbol 'BONK/USDC'.*SOL/USDC"):
                await venue.instruments(["BONK/USDC"])
            limit = Order("SOL/USDC", OrderSide.BUY, 1.0, OrderType.LIMIT, price=100.0)
            with pytest.raises(InvalidOrder, match="only MARKET"):
                await venue.submit(limit)
        finally:
            await venue.close()

    run(go())


def test_buy_by_quote_quantity_spends_exactly_that(world: World) -> None:
    venue, reports = world.venue("swap"), Reports()

    async def go() -> None:
        await venue.connect(reports)
        try:
            usdc0 = world.rpc.token_balance(world.me, USDC_MINT)
            await venue.submit(Order("SOL/USDC", OrderSide.BUY, 0.0, quote_quantity=25.0))
            assert usdc0 - world.rpc.token_balance(world.me, USDC_MINT) == 25 * USDC
            fill = reports.fills[-1]
            assert abs(fill.quantity * fill.price - 25.0) < 1e-6
        finally:
            await venue.close()

    run(go())


def test_bars_from_price_v3_polls(world: World) -> None:
    venue = world.venue(price_poll_seconds=0.05)

    async def go() -> list[float]:
        await venue.connect(Reports())
        try:
            bars = venue.bars("SOL/USDC", "1s")
            first = await asyncio.wait_for(anext(bars), timeout=5)
            world.sol_pool.move_price(1.1)
            second = await asyncio.wait_for(anext(bars), timeout=5)
            await bars.aclose()  # type: ignore[attr-defined]
            assert second.ts - first.ts == 1_000_000_000 and first.timeframe == "1s"
            return [first.close, second.close]
        finally:
            await venue.close()

    closes = run(go())
    assert 149 < closes[0] < 151  # 150 000 USDC / 1000 SOL
    assert closes[1] > closes[0]
