"""The Platform: manual orders through the engine, the kill switch, nodes run as asyncio tasks,
the event fan-out (bounded, never silently lossy), strategies and backtest jobs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_helpers import make_bars
from sqlalchemy import select

from tradewind.analytics.metrics import basic_metrics
from tradewind.backtest.runner import Backtest, BacktestConfig
from tradewind.demo import demo_bars
from tradewind.errors import ConfigError, OrderRejected
from tradewind.live import NodeConfig, StrategyConfig
from tradewind.live.platform import ConflictError, Event, NotFoundError, Platform
from tradewind.store import Store
from tradewind.store.models import BacktestRunRow, FillRow, NodeRow, OrderEventRow, OrderRow

BARS = make_bars(800, seed=11)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store(sqlite_url)
    s.migrate()
    yield s
    s.dispose()


@pytest.fixture
def platform(store: Store, tmp_path: Path) -> Iterator[Platform]:
    p = Platform(store, reports_dir=tmp_path / "reports")
    yield p
    p.close_jobs()


def _config(node_id: str = "pf", **kw: Any) -> NodeConfig:
    strategies = [StrategyConfig(id="sma", strategy="sma_cross", params={"fast": 5, "slow": 20})]
    return NodeConfig(id=node_id, strategies=strategies, cash=10_000, **kw)


def test_a_manual_order_is_stored_as_intent_then_fills_at_the_next_open(
    store: Store, platform: Platform
) -> None:
    node = platform.add_node(_config(), data={"BTCUSDT": BARS})
    node.start()
    for _ in range(30):
        node.step()
    order = platform.submit_order("pf", "sma", "buy", 2.0, actor="user:test")
    assert order.status.value == "submitted"
    with store.session() as s:
        row = s.get(OrderRow, order.client_order_id)
        assert row is not None and row.status == "submitted" and row.quantity == 2.0
        reasons = [
            e.reason
            for e in s.scalars(
                select(OrderEventRow).where(OrderEventRow.client_order_id == order.client_order_id)
            )
        ]
    assert reasons == ["intent"]
    node.step()
    assert order.status.value == "filled"
    with store.session() as s:
        row = s.get(OrderRow, order.client_order_id)
        fills = list(
            s.scalars(select(FillRow).where(FillRow.client_order_id == order.client_order_id))
        )
    assert row is not None and row.status == "filled"
    assert len(fills) == 1 and fills[0].price == pytest.approx(BARS["open"].iloc[30])
    assert order.tag == "manual user:test"


def test_cancel_and_the_errors_that_name_what_is_wrong(platform: Platform) -> None:
    node = platform.add_node(_config(), data={"BTCUSDT": BARS})
    with pytest.raises(ConflictError, match="start it before trading"):
        platform.submit_order("pf", "sma", "buy", 1.0)
    node.start()
    node.step()
    price = float(BARS["close"].iloc[0]) / 2
    order = platform.submit_order("pf", "sma", "buy", 1.0, "limit", price=price)
    node.step()
    assert order.is_open
    platform.cancel_order(order.client_order_id, actor="user:test")
    assert order.status.value == "canceled" and order.reason == "canceled by user:test"
    with pytest.raises(ConflictError, match="only open orders"):
        platform.cancel_order(order.client_order_id)
    with pytest.raises(NotFoundError, match="no order 'nope'"):
        platform.cancel_order("nope")
    with pytest.raises(NotFoundError, match="no strategy 'x'"):
        platform.submit_order("pf", "x", "buy", 1.0)
    with pytest.raises(NotFoundError, match="no node 'zz'"):
        platform.submit_order("zz", "sma", "buy", 1.0)
    with pytest.raises(ConfigError, match="needs a price"):
        platform.submit_order("pf", "sma", "buy", 1.0, "limit")


def test_halt_denies_orders_and_resume_lifts_it(store: Store, platform: Platform) -> None:
    node = platform.add_node(_config(), data={"BTCUSDT": BARS})
    node.start()
    node.step()
    platform.halt("pf", actor="user:ops", reason="drill")
    t = node.traders["sma"]
    assert t.engine.risk.limits.halted and node.halt_mode == "halted"
    with pytest.raises(OrderRejected, match="halted"):
        platform.submit_order("pf", "sma", "buy", 1.0)
    with store.session() as s:
        rejected = list(s.scalars(select(OrderRow).where(OrderRow.status == "rejected")))
        assert s.get(NodeRow, "pf").halt == "halted"  # type: ignore[union-attr]
    assert len(rejected) == 1  # a denied order is stored too
    platform.resume("pf", actor="user:ops")
    assert not t.engine.risk.limits.halted
    assert platform.submit_order("pf", "sma", "buy", 1.0).status.value == "submitted"


def test_a_halt_for_a_stopped_node_is_stored_for_its_next_start(
    store: Store, platform: Platform
) -> None:
    node = platform.add_node(_config(), data={"BTCUSDT": BARS})
    node.start()
    node.step()
    node.commit()
    node.shutdown()
    platform.halt("pf", reduce_only=True)
    with pytest.raises(ConflictError, match="only a whole-node halt"):
        platform.halt("pf", flatten=True)
    with store.session() as s:
        assert s.get(NodeRow, "pf").halt == "reduce_only"  # type: ignore[union-attr]

    async def restart() -> None:
        started = await platform.start_node("pf")
        assert started is not node and started.halt_mode == "reduce_only"
        assert started.traders["sma"].engine.risk.limits.reduce_only
        await platform.stop_node("pf")

    asyncio.run(restart())


def test_nodes_run_as_tasks_and_a_restart_resumes_after_the_checkpoint(
    store: Store, platform: Platform
) -> None:
    platform.add_node(_config(speed=60_000), data={"BTCUSDT": BARS})  # 1 ms per bar

    async def run() -> tuple[int, int, str]:
        await platform.start_node("pf")
        with pytest.raises(ConflictError, match="already running"):
            await platform.start_node("pf")
        await asyncio.sleep(0.05)
        first = await platform.stop_node("pf")
        stopped_at = first.cursor
        second = await platform.start_node("pf")  # rebuilt from the store
        resumed_at = second.cursor
        await platform.handle("pf").task  # type: ignore[misc]  # to the end of the data
        return stopped_at, resumed_at, second.state

    stopped_at, resumed_at, state = asyncio.run(run())
    assert 0 <= stopped_at < len(BARS) - 1
    assert resumed_at == stopped_at
    assert state == "finished"
    curve = platform.handle("pf").curves["sma"]
    assert len(curve.ts) == len(BARS)  # every bar once, across the restart
    with store.session() as s:
        assert s.get(NodeRow, "pf").status == "finished"  # type: ignore[union-attr]


def test_portfolio_metrics_are_those_of_the_stored_equity_curve(
    store: Store, platform: Platform
) -> None:
    from tradewind.backtest.trades import round_trips
    from tradewind.live.recovery import fill_from_row
    from tradewind.store.models import EquityRow

    node = platform.add_node(_config(), data={"BTCUSDT": BARS})
    node.start()
    for _ in range(400):
        node.step()
    node.commit()
    (account,) = platform.portfolio("pf")
    t = node.traders["sma"]
    assert account["equity"] == t.engine.portfolio.equity()
    assert account["cash"] == t.engine.portfolio.cash()
    with store.session() as s:
        rows = list(
            s.scalars(select(EquityRow).where(EquityRow.node_id == "pf").order_by(EquityRow.ts))
        )
        fills = [fill_from_row(r) for r in s.scalars(select(FillRow).order_by(FillRow.id))]
    import pandas as pd

    equity = pd.Series(
        [r.equity for r in rows], index=pd.to_datetime([r.ts for r in rows], utc=True)
    )
    trades, _ = round_trips(fills, t.engine.instruments)
    assert trades.shape[0] > 0
    assert account["metrics"] == basic_metrics(equity, trades)


def test_events_reach_subscribers_with_topics_and_from_other_threads(
    platform: Platform,
) -> None:
    node = platform.add_node(_config(), data={"BTCUSDT": BARS})
    node.start()

    async def run() -> tuple[list[Event], list[Event]]:
        every: asyncio.Queue[Event] = asyncio.Queue()
        fills_only: asyncio.Queue[Event] = asyncio.Queue()
        platform.subscribe(every)
        platform.subscribe(fills_only, ["fills"])
        node.step()
        platform.submit_order("pf", "sma", "buy", 1.0)
        worker = threading.Thread(target=node.step)  # events from another thread
        worker.start()
        worker.join()
        await asyncio.sleep(0.05)  # let the loop run the thread's deliveries
        platform.unsubscribe(every)
        node.step()
        got = [every.get_nowait() for _ in range(every.qsize())]
        fills = [fills_only.get_nowait() for _ in range(fills_only.qsize())]
        return got, fills

    got, fills = asyncio.run(run())
    topics = [e.topic for e in got]
    assert topics.count("bars") == 2 and topics.count("equity") == 2  # the 3rd step: gone
    assert [e["data"]["event"] for e in got if e.topic == "orders"] == [
        "submitted",
        "accepted",
        "filled",
    ]
    assert topics.count("fills") == 1 and topics.count("positions") == 1
    position = next(e["data"] for e in got if e.topic == "positions")
    assert position["quantity"] == 1.0 and position["strategy"] == "sma"
    assert [e.topic for e in fills] == ["fills"]
    bar = next(e["data"] for e in got if e.topic == "bars")
    assert bar["ts"] == int(BARS["ts"].iloc[0]) and bar["close"] == BARS["close"].iloc[0]
    assert '"topic"' not in got[0].data_json()  # the data alone, encoded once


def test_a_full_queue_is_reported_not_silently_skipped(platform: Platform) -> None:
    async def run() -> tuple[int, int, int, int]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=2)
        calls: list[int] = []
        sub = platform.subscribe(queue, ["logs"], on_overflow=lambda: calls.append(1))
        for i in range(5):
            platform.publish("logs", {"i": i})
        platform.publish("bars", {"ignored": True})  # not subscribed: neither kept nor dropped
        return queue.qsize(), sub.delivered, sub.dropped, len(calls)

    assert asyncio.run(run()) == (2, 2, 3, 1)
    assert platform.dropped == 3
    with pytest.raises(ConfigError, match="unknown topic"):
        asyncio.run(_subscribe(platform, ["nope"]))


async def _subscribe(platform: Platform, topics: list[str]) -> None:
    platform.subscribe(asyncio.Queue(), topics)


def test_a_backtest_job_goes_queued_running_done_with_a_report(
    store: Store, platform: Platform
) -> None:
    async def run() -> tuple[str, list[str]]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        platform.subscribe(queue, ["logs"])
        run_id = platform.launch_backtest(
            "sma_cross",
            {"fast": 10, "slow": 40},
            {"cash": 50_000, "commission": 0.001},
            symbol="MSFT",
            actor="user:test",
        )
        statuses: list[str] = []
        while not statuses or statuses[-1] not in ("done", "failed"):
            event = await asyncio.wait_for(queue.get(), 60)
            job = event["data"].get("backtest")
            if job and job["id"] == run_id and job["status"] not in statuses[-1:]:
                statuses.append(job["status"])
        return run_id, statuses

    run_id, statuses = asyncio.run(run())
    assert statuses == ["queued", "running", "done"]
    row = platform.backtest(run_id)
    assert row.status == "done" and row.progress == 1.0 and row.created_by == "user:test"
    assert Path(row.report_path).read_text().startswith("<!DOCTYPE html>")
    direct = Backtest(
        demo_bars(["MSFT"]),
        "sma_cross",
        BacktestConfig(cash=50_000, commission=0.001),
        fast=10,
        slow=40,
    ).run()
    assert row.metrics == direct.to_dict()["metrics"]
    assert [r.id for r in platform.backtests()] == [run_id]


def test_a_failing_backtest_is_stored_with_its_error_and_bad_requests_are_refused(
    store: Store, platform: Platform, tmp_path: Path
) -> None:
    run_id = platform.launch_backtest("sma_cross", {}, symbol="NOPE")
    platform.close_jobs()  # waits for the job
    row = platform.backtest(run_id)
    assert row.status == "failed" and "NOPE" in row.error
    with pytest.raises(ConfigError, match="unknown parameter"):
        platform.launch_backtest("sma_cross", {"fastest": 3})
    with pytest.raises(ConfigError, match="no data directory"):
        platform.launch_backtest("sma_cross", {}, data="x.csv")
    with pytest.raises(NotFoundError, match="no backtest"):
        platform.backtest("0" * 32)
    boxed = Platform(store, data_dir=tmp_path)
    try:
        with pytest.raises(ConfigError, match="outside the data directory"):
            boxed.launch_backtest("sma_cross", {}, data="../../etc/passwd")
    finally:
        boxed.close_jobs()


def test_runs_left_unfinished_by_a_previous_process_are_marked_failed(store: Store) -> None:
    with store.session() as s:
        s.add(BacktestRunRow(id="old", strategy="sma_cross", status="running"))
    p = Platform(store)
    p.close_jobs()
    row = p.backtest("old")
    assert row.status == "failed" and "interrupted" in row.error


def test_a_created_strategy_runs_on_a_node_of_its_own_and_stops_by_halting(
    store: Store, platform: Platform
) -> None:
    platform.default_speed = 0.0
    platform.create_strategy("fresh", "s1", "sma_cross", {"fast": 3, "slow": 9}, "research")
    with pytest.raises(ConflictError, match="already exists"):
        platform.create_strategy("fresh", "s1", "sma_cross", {})
    with pytest.raises(ConfigError, match="unknown parameter"):
        platform.create_strategy("other", "s1", "sma_cross", {"nope": 1})

    async def run() -> tuple[str, str, str]:
        with pytest.raises(ConflictError, match="stage 'research'"):
            await platform.start_strategy("fresh/s1")
        platform.update_strategy("fresh/s1", stage="paper", params={"fast": 4, "slow": 9})
        row = await platform.start_strategy("fresh/s1", actor="user:t")
        node = platform.node("fresh")
        assert node.traders["s1"].backtest.strategy.fast == 4  # type: ignore[attr-defined]
        with pytest.raises(ConflictError, match="running; stop it"):
            platform.update_strategy("fresh/s1", params={"fast": 5})
        stopped = platform.stop_strategy("fresh/s1")
        assert node.traders["s1"].engine.risk.limits.halted
        started = await platform.start_strategy("fresh/s1")
        assert not node.traders["s1"].engine.risk.limits.halted
        await platform.close()
        return row.node_id or "", stopped.status, started.status

    node_id, stopped, started = asyncio.run(run())
    assert (node_id, stopped, started) == ("fresh", "halted", "running")
    with store.session() as s:
        assert s.get(NodeRow, "fresh") is not None
