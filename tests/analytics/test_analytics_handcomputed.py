"""Hand-computed tests for the analytics that empyrical does not have (arithmetic in comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tradewind.analytics import (
    average_loss,
    average_win,
    cornish_fisher_var,
    expectancy,
    exposure_from_trades,
    exposure_time,
    gaussian_cvar,
    gaussian_var,
    information_ratio,
    kelly_fraction,
    kurtosis,
    max_drawdown_duration,
    payoff_ratio,
    profit_factor,
    rolling_drawdown,
    rolling_sharpe,
    rolling_volatility,
    skew,
    sqn,
    traded_notional,
    turnover,
    ulcer_index,
    win_rate,
)

Z05 = -1.6448536269514722  # standard normal 5 % quantile (table value)
PNL = [30.0, -10.0, 0.0, -20.0, 50.0]


def test_ulcer_index_and_drawdown_duration() -> None:
    r = [0.1, -0.1, 0.0, 0.25]
    # wealth 1 -> 1.1 -> 0.99 -> 0.99 -> 1.2375; peaks 1.1, 1.1, 1.1, 1.2375
    # drawdowns 0, -0.1, -0.1, 0 -> ulcer = sqrt((0.01 + 0.01) / 4) = sqrt(0.005)
    assert ulcer_index(r) == pytest.approx(math.sqrt(0.005), rel=1e-12)
    # peak 1.1 after period 1, back at/above it after period 4 -> 3 periods
    assert max_drawdown_duration(r) == 3


def test_drawdown_duration_runs_to_end_and_counts_from_the_anchor() -> None:
    # wealth 1 -> 0.5 -> 0.75: under the starting wealth for both periods, never recovered
    assert max_drawdown_duration([-0.5, 0.5]) == 2
    # never under water
    assert max_drawdown_duration([0.01, 0.0, 0.02]) == 0
    # wealth 1, 0.5, 1.0, 0.5, 0.75, 1.5: dips of 2 periods (1 -> 0.5 -> 1.0) and of 3 periods
    # (1.0 -> 0.5 -> 0.75 -> 1.5): the longest is 3
    assert max_drawdown_duration([-0.5, 1.0, -0.5, 0.5, 1.0]) == 3


def test_gaussian_var_and_cvar() -> None:
    r = [0.01, -0.01, 0.03, -0.03]
    # mean 0; sample var = (1e-4 + 1e-4 + 9e-4 + 9e-4) / 3 = 2e-3 / 3
    std = math.sqrt(2e-3 / 3)
    assert gaussian_var(r) == pytest.approx(Z05 * std, rel=1e-12)
    # ES = mean - std * phi(z) / 0.05, phi(z) = exp(-z^2 / 2) / sqrt(2 pi)
    phi = math.exp(-(Z05**2) / 2) / math.sqrt(2 * math.pi)
    assert gaussian_cvar(r) == pytest.approx(-std * phi / 0.05, rel=1e-12)
    # 1 % cutoff: z = -2.3263478740408408
    assert gaussian_var(r, 0.01) == pytest.approx(-2.3263478740408408 * std, rel=1e-12)


def test_cornish_fisher_var_symmetric_fat_tails() -> None:
    r = [0.01, -0.01, 0.03, -0.03]
    # population m2 = 5e-4, m3 = 0, m4 = (1e-8 + 1e-8 + 81e-8 + 81e-8) / 4 = 41e-8
    # S = 0, K = 41e-8 / 25e-8 - 3 = -1.36
    assert skew(r) == pytest.approx(0.0, abs=1e-12)
    assert kurtosis(r) == pytest.approx(-1.36, rel=1e-12)
    z = Z05
    z_cf = z + (z**3 - 3 * z) * (-1.36) / 24
    assert cornish_fisher_var(r) == pytest.approx(z_cf * math.sqrt(2e-3 / 3), rel=1e-12)


def test_cornish_fisher_var_skewed() -> None:
    r = [0.0, 0.0, 0.0, 0.04]
    # mean 0.01; deviations -0.01 (x3), 0.03
    # m2 = (3e-4 + 9e-4) / 4 = 3e-4; m3 = (-3e-6 + 27e-6) / 4 = 6e-6; m4 = (3e-8 + 81e-8) / 4
    # S = 6e-6 / (3e-4) ** 1.5 = 2 / sqrt(3); K = 21e-8 / 9e-8 - 3 = -2 / 3
    # sample std = sqrt(12e-4 / 3) = 0.02
    s, k = 2 / math.sqrt(3), -2 / 3
    assert skew(r) == pytest.approx(s, rel=1e-12)
    assert kurtosis(r) == pytest.approx(k, rel=1e-12)
    z = Z05
    z_cf = z + (z * z - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s * s / 36
    assert cornish_fisher_var(r) == pytest.approx(0.01 + z_cf * 0.02, rel=1e-12)
    assert gaussian_var(r) == pytest.approx(0.01 + Z05 * 0.02, rel=1e-12)


def test_trade_statistics() -> None:
    # winners 30, 50 (sum 80); losers -10, -20 (sum -30); one break-even
    assert win_rate(PNL) == pytest.approx(2 / 5)
    assert profit_factor(PNL) == pytest.approx(80 / 30)
    assert expectancy(PNL) == pytest.approx(50 / 5)
    assert average_win(PNL) == pytest.approx(40.0)
    assert average_loss(PNL) == pytest.approx(-15.0)
    assert payoff_ratio(PNL) == pytest.approx(40 / 15)
    # Kelly = W - (1 - W) / R = 0.4 - 0.6 / (8 / 3) = 0.4 - 0.225 = 0.175
    assert kelly_fraction(PNL) == pytest.approx(0.175)
    # SQN: mean 10, deviations 20, -20, -10, -30, 40 -> sum sq 3400, var 3400 / 4 = 850
    # sqrt(5) * 10 / sqrt(850) = 10 * sqrt(1 / 170)
    assert sqn(PNL) == pytest.approx(10 * math.sqrt(1 / 170), rel=1e-12)


def test_sqn_on_r_multiples() -> None:
    # R-multiples 2, -1, 3, -1: mean 0.75; deviations 1.25, -1.75, 2.25, -1.75
    # sum sq = 1.5625 + 3.0625 + 5.0625 + 3.0625 = 12.75; var = 4.25
    # SQN = sqrt(4) * 0.75 / sqrt(4.25)
    assert sqn([2.0, -1.0, 3.0, -1.0]) == pytest.approx(1.5 / math.sqrt(4.25), rel=1e-12)


def test_information_ratio() -> None:
    r = [0.02, 0.01, 0.03]
    b = [0.01, 0.01, 0.01]
    # active 0.01, 0, 0.02: mean 0.01, sample std sqrt((0 + 1e-4 + 1e-4) / 2) = 0.01
    # IR = 0.01 / 0.01 * sqrt(252)
    assert information_ratio(r, b, 252) == pytest.approx(math.sqrt(252), rel=1e-12)


def test_rolling_volatility_and_sharpe() -> None:
    r = [0.01, 0.03, -0.02, 0.02]
    # windows of 2, ppy 4 (sqrt 2):
    #   [0.01, 0.03]: mean 0.02,  std sqrt(2 * 0.01^2)  = 0.0141421
    #   [0.03, -0.02]: mean 0.005, std sqrt(2 * 0.025^2) = 0.0353553
    #   [-0.02, 0.02]: mean 0,     std sqrt(2 * 0.02^2)  = 0.0282843
    s1, s2, s3 = math.sqrt(2e-4), math.sqrt(1.25e-3), math.sqrt(8e-4)
    vol = rolling_volatility(r, 2, 4)
    assert isinstance(vol, np.ndarray)
    assert math.isnan(vol[0])
    np.testing.assert_allclose(vol[1:], [2 * s1, 2 * s2, 2 * s3], rtol=1e-12)
    sharpe = rolling_sharpe(r, 2, 4)
    assert math.isnan(sharpe[0])
    np.testing.assert_allclose(sharpe[1:], [0.02 / s1 * 2, 0.005 / s2 * 2, 0.0], atol=1e-12)


def test_rolling_sharpe_series_keeps_index_and_zero_std_is_nan() -> None:
    idx = pd.date_range("2024-01-01", periods=5, freq="D", tz="UTC")
    r = pd.Series([0.01, 0.01, 0.01, 0.02, 0.0], index=idx)
    out = rolling_sharpe(r, 3, periods_per_year=365)
    assert isinstance(out, pd.Series)
    assert out.index.equals(idx)
    # window [0.01, 0.01, 0.01] has zero std -> NaN, not inf
    assert math.isnan(out.iloc[2])
    # [0.01, 0.01, 0.02]: mean 0.04/3, std sqrt((2 * (0.01/3)^2 + (0.02/3)^2) / 2) = 0.01/sqrt(3)
    expected = (0.04 / 3) / (0.01 / math.sqrt(3)) * math.sqrt(365)
    assert out.iloc[3] == pytest.approx(expected, rel=1e-9)


def test_rolling_drawdown() -> None:
    r = [0.1, -0.5, 0.2, 0.5]
    # wealth 1, 1.1, 0.55, 0.66, 0.99; peak over the last window + 1 = 3 wealth points:
    #   1.1 / max(1, 1.1) - 1 = 0;  0.55 / 1.1 - 1 = -0.5;  0.66 / max(1.1, 0.55, 0.66) - 1 = -0.4
    #   0.99 / max(0.55, 0.66, 0.99) - 1 = 0
    np.testing.assert_allclose(rolling_drawdown(r, 2), [0.0, -0.5, -0.4, 0.0], atol=1e-12)


def test_exposure_time_from_positions_and_trades() -> None:
    # non-zero in 3 of 6 bars; NaN is flat
    assert exposure_time(np.array([0.0, 1.0, 1.0, 0.0, -2.0, np.nan])) == pytest.approx(0.5)
    # two instruments: bar held when any is non-zero -> bars 1, 2 of 4
    pos = pd.DataFrame({"a": [0.0, 1.0, 0.0, 0.0], "b": [0.0, 0.0, 3.0, 0.0]})
    assert exposure_time(pos) == pytest.approx(0.5)
    idx = pd.date_range("2024-01-01", periods=10, freq="h", tz="UTC")
    t = idx.to_series().reset_index(drop=True)
    # trades [h2, h5) and [h4, h7) overlap: bars 2..6 are held -> 5 / 10
    assert exposure_from_trades(idx, t[[2, 4]], t[[5, 7]]) == pytest.approx(0.5)


def test_turnover() -> None:
    trades = pd.DataFrame({"quantity": [2.0, 1.0], "entry_price": [100.0, 50.0],
                           "exit_price": [110.0, 40.0]})  # fmt: skip
    # 2 * (100 + 110) + 1 * (50 + 40) = 420 + 90 = 510
    assert traded_notional(trades) == pytest.approx(510.0)
    # average equity (1000 + 1100 + 1200) / 3 = 1100 -> 510 / 1100
    assert turnover(510.0, [1000.0, 1100.0, 1200.0]) == pytest.approx(510 / 1100)
