"""Portfolio accounting: cash, positions, equity and margin, updated by fills.

Cash moves on every fill: a cash instrument (spot, equity, SPL token) pays/receives the notional
in its quote currency; a margin-settled instrument (perpetual) moves only realized PnL. Fees are
always paid in the quote currency. Equity = Σ cash (converted to the base currency) + Σ position
value, where position value is ``qty × mark × multiplier`` for cash instruments and the unrealized
PnL for margin-settled ones.

For the equity curve the portfolio records every change of cash and position as an event tagged
with the engine's current step; the backtest turns those into a curve with numpy afterwards,
so the per-bar loop does no accounting at all.
"""

from __future__ import annotations

from collections.abc import Callable

from tradewind.errors import ConfigError
from tradewind.model.account import Account
from tradewind.model.enums import CostBasis
from tradewind.model.instrument import Instrument
from tradewind.model.order import Fill
from tradewind.model.position import Position

MarkFn = Callable[[str], float]


class Portfolio:
    def __init__(
        self,
        account: Account,
        instruments: dict[str, Instrument],
        cost_basis: CostBasis = CostBasis.FIFO,
    ) -> None:
        self.account = account
        self.instruments = instruments
        self.positions: dict[str, Position] = {
            s: Position(s, multiplier=i.multiplier, cost_basis=cost_basis)
            for s, i in instruments.items()
        }
        self.qty: dict[str, float] = dict.fromkeys(instruments, 0.0)  # fast net quantity
        self._settled = {s for s, i in instruments.items() if i.is_margin_settled}
        self.mark: MarkFn = lambda s: 0.0  # set by the driver: the last known price
        self.fx: Callable[[str], float] = self._fx_default
        self.step = 0  # set by the driver; tags recorded events
        self.total_fees = 0.0
        self.fills: list[Fill] = []
        # (step, currency, balance) and (step, symbol, qty, cost term) change logs
        self.cash_log: list[tuple[int, str, float]] = [
            (-1, c, b) for c, b in account.balances.items()
        ]
        self.pos_log: list[tuple[int, str, float, float]] = []

    def _fx_default(self, currency: str) -> float:
        if currency == self.account.base_currency:
            return 1.0
        raise ConfigError(
            f"cannot value {currency} in {self.account.base_currency}: add a "
            f"{currency}/{self.account.base_currency} price feed"
        )

    # --- fills ------------------------------------------------------------------------------

    def apply_fill(self, fill: Fill) -> float:
        """Book one fill: position, cash and fees. Returns the gross realized PnL."""
        sym = fill.instrument
        inst = self.instruments[sym]
        pos = self.positions[sym]
        fee = fill.fee
        signed = fill.signed_qty
        realized = pos.apply(signed, fill.price, fee)
        quote = inst.quote
        balances = self.account.balances
        if sym in self._settled:
            balance = balances.get(quote, 0.0) + realized - fee
            cost = -pos.cost * inst.multiplier
        else:
            balance = balances.get(quote, 0.0) - signed * fill.price * inst.multiplier - fee
            cost = 0.0
        balances[quote] = balance
        self.total_fees += fee if quote == self.account.base_currency else fee * self.fx(quote)
        new_qty = 0.0 if pos.is_flat else pos.quantity
        self.qty[sym] = new_qty
        self.fills.append(fill)
        self.cash_log.append((self.step, quote, balance))
        self.pos_log.append((self.step, sym, new_qty, cost))
        return realized

    def apply_cash(self, currency: str, amount: float) -> None:
        """A cash movement that is not a fill (funding payment, deposit)."""
        self.account.credit(currency, amount)
        self.cash_log.append((self.step, currency, self.account.balances[currency]))

    def cost_term(self, symbol: str) -> float:
        """The part of a position's value that does not move with the mark.

        Position value = qty × mark × multiplier + cost_term: 0 for cash instruments, and
        −(lot cost) × multiplier for margin-settled ones (so value = unrealized PnL).
        """
        inst = self.instruments[symbol]
        if not inst.is_margin_settled:
            return 0.0
        return -self.positions[symbol].cost * inst.multiplier

    # --- valuation --------------------------------------------------------------------------

    def position_value(self, symbol: str, mark: float | None = None) -> float:
        qty = self.qty[symbol]
        if not qty:
            return self.cost_term(symbol)
        inst = self.instruments[symbol]
        px = self.mark(symbol) if mark is None else mark
        return (qty * px * inst.multiplier + self.cost_term(symbol)) * self.fx(inst.quote)

    def cash(self, currency: str | None = None) -> float:
        """Cash in one currency, or all cash converted to the base currency."""
        if currency is not None:
            return self.account.balance(currency)
        return sum(b * self.fx(c) for c, b in self.account.balances.items() if b)

    def equity(self) -> float:
        return self.cash() + sum(self.position_value(s) for s, q in self.qty.items() if q)

    def notional(self, symbol: str, mark: float | None = None) -> float:
        inst = self.instruments[symbol]
        px = self.mark(symbol) if mark is None else mark
        return abs(self.qty[symbol]) * px * inst.multiplier * self.fx(inst.quote)

    def margin_required(self, *, maintenance: bool = False) -> float:
        """Initial (or maintenance) margin of all open positions, in the base currency."""
        total = 0.0
        for s, q in self.qty.items():
            if q:
                inst = self.instruments[s]
                rate = self.maint_rate(inst) if maintenance else self.init_rate(inst)
                total += self.notional(s) * rate
        return total

    def init_rate(self, inst: Instrument) -> float:
        """Initial margin as a fraction of notional: the instrument's, or 1 / leverage if larger."""
        return max(inst.margin_init, 1.0 / self.account.leverage)

    def maint_rate(self, inst: Instrument) -> float:
        """Maintenance margin fraction: the instrument's, else half the initial margin."""
        return inst.margin_maint or 0.5 * self.init_rate(inst)

    @property
    def has_exposure(self) -> bool:
        return any(self.qty.values())

    def borrowing(self) -> bool:
        """True when liquidation can happen: a short, a perp, or spot bought on borrowed cash."""
        if not self.account.is_margin:
            return False
        for s, q in self.qty.items():
            if q < 0 or (q and self.instruments[s].is_margin_settled):
                return True
        return any(b < 0 for b in self.account.balances.values())
