"""The live event stream: WebSocket ``/api/v1/ws`` (``install_websocket(app)``).

Authentication uses the HTTP credentials, checked on the handshake: ``Authorization: Bearer
<access token or API key>`` or ``X-API-Key``, or, because browsers cannot set headers on a
WebSocket, ``?token=<access token or API key>``. The server accepts the handshake and then closes
at once with code **4401** (missing or invalid credential; the close reason says which) or
**4403** (no ``read`` scope), so that a browser client can see why. Query strings are never
logged: the app's access log writes the path only, and ``redact_query_tokens`` (installed here)
blanks ``token=`` in uvicorn's handshake log lines.

Protocol (JSON text frames). The client sends::

    {"op": "subscribe", "topics": ["orders", "fills"], "batch_ms": 0}
    {"op": "unsubscribe", "topics": ["fills"]}
    {"op": "ping"}

and gets ``{"op": "subscriptions", "topics": [...]}`` (its topics now), ``{"op": "pong"}`` or
``{"op": "error", "message": ...}``. Topics: orders, fills, positions, equity, bars, logs,
alerts, node. Events arrive as ``{"topic", "seq", "data"}``; ``seq`` counts 1, 2, 3, ... per
connection, without gaps. With ``batch_ms`` > 0 events are gathered for up to that many
milliseconds and sent as one frame holding a JSON array of events (fewer frames on busy streams).

Slow clients: each connection has a bounded queue (``queue_size`` events). When a client falls
that far behind, it is closed with code **1008** and a reason naming the last ``seq`` it was
sent: it never silently misses events. The events not delivered are counted
(``tradewind_ws_dropped_messages_total``, and per connection in the log line of the close).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Any

import structlog
from fastapi import FastAPI, WebSocket
from prometheus_client import CollectorRegistry, Counter, Gauge

from tradewind.api.app import API_PREFIX
from tradewind.api.deps import Principal
from tradewind.api.errors import Unauthorized
from tradewind.errors import ConfigError
from tradewind.live.platform import TOPICS, Event, Platform, Subscription, check_topics

WS_PATH = f"{API_PREFIX}/ws"
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_SLOW = 1008
CLOSE_UNAVAILABLE = 1011
DEFAULT_QUEUE = 1000
MAX_BATCH_MS = 1000
MAX_CLIENT_MESSAGE = 64 * 1024
_TOKEN_IN_QUERY = re.compile(r"(?i)([?&](?:token|access_token|api_key)=)[^&\s\"']*")

log = structlog.get_logger("tradewind.api.ws")


class QueryTokenFilter(logging.Filter):
    """Blanks credentials passed in query strings out of log records (uvicorn logs the
    WebSocket handshake with its query string)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "=" in message and _TOKEN_IN_QUERY.search(message):
            record.msg, record.args = _TOKEN_IN_QUERY.sub(r"\1<redacted>", message), ()
        return True


def redact_query_tokens(loggers: tuple[str, ...] = ("uvicorn.error", "uvicorn.access")) -> None:
    """Install ``QueryTokenFilter`` on uvicorn's loggers (once)."""
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QueryTokenFilter) for f in logger.filters):
            logger.addFilter(QueryTokenFilter())


class WsMetrics:
    """Connections, events sent and dropped, and why clients were closed."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.clients = Gauge(
            "tradewind_ws_clients", "Open WebSocket connections", registry=registry
        )
        self.sent = Counter(
            "tradewind_ws_messages_sent", "Events sent to WebSocket clients", registry=registry
        )
        self.dropped = Counter(
            "tradewind_ws_dropped_messages",
            "Events not delivered because a client's queue was full (the client is closed)",
            registry=registry,
        )
        self.closed = Counter(
            "tradewind_ws_closed",
            "WebSocket connections closed by the server",
            ["reason"],
            registry=registry,
        )


def install_websocket(app: FastAPI, *, queue_size: int = DEFAULT_QUEUE) -> None:
    """Add ``/api/v1/ws`` to an app made by ``create_app`` (with a ``Platform``)."""
    if queue_size < 1:
        raise ConfigError(f"WebSocket queue_size must be >= 1, got {queue_size}")
    metrics = WsMetrics(app.state.registry)
    redact_query_tokens()

    async def events(websocket: WebSocket) -> None:
        await serve_events(websocket, metrics, queue_size)

    app.add_api_websocket_route(WS_PATH, events, name="events")


async def authenticate(websocket: WebSocket) -> tuple[Principal | None, str]:
    """The caller, or None and why not, from the handshake's headers or ``?token=``."""
    state = websocket.scope.setdefault("state", {})
    authenticator = websocket.app.state.authenticator
    if "principal" not in state:  # the request middleware did not run
        try:
            state["principal"], state["auth_error"] = (
                await authenticator.resolve(websocket.scope["headers"]),
                None,
            )
        except Unauthorized as exc:
            state["principal"], state["auth_error"] = None, exc
    principal: Principal | None = state.get("principal")
    error: Unauthorized | None = state.get("auth_error")
    token = websocket.query_params.get("token")
    if token is not None:
        if principal is not None or error is not None:
            return None, "send one credential: a header or ?token=, not both"
        try:
            header = f"Bearer {token}".encode("latin-1")
            principal = await authenticator.resolve([(b"authorization", header)])
        except UnicodeEncodeError:
            return None, "invalid token"
        except Unauthorized as exc:
            return None, exc.message
        state["principal"] = principal  # the access log names the caller
    if principal is None:
        if error is not None:
            return None, error.message
        return None, "authentication required: Authorization header, X-API-Key or ?token="
    return principal, ""


