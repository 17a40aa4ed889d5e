"""The ``Strategy`` base class: parameters, lifecycle callbacks, data access and order helpers.

A strategy is the same object in backtest, paper and live: it only talks to the engine through
the methods here. Minimal example::

    class SmaCross(Strategy):
        fast: int = 10
        slow: int = 30

        def on_start(self) -> None:
            self.fast_ma = self.indicator(sma, "close", self.fast)
            self.slow_ma = self.indicator(sma, "close", self.slow)

        def on_bar(self, bar: Bar) -> None:
            if crossover(self.fast_ma, self.slow_ma):
                self.buy()
            elif crossover(self.slow_ma, self.fast_ma):
                self.close()
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from tradewind.errors import ConfigError
from tradewind.model.data import Bar, QuoteTick, TradeTick
from tradewind.model.enums import (
    BUY as _BUY,
)
from tradewind.model.enums import (
    GTC as _GTC,
)
from tradewind.model.enums import (
    LIMIT as _LIMIT,
)
from tradewind.model.enums import (
    MARKET as _MARKET,
)
from tradewind.model.enums import (
    OCO as _OCO,
)
from tradewind.model.enums import (
    OTO as _OTO,
)
from tradewind.model.enums import (
    PERCENT as _PERCENT,
)
from tradewind.model.enums import (
    PRICE as _PRICE,
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
    TRAILING_STOP as _TRAILING_STOP,
)
from tradewind.model.enums import (
    OrderSide,
    TimeInForce,
)
from tradewind.model.order import Fill, Order
from tradewind.strategy.indicator import AlignedArray, Indicator, precompute, recompute
from tradewind.strategy.params import Parameterized

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from tradewind.engine.core import Feed, TradingEngine

    # (function, resolved args, kwargs, feed, the indicators it made)
    _Recipe = tuple[Any, tuple[Any, ...], dict[str, Any], Feed, tuple[Indicator, ...]]

log = logging.getLogger("tradewind.strategy")


class History:
    """Bars of one feed up to the current one: numpy views, never copies."""

    __slots__ = ("_feed",)

    def __init__(self, feed: Feed) -> None:
        self._feed = feed

    def __len__(self) -> int:
        return self._feed.cursor + 1

    @property
    def ts(self) -> NDArray[np.int64]:
        return self._feed.known("ts")

    @property
    def open(self) -> NDArray[np.float64]:
        return self._feed.known("open")

    @property
    def high(self) -> NDArray[np.float64]:
        return self._feed.known("high")

    @property
    def low(self) -> NDArray[np.float64]:
        return self._feed.known("low")

    @property
    def close(self) -> NDArray[np.float64]:
        return self._feed.known("close")

    @property
    def volume(self) -> NDArray[np.float64]:
        return self._feed.known("volume")

    def last(self, field: str = "close") -> float:
        return self._feed.last(field)

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame copy of the known bars (convenient, not for the hot path)."""
        f = self._feed
        data = {k: f.known(k) for k in ("open", "high", "low", "close", "volume")}
        idx = pd.to_datetime(f.known("ts"), utc=True)
        return pd.DataFrame(data, index=idx)


class Source:
    """A column of another feed, for indicators that combine instruments (e.g. a spread)."""

    __slots__ = ("field", "instrument", "timeframe")

    def __init__(self, instrument: str, field: str = "close", timeframe: str | None = None) -> None:
        self.instrument = instrument
        self.field = field
        self.timeframe = timeframe


