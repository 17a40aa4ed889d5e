"""Resample OHLCV bars to a coarser timeframe, vectorized and without look-ahead.

Buckets are aligned to the epoch (``ts // tf * tf``), like exchange candles. A bucket is kept only
if it is complete, i.e. the data runs to its end; the last, still-forming bucket is dropped, so a
resampled bar never contains data from after the moment it is delivered (its close).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradewind.errors import ConfigError


def resample_bars(bars: pd.DataFrame, tf_ns: int, base_tf_ns: int) -> pd.DataFrame:
    """Aggregate ``bars`` (loader format: ts, open, high, low, close, volume) into ``tf_ns`` bars.

    ``base_tf_ns`` is the input timeframe; the output timeframe must be a multiple of it.
    """
    if tf_ns <= base_tf_ns or tf_ns % base_tf_ns:
        raise ConfigError(
            f"cannot resample {base_tf_ns // 1_000_000_000}s bars to {tf_ns // 1_000_000_000}s: "
            "the target must be a larger multiple of the source timeframe"
        )
    ts = bars["ts"].to_numpy(np.int64)
    if len(ts) == 0:
        return bars.iloc[:0].copy()
    bucket = ts // tf_ns * tf_ns
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(ts)] - 1
    out = pd.DataFrame(
        {
            "ts": bucket[starts],
            "open": bars["open"].to_numpy(np.float64)[starts],
            "high": np.maximum.reduceat(bars["high"].to_numpy(np.float64), starts),
            "low": np.minimum.reduceat(bars["low"].to_numpy(np.float64), starts),
            "close": bars["close"].to_numpy(np.float64)[ends],
            "volume": np.add.reduceat(bars["volume"].to_numpy(np.float64), starts),
        }
    )
    data_end = ts[-1] + base_tf_ns
    complete = out["ts"].to_numpy() + tf_ns <= data_end
    result: pd.DataFrame = out[complete].reset_index(drop=True)
    return result
