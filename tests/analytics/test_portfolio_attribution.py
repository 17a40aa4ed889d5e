"""Per-instrument attribution and strategy correlation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradewind.analytics.portfolio import attribution, combine_strategies, strategy_correlation
from tradewind.backtest.runner import run_backtest
from tradewind.model import AccountType
from tradewind.strategy import Strategy

MIN = 60_000_000_000


def _bars(closes: list[float]) -> pd.DataFrame:
    c = np.asarray(closes, dtype=float)
    return pd.DataFrame(
        {
            "ts": np.arange(len(c), dtype=np.int64) * MIN,
            "open": c,
            "high": c,
            "low": c,
            "close": c,
            "volume": 1_000.0,
        }
    )


class BuyBothThenSellA(Strategy):
    def on_bar(self, bar) -> None:  # type: ignore[no-untyped-def]
        n = len(self.history(bar.instrument))
        if n == 1:
            self.buy(10, instrument=bar.instrument)
        elif n == 3 and bar.instrument == "AUSD":
            self.sell(10, instrument="AUSD")


def test_attribution_by_hand() -> None:
    a = _bars([10, 10, 12, 13, 13])  # bought at 10 (bar 1 open), sold at 13 (bar 3 open)
    b = _bars([20, 20, 19, 21, 22])  # bought at 20, still held; last close 22
    res = run_backtest({"AUSD": a, "BUSD": b}, BuyBothThenSellA, commission=0.001)
    att = attribution(res.frame, res.fills, 100_000.0)
    # A: pnl = 10*(13-10) - fees 10*10*0.001 - 10*13*0.001 = 30 - 0.1 - 0.13 = 29.77
    # B: pnl = 10*(22-20) - 10*20*0.001 = 20 - 0.2 = 19.8 (unrealized at the last bar)
    assert att["pnl:AUSD"].iloc[-1] == pytest.approx(29.77, abs=1e-9)
    assert att["pnl:BUSD"].iloc[-1] == pytest.approx(19.8, abs=1e-9)
    assert att["pnl:other"].abs().max() == pytest.approx(0.0, abs=1e-9)
    # B's exposure at the end: 10 * 22 / equity
    assert att["exposure:BUSD"].iloc[-1] == pytest.approx(220 / res.final_equity)
    assert att["exposure:AUSD"].iloc[-1] == 0.0


def test_strategy_correlation_and_totals() -> None:
    idx = pd.date_range("2024-01-01", periods=50, freq="1D", tz="UTC")
    rng = np.random.default_rng(1)
    r = rng.normal(0, 0.01, 50)
    one = pd.Series(100 * np.cumprod(1 + r), index=idx)
    same = pd.Series(50 * np.cumprod(1 + r), index=idx)  # same returns, half the size
    opposite = pd.Series(100 * np.cumprod(1 - r), index=idx)
    corr = strategy_correlation({"one": one, "same": same, "opposite": opposite})
    assert corr.loc["one", "same"] == pytest.approx(1.0)
    assert corr.loc["one", "opposite"] < -0.99
    total = combine_strategies({"one": one, "same": same})["total"]
    assert total.iloc[-1] == pytest.approx(one.iloc[-1] + same.iloc[-1])


def test_funding_goes_to_other() -> None:
    from tradewind.backtest.runner import Backtest, BacktestConfig
    from tradewind.model import Instrument

    perp = Instrument.perpetual("XPERP", "X", "USD")
    bars = _bars([100, 100, 100, 100])
    funding = pd.DataFrame({"ts": [2 * MIN], "rate": [0.001]})
    cfg = BacktestConfig(cash=10_000, account=AccountType.MARGIN, leverage=2)

    class Long(Strategy):
        def on_bar(self, bar) -> None:  # type: ignore[no-untyped-def]
            if len(self.history()) == 1:
                self.buy(10)

    res = Backtest(
        {"XPERP": bars}, Long(), cfg, instruments={"XPERP": perp}, funding={"XPERP": funding}
    ).run()
    att = attribution(res.frame, res.fills, 10_000.0, multipliers={"XPERP": 1.0})
    # the long pays 0.001 * 10 * 100 = 1.0 in funding: not a fill, so it lands in "other"
    assert att["pnl:other"].iloc[-1] == pytest.approx(-1.0)
    assert att["pnl:XPERP"].iloc[-1] == pytest.approx(0.0)
