"""Vectorized backtests: entry/exit/size arrays over many columns, simulated by a compiled loop.

``simulate(bars, signals)`` runs one column per signal column (parameter grids broadcast), with
the simulated venue's fill, fee and slippage conventions (``kernel.py`` states them). Columns are
processed in chunks so memory stays bounded, in parallel threads; per-column metrics are
accumulated inside the loop, so a sweep never materialises per-bar objects. The equity curve and
the trade list are kept only for the columns asked for (``record``).

Accounting, shared with the event-driven engine (``tests/backtest/test_vector_parity.py``):
a long-only run is a cash account; signals with shorts use a margin account at leverage 1.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradewind.analytics.metrics import periods_per_year_ns
from tradewind.backtest.runner import as_bar_frame
from tradewind.backtest.vector import kernel as K  # noqa: N812  (K.name reads as a constant)
from tradewind.errors import ConfigError
from tradewind.timeutil import median_spacing_ns, utc_index

_NS_PER_DAY = 86_400_000_000_000
_REASONS = {
    K.EXIT_SIGNAL: "signal",
    K.EXIT_STOP: "stop_loss",
    K.EXIT_TARGET: "take_profit",
    K.EXIT_TRAIL: "trailing_stop",
    K.EXIT_LIQUIDATION: "liquidation",
    K.EXIT_REVERSE: "reverse",
}
METRIC_COLUMNS = (
    "final_equity",
    "total_return",
    "cagr",
    "volatility_ann",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_duration_days",
    "calmar",
    "trades",
    "win_rate",
    "profit_factor",
    "avg_trade_pnl",
    "total_fees",
    "exposure",
)
Progress = Callable[[int, int], None]
_FIELDS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class VectorConfig:
    """Costs and fill timing; the same meaning as ``BacktestConfig``'s fields of the same name."""

    cash: float = 100_000.0
    commission: float = 0.0  # fraction of notional per fill
    slippage_bps: float = 0.0  # taker fills (market and stop exits) only
    fill_at_close: bool = False  # market orders fill at the signal bar's close
    liquidation_fee: float = 0.0

    def validate(self) -> None:
        if not (math.isfinite(self.cash) and self.cash > 0):
            raise ConfigError(f"cash must be a positive number, got {self.cash}")
        if not (math.isfinite(self.commission) and 0 <= self.commission < 1):
            raise ConfigError(f"commission rate must be in [0, 1), got {self.commission}")
        if not (math.isfinite(self.slippage_bps) and self.slippage_bps >= 0):
            raise ConfigError(f"slippage bps must be >= 0, got {self.slippage_bps}")
        if not (math.isfinite(self.liquidation_fee) and self.liquidation_fee >= 0):
            raise ConfigError(f"liquidation_fee must be >= 0, got {self.liquidation_fee}")


@dataclass
class Signals:
    """What a vectorized strategy returns. Arrays are per bar, ``(n,)`` or ``(n, k)`` for k
    columns; a signal at bar t is acted on at the next open (or at t's close).

    ``size`` is the fraction of equity (at the signal bar's close) an entry spends, fees
    included: a scalar, ``(k,)`` per column, or per bar ``(n,)`` / ``(n, k)``. ``sl_stop``,
    ``tp_stop`` and ``trail_stop`` are fractions of the entry price (scalar or ``(k,)``; NaN or
    None = off). ``params`` labels the columns (one dict per column) in results.
    """

    entries: Any
    exits: Any = None
    short_entries: Any = None
    short_exits: Any = None
    size: Any = 1.0
    sl_stop: Any = None
    tp_stop: Any = None
    trail_stop: Any = None
    params: list[dict[str, Any]] | None = None

    @property
    def columns(self) -> int:
        e = np.asarray(self.entries)
        return 1 if e.ndim == 1 else int(e.shape[1])


@dataclass(frozen=True)
class _Record:
    """One recorded column's raw kernel output: its equity curve and trade rows."""

    column: int
    equity: np.ndarray
    t_int: np.ndarray
    t_flt: np.ndarray
    count: int  # closed trades; row ``count`` is the open position when ``has_open``
    has_open: bool


