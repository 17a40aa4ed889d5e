"""Fill rules of the simulated venue, order type by order type, with hand-computed fills.

Bars are daily; bar i opens at T0 + i days and is seen by the strategy when it closes, so an
order placed "on bar i" reaches the venue at the open of bar i+1. The intrabar path is
open -> nearer extreme -> farther extreme -> close (ties: low first). Default config: cash
100 000 USD, cash account, no fees, no slippage.
"""

from __future__ import annotations

import pytest
from simkit import SYM, at, bars, order_row, run

from tradewind.model.enums import AccountType, LiquiditySide, OrderSide, OrderStatus
from tradewind.model.instrument import Instrument
from tradewind.sim.fees import MakerTakerFee
from tradewind.sim.slippage import FixedBps

CASH = 100_000.0
MT = MakerTakerFee(maker=0.0002, taker=0.001)
FLAT = (100, 100.5, 99.5, 100)  # a quiet bar that touches nothing of interest


# --- market orders ----------------------------------------------------------------------------


def test_market_order_fills_at_next_open() -> None:
    data = bars([(100, 101, 99, 100), (102, 104, 101, 103), (103, 105, 102, 104)])
    res, s = run(data, {0: lambda s: s.keep("buy", s.buy(10))}, commission=0.001)
    (f,) = s.fills
    # placed when bar 0 closed -> open of bar 1 = 102; fee 10 * 102 * 0.001 = 1.02
    assert (f.quantity, f.price, f.ts, f.liquidity) == (10, 102, at(1), LiquiditySide.TAKER)
    assert f.fee == pytest.approx(1.02, rel=1e-12)
    assert s.statuses("buy") == ["accepted", "filled"]
    fr = res.frame
    assert list(fr["qty:" + SYM]) == [0, 10, 10]
    # cash 100000 - 10 * 102 - 1.02 = 98978.98; bar 1 equity 98978.98 + 10 * 103 = 100008.98
    assert fr["cash"].iloc[1] == pytest.approx(98_978.98, rel=1e-12)
    assert fr["equity"].iloc[1] == pytest.approx(100_008.98, rel=1e-12)
    # final: 98978.98 + 10 * 104 = 100018.98
    assert res.final_equity == pytest.approx(100_018.98, rel=1e-12)
    assert res.settings["market_orders_fill_at"] == "next bar's open"


def test_market_order_fill_at_close() -> None:
    data = bars([(100, 101, 99, 100), (102, 104, 101, 103), (103, 105, 102, 104)])
    res, s = run(
        data, {0: lambda s: s.keep("buy", s.buy(10))}, commission=0.001, fill_at_close=True
    )
    (f,) = s.fills
    # fills at the close of bar 0 (100), stamped with bar 0's open time; fee 10*100*0.001 = 1
    assert (f.quantity, f.price, f.ts) == (10, 100, at(0))
    assert f.fee == pytest.approx(1.0, rel=1e-12)
    assert res.settings["market_orders_fill_at"] == "this bar's close"
    fr = res.frame
    # the position is in bar 0's row already: cash 100000 - 1000 - 1 = 98999, equity 99999
    assert list(fr["qty:" + SYM]) == [10, 10, 10]
    assert fr["cash"].iloc[0] == pytest.approx(98_999.0, rel=1e-12)
    assert fr["equity"].iloc[0] == pytest.approx(99_999.0, rel=1e-12)
    assert res.final_equity == pytest.approx(98_999.0 + 10 * 104, rel=1e-12)


# --- limit orders -----------------------------------------------------------------------------


def test_limit_buy_touched_inside_the_bar_fills_at_the_limit_as_maker() -> None:
    # bar 1: high is nearer the open (1 < 3) -> path 100 -> 101 -> 97 -> 99; crosses 98 going down
    data = bars([(100, 101, 99, 100), (100, 101, 97, 99), (99, 100, 98.5, 99.5)])
    res, s = run(data, {0: lambda s: s.keep("lim", s.buy(10, price=98))}, fees=MT)
    (f,) = s.fills
    assert (f.price, f.quantity, f.ts, f.liquidity) == (98, 10, at(1), LiquiditySide.MAKER)
    assert f.fee == pytest.approx(10 * 98 * 0.0002, rel=1e-12)  # 0.196
    # cash 100000 - 980 - 0.196 = 99019.804
    assert res.frame["cash"].iloc[-1] == pytest.approx(99_019.804, rel=1e-12)
    assert res.final_equity == pytest.approx(99_019.804 + 10 * 99.5, rel=1e-12)


