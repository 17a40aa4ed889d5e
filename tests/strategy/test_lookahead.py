"""No look-ahead: a strategy sees bar t only after it closes and can never read bar t+1.

Acceptance point: "a strategy that tries to read the future cannot".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tradewind.backtest.result import BacktestResult
from tradewind.backtest.runner import Backtest, BacktestConfig
from tradewind.errors import LookAheadError
from tradewind.indicators import sma
from tradewind.model import Bar, Fill, Order
from tradewind.strategy import Indicator, Strategy
from tradewind.strategy.builtin import BUILTINS

T0 = pd.Timestamp("2024-01-01", tz="UTC").value
MIN = 60_000_000_000


def walk(n: int, seed: int = 3) -> pd.DataFrame:
    """A seeded random walk with trending regimes; open != previous close on purpose."""
    rng = np.random.default_rng(seed)
    drift = np.repeat(rng.choice([-1.0, 0.0, 1.0], size=n // 100 + 1), 100)[:n] * 4e-4
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.003, n) + drift))
    open_ = np.concatenate([[100.0], close[:-1]]) * (1 + rng.normal(0.0, 5e-4, n))
    return pd.DataFrame(
        {
            "ts": T0 + np.arange(n, dtype=np.int64) * MIN,
            "open": open_,
            "high": np.maximum(open_, close) * (1 + rng.uniform(0, 2e-3, n)),
            "low": np.minimum(open_, close) * (1 - rng.uniform(0, 2e-3, n)),
            "close": close,
            "volume": rng.uniform(10.0, 100.0, n),
        }
    )


def steps(n: int) -> pd.DataFrame:
    """Bar i: open 100 + i, high +1, low -1, close 100 + i + 0.5: every price is telling."""
    o = 100.0 + np.arange(n, dtype=float)
    return pd.DataFrame(
        {
            "ts": T0 + np.arange(n, dtype=np.int64) * MIN,
            "open": o,
            "high": o + 1.0,
            "low": o - 1.0,
            "close": o + 0.5,
            "volume": np.full(n, 1_000.0),
        }
    )


Action = Callable[[Strategy], Any]


class Scripted(Strategy):
    def __init__(self, script: dict[int, list[Action]]) -> None:
        super().__init__()
        self.script = script
        self.fill_log: list[tuple[int, Fill]] = []  # (bars seen when the fill arrived, fill)
        self.orders: list[Order] = []

    def on_bar(self, bar: Bar) -> None:
        for action in self.script.get(len(self.history()) - 1, []):
            out = action(self)
            if isinstance(out, Order):
                self.orders.append(out)

    def on_fill(self, fill: Fill) -> None:
        self.fill_log.append((len(self.history()), fill))


def run(data: pd.DataFrame | dict[str, pd.DataFrame], strategy: Any, **kw: Any) -> BacktestResult:
    frames = data if isinstance(data, dict) else {"XUSD": data}
    params = kw.pop("params", {})
    return Backtest(frames, strategy, BacktestConfig(**kw), **params).run()


# --- what a strategy sees ---------------------------------------------------------------------


class HistoryProbe(Strategy):
    def on_start(self) -> None:
        h = self.history()
        self.start_len = len(h)
        self.start_close_len = len(h.close)
        try:
            h.last()
        except LookAheadError:
            self.start_last_raised = True
        self.rows: list[tuple[Any, ...]] = []

    def on_bar(self, bar: Bar) -> None:
        h = self.history()
        self.rows.append(
            (
                len(h),
                len(h.close),
                len(h.open),
                len(h.volume),
                float(h.close[-1]),
                bar.close,
                int(h.ts[-1]),
                bar.ts,
                self.time,
                h.last("high"),
                bar.high,
                self.price(),
                len(h.to_frame()),
            )
        )


def test_history_is_exactly_the_closed_bars() -> None:
    data = walk(300)
    probe = HistoryProbe()
    run(data, probe)
    assert probe.start_len == 0
    assert probe.start_close_len == 0
    assert probe.start_last_raised
    assert len(probe.rows) == 300
    for i, row in enumerate(probe.rows):
        n, n_close, n_open, n_vol, last, bar_close, last_ts, bar_ts, now, hi, bar_hi, px, nf = row
        assert n == n_close == n_open == n_vol == nf == i + 1  # bar index + 1
        assert last == bar_close == data["close"].iat[i]
        assert last_ts == bar_ts == data["ts"].iat[i]
        assert now == bar_ts + MIN  # the bar is seen when it closes
        assert hi == bar_hi
        assert px == bar_close


class IndicatorProbe(Strategy):
    def on_start(self) -> None:
        self.ma = self.indicator(sma, "close", 3)
        self.before: list[str] = []
        try:
            _ = self.ma.value
        except LookAheadError:
            self.before.append("value")
        try:
            _ = self.ma[0]
        except LookAheadError:
            self.before.append("[0]")
        self.start_len = len(self.ma)
        self.rows: list[dict[str, Any]] = []

    def on_bar(self, bar: Bar) -> None:
        i = len(self.history()) - 1
        row: dict[str, Any] = {
            "i": i,
            "now": self.ma[i],
            "last": self.ma[-1],
            "value": self.ma.value,
            "values_len": len(self.ma.values),
            "values_last": self.ma.values[-1],
            "len": len(self.ma),
        }
        for k in (i + 1, i + 2, 10_000):
            try:
                self.ma[k]
                row[f"future{k - i}"] = "read"
            except LookAheadError as exc:
                row[f"future{k - i}"] = str(exc)
        try:
            self.ma[-(i + 2)]
            row["before_first"] = "read"
        except IndexError:
            row["before_first"] = "IndexError"
        self.rows.append(row)


def test_indicator_cannot_be_read_ahead() -> None:
    data = walk(50)
    c = data["close"].to_numpy()
    probe = IndicatorProbe()
    run(data, probe)
    assert probe.before == ["value", "[0]"]
    assert probe.start_len == 0
    for row in probe.rows:
        i = row["i"]
        expected = np.nan if i < 2 else (c[i] + c[i - 1] + c[i - 2]) / 3  # SMA(3) by hand
        for key in ("now", "last", "value", "values_last"):
            np.testing.assert_allclose(row[key], expected, rtol=1e-12)
        assert row["values_len"] == row["len"] == i + 1
        assert row["future1"] == f"sma[{i + 1}] is in the future (current bar is {i})"
        assert "in the future" in row["future2"]
        assert row["before_first"] == "IndexError"


def _centred_mean(x: np.ndarray) -> np.ndarray:
    return pd.Series(x).rolling(5, center=True).mean().to_numpy()


@pytest.mark.parametrize(
    "func",
    [
        lambda x: np.roll(x, -1),  # tomorrow's close
        _centred_mean,  # a centred window sees two bars ahead
        lambda x: pd.Series(x).shift(-1).to_numpy(),
        lambda x: x - np.mean(x),  # demeaned with the mean of the whole series
        lambda x: np.full(len(x), x[-1]),  # the last close, everywhere
        lambda x: np.maximum.accumulate(x[::-1])[::-1],  # the highest close still to come
    ],
    ids=["roll-1", "centred", "shift-1", "demean", "last", "future-max"],
)
def test_look_ahead_indicator_rejected(func: Callable[[np.ndarray], np.ndarray]) -> None:
    class Peeker(Strategy):
        def on_start(self) -> None:
            self.x = self.indicator(func, "close", name="peek")

    with pytest.raises(LookAheadError, match="indicator peek looks ahead"):
        run(walk(200), Peeker())


def test_look_ahead_through_other_inputs_rejected() -> None:
    class PeekOther(Strategy):
        def on_start(self) -> None:
            # the second instrument's column, shifted back by one bar
            self.indicator(lambda a, b: a - np.roll(b, -1), "close", self.source("close", "YUSD"))

    class PeekIndicator(Strategy):
        def on_start(self) -> None:
            ma = self.indicator(sma, "close", 5)
            self.indicator(lambda m: np.roll(m, -1), ma)  # an indicator of an indicator

    data = {"XUSD": walk(200, seed=1), "YUSD": walk(200, seed=2)}
    with pytest.raises(LookAheadError):
        run(data, PeekOther())
    with pytest.raises(LookAheadError):
        run(walk(200), PeekIndicator())


def test_causal_indicators_accepted() -> None:
    class Fine(Strategy):
        def on_start(self) -> None:
            self.a = self.indicator(lambda x: pd.Series(x).rolling(5).mean().to_numpy(), "close")
            self.b = self.indicator(lambda x: pd.Series(x).ewm(span=10).mean().to_numpy(), "close")
            self.c = self.indicator(np.maximum.accumulate, "high")

    run(walk(200), Fine())  # no error


# --- fills never use the bar the order was placed on -------------------------------------------


def test_market_order_fills_at_next_open() -> None:
    data = steps(8)
    strat = Scripted({0: [lambda s: s.buy(1)], 3: [lambda s: s.sell(1)], 7: [lambda s: s.buy(1)]})
    res = run(data, strat)
    fills = res.fills
    # bar 0's order fills at bar 1's open (101), never at bar 0's prices (99..101 / close 100.5);
    # bar 3's at bar 4's open (104); bar 7 is the last bar: there is no next open, no fill
    assert list(fills["price"]) == [101.0, 104.0]
    assert list(fills["ts"]) == [T0 + 1 * MIN, T0 + 4 * MIN]  # stamped with bar t+1's open
    assert [o["status"] for o in res.orders][-1] == "submitted"
    # the strategy hears of the fill before it sees bar t+1 close, not before bar t is over
    assert [seen for seen, _ in strat.fill_log] == [1, 4]
    assert res.settings["market_orders_fill_at"] == "next bar's open"


def test_fill_at_close_is_flagged() -> None:
    data = steps(5)
    res = run(
        data, Scripted({0: [lambda s: s.buy(1)], 2: [lambda s: s.sell(1)]}), fill_at_close=True
    )
    assert list(res.fills["price"]) == [100.5, 102.5]  # close of the bar it saw
    assert list(res.fills["ts"]) == [T0, T0 + 2 * MIN]
    assert res.settings["market_orders_fill_at"] == "this bar's close"


def test_limit_order_not_matched_against_its_own_bar() -> None:
    # bar 0 traded down to 99; a buy limit at 99.5 placed when bar 0 closed must not fill from
    # bar 0; bar 1 (low 100) never reaches it; bar 2 is built to dip to 99.4: fill at 99.5
    data = steps(4)
    data.loc[2, ["open", "high", "low", "close"]] = [101.0, 101.5, 99.4, 100.0]
    res = run(data, Scripted({0: [lambda s: s.buy(1, price=99.5)]}))
    assert list(res.fills["price"]) == [99.5]
    assert list(res.fills["ts"]) == [T0 + 2 * MIN]


def test_equity_marks_each_bar_at_its_own_close() -> None:
    data = steps(6)
    res = run(data, Scripted({0: [lambda s: s.buy(2)]}), cash=100_000.0)
    # bar 0: no position yet; bar t >= 1: cash 100000 - 2 x 101 = 99798, plus 2 x close[t]
    expected = [100_000.0] + [99_798.0 + 2 * (100.5 + t) for t in range(1, 6)]
    np.testing.assert_allclose(res.frame["equity"].to_numpy(), expected, rtol=1e-12)
    np.testing.assert_array_equal(res.frame.index.as_unit("ns").asi8, data["ts"].to_numpy())


@pytest.mark.parametrize(
    "name", ["sma_cross", "macd_cross", "donchian_breakout", "bollinger_reversion"]
)
def test_changing_the_future_does_not_change_the_past(name: str) -> None:
    full = walk(1_500, seed=11)
    cut = 900
    other = full.copy()
    rng = np.random.default_rng(99)  # a different future from bar `cut` on
    shock = np.exp(np.cumsum(rng.normal(0.0, 0.01, len(full) - cut)))
    for col in ("open", "high", "low", "close"):
        other.loc[cut:, col] = full.loc[cut:, col].to_numpy() * shock
    a = run(full, name, commission=0.001)
    b = run(other, name, commission=0.001)
    # everything known at the close of bar cut-1 is identical: equity, cash, positions, fills
    pd.testing.assert_frame_equal(a.frame.iloc[:cut], b.frame.iloc[:cut])
    cols = ["fill_id", "side", "quantity", "price", "fee", "ts"]  # order ids are process-wide
    fa = a.fills.loc[a.fills["ts"] < full["ts"].iat[cut], cols]
    fb = b.fills.loc[b.fills["ts"] < full["ts"].iat[cut], cols]
    assert len(fa) > 0
    pd.testing.assert_frame_equal(fa.reset_index(drop=True), fb.reset_index(drop=True))
    ta = a.trades[a.trades["exit_time"] < pd.Timestamp(int(full["ts"].iat[cut]), tz="UTC")]
    tb = b.trades[b.trades["exit_time"] < pd.Timestamp(int(full["ts"].iat[cut]), tz="UTC")]
    pd.testing.assert_frame_equal(ta.reset_index(drop=True), tb.reset_index(drop=True))


def test_truncated_run_is_a_prefix_of_the_full_run() -> None:
    full = walk(1_200, seed=5)
    a = run(full, "sma_cross", commission=0.001, slippage_bps=2.0)
    b = run(full.iloc[:700].copy(), "sma_cross", commission=0.001, slippage_bps=2.0)
    pd.testing.assert_frame_equal(a.frame.iloc[:700], b.frame)


# --- the same signal from history() and from a precomputed indicator --------------------------


class HistorySma(Strategy):
    """sma_cross written without indicators: the means come from history().close each bar."""

    fast: int = 10
    slow: int = 30

    def on_start(self) -> None:
        self.prev = float("nan")

    def on_bar(self, bar: Bar) -> None:
        c = self.history().close
        if len(c) < self.slow:
            return
        diff = float(c[-self.fast :].mean() - c[-self.slow :].mean())
        prev, self.prev = self.prev, diff
        if diff > 0 >= prev and not self.position():
            self.buy()
        elif diff < 0 <= prev:
            self.close()


def test_history_signal_matches_indicator_signal() -> None:
    data = walk(3_000, seed=21)
    a = run(data, "sma_cross", commission=0.001)
    b = run(data, HistorySma, commission=0.001)
    assert len(a.fills) > 20
    cols = ["side", "quantity", "price", "fee", "ts"]
    pd.testing.assert_frame_equal(a.fills[cols], b.fills[cols], check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(a.trades, b.trades, check_exact=False, rtol=1e-12)
    np.testing.assert_allclose(a.equity.to_numpy(), b.equity.to_numpy(), rtol=1e-12)
    assert BUILTINS["sma_cross"].params["fast"].default == HistorySma.fast


class Mutator(Strategy):
    """Writes into what it is given (a careless in-place normalisation)."""

    what = "history"

    def on_start(self) -> None:
        self.ma = self.indicator(sma, "close", 2)

    def on_bar(self, bar: Bar) -> None:
        c = self.history().close if self.what == "history" else self.ma.values
        c *= 0.0


def test_history_views_are_read_only() -> None:
    with pytest.raises(ValueError, match="read-only"):
        run(steps(5), Mutator())


def test_indicator_values_are_read_only() -> None:
    class IndicatorMutator(Mutator):
        what = "indicator"

    with pytest.raises(ValueError, match="read-only"):
        run(steps(5), IndicatorMutator())


def test_indicator_is_an_indicator() -> None:
    class Keep(Strategy):
        def on_start(self) -> None:
            self.ma = self.indicator(sma, "close", 2)

    k = Keep()
    run(steps(4), k)
    assert isinstance(k.ma, Indicator)
    # after the run the cursor is on the last bar: all 4 values are known
    np.testing.assert_allclose(k.ma.values, [np.nan, 101.0, 102.0, 103.0])
