"""Importing files into the catalog: layouts, mapping, the real files, and malformed inputs
that must each give one clear error and leave the catalog unchanged."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradewind.data.catalog import Catalog
from tradewind.data.importer import ImportOptions, import_file
from tradewind.errors import DataError

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BTC = DATA / "binance_BTCUSDT_1m.csv.gz"
STOCKS = DATA / "us_sp500_505stocks_1d.csv.gz"
WIDE = DATA / "us_20stocks_adjclose_1d.csv.gz"


def minute_csv(n: int, start: str = "2024-01-01", price: float = 100.0) -> list[str]:
    ts = pd.date_range(start, periods=n, freq="1min", tz="UTC")
    close = price + np.arange(n) * 0.1
    rows = ["timestamp,open,high,low,close,volume"]
    rows += [
        f"{t.strftime('%Y-%m-%dT%H:%M:%SZ')},{c},{c + 1},{c - 1},{c},{1 + i % 3}"
        for i, (t, c) in enumerate(zip(ts, close, strict=True))
    ]
    return rows


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_single_series_name_venue_timeframe_from_file_name(tmp_path: Path) -> None:
    path = tmp_path / "kraken_ETHUSD_1m.csv"
    path.write_text("\n".join(minute_csv(100)))
    cat = Catalog(tmp_path / "cat")
    result = import_file(cat, path, ImportOptions())
    assert [str(k) for k in result.keys] == ["kraken:ETH/USD:1m"]
    got = cat.read("kraken:ETH/USD:1m")
    assert len(got) == 100 and got["close"].iloc[-1] == pytest.approx(109.9)


def test_column_mapping_and_delimiter(tmp_path: Path) -> None:
    rows = ["Date;O;H;L;Adj Close;Vol"] + [r.replace(",", ";") for r in minute_csv(10)[1:]]
    path = tmp_path / "x.csv"
    path.write_text("\n".join(rows))
    opts = ImportOptions(
        venue="us", symbol="XYZ", timeframe="1m", delimiter=";",
        columns={"timestamp": "Date", "open": "O", "high": "H", "low": "L",
                 "close": "Adj Close", "volume": "Vol"},
    )  # fmt: skip
    cat = Catalog(tmp_path / "cat")
    import_file(cat, path, opts)
    assert len(cat.read("us:XYZ:1m")) == 10


def test_long_and_wide_layouts(tmp_path: Path) -> None:
    long = tmp_path / "long.csv"
    a, b = minute_csv(5), minute_csv(7, price=50)
    long.write_text(
        "\n".join(["symbol," + a[0]] + [f"AAA,{r}" for r in a[1:]] + [f"BBB,{r}" for r in b[1:]])
    )
    wide = tmp_path / "wide.csv"
    wide.write_text("date,AAA,BBB\n2024-01-02,10,\n2024-01-03,11,20\n2024-01-04,12,21\n")
    cat = Catalog(tmp_path / "cat")
    r1 = import_file(cat, long, ImportOptions(venue="us", timeframe="1m"))
    assert [str(k) for k in r1.keys] == ["us:AAA:1m", "us:BBB:1m"]
    assert [cat.entry(k).rows for k in ("us:AAA:1m", "us:BBB:1m")] == [5, 7]
    r2 = import_file(cat, wide, ImportOptions(venue="adj"))
    assert r2.close_only and cat.entry("adj:BBB:1d").close_only
    bbb = cat.read("adj:BBB:1d")
    assert bbb["close"].tolist() == [20.0, 21.0]  # the empty first cell is not a bar
    assert (bbb["open"] == bbb["close"]).all() and (bbb["volume"] == 0).all()


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("truncated.csv.gz", "truncated", r"row \d+: the gzip stream is truncated after data row"),
        ("semicolon.csv", "semicolon", r"row 0 \(header\).*looks semicolon-separated"),
        ("missing.csv", "missing", r"row 0 \(header\): missing column\(s\) 'volume'"),
        ("text.csv", "text", r"row 4: close 'abc' is not a number"),
        ("mixedtz.csv", "mixedtz", r"row 6: timestamp .* has no time zone but row 1"),
        ("dups.csv", "dups", r"row 6: duplicate timestamp .*also at row 5"),
        (
            "appended.csv",
            "appended",
            r"row 21: duplicate timestamp.*another symbol's data appended",
        ),
    ],
)
def test_malformed_input_names_file_row_problem_and_changes_nothing(
    tmp_path: Path, name: str, make: str, expected: str
) -> None:
    rows = minute_csv(20)
    path = tmp_path / name
    if make == "truncated":
        blob = gzip.compress("\n".join(minute_csv(5000)).encode())
        path.write_bytes(blob[: len(blob) // 2])
    elif make == "semicolon":
        path.write_text("\n".join(r.replace(",", ";") for r in rows))
    elif make == "missing":
        path.write_text("\n".join(r.rsplit(",", 1)[0] for r in rows))
    elif make == "text":
        parts = rows[4].split(",")
        parts[4] = "abc"
        path.write_text("\n".join([*rows[:4], ",".join(parts), *rows[5:]]))
    elif make == "mixedtz":
        path.write_text("\n".join([*rows[:6], rows[6].replace("Z", "", 1), *rows[7:]]))
    elif make == "dups":
        path.write_text("\n".join([*rows[:6], rows[5], *rows[6:]]))
    else:  # another symbol (10x the price) appended after the first one
        path.write_text("\n".join(rows + minute_csv(20, price=1000.0)[1:]))
    cat = Catalog(tmp_path / "cat")
    import_file(cat, _good(tmp_path), ImportOptions(venue="x", symbol="GOOD"))
    before = snapshot(tmp_path / "cat")
    with pytest.raises(DataError, match=expected) as info:
        import_file(cat, path, ImportOptions(venue="x", symbol="BAD"))
    assert name in str(info.value)
    assert snapshot(tmp_path / "cat") == before


def _good(tmp_path: Path) -> Path:
    path = tmp_path / "good.csv"
    path.write_text("\n".join(minute_csv(10)))
    return path


def test_bad_symbol_in_long_file_aborts_the_whole_import(tmp_path: Path) -> None:
    a = minute_csv(5)
    bad = a[3].split(",")
    bad[2] = "0.5"  # high below low for symbol BBB only
    path = tmp_path / "long.csv"
    path.write_text(
        "\n".join(
            ["symbol," + a[0]]
            + [f"AAA,{r}" for r in a[1:]]
            + [f"BBB,{r}" for r in a[1:3]]
            + ["BBB," + ",".join(bad)]
        )
    )
    cat = Catalog(tmp_path / "cat")
    with pytest.raises(DataError, match=r"symbol BBB\) row 8: high 0.5"):
        import_file(cat, path, ImportOptions(venue="us"))
    assert cat.entries() == []


@pytest.mark.realdata
@pytest.mark.skipif(not STOCKS.exists(), reason=f"real data not found at {STOCKS}")
def test_real_505_stock_file_imports_as_505_symbols(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "cat")
    result = import_file(cat, STOCKS, ImportOptions(venue="us", repair=True))
    assert len(result.keys) == 505
    dropped = sum(int(re.search(r"dropped (\d+) row", line)[1]) for line in result.report)  # type: ignore[index]
    assert dropped == 12  # the README's 12 rows with inconsistent high/low
    aapl = cat.read("us:AAPL:1d")
    assert aapl["open"].iloc[0] == pytest.approx(67.7142, abs=1e-4)
    assert cat.entry("us:APTV:1d").rows == 44
    msft = cat.read("us:MSFT:1d", "2016-01-04", "2016-01-05")
    assert msft["close"].tolist() == [54.80]


@pytest.mark.realdata
@pytest.mark.skipif(not WIDE.exists(), reason=f"real data not found at {WIDE}")
def test_real_wide_file(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "cat")
    result = import_file(cat, WIDE, ImportOptions(venue="adj"))
    assert len(result.keys) == 20 and result.close_only


@pytest.mark.realdata
@pytest.mark.skipif(not BTC.exists(), reason=f"real data not found at {BTC}")
def test_real_btc_month_read_back(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "cat")
    import_file(cat, BTC, ImportOptions())
    assert cat.entry("binance:BTC/USDT:1m").rows == 2_059_120
    march = cat.read("binance:BTC/USDT:1m", "2024-03-01", "2024-04-01")
    assert len(march) == 31 * 1440
    spot = cat.read("binance:BTC/USDT:1m", "2024-03-14", "2024-03-15")
    assert (
        spot["close"].iloc[0] > 0
        and spot["ts"].iloc[0] == pd.Timestamp("2024-03-14", tz="UTC").value
    )
