"""Data-quality report for a bar series: gaps, outliers, zero-volume runs (and, from the file
reader, duplicates and OHLC inconsistencies).

Unlike ``validate_ohlcv`` (which refuses a bad file), this describes a series so a user can
decide what to repair. Everything is vectorized; a 2M-bar series is checked in well under a
second.

- Gaps: on a 24/7 calendar (crypto) every missing bar counts; on an exchange calendar
  (``XNYS`` …, via ``exchange_calendars``) daily bars are compared with the trading sessions
  and intraday bars only within a session, so nights, weekends and holidays are not gaps.
- Outliers: a close that jumps away from its neighbours and straight back (a one-bar spike),
  by more than ``spike_sigmas`` robust standard deviations of the log returns and at least
  ``min_spike`` (5 % by default). Real crashes do not revert within one bar and are not flagged.
- Zero-volume runs: ``min_zero_run`` or more consecutive bars with volume 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tradewind.data.loader import timeframe_to_ns
from tradewind.errors import ConfigError

DAY_NS = 86_400_000_000_000
TWENTY_FOUR_SEVEN = "24/7"


@dataclass
class Gap:
    start_ns: int  # open time of the first missing bar
    missing: int  # bars (or sessions) missing
    after_ns: int  # the last bar before the gap

    def describe(self, tf_ns: int) -> str:
        start = pd.Timestamp(self.start_ns, tz="UTC")
        if tf_ns >= DAY_NS:
            return f"{self.missing} session(s) missing from {start.date()}"
        resume = pd.Timestamp(self.start_ns + self.missing * tf_ns, tz="UTC")
        return (
            f"{_span(self.missing * tf_ns)} missing: {self.missing} bars from "
            f"{start.isoformat()}, data resumes {resume.isoformat()}"
        )


@dataclass
class Spike:
    ts_ns: int
    close: float
    move: float  # log return into the spike

    def describe(self) -> str:
        return (
            f"{pd.Timestamp(self.ts_ns, tz='UTC').isoformat()}: close {self.close:g} jumps "
            f"{np.expm1(self.move):+.1%} and reverts on the next bar"
        )


@dataclass
class ZeroRun:
    start_ns: int
    bars: int

    def describe(self) -> str:
        return f"{pd.Timestamp(self.start_ns, tz='UTC').isoformat()}: {self.bars} bars volume 0"


@dataclass
class QualityReport:
    """What ``tradewind data validate`` prints (and emits as JSON)."""

    series: str
    rows: int
    timeframe: str
    calendar: str
    gaps: list[Gap] = field(default_factory=list)
    spikes: list[Spike] = field(default_factory=list)
    zero_volume: list[ZeroRun] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)  # dropped rows reported by the reader

    @property
    def clean(self) -> bool:
        return not (self.gaps or self.spikes or self.zero_volume or self.file_problems)

    def to_dict(self) -> dict[str, Any]:
        tf_ns = timeframe_to_ns(self.timeframe)
        out = asdict(self)
        out["gaps"] = [{**asdict(g), "text": g.describe(tf_ns)} for g in self.gaps]
        out["spikes"] = [{**asdict(s), "text": s.describe()} for s in self.spikes]
        out["zero_volume"] = [{**asdict(z), "text": z.describe()} for z in self.zero_volume]
        out["clean"] = self.clean
        return out


def check_quality(
    bars: pd.DataFrame,
    *,
    series: str,
    timeframe: str,
    calendar: str = TWENTY_FOUR_SEVEN,
    spike_sigmas: float = 12.0,
    min_spike: float = 0.05,
    min_zero_run: int = 3,
) -> QualityReport:
    """Describe ``bars`` (ts + OHLCV, sorted, unique)."""
    tf_ns = timeframe_to_ns(timeframe)
    ts = bars["ts"].to_numpy(np.int64)
    report = QualityReport(series, len(ts), timeframe, calendar)
    if len(ts) == 0:
        return report
    if calendar == TWENTY_FOUR_SEVEN:
        report.gaps = _gaps_24_7(ts, tf_ns)
    else:
        report.gaps = _gaps_calendar(ts, tf_ns, calendar)
    report.spikes = _spikes(ts, bars["close"].to_numpy(np.float64), spike_sigmas, min_spike)
    report.zero_volume = _zero_runs(ts, bars["volume"].to_numpy(np.float64), min_zero_run)
    return report


def _gaps_24_7(ts: np.ndarray, tf_ns: int, counts: np.ndarray | None = None) -> list[Gap]:
    """Missing bars between consecutive bars (only where ``counts`` is True, if given)."""
    step = np.diff(ts)
    gap = step > tf_ns if counts is None else (step > tf_ns) & counts
    return [
        Gap(int(ts[i] + tf_ns), int(step[i] // tf_ns - 1), int(ts[i])) for i in np.flatnonzero(gap)
    ]


def _gaps_calendar(ts: np.ndarray, tf_ns: int, calendar: str) -> list[Gap]:
    import exchange_calendars as xcals

    try:
        cal = xcals.get_calendar(calendar)
    except Exception as exc:  # exchange_calendars raises its own InvalidCalendarName
        raise ConfigError(
            f"calendar {calendar!r} is not known (use 24/7 or an exchange code such as XNYS, "
            "XLON, XTKS)"
        ) from exc
    first = pd.Timestamp(ts[0], tz="UTC").tz_convert(None).normalize()
    last = pd.Timestamp(ts[-1], tz="UTC").tz_convert(None).normalize()
    lo, hi = max(first, cal.first_session), min(last, cal.last_session)
    if lo > hi:
        return []
    sessions = cal.sessions_in_range(lo, hi)
    if tf_ns >= DAY_NS:
        have = pd.DatetimeIndex(pd.to_datetime(ts, utc=True).tz_convert(None).normalize())
        missing = sessions[~sessions.isin(have)]
        gaps: list[Gap] = []
        pos = {s: i for i, s in enumerate(sessions)}
        run: list[pd.Timestamp] = []
        for s in missing:
            if run and pos[s] != pos[run[-1]] + 1:
                gaps.append(_session_gap(run, ts))
                run = []
            run.append(s)
        if run:
            gaps.append(_session_gap(run, ts))
        return gaps
    # intraday: only gaps inside one session count
    tz = cal.tz
    local_day = pd.to_datetime(ts, utc=True).tz_convert(tz).normalize().tz_localize(None)
    day = local_day.to_numpy()
    return _gaps_24_7(ts, tf_ns, counts=day[1:] == day[:-1])


def _session_gap(run: list[pd.Timestamp], ts: np.ndarray) -> Gap:
    start = int(pd.Timestamp(run[0], tz="UTC").value)
    before = ts[ts < start]
    return Gap(start, len(run), int(before[-1]) if len(before) else start)


def _spikes(ts: np.ndarray, close: np.ndarray, sigmas: float, floor: float) -> list[Spike]:
    if len(close) < 3:
        return []
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(np.log(close))
    dev = np.abs(r - np.median(r))
    robust = 1.4826 * float(np.median(dev))
    thr = max(sigmas * robust, float(np.log1p(floor)))
    up, back = r[:-1], r[1:]
    hit = (np.abs(up) > thr) & (np.abs(back) > thr) & (np.sign(up) != np.sign(back))
    # the spike must come back to about where it started (within half its move)
    hit &= np.abs(up + back) < 0.5 * np.abs(up)
    idx = np.flatnonzero(hit) + 1
    return [Spike(int(ts[i]), float(close[i]), float(r[i - 1])) for i in idx]


def _zero_runs(ts: np.ndarray, volume: np.ndarray, min_run: int) -> list[ZeroRun]:
    zero = volume == 0
    if not zero.any():
        return []
    edges = np.diff(np.r_[0, zero.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = ends - starts >= min_run
    return [ZeroRun(int(ts[s]), int(e - s)) for s, e in zip(starts[keep], ends[keep], strict=True)]


def _span(ns: int) -> str:
    minutes = ns // 60_000_000_000
    if minutes < 60:
        return f"{minutes} minutes"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"
