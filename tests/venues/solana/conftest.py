"""Fixtures: the LiteSVM RPC stand-in + Jupiter stand-in on 127.0.0.1 and a funded wallet.

``world``: SOL/USDC pool (1000 SOL / 150 000 USDC, 25 bps), a Token-2022 ``T22``/USDC pool,
a wallet with 10 SOL and 1000 USDC, a migrated SQLite store. ``ticking_world`` also produces
a block every 10 ms (blockhash window 30 blocks), for expiry scenarios.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from solana_fixtures import World, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


@pytest.fixture
def ticking_world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path, block_interval=0.01)
