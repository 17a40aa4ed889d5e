"""Streaming indicator speed: median cost of one ``update`` for SMA/EMA/RSI/ATR (target ≤ 2 µs).

Run: ``uv run python benchmarks/bench_streaming.py [--updates N] [--batch B]``.
Feeds N updates (default 1,000,000: BTCUSDT 1m closes/bars from ../shared/data when present,
else a seeded random walk), timing batches of B updates with ``time.perf_counter_ns``; the
reported figure is the median batch time / B (so it includes the Python ``for`` loop that
calls ``update``). Prints a table and a JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tradewind.indicators import streaming as st
from tradewind.model import Bar

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance_BTCUSDT_1m.csv.gz"
TARGET_US = 2.0


def _inputs(n: int, data: Path) -> tuple[list[float], list[Bar], str]:
    if data.exists():
        from tradewind.data.loader import load_ohlcv

        df = load_ohlcv(data)["BTCUSDT"].iloc[:n]
        rows = zip(
            df["ts"].tolist(),
            df["open"].tolist(),
            df["high"].tolist(),
            df["low"].tolist(),
            df["close"].tolist(),
            df["volume"].tolist(),
            strict=True,
        )
        bars = [Bar("BTCUSDT", "1m", t, o, h, lo, c, v) for t, o, h, lo, c, v in rows]
        source = data.name
    else:
        rng = random.Random(1)
        price = 100.0
        bars = []
        for i in range(n):
            o = price
            price *= 1.0 + rng.gauss(0.0, 0.002)
            hi = max(o, price) * (1 + abs(rng.gauss(0.0, 0.001)))
            lo = min(o, price) * (1 - abs(rng.gauss(0.0, 0.001)))
            bars.append(Bar("RW", "1m", i, o, hi, lo, price, 1.0))
        source = "random walk"
    # repeat if the file is shorter than n
    while len(bars) < n:
        bars = bars + bars[: n - len(bars)]
    return [b.close for b in bars], bars, source


def _time(ind: Any, xs: list[Any], batch: int) -> list[float]:
    upd = ind.update
    per_update_ns = []
    clock = time.perf_counter_ns
    for start in range(0, len(xs), batch):
        chunk = xs[start : start + batch]
        t0 = clock()
        for x in chunk:
            upd(x)
        per_update_ns.append((clock() - t0) / len(chunk))
    return per_update_ns


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updates", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=1_000)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    closes, bars, source = _inputs(args.updates, args.data)
    cases: list[tuple[str, Any, list[Any]]] = [
        ("SMA(20) float", st.SMA(20), closes),
        ("EMA(20) float", st.EMA(20), closes),
        ("RSI(14) float", st.RSI(14), closes),
        ("ATR(14) Bar", st.ATR(14), bars),
        ("SMA(20) Bar", st.SMA(20), bars),
        ("MACD float", st.MACD(), closes),
        ("BBANDS(20) float", st.BBANDS(20), closes),
        ("ADX(14) Bar", st.ADX(14), bars),
    ]
    print(f"{args.updates:,} updates per indicator ({source}), batches of {args.batch}")
    print(f"{'indicator':<18} {'median µs':>10} {'p90 µs':>8} {'mean µs':>8}")
    out: dict[str, dict[str, float]] = {}
    ok = True
    for name, ind, xs in cases:
        ns = _time(ind, xs, args.batch)
        med = statistics.median(ns) / 1000
        p90 = statistics.quantiles(ns, n=10)[-1] / 1000
        mean = statistics.fmean(ns) / 1000
        out[name] = {"median_us": round(med, 4), "p90_us": round(p90, 4), "mean_us": round(mean, 4)}
        if name.split("(")[0] in {"SMA", "EMA", "RSI", "ATR"} and med > TARGET_US:
            ok = False
        print(f"{name:<18} {med:>10.3f} {p90:>8.3f} {mean:>8.3f}")
    print(json.dumps({"updates": args.updates, "source": source, "results": out, "target_met": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
