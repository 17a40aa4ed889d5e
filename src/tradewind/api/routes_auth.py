"""``/api/v1/auth``: log in (HTTP Basic -> token pair), refresh, log out, who am I, API keys.

The key plaintext appears in exactly one response: the one that creates it. Keys can only be
created from a login session (an access token), so a leaked key cannot mint more keys.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import HTTPConnection

from tradewind.api import accounts
from tradewind.api.deps import Reader, UtcDatetime, audit_request, public
from tradewind.api.errors import (
    BASIC_CHALLENGE,
    Forbidden,
    Unauthorized,
    error_responses,
    request_id_of,
)
from tradewind.api.security import PREFIX_LEN, decode_token, issue_token
from tradewind.api.settings import ApiSettings
from tradewind.store import Store
from tradewind.store.models import ApiKeyRow

Scope = Literal["read", "trade", "admin"]
PREFIX_PATTERN = rf"^[A-Za-z0-9_-]{{{PREFIX_LEN}}}$"


class Utf8Basic(HTTPBasic):
    """HTTP Basic with UTF-8 credentials (RFC 7617 ``charset="UTF-8"``; FastAPI's own decodes
    ASCII only, so a user with a non-ASCII password could never log in). None when the
    request has no Basic credentials; 401 when they are malformed."""

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, _, param = request.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            data = base64.b64decode(param.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError, binascii.Error):
            data = ""
        username, sep, password = data.partition(":")
        if not sep:
            raise Unauthorized("malformed HTTP Basic credentials", challenge=BASIC_CHALLENGE)
        return HTTPBasicCredentials(username=username, password=password)


basic_scheme = Utf8Basic(
    auto_error=False,
    scheme_name="basicAuth",
    realm="tradewind",
    description="Username and password (UTF-8), only for POST /api/v1/auth/token.",
)
refresh_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="refreshToken",
    bearerFormat="JWT",
    description="The refresh token, only for POST /api/v1/auth/refresh.",
)

public_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(prefix="/auth", tags=["auth"])


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds the access token stays valid")


class Me(BaseModel):
    username: str
    role: str
    scopes: list[str]
    kind: Literal["user", "key"]
    key_prefix: str | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=accounts.KEY_NAME_PATTERN)
    scopes: list[Scope] | None = Field(
        default=None, min_length=1, description="default: every scope of the caller"
    )
    expires_at: UtcDatetime | None = None


class ApiKeyOut(BaseModel):
    prefix: str
    name: str
    username: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the full key: shown in this response only, store it now")


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def _pair(settings: ApiSettings, username: str, role: str, version: int) -> TokenPair:
    key, scopes = settings.signing_key(), accounts.scopes_for_role(role)
    access = issue_token(key, username=username, typ="access", scopes=scopes, version=version,
                         ttl_s=settings.access_ttl_s)  # fmt: skip
    refresh = issue_token(key, username=username, typ="refresh", scopes=scopes, version=version,
                          ttl_s=settings.refresh_ttl_s)  # fmt: skip
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=settings.access_ttl_s)


@public_router.post("/token", response_model=TokenPair, responses=error_responses(401, 429, 500))
@public
def login(
    request: Request,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(basic_scheme)],
) -> TokenPair:
    """Exchange a username and password (HTTP Basic) for an access and a refresh token."""
    if credentials is None:
        raise Unauthorized("send the username and password with HTTP Basic authentication",
                           challenge=BASIC_CHALLENGE)  # fmt: skip
    store = _store(request)
    user = accounts.authenticate(store, credentials.username, credentials.password)
    valid_name = re.fullmatch(accounts.USERNAME_PATTERN, credentials.username) is not None
    target = f"user:{credentials.username}" if valid_name else "user:<invalid name>"
    if user is None:
        audit_request(store, request, None, "auth.login_failed", target)
        raise Unauthorized("wrong username or password, or the account is disabled",
                           challenge=BASIC_CHALLENGE)  # fmt: skip
    pair = _pair(_settings(request), user.username, user.role, user.token_version)
    accounts.audit(store, target, "auth.login", target, request_id=request_id_of(request.scope))
    return pair


@public_router.post("/refresh", response_model=TokenPair, responses=error_responses(401, 429, 500))
@public
def refresh(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(refresh_scheme)],
) -> TokenPair:
    """Exchange a valid refresh token (as ``Authorization: Bearer``) for a new token pair."""
    if credentials is None:
        raise Unauthorized("send the refresh token as Authorization: Bearer <refresh token>")
    settings = _settings(request)
    claims = decode_token(settings.signing_key(), credentials.credentials, "refresh")
    user = accounts.find_user(_store(request), claims.username)
    if user is None or not user.active:
        raise Unauthorized("the token's user does not exist or is disabled")
    if user.token_version != claims.version:
        raise Unauthorized("token revoked (logout or password change); log in again")
    return _pair(settings, user.username, user.role, user.token_version)


@router.post("/logout", status_code=204, response_class=Response)
def logout(request: Request, principal: Reader) -> Response:
    """Revoke every access and refresh token of the caller's user (API keys stay valid)."""
    store = _store(request)
    with store.session() as s:
        version = accounts.revoke_user_tokens(s, principal.username)
        audit_request(s, request, principal, "auth.logout", f"user:{principal.username}",
                      {"token_version": version})  # fmt: skip
    request.app.state.authenticator.invalidate_user(principal.username)
    return Response(status_code=204)


