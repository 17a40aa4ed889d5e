"""Cash vs margin accounts, shorting, leverage, liquidation and perpetual funding (by hand)."""

from __future__ import annotations

import pandas as pd
import pytest
from simkit import SYM, at, bars, run

from tradewind.errors import ConfigError
from tradewind.model.enums import AccountType, OrderSide, OrderStatus
from tradewind.model.instrument import Instrument

FLAT = (100, 100.5, 99.5, 100)
PERP = "BTC-PERP"
PERP_INST = {PERP: Instrument.perpetual(PERP, "BTC", "USD")}  # margin_init 0.1, margin_maint 0.05


# --- cash account -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qty", "commission", "cost"),
    [
        (11, 0.0, "1100.00"),  # 11 * 100
        (10, 0.001, "1001.00"),  # 10 * 100 + fee 1: the fee counts too
    ],
)
def test_cash_account_buy_beyond_the_cash_is_refused(
    qty: float, commission: float, cost: str
) -> None:
    res, s = run(
        bars([FLAT, FLAT]),
        {0: lambda s: s.keep("o", s.buy(qty))},
        cash=1_000.0,
        commission=commission,
    )
    assert s.fills == []
    assert s.statuses("o") == ["accepted", "canceled"]
    assert s.refs["o"].reason == f"insufficient cash: the fill costs {cost} USD, have 1000.00"
    assert res.final_equity == 1_000.0


def test_cash_account_refuses_short_selling() -> None:
    res, s = run(bars([FLAT, FLAT]), {0: lambda s: s.keep("o", s.sell(5))})
    assert s.fills == []
    assert s.refs["o"].status is OrderStatus.CANCELED
    assert s.refs["o"].reason == "short selling is not allowed in a cash account"
    assert res.settings["account"] == "cash"


def test_cash_account_refuses_a_sell_that_would_flip_to_short() -> None:
    res, s = run(
        bars([FLAT, FLAT, FLAT]), {0: lambda s: s.buy(10), 1: lambda s: s.keep("o", s.sell(15))}
    )
    assert len(s.fills) == 1
    assert s.refs["o"].reason == "short selling is not allowed in a cash account"
    assert res.frame["qty:" + SYM].iloc[-1] == 10


def test_perpetual_needs_a_margin_account() -> None:
    with pytest.raises(ConfigError, match="margin account"):
        run({PERP: bars([FLAT, FLAT])}, {}, instruments=PERP_INST)


# --- margin account: shorting and leverage ----------------------------------------------------


def test_short_round_trip_pnl() -> None:
    data = bars([FLAT, FLAT, (95, 96, 94, 95), (90, 91, 89, 90)])
    res, s = run(
        data,
        {0: lambda s: s.sell(10), 2: lambda s: s.buy(10)},
        account=AccountType.MARGIN,
        commission=0.001,
    )
    short, cover = s.fills
    assert (short.side, short.price, short.fee) == (OrderSide.SELL, 100, pytest.approx(1.0))
    assert (cover.side, cover.price, cover.fee) == (OrderSide.BUY, 90, pytest.approx(0.9))
    fr = res.frame
    # short proceeds: 100000 + 1000 - 1 = 100999; bar 1 equity 100999 - 10 * 100 = 99999
    assert fr["cash"].iloc[1] == pytest.approx(100_999.0, rel=1e-12)
    assert fr["equity"].iloc[1] == pytest.approx(99_999.0, rel=1e-12)
    # bar 2: 100999 - 10 * 95 = 100049
    assert fr["equity"].iloc[2] == pytest.approx(100_049.0, rel=1e-12)
    # cover: 100999 - 900 - 0.9 = 100098.1
    assert res.final_equity == pytest.approx(100_098.1, rel=1e-12)
    (trade,) = res.trades.itertuples()
    assert trade.side == "short"
    assert trade.pnl == pytest.approx(100 - 1.9, rel=1e-12)
    assert list(fr["qty:" + SYM]) == [0, -10, -10, 0]


def test_leverage_two_buys_twice_the_equity() -> None:
    data = bars([FLAT, FLAT, (102, 103, 101, 102)])
    res, s = run(data, {0: lambda s: s.keep("o", s.buy(200))}, cash=10_000.0, leverage=2.0)
    (f,) = s.fills
    # initial margin 1/2 of 200 * 100 = 10000 = equity: allowed; cash 10000 - 20000 = -10000
    assert (f.quantity, f.price) == (200, 100)
    assert res.frame["cash"].iloc[-1] == pytest.approx(-10_000.0, rel=1e-12)
    # equity -10000 + 200 * 102 = 10400
    assert res.final_equity == pytest.approx(10_400.0, rel=1e-12)
    assert res.settings["leverage"] == 2.0
    assert res.settings["account"] == "margin"


def test_beyond_the_leverage_is_insufficient_margin() -> None:
    res, s = run(
        bars([FLAT, FLAT]), {0: lambda s: s.keep("o", s.buy(201))}, cash=10_000.0, leverage=2.0
    )
    assert s.fills == []
    # 201 * 100 / 2 = 10050 > 10000
    assert s.refs["o"].reason == (
        "insufficient margin: positions would need 10050.00 USD of margin, equity is 10000.00"
    )
    assert s.refs["o"].status is OrderStatus.CANCELED
    assert res.final_equity == 10_000.0


