"""Walk-forward analysis: optimize in-sample, trade the winner out-of-sample, roll forward.

Windows are counted in bars. Rolling: in-sample ``[s, s + train)``, out-of-sample
``[s + train, s + train + test)``, then ``s += test``. Anchored: the in-sample window always
starts at bar 0 and grows. Out-of-sample signals are computed over in-sample + out-of-sample
bars, so indicators are warmed up by data the optimizer has seen and nothing later.

Each out-of-sample window starts flat with the previous window's final equity (a position still
open at a window's end is valued at its last close and not carried over — the next window
starts from cash), and the windows' equity curves are stitched into one out-of-sample curve,
whose metrics are the honest estimate of the procedure. Vectorized strategies only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from tradewind.analytics.metrics import basic_metrics, empty_trades
from tradewind.backtest.optimize import Method, optimize
from tradewind.backtest.space import ParamSpace
from tradewind.backtest.vector.engine import Bars, Signals, VectorConfig, plain, simulate
from tradewind.backtest.vector.strategies import VectorStrategy
from tradewind.errors import ConfigError

Progress = Callable[[int, int], None]


def windows(n: int, train: int, test: int, *, anchored: bool = False) -> list[tuple[int, int, int]]:
    """``[(is_start, oos_start, oos_end)]`` bar indices; the last window may be shorter."""
    if train < 2 or test < 1:
        raise ConfigError(f"train must be >= 2 bars and test >= 1 bar, got {train} and {test}")
    if n < train + 1:
        raise ConfigError(f"walk-forward needs more than train={train} bars; the data has {n}")
    out = []
    start = 0
    while start + train < n:
        oos = start + train
        out.append((0 if anchored else start, oos, min(oos + test, n)))
        start += test
    return out


def _slice_signals(sig: Signals, offset: int) -> Signals:
    def cut(a: Any) -> Any:
        return None if a is None else np.asarray(a)[offset:]

    size = np.asarray(sig.size)
    return replace(
        sig,
        entries=cut(sig.entries),
        exits=cut(sig.exits),
        short_entries=cut(sig.short_entries),
        short_exits=cut(sig.short_exits),
        size=size[offset:] if size.ndim >= 1 and size.shape[0] > offset else sig.size,
    )


@dataclass
class WalkForwardResult:
    strategy: str
    objective: str
    anchored: bool
    train: int
    test: int
    windows: pd.DataFrame  # per window: bounds, chosen params, in-sample score, OOS metrics
    equity: pd.Series  # stitched out-of-sample equity
    metrics: dict[str, Any]  # of the stitched curve
    trades: pd.DataFrame
    elapsed_s: float
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        w = self.windows.copy()
        for c in w.columns:
            if pd.api.types.is_datetime64_any_dtype(w[c]):
                w[c] = w[c].map(lambda t: t.isoformat())
        return {
            "strategy": self.strategy,
            "objective": self.objective,
            "anchored": self.anchored,
            "train_bars": self.train,
            "test_bars": self.test,
            "elapsed_s": self.elapsed_s,
            "metrics": self.metrics,
            "windows": [{k: plain(v) for k, v in r.items()} for r in w.to_dict("records")],
            "settings": self.settings,
        }


def walk_forward(
    bars: Bars | pd.DataFrame,
    space: ParamSpace,
    *,
    train: int,
    test: int,
    anchored: bool = False,
    method: Method = "grid",
    objective: str = "sharpe",
    trials: int = 50,
    seed: int = 0,
    config: VectorConfig | None = None,
    progress: Progress | None = None,
) -> WalkForwardResult:
    """Run the walk-forward; ``progress(done_windows, windows)``."""
    t0 = time.perf_counter()
    b = bars if isinstance(bars, Bars) else Bars(bars)
    cls = space.strategy
    if not (isinstance(cls, type) and issubclass(cls, VectorStrategy)):
        raise ConfigError("walk-forward runs vectorized strategies (see `tradewind strategies`)")
    cfg = config or VectorConfig()
    cfg.validate()
    plan = windows(len(b), train, test, anchored=anchored)
    space.check_feasible(seed)
    rows: list[dict[str, Any]] = []
    curves: list[np.ndarray] = []
    trade_parts: list[pd.DataFrame] = []
    cash = cfg.cash
    for w, (is_start, oos_start, oos_end) in enumerate(plan):
        ins = b.slice(is_start, oos_start)
        opt = optimize(
            ins, cls.name, space, method=method, objectives=[objective], trials=trials,
            seed=seed + w, vector_config=cfg, overfit=False,
        )  # fmt: skip
        best = opt.best
        is_score = plain(opt.ranked().iloc[0][objective])
        span = b.slice(is_start, oos_end)
        sig = cls(**space.full(best)).signals(span)
        offset = oos_start - is_start
        oos_bars = b.slice(oos_start, oos_end) if oos_end - oos_start >= 2 else None
        if oos_bars is None:  # a one-bar tail cannot trade: flat
            curve = np.array([cash])
            m: dict[str, Any] = {"total_return": 0.0, "trades": 0}
        else:
            res = simulate(
                oos_bars, _slice_signals(sig, offset), replace(cfg, cash=cash), record=True
            )
            curve = res.equity["0"].to_numpy()
            m = res.summary()
            trades = res.trades.assign(window=w)
            trade_parts.append(trades)
        rows.append(
            {
                "window": w,
                "is_start": b.ts[is_start],
                "is_end": b.ts[oos_start - 1],
                "oos_start": b.ts[oos_start],
                "oos_end": b.ts[oos_end - 1],
                **{f"param_{k}": v for k, v in best.items()},
                f"is_{objective}": is_score,
                "oos_start_equity": cash,
                "oos_end_equity": float(curve[-1]),
                "oos_return": float(curve[-1] / cash - 1.0),
                f"oos_{objective}": plain(m.get(objective)),
                "oos_trades": int(m.get("trades") or 0),
            }
        )
        curves.append(curve)
        cash = float(curve[-1])
        if progress is not None:
            progress(w + 1, len(plan))
        if not cash > 0:
            break  # ruined: nothing left to trade
    table = pd.DataFrame(rows)
    for c in ("is_start", "is_end", "oos_start", "oos_end"):
        table[c] = pd.to_datetime(table[c], utc=True)
    stitched = np.concatenate(curves)
    first, last = plan[0][1], plan[len(curves) - 1][2]
    index = pd.to_datetime(b.ts[first:last], utc=True)
    equity = pd.Series(stitched, index=index, name="equity")
    trades = pd.concat(trade_parts, ignore_index=True) if trade_parts else pd.DataFrame()
    metrics = basic_metrics(equity, trades if len(trades) else empty_trades())
    metrics["windows"] = len(curves)
    settings = {
        "engine": "vectorized",
        "method": method,
        "trials": trials,
        "seed": seed,
        "space": space.describe(),
        "config": {k: plain(v) for k, v in cfg.__dict__.items()},
        "window_rule": "each OOS window starts flat with the previous window's final equity",
    }
    return WalkForwardResult(
        cls.name, objective, anchored, train, test, table, equity, metrics, trades,
        time.perf_counter() - t0, settings,
    )  # fmt: skip


def bars_for(duration: str | int, spacing_ns: float) -> int:
    """A window length: a bar count (``5000``) or a duration (``30d``, ``12h``, ``2w``)."""
    from tradewind.data.loader import timeframe_to_ns

    if isinstance(duration, int):
        return duration
    text = str(duration).strip()
    if text.isdigit():
        return int(text)
    ns = timeframe_to_ns(text)
    return max(1, round(ns / spacing_ns))


__all__: Sequence[str] = ["WalkForwardResult", "bars_for", "walk_forward", "windows"]
