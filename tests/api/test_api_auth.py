"""Authentication end to end over a real app and store (SQLite and PostgreSQL): logins, token
lifecycle and revocation, API keys, hashed storage, no default credentials, no secrets in
responses or logs, and one run against a real uvicorn server."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from tradewind.api import ApiSettings, accounts, create_app
from tradewind.api.security import issue_token
from tradewind.errors import ConfigError
from tradewind.store import Store
from tradewind.store.models import ApiKeyRow, UserRow

ME = "/api/v1/auth/me"
MakeApi = Callable[..., Any]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_token_refresh_logout_cycle(make_api: MakeApi, db_url: str) -> None:
    api = make_api(db_url)
    pair = api.login("tom")
    assert pair["token_type"] == "bearer" and pair["expires_in"] == 900
    access = bearer(pair["access_token"])
    me = api.request("GET", ME, headers=access).json()
    assert me == {"username": "tom", "role": "trader", "scopes": ["read", "trade"],
                  "kind": "user", "key_prefix": None}  # fmt: skip

    refreshed = api.request("POST", "/api/v1/auth/refresh", headers=bearer(pair["refresh_token"]))
    assert refreshed.status_code == 200
    new_access = bearer(refreshed.json()["access_token"])
    assert api.request("GET", ME, headers=new_access).status_code == 200

    assert api.request("POST", "/api/v1/auth/logout", headers=new_access).status_code == 204
    for headers in (access, new_access):
        r = api.request("GET", ME, headers=headers)
        assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]
    r = api.request("POST", "/api/v1/auth/refresh", headers=bearer(pair["refresh_token"]))
    assert r.status_code == 401
    assert api.request("GET", ME, headers=api.bearer("tom")).status_code == 200  # log in again


def test_password_change_revokes_tokens(
    make_api: MakeApi, db_url: str, passwords: dict[str, str]
) -> None:
    api = make_api(db_url)
    vic = api.bearer("vic")
    assert api.request("GET", ME, headers=vic).status_code == 200
    new_pw = "a-brand-new-password"
    r = api.request("PATCH", "/api/v1/users/vic", headers=api.bearer("root"),
                    json={"password": new_pw})  # fmt: skip
    assert r.status_code == 200
    assert api.request("GET", ME, headers=vic).status_code == 401
    old = api.request("POST", "/api/v1/auth/token", auth=("vic", passwords["vic"]))
    assert old.status_code == 401
    fresh = bearer(api.login("vic", new_pw)["access_token"])
    assert api.request("GET", ME, headers=fresh).status_code == 200


def test_non_ascii_password_logs_in(make_api: MakeApi, db_url: str) -> None:
    api = make_api(db_url)
    body = {"username": "zoe", "password": "pässwörd-ßüñ-密码", "role": "viewer"}
    assert (
        api.request("POST", "/api/v1/users", headers=api.bearer("root"), json=body).status_code
        == 201
    )
    basic = base64.b64encode(f"zoe:{body['password']}".encode()).decode()
    r = api.request("POST", "/api/v1/auth/token", headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200 and r.json()["access_token"]


def test_wrong_or_missing_credentials(make_api: MakeApi, db_url: str, logs: Any) -> None:
    api = make_api(db_url)
    wrong = api.request("POST", "/api/v1/auth/token", auth=("tom", "not-the-password"))
    unknown = api.request("POST", "/api/v1/auth/token", auth=("nobody", "whatever-pass"))
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Basic")
        assert r.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert api.request("POST", "/api/v1/auth/token").status_code == 401
    garbage = {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}
    assert api.request("POST", "/api/v1/auth/token", headers=garbage).status_code == 401
    refused = [
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": "Digest x"},
        {"X-API-Key": "tw_short"},
        {"Authorization": "Bearer tw_" + "A" * 52},
        {"X-API-Key": "tw_" + "A" * 8 + "_" + "B" * 43},  # well formed, unknown prefix
    ]
    for header in refused:
        r = api.request("GET", ME, headers=header)
        assert r.status_code == 401, header
    failed = [r for r in logs.records() if r.get("event") == "request" and r["status"] == 401]
    assert len(failed) == 4 + len(refused), "every refused request is logged"


def test_expired_forged_and_inflated_tokens(
    make_api: MakeApi, db_url: str, api_settings: Callable[..., ApiSettings]
) -> None:
    api = make_api(db_url)
    key = api_settings().signing_key()
    expired = issue_token(key, username="root", typ="access", scopes=["read", "trade", "admin"],
                          version=0, ttl_s=60, now=time.time() - 3600)  # fmt: skip
    r = api.request("GET", ME, headers=bearer(expired))
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    forged = issue_token("another-secret-" + "y" * 40, username="root", typ="access",
                         scopes=["admin"], version=0, ttl_s=600)  # fmt: skip
    assert api.request("GET", ME, headers=bearer(forged)).status_code == 401
    refresh = api.login("root")["refresh_token"]
    r = api.request("GET", ME, headers=bearer(refresh))
    assert r.status_code == 401 and "refresh token" in r.json()["error"]["message"]
    # a token claiming more scopes than the role grants gets only the role's
    inflated = issue_token(key, username="vic", typ="access", scopes=["read", "trade", "admin"],
                           version=0, ttl_s=600)  # fmt: skip
    assert api.request("GET", ME, headers=bearer(inflated)).json()["scopes"] == ["read"]


def test_passwords_and_keys_are_stored_hashed(
    make_api: MakeApi, db_url: str, passwords: dict[str, str]
) -> None:
    api = make_api(db_url)
    key = api.new_key("tom", ["read"])
    prefix, secret = key[3:11], key[12:]
    with api.store.session() as s:
        users = {u.username: u for u in s.scalars(select(UserRow))}
        row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix)).one()
        dump = "\n".join(
            repr(tuple(r))
            for table in ("users", "api_keys", "audit_log")
            for r in s.execute(text(f"SELECT * FROM {table}"))
        )
    for name, password in passwords.items():
        assert users[name].password_hash.startswith("$argon2id$")
        assert password not in dump
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in dump
    # the plaintext appeared in exactly one response: the one that created the key
    api.request("GET", "/api/v1/auth/keys", headers=api.bearer("tom"))
    api.request("GET", "/api/v1/auth/keys?all=true", headers=api.bearer("root"))
    api.request("GET", ME, headers={"X-API-Key": key})
    assert sum(secret in r.text for r in api.responses) == 1


def test_api_keys_scopes_revocation_expiry(make_api: MakeApi, db_url: str) -> None:
    api = make_api(db_url)
    tom = api.bearer("tom")
    # a key cannot exceed its owner's scopes, and a key cannot mint keys
    too_much = {"name": "x", "scopes": ["admin"]}
    assert api.request("POST", "/api/v1/auth/keys", headers=tom, json=too_much).status_code == 403
    key = api.new_key("tom", ["read"])
    as_key = {"X-API-Key": key}
    me = api.request("GET", ME, headers=as_key).json()
    assert me["kind"] == "key" and me["scopes"] == ["read"] and me["key_prefix"] == key[3:11]
    assert api.request("GET", ME, headers=bearer(key)).status_code == 200
    r = api.request("POST", "/api/v1/auth/keys", headers=as_key, json={"name": "y"})
    assert r.status_code == 403
    assert api.request("POST", "/api/v1/widgets", headers=as_key).status_code == 403
    wrong_secret = key[:12] + ("A" if key[12] != "A" else "B") + key[13:]
    assert api.request("GET", ME, headers={"X-API-Key": wrong_secret}).status_code == 401
    listed = api.request("GET", "/api/v1/auth/keys", headers=tom).json()
    assert listed[0]["prefix"] == key[3:11] and listed[0]["last_used_at"] is not None
    # someone else's key cannot be revoked (404), the owner's can; an admin can revoke any
    other = api.new_key("vic", ["read"])
    assert api.request("DELETE", f"/api/v1/auth/keys/{other[3:11]}", headers=tom).status_code == 404
    assert api.request("DELETE", f"/api/v1/auth/keys/{key[3:11]}", headers=tom).status_code == 204
    r = api.request("GET", ME, headers=as_key)
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]
    root = api.bearer("root")
    assert (
        api.request("DELETE", f"/api/v1/auth/keys/{other[3:11]}", headers=root).status_code == 204
    )
    assert api.request("GET", ME, headers={"X-API-Key": other}).status_code == 401
    # expiry: a past expiry is refused at creation; a key that has expired since is rejected
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    r = api.request(
        "POST", "/api/v1/auth/keys", headers=tom, json={"name": "z", "expires_at": past}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"
    soon = api.new_key("tom")
    gone = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with api.store.session() as s:
        s.execute(update(ApiKeyRow).where(ApiKeyRow.prefix == soon[3:11]).values(expires_at=gone))
    api.app.state.authenticator.invalidate_key(soon[3:11])
    r = api.request("GET", ME, headers={"X-API-Key": soon})
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    # listings carry no secrets: own keys only, everyone's for an admin, never for others
    assert api.request("GET", "/api/v1/auth/keys?all=true", headers=tom).status_code == 403
    everyone = api.request("GET", "/api/v1/auth/keys?all=true", headers=root).json()
    assert {k["username"] for k in everyone} == {"tom", "vic"}
    assert all("key" not in k for k in everyone)


def test_role_change_and_disable_take_effect(
    make_api: MakeApi, db_url: str, passwords: dict[str, str]
) -> None:
    api = make_api(db_url)
    tom, root = api.bearer("tom"), api.bearer("root")
    key = {"X-API-Key": api.new_key("tom")}
    assert api.request("POST", "/api/v1/widgets", headers=tom).status_code == 201
    r = api.request("PATCH", "/api/v1/users/tom", headers=root, json={"role": "viewer"})
    assert r.status_code == 200 and r.json()["role"] == "viewer"
    assert api.request("POST", "/api/v1/widgets", headers=tom).status_code == 403
    assert api.request("POST", "/api/v1/widgets", headers=key).status_code == 403
    assert api.request("GET", "/api/v1/widgets", headers=key).status_code == 200
    api.request("PATCH", "/api/v1/users/tom", headers=root, json={"active": False})
    assert api.request("GET", ME, headers=tom).status_code == 401
    assert api.request("GET", ME, headers=key).status_code == 401
    login = api.request("POST", "/api/v1/auth/token", auth=("tom", passwords["tom"]))
    assert login.status_code == 401
    # an admin cannot lock themselves out
    for change in ({"role": "viewer"}, {"active": False}):
        r = api.request("PATCH", "/api/v1/users/root", headers=root, json=change)
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"


def test_user_admin_and_audit_trail(make_api: MakeApi, db_url: str) -> None:
    api = make_api(db_url)
    root = api.bearer("root")
    ann = {"username": "ann", "password": "ann-password-1", "role": "trader"}
    r = api.request("POST", "/api/v1/users", headers={**root, "X-Request-ID": "req-1"}, json=ann)
    assert r.status_code == 201 and r.json()["role"] == "trader"
    assert api.request("POST", "/api/v1/users", headers=root, json=ann).status_code == 409
    users = api.request("GET", "/api/v1/users", headers=root).json()
    assert [u["username"] for u in users] == ["ann", "root", "tom", "vic"]
    r = api.request("PATCH", "/api/v1/users/nobody", headers=root, json={"active": False})
    assert r.status_code == 404
    api.login("ann", "ann-password-1")
    api.request("POST", "/api/v1/auth/token", auth=("ann", "wrong-password"))

    rows = api.request("GET", "/api/v1/audit", headers=root).json()
    actions = [(r["actor"], r["action"], r["target"]) for r in rows]
    assert ("user:root", "user.create", "user:ann") in actions
    assert ("user:ann", "auth.login", "user:ann") in actions
    assert ("anonymous", "auth.login_failed", "user:ann") in actions
    created = next(r for r in rows if r["action"] == "user.create" and r["target"] == "user:ann")
    assert created["request_id"] == "req-1" and created["source"] == "api"
    assert "password" not in str(created["detail"])
    only = api.request("GET", "/api/v1/audit", headers=root,
                       params={"action": "user.create", "actor": "user:root"}).json()  # fmt: skip
    assert [r["target"] for r in only] == ["user:ann"]
    paged = api.request("GET", "/api/v1/audit?limit=2&offset=1", headers=root).json()
    assert [r["id"] for r in paged] == [r["id"] for r in rows[1:3]]
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert api.request("GET", "/api/v1/audit", headers=root, params={"since": future}).json() == []
    until = api.request("GET", "/api/v1/audit", headers=root, params={"until": future}).json()
    assert [r["id"] for r in until] == [r["id"] for r in rows]  # reads are not audited
    assert api.request("GET", "/api/v1/audit?limit=1001", headers=root).status_code == 422


def test_revocation_reaches_other_processes_within_the_cache_ttl(
    make_api: MakeApi, sqlite_url: str, api_settings: Callable[..., ApiSettings]
) -> None:
    api = make_api(sqlite_url, auth_cache_ttl_s=0.3)
    other = TestClient(create_app(api.store, api_settings(auth_cache_ttl_s=0.3)))  # 2nd process
    token = api.bearer("tom")
    assert other.get(ME, headers=token).status_code == 200
    assert api.request("POST", "/api/v1/auth/logout", headers=token).status_code == 204
    assert api.request("GET", ME, headers=token).status_code == 401  # this process: at once
    time.sleep(0.4)
    assert other.get(ME, headers=token).status_code == 401  # the other: within the TTL
    other.close()


# --- no default credentials ------------------------------------------------------------------


def test_ensure_admin_without_settings_generates_a_one_time_password(
    make_store: Callable[[str], Store], db_url: str, logs: Any
) -> None:
    store = make_store(db_url)
    password = accounts.ensure_admin(store, ApiSettings())
    assert password is not None and len(password) >= 20
    assert accounts.ensure_admin(store, ApiSettings()) is None
    with store.session() as s:
        users = list(s.scalars(select(UserRow)))
    assert [(u.username, u.role) for u in users] == [("admin", "admin")]
    assert (
        users[0].password_hash.startswith("$argon2id$") and password not in users[0].password_hash
    )
    assert accounts.authenticate(store, "admin", password) is not None
    assert accounts.authenticate(store, "admin", "admin") is None
    assert password not in logs.text
    other_store = (
        make_store(db_url.replace("tradewind.db", "other.db")) if "sqlite" in db_url else None
    )
    if other_store is not None:  # another deployment gets another password
        assert accounts.ensure_admin(other_store, ApiSettings()) not in (None, password)


def test_ensure_admin_uses_configured_credentials(
    make_store: Callable[[str], Store], sqlite_url: str
) -> None:
    store = make_store(sqlite_url)
    cfg = ApiSettings(admin_user="boss", admin_password="configured-password-1")
    assert accounts.ensure_admin(store, cfg) is None
    assert accounts.authenticate(store, "boss", "configured-password-1") is not None
    assert accounts.ensure_admin(store, ApiSettings(admin_user="again")) is None
    assert [u.username for u in accounts.list_users(store)] == ["boss"]


def test_ensure_admin_with_existing_users_does_nothing(
    make_store: Callable[[str], Store], sqlite_url: str
) -> None:
    store = make_store(sqlite_url)
    accounts.create_user(store, "someone", "someone-password", "viewer")
    assert accounts.ensure_admin(store, ApiSettings()) is None
    assert [u.username for u in accounts.list_users(store)] == ["someone"]


def test_settings_and_accounts_refuse_bad_values(
    make_store: Callable[[str], Store], sqlite_url: str
) -> None:
    with pytest.raises(ConfigError, match="32"):
        ApiSettings(jwt_secret="short")
    with pytest.raises(ConfigError, match="-5"):
        ApiSettings(access_ttl_s=-5)
    store = make_store(sqlite_url)
    with pytest.raises(ConfigError, match="password must be"):
        accounts.create_user(store, "shorty", "short", "viewer")
    with pytest.raises(ConfigError, match="'bad name'"):
        accounts.create_user(store, "bad name", "long-enough-password", "viewer")
    with pytest.raises(ConfigError, match="'wizard'"):
        accounts.create_user(store, "merlin", "long-enough-password", "wizard")


# --- secrets never leak -----------------------------------------------------------------------


def test_secrets_never_in_logs_or_other_responses(
    make_api: MakeApi, db_url: str, logs: Any, passwords: dict[str, str]
) -> None:
    api = make_api(db_url)
    pair = api.login("tom")
    issued_tokens = len(api.responses) - 1
    access = bearer(pair["access_token"])
    r = api.request("POST", "/api/v1/auth/keys", headers=access, json={"name": "bot"})
    issued_key = len(api.responses) - 1
    key = r.json()["key"]
    assert api.request("GET", ME, headers={"X-API-Key": key}).status_code == 200
    r = api.request("GET", "/api/v1/widgets", params={"token": key}, headers={"X-API-Key": key})
    assert r.status_code == 200
    wrong = "wrong-" + passwords["tom"]
    assert api.request("POST", "/api/v1/auth/token", auth=("tom", wrong)).status_code == 401
    api.request("GET", ME, headers=access)
    api.request("POST", "/api/v1/auth/refresh", headers=bearer(pair["refresh_token"]))

    assert '"event": "request"' in logs.text
    secrets_ = {"password": passwords["tom"], "wrong password": wrong, "key": key,
                "key secret": key[12:], "access token": pair["access_token"],
                "refresh token": pair["refresh_token"]}  # fmt: skip
    for what, value in secrets_.items():
        assert value not in logs.text, f"{what} logged"
    for i, resp in enumerate(api.responses):
        blob = resp.text + repr(resp.headers)
        assert passwords["tom"] not in blob and wrong not in blob
        if i != issued_tokens:
            assert pair["access_token"] not in blob and pair["refresh_token"] not in blob
        if i != issued_key:
            assert key[12:] not in blob
    widget_log = next(r for r in logs.records() if r.get("route") == "/api/v1/widgets")
    assert widget_log["path"] == "/api/v1/widgets"  # no query string
    assert widget_log["principal"] == f"key:{key[3:11]}"
    assert set(widget_log) >= {"method", "path", "status", "duration_ms", "request_id"}


# --- a real server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(
    make_store: Callable[[str], Store], sqlite_url: str, api_settings: Callable[..., ApiSettings]
) -> Iterator[tuple[str, str]]:
    store = make_store(sqlite_url)
    password = accounts.ensure_admin(store, api_settings())
    assert password is not None
    config = uvicorn.Config(create_app(store, api_settings()), host="127.0.0.1",
                            port=_free_port(), log_config=None, access_log=False,
                            lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}", password
    finally:
        server.should_exit = True
        thread.join(10)


def test_real_uvicorn_server(live_server: tuple[str, str]) -> None:
    base, password = live_server
    with httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/api/v1/health").json()["status"] == "ok"
        r = http.get(ME, headers={"X-Request-ID": "from-client-1"})
        assert r.status_code == 401 and r.headers["x-request-id"] == "from-client-1"
        assert r.json()["error"]["request_id"] == "from-client-1"
        token = http.post("/api/v1/auth/token", auth=("admin", password)).json()["access_token"]
        me = http.get(ME, headers=bearer(token))
        assert me.json()["username"] == "admin" and me.json()["role"] == "admin"
        metrics = http.get("/metrics", headers=bearer(token))
        assert 'route="/api/v1/auth/me",status="200"' in metrics.text
        assert http.get("/api/v1/nowhere").json()["error"]["code"] == "not_found"