# --- liquidation ------------------------------------------------------------------------------


def test_leveraged_perpetual_long_is_liquidated_at_the_computed_price() -> None:
    # leverage 5: initial margin max(0.1, 1/5) = 0.2 -> 500 * 100 * 0.2 = 10000 = all equity
    # equity(p) = 10000 + 500 (p - 100); maintenance(p) = 0.05 * 500 p = 25 p
    # equal at 10000 + 500 p - 50000 = 25 p -> p = 40000 / 475 = 84.2105263...
    p_liq = 40_000 / 475
    data = bars([FLAT, (100, 101, 99, 100), (99, 99.5, 80, 82), (82, 83, 81, 82)])
    res, s = run(
        {PERP: data},
        {0: lambda s: s.buy(500), 1: lambda s: s.keep("tp", s.sell(500, price=120))},
        instruments=PERP_INST,
        cash=10_000.0,
        leverage=5.0,
    )
    entry, liq = s.fills
    assert (entry.price, entry.liquidation) == (100, False)
    assert (liq.side, liq.quantity, liq.ts, liq.liquidation) == (OrderSide.SELL, 500, at(2), True)
    assert liq.price == pytest.approx(p_liq, rel=1e-12)
    # the resting order is canceled first
    assert s.refs["tp"].status is OrderStatus.CANCELED
    assert s.refs["tp"].reason == "liquidation"
    # cash = 10000 + 500 * (84.2105 - 100) = 25 * 84.2105 = 2105.263...: equity met maintenance
    assert res.final_equity == pytest.approx(25 * p_liq, rel=1e-12)
    assert res.frame["qty:" + PERP].iloc[2] == 0
    (ev,) = res.events
    # at the bar's low (80): equity 10000 + 500 * (80 - 100) = 0, maintenance 25 * 80 = 2000
    assert ev["instrument"] == PERP
    assert ev["equity"] == pytest.approx(0.0, abs=1e-9)
    assert ev["maintenance"] == pytest.approx(2_000.0, rel=1e-12)
    assert ev["ts"] == at(3)  # checked when bar 2 closes
    assert res.fills["liquidation"].tolist() == [False, True]


def test_liquidation_after_a_gap_fills_at_the_open() -> None:
    data = bars([FLAT, (100, 101, 99, 100), (83, 84, 80, 81)])
    res, s = run(
        {PERP: data},
        {0: lambda s: s.buy(500)},
        instruments=PERP_INST,
        cash=10_000.0,
        leverage=5.0,
    )
    liq = s.fills[-1]
    # opened at 83, already below 84.21: closes at 83; cash 10000 + 500 * (83 - 100) = 1500
    assert (liq.price, liq.liquidation) == (83, True)
    assert res.final_equity == pytest.approx(1_500.0, rel=1e-12)


def test_liquidation_fee_is_charged_on_the_liquidation_fill() -> None:
    p_liq = 40_000 / 475
    data = bars([FLAT, (100, 101, 99, 100), (99, 99.5, 80, 82)])
    res, s = run(
        {PERP: data},
        {0: lambda s: s.buy(500)},
        instruments=PERP_INST,
        cash=10_000.0,
        leverage=5.0,
        liquidation_fee=0.01,
    )
    liq = s.fills[-1]
    assert liq.fee == pytest.approx(500 * p_liq * 0.01, rel=1e-12)  # 421.05
    # 25 * p_liq - 5 * p_liq = 20 * 84.2105 = 1684.21
    assert res.final_equity == pytest.approx(20 * p_liq, rel=1e-12)
    assert res.metrics["total_fees"] == pytest.approx(5 * p_liq, rel=1e-12)


def test_leveraged_perpetual_short_is_liquidated_at_the_computed_price() -> None:
    # equity(p) = 10000 - 500 (p - 100) = 60000 - 500 p; maintenance 25 p -> p = 60000 / 525
    p_liq = 60_000 / 525  # 114.2857...
    data = bars([FLAT, (100, 101, 99, 100), (101, 120, 100.5, 118)])
    res, s = run(
        {PERP: data},
        {0: lambda s: s.sell(500)},
        instruments=PERP_INST,
        cash=10_000.0,
        leverage=5.0,
    )
    liq = s.fills[-1]
    assert (liq.side, liq.liquidation) == (OrderSide.BUY, True)
    assert liq.price == pytest.approx(p_liq, rel=1e-12)
    assert res.final_equity == pytest.approx(25 * p_liq, rel=1e-12)  # 2857.14
    assert res.events[0]["maintenance"] == pytest.approx(25 * 120, rel=1e-12)


