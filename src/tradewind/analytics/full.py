"""The full metrics set of an equity curve, its trades and a benchmark, in one flat dict.

:func:`full_metrics` returns every key of :func:`tradewind.analytics.metrics.basic_metrics`
with the *same* values (it calls it), plus the metrics of :mod:`~tradewind.analytics.returns`,
:mod:`~tradewind.analytics.risk` and :mod:`~tradewind.analytics.trades` computed on the
per-bar simple returns ``r`` of the equity (non-finite returns dropped, as in
``basic_metrics``). Values are plain Python ``float``/``int``/``str`` or ``None`` (undefined),
never NaN, so the dict is JSON-safe.

Note the two growth rates: ``cagr`` (shared key) annualises by *calendar time* between the
first and last timestamp, ``annual_return`` by the *number of periods* (empyrical's
definition); ``calmar`` uses ``cagr`` and the equity drawdown, while
:func:`~tradewind.analytics.returns.calmar_ratio` uses ``annual_return``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradewind.analytics import returns as ret
from tradewind.analytics import risk
from tradewind.analytics import trades as tr
from tradewind.analytics._common import resolve_ppy
from tradewind.analytics.metrics import Metrics, basic_metrics, empty_trades
from tradewind.errors import ConfigError

__all__ = ["FULL_METRIC_KEYS", "full_metrics"]

_BASIC_KEYS = (
    "start",
    "end",
    "duration_days",
    "initial_equity",
    "final_equity",
    "total_return",
    "cagr",
    "volatility_ann",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_duration_days",
    "calmar",
    "num_trades",
    "win_rate",
    "profit_factor",
    "avg_trade_pnl",
    "best_trade_pnl",
    "worst_trade_pnl",
    "avg_trade_duration_hours",
    "total_fees",
)

_RETURN_KEYS = (
    "periods_per_year",
    "num_periods",
    "annual_return",
    "annual_volatility",
    "downside_risk",
    "omega",
    "max_drawdown_duration_periods",
    "ulcer_index",
    "var_historical",
    "cvar_historical",
    "var_gaussian",
    "cvar_gaussian",
    "var_cornish_fisher",
    "skew",
    "kurtosis",
    "tail_ratio",
    "stability",
    "alpha",
    "beta",
    "information_ratio",
)

_TRADE_KEYS = (
    "avg_win",
    "avg_loss",
    "payoff_ratio",
    "expectancy",
    "sqn",
    "kelly_fraction",
    "exposure_time",
    "turnover",
)

#: Every key of :func:`full_metrics`, in order.
FULL_METRIC_KEYS: tuple[str, ...] = _BASIC_KEYS + _RETURN_KEYS + _TRADE_KEYS


def _benchmark_pair(
    index: pd.DatetimeIndex, r_all: np.ndarray, benchmark: pd.Series | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(benchmark, pd.Series):
        r_series = pd.Series(r_all, index=index[1:])
        return ret.aligned_pair(r_series, benchmark)
    b = np.asarray(benchmark, dtype=np.float64)
    if b.shape != r_all.shape:
        raise ConfigError(
            f"benchmark returns must have one value per equity return ({len(r_all)}), "
            f"got shape {b.shape}; pass a Series to align on timestamps"
        )
    return ret.aligned_pair(r_all, b)


def full_metrics(
    equity: pd.Series,
    trades: pd.DataFrame | None = None,
    benchmark: pd.Series | np.ndarray | None = None,
    periods_per_year: float | None = None,
    risk_free: float = 0.0,
    *,
    positions: pd.Series | pd.DataFrame | np.ndarray | None = None,
    cutoff: float = 0.05,
    omega_threshold: float = 0.0,
) -> Metrics:
    """All metrics of an equity curve (keys: :data:`FULL_METRIC_KEYS`).

    ``equity``: as for ``basic_metrics`` (finite, tz-aware strictly increasing index, first
    value > 0); an **empty** Series gives every key as None (``num_trades`` 0).
    ``trades``: round trips (``pnl``, ``entry_time``, ``exit_time``, ``fees``; ``quantity``,
    ``entry_price``, ``exit_price`` for turnover) or None. ``benchmark``: per-period simple
    returns, a Series aligned on the timestamps of the equity returns (the later point of each
    step) or an array with one value per return. ``risk_free``: annual rate (Sharpe, alpha).
    ``positions``: per-bar position sizes for ``exposure_time``; without it exposure comes from
    the trades' entry/exit times. ``cutoff``: VaR/CVaR tail probability. ``omega_threshold``:
    annual Omega threshold. ``sqn`` uses trade pnl (no R-multiples in round trips).
    """
    if trades is None:
        trades = empty_trades()
    if isinstance(equity, pd.Series) and len(equity) == 0:
        out: Metrics = dict.fromkeys(FULL_METRIC_KEYS)
        out["num_trades"] = 0
        out["num_periods"] = 0
        return out

    values = equity.to_numpy(dtype=np.float64)
    index = equity.index
    ppy: float | None = periods_per_year
    if ppy is None and len(values) >= 2 and isinstance(index, pd.DatetimeIndex):
        ppy = resolve_ppy(equity, None)  # inferred once; basic_metrics would infer the same
    basic = basic_metrics(equity, trades, periods_per_year=ppy, risk_free=risk_free)
    assert isinstance(index, pd.DatetimeIndex)
    ppy = None if ppy is None else float(ppy)

    with np.errstate(divide="ignore", invalid="ignore"):
        r_all = values[1:] / values[:-1] - 1.0
    r = r_all[np.isfinite(r_all)]

    m: Metrics = {"periods_per_year": ppy, "num_periods": len(r)}
    if ppy is not None and len(r):
        m["annual_return"] = ret.annual_return(r, ppy)
        m["annual_volatility"] = ret.annual_volatility(r, ppy)
        m["downside_risk"] = ret.downside_risk(r, 0.0, ppy)
        m["omega"] = ret.omega_ratio(r, omega_threshold, ppy)
    else:
        for key in ("annual_return", "annual_volatility", "downside_risk", "omega"):
            m[key] = None
    m["max_drawdown_duration_periods"] = ret.max_drawdown_duration(r)
    m["ulcer_index"] = ret.ulcer_index(r)
    m["var_historical"] = risk.value_at_risk(r, cutoff)
    m["cvar_historical"] = risk.conditional_value_at_risk(r, cutoff)
    m["var_gaussian"] = risk.gaussian_var(r, cutoff)
    m["cvar_gaussian"] = risk.gaussian_cvar(r, cutoff)
    sk = ret.skew_kurtosis(r)
    m["var_cornish_fisher"] = risk.cornish_fisher_var(r, cutoff, moments=sk)
    m["skew"], m["kurtosis"] = sk
    m["tail_ratio"] = ret.tail_ratio(r)
    m["stability"] = ret.stability_of_timeseries(r)
    alpha = beta = ir = None
    if benchmark is not None and ppy is not None:
        a, b = _benchmark_pair(index, r_all, benchmark)
        alpha, beta = ret.alpha_beta(a, b, risk_free, ppy)
        ir = ret.information_ratio(a, b, ppy)
    m["alpha"], m["beta"], m["information_ratio"] = alpha, beta, ir

    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    m["avg_win"] = tr.average_win(pnl)
    m["avg_loss"] = tr.average_loss(pnl)
    m["payoff_ratio"] = tr.payoff_ratio(pnl)
    m["expectancy"] = tr.expectancy(pnl)
    m["sqn"] = tr.sqn(pnl)
    m["kelly_fraction"] = tr.kelly_fraction(pnl)
    if positions is not None:
        m["exposure_time"] = tr.exposure_time(positions)
    else:
        m["exposure_time"] = tr.exposure_from_trades(
            index, trades["entry_time"], trades["exit_time"]
        )
    notional = tr.traded_notional(trades) if len(trades) else 0.0
    m["turnover"] = None if notional is None else tr.turnover(notional, values)

    out = dict(basic)
    out.update(m)
    return {key: out[key] for key in FULL_METRIC_KEYS}
