"""The update scheduler: config loading and one pass of a job (resume, backfill, failures)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradewind.data import sources
from tradewind.data.catalog import Catalog
from tradewind.data.scheduler import Job, ScheduleConfig, load_config, run_all, run_job
from tradewind.data.sources.base import SourceError, bars_frame
from tradewind.data.symbols import SeriesKey
from tradewind.errors import ConfigError

MIN_NS = 60_000_000_000
T0_NS = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z
COLUMNS = ["ts", "open", "high", "low", "close", "volume"]


def series(n: int, level: float = 100.0) -> pd.DataFrame:
    """Clean 1m bars from T0: open level+i, high +2, low -1, close +1, volume 10+i."""
    i = np.arange(n, dtype=np.int64)
    base = level + i
    return pd.DataFrame(
        {
            "ts": T0_NS + i * MIN_NS,
            "open": base,
            "high": base + 2.0,
            "low": base - 1.0,
            "close": base + 1.0,
            "volume": 10.0 + i,
        }
    )


@dataclass
class Call:
    symbol: str
    start_ns: int
    end_ns: int | None


class FakeSource:
    """Per provider symbol a bar series served in pages; symbols in ``failing`` raise."""

    name = "fake"

    def __init__(
        self,
        data: dict[str, pd.DataFrame],
        *,
        failing: frozenset[str] = frozenset(),
        page_size: int = 4,
    ) -> None:
        self.data = data
        self.failing = failing
        self.page_size = page_size
        self.calls: list[Call] = []

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, start_ns: int, end_ns: int | None = None
    ) -> Iterator[pd.DataFrame]:
        assert timeframe == "1m"
        self.calls.append(Call(symbol, start_ns, end_ns))
        if symbol in self.failing:
            raise SourceError(f"fake: {symbol} is delisted")
        return self._pages(self.data[symbol], start_ns, end_ns)

    def _pages(
        self, bars: pd.DataFrame, start_ns: int, end_ns: int | None
    ) -> Iterator[pd.DataFrame]:
        ts = bars["ts"].to_numpy(np.int64)
        keep = ts >= start_ns
        if end_ns is not None:
            keep &= ts < end_ns
        chosen = bars[keep].reset_index(drop=True)
        for lo in range(0, len(chosen), self.page_size):
            p = chosen.iloc[lo : lo + self.page_size]
            yield bars_frame(p["ts"], p["open"], p["high"], p["low"], p["close"], p["volume"])


def job(symbols: list[str], *, venue: str = "binance", backfill: bool = True) -> Job:
    return Job("fake", symbols, "1m", T0_NS, 60.0, backfill, venue)


def key(symbol: str = "BTC/USDT", venue: str = "binance") -> SeriesKey:
    return SeriesKey(venue, symbol, "1m")


def write_yaml(tmp_path: Path, text: str, name: str = "schedule.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- load_config

VALID = """\
catalog: ./mycat
jobs:
  - source: ccxt:binance
    symbols: [BTC/USDT, ETH/USDT]
    timeframe: 1m
    start: 2024-01-01
    every: 5m
    backfill: true
  - source: yahoo
    symbols: AAPL
    timeframe: 60m
    start: "2024-02-03T04:00:00+01:00"
    backfill: false
    venue: us
    options: {rate_per_sec: 2}
