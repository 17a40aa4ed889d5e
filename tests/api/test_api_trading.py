"""Trading resources over HTTP: a real Store, a real node, the real app (as ``serve`` builds it).

Orders go through the node's engine (stored as an intent, filled at the next bar's open when the
test steps the node); the kill switch, the portfolio, candles and backtests are checked against
the node's memory, the stored rows and independent computations."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.errors
import numpy as np
import pandas as pd
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from tradewind.analytics.metrics import basic_metrics
from tradewind.api import ApiSettings, accounts
from tradewind.api.security import issue_token
from tradewind.backtest.trades import round_trips
from tradewind.cli_serve import build_app
from tradewind.live import NodeConfig, StrategyConfig, TradingNode
from tradewind.live.platform import Platform
from tradewind.live.recovery import fill_from_row
from tradewind.store import Store
from tradewind.store.models import AuditRow, EquityRow, FillRow, OrderEventRow, OrderRow

SYMBOL = "BTCUSDT"


def make_bars(n: int = 600, seed: int = 3) -> pd.DataFrame:
    """A random-walk minute series in the loader's format."""
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2024-01-01", tz="UTC").value + np.arange(n, dtype=np.int64) * 60_000_000_000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    open_ = np.r_[close[0], close[:-1]]
    wick = np.abs(rng.normal(0, 0.002, n))
    return pd.DataFrame(
        {
            "ts": ts,
            "open": open_,
            "high": np.maximum(open_, close) * (1 + wick),
            "low": np.minimum(open_, close) * (1 - wick),
            "close": close,
            "volume": rng.uniform(1, 10, n),
        }
    )


BARS = make_bars()


@dataclass
class Env:
    client: TestClient
    platform: Platform
    store: Store
    node: TradingNode
    auth: dict[str, dict[str, str]]  # root (admin), tom (trader), vic (viewer): headers

    def get(self, url: str, user: str = "tom", **kw: Any) -> Any:
        return self.client.get(url, headers=self.auth[user], **kw)

    def post(self, url: str, body: Any = None, user: str = "tom") -> Any:
        return self.client.post(url, json=body, headers=self.auth[user])

    def steps(self, n: int) -> None:
        for _ in range(n):
            self.node.step()


@pytest.fixture
def make_env(
    tmp_path: Path, api_settings: Callable[..., ApiSettings], passwords: dict[str, str]
) -> Iterator[Callable[[str], Env]]:
    opened: list[tuple[TestClient, Store, Platform]] = []

    def make(url: str) -> Env:
        store = Store(url)
        store.migrate()
        roles = {"root": "admin", "tom": "trader", "vic": "viewer"}
        settings = api_settings()
        key = settings.signing_key()
        auth = {}
        for name, role in roles.items():
            accounts.create_user(store, name, passwords[name], role)
            token = issue_token(
                key,
                username=name,
                typ="access",
                scopes=accounts.ROLE_SCOPES[role],
                version=0,
                ttl_s=600,
            )
            auth[name] = {"Authorization": f"Bearer {token}"}
        platform = Platform(store, reports_dir=tmp_path / "reports")
        strategies = [
            StrategyConfig(id="sma", strategy="sma_cross", params={"fast": 5, "slow": 20}),
            StrategyConfig(id="grid", strategy="grid", params={"levels": 3}),
        ]
        node = platform.add_node(
            NodeConfig(id="n1", strategies=strategies, cash=10_000), data={SYMBOL: BARS}
        )
        node.start()
        client = TestClient(build_app(store, settings, platform), raise_server_exceptions=False)
        client.__enter__()  # one event loop for the whole test (running nodes live on it)
        opened.append((client, store, platform))
        return Env(client, platform, store, node, auth)

    yield make
    for client, store, platform in opened:
        client.__exit__(None, None, None)
        platform.close_jobs()
        store.dispose()


def _audit(store: Store, action: str) -> list[AuditRow]:
    with store.session() as s:
        return list(s.scalars(select(AuditRow).where(AuditRow.action == action)))