def test_limit_sell_touched_inside_the_bar_fills_at_the_limit() -> None:
    # bar 2: low nearer (0.5 < 3) -> 101 -> 100.5 -> 104 -> 102; crosses 103 going up
    data = bars([FLAT, FLAT, (101, 104, 100.5, 102)])
    res, s = run(data, {0: lambda s: s.buy(10), 1: lambda s: s.keep("lim", s.sell(10, price=103))})
    f = s.fills_of("lim")[0]
    assert (f.price, f.quantity, f.ts, f.liquidity) == (103, 10, at(2), LiquiditySide.MAKER)
    # cash 100000 - 10 * 100 + 10 * 103 = 100030, flat
    assert res.final_equity == pytest.approx(100_030.0, rel=1e-12)
    assert res.frame["qty:" + SYM].iloc[-1] == 0


def test_limit_buy_gapped_through_on_arrival_fills_at_open_as_taker() -> None:
    data = bars([(100, 101, 99, 100), (96, 97, 95, 96.5)])
    res, s = run(data, {0: lambda s: s.buy(10, price=98)}, fees=MT)
    (f,) = s.fills
    # marketable on arrival (open 96 <= 98): fills at the open, takes liquidity
    assert (f.price, f.liquidity) == (96, LiquiditySide.TAKER)
    assert f.fee == pytest.approx(10 * 96 * 0.001, rel=1e-12)  # 0.96
    assert res.frame["cash"].iloc[-1] == pytest.approx(CASH - 960 - 0.96, rel=1e-12)


def test_resting_limit_buy_gapped_through_fills_at_open_as_maker() -> None:
    data = bars([(100, 101, 99, 100), FLAT, (96, 97, 95, 96.5)])
    res, s = run(data, {0: lambda s: s.buy(10, price=98)}, fees=MT)
    (f,) = s.fills
    # resting since bar 1; bar 2 gaps to 96: fills at the (better) open, as a maker
    assert (f.price, f.ts, f.liquidity) == (96, at(2), LiquiditySide.MAKER)
    assert f.fee == pytest.approx(10 * 96 * 0.0002, rel=1e-12)  # 0.192
    assert res.frame["cash"].iloc[-1] == pytest.approx(CASH - 960 - 0.192, rel=1e-12)


def test_limit_sell_gapped_through_fills_at_open() -> None:
    data = bars([FLAT, FLAT, (105, 106, 104, 105.5)])
    res, s = run(data, {0: lambda s: s.buy(10), 1: lambda s: s.keep("lim", s.sell(10, price=103))})
    (f,) = s.fills_of("lim")
    assert (f.price, f.ts) == (105, at(2))
    # 100000 - 1000 + 1050
    assert res.final_equity == pytest.approx(100_050.0, rel=1e-12)


def test_limit_not_touched_stays_open() -> None:
    data = bars([FLAT, (100, 101, 95.5, 96), (96, 97, 90.01, 92)])
    res, s = run(data, {0: lambda s: s.keep("lim", s.buy(10, price=90))})
    assert s.fills == []
    assert s.refs["lim"].status is OrderStatus.ACCEPTED
    assert order_row(res, s.refs["lim"])["status"] == "accepted"
    assert s.open_orders() == [s.refs["lim"]]
    assert res.final_equity == CASH


def test_limit_marketable_on_arrival_is_taker_at_the_open() -> None:
    data = bars([FLAT, (100, 101, 99, 100)])
    res, s = run(data, {0: lambda s: s.buy(10, price=105)}, fees=MT)
    (f,) = s.fills
    # a buy limit at 105 when the market opens at 100: fills at 100, taker fee 10*100*0.001 = 1
    assert (f.price, f.liquidity) == (100, LiquiditySide.TAKER)
    assert f.fee == pytest.approx(1.0, rel=1e-12)
    assert res.frame["cash"].iloc[-1] == pytest.approx(CASH - 1000 - 1, rel=1e-12)


