"""Shared helpers of the analytics modules: input cleaning, periods per year, JSON-safe floats.

Conventions shared by every returns-based metric in :mod:`tradewind.analytics`:

- inputs are *simple* per-period returns (``0.01`` = +1 %) as a numpy array, a list or a
  pandas Series;
- NaN returns (gaps, missing bars) are **dropped** before anything is computed, as if the
  period did not exist (empyrical's ``nan*`` functions do the same); ``inf`` is dropped too;
- results are plain Python ``float`` or ``None`` when undefined (empty input, zero
  dispersion, no losing periods, ...), never NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from tradewind.analytics.metrics import _num as num  # one JSON-safe float conversion
from tradewind.analytics.metrics import periods_per_year as infer_periods_per_year
from tradewind.errors import ConfigError

__all__ = ["ReturnsLike", "clean_returns", "num", "resolve_ppy"]

ReturnsLike = np.ndarray | pd.Series | Sequence[float]


def clean_returns(returns: ReturnsLike) -> np.ndarray:
    """1-D float64 array of the finite values of ``returns`` (NaN/inf dropped)."""
    if isinstance(returns, pd.DataFrame):
        raise ConfigError("returns must be 1-D (a Series or array), got a DataFrame")
    arr = np.asarray(returns, dtype=np.float64)
    if arr.ndim != 1:
        raise ConfigError(f"returns must be 1-D, got an array of shape {arr.shape}")
    finite = np.isfinite(arr)
    return arr if bool(finite.all()) else arr[finite]


def resolve_ppy(returns: ReturnsLike, periods_per_year: float | None) -> float:
    """Periods per year: the given value, else inferred from a Series' DatetimeIndex.

    Raises :class:`ConfigError` when the value is not a positive finite number, or when it is
    not given and cannot be inferred (plain arrays, or a Series without a DatetimeIndex).
    """
    if periods_per_year is not None:
        ppy = float(periods_per_year)
        if not (math.isfinite(ppy) and ppy > 0):
            raise ConfigError(f"periods_per_year must be a positive number, got {periods_per_year}")
        return ppy
    if isinstance(returns, pd.Series) and isinstance(returns.index, pd.DatetimeIndex):
        return float(infer_periods_per_year(returns.index))
    raise ConfigError(
        "periods_per_year is required for returns without a DatetimeIndex "
        "(e.g. 252 for stock days, 365.25 for crypto days)"
    )
