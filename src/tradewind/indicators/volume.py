"""Volume indicators: OBV, MFI (TA-Lib) and session-anchored VWAP (own)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import talib

from tradewind.errors import ConfigError
from tradewind.indicators._util import arrays, check_period, ta

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


def obv(close: ArrayLike, volume: ArrayLike) -> NDArray[np.float64]:
    """On-balance volume (TA-Lib ``OBV``: starts at volume[0], no warm-up)."""
    c, v = arrays(close, volume, names=("close", "volume"))
    return ta(talib.OBV, c, v)[0]


def mfi(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, volume: ArrayLike, period: int = 14
) -> NDArray[np.float64]:
    """Money flow index, 0-100 (TA-Lib ``MFI``; 0 when there is no money flow at all)."""
    p = check_period(period, minimum=2)
    h, lo, c, v = arrays(high, low, close, volume, names=("high", "low", "close", "volume"))
    return ta(talib.MFI, h, lo, c, v, timeperiod=p)[0]


_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "min": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
    "w": 7 * 86_400_000_000_000,
}
_SESSION_RE = re.compile(r"^\s*(\d+)\s*(ns|us|ms|min|s|m|h|d|w)\s*$", re.IGNORECASE)


def _session_ns(session: str) -> int:
    match = _SESSION_RE.match(str(session))
    if match is None or int(match.group(1)) <= 0:
        raise ConfigError(
            f"vwap session must be a positive duration like '1d', '4h' or '30min', got {session!r}"
        )
    return int(match.group(1)) * _UNIT_NS[match.group(2).lower()]


def vwap(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    volume: ArrayLike,
    ts: ArrayLike,
    session: str = "1d",
) -> NDArray[np.float64]:
    """Session-anchored VWAP of the typical price (high + low + close) / 3. TA-Lib has none.

    ``ts`` are int64 ns UTC timestamps (bar open). Sessions are the ``session``-long intervals
    aligned to the Unix epoch, so ``"1d"`` resets at every UTC midnight (``"4h"`` at 00:00,
    04:00, ...). vwap[t] = Σ tp·volume / Σ volume over the bars of t's session up to t. NaN while
    the session's cumulative volume is 0 (no trade yet: no price to average) and on bars with a
    NaN input (those bars are left out of the running sums).
    """
    h, lo, c, v = arrays(high, low, close, volume, names=("high", "low", "close", "volume"))
    t = np.asarray(ts)
    if t.shape != c.shape:
        raise ConfigError(
            f"vwap ts must have the same length as the prices, got {t.shape} vs {c.shape}"
        )
    if t.dtype.kind == "M":
        t = t.astype("datetime64[ns]").view(np.int64)
    t = t.astype(np.int64, copy=False)
    sid = t // _session_ns(session)
    tp = (h + lo + c) / 3.0
    pv = tp * v
    bad = np.isnan(pv)
    pv[bad] = 0.0
    vol = np.where(bad, 0.0, v)
    frame = pd.DataFrame({"pv": pv, "v": vol})
    sums = frame.groupby(sid, sort=False).cumsum().to_numpy()
    cum_pv, cum_v = sums[:, 0], sums[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(cum_v > 0, cum_pv / cum_v, np.nan)
    out[bad] = np.nan
    return out
