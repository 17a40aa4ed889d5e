"""Positions: net quantity, average price and PnL, with FIFO / LIFO / AVERAGE cost basis."""

from __future__ import annotations

from collections import deque

from tradewind.model.enums import (
    AVERAGE as _AVERAGE,
)
from tradewind.model.enums import (
    LIFO as _LIFO,
)
from tradewind.model.enums import CostBasis

_REL = 1e-9  # residues below this fraction of a fill are float noise, not quantity


class Position:
    """The net position in one instrument.

    ``quantity`` is signed (short < 0). Open lots are kept so realized PnL follows the chosen cost
    basis: FIFO closes the oldest lot first, LIFO the newest, AVERAGE keeps one lot at the
    volume-weighted price. ``realized_pnl`` is gross (price moves only); ``fees`` are kept apart so
    net realized PnL is ``realized_pnl - fees``.
    """

    __slots__ = ("_lots", "cost_basis", "fees", "instrument", "multiplier", "realized_pnl")

    def __init__(
        self, instrument: str, *, multiplier: float = 1.0, cost_basis: CostBasis = CostBasis.FIFO
    ) -> None:
        self.instrument = instrument
        self.multiplier = multiplier
        self.cost_basis = cost_basis
        self._lots: deque[list[float]] = deque()  # [signed qty, price]
        self.realized_pnl = 0.0
        self.fees = 0.0

    @property
    def quantity(self) -> float:
        lots = self._lots
        if len(lots) == 1:
            return lots[0][0]
        return sum(lot[0] for lot in lots)

    @property
    def is_flat(self) -> bool:
        return not self._lots

    @property
    def cost(self) -> float:
        """Σ lot quantity × lot price: the signed cost of the open lots (without multiplier)."""
        lots = self._lots
        if len(lots) == 1:
            return lots[0][0] * lots[0][1]
        return sum(q * p for q, p in lots)

    @property
    def avg_price(self) -> float:
        """Volume-weighted price of the open lots (0 when flat)."""
        qty = self.quantity
        return self.cost / qty if qty else 0.0

    def unrealized_pnl(self, mark: float) -> float:
        return (self.quantity * mark - self.cost) * self.multiplier

    def apply(self, signed_qty: float, price: float, fee: float = 0.0) -> float:
        """Apply one fill; returns the gross PnL it realized (0 when it only adds)."""
        self.fees += fee
        lots = self._lots
        remaining = signed_qty
        realized = 0.0
        while remaining and lots and (lots[0][0] > 0) != (remaining > 0):
            lot = lots[-1] if self.cost_basis is _LIFO else lots[0]
            take = min(abs(remaining), abs(lot[0]))
            direction = 1.0 if lot[0] > 0 else -1.0
            realized += direction * take * (price - lot[1]) * self.multiplier
            lot[0] -= direction * take
            remaining += direction * take
            if abs(lot[0]) <= _REL * take:
                if self.cost_basis is _LIFO:
                    lots.pop()
                else:
                    lots.popleft()
            if abs(remaining) <= _REL * abs(signed_qty):
                remaining = 0.0
        if remaining:
            if self.cost_basis is _AVERAGE and lots:
                lot = lots[0]
                new_qty = lot[0] + remaining
                lot[1] = (lot[0] * lot[1] + remaining * price) / new_qty
                lot[0] = new_qty
            else:
                lots.append([remaining, price])
        self.realized_pnl += realized
        return realized

    def lots(self) -> list[tuple[float, float]]:
        """The open lots as (signed quantity, price), oldest first."""
        return [(q, p) for q, p in self._lots]

    def to_dict(self, mark: float | None = None) -> dict[str, object]:
        out: dict[str, object] = {
            "instrument": self.instrument,
            "quantity": self.quantity,
            "avg_price": self.avg_price,
            "realized_pnl": self.realized_pnl,
            "fees": self.fees,
            "cost_basis": self.cost_basis.value,
        }
        if mark is not None:
            out["mark"] = mark
            out["unrealized_pnl"] = self.unrealized_pnl(mark)
        return out

    def __repr__(self) -> str:
        return (
            f"Position({self.instrument} qty={self.quantity} avg={self.avg_price:.8g} "
            f"realized={self.realized_pnl:.8g})"
        )
