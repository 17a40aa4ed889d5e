"""``tradewind optimize | walkforward | montecarlo``: research at scale from the command line.

Thin layer over ``backtest.optimize``, ``backtest.walkforward`` and ``backtest.mc_runner``:
parse and check everything first (a bad parameter space fails before any backtest runs), show
a progress bar on stderr, print a summary, and write JSON / HTML outputs all-or-nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from tradewind.backtest.executors import Executor, make_executor
from tradewind.backtest.runner import BacktestConfig
from tradewind.backtest.space import ParamSpace
from tradewind.backtest.vector.engine import Bars, VectorConfig
from tradewind.backtest.vector.strategies import (
    VECTOR_BUILTINS,
    VectorStrategy,
    load_vector_strategy,
)
from tradewind.cli import (
    TimeRange,
    _check_output,
    _Output,
    app,
    commit_outputs,
    load_data,
    parse_params,
    require_finite,
)
from tradewind.cli_support import (
    err_console,
    out_console,
    print_written,
    progress_bar,
    say,
    user_errors,
)
from tradewind.errors import ConfigError, StrategyNotFound
from tradewind.strategy.params import Parameterized
from tradewind.strategy.registry import load_strategy

DataOpt = Annotated[
    list[str],
    typer.Option("--data", "-d", help="One OHLCV file or catalog:venue:SYMBOL:tf series."),
]
StrategyOpt = Annotated[
    str,
    typer.Option("--strategy", "-s", help="Built-in name, module:Class or path/file.py:Class."),
]
SpaceOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        help="NAME=START:STOP[:STEP] (range), NAME=A,B,C (choices) or NAME=VALUE (fixed).",
    ),
]
ConstraintOpt = Annotated[
    list[str] | None,
    typer.Option("--constraint", "-c", help="Keep only sets where this holds, e.g. 'fast < slow'."),
]
EngineOpt = Annotated[
    str,
    typer.Option(
        help="vector (vectorized strategies, fast) or event (any strategy); "
        "default: vector when the strategy has a vectorized form."
    ),
]
CashOpt = Annotated[float, typer.Option(help="Starting cash.")]
CommissionOpt = Annotated[float, typer.Option(help="Fee as a fraction of notional per fill.")]
SlippageOpt = Annotated[float, typer.Option(help="Slippage in bps on taker fills.")]
SeedOpt = Annotated[int, typer.Option(help="Random seed (same seed, same trials).")]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the result as JSON here.")]
ReportOpt = Annotated[Path | None, typer.Option("--report", help="Write an HTML report here.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")]
CatalogOpt = Annotated[Path | None, typer.Option(help="Catalog folder for catalog: data.")]
StartOpt = Annotated[str | None, typer.Option(help="First bar (ISO date/time, UTC).")]
EndOpt = Annotated[str | None, typer.Option(help="Last bar (ISO date/time, UTC), inclusive.")]


def _check_search(method: str) -> None:
    if method not in ("grid", "random", "bayes"):
        raise ConfigError(f"--method must be grid, random or bayes, got {method!r}")


def _one_series(
    data: Sequence[str], catalog: Path | None, start: str | None, end: str | None
) -> tuple[str, pd.DataFrame]:
    bars, _ = load_data(data, catalog, repair=False, report=[])
    bars = TimeRange.parse(start, end).slice(bars)
    if len(bars) != 1:
        raise ConfigError(f"--data: research commands take one series, got {len(bars)}")
    return next(iter(bars.items()))


def _strategy(spec: str, engine: str | None) -> tuple[str, type[Parameterized]]:
    """(engine, class): the vectorized form when asked for or available, else event-driven."""
    if engine not in (None, "vector", "event"):
        raise ConfigError(f"--engine must be vector or event, got {engine!r}")
    if engine == "event":
        return "event", load_strategy(spec)
    try:
        return "vector", load_vector_strategy(spec)
    except StrategyNotFound:
        if engine == "vector":
            raise
        return "event", load_strategy(spec)


def _configs(
    cash: float, commission: float, slippage_bps: float, fill_at_close: bool
) -> tuple[VectorConfig, BacktestConfig]:
    require_finite({"--cash": cash, "--commission": commission, "--slippage-bps": slippage_bps})
    v = VectorConfig(cash, commission, slippage_bps, fill_at_close)
    e = BacktestConfig(
        cash=cash, commission=commission, slippage_bps=slippage_bps, fill_at_close=fill_at_close
    )
    v.validate()
    e.validate()
    return v, e


def _outputs(
    json_out: Path | None,
    report: Path | None,
    to_dict: Callable[[], Any],
    write_report: Callable[[Path], Any],
) -> list[_Output]:
    if json_out is not None and report is not None and json_out.resolve() == report.resolve():
        raise ConfigError("--json and --report must be different files")
    outs = []
    if json_out is not None:
        outs.append(
            _Output(json_out, lambda p: p.write_text(json.dumps(to_dict(), indent=1, default=str)))
        )
    if report is not None:
        outs.append(_Output(report, write_report))
    return outs


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return str(v)


_OPT_EPILOG = (
    "Examples:\n\n"
    "  tradewind optimize -d btc.csv.gz -s sma_cross -p fast=5:50:5 -p slow=20:200:20 "
    "-c 'fast < slow' --commission 0.001 --report opt.html\n\n"
    "  tradewind optimize -d btc.csv.gz -s sma_cross -p fast=2:60 -p slow=20:300 "
    "--method bayes --trials 200 --objective sharpe --objective max_drawdown\n\n"
    "  tradewind optimize -d eth.csv -s ema_rsi -p rsi_period=5:30:5 --engine event "
    "--executor ray --address auto"
)


@app.command("optimize", epilog=_OPT_EPILOG)
def optimize_cmd(
    data: DataOpt,
    strategy: StrategyOpt,
    param: SpaceOpt = None,
    constraint: ConstraintOpt = None,
    method: Annotated[str, typer.Option(help="grid, random or bayes (Optuna TPE).")] = "grid",
    trials: Annotated[int, typer.Option(help="Trials for random / bayes.")] = 100,
    objective: Annotated[
        list[str] | None,
        typer.Option(help="Metric to optimize (repeat for multi-objective / Pareto)."),
    ] = None,
    engine: EngineOpt = "",
    executor: Annotated[str, typer.Option(help="local (process pool), ray or serial.")] = "local",
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: all cores).")
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (with --executor ray).")
    ] = None,
    seed: SeedOpt = 0,
    cash: CashOpt = 100_000.0,
    commission: CommissionOpt = 0.0,
    slippage_bps: SlippageOpt = 0.0,
    fill_at_close: Annotated[bool, typer.Option("--fill-at-close")] = False,
    no_overfit: Annotated[
        bool, typer.Option("--no-overfit", help="Skip deflated Sharpe and PBO.")
    ] = False,
    top: Annotated[int, typer.Option(help="Rows of the summary table.")] = 10,
    start: StartOpt = None,
    end: EndOpt = None,
    json_out: JsonOpt = None,
    report: ReportOpt = None,
    quiet: QuietOpt = False,
    catalog: CatalogOpt = None,
) -> None:
    """Search a strategy's parameters (grid / random / Bayesian); rank them; measure overfit."""
    from tradewind.backtest.optimize import objective_directions, optimize
    from tradewind.backtest.research_report import write_optimization_report

    out = out_console()
    with user_errors():
        _check_output(json_out, "--json")
        _check_output(report, "--report")
        eng, cls = _strategy(strategy, engine or None)
        space = ParamSpace(cls, parse_params(param), constraint or [])
        objectives = objective or ["sharpe"]
        objective_directions(objectives)
        _check_search(method)
        space.check_feasible(seed)
        vcfg, ecfg = _configs(cash, commission, slippage_bps, fill_at_close)
        ex: Executor | None = (
            make_executor(executor, workers=workers, address=address) if eng == "event" else None
        )
        symbol, frame = _one_series(data, catalog, start, end)
        show = not quiet and err_console().is_terminal
        try:
            with progress_bar(show, f"{method} search") as prog:
                result = optimize(
                    Bars(frame, symbol), strategy, space, engine=eng,  # type: ignore[arg-type]
                    method=method, objectives=objectives, trials=trials, seed=seed,  # type: ignore[arg-type]
                    vector_config=vcfg, event_config=ecfg, executor=ex,
                    overfit=not no_overfit, progress=prog,
                )  # fmt: skip
        finally:
            if ex is not None:
                ex.close()
        outputs = _outputs(
            json_out, report, result.to_dict, lambda p: write_optimization_report(result, p)
        )
        written = commit_outputs(outputs)
    if not quiet:
        table = Table(title=f"{strategy}: {len(result.table)} trials ({result.elapsed_s:.2f} s)")
        cols = [*result.param_names, *(m for m, _ in result.objectives)]
        cols += [c for c in ("total_return", "max_drawdown", "trades") if c not in cols]
        for c in cols:
            table.add_column(c, justify="right")
        for row in result.ranked().head(top)[cols].itertuples(index=False):
            table.add_row(*(_fmt(v) for v in row))
        out.print(table)
        say(out, f"best: {', '.join(f'{k}={v}' for k, v in result.best.items())}")
        dsr = result.overfit.get("deflated_sharpe", {})
        pbo = result.overfit.get("pbo", {})
        if "dsr" in dsr and "pbo" in pbo:
            say(
                out,
                f"deflated Sharpe {dsr['dsr']:.3f}, probability of overfitting {pbo['pbo']:.3f}",
            )
    print_written(out, written)


