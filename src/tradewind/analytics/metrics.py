"""Basic performance metrics of a backtest: returns, risk, drawdowns and trade statistics.

Everything here is vectorized numpy/pandas (equity curves may have millions of points) and the
summary is a flat, JSON-serialisable dict (plain ``float``/``int``/``str``/``None``; NaN and
infinities become ``None``) so it can be stored, sent over the API and shown in reports as is.

Conventions used by every metric:

- per-bar simple returns ``r = equity.pct_change().dropna()`` (non-finite returns, which only
  appear after an equity of exactly 0, are dropped);
- ``ppy`` = periods per year, given or inferred by :func:`periods_per_year`;
- ``risk_free`` is an *annual* rate, turned into a per-bar rate by compounding:
  ``rf_per_period = (1 + risk_free) ** (1 / ppy) - 1``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tradewind.errors import ConfigError
from tradewind.timeutil import median_spacing_ns

__all__ = ["basic_metrics", "drawdown", "periods_per_year"]

_NS_PER_DAY = 86_400 * 1_000_000_000
_WEEKEND_BLOCK = 1 << 16  # timestamps per step of the weekend test
_NS_PER_HOUR = 3_600 * 1_000_000_000
_DAYS_PER_YEAR = 365.25
_TRADING_DAYS = 252.0
_SESSION_HOURS = 6.5
#: Median spacings up to this many days still count as "daily" on a trading calendar
#: (a business-day index has 1-day spacing, 3 days over weekends, 4 over long weekends).
_DAILY_MAX_DAYS = 4.0

#: Columns :func:`basic_metrics` reads from the trades frame.
TRADE_COLUMNS: tuple[str, ...] = ("pnl", "entry_time", "exit_time", "fees")

Metrics = dict[str, float | int | str | None]


def empty_trades() -> pd.DataFrame:
    """A trades frame with no rows and the columns :func:`basic_metrics` reads."""
    return pd.DataFrame(
        {
            "pnl": pd.Series(dtype="float64"),
            "entry_time": pd.Series(dtype="datetime64[ns, UTC]"),
            "exit_time": pd.Series(dtype="datetime64[ns, UTC]"),
            "fees": pd.Series(dtype="float64"),
        }
    )


def periods_per_year(index: pd.DatetimeIndex) -> float:
    """Infer how many bars make up one year from the timestamps of an equity curve.

    Why: Sharpe, Sortino and volatility are annualised with this number, and a crypto curve
    (trading 24/7) and a stock curve (trading ~252 sessions of 6.5 h) of the same bar size need
    very different factors.

    Rule, with ``spacing`` = the median difference between consecutive timestamps:

    - any timestamp on a Saturday or Sunday (in the index's time zone, UTC for Tradewind) means
      the market trades around the clock (crypto): ``365.25 days / spacing``;
    - otherwise a trading calendar is assumed:

      - intraday (``spacing < 1 day``): ``252 * (6.5 h / spacing)``, never below 252 (bars longer
        than a 6.5 h session still come at most once per session);
      - daily (``1 day <= spacing <= 4 days``; weekends and holidays widen some gaps): ``252``;
      - longer (weekly, monthly bars): ``365.25 days / spacing``.

    Raises :class:`ConfigError` for fewer than two timestamps or a zero median spacing
    (duplicate timestamps).
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise ConfigError(
            f"periods_per_year: index must be a pandas DatetimeIndex, got {type(index).__name__}"
        )
    if len(index) < 2:
        raise ConfigError(
            f"periods_per_year: need at least 2 timestamps to infer the bar spacing, "
            f"got {len(index)}"
        )
    ns = index.as_unit("ns").asi8
    if index.tz is None or str(index.tz) == "UTC":
        return periods_per_year_ns(ns)
    return _periods_per_year(ns, bool((index.day_of_week >= 5).any()))


def periods_per_year_ns(ns: np.ndarray) -> float:
    """``periods_per_year`` for int64 UTC nanoseconds (at least two), without building an index.

    The weekend test reads the integers (1970-01-01 was a Thursday) a block at a time and stops
    at the first Saturday or Sunday: a 24/7 series is decided within its first week.
    """
    if len(ns) < 2:
        raise ConfigError(
            f"periods_per_year: need at least 2 timestamps to infer the bar spacing, got {len(ns)}"
        )
    has_weekend = False
    for start in range(0, len(ns), _WEEKEND_BLOCK):
        if ((ns[start : start + _WEEKEND_BLOCK] // _NS_PER_DAY + 3) % 7 >= 5).any():
            has_weekend = True
            break
    return _periods_per_year(ns, has_weekend)


def _periods_per_year(ns: np.ndarray, has_weekend: bool) -> float:
    spacing_ns = median_spacing_ns(ns)
    if not spacing_ns > 0:
        raise ConfigError(
            f"periods_per_year: median timestamp spacing is {spacing_ns} ns; timestamps must be "
            "increasing and mostly unique"
        )
    if has_weekend:
        return _DAYS_PER_YEAR * _NS_PER_DAY / spacing_ns
    if spacing_ns < _NS_PER_DAY:
        return max(_TRADING_DAYS, _TRADING_DAYS * _SESSION_HOURS * _NS_PER_HOUR / spacing_ns)
    if spacing_ns <= _DAILY_MAX_DAYS * _NS_PER_DAY:
        return _TRADING_DAYS
    return _DAYS_PER_YEAR * _NS_PER_DAY / spacing_ns


def drawdown(equity: pd.Series) -> pd.Series:
    """Fractional drawdown at every point: ``equity / running_max(equity) - 1`` (always <= 0).

    Same index as ``equity``; 0 at every new high, -0.25 when 25 % below the previous peak.
    """
    values = equity.to_numpy(dtype=np.float64)
    peak = np.maximum.accumulate(values) if len(values) else values
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = values / peak - 1.0
    return pd.Series(dd, index=equity.index, name="drawdown")


def _num(value: object) -> float | None:
    """Plain Python float, or None for NaN/inf/None (keeps the result JSON-safe)."""
    if value is None:
        return None
    out = float(value)  # type: ignore[arg-type]
    return out if math.isfinite(out) else None


def _validate_equity(equity: pd.Series) -> np.ndarray:
    if not isinstance(equity, pd.Series):
        raise ConfigError(f"equity must be a pandas Series, got {type(equity).__name__}")
    if not isinstance(equity.index, pd.DatetimeIndex) or equity.index.tz is None:
        raise ConfigError(
            "equity must be indexed by a tz-aware (UTC) DatetimeIndex, "
            f"got {type(equity.index).__name__} (tz={getattr(equity.index, 'tz', None)})"
        )
    if len(equity) == 0:
        raise ConfigError("equity is empty; need at least one point")
    values = equity.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.argmax(bad))
        raise ConfigError(
            f"equity has {int(bad.sum())} NaN/inf values (first at {equity.index[first]}); "
            "expected finite floats"
        )
    if values[0] <= 0:
        raise ConfigError(f"equity must start positive, got initial equity {values[0]}")
    if len(values) > 1 and not bool(np.all(np.diff(equity.index.as_unit("ns").asi8) > 0)):
        raise ConfigError("equity index must be strictly increasing (sorted, no duplicates)")
    return values


def longest_underwater(values: np.ndarray, coords: np.ndarray) -> float:
    """Longest peak-to-recovery (or peak-to-end) span of ``values``, measured in ``coords``
    (timestamps, or positions for a count of periods); 0 if never under water. Vectorized.

    A point is "at peak" when it equals the running maximum. For every point after the first,
    the span since the last peak *before it* is a candidate whenever that point or the one
    before it is under water; the maximum candidate is the answer.
    """
    if len(values) < 2:
        return 0.0
    at_peak = values >= np.maximum.accumulate(values)
    positions = np.arange(len(values))
    last_peak = np.maximum.accumulate(np.where(at_peak, positions, 0))
    underwater_step = ~(at_peak[1:] & at_peak[:-1])
    if not underwater_step.any():
        return 0.0
    spans = coords[1:] - coords[last_peak[:-1]]
    return float(spans[underwater_step].max())


def _trade_metrics(trades: pd.DataFrame) -> Metrics:
    if not isinstance(trades, pd.DataFrame):
        raise ConfigError(f"trades must be a pandas DataFrame, got {type(trades).__name__}")
    missing = [c for c in TRADE_COLUMNS if c not in trades.columns]
    if missing:
        raise ConfigError(
            f"trades is missing columns {missing}; expected at least {list(TRADE_COLUMNS)}"
        )
    n = len(trades)
    if n == 0:
        return {
            "num_trades": 0,
            "win_rate": None,
            "profit_factor": None,
            "avg_trade_pnl": None,
            "best_trade_pnl": None,
            "worst_trade_pnl": None,
            "avg_trade_duration_hours": None,
            "total_fees": 0.0,
        }
    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    gross_profit = float(pnl[pnl > 0].sum())
    gross_loss = float(-pnl[pnl < 0].sum())
    held = pd.to_datetime(trades["exit_time"]) - pd.to_datetime(trades["entry_time"])
    hours = held.dt.total_seconds().to_numpy(dtype=np.float64) / 3600.0
    return {
        "num_trades": n,
        "win_rate": _num(np.mean(pnl > 0)),
        "profit_factor": _num(gross_profit / gross_loss) if gross_loss > 0 else None,
        "avg_trade_pnl": _num(np.mean(pnl)),
        "best_trade_pnl": _num(np.max(pnl)),
        "worst_trade_pnl": _num(np.min(pnl)),
        "avg_trade_duration_hours": _num(np.mean(hours)),
        "total_fees": _num(trades["fees"].to_numpy(dtype=np.float64).sum()),
    }


def basic_metrics(
    equity: pd.Series,
    trades: pd.DataFrame,
    *,
    periods_per_year: float | None = None,
    risk_free: float = 0.0,
) -> Metrics:
    """Summarise an equity curve and its closed trades in one flat, JSON-safe dict.

    ``equity``: finite floats on a strictly increasing tz-aware DatetimeIndex, first value > 0.
    ``trades``: closed round trips with at least ``pnl`` (net of fees), ``entry_time``,
    ``exit_time``, ``fees`` (may have 0 rows). ``periods_per_year`` defaults to
    :func:`periods_per_year` of the index; ``risk_free`` is an annual rate.

    Definitions (``r`` = simple per-bar returns, ``ppy`` = periods per year):

    - ``total_return`` = final / initial - 1;
      ``cagr`` = (final / initial) ** (1 / years) - 1 with years = (end - start) / 365.25 days
      (-1.0 if final <= 0; None for a zero-length curve);
    - ``volatility_ann`` = std(r, ddof=1) * sqrt(ppy);
    - ``sharpe`` = mean(r - rf_per_period) / std(r, ddof=1) * sqrt(ppy) (None if std is 0);
    - ``sortino`` = mean(r) * ppy / (sqrt(mean(min(r, 0) ** 2)) * sqrt(ppy)), empyrical's
      downside deviation with target 0, no risk-free adjustment (None without losing bars);
    - ``max_drawdown`` = min(equity / running_max - 1) (a negative fraction, 0 if none);
      ``max_drawdown_duration_days`` = the longest underwater period, from the peak to the
      recovery (first point back at the peak) or to the end of the data;
      ``calmar`` = cagr / |max_drawdown| (None without drawdown);
    - trades: ``win_rate`` = share of trades with pnl > 0 (None without trades);
      ``profit_factor`` = sum of winning pnl / |sum of losing pnl| (None without losers);
      ``avg/best/worst_trade_pnl``, ``avg_trade_duration_hours`` (exit - entry),
      ``total_fees`` (sum of ``fees``).
    """
    values = _validate_equity(equity)
    index = equity.index
    assert isinstance(index, pd.DatetimeIndex)
    ns = index.as_unit("ns").asi8
    n = len(values)

    if periods_per_year is not None:
        if not (math.isfinite(periods_per_year) and periods_per_year > 0):
            raise ConfigError(f"periods_per_year must be a positive number, got {periods_per_year}")
        ppy: float | None = float(periods_per_year)
    else:
        ppy = _infer_ppy(index) if n >= 2 else None
    if not math.isfinite(risk_free) or risk_free <= -1.0:
        raise ConfigError(f"risk_free must be an annual rate > -1, got {risk_free}")

    initial, final = float(values[0]), float(values[-1])
    duration_days = float(ns[-1] - ns[0]) / _NS_PER_DAY
    years = duration_days / _DAYS_PER_YEAR
    total_return = final / initial - 1.0
    cagr: float | None
    if years <= 0:
        cagr = None
    elif final <= 0:
        cagr = -1.0
    else:
        growth = math.log(final / initial) / years  # annualising minutes can overflow a power
        cagr = _num(math.expm1(growth)) if growth < 700 else None

    with np.errstate(divide="ignore", invalid="ignore"):
        returns = values[1:] / values[:-1] - 1.0
    returns = returns[np.isfinite(returns)]

    volatility: float | None = None
    sharpe: float | None = None
    sortino: float | None = None
    if ppy is not None and len(returns) >= 1:
        rf_per_period = (1.0 + risk_free) ** (1.0 / ppy) - 1.0
        mean = float(returns.mean())
        if len(returns) >= 2:
            std = float(returns.std(ddof=1))
            volatility = _num(std * math.sqrt(ppy))
            if std > 0:
                sharpe = _num((mean - rf_per_period) / std * math.sqrt(ppy))
        downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
        if downside > 0:
            sortino = _num(mean * ppy / (downside * math.sqrt(ppy)))

    dd = drawdown(equity).to_numpy()
    max_dd = float(dd.min())
    calmar = _num(cagr / abs(max_dd)) if cagr is not None and max_dd < 0 else None

    out: Metrics = {
        "start": index[0].isoformat(),
        "end": index[-1].isoformat(),
        "duration_days": duration_days,
        "initial_equity": initial,
        "final_equity": final,
        "total_return": _num(total_return),
        "cagr": cagr,
        "volatility_ann": volatility,
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown": max_dd if max_dd < 0 else 0.0,
        "max_drawdown_duration_days": longest_underwater(values, ns) / _NS_PER_DAY,
        "calmar": calmar,
    }
    out.update(_trade_metrics(trades))
    return out


# ``basic_metrics`` has a keyword argument named like the module-level function.
_infer_ppy = periods_per_year
