"""repair_series: fill 24/7 gaps, drop one-bar spikes, drop zero-volume runs — only on request."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradewind.data.repair import repair_series
from tradewind.data.symbols import SeriesKey
from tradewind.errors import ConfigError

MIN_NS = 60_000_000_000
T0_NS = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z
CRYPTO = SeriesKey("binance", "BTC/USDT", "1m")
EQUITY = SeriesKey("us", "AAPL", "1m")
COLUMNS = ["ts", "open", "high", "low", "close", "volume"]


def smooth(n: int) -> pd.DataFrame:
    """``n`` 1m bars whose close wiggles by ±0.2 % (no spikes), volume 5 + i."""
    i = np.arange(n, dtype=np.int64)
    close = 100.0 * (1.0 + 0.002 * np.sin(i))
    open_ = np.r_[100.0, close[:-1]]
    return pd.DataFrame(
        {
            "ts": T0_NS + i * MIN_NS,
            "open": open_,
            "high": np.maximum(open_, close) + 0.1,
            "low": np.minimum(open_, close) - 0.1,
            "close": close,
            "volume": 5.0 + i,
        }
    )


def without(bars: pd.DataFrame, rows: list[int]) -> pd.DataFrame:
    return bars.drop(index=rows).reset_index(drop=True)


def minutes(bars: pd.DataFrame) -> list[int]:
    return [(int(t) - T0_NS) // MIN_NS for t in bars["ts"]]


def test_no_flags_change_nothing() -> None:
    bars = without(smooth(40), [10, 11])
    bars.loc[20, "close"] *= 1.5
    bars.loc[25:29, "volume"] = 0.0
    out, actions = repair_series(bars, CRYPTO)
    pd.testing.assert_frame_equal(out, bars)
    assert actions == []


def test_fill_gaps_inserts_exactly_the_missing_bars_at_the_previous_close() -> None:
    full = smooth(30)
    bars = without(full, [5, 6, 7, 20])
    original = bars.copy()

    out, actions = repair_series(bars, CRYPTO, fill_gaps=True)

    # expected, by plain pandas: every minute present; a missing bar is flat at the last close
    expected = full[COLUMNS].copy()
    for row, prev in ((5, 4), (6, 4), (7, 4), (20, 19)):
        expected.loc[row, ["open", "high", "low", "close"]] = full.loc[prev, "close"]
        expected.loc[row, "volume"] = 0.0
    pd.testing.assert_frame_equal(out[COLUMNS], expected, check_dtype=False)
    assert out["ts"].is_monotonic_increasing
    assert len(actions) == 2
    assert all(a.startswith("filled") and "volume 0" in a for a in actions)
    assert "3 bars" in actions[0]
    assert "1 bars" in actions[1]
    pd.testing.assert_frame_equal(bars, original)  # the input is left alone


def test_fill_gaps_without_gaps_is_a_no_op() -> None:
    bars = smooth(10)
    out, actions = repair_series(bars, CRYPTO, fill_gaps=True)
    pd.testing.assert_frame_equal(out, bars)
    assert actions == []


def test_fill_gaps_refuses_an_exchange_calendar_venue() -> None:
    bars = without(smooth(20), [8, 9])
    with pytest.raises(ConfigError, match=r"us:AAPL:1m.*24/7"):
        repair_series(bars, EQUITY, fill_gaps=True)


def test_drop_spikes_removes_the_spike_and_nothing_else() -> None:
    bars = smooth(80)
    bars.loc[40, ["close", "high"]] = [150.0, 151.0]  # +50 % for one bar, then back
    bars.loc[60:, ["open", "high", "low", "close"]] *= 0.7  # a real crash: it stays down
    original = bars.copy()

    out, actions = repair_series(bars, CRYPTO, drop_spikes=True)

    pd.testing.assert_frame_equal(out, without(original, [40]))
    assert len(actions) == 1
    assert actions[0].startswith("dropped outlier")
    assert "00:40:00" in actions[0]
    pd.testing.assert_frame_equal(bars, original)


def test_drop_spikes_removes_downward_spikes_too() -> None:
    bars = smooth(50)
    bars.loc[12, ["close", "low"]] = [60.0, 59.0]
    out, actions = repair_series(bars, CRYPTO, drop_spikes=True)
    assert minutes(out) == [m for m in range(50) if m != 12]
    assert len(actions) == 1


def test_drop_zero_volume_removes_the_reported_runs_only() -> None:
    bars = smooth(40)
    bars.loc[10:13, "volume"] = 0.0  # a run of 4: reported
    bars.loc[30:31, "volume"] = 0.0  # a run of 2: below the minimum of 3, kept

    out, actions = repair_series(bars, CRYPTO, drop_zero_volume=True)

    assert minutes(out) == [m for m in range(40) if m not in (10, 11, 12, 13)]
    pd.testing.assert_frame_equal(out, without(bars, [10, 11, 12, 13]))
    assert len(actions) == 1
    assert actions[0].startswith("dropped zero-volume run")
    assert "4 bars" in actions[0]


def test_drop_zero_volume_on_an_equity_series_is_allowed() -> None:
    bars = smooth(20)
    bars.loc[0:2, "volume"] = 0.0
    out, _ = repair_series(bars, EQUITY, drop_zero_volume=True)
    assert minutes(out) == list(range(3, 20))


def test_flags_combine() -> None:
    bars = smooth(60)
    bars.loc[20, "close"] = 150.0
    bars.loc[40:44, "volume"] = 0.0
    out, actions = repair_series(bars, CRYPTO, drop_spikes=True, drop_zero_volume=True)
    assert minutes(out) == [m for m in range(60) if m != 20 and not 40 <= m <= 44]
    assert len(actions) == 2


def test_drop_zero_volume_removes_a_run_that_spans_a_gap() -> None:
    bars = without(smooth(12), [5, 6])  # rows at minutes 3, 4, 7, 8 are consecutive
    bars.loc[bars["ts"].isin([T0_NS + m * MIN_NS for m in (3, 4, 7, 8)]), "volume"] = 0.0
    out, actions = repair_series(bars, CRYPTO, drop_zero_volume=True)
    assert len(actions) == 1 and "4 bars" in actions[0]
    assert minutes(out) == [0, 1, 2, 9, 10, 11]


def test_fill_after_dropping_a_spike_never_writes_nan() -> None:
    bars = without(smooth(20), [6, 7])
    bars.loc[bars["ts"] == T0_NS + 5 * MIN_NS, "close"] = 150.0  # spike just before the gap
    out, _ = repair_series(bars, CRYPTO, drop_spikes=True, fill_gaps=True)
    assert not out[["open", "high", "low", "close"]].isna().any().any()
