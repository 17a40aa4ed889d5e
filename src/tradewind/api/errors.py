"""One error format for every error response of the API, and the handlers that produce it.

Every 4xx/5xx body is ``{"error": {"code", "message", "request_id", "details"?}}``: ``code`` is a
stable snake_case word a client can branch on, ``message`` a sentence for a human, ``request_id``
the id also sent in the ``X-Request-ID`` header and written to the logs and the audit trail.
A 500 says nothing about internals; its traceback goes to the log under the same request id.
"""

from __future__ import annotations

import re
import traceback
from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from tradewind.errors import ConfigError, OrderRejected, TradewindError

BEARER_CHALLENGE = 'Bearer realm="tradewind"'
BASIC_CHALLENGE = 'Basic realm="tradewind"'

_CODE_OVERRIDES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    413: "content_too_large",
    422: "validation_error",
    429: "rate_limited",
    500: "internal",
}


class ApiError(TradewindError):
    """An error with its HTTP status: raise a subclass from a route or from account logic."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(
        self, message: str, *, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}


class Unauthorized(ApiError):
    """No valid credential (missing, malformed, expired, revoked, wrong type)."""

    status = 401
    code = "unauthorized"

    def __init__(self, message: str, *, challenge: str = BEARER_CHALLENGE) -> None:
        super().__init__(message, headers={"WWW-Authenticate": challenge})


class Forbidden(ApiError):
    """A valid credential without the scope (or ownership) the action needs."""

    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    """The action contradicts the current state (a duplicate name, locking yourself out, ...)."""

    status = 409
    code = "conflict"


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str
    details: Any = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting the error format for ``statuses``."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody, "description": HTTPStatus(status).phrase}
        if status == 401:
            entry["headers"] = {
                "WWW-Authenticate": {
                    "description": "the authentication scheme to use",
                    "schema": {"type": "string"},
                    "required": True,
                }
            }
        elif status == 429:
            entry["headers"] = {
                "Retry-After": {
                    "description": "seconds to wait before retrying",
                    "schema": {"type": "integer"},
                    "required": True,
                }
            }
        out[status] = entry
    return out


def code_for(status: int) -> str:
    """The snake_case error code of an HTTP status (``405`` -> ``method_not_allowed``)."""
    if status in _CODE_OVERRIDES:
        return _CODE_OVERRIDES[status]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "error"
    return re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")


def request_id_of(scope: Scope) -> str:
    state = scope.get("state")
    return str(state.get("request_id", "")) if isinstance(state, dict) else ""


def error_response(
    scope: Scope,
    status: int,
    message: str,
    *,
    code: str | None = None,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A response in the error format, carrying the request id of ``scope``."""
    error: dict[str, Any] = {
        "code": code or code_for(status),
        "message": message,
        "request_id": request_id_of(scope),
    }
    if details is not None:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _challenge(status: int, headers: dict[str, str] | None) -> dict[str, str] | None:
    if status != 401 or (headers and "WWW-Authenticate" in headers):
        return headers
    return {**(headers or {}), "WWW-Authenticate": BEARER_CHALLENGE}


async def http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI/Starlette ``HTTPException`` (including routing's own 404 and 405)."""
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.detail, str) and exc.detail:
        message, details = exc.detail, None
    else:
        message, details = HTTPStatus(exc.status_code).phrase, exc.detail
    headers = dict(exc.headers) if exc.headers else None
    return error_response(
        request.scope,
        exc.status_code,
        message,
        details=details,
        headers=_challenge(exc.status_code, headers),
    )


def field_errors(errors: Any) -> list[dict[str, Any]]:
    """Validation errors as ``{loc, msg, type}``: without the offending input, which may be a
    secret (a password of the wrong type) and is known to the caller anyway."""
    return [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
         "type": str(e.get("type", ""))}
        for e in errors
    ]  # fmt: skip


async def validation_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = field_errors(exc.errors())
    summary = "; ".join(f"{'.'.join(f['loc'])}: {f['msg']}" for f in fields[:3])
    more = f" (and {len(fields) - 3} more)" if len(fields) > 3 else ""
    return error_response(request.scope, 422, f"invalid request: {summary}{more}", details=fields)


async def tradewind_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Errors raised on purpose: their message is written for the user and shown as is."""
    assert isinstance(exc, TradewindError)
    if isinstance(exc, ApiError):
        return error_response(
            request.scope,
            exc.status,
            exc.message,
            code=exc.code,
            details=exc.details,
            headers=_challenge(exc.status, exc.headers or None),
        )
    if isinstance(exc, OrderRejected):
        return error_response(request.scope, 422, str(exc), code="rejected")
    if isinstance(exc, ConfigError):
        return error_response(request.scope, 400, str(exc), code="invalid")
    return error_response(request.scope, 400, str(exc), code="bad_request")


def traceback_text(exc: BaseException) -> str:
    """The plain traceback of ``exc``, formatted here rather than by the log renderer: some
    renderers (structlog's default rich one) print local variables, which hold credentials."""
    return "".join(traceback.format_exception(exc))


def internal_error_response(scope: Scope, exc: BaseException) -> JSONResponse:
    """A 500 without internals; the traceback is logged with the request id."""
    structlog.get_logger("tradewind.api").error(
        "unhandled error",
        method=scope.get("method"),
        path=scope.get("path"),
        error_type=type(exc).__name__,
        exception=traceback_text(exc),
    )
    rid = request_id_of(scope)
    return error_response(
        scope, 500, f"internal error; quote request id {rid or '(none)'} when reporting it"
    )


async def unhandled_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    """Last resort for errors raised outside the request middleware (which renders its own)."""
    return internal_error_response(request.scope, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_exception_handler)
    app.add_exception_handler(TradewindError, tradewind_error_handler)
    app.add_exception_handler(Exception, unhandled_exception_handler)
