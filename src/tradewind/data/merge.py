"""Merge several sources' bars for one instrument: a precedence rule and a conflict report.

For every bar time present in any source, the bar of the first source (in the order given)
that has it is taken. Where two or more sources have the bar and their closes differ by more
than ``tolerance`` (relative to the preferred source), the time goes into the conflict table,
which shows every source's close side by side (on-chain vs exchange prices, say) and the
largest relative difference.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tradewind.errors import ConfigError


def merge_series(
    frames: Mapping[str, pd.DataFrame], *, tolerance: float = 0.005
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Return (merged bars, conflict table, bars taken per source)."""
    if not frames:
        raise ConfigError("nothing to merge")
    if not tolerance >= 0:
        raise ConfigError(f"tolerance must be >= 0, got {tolerance}")
    names = list(frames)
    tagged = [f.assign(_rank=i) for i, f in enumerate(frames.values())]
    both = pd.concat(tagged, ignore_index=True).sort_values(["ts", "_rank"], kind="stable")
    first = ~both["ts"].duplicated(keep="first")
    merged = both[first].drop(columns="_rank").reset_index(drop=True)
    taken = both.loc[first, "_rank"].value_counts()
    counts = {names[i]: int(taken.get(i, 0)) for i in range(len(names))}
    closes = both.pivot(index="ts", columns="_rank", values="close")
    closes.columns = [f"close[{names[int(c)]}]" for c in closes.columns]
    preferred = closes.bfill(axis=1).iloc[:, 0]
    present = closes.notna().sum(axis=1)
    diff = closes.sub(preferred, axis=0).abs().div(preferred, axis=0).max(axis=1)
    bad = (present >= 2) & (diff > tolerance)
    table = closes[bad].copy()
    table["max_rel_diff"] = diff[bad]
    table.insert(0, "time", pd.to_datetime(table.index.to_numpy(np.int64), utc=True))
    return merged, table.reset_index(drop=True), counts
