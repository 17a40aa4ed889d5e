"""Who is calling: credentials -> ``Principal``, and the dependencies that demand one.

Credentials come from ``Authorization: Bearer <access token or API key>`` or
``X-API-Key: <key>``. ``Authenticator`` verifies them without touching the database on the hot
path: a user's (active, role, token_version) and an API key's row are cached for
``auth_cache_ttl_s`` seconds, and changes made through this process drop the cache entry at once
(another process's changes take effect within the TTL). The request middleware resolves the
principal once per request (so the rate limiter and the access log know who is calling); the
dependencies below only check it.

``require(scope)`` is the dependency routes use; routers given to ``create_app`` get
``DEFAULT_GUARD`` (scope ``read`` for GET/HEAD/OPTIONS, ``trade`` for anything else), so a route
is never public by accident. Effective scopes are always those of the credential intersected
with the user's *current* role: a demotion takes effect without waiting for tokens to expire.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, AwareDatetime
from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute

from tradewind.api import accounts
from tradewind.api.errors import Forbidden, Unauthorized, request_id_of
from tradewind.api.security import (
    TokenClaims,
    decode_token,
    looks_like_api_key,
    secret_matches,
    split_api_key,
)
from tradewind.api.settings import ApiSettings
from tradewind.errors import ConfigError
from tradewind.store import Store

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_CACHE = 10_000
_MISSING = (
    "authentication required: send Authorization: Bearer <access token or API key> "
    "or X-API-Key: <API key>"
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    username: str
    role: str
    scopes: frozenset[str]
    kind: Literal["user", "key"]
    key_prefix: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller: ``user:<name>`` or ``key:<prefix>``."""
        return f"key:{self.key_prefix}" if self.kind == "key" else f"user:{self.username}"

    def has(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True, slots=True)
class _User:
    active: bool
    role: str
    version: int


@dataclass(frozen=True, slots=True)
class _Key:
    key_hash: str
    scopes: frozenset[str]
    expires_at: dt.datetime | None
    revoked: bool
    username: str
    role: str
    active: bool


V = TypeVar("V")


class _TtlCache(Generic[V]):
    """name -> value (None = known not to exist) remembered for ``ttl`` seconds."""

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self.ttl, self.clock = ttl, clock
        self.items: dict[str, tuple[float, V | None]] = {}
        self.generation = 0  # bumped by every pop: a load that started before it is dropped

    def get(self, name: str) -> tuple[bool, V | None]:
        entry = self.items.get(name)
        if entry is None or self.clock() - entry[0] > self.ttl:
            return False, None
        return True, entry[1]

    def put(self, name: str, value: V | None, loaded: float, generation: int) -> None:
        if generation != self.generation:
            return
        if len(self.items) >= _MAX_CACHE:
            self.items.clear()
        self.items[name] = (loaded, value)

    def pop(self, name: str) -> None:
        self.generation += 1
        self.items.pop(name, None)


