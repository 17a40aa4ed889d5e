"""``tradewind data …``: the market-data catalog from the command line.

import · list · show · validate · repair · resample · download · merge · synth · schedule ·
check. Every command takes ``--catalog DIR`` (default ``$TRADEWIND_CATALOG`` or ``./catalog``),
prints a table, and with ``--json`` prints JSON instead (for scripts). Errors are one line,
``error: …``, exit code 2, and leave the catalog unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tradewind.cli_support import (
    EXIT_USER_ERROR,
    err_console,
    iso,
    os_message,
    out_console,
    parse_time,
    print_repairs,
    say,
    short_time,
    user_errors,
)
from tradewind.data.catalog import Catalog
from tradewind.data.loader import infer_timeframe_ns, load_ohlcv, ns_to_timeframe, timeframe_to_ns
from tradewind.data.symbols import SeriesKey, is_crypto_venue
from tradewind.errors import ConfigError, TradewindError

data_app = typer.Typer(
    help="The market-data catalog: import, inspect, validate, repair, resample, download.",
    no_args_is_help=True,
)

CatalogOpt = Annotated[
    Path | None,
    typer.Option(
        "--catalog", help="Catalog folder (default: $TRADEWIND_CATALOG or ./catalog).",
        show_default=False,
    ),
]  # fmt: skip
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _print_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=1, default=str))


def _series_row(key: str, rows: int, start_ns: int, end_ns: int) -> dict[str, Any]:
    return {"series": key, "rows": rows, "start": iso(start_ns), "end": iso(end_ns)}


# ------------------------------------------------------------------------------ import
@data_app.command(
    "import",
    epilog="Examples:\n\n"
    "  tradewind data import ../shared/data/binance_BTCUSDT_1m.csv.gz\n\n"
    "  tradewind data import prices.csv --venue us --symbol AAPL --timeframe 1d\n\n"
    "  tradewind data import stocks.csv.gz --venue us --repair   (long: a symbol column)\n\n"
    "  tradewind data import closes.csv --layout wide --venue us  (one column per symbol)\n\n"
    "  tradewind data import x.csv --map timestamp=Date --map close='Adj Close' --delimiter ';'",
)
def import_cmd(
    path: Annotated[Path, typer.Argument(help="CSV, CSV.gz or Parquet file.")],
    symbol: Annotated[
        str | None, typer.Option(help="Symbol of a single-series file (or the one to take).")
    ] = None,
    timeframe: Annotated[
        str | None, typer.Option(help="e.g. 1m, 1h, 1d (default: inferred).")
    ] = None,
    venue: Annotated[
        str | None,
        typer.Option(help="Venue (default: from a venue_SYMBOL_tf file name, else local)."),
    ] = None,
    layout: Annotated[
        str, typer.Option(help="auto, single, long (symbol column) or wide (a column per symbol).")
    ] = "auto",
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="OURS=THEIRS column mapping, e.g. timestamp=Date (repeatable)."),
    ] = None,
    delimiter: Annotated[str, typer.Option(help="CSV field separator.")] = ",",
    repair: Annotated[
        bool, typer.Option("--repair", help="Drop bad rows, sort, de-duplicate; report it.")
    ] = False,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a file completely, then add its series to the catalog (all or nothing)."""
    from tradewind.data.importer import ImportOptions, import_file

    with user_errors():
        if layout not in ("auto", "single", "long", "wide"):
            raise ConfigError(f"--layout {layout!r} is not one of auto, single, long, wide")
        options = ImportOptions(
            venue=venue, symbol=symbol, timeframe=timeframe, layout=layout,  # type: ignore[arg-type]
            columns=_parse_map(map_), delimiter=_unescape(delimiter), repair=repair,
        )  # fmt: skip
        cat = Catalog(catalog)
        with err_console().status(f"importing {path.name}"):
            result = import_file(cat, path, options)
        entries = cat.manifest()
    rows = [
        {
            **_series_row(
                str(k), entries[str(k)].rows, entries[str(k)].start_ns, entries[str(k)].end_ns
            ),
            "added": result.written.added[str(k)],
            "changed": result.written.changed[str(k)],
        }
        for k in result.keys
    ]
    if as_json:
        _print_json({"catalog": str(cat.root), "series": rows, "repairs": result.report})
        return
    out = out_console()
    if repair:
        print_repairs(out, result.report)
    _print_series_table(rows[:20], f"Imported {len(rows)} series into {cat.root}")
    if len(rows) > 20:
        say(out, f"… and {len(rows) - 20} more (tradewind data list)")


