"""The embedded demo dataset: real daily stock prices that ship with a dependency.

Source: ``bokeh_sampledata/_data/stocks.csv.gz`` from the ``bokeh_sampledata`` package (a
Tradewind dependency). It holds Quandl "WIKI" end-of-day prices, released into the public domain
by Quandl's community WIKI project, for AAPL, IBM, MSFT, GOOG and FB, daily bars from
2000-03-01 to 2013-03-01 (GOOG from 2004, FB from 2012). Columns:
``Ticker,Date,Open,High,Low,Close,Volume,Adj Close``.

The raw OHLC are *unadjusted* (AAPL's 2000 and 2005 splits halve the price overnight), so
:func:`demo_bars` multiplies open/high/low/close by the adjustment factor ``Adj Close / Close``
of each day and divides the volume by it: splits and dividends then no longer look like crashes.
Nothing is downloaded; no network, keys or servers are needed.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence

import numpy as np
import pandas as pd

from tradewind.data.validation import validate_ohlcv
from tradewind.errors import DataError

__all__ = ["DEMO_SYMBOLS", "demo_bars"]

#: Tickers in the demo file.
DEMO_SYMBOLS: tuple[str, ...] = ("AAPL", "IBM", "MSFT", "GOOG", "FB")
_PACKAGE = "bokeh_sampledata"
_FILE = "stocks.csv.gz"
_SOURCE = f"{_PACKAGE}/_data/{_FILE}"


def _read_raw() -> pd.DataFrame:
    """The demo CSV as shipped, or ``DataError`` when the package or file is missing."""
    try:
        resource = importlib.resources.files(_PACKAGE) / "_data" / _FILE
    except ModuleNotFoundError as exc:
        raise DataError(
            f"the demo dataset needs the {_PACKAGE!r} package, which is not installed "
            f"(install it with: pip install {_PACKAGE})"
        ) from exc
    if not resource.is_file():
        raise DataError(f"demo dataset {_SOURCE} not found in the installed {_PACKAGE} package")
    with importlib.resources.as_file(resource) as path:
        try:
            return pd.read_csv(path, compression="gzip")
        except (OSError, ValueError, EOFError) as exc:
            raise DataError(f"cannot read demo dataset {_SOURCE} ({exc})") from exc


def demo_bars(symbols: Sequence[str] = ("AAPL",)) -> dict[str, pd.DataFrame]:
    """Split- and dividend-adjusted daily bars ``{symbol: frame}`` in the loader's format
    (``ts`` int64 ns bar open time, float64 ``open, high, low, close, volume``)."""
    if isinstance(symbols, str):
        symbols = [symbols]
    if not symbols:
        raise DataError(f"no demo symbols given (available: {', '.join(DEMO_SYMBOLS)})")
    raw = _read_raw()
    needed = ["Ticker", "Date", "Open", "High", "Low", "Close", "Volume", "Adj Close"]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise DataError(f"{_SOURCE}: missing column(s) {', '.join(missing)}")
    out: dict[str, pd.DataFrame] = {}
    for sym in symbols:
        rows = raw[raw["Ticker"] == sym]
        if rows.empty:
            raise DataError(
                f"demo dataset has no symbol {sym!r} (available: {', '.join(DEMO_SYMBOLS)})"
            )
        close = rows["Close"].to_numpy(np.float64)
        factor = rows["Adj Close"].to_numpy(np.float64) / close
        frame = pd.DataFrame(
            {
                "timestamp": rows["Date"].to_numpy(),
                "open": rows["Open"].to_numpy(np.float64) * factor,
                "high": rows["High"].to_numpy(np.float64) * factor,
                "low": rows["Low"].to_numpy(np.float64) * factor,
                "close": close * factor,
                "volume": rows["Volume"].to_numpy(np.float64) / factor,
            }
        )
        out[sym] = validate_ohlcv(frame, source=f"{_SOURCE} (symbol {sym})")
    return out