def test_an_order_is_stored_as_intent_then_fills_and_the_portfolio_matches_memory(
    make_env: Callable[[str], Env], db_url: str
) -> None:
    env = make_env(db_url)
    env.steps(20)
    r = env.post("/api/v1/orders", {"node": "n1", "strategy": "sma", "side": "buy", "quantity": 2})
    assert r.status_code == 201, r.text
    order = r.json()
    cid = order["client_order_id"]
    assert order["status"] == "submitted" and order["strategy_id"] == "sma"
    with env.store.session() as s:  # durable before the venue ever filled it
        row = s.get(OrderRow, cid)
        assert row is not None and row.status == "submitted"
        events = [
            e.reason
            for e in s.scalars(select(OrderEventRow).where(OrderEventRow.client_order_id == cid))
        ]
    assert events == ["intent"]
    (audit,) = _audit(env.store, "order.submit")
    assert audit.actor == "user:tom" and audit.target == f"order:{cid}"
    assert audit.request_id == r.headers["x-request-id"]

    env.node.step()  # the next bar: a market order fills at its open
    filled = env.get("/api/v1/orders", params={"status": "filled", "strategy": "sma"}).json()
    assert [o["client_order_id"] for o in filled] == [cid]
    assert filled[0]["filled_qty"] == 2 and filled[0]["avg_price"] == pytest.approx(
        BARS["open"].iloc[20]
    )
    (fill,) = env.get("/api/v1/fills", params={"client_order_id": cid}).json()
    assert fill["price"] == pytest.approx(BARS["open"].iloc[20]) and fill["quantity"] == 2

    env.steps(300)
    env.node.commit()
    accounts_ = env.get("/api/v1/portfolio").json()
    assert [(a["node"], a["strategy"]) for a in accounts_] == [("n1", "sma"), ("n1", "grid")]
    for account in accounts_:
        t = env.node.traders[account["strategy"]]
        pf = t.engine.portfolio
        assert account["equity"] == pf.equity() and account["cash"] == pf.cash()
        assert account["pnl"] == pytest.approx(pf.equity() - 10_000)
        assert {p["instrument"]: p["quantity"] for p in account["positions"]} == {
            s: q for s, q in pf.qty.items() if q
        }
        with env.store.session() as s:  # the metrics: those of the STORED curve and fills
            rows = list(
                s.scalars(
                    select(EquityRow).where(EquityRow.strategy_id == t.id).order_by(EquityRow.ts)
                )
            )
            fills = [
                fill_from_row(f)
                for f in s.scalars(
                    select(FillRow).where(FillRow.strategy_id == t.id).order_by(FillRow.id)
                )
            ]
        equity = pd.Series(
            [x.equity for x in rows], index=pd.to_datetime([x.ts for x in rows], utc=True)
        )
        trades, _ = round_trips(fills, t.engine.instruments)
        assert account["metrics"] == basic_metrics(equity, trades)
    curve = env.get("/api/v1/portfolio/equity", params={"strategy": "sma", "points": 50}).json()
    (series,) = curve
    assert series["total"] == 321 and len(series["points"]) <= 50
    assert series["points"][-1]["equity"] == env.node.traders["sma"].engine.portfolio.equity()
    assert series["points"][0]["ts"] == int(BARS["ts"].iloc[0]) + 60_000_000_000