def test_limit_never_slips() -> None:
    data = bars([(100, 101, 99, 100), (100, 101, 97, 99)])
    _, s = run(data, {0: lambda s: s.buy(10, price=98)}, slippage=FixedBps(50))
    assert s.fills[0].price == 98


# --- stop-market ------------------------------------------------------------------------------


def test_stop_buy_triggered_inside_the_bar_fills_at_trigger_plus_slippage() -> None:
    # bar 1: low nearer (1 < 6) -> 100 -> 99 -> 106 -> 104; crosses 105 going up
    data = bars([FLAT, (100, 106, 99, 104)])
    res, s = run(data, {0: lambda s: s.buy(10, stop=105)}, slippage=FixedBps(10))
    (f,) = s.fills
    # 105 * (1 + 10e-4) = 105.105 ; cash 100000 - 1051.05 = 98948.95
    assert f.price == pytest.approx(105.105, rel=1e-12)
    assert (f.ts, f.liquidity) == (at(1), LiquiditySide.TAKER)
    assert res.frame["cash"].iloc[-1] == pytest.approx(98_948.95, rel=1e-12)


def test_stop_sell_triggered_inside_the_bar_fills_at_trigger_minus_slippage() -> None:
    # bar 2: high nearer (1 < 5) -> 98 -> 99 -> 93 -> 94; crosses 95 going down
    data = bars([FLAT, FLAT, (98, 99, 93, 94)])
    res, s = run(
        data,
        {0: lambda s: s.buy(10), 1: lambda s: s.keep("stop", s.sell(10, stop=95))},
        slippage=FixedBps(10),
    )
    buy, sell = s.fills
    assert buy.price == pytest.approx(100.1, rel=1e-12)  # 100 * 1.001
    assert sell.price == pytest.approx(94.905, rel=1e-12)  # 95 * 0.999
    # 100000 - 1001 + 949.05 = 99948.05
    assert res.final_equity == pytest.approx(99_948.05, rel=1e-12)


def test_stop_buy_gap_fills_at_open_plus_slippage() -> None:
    data = bars([FLAT, (107, 108, 106, 107.5)])
    _, s = run(data, {0: lambda s: s.buy(10, stop=105)}, slippage=FixedBps(10))
    assert s.fills[0].price == pytest.approx(107.107, rel=1e-12)  # 107 * 1.001


def test_stop_sell_gap_fills_at_open_minus_slippage() -> None:
    data = bars([FLAT, FLAT, (92, 93, 91, 92.5)])
    _, s = run(
        data,
        {0: lambda s: s.buy(10), 1: lambda s: s.keep("stop", s.sell(10, stop=95))},
        slippage=FixedBps(10),
    )
    assert s.fills_of("stop")[0].price == pytest.approx(91.908, rel=1e-12)  # 92 * 0.999


# --- stop-limit -------------------------------------------------------------------------------


def test_stop_limit_triggered_inside_fills_at_trigger_as_taker() -> None:
    # bar 1 low first: 100 -> 99 -> 107 -> 106; triggers at 105, where the 106 limit is marketable
    data = bars([FLAT, (100, 107, 99, 106)])
    _, s = run(data, {0: lambda s: s.keep("sl", s.buy(10, stop=105, price=106))}, fees=MT)
    (f,) = s.fills
    assert (f.price, f.liquidity) == (105, LiquiditySide.TAKER)
    assert f.fee == pytest.approx(10 * 105 * 0.001, rel=1e-12)


def test_stop_limit_triggers_then_fills_later_in_the_bar_at_the_limit() -> None:
    # bar 1 high first (1.5 < 2.5): 104.5 -> 106 -> 102 -> 102.5; triggers at 105 on the way up,
    # then the buy limit at 103 is reached on the way down to 102 -> maker fill at 103
    data = bars([FLAT, (104.5, 106, 102, 102.5)])
    _, s = run(data, {0: lambda s: s.buy(10, stop=105, price=103)}, fees=MT)
    (f,) = s.fills
    assert (f.price, f.liquidity) == (103, LiquiditySide.MAKER)


