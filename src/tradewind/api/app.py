"""``create_app``: the FastAPI application of ``tradewind serve``, versioned under ``/api/v1``.

Adding a resource is one router: ``create_app(store, extra_routers=[orders_router])`` mounts it
under ``/api/v1`` behind ``DEFAULT_GUARD`` (scope ``read`` for GET/HEAD/OPTIONS, ``trade`` for
every other method); a route that needs more declares ``Depends(require("admin"))``. The routes'
error responses are documented in the one error format, and each operation's OpenAPI entry
carries ``x-required-scopes``. The app refuses to build if any API route has no guard and is
not marked ``@public``.

Only ``GET /api/v1/health`` and the docs (``/api/v1/docs``, ``/api/v1/openapi.json``: a
description, no data) are reachable without a credential; the token endpoints take their own
(HTTP Basic, refresh token).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from prometheus_client import CollectorRegistry

import tradewind
from tradewind.api import routes_admin, routes_auth
from tradewind.api.deps import DEFAULT_GUARD, Authenticator, api_operations, unguarded_routes
from tradewind.api.errors import error_responses, install_error_handlers
from tradewind.api.middleware import (
    AuthRateLimitMiddleware,
    BodyLimitMiddleware,
    HttpMetrics,
    ObserveMiddleware,
    TokenBucket,
)
from tradewind.api.settings import ApiSettings
from tradewind.errors import ConfigError
from tradewind.store import Store

API_PREFIX = "/api/v1"
# documented on every guarded operation (each route adds its own 404/409 where they can happen)
GUARDED_ERRORS = (400, 401, 403, 422, 429, 500)

DESCRIPTION = """Tradewind: research, backtest, paper and live trading.

Authenticate with `Authorization: Bearer <access token>` (from `POST /api/v1/auth/token`
with HTTP Basic) or an API key (`Authorization: Bearer tw_...` or `X-API-Key: tw_...`).
Scopes: `read` (viewer), `read, trade` (trader), `read, trade, admin` (admin); each operation
lists what it needs in `x-required-scopes`. Every error has the body
`{"error": {"code", "message", "request_id", "details"?}}`.
"""


def create_app(
    store: Store,
    settings: ApiSettings | None = None,
    *,
    platform: object | None = None,
    extra_routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The API over ``store`` (already migrated) and ``platform`` (the trading node facade the
    resource routers use; kept on ``app.state.platform``)."""
    settings = settings if settings is not None else ApiSettings()
    app = FastAPI(
        title="Tradewind API",
        version=tradewind.__version__,
        description=DESCRIPTION,
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
        swagger_ui_oauth2_redirect_url=None,
        swagger_ui_parameters={"persistAuthorization": True},
    )
    app.state.store = store
    app.state.settings = settings
    app.state.platform = platform
    app.state.registry = CollectorRegistry()
    app.state.authenticator = Authenticator(store, settings)

    install_error_handlers(app)
    guarded = error_responses(*GUARDED_ERRORS)
    app.include_router(routes_auth.public_router, prefix=API_PREFIX,
                       responses=error_responses(422, 429, 500))  # fmt: skip
    app.include_router(routes_auth.router, prefix=API_PREFIX, responses=guarded)
    app.include_router(routes_admin.router, prefix=API_PREFIX, responses=guarded)
    app.include_router(routes_admin.health_router, prefix=API_PREFIX,
                       responses=error_responses(429, 500))  # fmt: skip
    app.include_router(routes_admin.metrics_router, responses=guarded)
    for router in extra_routers:
        app.include_router(
            router, prefix=API_PREFIX, dependencies=[Depends(DEFAULT_GUARD)], responses=guarded
        )
    unguarded = unguarded_routes(app.routes)
    if unguarded:
        raise ConfigError(f"API routes without authentication: {unguarded}; add a guard")

    # added innermost first: CORS (outermost) -> Observe -> AuthRateLimit -> BodyLimit
    if settings.max_body_bytes:
        app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    limiter = (
        TokenBucket(settings.rate_limit_per_minute) if settings.rate_limit_per_minute else None
    )
    app.add_middleware(
        AuthRateLimitMiddleware, authenticator=app.state.authenticator, limiter=limiter
    )
    templates = {id(op.route): op.path for op in api_operations(app.routes)}
    app.add_middleware(
        ObserveMiddleware, metrics=HttpMetrics(app.state.registry), templates=templates
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _openapi_with_scopes(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _openapi_with_scopes(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for op in api_operations(app.routes):
        for method in op.methods if op.in_schema else ():
            operation = schema["paths"].get(op.path, {}).get(method.lower())
            if operation is not None:
                operation["x-required-scopes"] = op.required_scopes(method)
    return schema