def test_cancel_and_filters(make_env: Callable[[str], Env], sqlite_url: str) -> None:
    env = make_env(sqlite_url)
    env.steps(5)
    low = round(float(BARS["close"].iloc[4]) * 0.5, 2)
    body = {
        "node": "n1",
        "strategy": "sma",
        "side": "buy",
        "quantity": 1,
        "type": "limit",
        "price": low,
    }
    cid = env.post("/api/v1/orders", body).json()["client_order_id"]
    env.node.step()
    assert env.client.delete(f"/api/v1/orders/{cid}", headers=env.auth["vic"]).status_code == 403
    r = env.client.delete(f"/api/v1/orders/{cid}", headers=env.auth["tom"])
    assert r.status_code == 200 and r.json()["status"] == "canceled"
    assert r.json()["reason"] == "canceled by user:tom"
    again = env.client.delete(f"/api/v1/orders/{cid}", headers=env.auth["tom"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert env.client.delete("/api/v1/orders/nope", headers=env.auth["tom"]).status_code == 404
    with env.store.session() as s:
        assert s.get(OrderRow, cid).status == "canceled"  # type: ignore[union-attr]

    env.post("/api/v1/orders", {"node": "n1", "strategy": "sma", "side": "buy", "quantity": 1})
    env.steps(30)  # the grid strategy places orders of its own
    everything = env.get("/api/v1/orders", params={"limit": 1000}).json()
    assert len(everything) > 3
    assert [o["ts_init"] for o in everything] == sorted(
        (o["ts_init"] for o in everything), reverse=True
    )
    sma = env.get("/api/v1/orders", params={"strategy": "sma"}).json()
    assert {o["strategy_id"] for o in sma} == {"sma"} and len(sma) == 2
    canceled = env.get("/api/v1/orders", params={"status": "canceled", "strategy": "sma"}).json()
    assert [o["client_order_id"] for o in canceled] == [cid]
    assert env.get("/api/v1/orders", params={"instrument": "ETHUSDT"}).json() == []
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC).isoformat()
    assert env.get("/api/v1/orders", params={"since": later}).json() == []
    since = pd.Timestamp(int(BARS["ts"].iloc[10]) + 60_000_000_000, tz="UTC").isoformat()
    recent = env.get("/api/v1/orders", params={"since": since, "limit": 1000}).json()
    assert recent and all(o["ts_init"] >= int(BARS["ts"].iloc[10]) + 60e9 for o in recent)
    assert len(recent) < len(everything)
    page = env.get("/api/v1/orders", params={"limit": 2, "offset": 1}).json()
    assert page == everything[1:3]
    assert env.get("/api/v1/orders", params={"limit": 1001}).status_code == 422
    fills = env.get("/api/v1/fills", params={"strategy": "grid", "limit": 1000}).json()
    assert {f["strategy_id"] for f in fills} <= {"grid"}

    bad = {"node": "n1", "strategy": "sma", "side": "buy", "quantity": 1}
    assert env.post("/api/v1/orders", {**bad, "node": "zz"}).status_code == 404
    assert env.post("/api/v1/orders", {**bad, "strategy": "zz"}).status_code == 404
    r = env.post("/api/v1/orders", {**bad, "type": "limit"})
    assert r.status_code == 400 and "needs a price" in r.json()["error"]["message"]
    assert env.post("/api/v1/orders", {**bad, "quantity": -1}).status_code == 422
    assert env.post("/api/v1/orders", bad, user="vic").status_code == 403


def test_halt_and_resume_through_the_api_reach_the_node(
    make_env: Callable[[str], Env], sqlite_url: str
) -> None:
    env = make_env(sqlite_url)
    env.steps(3)
    r = env.post("/api/v1/risk/halt", {"node": "n1", "reason": "drill"})
    assert r.status_code == 200 and r.json()["halt"] == "halted"
    limits = [t.engine.risk.limits for t in env.node.traders.values()]
    assert all(lim.halted for lim in limits)
    rejected = env.post(
        "/api/v1/orders", {"node": "n1", "strategy": "sma", "side": "buy", "quantity": 1}
    )
    assert rejected.status_code == 422 and rejected.json()["error"]["code"] == "rejected"
    assert "halted" in rejected.json()["error"]["message"]
    risk = env.get("/api/v1/risk", user="vic").json()
    assert risk[0]["halt"] == "halted" and risk[0]["halt_reason"] == "drill"
    assert all(t["halted"] for t in risk[0]["traders"])

    assert env.post("/api/v1/risk/resume", {"node": "n1"}).status_code == 403  # a trader
    r = env.post("/api/v1/risk/resume", {"node": "n1"}, user="root")
    assert r.status_code == 200 and r.json()["halt"] == ""
    assert not any(lim.halted for lim in limits)

    r = env.post("/api/v1/risk/halt", {"node": "n1", "strategy": "grid", "reduce_only": True})
    assert r.status_code == 200
    assert env.node.traders["grid"].engine.risk.limits.reduce_only
    assert not env.node.traders["sma"].engine.risk.limits.reduce_only
    assert env.post("/api/v1/risk/halt", {"node": "zz"}).status_code == 404
    missing = env.post("/api/v1/risk/halt", {"node": "n1", "strategy": "zz"})
    assert missing.status_code == 404 and "it has sma, grid" in missing.json()["error"]["message"]
    both = env.post("/api/v1/risk/halt", {"node": "n1", "flatten": True, "reduce_only": True})
    assert both.status_code == 400
    assert [a.actor for a in _audit(env.store, "risk.halt")] == ["user:tom"]
    assert [a.actor for a in _audit(env.store, "risk.resume")] == ["user:root"]
    assert [a.target for a in _audit(env.store, "risk.reduce_only")] == ["node:n1/grid"]


def test_candles_never_show_bars_past_the_cursor(
    make_env: Callable[[str], Env], sqlite_url: str
) -> None:
    env = make_env(sqlite_url)
    assert env.get("/api/v1/candles", params={"symbol": SYMBOL}).json()["candles"] == []
    env.steps(37)
    body = env.get("/api/v1/candles", params={"symbol": SYMBOL}).json()
    stamps = [c["ts"] for c in body["candles"]]
    assert stamps == BARS["ts"].iloc[:37].tolist()
    assert [c["close"] for c in body["candles"]] == BARS["close"].iloc[:37].tolist()
    assert body["timeframe"] == "1m" and body["node"] == "n1"
    env.steps(3)
    last = env.get("/api/v1/candles", params={"symbol": SYMBOL, "limit": 5}).json()["candles"]
    assert [c["ts"] for c in last] == BARS["ts"].iloc[35:40].tolist()
    assert env.get("/api/v1/candles", params={"symbol": "ETHUSDT"}).status_code == 404
    instruments = env.get("/api/v1/instruments").json()
    assert [(i["symbol"], i["quote"], i["nodes"]) for i in instruments] == [
        (SYMBOL, "USDT", ["n1"])
    ]


def test_nodes_and_strategies(make_env: Callable[[str], Env], sqlite_url: str) -> None:
    env = make_env(sqlite_url)
    env.steps(4)
    (node,) = env.get("/api/v1/nodes").json()
    assert node["id"] == "n1" and node["loaded"] and not node["running"]
    assert node["bar"] == 3 and [t["strategy"] for t in node["traders"]] == ["sma", "grid"]
    assert env.get("/api/v1/nodes/nope").status_code == 404
    listed = env.get("/api/v1/strategies").json()
    assert [s["id"] for s in listed] == ["n1/grid", "n1/sma"]
    assert listed[1]["live"]["equity"] == env.node.traders["sma"].engine.portfolio.equity()

    body = {"id": "s2", "strategy": "sma_cross", "params": {"fast": 3, "slow": 8}}
    r = env.post("/api/v1/strategies", body)
    assert r.status_code == 201 and r.json()["id"] == "s2/s2" and r.json()["live"] is None
    assert env.post("/api/v1/strategies", body).status_code == 409
    spec = "tradewind.strategy.builtin.sma_cross:SmaCross"
    assert env.post("/api/v1/strategies", {**body, "id": "s3", "strategy": spec}).status_code == 403
    path = env.post(
        "/api/v1/strategies", {**body, "id": "s3", "strategy": "/tmp/x.py:X"}, user="root"
    )
    assert path.status_code == 403 and "file paths" in path.json()["error"]["message"]
    r = env.post("/api/v1/strategies", {**body, "id": "s3", "strategy": spec}, user="root")
    assert r.status_code == 201
    bad = env.post("/api/v1/strategies", {**body, "id": "s4", "params": {"fast": "x"}})
    assert bad.status_code == 400 and "fast" in bad.json()["error"]["message"]

    r = env.client.patch(
        "/api/v1/strategies/s2/s2", json={"stage": "research"}, headers=env.auth["tom"]
    )
    assert r.status_code == 200 and r.json()["stage"] == "research"
    r = env.post("/api/v1/strategies/s2/s2/start")
    assert r.status_code == 409 and "stage 'research'" in r.json()["error"]["message"]
    env.client.patch("/api/v1/strategies/s2/s2", json={"stage": "paper"}, headers=env.auth["tom"])
    r = env.post("/api/v1/strategies/s2/s2/start")
    assert r.status_code == 200, r.text
    assert r.json()["node_id"] == "s2" and r.json()["live"]["running"]
    r = env.post("/api/v1/strategies/s2/s2/stop")
    assert r.status_code == 200 and r.json()["status"] == "halted"
    assert env.platform.node("s2").traders["s2"].engine.risk.limits.halted
    r = env.post("/api/v1/nodes/s2/stop")
    assert r.status_code == 200 and r.json()["status"] == "stopped"
    assert env.post("/api/v1/nodes/s2/stop").status_code == 409
    assert env.post("/api/v1/nodes/zz/start").status_code == 404
    actions = {a.action for a in _audit(env.store, "strategy.start")}
    assert actions == {"strategy.start"}
    assert [a.actor for a in _audit(env.store, "node.stop")] == ["user:tom"]


def test_a_backtest_runs_in_the_background_and_serves_its_report(
    make_env: Callable[[str], Env], sqlite_url: str
) -> None:
    env = make_env(sqlite_url)
    r = env.post(
        "/api/v1/backtests",
        {
            "strategy": "sma_cross",
            "params": {"fast": 8},
            "config": {"cash": 20_000},
            "symbol": "IBM",
        },
    )
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    deadline = time.monotonic() + 90
    status = {}
    while time.monotonic() < deadline:
        status = env.get(f"/api/v1/backtests/{run_id}").json()
        assert status["status"] in ("queued", "running", "done"), status
        if status["status"] == "done":
            break
        time.sleep(0.2)
    assert status["status"] == "done" and status["progress"] == 1.0 and status["report"]
    assert status["metrics"]["initial_equity"] == 20_000
    report = env.get(f"/api/v1/backtests/{run_id}/report")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert report.text.startswith("<!DOCTYPE html>")
    assert [b["id"] for b in env.get("/api/v1/backtests").json()] == [run_id]
    assert env.get("/api/v1/backtests/nope").status_code == 404
    assert env.get("/api/v1/backtests/nope/report").status_code == 404
    assert env.post("/api/v1/backtests", {"strategy": "x.y:Z"}).status_code == 403
    bad = env.post("/api/v1/backtests", {"strategy": "sma_cross", "data": "a.csv"})
    assert bad.status_code == 400 and "data directory" in bad.json()["error"]["message"]
    (audit,) = _audit(env.store, "backtest.launch")
    assert audit.target == f"backtest:{run_id}" and audit.actor == "user:tom"


def test_positions_and_balances_are_the_stored_ones_marked_to_market(
    make_env: Callable[[str], Env], sqlite_url: str
) -> None:
    env = make_env(sqlite_url)
    env.steps(2)
    env.post("/api/v1/orders", {"node": "n1", "strategy": "sma", "side": "buy", "quantity": 3})
    env.steps(2)
    positions = env.get("/api/v1/positions", params={"strategy": "sma"}).json()
    (pos,) = positions
    mark = float(BARS["close"].iloc[3])
    assert pos["quantity"] == 3 and pos["avg_price"] == pytest.approx(BARS["open"].iloc[2])
    assert pos["mark"] == mark
    assert pos["unrealized_pnl"] == pytest.approx((mark - pos["avg_price"]) * 3)
    balances = env.get("/api/v1/balances", params={"strategy": "sma"}).json()
    assert [(b["currency"], b["total"]) for b in balances] == [
        ("USDT", env.node.traders["sma"].engine.portfolio.cash())
    ]


TRADING_PATHS = (
    "/nodes",
    "/strategies",
    "/orders",
    "/fills",
    "/positions",
    "/balances",
    "/portfolio",
    "/instruments",
    "/candles",
    "/risk",
    "/backtests",
)


def test_schemathesis_on_the_trading_routes(
    make_env: Callable[[str], Env], sqlite_url: str
) -> None:
    """Generated valid and invalid requests (admin token): no 5xx, every status documented,
    every body matching its schema."""
    env = make_env(sqlite_url)
    env.steps(30)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", env.client.app)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        response_headers_conformance,
    ]
    failures: list[str] = []
    seen = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.removeprefix("/api/v1").startswith(TRADING_PATHS):
            continue
        seen += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis.settings(
                max_examples=8,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                case.call_and_validate(headers=env.auth["root"], checks=checks)

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert seen >= 20
    assert not failures, "\n\n".join(failures)


def test_serve_runs_api_and_demo_node_and_stops_them_cleanly_on_sigint(tmp_path: Path) -> None:
    """``tradewind serve`` as a process: the one-time admin password printed once, the demo
    node replaying in the same loop, and SIGINT stopping the node with its state committed."""
    import re
    import signal
    import socket
    import subprocess
    import sys

    import httpx

    from tradewind.store.models import NodeRow

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    code = "from tradewind.cli import main; main()"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "serve",
            "--port",
            str(port),
            "--database-url",
            url,
            "--json-logs",
            "--reports-dir",
            str(tmp_path / "reports"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        lines: list[str] = []
        assert proc.stdout is not None
        while not any("Tradewind API on" in line for line in lines):
            line = proc.stdout.readline()
            assert line, f"serve exited: {proc.stderr.read() if proc.stderr else ''}"
            lines.append(line)
        found = re.search(r"one-time password: (\S+)", "".join(lines))
        assert found is not None
        password = found.group(1)
        base = f"http://127.0.0.1:{port}/api/v1"
        assert httpx.get(f"{base}/health").status_code == 200  # the banner means "listening"
        token = httpx.post(f"{base}/auth/token", auth=("admin", password)).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        deadline = time.monotonic() + 30
        node: dict[str, Any] = {}
        while time.monotonic() < deadline:
            (node,) = httpx.get(f"{base}/nodes", headers=headers).json()
            if node["bar"] >= 5:
                break
            time.sleep(0.1)
        assert node["id"] == "demo" and node["running"] and node["symbol"] == "AAPL"
        assert node["bar"] < node["bars"] - 100  # replaying at a visible speed, not at once
        (account,) = httpx.get(f"{base}/portfolio", headers=headers).json()
        assert account["strategy"] == "sma" and account["initial_cash"] == 10_000
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert password not in err  # shown once on the terminal, never in the logs
    assert "".join(lines).count(password) == 1 and password not in out
    store = Store(url)
    with store.session() as s:
        row = s.get(NodeRow, "demo")
        assert row is not None and row.status == "stopped"
        assert row.checkpoint["cursor"] >= 5
    store.dispose()


def test_serve_on_a_taken_port_says_so_and_creates_no_admin(tmp_path: Path) -> None:
    """A port in use is a clear error naming the address, before the one-time password is
    made (a password printed by a server that then failed to start would be lost)."""
    import socket

    from typer.testing import CliRunner

    from tradewind.cli import app

    db = tmp_path / "taken.db"
    url = f"sqlite:///{db}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            app, ["serve", "--port", str(port), "--database-url", url, "--no-node"]
        )
    assert result.exit_code != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "password" not in result.output
    assert not db.exists()  # nothing was written: no database, no admin
