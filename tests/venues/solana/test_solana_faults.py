"""Every injected fault ends with LiteSVM balances, the ledger and the reported fills agreeing:
no duplicated swap, no lost fill."""

from __future__ import annotations

import pytest
from solana_fixtures import SOL, USDC, Reports, World, run
from solders.transaction import VersionedTransaction

from tradewind.errors import InsufficientFunds, OrderStateUnknown
from tradewind.model.enums import OrderSide, OrderStatus
from tradewind.model.order import Order
from tradewind.testing.solana_rpc import NATIVE_MINT, USDC_MINT
from tradewind.venues.solana.landing import LandingConfig
from tradewind.venues.solana.ledger import Outcome


def _agree(world: World, reports: Reports, usdc0: int, sol_pool0: int) -> None:
    """Reported fills == what moved on chain (pool side, so fees do not blur it)."""
    net_sol = sum(f.quantity * (1 if f.side is OrderSide.BUY else -1) for f in reports.fills)
    net_usdc = sum(
        f.quantity * f.price * (-1 if f.side is OrderSide.BUY else 1) for f in reports.fills
    )
    assert round(net_sol * SOL) == sol_pool0 - world.sol_pool.reserve(NATIVE_MINT)
    assert round(net_usdc * USDC) == world.rpc.token_balance(world.me, USDC_MINT) - usdc0
    assert len({f.fill_id for f in reports.fills}) == len(reports.fills)


def test_dropped_sends_are_rebroadcast_as_identical_bytes(world: World) -> None:
    world.rpc.faults.drop_sends = 3
    venue, reports = world.venue("swap"), Reports()
    usdc0, pool0 = world.rpc.token_balance(world.me, USDC_MINT), world.sol_pool.reserve(NATIVE_MINT)

    async def go() -> None:
        await venue.connect(reports)
        try:
            order = Order("SOL/USDC", OrderSide.SELL, 1.0)
            ack = await venue.submit(order)
            assert ack.status is OrderStatus.FILLED
            rec = venue.ledger.get(order.client_order_id)
            assert rec is not None and rec.attempts == 1
            wires = world.rpc.faults.received
            assert len(wires) >= 4 and len(set(wires)) == 1  # the same signed bytes every time
            assert str(VersionedTransaction.from_bytes(wires[0]).signatures[0]) == rec.signature
        finally:
            await venue.close()

    run(go())
    assert len(reports.fills) == 1
    _agree(world, reports, usdc0, pool0)


def test_dropped_until_expiry_requotes_exactly_once(ticking_world: World) -> None:
    world = ticking_world
    world.rpc.faults.drop_txs = 1  # the first transaction never lands
    venue, reports = world.venue("swap"), Reports()
    usdc0, pool0 = world.rpc.token_balance(world.me, USDC_MINT), world.sol_pool.reserve(NATIVE_MINT)

    async def go() -> None:
        await venue.connect(reports)
        try:
            order = Order("SOL/USDC", OrderSide.SELL, 1.0)
            ack = await venue.submit(order)
            assert ack.status is OrderStatus.FILLED
            rec = venue.ledger.get(order.client_order_id)
            assert rec is not None and rec.attempts == 2 and rec.outcome is Outcome.LANDED
            (first,) = rec.history
            assert first["outcome"] == "EXPIRED" and first["signature"] != rec.signature
            assert all(str(s) == first["signature"] for s in world.rpc.faults.dropped_signatures)
            assert world.jup.faults.builds == 2
            # the expired one can never land now
            world.rpc.faults.dropped_signatures.clear()
            from solders.signature import Signature

            assert world.rpc.status(Signature.from_string(first["signature"])) is None
        finally:
            await venue.close()

    run(go())
    assert len(reports.fills) == 1
    _agree(world, reports, usdc0, pool0)


def test_expired_twice_gives_up_without_a_fill(ticking_world: World) -> None:
    world = ticking_world
    world.rpc.faults.drop_txs = 2
    venue, reports = world.venue("swap"), Reports()
    usdc0, sol0 = world.rpc.token_balance(world.me, USDC_MINT), world.rpc.balance(world.me)

    async def go() -> None:
        await venue.connect(reports)
        try:
            order = Order("SOL/USDC", OrderSide.SELL, 1.0)
            ack = await venue.submit(order)
            assert ack.status is OrderStatus.EXPIRED and ack.filled_qty == 0
            assert reports.orders[-1].status is OrderStatus.EXPIRED
            assert world.jup.faults.builds == 2  # one re-quote, not more
        finally:
            await venue.close()

    run(go())
    assert reports.fills == []
    assert world.rpc.token_balance(world.me, USDC_MINT) == usdc0
    assert world.rpc.balance(world.me) == sol0  # dropped transactions cost nothing


def test_ambiguous_rpc_send_is_polled_not_resent_as_new(world: World) -> None:
    world.rpc.faults.ambiguous_sends = 1  # processed, then the connection is cut
    venue, reports = world.venue("swap"), Reports()
    usdc0, pool0 = world.rpc.token_balance(world.me, USDC_MINT), world.sol_pool.reserve(NATIVE_MINT)

    async def go() -> None:
        await venue.connect(reports)
        try:
            order = Order("SOL/USDC", OrderSide.SELL, 1.5)
            ack = await venue.submit(order)
            assert ack.status is OrderStatus.FILLED
            rec = venue.ledger.get(order.client_order_id)
            assert rec is not None and rec.attempts == 1
            assert world.jup.faults.builds == 1
        finally:
            await venue.close()

    run(go())
    assert len(reports.fills) == 1
    _agree(world, reports, usdc0, pool0)


