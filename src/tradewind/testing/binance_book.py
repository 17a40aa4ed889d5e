"""The state behind the Binance stand-in: symbols, books, orders, fills, balances, positions.

Everything here is plain synchronous Python with ``Decimal`` amounts, so the values the HTTP
layer answers are exact decimal strings like Binance's. Each symbol has synthetic resting
liquidity around a settable mid price (``levels`` price levels each side, ``level_step`` apart
as a fraction of the mid, ``depth`` base units each). Incoming orders match against it (market
orders sweep, limit orders fill what crosses and rest the remainder); resting limit orders fill
at their limit price when the mid is moved through them (``set_price``), which is how a test
produces "a fill that happened while nobody was watching".

Rejections raise ``BinanceReject`` with Binance's documented code, message and HTTP status.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any, Literal

Market = Literal["spot", "futures"]
D0 = Decimal(0)
FEE = Decimal("0.001")  # commission rate, maker and taker (Binance's default spot tier)
LEVERAGE = Decimal(20)
MAX_PRICE = Decimal(1_000_000)  # PRICE_FILTER maxPrice
PERPETUAL_DELIVERY = 4133404800000  # what Binance sends as deliveryDate for perpetuals


class BinanceReject(Exception):
    """A request Binance would refuse: ``{"code": code, "msg": msg}`` with HTTP ``status``."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status


def fmt(value: Decimal, places: int = 8) -> str:
    """A decimal as Binance prints it: fixed point with ``places`` decimals."""
    return f"{value.quantize(Decimal(1).scaleb(-places)):f}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class SymbolSpec:
    """One tradable symbol and its filters (strings, as in ``exchangeInfo``)."""

    base: str
    quote: str
    market: Market = "spot"
    tick_size: str = "0.01"
    step_size: str = "0.00001"
    min_qty: str = "0.00001"
    max_qty: str = "9000"
    min_notional: str = "5"
    price: str = "50000"  # initial mid

    @property
    def symbol(self) -> str:
        return self.base + self.quote


@dataclass
class OrderRec:
    """An order as the stand-in keeps it (``Decimal`` amounts, Binance field names on output)."""

    market: Market
    symbol: str
    order_id: int
    client_order_id: str
    side: str  # BUY | SELL
    type: str  # MARKET | LIMIT | LIMIT_MAKER
    tif: str  # GTC | IOC | FOK | GTX
    qty: Decimal
    price: Decimal  # 0 for market orders
    quote_qty: Decimal = D0  # quoteOrderQty for spot market orders
    reduce_only: bool = False
    executed: Decimal = D0
    cum_quote: Decimal = D0
    status: str = "NEW"
    time: int = 0
    update_time: int = 0
    locked: Decimal = D0  # spot: what this order still locks (quote for buys, base for sells)

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    @property
    def leaves(self) -> Decimal:
        return self.qty - self.executed


@dataclass
class TradeRec:
    market: Market
    symbol: str
    trade_id: int
    order_id: int
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    maker: bool
    time: int
    realized_pnl: Decimal = D0


@dataclass
class PositionRec:
    amount: Decimal = D0  # signed
    entry: Decimal = D0
    update_time: int = 0


@dataclass
class Book:
    spec: SymbolSpec
    mid: Decimal
    candles: list[list[Any]] = field(default_factory=list)
    candle_interval: str = "1m"


