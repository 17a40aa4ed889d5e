"""A TradingNode on the Solana venue: a strategy's orders become real swaps on LiteSVM (through
the Jupiter stand-in), fills are stored from the chain, and a restart reconciles cleanly."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from solana_fixtures import USDC, World
from sqlalchemy import select

from tradewind.live.config import NodeConfig
from tradewind.live.live_node import LiveNode
from tradewind.model.data import Bar
from tradewind.store.models import DiscrepancyRow, FillRow, OrderRow, PositionRow
from tradewind.strategy import Strategy
from tradewind.testing.live import run_for_bars, start_and_close
from tradewind.testing.solana_rpc import NATIVE_MINT, USDC_MINT


class BuyThenSell(Strategy):
    """Buy on the first live bar, sell everything on the third."""

    qty: float = 0.5

    def on_start(self) -> None:
        self.n = 0

    def on_bar(self, bar: Bar) -> None:
        self.n += 1
        if self.n == 1:
            self.buy(self.qty)
        elif self.n == 3:
            self.close()


def node_config(world: World) -> NodeConfig:
    return NodeConfig.model_validate(
        {
            "id": "sol-node",
            "cash": 500,
            "strategies": [
                {"id": "bts", "strategy": f"{__name__}:BuyThenSell", "params": {"qty": 0.5}}
            ],
            "venue": {
                "kind": "solana",
                "symbol": "SOL/USDC",
                "timeframe": "1s",
                "warmup": 0,
                "rpc_url": world.rpc.url,
                "jupiter_url": world.jup.url,
                "tokens": {"SOL": str(NATIVE_MINT), "USDC": str(USDC_MINT)},
                "slippage_bps": 100,
                "price_poll_seconds": 0.05,
                "reconcile_every": 1.0,
            },
        }
    )


def test_node_trades_real_swaps_and_restarts_clean(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND_SOLANA_KEYPAIR", json.dumps(list(bytes(world.kp))))
    usdc0 = world.rpc.token_balance(world.me, USDC_MINT)
    node = LiveNode(node_config(world), world.store)
    asyncio.run(run_for_bars(node, 5, timeout=30))
    assert node.discrepancies == []

    with world.store.session() as s:
        orders = list(s.scalars(select(OrderRow).where(OrderRow.node_id == "sol-node")))
        fills = list(s.scalars(select(FillRow).where(FillRow.node_id == "sol-node")))
        (pos,) = s.scalars(select(PositionRow).where(PositionRow.node_id == "sol-node"))
    assert [o.status for o in orders] == ["filled", "filled"]
    assert [f.side for f in fills] == ["buy", "sell"]
    assert len({f.fill_id for f in fills}) == 2  # one swap each, each stored once
    buy, sell = fills
    assert 0.45 < buy.quantity < 0.5  # ExactIn of the quoted cost: what really arrived
    assert pos.quantity == pytest.approx(buy.quantity - sell.quantity, abs=1e-9)
    # the chain agrees with the stored fills (the SOL network fee is booked valued in USDC, the
    # position is what the swaps moved): USDC paid and received, to the base unit
    spent = round(buy.quantity * buy.price * USDC) - round(sell.quantity * sell.price * USDC)
    assert buy.fee > 0 and buy.fee_currency == "USDC"  # the SOL fee, valued at the fill price
    assert usdc0 - world.rpc.token_balance(world.me, USDC_MINT) == pytest.approx(spent, abs=2)

    # a restart rebuilds the account from the store, reconciles with the chain: no difference,
    # no order sent again
    again = LiveNode(node_config(world), world.store)

    asyncio.run(start_and_close(again))
    assert again.discrepancies == []
    trader = again.traders["bts"]
    assert trader.engine.portfolio.qty["SOL/USDC"] == pytest.approx(pos.quantity, abs=1e-12)
    assert trader.seq == 2  # numbering carries on after the stored orders
    with world.store.session() as s:
        assert s.scalar(select(DiscrepancyRow).where(DiscrepancyRow.node_id == "sol-node")) is None
        assert len(list(s.scalars(select(OrderRow)))) == 2


def test_warm_up_history_comes_from_geckoterminal(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Solana node's warm-up bars are GeckoTerminal's OHLCV of the configured pool (Price V3
    has no history), served here in GeckoTerminal's documented shape (newest first)."""
    import http.server
    import threading
    import urllib.parse

    minute = 60_000_000_000
    newest = time.time_ns() // minute * minute - minute  # the last closed minute
    served = [
        [(newest - k * minute) // 1_000_000_000, 150 + k, 151 + k, 149 + k, 150.5 + k, 1000.0]
        for k in range(40)
    ]  # newest first, as GeckoTerminal sends them
    seen: list[str] = []

    class Gecko(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlparse(self.path)
            seen.append(url.path)
            before = int(urllib.parse.parse_qs(url.query)["before_timestamp"][0])
            rows = [r for r in served if r[0] < before]
            body = json.dumps({"data": {"attributes": {"ohlcv_list": rows}}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gecko)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("TRADEWIND_SOLANA_KEYPAIR", json.dumps(list(bytes(world.kp))))
    cfg = node_config(world).model_dump(mode="json")
    cfg["venue"].update(
        timeframe="1m", warmup=30, history_pool="PoolAddr1111",
        history_url=f"http://127.0.0.1:{server.server_address[1]}",
    )  # fmt: skip
    cfg["strategies"] = [{"id": "sma", "strategy": "sma_cross", "params": {"fast": 3, "slow": 8}}]
    node = LiveNode(NodeConfig.model_validate(cfg), world.store)

    try:
        asyncio.run(start_and_close(node))
    finally:
        server.shutdown()
    assert seen and seen[0] == "/api/v2/networks/solana/pools/PoolAddr1111/ohlcv/minute"
    feed = node.traders["sma"].engine.exec_feed["SOL/USDC"]
    oldest_first = served[::-1]
    assert list(feed.arrays["close"]) == [r[4] for r in oldest_first[-31:-1]]
    assert list(feed.arrays["ts"]) == [r[0] * 1_000_000_000 for r in oldest_first[-31:-1]]
    assert feed.cursor == len(feed) - 1  # the strategy reads them (indicators warm) ...
    with world.store.session() as s:
        assert s.scalar(select(OrderRow)) is None  # ... but never trades on history
