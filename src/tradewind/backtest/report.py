"""Self-contained HTML report of one backtest: metrics, settings, charts and trades.

The page works offline: plotly.js is inlined once in ``<head>`` and every chart is a ``<div>``
plus an inline ``Plotly.newPlot`` call; there is no external script, stylesheet or font.
Inputs may have millions of bars, so charts are downsampled (vectorized) before embedding:

- candles: consecutive bars are aggregated into at most ``max_candles`` buckets
  (open = first, high = max, low = min, close = last, volume = sum), so every true high/low
  is still visible;
- equity: per bucket the minimum and the maximum point are kept (plus the first and last
  point), at most :data:`MAX_EQUITY_POINTS` points, so no dip or spike is hidden;
- drawdown: computed on the full-resolution equity, then the deepest point of each bucket.

The file is written atomically (temporary file in the same directory, then ``os.replace``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from tradewind.analytics.metrics import drawdown
from tradewind.backtest.trades import TRADE_COLUMNS as ALL_TRADE_COLUMNS
from tradewind.errors import ConfigError
from tradewind.files import write_atomic

__all__ = [
    "BAR_COLUMNS",
    "MAX_EQUITY_POINTS",
    "MAX_INSTRUMENTS",
    "MAX_MARKERS",
    "TRADE_COLUMNS",
    "downsample_extremes",
    "downsample_ohlc",
    "render_report",
    "write_report",
]

BAR_COLUMNS: tuple[str, ...] = ("ts", "open", "high", "low", "close", "volume")
# the round-trip columns the report shows (see backtest.trades for the full set)
TRADE_COLUMNS: tuple[str, ...] = tuple(
    c for c in ALL_TRADE_COLUMNS if c not in ("duration", "entry_fills", "exit_fills")
)
#: Candlestick charts are drawn for the first this many instruments only.
MAX_INSTRUMENTS = 4
#: Upper bound of points in the equity line and in the drawdown area.
MAX_EQUITY_POINTS = 5000
#: Upper bound of markers of one kind (long entries, short entries, exits) per instrument.
MAX_MARKERS = 2000
#: Trades tables longer than this show the first and last half of it.
MAX_TRADE_ROWS = 500

#: Metric keys that are fractions and shown as percentages.
PERCENT_METRICS = frozenset(
    {
        "total_return",
        "cagr",
        "volatility_ann",
        "max_drawdown",
        "win_rate",
        "exposure_pct",
        "avg_trade_return",
        "annual_return",
        "annual_volatility",
        "downside_risk",
        "var_historical",
        "cvar_historical",
        "var_gaussian",
        "cvar_gaussian",
        "var_cornish_fisher",
        "exposure_time",
        "kelly_fraction",
        "alpha",
    }
)
#: Metric keys that are ratios and shown with 3 decimals.
RATIO_METRICS = frozenset(
    {
        "sharpe",
        "sortino",
        "calmar",
        "profit_factor",
        "omega",
        "payoff_ratio",
        "sqn",
        "tail_ratio",
        "stability",
        "beta",
        "information_ratio",
        "skew",
        "kurtosis",
        "ulcer_index",
    }
)
#: Metric keys ending like this are amounts of money and always shown with 2 decimals.
_MONEY_SUFFIXES = ("_pnl", "_equity", "_fees")
_METRIC_LABELS = {
    "cagr": "CAGR",
    "volatility_ann": "Volatility (ann.)",
    "max_drawdown_duration_days": "Max drawdown duration (days)",
    "avg_trade_duration_hours": "Avg trade duration (hours)",
    "avg_trade_pnl": "Avg trade PnL",
    "best_trade_pnl": "Best trade PnL",
    "worst_trade_pnl": "Worst trade PnL",
    "num_trades": "Trades",
    "var_historical": "VaR (historical)",
    "cvar_historical": "CVaR (historical)",
    "var_gaussian": "VaR (Gaussian)",
    "cvar_gaussian": "CVaR (Gaussian)",
    "var_cornish_fisher": "VaR (Cornish-Fisher)",
    "sqn": "SQN",
    "pnl": "PnL",
}

_GREEN = "#16a34a"
_RED = "#dc2626"
_DARK = "#111827"
_PLOT_CONFIG = {"displaylogo": False, "responsive": True}

_CSS = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:0;padding:0 24px 40px;color:#1f2937;background:#f8fafc}
header{padding:18px 0 8px;border-bottom:1px solid #e5e7eb;margin-bottom:16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 8px}
.sub{color:#6b7280;font-size:13px;margin:0}
section{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:14px 16px;
margin-bottom:16px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:16px}
.grid section{margin-bottom:0;min-width:0;overflow:hidden}
.cols2,.cols3{display:grid;gap:16px;grid-template-columns:repeat(2,minmax(0,1fr))}
.cols3{grid-template-columns:repeat(3,minmax(0,1fr))}
.cols2 section,.cols3 section{margin-bottom:0;min-width:0;overflow:hidden}
@media (max-width:900px){.cols2,.cols3{grid-template-columns:minmax(0,1fr)}}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{padding:3px 8px;border-bottom:1px solid #f1f5f9;text-align:left;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
thead th{background:#f1f5f9;position:sticky;top:0}
.kv td:first-child{color:#4b5563}.pos{color:#15803d}.neg{color:#b91c1c}
.kv td.num{white-space:normal;overflow-wrap:anywhere}
.note{color:#6b7280;font-size:12px;margin:4px 0 0}
.gap td{text-align:center;color:#6b7280;font-style:italic}
.scroll{max-height:640px;overflow:auto}
"""


