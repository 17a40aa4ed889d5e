"""download() end to end: GeckoTerminal over real HTTP (local server) into a catalog."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from wire import Handler, Reply, Request, WireServer

from tradewind.data.catalog import Catalog
from tradewind.data.download import download
from tradewind.data.sources.base import SourceError
from tradewind.data.sources.geckoterminal import GeckoTerminalSource
from tradewind.data.symbols import SeriesKey

POOL = "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2"
PATH_1M = f"/api/v2/networks/solana/pools/{POOL}/ohlcv/minute"
T0 = 1_699_999_980  # a whole minute, unix seconds
NS = 1_000_000_000
MIN_NS = 60 * NS
KEY = SeriesKey("solana", "SOL/USDC", "1m")

Row = list[float | None]


def rows(n: int) -> list[Row]:
    """``n`` ascending 1m [ts, o, h, l, c, v] rows: open 100+i, high +1, low -1, close +0.5."""
    return [[T0 + i * 60, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 1000.0 + i] for i in range(n)]


def gecko(data: list[Row]) -> Handler:
    """GeckoTerminal's paging: rows before ``before_timestamp``, newest first, ``limit`` max."""

    def handler(req: Request) -> Reply:
        before = float(req.arg("before_timestamp") or math.inf)
        limit = int(req.arg("limit") or 100)
        older = [r for r in data if r[0] is not None and r[0] < before]
        page = list(reversed(older[-limit:]))
        return Reply(200, {"data": {"attributes": {"ohlcv_list": page}}, "meta": {}})

    return handler


def make_source(wire: WireServer, no_sleep: list[float]) -> GeckoTerminalSource:
    return GeckoTerminalSource(base_url=wire.url, sleep=no_sleep.append, rate_per_sec=1000.0)


def test_download_and_resume_through_geckoterminal(
    wire: WireServer, no_sleep: list[float], tmp_path: Path
) -> None:
    data = rows(1500)
    wire.route(PATH_1M, gecko(data))
    catalog = Catalog(tmp_path / "cat")
    src = make_source(wire, no_sleep)

    first = download(catalog, src, KEY, symbol=POOL, start_ns=T0 * NS, end_ns=(T0 + 1200 * 60) * NS)

    assert first.stored == 1200
    assert first.pages == 2  # 1000 + 200 rows walking back from the end
    assert len(wire.hits(PATH_1M)) == 2
    assert catalog.entry(KEY).end_ns == (T0 + 1199 * 60) * NS
    assert catalog.entry(KEY).source == f"geckoterminal:{POOL}"

    calls_before = len(wire.hits(PATH_1M))
    second = download(
        catalog, src, KEY, symbol=POOL, start_ns=T0 * NS, end_ns=(T0 + 1500 * 60) * NS
    )

    assert second.start_ns == (T0 + 1200 * 60) * NS  # one bar after the stored end
    resumed = wire.hits(PATH_1M)[calls_before:]
    assert [r.arg("before_timestamp") for r in resumed] == [str(T0 + 1500 * 60)]
    assert second.fetched == 300
    assert second.stored == 300

    bars = catalog.read(KEY)
    assert bars["ts"].is_unique
    assert bars["ts"].tolist() == [int(r[0]) * NS for r in data]  # type: ignore[arg-type]
    expected = np.array([r[1:] for r in data], dtype=np.float64)
    np.testing.assert_array_equal(
        bars[["open", "high", "low", "close", "volume"]].to_numpy(), expected
    )


def test_bad_wire_rows_are_dropped_and_reported(
    wire: WireServer, no_sleep: list[float], tmp_path: Path
) -> None:
    data = rows(10)
    data[2] = [T0 + 120, 102.0, 95.0, 101.0, 102.5, 1002.0]  # high 95 < low 101
    data[6] = [T0 + 360, 106.0, 107.0, 105.0, None, 1006.0]  # close null -> NaN
    wire.route(PATH_1M, gecko(data))
    catalog = Catalog(tmp_path / "cat")

    result = download(
        catalog,
        make_source(wire, no_sleep),
        KEY,
        symbol=POOL,
        start_ns=T0 * NS,
        end_ns=(T0 + 600) * NS,
    )

    assert result.fetched == 10
    assert result.stored == 8
    assert catalog.read(KEY)["ts"].tolist() == [
        (T0 + i * 60) * NS for i in range(10) if i not in (2, 6)
    ]
    text = "\n".join(result.dropped)
    assert "high/low inconsistent" in text
    assert "NaN" in text


def test_provider_error_stores_nothing_and_a_rerun_recovers(
    wire: WireServer, no_sleep: list[float], tmp_path: Path
) -> None:
    data = rows(1500)
    page = gecko(data)
    served = 0

    def second_request_fails(req: Request) -> Reply:
        # GeckoTerminal collects every page before yielding, so a failure on the second
        # request means nothing of this run reaches the catalog
        nonlocal served
        served += 1
        if served == 2:
            return Reply(404, {"errors": [{"status": "404", "title": "Not Found"}]})
        return page(req)

    wire.route(PATH_1M, second_request_fails)
    catalog = Catalog(tmp_path / "cat")
    end_ns = (T0 + 1500 * 60) * NS

    with pytest.raises(SourceError, match="Not Found"):
        download(
            catalog, make_source(wire, no_sleep), KEY, symbol=POOL, start_ns=T0 * NS, end_ns=end_ns
        )
    assert KEY not in catalog

    result = download(
        catalog, make_source(wire, no_sleep), KEY, symbol=POOL, start_ns=T0 * NS, end_ns=end_ns
    )
    assert result.stored == 1500
    assert catalog.read(KEY)["ts"].tolist() == [int(r[0]) * NS for r in data]  # type: ignore[arg-type]
