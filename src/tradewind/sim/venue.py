"""The simulated venue: order matching against bars, quotes and trades.

Semantics (DESIGN.md "Backtest semantics"), stated once:

* An order reaches the venue ``latency_ns`` after it is submitted and is first matched against
  the first bar that OPENS at or after that moment (a market order placed when bar *t* closes
  fills at the open of bar *t+1*). ``fill_at_close=True`` instead fills market orders at the
  close of the bar the strategy saw (flagged in every result).
* Inside a bar the price is assumed to travel open → nearer extreme → farther extreme → close
  (ties go to the low first). Limit and stop orders fill at the first point of that path where
  they trade: at their own price, or at the open when the bar gaps through it.
* When both legs of an OCO pair (e.g. a bracket's stop-loss and take-profit) could fill within one
  bar and neither fills at the open, the stop fills (the conservative choice).
* Bracket children (OTO) activate when the parent is completely filled and are matched on the
  rest of the same bar's path from the parent's fill point.
* IOC / FOK orders get exactly one chance, at arrival (the open of their first bar); FOK also
  needs its whole quantity then. DAY orders expire at the end of the UTC day they arrived on;
  GTD orders at ``expire_ts``. Post-only limits that would trade on arrival are rejected.
* Taker fills (market, stops, stop-limits filling at their trigger) pay slippage; limit fills
  never do. Fees come from the fee model; makers and takers are told apart.
* ``volume_cap`` limits fills in one bar to that fraction of the bar's volume, shared by all
  orders of the instrument; the rest of a market order fills on later bars.
* Fills inside a bar are stamped with the bar's open time.
* A cash account cannot borrow or short. A margin account may, up to its leverage; when equity
  falls below the maintenance margin (tested at each bar's adverse extreme) every position is
  liquidated, the losing one at the price where equity met maintenance margin.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tradewind.engine.portfolio import Portfolio
from tradewind.errors import ConfigError
from tradewind.model.enums import (
    ACCEPTED as _ACCEPTED,
)
from tradewind.model.enums import (
    BUY as _BUY,
)
from tradewind.model.enums import (
    CANCELED as _CANCELED,
)
from tradewind.model.enums import (
    DAY as _DAY,
)
from tradewind.model.enums import (
    EXPIRED as _EXPIRED,
)
from tradewind.model.enums import (
    FILLED as _FILLED,
)
from tradewind.model.enums import (
    FOK as _FOK,
)
from tradewind.model.enums import (
    GTC as _GTC,
)
from tradewind.model.enums import (
    GTD as _GTD,
)
from tradewind.model.enums import (
    IOC as _IOC,
)
from tradewind.model.enums import (
    LIMIT as _LIMIT,
)
from tradewind.model.enums import (
    MAKER as _MAKER,
)
from tradewind.model.enums import (
    MARKET as _MARKET,
)
from tradewind.model.enums import (
    NONE as _NONE,
)
from tradewind.model.enums import (
    OCO as _OCO,
)
from tradewind.model.enums import (
    PERCENT as _PERCENT,
)
from tradewind.model.enums import (
    REJECTED as _REJECTED,
)
from tradewind.model.enums import (
    SELL as _SELL,
)
from tradewind.model.enums import (
    STOP_LIMIT as _STOP_LIMIT,
)
from tradewind.model.enums import (
    STOP_MARKET as _STOP_MARKET,
)
from tradewind.model.enums import (
    SUBMITTED as _SUBMITTED,
)
from tradewind.model.enums import (
    TAKER as _TAKER,
)
from tradewind.model.enums import (
    TRAILING_STOP as _TRAILING_STOP,
)
from tradewind.model.enums import (
    LiquiditySide,
    OrderStatus,
)
from tradewind.model.instrument import Instrument
from tradewind.model.order import Fill, Order
from tradewind.sim.fees import FeeModel
from tradewind.sim.slippage import FixedBps, SlippageModel

_DAY_NS = 86_400_000_000_000
_new_fill = tuple.__new__  # a Fill built in C, not through namedtuple's Python __new__
_EPS = 1e-12
_REL = 1e-9  # relative tolerance: quantities may be tiny (1e-12 BTC) and still real


class VenueEvents(Protocol):
    """What the venue reports back (the engine implements it)."""

    def order_event(self, order: Order, status: OrderStatus, ts: int, reason: str = "") -> None: ...

    def order_fill(self, order: Order, fill: Fill) -> None: ...

    def order_updated(self, order: Order, ts: int) -> None: ...


@dataclass(frozen=True)
class FillConfig:
    """The fill assumptions, all shown in every result."""

    fill_at_close: bool = False
    volume_cap: float | None = None  # max fraction of a bar's volume one instrument may fill
    latency_ns: int = 0
    liquidation_fee: float = 0.0  # extra fraction of notional charged on liquidation fills

    def describe(self) -> dict[str, object]:
        return {
            "market_orders_fill_at": "this bar's close"
            if self.fill_at_close
            else "next bar's open",
            "intrabar_path": "open -> nearer extreme -> farther extreme -> close",
            "stop_vs_target_same_bar": "stop (conservative)",
            "volume_cap": self.volume_cap,
            "latency_ms": self.latency_ns / 1e6,
            "liquidation_fee": self.liquidation_fee,
        }


class _Candidate:
    """A possible fill found on the path: where (pos), at what price, maker or taker."""

    __slots__ = ("liquidity", "order", "pos", "price", "seq", "slip", "trigger_pos")

    def __init__(
        self,
        order: Order,
        pos: float,
        price: float,
        liquidity: LiquiditySide,
        slip: bool,
        seq: int,
        trigger_pos: float | None = None,
    ) -> None:
        self.order = order
        self.pos = pos
        self.price = price
        self.liquidity = liquidity
        self.slip = slip
        self.seq = seq
        self.trigger_pos = trigger_pos


def _price_at(path: tuple[float, ...], pos: float) -> float:
    j = int(pos)
    if j >= len(path) - 1:
        return path[-1]
    f = pos - j
    return path[j] + f * (path[j + 1] - path[j]) if f else path[j]


def _touch(
    path: tuple[float, ...], start: float, level: float, down: bool
) -> tuple[float, float] | None:
    """First point at or after ``start`` where price <= level (down) or >= level (up).

    Returns (position, fill price): the price at ``start`` if it is already through the level
    (a gap), else the level itself where a segment crosses it.
    """
    p0 = _price_at(path, start)
    if (p0 <= level) if down else (p0 >= level):
        return start, p0
    j = int(start)
    for k in range(j, len(path) - 1):
        a = p0 if k == j else path[k]
        b = path[k + 1]
        if (b <= level < a) if down else (a < level <= b):
            seg = path[k + 1] - path[k]
            f = (level - path[k]) / seg if seg else 0.0
            return k + max(f, start - k if k == j else 0.0), level
    return None


class SimulatedVenue:
    """Matches orders for a set of instruments and books fills into a portfolio."""

    def __init__(
        self,
        instruments: dict[str, Instrument],
        portfolio: Portfolio,
        events: VenueEvents,
        *,
        fees: FeeModel,
        slippage: SlippageModel,
        config: FillConfig | None = None,
    ) -> None:
        self.instruments = instruments
        self.portfolio = portfolio
        self.events = events
        self.fees = fees
        self.slippage = slippage
        self.config = config or FillConfig()
        # zero slippage is the common research default: skip the model call entirely
        self._no_slippage = type(slippage) is SlippageModel or (
            isinstance(slippage, FixedBps) and slippage.bps == 0
        )
        self.book: dict[str, list[Order]] = {s: [] for s in instruments}
        self.last_price: dict[str, float] = {}
        self.last_spread: dict[str, float] = {}
        self._fill_ids = 0
        self._seq = 0
        self._held: set[str] = set()  # OTO children waiting for their parent to fill
        self._by_id: dict[str, Order] = {}  # linked (bracket / OCO) orders, by client id
        self._kids: dict[str, list[Order]] = {}  # parent id -> OTO children
        self.on_margin_call: Callable[[str, float, float], None] | None = None

    # --- order entry --------------------------------------------------------------------------

    def submit(self, order: Order, ts: int) -> None:
        """Take a SUBMITTED order; it arrives after the latency and is matched from then on."""
        if order.quote_quantity is None:  # a quote-sized buy has no size to check yet
            reason = self._static_reject(order, self.instruments[order.instrument])
            if reason:
                self.events.order_event(order, _REJECTED, ts, reason)
                return
        order.active_ts = ts + self.config.latency_ns
        self.book[order.instrument].append(order)
        if order.contingency is _NONE and order.parent_id is None:
            return  # a plain order: no links to keep
        self._by_id[order.client_order_id] = order  # linked orders find each other here
        if order.parent_id is not None:
            self._kids.setdefault(order.parent_id, []).append(order)
            parent = self._by_id.get(order.parent_id)
            if parent is None or parent.status is not _FILLED:
                self._held.add(order.client_order_id)

    def restore(self, order: Order, parent: Order | None = None) -> None:
        """Put an open order back in the book after a restart, as it was (no checks, no
        events). ``parent``: its OTO parent, if any (a child waits until the parent fills)."""
        self.book[order.instrument].append(order)
        if order.contingency is _NONE and order.parent_id is None:
            return
        self._by_id[order.client_order_id] = order
        if order.parent_id is not None:
            self._kids.setdefault(order.parent_id, []).append(order)
            if parent is None or parent.status is not _FILLED:
                self._held.add(order.client_order_id)
                if parent is not None:
                    self._by_id.setdefault(parent.client_order_id, parent)

    def counters(self) -> dict[str, int]:
        """The numbering a restart must continue (fill ids, match sequence)."""
        return {"fill_ids": self._fill_ids, "seq": self._seq}

    def set_counters(self, counters: dict[str, int]) -> None:
        self._fill_ids = int(counters.get("fill_ids", 0))
        self._seq = int(counters.get("seq", 0))

    def _static_reject(self, order: Order, inst: Instrument) -> str | None:
        if order.quote_quantity is not None:
            return None
        if order.quantity < inst.min_size:
            return f"quantity {order.quantity:g} is below the minimum size {inst.min_size:g}"
        px = order.price or order.trigger_price or self.portfolio.mark(order.instrument)
        if inst.min_notional and px and order.quantity * px * inst.multiplier < inst.min_notional:
            return (
                f"notional {order.quantity * px * inst.multiplier:.2f} is below the minimum "
                f"{inst.min_notional:g}"
            )
        return None

    def cancel(self, order: Order, ts: int, reason: str = "canceled by strategy") -> None:
        if not order.is_open:
            return
        self._remove(order)
        self.events.order_event(order, _CANCELED, ts, reason)
        for child in self._children(order):
            if child.is_open:
                self.cancel(child, ts, f"parent {order.client_order_id} canceled")

    def modify(
        self,
        order: Order,
        ts: int,
        *,
        quantity: float | None = None,
        price: float | None = None,
        trigger_price: float | None = None,
    ) -> None:
        """Change an open order in place (keeps its queue position: the sim has no queue)."""
        if not order.is_open:
            return
        before = (order.quantity, order.price, order.trigger_price)
        if quantity is not None:
            order.quantity = max(quantity, order.filled_qty)
        if price is not None:
            order.price = price
        if trigger_price is not None:
            order.trigger_price = trigger_price
        try:
            order.validate()
        except ConfigError:
            order.quantity, order.price, order.trigger_price = before  # leave it as it was
            raise
        self.events.order_updated(order, ts)

    def open_orders(self, symbol: str) -> list[Order]:
        return self.book[symbol]

    def _remove(self, order: Order) -> None:
        lst = self.book[order.instrument]
        if order in lst:
            lst.remove(order)
        if self._held:
            self._held.discard(order.client_order_id)

    def _children(self, order: Order) -> list[Order]:
        return self._kids.get(order.client_order_id, [])

    # --- bars ---------------------------------------------------------------------------------

    def process_bar(
        self, symbol: str, ts: int, o: float, h: float, low: float, c: float, v: float
    ) -> None:
        """Match the open orders of ``symbol`` against one bar (before the strategy sees it)."""
        book = self.book[symbol]
        if len(book) == 1:
            order = book[0]
            if (
                order.type is _MARKET
                and not order.working
                and order.active_ts <= ts
                and order.tif is _GTC
                and order.contingency is _NONE
                and order.parent_id is None
            ):
                # The most common event of all: one plain market order arriving at this open.
                # Same rules as _match (arrival, taker fill at the open), minus the machinery.
                order.working = True
                self.events.order_event(order, _ACCEPTED, ts)
                cand = _Candidate(order, 0.0, o, _TAKER, True, 0)
                cap = self.config.volume_cap
                self._execute(
                    cand,
                    ts,
                    v,
                    v * cap if cap is not None else math.inf,
                    self.last_spread.get(symbol),
                    False,
                )
                self.last_price[symbol] = c
                return
        path = (o, h, low, c) if h - o < o - low else (o, low, h, c)
        self._match(symbol, ts, path, path, v, spread=self.last_spread.get(symbol))
        self.last_price[symbol] = c

    def fill_at_close(self, symbol: str, ts: int, c: float, v: float) -> None:
        """In fill-at-close mode: fill market orders submitted on this bar at its close."""
        orders = [o for o in self.book[symbol] if o.type is _MARKET and not o.working]
        if orders:
            spread = self.last_spread.get(symbol)
            self._match(symbol, ts, (c,), (c,), v, spread=spread, only=orders, ignore_latency=True)

    # --- ticks --------------------------------------------------------------------------------

    def process_quote(
        self, symbol: str, ts: int, bid: float, ask: float, bid_size: float, ask_size: float
    ) -> None:
        """Buys trade at the ask, sells at the bid; the ask size caps buys and the bid size caps
        sells when sizes are given (times ``volume_cap`` when that is set)."""
        self.last_spread[symbol] = ask - bid
        if self.book[symbol]:
            sizes = (ask_size if ask_size > 0 else math.inf, bid_size if bid_size > 0 else math.inf)
            self._match(
                symbol, ts, (ask,), (bid,), math.inf, spread=ask - bid, quote=True, side_sizes=sizes
            )
        self.last_price[symbol] = (bid + ask) / 2.0

    def process_trade(self, symbol: str, ts: int, price: float, size: float) -> None:
        """A printed trade: market orders fill at its price, limits/stops trigger on it."""
        if self.book[symbol]:
            self._match(symbol, ts, (price,), (price,), size, spread=self.last_spread.get(symbol))
        self.last_price[symbol] = price

    # --- matching -----------------------------------------------------------------------------

    def _match(
        self,
        symbol: str,
        ts: int,
        buy_path: tuple[float, ...],
        sell_path: tuple[float, ...],
        volume: float,
        *,
        spread: float | None,
        quote: bool = False,
        only: list[Order] | None = None,
        ignore_latency: bool = False,
        side_sizes: tuple[float, float] | None = None,
    ) -> None:
        cap = self.config.volume_cap
        capacity = volume * cap if cap is not None else math.inf
        # quotes cap each side by its own book size; bars share one pool across sides
        side_caps = None if side_sizes is None else [s * (cap or 1.0) for s in side_sizes]
        book = self.book[symbol]
        cands: list[_Candidate] = []
        one_shot: list[Order] = []
        for order in list(only if only is not None else book):
            if not ignore_latency and order.active_ts > ts:
                continue
            if self._held and order.client_order_id in self._held:
                continue
            if order.tif is not _GTC and self._expire(order, ts):
                continue
            path = buy_path if order.side is _BUY else sell_path
            fresh = not order.working
            if fresh:
                if not self._arrive(order, ts, path):
                    continue
                if order.tif in (_IOC, _FOK):
                    one_shot.append(order)
            cand = self._evaluate(order, path, 0.0, arrival=fresh)
            if cand is not None:
                if order.tif in (_IOC, _FOK) and cand.pos > 0:
                    cand = None  # one chance, at arrival only
                else:
                    cands.append(cand)
        if len(cands) > 1:
            self._conservative_oco(cands)
        while cands:
            if len(cands) == 1:
                cand = cands.pop()
            else:
                cand = min(cands, key=lambda x: (x.pos, x.seq))
                cands.remove(cand)
            order = cand.order
            if not order.is_open:
                continue
            if side_caps is None:
                capacity = self._execute(cand, ts, volume, capacity, spread, quote)
            else:
                k = 0 if order.side is _BUY else 1
                side_caps[k] = self._execute(cand, ts, volume, side_caps[k], spread, quote)
            if order.status is _FILLED:
                for sib_id in order.linked_ids:
                    sib = self._by_id.get(sib_id)
                    if sib is not None and sib.is_open and order.contingency is _OCO:
                        self.cancel(sib, ts, f"OCO: {order.client_order_id} filled")
                for child in self._children(order):
                    if child.client_order_id in self._held:
                        self._held.discard(child.client_order_id)
                        if child.active_ts > ts and not ignore_latency:
                            continue
                        path = buy_path if child.side is _BUY else sell_path
                        if not self._arrive(child, ts, path, at=cand.pos):
                            continue
                        nxt = self._evaluate(child, path, cand.pos, arrival=True)
                        if nxt is not None:
                            cands.append(nxt)
                self._conservative_oco(cands)
        for order in one_shot:
            if order.is_open:
                what = (
                    "FOK: not fully fillable on arrival"
                    if order.tif is _FOK
                    else ("IOC: unfilled remainder canceled")
                )
                self.cancel(order, ts, what)
        if only is None:
            for order in book:
                if order.type is _TRAILING_STOP and order.working and order.is_open:
                    self._trail_commit(order, buy_path if order.side is _BUY else sell_path)

    def _expire(self, order: Order, ts: int) -> bool:
        expired = (order.tif is _GTD and order.expire_ts is not None and ts >= order.expire_ts) or (
            order.tif is _DAY and ts // _DAY_NS > order.ts_init // _DAY_NS
        )
        if expired:
            self._remove(order)
            self.events.order_event(order, _EXPIRED, ts, f"{order.tif.value} expired")
        return expired

    def _arrive(self, order: Order, ts: int, path: tuple[float, ...], at: float = 0.0) -> bool:
        """First look at an order: post-only / funds checks, then ACCEPTED."""
        order.working = True
        px = _price_at(path, at)
        if order.post_only and order.price is not None:
            crosses = px <= order.price if order.side is _BUY else px >= order.price
            if crosses:
                self._remove(order)
                self.events.order_event(
                    order, _REJECTED, ts, "post-only order would have taken liquidity"
                )
                return False
        if order.type is _TRAILING_STOP and order.trigger_price is None:
            # trail from the market the order meets (last_price may be bars old)
            order.trigger_price = self._trail_level(order, px)
        if order.status is _SUBMITTED:
            self.events.order_event(order, _ACCEPTED, ts)
        return True

    def _evaluate(
        self, order: Order, path: tuple[float, ...], start: float, *, arrival: bool
    ) -> _Candidate | None:
        """Where along ``path`` (from ``start``) this order would fill, if at all.

        ``arrival``: this is the order's first look at the market, so a limit that trades at once
        takes liquidity (taker) instead of resting (maker).
        """
        self._seq += 1
        seq = self._seq
        buy = order.side is _BUY
        t = order.type
        taker = _TAKER
        if t is _MARKET:
            return _Candidate(order, start, _price_at(path, start), taker, True, seq)
        if t is _LIMIT:
            assert order.price is not None
            hit = _touch(path, start, order.price, down=buy)
            if hit is None:
                return None
            liq = taker if (hit[0] == start and arrival) else _MAKER
            return _Candidate(order, hit[0], hit[1], liq, False, seq)
        if t is _STOP_MARKET:
            assert order.trigger_price is not None
            hit = _touch(path, start, order.trigger_price, down=not buy)
            return None if hit is None else _Candidate(order, hit[0], hit[1], taker, True, seq)
        if t is _STOP_LIMIT:
            assert order.trigger_price is not None and order.price is not None
            tpos = start
            fresh_trigger = not order.triggered
            if fresh_trigger:
                trig = _touch(path, start, order.trigger_price, down=not buy)
                if trig is None:
                    return None
                tpos = trig[0]
                order.triggered = True
            hit = _touch(path, tpos, order.price, down=buy)
            if hit is None:
                return None
            # taker only when it trades at the moment it triggers; once resting it is a limit
            liq = taker if fresh_trigger and hit[0] == tpos else _MAKER
            return _Candidate(order, hit[0], hit[1], liq, liq is taker, seq, trigger_pos=tpos)
        # trailing stop: walk the path, ratcheting the stop with the favourable extreme
        assert order.trigger_price is not None
        stop = order.trigger_price
        p0 = _price_at(path, start)
        if (p0 <= stop) if not buy else (p0 >= stop):
            return _Candidate(order, start, p0, taker, True, seq)
        for k in range(int(start), len(path) - 1):
            a, b = (_price_at(path, start) if k == int(start) else path[k]), path[k + 1]
            favourable = b > a if not buy else b < a
            if favourable:
                level = self._trail_level(order, b)
                stop = max(stop, level) if not buy else min(stop, level)
            elif (b <= stop < a) if not buy else (a < stop <= b):
                seg = path[k + 1] - path[k]
                return _Candidate(order, k + (stop - path[k]) / seg, stop, taker, True, seq)
        return None

    def _trail_level(self, order: Order, extreme: float) -> float:
        off = order.trailing_offset or 0.0
        sign = -1.0 if order.side is _SELL else 1.0
        if order.trailing_offset_type is _PERCENT:
            return extreme * (1.0 + sign * off)
        return extreme + sign * off

    def _trail_commit(self, order: Order, path: tuple[float, ...]) -> None:
        """After a bar, move a trailing stop to follow the bar's favourable extreme."""
        assert order.trigger_price is not None
        if order.side is _SELL:
            order.trigger_price = max(order.trigger_price, self._trail_level(order, max(path)))
        else:
            order.trigger_price = min(order.trigger_price, self._trail_level(order, min(path)))

    def _conservative_oco(self, cands: list[_Candidate]) -> None:
        """Both legs of an OCO group fill in this bar, neither at the open: keep the stop."""
        groups: dict[frozenset[str], list[_Candidate]] = {}
        for c in cands:
            if c.order.contingency is _OCO and c.order.linked_ids:
                key = frozenset((c.order.client_order_id, *c.order.linked_ids))
                groups.setdefault(key, []).append(c)
        for members in groups.values():
            if len(members) < 2 or min(m.pos for m in members) <= 0.0:
                continue
            stops = [m for m in members if m.order.is_stop]
            if stops:
                keep = min(stops, key=lambda m: (m.pos, m.seq))
                for m in members:
                    if m is not keep:
                        cands.remove(m)

    def _execute(
        self,
        cand: _Candidate,
        ts: int,
        volume: float,
        capacity: float,
        spread: float | None,
        quote: bool,
    ) -> float:
        """Turn a candidate into a fill (after size, reduce-only and funds checks)."""
        order = cand.order
        inst = self.instruments[order.instrument]
        price = cand.price
        if cand.slip and not quote and not self._no_slippage:
            est_qty = order.leaves_qty or (order.quote_quantity or 0.0) / max(price, _EPS)
            est_qty = min(est_qty, capacity)  # what can fill in this bar under the volume cap
            price = self.slippage.adjust(order.side, price, est_qty, volume, spread)
            if order.price is not None:  # a stop-limit: slippage never crosses its limit
                buy = order.side is _BUY
                price = min(price, order.price) if buy else max(price, order.price)
        if order.quote_quantity is not None and order.filled_qty == 0.0:
            cash = self.portfolio.account.balances.get(inst.quote, 0.0)
            budget = min(order.quote_quantity, max(cash, 0.0))
            order.quantity = inst.round_size(
                self.fees.affordable_qty(inst, budget, price, cand.liquidity)
            )
            if order.quantity <= 0.0:
                self._fail(
                    order,
                    ts,
                    f"quote_quantity {order.quote_quantity:g} buys nothing "
                    f"(cash {self.portfolio.cash(inst.quote):g} {inst.quote})",
                )
                return capacity
        leaves = order.quantity - order.filled_qty
        qty = leaves if leaves <= capacity else capacity
        if order.tif is _FOK and qty < leaves * (1 - _REL):
            return capacity  # the one-shot sweep cancels it
        pos = self.portfolio.qty[order.instrument]
        if order.reduce_only:
            if pos == 0 or (pos > 0) == (order.side is _BUY):
                self._fail(order, ts, "reduce-only order would increase the position")
                return capacity
            qty = min(qty, abs(pos))
        if qty < leaves:
            qty = inst.round_size(qty)
        if qty <= 0.0:
            if capacity >= leaves:
                self._fail(order, ts, f"quantity {leaves:g} rounds to nothing")
            return capacity
        fee = self.fees.fee(inst, qty, price, cand.liquidity)
        reason = self._funds_problem(order, inst, qty, price, fee, pos)
        if reason:
            self._fail(order, ts, reason)
            return capacity
        self._fill_ids += 1
        fill = _new_fill(
            Fill,
            (
                self._fill_ids,
                order.client_order_id,
                order.instrument,
                order.side,
                qty,
                price,
                fee,
                inst.quote,
                cand.liquidity,
                ts,
                False,
            ),
        )
        if order.reduce_only and qty < leaves and abs(pos) - qty <= _REL * abs(pos):
            order.quantity = order.filled_qty + qty  # position closed: nothing left to reduce
        self.events.order_fill(order, fill)
        if order.status is _FILLED:
            self._remove(order)
        return capacity - qty

    def _funds_problem(
        self, order: Order, inst: Instrument, qty: float, price: float, fee: float, pos: float
    ) -> str | None:
        signed = qty * order.side.sign
        after = pos + signed
        if abs(after) <= abs(pos) * (1 + _REL) and (after == 0 or (after > 0) == (pos > 0)):
            return None  # reducing never needs funds
        pf = self.portfolio
        if not pf.account.is_margin:
            if inst.is_margin_settled:
                return f"{inst.symbol} is margin-settled: it needs a margin account"
            if after < -_REL * max(abs(pos), qty):
                return "short selling is not allowed in a cash account"
            cost = signed * price * inst.multiplier + fee
            cash = pf.account.balances.get(inst.quote, 0.0)
            if cost > cash + _REL * abs(cash):
                return f"insufficient cash: the fill costs {cost:.2f} {inst.quote}, have {cash:.2f}"
            return None
        fx = pf.fx(inst.quote)
        rate = pf.init_rate(inst)
        need = (
            pf.margin_required()
            - pf.notional(inst.symbol) * rate
            + (abs(after) * price * inst.multiplier * fx * rate)
        )
        equity = pf.equity() - fee * fx
        if need > equity + _REL * abs(equity):
            return (
                f"insufficient margin: positions would need {need:.2f} "
                f"{pf.account.base_currency} of margin, equity is {equity:.2f}"
            )
        return None

    def _fail(self, order: Order, ts: int, reason: str) -> None:
        self._remove(order)
        status = _REJECTED if order.status is _SUBMITTED else (_CANCELED)
        self.events.order_event(order, status, ts, reason)

    # --- margin and funding -------------------------------------------------------------------

    def check_liquidation(self, symbol: str, ts: int, o: float, h: float, low: float) -> bool:
        """Liquidate everything if equity at this bar's adverse extreme is below maintenance."""
        pf = self.portfolio
        q = pf.qty[symbol]
        if not q:
            return False
        inst = self.instruments[symbol]
        adverse = low if q > 0 else h
        m = inst.multiplier * pf.fx(inst.quote)
        base_equity = pf.equity() - pf.position_value(symbol)
        mm = pf.maint_rate(inst)
        base_maint = pf.margin_required(maintenance=True) - pf.notional(symbol) * mm
        cost = pf.cost_term(symbol) * pf.fx(inst.quote)
        equity_adv = base_equity + q * adverse * m + cost
        maint_adv = base_maint + abs(q) * adverse * m * mm
        if equity_adv >= maint_adv:
            return False
        # price where equity == maintenance: K + q p m = R + |q| p m mm
        denom = m * (q - abs(q) * mm)
        p_liq = (base_maint - base_equity - cost) / denom if denom else adverse
        p_liq = min(max(p_liq, low), h)
        if (q > 0 and o <= p_liq) or (q < 0 and o >= p_liq):
            p_liq = o  # gapped through the liquidation price
        if self.on_margin_call is not None:
            self.on_margin_call(symbol, equity_adv, maint_adv)
        self.liquidate(ts, {symbol: p_liq})
        return True

    def liquidate(self, ts: int, prices: dict[str, float]) -> None:
        """Cancel all orders and close every position (at ``prices`` or the last price)."""
        for orders in self.book.values():
            for order in list(orders):
                self.cancel(order, ts, "liquidation")
        for symbol, q in list(self.portfolio.qty.items()):
            if not q:
                continue
            inst = self.instruments[symbol]
            price = prices.get(symbol, self.last_price.get(symbol, 0.0))
            side = _SELL if q > 0 else _BUY
            # numbered by the fill it makes: unique, and the same after a node restarts
            cid = f"LIQ-{self._fill_ids + 1}"
            order = Order(symbol, side, abs(q), tag="liquidation", ts_init=ts, client_order_id=cid)
            order.status = _SUBMITTED
            fee = self.fees.fee(inst, abs(q), price, _TAKER) + (
                abs(q) * price * inst.multiplier * self.config.liquidation_fee
            )
            self._fill_ids += 1
            fill = Fill(
                self._fill_ids,
                order.client_order_id,
                symbol,
                side,
                abs(q),
                price,
                fee,
                inst.quote,
                _TAKER,
                ts,
                liquidation=True,
            )
            self.events.order_event(order, _ACCEPTED, ts, "liquidation")
            self.events.order_fill(order, fill)

    def apply_funding(self, symbol: str, rate: float, mark: float) -> float:
        """Pay/receive one perpetual funding: longs pay ``rate × notional`` when rate > 0."""
        q = self.portfolio.qty[symbol]
        if not q:
            return 0.0
        inst = self.instruments[symbol]
        amount = -q * mark * inst.multiplier * rate
        self.portfolio.apply_cash(inst.quote, amount)
        return amount
