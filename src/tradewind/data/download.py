"""Download bars from a source into the catalog: incremental, resumable, validated.

A download starts one bar after what the catalog already holds (so re-running it fetches only
what is new), validates every page before it is stored (bad rows are dropped and reported,
never stored), and commits to the catalog every ``commit_pages`` pages: an interrupted
download keeps what it committed and the next run resumes from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tradewind.data.catalog import Catalog
from tradewind.data.loader import timeframe_to_ns
from tradewind.data.sources.base import OhlcvSource
from tradewind.data.symbols import SeriesKey
from tradewind.data.validation import validate_ohlcv
from tradewind.errors import DataError


@dataclass
class DownloadResult:
    key: SeriesKey
    fetched: int = 0  # bars received
    stored: int = 0  # bars new to the catalog
    pages: int = 0
    start_ns: int | None = None  # where the download started (after resuming)
    dropped: list[str] = field(default_factory=list)  # validation report


def download(
    catalog: Catalog,
    source: OhlcvSource,
    key: SeriesKey,
    *,
    symbol: str | None = None,
    start_ns: int,
    end_ns: int | None = None,
    resume: bool = True,
    commit_pages: int = 10,
    on_page: Callable[[int, int], None] | None = None,
) -> DownloadResult:
    """Fetch ``key`` (provider symbol ``symbol``, default the key's) into ``catalog``.

    ``on_page(bars_so_far, last_ts_ns)`` is called after every page (progress bars).
    """
    tf_ns = timeframe_to_ns(key.timeframe)
    if resume and key in catalog:
        start_ns = max(start_ns, catalog.entry(key).end_ns + tf_ns)
    result = DownloadResult(key, start_ns=start_ns)
    if end_ns is not None and start_ns >= end_ns:
        return result
    pending: list[pd.DataFrame] = []
    name = f"{source.name}:{symbol or key.symbol}"
    for page in source.fetch_ohlcv(symbol or key.symbol, key.timeframe, start_ns, end_ns):
        result.pages += 1
        if page.empty:
            continue
        result.fetched += len(page)
        pending.append(page)
        if on_page is not None:
            on_page(result.fetched, int(page["ts"].iloc[-1]))
        if len(pending) >= commit_pages:
            result.stored += _commit(catalog, key, pending, name, result.dropped)
            pending = []
    if pending:
        result.stored += _commit(catalog, key, pending, name, result.dropped)
    return result


def _commit(
    catalog: Catalog, key: SeriesKey, pages: list[pd.DataFrame], source: str, dropped: list[str]
) -> int:
    frame = pd.concat(pages, ignore_index=True)
    frame = frame.drop_duplicates("ts", keep="last").sort_values("ts", kind="stable")
    raw = frame.rename(columns={"ts": "timestamp"}).reset_index(drop=True)
    try:
        bars = validate_ohlcv(raw, source=source, repair=True, report=dropped)
    except DataError as exc:  # every row of the batch was bad: report it, keep going
        dropped.append(str(exc))
        return 0
    if bars.empty:
        return 0
    bars["ts"] = bars["ts"].to_numpy(np.int64)
    written = catalog.write({str(key): bars}, source=source)
    return written.added[str(key)]
