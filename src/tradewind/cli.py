"""The ``tradewind`` command line: backtest, demo, report, strategies, data check.

Every error a user can cause (bad file, bad option, bad parameter) is a ``TradewindError``: it is
printed as ``error: <message>`` on stderr and the command exits with code 2, without a traceback
and without writing anything. Output files are staged beside their destination and moved into
place only after everything has been rendered, so a failed run never leaves a partial file and
never touches the output of an earlier run. Any other exception is a bug and shows a traceback.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich import box
from rich.padding import Padding
from rich.table import Table

from tradewind import __version__
from tradewind.backtest.result import BacktestResult
from tradewind.backtest.runner import Backtest, BacktestConfig
from tradewind.cli_data import data_app
from tradewind.cli_support import err_console as _err
from tradewind.cli_support import iso as _iso
from tradewind.cli_support import out_console as _out
from tradewind.cli_support import parse_time, progress_bar, say, user_errors
from tradewind.cli_support import print_repairs as _print_repairs
from tradewind.cli_support import print_written as _print_written
from tradewind.cli_support import short_time as _short_time
from tradewind.data.loader import (
    load_many,
    timeframe_to_ns,
)
from tradewind.errors import ConfigError, DataError
from tradewind.model.enums import AccountType
from tradewind.strategy.base import Strategy
from tradewind.strategy.params import ParamSpec
from tradewind.strategy.registry import builtin_strategies, load_strategy

__all__ = ["app", "main"]

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NS_PER_DAY = 86_400_000_000_000
_NS_MIN = int(np.iinfo(np.int64).min)
_NS_MAX = int(np.iinfo(np.int64).max)
_MAX_DATA_ROWS = 5  # instruments listed one by one in the summary

app = typer.Typer(
    name="tradewind",
    help="Tradewind: research and backtest systematic trading strategies.",
    epilog="Examples:\n\n"
    "  tradewind demo\n\n"
    "  tradewind backtest --data btc.csv.gz --strategy sma_cross --param fast=10\n\n"
    "  tradewind strategies\n\n"
    "  tradewind report run.json -o report.html\n\n"
    "  tradewind data check btc.csv.gz",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.add_typer(data_app, name="data")


def main() -> None:
    """Entry point of the ``tradewind`` script."""
    app()


# --- output helpers ---------------------------------------------------------------------------


# --- argument parsing -------------------------------------------------------------------------


def parse_params(items: Sequence[str] | None) -> dict[str, str]:
    """``["fast=10", "slow=30"]`` -> ``{"fast": "10", "slow": "30"}`` (values stay strings)."""
    params: dict[str, str] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"--param expects NAME=VALUE (e.g. fast=10), got {item!r}")
        if name in params:
            raise ConfigError(f"--param {name} is given more than once")
        params[name] = value.strip()
    return params


def require_finite(values: Mapping[str, float | None]) -> None:
    """Reject NaN/inf in numeric options (``float`` parsing accepts them)."""
    for option, value in values.items():
        if value is not None and not math.isfinite(value):
            raise ConfigError(f"{option} must be a finite number, got {value}")


def split_paths(items: Sequence[str]) -> list[Path]:
    """``--data a.csv,b.csv --data c.csv`` -> three paths (empty pieces are ignored)."""
    paths = [Path(p.strip()) for item in items for p in item.split(",") if p.strip()]
    if not paths:
        raise ConfigError("--data needs at least one file path")
    return paths


CATALOG_PREFIX = "catalog:"


def load_data(
    items: Sequence[str], catalog: Path | None, *, repair: bool, report: list[str]
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Files and ``catalog:venue:SYMBOL:tf`` series from ``--data``; returns (bars per
    instrument, timeframe per catalog instrument)."""
    pieces = [p.strip() for item in items for p in item.split(",") if p.strip()]
    series = [p for p in pieces if p.startswith(CATALOG_PREFIX)]
    files = [p for p in pieces if not p.startswith(CATALOG_PREFIX)]
    bars = load_many(split_paths(files), repair=repair, report=report) if files else {}
    timeframes: dict[str, str] = {}
    if series:
        from tradewind.data.catalog import Catalog
        from tradewind.data.symbols import SeriesKey

        cat = Catalog(catalog)
        for text in series:
            key = SeriesKey.parse(text[len(CATALOG_PREFIX) :])
            if key.symbol in bars:
                raise ConfigError(f"--data: instrument {key.symbol!r} is given twice")
            bars[key.symbol] = cat.read(key)
            timeframes[key.symbol] = key.timeframe
    if not bars:
        raise ConfigError("--data needs at least one file path or catalog:venue:SYMBOL:tf")
    return bars, timeframes


