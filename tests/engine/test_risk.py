"""Pre-trade risk checks: unit checks of RiskEngine and, in a backtest, orders denied by the
limits come back REJECTED with the reason and never fill."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from tradewind.backtest.result import BacktestResult
from tradewind.backtest.runner import Backtest, BacktestConfig
from tradewind.engine.risk import RiskEngine, RiskLimits
from tradewind.model import (
    AccountType,
    Bar,
    Fill,
    Instrument,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
)
from tradewind.strategy import Strategy

BUY, SELL = OrderSide.BUY, OrderSide.SELL
T0 = pd.Timestamp("2024-01-01", tz="UTC").value
MIN = 60_000_000_000

Action = Callable[[Strategy], object]


def bars(n: int = 6, start: float = 100.0) -> pd.DataFrame:
    """Bar i opens at start + i and closes at start + i + 0.5 (so every fill price is obvious)."""
    o = start + np.arange(n, dtype=float)
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


class Scripted(Strategy):
    """Runs the given actions on the given bar indexes and records every callback."""

    def __init__(self, script: dict[int, list[Action]]) -> None:
        super().__init__()
        self.script = script
        self.events: list[tuple[str, OrderStatus, str]] = []
        self.fill_log: list[Fill] = []

    def on_bar(self, bar: Bar) -> None:
        if bar.instrument != self.instrument:
            return  # one script step per bar time, on the primary instrument's bar
        for action in self.script.get(len(self.history()) - 1, []):
            action(self)

    def on_order(self, order: Order) -> None:
        self.events.append((order.client_order_id, order.status, order.reason))

    def on_fill(self, fill: Fill) -> None:
        self.fill_log.append(fill)


def run(
    script: dict[int, list[Action]],
    risk: RiskLimits,
    data: dict[str, pd.DataFrame] | None = None,
    instruments: dict[str, Instrument] | None = None,
    **cfg: object,
) -> tuple[Scripted, BacktestResult]:
    strat = Scripted(script)
    config = BacktestConfig(cash=100_000.0, risk=risk, **cfg)  # type: ignore[arg-type]
    res = Backtest(data or {"XUSD": bars()}, strat, config, instruments=instruments).run()
    return strat, res


def _status(res: BacktestResult) -> list[tuple[str, str]]:
    return [(o["status"], o["reason"]) for o in res.orders]


# --- unit checks ----------------------------------------------------------------------------


def test_nothing_configured_passes() -> None:
    assert RiskEngine().check(Order("X", BUY, 1e12), 1e9, 0.0) is None


def test_unit_limits() -> None:
    eng = RiskEngine(
        RiskLimits(
            max_order_quantity={"*": 10.0, "Y": 2.0},
            max_order_notional={"X": 1_000.0},
            max_position_quantity={"X": 15.0},
        )
    )
    assert eng.check(Order("X", BUY, 10.0), 100.0, 0.0) is None  # 10 x 100 = 1000: at the limit
    reason = eng.check(Order("X", BUY, 11.0), 10.0, 0.0)
    assert reason is not None and "max_order_quantity 10" in reason
    reason = eng.check(Order("Y", BUY, 3.0), 1.0, 0.0)  # the symbol's own limit beats "*"
    assert reason is not None and "max_order_quantity 2" in reason
    reason = eng.check(Order("X", BUY, 5.0), 201.0, 0.0)  # 5 x 201 = 1005 > 1000
    assert reason is not None and "max_order_notional" in reason and "1005.00" in reason
    # position: 10 held + 6 = 16 > 15; selling 6 (-> 4) reduces and passes
    reason = eng.check(Order("X", BUY, 6.0), 1.0, 10.0)
    assert reason is not None and "max_position_quantity" in reason
    assert eng.check(Order("X", SELL, 6.0), 1.0, 10.0) is None
    pos_only = RiskEngine(RiskLimits(max_position_quantity={"*": 15.0}))
    # a flip from 10 long to 12 short: |-12| <= 15 passes; to 16 short (sell 26) does not
    assert pos_only.check(Order("X", SELL, 22.0), 1.0, 10.0) is None
    reason = pos_only.check(Order("X", SELL, 26.0), 1.0, 10.0)
    assert reason == "position would reach -16, beyond max_position_quantity 15 for X"
    # quote_quantity orders are sized at the price: 1500 / 100 = 15 > 10
    qq = Order("X", BUY, 0.0, quote_quantity=1_500.0)
    reason = eng.check(qq, 100.0, 0.0)
    assert reason is not None and "order quantity 15" in reason
    # reduce-only orders skip the position limit
    ro = Order("X", BUY, 6.0, reduce_only=True)
    assert eng.check(ro, 1.0, 10.0) is None


def test_halt_and_resume() -> None:
    eng = RiskEngine()
    eng.halt("X")
    assert eng.check(Order("X", BUY, 1.0), 1.0, 0.0) == "trading is halted for X"
    assert eng.check(Order("Y", BUY, 1.0), 1.0, 0.0) is None
    eng.halt()
    assert eng.check(Order("Y", BUY, 1.0), 1.0, 0.0) == "trading is halted"
    eng.resume()
    assert eng.check(Order("X", BUY, 1.0), 1.0, 0.0) is None


# --- in a backtest --------------------------------------------------------------------------


def test_max_order_quantity_rejects_in_backtest() -> None:
    strat, res = run(
        {0: [lambda s: s.buy(10)], 1: [lambda s: s.buy(5)]},
        RiskLimits(max_order_quantity={"*": 5.0}),
    )
    assert _status(res) == [
        ("rejected", "order quantity 10 exceeds max_order_quantity 5 for XUSD"),
        ("filled", ""),
    ]
    rejected_id = res.orders[0]["client_order_id"]
    # the strategy was told, with the reason; the rejected order never filled
    assert (rejected_id, OrderStatus.REJECTED, _status(res)[0][1]) in strat.events
    assert [f.client_order_id for f in strat.fill_log] != [rejected_id]
    fills = res.fills
    assert list(fills["quantity"]) == [5.0]
    assert list(fills["price"]) == [102.0]  # the buy of bar 1 fills at bar 2's open
    assert res.final_equity == pytest.approx(100_000 + 5 * (105.5 - 102.0))


def test_max_order_notional_rejects_in_backtest() -> None:
    # bar 0 closes at 100.5: 10 x 100.5 = 1005 > 1000 is denied; 9 x 100.5 = 904.5 passes;
    # a limit is valued at its own price: 12 x 80 = 960 passes, 13 x 80 = 1040 does not
    _strat, res = run(
        {
            0: [
                lambda s: s.buy(10),
                lambda s: s.buy(9),
                lambda s: s.buy(12, price=80.0),
                lambda s: s.buy(13, price=80.0),
            ]
        },
        RiskLimits(max_order_notional={"XUSD": 1_000.0}),
    )
    st = _status(res)
    assert [s for s, _ in st] == ["rejected", "filled", "accepted", "rejected"]
    assert st[0][1] == "order notional 1005.00 exceeds max_order_notional 1000.00 for XUSD"
    assert "order notional 1040.00" in st[3][1]
    assert list(res.fills["quantity"]) == [9.0]


def test_max_position_rejects_in_backtest() -> None:
    # buy 3 on bar 0 (fills at bar 1's open); on bar 1 another 3 would make 6 > 5: denied;
    # 2 more (-> 5) pass; on bar 3 the reduce-only close passes
    _strat, res = run(
        {
            0: [lambda s: s.buy(3)],
            1: [lambda s: s.buy(3), lambda s: s.buy(2)],
            3: [lambda s: s.close()],
        },
        RiskLimits(max_position_quantity={"*": 5.0}),
    )
    st = _status(res)
    assert [s for s, _ in st] == ["filled", "rejected", "filled", "filled"]
    assert st[1][1] == "position would reach 6, beyond max_position_quantity 5 for XUSD"
    fills = res.fills
    assert list(fills["quantity"]) == [3.0, 2.0, 5.0]
    assert list(fills["side"]) == ["buy", "buy", "sell"]
    assert res.frame["qty:XUSD"].max() == 5.0


def test_global_halt_rejects_everything() -> None:
    strat, res = run(
        {0: [lambda s: s.buy(1), lambda s: s.buy(1, price=90.0)]},
        RiskLimits(halted=True),
    )
    assert _status(res) == [("rejected", "trading is halted")] * 2
    assert len(res.fills) == 0
    assert res.final_equity == 100_000.0
    assert [e[1] for e in strat.events] == [OrderStatus.REJECTED] * 2


def test_instrument_halt_only_stops_that_instrument() -> None:
    data = {"XUSD": bars(), "YUSD": bars(start=50.0)}
    _strat, res = run(
        {0: [lambda s: s.buy(1, instrument="XUSD"), lambda s: s.buy(1, instrument="YUSD")]},
        RiskLimits(halted_instruments={"XUSD"}),
        data=data,
    )
    assert _status(res) == [("rejected", "trading is halted for XUSD"), ("filled", "")]
    fills = res.fills
    assert list(fills["instrument"]) == ["YUSD"]
    assert list(fills["price"]) == [51.0]  # YUSD bar 1 opens at 50 + 1


def test_kill_switch_mid_run() -> None:
    # the strategy halts trading on bar 1: its order on bar 2 is denied; after resume it trades
    _strat, res = run(
        {
            0: [lambda s: s.buy(1)],
            1: [lambda s: s.engine.risk.halt()],
            2: [lambda s: s.buy(1)],
            3: [lambda s: s.engine.risk.resume(), lambda s: s.buy(1)],
        },
        RiskLimits(),
    )
    assert [s for s, _ in _status(res)] == ["filled", "rejected", "filled"]
    assert list(res.fills["price"]) == [101.0, 104.0]


def test_stop_order_rejected_is_never_matched() -> None:
    # a denied stop never reaches the venue, so even a bar crossing its trigger cannot fill it
    _strat, res = run(
        {0: [lambda s: s.buy(10, stop=101.5)]},
        RiskLimits(max_order_quantity={"*": 5.0}),
    )
    order = res.orders[0]
    assert (order["type"], order["status"]) == (OrderType.STOP_MARKET.value, "rejected")
    assert len(res.fills) == 0


def test_max_notional_counts_multiplier() -> None:
    perp = Instrument.perpetual("XPERP", "X", "USD", multiplier=100.0)
    # 1 contract x 100.5 x 100 = 10,050 of notional > 1,000
    _strat, res = run(
        {0: [lambda s: s.buy(1)]},
        RiskLimits(max_order_notional={"*": 1_000.0}),
        data={"XPERP": bars()},
        instruments={"XPERP": perp},
        account=AccountType.MARGIN,
        leverage=5.0,
    )
    assert _status(res)[0][0] == "rejected"


def test_max_position_counts_open_orders() -> None:
    _strat, res = run(
        {0: [lambda s: s.buy(3), lambda s: s.buy(3)]},
        RiskLimits(max_position_quantity={"*": 5.0}),
    )
    assert res.frame["qty:XUSD"].max() <= 5.0


def test_halt_does_not_leak_into_next_run() -> None:
    config = BacktestConfig(cash=100_000.0)
    Backtest({"XUSD": bars()}, Scripted({0: [lambda s: s.engine.risk.halt()]}), config).run()
    res = Backtest({"XUSD": bars()}, Scripted({0: [lambda s: s.buy(1)]}), config).run()
    assert [o["status"] for o in res.orders] == ["filled"]