def test_stop_limit_gap_beyond_limit_rests_then_fills_at_limit() -> None:
    # bar 1 opens at 108: triggered at once, but never back to the 106 limit (low 107)
    # bar 2 high first (1 < 2): 107 -> 108 -> 105 -> 106 reaches 106 -> maker fill at 106
    data = bars([FLAT, (108, 110, 107, 109), (107, 108, 105, 106)])
    res, s = run(
        data,
        {
            0: lambda s: s.keep("sl", s.buy(10, stop=105, price=106)),
            1: lambda s: s.notes.append((s.refs["sl"].status, s.refs["sl"].triggered)),
        },
        fees=MT,
    )
    assert s.notes == [(OrderStatus.ACCEPTED, True)]
    (f,) = s.fills
    assert (f.price, f.ts, f.liquidity) == (106, at(2), LiquiditySide.MAKER)
    # 100000 - 1060 - 1060 * 0.0002 (0.212) = 98939.788
    assert res.frame["cash"].iloc[-1] == pytest.approx(98_939.788, rel=1e-12)


def test_triggered_stop_limit_resting_then_gapped_is_a_maker_without_slippage() -> None:
    # triggered in bar 1 (opens at 108, above the 106 limit), resting as a limit; bar 2 opens at
    # 105.5, through the limit: a resting limit fills at the open, as maker, and never slips
    data = bars([FLAT, (108, 110, 107, 109), (105.5, 106, 105, 105.8)])
    _, s = run(data, {0: lambda s: s.buy(10, stop=105, price=106)}, fees=MT, slippage=FixedBps(10))
    (f,) = s.fills
    assert (f.price, f.ts, f.liquidity) == (105.5, at(2), LiquiditySide.MAKER)
    assert f.fee == pytest.approx(10 * 105.5 * 0.0002, rel=1e-12)


def test_stop_limit_slippage_never_crosses_the_limit() -> None:
    # triggers at 105 inside bar 1 (low first: 100 -> 99 -> 107 -> 106); slipped 105 * 1.001 =
    # 105.105 would be worse than the 105.05 limit: the limit caps the price
    data = bars([FLAT, (100, 107, 99, 106)])
    _, s = run(data, {0: lambda s: s.buy(10, stop=105, price=105.05)}, slippage=FixedBps(10))
    (f,) = s.fills
    assert f.price <= 105.05
    assert f.price == pytest.approx(105.05, rel=1e-12)


# --- trailing stops ---------------------------------------------------------------------------


def _long_then(action):  # type: ignore[no-untyped-def]
    """Buy 10 on bar 0 (fills at bar 1's open, 100), then run ``action`` on bar 1."""
    return {0: lambda s: s.buy(10), 1: action}


def test_trailing_stop_ratchets_across_bars_and_fills_at_the_stop() -> None:
    data = bars(
        [
            FLAT,
            FLAT,  # buy fills at 100
            # low first (1 < 4): 100 -> 99 -> 104 -> 103; stop 100-2=98, ratchets to 104-2=102
            (100, 104, 99, 103),
            # high first (0.5 < 2): 103 -> 103.5 (stop stays 102) -> 101 crosses 102 -> fill 102
            (103, 103.5, 101, 101.5),
        ]
    )
    res, s = run(data, _long_then(lambda s: s.keep("tr", s.sell(10, trail=2.0))))
    (f,) = s.fills_of("tr")
    assert (f.price, f.ts, f.liquidity) == (102, at(3), LiquiditySide.TAKER)
    # 100000 - 1000 + 1020
    assert res.final_equity == pytest.approx(100_020.0, rel=1e-12)


def test_trailing_stop_ratchets_inside_the_bar_when_high_comes_first() -> None:
    # high first (3 < 4): 100 -> 103 (stop 98 -> 101) -> 96 crosses 101 -> fill at 101
    data = bars([FLAT, FLAT, (100, 103, 96, 97)])
    res, s = run(data, _long_then(lambda s: s.keep("tr", s.sell(10, trail=2.0))))
    assert s.fills_of("tr")[0].price == 101
    assert res.final_equity == pytest.approx(100_010.0, rel=1e-12)


