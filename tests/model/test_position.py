"""Position accounting: cost basis (FIFO / LIFO / AVERAGE), flips, multiplier, fees, PnL."""

from __future__ import annotations

import pytest

from tradewind.model import CostBasis, Position


def _pos(basis: CostBasis, multiplier: float = 1.0) -> Position:
    return Position("X", multiplier=multiplier, cost_basis=basis)


@pytest.mark.parametrize(
    ("basis", "realized", "left_price"),
    [
        # buy 1@100, buy 1@110, sell 1@120
        (CostBasis.FIFO, 20.0, 110.0),  # closes the 100 lot: 120 - 100 = 20; the 110 lot stays
        (CostBasis.LIFO, 10.0, 100.0),  # closes the 110 lot: 120 - 110 = 10; the 100 lot stays
        (CostBasis.AVERAGE, 15.0, 105.0),  # one lot at (100 + 110) / 2 = 105: 120 - 105 = 15
    ],
)
def test_cost_basis_realized_pnl(basis: CostBasis, realized: float, left_price: float) -> None:
    p = _pos(basis)
    assert p.apply(1, 100.0) == 0.0
    assert p.apply(1, 110.0) == 0.0
    assert p.apply(-1, 120.0) == pytest.approx(realized)
    assert p.realized_pnl == pytest.approx(realized)
    assert p.quantity == pytest.approx(1.0)
    assert p.avg_price == pytest.approx(left_price)
    assert p.lots() == [(pytest.approx(1.0), pytest.approx(left_price))]
    # the rest closes at 130: total gross PnL is the same whatever the basis:
    # (130 - 100) + (130 - 110) + ... = 120 + 130 - 100 - 110 = 40
    p.apply(-1, 130.0)
    assert p.is_flat
    assert p.realized_pnl == pytest.approx(40.0)
    assert p.avg_price == 0.0


@pytest.mark.parametrize(
    ("basis", "realized"),
    [
        # buy 1@100, buy 2@110, sell 2@130
        (CostBasis.FIFO, 50.0),  # 1 x (130-100) + 1 x (130-110) = 30 + 20
        (CostBasis.LIFO, 40.0),  # 2 x (130-110)
        # avg = (100 + 220) / 3 = 106.666..; 2 x (130 - 106.666..) = 46.666..
        (CostBasis.AVERAGE, 2 * (130 - 320 / 3)),
    ],
)
def test_cost_basis_across_lots(basis: CostBasis, realized: float) -> None:
    p = _pos(basis)
    p.apply(1, 100.0)
    p.apply(2, 110.0)
    assert p.avg_price == pytest.approx(320 / 3)
    assert p.apply(-2, 130.0) == pytest.approx(realized)
    assert p.quantity == pytest.approx(1.0)


def test_average_add_after_partial_close() -> None:
    p = _pos(CostBasis.AVERAGE)
    p.apply(2, 100.0)
    assert p.apply(-1, 110.0) == pytest.approx(10.0)  # 1 x (110 - 100)
    p.apply(1, 130.0)  # 1 left at 100 + 1 at 130 -> avg 115
    assert p.quantity == pytest.approx(2.0)
    assert p.avg_price == pytest.approx(115.0)
    assert len(p.lots()) == 1


@pytest.mark.parametrize("basis", list(CostBasis))
def test_flip_long_to_short(basis: CostBasis) -> None:
    p = _pos(basis)
    p.apply(2, 100.0)
    # sell 5@110: closes 2 (2 x 10 = 20 realized), opens a 3 short at 110
    assert p.apply(-5, 110.0) == pytest.approx(20.0)
    assert p.quantity == pytest.approx(-3.0)
    assert p.avg_price == pytest.approx(110.0)
    assert p.cost == pytest.approx(-330.0)
    # the short gains when the price falls: 3 x (110 - 100) = 30
    assert p.unrealized_pnl(100.0) == pytest.approx(30.0)
    # buy 4@105: closes the short (3 x 5 = 15) and opens a 1 long at 105
    assert p.apply(4, 105.0) == pytest.approx(15.0)
    assert p.quantity == pytest.approx(1.0)
    assert p.avg_price == pytest.approx(105.0)
    assert p.realized_pnl == pytest.approx(35.0)


def test_short_pnl() -> None:
    p = _pos(CostBasis.FIFO)
    p.apply(-2, 100.0)
    assert p.quantity == -2.0
    assert p.unrealized_pnl(90.0) == pytest.approx(20.0)  # -2 x 90 - (-200)
    assert p.unrealized_pnl(120.0) == pytest.approx(-40.0)  # -2 x 120 + 200
    assert p.apply(2, 90.0) == pytest.approx(20.0)
    assert p.is_flat


def test_multiplier_scales_pnl_not_price() -> None:
    p = _pos(CostBasis.FIFO, multiplier=10.0)
    p.apply(2, 100.0)
    assert p.avg_price == pytest.approx(100.0)
    assert p.unrealized_pnl(103.0) == pytest.approx(60.0)  # (2 x 103 - 200) x 10
    assert p.apply(-1, 105.0) == pytest.approx(50.0)  # 1 x 5 x 10
    assert p.realized_pnl == pytest.approx(50.0)


def test_fees_kept_apart() -> None:
    p = _pos(CostBasis.FIFO)
    assert p.apply(1, 100.0, fee=0.5) == 0.0
    assert p.apply(-1, 110.0, fee=0.6) == pytest.approx(10.0)  # gross, fees not taken off
    assert p.realized_pnl == pytest.approx(10.0)
    assert p.fees == pytest.approx(1.1)  # 0.5 + 0.6
    d = p.to_dict(mark=111.0)
    assert d["fees"] == pytest.approx(1.1)
    assert d["realized_pnl"] == pytest.approx(10.0)
    assert d["unrealized_pnl"] == 0.0


def test_avg_price_and_unrealized() -> None:
    p = _pos(CostBasis.FIFO)
    p.apply(1, 100.0)
    p.apply(3, 120.0)
    assert p.avg_price == pytest.approx(115.0)  # (100 + 360) / 4
    assert p.cost == pytest.approx(460.0)
    assert p.unrealized_pnl(125.0) == pytest.approx(40.0)  # 4 x 125 - 460
    assert p.to_dict(125.0)["unrealized_pnl"] == pytest.approx(40.0)


@pytest.mark.parametrize("basis", list(CostBasis))
def test_float_dust_closes_flat(basis: CostBasis) -> None:
    p = _pos(basis)
    for _ in range(3):
        p.apply(0.1, 100.0)  # 0.1 + 0.1 + 0.1 = 0.30000000000000004
    p.apply(-0.3, 101.0)
    assert p.is_flat
    assert p.quantity == 0.0
    assert p.realized_pnl == pytest.approx(0.3)  # 0.3 x (101 - 100)
