"""Event-driven backtest speed: SMA-cross over the first 1,000,000 BTCUSDT 1m bars.

Run: ``make bench`` or ``uv run python benchmarks/bench_backtest.py [--bars N] [--repeat K]``.
Reports bars/s for the event loop alone and for the whole ``Backtest.run`` (indicator
precomputation, loop, result building), both excluding the CSV load, plus the peak RSS of the
process. Needs ../shared/data/binance_BTCUSDT_1m.csv.gz.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from tradewind.backtest.runner import Backtest, BacktestConfig
from tradewind.data.loader import load_ohlcv

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance_BTCUSDT_1m.csv.gz"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    if not args.data.exists():
        print(f"skipped: {args.data} not found", file=sys.stderr)
        return 0
    t0 = time.perf_counter()
    frame = load_ohlcv(args.data)["BTCUSDT"].iloc[: args.bars].reset_index(drop=True)
    load_s = time.perf_counter() - t0
    cfg = BacktestConfig(cash=100_000, commission=0.001)
    loops, totals = [], []
    trades = 0
    result = None
    for _ in range(args.repeat):
        result = None  # free the previous run first: peak RSS is one run's worth
        t1 = time.perf_counter()
        result = Backtest({"BTCUSDT": frame}, "sma_cross", cfg, fast=10, slow=30).run()
        totals.append(time.perf_counter() - t1)
        loops.append(result.stats["seconds"])
        trades = len(result.trades)
    n = len(frame)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "bars": n,
        "trades": trades,
        "load_seconds": round(load_s, 3),
        "loop_bars_per_second_best": round(n / min(loops)),
        "loop_bars_per_second_median": round(n / sorted(loops)[len(loops) // 2]),
        "run_bars_per_second_best": round(n / min(totals)),
        "run_bars_per_second_median": round(n / sorted(totals)[len(totals) // 2]),
        "peak_rss_mb": round(peak_mb),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