class BinanceBook:
    """The whole simulated exchange (one account). Thread-safe: every public method locks."""

    def __init__(
        self,
        symbols: list[SymbolSpec],
        balances: dict[str, str] | None = None,
        futures_balance: str = "0",
        *,
        levels: int = 5,
        level_step: str = "0.0001",
        depth: str = "1",
    ) -> None:
        self.lock = threading.RLock()
        self.books: dict[tuple[Market, str], Book] = {
            (s.market, s.symbol): Book(s, Decimal(s.price)) for s in symbols
        }
        self.balances: dict[str, list[Decimal]] = {  # asset -> [free, locked]
            asset: [Decimal(v), D0] for asset, v in (balances or {}).items()
        }
        self.futures_wallet = Decimal(futures_balance)
        self.positions: dict[str, PositionRec] = {}
        self.orders: dict[int, OrderRec] = {}
        self.trades: list[TradeRec] = []
        self.levels = levels
        self.level_step = Decimal(level_step)
        self.depth = Decimal(depth)
        self._order_ids = itertools.count(1001)
        self._trade_ids = itertools.count(5001)

    # -- lookups --------------------------------------------------------------------------------

    def book(self, market: Market, symbol: str | None) -> Book:
        if not symbol:
            raise BinanceReject(
                -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
            )
        found = self.books.get((market, symbol))
        if found is None:
            raise BinanceReject(-1121, "Invalid symbol.")
        return found

    def find_order(
        self, market: Market, symbol: str, order_id: str | None, client_id: str | None
    ) -> OrderRec | None:
        with self.lock:
            if order_id is not None:
                rec = self.orders.get(int(order_id))
                return rec if rec and rec.market == market and rec.symbol == symbol else None
            matches = [
                o
                for o in self.orders.values()
                if o.market == market and o.symbol == symbol and o.client_order_id == client_id
            ]
            open_ = [o for o in matches if o.is_open]
            if open_:
                return open_[-1]
            return matches[-1] if matches else None

    # -- the synthetic book ----------------------------------------------------------------------

    def asks(self, book: Book) -> list[tuple[Decimal, Decimal]]:
        tick = Decimal(book.spec.tick_size)
        out = []
        for i in range(1, self.levels + 1):
            px = (book.mid * (1 + self.level_step * i) / tick).to_integral_value(ROUND_UP) * tick
            out.append((px, self.depth))
        return out

    def bids(self, book: Book) -> list[tuple[Decimal, Decimal]]:
        tick = Decimal(book.spec.tick_size)
        out = []
        for i in range(1, self.levels + 1):
            px = (book.mid * (1 - self.level_step * i) / tick).to_integral_value(ROUND_DOWN) * tick
            out.append((px, self.depth))
        return out

    def depth_snapshot(self, market: Market, symbol: str, limit: int) -> dict[str, Any]:
        with self.lock:
            book = self.book(market, symbol)
            return {
                "lastUpdateId": now_ms(),
                "bids": [[fmt(p), fmt(q)] for p, q in self.bids(book)[:limit]],
                "asks": [[fmt(p), fmt(q)] for p, q in self.asks(book)[:limit]],
            }

    # -- placing orders ----------------------------------------------------------------------------

    def place(self, market: Market, params: dict[str, str]) -> tuple[OrderRec, list[TradeRec]]:
        """Validate, match and book one order; the fills it made right away come back too."""
        with self.lock:
            book = self.book(market, params.get("symbol"))
            spec = book.spec
            side = params.get("side", "")
            otype = params.get("type", "")
            if side not in ("BUY", "SELL"):
                raise BinanceReject(
                    -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed."
                )
            allowed = (
                ("MARKET", "LIMIT", "LIMIT_MAKER") if market == "spot" else ("MARKET", "LIMIT")
            )
            if otype not in allowed:
                raise BinanceReject(-1116, "Invalid orderType.")
            client_id = params.get("newClientOrderId") or f"standin-{next(self._order_ids)}"
            if any(
                o.is_open and o.client_order_id == client_id and o.symbol == spec.symbol
                for o in self.orders.values()
                if o.market == market
            ):
                if market == "spot":
                    raise BinanceReject(-2010, "Duplicate order sent.")
                raise BinanceReject(-4015, "Client order id is not valid.")
            tif = params.get("timeInForce", "GTC" if otype != "MARKET" else "")
            if otype == "LIMIT" and not params.get("timeInForce"):
                raise BinanceReject(
                    -1102,
                    "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
                )
            qty = Decimal(params.get("quantity") or "0")
            quote_qty = Decimal(params.get("quoteOrderQty") or "0")
            price = Decimal(params.get("price") or "0")
            self._check_filters(book, otype, qty, quote_qty, price)
            ts = now_ms()
            rec = OrderRec(
                market=market,
                symbol=spec.symbol,
                order_id=next(self._order_ids),
                client_order_id=client_id,
                side=side,
                type=otype,
                tif=tif,
                qty=qty,
                price=price,
                quote_qty=quote_qty,
                reduce_only=params.get("reduceOnly", "false").lower() == "true",
                time=ts,
                update_time=ts,
            )
            if otype == "LIMIT_MAKER" or tif == "GTX":
                crosses = (side == "BUY" and price >= self.asks(book)[0][0]) or (
                    side == "SELL" and price <= self.bids(book)[0][0]
                )
                if crosses and market == "spot":
                    raise BinanceReject(-2010, "Order would immediately match and take.")
                if crosses:  # futures GTX: accepted, then expired
                    rec.status = "EXPIRED"
                    self.orders[rec.order_id] = rec
                    return rec, []
            fills = self._plan(book, rec)
            if market == "spot":
                self._reserve_spot(spec, rec, fills)
            else:
                self._check_futures(spec, rec, fills)
            self.orders[rec.order_id] = rec
            trades = [self._fill(book, rec, px, q, maker=False) for px, q in fills]
            if rec.leaves > 0 and rec.is_open and (otype == "MARKET" or tif in ("IOC", "FOK")):
                self._close(rec, "EXPIRED")
            return rec, trades

    def _check_filters(
        self, book: Book, otype: str, qty: Decimal, quote_qty: Decimal, price: Decimal
    ) -> None:
        spec = book.spec
        if otype != "MARKET" or price:
            tick = Decimal(spec.tick_size)
            if price < tick or price > MAX_PRICE or price % tick != 0:
                raise BinanceReject(-1013, "Filter failure: PRICE_FILTER")
        if quote_qty and otype == "MARKET":
            notional = quote_qty
        else:
            step = Decimal(spec.step_size)
            if qty < Decimal(spec.min_qty) or qty > Decimal(spec.max_qty) or qty % step != 0:
                raise BinanceReject(-1013, "Filter failure: LOT_SIZE")
            notional = qty * (price if otype != "MARKET" else book.mid)
        if notional < Decimal(spec.min_notional):
            if spec.market == "futures":
                raise BinanceReject(
                    -4164,
                    f"Order's notional must be no smaller than {spec.min_notional} "
                    "(unless you choose reduce only).",
                )
            raise BinanceReject(-1013, "Filter failure: NOTIONAL")

    def _plan(self, book: Book, rec: OrderRec) -> list[tuple[Decimal, Decimal]]:
        """The (price, qty) fills ``rec`` gets against the synthetic book right now."""
        levels = self.asks(book) if rec.side == "BUY" else self.bids(book)
        step = Decimal(book.spec.step_size)
        fills: list[tuple[Decimal, Decimal]] = []
        left = rec.qty
        budget = rec.quote_qty  # spot market order by quote amount
        for px, avail in levels:
            if rec.type != "MARKET" and (
                (rec.side == "BUY" and px > rec.price) or (rec.side == "SELL" and px < rec.price)
            ):
                break
            if budget:
                q = min(avail, (budget / px / step).to_integral_value(ROUND_DOWN) * step)
                budget -= q * px
            else:
                q = min(avail, left)
                left -= q
            if q > 0:
                fills.append((px, q))
            if (not budget and left <= 0) or (rec.quote_qty and budget < px * step):
                break
        if rec.quote_qty:
            rec.qty = sum((q for _, q in fills), D0)
        if rec.tif == "FOK" and sum((q for _, q in fills), D0) < rec.qty:
            return []
        return fills

    # -- balances and margin ---------------------------------------------------------------------

    def _bal(self, asset: str) -> list[Decimal]:
        return self.balances.setdefault(asset, [D0, D0])

    def _reserve_spot(
        self, spec: SymbolSpec, rec: OrderRec, fills: list[tuple[Decimal, Decimal]]
    ) -> None:
        if rec.side == "BUY":
            cost = sum((p * q for p, q in fills), D0)
            need = cost if rec.type == "MARKET" else rec.price * rec.qty
            asset = spec.quote
        else:
            need = rec.qty
            asset = spec.base
        bal = self._bal(asset)
        if max(need, rec.quote_qty if rec.side == "BUY" else D0) > bal[0]:
            raise BinanceReject(-2010, "Account has insufficient balance for requested action.")
        bal[0] -= need
        bal[1] += need
        rec.locked = need

    def _check_futures(
        self, spec: SymbolSpec, rec: OrderRec, fills: list[tuple[Decimal, Decimal]]
    ) -> None:
        pos = self.positions.get(spec.symbol, PositionRec())
        signed = rec.qty if rec.side == "BUY" else -rec.qty
        if rec.reduce_only and (
            pos.amount == 0 or (pos.amount > 0) == (signed > 0) or abs(signed) > abs(pos.amount)
        ):
            raise BinanceReject(-2022, "ReduceOnly Order is rejected.")
        new_amount = pos.amount + signed
        px = rec.price if rec.type != "MARKET" else self.books[("futures", spec.symbol)].mid
        added = max(D0, abs(new_amount) - abs(pos.amount))
        need = added * px / LEVERAGE
        if need > self._futures_available():
            raise BinanceReject(-2019, "Margin is insufficient.")

    def _futures_available(self) -> Decimal:
        used = D0
        for pos in self.positions.values():
            used += abs(pos.amount) * pos.entry / LEVERAGE
        for o in self.orders.values():
            if o.market == "futures" and o.is_open and not o.reduce_only:
                used += o.leaves * o.price / LEVERAGE
        return self.futures_wallet + self._unrealized() - used

    def _unrealized(self) -> Decimal:
        total = D0
        for sym, pos in self.positions.items():
            mark = self.books[("futures", sym)].mid
            total += (mark - pos.entry) * pos.amount
        return total

    # -- fills -----------------------------------------------------------------------------------

    def _fill(self, book: Book, rec: OrderRec, px: Decimal, q: Decimal, *, maker: bool) -> TradeRec:
        spec = book.spec
        ts = now_ms()
        realized = D0
        if rec.market == "spot":
            base, quote = self._bal(spec.base), self._bal(spec.quote)
            if rec.side == "BUY":
                pay = px * q
                from_lock = min(rec.locked, (rec.price if rec.type != "MARKET" else px) * q)
                quote[1] -= from_lock
                rec.locked -= from_lock
                quote[0] -= pay - from_lock
                commission, asset = q * FEE, spec.base
                base[0] += q - commission
            else:
                base[1] -= q
                rec.locked -= q
                commission, asset = px * q * FEE, spec.quote
                quote[0] += px * q - commission
        else:
            pos = self.positions.setdefault(spec.symbol, PositionRec())
            signed = q if rec.side == "BUY" else -q
            if pos.amount == 0 or (pos.amount > 0) == (signed > 0):
                total = pos.amount + signed
                pos.entry = (pos.entry * abs(pos.amount) + px * q) / abs(total)
                pos.amount = total
            else:
                closing = min(q, abs(pos.amount))
                realized = (px - pos.entry) * closing * (1 if pos.amount > 0 else -1)
                pos.amount += signed
                if pos.amount == 0:
                    pos.entry = D0
                elif (pos.amount > 0) == (signed > 0):  # flipped through zero
                    pos.entry = px
            pos.update_time = ts
            commission, asset = px * q * FEE, spec.quote
            self.futures_wallet += realized - commission
        commission = commission.quantize(Decimal("0.00000001"))
        rec.executed += q
        rec.cum_quote += px * q
        rec.update_time = ts
        rec.status = "FILLED" if rec.executed >= rec.qty else "PARTIALLY_FILLED"
        if rec.status == "FILLED":
            self._release(rec)
        trade = TradeRec(
            market=rec.market,
            symbol=spec.symbol,
            trade_id=next(self._trade_ids),
            order_id=rec.order_id,
            side=rec.side,
            price=px,
            qty=q,
            commission=commission,
            commission_asset=asset,
            maker=maker,
            time=ts,
            realized_pnl=realized,
        )
        self.trades.append(trade)
        return trade

    def _release(self, rec: OrderRec) -> None:
        """Give back what a closed spot order still locks."""
        if rec.market != "spot" or not rec.locked:
            return
        book = self.books[(rec.market, rec.symbol)]
        bal = self._bal(book.spec.quote if rec.side == "BUY" else book.spec.base)
        bal[1] -= rec.locked
        bal[0] += rec.locked
        rec.locked = D0

    def _close(self, rec: OrderRec, status: str) -> None:
        rec.status = status
        rec.update_time = now_ms()
        self._release(rec)

    def cancel(
        self, market: Market, symbol: str, order_id: str | None, client_id: str | None
    ) -> OrderRec:
        with self.lock:
            self.book(market, symbol)
            rec = self.find_order(market, symbol, order_id, client_id)
            if rec is None or not rec.is_open:
                raise BinanceReject(-2011, "Unknown order sent.")
            self._close(rec, "CANCELED")
            return rec

    # -- moving the market -----------------------------------------------------------------------

    def set_price(
        self, symbol: str, price: str | Decimal, market: Market = "spot"
    ) -> list[TradeRec]:
        """Move the mid; resting limit orders the new mid crosses fill (fully) at their price."""
        with self.lock:
            book = self.book(market, symbol)
            book.mid = Decimal(price)
            fills = []
            for rec in list(self.orders.values()):
                if rec.market != market or rec.symbol != symbol or not rec.is_open:
                    continue
                if (rec.side == "BUY" and book.mid <= rec.price) or (
                    rec.side == "SELL" and book.mid >= rec.price
                ):
                    fills.append(self._fill(book, rec, rec.price, rec.leaves, maker=True))
            return fills

    def set_candles(
        self, symbol: str, candles: list[list[Any]], interval: str = "1m", market: Market = "spot"
    ) -> None:
        """Replace the klines: rows ``[open_ms, open, high, low, close, volume]``."""
        with self.lock:
            book = self.book(market, symbol)
            book.candles = [list(c) for c in candles]
            book.candle_interval = interval

    def add_candle(self, symbol: str, candle: list[Any], market: Market = "spot") -> None:
        """Append a kline, or replace the newest one when it has the same open time."""
        with self.lock:
            book = self.book(market, symbol)
            if book.candles and book.candles[-1][0] == candle[0]:
                book.candles[-1] = list(candle)
            else:
                book.candles.append(list(candle))

    # -- read-outs -------------------------------------------------------------------------------

    def klines(self, market: Market, params: dict[str, str], interval_ms: int) -> list[list[Any]]:
        with self.lock:
            book = self.book(market, params.get("symbol"))
            if params.get("interval") != book.candle_interval:
                return []
            start = int(params.get("startTime") or 0)
            end = int(params.get("endTime") or 2**62)
            limit = min(int(params.get("limit") or 500), 1000)
            rows = [c for c in book.candles if start <= c[0] <= end][:limit]
            return [
                [
                    c[0],
                    f"{Decimal(str(c[1])):f}",
                    f"{Decimal(str(c[2])):f}",
                    f"{Decimal(str(c[3])):f}",
                    f"{Decimal(str(c[4])):f}",
                    f"{Decimal(str(c[5])):f}",
                    c[0] + interval_ms - 1,
                    "0",
                    1,
                    "0",
                    "0",
                    "0",
                ]
                for c in rows
            ]

    def position(self, symbol: str) -> PositionRec:
        with self.lock:
            return self.positions.get(symbol, PositionRec())

    def free(self, asset: str) -> Decimal:
        with self.lock:
            return self._bal(asset)[0]

    def locked(self, asset: str) -> Decimal:
        with self.lock:
            return self._bal(asset)[1]
