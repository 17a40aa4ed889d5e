"""Tear-sheet sections of the HTML report, and rebuilding a report from a run's JSON.

Every return chart is computed from the **daily** equity: the last equity value of each UTC
day (:func:`daily_equity`), so a run of millions of minute bars gives a few thousand points
and renders fast. The sections:

- equity vs benchmark (only with a benchmark: prices or equity, rebased to the starting
  equity and sampled like the equity, last value per UTC day);
- monthly returns heatmap: year × month of compounded monthly returns
  (:func:`monthly_returns`);
- distribution of daily returns (histogram);
- rolling Sharpe ratio over :data:`ROLLING_WINDOW` daily returns, annualised with
  :func:`~tradewind.analytics.metrics.periods_per_year` of the daily index (365.25 for 24/7
  data, 252 for a trading calendar);
- trade analysis: histograms of trade PnL and trade duration (hours), and a MAE vs MFE
  scatter (one point per trade; only when the trades have ``mae``/``mfe`` columns).

Histograms are binned here (numpy), so the page holds bin counts, not every value.

:func:`load_run` reads the JSON written by ``BacktestResult.to_json`` (``tradewind backtest
--json``) into a :class:`RunData`; :func:`render_run` renders its tear sheet (no candles: the
JSON has no bars).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from tradewind.analytics.metrics import periods_per_year
from tradewind.analytics.rolling import rolling_sharpe
from tradewind.backtest.report import (
    TRADE_COLUMNS,
    _div,
    _even_subsample,
    _iso,
    _utc_ns,
    render_report,
)
from tradewind.errors import DataError

__all__ = [
    "MAX_SCATTER_POINTS",
    "METRIC_GROUPS",
    "ROLLING_WINDOW",
    "RunData",
    "daily_equity",
    "daily_returns",
    "group_metrics",
    "histogram",
    "load_benchmark",
    "load_run",
    "monthly_returns",
    "rebase_benchmark",
    "render_run",
    "tearsheet_sections",
]

NS_PER_DAY = 86_400 * 1_000_000_000
#: Rolling Sharpe window, in daily returns (about three months of trading days).
ROLLING_WINDOW = 63
#: At most this many points in the MAE/MFE scatter (evenly thinned beyond, with a note).
MAX_SCATTER_POINTS = 20_000
#: Bins of the histograms.
HIST_BINS = 40
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 20, "b": 40}}

#: Metric groups of the tear sheet's metrics table; keys not listed go to "Other".
METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "Returns": (
        "start",
        "end",
        "duration_days",
        "initial_equity",
        "final_equity",
        "total_return",
        "cagr",
        "annual_return",
        "realized_pnl",
        "stability",
        "alpha",
        "beta",
        "information_ratio",
        "periods_per_year",
        "num_periods",
    ),
    "Risk": (
        "volatility_ann",
        "annual_volatility",
        "downside_risk",
        "sharpe",
        "sortino",
        "calmar",
        "omega",
        "max_drawdown",
        "max_drawdown_duration_days",
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
    ),
    "Trades": (
        "num_trades",
        "win_rate",
        "profit_factor",
        "avg_trade_pnl",
        "best_trade_pnl",
        "worst_trade_pnl",
        "avg_trade_return",
        "avg_trade_duration_hours",
        "avg_win",
        "avg_loss",
        "payoff_ratio",
        "expectancy",
        "sqn",
        "kelly_fraction",
        "exposure_pct",
        "exposure_time",
        "turnover",
        "total_fees",
    ),
}


def group_metrics(metrics: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """Split a flat metrics dict into :data:`METRIC_GROUPS` order (+ "Other"); empty groups
    are left out."""
    out: dict[str, dict[str, object]] = {}
    listed: set[str] = set()
    for group, keys in METRIC_GROUPS.items():
        listed.update(keys)
        rows = {k: metrics[k] for k in keys if k in metrics}
        if rows:
            out[group] = rows
    other = {str(k): v for k, v in metrics.items() if str(k) not in listed}
    if other:
        out["Other"] = other
    return out


# --------------------------------------------------------------------------- computations


def _empty_daily() -> pd.Series:
    return pd.Series([], dtype=np.float64, index=pd.DatetimeIndex([], tz="UTC"), name="equity")


def daily_equity(equity: pd.Series) -> pd.Series:
    """Last equity value of each UTC day, indexed by the day (midnight UTC), vectorized.

    A naive index is taken as UTC; an unsorted index is sorted first.
    """
    if len(equity) == 0:
        return _empty_daily()
    ns = _utc_ns(equity.index)
    values = equity.to_numpy(dtype=np.float64)
    if len(ns) > 1 and bool((np.diff(ns) < 0).any()):
        order = np.argsort(ns, kind="stable")
        ns, values = ns[order], values[order]
    day = ns // NS_PER_DAY
    last = np.flatnonzero(np.append(day[1:] != day[:-1], True))
    index = pd.DatetimeIndex(pd.to_datetime(day[last] * NS_PER_DAY, utc=True)).as_unit("ns")
    return pd.Series(values[last], index=index, name="equity")


def daily_returns(daily: pd.Series, initial: float | None = None) -> pd.Series:
    """Simple returns of the daily equity; the first day against ``initial`` (the starting
    equity) when given, else it has no return. Non-finite returns are dropped."""
    values = daily.to_numpy(dtype=np.float64)
    if len(values) == 0:
        return pd.Series([], dtype=np.float64, index=daily.index, name="return")
    first = np.nan if initial is None else float(initial)
    base = np.concatenate([[first], values[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = values / base - 1.0
    finite = np.isfinite(r)
    return pd.Series(r[finite], index=daily.index[finite], name="return")


def monthly_returns(daily: pd.Series, initial: float | None = None) -> pd.DataFrame:
    """Compounded monthly returns as a year × month table (columns 1..12, NaN = no data).

    Each month's return is its last equity over the previous month's last equity, minus 1;
    the first month is measured against ``initial`` (default: the first daily value).
    """
    if len(daily) == 0:
        return pd.DataFrame(columns=list(range(1, 13)), dtype=np.float64)
    idx = pd.DatetimeIndex(daily.index)
    month_end = daily.groupby([idx.year, idx.month]).last()
    values = month_end.to_numpy(dtype=np.float64)
    first = float(daily.iloc[0]) if initial is None else float(initial)
    base = np.concatenate([[first], values[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = values / base - 1.0
    r[~np.isfinite(r)] = np.nan
    years = [int(y) for y, _ in month_end.index]
    months = [int(m) for _, m in month_end.index]
    table = pd.DataFrame(
        np.nan, index=pd.Index(sorted(set(years)), name="year"), columns=list(range(1, 13))
    )
    for y, m, v in zip(years, months, r, strict=True):
        table.loc[y, m] = v
    return table


def histogram(
    values: np.ndarray, bins: int = HIST_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bin centres, counts, bin widths) of the finite values; empty arrays for no values."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.empty(0), np.empty(0, dtype=np.int64), np.empty(0)
    lo, hi = float(v.min()), float(v.max())
    if hi - lo <= 1e-9 * max(abs(lo), abs(hi)):  # equal up to rounding (e.g. reshuffled trades)
        pad = max(abs(lo) * 1e-3, 1e-9)
        lo, hi = lo - pad, hi + pad
    counts, edges = np.histogram(v, bins=min(bins, max(1, len(v))), range=(lo, hi))
    return (edges[:-1] + edges[1:]) / 2, counts, np.diff(edges)


def rebase_benchmark(benchmark: pd.Series, daily: pd.Series, initial: float) -> pd.Series:
    """Benchmark prices/equity sampled per UTC day and scaled so its value on the equity's
    first day equals ``initial``; restricted to the equity's days (NaN where it has none)."""
    bench = daily_equity(benchmark.astype(np.float64).dropna())
    aligned = bench.reindex(daily.index, method="ffill")
    valid = aligned.dropna()
    valid = valid[valid.to_numpy() != 0]
    if len(valid) == 0:
        return pd.Series(np.nan, index=daily.index, name="benchmark")
    scaled: pd.Series = aligned * (float(initial) / float(valid.iloc[0]))
    return scaled


