"""Walk-forward windows and the stitched out-of-sample result, recomputed independently."""

from __future__ import annotations

import numpy as np
import pytest

from tradewind.backtest.space import ParamSpace
from tradewind.backtest.vector import VECTOR_BUILTINS, Bars, Signals, VectorConfig, simulate
from tradewind.backtest.walkforward import bars_for, walk_forward, windows
from tradewind.data.synth import SynthSpec, synth_bars
from tradewind.errors import ConfigError

SMA = VECTOR_BUILTINS["sma_cross"]


def test_windows_hand_case() -> None:
    assert windows(10, 4, 3) == [(0, 4, 7), (3, 7, 10)]
    assert windows(10, 4, 3, anchored=True) == [(0, 4, 7), (0, 7, 10)]
    assert windows(11, 4, 3) == [(0, 4, 7), (3, 7, 10), (6, 10, 11)]  # a short last window
    with pytest.raises(ConfigError, match="more than train"):
        windows(4, 4, 2)
    with pytest.raises(ConfigError, match="train must be"):
        windows(100, 1, 2)


def test_bars_for_durations() -> None:
    minute = 60e9
    assert bars_for("30d", minute) == 30 * 1440
    assert bars_for("5000", minute) == 5000
    assert bars_for(12, minute) == 12


@pytest.mark.parametrize("anchored", [False, True])
def test_stitched_result_equals_independent_recomputation(anchored: bool) -> None:
    df, _ = synth_bars(SynthSpec(bars=6000, volatility=1.0, seed=8))
    b = Bars(df)
    space = ParamSpace(SMA, {"fast": "5,10,20", "slow": "40,80"})
    cfg = VectorConfig(commission=0.001)
    res = walk_forward(b, space, train=2000, test=1500, anchored=anchored, config=cfg)
    plan = windows(len(b), 2000, 1500, anchored=anchored)
    assert len(res.windows) == len(plan) == 3
    cash = cfg.cash
    curves = []
    for w, (s, o, e) in enumerate(plan):
        # in-sample winner by brute force
        scores = {}
        for p in space.grid():
            ins = b.slice(s, o)
            scores[(p["fast"], p["slow"])] = (
                simulate(ins, SMA(**p).signals(ins), cfg).metrics["sharpe"].iloc[0]
            )
        fast, slow = max(scores, key=lambda k: (scores[k], -list(scores).index(k)))
        row = res.windows.iloc[w]
        assert (row["param_fast"], row["param_slow"]) == (fast, slow)
        # out-of-sample: signals warmed up on the in-sample bars, traded from o
        span = b.slice(s, e)
        sig = SMA(fast=fast, slow=slow).signals(span)
        oos = Signals(entries=sig.entries[o - s :], exits=sig.exits[o - s :])
        run = simulate(b.slice(o, e), oos, VectorConfig(cash=cash, commission=0.001))
        curve = run.equity["0"].to_numpy()
        assert row["oos_start_equity"] == pytest.approx(cash)
        assert row["oos_end_equity"] == pytest.approx(curve[-1], rel=1e-12)
        curves.append(curve)
        cash = curve[-1]
    stitched = np.concatenate(curves)
    np.testing.assert_allclose(res.equity.to_numpy(), stitched, rtol=1e-12)
    assert res.metrics["total_return"] == pytest.approx(stitched[-1] / stitched[0] - 1.0)
    assert res.equity.index[0].value == b.ts[2000]


def test_walkforward_rejects_event_only_strategies() -> None:
    from tradewind.strategy.builtin import BUILTINS

    df, _ = synth_bars(SynthSpec(bars=500))
    space = ParamSpace(BUILTINS["grid"], {"levels": "3,5"})
    with pytest.raises(ConfigError, match="vectorized strategies"):
        walk_forward(df, space, train=200, test=100)
