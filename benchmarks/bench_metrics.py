"""Speed of the full metrics set: ``full_metrics`` on 1,000,000 generated returns.

Run: ``uv run python benchmarks/bench_metrics.py [--n N] [--repeat K]``. Builds a seeded
random equity curve of N + 1 one-minute points (24/7, so periods per year are inferred), a
benchmark return series and 1,000 round trips, then reports the best and median wall time of
``full_metrics`` over K runs. Target: <= 0.5 s for N = 1,000,000.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import pandas as pd

from tradewind.analytics import full_metrics


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(42)
    returns = rng.standard_t(4, args.n) * 1e-4 + 1e-6
    bench = 0.6 * returns + rng.normal(0.0, 1e-4, args.n)
    idx = pd.date_range("2024-01-01", periods=args.n + 1, freq="1min", tz="UTC")
    equity = pd.Series(100_000.0 * np.concatenate(([1.0], np.cumprod(1.0 + returns))), index=idx)
    k = 1000
    entries = np.sort(rng.choice(args.n - 10, k, replace=False))
    trades = pd.DataFrame(
        {
            "pnl": rng.normal(5.0, 50.0, k),
            "entry_time": idx[entries],
            "exit_time": idx[entries + 5],
            "fees": np.full(k, 1.0),
            "quantity": np.full(k, 1.0),
            "entry_price": np.full(k, 100.0),
            "exit_price": np.full(k, 101.0),
        }
    )
    times = []
    result = {}
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = full_metrics(equity, trades, benchmark=bench)
        times.append(time.perf_counter() - t0)
    report = {
        "returns": args.n,
        "metrics": len(result),
        "best_s": round(min(times), 4),
        "median_s": round(statistics.median(times), 4),
        "target_s": 0.5,
        "sharpe": result["sharpe"],
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