class Strategy(Parameterized):
    """Base class for event-driven strategies. Subclass it; override the ``on_*`` you need."""

    name: ClassVar[str] = "strategy"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._engine: TradingEngine | None = None
        self._primary = ""
        # how each indicator was made, so a live feed's new bars can extend it
        self._recipes: list[
            tuple[Any, tuple[Any, ...], dict[str, Any], Feed, tuple[Indicator, ...]]
        ] = []

    # --- lifecycle (override what you need) ---------------------------------------------------

    def on_start(self) -> None:
        """Called once before the first event: create indicators here."""

    def on_bar(self, bar: Bar) -> None:
        """Called when a bar has closed."""

    def on_quote(self, quote: QuoteTick) -> None:
        """Called on every quote tick of a subscribed instrument."""

    def on_trade(self, trade: TradeTick) -> None:
        """Called on every trade tick of a subscribed instrument."""

    def on_order(self, order: Order) -> None:
        """Called whenever one of this strategy's orders changes."""

    on_order._noop = True  # type: ignore[attr-defined]  # the engine skips un-overridden no-ops

    def on_fill(self, fill: Fill) -> None:
        """Called for every fill of this strategy's orders."""

    on_fill._noop = True  # type: ignore[attr-defined]

    def on_stop(self) -> None:
        """Called once after the last event."""

    # --- wiring -------------------------------------------------------------------------------

    def bind(self, engine: TradingEngine, primary: str) -> None:
        self._engine = engine
        self._primary = primary
        engine.set_listener(self)

    @property
    def engine(self) -> TradingEngine:
        if self._engine is None:
            raise ConfigError(f"strategy {self.name} is not attached to an engine yet")
        return self._engine

    # --- what the strategy can see ------------------------------------------------------------

    @property
    def instrument(self) -> str:
        """The first (primary) instrument."""
        return self._primary

    @property
    def instruments(self) -> list[str]:
        return list(self.engine.instruments)

    @property
    def time(self) -> int:
        """Current time, nanoseconds since the epoch (UTC)."""
        return self.engine.clock.now()

    @property
    def now(self) -> pd.Timestamp:
        return pd.Timestamp(self.engine.clock.now(), tz="UTC")

    def position(self, instrument: str | None = None) -> float:
        """Net quantity held (negative when short)."""
        return self.engine.portfolio.qty[instrument or self._primary]

    @property
    def equity(self) -> float:
        return self.engine.portfolio.equity()

    @property
    def cash(self) -> float:
        return self.engine.portfolio.cash()

    def price(self, instrument: str | None = None) -> float:
        """Last known price of an instrument."""
        return self.engine.mark(instrument or self._primary)

    def history(self, instrument: str | None = None, timeframe: str | None = None) -> History:
        return History(self.engine.feed(instrument or self._primary, timeframe))

    def source(
        self, field: str = "close", instrument: str | None = None, timeframe: str | None = None
    ) -> Source:
        """A column of another instrument, for ``indicator`` arguments."""
        return Source(instrument or self._primary, field, timeframe)

    def indicator(
        self,
        func: Callable[..., Any],
        *args: Any,
        instrument: str | None = None,
        timeframe: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Register a vectorized indicator; returns an ``Indicator`` (or a tuple for several
        outputs). String arguments ``"open"``…``"volume"`` mean that column of the feed."""
        feed = self.engine.feed(instrument or self._primary, timeframe)
        label = name or str(getattr(func, "__name__", "indicator"))
        resolved = tuple(self._resolve(a, feed) for a in args)
        kw = {k: self._resolve(v, feed) for k, v in kwargs.items()}
        outs = precompute(func, resolved, kw, feed, label)
        inds = tuple(
            Indicator(label if len(outs) == 1 else f"{label}[{i}]", arr, feed)
            for i, arr in enumerate(outs)
        )
        self._recipes.append((func, resolved, kw, feed, inds))
        return inds[0] if len(inds) == 1 else inds

    def extend_indicators(self, feed: Feed) -> None:
        """Recompute the indicators of ``feed`` after a bar was appended to it (live trading).
        The functions were proven causal when registered, so the old values stay the same."""
        for func, args, kw, f, inds in self._recipes:
            if f is feed:
                for ind, arr in zip(inds, recompute(func, args, kw, feed), strict=True):
                    ind.replace(arr)
        for *_, inds in self._recipes:  # cached crossings may pair with a replaced series
            for ind in inds:
                ind.forget_crosses()

    def _resolve(self, arg: Any, feed: Feed) -> Any:
        if isinstance(arg, Source):
            other = self.engine.feed(arg.instrument, arg.timeframe)
            if not np.array_equal(other.arrays["ts"], feed.arrays["ts"]):
                raise ConfigError(
                    f"{arg.instrument} and {feed.instrument} bars have different timestamps; "
                    "an indicator can only combine aligned series"
                )
            return arg.field if other is feed else AlignedArray(other.arrays[arg.field])
        return arg

    def open_orders(self, instrument: str | None = None) -> list[Order]:
        return self.engine.oms.open_orders(instrument)

    # --- order helpers ------------------------------------------------------------------------

    def buy(self, quantity: float | None = None, **kw: Any) -> Order | None:
        """Buy ``quantity`` (None: all available cash). ``price=`` makes it a limit, ``stop=`` a
        stop, both a stop-limit, ``trail=``/``trail_percent=`` a trailing stop."""
        if quantity is None and not kw:
            pf = self.engine.portfolio
            sym = self._primary
            if not pf.account.is_margin and pf.qty[sym] >= 0:
                # all-in market buy in a cash account (the built-ins' sizing): spend the cash
                cash = pf.account.balances.get(self.engine.instruments[sym].quote, 0.0)
                if cash <= 0:
                    return None
                return self.engine.submit(
                    Order(sym, _BUY, 0.0, quote_quantity=cash, client_order_id=self._new_id())
                )
        return self._order(_BUY, quantity, **kw)

    def sell(self, quantity: float | None = None, **kw: Any) -> Order | None:
        """Sell ``quantity`` (None: the whole long, or all-in short in a margin account)."""
        return self._order(_SELL, quantity, **kw)

    def close(self, instrument: str | None = None) -> Order | None:
        """Close the position with a reduce-only market order (None if flat)."""
        sym = instrument or self._primary
        q = self.engine.portfolio.qty[sym]
        if not q:
            return None
        side = _SELL if q > 0 else _BUY
        return self._submit(
            Order(sym, side, abs(q), reduce_only=True, client_order_id=self._new_id())
        )

    def target_quantity(self, quantity: float, instrument: str | None = None) -> Order | None:
        """Trade the difference between the position and ``quantity`` at market."""
        sym = instrument or self._primary
        delta = quantity - self.engine.portfolio.qty[sym]
        inst = self.engine.instruments[sym]
        size = inst.round_size(abs(delta))
        if size <= 0:
            return None
        side = _BUY if delta > 0 else _SELL
        return self._submit(Order(sym, side, size, client_order_id=self._new_id()))

    def target_percent(self, fraction: float, instrument: str | None = None) -> Order | None:
        """Hold ``fraction`` of equity in the instrument (negative: short) at the last price.

        In a cash account a buy spends at most the cash left (fees included), so it never fails
        for lack of cash when the next open is higher than the last close.
        """
        sym = instrument or self._primary
        pf = self.engine.portfolio
        inst = self.engine.instruments[sym]
        px = self.price(sym)
        target_value = fraction * pf.equity()
        delta_value = target_value - pf.qty[sym] * px * inst.multiplier
        if delta_value > 0 and not pf.account.is_margin:
            budget = min(delta_value, pf.cash(inst.quote))
            if budget <= 0:
                return None
            return self._submit(
                Order(sym, _BUY, 0.0, quote_quantity=budget, client_order_id=self._new_id())
            )
        return self.target_quantity(target_value / (px * inst.multiplier), sym)

    def bracket(
        self,
        quantity: float,
        *,
        stop_loss: float,
        take_profit: float,
        side: OrderSide | str = _BUY,
        price: float | None = None,
        instrument: str | None = None,
        tif: TimeInForce | str = _GTC,
    ) -> tuple[Order, Order, Order] | None:
        """Entry (market, or limit at ``price``) with a stop-loss and a take-profit that activate
        when it fills and cancel each other (OTO + OCO)."""
        sym = instrument or self._primary
        side = OrderSide(side)
        entry = self._build(side, quantity, sym, price=price, tif=tif)
        if entry is None:
            return None
        inst = self.engine.instruments[sym]
        exit_side = side.opposite
        sl = Order(
            sym,
            exit_side,
            entry.quantity,
            _STOP_MARKET,
            trigger_price=inst.round_price(stop_loss),
            reduce_only=True,
            tag="stop_loss",
            client_order_id=self._new_id(),
        )
        tp = Order(
            sym,
            exit_side,
            entry.quantity,
            _LIMIT,
            price=inst.round_price(take_profit),
            reduce_only=True,
            tag="take_profit",
            client_order_id=self._new_id(),
        )
        for child, other in ((sl, tp), (tp, sl)):
            child.parent_id = entry.client_order_id
            child.contingency = _OCO
            child.linked_ids = (other.client_order_id,)
        entry.contingency = _OTO
        entry.linked_ids = (sl.client_order_id, tp.client_order_id)
        self._submit(entry)
        self._submit(sl)
        self._submit(tp)
        return entry, sl, tp

    def cancel(self, order: Order) -> None:
        self.engine.cancel(order)

    def cancel_all(self, instrument: str | None = None) -> None:
        for order in self.open_orders(instrument):
            self.engine.cancel(order)

    def modify(
        self,
        order: Order,
        *,
        quantity: float | None = None,
        price: float | None = None,
        trigger_price: float | None = None,
    ) -> None:
        inst = self.engine.instruments[order.instrument]
        self.engine.modify(
            order,
            quantity=None if quantity is None else inst.round_size(quantity),
            price=None if price is None else inst.round_price(price),
            trigger_price=None if trigger_price is None else inst.round_price(trigger_price),
        )

    def log(self, message: str) -> None:
        log.info("%s %s: %s", self.now.isoformat(), self.name, message)

    # --- internals ----------------------------------------------------------------------------

    def _order(
        self, side: OrderSide, quantity: float | None, *, instrument: str | None = None, **kw: Any
    ) -> Order | None:
        order = self._build(side, quantity, instrument or self._primary, **kw)
        return None if order is None else self._submit(order)

    def _build(
        self,
        side: OrderSide,
        quantity: float | None,
        sym: str,
        *,
        price: float | None = None,
        stop: float | None = None,
        trail: float | None = None,
        trail_percent: float | None = None,
        tif: TimeInForce | str = _GTC,
        expire: int | None = None,
        reduce_only: bool = False,
        post_only: bool = False,
        tag: str = "",
    ) -> Order | None:
        eng = self.engine
        inst = eng.instruments.get(sym)
        if inst is None:
            raise ConfigError(f"unknown instrument {sym!r}; known: {', '.join(eng.instruments)}")
        pf = eng.portfolio
        quote_qty: float | None = None
        if quantity is None:
            q = pf.qty[sym]
            if side is _SELL and q > 0:
                quantity = q
            elif side is _BUY and q < 0:
                quantity = -q
            elif pf.account.is_margin:
                px = price or stop or self.price(sym)
                power = pf.equity() * pf.account.leverage - pf.notional(sym) if q == 0 else 0.0
                quantity = inst.round_size(max(power, 0.0) / (px * inst.multiplier))
            elif (
                side is _BUY
                and price is None
                and stop is None
                and trail is None
                and (trail_percent is None)
            ):
                quote_qty = pf.cash(inst.quote)
                if quote_qty <= 0:
                    return None
            else:
                px = price or stop or self.price(sym)
                quantity = inst.round_size(max(pf.cash(inst.quote), 0.0) / (px * inst.multiplier))
        else:
            quantity = inst.round_size(quantity)
        if quote_qty is None and not (quantity and quantity > 0):
            return None
        otype = _MARKET
        trailing_type = _PRICE
        offset = None
        if trail is not None or trail_percent is not None:
            otype = _TRAILING_STOP
            offset = trail if trail is not None else trail_percent
            if trail_percent is not None:
                trailing_type = _PERCENT
        elif price is not None and stop is not None:
            otype = _STOP_LIMIT
        elif price is not None:
            otype = _LIMIT
        elif stop is not None:
            otype = _STOP_MARKET
        return Order(
            sym,
            side,
            quantity or 0.0,
            otype,
            price=None if price is None else inst.round_price(price),
            trigger_price=None if stop is None else inst.round_price(stop),
            trailing_offset=offset,
            trailing_offset_type=trailing_type,
            tif=TimeInForce(tif),
            expire_ts=expire,
            reduce_only=reduce_only,
            post_only=post_only,
            quote_quantity=quote_qty,
            tag=tag,
            client_order_id=self._new_id(),
        )

    def _submit(self, order: Order) -> Order:
        return self.engine.submit(order)

    def _new_id(self) -> str:
        """The engine's next client order id (a live node numbers them durably)."""
        return self.engine.next_order_id()

    def on_save(self) -> dict[str, Any]:
        """State a live node stores with each checkpoint and hands to ``on_load`` after a
        restart. Indicators and positions are restored by the node; override this only for
        state of your own (counters, flags). Must be JSON-serialisable."""
        return {}

    def on_load(self, state: dict[str, Any]) -> None:
        """Receive what ``on_save`` returned before the restart (called after ``on_start``)."""