class VectorResult:
    """Per-column metrics, plus equity curves and trades of the recorded columns.

    ``equity``, ``trades`` and ``open_positions`` are built from the kernel's arrays on first
    access (like vectorbt's records): a run whose caller needs only the metrics never pays for
    20,000 trade rows of pandas objects.
    """

    def __init__(
        self,
        metrics: pd.DataFrame,
        settings: dict[str, Any],
        elapsed_s: float,
        samples: np.ndarray,
        bars: Bars,
        records: Sequence[_Record] = (),
    ) -> None:
        self.metrics = metrics  # one row per column; the params as leading columns
        self.settings = settings
        self.elapsed_s = elapsed_s
        self.samples = samples  # (columns, samples)
        self._bars = bars
        self._records = tuple(records)

    @functools.cached_property
    def equity(self) -> pd.DataFrame:
        """Per bar, one column (named by its number) per recorded column; empty if none."""
        if not self._records:
            return pd.DataFrame()
        cols = {str(r.column): r.equity for r in self._records}
        return pd.DataFrame(cols, index=utc_index(self._bars.ts))

    @functools.cached_property
    def trades(self) -> pd.DataFrame:
        """Closed round trips of the recorded columns."""
        parts = [_trades_frame(self._bars, r, 0, r.count) for r in self._records if r.count]
        return pd.concat(parts, ignore_index=True) if parts else _trades_frame_empty()

    @functools.cached_property
    def open_positions(self) -> pd.DataFrame:
        """The position each recorded column still holds at the end, marked at the last close."""
        parts = [
            _trades_frame(self._bars, r, r.count, r.count + 1) for r in self._records if r.has_open
        ]
        return pd.concat(parts, ignore_index=True) if parts else _trades_frame_empty()

    def summary(self, column: int = 0) -> dict[str, Any]:
        row = self.metrics.iloc[column]
        return {str(k): plain(v) for k, v in row.items()}


class Bars:
    """OHLCV arrays of one series plus a per-series indicator cache, shared by every parameter
    set of a sweep (a grid of 100 SMA pairs computes each SMA window once)."""

    def __init__(self, frame: pd.DataFrame, symbol: str = "data") -> None:
        df = as_bar_frame(symbol, frame)
        if len(df) < 2:
            raise ConfigError(f"{symbol}: need at least 2 bars, got {len(df)}")
        self.symbol = symbol
        self.ts = df["ts"].to_numpy(np.int64)
        self.open = np.ascontiguousarray(df["open"].to_numpy(np.float64))
        self.high = np.ascontiguousarray(df["high"].to_numpy(np.float64))
        self.low = np.ascontiguousarray(df["low"].to_numpy(np.float64))
        self.close = np.ascontiguousarray(df["close"].to_numpy(np.float64))
        self.volume = np.ascontiguousarray(df["volume"].to_numpy(np.float64))
        self._cache: dict[Any, Any] = {}
        self._ppy: float | None = None
        self._spacing: float | None = None

    def __len__(self) -> int:
        return len(self.close)

    def field(self, name: str) -> np.ndarray:
        if name not in _FIELDS:
            raise ConfigError(f"no field {name!r}; bars have open, high, low, close, volume")
        arr: np.ndarray = getattr(self, name)
        return arr

    def ind(self, func: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """``func(*args, **kw)`` with field names in ``args`` replaced by the arrays, memoised."""
        key = (func, args, tuple(sorted(kw.items())))
        hit = self._cache.get(key)
        if hit is None:
            real = [self.field(a) if isinstance(a, str) else a for a in args]
            hit = self._cache[key] = func(*real, **kw)
        return hit

    def slice(self, start: int, stop: int) -> Bars:
        """Bars ``[start, stop)`` (a walk-forward window) with a fresh cache."""
        return Bars(self.frame(start, stop), self.symbol)

    @property
    def spacing_ns(self) -> float:
        """The median bar spacing (what durations in bars are converted with)."""
        if self._spacing is None:
            self._spacing = median_spacing_ns(self.ts)
        return self._spacing

    @property
    def ppy(self) -> float:
        if self._ppy is None:
            self._ppy = periods_per_year_ns(self.ts)
        return self._ppy

    def frame(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """Bars ``[start, stop)`` as a ``ts`` + OHLCV frame."""
        return pd.DataFrame(
            {"ts": self.ts[start:stop], **{f: getattr(self, f)[start:stop] for f in _FIELDS}}
        )


def plain(v: Any) -> Any:
    """A numpy scalar as a JSON-safe Python value (non-finite floats become None)."""
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating | float):
        f = float(v)
        return f if math.isfinite(f) else None
    return v


def _bool2d(a: Any, n: int, k: int, name: str) -> np.ndarray:
    if a is None:
        return np.zeros((n, k), dtype=np.bool_)
    arr = np.asarray(a)
    if arr.dtype != np.bool_:
        if arr.dtype.kind not in "biuf":
            raise ConfigError(f"{name} must be booleans, got dtype {arr.dtype}")
        arr = arr.astype(np.bool_)  # NaN-free numbers: nonzero is a signal
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] not in (1, k):
        raise ConfigError(f"{name} must have shape ({n},) or ({n}, {k}), got {arr.shape}")
    return np.broadcast_to(arr, (n, k))


