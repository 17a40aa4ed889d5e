"""File loading: formats, timestamp encodings, long format, symbols, timeframes, read errors."""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradewind.data.loader import (
    infer_timeframe_ns,
    load_many,
    load_ohlcv,
    ns_to_timeframe,
    symbol_from_path,
    timeframe_to_ns,
)
from tradewind.errors import ConfigError, DataError

HEADER = "timestamp,open,high,low,close,volume"
MINUTE_NS = 60_000_000_000
T0_NS = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z
REAL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def csv_text(timestamps: list[str], header: str = HEADER) -> str:
    """Clean bars (open 100+i, high +2, low -1, close +1, volume 10+i) at the given timestamps."""
    lines = [header]
    for i, ts in enumerate(timestamps):
        lines.append(f"{ts},{100 + i},{102 + i},{99 + i},{101 + i},{10 + i}")
    return "\n".join(lines) + "\n"


def iso_minutes(n: int) -> list[str]:
    return [f"2024-01-01T00:{i:02d}:00Z" for i in range(n)]


def expected_ts(n: int, step_ns: int = MINUTE_NS) -> list[int]:
    return [T0_NS + i * step_ns for i in range(n)]


def only(result: dict[str, pd.DataFrame]) -> pd.DataFrame:
    assert len(result) == 1
    return next(iter(result.values()))


# --- output format ---------------------------------------------------------------------------


