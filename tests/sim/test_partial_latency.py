"""Partial fills under a volume participation cap, and submission latency (hand-computed)."""

from __future__ import annotations

import pytest
from simkit import SYM, at, bars, run

from tradewind.errors import ConfigError
from tradewind.model.enums import LiquiditySide, OrderStatus
from tradewind.sim.slippage import VolumeShareImpact

CASH = 100_000.0
FLAT = (100, 100.5, 99.5, 100)
DAY_MS = 86_400_000

# every bar trades 100 units: with volume_cap=0.1 at most 10 fill per bar
CAPPED = bars(
    [
        (100, 100.5, 99.5, 100, 100),
        (101, 101.5, 100.5, 101, 100),
        (102, 102.5, 101.5, 102, 100),
        (103, 103.5, 102.5, 103, 100),
        (104, 104.5, 103.5, 104, 100),
    ]
)


def test_market_order_above_the_cap_fills_in_pieces_at_each_open() -> None:
    res, s = run(CAPPED, {0: lambda s: s.keep("o", s.buy(25))}, volume_cap=0.1)
    got = [(f.quantity, f.price, f.ts) for f in s.fills]
    # 10 @ 101 (bar 1), 10 @ 102 (bar 2), the last 5 @ 103 (bar 3)
    assert got == [(10, 101, at(1)), (10, 102, at(2)), (5, 103, at(3))]
    assert s.statuses("o") == ["accepted", "partially_filled", "partially_filled", "filled"]
    o = s.refs["o"]
    # (1010 + 1020 + 515) / 25 = 2545 / 25 = 101.8
    assert o.avg_price == pytest.approx(101.8, rel=1e-12)
    assert o.filled_qty == 25
    assert list(res.frame["qty:" + SYM]) == [0, 10, 20, 25, 25]
    # 100000 - 2545 = 97455; equity at the end 97455 + 25 * 104 = 100055
    assert res.frame["cash"].iloc[-1] == pytest.approx(97_455.0, rel=1e-12)
    assert res.final_equity == pytest.approx(100_055.0, rel=1e-12)
    assert res.settings["volume_cap"] == 0.1


def test_the_cap_is_shared_by_all_orders_of_the_instrument() -> None:
    res, s = run(
        CAPPED, {0: lambda s: (s.keep("a", s.buy(8)), s.keep("b", s.buy(8)))}, volume_cap=0.1
    )
    a, b = s.refs["a"].client_order_id, s.refs["b"].client_order_id
    got = [(f.client_order_id, f.quantity, f.price) for f in s.fills]
    # bar 1: 10 available -> a gets 8, b the other 2; bar 2: b's remaining 6
    assert got == [(a, 8, 101), (b, 2, 101), (b, 6, 102)]
    # 100000 - 808 - 202 - 612 = 98378
    assert res.frame["cash"].iloc[-1] == pytest.approx(98_378.0, rel=1e-12)


def test_limit_order_partially_fills_at_its_price_over_two_bars() -> None:
    data = bars(
        [
            (100, 100.5, 99.5, 100, 100),
            (101, 102, 99, 100.5, 100),  # high first (1 < 2): 101 -> 102 -> 99 crosses 100
            (100.5, 101, 99.5, 100, 100),  # high first (0.5 < 1): 100.5 -> 101 -> 99.5 crosses 100
        ]
    )
    res, s = run(data, {0: lambda s: s.keep("o", s.buy(15, price=100))}, volume_cap=0.1)
    got = [(f.quantity, f.price, f.ts, f.liquidity) for f in s.fills]
    assert got == [
        (10, 100, at(1), LiquiditySide.MAKER),
        (5, 100, at(2), LiquiditySide.MAKER),
    ]
    assert s.statuses("o") == ["accepted", "partially_filled", "filled"]
    assert res.frame["cash"].iloc[-1] == pytest.approx(CASH - 1500, rel=1e-12)


def test_volume_share_impact_uses_the_share_actually_filled_in_the_bar() -> None:
    # the cap lets 10 of 25 fill per bar: each fill's share of the bar's volume (100) is
    # 10/100, 10/100 and 5/100 (zipline's VolumeShareSlippage also prices the capped fill)
    res, s = run(CAPPED, {0: lambda s: s.buy(25)}, volume_cap=0.1, slippage=VolumeShareImpact(0.1))
    prices = [f.price for f in s.fills]
    assert prices == pytest.approx(
        [
            101 * (1 + 0.1 * 0.1**2),  # 101.101
            102 * (1 + 0.1 * 0.1**2),  # 102.102
            103 * (1 + 0.1 * 0.05**2),  # 103.02575
        ],
        rel=1e-12,
    )
    # 100000 - 1011.01 - 1021.02 - 515.12875 = 97452.84125
    assert res.frame["cash"].iloc[-1] == pytest.approx(97_452.84125, rel=1e-12)


# --- latency ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latency_ms", "bar"),
    [
        (0.0, 1),  # reaches the venue at bar 1's open
        (DAY_MS / 2, 2),  # half a day late: misses bar 1's open, fills at bar 2's
        (DAY_MS, 2),  # arrives exactly at bar 2's open: bar 2 takes it
        (DAY_MS + 1, 3),  # 1 ms after bar 2 opened: bar 3
    ],
)
def test_latency_delays_the_first_bar_an_order_can_fill_in(latency_ms: float, bar: int) -> None:
    data = bars([FLAT, (101, 102, 100, 101), (102, 103, 101, 102), (103, 104, 102, 103)])
    res, s = run(data, {0: lambda s: s.buy(10)}, latency_ms=latency_ms)
    (f,) = s.fills
    opens = {1: 101, 2: 102, 3: 103}
    assert (f.price, f.ts) == (opens[bar], at(bar))
    assert res.settings["latency_ms"] == latency_ms
    assert res.frame["cash"].iloc[-1] == pytest.approx(CASH - 10 * opens[bar], rel=1e-12)


def test_a_limit_cannot_fill_before_it_arrives() -> None:
    data = bars(
        [
            FLAT,
            (100, 101, 97, 99),  # would cross 98, but the order is still on its way
            (99, 100, 97.5, 98.5),  # high first (1 < 1.5): 99 -> 100 -> 97.5 crosses 98
        ]
    )
    _, s = run(data, {0: lambda s: s.keep("o", s.buy(10, price=98))}, latency_ms=DAY_MS / 2)
    (f,) = s.fills
    assert (f.price, f.ts) == (98, at(2))
    assert s.refs["o"].status is OrderStatus.FILLED


def test_fill_at_close_cannot_have_latency() -> None:
    with pytest.raises(ConfigError, match="latency"):
        run(bars([FLAT, FLAT]), {}, fill_at_close=True, latency_ms=5.0)
