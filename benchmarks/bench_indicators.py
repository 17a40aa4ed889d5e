"""Time every vectorized indicator over a random-walk OHLCV series and compare with TA-Lib.

    uv run python benchmarks/bench_indicators.py [--bars 1000000] [--repeat 5]

Prints one row per indicator: our best-of-``repeat`` time, TA-Lib's (where TA-Lib has the
indicator), and the ratio. The acceptance target is ours <= 1.5x TA-Lib's.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import talib

import tradewind.indicators as ind

TARGET = 1.5


def make_bars(n: int, seed: int = 42) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = 1000.0 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    o = np.concatenate(([1000.0], c[:-1]))
    spread = np.abs(rng.normal(0, 0.001, n)) * c
    ts = pd.date_range("2020-01-01", periods=n, freq="1min", tz="UTC").as_unit("ns").asi8
    return {
        "o": o,
        "h": np.maximum(o, c) + spread,
        "l": np.minimum(o, c) - spread,
        "c": c,
        "v": rng.uniform(1, 100, n),
        "ts": ts,
    }


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def cases(
    d: dict[str, np.ndarray],
) -> list[tuple[str, Callable[[], object], Callable[[], object] | None]]:
    o, h, lo, c, v, ts = d["o"], d["h"], d["l"], d["c"], d["v"], d["ts"]
    return [
        ("sma(30)", lambda: ind.sma(c, 30), lambda: talib.SMA(c, 30)),
        ("sma(30, compensated)", lambda: ind.sma(c, 30, compensated=True), None),
        ("ema(30)", lambda: ind.ema(c, 30), lambda: talib.EMA(c, 30)),
        ("wma(30)", lambda: ind.wma(c, 30), lambda: talib.WMA(c, 30)),
        ("dema(30)", lambda: ind.dema(c, 30), lambda: talib.DEMA(c, 30)),
        ("tema(30)", lambda: ind.tema(c, 30), lambda: talib.TEMA(c, 30)),
        ("kama(30)", lambda: ind.kama(c, 30), lambda: talib.KAMA(c, 30)),
        ("hma(20)", lambda: ind.hma(c, 20), None),
        ("rsi(14)", lambda: ind.rsi(c), lambda: talib.RSI(c, 14)),
        ("macd(12,26,9)", lambda: ind.macd(c), lambda: talib.MACD(c)),
        ("stoch(5,3,3)", lambda: ind.stoch(h, lo, c), lambda: talib.STOCH(h, lo, c)),
        ("stochrsi(14,5,3)", lambda: ind.stochrsi(c), lambda: talib.STOCHRSI(c, 14, 5, 3, 0)),
        ("cci(14)", lambda: ind.cci(h, lo, c), lambda: talib.CCI(h, lo, c, 14)),
        ("adx(14)", lambda: ind.adx(h, lo, c), lambda: talib.ADX(h, lo, c, 14)),
        ("plus_di(14)", lambda: ind.plus_di(h, lo, c), lambda: talib.PLUS_DI(h, lo, c, 14)),
        ("minus_di(14)", lambda: ind.minus_di(h, lo, c), lambda: talib.MINUS_DI(h, lo, c, 14)),
        ("atr(14)", lambda: ind.atr(h, lo, c), lambda: talib.ATR(h, lo, c, 14)),
        ("natr(14)", lambda: ind.natr(h, lo, c), lambda: talib.NATR(h, lo, c, 14)),
        ("bbands(20,2)", lambda: ind.bbands(c), lambda: talib.BBANDS(c, 20, 2.0, 2.0, 0)),
        ("stddev(20)", lambda: ind.stddev(c, 20), lambda: talib.STDDEV(c, 20, 1.0)),
        ("keltner(20,2,10)", lambda: ind.keltner(h, lo, c), None),
        (
            "donchian(20)",
            lambda: ind.donchian(h, lo, 20),
            lambda: (talib.MAX(h, 20), talib.MIN(lo, 20)),
        ),
        ("obv", lambda: ind.obv(c, v), lambda: talib.OBV(c, v)),
        ("vwap(1d)", lambda: ind.vwap(h, lo, c, v, ts), None),
        ("mfi(14)", lambda: ind.mfi(h, lo, c, v), lambda: talib.MFI(h, lo, c, v, 14)),
        ("roc(10)", lambda: ind.roc(c), lambda: talib.ROC(c, 10)),
        ("willr(14)", lambda: ind.willr(h, lo, c), lambda: talib.WILLR(h, lo, c, 14)),
        ("ichimoku(9,26,52)", lambda: ind.ichimoku(h, lo, c), None),
        ("supertrend(10,3)", lambda: ind.supertrend(h, lo, c), None),
        ("sar(.02,.2)", lambda: ind.sar(h, lo), lambda: talib.SAR(h, lo)),
        ("zscore(20)", lambda: ind.zscore(c, 20), None),
        (
            "rolling_beta(30,ret)",
            lambda: ind.rolling_beta(c, o, 30, returns=True),
            lambda: talib.BETA(o, c, 30),
        ),
        ("rolling_corr(30)", lambda: ind.rolling_corr(c, o, 30), lambda: talib.CORREL(c, o, 30)),
        (
            "pattern(engulfing)",
            lambda: ind.pattern("engulfing", o, h, lo, c),
            lambda: talib.CDLENGULFING(o, h, lo, c),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    d = make_bars(args.bars)
    print(f"{args.bars:,} bars, best of {args.repeat}")
    print(f"{'indicator':<22}{'ours ms':>10}{'talib ms':>10}{'ratio':>8}  target <= {TARGET}x")
    misses = []
    for name, ours, theirs in cases(d):
        t_ours = best(ours, args.repeat) * 1e3
        if theirs is None:
            print(f"{name:<22}{t_ours:>10.2f}{'-':>10}{'-':>8}  (no TA-Lib equivalent)")
            continue
        t_ta = best(theirs, args.repeat) * 1e3
        ratio = t_ours / t_ta
        flag = "ok" if ratio <= TARGET else "SLOWER"
        if ratio > TARGET:
            misses.append(name)
        print(f"{name:<22}{t_ours:>10.2f}{t_ta:>10.2f}{ratio:>8.2f}  {flag}")
    print("all within target" if not misses else f"over target: {', '.join(misses)}")


if __name__ == "__main__":
    main()
