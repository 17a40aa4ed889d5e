"""Return-based performance ratios, matching empyrical's definitions where it has them.

All functions take simple per-period returns (array, list or Series; NaN/inf dropped, see
:mod:`tradewind.analytics._common`) and return a Python ``float`` or ``None`` when the value is
undefined. ``periods_per_year`` (``ppy``) is inferred from a Series' DatetimeIndex with
:func:`tradewind.analytics.metrics.periods_per_year` unless given; it plays the role of
empyrical's ``annualization`` argument.

Definitions (``r`` = cleaned returns, ``n = len(r)``, ``W = cumprod(1 + r)`` with a starting
anchor ``W_0 = 1``):

- :func:`annual_return` = ``prod(1 + r) ** (ppy / n) - 1`` (empyrical's CAGR from the number
  of periods, not from calendar time);
- :func:`annual_volatility` = ``std(r, ddof=1) * sqrt(ppy)``;
- :func:`sharpe_ratio` = ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(ppy)`` with ``rf`` the
  per-period rate ``(1 + risk_free) ** (1 / ppy) - 1`` of the *annual* ``risk_free``;
- :func:`downside_risk` = ``sqrt(mean(min(r - t, 0) ** 2)) * sqrt(ppy)`` and
  :func:`sortino_ratio` = ``mean(r - t) * ppy / downside_risk`` with ``t`` the *per-period*
  ``required_return`` (empyrical's);
- :func:`max_drawdown` = ``min(W / cummax(W) - 1)`` (<= 0) and :func:`calmar_ratio` =
  ``annual_return / |max_drawdown|``;
- :func:`omega_ratio` = ``sum(max(r - t, 0)) / sum(max(t - r, 0))`` with the per-period
  threshold ``t = (1 + threshold) ** (1 / ppy) - 1`` of the *annual* ``threshold``
  (``t = threshold`` when ``ppy == 1``), empyrical's;
- :func:`max_drawdown_duration` = the longest stretch, in periods, from a peak of ``W`` to the
  first period back at that peak (or to the end when not recovered);
- :func:`ulcer_index` = ``sqrt(mean(dd ** 2))`` over the ``n`` drawdowns ``dd`` (fractions, not
  percent);
- :func:`skew` / :func:`kurtosis` = population (biased) moment ratios ``m3 / m2 ** 1.5`` and the
  **excess** kurtosis ``m4 / m2 ** 2 - 3`` (0 for a normal distribution; scipy's defaults);
- :func:`tail_ratio` = ``|percentile(r, 95)| / |percentile(r, 5)|`` (linear interpolation);
- :func:`stability_of_timeseries` = R² of the least-squares line through
  ``cumsum(log1p(r))`` against ``0..n-1``;
- :func:`alpha_beta`: ``beta = cov(r, b) / var(b)`` (population moments) and
  ``alpha = (1 + mean((r - rf) - beta * (b - rf))) ** ppy - 1``;
- :func:`information_ratio` = ``mean(r - b) / std(r - b, ddof=1) * sqrt(ppy)`` (annualised;
  empyrical's ``excess_sharpe`` is the same without ``sqrt(ppy)``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tradewind.analytics._common import ReturnsLike, clean_returns, num, resolve_ppy
from tradewind.analytics.metrics import longest_underwater
from tradewind.errors import ConfigError

__all__ = [
    "aligned_pair",
    "alpha_beta",
    "annual_return",
    "annual_volatility",
    "calmar_ratio",
    "downside_risk",
    "drawdown_from_returns",
    "information_ratio",
    "kurtosis",
    "max_drawdown",
    "max_drawdown_duration",
    "omega_ratio",
    "sharpe_ratio",
    "skew",
    "skew_kurtosis",
    "sortino_ratio",
    "stability_of_timeseries",
    "tail_ratio",
    "ulcer_index",
]


def _rf_per_period(risk_free: float, ppy: float) -> float:
    if not math.isfinite(risk_free) or risk_free <= -1.0:
        raise ConfigError(f"risk_free must be an annual rate > -1, got {risk_free}")
    return (1.0 + risk_free) ** (1.0 / ppy) - 1.0 if risk_free != 0.0 else 0.0


def annual_return(returns: ReturnsLike, periods_per_year: float | None = None) -> float | None:
    """Compound annual growth rate from ``n`` periods: ``prod(1 + r) ** (ppy / n) - 1``."""
    r = clean_returns(returns)
    if len(r) == 0:
        return None
    ppy = resolve_ppy(returns, periods_per_year)
    growth = float(np.prod(r + 1.0))
    if growth <= 0:
        return -1.0
    try:
        value = growth ** (ppy / len(r)) - 1.0 if math.isfinite(growth) else math.inf
    except OverflowError:  # e.g. a few minute bars annualised
        value = math.inf
    if not math.isfinite(value):  # product or power overflowed: use logs, None if too big
        log_growth = float(np.sum(np.log1p(r))) * ppy / len(r)
        value = math.expm1(log_growth) if log_growth < 700 else math.inf
    return num(value)


def annual_volatility(returns: ReturnsLike, periods_per_year: float | None = None) -> float | None:
    """``std(r, ddof=1) * sqrt(ppy)``; None with fewer than 2 returns."""
    r = clean_returns(returns)
    if len(r) < 2:
        return None
    ppy = resolve_ppy(returns, periods_per_year)
    return num(float(np.std(r, ddof=1)) * math.sqrt(ppy))


def sharpe_ratio(
    returns: ReturnsLike, risk_free: float = 0.0, periods_per_year: float | None = None
) -> float | None:
    """Annualised Sharpe ratio; ``risk_free`` is annual. None if std is 0 or n < 2."""
    r = clean_returns(returns)
    if len(r) < 2:
        return None
    ppy = resolve_ppy(returns, periods_per_year)
    rf = _rf_per_period(risk_free, ppy)
    adj = r - rf if rf else r
    std = float(np.std(adj, ddof=1))
    if not std > 0 or std < 1e-15 * max(1.0, abs(float(np.mean(adj)))):
        return None  # constant returns: rounding noise is not dispersion
    return num(float(np.mean(adj)) / std * math.sqrt(ppy))


def downside_risk(
    returns: ReturnsLike, required_return: float = 0.0, periods_per_year: float | None = None
) -> float | None:
    """``sqrt(mean(min(r - t, 0) ** 2)) * sqrt(ppy)``, ``t`` per period; None if empty."""
    r = clean_returns(returns)
    if len(r) == 0:
        return None
    ppy = resolve_ppy(returns, periods_per_year)
    below = np.minimum(r - required_return, 0.0)
    return num(math.sqrt(float(np.mean(below * below))) * math.sqrt(ppy))


def sortino_ratio(
    returns: ReturnsLike, required_return: float = 0.0, periods_per_year: float | None = None
) -> float | None:
    """``mean(r - t) * ppy / downside_risk``; None without a period below ``t`` or n < 2."""
    r = clean_returns(returns)
    if len(r) < 2:
        return None
    ppy = resolve_ppy(returns, periods_per_year)
    dr = downside_risk(r, required_return, ppy)
    if not dr:
        return None
    return num(float(np.mean(r - required_return)) * ppy / dr)


def drawdown_from_returns(returns: ReturnsLike) -> np.ndarray:
    """Drawdown after each period, ``W / cummax(W) - 1`` with the anchor ``W_0 = 1``."""
    r = clean_returns(returns)
    if len(r) == 0:
        return np.empty(0)
    wealth = np.cumprod(r + 1.0)
    peak = np.maximum(np.maximum.accumulate(wealth), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = wealth / peak - 1.0
    return dd


def max_drawdown(returns: ReturnsLike) -> float | None:
    """Deepest drawdown (a fraction <= 0; 0.0 if never below a peak); None if empty."""
    dd = drawdown_from_returns(returns)
    if len(dd) == 0:
        return None
    return num(min(float(dd.min()), 0.0))


def max_drawdown_duration(returns: ReturnsLike) -> int | None:
    """Longest peak-to-recovery (or peak-to-end) span, in periods; 0 if never under water.

    Example: returns ``[+10 %, -10 %, 0, +25 %]`` -> wealth ``1, 1.1, 0.99, 0.99, 1.2375``; the
    peak 1.1 at period 1 is regained at period 4, so the duration is 3 periods.
    """
    r = clean_returns(returns)
    if len(r) == 0:
        return None
    wealth = np.concatenate(([1.0], np.cumprod(r + 1.0)))
    return int(longest_underwater(wealth, np.arange(len(wealth))))


def ulcer_index(returns: ReturnsLike) -> float | None:
    """``sqrt(mean(dd ** 2))`` over the per-period drawdowns (fractions); None if empty."""
    dd = drawdown_from_returns(returns)
    if len(dd) == 0:
        return None
    return num(math.sqrt(float(np.mean(dd * dd))))


def calmar_ratio(returns: ReturnsLike, periods_per_year: float | None = None) -> float | None:
    """``annual_return / |max_drawdown|``; None without a drawdown."""
    r = clean_returns(returns)
    mdd = max_drawdown(r)
    if mdd is None or mdd >= 0:
        return None
    ar = annual_return(r, resolve_ppy(returns, periods_per_year))
    return None if ar is None else num(ar / abs(mdd))


def omega_ratio(
    returns: ReturnsLike, threshold: float = 0.0, periods_per_year: float | None = None
) -> float | None:
    """Gains over losses around the per-period equivalent of the annual ``threshold``.

    None with fewer than 2 returns, a threshold <= -100 %, or no return below the threshold.
    ``periods_per_year`` is only needed when ``threshold != 0``.
    """
    r = clean_returns(returns)
    if len(r) < 2 or threshold <= -1.0:
        return None
    if threshold == 0.0:
        t = 0.0
    else:
        ppy = resolve_ppy(returns, periods_per_year)
        t = threshold if ppy == 1 else (1.0 + threshold) ** (1.0 / ppy) - 1.0
    excess = r - t
    gains = float(excess[excess > 0.0].sum())
    losses = -float(excess[excess < 0.0].sum())
    return num(gains / losses) if losses > 0.0 else None


def _moments(r: np.ndarray) -> tuple[float, float, float] | None:
    """Central moments m2, m3, m4 (population); None if n < 2 or m2 is 0."""
    if len(r) < 2:
        return None
    d = r - r.mean()
    d2 = d * d
    m2 = float(d2.mean())
    if not m2 > 1e-30 * max(1.0, float(r.mean()) ** 2):
        return None
    return m2, float((d2 * d).mean()), float((d2 * d2).mean())


def skew_kurtosis(returns: ReturnsLike) -> tuple[float | None, float | None]:
    """``(skew(r), kurtosis(r))`` from one pass over the central moments."""
    m = _moments(clean_returns(returns))
    if m is None:
        return None, None
    return num(m[1] / m[0] ** 1.5), num(m[2] / (m[0] * m[0]) - 3.0)


def skew(returns: ReturnsLike) -> float | None:
    """Population skewness ``m3 / m2 ** 1.5``; None if n < 2 or constant."""
    return skew_kurtosis(returns)[0]


def kurtosis(returns: ReturnsLike) -> float | None:
    """Population **excess** kurtosis ``m4 / m2 ** 2 - 3``; None if n < 2 or constant."""
    return skew_kurtosis(returns)[1]


def tail_ratio(returns: ReturnsLike) -> float | None:
    """``|p95| / |p5|`` of the returns; None if empty or the 5th percentile is 0."""
    r = clean_returns(returns)
    if len(r) == 0:
        return None
    p5, p95 = np.percentile(r, [5.0, 95.0])
    return num(abs(float(p95)) / abs(float(p5))) if p5 != 0 else None


def stability_of_timeseries(returns: ReturnsLike) -> float | None:
    """R² of a linear fit to the cumulative log returns.

    None with fewer than 2 returns, a return <= -100 % (log undefined) or flat cumulative log
    returns (all returns 0: R² is 0/0; scipy's linregress would say 0.0).
    """
    r = clean_returns(returns)
    if len(r) < 2 or bool((r <= -1.0).any()):
        return None
    y = np.cumsum(np.log1p(r))
    x = np.arange(len(y), dtype=np.float64)
    x -= x.mean()
    y = y - y.mean()
    sxx = float(np.dot(x, x))
    syy = float(np.dot(y, y))
    if not syy > 0:
        return None
    sxy = float(np.dot(x, y))
    return num(min(sxy * sxy / (sxx * syy), 1.0))


def aligned_pair(returns: ReturnsLike, benchmark: ReturnsLike) -> tuple[np.ndarray, np.ndarray]:
    """Returns and benchmark returns paired period by period, NaN/inf pairs dropped.

    Two Series are aligned on their index (inner join); otherwise the lengths must match.
    """
    if isinstance(returns, pd.Series) and isinstance(benchmark, pd.Series):
        joined = pd.concat([returns, benchmark], axis=1, join="inner")
        a = joined.iloc[:, 0].to_numpy(dtype=np.float64)
        b = joined.iloc[:, 1].to_numpy(dtype=np.float64)
    else:
        a = np.asarray(returns, dtype=np.float64)
        b = np.asarray(benchmark, dtype=np.float64)
        if a.ndim != 1 or b.shape != a.shape:
            raise ConfigError(
                f"returns and benchmark must be 1-D of the same length (or two Series to "
                f"align on their index), got shapes {a.shape} and {b.shape}"
            )
    ok = np.isfinite(a) & np.isfinite(b)
    return (a, b) if bool(ok.all()) else (a[ok], b[ok])


def alpha_beta(
    returns: ReturnsLike,
    benchmark: ReturnsLike,
    risk_free: float = 0.0,
    periods_per_year: float | None = None,
) -> tuple[float | None, float | None]:
    """``(alpha, beta)`` against ``benchmark`` returns; ``risk_free`` is annual.

    Beta is None if the benchmark does not vary (variance < 1e-30) or fewer than 2 pairs;
    alpha is None whenever beta is.
    """
    r, b = aligned_pair(returns, benchmark)
    if len(r) < 2:
        return None, None
    ppy = resolve_ppy(returns, periods_per_year)
    b_res = b - b.mean()
    var = float(np.mean(b_res * b_res))
    if var < 1e-30:
        return None, None
    beta = float(np.mean(b_res * r)) / var
    rf = _rf_per_period(risk_free, ppy)
    mean_alpha = float(np.mean((r - rf) - beta * (b - rf)))
    if mean_alpha <= -1.0:
        return -1.0, num(beta)
    log_growth = ppy * math.log1p(mean_alpha)
    alpha = math.expm1(log_growth) if log_growth < 700 else None  # None: overflows a float
    return num(alpha), num(beta)


def information_ratio(
    returns: ReturnsLike, benchmark: ReturnsLike, periods_per_year: float | None = None
) -> float | None:
    """Annualised ``mean(r - b) / std(r - b, ddof=1) * sqrt(ppy)``; None if tracking error 0."""
    r, b = aligned_pair(returns, benchmark)
    if len(r) < 2:
        return None
    ppy = resolve_ppy(returns, periods_per_year)
    active = r - b
    te = float(np.std(active, ddof=1))
    if not te > 1e-15 * max(1.0, abs(float(np.mean(active)))):
        return None
    return num(float(np.mean(active)) / te * math.sqrt(ppy))