@router.get("/me", response_model=Me)
async def me(principal: Reader) -> Me:
    """Who the credential belongs to, and what it may do."""
    return Me(
        username=principal.username, role=principal.role, scopes=sorted(principal.scopes),
        kind=principal.kind, key_prefix=principal.key_prefix,
    )  # fmt: skip


def _key_out(row: ApiKeyRow, username: str) -> ApiKeyOut:
    return ApiKeyOut(
        prefix=row.prefix, name=row.name, username=username, scopes=list(row.scopes),
        created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )  # fmt: skip


@router.get("/keys", response_model=list[ApiKeyOut])
def list_keys(
    request: Request,
    principal: Reader,
    all_users: Annotated[
        bool, Query(alias="all", description="every user's keys (admin only)")
    ] = False,
) -> list[ApiKeyOut]:
    """The caller's API keys (``?all=true``: everyone's, for an admin). No secrets."""
    if all_users and not principal.has("admin"):
        raise Forbidden("listing every user's keys needs the 'admin' scope")
    rows = accounts.list_api_keys(_store(request), None if all_users else principal.username)
    return [_key_out(row, username) for row, username in rows]


@router.post("/keys", response_model=ApiKeyCreated, status_code=201, responses=error_responses(409))
def create_key(request: Request, principal: Reader, body: ApiKeyCreate) -> ApiKeyCreated:
    """Create an API key limited to ``scopes`` (a subset of the caller's). The response is the
    only place the full key ever appears."""
    if principal.kind != "user":
        raise Forbidden("API keys cannot create API keys; log in to create one")
    scopes = sorted(principal.scopes) if body.scopes is None else list(body.scopes)
    if not set(scopes) <= principal.scopes:
        raise Forbidden(
            f"scope(s) {sorted(set(scopes) - principal.scopes)} exceed the caller's "
            f"{sorted(principal.scopes)}"
        )
    with _store(request).session() as s:
        row, plaintext = accounts.create_api_key(
            s, principal.username, body.name, scopes, body.expires_at
        )
        audit_request(s, request, principal, "key.create", f"key:{row.prefix}",
                      {"name": row.name, "scopes": scopes})  # fmt: skip
    request.app.state.authenticator.invalidate_key(row.prefix)
    return ApiKeyCreated(key=plaintext, **_key_out(row, principal.username).model_dump())


@router.delete(
    "/keys/{prefix}",
    status_code=204,
    response_class=Response,
    responses=error_responses(404),
)
def revoke_key(
    request: Request,
    principal: Reader,
    prefix: Annotated[str, Path(pattern=PREFIX_PATTERN)],
) -> Response:
    """Revoke one of the caller's keys (an admin may revoke anyone's)."""
    owner = None if principal.has("admin") else principal.username
    with _store(request).session() as s:
        row = accounts.revoke_api_key(s, prefix, owner=owner)
        audit_request(s, request, principal, "key.revoke", f"key:{row.prefix}")
    request.app.state.authenticator.invalidate_key(prefix)
    return Response(status_code=204)