# --------------------------------------------------------------------------- downsampling


def downsample_ohlc(bars: pd.DataFrame, max_candles: int) -> tuple[pd.DataFrame, int]:
    """Aggregate consecutive bars into at most ``max_candles`` candles (vectorized).

    Buckets hold ``k = ceil(n / max_candles)`` bars (the last may hold fewer): ``ts`` = open
    time of the first bar, open = first open, high = max high, low = min low (NaN ignored),
    close = last close, volume = sum. Returns the candles (columns :data:`BAR_COLUMNS`, fresh
    index) and ``k`` (1 = the bars were returned unchanged).
    """
    if max_candles < 1:
        raise ConfigError(f"max_candles must be >= 1, got {max_candles}")
    _check_columns(bars, BAR_COLUMNS, "bars")
    n = len(bars)
    if n <= max_candles:
        return bars.loc[:, list(BAR_COLUMNS)].reset_index(drop=True), 1
    k = math.ceil(n / max_candles)
    starts = np.arange(0, n, k)
    last = np.append(starts[1:], n) - 1

    def col(name: str) -> np.ndarray:
        return bars[name].to_numpy(dtype=np.float64)

    candles = pd.DataFrame(
        {
            "ts": bars["ts"].to_numpy(dtype=np.int64)[starts],
            "open": col("open")[starts],
            "high": np.fmax.reduceat(col("high"), starts),
            "low": np.fmin.reduceat(col("low"), starts),
            "close": col("close")[last],
            "volume": np.add.reduceat(np.nan_to_num(col("volume")), starts),
        }
    )
    return candles, k


