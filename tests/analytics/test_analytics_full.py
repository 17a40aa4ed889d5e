"""full_metrics: superset of basic_metrics, JSON safety and edge cases of every analytic."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tradewind import analytics as an
from tradewind.analytics import FULL_METRIC_KEYS, basic_metrics, full_metrics
from tradewind.errors import ConfigError


def daily(values: list[float] | np.ndarray) -> pd.Series:
    idx = pd.date_range("2024-01-01", periods=len(values), freq="D", tz="UTC")
    return pd.Series(np.asarray(values, dtype=np.float64), index=idx)


def make_trades(pnl: list[float]) -> pd.DataFrame:
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    n = len(pnl)
    return pd.DataFrame(
        {
            "pnl": pnl,
            "return_pct": [p / 1000 for p in pnl],
            "entry_time": [t0 + pd.Timedelta(days=2 * i) for i in range(n)],
            "exit_time": [t0 + pd.Timedelta(days=2 * i + 1) for i in range(n)],
            "fees": [1.0] * n,
            "quantity": [1.0] * n,
            "entry_price": [100.0] * n,
            "exit_price": [100.0 + p for p in pnl],
        }
    )


def assert_json_safe(m: dict[str, object]) -> None:
    assert list(m) == list(FULL_METRIC_KEYS)
    for key, value in m.items():
        assert type(value) in (float, int, str, type(None)), (key, type(value))
    json.dumps(m, allow_nan=False)


def test_full_metrics_is_a_superset_of_basic_metrics_with_same_values() -> None:
    rng = np.random.default_rng(11)
    equity = daily(1000 * np.cumprod(1 + rng.normal(0.001, 0.02, 300)))
    trades = make_trades([30.0, -10.0, 0.0, -20.0, 50.0])
    for rf in (0.0, 0.04):
        basic = basic_metrics(equity, trades, risk_free=rf)
        full = full_metrics(equity, trades, risk_free=rf)
        assert set(basic) <= set(full)
        for key, value in basic.items():
            assert full[key] == value, key
        assert_json_safe(full)
    full = full_metrics(equity, trades)
    # 24/7 daily index -> 365.25 periods per year, same as basic_metrics infers
    assert full["periods_per_year"] == pytest.approx(365.25)
    assert full["num_periods"] == 299
    assert full["kelly_fraction"] == pytest.approx(0.175)  # 0.4 - 0.6 / (40 / 15)
    assert full["expectancy"] == pytest.approx(10.0)
    # trades hold days 0, 2, 4, 6, 8 of 300 bars (entry <= t < exit) -> 5 / 300
    assert full["exposure_time"] == pytest.approx(5 / 300)
    # notional = sum(1 * (100 + 100 + pnl)) = 5 * 200 + 50 = 1050, over mean equity
    assert full["turnover"] == pytest.approx(1050 / equity.mean())


def test_full_metrics_uses_positions_and_benchmark() -> None:
    rng = np.random.default_rng(5)
    bench = rng.normal(0.0005, 0.01, 250)
    strat = 0.5 * bench + rng.normal(0.0, 0.005, 250)
    equity = daily(np.concatenate(([100.0], 100 * np.cumprod(1 + strat))))
    positions = np.where(np.arange(251) % 4 == 0, 0.0, 1.0)  # flat every 4th bar
    m = full_metrics(equity, benchmark=bench, periods_per_year=252, positions=positions)
    r = equity.pct_change().iloc[1:].to_numpy()
    alpha, beta = an.alpha_beta(r, bench, 0.0, 252)
    assert m["alpha"] == alpha and m["beta"] == beta
    assert m["beta"] == pytest.approx(0.5, abs=0.1)
    assert m["exposure_time"] == pytest.approx(188 / 251)  # 63 of 251 bars are multiples of 4
    assert m["information_ratio"] == an.information_ratio(r, bench, 252)
    with pytest.raises(ConfigError, match="benchmark"):
        full_metrics(equity, benchmark=bench[:-1], periods_per_year=252)


def test_full_metrics_empty_equity_is_all_none() -> None:
    m = full_metrics(pd.Series([], dtype="float64", index=pd.DatetimeIndex([], tz="UTC")))
    assert m["num_trades"] == 0
    assert m["num_periods"] == 0
    assert all(v is None for k, v in m.items() if k not in ("num_trades", "num_periods"))
    assert_json_safe(m)


def test_full_metrics_single_point() -> None:
    m = full_metrics(daily([100.0]))
    assert m["sharpe"] is None and m["annual_return"] is None and m["var_historical"] is None
    assert m["num_periods"] == 0
    assert_json_safe(m)


def test_full_metrics_constant_equity() -> None:
    m = full_metrics(daily([100.0] * 20), make_trades([5.0]), periods_per_year=252)
    assert m["sharpe"] is None
    assert m["sortino"] is None
    assert m["annual_volatility"] == 0.0
    assert m["annual_return"] == 0.0
    assert m["omega"] is None
    assert m["skew"] is None and m["kurtosis"] is None
    assert m["stability"] is None
    assert m["tail_ratio"] is None
    assert m["ulcer_index"] == 0.0
    assert m["max_drawdown_duration_periods"] == 0
    assert m["var_historical"] == 0.0 and m["cvar_historical"] == 0.0
    assert m["var_gaussian"] == 0.0 and m["var_cornish_fisher"] == 0.0
    # one winning trade: win rate 1, no loser -> profit factor / payoff / Kelly undefined
    assert m["win_rate"] == 1.0
    assert m["profit_factor"] is None
    assert m["kelly_fraction"] is None
    assert m["sqn"] is None  # needs 2 trades
    assert m["expectancy"] == 5.0
    assert_json_safe(m)


def test_full_metrics_all_losing_trades() -> None:
    equity = daily([100.0, 98.0, 97.0, 95.0])
    m = full_metrics(equity, make_trades([-2.0, -1.0, -2.0]), periods_per_year=252)
    assert m["profit_factor"] == 0.0  # 0 gross profit / 5 gross loss
    assert m["win_rate"] == 0.0
    assert m["avg_win"] is None
    assert m["avg_loss"] == pytest.approx(-5 / 3)
    assert m["kelly_fraction"] is None
    assert m["omega"] == 0.0  # every return below 0: gains 0 / losses > 0
    assert_json_safe(m)


def test_returns_functions_on_empty_input_return_none() -> None:
    empty = np.array([], dtype=np.float64)
    for func in (
        an.annual_return,
        an.annual_volatility,
        an.sharpe_ratio,
        an.sortino_ratio,
        an.downside_risk,
        an.calmar_ratio,
        an.omega_ratio,
    ):
        assert func(empty, periods_per_year=252) is None, func.__name__
    for func in (
        an.max_drawdown,
        an.max_drawdown_duration,
        an.ulcer_index,
        an.skew,
        an.kurtosis,
        an.tail_ratio,
        an.stability_of_timeseries,
        an.value_at_risk,
        an.conditional_value_at_risk,
        an.gaussian_var,
        an.gaussian_cvar,
        an.cornish_fisher_var,
    ):
        assert func(empty) is None, func.__name__
    assert an.alpha_beta(empty, empty, 0.0, 252) == (None, None)
    assert an.information_ratio(empty, empty, 252) is None
    for func in (
        an.win_rate,
        an.profit_factor,
        an.expectancy,
        an.sqn,
        an.average_win,
        an.average_loss,
        an.kelly_fraction,
    ):
        assert func([]) is None, func.__name__
    assert an.exposure_time(np.array([])) is None
    assert an.turnover(0.0, []) is None


def test_all_nan_and_gappy_returns() -> None:
    assert an.sharpe_ratio([np.nan, np.nan], periods_per_year=252) is None
    # NaN gaps are dropped: same as the clean series
    gappy = [0.01, np.nan, -0.02, 0.03, np.nan, 0.0]
    clean = [0.01, -0.02, 0.03, 0.0]
    assert an.sharpe_ratio(gappy, periods_per_year=252) == an.sharpe_ratio(clean, 0.0, 252)
    assert an.ulcer_index(gappy) == an.ulcer_index(clean)
    assert an.max_drawdown_duration(gappy) == an.max_drawdown_duration(clean)
    assert an.value_at_risk(gappy) == an.value_at_risk(clean)
    rolled = an.rolling_volatility(gappy, 2, 252)
    assert len(rolled) == 4 and not np.isnan(rolled[1:]).any()


def test_constant_benchmark_and_zero_tracking_error() -> None:
    r = [0.01, 0.02, -0.01]
    assert an.alpha_beta(r, [0.01, 0.01, 0.01], 0.0, 252) == (None, None)
    assert an.information_ratio(r, r, 252) is None


def test_one_trade() -> None:
    assert an.win_rate([-4.0]) == 0.0
    assert an.profit_factor([-4.0]) == 0.0
    assert an.profit_factor([4.0]) is None
    assert an.sqn([4.0]) is None
    assert an.expectancy([4.0]) == 4.0


def test_wiped_out_returns() -> None:
    r = [0.1, -1.0, 0.0]
    assert an.max_drawdown(r) == -1.0
    assert an.annual_return(r, 252) == -1.0
    assert an.stability_of_timeseries(r) is None  # log of 0 wealth undefined


def test_bad_arguments_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="periods_per_year"):
        an.sharpe_ratio([0.01, 0.02])  # plain list: nothing to infer from
    with pytest.raises(ConfigError, match="periods_per_year"):
        an.annual_volatility([0.01, 0.02], periods_per_year=-1)
    with pytest.raises(ConfigError, match="cutoff"):
        an.value_at_risk([0.01], cutoff=1.5)
    with pytest.raises(ConfigError, match="window"):
        an.rolling_sharpe([0.01, 0.02, 0.03], 1, 252)
    with pytest.raises(ConfigError):
        an.alpha_beta([0.01, 0.02], [0.01], 0.0, 252)


def test_omega_without_gains_is_zero_and_without_losses_none() -> None:
    # gains above 0: none -> 0 / 0.03 = 0.0; no loss -> undefined
    assert an.omega_ratio([-0.01, -0.02], periods_per_year=252) == 0.0
    assert an.omega_ratio([0.01, 0.02], periods_per_year=252) is None
    assert an.omega_ratio([0.01, -0.02], periods_per_year=252) == pytest.approx(0.01 / 0.02)


def test_annualising_a_few_minute_bars_does_not_overflow() -> None:
    # 1.1 ** (525960 / 2) overflows a float: undefined (None), not an exception or inf
    assert an.annual_return([0.05, 0.05], periods_per_year=525_960) is None
    alpha, beta = an.alpha_beta([0.05, 0.07], [0.01, 0.02], 0.0, 525_960)
    assert alpha is None
    # b - mean(b) = -0.005, 0.005: var = 2.5e-5; cov = (-0.005 * 0.05 + 0.005 * 0.07) / 2 = 5e-5
    assert beta == pytest.approx(2.0)  # 5e-5 / 2.5e-5
    idx = pd.date_range("2024-01-06", periods=3, freq="min", tz="UTC")  # a Saturday: 24/7
    m = full_metrics(pd.Series([100.0, 105.0, 110.25], index=idx))
    assert m["annual_return"] is None and m["cagr"] is None
    assert_json_safe(m)
