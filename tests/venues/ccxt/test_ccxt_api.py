"""A live ccxt node served by the API (as ``tradewind serve --config`` runs it): it trades on the
Binance stand-in, its orders and fills come back through the REST API — and neither the API
key nor the secret appears in any response or log line."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tradewind.api import ApiSettings, accounts, create_app
from tradewind.api.routes_trading import routers
from tradewind.live.config import NodeConfig
from tradewind.live.platform import Platform
from tradewind.store import Store
from tradewind.testing.binance_standin import (
    DEFAULT_KEY,
    DEFAULT_SECRET,
    BinanceStandin,
    SymbolSpec,
)

SECRETS = (DEFAULT_KEY, DEFAULT_SECRET)


def test_live_node_through_the_api_never_shows_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TRADEWIND_CCXT_API_KEY", DEFAULT_KEY)
    monkeypatch.setenv("TRADEWIND_CCXT_SECRET", DEFAULT_SECRET)
    store = Store(f"sqlite:///{tmp_path / 'api.db'}")
    store.migrate()
    accounts.create_user(store, "root", "root-password-123", "admin")
    with BinanceStandin(
        [SymbolSpec("BTC", "USDT")], balances={"USDT": "10000"}, streams=False
    ) as ex:
        now_ms = time.time_ns() // 1_000_000 // 1000 * 1000
        ex.set_candles(
            "BTCUSDT",
            [[now_ms - k * 1000, 50000, 50000, 50000, 50000, 1] for k in range(40, 0, -1)],
            interval="1s",
        )
        config = NodeConfig.model_validate(
            {
                "id": "api-live",
                "cash": 1_000,
                "strategies": [
                    {"id": "sma", "strategy": "sma_cross", "params": {"fast": 2, "slow": 4}}
                ],
                "venue": {
                    "kind": "ccxt", "exchange": "binance", "symbol": "BTC/USDT",
                    "timeframe": "1s", "warmup": 20, "urls": ex.ccxt_urls(),
                    "poll_interval": 0.05,
                },
            }
        )  # fmt: skip
        platform = Platform(store, reports_dir=tmp_path / "reports")
        platform.add_node(config)
        app = create_app(
            store, ApiSettings(jwt_secret="k" * 48), platform=platform, extra_routers=routers()
        )
        bodies: list[str] = []
        with TestClient(app) as client:
            r = client.post("/api/v1/auth/token", auth=("root", "root-password-123"))
            auth = {"Authorization": f"Bearer {r.json()['access_token']}"}

            def get(path: str) -> str:
                resp = client.get(f"/api/v1{path}", headers=auth)
                assert resp.status_code == 200, (path, resp.text)
                bodies.append(resp.text)
                return resp.text

            assert client.post("/api/v1/nodes/api-live/start", headers=auth).status_code == 200
            price, deadline = 50000.0, time.monotonic() + 30
            while time.monotonic() < deadline:  # a rally then a drop: sma_cross buys, sells
                node = client.get("/api/v1/nodes/api-live", headers=auth).json()
                if node["bar"] >= 8:
                    break
                k = max(node["bar"], 0)
                price = 50000.0 + (200.0 * k if k < 4 else 800.0 - 300.0 * (k - 4))
                open_ms = time.time_ns() // 1_000_000 // 1000 * 1000
                ex.set_price("BTCUSDT", f"{price:.2f}")
                ex.add_candle("BTCUSDT", [open_ms, price, price, price, price, 1])
                time.sleep(0.1)
            for path in ("/nodes", "/nodes/api-live", "/orders", "/fills", "/positions",
                         "/balances", "/portfolio", "/strategies", "/risk", "/instruments",
                         "/audit"):  # fmt: skip
                get(path)
            assert '"side":"buy"' in get("/orders")  # it traded, through the real ccxt
            assert client.post("/api/v1/nodes/api-live/stop", headers=auth).status_code == 200
    everything = "\n".join(bodies) + "\n".join(r.getMessage() for r in caplog.records)
    for secret in SECRETS:
        assert secret not in everything
    assert ex.orders(), "the node placed orders at the exchange"
    store.dispose()