def downsample_extremes(
    values: np.ndarray, max_points: int, keep: Literal["minmax", "min"] = "minmax"
) -> np.ndarray:
    """Positions of the points to keep so a line of ``values`` fits in ``max_points`` points.

    The data is split into equal consecutive buckets; from each bucket the minimum (and with
    ``keep="minmax"`` also the maximum) point is kept, plus the first and last point, so the
    true extremes of the curve (e.g. the bottom of the worst drawdown) survive. Returns sorted
    unique positions, ``len <= max_points``; all positions when nothing needs to be dropped.
    """
    n = len(values)
    if n <= max_points:
        return np.arange(n)
    per_bucket = 2 if keep == "minmax" else 1
    n_buckets = max(1, (max_points - 2) // per_bucket)
    k = math.ceil(n / n_buckets)
    n_full = math.ceil(n / k)
    pad = n_full * k - n
    offsets = np.arange(n_full) * k
    finite = np.isfinite(values)
    lows = np.concatenate([np.where(finite, values, np.inf), np.full(pad, np.inf)])
    keep_pos = [np.array([0, n - 1]), lows.reshape(n_full, k).argmin(axis=1) + offsets]
    if keep == "minmax":
        highs = np.concatenate([np.where(finite, values, -np.inf), np.full(pad, -np.inf)])
        keep_pos.append(highs.reshape(n_full, k).argmax(axis=1) + offsets)
    return np.unique(np.concatenate(keep_pos).clip(0, n - 1))


def _even_subsample(n: int, limit: int) -> np.ndarray:
    """Evenly spaced positions, at most ``limit`` of ``n``."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


# --------------------------------------------------------------------------- formatting


def _iso(ns: np.ndarray) -> list[str]:
    """ISO-8601 UTC strings (no offset; plotly.js reads them as wall time) from int64 ns."""
    return [str(s) for s in np.datetime_as_string(ns.astype("datetime64[ns]"), unit="ms")]


def _utc_ns(values: pd.Series | pd.Index) -> np.ndarray:
    """int64 ns since epoch from tz-aware (converted to UTC) or naive (taken as UTC) times."""
    idx = pd.DatetimeIndex(values)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.as_unit("ns").asi8


def _fmt_number(value: float) -> str:
    """Readable number: 2 decimals from 1000, 4 from 1, more significant digits below 1."""
    if not math.isfinite(value):
        return "—"
    mag = abs(value)
    if mag >= 1000 or mag == 0:
        decimals = 2
    elif mag >= 1:
        decimals = 4
    else:
        decimals = min(12, max(4, 3 - math.floor(math.log10(mag))))
    return f"{value:,.{decimals}f}"


def _fmt_metric(key: str, value: object) -> str:
    """Metric value as text: percentages for fractions, 3 decimals for ratios."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return "—"
        if key in PERCENT_METRICS:
            return f"{v * 100:,.2f} %"
        if key in RATIO_METRICS:
            return f"{v:,.3f}"
        if abs(v) >= 1 or v == 0 or key.endswith(_MONEY_SUFFIXES):
            return f"{v:,.2f}"
        return f"{v:.4g}"
    return str(value)


def _fmt_setting(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_fmt_setting(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_fmt_setting(v) for v in value)
    return str(value)


def _label(key: str) -> str:
    if key in _METRIC_LABELS:
        return _METRIC_LABELS[key]
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _kv_table(rows: Iterable[tuple[str, str]]) -> str:
    body = "".join(
        f'<tr><td>{html.escape(k)}</td><td class="num">{html.escape(v)}</td></tr>' for k, v in rows
    )
    return f'<table class="kv"><tbody>{body}</tbody></table>'


# --------------------------------------------------------------------------- validation


def _check_columns(frame: object, required: Sequence[str], what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ConfigError(f"{what} is missing columns {missing}; expected {list(required)}")
    return frame


def _check_equity(equity: object) -> pd.Series:
    if not isinstance(equity, pd.Series) or not isinstance(equity.index, pd.DatetimeIndex):
        raise ConfigError(
            "equity must be a pandas Series on a DatetimeIndex, got "
            f"{type(equity).__name__}"
            + (f" on {type(equity.index).__name__}" if isinstance(equity, pd.Series) else "")
        )
    return equity


# --------------------------------------------------------------------------- charts


def _div(fig: go.Figure, div_id: str) -> str:
    return str(
        pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            include_mathjax=False,
            div_id=div_id,
            config=_PLOT_CONFIG,
        )
    )


def _equity_figure(equity: pd.Series) -> tuple[go.Figure, str]:
    """Equity line (bucket min/max kept) over an underwater chart (bucket minimum kept)."""
    ns = _utc_ns(equity.index)
    values = equity.to_numpy(dtype=np.float64)
    keep = downsample_extremes(values, MAX_EQUITY_POINTS, "minmax")
    dd = drawdown(equity).to_numpy() * 100.0
    keep_dd = downsample_extremes(dd, MAX_EQUITY_POINTS, "min")
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.04
    )
    fig.add_trace(
        go.Scatter(
            x=_iso(ns[keep]),
            y=values[keep],
            mode="lines",
            name="Equity",
            line={"color": "#2563eb", "width": 1.5},
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=_iso(ns[keep_dd]),
            y=dd[keep_dd],
            mode="lines",
            name="Drawdown %",
            fill="tozeroy",
            line={"color": _RED, "width": 1},
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(title_text="Equity", row=1, col=1)
    fig.update_yaxes(title_text="Drawdown %", ticksuffix=" %", row=2, col=1)
    fig.update_xaxes(title_text="Time (UTC)", row=2, col=1)
    fig.update_layout(
        height=560,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 20, "b": 40},
        showlegend=False,
        hovermode="x unified",
    )
    note = ""
    if len(keep) < len(values):
        note = (
            f"{len(values):,} equity points shown as {len(keep):,} (minimum and maximum of "
            f"each bucket kept); drawdown from the full-resolution curve."
        )
    return fig, note


def _trade_markers(fig: go.Figure, trades: pd.DataFrame) -> bool:
    """Add entry/exit markers; returns True when markers had to be thinned out."""
    thinned = False
    side = trades["side"].astype(str).str.lower().to_numpy()
    entry_ns = _utc_ns(trades["entry_time"])
    exit_ns = _utc_ns(trades["exit_time"])
    entry_px = trades["entry_price"].to_numpy(dtype=np.float64)
    exit_px = trades["exit_price"].to_numpy(dtype=np.float64)
    qty = trades["quantity"].to_numpy(dtype=np.float64)
    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    crowded = len(trades) > 200  # smaller markers so dense trading does not hide the candles

    for wanted, symbol, color, name in (
        ("long", "triangle-up", _GREEN, "Long entry"),
        ("short", "triangle-down", _RED, "Short entry"),
    ):
        pos = np.flatnonzero(side == wanted)
        sub = _even_subsample(len(pos), MAX_MARKERS)
        thinned |= len(sub) < len(pos)
        pos = pos[sub]
        if len(pos) == 0:
            continue
        fig.add_trace(
            go.Scatter(
                x=_iso(entry_ns[pos]),
                y=entry_px[pos],
                mode="markers",
                name=name,
                marker={
                    "symbol": symbol,
                    "color": color,
                    "size": 7 if crowded else 12,
                    "line": {"width": 1, "color": _DARK},
                },
                hovertext=[
                    f"{name}: {_fmt_number(q)} @ {_fmt_number(p)}"
                    for q, p in zip(qty[pos], entry_px[pos], strict=True)
                ],
                hoverinfo="text+x",
            ),
            row=1,
            col=1,
        )
    pos = _even_subsample(len(trades), MAX_MARKERS)
    thinned |= len(pos) < len(trades)
    if len(pos):
        fig.add_trace(
            go.Scatter(
                x=_iso(exit_ns[pos]),
                y=exit_px[pos],
                mode="markers",
                name="Exit",
                marker={
                    "symbol": "x",
                    "size": 6 if crowded else 10,
                    "color": _DARK,
                    "line": {"width": 1, "color": "#ffffff"},
                },
                hovertext=[
                    f"Exit {s} @ {_fmt_number(p)}, PnL {pl:,.2f}"
                    for s, p, pl in zip(side[pos], exit_px[pos], pnl[pos], strict=True)
                ],
                hoverinfo="text+x",
            ),
            row=1,
            col=1,
        )
    return thinned


def _candle_figure(
    bars: pd.DataFrame, trades: pd.DataFrame, max_candles: int
) -> tuple[go.Figure, str]:
    """Candlesticks (bucketed to ``max_candles``) with volume and trade markers."""
    candles, k = downsample_ohlc(bars, max_candles)
    x = _iso(candles["ts"].to_numpy(dtype=np.int64))
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.78, 0.22], vertical_spacing=0.03
    )
    fig.add_trace(
        go.Candlestick(
            x=x,
            open=candles["open"].to_numpy(),
            high=candles["high"].to_numpy(),
            low=candles["low"].to_numpy(),
            close=candles["close"].to_numpy(),
            name="Price",
            increasing={"line": {"color": _GREEN}},
            decreasing={"line": {"color": _RED}},
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=x,
            y=candles["volume"].to_numpy(),
            name="Volume",
            marker={"color": "#94a3b8"},
            showlegend=False,
        ),
        row=2,
        col=1,
    )
    thinned = _trade_markers(fig, trades) if len(trades) else False
    # Pin the x range to the data (plotly pads bar/candle charts generously otherwise).
    ts_all = bars["ts"].to_numpy(dtype=np.int64)
    lo_ns, hi_ns = int(ts_all.min()), int(ts_all.max())
    pad = max(1, (hi_ns - lo_ns) // max(1, 2 * len(candles)))
    x_range = _iso(np.array([lo_ns - pad, hi_ns + pad], dtype=np.int64))
    fig.update_xaxes(rangeslider_visible=False, range=x_range)
    fig.update_yaxes(title_text="Price", row=1, col=1)
    fig.update_yaxes(title_text="Volume", row=2, col=1)
    fig.update_layout(
        height=600,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 20, "b": 40},
        legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"},
        bargap=0,
    )
    notes = []
    if k > 1:
        notes.append(
            f"{len(bars):,} bars aggregated into {len(candles):,} candles of {k} bars each."
        )
    if thinned:
        notes.append(f"Trade markers thinned to at most {MAX_MARKERS:,} per kind.")
    return fig, " ".join(notes)


