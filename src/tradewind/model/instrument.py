"""Tradable instruments: what a symbol is, how it rounds, what it costs and how it margins."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from tradewind.errors import ConfigError
from tradewind.model.enums import (
    EQUITY as _EQUITY,
)
from tradewind.model.enums import (
    PERPETUAL as _PERPETUAL,
)
from tradewind.model.enums import (
    SPL_TOKEN as _SPL_TOKEN,
)
from tradewind.model.enums import (
    SPOT as _SPOT,
)
from tradewind.model.enums import InstrumentKind


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument on one venue.

    ``price_increment`` / ``size_increment`` of ``None`` mean "not rounded" (research data with no
    venue rules). ``margin_init`` / ``margin_maint`` are fractions of notional (0.1 = 10x max
    leverage); 0 lets the account's leverage decide. They only matter in a margin account.
    """

    symbol: str
    kind: InstrumentKind = _SPOT
    base: str = ""
    quote: str = "USD"
    venue: str = "SIM"
    price_increment: float | None = None
    size_increment: float | None = None
    min_size: float = 0.0
    min_notional: float = 0.0
    maker_fee: float = 0.0
    taker_fee: float = 0.0
    multiplier: float = 1.0
    margin_init: float = 0.0  # 0: the account's leverage decides
    margin_maint: float = 0.0  # 0: half the initial margin
    mint: str | None = None  # Solana mint address for SPL tokens
    decimals: int | None = None  # on-chain decimals for SPL tokens
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not self.symbol:
            raise ConfigError("instrument symbol must not be empty")
        for name in ("price_increment", "size_increment"):
            inc = getattr(self, name)
            if inc is not None and not (inc > 0 and math.isfinite(inc)):
                raise ConfigError(f"{self.symbol}: {name} must be > 0, got {inc!r}")
        if self.multiplier <= 0:
            raise ConfigError(f"{self.symbol}: multiplier must be > 0, got {self.multiplier!r}")
        if not (0 <= self.margin_init <= 1 and 0 <= self.margin_maint <= 1) or (
            self.margin_init and self.margin_maint > self.margin_init
        ):
            raise ConfigError(
                f"{self.symbol}: need 0 <= margin_maint <= margin_init <= 1, got "
                f"margin_init={self.margin_init}, margin_maint={self.margin_maint}"
            )
        if self.kind is _SPL_TOKEN and self.decimals is None:
            raise ConfigError(f"{self.symbol}: an SPL token needs its mint decimals")

    @property
    def id(self) -> str:
        return self.symbol

    @property
    def is_margin_settled(self) -> bool:
        """True for derivatives: a fill exchanges no notional, only PnL and fees move cash."""
        return self.kind is _PERPETUAL

    def round_price(self, price: float) -> float:
        """Round a price to the nearest tick (no-op without a price increment)."""
        inc = self.price_increment
        if inc is None:
            return price
        return round(round(price / inc) * inc, _decimals(inc))

    def round_size(self, size: float) -> float:
        """Round a quantity *down* to the size increment, so rounding never buys more than asked."""
        inc = self.size_increment
        if inc is None:
            return size
        steps = math.floor(size / inc + 1e-9)
        return round(steps * inc, _decimals(inc))

    def to_base_units(self, size: float) -> int:
        """An SPL token quantity as integer base units (what a Solana instruction carries)."""
        if self.decimals is None:
            raise ConfigError(f"{self.symbol}: no decimals, cannot convert to base units")
        units: int = round(size * 10**self.decimals)
        return units

    def with_fees(self, maker: float, taker: float) -> Instrument:
        return replace(self, maker_fee=maker, taker_fee=taker)

    # Factories for the four kinds -------------------------------------------------------------

    @classmethod
    def spot(cls, symbol: str, base: str, quote: str, **kw: Any) -> Instrument:
        return cls(symbol=symbol, kind=_SPOT, base=base, quote=quote, **kw)

    @classmethod
    def equity(cls, symbol: str, quote: str = "USD", **kw: Any) -> Instrument:
        kw.setdefault("size_increment", 1.0)
        kw.setdefault("price_increment", 0.01)
        return cls(symbol=symbol, kind=_EQUITY, base=symbol, quote=quote, **kw)

    @classmethod
    def perpetual(cls, symbol: str, base: str, quote: str, **kw: Any) -> Instrument:
        kw.setdefault("margin_init", 0.1)
        kw.setdefault("margin_maint", 0.05)
        return cls(symbol=symbol, kind=_PERPETUAL, base=base, quote=quote, **kw)

    @classmethod
    def spl_token(
        cls, symbol: str, mint: str, decimals: int, quote: str = "USDC", **kw: Any
    ) -> Instrument:
        kw.setdefault("size_increment", 10.0**-decimals)
        kw.setdefault("base", symbol.partition("/")[0])  # "SOL/USDC" -> SOL; "BONK" -> BONK
        return cls(
            symbol=symbol,
            kind=_SPL_TOKEN,
            quote=quote,
            mint=mint,
            decimals=decimals,
            **kw,
        )


def _decimals(inc: float) -> int:
    """Decimal places of an increment, to strip float noise after rounding (0.01 -> 2)."""
    return max(0, -math.floor(math.log10(inc)) + 2) if inc < 1 else 0