@dataclass(frozen=True)
class TimeRange:
    """Inclusive bounds on bar open times (int64 ns) from ``--start`` / ``--end``."""

    lo: int
    hi: int
    start: str | None = None
    end: str | None = None

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> TimeRange:
        """A date-only ``end`` includes that whole day; naive times are UTC."""
        lo = parse_time(start, "--start").value if start is not None else _NS_MIN
        hi = _NS_MAX
        if end is not None:
            t = parse_time(end, "--end").value
            hi = t + _NS_PER_DAY - 1 if _DATE_ONLY.fullmatch(end.strip()) else t
        if lo > hi:
            raise ConfigError(f"--start {start} is after --end {end}")
        return cls(int(lo), int(hi), start, end)

    def slice(self, data: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Keep the bars inside the range; ``DataError`` if a symbol has none left."""
        if self.lo == _NS_MIN and self.hi == _NS_MAX:
            return dict(data)
        out: dict[str, pd.DataFrame] = {}
        for sym, df in data.items():
            ts = df["ts"].to_numpy(np.int64)
            part = df[(ts >= self.lo) & (ts <= self.hi)].reset_index(drop=True)
            if part.empty:
                raise DataError(
                    f"{sym}: no bars between {self.start or 'the start'} and "
                    f"{self.end or 'the end'} (data covers {_iso(int(ts[0]))} to "
                    f"{_iso(int(ts[-1]))})"
                )
            out[sym] = part
        return out


def _check_output(path: Path | None, option: str) -> None:
    """Fail before any work if ``path`` cannot be written (missing directory, a directory)."""
    if path is None:
        return
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a directory (expected a file path)")
    if not path.parent.is_dir():
        raise ConfigError(f"{option}: directory {path.parent} does not exist")


# --- running ----------------------------------------------------------------------------------


def _run(backtest: Backtest, show_progress: bool) -> BacktestResult:
    """Run, with a transient Rich progress bar on stderr when asked to."""
    with progress_bar(show_progress, "backtest") as update:
        return backtest.run(progress=update)


@dataclass(frozen=True)
class _Output:
    """One file to write: where, and a function writing it (atomically) to a given path."""

    path: Path
    write: Callable[[Path], object]


def commit_outputs(outputs: Sequence[_Output]) -> list[Path]:
    """Write every output to a hidden temp file beside its destination, then move them all
    into place. If anything fails before the moves, the temp files are removed and every
    destination (including files of an earlier run) is left as it was."""
    staged: list[tuple[Path, Path]] = []
    try:
        for out in outputs:
            fd, name = tempfile.mkstemp(
                dir=out.path.parent, prefix=f".{out.path.name}.", suffix=".staged"
            )
            os.close(fd)
            tmp = Path(name)
            staged.append((tmp, out.path))
            out.write(tmp)
            os.chmod(tmp, 0o644)  # mkstemp files are 0600; outputs are ordinary files
        for tmp, dest in staged:
            os.replace(tmp, dest)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    return [dest for _, dest in staged]


def _result_outputs(
    result: BacktestResult, json_path: Path | None, report_path: Path | None
) -> list[_Output]:
    outputs: list[_Output] = []
    if json_path is not None:
        outputs.append(_Output(json_path, result.to_json))
    if report_path is not None:
        outputs.append(_Output(report_path, result.report))
    return outputs


def _fmt(value: Any, kind: str = "num") -> str:
    if value is None:
        return "n/a"
    if kind == "pct":
        return f"{value * 100:.2f}%"
    if kind == "int":
        return f"{int(value):,}"
    return f"{value:,.2f}"


def summary_table(result: BacktestResult) -> Table:
    """The key metrics and the assumptions of a run as one Rich table."""
    m, s = result.metrics, result.settings
    ccy = s.get("currency", "")
    table = Table(title=f"Backtest: {result.strategy}", show_header=False, title_justify="left")
    table.add_column("item", style="bold")
    table.add_column("value")
    params = ", ".join(f"{k}={v}" for k, v in result.params.items()) or "defaults"
    rows: list[tuple[str, str]] = [
        ("Strategy", f"{result.strategy} ({params})"),
        ("Period", f"{_short_time(m.get('start'))} → {_short_time(m.get('end'))}"),
        ("Initial equity", f"{_fmt(m.get('initial_equity'))} {ccy}"),
        ("Final equity", f"{_fmt(result.final_equity)} {ccy}"),
        ("Total return", _fmt(m.get("total_return"), "pct")),
        ("CAGR", _fmt(m.get("cagr"), "pct")),
        ("Sharpe / Sortino", f"{_fmt(m.get('sharpe'))} / {_fmt(m.get('sortino'))}"),
        ("Max drawdown", _fmt(m.get("max_drawdown"), "pct")),
        ("Trades", _fmt(m.get("num_trades"), "int")),
        ("Win rate", _fmt(m.get("win_rate"), "pct")),
        ("Profit factor", _fmt(m.get("profit_factor"))),
        ("Fees paid", f"{_fmt(m.get('total_fees'))} {ccy}"),
        ("Exposure", _fmt(m.get("exposure_pct"), "pct")),
    ]
    for row in rows:
        table.add_row(*row)
    table.add_section()
    volume_cap = s.get("volume_cap")
    assumptions: list[tuple[str, str]] = [
        ("Market orders fill at", str(s.get("market_orders_fill_at"))),
        ("Fees", str(s.get("fees"))),
        ("Slippage", str(s.get("slippage"))),
        ("Volume cap", "none" if volume_cap is None else f"{volume_cap:g} of bar volume"),
        ("Latency", f"{s.get('latency_ms', 0):g} ms"),
        ("Account", f"{s.get('account')} (leverage {s.get('leverage', 1):g})"),
    ]
    data_info = list(s.get("data", {}).items())
    for sym, info in data_info[:_MAX_DATA_ROWS]:
        assumptions.append((f"Data {sym}", f"{info['bars']:,} × {info['timeframe']} bars"))
    if len(data_info) > _MAX_DATA_ROWS:
        rest = data_info[_MAX_DATA_ROWS:]
        bars = sum(info["bars"] for _, info in rest)
        assumptions.append((f"Data +{len(rest)} more", f"{bars:,} bars"))
    for row in assumptions:
        table.add_row(*row)
    stats = result.stats
    table.add_row(
        "Speed",
        f"{stats['events']:,} events in {stats['seconds']:.2f}s "
        f"({stats['events_per_second']:,.0f}/s)",
    )
    return table


# --- commands ---------------------------------------------------------------------------------


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tradewind {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Tradewind: research and backtest systematic trading strategies."""


_BACKTEST_EPILOG = (
    "Examples:\n\n"
    "  tradewind backtest --data btc_1m.csv.gz --strategy sma_cross "
    "--param fast=10 --param slow=30 --commission 0.001 --json out.json --report report.html\n\n"
    "  tradewind backtest --data eth.csv,sol.csv --strategy pairs --account margin --leverage 2\n\n"
    "  tradewind backtest --data bars.parquet --strategy my_strats.py:Breakout "
    "--start 2024-01-01\n\n"
    "  tradewind backtest --data catalog:binance:BTC/USDT:1m --strategy sma_cross"
)


@app.command(epilog=_BACKTEST_EPILOG)
def backtest(
    data: Annotated[
        list[str],
        typer.Option(
            "--data",
            "-d",
            help="OHLCV file(s) (CSV, CSV.gz, Parquet) or catalog series "
            "catalog:venue:SYMBOL:tf; comma-separated and/or repeated.",
        ),
    ],
    strategy: Annotated[
        str,
        typer.Option(
            "--strategy",
            "-s",
            help="Built-in name (see `tradewind strategies`), module:Class or path/file.py:Class.",
        ),
    ],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Strategy parameter NAME=VALUE (repeatable)."),
    ] = None,
    cash: Annotated[float, typer.Option(help="Starting cash.")] = 100_000.0,
    commission: Annotated[
        float, typer.Option(help="Fee as a fraction of notional per fill (0.001 = 0.1%).")
    ] = 0.0,
    slippage_bps: Annotated[
        float, typer.Option(help="Slippage in basis points on every taker fill.")
    ] = 0.0,
    fill_at_close: Annotated[
        bool,
        typer.Option(
            "--fill-at-close", help="Fill market orders at the signal bar's close (optimistic)."
        ),
    ] = False,
    volume_cap: Annotated[
        float | None,
        typer.Option(help="Max fraction of a bar's volume one order may fill (0-1]."),
    ] = None,
    latency_ms: Annotated[float, typer.Option(help="Order submission latency in ms.")] = 0.0,
    leverage: Annotated[float, typer.Option(help="Leverage (> 1 implies a margin account).")] = 1.0,
    account: Annotated[
        AccountType | None,
        typer.Option(help="Account type (default: cash, or margin when leverage > 1)."),
    ] = None,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair", help="Drop bad rows, sort and de-duplicate instead of failing; report it."
        ),
    ] = False,
    start: Annotated[
        str | None, typer.Option(help="First bar (ISO date/time, UTC), inclusive.")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(help="Last bar (ISO date/time, UTC), inclusive; a date includes that day."),
    ] = None,
    timeframe: Annotated[
        str | None, typer.Option(help="Bar timeframe, e.g. 1m, 1h, 1d (default: inferred).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the full result as JSON here.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a self-contained HTML report here.")
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress bar or summary; only files and errors."),
    ] = False,
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="Catalog folder for catalog: data (default: $TRADEWIND_CATALOG or ./catalog)."
        ),
    ] = None,
) -> None:
    """Backtest a strategy on OHLCV files or catalog series and print a summary."""
    out = _out()
    with user_errors():
        if json_out is not None and report is not None and json_out.resolve() == report.resolve():
            raise ConfigError("--json and --report must be different files")
        _check_output(json_out, "--json")
        _check_output(report, "--report")
        strategy_obj = load_strategy(strategy)(**parse_params(param))
        require_finite(
            {
                "--cash": cash,
                "--commission": commission,
                "--slippage-bps": slippage_bps,
                "--volume-cap": volume_cap,
                "--latency-ms": latency_ms,
                "--leverage": leverage,
            }
        )
        config = BacktestConfig(
            cash=cash,
            commission=commission,
            slippage_bps=slippage_bps,
            fill_at_close=fill_at_close,
            volume_cap=volume_cap,
            latency_ms=latency_ms,
            account=account,
            leverage=leverage,
        )
        config.validate()  # also builds the fee and slippage models, which check their numbers
        if timeframe is not None:
            timeframe_to_ns(timeframe)
        time_range = TimeRange.parse(start, end)
        repairs: list[str] = []
        show = not quiet and out.is_terminal
        if show:
            with _err().status("loading data"):
                bars, known = load_data(data, catalog, repair=repair, report=repairs)
        else:
            bars, known = load_data(data, catalog, repair=repair, report=repairs)
        if repair and not quiet:
            _print_repairs(out, repairs)
        bars = time_range.slice(bars)
        timeframes = dict.fromkeys(bars, timeframe) if timeframe is not None else known or None
        run = Backtest(bars, strategy_obj, config, timeframes=timeframes)
        result = _run(run, show)
        written = commit_outputs(_result_outputs(result, json_out, report))
    if not quiet:
        out.print(summary_table(result))
    _print_written(out, written)


