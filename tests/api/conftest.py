"""Fixtures of the API tests: a real app over a real, migrated Store, users of every role, and
the JSON log output of the test captured in a string (structlog reconfigured per test)."""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
import structlog
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from tradewind.api import ApiSettings, Principal, accounts, configure_logging, create_app, require
from tradewind.api.routes_trading import routers as trading_routers
from tradewind.live.platform import Platform
from tradewind.store import Store

JWT_SECRET = "test-secret-" + "x" * 40
PASSWORDS = {name: secrets.token_urlsafe(12) for name in ("root", "tom", "vic")}
ROLES = {"root": "admin", "tom": "trader", "vic": "viewer"}


@dataclass
class Logs:
    """What the test logged, as JSON lines."""

    stream: io.StringIO

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def logs() -> Iterator[Logs]:
    """Every API test logs JSON lines into a buffer (configured the way ``serve`` does it);
    the previous structlog configuration comes back afterwards."""
    saved = structlog.get_config()
    capture = Logs(io.StringIO())
    configure_logging(json=True, stream=capture.stream)
    try:
        yield capture
    finally:
        structlog.reset_defaults()
        structlog.configure(**saved)


def settings(**overrides: Any) -> ApiSettings:
    base: dict[str, Any] = {"jwt_secret": JWT_SECRET, "rate_limit_per_minute": 0}
    return ApiSettings(**{**base, **overrides})


@pytest.fixture
def api_settings() -> Callable[..., ApiSettings]:
    """``api_settings(**overrides)``: test settings (fixed JWT secret, no rate limit)."""
    return settings


@pytest.fixture
def passwords() -> dict[str, str]:
    """The passwords of root (admin), tom (trader) and vic (viewer)."""
    return dict(PASSWORDS)


@pytest.fixture
def make_store() -> Iterator[Callable[[str], Store]]:
    stores: list[Store] = []

    def make(url: str) -> Store:
        store = new_store(url)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.dispose()


def new_store(url: str) -> Store:
    store = Store(url)
    store.migrate()
    return store


def add_users(store: Store) -> None:
    for name, role in ROLES.items():
        accounts.create_user(store, name, PASSWORDS[name], role)


@dataclass
class Api:
    """A client on an app, remembering every response body and header it received."""

    client: TestClient
    store: Store
    responses: list[httpx.Response] = field(default_factory=list)

    @property
    def app(self) -> Any:
        return self.client.app

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        r = self.client.request(method, url, **kw)
        self.responses.append(r)
        return r

    def login(self, name: str, password: str | None = None) -> dict[str, Any]:
        r = self.request("POST", "/api/v1/auth/token", auth=(name, password or PASSWORDS[name]))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def bearer(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.login(name)['access_token']}"}

    def new_key(self, name: str, scopes: list[str] | None = None) -> str:
        body: dict[str, Any] = {"name": f"{name}-key"}
        if scopes is not None:
            body["scopes"] = scopes
        r = self.request("POST", "/api/v1/auth/keys", headers=self.bearer(name), json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["key"])


def widgets_router() -> APIRouter:
    """A router as the lead will add them: no guard declared, one admin-only route."""
    router = APIRouter(prefix="/widgets", tags=["widgets"])

    @router.get("")
    def list_widgets() -> list[str]:
        return ["a"]

    @router.post("", status_code=201)
    def make_widget() -> dict[str, str]:
        return {"made": "yes"}

    @router.delete("/{widget_id}", status_code=204)
    def drop_widget(widget_id: int) -> None:
        return None

    @router.get("/report")
    def report(principal: Annotated[Principal, Depends(require("admin"))]) -> dict[str, str]:
        return {"for": principal.username}

    return router


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    """``make_api(url, **settings)``: users root/tom/vic (admin/trader/viewer) on a migrated
    store at ``url`` and a client on a fresh app as ``serve`` builds it (every trading router,
    a platform without nodes) plus the widgets router."""
    stores: list[Store] = []
    clients: list[TestClient] = []
    platforms: list[Platform] = []

    def make(url: str, *, users: bool = True, routers: tuple[APIRouter, ...] = (),
             **overrides: Any) -> Api:  # fmt: skip
        store = new_store(url)
        stores.append(store)
        if users:
            add_users(store)
        platform = Platform(store, reports_dir=tmp_path / f"reports{len(platforms)}")
        platforms.append(platform)
        extra = (widgets_router(), *trading_routers(), *routers)
        app = create_app(store, settings(**overrides), platform=platform, extra_routers=extra)
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        return Api(client, store)

    yield make
    for client in clients:
        client.close()
    for platform in platforms:
        platform.close_jobs()
    for store in stores:
        store.dispose()
