"""Parameter optimization: grid, random and Bayesian (Optuna) search, single- or multi-objective.

Two engines evaluate parameter sets:

- ``vector`` (vectorized strategies, ``backtest.vector``): a batch of parameter sets becomes the
  columns of one compiled simulation (indicators computed once per window, columns in parallel
  threads) — thousands of sets per minute on a million bars;
- ``event`` (any event-driven ``Strategy``): one full backtest per set, fanned out on an
  executor (local processes by default, or Ray).

Every objective is a metric name from ``METRIC_COLUMNS`` (``sharpe``, ``total_return``,
``max_drawdown`` ...) with its natural direction (drawdown durations and fees are minimised;
``max_drawdown`` is a negative fraction and is maximised, i.e. brought towards 0). With several
objectives the result carries the Pareto front. The same seed gives the same trials.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd

from tradewind.analytics.overfit import column_sharpe, deflated_sharpe_ratio, pbo_cscv
from tradewind.backtest.executors import Executor, SerialExecutor
from tradewind.backtest.runner import BacktestConfig, run_backtest
from tradewind.backtest.space import ParamSpace
from tradewind.backtest.vector.engine import (
    METRIC_COLUMNS,
    Bars,
    Signals,
    VectorConfig,
    plain,
    simulate,
)
from tradewind.backtest.vector.strategies import VectorStrategy
from tradewind.errors import ConfigError
from tradewind.strategy.base import Strategy
from tradewind.strategy.registry import load_strategy

Engine = Literal["vector", "event"]
Method = Literal["grid", "random", "bayes"]
Progress = Callable[[int, int], None]
MINIMIZE = {"max_drawdown_duration_days", "total_fees", "volatility_ann"}
_DAY_NS = 86_400_000_000_000


def objective_directions(objectives: Sequence[str]) -> list[tuple[str, str]]:
    """``[(metric, "maximize" | "minimize")]``; unknown metrics are a ``ConfigError``."""
    if not objectives:
        raise ConfigError("give at least one objective metric")
    out: list[tuple[str, str]] = []
    for name in objectives:
        if name not in METRIC_COLUMNS:
            raise ConfigError(
                f"unknown objective {name!r}; choose from {', '.join(METRIC_COLUMNS)}"
            )
        out.append((name, "minimize" if name in MINIMIZE else "maximize"))
    if len({n for n, _ in out}) != len(out):
        raise ConfigError(f"objectives repeat a metric: {', '.join(objectives)}")
    return out


# --- evaluation -------------------------------------------------------------------------------


def _stack(signals: list[Signals], n: int) -> Signals:
    """Column-stack one-column signals (Fortran order: each column contiguous)."""
    k = len(signals)

    def block(attr: str) -> np.ndarray | None:
        if all(getattr(s, attr) is None for s in signals):
            return None
        out = np.zeros((n, k), dtype=np.bool_, order="F")
        for j, s in enumerate(signals):
            a = getattr(s, attr)
            if a is not None:
                out[:, j] = np.asarray(a, dtype=np.bool_).reshape(n)
        return out

    def per_column(attr: str) -> np.ndarray | None:
        vals = [getattr(s, attr) for s in signals]
        if all(v is None for v in vals):
            return None
        return np.array([np.nan if v is None else float(v) for v in vals])

    sizes = [np.asarray(s.size, dtype=np.float64) for s in signals]
    if all(sz.ndim == 0 for sz in sizes):
        size: Any = np.array([float(sz) for sz in sizes])
    else:
        size = np.empty((n, k), order="F")
        for j, sz in enumerate(sizes):
            size[:, j] = np.broadcast_to(sz, (n,))
    entries = block("entries")
    assert entries is not None
    return Signals(
        entries=entries,
        exits=block("exits"),
        short_entries=block("short_entries"),
        short_exits=block("short_exits"),
        size=size,
        sl_stop=per_column("sl_stop"),
        tp_stop=per_column("tp_stop"),
        trail_stop=per_column("trail_stop"),
    )


@dataclass
class Evaluation:
    """Metrics of evaluated parameter sets, and their sampled equity (for overfit statistics)."""

    metrics: pd.DataFrame  # one row per set, METRIC_COLUMNS
    samples: np.ndarray  # (sets, samples) equity at every ``every`` bars


def evaluate_vector(
    bars: Bars,
    strategy: type[VectorStrategy],
    points: Sequence[Mapping[str, Any]],
    config: VectorConfig,
    *,
    sample_every: int = 0,
    chunk: int = 32,
    progress: Progress | None = None,
) -> Evaluation:
    """Vectorized strategy, many parameter sets: ``chunk`` sets per compiled simulation."""
    n = len(bars)
    parts: list[pd.DataFrame] = []
    samples: list[np.ndarray] = []
    for start in range(0, len(points), chunk):
        batch = points[start : start + chunk]
        sigs = []
        for p in batch:
            s = strategy(**p).signals(bars)
            if s.columns != 1:
                raise ConfigError(f"{strategy.name}.signals must return one column per call")
            sigs.append(s)
        res = simulate(bars, _stack(sigs, n), config, record=False, sample_every=sample_every)
        parts.append(res.metrics[list(METRIC_COLUMNS)])
        samples.append(res.samples)
        if progress is not None:
            progress(min(start + chunk, len(points)), len(points))
    return Evaluation(
        pd.concat(parts, ignore_index=True), np.concatenate(samples) if samples else np.zeros(0)
    )


def event_metrics(result: Any, *, every: int = 0) -> tuple[dict[str, Any], np.ndarray]:
    """An event-driven ``BacktestResult`` as the optimizer's metrics (+ sampled equity)."""
    m = result.metrics
    frame = result.to_frame()
    qty = frame[[c for c in frame.columns if c.startswith("qty:")]].to_numpy()
    out = {k: m.get(k) for k in METRIC_COLUMNS}
    out["trades"] = m["num_trades"]
    out["exposure"] = float(np.mean(np.any(qty != 0, axis=1))) if qty.size else 0.0
    values = frame["equity"].to_numpy()
    sampled = np.zeros(0)
    if every:
        idx = np.unique(np.r_[np.arange(every - 1, len(values), every), len(values) - 1])
        sampled = values[idx]
    return {k: (math.nan if v is None else v) for k, v in out.items()}, sampled