# --------------------------------------------------------------------------- figures


def _section(title: str, body: str, note: str = "", sid: str = "") -> str:
    note_html = f'<p class="note">{html.escape(note)}</p>' if note else ""
    id_attr = f' id="{sid}"' if sid else ""
    return f"<section{id_attr}><h2>{html.escape(title)}</h2>{body}{note_html}</section>"


def _day_iso(index: pd.Index) -> list[str]:
    return _iso(_utc_ns(index))


def _benchmark_figure(daily: pd.Series, rebased: pd.Series) -> go.Figure:
    fig = go.Figure()
    x = _day_iso(daily.index)
    fig.add_trace(
        go.Scatter(x=x, y=daily.to_numpy(), mode="lines", name="Equity", line={"color": "#2563eb"})
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=rebased.to_numpy(dtype=np.float64),
            mode="lines",
            name="Benchmark (rebased)",
            line={"color": "#6b7280", "dash": "dot"},
        )
    )
    fig.update_layout(
        height=420,
        hovermode="x unified",
        legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"},
        yaxis_title="Equity",
        **_LAYOUT,
    )
    return fig


def _monthly_figure(table: pd.DataFrame) -> go.Figure:
    z = table.to_numpy(dtype=np.float64) * 100.0
    text = [[("" if not math.isfinite(v) else f"{v:.1f}%") for v in row] for row in z]
    lim = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(_MONTHS),
            y=[str(y) for y in table.index],
            text=text,
            texttemplate="%{text}",
            colorscale="RdYlGn",
            zmid=0.0,
            zmin=-lim,
            zmax=lim,
            name="Monthly return %",
            hovertemplate="%{y} %{x}: %{z:.2f}%<extra></extra>",
            colorbar={"ticksuffix": " %"},
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(height=max(220, 60 + 32 * len(table)), **_LAYOUT)
    return fig


