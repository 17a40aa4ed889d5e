"""Fees and slippage in the simulated venue, with hand-computed fills and cash."""

from __future__ import annotations

import pandas as pd
import pytest
from simkit import DAY, SYM, T0, at, bars, run

from tradewind.backtest.result import BacktestResult
from tradewind.model.enums import LiquiditySide
from tradewind.model.instrument import Instrument
from tradewind.sim.fees import InstrumentFee, MakerTakerFee, PercentFee, PerUnitFee
from tradewind.sim.slippage import FixedBps, HalfSpread, VolumeShareImpact

CASH = 100_000.0
FLAT = (100, 100.5, 99.5, 100)


def assert_fees_add_up(res: BacktestResult) -> None:
    assert float(res.fills["fee"].sum()) == pytest.approx(res.metrics["total_fees"], abs=1e-12)


# --- fees -------------------------------------------------------------------------------------


@pytest.mark.parametrize("cfg", [{"commission": 0.001}, {"fees": PercentFee(0.001)}])
def test_percent_fee_on_each_fill(cfg: dict[str, object]) -> None:
    data = bars([FLAT, (102, 103, 101, 102), (105, 106, 104, 105)])
    res, s = run(data, {0: lambda s: s.buy(10), 1: lambda s: s.sell(10)}, **cfg)
    buy, sell = s.fills
    assert buy.fee == pytest.approx(1.02, rel=1e-12)  # 10 * 102 * 0.001
    assert sell.fee == pytest.approx(1.05, rel=1e-12)  # 10 * 105 * 0.001
    assert res.metrics["total_fees"] == pytest.approx(2.07, rel=1e-12)
    assert_fees_add_up(res)
    # 100000 - 1020 - 1.02 + 1050 - 1.05 = 100027.93
    assert res.final_equity == pytest.approx(100_027.93, rel=1e-12)
    (trade,) = res.trades.itertuples()
    assert trade.pnl == pytest.approx(30 - 2.07, rel=1e-12)
    assert trade.fees == pytest.approx(2.07, rel=1e-12)
    assert res.settings["fees"] == "0.001 of notional per fill"


def test_maker_taker_fee_with_a_maker_rebate() -> None:
    # market buy at 100 (taker 0.05 %): 10 * 100 * 0.0005 = 0.5
    # resting sell limit at 110, reached inside bar 2 (maker -0.01 %): 10 * 110 * -0.0001 = -0.11
    data = bars([FLAT, FLAT, (108, 111, 107.5, 110)])
    res, s = run(
        data,
        {0: lambda s: s.buy(10), 1: lambda s: s.sell(10, price=110)},
        fees=MakerTakerFee(maker=-0.0001, taker=0.0005),
    )
    buy, sell = s.fills
    assert (buy.liquidity, sell.liquidity) == (LiquiditySide.TAKER, LiquiditySide.MAKER)
    assert buy.fee == pytest.approx(0.5, rel=1e-12)
    assert sell.fee == pytest.approx(-0.11, rel=1e-12)
    assert res.metrics["total_fees"] == pytest.approx(0.39, rel=1e-12)
    assert_fees_add_up(res)
    # 100000 - 1000 - 0.5 + 1100 + 0.11 = 100099.61
    assert res.final_equity == pytest.approx(100_099.61, rel=1e-12)


def test_per_unit_fee_minimum_and_cap() -> None:
    data = bars([FLAT, (50, 51, 49, 50), (50, 51, 49, 50), (5, 5.5, 4.5, 5)])
    res, s = run(
        data,
        {0: lambda s: s.buy(100), 1: lambda s: s.buy(1000), 2: lambda s: s.buy(10)},
        fees=PerUnitFee(0.005, minimum=1.0, max_fraction=0.01),
    )
    fees = [f.fee for f in s.fills]
    # 100 * 0.005 = 0.5 -> minimum 1.0 (cap 1 % of 5000 = 50 does not bite)
    # 1000 * 0.005 = 5.0 (minimum and cap 500 do not bite)
    # 10 * 0.005 = 0.05 -> minimum 1.0 -> capped at 1 % of 10 * 5 = 0.5
    assert fees == pytest.approx([1.0, 5.0, 0.5], rel=1e-12)
    assert res.metrics["total_fees"] == pytest.approx(6.5, rel=1e-12)
    assert_fees_add_up(res)
    # 100000 - 5000 - 1 - 50000 - 5 - 50 - 0.5 = 44943.5
    assert res.frame["cash"].iloc[-1] == pytest.approx(44_943.5, rel=1e-12)
    assert res.settings["fees"] == "0.005 per unit, min 1, max 0.01 of notional"


def test_instrument_fee_uses_the_instruments_rates() -> None:
    inst = Instrument.spot(SYM, "BTC", "USD", maker_fee=0.0001, taker_fee=0.0004)
    data = bars([FLAT, (100, 101, 97, 99)])
    res, s = run(
        data,
        {0: lambda s: (s.buy(10), s.buy(10, price=98))},
        fees=InstrumentFee(),
        instruments={SYM: inst},
    )
    mkt, lim = s.fills
    assert mkt.fee == pytest.approx(10 * 100 * 0.0004, rel=1e-12)  # 0.4, taker at the open
    assert lim.fee == pytest.approx(10 * 98 * 0.0001, rel=1e-12)  # 0.098, maker inside the bar
    assert_fees_add_up(res)
    # 100000 - 1000 - 0.4 - 980 - 0.098
    assert res.frame["cash"].iloc[-1] == pytest.approx(98_019.502, rel=1e-12)


