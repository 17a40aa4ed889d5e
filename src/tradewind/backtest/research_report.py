"""Self-contained HTML reports of an optimization and of a walk-forward run.

Same page conventions as the backtest report: plotly.js inlined once (works offline), one
``<div>`` per chart, written atomically. Optimization: the best parameters and the overfitting
statistics, a heatmap of the objective over the first two parameters (best over any others),
the Pareto front when there are several objectives, and the top trials. Walk-forward: the
stitched out-of-sample equity, in-sample vs out-of-sample score per window, and the parameters
chosen in each window.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from tradewind.backtest.optimize import OptimizationResult
from tradewind.backtest.report import _CSS, _div, _kv_table
from tradewind.backtest.walkforward import WalkForwardResult
from tradewind.files import write_atomic

_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
}
HEATMAP_TITLE = "Objective heatmap"
PARETO_TITLE = "Pareto front"
TABLE_TITLE = "Top trials"


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool | np.bool_):
        return "yes" if v else ""
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        f = float(v)
        if not math.isfinite(f):
            return "—"
        return f"{f:,.2f}" if abs(f) >= 1000 else f"{f:.4g}"
    return str(v)


def _page(title: str, sub: str, parts: Sequence[str]) -> str:
    t = html.escape(title)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{t}</title>\n<style>{_CSS}</style>\n"
        f"<script>{get_plotlyjs()}</script>\n</head>\n<body>\n"
        f'<header><h1>{t}</h1><p class="sub">{html.escape(sub)}</p></header>\n'
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{html.escape(_fmt(v))}</td>' for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f'<table class="trades"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def heatmap_frame(result: OptimizationResult) -> pd.DataFrame | None:
    """The objective over the first two parameters (rows: 1st, columns: 2nd), taking the best
    trial over any other parameters; None with fewer than two parameters."""
    names = result.param_names
    if len(names) < 2:
        return None
    metric, direction = result.objectives[0]
    agg: Any = "min" if direction == "minimize" else "max"
    return result.table.pivot_table(index=names[0], columns=names[1], values=metric, aggfunc=agg)


def _heatmap(result: OptimizationResult) -> str:
    grid = heatmap_frame(result)
    if grid is None:
        return ""
    metric = result.objectives[0][0]
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[str(c) for c in grid.columns],
            y=[str(i) for i in grid.index],
            colorscale="RdYlGn" if result.objectives[0][1] == "maximize" else "RdYlGn_r",
            colorbar={"title": metric},
            hovertemplate=f"{grid.index.name}=%{{y}}<br>{grid.columns.name}=%{{x}}<br>"
            f"{metric}=%{{z:.4g}}<extra></extra>",
        )
    )
    fig.update_layout(
        **_LAYOUT, height=460, xaxis_title=grid.columns.name, yaxis_title=grid.index.name
    )
    return f"<section><h2>{HEATMAP_TITLE}</h2>{_div(fig, 'tw-opt-heatmap')}</section>"


def _pareto(result: OptimizationResult) -> str:
    if len(result.objectives) < 2:
        return ""
    (a, _), (b, _) = result.objectives[:2]
    t = result.table
    front = t[t["pareto"]].sort_values(a)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=t[a], y=t[b], mode="markers", name="trials", marker={"color": "#9ca3af"})
    )
    fig.add_trace(
        go.Scatter(
            x=front[a],
            y=front[b],
            mode="lines+markers",
            name="Pareto front",
            marker={"color": "#dc2626"},
        )
    )
    fig.update_layout(**_LAYOUT, height=420, xaxis_title=a, yaxis_title=b)
    return f"<section><h2>{PARETO_TITLE}</h2>{_div(fig, 'tw-opt-pareto')}</section>"


def _overfit_rows(stats: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    dsr = stats.get("deflated_sharpe") or {}
    pbo = stats.get("pbo") or {}
    if "dsr" in dsr:
        rows.append(("Deflated Sharpe ratio (probability)", _fmt(dsr["dsr"])))
        rows.append(
            (
                "Best Sharpe per period / deflated benchmark",
                f"{_fmt(dsr['sharpe'])} / {_fmt(dsr['sr0'])}",
            )
        )
    if "pbo" in pbo:
        rows.append(("Probability of backtest overfitting (CSCV)", _fmt(pbo["pbo"])))
        rows.append(("P(out-of-sample loss) of the in-sample best", _fmt(pbo["prob_oos_loss"])))
        rows.append(("IS→OOS degradation slope", _fmt(pbo["degradation_slope"])))
    if "periods" in stats:
        rows.append(
            ("Periods (sampled returns) × trials", f"{stats['periods']} × {stats['trials']}")
        )
    for key in ("deflated_sharpe", "pbo"):
        err = (stats.get(key) or {}).get("error")
        if err:
            rows.append((key, f"not computed: {err}"))
    return rows


def render_optimization_report(result: OptimizationResult, *, title: str | None = None) -> str:
    name = title or f"Optimization: {result.strategy}"
    objs = ", ".join(f"{m} ({d})" for m, d in result.objectives)
    sub = (
        f"{result.method} search · {len(result.table):,} trials · {result.engine} engine · "
        f"objective {objs} · seed {result.seed} · {result.elapsed_s:.2f} s"
    )
    best = result.ranked().iloc[0]
    rows = [(k, _fmt(v)) for k, v in result.best.items()]
    rows += [(m, _fmt(best[m])) for m in ("sharpe", "total_return", "max_drawdown", "trades")]
    parts = [
        '<div class="cols2">'
        f"<section><h2>Best parameters</h2>{_kv_table(rows)}</section>"
        f"<section><h2>Overfitting</h2>{_kv_table(_overfit_rows(result.overfit))}"
        '<p class="note">Deflated Sharpe: Bailey &amp; López de Prado (2014); PBO by '
        "combinatorially symmetric cross-validation (Bailey et al. 2015), on each trial's "
        "returns sampled at a regular interval.</p></section></div>",
        _heatmap(result),
        _pareto(result),
    ]
    cols = [*result.param_names, *(m for m, _ in result.objectives)]
    extra = [
        c for c in ("total_return", "max_drawdown", "trades", "win_rate", "pareto") if c not in cols
    ]
    parts.append(
        f"<section><h2>{TABLE_TITLE}</h2>{_table(result.ranked()[cols + extra].head(50))}</section>"
    )
    return _page(name, sub, [p for p in parts if p])


def write_optimization_report(
    result: OptimizationResult, path: str | Path, *, title: str | None = None
) -> Path:
    return write_atomic(path, render_optimization_report(result, title=title))


def render_walkforward_report(result: WalkForwardResult, *, title: str | None = None) -> str:
    name = title or f"Walk-forward: {result.strategy}"
    kind = "anchored" if result.anchored else "rolling"
    sub = (
        f"{kind} windows · train {result.train:,} bars · test {result.test:,} bars · "
        f"{len(result.windows)} windows · objective {result.objective} · {result.elapsed_s:.2f} s"
    )
    m = result.metrics
    rows = [
        (k, _fmt(m.get(k)))
        for k in ("total_return", "cagr", "sharpe", "max_drawdown", "num_trades", "windows")
    ]
    eq = go.Figure(go.Scatter(x=result.equity.index, y=result.equity.to_numpy(), name="OOS equity"))
    for t in result.windows["oos_start"]:
        eq.add_vline(x=t, line={"color": "#d1d5db", "width": 1})
    eq.update_layout(**_LAYOUT, height=380, yaxis_title="equity")
    w = result.windows
    obj = result.objective
    bars = go.Figure(
        [
            go.Bar(x=w["window"], y=w[f"is_{obj}"], name=f"in-sample {obj}"),
            go.Bar(x=w["window"], y=w[f"oos_{obj}"], name=f"out-of-sample {obj}"),
        ]
    )
    bars.update_layout(**_LAYOUT, height=320, barmode="group", xaxis_title="window")
    shown = w.copy()
    for c in ("is_start", "is_end", "oos_start", "oos_end"):
        shown[c] = shown[c].map(lambda t: t.strftime("%Y-%m-%d %H:%M"))
    parts = [
        f"<section><h2>Stitched out-of-sample result</h2>{_kv_table(rows)}</section>",
        f"<section><h2>Out-of-sample equity</h2>{_div(eq, 'tw-wf-equity')}</section>",
        f"<section><h2>In-sample vs out-of-sample</h2>{_div(bars, 'tw-wf-windows')}</section>",
        f"<section><h2>Windows and chosen parameters</h2>{_table(shown)}</section>",
    ]
    return _page(name, sub, parts)


def write_walkforward_report(
    result: WalkForwardResult, path: str | Path, *, title: str | None = None
) -> Path:
    return write_atomic(path, render_walkforward_report(result, title=title))
