"""Parity of tradewind.analytics with empyrical-reloaded (a test-only dependency).

Tolerance: every comparison is ``rel=1e-9`` *or* ``abs=1e-12`` (pytest.approx semantics: the
larger of the two), i.e. relative 1e-9 for every value that is not itself ~0.

Real series: daily returns of AAPL, JPM, XOM and KO (adjusted closes, 252 periods per year)
and BTC daily returns resampled from the 1-minute BTCUSDT candles (365 periods per year), from
../shared/data; skipped when the files are absent. A seeded synthetic series always runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradewind.analytics import (
    alpha_beta,
    annual_return,
    annual_volatility,
    calmar_ratio,
    conditional_value_at_risk,
    downside_risk,
    full_metrics,
    information_ratio,
    max_drawdown,
    omega_ratio,
    sharpe_ratio,
    sortino_ratio,
    stability_of_timeseries,
    tail_ratio,
    value_at_risk,
)

empyrical = pytest.importorskip("empyrical", reason="empyrical-reloaded (dev dependency) missing")

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
STOCKS = DATA / "us_20stocks_adjclose_1d.csv.gz"
BTC = DATA / "binance_BTCUSDT_1m.csv.gz"
ETH5 = DATA / "binance_ETHUSDT_5m.csv.gz"
TICKERS = ("AAPL", "JPM", "XOM", "KO")
REL, ABS = 1e-9, 1e-12


def close(a: float | None, b: float) -> bool:
    assert a is not None, f"tradewind gave None where empyrical gives {b}"
    return a == pytest.approx(b, rel=REL, abs=ABS)


@pytest.fixture(scope="module")
def stock_returns() -> pd.DataFrame:
    if not STOCKS.exists():
        pytest.skip(f"real data not found: {STOCKS}")
    prices = pd.read_csv(STOCKS, parse_dates=["timestamp"], index_col="timestamp")
    return prices[list(TICKERS)].pct_change().iloc[1:].dropna()


@pytest.fixture(scope="module")
def crypto_returns() -> pd.Series:
    """BTC daily close-to-close returns (falls back to the 5m ETH file)."""
    path = BTC if BTC.exists() else ETH5
    if not path.exists():
        pytest.skip(f"real crypto data not found: {BTC} or {ETH5}")
    frame = pd.read_csv(path, usecols=["timestamp", "close"])
    ts = pd.to_datetime(frame["timestamp"], utc=True)
    daily = pd.Series(frame["close"].to_numpy(), index=ts).resample("1D").last().dropna()
    return daily.pct_change().iloc[1:]


def synthetic() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20240601)
    bench = rng.standard_t(4, 2000) * 0.01 + 0.0003
    strat = 0.7 * bench + rng.normal(0.0002, 0.008, 2000)
    return strat, bench


def check_all(r: np.ndarray, b: np.ndarray, ppy: float) -> None:
    """Every shared metric of ``r`` (benchmark ``b``) against empyrical with ``ppy``."""
    assert close(annual_return(r, ppy), empyrical.annual_return(r, annualization=ppy))
    assert close(annual_volatility(r, ppy), empyrical.annual_volatility(r, annualization=ppy))
    assert close(sharpe_ratio(r, 0.0, ppy), empyrical.sharpe_ratio(r, annualization=ppy))
    rf = 0.03  # annual; empyrical takes the per-period rate
    rf_pp = 1.03 ** (1 / ppy) - 1
    assert close(
        sharpe_ratio(r, rf, ppy), empyrical.sharpe_ratio(r, risk_free=rf_pp, annualization=ppy)
    )
    assert close(sortino_ratio(r, 0.0, ppy), empyrical.sortino_ratio(r, annualization=ppy))
    assert close(
        sortino_ratio(r, 0.0005, ppy),
        empyrical.sortino_ratio(r, required_return=0.0005, annualization=ppy),
    )
    assert close(downside_risk(r, 0.0, ppy), empyrical.downside_risk(r, annualization=ppy))
    assert close(calmar_ratio(r, ppy), empyrical.calmar_ratio(r, annualization=ppy))
    assert close(omega_ratio(r, 0.0, ppy), empyrical.omega_ratio(r, annualization=ppy))
    assert close(
        omega_ratio(r, 0.08, ppy),
        empyrical.omega_ratio(r, required_return=0.08, annualization=ppy),
    )
    assert close(max_drawdown(r), empyrical.max_drawdown(r))
    assert close(value_at_risk(r), empyrical.value_at_risk(r))
    assert close(value_at_risk(r, 0.01), empyrical.value_at_risk(r, cutoff=0.01))
    assert close(conditional_value_at_risk(r), empyrical.conditional_value_at_risk(r))
    assert close(
        conditional_value_at_risk(r, 0.01), empyrical.conditional_value_at_risk(r, cutoff=0.01)
    )
    assert close(tail_ratio(r), empyrical.tail_ratio(r))
    assert close(stability_of_timeseries(r), empyrical.stability_of_timeseries(r))
    alpha, beta = alpha_beta(r, b, 0.0, ppy)
    e_alpha, e_beta = empyrical.alpha_beta(r, b, annualization=ppy)
    assert close(alpha, e_alpha)
    assert close(beta, e_beta)
    alpha_rf, beta_rf = alpha_beta(r, b, rf, ppy)
    e_alpha_rf, e_beta_rf = empyrical.alpha_beta(r, b, risk_free=rf_pp, annualization=ppy)
    assert close(alpha_rf, e_alpha_rf)
    assert close(beta_rf, e_beta_rf)
    # information_ratio is annualised; empyrical's excess_sharpe is per period.
    ir = information_ratio(r, b, ppy)
    assert close(ir, empyrical.excess_sharpe(r, b) * np.sqrt(ppy))


def test_parity_on_seeded_synthetic_series() -> None:
    strat, bench = synthetic()
    check_all(strat, bench, 252.0)
    check_all(strat, bench, 365.0)
    check_all(bench, strat, 52.0)


@pytest.mark.parametrize("ticker", TICKERS)
def test_parity_on_real_stock_returns(stock_returns: pd.DataFrame, ticker: str) -> None:
    r = stock_returns[ticker].to_numpy()
    b = stock_returns["KO" if ticker != "KO" else "XOM"].to_numpy()
    assert len(r) > 5000
    check_all(r, b, 252.0)


def test_parity_on_real_crypto_daily_returns(
    crypto_returns: pd.Series, stock_returns: pd.DataFrame
) -> None:
    r = crypto_returns.to_numpy()
    assert len(r) > 300
    rng = np.random.default_rng(3)
    check_all(r, 0.5 * r + rng.normal(0, 0.01, len(r)), 365.0)


def test_series_input_infers_periods_and_matches_empyrical(stock_returns: pd.DataFrame) -> None:
    r = stock_returns["AAPL"].tz_localize("UTC")  # business days -> 252 periods per year
    assert close(sharpe_ratio(r), empyrical.sharpe_ratio(r.to_numpy(), annualization=252))
    assert close(annual_return(r), empyrical.annual_return(r.to_numpy(), annualization=252))


def test_series_benchmark_is_aligned_on_index(stock_returns: pd.DataFrame) -> None:
    r = stock_returns["JPM"]
    b = stock_returns["XOM"].iloc[::-1].iloc[:-10]  # reversed order, shorter
    alpha, beta = alpha_beta(r, b, 0.0, 252)
    e_alpha, e_beta = empyrical.alpha_beta(r, b, annualization=252)
    assert close(alpha, e_alpha)
    assert close(beta, e_beta)


def test_nan_gaps_are_dropped_like_empyrical() -> None:
    strat, _ = synthetic()
    gappy = strat.copy()
    gappy[[5, 100, 101, 1500]] = np.nan
    clean = gappy[~np.isnan(gappy)]
    assert close(sharpe_ratio(gappy, 0.0, 252), empyrical.sharpe_ratio(gappy, annualization=252))
    assert close(max_drawdown(gappy), empyrical.max_drawdown(gappy))
    assert close(value_at_risk(gappy), empyrical.value_at_risk(clean))
    assert close(annual_return(gappy, 252), empyrical.annual_return(clean, annualization=252))


def test_full_metrics_match_empyrical_on_real_equity(stock_returns: pd.DataFrame) -> None:
    r = stock_returns["XOM"]
    b = stock_returns["KO"]
    idx = r.index.tz_localize("UTC")
    equity = pd.Series(
        np.concatenate(([100.0], 100.0 * np.cumprod(1 + r.to_numpy()))),
        index=idx.insert(0, idx[0] - pd.Timedelta(days=1)),
    )
    m = full_metrics(equity, benchmark=pd.Series(b.to_numpy(), index=idx), periods_per_year=252)
    ra = equity.pct_change().iloc[1:].to_numpy()  # == r up to rounding of the cumprod
    assert close(m["annual_return"], empyrical.annual_return(ra, annualization=252))  # type: ignore[arg-type]
    assert close(m["sharpe"], empyrical.sharpe_ratio(ra, annualization=252))  # type: ignore[arg-type]
    assert close(m["sortino"], empyrical.sortino_ratio(ra, annualization=252))  # type: ignore[arg-type]
    assert close(m["omega"], empyrical.omega_ratio(ra, annualization=252))  # type: ignore[arg-type]
    assert close(m["max_drawdown"], empyrical.max_drawdown(ra))  # type: ignore[arg-type]
    assert close(m["tail_ratio"], empyrical.tail_ratio(ra))  # type: ignore[arg-type]
    assert close(m["stability"], empyrical.stability_of_timeseries(ra))  # type: ignore[arg-type]
    e_alpha, e_beta = empyrical.alpha_beta(ra, b.to_numpy(), annualization=252)
    assert close(m["alpha"], e_alpha)  # type: ignore[arg-type]
    assert close(m["beta"], e_beta)  # type: ignore[arg-type]
