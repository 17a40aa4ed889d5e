"""Explicit fixes for a stored series, each reported: fill 24/7 gaps, drop spikes, drop
zero-volume runs. Nothing is changed that the user did not ask for."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradewind.data.loader import timeframe_to_ns
from tradewind.data.quality import check_quality
from tradewind.data.symbols import SeriesKey, is_crypto_venue
from tradewind.errors import ConfigError


def repair_series(
    bars: pd.DataFrame,
    key: SeriesKey,
    *,
    fill_gaps: bool = False,
    drop_spikes: bool = False,
    drop_zero_volume: bool = False,
) -> tuple[pd.DataFrame, list[str]]:
    """Return (repaired bars, one line per action)."""
    actions: list[str] = []
    tf_ns = timeframe_to_ns(key.timeframe)
    report = check_quality(bars, series=str(key), timeframe=key.timeframe)
    out = bars
    if drop_spikes and report.spikes:
        spikes = np.array([s.ts_ns for s in report.spikes], dtype=np.int64)
        out = out[~np.isin(out["ts"].to_numpy(np.int64), spikes)].reset_index(drop=True)
        actions += [f"dropped outlier {s.describe()}" for s in report.spikes]
    if drop_zero_volume and report.zero_volume:
        ts = out["ts"].to_numpy(np.int64)
        drop = np.zeros(len(ts), np.bool_)
        for run in report.zero_volume:  # runs are consecutive rows (a gap may lie inside)
            first = int(np.searchsorted(ts, run.start_ns))
            drop[first : first + run.bars] = True
        out = out[~drop].reset_index(drop=True)
        actions += [f"dropped zero-volume run {z.describe()}" for z in report.zero_volume]
    if fill_gaps and (drop_spikes or drop_zero_volume):  # gaps of what is left now
        report = check_quality(out, series=str(key), timeframe=key.timeframe)
    if fill_gaps and report.gaps:
        if not is_crypto_venue(key.venue):
            raise ConfigError(
                f"{key}: --fill-gaps fills 24/7 series only (exchange-calendar gaps are "
                "missing sessions; download them instead)"
            )
        filler = []
        close = out.set_index("ts")["close"]
        for gap in report.gaps:
            ts = gap.start_ns + np.arange(gap.missing, dtype=np.int64) * tf_ns
            price = float(close.loc[gap.after_ns]) if gap.after_ns in close.index else np.nan
            filler.append(
                pd.DataFrame(
                    {
                        "ts": ts,
                        "open": price,
                        "high": price,
                        "low": price,
                        "close": price,
                        "volume": 0.0,
                    }
                )
            )
            actions.append(f"filled {gap.describe(tf_ns)} with flat bars at {price:g}, volume 0")
        out = pd.concat([out, *filler], ignore_index=True).sort_values("ts", kind="stable")
        out = out.reset_index(drop=True)
    return out, actions
