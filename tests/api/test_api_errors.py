"""One error format for every error (404, 405, 413, 422, 400, 401, 403, 409, 429, 500), request
ids, rate limiting, the access log, metrics and CORS."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter

from tradewind.api.middleware import TokenBucket, request_id_from
from tradewind.errors import ConfigError, OrderRejected, TradewindError

MakeApi = Callable[..., Any]
ME = "/api/v1/auth/me"
LOCAL_SECRET = "s3cr3t-held-in-a-local-variable"


def boom_router() -> APIRouter:
    router = APIRouter(prefix="/boom")

    @router.get("/crash")
    def crash() -> None:
        credential = LOCAL_SECRET  # what a traceback renderer with locals would print
        raise RuntimeError(f"internal detail: postgres://u:hunter2@db ({len(credential)})")

    @router.get("/config")
    def config() -> None:
        raise ConfigError("strategy parameter 'fast'=-3 must be > 0")

    @router.get("/rejected")
    def rejected() -> None:
        raise OrderRejected("order o-1 rejected: notional 5.0 below min_notional 10.0")

    @router.get("/plain")
    def plain() -> None:
        raise TradewindError("something the user did")

    @router.post("/echo")
    def echo(body: dict[str, int]) -> dict[str, int]:
        return body

    return router


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The error object of ``r``, after checking it is in the one format."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) <= {"code", "message", "request_id", "details"}
    assert err["code"] == code and isinstance(err["message"], str) and err["message"]
    assert re.fullmatch(r"[a-z][a-z0-9_]*", err["code"])
    assert err["request_id"] == r.headers["x-request-id"]
    return dict(err)


def test_one_error_format_everywhere(make_api: MakeApi, sqlite_url: str, logs: Any) -> None:
    api = make_api(sqlite_url, routers=(boom_router(),), max_body_bytes=1000)
    root, vic = api.bearer("root"), api.bearer("vic")

    error_of(api.request("GET", "/api/v1/no/such/route"), 404, "not_found")
    error_of(api.request("GET", "/nothing-here"), 404, "not_found")
    r = api.request("PUT", "/api/v1/users", headers=root)
    error_of(r, 405, "method_not_allowed")
    assert "PATCH" not in r.headers["allow"] and "GET" in r.headers["allow"]
    unauthorized = error_of(api.request("GET", "/api/v1/users"), 401, "unauthorized")
    assert "Authorization" in unauthorized["message"]
    error_of(api.request("GET", "/api/v1/users", headers=vic), 403, "forbidden")
    dup = {"username": "tom", "password": "long-enough-pw"}
    error_of(api.request("POST", "/api/v1/users", headers=root, json=dup), 409, "conflict")
    error_of(api.request("PATCH", "/api/v1/users/ghost", headers=root, json={}), 404, "not_found")

    bad = api.request("POST", "/api/v1/users", headers=root,
                      json={"username": "x y", "password": 12345678, "role": "god"})  # fmt: skip
    err = error_of(bad, 422, "validation_error")
    fields = {tuple(d["loc"]) for d in err["details"]}
    assert {("body", "username"), ("body", "password"), ("body", "role")} <= fields
    assert all(set(d) == {"loc", "msg", "type"} for d in err["details"])
    assert "12345678" not in bad.text  # the offending input (maybe a secret) is not echoed
    error_of(api.request("GET", "/api/v1/audit?limit=0", headers=root), 422, "validation_error")
    r = api.request("POST", "/api/v1/boom/echo", headers=root, content=b"{not json")
    error_of(r, 422, "validation_error")
    too_big = b'{"a": ' + b"1" * 2000 + b"}"
    big = api.request("POST", "/api/v1/boom/echo", headers=root, content=too_big)
    error_of(big, 413, "content_too_large")
    chunks = (too_big[i : i + 100] for i in range(0, len(too_big), 100))  # no Content-Length
    streamed = api.request("POST", "/api/v1/boom/echo", headers=root, content=chunks)
    error_of(streamed, 413, "content_too_large")

    error_of(api.request("GET", "/api/v1/boom/config", headers=root), 400, "invalid")
    rejected = error_of(api.request("GET", "/api/v1/boom/rejected", headers=root), 422, "rejected")
    assert "min_notional" in rejected["message"]
    error_of(api.request("GET", "/api/v1/boom/plain", headers=root), 400, "bad_request")

    crash = api.request("GET", "/api/v1/boom/crash", headers={**root, "X-Request-ID": "crash-1"})
    err = error_of(crash, 500, "internal")
    assert "hunter2" not in crash.text and "RuntimeError" not in crash.text
    assert "crash-1" in err["message"]
    records = logs.records()
    logged = next(r for r in records if r.get("event") == "unhandled error")
    assert logged["request_id"] == "crash-1" and "RuntimeError" in logged["exception"]
    assert "Traceback" in logged["exception"]
    access = next(
        r for r in records if r.get("event") == "request" and r["request_id"] == "crash-1"
    )
    assert access["status"] == 500 and access["route"] == "/api/v1/boom/crash"


def test_rate_limit_429_per_principal_and_per_ip(make_api: MakeApi, sqlite_url: str) -> None:
    api = make_api(sqlite_url, rate_limit_per_minute=3)
    # anonymous requests share the client IP's bucket
    for _ in range(3):
        assert api.request("GET", "/api/v1/health").status_code == 200
    r = api.request("GET", "/api/v1/health")
    err = error_of(r, 429, "rate_limited")
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= 20  # one token comes back every 20 s at 3 per minute
    assert str(retry) in err["message"]
    # a credential has its own bucket, independent of the IP's (tokens issued offline)
    key = api.app.state.settings.signing_key()
    from tradewind.api.security import issue_token

    tokens = {name: issue_token(key, username=name, typ="access", scopes=["read"], version=0,
                                ttl_s=600) for name in ("tom", "vic")}  # fmt: skip
    for _ in range(3):
        assert (
            api.request("GET", ME, headers={"Authorization": f"Bearer {tokens['tom']}"}).status_code
            == 200
        )
    limited = api.request("GET", ME, headers={"Authorization": f"Bearer {tokens['tom']}"})
    error_of(limited, 429, "rate_limited")
    assert (
        api.request("GET", ME, headers={"Authorization": f"Bearer {tokens['vic']}"}).status_code
        == 200
    )


def test_token_bucket_refill() -> None:
    now = [0.0]
    bucket = TokenBucket(60, clock=lambda: now[0])  # one token per second, 60 at most
    assert all(bucket.take("k") == 0.0 for _ in range(60))
    assert bucket.take("k") == pytest.approx(1.0)
    now[0] += 0.5
    assert bucket.take("k") == pytest.approx(0.5)
    now[0] += 0.5
    assert bucket.take("k") == 0.0
    assert bucket.take("other") == 0.0
    now[0] += 1000
    assert all(bucket.take("k") == 0.0 for _ in range(60))  # refilled, never above capacity
    assert bucket.take("k") > 0


def test_request_ids() -> None:
    assert request_id_from([(b"x-request-id", b"abc-123_X.y:z")]) == "abc-123_X.y:z"
    for unsafe in (b"has space", b"x" * 65, b"<script>", b""):
        generated = request_id_from([(b"x-request-id", unsafe)])
        assert re.fullmatch(r"[0-9a-f]{32}", generated), unsafe
    assert request_id_from([]) != request_id_from([])


def test_access_log_and_metrics(make_api: MakeApi, sqlite_url: str, logs: Any) -> None:
    api = make_api(sqlite_url)
    root = api.bearer("root")
    for name in ("ghost1", "ghost2"):
        api.request("PATCH", f"/api/v1/users/{name}", headers=root, params={"q": "s3cr3t"}, json={})
    text = api.request("GET", "/metrics", headers=root).text
    labels = 'method="PATCH",route="/api/v1/users/{username}",status="404"'
    assert f"tradewind_http_requests_total{{{labels}}} 2.0" in text
    assert "ghost1" not in text  # labelled by template, not by raw path
    assert 'tradewind_http_request_duration_seconds_bucket{le="0.001",method="POST"' in text
    patch_logs = [r for r in logs.records() if r.get("method") == "PATCH"]
    assert [r["path"] for r in patch_logs] == ["/api/v1/users/ghost1", "/api/v1/users/ghost2"]
    assert all(r["principal"] == "user:root" and r["status"] == 404 for r in patch_logs)
    assert all(r["level"] == "info" and "timestamp" in r for r in patch_logs)
    assert "s3cr3t" not in logs.text
    # metrics need a credential with scope read; a second app has its own registry
    error_of(api.request("GET", "/metrics"), 401, "unauthorized")
    other = make_api(sqlite_url.replace("tradewind.db", "other.db"))
    fresh = other.request("GET", "/metrics", headers=other.bearer("vic")).text
    assert "ghost" not in fresh and 'route="/api/v1/users/{username}"' not in fresh


def test_cors_only_when_configured(make_api: MakeApi, sqlite_url: str) -> None:
    origin = "https://dash.example.com"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization"}  # fmt: skip
    plain = make_api(sqlite_url)
    r = plain.request("OPTIONS", "/api/v1/auth/token", headers=preflight)
    assert "access-control-allow-origin" not in r.headers
    cors = make_api(sqlite_url.replace("tradewind.db", "cors.db"), cors_origins=[origin])
    r = cors.request("OPTIONS", "/api/v1/auth/token", headers=preflight)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == origin
    r = cors.request("GET", ME, headers={"Origin": origin})
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == origin
    r = cors.request("OPTIONS", "/api/v1/auth/token",
                     headers={**preflight, "Origin": "https://evil.example.com"})  # fmt: skip
    assert "access-control-allow-origin" not in r.headers


HOSTILE: list[tuple[str, str, bytes | None]] = [
    ("GET", "/api/v1/audit?actor=%00", None),
    ("GET", "/api/v1/audit?action=a%00b", None),
    ("GET", "/api/v1/audit?since=0001-01-01T00:00:00%2B14:00", None),
    ("GET", "/api/v1/audit?until=9999-12-31T23:59:59-14:00", None),
    ("GET", "/api/v1/audit?since=2024-01-01T00:00:00", None),  # no time zone
    ("GET", "/api/v1/audit?offset=99999999999999999999", None),
    ("PATCH", "/api/v1/users/a%00b", b"{}"),
    ("DELETE", "/api/v1/auth/keys/abc%00defg", None),
    ("POST", "/api/v1/auth/keys", b'{"name": "a\\u0000b"}'),
    ("POST", "/api/v1/auth/keys", b'{"name": "a\\ud800b"}'),
    ("POST", "/api/v1/auth/keys", b'{"name": "x", "expires_at": "9999-12-31T23:59:59-14:00"}'),
    ("POST", "/api/v1/auth/keys", b'{"name": "x", "scopes": []}'),
    ("POST", "/api/v1/users", b'{"username": "ok2", "password": "pass\\ud800word-long"}'),
    ("PATCH", "/api/v1/users/tom", b'{"password": "pass\\ud800word-long"}'),
    ("PATCH", "/api/v1/users/tom", b'{"role": "root"}'),
    ("POST", "/api/v1/users", b"[1, 2, 3]"),
    ("POST", "/api/v1/users", b'{"username": "x", "password": "long-enough", "extra": 1}'),
]


def test_hostile_input_gets_4xx_in_the_error_format(make_api: MakeApi, db_url: str) -> None:
    """Values a database or a hash function would choke on (NUL, lone surrogates, dates out of
    range in UTC, huge integers) are refused as 422 before they reach either."""
    api = make_api(db_url)
    root = {**api.bearer("root"), "content-type": "application/json"}
    for method, url, body in HOSTILE:
        r = api.request(method, url, headers=root, content=body)
        err = error_of(r, r.status_code, r.json()["error"]["code"])
        assert 400 <= r.status_code < 500, (method, url, body, r.text)
        assert err["code"] in {"validation_error", "invalid"}, (method, url, body)
    hostile_basic = base64.b64encode("ro\x00ot:pw\udfff".encode("utf-8", "surrogatepass"))
    r = api.request(
        "POST", "/api/v1/auth/token", headers={"Authorization": b"Basic " + hostile_basic}
    )
    error_of(r, 401, "unauthorized")
    # nothing broke: the listings still read back
    assert api.request("GET", "/api/v1/auth/keys?all=true", headers=root).status_code == 200
    assert api.request("GET", "/api/v1/users", headers=root).status_code == 200


def test_tracebacks_never_carry_local_variables(
    make_api: MakeApi, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Even under structlog's default (rich, locals-printing) renderer, a 500 logs a plain
    traceback: the credential held in the request's local variables is not printed."""
    import structlog

    structlog.reset_defaults()  # the fixture restores the JSON configuration afterwards
    api = make_api(sqlite_url, routers=(boom_router(),))
    token = api.login("root")["access_token"]
    r = api.request("GET", "/api/v1/boom/crash", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 500
    out = capsys.readouterr()
    assert "unhandled error" in out.out + out.err and "RuntimeError" in out.out + out.err
    assert LOCAL_SECRET not in out.out + out.err
    assert token[-20:] not in out.out + out.err


def test_health_reports_an_unreachable_database_as_503(api_settings: Callable[..., Any]) -> None:
    from fastapi.testclient import TestClient

    from tradewind.api import create_app
    from tradewind.store import Store

    store = Store("postgresql://nobody@127.0.0.1:1/none")  # nothing listens on port 1
    with TestClient(create_app(store, api_settings())) as client:
        err = error_of(client.get("/api/v1/health"), 503, "unavailable")
    assert err["details"]["database"] is False and err["details"]["status"] == "degraded"
    assert "nobody" not in err["message"]
    store.dispose()


def test_docs_are_public_and_logging_levels_checked(make_api: MakeApi, sqlite_url: str) -> None:
    from tradewind.api import configure_logging

    api = make_api(sqlite_url)
    assert api.request("GET", "/api/v1/docs").status_code == 200
    spec = api.request("GET", "/api/v1/openapi.json").json()
    assert {"bearerAuth", "apiKeyAuth", "basicAuth"} <= set(spec["components"]["securitySchemes"])
    with pytest.raises(ConfigError, match="'loud'"):
        configure_logging(json=True, level="loud")
