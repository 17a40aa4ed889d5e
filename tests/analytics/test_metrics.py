"""Tests of tradewind.analytics.metrics: hand-computed values, frequency inference, edge cases."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest

from tradewind.analytics.metrics import (
    basic_metrics,
    drawdown,
    periods_per_year,
    periods_per_year_ns,
)
from tradewind.errors import ConfigError
from tradewind.timeutil import median_spacing_ns

TRADE_COLS = ["pnl", "return_pct", "entry_time", "exit_time", "fees"]


def daily(values: list[float], start: str = "2024-01-01") -> pd.Series:
    """Equity on consecutive calendar days (2024-01-01 is a Monday)."""
    idx = pd.date_range(start, periods=len(values), freq="D", tz="UTC")
    return pd.Series(values, index=idx, dtype="float64")


def no_trades() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pnl": pd.Series(dtype="float64"),
            "return_pct": pd.Series(dtype="float64"),
            "entry_time": pd.Series(dtype="datetime64[ns, UTC]"),
            "exit_time": pd.Series(dtype="datetime64[ns, UTC]"),
            "fees": pd.Series(dtype="float64"),
        }
    )


def assert_plain_json(result: Mapping[str, object]) -> None:
    for key, value in result.items():
        assert type(value) in (float, int, str, type(None)), (key, type(value))
    json.dumps(result, allow_nan=False)


# --------------------------------------------------------------------------- hand-computed


def test_five_point_curve_matches_hand_computation() -> None:
    equity = daily([100.0, 110.0, 99.0, 99.0, 121.0])  # Mon..Fri
    m = basic_metrics(equity, no_trades(), periods_per_year=252)

    r = [110 / 100 - 1, 99 / 110 - 1, 99 / 99 - 1, 121 / 99 - 1]  # 0.1, -0.1, 0, 0.2222
    mean = sum(r) / 4
    std = math.sqrt(sum((x - mean) ** 2 for x in r) / 3)
    downside = math.sqrt((0.1**2) / 4)  # only -0.1 is below 0
    cagr = 1.21 ** (365.25 / 4) - 1

    assert m["start"] == "2024-01-01T00:00:00+00:00"
    assert m["end"] == "2024-01-05T00:00:00+00:00"
    assert m["duration_days"] == pytest.approx(4.0)
    assert m["initial_equity"] == 100.0
    assert m["final_equity"] == 121.0
    assert m["total_return"] == pytest.approx(0.21)
    assert m["sharpe"] == pytest.approx(mean / std * math.sqrt(252))
    assert m["volatility_ann"] == pytest.approx(std * math.sqrt(252))
    assert m["sortino"] == pytest.approx(mean * 252 / (downside * math.sqrt(252)))
    assert m["max_drawdown"] == pytest.approx(-0.1)
    # Peak on Jan 2 (110), under water until the new high on Jan 5.
    assert m["max_drawdown_duration_days"] == pytest.approx(3.0)
    assert m["cagr"] == pytest.approx(cagr, rel=1e-9)
    assert m["calmar"] == pytest.approx(cagr / 0.1, rel=1e-9)
    assert_plain_json(m)


def test_sharpe_subtracts_compounded_risk_free_per_period() -> None:
    equity = daily([100.0, 101.0, 100.5, 102.0, 101.0, 103.0])
    rf = 0.05
    m = basic_metrics(equity, no_trades(), periods_per_year=252, risk_free=rf)
    r = equity.pct_change().dropna().to_numpy()
    rf_pp = 1.05 ** (1 / 252) - 1
    expected = (r.mean() - rf_pp) / r.std(ddof=1) * math.sqrt(252)
    assert m["sharpe"] == pytest.approx(expected)
    m0 = basic_metrics(equity, no_trades(), periods_per_year=252)
    with_rf, without_rf = m["sharpe"], m0["sharpe"]
    assert isinstance(with_rf, float) and isinstance(without_rf, float)
    assert with_rf < without_rf
    assert m["sortino"] == m0["sortino"]  # sortino: target 0, no risk-free adjustment


def test_underwater_duration_runs_to_the_end_when_not_recovered() -> None:
    # Short dip Jan 1 -> Jan 3, then a peak on Jan 4 never regained until Jan 10.
    equity = daily([100.0, 90.0, 100.0, 105.0, 104.0, 103.0, 102.0, 101.0, 100.0, 99.0])
    m = basic_metrics(equity, no_trades(), periods_per_year=365)
    assert m["max_drawdown_duration_days"] == pytest.approx(6.0)
    assert m["max_drawdown"] == pytest.approx(-0.1)  # 90/100 - 1 is deeper than 99/105 - 1


def test_underwater_duration_prefers_the_longest_recovered_period() -> None:
    equity = daily([100.0, 80.0, 85.0, 90.0, 100.0, 101.0, 100.0])
    m = basic_metrics(equity, no_trades(), periods_per_year=365)
    assert m["max_drawdown_duration_days"] == pytest.approx(4.0)  # Jan 1 peak, Jan 5 back at 100
    assert m["max_drawdown"] == pytest.approx(-0.2)


def test_underwater_duration_uses_real_time_on_irregular_timestamps() -> None:
    idx = pd.DatetimeIndex(
        ["2024-01-01", "2024-01-01 06:00", "2024-01-03 12:00", "2024-01-04"], tz="UTC"
    )
    equity = pd.Series([100.0, 99.0, 98.0, 100.5], index=idx)
    m = basic_metrics(equity, no_trades(), periods_per_year=365)
    assert m["max_drawdown_duration_days"] == pytest.approx(3.0)
    assert m["max_drawdown"] == pytest.approx(-0.02)


def _loop_underwater_days(values: np.ndarray, ns: np.ndarray) -> float:
    """Longest peak-to-recovery / peak-to-end span, walking the curve point by point."""
    best, peak, peak_ns, under = 0.0, values[0], ns[0], False
    for v, t in zip(values[1:], ns[1:], strict=True):
        if v >= peak:
            if under:  # the recovery point closes the underwater period
                best = max(best, (t - peak_ns) / 86_400e9)
            peak, peak_ns, under = v, t, False
        else:
            under = True
            best = max(best, (t - peak_ns) / 86_400e9)
    return float(best)


def test_underwater_duration_matches_loop_reference_on_random_walks() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = 300
        steps = rng.integers(1, 5 * 3600, n).astype(np.int64) * 1_000_000_000
        ns = pd.Timestamp("2024-01-01", tz="UTC").value + np.cumsum(steps)
        values = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
        equity = pd.Series(values, index=pd.to_datetime(ns, utc=True))
        m = basic_metrics(equity, no_trades(), periods_per_year=365)
        expected = _loop_underwater_days(values, ns)
        assert m["max_drawdown_duration_days"] == pytest.approx(expected, abs=1e-12)
        assert m["max_drawdown"] == pytest.approx(
            min(v / max(values[: i + 1]) - 1 for i, v in enumerate(values))
        )


def test_drawdown_series() -> None:
    equity = daily([100.0, 120.0, 90.0, 130.0, 65.0])
    dd = drawdown(equity)
    assert dd.index.equals(equity.index)
    np.testing.assert_allclose(dd.to_numpy(), [0.0, 0.0, -0.25, 0.0, -0.5])
    assert (dd <= 0).all()


# --------------------------------------------------------------------------- trades


def test_trade_statistics_by_hand() -> None:
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    trades = pd.DataFrame(
        {
            "pnl": [30.0, -10.0, 0.0, -20.0, 50.0],
            "return_pct": [0.03, -0.01, 0.0, -0.02, 0.05],
            "entry_time": [t0] * 5,
            "exit_time": [t0 + pd.Timedelta(hours=h) for h in (1, 2, 3, 4, 10)],
            "fees": [1.0, 1.0, 0.5, 1.0, 1.5],
        }
    )
    m = basic_metrics(daily([100.0, 101.0, 102.0]), trades)
    assert m["num_trades"] == 5
    assert type(m["num_trades"]) is int
    assert m["win_rate"] == pytest.approx(2 / 5)  # break-even is not a win
    assert m["profit_factor"] == pytest.approx(80 / 30)
    assert m["avg_trade_pnl"] == pytest.approx(50 / 5)
    assert m["best_trade_pnl"] == 50.0
    assert m["worst_trade_pnl"] == -20.0
    assert m["avg_trade_duration_hours"] == pytest.approx(20 / 5)
    assert m["total_fees"] == pytest.approx(5.0)
    assert_plain_json(m)


def test_zero_trades() -> None:
    m = basic_metrics(daily([100.0, 101.0, 102.0]), no_trades())
    assert m["num_trades"] == 0
    assert m["win_rate"] is None
    assert m["profit_factor"] is None
    assert m["avg_trade_pnl"] is None
    assert m["best_trade_pnl"] is None
    assert m["worst_trade_pnl"] is None
    assert m["avg_trade_duration_hours"] is None
    assert m["total_fees"] == 0.0
    assert_plain_json(m)


def test_no_losing_trades_gives_no_profit_factor() -> None:
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    trades = pd.DataFrame(
        {
            "pnl": [5.0, 7.0],
            "return_pct": [0.05, 0.07],
            "entry_time": [t0, t0],
            "exit_time": [t0 + pd.Timedelta(minutes=30)] * 2,
            "fees": [0.1, 0.1],
        }
    )
    m = basic_metrics(daily([100.0, 112.0]), trades)
    assert m["profit_factor"] is None
    assert m["win_rate"] == 1.0
    assert m["avg_trade_duration_hours"] == pytest.approx(0.5)


# --------------------------------------------------------------------------- degenerate


def test_constant_equity() -> None:
    m = basic_metrics(daily([100.0] * 10), no_trades(), periods_per_year=252)
    assert m["sharpe"] is None
    assert m["sortino"] is None
    assert m["volatility_ann"] == 0.0
    assert m["max_drawdown"] == 0.0
    assert m["max_drawdown_duration_days"] == 0.0
    assert m["calmar"] is None
    assert m["total_return"] == 0.0
    assert m["cagr"] == 0.0
    assert_plain_json(m)


def test_monotonic_rise_has_no_sortino_or_calmar() -> None:
    m = basic_metrics(daily([100.0, 101.0, 103.0, 106.0]), no_trades(), periods_per_year=252)
    assert m["sortino"] is None
    assert m["calmar"] is None
    assert m["max_drawdown"] == 0.0
    sharpe = m["sharpe"]
    assert isinstance(sharpe, float) and sharpe > 0


def test_single_point_equity() -> None:
    m = basic_metrics(daily([100.0]), no_trades())
    assert m["duration_days"] == 0.0
    assert m["cagr"] is None
    assert m["sharpe"] is None
    assert m["volatility_ann"] is None
    assert m["max_drawdown_duration_days"] == 0.0
    assert_plain_json(m)


def test_wiped_out_account() -> None:
    m = basic_metrics(daily([100.0, 50.0, 0.0]), no_trades(), periods_per_year=365)
    assert m["total_return"] == -1.0
    assert m["cagr"] == -1.0
    assert m["max_drawdown"] == -1.0
    assert_plain_json(m)


@pytest.mark.parametrize(
    "equity",
    [
        daily([100.0, float("nan"), 101.0]),
        pd.Series([100.0, 101.0], index=pd.date_range("2024-01-01", periods=2)),  # naive
        daily([-5.0, 1.0]),
        pd.Series([], dtype="float64", index=pd.DatetimeIndex([], tz="UTC")),
        pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2024-01-02", "2024-01-01"], tz="UTC")),
    ],
)
def test_bad_equity_raises_config_error(equity: pd.Series) -> None:
    with pytest.raises(ConfigError):
        basic_metrics(equity, no_trades())


def test_bad_arguments_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="missing columns"):
        basic_metrics(daily([1.0, 2.0]), pd.DataFrame({"pnl": [1.0]}))
    with pytest.raises(ConfigError, match="periods_per_year"):
        basic_metrics(daily([1.0, 2.0]), no_trades(), periods_per_year=0)


# --------------------------------------------------------------------------- periods_per_year


def test_periods_per_year_crypto_minutes_with_weekends() -> None:
    idx = pd.date_range("2024-01-01", periods=20_000, freq="min", tz="UTC")
    assert (idx.day_of_week >= 5).any()
    assert periods_per_year(idx) == pytest.approx(365.25 * 24 * 60)


def test_periods_per_year_crypto_daily() -> None:
    idx = pd.date_range("2024-01-01", periods=400, freq="D", tz="UTC")
    assert periods_per_year(idx) == pytest.approx(365.25)


def test_periods_per_year_business_days() -> None:
    idx = pd.bdate_range("2024-01-01", periods=300, tz="UTC")
    assert periods_per_year(idx) == 252.0


def test_periods_per_year_stock_intraday() -> None:
    days = pd.bdate_range("2024-01-01", periods=20, tz="UTC")
    five_min = pd.DatetimeIndex(
        [d + pd.Timedelta(hours=14, minutes=30) + pd.Timedelta(minutes=5 * i)
         for d in days for i in range(78)]
    )  # fmt: skip
    assert periods_per_year(five_min) == pytest.approx(252 * 78)
    hourly = pd.DatetimeIndex([d + pd.Timedelta(hours=14 + i) for d in days for i in range(7)])
    assert periods_per_year(hourly) == pytest.approx(252 * 6.5)


def test_periods_per_year_weekly() -> None:
    idx = pd.date_range("2024-01-01", periods=60, freq="W-MON", tz="UTC")
    assert periods_per_year(idx) == pytest.approx(365.25 / 7)


def test_periods_per_year_is_inferred_by_basic_metrics() -> None:
    idx = pd.bdate_range("2024-01-01", periods=6, tz="UTC")
    equity = pd.Series([100.0, 101.0, 100.0, 102.0, 101.5, 103.0], index=idx)
    inferred = basic_metrics(equity, no_trades())
    explicit = basic_metrics(equity, no_trades(), periods_per_year=252)
    assert inferred["sharpe"] == explicit["sharpe"]


def test_weekend_found_after_the_first_block() -> None:
    # 5-minute weekday bars for ~2 years, then one Saturday bar: the weekend test scans past
    # its first blocks of 65,536 timestamps and still sees it
    days = pd.bdate_range("2024-01-01", periods=500, tz="UTC")
    ns = np.concatenate([d.value + np.arange(288, dtype=np.int64) * 300_000_000_000 for d in days])
    saturday = pd.Timestamp("2026-01-03 12:00", tz="UTC").value
    assert len(ns) > 2 * 65_536
    assert periods_per_year_ns(ns) == pytest.approx(252 * 6.5 * 12)  # no weekend: a calendar
    with_weekend = np.append(ns, saturday)
    assert periods_per_year_ns(with_weekend) == pytest.approx(365.25 * 288)
    assert periods_per_year(pd.DatetimeIndex(with_weekend, tz="UTC")) == pytest.approx(365.25 * 288)


@pytest.mark.parametrize(
    "gaps",
    [
        [60] * 10,  # regular
        [60] * 6 + [120, 3600, 60, 60],  # mostly regular with gaps
        [60, 120, 180, 240, 60, 120, 300],  # no majority: a real median
        [60, 120],  # even count, no majority: the mean of the middle two
        [60] * 5 + [120] * 5,  # exactly half: not a majority
    ],
)
def test_median_spacing_equals_numpy_median(gaps: list[int]) -> None:
    ns = np.concatenate([[0], np.cumsum(gaps)]).astype(np.int64)
    assert median_spacing_ns(ns) == float(np.median(np.diff(ns)))


def test_periods_per_year_rejects_bad_input() -> None:
    with pytest.raises(ConfigError):
        periods_per_year(pd.DatetimeIndex(["2024-01-01"], tz="UTC"))
    with pytest.raises(ConfigError):
        periods_per_year(pd.DatetimeIndex(["2024-01-01"] * 3, tz="UTC"))
    with pytest.raises(ConfigError):
        periods_per_year(pd.RangeIndex(5))  # type: ignore[arg-type]