def test_trailing_stop_low_first_fills_before_the_high() -> None:
    # low first (3 < 5): 100 -> 97 crosses the initial stop 98 before the high is reached
    data = bars([FLAT, FLAT, (100, 105, 97, 104)])
    _, s = run(data, _long_then(lambda s: s.keep("tr", s.sell(10, trail=2.0))))
    assert s.fills_of("tr")[0].price == 98


def test_trailing_stop_percent() -> None:
    data = bars(
        [
            FLAT,
            FLAT,
            # low first (1 < 10): stop 100*0.95 = 95; 99 -> 110 ratchets to 110*0.95 = 104.5
            (100, 110, 99, 109),
            # high first (0.5 < 9): 109.5*0.95 = 104.025 < 104.5 keeps 104.5; 109.5 -> 100 crosses
            (109, 109.5, 100, 101),
        ]
    )
    res, s = run(data, _long_then(lambda s: s.keep("tr", s.sell(10, trail_percent=0.05))))
    (f,) = s.fills_of("tr")
    assert f.price == pytest.approx(104.5, rel=1e-12)
    assert f.ts == at(3)
    assert res.final_equity == pytest.approx(100_045.0, rel=1e-12)


def test_trailing_buy_stop_follows_the_low() -> None:
    data = bars(
        [
            FLAT,
            # high first (1 < 5): stop 100+2=102; 101 -> 95 ratchets to 97
            (100, 101, 95, 96),
            # low first (0.5 < 2): 96 -> 95.5 (97.5 > 97, stop stays 97) -> 98 crosses 97
            (96, 98, 95.5, 97.5),
        ]
    )
    res, s = run(data, {0: lambda s: s.keep("tr", s.buy(10, trail=2.0))})
    (f,) = s.fills
    assert (f.price, f.ts) == (97, at(2))
    assert res.frame["cash"].iloc[-1] == pytest.approx(CASH - 970, rel=1e-12)


def test_trailing_stop_reference_is_the_market_at_arrival_not_a_stale_price() -> None:
    # The venue last matched an order on bar 1 (close 100). Bars 2-4 fall to 80 with no orders.
    # A 5-point trailing sell placed on bar 4 must start from the market it meets (open of bar 5,
    # 80 -> stop 75), not from the stale 100 (stop 95, which would sell at once at 80).
    data = bars(
        [FLAT, FLAT, (95, 95, 90, 90), (90, 90, 85, 85), (85, 85, 80, 80), (80, 81, 79.5, 80.5)]
    )
    res, s = run(data, {0: lambda s: s.buy(10), 4: lambda s: s.keep("tr", s.sell(10, trail=5.0))})
    assert s.fills_of("tr") == []
    assert s.refs["tr"].status is OrderStatus.ACCEPTED
    # after bar 5 the stop follows its high: 81 - 5 = 76
    assert s.refs["tr"].trigger_price == pytest.approx(76.0, rel=1e-12)
    assert res.frame["qty:" + SYM].iloc[-1] == 10


# --- intrabar path order ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bar", "first"),
    [
        # high nearer (2 < 5): 100 -> 102 (sell 101 fills) -> 95 (buy 97 fills) -> 96
        ((100, 102, 95, 96), "sell"),
        # low nearer (2 < 5): 100 -> 98 (buy 99 fills) -> 105 (sell 101 fills) -> 104
        ((100, 105, 98, 104), "buy"),
        # tie (3 == 3): low first
        ((100, 103, 97, 100), "buy"),
    ],
)
def test_unlinked_limits_fill_in_path_order(bar: tuple[float, ...], first: str) -> None:
    buy_px = 97 if bar[2] <= 97 else 99

    def place(s):  # type: ignore[no-untyped-def]
        s.keep("b", s.buy(1, price=buy_px))
        s.keep("s", s.sell(1, price=101))

    res, s = run(bars([FLAT, FLAT, bar]), {0: lambda s: s.buy(10), 1: place})
    order = [f.client_order_id for f in s.fills[1:]]
    ids = {"buy": s.refs["b"].client_order_id, "sell": s.refs["s"].client_order_id}
    assert order == [ids[first], ids["sell" if first == "buy" else "buy"]]
    assert [f.fill_id for f in s.fills] == sorted(f.fill_id for f in s.fills)
    assert {f.price for f in s.fills[1:]} == {buy_px, 101}
    # cash 100000 - 1000 - buy_px + 101
    assert res.frame["cash"].iloc[-1] == pytest.approx(CASH - 1000 - buy_px + 101, rel=1e-12)


