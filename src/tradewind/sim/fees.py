"""Fee models: what a fill costs, in the instrument's quote currency.

Every model answers two questions: the fee for a fill, and the largest quantity a budget buys
including that fee (used by "spend this much quote currency" market buys).
"""

from __future__ import annotations

from dataclasses import dataclass

from tradewind.errors import ConfigError
from tradewind.model.enums import LiquiditySide
from tradewind.model.instrument import Instrument


class FeeModel:
    """Base: no fees."""

    def fee(self, inst: Instrument, qty: float, price: float, liquidity: LiquiditySide) -> float:
        return 0.0

    def affordable_qty(
        self, inst: Instrument, budget: float, price: float, liquidity: LiquiditySide
    ) -> float:
        """The quantity whose notional plus fee equals ``budget`` (linear models solve exactly)."""
        unit = price * inst.multiplier
        return budget / (unit + self.fee(inst, 1.0, price, liquidity))

    def describe(self) -> str:
        return "none"


@dataclass(frozen=True)
class PercentFee(FeeModel):
    """A fraction of notional on every fill (``rate=0.001`` is 0.1 %, Binance spot's base rate)."""

    rate: float

    def __post_init__(self) -> None:
        if not 0 <= self.rate < 1:
            raise ConfigError(f"commission rate must be in [0, 1), got {self.rate}")

    def fee(self, inst: Instrument, qty: float, price: float, liquidity: LiquiditySide) -> float:
        return qty * price * inst.multiplier * self.rate

    def describe(self) -> str:
        return f"{self.rate:.6g} of notional per fill"


@dataclass(frozen=True)
class MakerTakerFee(FeeModel):
    """Different rates for resting (maker) and aggressive (taker) fills; maker may be negative."""

    maker: float
    taker: float

    def fee(self, inst: Instrument, qty: float, price: float, liquidity: LiquiditySide) -> float:
        rate = self.maker if liquidity is LiquiditySide.MAKER else self.taker
        return qty * price * inst.multiplier * rate

    def describe(self) -> str:
        return f"maker {self.maker:.6g} / taker {self.taker:.6g} of notional"


class InstrumentFee(FeeModel):
    """Uses each instrument's own ``maker_fee`` / ``taker_fee``."""

    def fee(self, inst: Instrument, qty: float, price: float, liquidity: LiquiditySide) -> float:
        rate = inst.maker_fee if liquidity is LiquiditySide.MAKER else inst.taker_fee
        return qty * price * inst.multiplier * rate

    def describe(self) -> str:
        return "instrument maker/taker rates"


@dataclass(frozen=True)
class PerUnitFee(FeeModel):
    """A fixed amount per unit, with an optional minimum per fill and a cap as a fraction of
    notional (Interactive Brokers' fixed US-stock plan: 0.005/share, min 1.00, max 1 %)."""

    per_unit: float
    minimum: float = 0.0
    max_fraction: float | None = None

    def fee(self, inst: Instrument, qty: float, price: float, liquidity: LiquiditySide) -> float:
        fee = max(qty * self.per_unit, self.minimum)
        if self.max_fraction is not None:
            fee = min(fee, qty * price * inst.multiplier * self.max_fraction)
        return fee

    def affordable_qty(
        self, inst: Instrument, budget: float, price: float, liquidity: LiquiditySide
    ) -> float:
        unit = price * inst.multiplier
        qty = budget / (unit + self.per_unit)
        if self.fee(inst, qty, price, liquidity) + qty * unit > budget:  # the minimum bites
            qty = max((budget - self.minimum) / unit, 0.0)
        return qty

    def describe(self) -> str:
        cap = f", max {self.max_fraction:.4g} of notional" if self.max_fraction is not None else ""
        return f"{self.per_unit:g} per unit, min {self.minimum:g}{cap}"