def test_ambiguous_execute_is_resolved_by_polling_the_signature(world: World) -> None:
    world.jup.faults.execute_drop = 1  # Jupiter lands it, the reply is lost
    venue, reports = world.venue("execute"), Reports()
    usdc0, pool0 = world.rpc.token_balance(world.me, USDC_MINT), world.sol_pool.reserve(NATIVE_MINT)

    async def go() -> None:
        await venue.connect(reports)
        try:
            ack = await venue.submit(Order("SOL/USDC", OrderSide.BUY, 0.5))
            assert ack.status is OrderStatus.FILLED
            assert world.jup.faults.executes == 1 and world.jup.faults.orders == 1
        finally:
            await venue.close()

    run(go())
    assert len(reports.fills) == 1
    _agree(world, reports, usdc0, pool0)


def test_unknown_outcome_is_kept_then_settled_by_lookup(world: World) -> None:
    rpc = world.rpc

    def rpc_goes_down() -> None:
        rpc.faults.calls = 0
        rpc.faults.rate_limit_every = 1  # every RPC call answers 429 from now on

    world.jup.faults.execute_drop = 1
    world.jup.faults.on_execute = rpc_goes_down
    cfg = LandingConfig(rebroadcast_every=0.05, poll_every=0.02, give_up_after=0.3)
    venue, reports = world.venue("execute", landing=cfg), Reports()
    usdc0, pool0 = rpc.token_balance(world.me, USDC_MINT), world.sol_pool.reserve(NATIVE_MINT)

    async def go() -> None:
        await venue.connect(reports)
        try:
            order = Order("SOL/USDC", OrderSide.SELL, 1.0)
            with pytest.raises(OrderStateUnknown, match="outcome is unknown"):
                await venue.submit(order)
            rec = venue.ledger.get(order.client_order_id)
            assert rec is not None and rec.outcome is Outcome.UNKNOWN and rec.signature
            assert reports.fills == []
            rpc.faults.rate_limit_every = 0  # RPC back
            looked = await venue.lookup(order.client_order_id, "SOL/USDC")
            assert looked is not None and looked.status is OrderStatus.FILLED
            again = await venue.submit(order)  # the node re-submitting: no second swap
            assert again.venue_order_id == looked.venue_order_id
            assert world.jup.faults.orders == 1
        finally:
            await venue.close()

    run(go())
    assert len(reports.fills) == 1
    _agree(world, reports, usdc0, pool0)


def test_slippage_6001_requotes_once_then_fills(world: World) -> None:
    world.jup.faults.move_after_build = [0.5]  # SOL price halves after the first order
    venue, reports = world.venue("execute"), Reports()
    usdc0, pool0 = world.rpc.token_balance(world.me, USDC_MINT), world.sol_pool.reserve(NATIVE_MINT)

    async def go() -> None:
        await venue.connect(reports)
        try:
            order = Order("SOL/USDC", OrderSide.SELL, 1.0)
            ack = await venue.submit(order)
            assert ack.status is OrderStatus.FILLED
            rec = venue.ledger.get(order.client_order_id)
            assert rec is not None and rec.attempts == 2
            assert "6001" in rec.history[0]["error"] or "Slippage" in rec.history[0]["error"]
            from solders.signature import Signature

            failed = world.rpc.status(Signature.from_string(rec.history[0]["signature"]))
            assert failed is not None and "6001" in str(failed.err)  # landed, failed on chain
        finally:
            await venue.close()

    run(go())
    assert len(reports.fills) == 1
    _agree(world, reports, usdc0, pool0)


@pytest.mark.parametrize("mode", ["execute", "swap"])
def test_slippage_twice_gives_up(world: World, mode: str) -> None:
    world.jup.faults.move_after_build = [0.5, 0.5]
    venue, reports = world.venue(mode), Reports()
    usdc0, sol0 = world.rpc.token_balance(world.me, USDC_MINT), world.rpc.balance(world.me)

    async def go() -> None:
        await venue.connect(reports)
        try:
            ack = await venue.submit(Order("SOL/USDC", OrderSide.SELL, 1.0))
            assert ack.status is OrderStatus.REJECTED and ack.filled_qty == 0
            assert world.jup.faults.builds == 2
        finally:
            await venue.close()

    run(go())
    assert reports.fills == []
    assert world.rpc.token_balance(world.me, USDC_MINT) == usdc0
    spent = sol0 - world.rpc.balance(world.me)
    if mode == "swap":
        assert spent == 0  # caught in preflight: never landed
    else:
        assert 0 < spent < 100_000  # two failed transactions: fees only, nothing swapped


def test_insufficient_sol_rent_and_tokens_are_rejected_before_trading(world: World) -> None:
    venue, reports = world.venue("execute"), Reports()

    async def go() -> None:
        await venue.connect(reports)
        try:
            with pytest.raises(InsufficientFunds, match=r"needs .* SOL"):
                await venue.submit(Order("SOL/USDC", OrderSide.SELL, 20.0))  # holds 10
            with pytest.raises(InsufficientFunds, match="token"):
                await venue.submit(Order("T22/USDC", OrderSide.SELL, 5.0))  # holds none
            # enough for the fee reserve but not for the new T22 account's rent
            world.rpc.set_lamports(world.me, venue.config.sol_reserve_lamports + 1_000_000)
            with pytest.raises(InsufficientFunds, match="rent"):
                await venue.submit(Order("T22/USDC", OrderSide.BUY, 10.0))
            world.rpc.set_lamports(world.me, 5_000_000)  # below the fee reserve
            with pytest.raises(InsufficientFunds, match="fee reserve"):
                await venue.submit(Order("SOL/USDC", OrderSide.BUY, 0.1))
        finally:
            await venue.close()

    run(go())
    assert world.jup.faults.builds == 0 and world.rpc.faults.sends == 0
    assert all(r.signature is None for r in venue.ledger.all())
