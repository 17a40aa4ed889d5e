"""The platform: the one object the API talks to, over the store, the trading nodes, backtest
jobs and a live event stream.

* Nodes: ``add_node(config)`` builds a ``TradingNode`` (not started); ``await start_node(id)``
  recovers it from the store and runs it as a task of the current asyncio loop;
  ``await stop_node(id)`` stops it after the current bar. A node stored in the database but not
  loaded (a previous ``serve`` or ``tradewind run``) is loaded from its stored configuration on
  first use. A stopped node is rebuilt from the store when started again (the same recovery
  path as after a crash).
* Trading: ``submit_order`` / ``cancel_order`` go through the trader's engine (risk checks, the
  intent committed before the venue sees it) and commit the node afterwards; ``halt`` /
  ``resume`` are the node's kill switch (persisted in the store for a node that is not running).
* Reads the API serves at high rates (``portfolio``, ``candles``) come from memory: the node's
  engines, plus an equity curve per strategy kept here (loaded once from ``equity_snapshots``,
  then appended bar by bar with the same values the recorder stores) whose metrics are cached
  per bar.
* Backtests: ``launch_backtest`` stores a ``BacktestRunRow`` (queued) and runs it on a worker
  thread: running (progress 0..1) -> done (metrics, HTML report) | failed (error).
* Events: ``subscribe(queue)`` puts ``{"topic", "data"}`` messages on an asyncio queue for the
  topics orders, fills, positions, equity, bars, logs, alerts and node. A queue is bounded; when
  it is full the message is not silently lost: the subscriber's ``dropped`` count grows and its
  ``on_overflow`` is called once (the WebSocket closes such a client with a clear reason).

All methods that touch a node run on the event loop's thread (the API's ``async`` routes), the
same thread the node steps on, so a node is never touched by two threads at once. Events from
another thread (a node stepped by a test, a backtest worker) reach a subscriber's queue through
``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select, update

from tradewind.analytics.metrics import basic_metrics
from tradewind.backtest.runner import Backtest, BacktestConfig
from tradewind.backtest.trades import round_trips
from tradewind.engine.core import Feed
from tradewind.errors import ConfigError, OrderRejected, TradewindError
from tradewind.live.config import NodeConfig, StrategyConfig
from tradewind.live.live_node import LiveNode
from tradewind.live.node import Trader, TradingNode, set_halt_mode
from tradewind.model.data import Bar
from tradewind.model.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from tradewind.model.order import Fill, Order
from tradewind.store import Store
from tradewind.store.models import (
    BacktestRunRow,
    EquityRow,
    NodeRow,
    OrderRow,
    StrategyRow,
    utcnow,
)
from tradewind.strategy.registry import load_strategy

log = logging.getLogger("tradewind.platform")

TOPICS = ("orders", "fills", "positions", "equity", "bars", "logs", "alerts", "node")
RUNNING_STATES = ("running", "halted")
STAGES = ("research", "paper", "live")
DEFAULT_QUEUE = 1000


class NotFoundError(ConfigError):
    """A node, strategy, order or backtest id the platform does not know."""


class ConflictError(ConfigError):
    """The action contradicts the current state (a node not running, an order already closed)."""


# --- events ------------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _num(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _clean_dict(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _clean(v) for k, v in values.items()}


class Event(dict[str, Any]):
    """One message ``{"topic": ..., "data": ...}``. Its data is JSON-encoded at most once,
    however many subscribers it goes to (``data_json``)."""

    __slots__ = ("_json",)

    def __init__(self, topic: str, data: Any) -> None:
        super().__init__(topic=topic, data=data)
        self._json: str | None = None

    @property
    def topic(self) -> str:
        return str(self["topic"])

    def data_json(self) -> str:
        if self._json is None:
            try:
                self._json = json.dumps(self["data"], separators=(",", ":"), allow_nan=False)
            except ValueError:  # a NaN slipped through: send null rather than invalid JSON
                self._json = json.dumps(_clean(self["data"]), separators=(",", ":"))
        return self._json


@dataclass(eq=False)
class Subscription:
    """One subscriber: its queue, the topics it wants (None: all) and what happened to it."""

    queue: asyncio.Queue[Event]
    topics: set[str] | None
    loop: asyncio.AbstractEventLoop
    thread: int
    on_overflow: Callable[[], None] | None = None
    delivered: int = 0
    dropped: int = 0


# --- per-strategy equity curve ----------------------------------------------------------------


@dataclass
class EquityCurve:
    """A strategy's equity per bar (the values the recorder stores), with cached metrics."""

    ts: list[int] = field(default_factory=list)
    equity: list[float] = field(default_factory=list)
    _metrics_key: tuple[int, int] = (-1, -1)
    _metrics: dict[str, Any] | None = None

    def append(self, ts: int, equity: float) -> None:
        if self.ts and ts <= self.ts[-1]:  # a bar seen again (after a restart): keep the last
            while self.ts and ts <= self.ts[-1]:
                self.ts.pop()
                self.equity.pop()
        self.ts.append(ts)
        self.equity.append(equity)

    def metrics(self, trader: Trader) -> dict[str, Any] | None:
        """``basic_metrics`` of the curve and the trader's round trips; recomputed only when a
        bar or a fill was added since the last call."""
        key = (len(self.ts), len(trader.engine.portfolio.fills))
        if key != self._metrics_key:
            self._metrics = self._compute(trader)
            self._metrics_key = key
        return self._metrics

    def _compute(self, trader: Trader) -> dict[str, Any] | None:
        values = np.asarray(self.equity, dtype=np.float64)
        if len(values) == 0 or not np.all(np.isfinite(values)) or values[0] <= 0:
            return None
        index = pd.DatetimeIndex(pd.to_datetime(np.asarray(self.ts, np.int64), utc=True))
        trades, _open = round_trips(trader.engine.portfolio.fills, trader.engine.instruments)
        try:
            return dict(basic_metrics(pd.Series(values, index=index), trades))
        except TradewindError:
            return None