_DEMO_EPILOG = (
    "Examples:\n\n"
    "  tradewind demo\n\n"
    "  tradewind demo --out results --strategy macd_cross\n\n"
    "  tradewind demo --symbols MSFT --param fast=10 --param slow=40"
)
#: Daily-bar defaults for the demo's sma_cross (the built-in defaults suit minute bars).
DEMO_DEFAULTS: dict[str, dict[str, str]] = {"sma_cross": {"fast": "20", "slow": "50"}}


@app.command(epilog=_DEMO_EPILOG)
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Directory for demo.json and demo_report.html.")
    ] = Path("out"),
    strategy: Annotated[
        str, typer.Option("--strategy", "-s", help="Strategy to run (built-in name or spec).")
    ] = "sma_cross",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Strategy parameter NAME=VALUE (repeatable)."),
    ] = None,
    symbols: Annotated[
        str, typer.Option(help="Comma-separated demo tickers: AAPL, IBM, MSFT, GOOG, FB.")
    ] = "AAPL",
    cash: Annotated[float, typer.Option(help="Starting cash.")] = 100_000.0,
    commission: Annotated[
        float, typer.Option(help="Fee as a fraction of notional per fill.")
    ] = 0.001,
) -> None:
    """Backtest a built-in strategy on the embedded daily stock data (no network needed)."""
    from tradewind.demo import demo_bars

    out = _out()
    with user_errors():
        if out_dir.exists() and not out_dir.is_dir():
            raise ConfigError(f"--out {out_dir} exists and is not a directory")
        params = {**DEMO_DEFAULTS.get(strategy, {}), **parse_params(param)}
        strategy_obj = load_strategy(strategy)(**params)
        require_finite({"--cash": cash, "--commission": commission})
        config = BacktestConfig(cash=cash, commission=commission)
        config.validate()
        config.fee_model()
        tickers = list(dict.fromkeys(s.strip().upper() for s in symbols.split(",") if s.strip()))
        bars = demo_bars(tickers)
        say(
            out,
            f"demo data: {', '.join(tickers)} daily bars (Quandl WIKI via bokeh_sampledata, "
            "split/dividend-adjusted)",
        )
        result = _run(Backtest(bars, strategy_obj, config), show_progress=False)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = commit_outputs(
            _result_outputs(result, out_dir / "demo.json", out_dir / "demo_report.html")
        )
    out.print(summary_table(result))
    _print_written(out, written)