_WF_EPILOG = (
    "Examples:\n\n"
    "  tradewind walkforward -d btc.csv.gz -s sma_cross -p fast=5:50:5 -p slow=20:200:20 "
    "-c 'fast < slow' --train 60d --test 14d --commission 0.001 --report wf.html\n\n"
    "  tradewind walkforward -d btc.csv.gz -s rsi_reversion -p period=5:30:5 --train 20000 "
    "--test 5000 --anchored --method random --trials 20"
)


@app.command("walkforward", epilog=_WF_EPILOG)
def walkforward_cmd(
    data: DataOpt,
    strategy: StrategyOpt,
    train: Annotated[str, typer.Option(help="In-sample window: bars (5000) or a duration (30d).")],
    test: Annotated[str, typer.Option(help="Out-of-sample window: bars or a duration (7d).")],
    param: SpaceOpt = None,
    constraint: ConstraintOpt = None,
    anchored: Annotated[
        bool, typer.Option("--anchored", help="In-sample always starts at the first bar.")
    ] = False,
    method: Annotated[str, typer.Option(help="grid, random or bayes.")] = "grid",
    trials: Annotated[int, typer.Option(help="Trials per window for random / bayes.")] = 50,
    objective: Annotated[str, typer.Option(help="Metric chosen in-sample.")] = "sharpe",
    seed: SeedOpt = 0,
    cash: CashOpt = 100_000.0,
    commission: CommissionOpt = 0.0,
    slippage_bps: SlippageOpt = 0.0,
    start: StartOpt = None,
    end: EndOpt = None,
    json_out: JsonOpt = None,
    report: ReportOpt = None,
    quiet: QuietOpt = False,
    catalog: CatalogOpt = None,
) -> None:
    """Walk-forward: optimize in-sample, trade the winner out-of-sample, stitch the results."""
    from tradewind.backtest.optimize import objective_directions
    from tradewind.backtest.research_report import write_walkforward_report
    from tradewind.backtest.walkforward import bars_for, walk_forward, windows

    out = out_console()
    with user_errors():
        _check_output(json_out, "--json")
        _check_output(report, "--report")
        _, cls = _strategy(strategy, "vector")
        space = ParamSpace(cls, parse_params(param), constraint or [])
        objective_directions([objective])
        _check_search(method)
        space.check_feasible(seed)
        vcfg, _ = _configs(cash, commission, slippage_bps, False)
        symbol, frame = _one_series(data, catalog, start, end)
        bars = Bars(frame, symbol)
        n_train, n_test = bars_for(train, bars.spacing_ns), bars_for(test, bars.spacing_ns)
        plan = windows(len(bars), n_train, n_test, anchored=anchored)
        show = not quiet and err_console().is_terminal
        with progress_bar(show, f"walk-forward ({len(plan)} windows)") as prog:
            result = walk_forward(
                bars, space, train=n_train, test=n_test, anchored=anchored,
                method=method, objective=objective, trials=trials, seed=seed,  # type: ignore[arg-type]
                config=vcfg, progress=prog,
            )  # fmt: skip
        outputs = _outputs(
            json_out, report, result.to_dict, lambda p: write_walkforward_report(result, p)
        )
        written = commit_outputs(outputs)
    if not quiet:
        table = Table(title=f"walk-forward {strategy}: {len(result.windows)} windows")
        show_cols = [
            "window",
            "oos_start",
            *[str(c) for c in result.windows if str(c).startswith("param_")],
        ]
        show_cols += [f"is_{objective}", f"oos_{objective}", "oos_return"]
        for c in show_cols:
            table.add_column(c, justify="right")
        for row in result.windows[show_cols].itertuples(index=False):
            table.add_row(
                *(
                    _fmt(v) if not isinstance(v, pd.Timestamp) else v.strftime("%Y-%m-%d %H:%M")
                    for v in row
                )
            )
        out.print(table)
        m = result.metrics
        say(
            out,
            f"out-of-sample: total return {_fmt(m['total_return'])}, sharpe {_fmt(m['sharpe'])}, "
            f"max drawdown {_fmt(m['max_drawdown'])}",
        )
    print_written(out, written)


