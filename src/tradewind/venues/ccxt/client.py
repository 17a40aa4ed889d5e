"""``CcxtVenue``: a centralized exchange through async ccxt, implementing ``VenueClient``.

One instance trades one market type (``spot`` or ``swap`` = linear perpetuals) of one exchange.
Requests go through ``_call``: rate limits (ccxt ``RateLimitExceeded`` / ``DDoSProtection``,
HTTP 429/418) wait the answer's ``Retry-After`` (else exponential backoff) and become
``VenueRateLimited`` after ``max_retries`` or when the venue asks for a wait longer than
``backoff_cap`` (an IP ban); network failures are retried the same way for reads and become
``VenueUnavailable``; every other ccxt error maps through ``errors.map_error`` at once.

Submitting never duplicates an order: every order carries its client order id; when the answer
to a submit is lost (timeout, dropped connection, 5xx) the client order id is looked up — found:
that is the answer; the venue says it never got it: ``OrderStateUnknown`` (the node keeps the
order SUBMITTED and looks it up again later; a request still in flight could otherwise be
matched *after* a resend — Binance refuses a duplicate client order id only while the first
order is open). ``submit_attempts`` > 1 opts into resending with the *same* client order id.
A second ``submit`` of a client order id this instance already sent, and Binance's "Duplicate
order sent." for an open one, are answered by a lookup instead of a new order.

Reports: ``connect`` starts a task that polls open orders and ``fetch_my_trades`` every
``poll_interval`` seconds for each symbol the venue has seen (``instruments``, ``submit``,
``lookup``) and reports order changes and each fill once (deduplicated by the venue's trade
id). ``bars`` yields closed candles only, from ccxt.pro ``watch_ohlcv`` streams when the
exchange has them (REST ``fetch_ohlcv`` back-fills gaps and disconnects), else by polling.

Secrets: the API key and secret are only given to ccxt; ``repr``, error messages and every log
record (ccxt's own wire logs go through a redacting logger) never contain them or a signature.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from tradewind.errors import (
    ConfigError,
    InvalidOrder,
    OrderStateUnknown,
    VenueError,
    VenueRateLimited,
    VenueUnavailable,
)
from tradewind.model.data import Bar
from tradewind.model.instrument import Instrument
from tradewind.model.order import Order
from tradewind.venues.base import (
    VenueBalance,
    VenueFill,
    VenueOrder,
    VenuePosition,
    VenueReports,
)
from tradewind.venues.ccxt import markets as mk
from tradewind.venues.ccxt.errors import (
    RedactingFilter,
    is_rate_limit,
    is_uncertain,
    map_error,
    reason,
    redact,
)

T = TypeVar("T")
log = logging.getLogger(__name__)
NS = mk.NS_PER_MS
MARKET_TYPES = ("spot", "swap")
API_KEY_ENV = "TRADEWIND_CCXT_API_KEY"
SECRET_ENV = "TRADEWIND_CCXT_SECRET"


class CcxtVenue:
    """A ccxt exchange (``exchange`` = ccxt id, e.g. ``binance``) for one market type."""

    def __init__(
        self,
        exchange: str,
        *,
        market: str = "spot",
        api_key: str = "",
        secret: str = "",
        urls: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        poll_interval: float = 1.0,
        report_task: bool = True,
        timeout: float = 10.0,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        submit_attempts: int = 1,
        stale_bars: float = 3.0,
        websocket: bool = True,
        rate_limit_ms: float | None = None,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        """``urls`` replace entries of ccxt's ``urls['api']`` (a mirror or a local stand-in);
        ``options`` are extra ccxt exchange options; ``timeout`` is per request in seconds;
        ``rate_limit_ms`` overrides ccxt's request spacing (its ``rateLimit``, per unit of
        request weight; default: the exchange's documented limit); ``websocket``: candles
        from ccxt.pro streams where the exchange has them (with ``urls`` given, only when they
        include a ``ws`` entry)."""
        if exchange not in ccxt_async.exchanges:
            raise ConfigError(
                f"ccxt venue: unknown exchange {exchange!r} (ccxt {ccxt.__version__}; e.g. "
                "binance, bybit, okx, kraken, coinbase)"
            )
        if market not in MARKET_TYPES:
            raise ConfigError(
                f"ccxt venue {exchange}: market must be one of {MARKET_TYPES}, got {market!r}"
            )
        self.name = exchange
        self.market_type = market
        self.poll_interval = poll_interval
        self.report_task = report_task  # False: the caller polls (``poll_reports``) itself
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.submit_attempts = max(1, submit_attempts)
        self.stale_bars = stale_bars
        self._urls = dict(urls or {})
        # with overridden (e.g. local) REST URLs, stream only from an overridden stream URL too
        self.websocket = websocket and (not self._urls or "ws" in self._urls)
        self._ws: Any = None  # ccxt.pro instance for candle streams, made on first use
        self.waits: list[float] = []  # every retry wait, in seconds (for reports and tests)
        self._now_ns = now_ns
        self._secrets = tuple(s for s in (api_key, secret) if s)
        self._wire_log = logging.getLogger(f"tradewind.venues.ccxt.wire.{exchange}")
        self._filter = RedactingFilter(self._secrets)
        self._wire_log.addFilter(self._filter)
        self.exchange: Any = getattr(ccxt_async, exchange)(
            {
                "apiKey": api_key,
                "secret": secret,
                "timeout": int(timeout * 1000),
                "enableRateLimit": True,
                **({"rateLimit": rate_limit_ms} if rate_limit_ms is not None else {}),
                "logger": self._wire_log,
                "options": {**_default_options(exchange, market), **dict(options or {})},
            }
        )
        if urls:
            _override_urls(self.exchange, urls, market)
        self._reports: VenueReports | None = None
        self._task: asyncio.Task[None] | None = None
        self._symbols: set[str] = set()
        self._sent: set[str] = set()  # client order ids this instance has sent
        self._client_ids: dict[str, str] = {}  # venue order id -> client order id
        self._known: dict[str, VenueOrder] = {}  # client order id -> last reported state
        self._seen_fills: dict[str, int] = {}  # fill id -> ms, the fills at/after the cursors
        self._fill_cursor: dict[str, int] = {}  # symbol -> ms of the newest fill seen

    @classmethod
    def from_env(
        cls,
        exchange: str,
        *,
        api_key_env: str = API_KEY_ENV,
        secret_env: str = SECRET_ENV,
        **kw: Any,
    ) -> CcxtVenue:
        """Credentials from the environment (``TRADEWIND_CCXT_API_KEY`` / ``_SECRET``)."""
        return cls(
            exchange,
            api_key=os.environ.get(api_key_env, ""),
            secret=os.environ.get(secret_env, ""),
            **kw,
        )

    def __repr__(self) -> str:
        return f"CcxtVenue({self.name!r}, market={self.market_type!r})"

    # -- lifecycle --------------------------------------------------------------------------------

    async def connect(self, reports: VenueReports) -> None:
        await self._markets()
        self._reports = reports
        start_ms = self._now_ns() // NS
        for symbol in self._symbols:
            self._fill_cursor.setdefault(symbol, start_ms)
        if self._task is None and self.report_task:
            self._task = asyncio.create_task(self._poll_forever(), name=f"{self.name}-reports")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
        await self.exchange.close()
        self._wire_log.removeFilter(self._filter)

    # -- markets ----------------------------------------------------------------------------------

    async def _markets(self) -> dict[str, Any]:
        markets: dict[str, Any] = await self._call("load_markets", self.exchange.load_markets)
        return markets

    async def _market(self, symbol: str) -> dict[str, Any]:
        markets = await self._markets()
        market = markets.get(symbol)
        if market is None or market.get("type") != self.market_type:
            same = sorted(s for s, m in markets.items() if m.get("type") == self.market_type)
            raise InvalidOrder(
                f"{self.name}: unknown {self.market_type} symbol {symbol!r}; some that exist: "
                f"{', '.join(same[:8]) or '(none)'}"
            )
        self._watch(symbol)
        return dict(market)

    def _watch(self, symbol: str) -> None:
        if symbol not in self._symbols:
            self._symbols.add(symbol)
            if self._reports is not None:
                self._fill_cursor.setdefault(symbol, self._now_ns() // NS)

    async def instruments(self, symbols: Sequence[str]) -> dict[str, Instrument]:
        out = {}
        for symbol in symbols:
            market = await self._market(symbol)
            out[symbol] = mk.instrument(market, self.name, self.exchange.precisionMode)
        return out

    # -- orders -----------------------------------------------------------------------------------

    async def submit(self, order: Order) -> VenueOrder:
        market = await self._market(order.instrument)
        cid = order.client_order_id
        if cid in self._sent:  # sent before by this instance: never a second order
            found = await self.lookup(cid, order.instrument)
            if found is not None:
                return found
        what = f"submit {order.type.value} {order.side.value} {order.instrument} (order {cid})"
        try:  # rounding to the market's precision can refuse the order before anything is sent
            kind, side, amount, price, params = mk.order_args(order, market, self.exchange)
        except ccxt.BaseError as exc:
            raise map_error(exc, venue=self.name, request=what, secrets=self._secrets) from None
        what = f"submit {order.type.value} {side} {amount} {order.instrument} (order {cid})"
        for attempt in range(self.submit_attempts):
            self._sent.add(cid)
            try:
                raw = await self._call(
                    what,
                    lambda: self.exchange.create_order(
                        order.instrument, kind, side, amount, price, dict(params)
                    ),
                    retry_network=False,
                )
            except _Uncertain as unc:
                log.warning(
                    "%s: %s: answer lost (%s); looking the client order id up",
                    self.name,
                    what,
                    unc.reason,
                )
                found = await self._settle(cid, order.instrument)
                if found is not None:
                    return self._track(found)
                if attempt + 1 < self.submit_attempts:
                    log.warning("%s: %s never arrived; resending with the same id", self.name, what)
                continue
            except InvalidOrder as exc:
                if "Duplicate order" in str(exc):
                    found = await self.lookup(cid, order.instrument)
                    if found is not None:
                        return found
                raise
            return self._track(mk.venue_order(raw, cid))
        raise OrderStateUnknown(
            f"{self.name}: {what}: no answer after {self.submit_attempts} attempt(s) and the "
            "client order id lookup did not settle it; keep the order SUBMITTED and reconcile"
        )

    async def _settle(self, cid: str, symbol: str) -> VenueOrder | None:
        """``lookup`` for an uncertain submit; ``None`` = the venue does not have it."""
        try:
            return await self.lookup(cid, symbol)
        except (VenueUnavailable, VenueRateLimited) as exc:
            raise OrderStateUnknown(
                f"{self.name}: order {cid} on {symbol}: the submit's answer was lost and the "
                f"lookup failed too ({exc}); reconcile before sending it again"
            ) from None

    def _track(self, order: VenueOrder) -> VenueOrder:
        """Remember a submitted order's state, so polls report only later changes."""
        self._known.setdefault(order.client_order_id, order)
        return self._remember(order)

    def _remember(self, order: VenueOrder) -> VenueOrder:
        if order.venue_order_id:
            self._client_ids[order.venue_order_id] = order.client_order_id
        return order

    async def cancel(self, order: Order) -> VenueOrder | None:
        await self._market(order.instrument)
        cid = order.client_order_id
        params: dict[str, Any] = {"clientOrderId": cid}
        try:
            raw = await self._call(
                f"cancel order {cid} on {order.instrument}",
                lambda: self.exchange.cancel_order(
                    order.venue_order_id or "", order.instrument, dict(params)
                ),
                not_found_ok=True,
            )
        except _NotFound:
            return None
        return self._remember(mk.venue_order(raw, cid))

    async def lookup(self, client_order_id: str, symbol: str) -> VenueOrder | None:
        await self._market(symbol)
        try:
            raw = await self._call(
                f"lookup order {client_order_id} on {symbol}",
                lambda: self.exchange.fetch_order("", symbol, {"clientOrderId": client_order_id}),
                not_found_ok=True,
            )
        except _NotFound:
            return None
        return self._remember(mk.venue_order(raw, client_order_id))

    async def open_orders(self, symbols: Sequence[str]) -> list[VenueOrder]:
        out: list[VenueOrder] = []
        for symbol in symbols:
            await self._market(symbol)
            rows = await self._call(
                f"fetch open orders {symbol}",
                functools.partial(self.exchange.fetch_open_orders, symbol),
            )
            out.extend(self._remember(mk.venue_order(r)) for r in rows)
        return out

    async def fills(self, symbols: Sequence[str], since_ns: int) -> list[VenueFill]:
        out: list[VenueFill] = []
        for symbol in symbols:
            out.extend(await self._fills(symbol, since_ns // NS))
        out.sort(key=lambda f: (f.ts, f.fill_id))
        return out

    async def _fills(self, symbol: str, since_ms: int) -> list[VenueFill]:
        await self._market(symbol)
        out: list[VenueFill] = []
        seen: set[str] = set()
        limit = 1000
        while True:
            rows = await self._call(
                f"fetch fills {symbol}",
                functools.partial(self.exchange.fetch_my_trades, symbol, since_ms, limit),
            )
            fresh = [r for r in rows if str(r.get("id")) not in seen]
            for row in fresh:
                seen.add(str(row.get("id")))
                cid = await self._client_id(symbol, str(row.get("order") or ""))
                out.append(mk.venue_fill(row, cid))
            if len(rows) < limit or not fresh:
                out.sort(key=lambda f: (f.ts, f.fill_id))
                return out
            since_ms = max(int(r.get("timestamp") or 0) for r in rows)

    async def _client_id(self, symbol: str, venue_order_id: str) -> str:
        """The client order id of a venue order id (cached; else one ``fetch_order``)."""
        if not venue_order_id:
            return ""
        cid = self._client_ids.get(venue_order_id)
        if cid is None:
            try:
                raw = await self._call(
                    f"fetch order {venue_order_id} on {symbol}",
                    lambda: self.exchange.fetch_order(venue_order_id, symbol),
                    not_found_ok=True,
                )
            except _NotFound:
                return ""
            cid = str(raw.get("clientOrderId") or "")
            self._client_ids[venue_order_id] = cid
        return cid

    async def balances(self) -> list[VenueBalance]:
        raw = await self._call("fetch balances", self.exchange.fetch_balance)
        totals: Mapping[str, Any] = raw.get("total") or {}
        frees: Mapping[str, Any] = raw.get("free") or {}
        return [
            VenueBalance(currency=c, total=float(v), free=float(frees.get(c) or 0.0))
            for c, v in sorted(totals.items())
            if v is not None
        ]

    async def positions(self, symbols: Sequence[str]) -> list[VenuePosition]:
        if self.market_type == "spot":
            return []
        for symbol in symbols:
            await self._market(symbol)
        wanted = list(symbols)
        rows = await self._call(
            "fetch positions", lambda: self.exchange.fetch_positions(wanted or None)
        )
        out = []
        for row in rows:
            contracts = float(row.get("contracts") or 0.0)
            if not contracts:
                continue
            size = contracts * float(row.get("contractSize") or 1.0)
            sign = -1.0 if row.get("side") == "short" else 1.0
            out.append(
                VenuePosition(
                    instrument=str(row.get("symbol")),
                    quantity=sign * size,
                    avg_price=float(row.get("entryPrice") or 0.0),
                )
            )
        return out

    # -- market data ----------------------------------------------------------------------------

    def bars(self, symbol: str, timeframe: str, since_ns: int | None = None) -> AsyncIterator[Bar]:
        """Closed candles of ``symbol``, oldest first: from ``since_ns`` (back-filled over
        REST) or from the bar forming now.

        A candle is yielded once a newer one has started or its end time has passed. Updates
        come from ``watch_ohlcv`` (ccxt.pro) when the exchange has it and ``websocket`` is on,
        else from polling ``fetch_ohlcv`` every ``poll_interval``. REST back-fills whatever the
        stream did not deliver in sequence: at the start, after a disconnect (the next watch
        reconnects and resubscribes) and when a bar's end passed without a newer candle.
        Errors are logged and retried; no update for ``stale_bars`` timeframes logs a warning
        and reopens the connection."""
        return self._bars(symbol, timeframe, since_ns)

    async def _bars(self, symbol: str, timeframe: str, since_ns: int | None) -> AsyncIterator[Bar]:
        await self._market(symbol)
        if timeframe not in (self.exchange.timeframes or {}):
            raise ConfigError(
                f"{self.name}: timeframe {timeframe!r} not offered (offered: "
                f"{', '.join(self.exchange.timeframes or {})})"
            )
        tf_ms = int(self.exchange.parse_timeframe(timeframe)) * 1000
        now_ms = self._now_ns() // NS
        if since_ns is not None:  # back-fill from the first bar opening at or after since_ns
            last = -(-since_ns // NS // tf_ms) * tf_ms - tf_ms
        else:  # start with the bar forming now
            last = now_ms - now_ms % tf_ms - tf_ms
        progress_ms = now_ms  # when something new last arrived (staleness)
        grace_ms = min(tf_ms // 4, 5_000) if self.websocket else 0
        need_rest = True
        watch: asyncio.Future[list[list[Any]]] | None = None
        try:
            while True:
                now_ms = self._now_ns() // NS
                # REST when asked, or when the bar after `last` ended (streaming: a grace
                # period later, the stream usually brings it first)
                if need_rest or last + 2 * tf_ms + grace_ms <= now_ms:
                    rows, more = await self._rest_candles(symbol, timeframe, last + tf_ms, tf_ms)
                    if rows:
                        progress_ms = now_ms
                    need_rest = more
                    for row in _closed(rows, last, tf_ms, now_ms):
                        last = int(row[0])
                        yield _bar(symbol, timeframe, row)
                    if more:
                        continue
                ws = self._stream_exchange()
                if ws is None:
                    await asyncio.sleep(self.poll_interval)
                else:
                    # the watch runs on in its own task across waits: cancelling a ccxt.pro watch
                    # mid-connect would leave the subscription unsent
                    if watch is None:
                        watch = asyncio.ensure_future(ws.watch_ohlcv(symbol, timeframe))
                    done, _ = await asyncio.wait({watch}, timeout=self.poll_interval)
                    try:
                        if done:
                            watch = None
                            done.pop().result()  # raises what the stream raised
                            progress_ms = now_ms
                    except ccxt.BaseError as exc:
                        log.warning(
                            "%s: candle stream %s %s: %s; reconnecting",
                            self.name,
                            symbol,
                            timeframe,
                            reason(exc, self._secrets, self.name),
                        )
                        need_rest = True
                        await asyncio.sleep(self.poll_interval)
                        continue
                    # ccxt.pro keeps every candle received in ``ohlcvs``; read it whole (a
                    # watch only returns what arrived since the previous one)
                    cached = ((ws.ohlcvs or {}).get(symbol) or {}).get(timeframe) or []
                    rows = sorted((list(r) for r in cached), key=lambda r: int(r[0]))
                    now_ms = self._now_ns() // NS
                    for row in _closed(rows, last, tf_ms, now_ms, contiguous=True):
                        last = int(row[0])
                        yield _bar(symbol, timeframe, row)
                    if any(int(r[0]) > last + tf_ms for r in rows):
                        need_rest = True  # a gap before the stream's candles: back-fill it
                if now_ms - progress_ms > self.stale_bars * tf_ms + tf_ms:
                    log.warning(
                        "%s: no new %s candle for %s in %.0f s; reopening the connection",
                        self.name,
                        timeframe,
                        symbol,
                        (now_ms - progress_ms) / 1000,
                    )
                    progress_ms = now_ms
                    need_rest = True
                    if watch is not None:
                        watch.cancel()
                        watch = None
                    await self._reopen()
        finally:
            if watch is not None:
                watch.cancel()

    async def _rest_candles(
        self, symbol: str, timeframe: str, since: int, tf_ms: int
    ) -> tuple[list[list[Any]], bool]:
        """Candles from ``since`` over REST, and whether a full page suggests more."""
        try:
            rows = await self._call(
                f"fetch {timeframe} candles {symbol}",
                functools.partial(self.exchange.fetch_ohlcv, symbol, timeframe, since),
            )
        except (VenueUnavailable, VenueRateLimited) as exc:
            log.warning("%s: candles %s %s: %s; retrying", self.name, symbol, timeframe, exc)
            return [], False
        rows = sorted((r for r in rows if r and r[0] is not None), key=lambda r: int(r[0]))
        more = bool(rows) and int(rows[-1][0]) > since + tf_ms and len(rows) >= 2
        return rows, more and len(rows) >= self._page_size(symbol)

    def _page_size(self, symbol: str) -> int:
        """ccxt's documented candles per request for this market (Binance: 500 by default)."""
        return 500 if self.name.startswith("binance") else 100

    def _stream_exchange(self) -> Any | None:
        """The ccxt.pro instance for candle streams, or ``None`` when REST polling is used."""
        if not self.websocket:
            return None
        if self._ws is None:
            pro = getattr(ccxt_pro, self.name, None)
            if pro is None:
                self.websocket = False
                return None
            ws = pro(
                {
                    "timeout": self.exchange.timeout,
                    "logger": self._wire_log,
                    "options": dict(self.exchange.options),
                }
            )
            if not ws.has.get("watchOHLCV"):
                self.websocket = False
                return None
            if self._urls:
                _override_urls(ws, self._urls, self.market_type)
            ws.set_markets(self.exchange.markets, self.exchange.currencies)
            self._ws = ws
        return self._ws

    async def _reopen(self) -> None:
        """Drop pooled HTTP connections and stream sockets; the next request starts afresh."""
        await self.exchange.close()
        self.exchange.open()
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()

    # -- reports ---------------------------------------------------------------------------------

    async def _poll_forever(self) -> None:
        while True:
            try:
                await self.poll_reports()
            except VenueError as exc:
                log.warning("%s: report poll failed: %s", self.name, exc)
            await asyncio.sleep(self.poll_interval)

    async def poll_reports(self) -> None:
        """One poll: new fills since the last one, then changed orders, to ``reports``."""
        reports = self._reports
        if reports is None:
            return
        for symbol in sorted(self._symbols):
            cursor = self._fill_cursor.setdefault(symbol, self._now_ns() // NS)
            for fill in await self._fills(symbol, cursor):
                if fill.fill_id in self._seen_fills:
                    continue
                self._seen_fills[fill.fill_id] = fill.ts // NS
                self._fill_cursor[symbol] = max(self._fill_cursor[symbol], fill.ts // NS)
                reports.on_fill(fill)
            current = {o.client_order_id: o for o in await self.open_orders([symbol])}
            for cid, old in list(self._known.items()):
                if old.instrument == symbol and old.status.is_open and cid not in current:
                    closed = await self.lookup(cid, symbol)
                    if closed is not None:
                        current[cid] = closed
            for cid, state in current.items():
                before = self._known.get(cid)
                if before is None or (before.status, before.filled_qty) != (
                    state.status,
                    state.filled_qty,
                ):
                    self._known[cid] = state
                    reports.on_order(state)
        # forget what later polls cannot return again: closed orders, fills before the cursors
        oldest = min(self._fill_cursor.values(), default=0)
        self._seen_fills = {k: ms for k, ms in self._seen_fills.items() if ms >= oldest}
        self._known = {k: o for k, o in self._known.items() if o.status.is_open}

    # -- requests --------------------------------------------------------------------------------

    async def _call(
        self,
        what: str,
        fn: Callable[[], Awaitable[T]],
        *,
        retry_network: bool = True,
        not_found_ok: bool = False,
    ) -> T:
        """``await fn()`` with retries and error mapping (see the module docstring).

        ``retry_network=False`` (submits): a network failure raises ``_Uncertain`` instead,
        because the request may have been processed. ``not_found_ok``: ccxt ``OrderNotFound``
        raises ``_NotFound`` (the caller answers ``None``).
        """
        attempt = 0
        while True:
            try:
                return await fn()
            except ccxt.BaseError as exc:
                if not_found_ok and isinstance(exc, ccxt.OrderNotFound):
                    raise _NotFound() from None
                if is_uncertain(exc) and not retry_network:
                    raise _Uncertain(reason(exc, self._secrets, self.name)) from None
                retryable = is_rate_limit(exc) or is_uncertain(exc)
                wait = self._retry_wait(exc, attempt) if retryable else None
                if wait is None or attempt >= self.max_retries or wait > self.backoff_cap:
                    raise map_error(
                        exc,
                        venue=self.name,
                        request=what,
                        secrets=self._secrets,
                        retry_after=wait if is_rate_limit(exc) else None,
                    ) from None
                log.info(
                    "%s: %s: %s; retry %d in %.2f s",
                    self.name,
                    what,
                    redact(type(exc).__name__, self._secrets),
                    attempt + 1,
                    wait,
                )
            assert wait is not None
            self.waits.append(wait)
            await asyncio.sleep(wait)
            attempt += 1

    def _retry_wait(self, exc: BaseException, attempt: int) -> float:
        """The answer's ``Retry-After`` for rate limits, else exponential backoff with jitter."""
        if is_rate_limit(exc):
            headers = {k.lower(): v for k, v in (self.exchange.last_response_headers or {}).items()}
            value = headers.get("retry-after")
            if value is not None:
                try:
                    return max(0.0, float(value))
                except ValueError:
                    pass
        base: float = self.backoff_base * 2**attempt
        return min(self.backoff_cap, base) * random.uniform(0.75, 1.0)


class _Uncertain(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _NotFound(Exception):
    pass


def _default_options(exchange: str, market: str) -> dict[str, Any]:
    """ccxt options: the market type, and for Binance no calls outside spot / USD-M."""
    options: dict[str, Any] = {"defaultType": market}
    if exchange.startswith("binance"):
        options.update(
            {
                "fetchCurrencies": False,
                "fetchMargins": False,
                "fetchMarkets": {"types": ["spot"] if market == "spot" else ["linear"]},
                "warnOnFetchOpenOrdersWithoutSymbol": False,
            }
        )
    return options


def _override_urls(exchange: Any, urls: Mapping[str, Any], market: str) -> None:
    """Replace ``urls['api']`` entries; ccxt picks Binance's per-market error codes by the
    official host name, so with other hosts merge the market type's codes into the general
    ones (what ccxt would use against the real host)."""
    api = exchange.urls["api"]
    for key, value in urls.items():
        if isinstance(value, Mapping) and isinstance(api.get(key), dict):
            api[key] = {**api[key], **value}
        else:
            api[key] = value
    table = exchange.exceptions or {}
    kind = "spot" if market == "spot" else "linear"
    specific = table.get(kind)
    if isinstance(specific, dict):
        for which in ("exact", "broad"):
            table[which] = {**(table.get(which) or {}), **(specific.get(which) or {})}


def _closed(
    rows: list[list[Any]], last: int, tf_ms: int, now_ms: int, *, contiguous: bool = False
) -> list[list[Any]]:
    """The candles after ``last`` that are closed (a newer one exists, or their end passed).
    ``contiguous`` (stream updates): stop at a gap, which REST back-fills instead."""
    out = []
    newest = int(rows[-1][0]) if rows else None
    for row in rows:
        open_ms = int(row[0])
        if open_ms <= last:
            continue
        if contiguous and open_ms != last + tf_ms:
            break
        if open_ms == newest and open_ms + tf_ms > now_ms:
            break  # still forming
        out.append(row)
        last = open_ms
    return out


def _bar(symbol: str, timeframe: str, row: list[Any]) -> Bar:
    return Bar(
        symbol,
        timeframe,
        int(row[0]) * NS,
        float(row[1]),
        float(row[2]),
        float(row[3]),
        float(row[4]),
        float(row[5] or 0.0),
    )
