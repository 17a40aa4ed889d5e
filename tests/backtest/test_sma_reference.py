"""The engine's built-in ``sma_cross`` against an independent plain-pandas reference.

``sma_reference.py`` (beside this file) was written only from the rules of the strategy and the
default sizing (all cash in at the next open, fractional quantities, percent commission), not
from the engine's code. These tests require the engine and the reference to agree trade by trade
and bar by bar, on generated data and on the real 2M-bar BTCUSDT 1m file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradewind.backtest.result import BacktestResult
from tradewind.backtest.runner import run_backtest
from tradewind.data.loader import load_ohlcv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sma_reference import ReferenceResult, sma_cross_reference

MINUTE_NS = 60_000_000_000
T0_NS = pd.Timestamp("2024-01-01", tz="UTC").value
BTC_FILE = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance_BTCUSDT_1m.csv.gz"
)
RTOL = 1e-9


def random_walk_bars(n: int, seed: int) -> pd.DataFrame:
    """Seeded 1-minute random walk around 100 with gaps between close and next open, and
    high >= max(open, close), low <= min(open, close)."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    prev_close = np.concatenate([[100.0], close[:-1]])
    open_ = prev_close * np.exp(rng.normal(0.0, 0.0003, n))  # opens differ from prior closes
    return pd.DataFrame(
        {
            "ts": T0_NS + np.arange(n, dtype=np.int64) * MINUTE_NS,
            "open": open_,
            "high": np.maximum(open_, close) * (1 + rng.uniform(0.0, 0.001, n)),
            "low": np.minimum(open_, close) * (1 - rng.uniform(0.0, 0.001, n)),
            "close": close,
            "volume": rng.uniform(1.0, 5.0, n),
        }
    )


def hand_bars(closes: list[float], opens: list[float]) -> pd.DataFrame:
    n = len(closes)
    return pd.DataFrame(
        {
            "ts": T0_NS + np.arange(n, dtype=np.int64) * MINUTE_NS,
            "open": opens,
            "high": np.maximum(opens, closes),
            "low": np.minimum(opens, closes),
            "close": closes,
            "volume": np.ones(n),
        }
    )


def run_engine(sym: str, bars: pd.DataFrame, fast: int, slow: int, c: float) -> BacktestResult:
    return run_backtest(
        {sym: bars}, "sma_cross", {"fast": fast, "slow": slow}, cash=100_000, commission=c
    )