# --- brackets ---------------------------------------------------------------------------------


def _bracket(s, **kw):  # type: ignore[no-untyped-def]
    s.keep_all(("entry", "sl", "tp"), s.bracket(10, **kw))


def test_bracket_children_fill_in_the_entry_bar() -> None:
    # entry market -> bar 1 open 100; high first (1 < 6): 100 -> 101 -> 94 crosses the 95 stop
    data = bars([FLAT, (100, 101, 94, 95)])
    res, s = run(data, {0: lambda s: _bracket(s, stop_loss=95, take_profit=110)})
    entry, sl = s.fills
    assert (entry.price, entry.ts) == (100, at(1))
    assert (sl.client_order_id, sl.price, sl.ts) == (s.refs["sl"].client_order_id, 95, at(1))
    assert s.statuses("sl") == ["accepted", "filled"]
    assert s.statuses("tp") == ["accepted", "canceled"]
    assert s.refs["tp"].reason == f"OCO: {s.refs['sl'].client_order_id} filled"
    # 100000 - 1000 + 950
    assert res.final_equity == pytest.approx(99_950.0, rel=1e-12)
    assert list(res.frame["qty:" + SYM]) == [0, 0]


def test_bracket_children_wait_for_the_entry() -> None:
    data = bars(
        [
            FLAT,
            (100, 106, 99, 105),  # the 105 take-profit would trade, but the entry has not filled
            # high first (0.5 < 2): 99 -> 99.5 -> 97 crosses the 98 entry; stop 95/TP 105 untouched
            (99, 99.5, 97, 98.5),
        ]
    )
    res, s = run(
        data,
        {
            0: lambda s: _bracket(s, price=98, stop_loss=95, take_profit=105),
            1: lambda s: s.notes.append([s.refs[k].status.value for k in ("entry", "sl", "tp")]),
        },
        fees=MT,
    )
    assert s.notes == [["accepted", "submitted", "submitted"]]
    (f,) = s.fills
    assert (f.client_order_id, f.price, f.ts) == (s.refs["entry"].client_order_id, 98, at(2))
    assert f.liquidity is LiquiditySide.MAKER
    assert s.refs["sl"].status is OrderStatus.ACCEPTED
    assert s.refs["tp"].status is OrderStatus.ACCEPTED
    # 100000 - 980 - 0.196 + 10 * 98.5 = 100004.804
    assert res.final_equity == pytest.approx(100_004.804, rel=1e-12)


def test_bracket_stop_wins_when_both_legs_trade_in_one_bar() -> None:
    # bar 2 high first (6 < 7): 100 -> 106 (TP 105 would fill first on the path) -> 93 (stop 95)
    # neither leg at the open -> the conservative rule fills the stop and cancels the TP
    data = bars([FLAT, FLAT, (100, 106, 93, 100)])
    res, s = run(data, {0: lambda s: _bracket(s, stop_loss=95, take_profit=105)}, fees=MT)
    _, sl = s.fills
    assert (sl.client_order_id, sl.price, sl.ts) == (s.refs["sl"].client_order_id, 95, at(2))
    assert sl.liquidity is LiquiditySide.TAKER
    assert s.refs["tp"].status is OrderStatus.CANCELED
    # entry taker fee 1000 * 0.001 = 1; stop taker fee 950 * 0.001 = 0.95
    # 100000 - 1000 - 1 + 950 - 0.95 = 99948.05
    assert res.final_equity == pytest.approx(99_948.05, rel=1e-12)
    assert res.metrics["total_fees"] == pytest.approx(1.95, rel=1e-12)


