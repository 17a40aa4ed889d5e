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
    out = _aggregate(bars, ts // tf_ns * tf_ns, label_first=False)
    data_end = ts[-1] + base_tf_ns
    complete = out["ts"].to_numpy() + tf_ns <= data_end
    result: pd.DataFrame = out[complete].reset_index(drop=True)
    return result


def resample_sessions(
    bars: pd.DataFrame, tf_ns: int, base_tf_ns: int, calendar: str
) -> pd.DataFrame:
    """Resample on an exchange calendar (``XNYS`` …): buckets follow the trading sessions.

    - intraday targets are aligned to each session's open (09:30, 10:30 … for hourly bars on
      XNYS), the last bucket of a session ends at its close, and no bucket spans two sessions;
    - ``1d`` gives one bar per session, stamped at the session's date (00:00 UTC, like daily
      files);
    - ``1w`` gives one bar per calendar week (Monday to Sunday), stamped at its first bar.

    Every bucket the data has is kept (sessions end at the close, so none is still forming).
    Bars outside any session raise ``DataError`` naming the first one.
    """
    import exchange_calendars as xcals

    from tradewind.errors import DataError

    if tf_ns <= base_tf_ns or (tf_ns % base_tf_ns and tf_ns < _DAY_NS):
        raise ConfigError(
            f"cannot resample {base_tf_ns // 1_000_000_000}s bars to {tf_ns // 1_000_000_000}s "
            "on a calendar: the target must be larger"
        )
    ts = bars["ts"].to_numpy(np.int64)
    if len(ts) == 0:
        return bars.iloc[:0].copy()
    try:
        cal = xcals.get_calendar(calendar)
    except Exception as exc:  # exchange_calendars' InvalidCalendarName
        raise ConfigError(f"calendar {calendar!r} is not known (e.g. XNYS, XLON)") from exc
    stamps = pd.to_datetime(ts, utc=True)
    if base_tf_ns >= _DAY_NS:
        day = stamps.tz_convert(None).normalize()
    else:
        day = stamps.tz_convert(cal.tz).normalize().tz_localize(None)
    if tf_ns == 7 * _DAY_NS:
        week = day - pd.to_timedelta(day.dayofweek, unit="D")
        bucket = week.as_unit("ns").asi8
        return _aggregate(bars, bucket, label_first=True)
    if tf_ns == _DAY_NS:
        return _aggregate(bars, day.as_unit("ns").asi8, label_first=False)
    if tf_ns > _DAY_NS:
        raise ConfigError("calendar resampling supports intraday targets, 1d and 1w")
    sched = cal.schedule
    dates = pd.DatetimeIndex(day)
    known = dates.isin(sched.index)
    if not known.all():
        bad = int(np.argmax(~known))
        raise DataError(
            f"bar at {stamps[bad].isoformat()} is not in a {calendar} session "
            f"({dates[bad].date()} is not a trading day)"
        )
    opens = _utc_ns(sched["open"].reindex(dates))
    closes = _utc_ns(sched["close"].reindex(dates))
    outside = (ts < opens) | (ts >= closes)
    if outside.any():
        bad = int(np.argmax(outside))
        raise DataError(
            f"bar at {stamps[bad].isoformat()} is outside the {calendar} session of "
            f"{dates[bad].date()} (pre/post-market bars cannot be bucketed by session)"
        )
    bucket = opens + (ts - opens) // tf_ns * tf_ns
    return _aggregate(bars, bucket, label_first=False)


_DAY_NS = 86_400_000_000_000


def _utc_ns(col: pd.Series) -> np.ndarray:
    """A tz-aware (UTC) datetime column as int64 ns."""
    return np.asarray(
        col.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    ).view(np.int64)


def _aggregate(bars: pd.DataFrame, bucket: np.ndarray, *, label_first: bool) -> pd.DataFrame:
    """OHLCV of consecutive equal-``bucket`` runs (bars are sorted, so buckets are too)."""
    ts = bars["ts"].to_numpy(np.int64)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(ts)] - 1
    return pd.DataFrame(
        {
            "ts": ts[starts] if label_first else bucket[starts],
            "open": bars["open"].to_numpy(np.float64)[starts],
            "high": np.maximum.reduceat(bars["high"].to_numpy(np.float64), starts),
            "low": np.minimum.reduceat(bars["low"].to_numpy(np.float64), starts),
            "close": bars["close"].to_numpy(np.float64)[ends],
            "volume": np.add.reduceat(bars["volume"].to_numpy(np.float64), starts),
        }
    )
