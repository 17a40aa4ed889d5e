"""download(): incremental resume, periodic commits that survive a failure, validated pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradewind.data.catalog import Catalog
from tradewind.data.download import download
from tradewind.data.sources.base import OhlcvSource, SourceError, bars_frame
from tradewind.data.symbols import SeriesKey

MIN_NS = 60_000_000_000
T0_NS = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z
KEY = SeriesKey("binance", "BTC/USDT", "1m")
COLUMNS = ["ts", "open", "high", "low", "close", "volume"]


def series(n: int, first: int = 0) -> pd.DataFrame:
    """Clean 1m bars ``first .. first+n-1``: open 100+i, high +2, low -1, close +1, volume 10+i."""
    i = np.arange(first, first + n, dtype=np.int64)
    base = 100.0 + i
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
    timeframe: str
    start_ns: int
    end_ns: int | None


class FakeSource:
    """Serves ``bars`` in pages of ``page_size`` (``start_ns <= ts < end_ns``) and records calls.

    ``fail_at_page``: raise a SourceError instead of yielding that (1-based) page.
    ``before_page``: called with the page number just before each page is yielded.
    """

    name = "fake"

    def __init__(
        self,
        bars: pd.DataFrame,
        *,
        page_size: int = 5,
        fail_at_page: int | None = None,
        before_page: Callable[[int], None] | None = None,
    ) -> None:
        self.bars = bars
        self.page_size = page_size
        self.fail_at_page = fail_at_page
        self.before_page = before_page
        self.calls: list[Call] = []

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, start_ns: int, end_ns: int | None = None
    ) -> Iterator[pd.DataFrame]:
        self.calls.append(Call(symbol, timeframe, start_ns, end_ns))
        return self._pages(start_ns, end_ns)

    def _pages(self, start_ns: int, end_ns: int | None) -> Iterator[pd.DataFrame]:
        ts = self.bars["ts"].to_numpy(np.int64)
        keep = ts >= start_ns
        if end_ns is not None:
            keep &= ts < end_ns
        chosen = self.bars[keep].reset_index(drop=True)
        for number, lo in enumerate(range(0, len(chosen), self.page_size), start=1):
            if self.fail_at_page == number:
                raise SourceError(f"fake: connection lost before page {number}")
            if self.before_page is not None:
                self.before_page(number)
            page = chosen.iloc[lo : lo + self.page_size]
            yield bars_frame(
                page["ts"], page["open"], page["high"], page["low"], page["close"], page["volume"]
            )


def stored(catalog: Catalog, key: SeriesKey = KEY) -> pd.DataFrame:
    return catalog.read(key)


def assert_same_bars(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        actual[COLUMNS].reset_index(drop=True),
        expected[COLUMNS].reset_index(drop=True),
        check_dtype=False,
    )


def test_fake_source_implements_the_protocol() -> None:
    assert isinstance(FakeSource(series(1)), OhlcvSource)


def test_first_download_stores_the_whole_series(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    src = FakeSource(series(23), page_size=5)

    result = download(catalog, src, KEY, start_ns=T0_NS)

    assert [(c.symbol, c.timeframe, c.start_ns, c.end_ns) for c in src.calls] == [
        ("BTC/USDT", "1m", T0_NS, None)
    ]
    assert result.start_ns == T0_NS
    assert result.fetched == 23
    assert result.stored == 23
    assert result.pages == 5  # 5 + 5 + 5 + 5 + 3
    assert result.dropped == []
    assert_same_bars(stored(catalog), series(23))
    entry = catalog.entry(KEY)
    assert (entry.rows, entry.start_ns, entry.end_ns) == (23, T0_NS, T0_NS + 22 * MIN_NS)
    assert entry.source == "fake:BTC/USDT"


def test_provider_symbol_is_passed_to_the_source(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    src = FakeSource(series(3))
    download(catalog, src, KEY, symbol="BTCUSDT", start_ns=T0_NS)
    assert src.calls[0].symbol == "BTCUSDT"
    assert KEY in catalog


def test_second_call_resumes_one_bar_after_the_catalog_end(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    full = series(20)
    first = download(catalog, FakeSource(full), KEY, start_ns=T0_NS, end_ns=T0_NS + 12 * MIN_NS)
    assert first.stored == 12
    assert catalog.entry(KEY).end_ns == T0_NS + 11 * MIN_NS

    src = FakeSource(full)
    second = download(catalog, src, KEY, start_ns=T0_NS)

    assert [c.start_ns for c in src.calls] == [T0_NS + 12 * MIN_NS]  # last stored + 1 bar
    assert second.start_ns == T0_NS + 12 * MIN_NS
    assert second.fetched == 8
    assert second.stored == 8
    bars = stored(catalog)
    assert bars["ts"].is_unique
    assert_same_bars(bars, full)


def test_resume_keeps_a_later_requested_start(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    download(catalog, FakeSource(series(5)), KEY, start_ns=T0_NS)
    src = FakeSource(series(40))
    later = T0_NS + 30 * MIN_NS  # after the catalog's end + 1 bar (5)
    result = download(catalog, src, KEY, start_ns=later)
    assert src.calls[0].start_ns == later
    assert result.stored == 10


def test_resume_false_starts_where_asked_and_stores_nothing_already_held(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    download(catalog, FakeSource(series(10)), KEY, start_ns=T0_NS)
    src = FakeSource(series(10))

    result = download(catalog, src, KEY, start_ns=T0_NS, resume=False)

    assert src.calls[0].start_ns == T0_NS
    assert result.fetched == 10
    assert result.stored == 0  # "stored" counts bars new to the catalog only
    assert catalog.entry(KEY).rows == 10


def test_nothing_is_requested_when_the_catalog_already_reaches_the_end(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    download(catalog, FakeSource(series(10)), KEY, start_ns=T0_NS)
    src = FakeSource(series(10))
    result = download(catalog, src, KEY, start_ns=T0_NS, end_ns=T0_NS + 10 * MIN_NS)
    assert src.calls == []
    assert (result.fetched, result.stored, result.pages) == (0, 0, 0)
    assert result.start_ns == T0_NS + 10 * MIN_NS


def test_pages_are_committed_every_commit_pages(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    rows_seen: list[int] = []

    def before_page(number: int) -> None:
        rows_seen.append(catalog.entry(KEY).rows if KEY in catalog else 0)

    src = FakeSource(series(16), page_size=2, before_page=before_page)  # 8 pages
    result = download(catalog, src, KEY, start_ns=T0_NS, commit_pages=3)

    # before pages 1-3 nothing is committed, then 3 pages (6 bars) at a time
    assert rows_seen == [0, 0, 0, 6, 6, 6, 12, 12]
    assert result.stored == 16
    assert catalog.entry(KEY).rows == 16


def test_failure_keeps_committed_pages_and_rerun_completes_without_duplicates(
    tmp_path: Path,
) -> None:
    catalog = Catalog(tmp_path / "cat")
    full = series(30)
    failing = FakeSource(full, page_size=3, fail_at_page=8)  # pages 1-7 arrive, then an error

    with pytest.raises(SourceError, match="connection lost"):
        download(catalog, failing, KEY, start_ns=T0_NS, commit_pages=3)

    # pages 1-6 were committed (two commits of 3 pages); page 7 was pending and is lost
    assert_same_bars(stored(catalog), series(18))

    src = FakeSource(full, page_size=3)
    result = download(catalog, src, KEY, start_ns=T0_NS, commit_pages=3)

    assert [c.start_ns for c in src.calls] == [T0_NS + 18 * MIN_NS]
    assert result.stored == 12
    bars = stored(catalog)
    assert len(bars) == 30
    assert bars["ts"].is_unique
    assert_same_bars(bars, full)


def test_bad_rows_are_dropped_reported_and_never_stored(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    bars = series(12)
    bars.loc[3, ["high", "low"]] = [90.0, 110.0]  # high < low
    bars.loc[8, "close"] = np.nan
    bad_ts = {int(bars["ts"].iloc[3]), int(bars["ts"].iloc[8])}

    result = download(catalog, FakeSource(bars, page_size=4), KEY, start_ns=T0_NS)

    assert result.fetched == 12  # received
    assert result.stored == 10  # kept
    kept = stored(catalog)
    assert bad_ts.isdisjoint(kept["ts"].tolist())
    expected = series(12).drop(index=[3, 8])
    assert_same_bars(kept, expected)
    text = "\n".join(result.dropped)
    assert "high/low inconsistent" in text
    assert "NaN" in text
    assert "fake:BTC/USDT" in text  # the report names the source


def test_bad_rows_in_separate_commits_are_each_reported(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    bars = series(8)
    bars.loc[1, "open"] = -5.0  # non-positive price, first commit
    bars.loc[6, "volume"] = np.nan  # NaN volume, second commit
    result = download(catalog, FakeSource(bars, page_size=4), KEY, start_ns=T0_NS, commit_pages=1)
    assert len(result.dropped) == 2
    assert "non-positive" in result.dropped[0]
    assert "NaN" in result.dropped[1]
    assert stored(catalog)["ts"].tolist() == [
        T0_NS + i * MIN_NS for i in range(8) if i not in (1, 6)
    ]


def test_on_page_reports_running_total_and_last_ts(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    progress: list[tuple[int, int]] = []
    download(
        catalog,
        FakeSource(series(7), page_size=3),
        KEY,
        start_ns=T0_NS,
        on_page=lambda n, ts: progress.append((n, ts)),
    )
    assert progress == [
        (3, T0_NS + 2 * MIN_NS),
        (6, T0_NS + 5 * MIN_NS),
        (7, T0_NS + 6 * MIN_NS),
    ]


def test_a_page_of_only_bad_rows_is_dropped_and_the_download_continues(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    bars = series(9)
    bars.loc[3:5, "high"] = 1.0  # the whole second page has high < low
    result = download(catalog, FakeSource(bars, page_size=3), KEY, start_ns=T0_NS, commit_pages=1)
    assert result.stored == 6
    assert stored(catalog)["ts"].tolist() == [T0_NS + i * MIN_NS for i in (0, 1, 2, 6, 7, 8)]
