"""Walk every operation of the app's OpenAPI document and prove it refuses bad credentials.

The walk is generic: it reads ``app.openapi()`` and fills path and query parameters with dummy
values, so the routes the lead adds later (here the ``widgets`` router, declared without any
guard) are covered without touching this file. For every operation except health:
missing credentials, an expired access token, a refresh token used as an access token, tokens
revoked by logout and by a password change, and a revoked API key get 401; a viewer key on an
operation that needs ``trade`` or ``admin`` gets 403; all in the one error format. A positive
control (a valid admin token) proves the refusals come from the credentials.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI

from tradewind.api import Principal, accounts, require
from tradewind.api.deps import unguarded_routes
from tradewind.api.security import issue_token

PUBLIC = {("get", "/api/v1/health")}
MakeApi = Callable[..., Any]


def dummy(schema: dict[str, Any]) -> Any:
    """A value of the parameter's type (its validity does not matter: auth comes first)."""
    kinds = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
    if "integer" in kinds:
        return 1
    if "number" in kinds:
        return 1.5
    if "boolean" in kinds:
        return "true"
    return "dummy123"


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def send(
    api: Any, method: str, path: str, op: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    url, query = path, {}
    for p in op.get("parameters", []):
        if p["in"] == "path":
            url = url.replace("{" + p["name"] + "}", str(dummy(p.get("schema", {}))))
        elif p["in"] == "query" and p.get("required"):
            query[p["name"]] = dummy(p.get("schema", {}))
    kw: dict[str, Any] = {"headers": headers, "params": query}
    if "requestBody" in op:
        kw["json"] = {}
    return api.request(method.upper(), url, **kw)


def assert_error(r: httpx.Response, status: int, where: str) -> None:
    assert r.status_code == status, f"{where}: {r.status_code} {r.text}"
    body = r.json()
    assert set(body) == {"error"}, where
    assert {"code", "message", "request_id"} <= set(body["error"]), where
    assert body["error"]["code"] == {401: "unauthorized", 403: "forbidden"}[status], where
    assert body["error"]["request_id"] == r.headers["x-request-id"], where
    if status == 401:
        assert r.headers.get("www-authenticate"), f"{where}: no WWW-Authenticate"


def schemes(op: dict[str, Any]) -> set[str]:
    return {name for requirement in op.get("security", []) for name in requirement}


def test_every_operation_refuses_bad_credentials(make_api: MakeApi, db_url: str) -> None:
    api = make_api(db_url)
    key = api.app.state.settings.signing_key()
    expired = issue_token(key, username="root", typ="access", scopes=["read", "trade", "admin"],
                          version=0, ttl_s=60, now=time.time() - 7200)  # fmt: skip
    root_refresh = api.login("root")["refresh_token"]
    logged_out = api.login("tom")
    api.request("POST", "/api/v1/auth/logout",
                headers={"Authorization": f"Bearer {logged_out['access_token']}"})  # fmt: skip
    changed = api.login("vic")["access_token"]
    accounts.set_password(api.store, "vic", "vic-new-password")
    revoked_key = api.new_key("root")
    api.request("DELETE", f"/api/v1/auth/keys/{revoked_key[3:11]}", headers=api.bearer("root"))
    vic = {"Authorization": f"Bearer {api.login('vic', 'vic-new-password')['access_token']}"}
    r = api.request("POST", "/api/v1/auth/keys", json={"name": "viewer-key"}, headers=vic)
    viewer = r.json()["key"]

    bad: dict[str, dict[str, str]] = {
        "missing": {},
        "expired access token": {"Authorization": f"Bearer {expired}"},
        "refresh token as access token": {"Authorization": f"Bearer {root_refresh}"},
        "token revoked by logout (access)": {
            "Authorization": f"Bearer {logged_out['access_token']}"
        },
        "token revoked by logout (refresh)": {
            "Authorization": f"Bearer {logged_out['refresh_token']}"
        },
        "token revoked by password change": {"Authorization": f"Bearer {changed}"},
        "revoked API key (header)": {"X-API-Key": revoked_key},
        "revoked API key (bearer)": {"Authorization": f"Bearer {revoked_key}"},
    }
    spec = api.app.openapi()
    walked = operations(spec)
    paths = {(m, p) for m, p, _ in walked}
    assert ("post", "/api/v1/widgets") in paths  # a router added without a guard of its own
    assert {("post", "/api/v1/orders"), ("get", "/api/v1/portfolio"),
            ("post", "/api/v1/risk/halt"), ("post", "/api/v1/backtests")} <= paths  # fmt: skip
    checked = 0
    for method, path, op in walked:
        if (method, path) in PUBLIC:
            continue
        for what, headers in bad.items():
            if what.startswith("refresh token as") and "refreshToken" in schemes(op):
                continue  # that is exactly the credential the refresh endpoint takes
            assert_error(send(api, method, path, op, headers), 401, f"{what}: {method} {path}")
            checked += 1
        needs = set(op.get("x-required-scopes", []))
        if needs & {"trade", "admin"}:
            r = send(api, method, path, op, {"X-API-Key": viewer})
            assert_error(r, 403, f"viewer key: {method} {path}")
            checked += 1
    assert checked > 8 * 35


def test_walk_positive_control_and_scope_table(make_api: MakeApi, db_url: str) -> None:
    """With a valid admin token no operation answers 401/403; the scopes each operation
    declares match the rules (stated here independently of the code)."""
    api = make_api(db_url)
    spec = api.app.openapi()
    expected_admin = {("get", "/api/v1/users"), ("post", "/api/v1/users"),
                      ("patch", "/api/v1/users/{username}"), ("get", "/api/v1/audit"),
                      ("get", "/api/v1/widgets/report")}  # fmt: skip
    # changing what trades needs "trade"; lifting a halt needs an admin as well
    expected_trade = {("post", "/api/v1/widgets"), ("delete", "/api/v1/widgets/{widget_id}"),
                      ("post", "/api/v1/orders"), ("delete", "/api/v1/orders/{client_order_id}"),
                      ("post", "/api/v1/nodes/{node_id}/start"),
                      ("post", "/api/v1/nodes/{node_id}/stop"), ("post", "/api/v1/strategies"),
                      ("patch", "/api/v1/strategies/{node_id}/{strategy_id}"),
                      ("post", "/api/v1/strategies/{node_id}/{strategy_id}/start"),
                      ("post", "/api/v1/strategies/{node_id}/{strategy_id}/stop"),
                      ("post", "/api/v1/risk/halt"), ("post", "/api/v1/backtests")}  # fmt: skip
    admin_and_trade = {("post", "/api/v1/risk/resume")}
    own_credential = {("post", "/api/v1/auth/token"), ("post", "/api/v1/auth/refresh")}
    for method, path, op in operations(spec):
        scopes = op.get("x-required-scopes")
        if (method, path) in PUBLIC | own_credential:
            assert scopes == [] and "bearerAuth" not in schemes(op), (method, path)
        elif (method, path) in expected_admin:
            # the widgets report adds admin on top of its router's default (read for GET)
            assert scopes == (["admin", "read"] if "widgets" in path else ["admin"]), path
        elif (method, path) in expected_trade:
            assert scopes == ["trade"], (method, path)
        elif (method, path) in admin_and_trade:
            assert scopes == ["admin", "trade"], (method, path)
        else:
            assert scopes == ["read"], (method, path)
        if (method, path) not in PUBLIC | own_credential:
            assert schemes(op) == {"bearerAuth", "apiKeyAuth"}, (method, path)
            assert {"401", "403", "429", "500"} <= set(op["responses"]), (method, path)
        version = accounts.get_user(api.store, "root").token_version
        key = api.app.state.settings.signing_key()
        token = issue_token(key, username="root", typ="access", scopes=["read", "trade", "admin"],
                            version=version, ttl_s=60)  # fmt: skip
        r = send(api, method, path, op, {"Authorization": f"Bearer {token}"})
        if (method, path) not in own_credential:
            assert r.status_code not in (401, 403), f"{method} {path}: {r.text}"
    health = api.request("GET", "/api/v1/health")
    assert health.status_code == 200 and health.json()["database"] is True


def test_unguarded_routes_are_found() -> None:
    """``create_app`` refuses to build when a route has no guard; this is the check it runs."""
    app = FastAPI()
    router = APIRouter()

    @router.get("/open")
    def is_open() -> str:
        return "anyone"

    @router.get("/closed")
    def closed(who: Annotated[Principal, Depends(require("read"))]) -> str:
        return who.username

    app.include_router(router, prefix="/x")
    assert unguarded_routes(app.routes) == ["GET /x/open"]
