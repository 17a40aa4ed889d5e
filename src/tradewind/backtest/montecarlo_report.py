"""Self-contained HTML report of a Monte Carlo run (a :class:`~.montecarlo.MCResult`).

Same page conventions as the backtest report (:mod:`tradewind.backtest.report`): plotly.js is
inlined once in ``<head>`` so the file works offline, every chart is a ``<div>`` with an inline
``Plotly.newPlot`` call, and the file is written atomically. Sections:

- summary: the run's settings, the ruin probability, and for each distribution (final equity,
  max drawdown, time under water, longest under water) the original path's value, the mean and
  the 5th / 50th / 95th percentiles;
- equity confidence bands: filled bands between symmetric quantile pairs (5–95 %, 25–75 %
  by default), the median, the original path and the ruin line;
- histograms of final equity, max drawdown and time under water (binned here, so the page holds
  bin counts, not every path), with the original path's value marked.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from tradewind.backtest.montecarlo import DISTRIBUTIONS, MCResult
from tradewind.backtest.report import _CSS, _div, _kv_table
from tradewind.backtest.tearsheet import histogram
from tradewind.errors import ConfigError
from tradewind.files import write_atomic

__all__ = ["format_stat", "render_montecarlo_report", "write_montecarlo_report"]

BAND_TITLE = "Equity confidence bands"
HIST_TITLES = {
    "final_equity": "Final equity distribution",
    "max_drawdown": "Max drawdown distribution",
    "time_under_water": "Time under water distribution",
}
_LABELS = {
    "final_equity": "Final equity",
    "max_drawdown": "Max drawdown",
    "time_under_water": "Time under water",
    "longest_underwater": "Longest under water (steps)",
}
_METHODS = {
    "trade_reshuffle": "Trade order reshuffle (permutations)",
    "trade_bootstrap": "Trade bootstrap (with replacement)",
    "block_bootstrap": "Circular block bootstrap of bar returns",
    "synthetic": "Strategy re-run on synthetic price paths",
}
_PERCENT = frozenset({"max_drawdown", "time_under_water", "ruin_probability", "ruin"})
_BLUE = "37,99,235"
_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 20, "b": 40},
}


def format_stat(name: str, value: object) -> str:
    """A statistic as the report shows it: fractions (drawdown, time under water, ruin) as
    percentages with 2 decimals, step counts with up to 1 decimal, money with 2 decimals."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    v = float(value)  # type: ignore[arg-type]
    if not math.isfinite(v):
        return "—"
    if name in _PERCENT:
        return f"{v * 100:,.2f} %"
    if name == "longest_underwater":
        return f"{v:,.0f}" if v == round(v) else f"{v:,.1f}"
    return f"{v:,.2f}"


def _step_label(method: str) -> str:
    return "Trade number" if method.startswith("trade_") else "Bar"


def _summary_html(result: MCResult) -> str:
    s = result.summary()
    settings = [
        ("Method", _METHODS.get(result.method, result.method)),
        ("Simulations", f"{result.n_sims:,}"),
        ("Seed", str(result.seed)),
        ("Initial equity", format_stat("final_equity", result.initial)),
        (
            "Ruin level",
            f"equity ≤ {format_stat('ruin', result.ruin)} of initial "
            f"({format_stat('final_equity', result.ruin * result.initial)})",
        ),
        ("Ruin probability", format_stat("ruin_probability", s["ruin_probability"])),
    ]
    if "ruined" in result.original:
        settings.append(("Original path ruined", format_stat("ruined", result.original["ruined"])))
    settings.extend(
        (str(k).replace("_", " ").capitalize(), str(v)) for k, v in result.params.items()
    )

    heads = ["Statistic", "Original", "Mean", "5th pct", "Median", "95th pct"]
    head = "".join(
        f"<th>{h}</th>" if i == 0 else f'<th class="num">{h}</th>' for i, h in enumerate(heads)
    )
    rows = []
    for name in DISTRIBUTIONS:
        cells = [s.get(f"original_{name}"), s[f"{name}_mean"]]
        cells += [s[f"{name}_p{p}"] for p in (5, 50, 95)]
        tds = "".join(f'<td class="num">{html.escape(format_stat(name, c))}</td>' for c in cells)
        rows.append(f"<tr><td>{html.escape(_LABELS[name])}</td>{tds}</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return (
        '<div class="grid">'
        f'<section id="summary"><h2>Summary</h2>{_kv_table(settings)}</section>'
        f'<section id="distributions"><h2>Distributions</h2>{table}'
        '<p class="note">Percentiles across the simulated paths; "Original" is the input\'s own '
        "path. Drawdowns are fractions of the running peak; time under water is the share of "
        "steps below the running peak.</p></section></div><br>"
    )