def _event_task(
    symbol: str,
    frame: pd.DataFrame,
    spec: str,
    cfg: BacktestConfig,
    every: int,
    params: dict[str, Any],
) -> tuple[dict[str, Any], np.ndarray]:
    """One event-driven backtest (module level, so process pools and Ray can run it)."""
    result = run_backtest({symbol: frame}, load_strategy(spec), params, config=cfg)
    return event_metrics(result, every=every)


def evaluate_event(
    bars: Bars,
    strategy: str,
    points: Sequence[Mapping[str, Any]],
    config: BacktestConfig,
    *,
    executor: Executor | None = None,
    sample_every: int = 0,
    progress: Progress | None = None,
) -> Evaluation:
    """Event-driven strategy (named by built-in name or ``module:Class``), one run per set."""
    frame = bars.frame()
    # the data travels with the function (once per worker), not with every parameter set
    task = partial(_event_task, bars.symbol, frame, strategy, config, sample_every)
    ex = executor or SerialExecutor()
    out = ex.map(task, [dict(p) for p in points], progress=progress)
    metrics = pd.DataFrame([m for m, _ in out], columns=list(METRIC_COLUMNS))
    samples = np.stack([s for _, s in out]) if out and sample_every else np.zeros((len(out), 0))
    return Evaluation(metrics, samples)


# --- search -----------------------------------------------------------------------------------


def pareto_mask(values: np.ndarray, maximize: Sequence[bool]) -> np.ndarray:
    """Rows of ``values`` (sets × objectives) no other row dominates; a row with a NaN
    objective (e.g. a Sharpe ratio without trades) is never on the front."""
    bad = np.isnan(values).any(axis=1)
    v = np.where(np.isnan(values), -np.inf, values * np.where(maximize, 1.0, -1.0))
    n = len(v)
    keep: np.ndarray = ~bad
    for i in range(n):
        if not keep[i]:
            continue
        dominated = np.all(v >= v[i], axis=1) & np.any(v > v[i], axis=1)
        if dominated.any():
            keep[i] = False
    return keep


@dataclass
class OptimizationResult:
    """All trials (params + metrics), the best set, the Pareto front and overfit statistics."""

    strategy: str
    engine: str
    method: str
    objectives: list[tuple[str, str]]
    space: dict[str, Any]
    table: pd.DataFrame  # one row per trial: params, metrics, "pareto"
    seed: int
    elapsed_s: float
    overfit: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def param_names(self) -> list[str]:
        return list(self.space["dimensions"])

    @property
    def best(self) -> dict[str, Any]:
        """The best trial's searched parameters (first objective; ties: first trial)."""
        row = self.ranked().iloc[0]
        return {n: plain(row[n]) for n in self.param_names}

    def ranked(self) -> pd.DataFrame:
        name, direction = self.objectives[0]
        return self.table.sort_values(
            name, ascending=direction == "minimize", kind="stable", na_position="last"
        )

    def pareto(self) -> pd.DataFrame:
        return self.table[self.table["pareto"]]

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        rows = self.ranked()
        if top is not None:
            rows = rows.head(top)
        return {
            "strategy": self.strategy,
            "engine": self.engine,
            "method": self.method,
            "objectives": [{"metric": n, "direction": d} for n, d in self.objectives],
            "space": self.space,
            "seed": self.seed,
            "trials": len(self.table),
            "elapsed_s": self.elapsed_s,
            "best": self.best,
            "best_metrics": {k: plain(rows.iloc[0][k]) for k in METRIC_COLUMNS},
            "overfit": self.overfit,
            "settings": self.settings,
            "results": [{k: plain(v) for k, v in r.items()} for r in rows.to_dict("records")],
        }


