"""The same signals give the same trades and equity in the vectorized and the event-driven engine.

Every case runs the compiled kernel (``simulate``) and the event-driven engine driven by
``SignalReplay`` (ordinary orders through the simulated venue) and compares fills to 1e-9
relative: long and short, reversals, stop-loss / take-profit / trailing stops alone and together,
fees, slippage, fractional sizes, fill-at-close, and a short liquidated on a rally.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradewind.backtest.runner import run_backtest
from tradewind.backtest.vector import VECTOR_BUILTINS, Bars, Signals, VectorConfig, simulate
from tradewind.backtest.vector.replay import replay_backtest
from tradewind.data.synth import SynthSpec, synth_bars

REL = 1e-9
BTC = Path(__file__).resolve().parents[3] / "shared" / "data" / "binance_BTCUSDT_1m.csv.gz"


@pytest.fixture(scope="module")
def bars() -> Bars:
    df, _ = synth_bars(SynthSpec(bars=6000, volatility=1.5, jumps_per_year=400, seed=11))
    return Bars(df)


def _random_signals(n: int, seed: int, *, shorts: bool, p: float = 0.01) -> Signals:
    rng = np.random.default_rng(seed)
    s = Signals(entries=rng.random(n) < p, exits=rng.random(n) < p)
    if shorts:
        s.short_entries = rng.random(n) < p
        s.short_exits = rng.random(n) < p
    return s


def _compare(bars: Bars, signals: Signals, cfg: VectorConfig) -> pd.DataFrame:
    vec = simulate(bars, signals, cfg)
    ev = replay_backtest(bars, signals, cfg)
    vt, et = vec.trades, ev.trades
    assert len(vt) == len(et), f"{len(vt)} vectorized trades vs {len(et)} event-driven"
    assert len(vt) > 5, "the case should trade"
    assert (vt["side"].to_numpy() == et["side"].to_numpy()).all()
    for col in ("entry_time", "exit_time"):
        assert (vt[col].to_numpy() == et[col].to_numpy()).all(), col
    for col in ("quantity", "entry_price", "exit_price", "pnl", "fees", "return_pct"):
        np.testing.assert_allclose(vt[col], et[col], rtol=REL, atol=1e-9, err_msg=col)
    ev_eq = ev.to_frame()["equity"].to_numpy()
    np.testing.assert_allclose(vec.equity["0"].to_numpy(), ev_eq, rtol=REL)
    assert len(vec.open_positions) == len(ev.open_trades)
    return vt


@pytest.mark.parametrize("fill_at_close", [False, True])
@pytest.mark.parametrize("shorts", [False, True])
def test_signals_fees_slippage(bars: Bars, shorts: bool, fill_at_close: bool) -> None:
    s = _random_signals(len(bars), 1, shorts=shorts)
    cfg = VectorConfig(commission=0.001, slippage_bps=3.0, fill_at_close=fill_at_close)
    trades = _compare(bars, s, cfg)
    if shorts:
        assert (trades["side"] == "short").sum() > 3
        assert (trades["exit_reason"] == "reverse").any()


@pytest.mark.parametrize(
    ("sl", "tp", "trail"),
    [
        (0.01, None, None),
        (None, 0.01, None),
        (None, None, 0.008),
        (0.01, 0.015, None),
        (0.012, 0.02, 0.006),
    ],
)
@pytest.mark.parametrize("shorts", [False, True])
def test_stops(
    bars: Bars, sl: float | None, tp: float | None, trail: float | None, shorts: bool
) -> None:
    s = _random_signals(len(bars), 2, shorts=shorts, p=0.004)
    s.sl_stop, s.tp_stop, s.trail_stop = sl, tp, trail
    trades = _compare(bars, s, VectorConfig(commission=0.0005, slippage_bps=2.0))
    reasons = set(trades["exit_reason"])
    for value, reason in ((sl, "stop_loss"), (tp, "take_profit"), (trail, "trailing_stop")):
        if value is not None:
            assert reason in reasons, f"no {reason} exit in {reasons}"


def test_stops_fill_at_close_and_fractional_sizes(bars: Bars) -> None:
    s = _random_signals(len(bars), 3, shorts=True, p=0.005)
    s.size = np.random.default_rng(4).uniform(0.2, 1.0, len(bars))
    s.sl_stop, s.tp_stop, s.trail_stop = 0.01, 0.02, 0.01
    _compare(bars, s, VectorConfig(commission=0.001, slippage_bps=1.0, fill_at_close=True))


def test_short_liquidated_on_a_rally() -> None:
    n = 60
    close = np.concatenate([np.full(10, 100.0), 100.0 * 1.02 ** np.arange(1, n - 9)])
    df = pd.DataFrame(
        {
            "ts": pd.date_range("2024-01-01", periods=n, freq="1h").as_unit("ns").asi8,
            "open": np.concatenate([[100.0], close[:-1]]),
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": 1.0,
        }
    )
    entries = np.zeros(n, bool)
    short = np.zeros(n, bool)
    short[[2, 55]] = True  # short into the rally; short again near the end (stays open)
    signals = Signals(entries=entries, short_entries=short)
    cfg = VectorConfig(commission=0.001, liquidation_fee=0.005)
    vec = simulate(Bars(df), signals, cfg)
    ev = replay_backtest(Bars(df), signals, cfg)
    assert list(vec.trades["exit_reason"]) == ["liquidation"]
    assert len(ev.trades) == 1
    assert len(vec.open_positions) == len(ev.open_trades) == 1
    for col in ("exit_price", "pnl", "fees"):
        np.testing.assert_allclose(vec.trades[col], ev.trades[col], rtol=REL)
    np.testing.assert_allclose(vec.equity["0"], ev.to_frame()["equity"], rtol=REL)
    # equity at the liquidation price equals the maintenance margin (half the notional)
    t = vec.trades.iloc[0]
    cash_before = (
        100_000.0 + t["quantity"] * t["entry_price"] - t["quantity"] * t["entry_price"] * 0.001
    )
    assert cash_before - t["quantity"] * t["exit_price"] == pytest.approx(
        0.5 * t["quantity"] * t["exit_price"], rel=1e-9
    )


def test_builtin_twins_trade_alike(bars: Bars) -> None:
    """The vectorized built-ins and the event-driven built-ins of the same name agree."""
    frame = bars.frame()
    cases = {
        "sma_cross": {"fast": 7, "slow": 40},
        "macd_cross": {},
        "rsi_reversion": {"period": 10},
        "bollinger_reversion": {"period": 15, "k": 1.5},
        "donchian_breakout": {"entry": 30, "exit": 15},
        "ema_rsi": {"ema_period": 50, "rsi_period": 5, "entry": 45.0, "exit": 55.0},
    }
    for name, params in cases.items():
        sig = VECTOR_BUILTINS[name](**params).signals(bars)
        vec = simulate(bars, sig, VectorConfig(commission=0.001))
        ev = run_backtest({"data": frame}, name, params, commission=0.001)
        assert len(vec.trades) == len(ev.trades) > 0, name
        np.testing.assert_allclose(vec.trades["pnl"], ev.trades["pnl"], rtol=REL, err_msg=name)
        np.testing.assert_allclose(vec.equity["0"], ev.to_frame()["equity"], rtol=REL, err_msg=name)


@pytest.mark.realdata
@pytest.mark.skipif(not BTC.exists(), reason=f"needs {BTC}")
def test_sma_cross_on_btc_matches_event_engine() -> None:
    from tradewind.data.loader import load_ohlcv

    frame = next(iter(load_ohlcv(BTC).values())).iloc[:200_000]
    b = Bars(frame, "BTCUSDT")
    sig = VECTOR_BUILTINS["sma_cross"](fast=10, slow=30).signals(b)
    vec = simulate(b, sig, VectorConfig(commission=0.001))
    ev = run_backtest({"BTCUSDT": frame}, "sma_cross", {"fast": 10, "slow": 30}, commission=0.001)
    assert len(vec.trades) == len(ev.trades) > 1000
    np.testing.assert_allclose(vec.trades["pnl"], ev.trades["pnl"], rtol=REL, atol=1e-9)
    np.testing.assert_allclose(vec.equity["0"], ev.to_frame()["equity"], rtol=REL)