def _ns(col: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(col).as_unit("ns").asi8


def _row(trades: pd.DataFrame, i: int) -> str:
    if i >= len(trades):
        return "<none>"
    r = trades.iloc[i]
    return (
        f"entry {r['entry_time']} @ {float(r['entry_price'])!r}, exit {r['exit_time']} @ "
        f"{float(r['exit_price'])!r}, qty {float(r['quantity'])!r}, pnl {float(r['pnl'])!r}, "
        f"fees {float(r['fees'])!r}"
    )


def first_difference(eng: pd.DataFrame, ref: pd.DataFrame) -> int | None:
    """Index of the first round trip whose times or prices differ (or where one list ends)."""
    m = min(len(eng), len(ref))
    bad = (
        (_ns(eng["entry_time"])[:m] != _ns(ref["entry_time"])[:m])
        | (_ns(eng["exit_time"])[:m] != _ns(ref["exit_time"])[:m])
        | ~np.isclose(
            eng["entry_price"].to_numpy()[:m], ref["entry_price"].to_numpy()[:m], 1e-12, 0
        )
        | ~np.isclose(eng["exit_price"].to_numpy()[:m], ref["exit_price"].to_numpy()[:m], 1e-12, 0)
    )
    hits = np.flatnonzero(bad)
    if len(hits):
        return int(hits[0])
    return None if len(eng) == len(ref) else m


def assert_same_trades(
    res: BacktestResult, ref: ReferenceResult, *, pnl_vs_notional: bool = False
) -> None:
    """Same round trips: times exact, prices to 1e-12, quantity/fees/pnl to 1e-9 relative.

    pnl is a difference of two nearly equal amounts (exit proceeds - entry cost), so its own
    relative error is ill-conditioned when a trade nearly breaks even; with
    ``pnl_vs_notional`` the 1e-9 is taken relative to the trade's entry notional instead."""
    eng = res.trades
    i = first_difference(eng, ref.trades)
    assert i is None, (
        f"engine {len(eng)} trades vs reference {len(ref.trades)}; first difference at trade "
        f"#{i}:\n  engine:    {_row(eng, i)}\n  reference: {_row(ref.trades, i)}"
    )
    assert (eng["side"] == "long").all()
    np.testing.assert_allclose(eng["entry_price"], ref.trades["entry_price"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(eng["exit_price"], ref.trades["exit_price"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(eng["quantity"], ref.trades["quantity"], rtol=RTOL, atol=0)
    np.testing.assert_allclose(eng["fees"], ref.trades["fees"], rtol=RTOL, atol=0)
    if pnl_vs_notional:
        notional = (ref.trades["quantity"] * ref.trades["entry_price"]).to_numpy()
        err = np.abs(eng["pnl"].to_numpy() - ref.trades["pnl"].to_numpy()) / notional
        assert err.max(initial=0.0) <= RTOL, f"pnl differs by {err.max():.3g} of notional"
    else:
        np.testing.assert_allclose(eng["pnl"], ref.trades["pnl"], rtol=RTOL, atol=0)


def assert_same_final(res: BacktestResult, ref: ReferenceResult) -> None:
    rel = abs(res.final_equity / ref.final_equity - 1)
    assert rel <= RTOL, (
        f"final equity: engine {res.final_equity!r} vs reference {ref.final_equity!r} "
        f"(relative difference {rel:.3g})"
    )
    # an open position at the end is not a closed trade, but it is reported as open
    assert len(res.open_trades) == (1 if ref.final_quantity else 0)


# --- the reference itself, on numbers worked out by hand ------------------------------------

# fast=2, slow=3, c=0.25, cash=1000
#   close: 10 10 10 13  7  7  7 10 14
#   fast:   - 10 10 11.5 10 7  7 8.5 12
#   slow:   -  - 10 11  10  9  7  8 10.33
#   d:      -  -  0 0.5  0 -2  0 0.5 1.67
# bar 2: d=0 after NaN -> no signal (warm-up); bar 3: 0.5 > 0 and prev 0 <= 0 -> cross up;
# bar 4: d=0 is not < 0 -> nothing; bar 5: -2 < 0 and prev 0 >= 0 -> cross down;
# bar 7: 0.5 > 0 and prev 0 <= 0 -> cross up; bar 8: no cross.
HAND_CLOSE = [10.0, 10.0, 10.0, 13.0, 7.0, 7.0, 7.0, 10.0, 14.0]
HAND_OPEN = [10.0, 10.0, 10.0, 10.0, 12.5, 7.0, 8.0, 7.0, 12.0]


def test_reference_on_hand_computed_bars() -> None:
    ref = sma_cross_reference(hand_bars(HAND_CLOSE, HAND_OPEN), 2, 3, cash=1000.0, commission=0.25)
    # buy at open[4]=12.5: q = 1000 / (12.5 * 1.25) = 64, fee = 64 * 12.5 * 0.25 = 200, cash 0
    # sell at open[6]=8: proceeds 64 * 8 = 512, fee 128, cash 384; pnl = 384 - 1000 = -616
    # buy at open[8]=12: q = 384 / (12 * 1.25) = 25.6, fee 76.8, cash 0; held at close 14
    assert len(ref.trades) == 1
    t = ref.trades.iloc[0]
    assert t["entry_time"] == pd.Timestamp(T0_NS + 4 * MINUTE_NS, tz="UTC")
    assert t["exit_time"] == pd.Timestamp(T0_NS + 6 * MINUTE_NS, tz="UTC")
    assert (t["entry_price"], t["exit_price"]) == (12.5, 8.0)
    assert t["quantity"] == pytest.approx(64.0, rel=1e-12)
    assert t["fees"] == pytest.approx(328.0, rel=1e-12)  # 200 + 128
    assert t["pnl"] == pytest.approx(-616.0, rel=1e-12)
    assert ref.final_quantity == pytest.approx(25.6, rel=1e-12)
    assert ref.final_equity == pytest.approx(358.4, rel=1e-12)  # 25.6 * 14
    # per bar: 1000 until the fill at bar 4's open, then 64 * close (7, 7), cash 384 on bars
    # 6-7, then 25.6 * 14 on bar 8
    expected = [1000.0, 1000.0, 1000.0, 1000.0, 448.0, 448.0, 384.0, 384.0, 358.4]
    np.testing.assert_allclose(ref.equity.to_numpy(), expected, rtol=1e-12, atol=1e-9)


def test_engine_on_hand_computed_bars() -> None:
    bars = hand_bars(HAND_CLOSE, HAND_OPEN)
    res = run_backtest(
        {"SYM": bars}, "sma_cross", {"fast": 2, "slow": 3}, cash=1000, commission=0.25
    )
    ref = sma_cross_reference(bars, 2, 3, cash=1000.0, commission=0.25)
    assert_same_trades(res, ref)
    assert res.final_equity == pytest.approx(358.4, rel=1e-9)  # 25.6 * 14, see above
    np.testing.assert_allclose(
        res.equity.to_numpy(),
        [1000.0, 1000.0, 1000.0, 1000.0, 448.0, 448.0, 384.0, 384.0, 358.4],
        rtol=1e-9,
        atol=1e-9,
    )


def test_signal_on_last_bar_does_not_fill() -> None:
    # the first six bars of the hand series: the cross down is on the last bar (5), so the
    # 64 units bought at open[4] stay open and are marked at close[5] = 7 -> 448
    bars = hand_bars(HAND_CLOSE[:6], HAND_OPEN[:6])
    ref = sma_cross_reference(bars, 2, 3, cash=1000.0, commission=0.25)
    assert ref.trades.empty
    assert ref.final_equity == pytest.approx(448.0, rel=1e-12)
    res = run_backtest(
        {"SYM": bars}, "sma_cross", {"fast": 2, "slow": 3}, cash=1000, commission=0.25
    )
    assert res.trades.empty
    assert len(res.open_trades) == 1
    assert res.final_equity == pytest.approx(448.0, rel=1e-9)


# --- engine vs reference on a generated random walk -----------------------------------------


@pytest.fixture(scope="module")
def walk() -> pd.DataFrame:
    return random_walk_bars(20_000, seed=7)


@pytest.mark.parametrize(
    ("fast", "slow", "commission"),
    [(10, 30, 0.001), (25, 90, 0.0005), (10, 30, 0.0)],
)
def test_engine_matches_reference_on_random_walk(
    walk: pd.DataFrame, fast: int, slow: int, commission: float
) -> None:
    res = run_engine("SYM", walk, fast, slow, commission)
    ref = sma_cross_reference(walk, fast, slow, cash=100_000.0, commission=commission)
    assert len(ref.trades) > 50  # the comparison is not vacuous
    assert_same_trades(res, ref)
    assert_same_final(res, ref)


@pytest.mark.parametrize("commission", [0.001, 0.0])
def test_equity_curve_matches_reference_every_bar(walk: pd.DataFrame, commission: float) -> None:
    res = run_engine("SYM", walk, 10, 30, commission)
    ref = sma_cross_reference(walk, 10, 30, cash=100_000.0, commission=commission)
    assert len(res.equity) == len(walk)
    assert (res.equity.index.as_unit("ns").asi8 == walk["ts"].to_numpy()).all()
    np.testing.assert_allclose(res.equity.to_numpy(), ref.equity.to_numpy(), rtol=RTOL, atol=0)


# --- engine vs reference on real data (acceptance) ------------------------------------------


@pytest.fixture(scope="module")
def btc() -> pd.DataFrame:
    if not BTC_FILE.exists():
        pytest.skip(f"real data file not found: {BTC_FILE}")
    return load_ohlcv(BTC_FILE)["BTCUSDT"]


@pytest.mark.realdata
def test_engine_matches_reference_on_btc_full(btc: pd.DataFrame) -> None:
    assert len(btc) == 2_059_120
    res = run_engine("BTCUSDT", btc, 10, 30, 0.001)
    ref = sma_cross_reference(btc, 10, 30, cash=100_000.0, commission=0.001)
    assert_same_trades(res, ref, pnl_vs_notional=True)
    assert_same_final(res, ref)
    np.testing.assert_allclose(res.equity.to_numpy(), ref.equity.to_numpy(), rtol=RTOL, atol=0)


@pytest.mark.realdata
def test_engine_matches_reference_on_btc_first_200k_slow_params(btc: pd.DataFrame) -> None:
    bars = btc.iloc[:200_000].reset_index(drop=True)
    res = run_engine("BTCUSDT", bars, 50, 200, 0.001)
    ref = sma_cross_reference(bars, 50, 200, cash=100_000.0, commission=0.001)
    assert len(ref.trades) > 100
    assert_same_trades(res, ref, pnl_vs_notional=True)
    assert_same_final(res, ref)
    np.testing.assert_allclose(res.equity.to_numpy(), ref.equity.to_numpy(), rtol=RTOL, atol=0)
