"""A local stand-in for Binance's REST API (spot ``/api/v3`` and USD-M futures ``/fapi``).

A real HTTP/1.1 server on 127.0.0.1 (ephemeral port, background thread) that speaks Binance's
documented wire format, so the unmodified ``ccxt`` binance class can be pointed at it::

    with BinanceStandin([SymbolSpec("BTC", "USDT")], balances={"USDT": "10000"}) as ex:
        exchange.urls["api"].update(ex.ccxt_urls())

What it serves (what ccxt's binance calls for these operations): ``exchangeInfo``, ``time``,
``klines``, ``depth``; signed ``order`` (POST/GET/DELETE), ``openOrders``, ``myTrades`` /
``userTrades``, ``account``, and for futures ``positionRisk`` and ``leverageBracket``.
Signed requests are checked as Binance documents: the ``X-MBX-APIKEY`` header (-2014 / -2015),
``timestamp`` within ``recvWindow`` (-1021) and ``signature`` = hex HMAC-SHA256 of the total
params (query string + body, without the signature) keyed with the secret (-1022).

Faults for tests: ``fail_next`` (answer HTTP 429/418/5xx without processing), ``hang_next``
(process, then answer only after ``delay`` — past the client's timeout), ``drop_next``
(process, then close the connection without an answer). State is read from ``book``
(``orders``, ``trades``, ``balances``, ``positions``); ``place_order`` places an order as
"another client" on the same account; ``set_price`` / ``set_candles`` move the market.
With ``streams=True`` (default) spot kline streams are served over WebSocket too
(``binance_streams.BinanceStreams``; ``add_candle`` publishes to subscribers).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tradewind.testing.binance_book import (
    LEVERAGE,
    MAX_PRICE,
    PERPETUAL_DELIVERY,
    BinanceBook,
    BinanceReject,
    Book,
    Market,
    OrderRec,
    SymbolSpec,
    TradeRec,
    fmt,
    now_ms,
)
from tradewind.testing.binance_streams import BinanceStreams

__all__ = ["BinanceReject", "BinanceStandin", "Fault", "SymbolSpec"]

DEFAULT_KEY = "standinApiKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO"
DEFAULT_SECRET = "standinSecretZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcb"
_INTERVAL_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def interval_ms(interval: str) -> int:
    """``"1m"`` -> 60000; Binance's kline intervals."""
    return int(interval[:-1]) * _INTERVAL_MS[interval[-1]]