def _hist_figure(values: np.ndarray, name: str, x_title: str, color: str) -> go.Figure:
    centres, counts, widths = histogram(values)
    fig = go.Figure(go.Bar(x=centres, y=counts, width=widths, name=name, marker={"color": color}))
    fig.update_layout(height=320, bargap=0.02, xaxis_title=x_title, yaxis_title="Count", **_LAYOUT)
    return fig


def _rolling_figure(sharpe: pd.Series) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=_day_iso(sharpe.index),
            y=sharpe.to_numpy(dtype=np.float64),
            mode="lines",
            name="Rolling Sharpe",
            line={"color": "#7c3aed", "width": 1.5},
        )
    )
    fig.add_hline(y=0.0, line={"color": "#9ca3af", "width": 1})
    fig.update_layout(height=320, yaxis_title="Sharpe (ann.)", **_LAYOUT)
    return fig


def _mae_mfe_figure(trades: pd.DataFrame) -> tuple[go.Figure, str]:
    mae = trades["mae"].to_numpy(dtype=np.float64) * 100.0
    mfe = trades["mfe"].to_numpy(dtype=np.float64) * 100.0
    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    ok = np.flatnonzero(np.isfinite(mae) & np.isfinite(mfe))
    keep = ok[_even_subsample(len(ok), MAX_SCATTER_POINTS)]
    fig = go.Figure(
        go.Scatter(
            x=mae[keep],
            y=mfe[keep],
            mode="markers",
            name="Trades",
            marker={
                "size": 6,
                "opacity": 0.7,
                "color": np.where(pnl[keep] > 0, "#16a34a", "#dc2626").tolist(),
            },
            hovertemplate="MAE %{x:.2f}% · MFE %{y:.2f}%<extra></extra>",
        )
    )
    fig.update_layout(
        height=320, xaxis_title="MAE %", yaxis_title="MFE %", showlegend=False, **_LAYOUT
    )
    notes = []
    if len(ok) < len(trades):
        notes.append(f"{len(trades) - len(ok):,} trade(s) without excursion data left out.")
    if len(keep) < len(ok):
        notes.append(f"{len(ok):,} trades shown as {len(keep):,} evenly spaced points.")
    notes.append("Green: winning trade, red: losing trade.")
    return fig, " ".join(notes)