def test_leveraged_spot_long_in_a_margin_account_is_liquidated() -> None:
    # spot bought with borrowed cash: 500 * 100 with 10000 -> cash -40000
    # maintenance = half the initial 0.2 = 0.1; -40000 + 500 p = 0.1 * 500 p -> p = 40000 / 450
    p_liq = 40_000 / 450  # 88.888...
    data = bars([FLAT, (100, 101, 99, 100), (95, 96, 85, 86)])
    res, s = run(data, {0: lambda s: s.buy(500)}, cash=10_000.0, leverage=5.0)
    _, liq = s.fills
    assert res.frame["cash"].iloc[1] == pytest.approx(-40_000.0, rel=1e-12)
    assert liq.liquidation
    assert liq.price == pytest.approx(p_liq, rel=1e-12)
    # cash -40000 + 500 * 88.889 = 4444.44 = 0.1 * 500 * 88.889
    assert res.final_equity == pytest.approx(50 * p_liq, rel=1e-12)
    assert len(res.events) == 1


def test_a_stop_loss_above_the_liquidation_price_fills_first() -> None:
    # bar 2 high first (0.5 < 19): 99 -> 99.5 -> 80; the stop at 90 fills on the way down, the
    # position is flat before the bar's low is checked: no margin call
    data = bars([FLAT, (100, 101, 99, 100), (99, 99.5, 80, 82)])
    res, s = run(
        {PERP: data},
        {0: lambda s: s.buy(500), 1: lambda s: s.keep("sl", s.sell(500, stop=90))},
        instruments=PERP_INST,
        cash=10_000.0,
        leverage=5.0,
    )
    (f,) = s.fills_of("sl")
    assert (f.price, f.liquidation) == (90, False)
    assert res.events == []
    # 10000 + 500 * (90 - 100) = 5000
    assert res.final_equity == pytest.approx(5_000.0, rel=1e-12)


def test_no_liquidation_while_equity_covers_maintenance() -> None:
    # p_liq is 84.21: a low of 84.5 keeps the position
    data = bars([FLAT, (100, 101, 99, 100), (99, 99.5, 84.5, 90)])
    res, s = run(
        {PERP: data},
        {0: lambda s: s.buy(500)},
        instruments=PERP_INST,
        cash=10_000.0,
        leverage=5.0,
    )
    assert len(s.fills) == 1
    assert res.events == []
    # perp: cash untouched, value = unrealized 500 * (90 - 100) = -5000
    assert res.final_equity == pytest.approx(5_000.0, rel=1e-12)


# --- perpetual funding ------------------------------------------------------------------------


FUND_BARS = bars(
    [
        FLAT,
        (100, 102.5, 99.5, 102),
        (102, 104.5, 101.5, 104),
        (104, 105.5, 103.5, 105),
        (105, 105.5, 102.5, 103),
    ]
)
FUNDING = pd.DataFrame(
    {
        "ts": [at(1), at(2), at(4), at(5)],
        "rate": [0.01, 0.001, -0.0005, 0.002],
    }
)


@pytest.mark.parametrize("side", ["long", "short"])
def test_perpetual_funding_moves_cash_by_rate_times_notional(side: str) -> None:
    sign = 1 if side == "long" else -1

    def enter(s):  # type: ignore[no-untyped-def]
        return s.buy(10) if sign > 0 else s.sell(10)

    # a second (idle) bar feed: funding must also work in the multi-feed loop
    res, s = run(
        {PERP: FUND_BARS, "ETHUSD": bars([FLAT] * 5)},
        {0: enter},
        instruments=PERP_INST,
        funding={PERP: FUNDING},
        account=AccountType.MARGIN,
    )
    (f,) = s.fills
    assert (f.price, f.ts) == (100, at(1))
    # at(1): the position opens in that bar, after the funding time: nothing to pay
    # at(2): mark = bar 1 close 102: a long pays 10 * 102 * 0.001 = 1.02
    # at(4): mark = bar 3 close 105, negative rate: a long receives 10 * 105 * 0.0005 = 0.525
    # at(5) (the last bar's close): mark 103: a long pays 10 * 103 * 0.002 = 2.06
    cash = res.frame["cash"].to_numpy()
    assert cash[0] == cash[1] == 100_000.0
    assert cash[2] == pytest.approx(100_000 - sign * 1.02, rel=1e-12)
    assert cash[3] == pytest.approx(100_000 - sign * 1.02, rel=1e-12)
    assert cash[4] == pytest.approx(100_000 - sign * (1.02 - 0.525 + 2.06), rel=1e-12)
    # equity adds the unrealized PnL of the perpetual: sign * 10 * (103 - 100)
    assert res.final_equity == pytest.approx(
        100_000 - sign * (1.02 - 0.525 + 2.06) + sign * 30, rel=1e-12
    )


def test_funding_for_a_spot_instrument_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a perpetual"):
        run(bars([FLAT, FLAT]), {}, funding={SYM: FUNDING}, account=AccountType.MARGIN)


def test_funding_with_a_single_bar_feed() -> None:
    res, _ = run(
        {PERP: FUND_BARS},
        {0: lambda s: s.buy(10)},
        instruments=PERP_INST,
        funding={PERP: FUNDING},
        account=AccountType.MARGIN,
    )
    # long 10: pays 1.02, receives 0.525, pays 2.06 (see above); unrealized 10 * (103 - 100)
    assert res.final_equity == pytest.approx(100_000 - 2.555 + 30, rel=1e-12)