# --------------------------------------------------------------------------- tables


def _trade_row(row: Mapping[Hashable, object]) -> str:
    pnl = float(row["pnl"])  # type: ignore[arg-type]
    cls = "pos" if pnl > 0 else "neg" if pnl < 0 else ""
    ret = float(row["return_pct"])  # type: ignore[arg-type]
    cells = [
        html.escape(str(row["instrument"])),
        html.escape(str(row["side"])),
        _fmt_number(float(row["quantity"])),  # type: ignore[arg-type]
        _fmt_time(row["entry_time"]),
        _fmt_number(float(row["entry_price"])),  # type: ignore[arg-type]
        _fmt_time(row["exit_time"]),
        _fmt_number(float(row["exit_price"])),  # type: ignore[arg-type]
        f'<span class="{cls}">{pnl:,.2f}</span>' if math.isfinite(pnl) else "—",
        f'<span class="{cls}">{ret * 100:,.2f} %</span>' if math.isfinite(ret) else "—",
        _fmt_number(float(row["fees"])),  # type: ignore[arg-type]
    ]
    tds = "".join(
        f"<td>{cell}</td>" if i in (0, 1, 3, 5) else f'<td class="num">{cell}</td>'
        for i, cell in enumerate(cells)
    )
    return f"<tr>{tds}</tr>"


