"""Every built-in strategy runs on generated data, trades, and ends with consistent books."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from tradewind.backtest.result import BacktestResult
from tradewind.backtest.runner import Backtest, BacktestConfig, run_backtest
from tradewind.errors import ConfigError
from tradewind.model import AccountType
from tradewind.strategy.builtin import BUILTINS
from tradewind.strategy.registry import load_strategy

T0 = pd.Timestamp("2024-01-01", tz="UTC").value
MIN = 60_000_000_000
N = 5_000


def regime_walk(n: int = N, seed: int = 7, start: float = 100.0) -> pd.DataFrame:
    """A seeded random walk of 1-minute bars that alternates up / flat / down regimes of
    500 bars, so trend, breakout and mean-reversion rules all get something to do."""
    rng = np.random.default_rng(seed)
    regime = np.repeat(rng.choice([-1.0, 0.0, 1.0], size=n // 500 + 1), 500)[:n]
    close = start * np.exp(np.cumsum(rng.normal(0.0, 0.002, n) + regime * 3e-4))
    open_ = np.concatenate([[start], close[:-1]]) * (1 + rng.normal(0.0, 3e-4, n))
    return pd.DataFrame(
        {
            "ts": T0 + np.arange(n, dtype=np.int64) * MIN,
            "open": open_,
            "high": np.maximum(open_, close) * (1 + rng.uniform(0, 1.5e-3, n)),
            "low": np.minimum(open_, close) * (1 - rng.uniform(0, 1.5e-3, n)),
            "close": close,
            "volume": rng.uniform(10.0, 100.0, n),
        }
    )


def correlated_pair(n: int = N, seed: int = 8) -> dict[str, pd.DataFrame]:
    """B follows A with a mean-reverting (AR(1)) log spread: what a pairs trade lives on."""
    a = regime_walk(n, seed)
    rng = np.random.default_rng(seed + 1)
    spread = np.zeros(n)
    for i in range(1, n):
        spread[i] = 0.98 * spread[i - 1] + rng.normal(0.0, 0.002)
    b = a.copy()
    for col in ("open", "high", "low", "close"):
        b[col] = a[col] * np.exp(spread)
    b["high"] = np.maximum(b["high"], np.maximum(b["open"], b["close"]))
    b["low"] = np.minimum(b["low"], np.minimum(b["open"], b["close"]))
    return {"AAAUSDT": a, "BBBUSDT": b}


def run_builtin(name: str, **kw: Any) -> BacktestResult:
    if name == "pairs":
        return run_backtest(correlated_pair(), name, account=AccountType.MARGIN, **kw)
    return run_backtest({"XUSD": regime_walk()}, name, **kw)


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_runs_and_trades(name: str) -> None:
    res = run_builtin(name, commission=0.001)
    assert len(res.fills) >= 1, f"{name} placed no trade on {N} bars"
    assert len(res.trades) + len(res.open_trades) >= 1
    assert len(res.frame) == N
    assert res.strategy == name
    defaults = BUILTINS[name]().get_params()
    if name == "pairs":  # the legs default to the first two data sets and are reported so
        defaults |= {"a": "AAAUSDT", "b": "BBBUSDT"}
    assert res.params == defaults
    f = res.frame
    np.testing.assert_allclose(f["equity"], f["cash"] + f["position_value"], rtol=1e-9)
    assert res.final_equity == pytest.approx(f["equity"].iat[-1])
    assert np.all(f["equity"] > 0)
    assert res.fills["fee"].sum() == pytest.approx(res.metrics["total_fees"], rel=1e-9)
    assert res.fills["fee"].min() >= 0
    assert res.to_json()  # JSON-safe
    if name != "pairs":  # long-only strategies in a cash account never go short
        assert f["qty:XUSD"].min() >= 0
        assert f["cash"].min() >= -1e-6


def test_pairs_trades_both_legs_long_and_short() -> None:
    res = run_builtin("pairs", commission=0.0005)
    f = res.frame
    for sym in ("AAAUSDT", "BBBUSDT"):
        assert f[f"qty:{sym}"].max() > 0
        assert f[f"qty:{sym}"].min() < 0  # shorts happen, in a margin account
    # the legs are always opposite (or both flat): long the spread = long A, short B
    qa, qb = f["qty:AAAUSDT"].to_numpy(), f["qty:BBBUSDT"].to_numpy()
    assert np.all(np.sign(qa) * np.sign(qb) <= 0)
    assert res.settings["account"] == "margin"


def test_pairs_needs_two_instruments() -> None:
    with pytest.raises(ConfigError, match="pairs needs two instruments"):
        run_backtest({"XUSD": regime_walk(300)}, "pairs", account=AccountType.MARGIN)


def test_pairs_in_cash_account_cannot_short() -> None:
    # in a cash account the short leg is refused at the fill, with the reason on the order
    res = run_backtest(correlated_pair(), "pairs")
    for sym in ("AAAUSDT", "BBBUSDT"):
        assert res.frame[f"qty:{sym}"].min() >= 0
    refused = [
        o for o in res.orders if o["reason"] == "short selling is not allowed in a cash account"
    ]
    assert refused
    assert all(o["status"] in ("rejected", "canceled") and o["filled_qty"] == 0 for o in refused)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("sma_cross", {"fast": 5, "slow": 20}),
        ("ema_rsi", {"ema_period": 50, "entry": 35.0}),
        ("rsi_reversion", {"period": 7}),
        ("bollinger_reversion", {"period": 10, "k": 1.5}),
        ("donchian_breakout", {"entry": 10, "exit": 5}),
        ("momentum", {"period": 20}),
        ("grid", {"levels": 5, "step_pct": 0.5}),
        ("macd_cross", {"fast": 6, "slow": 13, "signal": 5}),
    ],
)
def test_builtin_params_from_strings(name: str, params: dict[str, Any]) -> None:
    as_text = {k: str(v) for k, v in params.items()}
    a = Backtest({"XUSD": regime_walk(1_500)}, name, BacktestConfig(), **params).run()
    b = Backtest({"XUSD": regime_walk(1_500)}, name, BacktestConfig(), **as_text).run()
    assert a.params == b.params
    for k, v in params.items():
        assert a.params[k] == v
    np.testing.assert_array_equal(a.equity.to_numpy(), b.equity.to_numpy())


def test_sma_cross_fast_not_below_slow() -> None:
    with pytest.raises(ConfigError, match="fast must be below slow"):
        run_backtest({"XUSD": regime_walk(300)}, "sma_cross", {"fast": 30, "slow": 10})
    with pytest.raises(ConfigError, match="fast must be below slow"):
        Backtest({"XUSD": regime_walk(300)}, "sma_cross", fast=20, slow=20)


def test_registry() -> None:
    for name, cls in BUILTINS.items():
        assert load_strategy(name) is cls
    assert load_strategy("tradewind.strategy.builtin.sma_cross:SmaCross") is BUILTINS["sma_cross"]


def test_grid_uses_resting_limits() -> None:
    res = run_builtin("grid")
    fills = res.fills
    assert (fills["liquidity"] == "maker").any()
    # a grid sell is placed one step above its buy: every closed trade's exit is above entry
    # unless the price gapped; with a 1 % step at least most round trips are winners
    if len(res.trades):
        wins = (res.trades["exit_price"] > res.trades["entry_price"]).mean()
        assert wins > 0.5