class Authenticator:
    """Verifies credentials for one app; see the module docstring for the caching rules."""

    def __init__(
        self, store: Store, settings: ApiSettings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self._signing_key = settings.signing_key()
        self._clock = clock
        self._users: _TtlCache[_User] = _TtlCache(settings.auth_cache_ttl_s, clock)
        self._keys: _TtlCache[_Key] = _TtlCache(settings.auth_cache_ttl_s, clock)
        self._touched: set[str] = set()
        self._tokens: dict[str, TokenClaims] = {}  # verified signatures (claims are immutable)

    async def resolve(self, headers: Iterable[tuple[bytes, bytes]]) -> Principal | None:
        """The principal of a request's raw ASGI headers; None when it carries no bearer or
        API-key credential (HTTP Basic is left to the token endpoint); ``Unauthorized`` when the
        credential it carries is not valid."""
        authorization = api_key = None
        for name, value in headers:
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"x-api-key" and api_key is None:
                api_key = value.decode("latin-1").strip()
        bearer = None
        if authorization is not None:
            scheme, _, param = authorization.strip().partition(" ")
            if scheme.lower() == "bearer" and param.strip():
                bearer = param.strip()
            elif scheme.lower() != "basic":
                raise Unauthorized("unsupported Authorization header; use Bearer <credential>")
        if bearer is not None and api_key is not None:
            raise Unauthorized("send one credential, not both Authorization and X-API-Key")
        if api_key is not None:
            return await self._from_key(api_key)
        if bearer is None:
            return None
        if looks_like_api_key(bearer):
            return await self._from_key(bearer)
        return await self._from_token(bearer)

    async def _from_token(self, token: str) -> Principal:
        claims = self._tokens.get(token)
        if claims is None or claims.expires_at <= time.time():
            claims = decode_token(self._signing_key, token, "access")  # ~40 µs: worth caching
            if len(self._tokens) >= _MAX_CACHE:
                self._tokens.clear()
            self._tokens[token] = claims
        user = await self._user(claims.username)
        if user is None or not user.active:
            raise Unauthorized("the token's user does not exist or is disabled")
        if user.version != claims.version:
            raise Unauthorized("token revoked (logout or password change); log in again")
        scopes = frozenset(claims.scopes) & frozenset(accounts.ROLE_SCOPES.get(user.role, ()))
        return Principal(claims.username, user.role, scopes, "user")

    async def _from_key(self, value: str) -> Principal:
        prefix, secret = split_api_key(value)
        key = await self._key(prefix)
        if key is None or not secret_matches(secret, key.key_hash):
            raise Unauthorized("invalid API key")
        if key.revoked:
            raise Unauthorized(f"API key {prefix} has been revoked")
        if key.expires_at is not None and key.expires_at <= dt.datetime.now(dt.UTC):
            raise Unauthorized(f"API key {prefix} expired at {key.expires_at.isoformat()}")
        if not key.active:
            raise Unauthorized("the API key's user is disabled")
        if prefix not in self._touched:  # last_used_at, at most once per cache period
            self._touched.add(prefix)
            await anyio.to_thread.run_sync(accounts.touch_api_key, self.store, prefix)
        scopes = key.scopes & frozenset(accounts.ROLE_SCOPES.get(key.role, ()))
        return Principal(key.username, key.role, scopes, "key", prefix)

    async def _user(self, username: str) -> _User | None:
        hit, user = self._users.get(username)
        if not hit:
            loaded, generation = self._clock(), self._users.generation
            user = await anyio.to_thread.run_sync(self._load_user, username)
            self._users.put(username, user, loaded, generation)
        return user

    def _load_user(self, username: str) -> _User | None:
        row = accounts.find_user(self.store, username)
        return None if row is None else _User(row.active, row.role, row.token_version)

    async def _key(self, prefix: str) -> _Key | None:
        hit, key = self._keys.get(prefix)
        if not hit:
            loaded, generation = self._clock(), self._keys.generation
            key = await anyio.to_thread.run_sync(self._load_key, prefix)
            self._keys.put(prefix, key, loaded, generation)
            self._touched.discard(prefix)
        return key

    def _load_key(self, prefix: str) -> _Key | None:
        found = accounts.lookup_api_key(self.store, prefix)
        if found is None:
            return None
        row, user = found
        return _Key(
            key_hash=row.key_hash, scopes=frozenset(row.scopes), expires_at=row.expires_at,
            revoked=row.revoked_at is not None, username=user.username, role=user.role,
            active=user.active,
        )  # fmt: skip

    def invalidate_user(self, username: str) -> None:
        """Forget what is cached about ``username`` and their keys (after a change)."""
        self._users.pop(username)
        for prefix, (_, key) in list(self._keys.items.items()):
            if key is not None and key.username == username:
                self._keys.pop(prefix)

    def invalidate_key(self, prefix: str) -> None:
        self._keys.pop(prefix)


# --- dependencies ------------------------------------------------------------------------------

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="An access token from POST /api/v1/auth/token, or an API key (tw_...).",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="apiKeyAuth",
    description="An API key (tw_<prefix>_<secret>) from POST /api/v1/auth/keys.",
)


async def current_principal(request: HTTPConnection) -> Principal:
    """The request's principal (resolved by the middleware, or here when it did not run);
    ``Unauthorized`` naming what is wrong when there is none."""
    state = request.scope.setdefault("state", {})
    if "principal" not in state:
        try:
            state["principal"] = await request.app.state.authenticator.resolve(
                request.scope["headers"]
            )
            state["auth_error"] = None
        except Unauthorized as exc:
            state["principal"], state["auth_error"] = None, exc
    principal: Principal | None = state["principal"]
    if principal is None:
        error: Unauthorized | None = state.get("auth_error")
        raise error if error is not None else Unauthorized(_MISSING)
    return principal


