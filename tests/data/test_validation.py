"""Validation and repair rules: every failure names the file, the 1-based row, field and value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradewind.data.loader import load_ohlcv
from tradewind.data.validation import validate_ohlcv
from tradewind.errors import DataError

HEADER = "timestamp,open,high,low,close,volume"
MINUTE_NS = 60_000_000_000
T0_NS = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z


def good_rows(n: int = 10) -> list[list[str]]:
    """n clean 1-minute bars from 2024-01-01 00:00 UTC: open 100+i, high +2, low -1, close +1."""
    return [
        [f"2024-01-01T00:{i:02d}:00Z", f"{100 + i}", f"{102 + i}", f"{99 + i}", f"{101 + i}", "10"]
        for i in range(n)
    ]


def write(
    tmp_path: Path, rows: list[list[str]], name: str = "data.csv", header: str = HEADER
) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *(",".join(r) for r in rows)]) + "\n")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(DataError) as info:
        load_ohlcv(path)
    return str(info.value)


def with_cell(row: int, field: str, value: str, n: int = 10) -> list[list[str]]:
    """Clean rows with one cell (1-based data row) replaced."""
    rows = good_rows(n)
    rows[row - 1][HEADER.split(",").index(field)] = value
    return rows


# --- one test per rule: message names file, row, field, value and expectation ---------------


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, [r[:5] for r in good_rows()], header="timestamp,open,high,low,close")
    assert load_error(path) == (
        "data.csv row 0 (header): missing column(s) 'volume' "
        "(expected timestamp, open, high, low, close, volume)"
    )


def test_unparseable_timestamp(tmp_path: Path) -> None:
    msg = load_error(write(tmp_path, with_cell(2, "timestamp", "notadate")))
    assert msg.startswith("data.csv row 2: timestamp 'notadate' cannot be parsed")


def test_missing_timestamp(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, with_cell(4, "timestamp", ""))) == (
        "data.csv row 4: timestamp is missing"
    )


def test_nan_price(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, with_cell(3, "close", ""))) == "data.csv row 3: close is NaN"


def test_nan_volume_is_an_error(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, with_cell(5, "volume", "NaN"))) == (
        "data.csv row 5: volume is NaN"
    )


def test_non_positive_price(tmp_path: Path) -> None:
    rows = with_cell(4, "open", "-1")
    rows[3][3] = "-2"  # keep low <= open so only the sign rule fires
    assert load_error(write(tmp_path, rows)) == "data.csv row 4: open -1.0 must be > 0"


def test_zero_price(tmp_path: Path) -> None:
    rows = with_cell(2, "low", "0")
    assert load_error(write(tmp_path, rows)) == "data.csv row 2: low 0.0 must be > 0"


def test_non_numeric_price_names_the_text(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, with_cell(5, "high", "abc"))) == (
        "data.csv row 5: high 'abc' is not a number"
    )


def test_infinite_price(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, with_cell(8, "high", "inf"))) == (
        "data.csv row 8: high inf is not finite"
    )


def test_negative_volume(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, with_cell(7, "volume", "-3"))) == (
        "data.csv row 7: volume -3.0 must be >= 0"
    )


def test_zero_volume_is_allowed(tmp_path: Path) -> None:
    bars = load_ohlcv(write(tmp_path, with_cell(7, "volume", "0")))["data"]
    assert bars["volume"].iloc[6] == 0.0


def test_high_below_max_open_close(tmp_path: Path) -> None:
    # row 7: open 106, close 107 -> high 106.5 is below 107
    assert load_error(write(tmp_path, with_cell(7, "high", "106.5"))) == (
        "data.csv row 7: high 106.5 is below max(open, close) = 107.0"
    )


def test_low_above_min_open_close(tmp_path: Path) -> None:
    # row 6: open 105, close 106 -> low 105.5 is above 105
    assert load_error(write(tmp_path, with_cell(6, "low", "105.5"))) == (
        "data.csv row 6: low 105.5 is above min(open, close) = 105.0"
    )


def test_high_below_low(tmp_path: Path) -> None:
    rows = good_rows()
    rows[2][1:5] = ["100", "99", "101", "100"]  # open, high, low, close
    assert load_error(write(tmp_path, rows)) == "data.csv row 3: high 99.0 is below low 101.0"


def test_unsorted_timestamps(tmp_path: Path) -> None:
    rows = good_rows()
    rows[3][0], rows[4][0] = rows[4][0], rows[3][0]  # rows 4 and 5 swapped
    assert load_error(write(tmp_path, rows)) == (
        "data.csv row 5: timestamp 2024-01-01T00:03:00Z is not after the previous row's "
        "2024-01-01T00:04:00Z (timestamps must be strictly increasing)"
    )


def test_duplicate_timestamp(tmp_path: Path) -> None:
    rows = good_rows()
    rows[8][0] = rows[7][0]
    assert load_error(write(tmp_path, rows)) == (
        "data.csv row 9: duplicate timestamp 2024-01-01T00:07:00Z (also at row 8)"
    )


def test_duplicate_far_apart_is_reported_as_duplicate(tmp_path: Path) -> None:
    rows = good_rows(6) + good_rows(6)  # the file was concatenated twice
    assert load_error(write(tmp_path, rows)) == (
        "data.csv row 7: duplicate timestamp 2024-01-01T00:00:00Z (also at row 1) "
        "(and 5 more rows with the same problem)"
    )


def test_mixed_epoch_units(tmp_path: Path) -> None:
    rows = good_rows(3)
    for i, row in enumerate(rows):
        row[0] = str(1_704_067_200 + 60 * i)
    rows[2][0] = str((1_704_067_200 + 120) * 1000)
    assert load_error(write(tmp_path, rows)) == (
        "data.csv row 3: timestamp 1704067320000 looks like epoch milliseconds but row 1 "
        "looks like epoch seconds"
    )


def test_count_of_further_rows_with_same_problem(tmp_path: Path) -> None:
    rows = good_rows()
    for r in (3, 6, 9):
        rows[r - 1][4] = ""
    assert load_error(write(tmp_path, rows)) == (
        "data.csv row 3: close is NaN (and 2 more rows with the same problem)"
    )


def test_first_offending_row_wins_across_rules(tmp_path: Path) -> None:
    rows = with_cell(6, "close", "")
    rows[3][5] = "-5"  # row 4: negative volume comes first in the file
    assert load_error(write(tmp_path, rows)) == "data.csv row 4: volume -5.0 must be >= 0"


def test_header_only_file(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, [])) == (
        "data.csv: no data rows (expected a header and at least one bar)"
    )


def test_long_format_error_names_symbol_and_file_row(tmp_path: Path) -> None:
    a, b = good_rows(4), good_rows(4)
    b[2][3] = "102.5"  # low above open (102) for B's third bar
    rows = [
        [r[0], sym, *r[1:]]
        for pair in zip(a, b, strict=True)
        for sym, r in zip("AB", pair, strict=True)
    ]
    path = write(tmp_path, rows, header="timestamp,symbol,open,high,low,close,volume")
    # A1 B1 A2 B2 A3 B3 ... -> B's third bar is file row 6
    assert load_error(path) == (
        "data.csv (symbol B) row 6: low 102.5 is above min(open, close) = 102.0"
    )


# --- repair ---------------------------------------------------------------------------------


def test_repair_drops_sorts_dedups_and_reports(tmp_path: Path) -> None:
    rows = good_rows(14)
    rows[3][4] = ""  # row 4: NaN close
    rows[8][1] = "-1"  # row 9: negative open
    rows[8][3] = "-2"
    rows[11][2] = "50"  # row 12: high below low
    rows[5][0], rows[6][0] = rows[6][0], rows[5][0]  # rows 6/7 swapped
    rows[13][0] = rows[12][0]  # row 14 duplicates row 13
    report: list[str] = []
    bars = load_ohlcv(write(tmp_path, rows), repair=True, report=report)["data"]
    assert report == [
        "data.csv: dropped 1 row with NaN values (row 4)",
        "data.csv: dropped 1 row with non-positive prices (row 9)",
        "data.csv: dropped 1 row with high/low inconsistent with open/close (row 12)",
        "data.csv: sorted 1 out-of-order row (row 7)",
        "data.csv: dropped 1 duplicate timestamp (row 14)",
    ]
    minutes = (bars["ts"].to_numpy() - T0_NS) // MINUTE_NS
    assert minutes.tolist() == [0, 1, 2, 4, 5, 6, 7, 9, 10, 12]
    # the duplicate kept its first occurrence (row 13, open 112), not row 14 (open 113)
    assert bars["open"].iloc[-1] == 112.0
    # row 6 held minute 6 with open 105 and must now sit after minute 5 (row 7, open 106)
    assert bars.loc[bars["ts"] == T0_NS + 6 * MINUTE_NS, "open"].item() == 105.0
    assert isinstance(bars.index, pd.RangeIndex)


def test_repair_lists_at_most_ten_rows(tmp_path: Path) -> None:
    rows = good_rows(30)
    for r in range(2, 30, 2):  # 14 rows with NaN volume
        rows[r - 1][5] = ""
    report: list[str] = []
    bars = load_ohlcv(write(tmp_path, rows), repair=True, report=report)["data"]
    assert len(bars) == 16
    assert report == [
        "data.csv: dropped 14 rows with NaN values (rows 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, …)"
    ]


def test_repair_of_clean_file_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, good_rows())
    report: list[str] = []
    repaired = load_ohlcv(path, repair=True, report=report)["data"]
    assert report == []
    pd.testing.assert_frame_equal(repaired, load_ohlcv(path)["data"])


def test_repair_still_raises_on_missing_columns(tmp_path: Path) -> None:
    path = write(tmp_path, [r[:5] for r in good_rows()], header="timestamp,open,high,low,close")
    with pytest.raises(DataError, match="missing column"):
        load_ohlcv(path, repair=True)


def test_repair_leaving_no_rows_raises(tmp_path: Path) -> None:
    rows = good_rows(2)
    for row in rows:
        row[4] = ""
    with pytest.raises(DataError, match=r"data.csv: no rows left after repair .*NaN values"):
        load_ohlcv(write(tmp_path, rows), repair=True)


def test_repair_drops_unparseable_timestamps(tmp_path: Path) -> None:
    report: list[str] = []
    bars = load_ohlcv(
        write(tmp_path, with_cell(2, "timestamp", "notadate")), repair=True, report=report
    )["data"]
    assert report == ["data.csv: dropped 1 row with unparseable timestamps (row 2)"]
    assert len(bars) == 9
    assert T0_NS + MINUTE_NS not in set(bars["ts"].tolist())


# --- validate_ohlcv on frames ----------------------------------------------------------------


def test_validate_frame_uses_positions_for_row_numbers() -> None:
    frame = pd.DataFrame(
        {
            "Timestamp": pd.date_range("2024-01-01", periods=3, freq="1min", tz="UTC"),
            "Open": [1.0, 1.0, np.nan],
            "High": 2.0,
            "Low": 0.5,
            "Close": 1.5,
            "Volume": 1.0,
        },
        index=pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-03"]),
    )
    with pytest.raises(DataError, match=r"^mem row 3: open is NaN$"):
        validate_ohlcv(frame, source="mem")


def test_validate_output_is_idempotent(tmp_path: Path) -> None:
    bars = load_ohlcv(write(tmp_path, good_rows()))["data"]
    pd.testing.assert_frame_equal(validate_ohlcv(bars, source="again"), bars)
