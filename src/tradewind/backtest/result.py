"""The result of a backtest: equity curve, orders, fills, trades, positions and metrics."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tradewind.analytics.metrics import basic_metrics
from tradewind.backtest.trades import add_excursions, round_trips
from tradewind.files import write_atomic
from tradewind.sim.venue import SimulatedVenue
from tradewind.timeutil import utc_index

if TYPE_CHECKING:
    from tradewind.backtest.runner import Backtest, Schedule
    from tradewind.engine.core import TradingEngine
    from tradewind.model.order import Fill, Order


@dataclass
class BacktestResult:
    strategy: str
    params: dict[str, Any]
    settings: dict[str, Any]
    equity: pd.Series  # one point per bar time (bar open time, UTC), valued at the bar's close
    frame: pd.DataFrame  # equity, cash, position value, drawdown, per-instrument qty/value
    trades: pd.DataFrame
    open_trades: list[dict[str, Any]]
    fill_log: list[Fill] = field(repr=False)
    order_log: list[Order] = field(repr=False)
    positions: list[dict[str, Any]]
    metrics: dict[str, Any]
    final_equity: float
    stats: dict[str, Any]
    bars: dict[str, pd.DataFrame] = field(repr=False, default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    @cached_property
    def fills(self) -> pd.DataFrame:
        """Every fill as a row (built on first use)."""
        return fills_frame(self.fill_log)

    @cached_property
    def orders(self) -> list[dict[str, Any]]:
        """Every order of the run as a dict (built on first use: a long run has many)."""
        return [o.to_dict() for o in self.order_log]

    def to_frame(self) -> pd.DataFrame:
        """The per-bar curve: equity, cash, position value, drawdown, and per instrument
        ``qty:SYM`` / ``value:SYM``."""
        return self.frame

    def to_dict(self) -> dict[str, Any]:
        """Everything but the bars, JSON-safe. ``equity_daily`` holds the last equity of each
        UTC day (``{"date": [YYYY-MM-DD, ...], "equity": [...]}``) so a tear sheet can be
        rebuilt from the JSON (:func:`tradewind.backtest.tearsheet.load_run`)."""
        from tradewind.backtest.tearsheet import daily_equity

        trades = self.trades.copy()
        for col in ("entry_time", "exit_time"):
            trades[col] = trades[col].map(lambda t: t.isoformat())
        trades["duration"] = trades["duration"].map(
            lambda d: d.total_seconds() if pd.notna(d) else None
        )
        out: dict[str, Any] = _clean(
            {
                "strategy": self.strategy,
                "params": self.params,
                "settings": self.settings,
                "final_equity": self.final_equity,
                "metrics": self.metrics,
                "trades": trades.to_dict(orient="records"),
                "open_trades": self.open_trades,
                "positions": self.positions,
                "orders_count": len(self.order_log),
                "fills_count": len(self.fill_log),
                "events": self.events,
                "stats": self.stats,
            }
        )
        daily = daily_equity(self.equity)
        days = pd.DatetimeIndex(daily.index).strftime("%Y-%m-%d")
        out["equity_daily"] = {
            "date": [str(d) for d in days],
            "equity": _clean(daily.to_numpy(dtype=np.float64).tolist()),
        }
        return out

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """JSON text; with ``path`` also written there atomically (all or nothing)."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            write_atomic(path, text)
        return text

    def report(
        self,
        path: str | Path,
        title: str | None = None,
        *,
        benchmark: pd.Series | None = None,
    ) -> Path:
        """Write the HTML tear sheet (metrics grouped from ``full_metrics``, equity and
        drawdown, benchmark when given, monthly returns, return distribution, rolling Sharpe,
        trade analysis, candles with trades, trades table) atomically to ``path``.

        ``benchmark``: prices or equity on a DatetimeIndex, rebased to the starting equity.
        """
        from tradewind.analytics.full import full_metrics
        from tradewind.backtest.report import write_report

        metrics: dict[str, Any] = dict(full_metrics(self.equity, self.trades))
        metrics.update(self.metrics)  # the run's own values (fees, exposure, ...) win
        return write_report(
            path,
            title=title or f"{self.strategy} backtest",
            bars=self.bars,
            equity=self.equity,
            trades=self.trades,
            metrics=metrics,
            settings=self.settings,
            tearsheet=True,
            benchmark=benchmark,
        )

    def summary(self) -> str:
        m = self.metrics

        def pct(k: str) -> str:
            v = m.get(k)
            return "n/a" if v is None else f"{v * 100:.2f}%"

        def num(k: str, fmt: str = ".2f") -> str:
            v = m.get(k)
            return "n/a" if v is None else format(v, fmt)

        lines = [
            f"Strategy       {self.strategy} {self.params}",
            f"Period         {m.get('start')} → {m.get('end')}",
            f"Final equity   {self.final_equity:,.2f} {self.settings.get('currency', '')}",
            f"Total return   {pct('total_return')}   CAGR {pct('cagr')}",
            f"Sharpe         {num('sharpe')}   Sortino {num('sortino')}   Calmar {num('calmar')}",
            f"Max drawdown   {pct('max_drawdown')}",
            f"Trades         {m.get('num_trades')}   win rate {pct('win_rate')}   "
            f"profit factor {num('profit_factor')}",
            f"Fees           {self.metrics.get('total_fees', 0.0):,.2f}",
            f"Speed          {self.stats['events']:,} events in {self.stats['seconds']:.2f}s "
            f"({self.stats['events_per_second']:,.0f}/s)",
        ]
        return "\n".join(lines)