def test_bracket_take_profit_wins_when_the_bar_gaps_through_it() -> None:
    # bar 2 opens at 107, above the 105 TP: TP fills at the open (resting -> maker); stop canceled
    data = bars([FLAT, FLAT, (107, 108, 94, 100)])
    res, s = run(data, {0: lambda s: _bracket(s, stop_loss=95, take_profit=105)}, fees=MT)
    _, tp = s.fills
    assert (tp.client_order_id, tp.price, tp.ts) == (s.refs["tp"].client_order_id, 107, at(2))
    assert tp.liquidity is LiquiditySide.MAKER
    assert s.refs["sl"].status is OrderStatus.CANCELED
    # 100000 - 1000 - 1 + 1070 - 1070 * 0.0002 (0.214) = 100068.786
    assert res.final_equity == pytest.approx(100_068.786, rel=1e-12)


def test_bracket_stop_gapped_at_the_open_fills_at_the_open() -> None:
    data = bars([FLAT, FLAT, (93, 106, 92, 100)])
    res, s = run(data, {0: lambda s: _bracket(s, stop_loss=95, take_profit=105)})
    _, sl = s.fills
    assert (sl.client_order_id, sl.price) == (s.refs["sl"].client_order_id, 93)
    assert s.refs["tp"].status is OrderStatus.CANCELED
    assert res.final_equity == pytest.approx(CASH - 1000 + 930, rel=1e-12)


def test_canceling_the_bracket_entry_cancels_its_children() -> None:
    data = bars([FLAT, FLAT, FLAT])
    _, s = run(
        data,
        {
            0: lambda s: _bracket(s, price=90, stop_loss=85, take_profit=105),
            1: lambda s: s.cancel(s.refs["entry"]),
        },
    )
    assert s.fills == []
    for k in ("entry", "sl", "tp"):
        assert s.refs[k].status is OrderStatus.CANCELED
    assert s.refs["sl"].reason == f"parent {s.refs['entry'].client_order_id} canceled"


# --- post-only and reduce-only ----------------------------------------------------------------


def test_post_only_marketable_on_arrival_is_rejected() -> None:
    data = bars([FLAT, FLAT])
    res, s = run(data, {0: lambda s: s.keep("po", s.buy(10, price=101, post_only=True))})
    assert s.fills == []
    assert s.statuses("po") == ["rejected"]
    assert order_row(res, s.refs["po"])["reason"] == "post-only order would have taken liquidity"


def test_post_only_resting_fills_as_maker() -> None:
    data = bars([FLAT, (100, 101, 98, 99)])
    _, s = run(data, {0: lambda s: s.buy(10, price=99, post_only=True)}, fees=MT)
    (f,) = s.fills
    # high first (1 < 2): 100 -> 101 -> 98 crosses 99
    assert (f.price, f.liquidity) == (99, LiquiditySide.MAKER)
    assert f.fee == pytest.approx(10 * 99 * 0.0002, rel=1e-12)


def test_reduce_only_that_would_increase_the_position_is_refused() -> None:
    data = bars([FLAT, FLAT])
    res, s = run(data, {0: lambda s: s.keep("ro", s.sell(5, reduce_only=True))})
    assert s.fills == []
    assert s.refs["ro"].status in (OrderStatus.CANCELED, OrderStatus.REJECTED)
    assert s.refs["ro"].reason == "reduce-only order would increase the position"
    assert res.final_equity == CASH


def test_reduce_only_buy_on_a_long_is_refused() -> None:
    data = bars([FLAT, FLAT, FLAT])
    res, s = run(
        data, {0: lambda s: s.buy(10), 1: lambda s: s.keep("ro", s.buy(5, reduce_only=True))}
    )
    assert len(s.fills) == 1
    assert s.refs["ro"].reason == "reduce-only order would increase the position"
    assert res.frame["qty:" + SYM].iloc[-1] == 10


def test_reduce_only_larger_than_the_position_is_capped() -> None:
    data = bars([FLAT, FLAT, (101, 101.5, 100.5, 101)])
    res, s = run(
        data, {0: lambda s: s.buy(10), 1: lambda s: s.keep("ro", s.sell(15, reduce_only=True))}
    )
    (f,) = s.fills_of("ro")
    assert (f.quantity, f.price) == (10, 101)
    ro = s.refs["ro"]
    assert ro.status is OrderStatus.FILLED
    assert ro.filled_qty == 10
    assert res.frame["qty:" + SYM].iloc[-1] == 0
    # 100000 - 1000 + 1010
    assert res.final_equity == pytest.approx(100_010.0, rel=1e-12)


