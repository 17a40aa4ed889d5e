"""MAE / MFE of round trips, against a hand-computed case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradewind.backtest.trades import add_excursions

MIN = 60_000_000_000


def test_long_and_short_excursions_by_hand() -> None:
    ts = np.arange(6, dtype=np.int64) * MIN
    bars = pd.DataFrame(
        {
            "ts": ts,
            "open": 100.0,
            "high": [101, 104, 103, 99, 106, 100],
            "low": [99, 98, 95, 97, 98, 94],
            "close": 100.0,
            "volume": 1.0,
        }
    )
    trades = pd.DataFrame(
        {
            "instrument": ["X", "X"],
            "side": ["long", "short"],
            "entry_time": pd.to_datetime([1 * MIN, 3 * MIN], utc=True),
            "exit_time": pd.to_datetime([2 * MIN, 5 * MIN], utc=True),
            "entry_price": [100.0, 100.0],
        }
    )
    out = add_excursions(trades, {"X": bars})
    # long over bars 1..2: lows 98, 95 -> MAE 95/100-1 = -0.05; highs 104, 103 -> MFE +0.04
    # short over bars 3..5: highs 99, 106, 100 -> MAE 1-106/100 = -0.06; lows 97, 98, 94 -> 0.06
    assert out["mae"].tolist() == pytest.approx([-0.05, -0.06])
    assert out["mfe"].tolist() == pytest.approx([0.04, 0.06])


def test_overlapping_trades_fall_back_and_agree() -> None:
    ts = np.arange(4, dtype=np.int64) * MIN
    bars = pd.DataFrame(
        {
            "ts": ts,
            "open": 10.0,
            "high": [11, 12, 13, 14],
            "low": [9, 8, 7, 6],
            "close": 10.0,
            "volume": 1.0,
        }
    )
    trades = pd.DataFrame(
        {  # a flip: the second trade starts on the bar the first ends
            "instrument": ["X", "X"],
            "side": ["long", "short"],
            "entry_time": pd.to_datetime([0, 2 * MIN], utc=True),
            "exit_time": pd.to_datetime([2 * MIN, 3 * MIN], utc=True),
            "entry_price": [10.0, 10.0],
        }
    )
    out = add_excursions(trades, {"X": bars})
    # long bars 0..2: low 7 -> -0.3, high 13 -> +0.3
    # short bars 2..3: high 14 -> -0.4, low 6 -> +0.4
    assert out["mae"].tolist() == pytest.approx([-0.3, -0.4])
    assert out["mfe"].tolist() == pytest.approx([0.3, 0.4])