def fills_frame(fill_log: list[Fill]) -> pd.DataFrame:
    """Fills as a DataFrame: one row per fill, plus a UTC ``time`` column."""
    fills = pd.DataFrame.from_records(
        fill_log,
        columns=[
            "fill_id",
            "client_order_id",
            "instrument",
            "side",
            "quantity",
            "price",
            "fee",
            "fee_currency",
            "liquidity",
            "ts",
            "liquidation",
        ],
    )
    if len(fills):
        fills["side"] = fills["side"].map(str)
        fills["liquidity"] = fills["liquidity"].map(str)
        fills["time"] = utc_index(fills["ts"].to_numpy(np.int64))
    return fills


def _clean(obj: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    return obj


def _step_lookup(
    steps: np.ndarray, values: np.ndarray, at: np.ndarray, initial: float
) -> np.ndarray:
    """Value of a step function (changes at ``steps``, sorted, >= -1) at each step in ``at``.

    Counting events per step and a cumulative sum gives, for every step, how many changes
    happened up to it: linear time, several times faster than a binary search per sample.
    """
    if len(steps) == 0:
        return np.full(len(at), initial)
    size = max(int(steps[-1]), int(at.max(initial=0))) + 2
    seen = np.cumsum(np.bincount(steps + 1, minlength=size))  # changes at steps <= s-1
    idx = seen[at + 1] - 1
    out = values[np.maximum(idx, 0)]
    return np.where(idx >= 0, out, initial)


def build_result(
    bt: Backtest,
    engine: TradingEngine,
    schedule: Schedule,
    elapsed: float,
    events: list[dict[str, Any]],
) -> BacktestResult:
    pf = engine.portfolio
    cfg = bt.config
    currency = pf.account.base_currency
    n = schedule.size
    # sample once per bar time: the state after the last event with that time
    is_bar = schedule.kinds == 0
    bar_steps = np.flatnonzero(is_bar) if is_bar.any() else np.arange(n)
    t = schedule.times[bar_steps]
    last_of_time = np.flatnonzero(np.append(t[1:] != t[:-1], True))
    samples = bar_steps[last_of_time]
    min_tf = min((f.tf_ns for f in engine.feeds.values()), default=0)
    index = utc_index(schedule.times[samples] - min_tf)

    cash = np.zeros(len(samples))
    c_steps, c_ccys, c_bals = (np.asarray(col) for col in zip(*pf.cash_log, strict=True))
    for ccy in np.unique(c_ccys):
        mask = c_ccys == ccy
        cash += _step_lookup(
            c_steps[mask].astype(np.int64), c_bals[mask].astype(float), samples, 0.0
        )
    if pf.pos_log:
        p_steps, p_syms, p_qty, p_cost = (np.asarray(col) for col in zip(*pf.pos_log, strict=True))
    else:
        p_steps = p_syms = p_qty = p_cost = np.empty(0)
    columns: dict[str, np.ndarray] = {}
    pos_value = np.zeros(len(samples))
    for sym, inst in engine.instruments.items():
        mask = p_syms == sym
        st = p_steps[mask].astype(np.int64)
        qty = _step_lookup(st, p_qty[mask].astype(float), samples, 0.0)
        cost = _step_lookup(st, p_cost[mask].astype(float), samples, 0.0)
        mark = _marks(schedule, engine, sym, samples)
        value = np.where(qty != 0, qty * np.nan_to_num(mark) * inst.multiplier, 0.0) + cost
        pos_value += value
        columns[f"qty:{sym}"] = qty
        columns[f"value:{sym}"] = value
    equity_arr = cash + pos_value
    equity = pd.Series(equity_arr, index=index, name="equity")
    frame = pd.DataFrame(
        {
            "equity": equity_arr,
            "cash": cash,
            "position_value": pos_value,
            "drawdown": equity_arr / np.maximum.accumulate(equity_arr) - 1.0,
            **columns,
        },
        index=index,
        copy=False,  # the arrays were built for this frame
    )

    trades, open_trades = round_trips(pf.fills, engine.instruments)
    trades = add_excursions(trades, {s: f.arrays for s, f in engine.exec_feed.items()})
    final_equity = float(equity_arr[-1]) if len(equity_arr) else pf.cash()
    metrics = basic_metrics(equity, trades)
    metrics["total_fees"] = pf.total_fees
    metrics["exposure_pct"] = float(np.mean(np.abs(pos_value) > 1e-12)) if len(pos_value) else 0.0
    metrics["realized_pnl"] = sum(p.realized_pnl - p.fees for p in pf.positions.values())
    venue = engine.venue
    fill_desc = venue.config.describe() if isinstance(venue, SimulatedVenue) else {}
    settings: dict[str, Any] = {
        "cash": cfg.cash,
        "currency": currency,
        "account": pf.account.type.value,
        "leverage": pf.account.leverage,
        "fees": cfg.fee_model().describe(),
        "slippage": cfg.slippage_model().describe(),
        "cost_basis": cfg.cost_basis.value,
        **fill_desc,
        "data": {
            sym: {
                "timeframe": f.timeframe,
                "bars": len(f),
                "start": pd.Timestamp(int(f.arrays["ts"][0]), tz="UTC").isoformat(),
                "end": pd.Timestamp(int(f.arrays["ts"][-1]), tz="UTC").isoformat(),
            }
            for (sym, _), f in engine.feeds.items()
            if len(f)
        },
    }
    marks = {s: engine.mark(s) for s in engine.instruments}
    positions = [
        p.to_dict(marks[s]) for s, p in pf.positions.items() if not p.is_flat or p.realized_pnl
    ]
    stats = {
        "events": n,
        "seconds": elapsed,
        "events_per_second": n / elapsed if elapsed > 0 else float("inf"),
    }
    return BacktestResult(
        strategy=bt.strategy.name,
        params=bt.strategy.get_params(),
        settings=settings,
        equity=equity,
        frame=frame,
        trades=trades,
        open_trades=open_trades,
        fill_log=list(pf.fills),
        order_log=list(engine.oms.orders.values()),
        positions=positions,
        metrics=metrics,
        final_equity=final_equity,
        stats=stats,
        bars=bt.bars,
        events=events,
    )


def _marks(schedule: Schedule, engine: TradingEngine, sym: str, samples: np.ndarray) -> np.ndarray:
    """The instrument's last known price at each sample step (bar close or tick price)."""
    from tradewind.engine.core import Feed

    steps_list: list[np.ndarray] = []
    price_list: list[np.ndarray] = []
    exec_feed = engine.exec_feed.get(sym)
    if len(schedule.source_list) == 1 and schedule.source_list[0] is exec_feed:
        closes: np.ndarray = exec_feed.arrays["close"][schedule.rows[samples]]
        return closes  # one feed: its closes
    for si, src in enumerate(schedule.source_list):
        mask = schedule.sources == si
        if isinstance(src, Feed):
            if src is not exec_feed:
                continue
            steps = np.flatnonzero(mask)
            prices = src.arrays["close"][schedule.rows[steps]]
        else:
            kind, s, df = src
            if s != sym:
                continue
            steps = np.flatnonzero(mask)
            rows = schedule.rows[steps]
            if kind == 1:
                prices = (df["bid"].to_numpy(float)[rows] + df["ask"].to_numpy(float)[rows]) / 2
            else:
                prices = df["price"].to_numpy(float)[rows]
        steps_list.append(steps)
        price_list.append(prices)
    if not steps_list:
        return np.full(len(samples), np.nan)
    steps = np.concatenate(steps_list)
    prices = np.concatenate(price_list)
    order = np.argsort(steps, kind="stable")
    return _step_lookup(steps[order], prices[order], samples, np.nan)
