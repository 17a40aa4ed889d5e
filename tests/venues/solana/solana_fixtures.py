"""Shared set-up for the Solana venue tests: stand-ins, a funded wallet, a venue, a store."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from spl.token.constants import TOKEN_2022_PROGRAM_ID

from tradewind.store.db import Store
from tradewind.testing.jupiter_standin import JupiterStandin, Pool
from tradewind.testing.solana_rpc import NATIVE_MINT, USDC_MINT, SolanaRpcStandin
from tradewind.venues.base import VenueFill, VenueOrder
from tradewind.venues.solana.client import SolanaVenue, SolanaVenueConfig
from tradewind.venues.solana.landing import LandingConfig
from tradewind.venues.solana.wallet import Wallet

SOL = 10**9
USDC = 10**6
T = TypeVar("T")


@dataclass
class Reports:
    orders: list[VenueOrder] = field(default_factory=list)
    fills: list[VenueFill] = field(default_factory=list)

    def on_order(self, report: VenueOrder) -> None:
        self.orders.append(report)

    def on_fill(self, fill: VenueFill) -> None:
        self.fills.append(fill)


@dataclass
class World:
    rpc: SolanaRpcStandin
    jup: JupiterStandin
    kp: Keypair
    sol_pool: Pool
    t22_mint: Pubkey
    t22_pool: Pool
    store: Store

    @property
    def me(self) -> Pubkey:
        return self.kp.pubkey()

    def venue(self, mode: str = "execute", **kw: Any) -> SolanaVenue:
        cfg = SolanaVenueConfig(
            rpc_url=self.rpc.url,
            jupiter_url=self.jup.url,
            tokens={"SOL": str(NATIVE_MINT), "USDC": str(USDC_MINT), "T22": str(self.t22_mint)},
            mode=mode,
            slippage_bps=100,
            landing=kw.pop(
                "landing", LandingConfig(rebroadcast_every=0.05, poll_every=0.02, give_up_after=1.0)
            ),
            rpc_timeout=kw.pop("rpc_timeout", 5.0),
            **kw,
        )
        return SolanaVenue(cfg, Wallet(self.kp), self.store)


def make_world(tmp_path: Path, *, block_interval: float | None = None) -> Iterator[World]:
    with (
        SolanaRpcStandin(blockhash_window=30, block_interval=block_interval) as rpc,
        JupiterStandin(rpc) as jup,
    ):
        rpc.add_native_mint()
        rpc.create_mint(6, USDC_MINT)
        t22 = rpc.create_mint(9, program_id=TOKEN_2022_PROGRAM_ID)
        sol_pool = jup.add_pool(NATIVE_MINT, USDC_MINT, 1_000 * SOL, 150_000 * USDC, fee_bps=25)
        t22_pool = jup.add_pool(t22, USDC_MINT, 1_000_000 * SOL, 50_000 * USDC, fee_bps=30)
        kp = Keypair()
        rpc.airdrop(kp.pubkey(), 10 * SOL)
        rpc.set_token_balance(kp.pubkey(), USDC_MINT, 1_000 * USDC)
        store = Store(f"sqlite:///{tmp_path / 'tw.db'}")
        store.migrate()
        yield World(rpc, jup, kp, sol_pool, t22, t22_pool, store)
        store.dispose()


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)
