"""Matching against quote and trade ticks (no bars), with hand-computed fills.

Ticks are a day apart (so the result's annualised metrics stay finite). An order placed in
``on_quote`` / ``on_trade`` of tick n is matched from tick n+1 on.
"""

from __future__ import annotations

import pandas as pd
import pytest
from simkit import SYM, T0, run

from tradewind.model.enums import LiquiditySide, OrderSide
from tradewind.sim.slippage import HalfSpread

CASH = 100_000.0
TICK = 86_400_000_000_000


def tick_ts(n: int) -> int:
    return T0 + n * TICK


def quotes(rows: list[tuple[float, ...]]) -> dict[str, pd.DataFrame]:
    cols = ["bid", "ask", "bid_size", "ask_size"][: len(rows[0])]
    df = pd.DataFrame(rows, columns=cols)
    df.insert(0, "ts", [tick_ts(i) for i in range(len(rows))])
    return {SYM: df}


def trades(prices: list[float], size: float = 1_000.0) -> dict[str, pd.DataFrame]:
    return {
        SYM: pd.DataFrame(
            {"ts": [tick_ts(i) for i in range(len(prices))], "price": prices, "size": size}
        )
    }


# --- quotes -----------------------------------------------------------------------------------


def test_market_buy_fills_at_the_next_ask_and_sell_at_the_next_bid() -> None:
    q = quotes([(99, 101), (99.5, 100.5), (100, 102), (98, 99), (98, 99)])
    # slippage is not applied to quote fills: the ask/bid already is the price paid
    res, s = run(
        None,
        ticks={0: lambda s: s.buy(10), 2: lambda s: s.sell(10)},
        quotes=q,
        slippage_bps=10.0,
    )
    buy, sell = s.fills
    assert (buy.side, buy.price, buy.ts) == (OrderSide.BUY, 100.5, tick_ts(1))
    assert (sell.side, sell.price, sell.ts) == (OrderSide.SELL, 98, tick_ts(3))
    fr = res.frame
    # after the buy: cash 100000 - 1005 = 98995; marked at the mid (99.5 + 100.5) / 2 = 100
    assert fr["cash"].iloc[1] == pytest.approx(98_995.0, rel=1e-12)
    assert fr["equity"].iloc[1] == pytest.approx(99_995.0, rel=1e-12)
    # after the sell: 98995 + 980 = 99975
    assert res.final_equity == pytest.approx(99_975.0, rel=1e-12)


def test_resting_buy_limit_fills_when_the_ask_drops_to_it() -> None:
    q = quotes([(99, 101), (99.5, 100.5), (100, 102), (98, 99), (97, 98)])
    res, s = run(None, ticks={0: lambda s: s.keep("o", s.buy(10, price=99))}, quotes=q)
    (f,) = s.fills
    assert (f.price, f.ts, f.liquidity) == (99, tick_ts(3), LiquiditySide.MAKER)
    # 100000 - 990 = 99010; final mark (97 + 98) / 2 = 97.5 -> 99010 + 975
    assert res.final_equity == pytest.approx(99_985.0, rel=1e-12)


def test_resting_buy_limit_when_the_ask_jumps_below_it_fills_at_the_ask() -> None:
    # the gap rule applied to a quote: ask 98.8 is through the 99 limit -> fills at 98.8
    q = quotes([(99, 101), (99.5, 100.5), (98, 98.8)])
    _, s = run(None, ticks={0: lambda s: s.buy(10, price=99)}, quotes=q)
    (f,) = s.fills
    assert (f.price, f.liquidity) == (98.8, LiquiditySide.MAKER)


def test_buy_limit_is_matched_against_the_ask_not_the_bid() -> None:
    # the bid reaches 99 at tick 2 but the ask (99.5) does not: no fill
    q = quotes([(99, 101), (99, 100), (99, 99.5)])
    _, s = run(None, ticks={0: lambda s: s.buy(10, price=99)}, quotes=q)
    assert s.fills == []