def tearsheet_sections(
    daily: pd.Series,
    trades: pd.DataFrame,
    *,
    initial: float | None = None,
    benchmark: pd.Series | None = None,
) -> list[str]:
    """HTML ``<section>``s of the tear sheet (see the module docstring), in page order."""
    parts: list[str] = []
    start = float(daily.iloc[0]) if initial is None and len(daily) else initial
    if benchmark is not None and len(daily):
        rebased = rebase_benchmark(benchmark, daily, float(start))  # type: ignore[arg-type]
        parts.append(
            _section(
                "Equity vs benchmark",
                _div(_benchmark_figure(daily, rebased), "tw-benchmark"),
                "Daily (last value per UTC day); the benchmark is rebased to the starting equity.",
            )
        )
    returns = daily_returns(daily, start)
    if len(daily):
        table = monthly_returns(daily, start)
        monthly = _section(
            "Monthly returns",
            _div(_monthly_figure(table), "tw-monthly"),
            "Compounded return of each calendar month (UTC), from month-end equity.",
        )
    else:
        monthly = _section("Monthly returns", '<p class="note">No equity data.</p>')
    dist = _section(
        "Distribution of daily returns",
        _div(
            _hist_figure(returns.to_numpy() * 100.0, "Daily returns", "Daily return %", "#2563eb"),
            "tw-return-dist",
        )
        if len(returns)
        else '<p class="note">No daily returns.</p>',
        f"{len(returns):,} daily returns." if len(returns) else "",
    )
    parts.append(monthly)

    if len(returns) >= ROLLING_WINDOW and len(daily) >= 2:
        ppy = periods_per_year(pd.DatetimeIndex(daily.index))
        sharpe = rolling_sharpe(returns, ROLLING_WINDOW, ppy)
        assert isinstance(sharpe, pd.Series)
        rolling = _section(
            "Rolling Sharpe",
            _div(_rolling_figure(sharpe), "tw-rolling-sharpe"),
            f"Trailing {ROLLING_WINDOW} daily returns, annualised with {ppy:g} days per year.",
        )
    else:
        rolling = _section(
            "Rolling Sharpe",
            f'<p class="note">Needs at least {ROLLING_WINDOW} daily returns, '
            f"got {len(returns):,}.</p>",
        )
    parts.append(f'<div class="cols2">{dist}{rolling}</div><br>')

    trade_parts: list[str] = []
    if len(trades):
        pnl = trades["pnl"].to_numpy(dtype=np.float64)
        trade_parts.append(
            _section(
                "Trade PnL",
                _div(_hist_figure(pnl, "Trade PnL", "PnL", "#0891b2"), "tw-trade-pnl"),
            )
        )
        entry = _utc_ns(trades["entry_time"]).astype(np.float64)
        exit_ = _utc_ns(trades["exit_time"]).astype(np.float64)
        hours = (exit_ - entry) / 3.6e12
        trade_parts.append(
            _section(
                "Trade duration",
                _div(
                    _hist_figure(hours, "Trade duration", "Hours", "#ca8a04"),
                    "tw-trade-duration",
                ),
            )
        )
        if "mae" in trades.columns and "mfe" in trades.columns:
            fig, note = _mae_mfe_figure(trades)
            trade_parts.append(_section("MAE vs MFE", _div(fig, "tw-mae-mfe"), note))
        cols = "cols3" if len(trade_parts) == 3 else "cols2"
        body = f'<div class="{cols}">{"".join(trade_parts)}</div>'
    else:
        body = '<p class="note">No closed trades.</p>'
    parts.append(f'<section id="trade-analysis"><h2>Trade analysis</h2>{body}</section>')
    return parts


