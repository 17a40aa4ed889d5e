"""The WebSocket event stream: authentication on the handshake (4401 / 4403), subscriptions,
events of a running node, a slow consumer closed with a reason, and real uvicorn with the
``websockets`` client (query-string token never logged)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import uvicorn
import websockets
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tradewind.api import ApiSettings, accounts
from tradewind.cli_serve import build_app
from tradewind.live import NodeConfig, StrategyConfig, TradingNode
from tradewind.live.platform import Platform
from tradewind.store import Store

SYMBOL = "ETHUSDT"


def make_bars(n: int, seed: int = 9) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2024-03-01", tz="UTC").value + np.arange(n, dtype=np.int64) * 60_000_000_000
    close = 2000 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    open_ = np.r_[close[0], close[:-1]]
    return pd.DataFrame(
        {
            "ts": ts,
            "open": open_,
            "high": np.maximum(open_, close) * 1.001,
            "low": np.minimum(open_, close) * 0.999,
            "close": close,
            "volume": rng.uniform(1, 10, n),
        }
    )


@dataclass
class Env:
    app: FastAPI
    store: Store
    platform: Platform
    node: TradingNode
    keys: dict[str, str]  # name -> API key: admin, viewer, trade-only


@pytest.fixture
def make_env(
    sqlite_url: str, tmp_path: Path, api_settings: Callable[..., ApiSettings]
) -> Iterator[Callable[..., Env]]:
    made: list[Env] = []

    def make(*, ws_queue: int = 1000, bars: int = 400, speed: float = 0.0) -> Env:
        store = Store(sqlite_url)
        store.migrate()
        accounts.create_user(store, "root", "correct horse battery", "admin")
        accounts.create_user(store, "vic", "correct horse battery", "viewer")
        keys = {
            "admin": accounts.create_api_key(store, "root", "k1", ["read", "trade", "admin"])[1],
            "viewer": accounts.create_api_key(store, "vic", "k2", ["read"])[1],
            "trade_only": accounts.create_api_key(store, "root", "k3", ["trade"])[1],
        }
        platform = Platform(store, reports_dir=tmp_path / "reports")
        fast = StrategyConfig(id="fast", strategy="sma_cross", params={"fast": 2, "slow": 5})
        node = platform.add_node(
            NodeConfig(id="w1", strategies=[fast], speed=speed), data={SYMBOL: make_bars(bars)}
        )
        app = build_app(store, api_settings(), platform, ws_queue=ws_queue)
        env = Env(app, store, platform, node, keys)
        made.append(env)
        return env

    yield make
    for env in made:
        env.platform.close_jobs()
        env.store.dispose()


def _closed(client: TestClient, url: str, **kw: Any) -> WebSocketDisconnect:
    with client.websocket_connect(url, **kw) as ws, pytest.raises(WebSocketDisconnect) as info:
        ws.receive_text()
    return info.value


def test_missing_wrong_and_insufficient_credentials_are_refused(
    make_env: Callable[..., Env],
) -> None:
    env = make_env()
    with TestClient(env.app) as client:
        missing = _closed(client, "/api/v1/ws")
        assert missing.code == 4401 and "authentication required" in missing.reason
        wrong = _closed(client, "/api/v1/ws?token=tw_AAAAAAAA_" + "x" * 43)
        assert wrong.code == 4401 and "invalid API key" in wrong.reason
        garbage = _closed(client, "/api/v1/ws?token=not-a-token")
        assert garbage.code == 4401
        header = _closed(client, "/api/v1/ws", headers={"Authorization": "Bearer nope"})
        assert header.code == 4401
        key = env.keys["admin"]
        both = _closed(client, f"/api/v1/ws?token={key}", headers={"X-API-Key": key})
        assert both.code == 4401 and "one credential" in both.reason
        no_read = _closed(client, f"/api/v1/ws?token={env.keys['trade_only']}")
        assert no_read.code == 4403 and "'read' scope" in no_read.reason


def test_subscribers_get_orders_fills_and_equity_in_sequence(
    make_env: Callable[..., Env],
) -> None:
    env = make_env()
    env.node.start()
    with TestClient(env.app) as client:
        url = f"/api/v1/ws?token={env.keys['viewer']}"
        with client.websocket_connect(url) as ws:
            ws.send_json({"op": "subscribe", "topics": ["orders", "fills", "equity"]})
            ack = ws.receive_json()
            assert ack == {
                "op": "subscriptions",
                "topics": ["orders", "fills", "equity"],
                "batch_ms": 0,
            }
            ws.send_json({"op": "subscribe", "topics": ["nope"]})
            assert "unknown topic" in ws.receive_json()["message"]
            ws.send_text("{")
            assert ws.receive_json() == {"op": "error", "message": "not JSON"}
            ws.send_json({"op": "ping"})
            assert ws.receive_json() == {"op": "pong"}
            env.node.step()
            r = client.post(
                "/api/v1/orders",
                headers={"X-API-Key": env.keys["admin"]},
                json={"node": "w1", "strategy": "fast", "side": "buy", "quantity": 0.5},
            )
            assert r.status_code == 201
            cid = r.json()["client_order_id"]
            env.node.step()
            got: list[dict[str, Any]] = []
            while (
                not any(m["topic"] == "fills" for m in got)
                or len([m for m in got if m["topic"] == "equity"]) < 2
            ):
                got.append(ws.receive_json())
            ws.send_json({"op": "unsubscribe", "topics": ["equity", "fills"]})
            while (msg := ws.receive_json()).get("op") != "subscriptions":
                got.append(msg)
            assert msg["topics"] == ["orders"]
    assert [m["seq"] for m in got] == list(range(1, len(got) + 1))
    mine = [
        m["data"] for m in got if m["topic"] == "orders" and m["data"]["client_order_id"] == cid
    ]
    assert [o["event"] for o in mine] == ["submitted", "accepted", "filled"]
    (fill,) = [m["data"] for m in got if m["topic"] == "fills"]
    assert fill["client_order_id"] == cid and fill["quantity"] == 0.5
    equity = [m["data"] for m in got if m["topic"] == "equity"]
    assert equity[-1]["equity"] == env.node.traders["fast"].engine.portfolio.equity()
    assert equity[-1]["node"] == "w1" and equity[-1]["strategy"] == "fast"


def test_a_slow_consumer_is_closed_with_a_reason_and_the_drop_is_counted(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(ws_queue=3)
    env.node.start()
    with TestClient(env.app) as client:
        with client.websocket_connect(f"/api/v1/ws?token={env.keys['viewer']}") as ws:
            # batch_ms: the writer collects for a second, so the 3-event queue overflows
            ws.send_json({"op": "subscribe", "topics": ["bars"], "batch_ms": 1000})
            assert ws.receive_json()["op"] == "subscriptions"
            for _ in range(10):
                env.node.step()
            with pytest.raises(WebSocketDisconnect) as info:
                while True:
                    ws.receive_json()
        assert info.value.code == 1008
        assert info.value.reason.startswith("slow consumer: 3 events queued after seq 0")
        metrics = client.get("/metrics", headers={"X-API-Key": env.keys["viewer"]}).text
    dropped = next(
        line
        for line in metrics.splitlines()
        if line.startswith("tradewind_ws_dropped_messages_total")
    )
    assert float(dropped.split()[-1]) == 10  # 3 queued and 7 refused: none sent
    assert 'tradewind_ws_closed_total{reason="slow"} 1.0' in metrics
    assert env.platform.subscriptions() == []


def test_real_uvicorn_streams_a_running_node_to_the_websockets_client(
    make_env: Callable[..., Env], logs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    env = make_env(bars=3000, speed=60_000)  # one bar per millisecond
    key = env.keys["viewer"]

    async def main() -> tuple[list[dict[str, Any]], int | None]:
        config = uvicorn.Config(
            env.app, host="127.0.0.1", port=0, lifespan="off", access_log=False, log_config=None
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        refused_code = None
        try:
            try:
                async with websockets.connect(f"ws://127.0.0.1:{port}/api/v1/ws") as ws:
                    await ws.recv()
            except websockets.ConnectionClosed as exc:
                refused_code = exc.rcvd.code if exc.rcvd else None
            got: list[dict[str, Any]] = []
            async with websockets.connect(f"ws://127.0.0.1:{port}/api/v1/ws?token={key}") as ws:
                await ws.send(
                    json.dumps({"op": "subscribe", "topics": ["equity", "orders", "fills", "node"]})
                )
                assert json.loads(await ws.recv())["op"] == "subscriptions"
                await env.platform.start_node("w1")
                while sum(m["topic"] == "fills" for m in got) < 3:
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
                await env.platform.stop_node("w1")
                while got[-1]["topic"] != "node" or got[-1]["data"]["event"] != "stopped":
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
        finally:
            server.should_exit = True
            await serving
        return got, refused_code

    with caplog.at_level(logging.DEBUG):
        got, refused_code = asyncio.run(main())
    assert refused_code == 4401
    assert [m["seq"] for m in got] == list(range(1, len(got) + 1))
    assert {m["topic"] for m in got} == {"equity", "orders", "fills", "node"}
    bars = [m["data"]["bar"] for m in got if m["topic"] == "equity"]
    assert bars == list(range(bars[0], bars[0] + len(bars)))  # every bar, in order
    assert got[0]["data"]["event"] == "started"
    server_lines = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("websockets.client")
    )  # the client's own
    assert key not in logs.text and key not in server_lines
    assert "token=<redacted>" in server_lines  # uvicorn's handshake line, redacted
