"""Vectorized-engine speed: one SMA-cross backtest and the 90-pair SMA sweep on 1,000,000 bars.

    uv run --frozen python benchmarks/bench_vector.py [--bars N] [--repeat K] [--json [PATH]]

Data: the first ``--bars`` Binance BTC/USDT 1m candles (../shared/data). Rules: signal at bar
t's close, market fill at bar t+1's open, all-in long, commission 0.1 % per fill, cash 100,000.

(a) one backtest, SMA(10, 30): ``simulate`` alone (signals precomputed; metrics computed,
    trades and equity kept as arrays), ``simulate`` plus building the trades and equity
    DataFrames, and signals + simulate (a fresh indicator cache each run), best and median of
    ``--repeat`` runs;
(b) the sweep: fast 5..50 step 5 x slow 20..200 step 20, kept where fast < slow (90 sets),
    ``optimize(..., method="grid", objectives=["sharpe"], overfit=False)`` from the parameter
    list to the metrics table.

Timings exclude the data load and the one-time JIT (each path is run once on a small slice
first; numba's cache on disk makes that a load, not a compile, after the first ever run).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from tradewind.backtest.optimize import ParamSpace, optimize
from tradewind.backtest.vector import VECTOR_BUILTINS, Bars, Signals, VectorConfig, simulate
from tradewind.data.loader import load_ohlcv

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance_BTCUSDT_1m.csv.gz"
GRID = {"fast": "5:50:5", "slow": "20:200:20"}
CONSTRAINTS = ["fast < slow"]
WARM_BARS = 3_000


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Run ``fn`` ``repeat`` times; (wall times, last result)."""
    times: list[float] = []
    out: Any = None
    for _ in range(repeat):
        out = None  # drop the previous result first, so memory holds one run's worth
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def load_frame(path: Path, bars: int) -> pd.DataFrame:
    """The first ``bars`` rows of the file's (only) symbol as ts + OHLCV columns."""
    frame = next(iter(load_ohlcv(path).values()))
    return frame.iloc[:bars].reset_index(drop=True)


def run(frame: pd.DataFrame, repeat: int, sweep_repeat: int) -> dict[str, Any]:
    """All measurements on ``frame``; a JSON-able dict."""
    n = len(frame)
    cfg = VectorConfig(cash=100_000.0, commission=0.001)
    sma = VECTOR_BUILTINS["sma_cross"]
    space = ParamSpace(sma, GRID, CONSTRAINTS)
    points = space.grid()

    # one-time JIT (or numba cache load) for every path timed below
    t0 = time.perf_counter()
    warm = Bars(frame.iloc[:WARM_BARS], "BTCUSDT")
    simulate(warm, sma(fast=10, slow=30).signals(warm), cfg)
    optimize(
        warm,
        "sma_cross",
        space,
        method="grid",
        objectives=["sharpe"],
        vector_config=cfg,
        overfit=False,
    )
    warm_s = time.perf_counter() - t0

    bars = Bars(frame, "BTCUSDT")
    signals: Signals = sma(fast=10, slow=30).signals(bars)
    sim_times, result = timed(lambda: simulate(bars, signals, cfg), repeat)

    def with_frames() -> Any:
        res = simulate(bars, signals, cfg)
        return res, res.trades, res.equity  # the frames are built on first access

    frame_times, _ = timed(with_frames, repeat)

    fresh = [Bars(frame, "BTCUSDT") for _ in range(repeat)]  # empty indicator caches
    it = iter(fresh)

    def signals_and_simulate() -> Any:
        b = next(it)
        return simulate(b, sma(fast=10, slow=30).signals(b), cfg)

    full_times, _ = timed(signals_and_simulate, repeat)
    del fresh

    sweep_bars = [Bars(frame, "BTCUSDT") for _ in range(sweep_repeat)]
    its = iter(sweep_bars)

    def sweep() -> Any:
        return optimize(
            next(its),
            "sma_cross",
            space,
            method="grid",
            objectives=["sharpe"],
            vector_config=cfg,
            overfit=False,
        )

    sweep_times, opt = timed(sweep, sweep_repeat)
    best = opt.ranked().iloc[0]
    single = result.summary()
    return {
        "bars": n,
        "first_bar": str(pd.Timestamp(int(frame["ts"].iloc[0]), tz="UTC")),
        "last_bar": str(pd.Timestamp(int(frame["ts"].iloc[-1]), tz="UTC")),
        "settings": {"cash": cfg.cash, "commission": cfg.commission, "fill": "next open"},
        "warmup_seconds": warm_s,
        "numba_threads": _numba_threads(),
        "single": {
            "params": {"fast": 10, "slow": 30},
            "simulate_s": _stats(sim_times),
            "simulate_and_frames_s": _stats(frame_times),
            "signals_and_simulate_s": _stats(full_times),
            "trades": int(single["trades"]),
            "final_equity": float(single["final_equity"]),
        },
        "sweep": {
            "runs": len(points),
            "grid": GRID,
            "constraints": CONSTRAINTS,
            "seconds": _stats(sweep_times),
            "best_by_sharpe": {
                "fast": int(best["fast"]),
                "slow": int(best["slow"]),
                "sharpe": float(best["sharpe"]),
            },
        },
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_average": list(os.getloadavg()),
    }


