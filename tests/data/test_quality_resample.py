"""The data-quality report (gaps, spikes, zero-volume runs) and resampling (24/7 against pandas,
exchange-calendar sessions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradewind.data.loader import load_ohlcv
from tradewind.data.quality import check_quality
from tradewind.data.resample import resample_bars, resample_sessions
from tradewind.errors import DataError

BTC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance_BTCUSDT_1m.csv.gz"
MIN = 60_000_000_000
DAY = 1440 * MIN


def frame(
    ts: np.ndarray, close: np.ndarray | None = None, volume: np.ndarray | None = None
) -> pd.DataFrame:
    n = len(ts)
    c = np.linspace(100, 110, n) if close is None else close
    return pd.DataFrame(
        {
            "ts": ts.astype(np.int64),
            "open": c,
            "high": c * 1.001,
            "low": c * 0.999,
            "close": c,
            "volume": np.ones(n) if volume is None else volume,
        }
    )


def pandas_ohlcv(bars: pd.DataFrame, rule: str) -> pd.DataFrame:
    d = bars.set_index(pd.to_datetime(bars["ts"], utc=True)).drop(columns="ts")
    agg = d.resample(rule).agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    )
    return agg.dropna(subset=["open"])


def test_gaps_24_7() -> None:
    t0 = pd.Timestamp("2024-01-01", tz="UTC").value
    ts = t0 + np.r_[np.arange(0, 100), np.arange(103, 200), np.arange(260, 300)] * MIN
    report = check_quality(frame(ts), series="s", timeframe="1m")
    assert [(g.start_ns - t0) // MIN for g in report.gaps] == [100, 200]
    assert [g.missing for g in report.gaps] == [3, 60]
    assert "data resumes 2024-01-01T04:20:00+00:00" in report.gaps[1].describe(MIN)


def test_calendar_gaps_ignore_weekends_holidays_and_nights() -> None:
    days = pd.bdate_range("2024-06-03", "2024-06-28")  # Juneteenth (19th) is an XNYS holiday
    days = days[(days != "2024-06-19") & (days != "2024-06-12") & (days != "2024-06-13")]
    ts = days.tz_localize("UTC").as_unit("ns").asi8
    report = check_quality(frame(ts), series="s", timeframe="1d", calendar="XNYS")
    assert [
        (pd.Timestamp(g.start_ns, tz="UTC").date().isoformat(), g.missing) for g in report.gaps
    ] == [("2024-06-12", 2)]
    # intraday: two regular sessions of minutes, a missing half hour inside the second one
    s1 = pd.date_range("2024-06-03 13:30", "2024-06-03 19:59", freq="1min", tz="UTC")
    s2 = pd.date_range("2024-06-04 13:30", "2024-06-04 19:59", freq="1min", tz="UTC")
    s2 = s2[(s2 < "2024-06-04 15:00") | (s2 >= "2024-06-04 15:30")]
    intraday = np.r_[s1.as_unit("ns").asi8, s2.as_unit("ns").asi8]
    gaps = check_quality(frame(intraday), series="s", timeframe="1m", calendar="XNYS").gaps
    assert [(pd.Timestamp(g.start_ns, tz="UTC").isoformat(), g.missing) for g in gaps] == [
        ("2024-06-04T15:00:00+00:00", 30)
    ]


def test_spikes_and_zero_volume_runs() -> None:
    n = 2000
    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    close[700] *= 1.2  # a one-bar spike that comes straight back
    close[1500:] *= 0.7  # a crash that stays: not an outlier
    volume = np.ones(n)
    volume[100:105] = 0  # a 5-bar run
    volume[900:902] = 0  # 2 bars: below the default minimum of 3
    ts = np.arange(n, dtype=np.int64) * MIN
    report = check_quality(frame(ts, close, volume), series="s", timeframe="1m")
    assert [s.ts_ns // MIN for s in report.spikes] == [700]
    assert [(z.start_ns // MIN, z.bars) for z in report.zero_volume] == [(100, 5)]
    assert not report.clean


@pytest.mark.realdata
@pytest.mark.skipif(not BTC.exists(), reason=f"real data not found at {BTC}")
def test_real_btc_has_exactly_the_one_real_gap_and_resamples_like_pandas() -> None:
    bars = load_ohlcv(BTC)["BTCUSDT"]
    report = check_quality(bars, series="btc", timeframe="1m")
    assert len(report.gaps) == 1
    gap = report.gaps[0]
    assert gap.missing == 80
    assert pd.Timestamp(gap.start_ns, tz="UTC") == pd.Timestamp("2023-03-24 12:40", tz="UTC")
    assert pd.Timestamp(gap.start_ns + 80 * MIN, tz="UTC") == pd.Timestamp(
        "2023-03-24 14:00", tz="UTC"
    )
    assert report.spikes == []
    hourly = resample_bars(bars, 60 * MIN, MIN)
    ref = pandas_ohlcv(bars, "1h")
    assert np.array_equal(hourly["ts"].to_numpy(), ref.index.as_unit("ns").asi8)
    for col in ("open", "high", "low", "close"):
        assert np.array_equal(hourly[col].to_numpy(), ref[col].to_numpy()), col
    np.testing.assert_allclose(hourly["volume"], ref["volume"], rtol=1e-12)


def test_24_7_resample_equals_pandas_with_gaps() -> None:
    rng = np.random.default_rng(3)
    keep = np.sort(rng.choice(np.arange(5000), 4000, replace=False))
    ts = keep.astype(np.int64) * MIN
    bars = frame(ts, 100 + rng.normal(0, 1, 4000).cumsum())
    got = resample_bars(bars, 15 * MIN, MIN)
    ref = pandas_ohlcv(bars, "15min")
    ref = ref[ref.index.as_unit("ns").asi8 + 15 * MIN <= ts[-1] + MIN]  # complete buckets only
    assert np.array_equal(got["ts"].to_numpy(), ref.index.as_unit("ns").asi8)
    for col in ("open", "high", "low", "close", "volume"):
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-12)


def test_session_resample_aligns_to_the_open() -> None:
    # 09:30-16:00 New York = 13:30-20:00 UTC in June
    s = pd.date_range("2024-06-03 13:30", "2024-06-03 19:59", freq="1min", tz="UTC")
    bars = frame(s.as_unit("ns").asi8, np.arange(len(s), dtype=float) + 100)
    hourly = resample_sessions(bars, 60 * MIN, MIN, "XNYS")
    starts = [pd.Timestamp(t, tz="UTC").strftime("%H:%M") for t in hourly["ts"]]
    assert starts == ["13:30", "14:30", "15:30", "16:30", "17:30", "18:30", "19:30"]
    assert hourly["open"].iloc[0] == 100 and hourly["close"].iloc[0] == 159
    assert hourly["volume"].tolist() == [60, 60, 60, 60, 60, 60, 30]  # last bucket ends at 16:00
    daily = resample_sessions(bars, DAY, MIN, "XNYS")
    assert len(daily) == 1 and daily["ts"].iloc[0] == pd.Timestamp("2024-06-03", tz="UTC").value
    pre = frame(np.r_[pd.Timestamp("2024-06-03 12:00", tz="UTC").value, s.as_unit("ns").asi8[:5]])
    with pytest.raises(DataError, match="outside the XNYS session of 2024-06-03"):
        resample_sessions(pre, 60 * MIN, MIN, "XNYS")


def test_daily_to_weekly_by_calendar_week() -> None:
    days = pd.bdate_range("2024-01-02", "2024-03-29")
    bars = frame(days.tz_localize("UTC").as_unit("ns").asi8, np.arange(len(days), dtype=float) + 1)
    weekly = resample_sessions(bars, 7 * DAY, DAY, "XNYS")
    d = bars.assign(week=pd.to_datetime(bars["ts"], utc=True).dt.to_period("W-SUN"))
    ref = d.groupby("week").agg(
        ts=("ts", "first"), open=("open", "first"), high=("high", "max"), low=("low", "min"),
        close=("close", "last"), volume=("volume", "sum"),
    )  # fmt: skip
    assert weekly["ts"].tolist() == ref["ts"].tolist()
    for col in ("open", "high", "low", "close", "volume"):
        assert weekly[col].tolist() == ref[col].tolist()