def test_all_in_buy_spends_exactly_the_cash_including_the_fee() -> None:
    # self.buy() in a cash account spends all 10 000: qty * 100 * (1 + 0.001) = 10000
    # -> qty = 10000 / 100.1 = 99.9000999..., fee = qty * 0.1
    data = bars([FLAT, (100, 101, 99, 100.5)])
    res, s = run(data, {0: lambda s: s.buy()}, cash=10_000.0, commission=0.001)
    (f,) = s.fills
    assert f.quantity == pytest.approx(10_000 / 100.1, rel=1e-12)
    assert f.fee == pytest.approx(10_000 / 100.1 * 0.1, rel=1e-12)
    assert res.frame["cash"].iloc[-1] == pytest.approx(0.0, abs=1e-9)
    assert res.final_equity == pytest.approx(10_000 / 100.1 * 100.5, rel=1e-12)


# --- slippage ---------------------------------------------------------------------------------


ROUND_TRIP = bars([FLAT, (100, 101, 99, 100), (200, 201, 199, 200)])


@pytest.mark.parametrize("cfg", [{"slippage_bps": 10.0}, {"slippage": FixedBps(10)}])
def test_fixed_bps_buys_pay_more_sells_get_less(cfg: dict[str, object]) -> None:
    res, s = run(ROUND_TRIP, {0: lambda s: s.buy(10), 1: lambda s: s.sell(10)}, **cfg)
    buy, sell = s.fills
    assert buy.price == pytest.approx(100.1, rel=1e-12)  # 100 * (1 + 0.001)
    assert sell.price == pytest.approx(199.8, rel=1e-12)  # 200 * (1 - 0.001)
    # 100000 - 1001 + 1998 = 100997
    assert res.final_equity == pytest.approx(100_997.0, rel=1e-12)
    assert res.settings["slippage"] == "10 bps per taker fill"


def test_fee_is_charged_on_the_slipped_price() -> None:
    res, s = run(ROUND_TRIP, {0: lambda s: s.buy(10)}, slippage_bps=10.0, commission=0.001)
    (f,) = s.fills
    assert f.fee == pytest.approx(10 * 100.1 * 0.001, rel=1e-12)  # 1.001
    # 100000 - 1001 - 1.001
    assert res.frame["cash"].iloc[-1] == pytest.approx(98_997.999, rel=1e-12)


def test_limit_fills_never_slip() -> None:
    data = bars([FLAT, (100, 101, 97, 99), (101, 104, 100.5, 103)])
    _, s = run(
        data,
        {0: lambda s: s.buy(10, price=98), 1: lambda s: s.sell(10, price=103)},
        slippage=FixedBps(100),
    )
    assert [f.price for f in s.fills] == [98, 103]


def test_half_spread_from_spread_bps() -> None:
    # no quotes: the spread is 50 bps of the price; buy 100 + 100 * 0.005 / 2 = 100.25,
    # sell 200 - 200 * 0.005 / 2 = 199.5
    res, s = run(
        ROUND_TRIP,
        {0: lambda s: s.buy(10), 1: lambda s: s.sell(10)},
        slippage=HalfSpread(spread_bps=50),
    )
    buy, sell = s.fills
    assert buy.price == pytest.approx(100.25, rel=1e-12)
    assert sell.price == pytest.approx(199.5, rel=1e-12)
    # 100000 - 1002.5 + 1995 = 100992.5
    assert res.final_equity == pytest.approx(100_992.5, rel=1e-12)


def test_half_spread_uses_the_last_quoted_spread_on_bar_fills() -> None:
    # a quote (99, 101) in the middle of bar 0; the buy placed when bar 0 closes fills at bar 1's
    # open plus half the quoted spread, 100 + 2 / 2 = 101 (not the 50 bps default: 100.25)
    q = pd.DataFrame({"ts": [T0 + DAY // 2], "bid": [99.0], "ask": [101.0]})
    data = bars([FLAT, (100, 101, 99, 100)])
    res, s = run(data, {0: lambda s: s.buy(10)}, quotes={SYM: q}, slippage=HalfSpread(50))
    (f,) = s.fills
    assert (f.price, f.ts) == (101, at(1))
    assert res.final_equity == pytest.approx(CASH - 1010 + 1000, rel=1e-12)


def test_volume_share_impact() -> None:
    data = bars([FLAT, (50, 51, 49, 50, 1_000), (60, 61, 59, 60, 500)])
    res, s = run(
        data,
        {0: lambda s: s.buy(100), 1: lambda s: s.sell(100)},
        slippage=VolumeShareImpact(impact=0.1),
    )
    buy, sell = s.fills
    # share 100 / 1000 = 0.1 -> 50 * (1 + 0.1 * 0.01) = 50.05
    assert buy.price == pytest.approx(50.05, rel=1e-12)
    # share 100 / 500 = 0.2 -> 60 * (1 - 0.1 * 0.04) = 59.76
    assert sell.price == pytest.approx(59.76, rel=1e-12)
    # 100000 - 5005 + 5976 = 100971
    assert res.final_equity == pytest.approx(100_971.0, rel=1e-12)


def test_stop_slippage_with_volume_share_impact() -> None:
    # stop buy at 105 triggered inside bar 1 (low first: 100 -> 99 -> 106): share 10 / 100 = 0.1
    # -> 105 * (1 + 0.1 * 0.01) = 105.105
    data = bars([FLAT, (100, 106, 99, 104, 100)])
    _, s = run(data, {0: lambda s: s.buy(10, stop=105)}, slippage=VolumeShareImpact(0.1))
    assert s.fills[0].price == pytest.approx(105.105, rel=1e-12)
