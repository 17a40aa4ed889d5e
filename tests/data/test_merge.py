"""merge_series: source precedence, bars taken per source, and the close-conflict table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tradewind.data.merge import merge_series
from tradewind.errors import ConfigError

MIN_NS = 60_000_000_000
T0_NS = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z
COLUMNS = ["ts", "open", "high", "low", "close", "volume"]


def bars(minutes: list[int], closes: list[float], volume: float) -> pd.DataFrame:
    """Bars at ``T0 + minute``; open = close - 0.5, high = close + 1, low = close - 1.

    ``volume`` is the same for every bar of a source, so each merged row shows its origin."""
    close = np.asarray(closes, dtype=np.float64)
    return pd.DataFrame(
        {
            "ts": T0_NS + np.asarray(minutes, dtype=np.int64) * MIN_NS,
            "open": close - 0.5,
            "high": close + 1.0,
            "low": close - 1.0,
            "close": close,
            "volume": np.full(len(close), volume),
        }
    )


def ts(minute: int) -> int:
    return T0_NS + minute * MIN_NS


# source "a" covers minutes 0-5, "b" minutes 3-8; where both have a bar, b's close is
# +0.1 % (minute 3), +2 % (minute 4) and equal (minute 5) to a's
A = bars([0, 1, 2, 3, 4, 5], [10.0, 11.0, 12.0, 13.0, 14.0, 15.0], volume=1.0)
B = bars([3, 4, 5, 6, 7, 8], [13.0 * 1.001, 14.0 * 1.02, 15.0, 20.0, 21.0, 22.0], volume=2.0)


def test_first_source_wins_and_the_second_fills_in() -> None:
    merged, _, counts = merge_series({"a": A, "b": B})

    assert merged["ts"].tolist() == [ts(m) for m in range(9)]
    # minutes 0-5 come from a (volume 1), 6-8 from b (volume 2)
    assert merged["volume"].tolist() == [1.0] * 6 + [2.0] * 3
    expected = pd.concat([A, B.iloc[3:]], ignore_index=True)
    pd.testing.assert_frame_equal(merged[COLUMNS], expected[COLUMNS])
    assert counts == {"a": 6, "b": 3}


def test_order_of_the_mapping_is_the_precedence() -> None:
    merged, _, counts = merge_series({"b": B, "a": A})
    assert merged["volume"].tolist() == [1.0] * 3 + [2.0] * 6
    assert merged.loc[merged["ts"] == ts(4), "close"].item() == pytest.approx(14.28)
    assert counts == {"b": 6, "a": 3}


def test_conflicts_list_only_bars_beyond_tolerance_with_closes_side_by_side() -> None:
    _, conflicts, _ = merge_series({"a": A, "b": B}, tolerance=0.005)

    assert list(conflicts.columns) == ["time", "close[a]", "close[b]", "max_rel_diff"]
    assert len(conflicts) == 1  # minute 3 (0.1 %) is within tolerance, minute 5 is equal
    row = conflicts.iloc[0]
    assert row["time"] == pd.Timestamp("2024-01-01 00:04", tz="UTC")
    assert row["close[a]"] == 14.0
    assert row["close[b]"] == pytest.approx(14.28)
    assert row["max_rel_diff"] == pytest.approx(0.28 / 14.0)


def test_zero_tolerance_reports_every_difference_but_not_equal_closes() -> None:
    _, conflicts, _ = merge_series({"a": A, "b": B}, tolerance=0.0)
    assert conflicts["time"].tolist() == [
        pd.Timestamp("2024-01-01 00:03", tz="UTC"),
        pd.Timestamp("2024-01-01 00:04", tz="UTC"),
    ]
    assert conflicts["max_rel_diff"].tolist() == pytest.approx([0.001, 0.02])


def test_large_tolerance_reports_nothing_and_merges_the_same() -> None:
    merged_strict, _, counts_strict = merge_series({"a": A, "b": B}, tolerance=0.0)
    merged, conflicts, counts = merge_series({"a": A, "b": B}, tolerance=1.0)
    assert conflicts.empty
    assert "max_rel_diff" in conflicts.columns
    pd.testing.assert_frame_equal(merged, merged_strict)
    assert counts == counts_strict


def test_three_sources_diff_is_relative_to_the_preferred_source() -> None:
    a = bars([0, 1], [100.0, 100.0], volume=1.0)
    b = bars([1, 2], [101.0, 50.0], volume=2.0)
    c = bars([1, 2, 3], [95.0, 52.0, 7.0], volume=3.0)

    merged, conflicts, counts = merge_series({"a": a, "b": b, "c": c}, tolerance=0.005)

    assert merged["volume"].tolist() == [1.0, 1.0, 2.0, 3.0]
    assert counts == {"a": 2, "b": 1, "c": 1}
    assert list(conflicts.columns) == ["time", "close[a]", "close[b]", "close[c]", "max_rel_diff"]
    # minute 3 has only one source: never a conflict
    assert conflicts["time"].tolist() == [
        pd.Timestamp("2024-01-01 00:01", tz="UTC"),
        pd.Timestamp("2024-01-01 00:02", tz="UTC"),
    ]
    first, second = conflicts.iloc[0], conflicts.iloc[1]
    assert (first["close[a]"], first["close[b]"], first["close[c]"]) == (100.0, 101.0, 95.0)
    assert first["max_rel_diff"] == pytest.approx(5.0 / 100.0)  # |95 - 100| / 100 beats 1 %
    # a has no bar at minute 2: b is preferred there, and the diff is relative to b
    assert math.isnan(second["close[a]"])
    assert second["max_rel_diff"] == pytest.approx(2.0 / 50.0)


def test_unsorted_input_gives_sorted_output() -> None:
    shuffled = A.iloc[[4, 0, 5, 2, 1, 3]].reset_index(drop=True)
    merged, _, counts = merge_series({"a": shuffled, "b": B})
    assert merged["ts"].tolist() == [ts(m) for m in range(9)]
    assert merged["close"].tolist()[:6] == [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
    assert counts == {"a": 6, "b": 3}


def test_a_source_with_no_bars_counts_zero() -> None:
    empty = A.iloc[0:0]
    merged, conflicts, counts = merge_series({"a": A, "none": empty})
    assert counts == {"a": 6, "none": 0}
    pd.testing.assert_frame_equal(merged[COLUMNS], A[COLUMNS])
    assert conflicts.empty


def test_inputs_are_not_modified() -> None:
    a, b = A.copy(), B.copy()
    merge_series({"a": a, "b": b}, tolerance=0.0)
    pd.testing.assert_frame_equal(a, A)
    pd.testing.assert_frame_equal(b, B)


@pytest.mark.parametrize("tolerance", [-0.01, float("nan")])
def test_bad_tolerance_is_a_config_error(tolerance: float) -> None:
    with pytest.raises(ConfigError, match="tolerance"):
        merge_series({"a": A}, tolerance=tolerance)


def test_nothing_to_merge_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="nothing to merge"):
        merge_series({})