"""


def test_load_config_reads_every_field(tmp_path: Path) -> None:
    config = load_config(write_yaml(tmp_path, VALID))

    assert isinstance(config, ScheduleConfig)
    assert config.catalog == Path("./mycat")
    first, second = config.jobs
    assert first.source == "ccxt:binance"
    assert first.symbols == ["BTC/USDT", "ETH/USDT"]
    assert first.timeframe == "1m"
    assert first.start_ns == T0_NS
    assert first.every_s == 300.0
    assert first.backfill is True
    assert first.venue is None
    assert first.options == {}

    assert second.symbols == ["AAPL"]  # a single symbol becomes a list
    assert second.timeframe == "1h"  # normalised
    # 04:00 at +01:00 is 03:00 UTC
    assert second.start_ns == int(pd.Timestamp("2024-02-03 03:00", tz="UTC").value)
    assert second.every_s == 3600.0  # default: one bar
    assert second.backfill is False
    assert second.venue == "us"
    assert second.options == {"rate_per_sec": 2}


def test_load_config_defaults(tmp_path: Path) -> None:
    text = "jobs:\n  - source: ccxt:kraken\n    symbols: [XBT/EUR]\n    timeframe: 15m\n"
    config = load_config(write_yaml(tmp_path, text))
    assert config.catalog is None
    (only,) = config.jobs
    assert only.start_ns == int(pd.Timestamp("2024-01-01", tz="UTC").value)
    assert only.every_s == 15 * 60.0
    assert only.backfill is True


JOB_OK = "  - source: ccxt:binance\n    symbols: [BTC/USDT]\n    timeframe: 1m\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("catalog: ./c\n", r"non-empty 'jobs' list"),
        ("jobs:\n", r"non-empty 'jobs' list"),
        ("jobs: []\n", r"non-empty 'jobs' list"),
        ("- just a list\n", r"non-empty 'jobs' list"),
        ("jobs: [\n", r"not valid YAML"),
        ("jobs:\n  - 42\n", r"jobs\[0\]: expected a mapping"),
        (
            f"jobs:\n{JOB_OK}  - source: x\n    symbols: [A]\n",
            r"jobs\[1\]: 'timeframe' is required",
        ),
        (f"jobs:\n{JOB_OK}    interval: 5m\n", r"jobs\[0\]: unknown key\(s\) interval"),
        (f"jobs:\n{JOB_OK.replace('[BTC/USDT]', '[]')}", r"jobs\[0\]: 'symbols' must be"),
        (f"jobs:\n{JOB_OK}    start: yesterdayish\n", r"jobs\[0\]: start 'yesterdayish'"),
    ],
    ids=[
        "no-jobs-key",
        "null-jobs",
        "empty-jobs",
        "not-a-mapping",
        "invalid-yaml",
        "job-not-mapping",
        "missing-timeframe",
        "unknown-key",
        "empty-symbols",
        "bad-start",
    ],
)
def test_load_config_errors_name_file_job_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write_yaml(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_load_config_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="not found") as err:
        load_config(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("extra", "value"),
    [("    timeframe: 7x\n", "7x"), ("    timeframe: 1m\n    every: soon\n", "soon")],
)
def test_load_config_bad_timeframe_is_a_config_error(
    tmp_path: Path, extra: str, value: str
) -> None:
    text = "jobs:\n  - source: ccxt:binance\n    symbols: [BTC/USDT]\n" + extra
    with pytest.raises(ConfigError, match=f"'{value}' is not valid"):
        load_config(write_yaml(tmp_path, text))


def test_load_config_bad_timeframe_names_the_file_and_job(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, f"jobs:\n{JOB_OK.replace('1m', '7x')}")
    with pytest.raises(ConfigError, match=r"jobs\[0\]") as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_load_config_empty_start_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"jobs\[0\]"):
        load_config(write_yaml(tmp_path, f"jobs:\n{JOB_OK}    start: ''\n"))


# ---------------------------------------------------------------- run_job


def test_running_twice_stores_only_new_bars(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    lines: list[str] = []
    src = FakeSource({"BTC/USDT": series(10)})
    run_job(job(["BTC/USDT"]), catalog, lines.append, source=src)
    assert lines == ["binance:BTC/USDT:1m: +10 bars"]

    src.data["BTC/USDT"] = series(15)  # five new bars appeared
    run_job(job(["BTC/USDT"]), catalog, lines.append, source=src)

    assert lines[1] == "binance:BTC/USDT:1m: +5 bars"
    assert [c.start_ns for c in src.calls] == [T0_NS, T0_NS + 10 * MIN_NS]
    bars = catalog.read(key())
    assert bars["ts"].is_unique
    pd.testing.assert_frame_equal(bars[COLUMNS], series(15)[COLUMNS], check_dtype=False)


def test_running_again_without_new_data_adds_nothing(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    lines: list[str] = []
    src = FakeSource({"BTC/USDT": series(6)})
    run_job(job(["BTC/USDT"]), catalog, lines.append, source=src)
    run_job(job(["BTC/USDT"]), catalog, lines.append, source=src)
    assert lines[-1] == "binance:BTC/USDT:1m: +0 bars"
    assert catalog.entry(key()).rows == 6


def test_provider_spelling_is_stored_under_the_normalised_symbol(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    src = FakeSource({"ETHUSDT": series(3)})
    run_job(job(["ETHUSDT"]), catalog, lambda line: None, source=src)
    assert src.calls[0].symbol == "ETHUSDT"  # the provider gets its own spelling
    assert [e.key for e in catalog.entries()] == ["binance:ETH/USDT:1m"]


def gapped(n: int, missing: range) -> pd.DataFrame:
    full = series(n)
    return full[~full.index.isin(list(missing))].reset_index(drop=True)


def test_backfill_re_requests_and_fills_a_gap(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    catalog.write({key(): gapped(20, range(5, 9))}, source="old")  # bars 5..8 missing
    lines: list[str] = []
    src = FakeSource({"BTC/USDT": series(24)})

    run_job(job(["BTC/USDT"]), catalog, lines.append, source=src)

    calls = [(c.start_ns, c.end_ns) for c in src.calls]
    assert calls[0] == (T0_NS + 20 * MIN_NS, None)  # the incremental update first
    assert (T0_NS + 5 * MIN_NS, T0_NS + 9 * MIN_NS) in calls  # exactly the gap's window
    assert len(calls) == 2
    bars = catalog.read(key())
    pd.testing.assert_frame_equal(bars[COLUMNS], series(24)[COLUMNS], check_dtype=False)
    assert lines == ["binance:BTC/USDT:1m: +4 bars, backfilled 4 of 4 missing"]


def test_backfill_handles_several_gaps(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    stored = series(30)
    stored = stored[~stored.index.isin([3, 4, 17, 25, 26, 27])].reset_index(drop=True)
    catalog.write({key(): stored}, source="old")
    lines: list[str] = []
    src = FakeSource({"BTC/USDT": series(30)})
    run_job(job(["BTC/USDT"]), catalog, lines.append, source=src)
    windows = sorted((c.start_ns, c.end_ns) for c in src.calls[1:])
    assert windows == [
        (T0_NS + 3 * MIN_NS, T0_NS + 5 * MIN_NS),
        (T0_NS + 17 * MIN_NS, T0_NS + 18 * MIN_NS),
        (T0_NS + 25 * MIN_NS, T0_NS + 28 * MIN_NS),
    ]
    assert catalog.entry(key()).rows == 30
    assert lines == ["binance:BTC/USDT:1m: +0 bars, backfilled 6 of 6 missing"]


def test_backfill_off_leaves_the_gap(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    catalog.write({key(): gapped(20, range(5, 9))}, source="old")
    src = FakeSource({"BTC/USDT": series(20)})
    run_job(job(["BTC/USDT"], backfill=False), catalog, lambda line: None, source=src)
    assert len(src.calls) == 1
    assert catalog.entry(key()).rows == 16


def test_backfill_is_not_attempted_on_an_exchange_calendar_venue(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    us = key("AAPL", venue="us")
    catalog.write({us: gapped(20, range(5, 9))}, source="old")
    src = FakeSource({"AAPL": series(20)})
    run_job(job(["AAPL"], venue="us"), catalog, lambda line: None, source=src)
    assert [(c.start_ns, c.end_ns) for c in src.calls] == [(T0_NS + 20 * MIN_NS, None)]
    assert catalog.entry(us).rows == 16


def test_a_failing_symbol_is_reported_and_the_others_update(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    lines: list[str] = []
    src = FakeSource(
        {"BTC/USDT": series(5), "ETH/USDT": series(7, level=2000.0)},
        failing=frozenset({"DOGE/USDT"}),
    )

    run_job(job(["BTC/USDT", "DOGE/USDT", "ETH/USDT"]), catalog, lines.append, source=src)

    assert [c.symbol for c in src.calls] == ["BTC/USDT", "DOGE/USDT", "ETH/USDT"]
    assert lines[0] == "binance:BTC/USDT:1m: +5 bars"
    assert lines[1].startswith("binance:DOGE/USDT:1m: failed:")
    assert "delisted" in lines[1]
    assert lines[2] == "binance:ETH/USDT:1m: +7 bars"
    assert key("DOGE/USDT") not in catalog
    assert catalog.entry(key("ETH/USDT")).rows == 7
    assert catalog.read(key("ETH/USDT"))["close"].iloc[0] == 2001.0


def test_survives_a_restart_with_a_new_catalog_object(tmp_path: Path) -> None:
    folder = tmp_path / "cat"
    run_job(
        job(["BTC/USDT"]),
        Catalog(folder),
        lambda line: None,
        source=FakeSource({"BTC/USDT": series(9)}),
    )

    # a new process: a fresh Catalog on the same folder and a fresh source
    reopened = Catalog(folder)
    src = FakeSource({"BTC/USDT": series(14)})
    lines: list[str] = []
    run_job(job(["BTC/USDT"]), reopened, lines.append, source=src)

    assert [c.start_ns for c in src.calls] == [T0_NS + 9 * MIN_NS]
    assert lines == ["binance:BTC/USDT:1m: +5 bars"]
    bars = Catalog(folder).read(key())
    assert bars["ts"].tolist() == [T0_NS + i * MIN_NS for i in range(14)]


def test_run_all_runs_every_job_with_the_named_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    fake = FakeSource({"BTC/USDT": series(3), "AAPL": series(2)})

    def make_source(spec: str, **options: object) -> FakeSource:
        made.append(spec)
        return fake

    monkeypatch.setattr(sources, "make_source", make_source)
    config = ScheduleConfig(
        [
            Job("ccxt:binance", ["BTC/USDT"], "1m", T0_NS, 60.0),
            Job("yahoo", ["AAPL"], "1m", T0_NS, 60.0),
        ]
    )
    lines: list[str] = []
    catalog = Catalog(tmp_path / "cat")
    run_all(config, catalog, lines.append)
    assert made == ["ccxt:binance", "yahoo"]
    # each source spec's default venue: the exchange for ccxt, "us" for yahoo
    assert [e.key for e in catalog.entries()] == ["binance:BTC/USDT:1m", "us:AAPL:1m"]
    assert lines == ["binance:BTC/USDT:1m: +3 bars", "us:AAPL:1m: +2 bars"]


def test_a_capitalised_config_venue_works(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, f"jobs:\n{JOB_OK}    venue: Binance\n    start: 2024-01-01\n")
    (config_job,) = load_config(path).jobs
    catalog = Catalog(tmp_path / "cat")
    lines: list[str] = []
    src = FakeSource({"BTC/USDT": series(4)})
    run_job(config_job, catalog, lines.append, source=src)
    run_job(config_job, catalog, lines.append, source=src)
    assert src.calls[1].start_ns == T0_NS + 4 * MIN_NS
    assert catalog.entry(key()).rows == 4
