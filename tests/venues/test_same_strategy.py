"""Same strategy everywhere: one built-in strategy, one node configuration, four venues.

``sma_cross`` runs as a backtest on real SOLUSDT 5-minute bars, then on the paper TradingNode
replaying those bars, then live against the Solana stand-ins (LiteSVM + Jupiter) and against
the Binance stand-in through ccxt — the stand-ins' prices driven by the same closes, one bar at a
time. Only the ``venue`` section of the configuration changes (plus which file the paper node
replays). Every run makes the same decisions: the same sequence of buys and sells.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from solders.keypair import Keypair
from sqlalchemy import select

from tradewind.backtest.runner import run_backtest
from tradewind.data.loader import load_ohlcv
from tradewind.live.config import NodeConfig
from tradewind.live.live_node import LiveNode
from tradewind.live.node import TradingNode
from tradewind.store import Store
from tradewind.store.models import OrderRow
from tradewind.testing.binance_standin import (
    DEFAULT_KEY,
    DEFAULT_SECRET,
    BinanceStandin,
    SymbolSpec,
)
from tradewind.testing.jupiter_standin import JupiterStandin
from tradewind.testing.live import run_for_bars
from tradewind.testing.solana_rpc import NATIVE_MINT, USDC_MINT, SolanaRpcStandin

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "binance_SOLUSDT_5m.csv.gz"
PARAMS = {"fast": 2, "slow": 5}
BARS = 24  # live bars per stand-in run


def common() -> dict[str, Any]:
    """Everything but the venue: the same in every mode."""
    return {
        "cash": 1_000,
        "on_stop": "keep",
        "strategies": [{"id": "sma", "strategy": "sma_cross", "params": dict(PARAMS)}],
    }


@pytest.fixture(scope="module")
def window() -> pd.DataFrame:
    """Real SOLUSDT 5m bars where sma_cross(2, 5) trades at least twice each way."""
    if not DATA.exists():
        pytest.skip(f"real data not found at {DATA} (../shared/data is not in this checkout)")
    df = load_ohlcv(DATA)["SOLUSDT"]
    for start in range(0, len(df) - BARS, BARS):
        part = df.iloc[start : start + BARS].reset_index(drop=True)
        if len(decisions(part)) >= 4:
            return part
    raise AssertionError("no window where the strategy trades")


def decisions(bars: pd.DataFrame) -> list[str]:
    """The order sides of the backtest on ``bars``."""
    result = run_backtest({"SOLUSDT": bars}, "sma_cross", PARAMS, cash=1_000)
    return [str(o["side"]) for o in result.orders]


def stored_sides(store: Store, node_id: str) -> list[str]:
    with store.session() as s:
        rows = s.scalars(select(OrderRow).where(OrderRow.node_id == node_id).order_by(OrderRow.seq))
        return [r.side for r in rows]


class PriceDriver:
    """Plays the window's closes at the stand-in, one per ``period`` (aligned to the clock, as
    a venue's bars are), and remembers which close was shown in which bar."""

    def __init__(self, closes: np.ndarray, period_ns: int, show: Callable[[float], None]) -> None:
        self.closes, self.period, self.show = closes, period_ns, show
        self.shown: dict[int, int] = {}  # bar open time (ns) -> index of the close shown
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():  # after the last close, bars keep that price
            now = time.time_ns()
            bucket = now - now % self.period
            self.show(float(self.closes[min(i, len(self.closes) - 1)]))
            if i < len(self.closes):
                self.shown[bucket] = i
            i += 1
            self._stop.wait((bucket + self.period - time.time_ns()) / 1e9 + 0.002)

    def __enter__(self) -> PriceDriver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def live_decisions(node: LiveNode, driver: PriceDriver, window: pd.DataFrame) -> list[str]:
    """The backtest's decisions on exactly the bars the node traded on — which are the real
    closes the driver played (a bar before the driver's first close or after its last keeps
    the price it had)."""
    feed = node.traders["sma"].engine.exec_feed[node.symbol]
    bars = pd.DataFrame({k: np.array(v) for k, v in feed.arrays.items()})
    driven = [driver.shown[int(t)] for t in bars["ts"] if int(t) in driver.shown]
    assert len(driven) >= BARS // 2, f"only {len(driven)} bars carried a driven close"
    assert driven == list(range(driven[0], driven[0] + len(driven))), "driven closes skipped"
    seen = bars.set_index("ts")["close"]
    for t, i in driver.shown.items():
        if t in seen.index:
            # (our own swaps move the stand-in pool a little within a bar)
            assert seen[t] == pytest.approx(window["close"].iloc[i], rel=1e-4)
    return decisions(bars)