class Require:
    """A dependency returning the caller's ``Principal`` once it holds ``scope``: 401 without a
    valid credential, 403 without the scope. ``scope=None``: ``read`` for GET/HEAD/OPTIONS and
    ``trade`` for any other method."""

    def __init__(self, scope: str | None) -> None:
        if scope is not None and scope not in accounts.SCOPES:
            raise ConfigError(f"scope {scope!r} is unknown; expected one of {accounts.SCOPES}")
        self.scope = scope

    def scope_for(self, method: str) -> str:
        if self.scope is not None:
            return self.scope
        return "read" if method.upper() in SAFE_METHODS else "trade"

    async def __call__(
        self,
        request: HTTPConnection,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
        _api_key: Annotated[str | None, Depends(api_key_scheme)],
    ) -> Principal:
        principal = await current_principal(request)
        method = request.scope.get("method", "GET")  # a WebSocket handshake counts as a GET
        scope = self.scope_for(method)
        if scope not in principal.scopes:
            raise Forbidden(
                f"{method} {request.url.path} needs the {scope!r} scope; "
                f"{principal.actor} has {sorted(principal.scopes)}"
            )
        return principal

    def __repr__(self) -> str:
        return f"Require({self.scope!r})"


_GUARDS = {scope: Require(scope) for scope in accounts.SCOPES}
DEFAULT_GUARD = Require(None)


def require(scope: str) -> Require:
    """The dependency for ``scope`` (``read``, ``trade`` or ``admin``): use it as
    ``principal: Annotated[Principal, Depends(require("trade"))]`` or in a router's
    ``dependencies``. The same object is returned for the same scope, so FastAPI runs it once
    per request however often it is declared."""
    try:
        return _GUARDS[scope]
    except KeyError:
        raise ConfigError(
            f"scope {scope!r} is unknown; expected one of {accounts.SCOPES}"
        ) from None


Reader = Annotated[Principal, Depends(require("read"))]
Trader = Annotated[Principal, Depends(require("trade"))]
Admin = Annotated[Principal, Depends(require("admin"))]

F = TypeVar("F", bound=Callable[..., Any])
_PUBLIC: set[Callable[..., Any]] = set()


def public(endpoint: F) -> F:
    """Mark an endpoint as reachable without a bearer/API-key credential (health, and the
    token endpoints, which check their own credential). Everything else must have a guard."""
    _PUBLIC.add(endpoint)
    return endpoint


def _guards(dependant: Dependant | None) -> list[Require]:
    found: list[Require] = []
    for sub in dependant.dependencies if dependant is not None else ():
        if isinstance(sub.call, Require):
            found.append(sub.call)
        found.extend(_guards(sub))
    return found


@dataclass(frozen=True, slots=True)
class Operation:
    """One API route as the app serves it (with its router's prefix and dependencies)."""

    path: str
    methods: frozenset[str]
    route: APIRoute  # the route as declared (the object Starlette puts in scope["route"])
    guards: tuple[Require, ...]
    public: bool
    in_schema: bool

    def required_scopes(self, method: str) -> list[str]:
        """The scopes a request needs to pass every guard (``[]``: no guard)."""
        return sorted({guard.scope_for(method) for guard in self.guards})


def api_operations(routes: Sequence[BaseRoute]) -> list[Operation]:
    """Every API route of an app's ``routes``, including those of included routers."""
    out = []
    for ctx in iter_route_contexts(routes):
        route = ctx.original_route
        if not isinstance(route, APIRoute):
            continue
        out.append(
            Operation(
                path=str(ctx.path_format),
                methods=frozenset(ctx.methods or ()),
                route=route,
                guards=tuple(_guards(ctx.dependant)),
                public=route.endpoint in _PUBLIC,
                in_schema=bool(ctx.include_in_schema),
            )
        )
    return out


def unguarded_routes(routes: Sequence[BaseRoute]) -> list[str]:
    """``METHODS path`` of every API route that is neither guarded nor marked ``public``."""
    return [
        f"{','.join(sorted(op.methods))} {op.path}"
        for op in api_operations(routes)
        if not op.public and not op.guards
    ]


def _as_utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC)
    except OverflowError as exc:
        raise ValueError(f"{value.isoformat()} is out of range in UTC") from exc


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
"""A request datetime: must carry a zone, converted to UTC (out of range in UTC: 422)."""


def audit_request(
    db: accounts.Db,
    request: Request,
    principal: Principal | None,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an audit row for an API action by ``principal`` (``anonymous`` when None),
    carrying the request id."""
    actor = principal.actor if principal is not None else "anonymous"
    accounts.audit(db, actor, action, target, detail, request_id_of(request.scope), "api")