# --- nodes ---------------------------------------------------------------------------------------


class ObservedNode(TradingNode):
    """A ``TradingNode`` that reports every processed bar (the per-bar equity and bar events
    the node itself does not publish)."""

    def __init__(
        self,
        config: NodeConfig,
        store: Store,
        data: dict[str, pd.DataFrame] | None,
        after_step: Callable[[TradingNode], None],
    ) -> None:
        super().__init__(config, store, data)
        self._after_step = after_step

    def step(self) -> None:
        super().step()
        self._after_step(self)


class ObservedLiveNode(LiveNode):
    """A ``LiveNode`` that reports every processed bar, like ``ObservedNode``."""

    def __init__(
        self, config: NodeConfig, store: Store, after_step: Callable[[TradingNode], None]
    ) -> None:
        super().__init__(config, store)
        self._after_step = after_step

    def on_bar(self, bar: Bar) -> None:
        super().on_bar(bar)
        self._after_step(self)


@dataclass(eq=False)
class NodeHandle:
    """A loaded node, its task while it runs, and what the platform keeps about it."""

    config: NodeConfig
    data: dict[str, pd.DataFrame] | None
    node: TradingNode
    curves: dict[str, EquityCurve] = field(default_factory=dict)
    task: asyncio.Task[Any] | None = None
    error: str = ""

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()


def node_time(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts / 1e9, tz=dt.UTC).isoformat()


def feed_of(node: TradingNode) -> Feed:
    """The node's bar feed (every trader replays the same one; the first trader's)."""
    trader = next(iter(node.traders.values()))
    return trader.engine.exec_feed[node.symbol]


def order_data(node_id: str, strategy: str, order: Order) -> dict[str, Any]:
    data = order.to_dict()
    data.update(node=node_id, strategy=strategy, event=order.status.value)
    return data


def fill_data(node_id: str, strategy: str, fill: Fill) -> dict[str, Any]:
    return {
        "node": node_id,
        "strategy": strategy,
        "fill_id": str(fill.fill_id),
        "client_order_id": fill.client_order_id,
        "instrument": fill.instrument,
        "side": fill.side.value,
        "quantity": fill.quantity,
        "price": fill.price,
        "fee": fill.fee,
        "fee_currency": fill.fee_currency,
        "liquidity": fill.liquidity.value,
        "liquidation": fill.liquidation,
        "ts": fill.ts,
        "time": node_time(fill.ts),
    }


def position_data(node_id: str, t: Trader, instrument: str) -> dict[str, Any]:
    pf = t.engine.portfolio
    pos = pf.positions[instrument]
    qty = pf.qty[instrument]
    mark = t.engine.mark(instrument)
    avg = pos.avg_price if qty else 0.0
    return _clean_dict(
        {
            "node": node_id,
            "strategy": t.id,
            "instrument": instrument,
            "quantity": qty,
            "avg_price": avg,
            "mark": mark,
            "unrealized_pnl": pos.unrealized_pnl(mark) if qty else 0.0,
            "realized_pnl": pos.realized_pnl,
        }
    )


# --- the platform --------------------------------------------------------------------------------


class _LogForwarder(logging.Handler):
    """Tradewind warnings and errors, as ``logs`` events (and ``alerts`` for errors)."""

    def __init__(self, platform: Platform) -> None:
        super().__init__(logging.WARNING)
        self.platform = platform
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._busy, "on", False):
            return  # never recurse through a log line written while publishing
        self._busy.on = True
        try:
            data = {
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
                "time": node_time(int(record.created * 1e9)),
            }
            self.platform.publish("logs", data)
            if record.levelno >= logging.ERROR:
                self.platform.publish("alerts", data)
        except Exception:  # a log line must never break the code that wrote it
            self.handleError(record)
        finally:
            self._busy.on = False