@dataclass
class Fault:
    """One injected fault for the next request matching ``method`` + ``path``."""

    kind: str  # "status" | "hang" | "drop"
    path: str
    method: str | None = None
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class SeenRequest:
    """A request as the stand-in received it (for assertions on the exact wire values)."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


class BinanceStandin:
    """The server; use as a context manager (``start`` / ``stop``)."""

    def __init__(
        self,
        symbols: list[SymbolSpec] | None = None,
        balances: dict[str, str] | None = None,
        futures_balance: str = "0",
        *,
        api_key: str = DEFAULT_KEY,
        secret: str = DEFAULT_SECRET,
        recv_window_max: int = 60_000,
        streams: bool = True,
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        """``streams``: also serve spot market streams over WebSocket (``BinanceStreams``);
        ``clock_ms``: the server time that ``timestamp`` / ``recvWindow`` are checked against
        (and ``/time`` answers) — skew it to test clock problems."""
        self.book = BinanceBook(symbols or [SymbolSpec("BTC", "USDT")], balances, futures_balance)
        self.api_key = api_key
        self.secret = secret
        self.recv_window_max = recv_window_max
        self.clock_ms = clock_ms
        self.requests: list[SeenRequest] = []
        self.faults: list[Fault] = []
        self.used_weight = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.streams = BinanceStreams() if streams else None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> BinanceStandin:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet test output
                pass

            def do_GET(self) -> None:
                standin._handle(self)

            do_POST = do_GET  # noqa: N815
            do_DELETE = do_GET  # noqa: N815
            do_PUT = do_GET  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), daemon=True
        )
        self._thread.start()
        if self.streams is not None:
            self.streams.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self.streams is not None:
            self.streams.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> BinanceStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def ccxt_urls(self) -> dict[str, Any]:
        """Overrides for ccxt binance's ``urls['api']`` (spot and USD-M futures entries, and
        the spot WebSocket streams when served)."""
        base = self.url
        ws: dict[str, Any] = {"ws": {"spot": self.streams.url}} if self.streams else {}
        return ws | {
            "public": f"{base}/api/v3",
            "private": f"{base}/api/v3",
            "v1": f"{base}/api/v1",
            "fapiPublic": f"{base}/fapi/v1",
            "fapiPublicV2": f"{base}/fapi/v2",
            "fapiPublicV3": f"{base}/fapi/v3",
            "fapiPrivate": f"{base}/fapi/v1",
            "fapiPrivateV2": f"{base}/fapi/v2",
            "fapiPrivateV3": f"{base}/fapi/v3",
        }

    # -- test controls ----------------------------------------------------------------------------

    def fail_next(
        self,
        path: str,
        status: int = 429,
        *,
        method: str | None = None,
        retry_after: int | None = 1,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` requests to ``path`` with ``status`` (429 and 418 with
        Binance's body, ``Retry-After`` and ``X-MBX-USED-WEIGHT-1M``; 5xx with an HTML page)."""
        headers = {"X-MBX-USED-WEIGHT-1M": "6001"}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if status == 429:
            body: Any = {
                "code": -1003,
                "msg": "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per "
                "minute. Please use the websocket for live updates to avoid polling the API.",
            }
        elif status == 418:
            until = now_ms() + 1000 * (retry_after or 120)
            body = {
                "code": -1003,
                "msg": f"Way too many requests; IP(127.0.0.1) banned until {until}. Please use "
                "the websocket for live updates to avoid bans.",
            }
        else:
            body = "<html><body><h1>502 Bad Gateway</h1></body></html>"
            headers = {}
        for _ in range(count):
            self.faults.append(Fault("status", path, method, status, body, headers))

    def hang_next(self, path: str, *, method: str | None = "POST", delay: float = 3600.0) -> None:
        """Process the next request to ``path``, then answer only after ``delay`` seconds (or
        when the server stops): the client times out after the exchange accepted it."""
        self.faults.append(Fault("hang", path, method, delay=delay))

    def drop_next(self, path: str, *, method: str | None = "POST") -> None:
        """Process the next request to ``path``, then close the connection unanswered."""
        self.faults.append(Fault("drop", path, method))

    def place_order(self, market: Market = "spot", **params: str) -> OrderRec:
        """Place an order on the account as another client would (not through ccxt)."""
        rec, _ = self.book.place(market, params)
        return rec

    def set_price(self, symbol: str, price: str, market: Market = "spot") -> list[TradeRec]:
        return self.book.set_price(symbol, price, market)

    def set_candles(
        self, symbol: str, candles: list[list[Any]], interval: str = "1m", market: Market = "spot"
    ) -> None:
        """Replace the klines (rows ``[open_ms, open, high, low, close, volume]``)."""
        self.book.set_candles(symbol, candles, interval, market)

    def add_candle(self, symbol: str, candle: list[Any], market: Market = "spot") -> None:
        """Add (or update the newest) kline; spot stream subscribers get it as a kline event."""
        self.book.add_candle(symbol, candle, market)
        if self.streams is not None and market == "spot":
            interval = self.book.book(market, symbol).candle_interval
            self.streams.publish_kline(symbol, interval, interval_ms(interval), candle, now_ms())

    def orders(self, market: Market | None = None) -> list[OrderRec]:
        with self.book.lock:
            return [o for o in self.book.orders.values() if market is None or o.market == market]

    def trades(self, market: Market | None = None) -> list[TradeRec]:
        with self.book.lock:
            return [t for t in self.book.trades if market is None or t.market == market]

    def seen(self, method: str, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # -- HTTP ----------------------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.path == path and (fault.method is None or fault.method == method):
                    return self.faults.pop(i)
        return None

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length).decode() if length else ""
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        headers = {k.lower(): v for k, v in h.headers.items()}
        self.requests.append(SeenRequest(h.command, parts.path, params, headers))
        self.used_weight += 1
        fault = self._take_fault(h.command, parts.path)
        if fault is not None and fault.kind == "status":
            self._send(h, fault.status, fault.body, fault.headers)
            return
        status, payload = self._dispatch(h.command, parts.path, parts.query, body, params, headers)
        if fault is not None and fault.kind == "drop":
            h.close_connection = True
            h.connection.close()
            return
        if fault is not None and fault.kind == "hang":
            self._stopping.wait(fault.delay)
            h.close_connection = True
        try:
            self._send(h, status, payload, {"X-MBX-USED-WEIGHT-1M": str(self.used_weight)})
        except OSError:  # the client gave up (timeout) and closed its end
            h.close_connection = True

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler, status: int, payload: Any, headers: dict[str, str]
    ) -> None:
        raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        h.send_response(status)
        ctype = "text/html" if isinstance(payload, str) else "application/json;charset=UTF-8"
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(raw)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(raw)
        h.wfile.flush()

    def _dispatch(
        self,
        method: str,
        path: str,
        query: str,
        body: str,
        params: dict[str, str],
        headers: dict[str, str],
    ) -> tuple[int, Any]:
        if path.startswith("/api/v3/"):
            market: Market = "spot"
            name = path[len("/api/v3/") :]
        elif path.startswith(("/fapi/v1/", "/fapi/v2/", "/fapi/v3/")):
            market = "futures"
            name = path[len("/fapi/v1/") :]
        else:
            return 404, {"code": -1, "msg": f"no such endpoint {path}"}
        route = _ROUTES.get((market, method, name))
        if route is None:
            return 404, {"code": -1, "msg": f"stand-in does not serve {method} {path}"}
        handler, signed = route
        try:
            if signed:
                self._authenticate(query, body, params, headers)
            return 200, handler(self, market, params)
        except BinanceReject as exc:
            return exc.status, {"code": exc.code, "msg": exc.msg}

    def _authenticate(
        self, query: str, body: str, params: dict[str, str], headers: dict[str, str]
    ) -> None:
        key = headers.get("x-mbx-apikey")
        if not key:
            raise BinanceReject(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        if len(key) != 64 or not key.isalnum():
            raise BinanceReject(-2014, "API-key format invalid.", 401)
        if not hmac.compare_digest(key, self.api_key):
            raise BinanceReject(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        ts = params.get("timestamp")
        if not ts:
            raise BinanceReject(
                -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
            )
        window = int(params.get("recvWindow") or 5000)
        if window > self.recv_window_max:
            raise BinanceReject(-1131, "recvWindow must be less than 60000")
        server = self.clock_ms()
        if int(ts) > server + 1000:
            raise BinanceReject(
                -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )
        if server - int(ts) > window:
            raise BinanceReject(-1021, "Timestamp for this request is outside of the recvWindow.")
        signature = params.get("signature", "")
        total = _strip_signature(query) + _strip_signature(body)
        want = hmac.new(self.secret.encode(), total.encode(), hashlib.sha256).hexdigest()
        if not signature or not hmac.compare_digest(signature.lower(), want):
            raise BinanceReject(-1022, "Signature for this request is not valid.")


def _strip_signature(raw: str) -> str:
    """``raw`` (a query string or form body) without its ``signature=`` pair."""
    return "&".join(p for p in raw.split("&") if p and not p.startswith("signature="))


# -- endpoint handlers ----------------------------------------------------------------------------


def _time(s: BinanceStandin, market: Market, params: dict[str, str]) -> Any:
    return {"serverTime": s.clock_ms()}


def _ping(s: BinanceStandin, market: Market, params: dict[str, str]) -> Any:
    return {}


def _exchange_info(s: BinanceStandin, market: Market, params: dict[str, str]) -> Any:
    with s.book.lock:
        books = [b for (m, _), b in s.book.books.items() if m == market]
    symbols = [_spot_symbol(b) if market == "spot" else _futures_symbol(b) for b in books]
    return {
        "timezone": "UTC",
        "serverTime": now_ms(),
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 6000,
            },
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        ],
        "exchangeFilters": [],
        "symbols": symbols,
        **({"assets": []} if market == "futures" else {}),
    }


