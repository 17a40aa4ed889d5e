"""Time in force: IOC, FOK, DAY and GTD orders in the simulated venue (hand-computed cases)."""

from __future__ import annotations

import pandas as pd
import pytest
from simkit import SYM, at, bars, order_row, run

from tradewind.model.enums import OrderStatus

CASH = 100_000.0
FLAT = (100, 100.5, 99.5, 100)
HOUR = 3_600_000_000_000


def test_ioc_market_fills_at_arrival() -> None:
    data = bars([FLAT, (102, 103, 101, 102.5)])
    res, s = run(data, {0: lambda s: s.keep("o", s.buy(10, tif="IOC"))})
    (f,) = s.fills
    assert (f.price, f.quantity, f.ts) == (102, 10, at(1))
    assert s.statuses("o") == ["accepted", "filled"]
    assert res.frame["cash"].iloc[-1] == pytest.approx(CASH - 1020, rel=1e-12)


def test_ioc_limit_not_marketable_at_the_open_is_canceled() -> None:
    # opens at 100 above the 98 limit; the bar later trades at 97, but IOC only gets the open
    data = bars([FLAT, (100, 101, 97, 99), (97, 98, 96, 97)])
    res, s = run(data, {0: lambda s: s.keep("o", s.buy(10, price=98, tif="IOC"))})
    assert s.fills == []
    assert s.statuses("o") == ["accepted", "canceled"]
    assert s.refs["o"].reason == "IOC: unfilled remainder canceled"
    assert s.refs["o"].ts_last == at(1)
    assert res.final_equity == CASH


def test_ioc_limit_marketable_at_the_open_fills_at_the_open() -> None:
    data = bars([FLAT, (100, 101, 97, 99)])
    _, s = run(data, {0: lambda s: s.keep("o", s.buy(10, price=101, tif="IOC"))})
    (f,) = s.fills
    assert (f.price, f.quantity) == (100, 10)


def test_ioc_with_a_volume_cap_fills_what_it_can_and_cancels_the_rest() -> None:
    # cap 0.1 of the bar's volume 50 -> 5 can fill at the open (102); the other 5 are canceled
    data = bars([FLAT, (102, 103, 101, 102.5, 50)])
    res, s = run(data, {0: lambda s: s.keep("o", s.buy(10, tif="IOC"))}, volume_cap=0.1)
    (f,) = s.fills
    assert (f.price, f.quantity) == (102, 5)
    assert s.statuses("o") == ["accepted", "partially_filled", "canceled"]
    assert s.refs["o"].filled_qty == 5
    assert res.frame["cash"].iloc[-1] == pytest.approx(CASH - 510, rel=1e-12)


def test_fok_with_a_volume_cap_too_small_is_canceled_with_nothing_filled() -> None:
    # capacity 0.1 * 50 = 5 < 10: fill or kill -> killed; later bars with more volume do not help
    data = bars([FLAT, (102, 103, 101, 102.5, 50), (102, 103, 101, 102.5, 10_000)])
    res, s = run(data, {0: lambda s: s.keep("o", s.buy(10, tif="FOK"))}, volume_cap=0.1)
    assert s.fills == []
    assert s.statuses("o") == ["accepted", "canceled"]
    assert s.refs["o"].reason == "FOK: not fully fillable on arrival"
    assert order_row(res, s.refs["o"])["filled_qty"] == 0
    assert res.final_equity == CASH


def test_fok_with_enough_volume_fills_completely() -> None:
    data = bars([FLAT, (102, 103, 101, 102.5, 100)])  # capacity 0.1 * 100 = 10
    _, s = run(data, {0: lambda s: s.keep("o", s.buy(10, tif="FOK"))}, volume_cap=0.1)
    (f,) = s.fills
    assert (f.price, f.quantity) == (102, 10)
    assert s.statuses("o") == ["accepted", "filled"]


def _hourly(rows: list[tuple[float, ...]]) -> tuple[pd.DataFrame, int]:
    start = pd.Timestamp("2024-01-01 21:00", tz="UTC").value
    return bars(rows, start=start, step=HOUR), start


def test_day_order_expires_at_the_first_bar_of_the_next_utc_day() -> None:
    # bars at 21:00, 22:00, 23:00 (Jan 1) and 00:00, 01:00 (Jan 2); the buy limit at 90 is placed
    # when the 21:00 bar closes (22:00 Jan 1). The 00:00 bar trades at 89 but the order is gone.
    data, start = _hourly([FLAT, FLAT, FLAT, (95, 96, 89, 90), (90, 91, 88, 89)])
    res, s = run(
        data,
        {
            0: lambda s: s.keep("o", s.buy(10, price=90, tif="DAY")),
            2: lambda s: s.notes.append(s.refs["o"].status),  # 23:00 bar: still working
        },
    )
    assert s.notes == [OrderStatus.ACCEPTED]
    assert s.fills == []
    assert s.statuses("o") == ["accepted", "expired"]
    midnight = pd.Timestamp("2024-01-02", tz="UTC").value
    assert s.refs["o"].ts_last == midnight == at(3, start=start, step=HOUR)
    assert s.refs["o"].reason == "DAY expired"
    assert res.final_equity == CASH


def test_day_order_fills_on_its_own_day() -> None:
    data, start = _hourly([FLAT, (95, 96, 89, 90)])
    _, s = run(data, {0: lambda s: s.buy(10, price=90, tif="DAY")})
    (f,) = s.fills
    assert (f.price, f.ts) == (90, at(1, start=start, step=HOUR))


def test_gtd_order_expires_at_expire_ts() -> None:
    # expire at the open of bar 3: bars 1 and 2 do not reach 90; bar 3 does, too late
    data = bars([FLAT, FLAT, FLAT, (95, 96, 89, 90)])
    res, s = run(
        data,
        {
            0: lambda s: s.keep("o", s.buy(10, price=90, tif="GTD", expire=at(3))),
            2: lambda s: s.notes.append(s.refs["o"].status),
        },
    )
    assert s.notes == [OrderStatus.ACCEPTED]
    assert s.fills == []
    assert s.statuses("o") == ["accepted", "expired"]
    assert s.refs["o"].ts_last == at(3)
    assert order_row(res, s.refs["o"])["status"] == "expired"
    assert res.frame["qty:" + SYM].iloc[-1] == 0


def test_gtd_order_fills_before_expire_ts() -> None:
    data = bars([FLAT, FLAT, (95, 96, 89, 90)])
    _, s = run(data, {0: lambda s: s.keep("o", s.buy(10, price=90, tif="GTD", expire=at(3)))})
    (f,) = s.fills
    # high first (1 < 6): 95 -> 96 -> 89 crosses 90 -> fills at 90 in bar 2 (before the expiry)
    assert (f.price, f.ts) == (90, at(2))
    assert s.refs["o"].status is OrderStatus.FILLED