def sample_every_for(bars: Bars) -> int:
    """Bars per sample for overfit statistics: one per day, at least 32 samples overall."""
    per_day = max(1, round(_DAY_NS / bars.spacing_ns))
    return max(1, min(per_day, len(bars) // 32))


def overfit_stats(
    samples: np.ndarray, table: pd.DataFrame, objective: str, maximize: bool
) -> dict[str, Any]:
    """Deflated Sharpe ratio of the best trial and PBO (CSCV) of the sweep, from each trial's
    equity sampled at a regular interval (daily by default)."""
    if samples.ndim != 2 or samples.shape[0] < 2 or samples.shape[1] < 9:
        return {"note": "needs at least 2 trials and 9 samples"}
    with np.errstate(divide="ignore", invalid="ignore"):
        rets = samples[:, 1:] / samples[:, :-1] - 1.0
    rets = np.where(np.isfinite(rets), rets, 0.0).T  # (periods, trials)
    out: dict[str, Any] = {"periods": int(rets.shape[0]), "trials": int(rets.shape[1])}
    scores = table[objective].to_numpy(np.float64)
    scores = np.where(np.isnan(scores), -np.inf if maximize else np.inf, scores)
    best = int(np.argmax(scores) if maximize else np.argmin(scores))
    try:
        trial_sr = column_sharpe(rets)
        dsr = deflated_sharpe_ratio(rets[:, best], trial_sr[np.isfinite(trial_sr)])
        out["deflated_sharpe"] = dsr.to_dict()
    except ConfigError as exc:
        out["deflated_sharpe"] = {"error": str(exc)}
    splits = min(16, (rets.shape[0] // 2) * 2)
    try:
        pbo = pbo_cscv(rets, n_splits=splits)
        out["pbo"] = pbo.to_dict(arrays=False)
    except ConfigError as exc:
        out["pbo"] = {"error": str(exc)}
    return out


def optimize(
    bars: Bars | pd.DataFrame,
    strategy: str | type[VectorStrategy] | type[Strategy],
    space: ParamSpace,
    *,
    engine: Engine = "vector",
    method: Method = "grid",
    objectives: Sequence[str] = ("sharpe",),
    trials: int = 100,
    seed: int = 0,
    vector_config: VectorConfig | None = None,
    event_config: BacktestConfig | None = None,
    executor: Executor | None = None,
    batch: int = 32,
    overfit: bool = True,
    progress: Progress | None = None,
) -> OptimizationResult:
    """Search ``space`` for the best parameters. Validation happens first: a bad space,
    objective or method raises ``ConfigError`` before any backtest runs."""
    t0 = time.perf_counter()
    b = bars if isinstance(bars, Bars) else Bars(bars)
    dirs = objective_directions(objectives)
    if method not in ("grid", "random", "bayes"):
        raise ConfigError(f"unknown method {method!r}; choose grid, random or bayes")
    if engine not in ("vector", "event"):
        raise ConfigError(f"unknown engine {engine!r}; choose vector or event")
    if batch < 1:
        raise ConfigError(f"batch must be >= 1, got {batch}")
    space.check_feasible(seed)
    every = sample_every_for(b) if overfit else 0
    vcfg = vector_config or VectorConfig()
    ecfg = event_config or BacktestConfig()
    vcfg.validate()
    ecfg.validate()
    name = strategy if isinstance(strategy, str) else strategy.name

    def run(points: Sequence[dict[str, Any]], prog: Progress | None) -> Evaluation:
        full = [space.full(p) for p in points]
        if engine == "vector":
            assert isinstance(space.strategy, type) and issubclass(space.strategy, VectorStrategy)
            return evaluate_vector(b, space.strategy, full, vcfg, sample_every=every, progress=prog)
        spec = strategy if isinstance(strategy, str) else _spec_of(strategy)
        return evaluate_event(
            b, spec, full, ecfg, executor=executor, sample_every=every, progress=prog
        )

    if method == "bayes":
        points, ev = _bayes(space, dirs, trials, seed, batch, run, progress)
    else:
        points = space.grid() if method == "grid" else space.random(trials, seed)
        ev = run(points, progress)
    table = pd.concat(
        [pd.DataFrame(points, columns=space.names), ev.metrics.reset_index(drop=True)], axis=1
    )
    values = table[[n for n, _ in dirs]].to_numpy(np.float64)
    table["pareto"] = pareto_mask(values, [d == "maximize" for _, d in dirs])
    stats = overfit_stats(ev.samples, table, dirs[0][0], dirs[0][1] == "maximize") if every else {}
    settings: dict[str, Any] = {
        "engine_config": _jsonable(asdict(vcfg if engine == "vector" else ecfg)),
        "sample_every_bars": every,
    }
    return OptimizationResult(
        name,
        engine,
        method,
        dirs,
        space.describe(),
        table,
        seed,
        time.perf_counter() - t0,
        stats,
        settings,
    )


def _jsonable(d: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: plain(v) if isinstance(v, int | float | bool | str | type(None)) else str(v)
        for k, v in d.items()
    }


def _spec_of(cls: type) -> str:
    from tradewind.strategy.registry import builtin_strategies

    for key, value in builtin_strategies().items():
        if value is cls:
            return key
    return f"{cls.__module__}:{cls.__qualname__}"


def _bayes(
    space: ParamSpace,
    dirs: list[tuple[str, str]],
    trials: int,
    seed: int,
    batch: int,
    run: Callable[[Sequence[dict[str, Any]], Progress | None], Evaluation],
    progress: Progress | None,
) -> tuple[list[dict[str, Any]], Evaluation]:
    """Optuna TPE (multi-objective TPE for several objectives), asked in batches so each
    batch is one vectorized simulation or one executor map."""
    import optuna

    if trials < 1:
        raise ConfigError(f"--trials must be >= 1, got {trials}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, trials))
    study = optuna.create_study(
        directions=[optuna.study.StudyDirection[d.upper()] for _, d in dirs], sampler=sampler
    )
    points: list[dict[str, Any]] = []
    metrics: list[pd.DataFrame] = []
    samples: list[np.ndarray] = []
    seen: dict[tuple[Any, ...], list[float]] = {}  # TPE re-suggests points; run each once
    size = space.grid_size() if space.gridable else math.inf
    rejected = 0
    while len(points) < trials and len(seen) < size:
        asked: list[tuple[Any, dict[str, Any]]] = []
        while len(asked) < min(batch, trials - len(points)) and len(seen) + len(asked) < size:
            t = study.ask()
            p = _suggest(t, space)
            key = tuple(p.values())
            if (
                key in seen
                or not space.allowed(p)
                or any(key == tuple(q.values()) for _, q in asked)
            ):
                if key in seen and all(math.isfinite(v) for v in seen[key]):
                    study.tell(t, seen[key])
                elif key in seen:
                    study.tell(t, state=optuna.trial.TrialState.FAIL)
                else:
                    study.tell(t, state=optuna.trial.TrialState.PRUNED)
                rejected += 1
                if rejected > 50 * trials:
                    if asked or points:
                        size = 0  # the sampler keeps circling known points: stop here
                        break
                    raise ConfigError(
                        "the constraints reject almost every suggested parameter set; "
                        "narrow the ranges or use --method grid"
                    )
                continue
            asked.append((t, p))
        if not asked:
            break
        ev = run([p for _, p in asked], None)
        for (t, p), row in zip(asked, ev.metrics.itertuples(index=False), strict=True):
            vals = [float(getattr(row, n)) for n, _ in dirs]
            if all(math.isfinite(v) for v in vals):
                study.tell(t, vals)
                seen[tuple(p.values())] = vals
            else:
                study.tell(t, state=optuna.trial.TrialState.FAIL)
                seen[tuple(p.values())] = [math.nan] * len(vals)
        points.extend(p for _, p in asked)
        metrics.append(ev.metrics)
        samples.append(ev.samples)
        if progress is not None:
            progress(len(points), trials)
    return points, Evaluation(pd.concat(metrics, ignore_index=True), np.concatenate(samples))


def _suggest(trial: Any, space: ParamSpace) -> dict[str, Any]:
    p: dict[str, Any] = {}
    for d in space.dims:
        if d.continuous:
            assert d.low is not None and d.high is not None
            p[d.name] = trial.suggest_float(d.name, d.low, d.high)
        else:
            p[d.name] = trial.suggest_categorical(d.name, list(d.values))
    return p


__all__ = [
    "OptimizationResult",
    "ParamSpace",
    "evaluate_event",
    "evaluate_vector",
    "objective_directions",
    "optimize",
    "pareto_mask",
]
