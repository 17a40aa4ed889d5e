"""Pre-trade risk checks: every order passes here before it reaches a venue."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tradewind.model.order import Order


@dataclass
class RiskLimits:
    """Limits per instrument symbol (``"*"`` applies to all); ``None`` means no limit."""

    max_order_quantity: dict[str, float] = field(default_factory=dict)
    max_order_notional: dict[str, float] = field(default_factory=dict)
    max_position_quantity: dict[str, float] = field(default_factory=dict)
    halted: bool = False
    halted_instruments: set[str] = field(default_factory=set)
    reduce_only: bool = False  # only orders that shrink a position pass (a softer kill switch)


def _reduces(order: Order, position_qty: float) -> bool:
    """The order can only shrink the position: opposite side and no larger than it."""
    if order.side.sign * position_qty >= 0:
        return False
    return order.quote_quantity is None and order.quantity <= abs(position_qty) * (1 + 1e-9)


def _limit(limits: dict[str, float], instrument: str) -> float | None:
    return limits.get(instrument, limits.get("*"))


class RiskEngine:
    """Checks an order against the limits; returns the reason it is denied, or None."""

    def __init__(self, limits: RiskLimits | None = None) -> None:
        self.limits = limits or RiskLimits()

    def halt(self, instrument: str | None = None) -> None:
        """Stop all new orders (or only one instrument's): a kill switch."""
        if instrument is None:
            self.limits.halted = True
        else:
            self.limits.halted_instruments.add(instrument)

    def resume(self) -> None:
        self.limits.halted = False
        self.limits.halted_instruments.clear()
        self.limits.reduce_only = False

    @property
    def active(self) -> bool:
        """False when no limit is set (the common backtest case): callers skip ``check``."""
        lim = self.limits
        return bool(
            lim.halted
            or lim.halted_instruments
            or lim.reduce_only
            or lim.max_order_quantity
            or lim.max_order_notional
            or lim.max_position_quantity
        )

    def check(
        self,
        order: Order,
        price: float,
        position_qty: float,
        *,
        multiplier: float = 1.0,
        pending_qty: float = 0.0,
    ) -> str | None:
        """``position_qty``: the filled position; ``pending_qty``: signed quantity of the open
        orders that would add to it (so two orders in one bar cannot both slip under a limit)."""
        lim = self.limits
        inst = order.instrument
        if lim.halted or inst in lim.halted_instruments:
            return "trading is halted" + ("" if lim.halted else f" for {inst}")
        if lim.reduce_only and not _reduces(order, position_qty):
            return f"reduce-only mode: the order would not reduce the {inst} position"
        needs_price = order.quote_quantity is not None or _limit(lim.max_order_notional, inst)
        if needs_price and not (math.isfinite(price) and price > 0):
            return f"no price known yet for {inst}: cannot check the risk limits"
        qty = order.quantity if order.quote_quantity is None else order.quote_quantity / price
        max_qty = _limit(lim.max_order_quantity, inst)
        if max_qty is not None and qty > max_qty:
            return f"order quantity {qty:g} exceeds max_order_quantity {max_qty:g} for {inst}"
        max_notional = _limit(lim.max_order_notional, inst)
        notional = qty * price * multiplier
        if max_notional is not None and notional > max_notional:
            return (
                f"order notional {notional:.2f} exceeds max_order_notional "
                f"{max_notional:.2f} for {inst}"
            )
        max_pos = _limit(lim.max_position_quantity, inst)
        if max_pos is not None and not order.reduce_only:
            exposure = position_qty + pending_qty
            after = exposure + order.side.sign * qty
            if abs(after) > max_pos and abs(after) > abs(exposure):
                return (
                    f"position would reach {after:g}, beyond max_position_quantity "
                    f"{max_pos:g} for {inst}"
                )
        return None
