"""The HTTP API of ``tradewind serve`` (FastAPI, versioned under ``/api/v1``).

``create_app(store, settings, platform=..., extra_routers=[...])`` builds it; resource routers
use ``require(scope)`` / ``Principal`` from ``tradewind.api.deps`` and record changes with
``audit_request`` (or ``accounts.audit``).
"""

from tradewind.api.app import API_PREFIX, create_app
from tradewind.api.deps import DEFAULT_GUARD, Principal, audit_request, require
from tradewind.api.middleware import configure_logging
from tradewind.api.settings import ApiSettings

__all__ = [
    "API_PREFIX",
    "DEFAULT_GUARD",
    "ApiSettings",
    "Principal",
    "audit_request",
    "configure_logging",
    "create_app",
    "require",
]
