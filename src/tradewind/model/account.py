"""Account: cash balances per currency, account type and leverage."""

from __future__ import annotations

from tradewind.errors import ConfigError
from tradewind.model.enums import (
    CASH as _CASH,
)
from tradewind.model.enums import (
    MARGIN as _MARGIN,
)
from tradewind.model.enums import AccountType


class Account:
    """Cash by currency plus the borrowing rules.

    A CASH account cannot borrow: buys need the cash, shorts are refused, leverage is 1. A MARGIN
    account may borrow up to ``leverage`` × equity (instruments can demand more margin through
    their ``margin_init``) and may short. ``base_currency`` is the currency equity is reported in.
    """

    __slots__ = ("balances", "base_currency", "leverage", "type")

    def __init__(
        self,
        base_currency: str = "USD",
        *,
        type: AccountType = _CASH,
        leverage: float = 1.0,
        balances: dict[str, float] | None = None,
    ) -> None:
        if leverage < 1:
            raise ConfigError(f"leverage must be >= 1, got {leverage}")
        if type is _CASH and leverage != 1:
            raise ConfigError(
                f"a cash account cannot use leverage {leverage}; use a margin account"
            )
        self.base_currency = base_currency
        self.type = type
        self.leverage = leverage
        self.balances: dict[str, float] = dict(balances or {})

    @property
    def is_margin(self) -> bool:
        return self.type is _MARGIN

    def balance(self, currency: str | None = None) -> float:
        return self.balances.get(currency or self.base_currency, 0.0)

    def credit(self, currency: str, amount: float) -> None:
        """Add (or with a negative amount, take) cash in one currency."""
        self.balances[currency] = self.balances.get(currency, 0.0) + amount

    def to_dict(self) -> dict[str, object]:
        return {
            "type": self.type.value,
            "base_currency": self.base_currency,
            "leverage": self.leverage,
            "balances": dict(self.balances),
        }