_REPORT_EPILOG = (
    "Examples:\n\n"
    "  tradewind backtest --data btc.csv.gz --strategy sma_cross --json run.json\n\n"
    "  tradewind report run.json -o report.html\n\n"
    "  tradewind report run.json -o report.html --benchmark btc_daily.csv"
)


@app.command("report", epilog=_REPORT_EPILOG)
def report_cmd(
    run: Annotated[Path, typer.Argument(help="Run JSON written by `tradewind backtest --json`.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the HTML tear sheet.")
    ],
    benchmark: Annotated[
        Path | None,
        typer.Option(
            help="CSV of benchmark prices (a time column and a close/price column), "
            "rebased to the starting equity."
        ),
    ] = None,
    title: Annotated[
        str | None, typer.Option(help="Page title (default: '<strategy> backtest').")
    ] = None,
) -> None:
    """Render the HTML tear sheet of a saved run (no candles: the JSON has no bars)."""
    from tradewind.backtest.tearsheet import load_benchmark, load_run, render_run
    from tradewind.files import write_atomic

    out = _out()
    with user_errors():
        _check_output(output, "--output")
        if output.resolve() == run.resolve():
            raise ConfigError("--output must not be the run JSON itself")
        data = load_run(run)
        bench = load_benchmark(benchmark) if benchmark is not None else None
        written = write_atomic(output, render_run(data, benchmark=bench, title=title))
    _print_written(out, [written])


