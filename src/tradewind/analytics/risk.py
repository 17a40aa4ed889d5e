"""Value at risk and expected shortfall: historical, Gaussian and Cornish-Fisher.

Sign convention (empyrical's): VaR and CVaR are *returns*, i.e. the ``cutoff`` quantile of the
per-period return distribution, so a 5 % VaR of ``-0.03`` reads "in 5 % of periods the loss is
3 % or worse". They are not annualised. Inputs are simple returns (NaN/inf dropped).

- :func:`value_at_risk` (historical) = ``percentile(r, 100 * cutoff)`` with linear
  interpolation (empyrical's ``value_at_risk``);
- :func:`conditional_value_at_risk` (historical) = mean of the ``k + 1`` smallest returns with
  ``k = int((n - 1) * cutoff)`` (empyrical's ``conditional_value_at_risk``);
- :func:`gaussian_var` = ``mean + z * std`` with ``z = Phi^-1(cutoff)`` and ``std`` the sample
  standard deviation (``ddof=1``);
- :func:`gaussian_cvar` = ``mean - std * phi(z) / cutoff`` (normal expected shortfall);
- :func:`cornish_fisher_var` = ``mean + z_cf * std`` with the Cornish-Fisher quantile
  ``z_cf = z + (z² - 1) S / 6 + (z³ - 3z) K / 24 - (2z³ - 5z) S² / 36``, ``S`` the population
  skewness and ``K`` the population *excess* kurtosis (see :mod:`tradewind.analytics.returns`).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from tradewind.analytics._common import ReturnsLike, clean_returns, num
from tradewind.analytics.returns import skew_kurtosis
from tradewind.errors import ConfigError

__all__ = [
    "conditional_value_at_risk",
    "cornish_fisher_var",
    "gaussian_cvar",
    "gaussian_var",
    "value_at_risk",
]

_NORMAL = NormalDist()


def _check_cutoff(cutoff: float) -> None:
    if not (0.0 < cutoff < 1.0):
        raise ConfigError(f"cutoff must be in (0, 1), got {cutoff}")


def value_at_risk(returns: ReturnsLike, cutoff: float = 0.05) -> float | None:
    """Historical VaR: the ``cutoff`` percentile of the returns; None if empty."""
    _check_cutoff(cutoff)
    r = clean_returns(returns)
    if len(r) == 0:
        return None
    return num(np.percentile(r, 100.0 * cutoff))


def conditional_value_at_risk(returns: ReturnsLike, cutoff: float = 0.05) -> float | None:
    """Historical CVaR: mean of the ``int((n - 1) * cutoff) + 1`` worst returns."""
    _check_cutoff(cutoff)
    r = clean_returns(returns)
    if len(r) == 0:
        return None
    k = int((len(r) - 1) * cutoff)
    return num(np.mean(np.partition(r, k)[: k + 1]))


def _mean_std(returns: ReturnsLike) -> tuple[float, float] | None:
    r = clean_returns(returns)
    if len(r) < 2:
        return None
    return float(r.mean()), float(np.std(r, ddof=1))


def gaussian_var(returns: ReturnsLike, cutoff: float = 0.05) -> float | None:
    """Parametric VaR of a normal with the sample mean and std; None if n < 2."""
    _check_cutoff(cutoff)
    ms = _mean_std(returns)
    if ms is None:
        return None
    return num(ms[0] + _NORMAL.inv_cdf(cutoff) * ms[1])


def gaussian_cvar(returns: ReturnsLike, cutoff: float = 0.05) -> float | None:
    """Normal expected shortfall ``mean - std * phi(z) / cutoff``; None if n < 2."""
    _check_cutoff(cutoff)
    ms = _mean_std(returns)
    if ms is None:
        return None
    z = _NORMAL.inv_cdf(cutoff)
    return num(ms[0] - ms[1] * _NORMAL.pdf(z) / cutoff)


def cornish_fisher_var(
    returns: ReturnsLike,
    cutoff: float = 0.05,
    *,
    moments: tuple[float | None, float | None] | None = None,
) -> float | None:
    """Modified (Cornish-Fisher) VaR: the Gaussian VaR with a skew/kurtosis-adjusted quantile.

    None if n < 2; for constant returns (no skew/kurtosis defined) it is the mean.
    ``moments``: the ``skew_kurtosis`` of the same returns when already computed (saves a pass).
    """
    _check_cutoff(cutoff)
    r = clean_returns(returns)
    ms = _mean_std(r)
    if ms is None:
        return None
    s, k = skew_kurtosis(r) if moments is None else moments
    if s is None or k is None:
        return num(ms[0])
    z = _NORMAL.inv_cdf(cutoff)
    z_cf = (
        z
        + (z * z - 1.0) * s / 6.0
        + (z**3 - 3.0 * z) * k / 24.0
        - (2.0 * z**3 - 5.0 * z) * s * s / 36.0
    )
    return num(ms[0] + z_cf * ms[1])