def _decimals(step: str) -> int:
    exp = Decimal(step).normalize().as_tuple().exponent
    return max(0, -int(exp))


def _spot_symbol(b: Book) -> dict[str, Any]:
    s = b.spec
    return {
        "symbol": s.symbol,
        "status": "TRADING",
        "baseAsset": s.base,
        "baseAssetPrecision": 8,
        "quoteAsset": s.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt(Decimal(s.tick_size)),
                "maxPrice": fmt(MAX_PRICE),
                "tickSize": fmt(Decimal(s.tick_size)),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(Decimal(s.min_qty)),
                "maxQty": fmt(Decimal(s.max_qty)),
                "stepSize": fmt(Decimal(s.step_size)),
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": fmt(Decimal(s.min_notional)),
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def _futures_symbol(b: Book) -> dict[str, Any]:
    s = b.spec
    return {
        "symbol": s.symbol,
        "pair": s.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": PERPETUAL_DELIVERY,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": s.base,
        "quoteAsset": s.quote,
        "marginAsset": s.quote,
        "pricePrecision": _decimals(s.tick_size),
        "quantityPrecision": _decimals(s.step_size),
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": s.tick_size,
                "maxPrice": f"{MAX_PRICE:f}",
                "tickSize": s.tick_size,
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": s.min_qty,
                "maxQty": s.max_qty,
                "stepSize": s.step_size,
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": s.min_qty,
                "maxQty": s.max_qty,
                "stepSize": s.step_size,
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": s.min_notional},
        ],
        "orderTypes": ["LIMIT", "MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }


def _klines(s: BinanceStandin, market: Market, params: dict[str, str]) -> Any:
    interval = params.get("interval") or ""
    if interval[-1:] not in _INTERVAL_MS or not interval[:-1].isdigit():
        raise BinanceReject(-1120, "Invalid interval.")
    return s.book.klines(market, params, interval_ms(interval))


def _depth(s: BinanceStandin, market: Market, params: dict[str, str]) -> Any:
    return s.book.depth_snapshot(
        market, params.get("symbol") or "", int(params.get("limit") or 100)
    )


def _order_json(o: OrderRec, *, full: list[TradeRec] | None = None) -> dict[str, Any]:
    """An order in the market's response shape (spot FULL when ``full`` is given)."""
    if o.market == "spot":
        out: dict[str, Any] = {
            "symbol": o.symbol,
            "orderId": o.order_id,
            "orderListId": -1,
            "clientOrderId": o.client_order_id,
            "price": fmt(o.price),
            "origQty": fmt(o.qty),
            "executedQty": fmt(o.executed),
            "cummulativeQuoteQty": fmt(o.cum_quote),
            "status": o.status,
            "timeInForce": o.tif or "GTC",
            "type": o.type,
            "side": o.side,
            "stopPrice": "0.00000000",
            "icebergQty": "0.00000000",
            "time": o.time,
            "updateTime": o.update_time,
            "isWorking": o.is_open,
            "workingTime": o.time,
            "origQuoteOrderQty": fmt(o.quote_qty),
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }
        if full is not None:
            out["transactTime"] = o.update_time
            out["fills"] = [
                {
                    "price": fmt(t.price),
                    "qty": fmt(t.qty),
                    "commission": fmt(t.commission),
                    "commissionAsset": t.commission_asset,
                    "tradeId": t.trade_id,
                }
                for t in full
            ]
        return out
    avg = o.cum_quote / o.executed if o.executed else Decimal(0)
    return {
        "orderId": o.order_id,
        "symbol": o.symbol,
        "status": o.status,
        "clientOrderId": o.client_order_id,
        "price": f"{o.price:f}",
        "avgPrice": fmt(avg, 5),
        "origQty": f"{o.qty:f}",
        "executedQty": f"{o.executed:f}",
        "cumQty": f"{o.executed:f}",
        "cumQuote": fmt(o.cum_quote, 5),
        "timeInForce": o.tif or "GTC",
        "type": o.type,
        "reduceOnly": o.reduce_only,
        "closePosition": False,
        "side": o.side,
        "positionSide": "BOTH",
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": o.type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        "time": o.time,
        "updateTime": o.update_time,
    }


def _new_order(s: BinanceStandin, market: Market, params: dict[str, str]) -> Any:
    rec, trades = s.book.place(market, params)
    if market == "spot":
        resp = params.get("newOrderRespType", "FULL")
        out = _order_json(rec, full=trades if resp == "FULL" else None)
        if resp == "ACK":
            return {k: out[k] for k in ("symbol", "orderId", "orderListId", "clientOrderId")} | {
                "transactTime": rec.time
            }
        return out
    return _order_json(rec)


def _order_param(params: dict[str, str]) -> tuple[str | None, str | None]:
    order_id = params.get("orderId")
    client_id = params.get("origClientOrderId")
    if order_id is None and client_id is None:
        raise BinanceReject(
            -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
        )
    return order_id, client_id


def _query_order(s: BinanceStandin, market: Market, params: dict[str, str]) -> Any:
    symbol = params.get("symbol") or ""
    s.book.book(market, symbol)
    rec = s.book.find_order(market, symbol, *_order_param(params))
    if rec is None:
        raise BinanceReject(-2013, "Order does not exist.")
    return _order_json(rec)


def _cancel_order(s: BinanceStandin, market: Market, params: dict[str, str]) -> Any:
    rec = s.book.cancel(market, params.get("symbol") or "", *_order_param(params))
    out = _order_json(rec)
    if market == "spot":
        out["origClientOrderId"] = rec.client_order_id
        out["transactTime"] = rec.update_time
    return out


def _open_orders(s: BinanceStandin, market: Market, params: dict[str, str]) -> Any:
    symbol = params.get("symbol")
    if symbol:
        s.book.book(market, symbol)
    with s.book.lock:
        return [
            _order_json(o)
            for o in s.book.orders.values()
            if o.market == market and o.is_open and (not symbol or o.symbol == symbol)
        ]


def _my_trades(s: BinanceStandin, market: Market, params: dict[str, str]) -> Any:
    symbol = params.get("symbol") or ""
    s.book.book(market, symbol)
    start = int(params.get("startTime") or 0)
    end = int(params.get("endTime") or 2**62)
    from_id = int(params.get("fromId") or 0)
    limit = min(int(params.get("limit") or 500), 1000)
    with s.book.lock:
        rows = [
            t
            for t in s.book.trades
            if t.market == market
            and t.symbol == symbol
            and start <= t.time <= end
            and t.trade_id >= from_id
        ][:limit]
    if market == "spot":
        return [
            {
                "symbol": t.symbol,
                "id": t.trade_id,
                "orderId": t.order_id,
                "orderListId": -1,
                "price": fmt(t.price),
                "qty": fmt(t.qty),
                "quoteQty": fmt(t.price * t.qty),
                "commission": fmt(t.commission),
                "commissionAsset": t.commission_asset,
                "time": t.time,
                "isBuyer": t.side == "BUY",
                "isMaker": t.maker,
                "isBestMatch": True,
            }
            for t in rows
        ]
    return [
        {
            "buyer": t.side == "BUY",
            "commission": fmt(t.commission),
            "commissionAsset": t.commission_asset,
            "id": t.trade_id,
            "maker": t.maker,
            "orderId": t.order_id,
            "price": f"{t.price:f}",
            "qty": f"{t.qty:f}",
            "quoteQty": f"{t.price * t.qty:f}",
            "realizedPnl": fmt(t.realized_pnl),
            "side": t.side,
            "positionSide": "BOTH",
            "symbol": t.symbol,
            "time": t.time,
        }
        for t in rows
    ]


def _account(s: BinanceStandin, market: Market, params: dict[str, str]) -> Any:
    book = s.book
    with book.lock:
        if market == "spot":
            return {
                "makerCommission": 10,
                "takerCommission": 10,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "commissionRates": {
                    "maker": "0.00100000",
                    "taker": "0.00100000",
                    "buyer": "0.00000000",
                    "seller": "0.00000000",
                },
                "canTrade": True,
                "canWithdraw": True,
                "canDeposit": True,
                "brokered": False,
                "requireSelfTradePrevention": False,
                "preventSor": False,
                "updateTime": now_ms(),
                "accountType": "SPOT",
                "balances": [
                    {"asset": a, "free": fmt(v[0]), "locked": fmt(v[1])}
                    for a, v in book.balances.items()
                ],
                "permissions": ["SPOT"],
                "uid": 354937868,
            }
        positions = _positions(s)
        initial = sum((Decimal(p["initialMargin"]) for p in positions), Decimal(0))
        unrealized = sum((Decimal(p["unRealizedProfit"]) for p in positions), Decimal(0))
        wallet = book.futures_wallet
        available = book._futures_available()
        quote = next((b.spec.quote for (m, _), b in book.books.items() if m == "futures"), "USDT")
        return {
            "totalInitialMargin": fmt(initial),
            "totalMaintMargin": fmt(initial / 4),
            "totalWalletBalance": fmt(wallet),
            "totalUnrealizedProfit": fmt(unrealized),
            "totalMarginBalance": fmt(wallet + unrealized),
            "totalPositionInitialMargin": fmt(initial),
            "totalOpenOrderInitialMargin": "0.00000000",
            "totalCrossWalletBalance": fmt(wallet),
            "totalCrossUnPnl": fmt(unrealized),
            "availableBalance": fmt(available),
            "maxWithdrawAmount": fmt(available),
            "assets": [
                {
                    "asset": quote,
                    "walletBalance": fmt(wallet),
                    "unrealizedProfit": fmt(unrealized),
                    "marginBalance": fmt(wallet + unrealized),
                    "maintMargin": fmt(initial / 4),
                    "initialMargin": fmt(initial),
                    "positionInitialMargin": fmt(initial),
                    "openOrderInitialMargin": "0.00000000",
                    "crossWalletBalance": fmt(wallet),
                    "crossUnPnl": fmt(unrealized),
                    "availableBalance": fmt(available),
                    "maxWithdrawAmount": fmt(available),
                    "updateTime": now_ms(),
                }
            ],
            "positions": [
                {
                    k: p[k]
                    for k in (
                        "symbol",
                        "positionSide",
                        "positionAmt",
                        "unrealizedProfit",
                        "isolatedMargin",
                        "notional",
                        "isolatedWallet",
                        "initialMargin",
                        "maintMargin",
                        "updateTime",
                    )
                }
                for p in positions
            ],
        }


def _positions(s: BinanceStandin) -> list[dict[str, Any]]:
    """Open USD-M positions in ``/fapi/v3/positionRisk``'s shape (v3 lists non-zero ones)."""
    out = []
    with s.book.lock:
        for sym, pos in s.book.positions.items():
            if pos.amount == 0:
                continue
            mark = s.book.books[("futures", sym)].mid
            notional = pos.amount * mark
            margin = abs(notional) / LEVERAGE
            upnl = (mark - pos.entry) * pos.amount
            out.append(
                {
                    "symbol": sym,
                    "positionSide": "BOTH",
                    "positionAmt": f"{pos.amount:f}",
                    "entryPrice": f"{pos.entry:f}",
                    "breakEvenPrice": f"{pos.entry:f}",
                    "markPrice": fmt(mark),
                    "unRealizedProfit": fmt(upnl),
                    "unrealizedProfit": fmt(upnl),
                    "liquidationPrice": "0",
                    "isolatedMargin": "0",
                    "notional": fmt(notional),
                    "marginAsset": "USDT",
                    "isolatedWallet": "0",
                    "initialMargin": fmt(margin),
                    "maintMargin": fmt(margin / 4),
                    "positionInitialMargin": fmt(margin),
                    "openOrderInitialMargin": "0",
                    "adl": 0,
                    "bidNotional": "0",
                    "askNotional": "0",
                    "updateTime": pos.update_time,
                }
            )
    return out


def _position_risk(s: BinanceStandin, market: Market, params: dict[str, str]) -> Any:
    symbol = params.get("symbol")
    return [p for p in _positions(s) if not symbol or p["symbol"] == symbol]


def _leverage_bracket(s: BinanceStandin, market: Market, params: dict[str, str]) -> Any:
    with s.book.lock:
        symbols = [sym for (m, sym) in s.book.books if m == "futures"]
    return [
        {
            "symbol": sym,
            "brackets": [
                {
                    "bracket": 1,
                    "initialLeverage": int(LEVERAGE),
                    "notionalCap": 1_000_000,
                    "notionalFloor": 0,
                    "maintMarginRatio": 0.0125,
                    "cum": 0.0,
                }
            ],
        }
        for sym in symbols
    ]


Route = tuple[Callable[[BinanceStandin, Market, dict[str, str]], Any], bool]

_ROUTES: dict[tuple[Market, str, str], Route] = {}
_m: Market
for _m in ("spot", "futures"):
    _ROUTES[(_m, "GET", "time")] = (_time, False)
    _ROUTES[(_m, "GET", "ping")] = (_ping, False)
    _ROUTES[(_m, "GET", "exchangeInfo")] = (_exchange_info, False)
    _ROUTES[(_m, "GET", "klines")] = (_klines, False)
    _ROUTES[(_m, "GET", "depth")] = (_depth, False)
    _ROUTES[(_m, "POST", "order")] = (_new_order, True)
    _ROUTES[(_m, "GET", "order")] = (_query_order, True)
    _ROUTES[(_m, "DELETE", "order")] = (_cancel_order, True)
    _ROUTES[(_m, "GET", "openOrders")] = (_open_orders, True)
_ROUTES[("spot", "GET", "myTrades")] = (_my_trades, True)
_ROUTES[("spot", "GET", "account")] = (_account, True)
_ROUTES[("futures", "GET", "userTrades")] = (_my_trades, True)
_ROUTES[("futures", "GET", "account")] = (_account, True)
_ROUTES[("futures", "GET", "positionRisk")] = (_position_risk, True)
_ROUTES[("futures", "GET", "leverageBracket")] = (_leverage_bracket, True)