class Platform:
    """See the module docstring. ``reports_dir``: where backtest reports are written;
    ``data_dir``: the only directory backtests may read data files from (None: only the
    embedded demo data); ``default_speed``: replay speed of nodes created for a strategy."""

    def __init__(
        self,
        store: Store,
        *,
        reports_dir: Path | str = "reports",
        data_dir: Path | str | None = None,
        default_speed: float = 0.0,
        backtest_workers: int = 1,
    ) -> None:
        self.store = store
        self.reports_dir = Path(reports_dir)
        self.data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self.default_speed = default_speed
        self.nodes: dict[str, NodeHandle] = {}
        self._subs: dict[int, Subscription] = {}
        self.delivered = 0
        self.dropped = 0
        self._pool = ThreadPoolExecutor(
            max_workers=backtest_workers, thread_name_prefix="tw-backtest"
        )
        self._jobs: dict[str, Future[None]] = {}
        self._forwarder = _LogForwarder(self)
        logging.getLogger("tradewind").addHandler(self._forwarder)
        self._fail_interrupted_backtests()

    # --- events -----------------------------------------------------------------------------

    def subscribe(
        self,
        queue: asyncio.Queue[Event],
        topics: Iterable[str] | None = None,
        *,
        on_overflow: Callable[[], None] | None = None,
    ) -> Subscription:
        """Deliver events of ``topics`` (None: every topic) to ``queue``. Call it from the loop
        that reads the queue. ``on_overflow`` runs once (on that loop) when the queue is full."""
        wanted = None if topics is None else set(topics)
        if wanted is not None:
            check_topics(wanted)
        sub = Subscription(
            queue, wanted, asyncio.get_running_loop(), threading.get_ident(), on_overflow
        )
        self._subs[id(queue)] = sub
        return sub

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._subs.pop(id(queue), None)

    def subscriptions(self) -> list[Subscription]:
        return list(self._subs.values())

    def wants(self, topic: str) -> bool:
        """Whether any subscriber takes ``topic`` (so building its payload is worth it)."""
        return any(s.topics is None or topic in s.topics for s in list(self._subs.values()))

    def publish(self, topic: str, data: Any) -> None:
        """Send ``{"topic": topic, "data": data}`` to every subscriber of ``topic``."""
        if not self._subs:
            return
        event = Event(topic, data)
        here = threading.get_ident()
        for sub in list(self._subs.values()):
            if sub.topics is not None and topic not in sub.topics:
                continue
            if sub.thread == here:
                self._deliver(sub, event)
                continue
            try:
                sub.loop.call_soon_threadsafe(self._deliver, sub, event)
            except RuntimeError:  # that loop is closed: its subscriber is gone
                self._subs.pop(id(sub.queue), None)

    def _deliver(self, sub: Subscription, event: Event) -> None:
        if self._subs.get(id(sub.queue)) is not sub:
            return  # unsubscribed meanwhile
        if sub.dropped == 0:
            try:
                sub.queue.put_nowait(event)
                sub.delivered += 1
                self.delivered += 1
                return
            except asyncio.QueueFull:
                pass
        sub.dropped += 1
        self.dropped += 1
        if sub.dropped == 1 and sub.on_overflow is not None:
            sub.on_overflow()

    # --- nodes ------------------------------------------------------------------------------

    def add_node(
        self, config: NodeConfig, data: dict[str, pd.DataFrame] | None = None
    ) -> TradingNode:
        """Load a node (built, not started); its equity curves come from the store."""
        if config.id in self.nodes:
            raise ConflictError(f"node {config.id!r} is already loaded")
        node = self._build(config, data)
        handle = NodeHandle(config, data, node)
        self._load_curves(handle)
        self.nodes[config.id] = handle
        return node

    def _build(self, config: NodeConfig, data: dict[str, pd.DataFrame] | None) -> TradingNode:
        node: TradingNode
        if config.venue.kind == "paper":
            node = ObservedNode(config, self.store, data, self._after_step)
        else:  # a real venue: connects, warms up and reconciles when it starts
            node = ObservedLiveNode(config, self.store, self._after_step)
        node.subscribe(self._node_listener(node))
        return node

    def _load_curves(self, handle: NodeHandle) -> None:
        node_id = handle.config.id
        handle.curves = {sid: EquityCurve() for sid in handle.node.traders}
        with self.store.session() as s:
            rows = s.execute(
                select(EquityRow.strategy_id, EquityRow.ts, EquityRow.equity)
                .where(EquityRow.node_id == node_id)
                .order_by(EquityRow.strategy_id, EquityRow.ts, EquityRow.id)
            )
            for sid, ts, equity in rows:
                curve = handle.curves.get(sid)
                if curve is not None:
                    curve.append(int(ts), float(equity))

    def node(self, node_id: str) -> TradingNode:
        """The loaded node ``node_id``."""
        return self.handle(node_id).node

    def handle(self, node_id: str) -> NodeHandle:
        handle = self.nodes.get(node_id)
        if handle is None:
            loaded = ", ".join(sorted(self.nodes)) or "none"
            raise NotFoundError(f"no node {node_id!r} is loaded (loaded: {loaded})")
        return handle

    def load_node(self, node_id: str) -> NodeHandle:
        """The node ``node_id``: loaded already, or loaded now from its stored configuration."""
        if node_id in self.nodes:
            return self.nodes[node_id]
        with self.store.session() as s:
            row = s.get(NodeRow, node_id)
            stored = dict(row.config) if row is not None else None
        if stored is None:
            raise NotFoundError(f"no node {node_id!r} (neither loaded nor in the database)")
        try:
            config = NodeConfig.model_validate(stored)
        except ValueError as exc:
            raise ConfigError(
                f"node {node_id!r}: its stored configuration is invalid: {exc}"
            ) from exc
        self.add_node(config)
        return self.nodes[node_id]

    async def start_node(self, node_id: str) -> TradingNode:
        """Recover the node from the store (reconciling it) and run it as a task."""
        handle = self.load_node(node_id)
        if handle.running:
            raise ConflictError(f"node {node_id!r} is already running")
        if handle.node.state != "starting":  # stopped, finished or failed: rebuild from store
            handle.node = self._build(handle.config, handle.data)
            self._load_curves(handle)
        handle.error = ""
        if not isinstance(handle.node, LiveNode):  # a live node starts inside run() (I/O)
            handle.node.start()
        if handle.node.discrepancies:
            self.publish(
                "alerts",
                {
                    "level": "error",
                    "node": node_id,
                    "message": f"node {node_id}: {len(handle.node.discrepancies)} "
                    "reconciliation discrepancies; trading halted",
                },
            )
        handle.task = asyncio.get_running_loop().create_task(self._run(handle))
        self.publish(
            "logs",
            {
                "level": "info",
                "logger": log.name,
                "message": f"node {node_id} started at bar {handle.node.cursor + 1}",
                "time": node_time(time.time_ns()),
            },
        )
        return handle.node

    async def _run(self, handle: NodeHandle) -> None:
        node = handle.node
        try:
            await node.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            handle.error = f"{type(exc).__name__}: {exc}"
            node.state = "failed"
            with self.store.session() as s:
                row = s.get(NodeRow, node.id)
                if row is not None:
                    row.status = "failed"
            log.exception("node %s failed", node.id)

    async def stop_node(self, node_id: str) -> TradingNode:
        """Stop the node after its current bar (open orders cancelled or kept per its
        ``on_stop``) and wait for it to finish."""
        handle = self.handle(node_id)
        if not handle.running or handle.task is None:
            raise ConflictError(f"node {node_id!r} is not running (state {handle.node.state})")
        handle.node.stop()
        await handle.task
        return handle.node

    async def close(self) -> None:
        """Stop every running node, wait for the backtests, detach the log forwarder."""
        for handle in list(self.nodes.values()):
            if handle.running and handle.task is not None:
                handle.node.stop()
                await handle.task
        await asyncio.get_running_loop().run_in_executor(None, self.close_jobs)

    def close_jobs(self) -> None:
        """Cancel queued backtests (stored as failed) and wait for the one running."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        cancelled = [rid for rid, fut in self._jobs.items() if fut.cancelled()]
        if cancelled:
            with self.store.session() as s:
                s.execute(
                    update(BacktestRunRow)
                    .where(BacktestRunRow.id.in_(cancelled))
                    .values(
                        status="failed",
                        error="the server stopped before it ran",
                        finished_at=utcnow(),
                    )
                )
        logging.getLogger("tradewind").removeHandler(self._forwarder)

    # --- per-bar and per-event hooks ----------------------------------------------------------

    def _after_step(self, node: TradingNode) -> None:
        handle = self.nodes.get(node.id)
        if handle is None or handle.node is not node:
            return
        for sid, t in node.traders.items():
            curve = handle.curves.setdefault(sid, EquityCurve())  # a live node's come late
            curve.append(int(t.engine.clock.now()), t.engine.portfolio.equity())
        if not self._subs:
            return
        try:
            self._publish_bar(node)
        except Exception:
            log.exception("node %s: publishing bar %d failed", node.id, node.cursor)

    def _publish_bar(self, node: TradingNode) -> None:
        if self.wants("bars"):
            feed = feed_of(node)
            i = feed.cursor
            a = feed.arrays
            ts = int(a["ts"][i])
            self.publish(
                "bars",
                _clean(
                    {
                        "node": node.id,
                        "symbol": node.symbol,
                        "timeframe": feed.timeframe,
                        "bar": i,
                        "ts": ts,
                        "time": node_time(ts),
                        "open": float(a["open"][i]),
                        "high": float(a["high"][i]),
                        "low": float(a["low"][i]),
                        "close": float(a["close"][i]),
                        "volume": float(a["volume"][i]),
                    }
                ),
            )
        if self.wants("equity"):
            for sid, t in node.traders.items():
                pf = t.engine.portfolio
                ts = int(t.engine.clock.now())
                self.publish(
                    "equity",
                    _clean(
                        {
                            "node": node.id,
                            "strategy": sid,
                            "bar": node.cursor,
                            "ts": ts,
                            "time": node_time(ts),
                            "equity": pf.equity(),
                            "cash": pf.cash(),
                        }
                    ),
                )

    def _node_listener(self, node: TradingNode) -> Callable[[str, Any], None]:
        node_id = node.id

        def listener(topic: str, payload: Any) -> None:
            if not self._subs:
                return
            try:
                self._on_node_event(node, node_id, topic, payload)
            except Exception:  # the engine must never see a failure of the event stream
                log.exception("node %s: publishing %s failed", node_id, topic)

        return listener

    def _on_node_event(self, node: TradingNode, node_id: str, topic: str, payload: Any) -> None:
        if topic == "node":
            data = {"node": node_id, **_clean(payload)}
            self.publish("node", data)
            if payload.get("event") in ("halted", "reduce_only"):
                message = f"node {node_id}: {payload['event']}"
                self.publish("alerts", {"level": "warning", **data, "message": message})
            return
        strategy, obj = payload["strategy"], payload["data"]
        if topic == "fill":
            self.publish("fills", fill_data(node_id, strategy, obj))
            t = node.traders.get(strategy)
            if t is None:
                return
            order = t.engine.oms.get(obj.client_order_id)
            if order is not None:  # a fill changes its order's state without an order event
                self.publish("orders", order_data(node_id, strategy, order))
            if self.wants("positions"):
                self.publish("positions", position_data(node_id, t, obj.instrument))
            return
        if topic.startswith("order."):
            data = order_data(node_id, strategy, obj)
            self.publish("orders", data)
            if obj.status is OrderStatus.REJECTED:
                self.publish(
                    "alerts",
                    {
                        "level": "warning",
                        "node": node_id,
                        "strategy": strategy,
                        "message": f"order {obj.client_order_id} rejected: {obj.reason}",
                    },
                )

    # --- trading ------------------------------------------------------------------------------

    def trader(self, node_id: str, strategy_id: str) -> Trader:
        node = self.node(node_id)
        t = node.traders.get(strategy_id)
        if t is None:
            raise NotFoundError(
                f"node {node_id!r} has no strategy {strategy_id!r} "
                f"(it has {', '.join(node.traders)})"
            )
        return t

    def _trading_node(self, node_id: str) -> TradingNode:
        node = self.node(node_id)
        if node.state not in RUNNING_STATES:
            raise ConflictError(f"node {node_id!r} is {node.state}; start it before trading")
        return node

    def submit_order(
        self,
        node_id: str,
        strategy_id: str,
        side: str,
        quantity: float,
        type: str = "market",
        price: float | None = None,
        trigger_price: float | None = None,
        tif: str = "GTC",
        reduce_only: bool = False,
        *,
        instrument: str | None = None,
        actor: str = "api",
    ) -> Order:
        """A manual order for one strategy's account: risk-checked by its engine, the intent
        committed before the venue sees it, the node committed afterwards. ``OrderRejected``
        (the order is stored, REJECTED) when the risk checks or the venue deny it."""
        node = self._trading_node(node_id)
        t = self.trader(node_id, strategy_id)
        symbol = instrument or node.symbol
        if symbol not in t.engine.instruments:
            raise ConfigError(
                f"node {node_id!r} trades {', '.join(t.engine.instruments)}, not {symbol!r}"
            )
        try:
            order = Order(
                symbol,
                OrderSide(side),
                quantity,
                OrderType(type),
                price=price,
                trigger_price=trigger_price,
                tif=TimeInForce(tif),
                reduce_only=reduce_only,
                client_order_id="unnumbered",
                tag=f"manual {actor}"[:64],
            )
        except ValueError as exc:
            raise ConfigError(f"order: {exc}") from exc
        order.client_order_id = t.next_id()  # numbered once valid: no gaps in the sequence
        t.engine.submit(order)
        node.commit()
        if order.status is OrderStatus.REJECTED:
            raise OrderRejected(f"order {order.client_order_id} rejected: {order.reason}")
        return order

    def find_order(self, client_order_id: str) -> tuple[TradingNode, Trader, Order] | None:
        for handle in self.nodes.values():
            for t in handle.node.traders.values():
                order = t.engine.oms.orders.get(client_order_id)
                if order is not None:
                    return handle.node, t, order
        return None

    def cancel_order(self, client_order_id: str, actor: str = "api") -> Order:
        """Cancel an open order of a running node; the cancellation is committed at once."""
        found = self.find_order(client_order_id)
        if found is None:
            with self.store.session() as s:
                row = s.get(OrderRow, client_order_id)
                where = None if row is None else (row.node_id, row.status)
            if where is None:
                raise NotFoundError(f"no order {client_order_id!r}")
            raise ConflictError(
                f"order {client_order_id!r} ({where[1]}) belongs to node {where[0]!r}, which "
                "is not loaded; start the node to cancel its orders"
            )
        node, t, order = found
        if not order.is_open:
            raise ConflictError(
                f"order {client_order_id!r} is {order.status.value}; only open orders can be "
                "canceled"
            )
        if node.state not in RUNNING_STATES:
            raise ConflictError(f"node {node.id!r} is {node.state}; start it to cancel orders")
        venue = t.engine.venue
        if venue is None:
            raise ConflictError(f"node {node.id!r} has no venue attached")
        venue.cancel(order, t.engine.clock.now(), f"canceled by {actor}")
        node.commit()
        return order

    def halt(
        self,
        node_id: str,
        strategy: str | None = None,
        *,
        flatten: bool = False,
        reduce_only: bool = False,
        actor: str = "api",
        reason: str = "",
    ) -> None:
        """The kill switch. On a running node: at once (cancel open orders; ``flatten`` closes
        positions; ``reduce_only`` lets only shrinking orders through). On a node that is not
        running: stored, and applied when it starts (whole node only, no flatten)."""
        if flatten and reduce_only:
            raise ConfigError("flatten and reduce_only exclude each other")
        handle = self.nodes.get(node_id)
        if handle is not None and handle.node.state in RUNNING_STATES:
            if strategy is not None:
                self.trader(node_id, strategy)  # 404-style error naming the strategies
            handle.node.halt(
                strategy, flatten=flatten, reduce_only=reduce_only, actor=actor, reason=reason
            )
            return
        if strategy is not None or flatten:
            raise ConflictError(
                f"node {node_id!r} is not running: only a whole-node halt without flatten can "
                "be stored for its next start"
            )
        self._store_halt(node_id, "reduce_only" if reduce_only else "halted", reason)

    def resume(self, node_id: str, strategy: str | None = None, *, actor: str = "api") -> None:
        """Lift a halt (also the explicit override after a reconciliation discrepancy)."""
        handle = self.nodes.get(node_id)
        if handle is not None and handle.node.state in RUNNING_STATES:
            if strategy is not None:
                self.trader(node_id, strategy)
            handle.node.resume(strategy, actor=actor)
            return
        if strategy is not None:
            raise ConflictError(f"node {node_id!r} is not running: resume the whole node")
        self._store_halt(node_id, "", "")

    def _store_halt(self, node_id: str, mode: str, reason: str) -> None:
        with self.store.session() as s:
            if not set_halt_mode(s, node_id, mode, reason):  # applied when the node starts
                raise NotFoundError(f"no node {node_id!r} in the database")

    # --- in-memory reads ----------------------------------------------------------------------

    def portfolio(
        self, node_id: str | None = None, strategy: str | None = None
    ) -> list[dict[str, Any]]:
        """Per loaded node and strategy: equity, cash, PnL, positions and metrics, from memory."""
        handles = [self.handle(node_id)] if node_id is not None else list(self.nodes.values())
        out = []
        for handle in handles:
            node = handle.node
            for sid, t in node.traders.items():
                if strategy is not None and sid != strategy:
                    continue
                out.append(self._account(handle, node, t))
        return out

    def _account(self, handle: NodeHandle, node: TradingNode, t: Trader) -> dict[str, Any]:
        pf = t.engine.portfolio
        equity = pf.equity()
        initial = handle.config.cash
        positions = [position_data(node.id, t, sym) for sym, q in pf.qty.items() if q]
        realized = sum(p.realized_pnl for p in pf.positions.values())
        unrealized = sum(p["unrealized_pnl"] or 0.0 for p in positions)
        return {  # metrics and positions are JSON-safe already: only these numbers need _num
            "node": node.id,
            "strategy": t.id,
            "state": node.state,
            "halt": t.halted or node.halt_mode or "",
            "bar": node.cursor,
            "ts": int(t.engine.clock.now()),
            "currency": pf.account.base_currency,
            "initial_cash": initial,
            "equity": _num(equity),
            "cash": _num(pf.cash()),
            "pnl": _num(equity - initial),
            "realized_pnl": _num(realized),
            "unrealized_pnl": _num(unrealized),
            "fees": _num(pf.total_fees),
            "open_orders": len(t.engine.oms.open),
            "positions": positions,
            "metrics": handle.curves.setdefault(t.id, EquityCurve()).metrics(t),
        }

    def candles(
        self, symbol: str, limit: int = 500, node_id: str | None = None
    ) -> tuple[str, str, list[tuple[int, float, float, float, float, float]]]:
        """The last ``limit`` bars of ``symbol`` a node has processed: never one past its
        cursor. Returns (node id, timeframe, rows of ts, open, high, low, close, volume)."""
        handles = [self.handle(node_id)] if node_id is not None else list(self.nodes.values())
        for handle in handles:
            node = handle.node
            if node.symbol != symbol:
                continue
            feed = feed_of(node)
            end = min(node.cursor, feed.cursor) + 1
            start = max(0, end - limit)
            a = feed.arrays
            rows = list(
                zip(
                    a["ts"][start:end].tolist(),
                    a["open"][start:end].tolist(),
                    a["high"][start:end].tolist(),
                    a["low"][start:end].tolist(),
                    a["close"][start:end].tolist(),
                    a["volume"][start:end].tolist(),
                    strict=True,
                )
            )
            return node.id, feed.timeframe, rows
        where = f"node {node_id!r}" if node_id is not None else "any loaded node"
        raise NotFoundError(f"no bars of {symbol!r} on {where}")

    # --- strategies ---------------------------------------------------------------------------

    def create_strategy(
        self,
        node_id: str,
        strategy_id: str,
        spec: str,
        params: dict[str, Any],
        stage: str = "paper",
    ) -> StrategyRow:
        """Store a strategy ``node_id/strategy_id`` (not running). It runs on a node of its own,
        ``node_id``, created when it is started; so ``node_id`` must be new."""
        check_stage(stage)
        StrategyConfig(id=strategy_id, strategy=spec, params=params)  # id pattern
        NodeConfig(id=node_id)
        load_strategy(spec)(**params)  # the class exists and takes these parameters
        row_id = f"{node_id}/{strategy_id}"
        with self.store.session() as s:
            if s.get(StrategyRow, row_id) is not None:
                raise ConflictError(f"strategy {row_id!r} already exists")
            if s.get(NodeRow, node_id) is not None or node_id in self.nodes:
                raise ConflictError(
                    f"node {node_id!r} exists and its strategies come from its configuration; "
                    "choose a new node id"
                )
            row = StrategyRow(
                id=row_id,
                node_id=None,
                strategy=spec,
                params=dict(params),
                stage=stage,
                status="stopped",
                venue="paper",
                instruments=[],
            )
            s.add(row)
        return row

    def update_strategy(
        self, row_id: str, *, params: dict[str, Any] | None = None, stage: str | None = None
    ) -> StrategyRow:
        """Change a strategy's stage and/or parameters (parameters only while its node is not
        running; they are also written to the node's stored configuration)."""
        if stage is not None:
            check_stage(stage)
        node_id, sid = split_strategy_id(row_id)
        handle = self.nodes.get(node_id)
        if (
            params is not None
            and handle is not None
            and (handle.running or handle.node.state in RUNNING_STATES)
        ):
            raise ConflictError(f"node {node_id!r} is running; stop it to change parameters")
        with self.store.session() as s:
            row = s.get(StrategyRow, row_id)
            if row is None:
                raise NotFoundError(f"no strategy {row_id!r}")
            if params is not None:
                load_strategy(row.strategy)(**params)
                row.params = dict(params)
                node_row = s.get(NodeRow, node_id)
                if node_row is not None:
                    config = NodeConfig.model_validate(node_row.config)
                    for sc in config.strategies:
                        if sc.id == sid:
                            sc.params = dict(params)
                    node_row.config = config.model_dump(mode="json")
                    if handle is not None:
                        handle.config = config
                        handle.node = self._build(config, handle.data)
            if stage is not None:
                row.stage = stage
            row.updated_at = utcnow()
        return row

    async def start_strategy(self, row_id: str, actor: str = "api") -> StrategyRow:
        """Run a strategy: lift its halt on its running node, start its (stopped) node, or
        create and start a paper node for a strategy that never ran."""
        node_id, sid = split_strategy_id(row_id)
        with self.store.session() as s:
            row = s.get(StrategyRow, row_id)
            if row is None:
                raise NotFoundError(f"no strategy {row_id!r}")
            stage, spec, params = row.stage, row.strategy, dict(row.params)
            stored_node = s.get(NodeRow, node_id) is not None
        handle = self.nodes.get(node_id)
        if handle is not None and handle.running:
            self.trader(node_id, sid)
            self.resume(node_id, sid, actor=actor)
            with self.store.session() as s:
                srow = s.get(StrategyRow, row_id)
                if srow is not None:
                    srow.status = "running"
        elif handle is not None or stored_node:
            await self.start_node(node_id)
        else:
            if stage != "paper":
                raise ConflictError(
                    f"strategy {row_id!r} is at stage {stage!r}: only 'paper' strategies can be "
                    "started here (no live venue is configured); PATCH its stage to 'paper'"
                )
            sc = StrategyConfig(id=sid, strategy=spec, params=params)
            config = NodeConfig(id=node_id, speed=self.default_speed, strategies=[sc])
            self.add_node(config)
            await self.start_node(node_id)
            with self.store.session() as s:
                srow = s.get(StrategyRow, row_id)
                if srow is not None:
                    srow.node_id = node_id
        return self.strategy_row(row_id)

    def stop_strategy(self, row_id: str, actor: str = "api") -> StrategyRow:
        """Halt one strategy of a running node: its open orders are cancelled and it sends no
        new ones until started again (the node keeps replaying for the others)."""
        node_id, sid = split_strategy_id(row_id)
        handle = self.nodes.get(node_id)
        if handle is None or handle.node.state not in RUNNING_STATES:
            raise ConflictError(f"strategy {row_id!r} is not running")
        self.trader(node_id, sid)
        handle.node.halt(sid, actor=actor, reason="strategy stopped")
        with self.store.session() as s:
            row = s.get(StrategyRow, row_id)
            if row is not None:
                row.status = "halted"
        return self.strategy_row(row_id)

    def strategy_row(self, row_id: str) -> StrategyRow:
        with self.store.session() as s:
            row = s.get(StrategyRow, row_id)
            if row is None:
                raise NotFoundError(f"no strategy {row_id!r}")
            return row

    def strategy_live(self, row: StrategyRow) -> dict[str, Any] | None:
        """The in-memory status of a strategy hosted by a loaded node, or None."""
        if "/" not in row.id:
            return None
        node_id, sid = row.id.split("/", 1)
        handle = self.nodes.get(node_id)
        if handle is None or sid not in handle.node.traders:
            return None
        node = handle.node
        t = node.traders[sid]
        live = _clean_dict(
            {
                "node_state": node.state,
                "running": handle.running,
                "equity": t.engine.portfolio.equity(),
                "position": t.engine.portfolio.qty[node.symbol],
                "open_orders": len(t.engine.oms.open),
                "halt": t.halted or node.halt_mode or "",
            }
        )
        return live

    # --- backtests ----------------------------------------------------------------------------

    def launch_backtest(
        self,
        strategy: str,
        params: dict[str, Any],
        config: dict[str, Any] | None = None,
        *,
        data: str | None = None,
        symbol: str | None = None,
        actor: str = "",
    ) -> str:
        """Check the request, store it (queued) and run it on the worker thread; the run id.
        ``data``: a file inside ``data_dir`` (None: the embedded demo data, ``symbol`` of
        AAPL, IBM, MSFT, GOOG, FB)."""
        load_strategy(strategy)(**params)
        try:
            cfg = BacktestConfig(**(config or {}))
        except TypeError as exc:
            raise ConfigError(f"backtest config: {exc}") from exc
        cfg.validate()
        path = self._data_path(data) if data is not None else None
        run_id = uuid.uuid4().hex
        stored = {**(config or {}), "data": data, "symbol": symbol}
        with self.store.session() as s:
            s.add(
                BacktestRunRow(
                    id=run_id,
                    strategy=strategy,
                    params=dict(params),
                    config=stored,
                    status="queued",
                    progress=0.0,
                    created_by=actor[:64],
                )
            )
        self._backtest_event(run_id, "queued", 0.0)
        self._jobs[run_id] = self._pool.submit(
            self._run_backtest, run_id, strategy, dict(params), cfg, path, symbol
        )
        return run_id

    def _data_path(self, name: str) -> Path:
        if self.data_dir is None:
            raise ConfigError(
                f"data {name!r}: this server has no data directory; leave data out to use "
                "the embedded demo data"
            )
        path = (self.data_dir / name).resolve()
        if not path.is_relative_to(self.data_dir):
            raise ConfigError(f"data {name!r} is outside the data directory")
        if not path.is_file():
            raise NotFoundError(f"data file {name!r} not found in the data directory")
        return path

    def _run_backtest(
        self,
        run_id: str,
        strategy: str,
        params: dict[str, Any],
        cfg: BacktestConfig,
        path: Path | None,
        symbol: str | None,
    ) -> None:
        try:
            self._set_run(run_id, status="running", progress=0.0)
            self._backtest_event(run_id, "running", 0.0)
            frames = _backtest_data(path, symbol)
            last = [0.0, time.monotonic()]

            def progress(done: int, total: int) -> None:
                frac = done / total if total else 1.0
                if frac - last[0] >= 0.05 or time.monotonic() - last[1] >= 0.5:
                    last[:] = [frac, time.monotonic()]
                    self._set_run(run_id, progress=min(frac, 0.99))
                    self._backtest_event(run_id, "running", frac)

            result = Backtest(frames, strategy, cfg, **params).run(progress=progress)
            self.reports_dir.mkdir(parents=True, exist_ok=True)
            report = result.report(self.reports_dir / f"backtest-{run_id}.html")
            metrics = result.to_dict()["metrics"]
            self._set_run(
                run_id,
                status="done",
                progress=1.0,
                metrics=metrics,
                report_path=str(report),
                finished_at=utcnow(),
            )
            self._backtest_event(run_id, "done", 1.0)
        except Exception as exc:
            message = (
                str(exc) if isinstance(exc, TradewindError) else (f"{type(exc).__name__}: {exc}")
            )
            self._set_run(run_id, status="failed", error=message, finished_at=utcnow())
            self._backtest_event(run_id, "failed", None, message)
            if not isinstance(exc, TradewindError):
                log.exception("backtest %s failed", run_id)

    def _set_run(self, run_id: str, **values: Any) -> None:
        with self.store.session() as s:
            s.execute(update(BacktestRunRow).where(BacktestRunRow.id == run_id).values(**values))

    def _backtest_event(
        self, run_id: str, status: str, progress: float | None, error: str = ""
    ) -> None:
        data = {
            "level": "error" if error else "info",
            "logger": "tradewind.backtest",
            "message": f"backtest {run_id} {status}" + (f": {error}" if error else ""),
            "time": node_time(time.time_ns()),
            "backtest": {"id": run_id, "status": status, "progress": progress},
        }
        self.publish("logs", data)
        if error:
            self.publish("alerts", data)

    def backtest(self, run_id: str) -> BacktestRunRow:
        with self.store.session() as s:
            row = s.get(BacktestRunRow, run_id)
        if row is None:
            raise NotFoundError(f"no backtest {run_id!r}")
        return row

    def backtests(self, limit: int = 100, offset: int = 0) -> list[BacktestRunRow]:
        with self.store.session() as s:
            q = select(BacktestRunRow).order_by(BacktestRunRow.created_at.desc(), BacktestRunRow.id)
            return list(s.scalars(q.limit(limit).offset(offset)))

    def _fail_interrupted_backtests(self) -> None:
        """Runs left queued or running by a previous process will never finish: say so."""
        with self.store.session() as s:
            s.execute(
                update(BacktestRunRow)
                .where(BacktestRunRow.status.in_(("queued", "running")))
                .values(
                    status="failed",
                    error="interrupted: the server stopped while it ran",
                    finished_at=utcnow(),
                )
            )


def _backtest_data(path: Path | None, symbol: str | None) -> dict[str, pd.DataFrame]:
    if path is None:
        from tradewind.demo import demo_bars

        return demo_bars([symbol or "AAPL"])
    from tradewind.data.loader import load_ohlcv

    return load_ohlcv(path, symbol=symbol)


def check_topics(topics: Iterable[str]) -> None:
    unknown = sorted(set(topics) - set(TOPICS))
    if unknown:
        raise ConfigError(f"unknown topic(s) {unknown}; topics are {', '.join(TOPICS)}")


def check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise ConfigError(f"stage {stage!r} is unknown; expected one of {', '.join(STAGES)}")


def split_strategy_id(row_id: str) -> tuple[str, str]:
    """``node/strategy`` -> (node, strategy)."""
    node_id, sep, sid = row_id.partition("/")
    if not sep or not node_id or not sid:
        raise NotFoundError(f"no strategy {row_id!r} (strategy ids are node/strategy)")
    return node_id, sid
