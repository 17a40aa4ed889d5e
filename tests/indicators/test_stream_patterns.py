"""Streaming candlestick patterns equal TA-Lib's full-series result, bar by bar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradewind.data.loader import load_ohlcv
from tradewind.errors import ConfigError
from tradewind.indicators import PATTERN_NAMES, pattern
from tradewind.indicators.streaming_more import Pattern
from tradewind.model import Bar

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _check_all(bars: pd.DataFrame) -> int:
    cols = [bars[k].to_numpy(np.float64) for k in ("open", "high", "low", "close")]
    rows = [Bar("X", "5m", 0, o, h, lo, c, 0.0) for o, h, lo, c in zip(*cols, strict=True)]
    hits = 0
    for name in PATTERN_NAMES:
        want = pattern(name, *cols)
        live = Pattern(name)
        got = np.array([live.update(b) for b in rows])
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, (
            f"{name}: first difference at bar {bad[0]}: {got[bad[0]]} vs {want[bad[0]]}"
        )
        hits += int(np.count_nonzero(want))
    return hits


def test_every_pattern_streams_like_the_vector_form_on_real_bars() -> None:
    path = DATA / "binance_ETHUSDT_5m.csv.gz"
    if not path.exists():
        pytest.skip(f"real data not found at {path}")
    bars = load_ohlcv(path)["ETHUSDT"].iloc[:4_000]
    assert _check_all(bars) > 100  # the patterns really fire on these bars


def test_every_pattern_streams_like_the_vector_form_on_generated_bars() -> None:
    rng = np.random.default_rng(2)
    n = 2_000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]] * (1 + rng.normal(0, 0.003, n))
    wick = np.abs(rng.normal(0, 0.006, n)) * close
    bars = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + wick,
            "low": np.minimum(open_, close) - wick,
            "close": close,
        }
    )
    assert _check_all(bars) > 50


def test_unknown_pattern_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown candlestick pattern"):
        Pattern("not-a-pattern")
