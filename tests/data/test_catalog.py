"""The Parquet catalog: round trips, ranges, merges, appends, atomicity, SQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradewind.data.catalog import MAX_PARTS, Catalog
from tradewind.errors import ConfigError, DataError

MIN = 60_000_000_000
T0 = pd.Timestamp("2024-01-01", tz="UTC").value


def bars(n: int, start: int = 0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return pd.DataFrame(
        {
            "ts": T0 + (start + np.arange(n, dtype=np.int64)) * MIN,
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": rng.uniform(1, 2, n),
        }
    )


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_round_trip_and_manifest(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    data = bars(1000)
    cat.write({"binance:BTC/USDT:1m": data}, source="test")
    back = cat.read("binance:BTC/USDT:1m")
    pd.testing.assert_frame_equal(back, data)
    entry = cat.entry("binance:BTC/USDT:1m")
    assert (entry.rows, entry.start_ns, entry.end_ns) == (1000, T0, T0 + 999 * MIN)
    assert entry.parts[0].startswith("venue=binance/symbol=BTC%2FUSDT/timeframe=1m/part-")
    assert [e.key for e in Catalog(tmp_path).entries()] == ["binance:BTC/USDT:1m"]


def test_read_range_is_half_open(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    data = bars(300_000)  # several row groups
    cat.write({"x:A:1m": data})
    lo, hi = T0 + 100_000 * MIN, T0 + 143_200 * MIN
    got = cat.read("x:A:1m", lo, hi)
    pd.testing.assert_frame_equal(got, data.iloc[100_000:143_200].reset_index(drop=True))
    iso = cat.read("x:A:1m", "2024-01-01T00:10:00Z", "2024-01-01T00:12:00Z")
    assert iso["ts"].tolist() == [T0 + 10 * MIN, T0 + 11 * MIN]


def test_merge_new_rows_win_and_counts(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write({"x:A:1m": bars(100)})
    update = bars(100, start=50, seed=1)  # 50 overlap (different values), 50 new
    result = cat.write({"x:A:1m": update})
    assert result.added["x:A:1m"] == 50
    assert result.changed["x:A:1m"] == 50
    got = cat.read("x:A:1m")
    assert len(got) == 150
    pd.testing.assert_frame_equal(got.iloc[50:].reset_index(drop=True), update)


def test_append_adds_parts_then_compacts(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write({"x:A:1m": bars(10)})
    for k in range(1, MAX_PARTS + 2):
        cat.write({"x:A:1m": bars(10, start=10 * k, seed=k)})
        parts = cat.entry("x:A:1m").parts
        assert len(parts) == (k + 1 if k < MAX_PARTS else 1 + (k - MAX_PARTS))
    full = cat.read("x:A:1m")
    assert len(full) == 10 * (MAX_PARTS + 2)
    assert (np.diff(full["ts"].to_numpy()) == MIN).all()
    listed = {p for e in cat.entries() for p in e.parts}
    assert {f for f in files(tmp_path) if f.endswith(".parquet")} == listed  # old parts removed


def test_failed_write_of_many_series_changes_nothing(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write({"x:A:1m": bars(50)})
    before = files(tmp_path)
    manifest = (tmp_path / "manifest.json").read_bytes()
    broken = bars(50).iloc[::-1]  # unsorted: rejected, after the first series was staged
    with pytest.raises(DataError, match="sorted"):
        cat.write({"x:B:1m": bars(50), "x:A:1m": bars(20, start=50), "x:C:1m": broken})
    assert files(tmp_path) == before
    assert (tmp_path / "manifest.json").read_bytes() == manifest
    assert len(cat.read("x:A:1m")) == 50


def test_interrupted_write_leaves_orphans_that_next_write_removes(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write({"x:A:1m": bars(10)})
    orphan = tmp_path / "venue=x/symbol=A/timeframe=1m/part-deadbeef00000000.parquet"
    orphan.write_bytes(b"half a file")
    assert len(cat.read("x:A:1m")) == 10  # readers never see unlisted files
    cat.write({"x:B:1m": bars(5)})
    assert not orphan.exists()


def test_unknown_series_names_catalog_and_suggests(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write({"binance:BTC/USDT:1m": bars(5)})
    with pytest.raises(ConfigError, match=r"no series 'binance:BTC/USDT:5m'.*did you mean"):
        cat.read("binance:BTC/USDT:5m")
    with pytest.raises(ConfigError, match="expected venue:SYMBOL:timeframe"):
        cat.read("BTCUSDT")


def test_sql_over_listed_series(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write({"x:A:1m": bars(30), "y:B/C:1m": bars(20, seed=3)})
    out = cat.sql(
        "select venue, symbol, count(*) n, max(close) hi from bars group by 1, 2 order by 1"
    )
    assert out["symbol"].tolist() == ["A", "B/C"]
    assert out["n"].tolist() == [30, 20]
    assert out["hi"].iloc[0] == pytest.approx(bars(30)["close"].max())


def test_delete(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write({"x:A:1m": bars(5), "x:B:1m": bars(5)})
    cat.delete(["x:A:1m"])
    assert "x:A:1m" not in cat and "x:B:1m" in cat
    assert not any("symbol=A" in f for f in files(tmp_path))