def _fmt_time(value: object) -> str:
    if value is None or value is pd.NaT:
        return "—"
    ts = pd.Timestamp(value)  # type: ignore[arg-type]
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
    return html.escape(ts.strftime("%Y-%m-%d %H:%M:%S"))


def _trades_table(trades: pd.DataFrame) -> str:
    """Trades oldest first; above ``MAX_TRADE_ROWS`` the first and last half with a gap row."""
    if len(trades) == 0:
        return '<p class="note">No closed trades.</p>'
    ordered = trades.sort_values(["entry_time", "exit_time"], kind="stable")
    heads = [
        "Instrument", "Side", "Quantity", "Entry time (UTC)", "Entry price",
        "Exit time (UTC)", "Exit price", "PnL", "Return", "Fees",
    ]  # fmt: skip
    head = "".join(
        f"<th>{h}</th>" if i in (0, 1, 3, 5) else f'<th class="num">{h}</th>'
        for i, h in enumerate(heads)
    )
    n = len(ordered)
    if n > MAX_TRADE_ROWS:
        half = MAX_TRADE_ROWS // 2
        first = ordered.iloc[:half].to_dict("records")
        last = ordered.iloc[n - half :].to_dict("records")
        gap = f'<tr class="gap"><td colspan="{len(heads)}">… {n - 2 * half:,} more …</td></tr>'
        rows = [_trade_row(r) for r in first] + [gap] + [_trade_row(r) for r in last]
    else:
        rows = [_trade_row(r) for r in ordered.to_dict("records")]
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