# --------------------------------------------------------------------------- run JSON


@dataclass
class RunData:
    """What a tear sheet needs from a run, as read from its JSON by :func:`load_run`."""

    equity_daily: pd.Series
    trades: pd.DataFrame
    metrics: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    strategy: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def initial_equity(self) -> float | None:
        """Starting equity: ``metrics.initial_equity``, else ``settings.cash``, else None."""
        for value in (self.metrics.get("initial_equity"), self.settings.get("cash")):
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if math.isfinite(value) and value > 0:
                return float(value)
        return None


_RUN_KEYS = ("strategy", "params", "settings", "metrics", "trades", "equity_daily")


def load_run(path: str | Path) -> RunData:
    """Read a run JSON written by ``BacktestResult.to_json``; :class:`DataError` naming the
    file and the problem when it is missing, not JSON, or lacks keys."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"run file {str(p)!r} does not exist")
    if p.is_dir():
        raise DataError(f"run file {str(p)!r} is a directory")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DataError(f"run file {str(p)!r} is not UTF-8 text: {exc}") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"run file {str(p)!r} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise DataError(f"run file {str(p)!r}: expected a JSON object, got {type(doc).__name__}")
    missing = [k for k in _RUN_KEYS if k not in doc]
    if missing:
        raise DataError(
            f"run file {str(p)!r} is missing key(s) {missing}; expected the JSON of "
            "`tradewind backtest --json`"
        )
    for key in ("params", "settings", "metrics", "equity_daily"):
        if not isinstance(doc[key], dict):
            raise DataError(f"run file {str(p)!r}: {key!r} must be an object")
    if not isinstance(doc["trades"], list):
        raise DataError(f"run file {str(p)!r}: 'trades' must be a list")
    return RunData(
        equity_daily=_parse_equity_daily(doc["equity_daily"], p),
        trades=_parse_trades(doc["trades"], p),
        metrics=dict(doc["metrics"]),
        settings=dict(doc["settings"]),
        strategy=str(doc["strategy"]),
        params=dict(doc["params"]),
    )


def _parse_equity_daily(obj: dict[str, Any], p: Path) -> pd.Series:
    where = f"run file {str(p)!r}: equity_daily"
    if "date" not in obj or "equity" not in obj:
        raise DataError(f"{where} needs the keys 'date' and 'equity'")
    dates, values = obj["date"], obj["equity"]
    if not isinstance(dates, list) or not isinstance(values, list):
        raise DataError(f"{where}: 'date' and 'equity' must be lists")
    if len(dates) != len(values):
        raise DataError(f"{where}: {len(dates)} dates but {len(values)} equity values")
    try:
        index = pd.DatetimeIndex(pd.to_datetime(dates, utc=True)).as_unit("ns")
    except (ValueError, TypeError) as exc:
        raise DataError(f"{where}: bad date: {exc}") from None
    try:
        arr = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{where}: equity values must be numbers: {exc}") from None
    if len(arr) and not np.isfinite(arr).all():
        raise DataError(f"{where}: equity values must be finite numbers")
    if len(index) > 1 and not bool((np.diff(index.asi8) > 0).all()):
        raise DataError(f"{where}: dates must be strictly increasing")
    return pd.Series(arr, index=index, name="equity")


def _parse_trades(rows: list[Any], p: Path) -> pd.DataFrame:
    where = f"run file {str(p)!r}: trades"
    if not all(isinstance(r, dict) for r in rows):
        raise DataError(f"{where} must be a list of objects")
    frame = pd.DataFrame.from_records(rows)
    if len(rows) == 0:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in TRADE_COLUMNS})
    missing = [c for c in TRADE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{where} are missing column(s) {missing}")
    try:
        for col in ("entry_time", "exit_time"):
            frame[col] = pd.to_datetime(frame[col], utc=True).dt.as_unit("ns")
        for col in ("quantity", "entry_price", "exit_price", "pnl", "return_pct", "fees"):
            frame[col] = pd.to_numeric(frame[col].astype(object).where(frame[col].notna()))
            frame[col] = frame[col].astype(np.float64)
        for col in ("mae", "mfe"):
            if col in frame.columns:
                frame[col] = frame[col].astype(object).where(frame[col].notna())
                frame[col] = pd.to_numeric(frame[col]).astype(np.float64)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{where}: bad value: {exc}") from None
    frame["instrument"] = frame["instrument"].astype(str)
    frame["side"] = frame["side"].astype(str)
    return frame


def load_benchmark(path: str | Path) -> pd.Series:
    """A benchmark price series from a CSV: a time column (``ts``/``timestamp``/``time``/
    ``date``/``datetime``, else the first column) and a price column (``close``/``price``/
    ``equity``/``value``, else the only other column). Integer times are epoch s/ms/us/ns
    (guessed by magnitude). :class:`DataError` when the file cannot be read as such."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"benchmark file {str(p)!r} does not exist")
    try:
        frame = pd.read_csv(p)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"benchmark file {str(p)!r} is not a readable CSV: {exc}") from None
    cols = {str(c).strip().lower(): c for c in frame.columns}
    time_col = next(
        (cols[c] for c in ("ts", "timestamp", "time", "date", "datetime") if c in cols),
        frame.columns[0] if len(frame.columns) else None,
    )
    price_col = next((cols[c] for c in ("close", "price", "equity", "value") if c in cols), None)
    if price_col is None and len(frame.columns) == 2:
        price_col = frame.columns[1] if frame.columns[0] == time_col else frame.columns[0]
    if time_col is None or price_col is None:
        raise DataError(
            f"benchmark file {str(p)!r} needs a time column and a close/price column, "
            f"got columns {list(map(str, frame.columns))}"
        )
    if len(frame) < 2:
        raise DataError(f"benchmark file {str(p)!r} needs at least 2 rows, got {len(frame)}")
    raw = frame[time_col]
    try:
        if pd.api.types.is_numeric_dtype(raw):
            ints = raw.to_numpy(dtype=np.int64)
            mag = float(np.abs(ints).max())
            scale = 1 if mag > 1e17 else 1_000 if mag > 1e14 else 10**6 if mag > 1e11 else 10**9
            times = pd.DatetimeIndex(pd.to_datetime(ints * scale, utc=True))
        else:
            times = pd.DatetimeIndex(pd.to_datetime(raw, utc=True, format="mixed"))
        prices = pd.to_numeric(frame[price_col]).to_numpy(dtype=np.float64)
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataError(f"benchmark file {str(p)!r}: bad value: {exc}") from None
    if not np.isfinite(prices).all() or (prices <= 0).any():
        raise DataError(f"benchmark file {str(p)!r}: prices must be finite and > 0")
    series = pd.Series(prices, index=pd.DatetimeIndex(times).as_unit("ns"), name="benchmark")
    return series.sort_index()


def render_run(
    run: RunData, *, benchmark: pd.Series | None = None, title: str | None = None
) -> str:
    """The tear sheet of a run loaded by :func:`load_run` (no candles: the JSON has no bars)."""
    return render_report(
        title=title or f"{run.strategy} backtest",
        bars={},
        equity=run.equity_daily,
        trades=run.trades,
        metrics=run.metrics,
        settings=run.settings,
        tearsheet=True,
        benchmark=benchmark,
        initial_equity=run.initial_equity,
        no_bars_note=(
            "Rendered from the run's JSON, which has no bars: no candlestick charts. "
            "The equity and drawdown curves are daily (last value per UTC day)."
        ),
    )