def test_fill_sides_and_quantities_are_recorded_in_result_fills() -> None:
    data = bars([FLAT, FLAT, (101, 101.5, 100.5, 101)])
    res, _ = run(data, {0: lambda s: s.buy(10), 1: lambda s: s.sell(4)})
    assert list(res.fills["side"]) == [OrderSide.BUY.value, OrderSide.SELL.value]
    assert list(res.fills["quantity"]) == [10, 4]
    assert list(res.fills["price"]) == [100, 101]
    assert list(res.fills["ts"]) == [at(1), at(2)]


def test_a_profitable_run_of_minute_bars_does_not_crash() -> None:
    minute = 60_000_000_000
    # buy 1000 at 100 (bar 1 open) with all 100000; bar 2 closes at 101: +1 % in 2 minutes;
    # cagr = 1.01 ** (1 / (2 min / 365.25 d)) = exp(0.00995 * 262980) = exp(2617) -> overflow
    data = bars([FLAT, FLAT, (100, 102, 99.5, 101)], step=minute)
    res, _ = run(data, {0: lambda s: s.buy(1000)})
    # 100000 - 100000 + 1000 * 101 = 101000
    assert res.final_equity == pytest.approx(101_000.0, rel=1e-12)


# --- static checks and changes to open orders -------------------------------------------------


def test_order_below_the_minimum_size_is_rejected_at_submission() -> None:
    inst = Instrument.spot(SYM, "BTC", "USD", min_size=0.01)
    res, s = run(
        bars([FLAT, FLAT]), {0: lambda s: s.keep("o", s.buy(0.001))}, instruments={SYM: inst}
    )
    assert s.fills == []
    assert s.statuses("o") == ["rejected"]
    assert s.refs["o"].reason == "quantity 0.001 is below the minimum size 0.01"
    assert res.final_equity == CASH


def test_market_order_below_the_minimum_notional_is_rejected_at_submission() -> None:
    # 0.05 * 100 (the last close) = 5 < 10; no order has been matched before this one
    inst = Instrument.spot(SYM, "BTC", "USD", min_notional=10.0)
    _, s = run(bars([FLAT, FLAT]), {0: lambda s: s.keep("o", s.buy(0.05))}, instruments={SYM: inst})
    assert s.fills == []
    assert s.statuses("o") == ["rejected"]
    assert s.refs["o"].reason == "notional 5.00 is below the minimum 10"


def test_modified_limit_fills_at_its_new_price() -> None:
    data = bars([FLAT, FLAT, (100, 101, 97, 99)])
    _, s = run(
        data,
        {
            0: lambda s: s.keep("o", s.buy(10, price=90)),
            1: lambda s: s.modify(s.refs["o"], price=98),
        },
    )
    (f,) = s.fills
    # high first (1 < 3): 100 -> 101 -> 97 crosses the new 98 limit
    assert (f.price, f.ts, f.liquidity) == (98, at(2), LiquiditySide.MAKER)


def test_short_bracket_stop_wins_when_both_legs_trade_in_one_bar() -> None:
    # short 10 at 100 (margin account); stop-loss buy stop 105, take-profit buy limit 95
    # bar 2 low first (6 < 7): 100 -> 94 (TP first on the path) -> 107 (stop) -> 100
    # neither at the open -> the stop fills at 105
    data = bars([FLAT, FLAT, (100, 107, 94, 100)])
    res, s = run(
        data,
        {0: lambda s: _bracket(s, side="sell", stop_loss=105, take_profit=95)},
        account=AccountType.MARGIN,
    )
    entry, sl = s.fills
    assert (entry.side, entry.price) == (OrderSide.SELL, 100)
    assert (sl.client_order_id, sl.side, sl.price) == (
        s.refs["sl"].client_order_id,
        OrderSide.BUY,
        105,
    )
    assert s.refs["tp"].status is OrderStatus.CANCELED
    # 100000 + 1000 - 1050 = 99950
    assert res.final_equity == pytest.approx(99_950.0, rel=1e-12)