_MC_EPILOG = (
    "Examples:\n\n"
    "  tradewind montecarlo -d btc.csv.gz -s sma_cross -p fast=10 -p slow=30 "
    "--commission 0.001 --method reshuffle --report mc.html\n\n"
    "  tradewind montecarlo -d btc.csv.gz -s sma_cross --method block --block 1440 --sims 2000\n\n"
    "  tradewind montecarlo -d eth.csv -s sma_cross --method synthetic --sims 200"
)


@app.command("montecarlo", epilog=_MC_EPILOG)
def montecarlo_cmd(
    data: DataOpt,
    strategy: StrategyOpt,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Strategy parameter NAME=VALUE.")
    ] = None,
    method: Annotated[
        str, typer.Option(help="reshuffle, trade_bootstrap, block or synthetic.")
    ] = "reshuffle",
    sims: Annotated[int, typer.Option(help="Number of simulated paths.")] = 1000,
    ruin: Annotated[float, typer.Option(help="Ruin: equity at or below this × initial.")] = 0.5,
    block: Annotated[int | None, typer.Option(help="Block length in bars (block method).")] = None,
    engine: EngineOpt = "",
    seed: SeedOpt = 0,
    cash: CashOpt = 100_000.0,
    commission: CommissionOpt = 0.0,
    slippage_bps: SlippageOpt = 0.0,
    start: StartOpt = None,
    end: EndOpt = None,
    json_out: JsonOpt = None,
    report: ReportOpt = None,
    quiet: QuietOpt = False,
    catalog: CatalogOpt = None,
) -> None:
    """Monte Carlo: distributions of final equity, drawdown and time under water; ruin odds."""
    from tradewind.backtest.mc_runner import METHODS, run_montecarlo
    from tradewind.backtest.montecarlo import MCConfig
    from tradewind.backtest.montecarlo_report import write_montecarlo_report

    out = out_console()
    with user_errors():
        _check_output(json_out, "--json")
        _check_output(report, "--report")
        if method not in METHODS:
            raise ConfigError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
        mc = MCConfig(n_sims=sims, seed=seed, ruin=ruin, block=block)
        eng, cls = _strategy(strategy, engine or None)
        params = parse_params(param)
        cls(**params)  # checks names, types and bounds now
        vcfg, ecfg = _configs(cash, commission, slippage_bps, False)
        symbol, frame = _one_series(data, catalog, start, end)
        show = not quiet and err_console().is_terminal
        vec = cls if eng == "vector" and issubclass(cls, VectorStrategy) else None
        with progress_bar(show, f"Monte Carlo ({method})") as prog:
            result = run_montecarlo(
                frame, strategy, params, method, mc, vector=vec,  # type: ignore[arg-type]
                vector_config=vcfg, event_config=ecfg, progress=prog,
            )  # fmt: skip
        title = f"Monte Carlo: {strategy} on {symbol}"
        outputs = _outputs(
            json_out,
            report,
            result.to_dict,
            lambda p: write_montecarlo_report(result, p, title=title),
        )
        written = commit_outputs(outputs)
    if not quiet:
        s = result.summary()
        table = Table(title=f"{method}: {sims} paths (seed {seed})")
        for c in ("", "original", "p5", "p50", "p95"):
            table.add_column(c, justify="right")
        for name in ("final_equity", "max_drawdown", "time_under_water"):
            table.add_row(
                name,
                *(
                    _fmt(s.get(k))
                    for k in (f"original_{name}", f"{name}_p5", f"{name}_p50", f"{name}_p95")
                ),
            )
        out.print(table)
        say(out, f"probability of ruin (equity <= {ruin:g} x initial): {s['ruin_probability']:.4f}")
    print_written(out, written)


__all__ = ["VECTOR_BUILTINS", "montecarlo_cmd", "optimize_cmd", "walkforward_cmd"]
