"""Slippage models: how much worse than the reference price an aggressive fill gets.

Applied to taker fills only (market, stop-market, trailing-stop, and stop-limits that fill at their
trigger). Limit prices are a guarantee, so resting limit fills never slip.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradewind.errors import ConfigError
from tradewind.model.enums import OrderSide


class SlippageModel:
    """Base: no slippage."""

    def adjust(
        self,
        side: OrderSide,
        price: float,
        qty: float,
        bar_volume: float,
        spread: float | None = None,
    ) -> float:
        return price

    def describe(self) -> str:
        return "none"


@dataclass(frozen=True)
class FixedBps(SlippageModel):
    """Every taker fill is ``bps`` basis points worse: buys pay more, sells get less."""

    bps: float

    def __post_init__(self) -> None:
        if self.bps < 0:
            raise ConfigError(f"slippage bps must be >= 0, got {self.bps}")

    def adjust(
        self,
        side: OrderSide,
        price: float,
        qty: float,
        bar_volume: float,
        spread: float | None = None,
    ) -> float:
        return price * (1.0 + side.sign * self.bps * 1e-4)

    def describe(self) -> str:
        return f"{self.bps:g} bps per taker fill"


@dataclass(frozen=True)
class HalfSpread(SlippageModel):
    """Pay half the bid-ask spread: the quoted one when quotes are known, else ``spread_bps``."""

    spread_bps: float = 0.0

    def adjust(
        self,
        side: OrderSide,
        price: float,
        qty: float,
        bar_volume: float,
        spread: float | None = None,
    ) -> float:
        half = spread / 2.0 if spread is not None else price * self.spread_bps * 1e-4 / 2.0
        return price + side.sign * half

    def describe(self) -> str:
        return f"half the spread (default spread {self.spread_bps:g} bps)"


@dataclass(frozen=True)
class VolumeShareImpact(SlippageModel):
    """Price impact grows with the square of the order's share of bar volume (zipline's
    VolumeShareSlippage): ``price × impact × (qty / volume)²``."""

    impact: float = 0.1

    def adjust(
        self,
        side: OrderSide,
        price: float,
        qty: float,
        bar_volume: float,
        spread: float | None = None,
    ) -> float:
        share = min(qty / bar_volume, 1.0) if bar_volume > 0 else 1.0
        return price * (1.0 + side.sign * self.impact * share * share)

    def describe(self) -> str:
        return f"volume-share impact {self.impact:g} × share²"