# --------------------------------------------------------------------------- page


def render_report(
    *,
    title: str,
    bars: Mapping[str, pd.DataFrame],
    equity: pd.Series,
    trades: pd.DataFrame,
    metrics: Mapping[str, object],
    settings: Mapping[str, object],
    max_candles: int = 4000,
    tearsheet: bool = False,
    benchmark: pd.Series | None = None,
    initial_equity: float | None = None,
    no_bars_note: str | None = None,
) -> str:
    """Render the backtest report as one self-contained HTML page and return its text.

    ``bars``: instrument -> frame with ``ts`` (int64 ns UTC) and float ``open, high, low,
    close, volume``; candles are drawn for the first :data:`MAX_INSTRUMENTS` instruments.
    ``equity``: float Series on a DatetimeIndex. ``trades``: :data:`TRADE_COLUMNS`, may be
    empty. ``metrics`` and ``settings`` are flat name -> value mappings shown as tables.

    ``tearsheet=True`` adds the tear-sheet sections of :mod:`tradewind.backtest.tearsheet`
    (benchmark, monthly heatmap, return distribution, rolling Sharpe, trade analysis; all
    from the daily equity) and groups the metrics table into returns / risk / trades.
    ``benchmark``: prices or equity on a DatetimeIndex (tear sheet only), rebased to
    ``initial_equity`` (default: the first equity value). ``no_bars_note``: shown in place
    of the candlestick charts when ``bars`` is empty.
    """
    if not isinstance(max_candles, int) or isinstance(max_candles, bool) or max_candles < 1:
        raise ConfigError(f"max_candles must be an integer >= 1, got {max_candles!r}")
    equity = _check_equity(equity)
    trades = _check_columns(trades, TRADE_COLUMNS, "trades")
    if benchmark is not None and not tearsheet:
        raise ConfigError("benchmark is only shown in the tear sheet (tearsheet=True)")
    if benchmark is not None:
        _check_equity(benchmark)
    for name, frame in bars.items():
        _check_columns(frame, BAR_COLUMNS, f"bars[{name!r}]")

    esc_title = html.escape(str(title))
    parts: list[str] = []
    instruments = list(bars)
    names = ", ".join(map(str, instruments[:10]))
    if len(instruments) > 10:
        names += f" and {len(instruments) - 10} more"
    subtitle = [f"{len(instruments)} instrument(s): {names}"] if instruments else []
    if len(equity):
        first, last = (pd.Timestamp(t) for t in _utc_ns(equity.index[[0, -1]]))
        subtitle.append(f"{first:%Y-%m-%d %H:%M} → {last:%Y-%m-%d %H:%M} UTC")
    subtitle.append(f"{len(trades):,} trades")
    parts.append(
        f"<header><h1>{esc_title}</h1>"
        f'<p class="sub">{html.escape(" · ".join(subtitle))}</p></header>'
    )

    setting_rows = [(str(k), _fmt_setting(v)) for k, v in settings.items()]
    settings_html = (
        f"<section><h2>Settings</h2>{_kv_table(setting_rows)}"
        '<p class="note">Assumptions this backtest ran with.</p></section>'
    )
    sheet: list[str] = []
    if tearsheet:
        from tradewind.backtest import tearsheet as ts

        tables = "".join(
            f"<section><h2>Metrics: {html.escape(group.lower())}</h2>"
            f"{_kv_table((_label(k), _fmt_metric(k, v)) for k, v in rows.items())}</section>"
            for group, rows in ts.group_metrics(metrics).items()
        )
        parts.append(f'<div class="grid">{tables}{settings_html}</div><br>')
        daily = ts.daily_equity(equity)
        start = initial_equity if initial_equity is not None else None
        if start is None and len(equity):
            start = float(equity.iloc[0])
        sheet = ts.tearsheet_sections(daily, trades, initial=start, benchmark=benchmark)
    else:
        metric_rows = [(_label(str(k)), _fmt_metric(str(k), v)) for k, v in metrics.items()]
        parts.append(
            '<div class="grid">'
            f"<section><h2>Metrics</h2>{_kv_table(metric_rows)}</section>"
            f"{settings_html}</div><br>"
        )

    if len(equity):
        fig, note = _equity_figure(equity)
        note_html = f'<p class="note">{html.escape(note)}</p>' if note else ""
        parts.append(
            f"<section><h2>Equity and drawdown</h2>{_div(fig, 'tw-equity')}{note_html}</section>"
        )
    else:
        parts.append(
            '<section><h2>Equity and drawdown</h2><p class="note">No equity data.</p></section>'
        )
    parts.extend(sheet)
    if not instruments and no_bars_note:
        parts.append(
            f'<section><h2>Candles</h2><p class="note">{html.escape(no_bars_note)}</p></section>'
        )

    inst_col = trades["instrument"].astype(str)
    for i, name in enumerate(instruments[:MAX_INSTRUMENTS]):
        frame = bars[name]
        heading = f"<h2>{html.escape(str(name))}</h2>"
        if len(frame) == 0:
            parts.append(f'<section>{heading}<p class="note">No bars.</p></section>')
            continue
        fig, note = _candle_figure(frame, trades[inst_col == str(name)], max_candles)
        note_html = f'<p class="note">{html.escape(note)}</p>' if note else ""
        parts.append(f"<section>{heading}{_div(fig, f'tw-candles-{i}')}{note_html}</section>")
    if len(instruments) > MAX_INSTRUMENTS:
        rest = ", ".join(map(str, instruments[MAX_INSTRUMENTS:]))
        parts.append(
            f'<p class="note">Charts limited to the first {MAX_INSTRUMENTS} instruments; '
            f"not charted: {html.escape(rest)}.</p>"
        )

    parts.append(f'<section id="trades"><h2>Trades</h2>{_trades_table(trades)}</section>')

    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc_title}</title>\n<style>{_CSS}</style>\n"
        f"<script>{get_plotlyjs()}</script>\n</head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )


def write_report(
    path: str | Path,
    *,
    title: str,
    bars: Mapping[str, pd.DataFrame],
    equity: pd.Series,
    trades: pd.DataFrame,
    metrics: Mapping[str, object],
    settings: Mapping[str, object],
    max_candles: int = 4000,
    tearsheet: bool = False,
    benchmark: pd.Series | None = None,
    initial_equity: float | None = None,
    no_bars_note: str | None = None,
) -> Path:
    """Render the report (see :func:`render_report`) and write it atomically to ``path``.

    The page is rendered first, then written to a temporary file in the destination directory
    and moved over ``path`` with ``os.replace``; on any failure the temporary file is removed
    and an existing report at ``path`` is left untouched. Returns ``path``.
    """
    text = render_report(
        title=title,
        bars=bars,
        equity=equity,
        trades=trades,
        metrics=metrics,
        settings=settings,
        max_candles=max_candles,
        tearsheet=tearsheet,
        benchmark=benchmark,
        initial_equity=initial_equity,
        no_bars_note=no_bars_note,
    )
    return write_atomic(path, text)