def _describe(cls: type[Strategy]) -> str:
    """First paragraph of the class docstring, else of its module's, as one line."""
    doc = cls.__dict__.get("__doc__") or getattr(sys.modules.get(cls.__module__), "__doc__", "")
    first = (doc or "").strip().split("\n\n")[0]
    return " ".join(first.split())


def _bounds(spec: ParamSpec) -> str:
    parts = [
        f"{word} {bound:g}"
        for word, bound in ((">=", spec.ge), ("<=", spec.le), (">", spec.gt), ("<", spec.lt))
        if bound is not None
    ]
    return ", ".join(parts)


def strategies_info() -> list[dict[str, Any]]:
    """The built-in strategies and their parameters as plain data."""
    return [
        {
            "name": name,
            "description": _describe(cls),
            "params": [
                {
                    "name": spec.name,
                    "type": spec.type_name,
                    "default": spec.default,
                    "bounds": _bounds(spec),
                    "help": spec.help,
                }
                for spec in cls.params.values()
            ],
        }
        for name, cls in builtin_strategies().items()
    ]


@app.command(epilog="Examples:\n\n  tradewind strategies\n\n  tradewind strategies --json")
def strategies(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the built-in strategies with their parameters."""
    info = strategies_info()
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    out = _out()
    for item in info:
        out.print(f"[bold cyan]{item['name']}[/bold cyan]", highlight=False)
        say(out, f"  {item['description']}")
        table = Table(box=box.SIMPLE, pad_edge=False, padding=(0, 2, 0, 0))
        for col in ("parameter", "type", "default", "bounds", "help"):
            table.add_column(col, overflow="fold")
        for p in item["params"]:
            table.add_row(p["name"], p["type"], repr(p["default"]), p["bounds"], p["help"])
        out.print(Padding(table, (0, 0, 0, 2), expand=False))
    say(out, "use: tradewind backtest --strategy NAME --param NAME=VALUE ...")


# research commands (optimize, walkforward, montecarlo) register themselves on ``app``
from tradewind import cli_live, cli_research, cli_serve  # noqa: E402, F401  (register commands)
