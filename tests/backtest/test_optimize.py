"""Parameter spaces, the optimizer (grid / random / Bayesian, both engines), Pareto fronts, the
in-kernel metrics, and a sweep on Ray equal to the same sweep on the local process pool."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradewind.analytics.metrics import basic_metrics
from tradewind.backtest.optimize import optimize, pareto_mask
from tradewind.backtest.runner import BacktestConfig
from tradewind.backtest.space import ParamSpace
from tradewind.backtest.vector import VECTOR_BUILTINS, Bars, VectorConfig, simulate
from tradewind.data.synth import SynthSpec, synth_bars
from tradewind.errors import ConfigError
from tradewind.strategy.builtin import BUILTINS

SMA = VECTOR_BUILTINS["sma_cross"]
COST = VectorConfig(commission=0.001)


@pytest.fixture(scope="module")
def bars() -> Bars:
    df, _ = synth_bars(SynthSpec(bars=8000, volatility=1.2, seed=21))
    return Bars(df)


@pytest.mark.parametrize(
    ("params", "constraints", "message"),
    [
        ({"fats": "5:10"}, [], "unknown parameter"),
        ({"fast": "5.5:10"}, [], "is an int"),
        ({"fast": "50:5"}, [], "empty range"),
        ({"fast": "5:50:0"}, [], "step must be > 0"),
        ({"fast": "5:50:x"}, [], "must be numbers"),
        ({"fast": "a,b"}, [], "expects an int"),
        ({"fast": "0:5"}, [], ">= 1"),
        ({"fast": "10"}, [], "nothing to search"),
        ({"fast": "5:10", "slow": "20:30"}, ["fast > slow"], "exclude every one"),
        ({"fast": "5:10"}, ["fast < slwo"], "unknown parameter 'slwo'"),
        ({"fast": "5:10"}, ["fast <"], "not a valid expression"),
        ({"fast": "5:10"}, ["__import__('os')"], "only comparisons"),
    ],
)
def test_bad_spaces_fail_before_any_work(
    params: dict[str, str], constraints: list[str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        ParamSpace(SMA, params, constraints).check_feasible()


def test_grid_needs_steps_for_floats() -> None:
    space = ParamSpace(VECTOR_BUILTINS["bollinger_reversion"], {"k": "1.0:3.0"})
    with pytest.raises(ConfigError, match="continuous range"):
        space.grid()
    assert len(ParamSpace(VECTOR_BUILTINS["bollinger_reversion"], {"k": "1.0:3.0:0.5"}).grid()) == 5


def test_acceptance_grid_is_ninety_pairs() -> None:
    space = ParamSpace(SMA, {"fast": "5:50:5", "slow": "20:200:20"}, ["fast < slow"])
    grid = space.grid()
    assert space.grid_size() == 100
    assert len(grid) == 90
    assert all(p["fast"] < p["slow"] for p in grid)


def test_grid_rows_equal_single_runs(bars: Bars) -> None:
    space = ParamSpace(SMA, {"fast": "5:25:10", "slow": "30:90:30"})
    res = optimize(bars, "sma_cross", space, vector_config=COST, overfit=False)
    assert len(res.table) == 9
    for row in res.table.itertuples():
        single = simulate(bars, SMA(fast=row.fast, slow=row.slow).signals(bars), COST)
        m = single.metrics.iloc[0]
        for col in ("sharpe", "total_return", "max_drawdown", "trades", "total_fees"):
            assert getattr(row, col) == pytest.approx(m[col], rel=1e-12), col


def test_vector_and_event_engines_rank_alike(bars: Bars) -> None:
    v = optimize(bars, "sma_cross", ParamSpace(SMA, {"fast": "5,15", "slow": "40,80"}),
                 vector_config=COST, overfit=False)  # fmt: skip
    e = optimize(
        bars, "sma_cross", ParamSpace(BUILTINS["sma_cross"], {"fast": "5,15", "slow": "40,80"}),
        engine="event", event_config=BacktestConfig(commission=0.001), overfit=False,
    )  # fmt: skip
    for col in ("final_equity", "sharpe", "max_drawdown", "trades", "win_rate"):
        np.testing.assert_allclose(v.table[col], e.table[col], rtol=1e-9, err_msg=col)
    assert v.best == e.best


def test_kernel_metrics_match_analytics(bars: Bars) -> None:
    sig = SMA(fast=8, slow=50).signals(bars)
    res = simulate(bars, sig, COST)
    eq = res.equity["0"]
    ref = basic_metrics(eq, res.trades)
    m = res.metrics.iloc[0]
    for key in ("total_return", "cagr", "volatility_ann", "sharpe", "sortino", "max_drawdown",
                "max_drawdown_duration_days", "calmar", "win_rate", "profit_factor"):  # fmt: skip
        assert m[key] == pytest.approx(ref[key], rel=1e-9), key
    assert m["trades"] == len(res.trades)
    assert m["total_fees"] == pytest.approx(
        res.trades["fees"].sum()
        + (res.open_positions["fees"].sum() if len(res.open_positions) else 0)
    )


def test_random_search_is_reproducible(bars: Bars) -> None:
    space = ParamSpace(SMA, {"fast": "2:40", "slow": "20:200"}, ["fast * 2 <= slow"])
    a = optimize(bars, "sma_cross", space, method="random", trials=12, seed=3, overfit=False)
    b = optimize(bars, "sma_cross", space, method="random", trials=12, seed=3, overfit=False)
    c = optimize(bars, "sma_cross", space, method="random", trials=12, seed=4, overfit=False)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not a.table[["fast", "slow"]].equals(c.table[["fast", "slow"]])
    assert len(a.table.drop_duplicates(["fast", "slow"])) == 12
    assert (a.table["fast"] * 2 <= a.table["slow"]).all()


def test_bayes_is_reproducible_and_respects_constraints(bars: Bars) -> None:
    space = ParamSpace(SMA, {"fast": "2:40:2", "slow": "20:200:10"}, ["fast < slow"])
    runs = [
        optimize(
            bars,
            "sma_cross",
            space,
            method="bayes",
            trials=24,
            seed=7,
            batch=8,
            objectives=["sharpe", "max_drawdown"],
            overfit=False,
        )
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(runs[0].table, runs[1].table)
    t = runs[0].table
    assert len(t) == 24 and len(t.drop_duplicates(["fast", "slow"])) == 24
    assert (t["fast"] < t["slow"]).all()
    front = runs[0].pareto()
    assert len(front) >= 1
    values = t[["sharpe", "max_drawdown"]].to_numpy()
    for f in front[["sharpe", "max_drawdown"]].to_numpy():  # nothing dominates a front point
        assert not np.any(np.all(values >= f, axis=1) & np.any(values > f, axis=1))


def test_pareto_mask_hand_case() -> None:
    pts = np.array([[1.0, 5.0], [2.0, 4.0], [1.5, 3.0], [3.0, 1.0], [np.nan, 9.0]])
    # maximize both: (1.5, 3) is dominated by (2, 4); NaN counts as the worst
    assert pareto_mask(pts, [True, True]).tolist() == [True, True, False, True, False]
    # minimize the second: (3, 1) dominates everything with a lower first value
    assert pareto_mask(pts, [True, False]).tolist() == [False, False, False, True, False]


def test_overfit_statistics_are_reported(bars: Bars) -> None:
    space = ParamSpace(SMA, {"fast": "5:30:5", "slow": "40:120:20"})
    res = optimize(bars, "sma_cross", space, vector_config=COST)
    stats = res.overfit
    assert 0.0 <= stats["pbo"]["pbo"] <= 1.0
    assert 0.0 <= stats["deflated_sharpe"]["dsr"] <= 1.0
    assert stats["trials"] == len(res.table) == 30


def test_unknown_objective_and_method() -> None:
    space = ParamSpace(SMA, {"fast": "5,6"})
    df, _ = synth_bars(SynthSpec(bars=100))
    with pytest.raises(ConfigError, match="unknown objective 'sharp'"):
        optimize(df, "sma_cross", space, objectives=["sharp"])
    with pytest.raises(ConfigError, match="unknown method"):
        optimize(df, "sma_cross", space, method="anneal")  # type: ignore[arg-type]


def test_event_sweep_on_ray_equals_local_pool(bars: Bars) -> None:
    pytest.importorskip("ray", reason="the ray extra is not installed")
    from tradewind.backtest.executors import LocalExecutor, RayExecutor

    small = bars.slice(0, 3000)
    space = ParamSpace(BUILTINS["sma_cross"], {"fast": "5,10,20", "slow": "40,60"})
    cfg = BacktestConfig(commission=0.001)
    with LocalExecutor(2) as local:
        a = optimize(small, "sma_cross", space, engine="event", event_config=cfg,
                     executor=local, overfit=False)  # fmt: skip
    with RayExecutor(num_cpus=2) as ray_ex:
        b = optimize(small, "sma_cross", space, engine="event", event_config=cfg,
                     executor=ray_ex, overfit=False)  # fmt: skip
    cols = ["fast", "slow", "final_equity", "sharpe", "trades"]
    pd.testing.assert_frame_equal(a.table[cols], b.table[cols])
