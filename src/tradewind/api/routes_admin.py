"""Administration (users, audit log; scope ``admin``), ``/health`` (public) and ``/metrics``.

An admin cannot demote or disable themselves, so the last admin cannot lock everyone out.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy import text

import tradewind
from tradewind.api import accounts
from tradewind.api.deps import Admin, Reader, UtcDatetime, audit_request, public, require
from tradewind.api.errors import Conflict, error_response, error_responses
from tradewind.store import Store
from tradewind.store.models import UserRow

Role = Literal["admin", "trader", "viewer"]


def _utf8_secret(value: SecretStr) -> SecretStr:
    if not accounts.is_utf8(value.get_secret_value()):
        raise ValueError("the password is not valid Unicode text (an unpaired surrogate)")
    return value


Password = Annotated[
    SecretStr,
    Field(min_length=accounts.MIN_PASSWORD_LEN, max_length=accounts.MAX_PASSWORD_LEN),
    AfterValidator(_utf8_secret),
]
Username = Annotated[str, Field(pattern=accounts.USERNAME_PATTERN, max_length=64)]
FilterText = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\x00]+$")]


router = APIRouter(tags=["admin"], dependencies=[Depends(require("admin"))])
health_router = APIRouter(tags=["meta"])
metrics_router = APIRouter(tags=["meta"])


class UserOut(BaseModel):
    username: str
    role: str
    active: bool
    created_at: dt.datetime


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password
    role: Role = "viewer"


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    active: bool | None = None
    password: Password | None = Field(default=None, description="also revokes their tokens")


class AuditEntry(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    request_id: str
    source: str


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    database: bool


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _user_out(row: UserRow) -> UserOut:
    return UserOut(username=row.username, role=row.role, active=row.active,
                   created_at=row.created_at)  # fmt: skip


@router.get("/users", response_model=list[UserOut])
def list_users(request: Request) -> list[UserOut]:
    return [_user_out(row) for row in accounts.list_users(_store(request))]


@router.post("/users", response_model=UserOut, status_code=201, responses=error_responses(409))
def create_user(request: Request, principal: Admin, body: UserCreate) -> UserOut:
    """Create a user (the password is stored only as an argon2id hash)."""
    with _store(request).session() as s:
        row = accounts.create_user(s, body.username, body.password.get_secret_value(), body.role)
        audit_request(s, request, principal, "user.create", f"user:{row.username}",
                      {"role": row.role})  # fmt: skip
    return _user_out(row)


@router.patch("/users/{username}", response_model=UserOut, responses=error_responses(404, 409))
def update_user(
    request: Request,
    principal: Admin,
    username: Annotated[str, Path(pattern=accounts.USERNAME_PATTERN, max_length=64)],
    body: UserPatch,
) -> UserOut:
    """Change a user's role, active flag and/or password (a new password, a role change or a
    deactivation all take effect on the user's existing credentials at once)."""
    if username == principal.username and (
        (body.role is not None and body.role != "admin") or body.active is False
    ):
        raise Conflict("an admin cannot demote or disable themselves; ask another admin")
    password = body.password.get_secret_value() if body.password is not None else None
    changed = {
        "role": body.role, "active": body.active,
        "password_changed": True if password is not None else None,
    }  # fmt: skip
    with _store(request).session() as s:
        row = accounts.update_user(
            s, username, role=body.role, active=body.active, password=password
        )
        audit_request(s, request, principal, "user.update", f"user:{username}",
                      {k: v for k, v in changed.items() if v is not None})  # fmt: skip
    request.app.state.authenticator.invalidate_user(username)
    return _user_out(row)


@router.get("/audit", response_model=list[AuditEntry])
def audit_log(
    request: Request,
    actor: Annotated[FilterText | None, Query(description="e.g. user:alice, key:AbC123xy")] = None,
    action: Annotated[FilterText | None, Query(description="e.g. user.create")] = None,
    since: Annotated[UtcDatetime | None, Query(description="inclusive")] = None,
    until: Annotated[UtcDatetime | None, Query(description="exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[AuditEntry]:
    """Audit rows, newest first, filtered by every given parameter."""
    rows = accounts.query_audit(
        _store(request), actor=actor, action=action, since=since, until=until,
        limit=limit, offset=offset,
    )  # fmt: skip
    return [
        AuditEntry(
            id=r.id,
            at=r.at,
            actor=r.actor,
            action=r.action,
            target=r.target,
            detail=r.detail,
            request_id=r.request_id,
            source=r.source,
        )
        for r in rows
    ]


@health_router.get("/health", response_model=Health, responses=error_responses(503))
@public
def health(request: Request) -> Health | JSONResponse:
    """Public liveness and readiness: 200 when the database answers, else 503."""
    try:
        with _store(request).engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return error_response(
            request.scope, 503, f"database unavailable ({type(exc).__name__})",
            code="unavailable",
            details={"status": "degraded", "version": tradewind.__version__, "database": False},
        )  # fmt: skip
    return Health(status="ok", version=tradewind.__version__, database=True)


@metrics_router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format",
        }
    },
)
def metrics(request: Request, _principal: Reader) -> Response:
    """Prometheus metrics of this API process (scope ``read``)."""
    registry: CollectorRegistry = request.app.state.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