@pytest.mark.realdata
def test_backtest_and_paper_replay_decide_the_same(window: pd.DataFrame, tmp_path: Path) -> None:
    expected = decisions(window)
    csv = tmp_path / "SOLUSDT.csv"
    out = window.assign(timestamp=pd.to_datetime(window["ts"], utc=True)).drop(columns="ts")
    out[["timestamp", "open", "high", "low", "close", "volume"]].to_csv(csv, index=False)
    store = Store(f"sqlite:///{tmp_path / 'paper.db'}")
    store.migrate()
    cfg = NodeConfig.model_validate({**common(), "id": "paper", "data": str(csv)})
    asyncio.run(TradingNode(cfg, store).run())
    assert stored_sides(store, "paper") == expected
    store.dispose()


@pytest.mark.realdata
def test_solana_venue_decides_as_the_backtest(
    window: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sol, usdc = 10**9, 10**6
    with SolanaRpcStandin() as rpc, JupiterStandin(rpc) as jup:
        rpc.add_native_mint()
        rpc.create_mint(6, USDC_MINT)
        depth = 1_000_000  # SOL in the pool: our trades barely move its price
        pool = jup.add_pool(NATIVE_MINT, USDC_MINT, depth * sol, int(depth * 100 * usdc))
        kp = Keypair()
        rpc.airdrop(kp.pubkey(), 5 * sol)
        rpc.set_token_balance(kp.pubkey(), USDC_MINT, 2_000 * usdc)
        monkeypatch.setenv("TRADEWIND_SOLANA_KEYPAIR", json.dumps(list(bytes(kp))))
        store = Store(f"sqlite:///{tmp_path / 'sol.db'}")
        store.migrate()
        venue = {
            "kind": "solana", "symbol": "SOL/USDC", "timeframe": "500ms", "warmup": 0,
            "rpc_url": rpc.url, "jupiter_url": jup.url,
            "tokens": {"SOL": str(NATIVE_MINT), "USDC": str(USDC_MINT)},
            "slippage_bps": 100, "price_poll_seconds": 0.02,
        }  # fmt: skip
        cfg = NodeConfig.model_validate({**common(), "id": "sol", "venue": venue})

        def show(close: float) -> None:
            pool.set_reserves(depth * sol, round(depth * close * usdc))

        with PriceDriver(window["close"].to_numpy(), 500_000_000, show) as driver:
            node = LiveNode(cfg, store)
            asyncio.run(run_for_bars(node, BARS - 2, timeout=90, settle=0.5))
        expected = live_decisions(node, driver, window)
    assert len(expected) >= 2
    assert stored_sides(store, "sol") == expected
    store.dispose()


@pytest.fixture
def binance() -> Iterator[BinanceStandin]:
    with BinanceStandin(
        [SymbolSpec("SOL", "USDT", price="100", tick_size="0.01", step_size="0.001",
                    min_qty="0.001")],
        balances={"USDT": "2000"},
        streams=False,
    ) as ex:  # fmt: skip
        yield ex


@pytest.mark.realdata
def test_ccxt_venue_decides_as_the_backtest(
    window: pd.DataFrame, binance: BinanceStandin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND_CCXT_API_KEY", DEFAULT_KEY)
    monkeypatch.setenv("TRADEWIND_CCXT_SECRET", DEFAULT_SECRET)
    store = Store(f"sqlite:///{tmp_path / 'ccxt.db'}")
    store.migrate()
    venue = {
        "kind": "ccxt", "exchange": "binance", "symbol": "SOL/USDT", "timeframe": "1s",
        "warmup": 0, "urls": binance.ccxt_urls(), "poll_interval": 0.05,
    }  # fmt: skip
    cfg = NodeConfig.model_validate({**common(), "id": "bin", "venue": venue})
    binance.set_candles("SOLUSDT", [], interval="1s")

    def show(close: float) -> None:
        price = f"{close:.2f}"
        binance.set_price("SOLUSDT", price)
        open_ms = time.time_ns() // 1_000_000 // 1000 * 1000
        binance.add_candle("SOLUSDT", [open_ms, price, price, price, price, "1"])

    with PriceDriver(window["close"].to_numpy(), 1_000_000_000, show) as driver:
        node = LiveNode(cfg, store)
        asyncio.run(run_for_bars(node, BARS - 4, timeout=90, settle=0.5))
    expected = live_decisions(node, driver, window)
    assert len(expected) >= 2
    assert stored_sides(store, "bin") == expected
    store.dispose()


def test_the_configurations_differ_only_in_the_venue() -> None:
    """What "one config change each" means, checked on the documented examples too."""
    root = Path(__file__).resolve().parents[2] / "examples"
    from tradewind.live.config import load_node_config

    configs = {p.name: load_node_config(p) for p in sorted(root.glob("node-*.yaml"))}
    assert {"node-ccxt-binance.yaml", "node-solana.yaml", "node-paper.yaml"} <= set(configs)
    strategies = {json.dumps(c.model_dump(mode="json")["strategies"]) for c in configs.values()}
    assert len(strategies) == 1  # the same strategy section in every example