def _stats(times: list[float]) -> dict[str, Any]:
    return {"best": min(times), "median": statistics.median(times), "runs": times}


def _numba_threads() -> int:
    import numba

    return int(numba.get_num_threads())


def table(r: dict[str, Any]) -> str:
    """The measurements as a Markdown table."""
    n = r["bars"]
    s = r["single"]
    w = r["sweep"]
    rows = [
        ("single run, simulate only (metrics)", s["simulate_s"], 1),
        ("single run, simulate + trades/equity frames", s["simulate_and_frames_s"], 1),
        ("single run, signals + simulate", s["signals_and_simulate_s"], 1),
        (f"{w['runs']}-pair SMA sweep (optimize, grid)", w["seconds"], w["runs"]),
    ]
    out = [
        "| task | bars | runs | best s | median s | bars/s (best) | runs/s (best) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, t, runs in rows:
        out.append(
            f"| {name} | {n:,} | {runs} | {t['best']:.3f} | {t['median']:.3f} "
            f"| {n * runs / t['best']:,.0f} | {runs / t['best']:,.1f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, default=1_000_000, help="first N bars (default 1M)")
    ap.add_argument("--repeat", type=int, default=7, help="runs of the single backtest")
    ap.add_argument("--sweep-repeat", type=int, default=3, help="runs of the 90-pair sweep")
    ap.add_argument("--data", type=Path, default=DATA, help="BTC/USDT 1m candles (csv.gz)")
    ap.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="PATH",
        help="also write the results as JSON to PATH (stdout without PATH)",
    )
    args = ap.parse_args(argv)
    if args.bars < WARM_BARS or args.repeat < 1 or args.sweep_repeat < 1:
        ap.error(f"--bars must be >= {WARM_BARS}; --repeat and --sweep-repeat >= 1")
    if not args.data.exists():
        print(f"skipped: data file {args.data} not found", file=sys.stderr)
        return 0
    t0 = time.perf_counter()
    frame = load_frame(args.data, args.bars)
    load_s = time.perf_counter() - t0
    r = run(frame, args.repeat, args.sweep_repeat)
    r["load_seconds"] = load_s
    print(
        f"Tradewind vectorized engine, BTC/USDT 1m, {r['first_bar'][:16]} .. {r['last_bar'][:16]}"
        f" (numba threads {r['numba_threads']}, load avg {r['load_average'][0]:.2f})\n"
    )
    print(table(r))
    s, w = r["single"], r["sweep"]
    print(
        f"\nSMA(10, 30): {s['trades']} closed trades, final equity {s['final_equity']:.6g}; "
        f"sweep best by Sharpe: {w['best_by_sharpe']}\n"
        f"data load {load_s:.2f} s and JIT/cache warm-up {r['warmup_seconds']:.2f} s not counted;"
        f" peak RSS {r['peak_rss_mb']:.0f} MB"
    )
    if args.json == "-":
        print(json.dumps(r, indent=2))
    elif args.json:
        Path(args.json).write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