def _band_figure(result: MCResult) -> go.Figure:
    """Filled bands between quantile pairs (outermost palest), median, original, ruin line."""
    x = result.band_x.tolist()
    qs = sorted(result.bands)
    fig = go.Figure()
    n_pairs = len(qs) // 2
    for i in range(n_pairs):
        lo, hi = qs[i], qs[-1 - i]
        alpha = 0.12 + 0.18 * (i + 1) / max(n_pairs, 1)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=result.bands[lo],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=result.bands[hi],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=f"rgba({_BLUE},{alpha:.2f})",
                name=f"{lo * 100:g}–{hi * 100:g} %",
            )
        )
    if len(qs) % 2:
        mid = qs[n_pairs]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=result.bands[mid],
                mode="lines",
                line={
                    "color": f"rgb({_BLUE})",
                    "width": 2,
                    "dash": "solid" if mid == 0.5 else "dash",
                },
                name="Median" if mid == 0.5 else f"{mid * 100:g} %",
            )
        )
    if "path" in result.original:
        fig.add_trace(
            go.Scatter(
                x=np.asarray(result.original.get("path_x", result.band_x)).tolist(),
                y=np.asarray(result.original["path"], dtype=np.float64),
                mode="lines",
                line={"color": "#111827", "width": 1.5},
                name="Original",
            )
        )
    fig.add_hline(
        y=result.ruin * result.initial,
        line={"color": "#dc2626", "dash": "dot", "width": 1},
        annotation_text="ruin",
        annotation_position="bottom right",
    )
    fig.update_layout(
        height=460,
        hovermode="x unified",
        legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"},
        xaxis_title=_step_label(result.method),
        yaxis_title="Equity",
        **_LAYOUT,
    )
    return fig


def _hist_figure(result: MCResult, name: str) -> go.Figure:
    scale = 100.0 if name in _PERCENT else 1.0
    values = np.asarray(getattr(result, name), dtype=np.float64) * scale
    centres, counts, widths = histogram(values)
    fig = go.Figure(
        go.Bar(
            x=centres, y=counts, width=widths, name=_LABELS[name], marker={"color": f"rgb({_BLUE})"}
        )
    )
    original = result.original.get(name)
    if original is not None and math.isfinite(float(original)):
        fig.add_vline(
            x=float(original) * scale,
            line={"color": "#111827", "dash": "dash", "width": 1.5},
            annotation_text="original",
        )
    fig.update_layout(
        height=320,
        bargap=0.02,
        xaxis_title=_LABELS[name] + (" %" if scale != 1.0 else ""),
        yaxis_title="Paths",
        showlegend=False,
        **_LAYOUT,
    )
    return fig


def render_montecarlo_report(result: MCResult, *, title: str) -> str:
    """Render the Monte Carlo report as one self-contained HTML page and return its text."""
    if not isinstance(result, MCResult):
        raise ConfigError(f"result must be an MCResult, got {type(result).__name__}")
    esc_title = html.escape(str(title))
    steps = int(result.band_x[-1]) if len(result.band_x) else 0
    sub = (
        f"{_METHODS.get(result.method, result.method)} · {result.n_sims:,} paths of "
        f"{steps:,} steps · seed {result.seed}"
    )
    parts = [f'<header><h1>{esc_title}</h1><p class="sub">{html.escape(sub)}</p></header>']
    parts.append(_summary_html(result))
    note = (
        f"Quantiles across paths at {len(result.band_x):,} evenly spaced steps; dotted red line: "
        f"ruin level ({format_stat('final_equity', result.ruin * result.initial)})."
    )
    if result.method == "trade_reshuffle":
        note += (
            " Reordering the same trades leaves the final equity identical in every path; "
            "only the path (drawdowns, time under water) changes."
        )
    parts.append(
        f'<section id="bands"><h2>{BAND_TITLE}</h2>{_div(_band_figure(result), "tw-mc-bands")}'
        f'<p class="note">{html.escape(note)}</p></section>'
    )
    hists = "".join(
        f"<section><h2>{html.escape(heading)}</h2>"
        f"{_div(_hist_figure(result, name), f'tw-mc-{name}')}</section>"
        for name, heading in HIST_TITLES.items()
    )
    parts.append(f'<div class="cols3">{hists}</div>')
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc_title}</title>\n<style>{_CSS}</style>\n"
        f"<script>{get_plotlyjs()}</script>\n</head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )


def write_montecarlo_report(result: MCResult, path: str | Path, *, title: str) -> Path:
    """Render the report (:func:`render_montecarlo_report`) and write it atomically to
    ``path`` (the directory must exist); returns ``path``."""
    return write_atomic(path, render_montecarlo_report(result, title=title))