def test_output_frame_format(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(csv_text(iso_minutes(5)))
    bars = load_ohlcv(path)["data"]
    assert list(bars.columns) == ["ts", "open", "high", "low", "close", "volume"]
    assert bars["ts"].dtype == np.int64
    assert all(bars[c].dtype == np.float64 for c in ["open", "high", "low", "close", "volume"])
    assert isinstance(bars.index, pd.RangeIndex)
    assert bars.index.start == 0
    assert bars["ts"].tolist() == expected_ts(5)
    assert bars["close"].tolist() == [101.0, 102.0, 103.0, 104.0, 105.0]
    close = bars["close"].to_numpy()
    assert close.flags.c_contiguous
    assert np.shares_memory(close, bars["close"].to_numpy())  # zero-copy view, not a copy


def test_csv_gzip_and_parquet_give_identical_frames(tmp_path: Path) -> None:
    text = csv_text(iso_minutes(6))
    (tmp_path / "a.csv").write_text(text)
    with gzip.open(tmp_path / "a.csv.gz", "wt") as fh:
        fh.write(text)
    frame = pd.read_csv(tmp_path / "a.csv")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame.to_parquet(tmp_path / "a.parquet")
    frame.to_parquet(tmp_path / "a.pq")
    reference = load_ohlcv(tmp_path / "a.csv")["a"]
    for name in ["a.csv.gz", "a.parquet", "a.pq"]:
        pd.testing.assert_frame_equal(load_ohlcv(tmp_path / name)["a"], reference)


@pytest.mark.parametrize(
    ("stamps", "step_ns"),
    [
        (["2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"], MINUTE_NS),
        (["2024-01-01T00:00:00", "2024-01-01T00:01:00"], MINUTE_NS),  # naive = UTC
        (["2024-01-01 02:00:00+02:00", "2024-01-01 02:01:00+02:00"], MINUTE_NS),
        (["2024-01-01", "2024-01-02"], 86_400_000_000_000),
        (["1704067200", "1704067260"], MINUTE_NS),  # epoch seconds
        (["1704067200000", "1704067260000"], MINUTE_NS),  # epoch milliseconds
        (["1704067200000000", "1704067260000000"], MINUTE_NS),  # epoch microseconds
        (["1704067200000000000", "1704067260000000000"], MINUTE_NS),  # epoch nanoseconds
    ],
)
def test_timestamp_encodings(tmp_path: Path, stamps: list[str], step_ns: int) -> None:
    path = tmp_path / "data.csv"
    path.write_text(csv_text(stamps))
    assert load_ohlcv(path)["data"]["ts"].tolist() == expected_ts(2, step_ns)


def test_string_timestamps_with_one_bad_value_still_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(csv_text(["1704067200000", "1704067260000", "soon"]))
    with pytest.raises(DataError, match=r"^data.csv row 3: timestamp 'soon' cannot be parsed"):
        load_ohlcv(path)


def test_parquet_epoch_ms_and_naive_datetimes(tmp_path: Path) -> None:
    ts = pd.Series(expected_ts(3))
    base = {"open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 3.0}
    pd.DataFrame({"time": ts // 1_000_000, **base}).to_parquet(tmp_path / "ms.parquet")
    naive = pd.to_datetime(ts, unit="ns")
    pd.DataFrame({"datetime": naive, **base}).to_parquet(tmp_path / "naive.parquet")
    assert load_ohlcv(tmp_path / "ms.parquet")["ms"]["ts"].tolist() == expected_ts(3)
    assert load_ohlcv(tmp_path / "naive.parquet")["naive"]["ts"].tolist() == expected_ts(3)


def test_headers_are_case_insensitive_with_aliases_and_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(
        "Date,Open,HIGH,Low,Close,Volume,Adj Close\n"
        "2013-02-08,45.07,45.35,45,45.08,1824755,44.0\n"
        "2013-02-11,45.17,45.18,44.45,44.6,2915405,43.9\n"
    )
    bars = load_ohlcv(path)["data"]
    assert list(bars.columns) == ["ts", "open", "high", "low", "close", "volume"]
    assert bars["low"].tolist() == [45.0, 44.45]


def test_two_timestamp_columns_are_ambiguous(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(csv_text(["2024-01-01,00:00"], header="date,time,open,high,low,close,volume"))
    with pytest.raises(DataError, match=r"data.csv: ambiguous timestamp columns 'date', 'time'"):
        load_ohlcv(path)


# --- long format and symbols -----------------------------------------------------------------


def long_file(tmp_path: Path) -> Path:
    path = tmp_path / "stocks.csv"
    path.write_text(
        "timestamp,Ticker,open,high,low,close,volume\n"
        "2013-02-08,AAPL,67.7,68.4,66.9,67.9,100\n"
        "2013-02-08,MSFT,27.4,27.7,27.2,27.5,200\n"
        "2013-02-11,AAPL,68.1,69.3,67.6,68.6,300\n"
        "2013-02-11,MSFT,27.5,27.6,27.3,27.4,400\n"
        "2013-02-12,MSFT,27.4,27.5,27.2,27.3,500\n"
    )
    return path


def test_long_format_returns_one_frame_per_symbol(tmp_path: Path) -> None:
    result = load_ohlcv(long_file(tmp_path))
    assert list(result) == ["AAPL", "MSFT"]
    assert result["AAPL"]["volume"].tolist() == [100.0, 300.0]
    assert result["MSFT"]["volume"].tolist() == [200.0, 400.0, 500.0]
    assert isinstance(result["MSFT"].index, pd.RangeIndex)


def test_long_format_symbol_argument_selects_one(tmp_path: Path) -> None:
    assert list(load_ohlcv(long_file(tmp_path), symbol="MSFT")) == ["MSFT"]
    with pytest.raises(DataError, match="no rows for symbol 'IBM'"):
        load_ohlcv(long_file(tmp_path), symbol="IBM")


def test_long_format_missing_symbol(tmp_path: Path) -> None:
    path = tmp_path / "stocks.csv"
    text = long_file(tmp_path).read_text().replace("2013-02-11,AAPL", "2013-02-11,")
    path.write_text(text)
    with pytest.raises(DataError, match=r"^stocks.csv row 3: symbol is missing$"):
        load_ohlcv(path)
    report: list[str] = []
    result = load_ohlcv(path, repair=True, report=report)
    assert report == ["stocks.csv: dropped 1 row without a symbol (row 3)"]
    assert len(result["AAPL"]) == 1


def test_symbol_argument_names_a_single_symbol_file(tmp_path: Path) -> None:
    path = tmp_path / "binance_BTCUSDT_1m.csv"
    path.write_text(csv_text(iso_minutes(2)))
    assert list(load_ohlcv(path)) == ["BTCUSDT"]
    assert list(load_ohlcv(path, symbol="XBT")) == ["XBT"]


@pytest.mark.parametrize(
    ("name", "symbol"),
    [
        ("binance_BTCUSDT_1m.csv.gz", "BTCUSDT"),
        ("binance_ETHUSDT_1m_2025-06.csv.gz", "ETHUSDT"),
        ("/some/dir/kraken_XBTUSD_4h.parquet", "XBTUSD"),
        ("coinbase_SOLUSD_30s_part_2.pq", "SOLUSD"),
        ("AAPL.csv", "AAPL"),
        ("us_sp500_505stocks_1d.csv.gz", "us_sp500_505stocks_1d"),
        ("my_data.csv", "my_data"),
        ("prices_AAPL_daily.csv", "prices_AAPL_daily"),
        ("DATA.CSV.GZ", "DATA"),
    ],
)
def test_symbol_from_path(name: str, symbol: str) -> None:
    assert symbol_from_path(name) == symbol


def test_load_many_merges_and_rejects_duplicate_symbols(tmp_path: Path) -> None:
    (tmp_path / "binance_BTCUSDT_1m.csv").write_text(csv_text(iso_minutes(2)))
    (tmp_path / "binance_ETHUSDT_1m.csv").write_text(csv_text(iso_minutes(3)))
    (tmp_path / "binance_ETHUSDT_1m_2025-06.csv").write_text(csv_text(iso_minutes(3)))
    merged = load_many([tmp_path / "binance_BTCUSDT_1m.csv", tmp_path / "binance_ETHUSDT_1m.csv"])
    assert {k: len(v) for k, v in merged.items()} == {"BTCUSDT": 2, "ETHUSDT": 3}
    with pytest.raises(ConfigError) as info:
        load_many(
            [tmp_path / "binance_ETHUSDT_1m.csv", tmp_path / "binance_ETHUSDT_1m_2025-06.csv"]
        )
    assert "'ETHUSDT'" in str(info.value)
    assert "binance_ETHUSDT_1m.csv" in str(info.value)
    assert "binance_ETHUSDT_1m_2025-06.csv" in str(info.value)


def test_load_many_rejects_a_single_string(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="list of paths"):
        load_many(str(tmp_path / "a.csv"))


# --- read errors -----------------------------------------------------------------------------


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError, match=f"file not found: {path}"):
        load_ohlcv(path)


def test_unknown_extension_lists_supported(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    path.write_text("x")
    with pytest.raises(DataError, match=r"unsupported file type \(supported: .csv.gz, .csv, "):
        load_ohlcv(path)


def test_corrupt_gzip_is_a_data_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    good = gzip.compress(csv_text(iso_minutes(200)).encode())
    cut = good[: len(good) // 2]
    path.write_bytes(cut)  # truncated download
    complete = zlib.decompressobj(31).decompress(cut).count(b"\n") - 1  # header excluded
    assert 0 < complete < 200
    expected = f"{path} row {complete + 1}: the gzip stream is truncated after data row {complete}"
    with pytest.raises(DataError, match=re.escape(expected)) as info:
        load_ohlcv(path)
    assert info.value.__cause__ is not None


def test_binary_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError, match=r"data.csv"):
        load_ohlcv(path)


def test_ragged_csv_names_path_and_problem(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(HEADER + "\n2024-01-01T00:00:00Z,1,2,0.5\n")
    with pytest.raises(DataError, match=f"{path}: cannot read CSV file .*columns"):
        load_ohlcv(path)


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    path.write_bytes(b"PAR1 definitely not parquet")
    with pytest.raises(DataError, match=f"{path}: cannot read Parquet file"):
        load_ohlcv(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="file is empty"):
        load_ohlcv(path)


def test_loading_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(csv_text(["2024-01-01T00:01:00Z", "2024-01-01T00:00:00Z"]))
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    load_ohlcv(path, repair=True, report=[])
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


# --- timeframes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tf", "ns"),
    [
        ("30s", 30 * 10**9),
        ("1m", 60 * 10**9),
        ("5m", 300 * 10**9),
        ("15m", 900 * 10**9),
        ("1h", 3600 * 10**9),
        ("4h", 4 * 3600 * 10**9),
        ("1d", 86_400 * 10**9),
        ("1w", 7 * 86_400 * 10**9),
        ("1H", 3600 * 10**9),
        ("250ms", 250 * 10**6),
    ],
)
def test_timeframe_to_ns(tf: str, ns: int) -> None:
    assert timeframe_to_ns(tf) == ns


@pytest.mark.parametrize("tf", ["", "m", "0m", "5", "1M", "1y", "-1m", "1.5h", "5 minutes"])
def test_timeframe_to_ns_rejects_garbage(tf: str) -> None:
    with pytest.raises(ConfigError, match="is not valid"):
        timeframe_to_ns(tf)


@pytest.mark.parametrize(
    ("ns", "tf"),
    [
        (60 * 10**9, "1m"),
        (3600 * 10**9, "1h"),
        (86_400 * 10**9, "1d"),
        (7 * 86_400 * 10**9, "1w"),
        (14 * 86_400 * 10**9, "2w"),
        (90 * 10**9, "90s"),
        (5400 * 10**9, "90m"),
        (1_500_000_000, "1500ms"),
    ],
)
def test_ns_to_timeframe(ns: int, tf: str) -> None:
    assert ns_to_timeframe(ns) == tf
    assert timeframe_to_ns(tf) == ns


@pytest.mark.parametrize("ns", [0, -60])
def test_ns_to_timeframe_rejects_non_positive(ns: int) -> None:
    with pytest.raises(ConfigError):
        ns_to_timeframe(ns)


def test_infer_timeframe_is_robust_to_gaps() -> None:
    ts = np.array([0, 60, 120, 180, 600, 660, 720], dtype=np.int64) * 10**9
    assert infer_timeframe_ns(ts) == 60 * 10**9


def test_infer_timeframe_needs_two_rows() -> None:
    with pytest.raises(DataError, match="need at least 2"):
        infer_timeframe_ns(np.array([T0_NS], dtype=np.int64))


# --- real data -------------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_eth_5m_file() -> None:
    path = REAL_DATA / "binance_ETHUSDT_5m.csv.gz"
    if not path.exists():
        pytest.skip(f"real data not found at {path}")
    bars = only(load_ohlcv(path))
    assert list(load_ohlcv(path)) == ["ETHUSDT"]
    assert len(bars) == 71_769
    ts = bars["ts"].to_numpy()
    assert ts.dtype == np.int64
    assert np.all(np.diff(ts) > 0)
    assert ts[0] == T0_NS  # 2024-01-01 00:00 UTC
    assert infer_timeframe_ns(ts) == 5 * MINUTE_NS
    assert ns_to_timeframe(infer_timeframe_ns(ts)) == "5m"
