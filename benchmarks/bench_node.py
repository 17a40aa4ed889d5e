"""Inside a trading node: bar event -> strategy -> risk checks -> venue submit, in microseconds.

Run: ``uv run python benchmarks/bench_node.py [--orders 2000] [--database-url URL] [--json]``.

A ``TradingNode`` replays generated minute bars with a strategy that, on every other bar, places
a limit order far from the market (and cancels it on the bar between, so the book stays small).
The time measured runs from the start of ``node.step()`` (the bar event) to the moment the
venue's ``submit`` is entered; it covers the event loop, the strategy's ``on_bar``, order
creation, the pre-trade risk checks and (recorder attached) the intent written and COMMITTED to
the database, which the node does before any order reaches a venue. Four configurations: risk
limits active or not x recorder attached or not. Target: median <= 50 us (without the durable
write, which costs what the database's commit costs: an fsync on SQLite).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradewind.live import NodeConfig, StrategyConfig, TradingNode
from tradewind.model.data import Bar
from tradewind.model.order import Order
from tradewind.store import Store
from tradewind.strategy.base import Strategy

SYMBOL = "BTCUSDT"


class BenchSubmit(Strategy):
    """Every other bar a limit buy at half the price; cancelled on the bar after."""

    qty: float = 1.0

    def on_start(self) -> None:
        self.pending: Order | None = None

    def on_bar(self, bar: Bar) -> None:
        if self.pending is not None and self.pending.is_open:
            self.cancel(self.pending)
            self.pending = None
        else:
            self.pending = self.buy(self.qty, price=round(bar.close * 0.5, 2))


def bars(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    ts = pd.Timestamp("2024-01-01", tz="UTC").value + np.arange(n, dtype=np.int64) * 60_000_000_000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    open_ = np.r_[close[0], close[:-1]]
    return pd.DataFrame(
        {
            "ts": ts,
            "open": open_,
            "high": np.maximum(open_, close) * 1.001,
            "low": np.minimum(open_, close) * 0.999,
            "close": close,
            "volume": np.full(n, 5.0),
        }
    )


def measure(url: str, orders: int, *, risk: bool, recorder: bool) -> dict[str, Any]:
    store = Store(url)
    store.migrate()
    spec = f"{Path(__file__).resolve()}:BenchSubmit"
    config = NodeConfig(
        id=f"bench-{int(risk)}{int(recorder)}",
        strategies=[StrategyConfig(id="s", strategy=spec)],
        commit_every=1_000_000,
    )
    node = TradingNode(config, store, data={SYMBOL: bars(2 * orders + 2)})
    node.start()
    t = node.traders["s"]
    if not recorder:  # detach the store writer: orders go straight to the venue
        t.engine.bus.unsubscribe("order.*", t.recorder._on_order)
        t.engine.bus.unsubscribe("fill", t.recorder._on_fill)
    if risk:
        lim = t.engine.risk.limits
        lim.max_order_quantity = {"*": 1e9}
        lim.max_order_notional = {"*": 1e12}
        lim.max_position_quantity = {"*": 1e9}
        assert t.engine.risk.active
    stamps: list[int] = []
    venue_submit = t.venue.submit

    def timed(order: Order, ts: int) -> None:
        stamps.append(time.perf_counter_ns())
        venue_submit(order, ts)

    t.venue.submit = timed  # type: ignore[method-assign]
    latencies = []
    for _ in range(2 * orders):
        before = len(stamps)
        t0 = time.perf_counter_ns()
        node.step()
        if len(stamps) > before:
            latencies.append((stamps[-1] - t0) / 1000)
    store.dispose()
    latencies.sort()
    return {
        "risk_checks": risk,
        "recorder": recorder,
        "orders": len(latencies),
        "median_us": round(statistics.median(latencies), 1),
        "p99_us": round(latencies[int(len(latencies) * 0.99)], 1),
        "mean_us": round(statistics.fmean(latencies), 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--database-url", help="default: a fresh SQLite file")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for recorder in (False, True):
            for risk in (False, True):
                url = args.database_url or f"sqlite:///{tmp}/{int(risk)}{int(recorder)}.db"
                n = args.orders if not recorder else min(args.orders, 500)
                results.append(measure(url, n, risk=risk, recorder=recorder))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    db = "given database" if args.database_url else "SQLite, synchronous=FULL"
    print(f"bar event -> strategy -> risk -> venue submit ({db})")
    print(f"{'risk checks':>11} {'recorder':>8} {'orders':>6} {'median us':>9} {'p99 us':>8}")
    for r in results:
        print(
            f"{r['risk_checks']!s:>11} {r['recorder']!s:>8} {r['orders']:>6} "
            f"{r['median_us']:>9} {r['p99_us']:>8}"
        )
    print("target: median <= 50 us (recorder off: the engine path; recorder on adds the commit)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