def _parse_map(items: list[str] | None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    allowed = ("timestamp", "open", "high", "low", "close", "volume", "symbol")
    for item in items or ():
        ours, sep, theirs = item.partition("=")
        ours = ours.strip().lower()
        if not sep or not theirs.strip():
            raise ConfigError(f"--map expects OURS=THEIRS (e.g. timestamp=Date), got {item!r}")
        if ours not in allowed:
            raise ConfigError(f"--map {ours!r} is not one of {', '.join(allowed)}")
        mapping[ours] = theirs.strip()
    return mapping


def _unescape(delimiter: str) -> str:
    value = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
    if len(value) != 1:
        raise ConfigError(f"--delimiter must be one character, got {delimiter!r}")
    return value


def _print_series_table(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title, title_justify="left")
    cols = list(rows[0]) if rows else ["series", "rows", "start", "end"]
    for col in cols:
        table.add_column(col, justify="right" if col in ("rows", "added", "changed") else "left")
    for row in rows:
        table.add_row(
            *(
                f"{v:,}"
                if isinstance(v, int)
                else short_time(v)
                if c in ("start", "end")
                else str(v)
                for c, v in row.items()
            )
        )
    out_console().print(table)


# ------------------------------------------------------------------------------ list / show
@data_app.command(
    "list", epilog="Examples:\n\n  tradewind data list\n\n  tradewind data list --json"
)
def list_cmd(catalog: CatalogOpt = None, as_json: JsonOpt = False) -> None:
    """Every series in the catalog: rows and time range."""
    with user_errors():
        cat = Catalog(catalog)
        entries = cat.entries()
    rows = [
        {**_series_row(e.key, e.rows, e.start_ns, e.end_ns), "source": e.source} for e in entries
    ]
    if as_json:
        _print_json({"catalog": str(cat.root), "series": rows})
        return
    if not rows:
        say(out_console(), f"catalog {cat.root} is empty (tradewind data import FILE)")
        return
    _print_series_table(rows, f"{len(rows)} series in {cat.root}")


@data_app.command(
    "show",
    epilog="Examples:\n\n"
    "  tradewind data show binance:BTC/USDT:1m --start 2024-03-01 --end 2024-03-02\n\n"
    "  tradewind data show us:AAPL:1d --tail 5 --json",
)
def show_cmd(
    key: Annotated[str, typer.Argument(help="Series, venue:SYMBOL:timeframe.")],
    start: Annotated[str | None, typer.Option(help="First bar (ISO, UTC), inclusive.")] = None,
    end: Annotated[str | None, typer.Option(help="End (ISO, UTC), exclusive.")] = None,
    head: Annotated[int, typer.Option(help="Rows from the start to print (0: none).")] = 5,
    tail: Annotated[int, typer.Option(help="Rows from the end to print.")] = 5,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Bars of one series between --start and --end."""
    with user_errors():
        cat = Catalog(catalog)
        lo = parse_time(start, "--start").value if start else None
        hi = parse_time(end, "--end").value if end else None
        bars = cat.read(SeriesKey.parse(key), lo, hi)
    shown = pd.concat([bars.head(head), bars.tail(tail)]) if len(bars) > head + tail else bars
    shown = shown[~shown.index.duplicated()]
    if as_json:
        records = shown.assign(ts=[iso(int(t)) for t in shown["ts"]]).to_dict("records")
        _print_json({"series": key, "rows": len(bars), "bars": records})
        return
    table = Table(title=f"{key}: {len(bars):,} bars", title_justify="left")
    for col in ("time", "open", "high", "low", "close", "volume"):
        table.add_column(col, justify="left" if col == "time" else "right")
    prev: int | None = None
    for pos, row in zip(shown.index.to_numpy(np.int64), shown.to_dict("records"), strict=True):
        idx = int(pos)
        if prev is not None and idx != prev + 1:
            table.add_row("…", "", "", "", "", "")
        table.add_row(
            short_time(iso(int(row["ts"]))),
            *(f"{row[c]:,.8g}" for c in ("open", "high", "low", "close", "volume")),
        )
        prev = idx
    out_console().print(table)


# ------------------------------------------------------------------------------ validate
@data_app.command(
    "validate",
    epilog="Examples:\n\n  tradewind data validate binance:BTC/USDT:1m\n\n"
    "  tradewind data validate ../shared/data/binance_BTCUSDT_1m.csv.gz\n\n"
    "  tradewind data validate us:AAPL:1d --calendar XNYS --json",
)
def validate_cmd(
    target: Annotated[str, typer.Argument(help="A catalog series (venue:SYMBOL:tf) or a file.")],
    calendar: Annotated[
        str | None,
        typer.Option(help="24/7 or an exchange (XNYS …); default 24/7 for crypto, else XNYS."),
    ] = None,
    spike_sigmas: Annotated[float, typer.Option(help="Outlier threshold in robust sigmas.")] = 12.0,
    min_spike: Annotated[
        float, typer.Option(help="Smallest move called an outlier (0.05 = 5%).")
    ] = 0.05,
    min_zero_run: Annotated[
        int, typer.Option(help="Zero-volume bars in a row worth reporting.")
    ] = 3,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Report gaps, duplicates, outliers, OHLC inconsistencies and zero-volume runs.

    Exit code 0 when clean, 1 when something was found, 2 on an error."""
    from tradewind.data.quality import check_quality

    with user_errors():
        reports = []
        for name, bars, tf, venue, problems in _targets(target, catalog):
            cal = calendar or ("24/7" if is_crypto_venue(venue) else "XNYS")
            rep = check_quality(
                bars, series=name, timeframe=tf, calendar=cal, spike_sigmas=spike_sigmas,
                min_spike=min_spike, min_zero_run=min_zero_run,
            )  # fmt: skip
            rep.file_problems = problems
            reports.append(rep)
    if as_json:
        _print_json([r.to_dict() for r in reports])
    else:
        out = out_console()
        for rep in reports:
            tf_ns = timeframe_to_ns(rep.timeframe)
            say(out, f"{rep.series}: {rep.rows:,} bars, {rep.timeframe}, calendar {rep.calendar}")
            lines = [
                *(f"  duplicate/inconsistent rows: {p}" for p in rep.file_problems),
                *(f"  gap: {g.describe(tf_ns)}" for g in rep.gaps),
                *(f"  outlier: {s.describe()}" for s in rep.spikes),
                *(f"  zero volume: {z.describe()}" for z in rep.zero_volume),
            ]
            for line in lines[:50]:
                say(out, line, style="yellow")
            if len(lines) > 50:
                say(out, f"  … and {len(lines) - 50} more (use --json for all)")
            say(
                out,
                f"  {len(rep.gaps)} gap(s), {len(rep.spikes)} outlier(s), "
                f"{len(rep.zero_volume)} zero-volume run(s), "
                f"{len(rep.file_problems)} file problem(s)",
            )
    if not all(r.clean for r in reports):
        raise typer.Exit(1)


def _targets(
    target: str, catalog: Path | None
) -> list[tuple[str, pd.DataFrame, str, str, list[str]]]:
    """(name, bars, timeframe, venue, file problems) for a catalog key or for each symbol of a
    file (read with repair so duplicates and bad rows are reported, not fatal)."""
    path = Path(target)
    if path.exists():
        problems: list[str] = []
        frames = load_ohlcv(path, repair=True, report=problems)
        from tradewind.data.importer import venue_from_path

        venue = venue_from_path(path)
        out = []
        for sym, bars in frames.items():
            ts = bars["ts"].to_numpy(np.int64)
            tf = ns_to_timeframe(infer_timeframe_ns(ts)) if len(ts) > 1 else "1d"
            out.append((f"{path.name} ({sym})", bars, tf, venue, problems))
        return out
    if target.count(":") != 2:
        raise ConfigError(f"{target!r} is neither a file nor a catalog series venue:SYMBOL:tf")
    key = SeriesKey.parse(target)
    return [(str(key), Catalog(catalog).read(key), key.timeframe, key.venue, [])]


# ------------------------------------------------------------------------------ repair
@data_app.command(
    "repair",
    epilog="Examples:\n\n  tradewind data repair binance:BTC/USDT:1m --fill-gaps\n\n"
    "  tradewind data repair us:XYZ:1d --drop-spikes --dry-run",
)
def repair_cmd(
    key: Annotated[str, typer.Argument(help="Catalog series venue:SYMBOL:tf.")],
    fill_gaps: Annotated[
        bool,
        typer.Option(
            "--fill-gaps", help="Insert flat bars (previous close, volume 0) in 24/7 gaps."
        ),
    ] = False,
    drop_spikes: Annotated[
        bool, typer.Option("--drop-spikes", help="Remove one-bar spike outliers.")
    ] = False,
    drop_zero_volume: Annotated[
        bool, typer.Option("--drop-zero-volume", help="Remove reported zero-volume runs.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report only; change nothing.")
    ] = False,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply explicit fixes to a catalog series and report each one (atomic)."""
    from tradewind.data.repair import repair_series

    with user_errors():
        if not (fill_gaps or drop_spikes or drop_zero_volume):
            raise ConfigError(
                "choose at least one fix: --fill-gaps, --drop-spikes, --drop-zero-volume"
            )
        cat = Catalog(catalog)
        series = SeriesKey.parse(key)
        bars = cat.read(series)
        fixed, actions = repair_series(
            bars, series, fill_gaps=fill_gaps, drop_spikes=drop_spikes,
            drop_zero_volume=drop_zero_volume,
        )  # fmt: skip
        if actions and not dry_run:
            cat.write({str(series): fixed}, replace=True, source=cat.entry(series).source)
    if as_json:
        _print_json(
            {
                "series": key,
                "actions": actions,
                "rows_before": len(bars),
                "rows_after": len(fixed),
                "written": bool(actions) and not dry_run,
            }
        )
        return
    out = out_console()
    for line in actions or ["nothing to repair"]:
        say(out, f"repair: {line}", style="yellow")
    if actions:
        say(
            out,
            f"{key}: {len(bars):,} -> {len(fixed):,} bars"
            + (" (dry run, not written)" if dry_run else ""),
        )


# ------------------------------------------------------------------------------ resample
@data_app.command(
    "resample",
    epilog="Examples:\n\n  tradewind data resample binance:BTC/USDT:1m --to 1h\n\n"
    "  tradewind data resample us:AAPL:1d --to 1w",
)
def resample_cmd(
    key: Annotated[str, typer.Argument(help="Catalog series venue:SYMBOL:tf.")],
    to: Annotated[str, typer.Option("--to", help="Target timeframe, e.g. 1h, 4h, 1d, 1w.")],
    calendar: Annotated[
        str | None,
        typer.Option(
            help="24/7 (epoch-aligned) or an exchange (XNYS …: session-aligned); "
            "default 24/7 for crypto venues, else XNYS."
        ),
    ] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Aggregate a series to a coarser timeframe and store it beside the original."""
    from tradewind.data.resample import resample_bars, resample_sessions

    with user_errors():
        cat = Catalog(catalog)
        series = SeriesKey.parse(key)
        target = SeriesKey(series.venue, series.symbol, ns_to_timeframe(timeframe_to_ns(to)))
        bars = cat.read(series)
        base, tf = timeframe_to_ns(series.timeframe), timeframe_to_ns(to)
        cal = calendar or ("24/7" if is_crypto_venue(series.venue) else "XNYS")
        out = (
            resample_bars(bars, tf, base)
            if cal == "24/7"
            else resample_sessions(bars, tf, base, cal)
        )
        if out.empty:
            raise ConfigError(f"{key}: no complete {to} bar in the data")
        cat.write({str(target): out}, replace=True, source=f"resample:{series}")
    row = _series_row(str(target), len(out), int(out["ts"].iloc[0]), int(out["ts"].iloc[-1]))
    if as_json:
        _print_json({**row, "from": key, "calendar": cal})
        return
    _print_series_table([row], f"Resampled {key} to {to} ({cal})")


# ------------------------------------------------------------------------------ synth
@data_app.command(
    "synth",
    epilog="Examples:\n\n  tradewind data synth --bars 100000 --timeframe 1m --seed 7\n\n"
    "  tradewind data synth --symbol SYN2 --volatility 0.3 --jumps-per-year 0",
)
def synth_cmd(
    symbol: Annotated[str, typer.Option(help="Symbol to store it under.")] = "SYN/USD",
    venue: Annotated[str, typer.Option(help="Venue to store it under.")] = "synth",
    bars: Annotated[int, typer.Option(help="Number of bars.")] = 10_000,
    timeframe: Annotated[str, typer.Option(help="Bar timeframe.")] = "1m",
    start: Annotated[str, typer.Option(help="First bar's time (UTC).")] = "2024-01-01",
    price: Annotated[float, typer.Option(help="Starting price.")] = 100.0,
    drift: Annotated[float, typer.Option(help="Annual drift, calm regime.")] = 0.05,
    volatility: Annotated[float, typer.Option(help="Annual volatility, calm regime.")] = 0.6,
    switch_prob: Annotated[float, typer.Option(help="Regime switch probability per bar.")] = 0.001,
    jumps_per_year: Annotated[float, typer.Option(help="Mean jumps per year.")] = 20.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bars).")] = 7,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate deterministic GBM bars with regimes and jumps into the catalog."""
    from tradewind.data.synth import SynthSpec, synth_bars

    with user_errors():
        spec = SynthSpec(
            bars=bars, timeframe=timeframe, start=start, price=price, drift=drift,
            volatility=volatility, switch_prob=switch_prob, jumps_per_year=jumps_per_year,
            seed=seed,
        )  # fmt: skip
        frame, _ = synth_bars(spec)
        key = SeriesKey(venue, symbol, ns_to_timeframe(timeframe_to_ns(timeframe)))
        cat = Catalog(catalog)
        cat.write({str(key): frame}, replace=True, source=f"synth:seed={seed}")
    row = _series_row(str(key), len(frame), int(frame["ts"].iloc[0]), int(frame["ts"].iloc[-1]))
    if as_json:
        _print_json(row)
        return
    _print_series_table([row], f"Synthetic series in {cat.root}")


# ------------------------------------------------------------------------------ download
@data_app.command(
    "download",
    epilog="Examples:\n\n"
    "  tradewind data download ccxt:binance BTC/USDT --timeframe 1m --start 2024-01-01\n\n"
    "  tradewind data download yahoo AAPL --timeframe 1d --start 2015-01-01 --venue us\n\n"
    "  tradewind data download geckoterminal <pool-address> --timeframe 5m --start 2025-01-01",
)
def download_cmd(
    source: Annotated[
        str,
        typer.Argument(
            help="ccxt:EXCHANGE, yahoo, alpaca, polygon, alphavantage, geckoterminal, birdeye."
        ),
    ],
    symbol: Annotated[
        str, typer.Argument(help="The provider's symbol (BTC/USDT, AAPL, a pool or mint address).")
    ],
    timeframe: Annotated[str, typer.Option(help="Bar timeframe.")] = "1d",
    start: Annotated[
        str, typer.Option(help="First bar (ISO, UTC) when the catalog has none.")
    ] = "2024-01-01",
    end: Annotated[
        str | None, typer.Option(help="End (ISO, UTC), exclusive; default: now.")
    ] = None,
    venue: Annotated[
        str | None, typer.Option(help="Catalog venue (default: the exchange or source name).")
    ] = None,
    as_symbol: Annotated[
        str | None,
        typer.Option("--as", help="Catalog symbol (default: normalized provider symbol)."),
    ] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Download bars into the catalog: resumes after the last stored bar, validates pages,
    commits every few pages (an interrupted download keeps what it got)."""
    from tradewind.data.download import download
    from tradewind.data.sources import make_source, venue_of
    from tradewind.data.symbols import normalize_symbol

    with user_errors():
        src = make_source(source)
        v = venue or venue_of(source)
        key = SeriesKey(
            v, as_symbol or normalize_symbol(symbol, v), ns_to_timeframe(timeframe_to_ns(timeframe))
        )
        lo = parse_time(start, "--start").value
        hi = parse_time(end, "--end").value if end else None
        cat = Catalog(catalog)
        with Progress(
            SpinnerColumn(), TextColumn("[progress.description]{task.description}"), BarColumn(),
            TextColumn("{task.fields[bars]:,} bars, up to {task.fields[last]}"),
            TimeElapsedColumn(),
            console=err_console(), transient=True, disable=as_json,
        ) as progress:  # fmt: skip
            span = (hi or pd.Timestamp.now(tz="UTC").value) - lo
            task = progress.add_task(f"{source} {symbol}", total=max(span, 1), bars=0, last="-")

            def on_page(count: int, last_ns: int) -> None:
                progress.update(
                    task, completed=last_ns - lo, bars=count, last=short_time(iso(last_ns))
                )

            result = download(cat, src, key, symbol=symbol, start_ns=lo, end_ns=hi, on_page=on_page)
    payload = {
        "series": str(key), "fetched": result.fetched, "stored": result.stored,
        "pages": result.pages, "resumed_from": iso(result.start_ns) if result.start_ns else None,
        "dropped": result.dropped,
    }  # fmt: skip
    if as_json:
        _print_json(payload)
        return
    out = out_console()
    for line in result.dropped:
        say(out, f"dropped: {line}", style="yellow")
    say(
        out,
        f"{key}: {result.fetched:,} bars fetched in {result.pages} page(s), "
        f"{result.stored:,} new, from {payload['resumed_from']}",
    )


# ------------------------------------------------------------------------------ merge
@data_app.command(
    "merge",
    epilog="Examples:\n\n  tradewind data merge birdeye:SOL/USDC:1m geckoterminal:SOL/USDC:1m "
    "--into solana:SOL/USDC:1m --conflicts conflicts.csv",
)
def merge_cmd(
    keys: Annotated[list[str], typer.Argument(help="Series in precedence order (first wins).")],
    into: Annotated[str, typer.Option("--into", help="Series to write the merge to.")],
    tolerance: Annotated[
        float, typer.Option(help="Relative close difference that is a conflict.")
    ] = 0.005,
    conflicts: Annotated[
        Path | None, typer.Option(help="Write the side-by-side conflict table (CSV) here.")
    ] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Merge several series of one instrument with a precedence rule; report conflicts."""
    from tradewind.data.merge import merge_series
    from tradewind.files import write_atomic

    with user_errors():
        if len(keys) < 2:
            raise ConfigError("merge needs at least two series")
        cat = Catalog(catalog)
        parsed = [SeriesKey.parse(k) for k in keys]
        target = SeriesKey.parse(into)
        if len({k.timeframe for k in parsed} | {target.timeframe}) != 1:
            raise ConfigError("all series and --into must have the same timeframe")
        merged, table, counts = merge_series(
            {str(k): cat.read(k) for k in parsed}, tolerance=tolerance
        )
        if conflicts is not None:
            write_atomic(conflicts, table.to_csv(index=False))
        cat.write({str(target): merged}, replace=True, source="merge:" + ",".join(keys))
    payload = {"into": into, "rows": len(merged), "taken": counts, "conflicts": len(table)}
    if as_json:
        _print_json(payload)
        return
    out = out_console()
    say(
        out,
        f"{into}: {len(merged):,} bars; taken per source: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
    )
    say(
        out,
        f"{len(table):,} conflicting bar(s) beyond {tolerance:.2%}"
        + (f" (written to {conflicts})" if conflicts else ""),
    )
    if len(table):
        out.print(table.head(10).to_string(index=False), markup=False)


# ------------------------------------------------------------------------------ schedule
@data_app.command(
    "schedule",
    epilog="Examples:\n\n  tradewind data schedule update.yaml\n\n"
    "  tradewind data schedule update.yaml --once",
)
def schedule_cmd(
    config: Annotated[Path, typer.Argument(help="YAML file listing what to keep up to date.")],
    once: Annotated[
        bool, typer.Option("--once", help="Run every job once and exit (for cron).")
    ] = False,
    catalog: CatalogOpt = None,
) -> None:
    """Keep chosen symbols up to date (APScheduler): each run resumes from the catalog and
    backfills gaps, so a restart simply carries on."""
    from tradewind.data.scheduler import load_config, run_all, run_forever

    with user_errors():
        cfg = load_config(config)
        cat = Catalog(catalog or cfg.catalog)
        out = out_console()

        def report(line: str) -> None:
            say(out, line)

        if once:
            run_all(cfg, cat, report)
        else:
            run_forever(cfg, cat, report)


# ------------------------------------------------------------------------------ check (files)
_CHECK_EPILOG = (
    "Examples:\n\n  tradewind data check btc_1m.csv.gz\n\n  tradewind data check *.csv.gz --repair"
)


@data_app.command("check", epilog=_CHECK_EPILOG)
def data_check(
    paths: Annotated[list[Path], typer.Argument(help="Files to check.")],
    repair: Annotated[
        bool, typer.Option("--repair", help="Show what --repair would drop, and the result.")
    ] = False,
) -> None:
    """Validate OHLCV files: rows, symbols, timeframe and range per symbol, or the error
    (nothing is written)."""
    out, failed = out_console(), 0
    table = Table(title="Data check", title_justify="left")
    for col in ("file", "symbol", "rows", "timeframe", "start", "end"):
        table.add_column(col, justify="right" if col == "rows" else "left", overflow="fold")
    for path in paths:
        repairs: list[str] = []
        try:
            frames = load_ohlcv(path, repair=repair, report=repairs)
        except TradewindError as exc:
            failed += 1
            err_console().print(f"error: {exc}", style="red", markup=False, soft_wrap=True)
            continue
        except OSError as exc:
            failed += 1
            err_console().print(
                f"error: {os_message(exc)}", style="red", markup=False, soft_wrap=True
            )
            continue
        if repair:
            print_repairs(out, repairs)
        for sym, df in frames.items():
            ts = df["ts"].to_numpy(np.int64)
            tf = ns_to_timeframe(infer_timeframe_ns(ts)) if len(ts) > 1 else "n/a"
            first, last = short_time(iso(int(ts[0]))), short_time(iso(int(ts[-1])))
            table.add_row(str(path), sym, f"{len(df):,}", tf, first, last)
    if table.row_count:
        out.print(table)
    if failed:
        raise typer.Exit(EXIT_USER_ERROR)
