"""Faults while a node trades on the Solana stand-ins: after each one (and a restart), LiteSVM's
balances and the node's stored orders, fills and position agree — no swap twice, no fill lost."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from solana_fixtures import SOL, USDC, World
from sqlalchemy import select

from tradewind.live.config import NodeConfig
from tradewind.live.live_node import LiveNode
from tradewind.model.data import Bar
from tradewind.store.models import FillRow, OrderRow
from tradewind.strategy import Strategy
from tradewind.testing.live import run_for_bars, start_and_close
from tradewind.testing.solana_rpc import NATIVE_MINT, USDC_MINT


class BuySell(Strategy):
    """Buy 0.5 SOL on the first live bar, sell the position on the third."""

    def on_start(self) -> None:
        self.n = 0

    def on_bar(self, bar: Bar) -> None:
        self.n += 1
        if self.n == 1:
            self.buy(0.5)
        elif self.n == 3:
            self.close()


def config(world: World, mode: str) -> NodeConfig:
    return NodeConfig.model_validate(
        {
            "id": "sol-faults",
            "cash": 500,
            "strategies": [{"id": "bs", "strategy": f"{__name__}:BuySell"}],
            "venue": {
                "kind": "solana", "symbol": "SOL/USDC", "timeframe": "1s", "warmup": 0,
                "rpc_url": world.rpc.url, "jupiter_url": world.jup.url, "mode": mode,
                "tokens": {"SOL": str(NATIVE_MINT), "USDC": str(USDC_MINT)},
                "slippage_bps": 100, "price_poll_seconds": 0.05, "reconcile_every": 1.0,
            },
        }
    )  # fmt: skip


def drop_sends(w: World) -> None:
    w.rpc.faults.drop_sends = 2  # accepted, never landed: rebroadcast identical bytes


def ambiguous_send(w: World) -> None:
    w.rpc.faults.ambiguous_sends = 1  # processed, then the connection is cut


def ambiguous_execute(w: World) -> None:
    w.jup.faults.execute_drop = 1  # Jupiter lands it, the reply is lost


def slippage(w: World) -> None:
    w.jup.faults.move_after_build = [0.7]  # the price moves past the slippage once: 6001


def rate_limited(w: World) -> None:
    w.rpc.faults.rate_limit_every = 4  # every 4th RPC call answers 429


FAULTS: dict[str, tuple[str, Callable[[World], None]]] = {
    "dropped sends": ("swap", drop_sends),
    "ambiguous send": ("swap", ambiguous_send),
    "ambiguous execute": ("execute", ambiguous_execute),
    "slippage 6001": ("execute", slippage),
    "RPC 429s": ("build", rate_limited),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_after_a_fault_the_chain_and_the_store_agree(
    fault: str, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND_SOLANA_KEYPAIR", json.dumps(list(bytes(world.kp))))
    mode, inject = FAULTS[fault]
    sol0, usdc0 = world.rpc.balance(world.me), world.rpc.token_balance(world.me, USDC_MINT)
    pool_usdc0 = world.sol_pool.reserve(USDC_MINT)
    inject(world)
    node = LiveNode(config(world, mode), world.store)
    asyncio.run(run_for_bars(node, 5, timeout=40, settle=0.5))
    world.rpc.faults.rate_limit_every = 0
    again = LiveNode(config(world, mode), world.store)

    asyncio.run(start_and_close(again))
    assert again.discrepancies == []

    with world.store.session() as s:
        orders = list(s.scalars(select(OrderRow).order_by(OrderRow.seq)))
        fills = list(s.scalars(select(FillRow)))
    assert len(orders) >= 1 and all(not o.status.endswith("submitted") for o in orders)
    filled = [o for o in orders if o.filled_qty > 0]
    assert len(fills) == len(filled) == len({f.fill_id for f in fills})  # one swap per order
    # USDC: what the wallet paid and received is what the stored fills say, to the base unit,
    # and the pool got the other side of exactly those swaps (no swap the store does not know)
    flows = [(1 if f.side == "sell" else -1) * round(f.quantity * f.price * USDC) for f in fills]
    usdc_change = world.rpc.token_balance(world.me, USDC_MINT) - usdc0
    assert usdc_change == pytest.approx(sum(flows), abs=2 * len(fills))
    if fault != "slippage 6001":  # (that fault moves the pool's price itself)
        assert world.sol_pool.reserve(USDC_MINT) - pool_usdc0 == -usdc_change
    # SOL: the position is the swapped amount; the wallet also paid the network fees
    position = again.traders["bs"].engine.portfolio.qty["SOL/USDC"]
    assert position == pytest.approx(
        sum(f.quantity if f.side == "buy" else -f.quantity for f in fills), abs=1e-12
    )
    fees_sol = sum(f.fee / f.price for f in fills)  # booked in USDC at the fill price
    sol_change = (world.rpc.balance(world.me) - sol0) / SOL
    assert sol_change <= position - fees_sol + 1e-9  # (failed attempts cost fees too)
    assert sol_change == pytest.approx(position - fees_sol, abs=0.001)
