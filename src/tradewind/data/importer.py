"""Import CSV/Parquet files into the catalog: one series, long format, or wide close-only.

Everything is read and validated before anything is written, and the catalog write is all or
nothing, so a bad row anywhere in a 505-symbol file leaves the catalog as it was.

- single series: ``timestamp, open, high, low, close, volume`` (+ ``--map`` for other names);
- long: the same plus a ``symbol``/``ticker`` column (one series per symbol);
- wide: ``timestamp`` plus one column of closes per symbol (e.g. adjusted-close tables). Bars
  get open = high = low = close and volume 0, and the catalog marks them ``close_only``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from tradewind.data.catalog import Catalog, WriteResult
from tradewind.data.loader import (
    infer_timeframe_ns,
    map_columns,
    ns_to_timeframe,
    read_table,
    split_table,
    symbol_from_path,
    timeframe_to_ns,
)
from tradewind.data.symbols import SeriesKey, check_venue, normalize_symbol
from tradewind.data.validation import validate_ohlcv
from tradewind.errors import ConfigError, DataError

Layout = Literal["auto", "single", "long", "wide"]
_OHLC = {"open", "high", "low", "close"}
_TS_NAMES = ("timestamp", "time", "date", "datetime", "ts")


@dataclass
class ImportOptions:
    """What ``tradewind data import`` was asked to do."""

    venue: str | None = None  # default: from a ``venue_SYMBOL_tf`` file name, else "local"
    symbol: str | None = None  # the series' symbol (single) or the one to take (long)
    timeframe: str | None = None  # default: inferred from the timestamps
    layout: Layout = "auto"
    columns: Mapping[str, str] = field(default_factory=dict)  # ours -> the file's
    delimiter: str = ","
    repair: bool = False


@dataclass
class ImportResult:
    keys: list[SeriesKey]
    written: WriteResult
    close_only: bool
    report: list[str]


def read_series(
    path: str | Path, options: ImportOptions
) -> tuple[dict[SeriesKey, pd.DataFrame], bool, list[str]]:
    """Read and validate ``path`` into ``{key: bars}``; (series, close_only, repair report)."""
    path = Path(path)
    venue = check_venue(options.venue or venue_from_path(path))
    report: list[str] = []
    raw = map_columns(read_table(path, options.delimiter), options.columns, path.name)
    layout = _detect_layout(raw) if options.layout == "auto" else options.layout
    if layout == "wide":
        frames = _wide(raw, path.name, options, report)
        close_only = True
    else:
        frames = split_table(
            raw,
            path,
            symbol=options.symbol if layout == "long" or _has_symbol(raw) else None,
            repair=options.repair,
            report=report,
        )
        if layout != "long" and len(frames) == 1 and options.symbol:
            frames = {options.symbol: next(iter(frames.values()))}
        close_only = False
    series: dict[SeriesKey, pd.DataFrame] = {}
    for name, bars in frames.items():
        symbol = normalize_symbol(str(name), venue)
        timeframe = options.timeframe or _infer_timeframe(bars, f"{path.name} ({name})")
        timeframe_to_ns(timeframe)
        key = SeriesKey(venue, symbol, timeframe)
        if key in series:
            raise DataError(f"{path.name}: symbols {name!r} and another both map to {key}")
        series[key] = bars
    return series, close_only, report


def import_file(catalog: Catalog, path: str | Path, options: ImportOptions) -> ImportResult:
    """Validate ``path`` completely, then write all its series to ``catalog`` at once."""
    series, close_only, report = read_series(path, options)
    written = catalog.write(
        {str(k): v for k, v in series.items()},
        source=f"file:{Path(path).name}",
        close_only=close_only,
    )
    return ImportResult(sorted(series), written, close_only, report)


def venue_from_path(path: Path) -> str:
    """``binance_BTCUSDT_1m.csv.gz`` -> ``binance``; otherwise ``local``."""
    symbol = symbol_from_path(path)
    stem = path.name.split(".")[0]
    if symbol != stem and "_" in stem:
        return stem.split("_")[0].lower()
    return "local"


def _has_symbol(raw: pd.DataFrame) -> bool:
    return any(str(c).strip().lower() in ("symbol", "ticker") for c in raw.columns)


def _detect_layout(raw: pd.DataFrame) -> Layout:
    names = {str(c).strip().lower() for c in raw.columns}
    if names >= _OHLC:
        return "long" if names & {"symbol", "ticker"} else "single"
    if names & set(_TS_NAMES) and len(names) >= 2 and not names & (_OHLC - {"close"}):
        return "wide"
    return "single"  # let the loader name the missing columns


def _wide(
    raw: pd.DataFrame, source: str, options: ImportOptions, report: list[str]
) -> dict[str, pd.DataFrame]:
    """One close-only series per value column of a wide table."""
    ts_cols = [c for c in raw.columns if str(c).strip().lower() in _TS_NAMES]
    if len(ts_cols) != 1:
        raise DataError(
            f"{source}: a wide file needs exactly one timestamp column "
            f"(one of {', '.join(_TS_NAMES)}), found {len(ts_cols)}"
        )
    ts_col = ts_cols[0]
    symbols = [c for c in raw.columns if c != ts_col]
    if options.symbol is not None:
        if options.symbol not in symbols:
            raise DataError(f"{source}: no column {options.symbol!r} (columns: {symbols[:20]})")
        symbols = [options.symbol]
    out: dict[str, pd.DataFrame] = {}
    for sym in symbols:
        col = raw[sym]
        present = col.notna().to_numpy(dtype=np.bool_)
        if not present.any():
            report.append(f"{source}: column {sym!r} has no values; skipped")
            continue
        frame = pd.DataFrame(
            {
                "timestamp": raw[ts_col][present],
                "open": col[present],
                "high": col[present],
                "low": col[present],
                "close": col[present],
                "volume": 0.0,
            }
        )
        out[str(sym)] = validate_ohlcv(
            frame, source=f"{source} (column {sym})", repair=options.repair, report=report
        )
    if not out:
        raise DataError(f"{source}: no column has any values")
    return out


def _infer_timeframe(bars: pd.DataFrame, source: str) -> str:
    ts = bars["ts"].to_numpy(np.int64)
    if len(ts) < 2:
        raise ConfigError(f"{source}: one bar only; pass --timeframe")
    return ns_to_timeframe(infer_timeframe_ns(ts))
