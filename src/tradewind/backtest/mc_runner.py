"""Monte Carlo of a strategy: run it once, then resample its trades or returns, or re-run it on
synthetic price paths (``montecarlo`` holds the statistics; this module feeds it).

Methods: ``reshuffle`` (trade order permuted), ``trade_bootstrap`` (trades drawn with
replacement), ``block`` (circular block bootstrap of per-bar returns) and ``synthetic`` (GBM paths
fitted to the data, each re-run through the strategy). Trade returns are each trade's PnL over
the equity before it (trades do not overlap: one position at a time), so compounding them
rebuilds the strategy's closed-trade equity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from tradewind.backtest.montecarlo import (
    MCConfig,
    MCResult,
    block_bootstrap,
    summarize_equity_paths,
    synthetic_paths,
    trade_reshuffle,
)
from tradewind.backtest.runner import BacktestConfig, run_backtest
from tradewind.backtest.vector.engine import Bars, VectorConfig, simulate
from tradewind.backtest.vector.strategies import VectorStrategy
from tradewind.errors import ConfigError
from tradewind.strategy.registry import load_strategy

MCMethod = Literal["reshuffle", "trade_bootstrap", "block", "synthetic"]
METHODS: tuple[str, ...] = ("reshuffle", "trade_bootstrap", "block", "synthetic")
Progress = Callable[[int, int], None]


def trade_returns(trades: pd.DataFrame, initial: float) -> np.ndarray:
    """Each closed trade's PnL as a fraction of the equity before it."""
    pnl = trades["pnl"].to_numpy(np.float64)
    before = initial + np.concatenate(([0.0], np.cumsum(pnl)[:-1]))
    return pnl / before


def _equity_vector(
    frame: pd.DataFrame, cls: type[VectorStrategy], params: Mapping[str, Any], cfg: VectorConfig
) -> tuple[np.ndarray, pd.DataFrame]:
    b = Bars(frame)
    res = simulate(b, cls(**params).signals(b), cfg, record=True)
    return res.equity["0"].to_numpy(), res.trades


def _equity_event(
    frame: pd.DataFrame, spec: str, params: Mapping[str, Any], cfg: BacktestConfig
) -> tuple[np.ndarray, pd.DataFrame]:
    res = run_backtest({"data": frame}, load_strategy(spec), dict(params), config=cfg)
    return res.to_frame()["equity"].to_numpy(), res.trades


def run_montecarlo(
    frame: pd.DataFrame,
    strategy: str,
    params: Mapping[str, Any],
    method: MCMethod,
    mc: MCConfig,
    *,
    vector: type[VectorStrategy] | None = None,
    vector_config: VectorConfig | None = None,
    event_config: BacktestConfig | None = None,
    progress: Progress | None = None,
) -> MCResult:
    """``vector`` given: the vectorized strategy runs (fast); else the event-driven one named
    ``strategy``. Costs come from the matching config."""
    if method not in METHODS:
        raise ConfigError(f"unknown Monte Carlo method {method!r}; choose {', '.join(METHODS)}")
    vcfg = vector_config or VectorConfig()
    ecfg = event_config or BacktestConfig()

    def run(f: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
        if vector is not None:
            return _equity_vector(f, vector, params, vcfg)
        return _equity_event(f, strategy, params, ecfg)

    initial = vcfg.cash if vector is not None else ecfg.cash
    equity, trades = run(frame)
    if method in ("reshuffle", "trade_bootstrap"):
        if len(trades) < 2:
            raise ConfigError(
                f"the strategy made {len(trades)} closed trade(s); resampling trades needs 2+"
            )
        r = trade_returns(trades, initial)
        if progress is not None:
            progress(1, 1)
        return trade_reshuffle(r, initial, mc, replace=method == "trade_bootstrap")
    if method == "block":
        curve = np.concatenate(([initial], equity))
        rets = curve[1:] / curve[:-1] - 1.0
        if progress is not None:
            progress(1, 1)
        return block_bootstrap(rets, initial, mc)

    def curves() -> Iterator[np.ndarray]:
        for k, path in enumerate(synthetic_paths(frame, mc)):
            yield run(path)[0]
            if progress is not None:
                progress(k + 1, mc.n_sims)

    return summarize_equity_paths(curves(), initial, mc, "synthetic", original=equity)