def _reason(text: str) -> str:
    """A close reason within the protocol's 123 bytes."""
    data = text.encode()
    return text if len(data) <= 123 else data[:120].decode(errors="ignore") + "..."


async def serve_events(websocket: WebSocket, metrics: WsMetrics, queue_size: int) -> None:
    principal, problem = await authenticate(websocket)
    await websocket.accept()
    if principal is None:
        metrics.closed.labels("unauthorized").inc()
        await websocket.close(CLOSE_UNAUTHORIZED, _reason(problem))
        return
    if not principal.has("read"):
        metrics.closed.labels("forbidden").inc()
        await websocket.close(CLOSE_FORBIDDEN, _reason(f"{principal.actor} lacks the 'read' scope"))
        return
    platform = websocket.app.state.platform
    if not isinstance(platform, Platform):
        await websocket.close(CLOSE_UNAVAILABLE, "no trading platform is attached to this API")
        return
    client = Client(websocket, platform, metrics, queue_size, principal)
    metrics.clients.inc()
    try:
        await client.run()
    finally:
        metrics.clients.dec()


class Client:
    """One connection: a reader (subscription requests) and a writer (the queue -> frames)."""

    def __init__(
        self,
        websocket: WebSocket,
        platform: Platform,
        metrics: WsMetrics,
        queue_size: int,
        principal: Principal,
    ) -> None:
        self.ws = websocket
        self.platform = platform
        self.metrics = metrics
        self.principal = principal
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=queue_size)
        self.seq = 0  # the last seq framed
        self.sent_seq = 0  # the last seq whose frame was handed to the server completely
        self.sent = 0  # events sent
        self.batch_ms = 0
        self.slow = ""
        self._send_lock = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None
        self.sub: Subscription = platform.subscribe(self.queue, (), on_overflow=self._overflow)

    def _overflow(self) -> None:
        """The queue is full: stop writing and close with a reason (never skip events)."""
        self.slow = "slow"
        if self._writer is not None:
            self._writer.cancel()

    async def run(self) -> None:
        self._writer = asyncio.create_task(self._write())
        reader = asyncio.create_task(self._read())
        try:
            await asyncio.wait({self._writer, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (self._writer, reader):
                task.cancel()
            for task in (self._writer, reader):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.platform.unsubscribe(self.queue)
            # refused by the full queue, plus queued (or being framed) but never sent
            dropped = self.sub.dropped + self.sub.delivered - self.sent
            if dropped:
                self.metrics.dropped.inc(dropped)
        if self.slow:
            self.metrics.closed.labels("slow").inc()
            log.warning(
                "websocket closed: slow consumer",
                principal=self.principal.actor,
                sent=self.sent_seq,
                not_sent=dropped,
            )
            reason = (
                f"slow consumer: {self.queue.maxsize} events queued after seq {self.sent_seq}; "
                "reconnect and resubscribe"
            )
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(CLOSE_SLOW, _reason(reason)), 2.0)

    async def _send(self, text: str) -> None:
        async with self._send_lock:
            await self.ws.send_text(text)

    async def _read(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                reply: dict[str, Any] = {"op": "error", "message": "send JSON text frames"}
            elif len(text) > MAX_CLIENT_MESSAGE:
                reply = {"op": "error", "message": f"message over {MAX_CLIENT_MESSAGE} bytes"}
            else:
                reply = self.handle(text)
            await self._send(json.dumps(reply))

    def handle(self, text: str) -> dict[str, Any]:
        """One client request -> the reply."""
        try:
            request = json.loads(text)
        except ValueError:
            return {"op": "error", "message": "not JSON"}
        if not isinstance(request, dict):
            return {"op": "error", "message": 'expected an object like {"op": "subscribe"}'}
        op = request.get("op")
        if op == "ping":
            return {"op": "pong"}
        if op not in ("subscribe", "unsubscribe"):
            return {
                "op": "error",
                "message": f"unknown op {op!r}; use subscribe, unsubscribe or ping",
            }
        topics = request.get("topics", [])
        if not (isinstance(topics, list) and all(isinstance(t, str) for t in topics)):
            return {"op": "error", "message": "topics must be a list of strings"}
        try:
            check_topics(topics)
        except ConfigError as exc:
            return {"op": "error", "message": str(exc)}
        if op == "subscribe":
            batch = request.get("batch_ms", self.batch_ms)
            if not (
                isinstance(batch, int)
                and not isinstance(batch, bool)
                and 0 <= batch <= MAX_BATCH_MS
            ):
                return {"op": "error", "message": f"batch_ms must be 0..{MAX_BATCH_MS}"}
            self.batch_ms = batch
            current = set(self.sub.topics or ()) | set(topics)
        else:
            current = set(self.sub.topics or ()) - set(topics)
        self.sub.topics = current  # replaced, not mutated: publishers may be reading it
        return {
            "op": "subscriptions",
            "topics": [t for t in TOPICS if t in current],
            "batch_ms": self.batch_ms,
        }

    def _frame(self, event: Event) -> str:
        self.seq += 1
        return f'{{"topic":"{event.topic}","seq":{self.seq},"data":{event.data_json()}}}'

    async def _write(self) -> None:
        queue = self.queue
        while True:
            event = await queue.get()
            if self.batch_ms:
                await asyncio.sleep(self.batch_ms / 1000)
                events = [event]
                while not queue.empty():
                    events.append(queue.get_nowait())
                text = "[" + ",".join(self._frame(e) for e in events) + "]"
                count = len(events)
            else:
                text, count = self._frame(event), 1
            await self._send(text)
            self.sent_seq = self.seq
            self.sent += count
            self.metrics.sent.inc(count)
