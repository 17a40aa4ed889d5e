"""The request pipeline, as pure ASGI middleware (cheap: no per-request objects beyond a closure).

``ObserveMiddleware`` (outer): request id (a short safe ``X-Request-ID`` from the client, else a
fresh uuid4 hex; echoed in the response and bound to structlog's context), one structured access
log line per request, Prometheus metrics, and the last-resort 500 in the error format.
``AuthRateLimitMiddleware`` (inner): resolves the caller's principal once (the dependencies then
only check scopes) and applies a per-principal (or per client IP) token bucket: 429 with
``Retry-After`` in the error format.

The access log carries method, path (never the query string), route template, status,
duration_ms, request_id and principal: never headers, bodies or credentials.
``configure_logging`` is the only place structlog is configured (called by the CLI).
"""

from __future__ import annotations

import logging
import math
import re
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any, TextIO

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradewind.api.deps import Authenticator, Principal
from tradewind.api.errors import (
    Unauthorized,
    error_response,
    internal_error_response,
    traceback_text,
)
from tradewind.errors import ConfigError

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_UNMATCHED = "<unmatched>"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def configure_logging(json: bool, *, stream: TextIO | None = None, level: str = "info") -> None:
    """Structlog to ``stream`` (stderr): JSON lines (``json=True``, for production) or pretty
    console output. Tracebacks are plain text without local variables (which may hold secrets)."""
    levels = logging.getLevelNamesMapping()
    if level.upper() not in levels:
        raise ConfigError(f"log level {level!r} is unknown; expected debug, info, warning, error")
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        processors.append(
            structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
        )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(levels[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=True,
    )


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's ``X-Request-ID`` when it is a short safe token, else a new uuid4 hex."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            if _SAFE_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_template(scope: Scope, templates: dict[int, str]) -> str:
    """The matched route's full path template (bounded label cardinality: never the raw path),
    or ``<unmatched>``. ``templates`` maps a declared route's id to its path in the app (with
    its router's prefix), as ``scope["route"]`` holds the route as declared."""
    route = scope.get("route")
    if route is None:
        return _UNMATCHED
    template = templates.get(id(route))
    if template is not None:
        return template
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else _UNMATCHED


class HttpMetrics:
    """Request counter and latency histogram by method, route template and status."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("method", "route", "status")
        self.requests = Counter(
            "tradewind_http_requests", "HTTP requests served", labels, registry=registry
        )
        self.latency = Histogram(
            "tradewind_http_request_duration_seconds",
            "Time from receiving a request to finishing its response",
            labels,
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method if method in _METHODS else "OTHER", route, status)
        children = self._children.get(key)
        if children is None:
            labels = (key[0], route, str(status))
            children = (self.requests.labels(*labels), self.latency.labels(*labels))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


class ObserveMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: HttpMetrics,
        templates: dict[int, str],
        logger_name: str = "tradewind.api",
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates
        self.log = structlog.get_logger(logger_name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        state = scope.setdefault("state", {})
        rid = request_id_from(scope["headers"])
        state["request_id"] = rid
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()),
                                                  (REQUEST_ID_HEADER, rid.encode())]}  # fmt: skip
            elif message["type"] == "websocket.accept":
                started, status = True, 101
            elif message["type"] == "websocket.close" and not started:
                status = 403  # refused before the handshake completed
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=rid)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if started or scope["type"] != "http":  # too late for an error response
                self.log.error("unhandled error", exception=traceback_text(exc))
                raise
            await internal_error_response(scope, exc)(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            route = route_template(scope, self.templates)
            if scope["type"] == "http":
                self.metrics.observe(scope["method"], route, status, seconds)
            principal: Principal | None = state.get("principal")
            self.log.info(
                "request",
                method=scope.get("method", "WEBSOCKET"),
                path=scope["path"],
                route=route,
                status=status,
                duration_ms=round(seconds * 1000, 3),
                principal=principal.actor if principal is not None else None,
            )
            structlog.contextvars.reset_contextvars(**tokens)


class TokenBucket:
    """In-memory token buckets: ``per_minute`` tokens each, refilled continuously."""

    MAX_BUCKETS = 100_000

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, list[float]] = {}

    def take(self, key: str) -> float:
        """0 when ``key`` may proceed (one token spent), else the seconds until it may."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.MAX_BUCKETS:
                self._prune(now)
            self._buckets[key] = [self.capacity - 1.0, now]
            return 0.0
        tokens = min(self.capacity, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Drop the buckets that are full again (they hold nothing a new bucket would not)."""
        full = [
            k for k, (tokens, ts) in self._buckets.items()
            if tokens + (now - ts) * self.rate >= self.capacity
        ]  # fmt: skip
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= self.MAX_BUCKETS:
            self._buckets.clear()


class AuthRateLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, authenticator: Authenticator, limiter: TokenBucket | None
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        principal: Principal | None = None
        try:
            principal = await self.authenticator.resolve(scope["headers"])
            state["auth_error"] = None
        except Unauthorized as exc:
            state["auth_error"] = exc
        state["principal"] = principal
        if self.limiter is not None and scope["type"] == "http":
            if principal is not None:
                key = principal.actor
            else:
                client = scope.get("client")
                key = f"ip:{client[0] if client else 'unknown'}"
            wait = self.limiter.take(key)
            if wait > 0:
                retry = max(1, math.ceil(wait))
                response = error_response(
                    scope,
                    429,
                    f"rate limit of {int(self.limiter.capacity)} requests per minute exceeded "
                    f"for {key}; retry in {retry} s",
                    headers={"Retry-After": str(retry)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413 in the error format: at once when the
    Content-Length says so, else when the streamed body crosses the limit (the error is raised
    while the route reads its body, so the error handlers render it)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_bytes:
                    message = f"request body of {int(value)} bytes exceeds {self.max_bytes}"
                    await error_response(scope, 413, message)(scope, receive, send)
                    return
                break
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # an HTTPException: the route's body reader lets it through to the handlers
                    raise HTTPException(413, f"request body exceeds {self.max_bytes} bytes")
            return message

        await self.app(scope, limited, send)