def test_half_spread_is_not_added_on_top_of_a_quote() -> None:
    q = quotes([(99, 101), (99, 101)])
    _, s = run(None, ticks={0: lambda s: s.buy(10)}, quotes=q, slippage=HalfSpread(100))
    assert s.fills[0].price == 101


def test_quote_size_caps_a_market_buy() -> None:
    # ask_size 4: the buy of 10 takes 4 at tick 1's ask (100.5), then 6 at tick 2's ask (101)
    q = quotes([(99, 101, 50, 50), (99.5, 100.5, 50, 4), (100, 101, 50, 50)])
    _, s = run(None, ticks={0: lambda s: s.buy(10)}, quotes=q)
    assert [(f.quantity, f.price) for f in s.fills] == [(4, 100.5), (6, 101)]


# --- trades -----------------------------------------------------------------------------------


def test_market_order_fills_at_the_next_trade_price_plus_slippage() -> None:
    res, s = run(
        None, ticks={0: lambda s: s.buy(10)}, trades=trades([100, 101, 99.5]), slippage_bps=10.0
    )
    (f,) = s.fills
    # next trade 101, 10 bps worse for a buy: 101 * 1.001 = 101.101
    assert f.price == pytest.approx(101.101, rel=1e-12)
    assert f.ts == tick_ts(1)
    # 100000 - 1011.01 + 10 * 99.5 (last trade) = 99983.99
    assert res.final_equity == pytest.approx(99_983.99, rel=1e-12)


def test_limit_buy_fills_on_a_trade_at_its_price() -> None:
    res, s = run(
        None,
        ticks={1: lambda s: s.keep("o", s.buy(10, price=99))},
        trades=trades([100, 101, 99.5, 99, 100]),
        slippage_bps=10.0,
    )
    (f,) = s.fills
    # placed at tick 1; 99.5 does not reach it; 99 does: maker, no slippage
    assert (f.price, f.ts, f.liquidity) == (99, tick_ts(3), LiquiditySide.MAKER)
    # 100000 - 990 + 10 * 100 = 100010
    assert res.final_equity == pytest.approx(100_010.0, rel=1e-12)


def test_limit_buy_triggered_by_a_trade_through_its_price_fills_at_that_trade() -> None:
    _, s = run(
        None, ticks={1: lambda s: s.buy(10, price=99)}, trades=trades([100, 101, 99.5, 98.5])
    )
    (f,) = s.fills
    assert (f.price, f.ts) == (98.5, tick_ts(3))


def test_stop_sell_triggers_on_a_trade_through_it() -> None:
    res, s = run(
        None,
        ticks={0: lambda s: s.buy(10), 1: lambda s: s.keep("st", s.sell(10, stop=99.2))},
        trades=trades([100, 100, 99.5, 99, 98]),
    )
    (f,) = s.fills_of("st")
    # 99.5 > 99.2 keeps it; the 99 print is through the stop: fills at 99
    assert (f.price, f.ts) == (99, tick_ts(3))
    # 100000 - 1000 + 990
    assert res.final_equity == pytest.approx(99_990.0, rel=1e-12)


def test_half_spread_uses_the_last_quoted_spread_for_trade_fills() -> None:
    # a quote (99, 101) at tick 0, then trades at 100 (tick 1) and 100 (tick 2); the buy placed
    # at tick 0 fills at the tick-1 trade: 100 + half the quoted spread (2 / 2) = 101
    q = quotes([(99, 101)])
    t = {SYM: pd.DataFrame({"ts": [tick_ts(1), tick_ts(2)], "price": [100.0, 100.0], "size": 1e3})}
    _, s = run(None, ticks={0: lambda s: s.buy(10)}, quotes=q, trades=t, slippage=HalfSpread(0))
    (f,) = s.fills
    assert (f.price, f.ts) == (101, tick_ts(1))
