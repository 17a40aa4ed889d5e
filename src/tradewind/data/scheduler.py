"""Keep chosen series up to date: ``tradewind data schedule CONFIG.yaml``.

Config (YAML)::

    catalog: ./catalog            # optional
    jobs:
      - source: ccxt:binance
        symbols: [BTC/USDT, ETH/USDT]
        timeframe: 1m
        start: 2024-01-01         # where a new series begins
        every: 5m                 # how often to update
        backfill: true            # also re-fetch gaps inside the stored range (24/7 only)

Each run of a job resumes every series from the catalog's last bar and (with ``backfill``)
re-requests the windows of any gaps, so the catalog itself is the scheduler's state: stopping
and restarting (or a crash) loses nothing, and the first run after a restart catches up. The
loop is APScheduler's ``BlockingScheduler`` with one interval job per config job
(``coalesce``: missed runs collapse into one; ``max_instances=1``: runs never overlap).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tradewind.data.catalog import Catalog
from tradewind.data.download import download
from tradewind.data.loader import ns_to_timeframe, timeframe_to_ns
from tradewind.data.quality import check_quality
from tradewind.data.symbols import SeriesKey, check_venue, is_crypto_venue, normalize_symbol
from tradewind.errors import ConfigError, TradewindError

Report = Callable[[str], None]


@dataclass
class Job:
    source: str
    symbols: list[str]
    timeframe: str
    start_ns: int
    every_s: float
    backfill: bool = True
    venue: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScheduleConfig:
    jobs: list[Job]
    catalog: Path | None = None


def load_config(path: str | Path) -> ScheduleConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"schedule file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("jobs"), list) or not raw["jobs"]:
        raise ConfigError(f"{path}: expected a mapping with a non-empty 'jobs' list")
    unknown = set(raw) - {"jobs", "catalog"}
    if unknown:
        raise ConfigError(
            f"{path}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}"
        )
    jobs = [_job(j, f"{path} jobs[{i}]") for i, j in enumerate(raw["jobs"])]
    catalog = Path(raw["catalog"]) if raw.get("catalog") else None
    return ScheduleConfig(jobs, catalog)


def _job(raw: Any, where: str) -> Job:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping")
    unknown = set(raw) - {"source", "symbols", "timeframe", "start", "every", "backfill",
                          "venue", "options"}  # fmt: skip
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for name in ("source", "symbols", "timeframe"):
        if name not in raw:
            raise ConfigError(f"{where}: '{name}' is required")
    symbols = raw["symbols"]
    if isinstance(symbols, str):
        symbols = [symbols]
    if not isinstance(symbols, list) or not symbols:
        raise ConfigError(f"{where}: 'symbols' must be a non-empty list")
    try:
        timeframe = ns_to_timeframe(timeframe_to_ns(str(raw["timeframe"])))
        every = timeframe_to_ns(str(raw.get("every", timeframe))) / 1e9
        venue = check_venue(str(raw["venue"])) if raw.get("venue") else None
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    try:
        parsed = pd.Timestamp(str(raw.get("start", "2024-01-01")))
        if pd.isna(parsed):
            raise ValueError
    except ValueError:
        raise ConfigError(f"{where}: start {raw.get('start')!r} is not a date") from None
    start = pd.Timestamp(parsed)
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    return Job(
        str(raw["source"]), [str(s) for s in symbols], timeframe, int(start.value), every,
        bool(raw.get("backfill", True)), venue, dict(raw.get("options") or {}),
    )  # fmt: skip


def run_job(job: Job, catalog: Catalog, report: Report, source: Any | None = None) -> None:
    """One pass: update every symbol of ``job``; a failing symbol is reported, not fatal."""
    from tradewind.data.sources import make_source, venue_of

    src = source or make_source(job.source, **job.options)
    venue = check_venue(job.venue or venue_of(job.source))
    tf_ns = timeframe_to_ns(job.timeframe)
    for symbol in job.symbols:
        key = SeriesKey(venue, normalize_symbol(symbol, venue), job.timeframe)
        try:
            result = download(catalog, src, key, symbol=symbol, start_ns=job.start_ns)
            line = f"{key}: +{result.stored} bars"
            if job.backfill and is_crypto_venue(venue) and key in catalog:
                filled = 0
                gaps = check_quality(
                    catalog.read(key), series=str(key), timeframe=job.timeframe
                ).gaps
                for gap in gaps:
                    end = gap.start_ns + gap.missing * tf_ns
                    filled += download(
                        catalog, src, key, symbol=symbol, start_ns=gap.start_ns, end_ns=end,
                        resume=False,
                    ).stored  # fmt: skip
                if gaps:
                    line += f", backfilled {filled} of {sum(g.missing for g in gaps)} missing"
            report(line)
        except TradewindError as exc:
            report(f"{key}: failed: {exc}")


def run_all(config: ScheduleConfig, catalog: Catalog, report: Report) -> None:
    for job in config.jobs:
        run_job(job, catalog, report)


def run_forever(config: ScheduleConfig, catalog: Catalog, report: Report) -> None:
    """Run every job now and then at its interval until interrupted (Ctrl-C)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="UTC")
    now = pd.Timestamp.now(tz="UTC").to_pydatetime()
    for i, job in enumerate(config.jobs):
        scheduler.add_job(
            run_job, "interval", seconds=job.every_s, args=(job, catalog, report),
            id=f"job{i}", next_run_time=now, coalesce=True, max_instances=1,
        )  # fmt: skip
    report(f"scheduler: {len(config.jobs)} job(s); Ctrl-C to stop")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        report("scheduler: stopped")
