"""Market-data layer speed on the real files: import, read a month, resample, 505-stock import.

    uv run python benchmarks/bench_data.py [--repeat 5]

Targets (issue 4): importing the 2,059,120-row BTC 1m file <= 10 s; reading one month back
<= 50 ms; resampling all of it to 1h <= 1 s (and equal to pandas' resample); the 505-stock
daily file imports as 505 symbols. Needs ../shared/data; each step uses a fresh temp catalog.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tradewind.data.catalog import Catalog
from tradewind.data.importer import ImportOptions, import_file
from tradewind.data.resample import resample_bars

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BTC = DATA / "binance_BTCUSDT_1m.csv.gz"
STOCKS = DATA / "us_sp500_505stocks_1d.csv.gz"
KEY = "binance:BTC/USDT:1m"


def timed(fn, repeat: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not BTC.exists() or not STOCKS.exists():
        sys.exit(f"needs the real data files in {DATA}")
    with tempfile.TemporaryDirectory() as tmp:
        roots = iter(range(10_000))

        def do_import() -> Catalog:
            cat = Catalog(Path(tmp) / f"c{next(roots)}")
            import_file(cat, BTC, ImportOptions())
            return cat

        best, med, cat = timed(do_import, max(1, args.repeat // 2))
        print(
            f"import BTC 1m (2,059,120 rows)   best {best:6.2f} s  median {med:6.2f} s  (<= 10 s)"
        )
        assert isinstance(cat, Catalog)
        best, med, _ = timed(lambda: cat.read(KEY, "2024-03-01", "2024-04-01"), args.repeat * 4)
        print(
            f"read one month (44,640 bars)     best {best * 1e3:6.1f} ms "
            f"median {med * 1e3:6.1f} ms (<= 50 ms)"
        )
        bars = cat.read(KEY)
        best, med, hourly = timed(
            lambda: resample_bars(bars, 3_600_000_000_000, 60_000_000_000), args.repeat
        )
        print(
            f"resample all to 1h               best {best * 1e3:6.1f} ms "
            f"median {med * 1e3:6.1f} ms (<= 1 s)"
        )
        t0 = time.perf_counter()
        full = cat.read(KEY)
        hourly = resample_bars(full, 3_600_000_000_000, 60_000_000_000)
        print(f"  incl. reading the series back  {time.perf_counter() - t0:6.2f} s")
        d = full.set_index(pd.to_datetime(full["ts"], utc=True)).drop(columns="ts")
        ref = (
            d.resample("1h")
            .agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
            .dropna(subset=["open"])
        )
        same = np.array_equal(hourly["ts"].to_numpy(), ref.index.as_unit("ns").asi8) and all(
            np.array_equal(hourly[c].to_numpy(), ref[c].to_numpy())
            for c in ("open", "high", "low", "close")
        )
        print(f"  equal to pandas resample: {same} ({len(hourly):,} bars)")
        stocks = Catalog(Path(tmp) / "stocks")
        t0 = time.perf_counter()
        result = import_file(stocks, STOCKS, ImportOptions(venue="us", repair=True))
        print(
            f"import 505-stock daily file      {time.perf_counter() - t0:6.2f} s  "
            f"-> {len(result.keys)} symbols"
        )


if __name__ == "__main__":
    main()