def _size2d(a: Any, n: int, k: int) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise ConfigError("size must be fractions of equity in [0, 1]")
    if arr.ndim == 0:
        return np.broadcast_to(arr, (n, k))
    if arr.ndim == 1 and arr.shape[0] == k and k != n:
        return np.broadcast_to(arr[None, :], (n, k))
    if arr.ndim == 1 and arr.shape[0] == n:
        return np.broadcast_to(arr[:, None], (n, k))
    if arr.ndim == 2 and arr.shape[0] == n and arr.shape[1] in (1, k):
        return np.broadcast_to(arr, (n, k))
    raise ConfigError(f"size must be a scalar, ({k},), ({n},) or ({n}, {k}); got {arr.shape}")


def _per_column(a: Any, k: int, name: str, *, stop: bool = False) -> np.ndarray:
    arr = np.full(k, np.nan) if a is None else np.asarray(a, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(k, float(arr))
    if arr.shape != (k,):
        raise ConfigError(f"{name} must be a scalar or one value per column ({k}), got {arr.shape}")
    finite = arr[np.isfinite(arr)]
    if np.any(np.isinf(arr)) or np.any(finite < 0) or (stop and np.any(finite <= 0)):
        raise ConfigError(f"{name} must be {'> 0' if stop else '>= 0'} (NaN = off), got {arr}")
    if stop and np.any(finite >= 1) and name != "tp_stop":
        raise ConfigError(f"{name} is a fraction of the entry price and must be < 1, got {arr}")
    return np.ascontiguousarray(arr)


def simulate(
    bars: Bars | pd.DataFrame,
    signals: Signals,
    config: VectorConfig | None = None,
    *,
    record: bool | Sequence[int] | None = None,
    chunk_columns: int = 64,
    sample_every: int = 0,
    progress: Progress | None = None,
) -> VectorResult:
    """Simulate every signal column over ``bars``.

    ``record``: which columns keep an equity curve and trades (default: all when there is one
    column, none otherwise — a sweep only needs the metrics). ``chunk_columns`` bounds memory:
    signal arrays are converted and simulated that many columns at a time. ``sample_every``:
    also keep every column's equity at every that-many bars (``VectorResult.samples``, one row
    per column) — period returns for overfitting statistics at a fraction of the curve's size.
    """
    t0 = time.perf_counter()
    cfg = config or VectorConfig()
    cfg.validate()
    b = bars if isinstance(bars, Bars) else Bars(bars)
    n = len(b)
    k = signals.columns
    if chunk_columns < 1:
        raise ConfigError(f"chunk_columns must be >= 1, got {chunk_columns}")
    le = _bool2d(signals.entries, n, k, "entries")
    lx = _bool2d(signals.exits, n, k, "exits")
    se = _bool2d(signals.short_entries, n, k, "short_entries")
    sx = _bool2d(signals.short_exits, n, k, "short_exits")
    size = _size2d(signals.size, n, k)
    sl = _per_column(signals.sl_stop, k, "sl_stop", stop=True)
    tp = _per_column(signals.tp_stop, k, "tp_stop", stop=True)
    tr = _per_column(signals.trail_stop, k, "trail_stop", stop=True)
    fee = np.full(k, cfg.commission)
    bps = np.full(k, cfg.slippage_bps)
    margin = signals.short_entries is not None
    params = signals.params or [{"column": j} for j in range(k)]
    if len(params) != k:
        raise ConfigError(f"params labels {len(params)} columns, signals have {k}")
    if record is None:
        rec = list(range(k)) if k == 1 else []
    elif record is True:
        rec = list(range(k))
    elif record is False:
        rec = []
    else:
        rec = sorted({int(j) for j in record})
        if rec and (rec[0] < 0 or rec[-1] >= k):
            raise ConfigError(f"record names columns outside 0..{k - 1}: {rec}")

    if sample_every < 0:
        raise ConfigError(f"sample_every must be >= 0, got {sample_every}")
    n_samples = -(-n // sample_every) if sample_every else 0
    samples = np.zeros((k, n_samples))
    acc = np.zeros((k, K.N_ACC))
    sweep = np.setdiff1d(np.arange(k), rec)  # recorded columns run once, on the record path
    for start in range(0, len(sweep), chunk_columns):
        cols = sweep[start : start + chunk_columns]
        # consecutive columns: a view (a Fortran-ordered input is then not copied at all);
        # the kernel takes any memory layout, so a broadcast size is never expanded
        sel: slice | np.ndarray = (
            slice(cols[0], cols[-1] + 1) if cols[-1] - cols[0] == len(cols) - 1 else cols
        )
        part = np.zeros((len(cols), K.N_ACC))
        part_s = np.zeros((len(cols), n_samples))
        K.simulate_columns(
            b.ts, b.open, b.high, b.low, b.close,
            np.asfortranarray(le[:, sel]), np.asfortranarray(lx[:, sel]),
            np.asfortranarray(se[:, sel]), np.asfortranarray(sx[:, sel]),
            size[:, sel], cfg.cash, fee[cols], bps[cols], sl[cols],
            tp[cols], tr[cols], cfg.fill_at_close, margin, cfg.liquidation_fee, part, part_s,
            sample_every,
        )  # fmt: skip
        acc[cols] = part
        samples[cols] = part_s
        if progress is not None:
            progress(start + len(cols), k)

    records: list[_Record] = []
    for j in rec:
        cap = int(np.count_nonzero(le[:, j]) + np.count_nonzero(se[:, j])) + 1
        t_int = np.empty((cap, K.N_TI), np.int64)
        t_flt = np.empty((cap, K.N_TF))
        eq = np.empty(n)
        count = K.simulate_column(
            b.ts, b.open, b.high, b.low, b.close,
            np.ascontiguousarray(le[:, j]), np.ascontiguousarray(lx[:, j]),
            np.ascontiguousarray(se[:, j]), np.ascontiguousarray(sx[:, j]),
            np.ascontiguousarray(size[:, j]), cfg.cash, fee[j], bps[j], sl[j], tp[j], tr[j],
            cfg.fill_at_close, margin, cfg.liquidation_fee, acc[j], eq, True, t_int, t_flt, True,
            samples[j], sample_every,
        )  # fmt: skip
        records.append(_Record(j, eq, t_int, t_flt, int(count), bool(acc[j, K.A_OPEN] != 0)))
        if progress is not None and not len(sweep):
            progress(j + 1, k)

    metrics = _finish_metrics(acc, b, cfg.cash)
    labels = pd.DataFrame(params)
    metrics = pd.concat([labels.reset_index(drop=True), metrics], axis=1)
    settings = {
        **asdict(cfg),
        "engine": "vectorized",
        "bars": n,
        "columns": k,
        "account": "margin (leverage 1)" if margin else "cash",
        "market_orders_fill_at": "this bar's close" if cfg.fill_at_close else "next bar's open",
        "intrabar_path": "open -> nearer extreme -> farther extreme -> close",
        "stop_vs_target_same_bar": "stop (conservative)",
        "stops_work_from": "the bar after the entry",
        "sizing": "size x equity at the signal bar's close, fees included, at most the cash",
    }
    return VectorResult(metrics, settings, time.perf_counter() - t0, samples, b, records)


def _finish_metrics(acc: np.ndarray, b: Bars, cash: float) -> pd.DataFrame:
    """Turn the kernel's accumulators into the metrics of ``analytics.basic_metrics``."""
    first, final = acc[:, K.A_FIRST], acc[:, K.A_FINAL]
    nret = acc[:, K.A_NRET]
    ppy = b.ppy
    days = float(b.ts[-1] - b.ts[0]) / _NS_PER_DAY
    years = days / 365.25
    with np.errstate(divide="ignore", invalid="ignore"):
        total = final / first - 1.0
        growth = np.log(final / first) / years if years > 0 else np.full(len(acc), np.nan)
        cagr = np.where(final <= 0, -1.0, np.expm1(np.where(growth < 700, growth, np.nan)))
        std = np.sqrt(acc[:, K.A_M2] / (nret - 1))
        std = np.where(nret >= 2, std, np.nan)
        mean = acc[:, K.A_MEAN]
        sharpe = np.where(std > 0, mean / std * math.sqrt(ppy), np.nan)
        downside = np.sqrt(acc[:, K.A_DOWN] / nret)
        sortino = np.where(downside > 0, mean * ppy / (downside * math.sqrt(ppy)), np.nan)
        maxdd = acc[:, K.A_MAXDD]
        calmar = np.where(maxdd < 0, cagr / np.abs(maxdd), np.nan)
        trades = acc[:, K.A_TRADES]
        win_rate = np.where(trades > 0, acc[:, K.A_WINS] / trades, np.nan)
        pf = np.where(
            acc[:, K.A_GROSS_LOSS] > 0, acc[:, K.A_GROSS_WIN] / acc[:, K.A_GROSS_LOSS], np.nan
        )
        avg = np.where(trades > 0, acc[:, K.A_PNL] / trades, np.nan)
    spacing = b.spacing_ns
    return pd.DataFrame(
        {
            "final_equity": final,
            "total_return": total,
            "cagr": cagr,
            "volatility_ann": std * math.sqrt(ppy),
            "sharpe": sharpe,
            "sortino": sortino,
            "max_drawdown": maxdd,
            "max_drawdown_duration_days": acc[:, K.A_UNDERWATER] * spacing / _NS_PER_DAY,
            "calmar": calmar,
            "trades": trades.astype(np.int64),
            "win_rate": win_rate,
            "profit_factor": pf,
            "avg_trade_pnl": avg,
            "total_fees": acc[:, K.A_FEES],
            "exposure": acc[:, K.A_EXPOSED] / len(b),
        }
    )


def _trades_frame_empty() -> pd.DataFrame:
    return _EMPTY_TRADES().copy()


@functools.cache
def _EMPTY_TRADES() -> pd.DataFrame:  # noqa: N802  (a constant, built on first use)
    cols = {
        "column": pd.Series(dtype=np.int64),
        "side": pd.Series(dtype=object),
        "quantity": pd.Series(dtype=float),
        "entry_time": pd.Series(dtype="datetime64[ns, UTC]"),
        "entry_price": pd.Series(dtype=float),
        "exit_time": pd.Series(dtype="datetime64[ns, UTC]"),
        "exit_price": pd.Series(dtype=float),
        "pnl": pd.Series(dtype=float),
        "return_pct": pd.Series(dtype=float),
        "fees": pd.Series(dtype=float),
        "exit_reason": pd.Series(dtype=object),
    }
    return pd.DataFrame(cols)


_REASON_NAMES = np.array([*(_REASONS[code] for code in sorted(_REASONS)), "open"], dtype=object)


def _trades_frame(b: Bars, r: _Record, start: int, stop: int) -> pd.DataFrame:
    """Rows ``[start, stop)`` of a recorded column's trades as a frame."""
    ti, tf = r.t_int[start:stop], r.t_flt[start:stop]
    q = tf[:, K.T_QTY]
    exit_idx = ti[:, K.T_EXIT_IDX]
    exit_time: pd.Index = utc_index(b.ts[np.maximum(exit_idx, 0)])
    if np.any(exit_idx < 0):  # still open: no exit time
        exit_time = exit_time.where(exit_idx >= 0)
    reason = ti[:, K.T_REASON]
    return pd.DataFrame(
        {
            "column": np.full(len(ti), r.column, np.int64),
            "side": np.where(ti[:, K.T_SIDE] > 0, "long", "short").astype(object),
            "quantity": q,
            "entry_time": utc_index(b.ts[ti[:, K.T_ENTRY_IDX]]),
            "entry_price": tf[:, K.T_ENTRY_PX],
            "exit_time": exit_time,
            "exit_price": tf[:, K.T_EXIT_PX],
            "pnl": tf[:, K.T_PNL],
            "return_pct": tf[:, K.T_RET],
            "fees": (0.0 + tf[:, K.T_ENTRY_FEE] * q / q) + tf[:, K.T_EXIT_FEE] * q / q,
            "exit_reason": _REASON_NAMES[np.where(reason >= 0, reason, len(_REASON_NAMES) - 1)],
        }
    )
