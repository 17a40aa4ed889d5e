"""The TradingNode: strategies trading a replayed feed on the paper venue, with every order and
fill stored, and a restart that carries on exactly where a crash stopped it.

Each strategy is a *trader* with its own engine, simulated (paper) venue and account, built by
the same code as a backtest (``Backtest.build_engine``) and driven bar by bar by the backtest's
own event loop: on the same data a paper run makes the same orders and fills as the backtest.
The node adds what a backtest does not need:

* pacing — ``speed`` bars of real time per second of wall time (0: as fast as possible), in an
  asyncio task that yields to the rest of the process (the API) between bars;
* persistence — every order intent committed before it reaches the venue, and each bar's
  effects (order changes, fills, positions, balances, equity) committed together with the
  checkpoint (bar cursor, order numbering, venue numbering, strategy state);
* recovery — on start the node rebuilds each trader from the store (fills re-applied to a fresh
  account, open orders put back on the venue), checks the result against the stored positions
  and balances, and only then resumes after the checkpoint. A difference is stored as a
  discrepancy and the node stays halted until it is resolved or overridden;
* a kill switch — halt (cancel open orders, optionally flatten) or reduce-only, per strategy or
  for the whole node, from the API, the CLI (through the database) or a signal.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.backtest.runner import Backtest, BacktestConfig, EventLoop
from tradewind.engine.core import TradingEngine
from tradewind.errors import ConfigError
from tradewind.live.config import NodeConfig, StrategyConfig, VenueConfig
from tradewind.live.recorder import Recorder, load_checkpoint, order_seq
from tradewind.live.recovery import Discrepancy, close_stale_intents, restore_trader
from tradewind.live.venue_link import VenueLink
from tradewind.model.enums import OrderSide
from tradewind.model.order import Order
from tradewind.sim.venue import SimulatedVenue
from tradewind.store import Store
from tradewind.store.models import AuditRow, DiscrepancyRow, NodeRow, StrategyRow, utcnow

log = logging.getLogger("tradewind.live")

Listener = Callable[[str, Any], None]


def set_halt_mode(s: Session, node_id: str, mode: str, reason: str) -> bool:
    """Store a node's kill-switch mode ("", "halted", "reduce_only", "flatten"); a running node
    applies it at its next commit, a stopped one when it starts. False: no such node."""
    row = s.get(NodeRow, node_id)
    if row is None:
        return False
    row.halt, row.halt_reason = mode, reason
    return True


def order_prefix(node_id: str, strategy_id: str) -> str:
    """A short, venue-safe client-order-id prefix unique to one node's strategy."""
    digest = hashlib.sha256(f"{node_id}/{strategy_id}".encode()).hexdigest()[:8]
    return f"tw{digest}-"


@dataclass
class Trader:
    """One strategy with its engine, paper venue, account and recorder."""

    config: StrategyConfig
    backtest: Backtest
    engine: TradingEngine
    venue: SimulatedVenue | VenueLink
    loop: EventLoop | None  # the replay's bar loop (None on a live venue)
    recorder: Recorder
    prefix: str
    seq: int = 0
    halted: str = ""  # "" | "halted" | "reduce_only"

    @property
    def id(self) -> str:
        return self.config.id

    def next_id(self) -> str:
        self.seq += 1
        return f"{self.prefix}{self.seq}"

    def seq_of(self, cid: str) -> int:
        return order_seq(self.prefix, cid)


@dataclass
class NodeStatus:
    node_id: str
    state: str  # starting | recovering | running | halted | stopped | finished | failed
    bar: int
    bars: int
    halt: str
    discrepancies: int
    traders: dict[str, dict[str, Any]] = field(default_factory=dict)


class TradingNode:
    """Hosts the configured strategies on one replayed feed and the paper venue."""

    def __init__(
        self,
        config: NodeConfig,
        store: Store,
        data: dict[str, pd.DataFrame] | None = None,
    ) -> None:
        self._init_state(config, store)
        frames = data if data is not None else _load_data(config)
        if config.symbol is not None:
            if config.symbol not in frames:
                raise ConfigError(f"symbol {config.symbol!r} not in the data ({', '.join(frames)})")
            frames = {config.symbol: frames[config.symbol]}
        if len(frames) != 1:
            raise ConfigError(
                f"the replay feed plays one symbol; the data has {', '.join(frames)}: "
                "set `symbol:` in the node config"
            )
        self.symbol = next(iter(frames))
        self.frames = frames
        for sc in config.strategies:
            self.traders[sc.id] = self._make_trader(sc)
        self.bars = len(next(iter(frames.values())))

    # --- construction -------------------------------------------------------------------------

    def _init_state(self, config: NodeConfig, store: Store) -> None:
        """What every node keeps, whatever its feed and venue."""
        self.config = config
        self.store = store
        self.id = config.id
        self.traders: dict[str, Trader] = {}
        self.cursor = -1  # the last bar whose effects are committed
        self.bars = 0
        self.state = "starting"
        self.halt_mode = ""
        self.discrepancies: list[Discrepancy] = []
        self._stop = asyncio.Event()
        self._listeners: list[Listener] = []
        self._since_commit = 0

    @property
    def stage(self) -> str:
        return "paper"

    @property
    def venue_name(self) -> str:
        return self.config.venue.name

    def _make_trader(self, sc: StrategyConfig) -> Trader:
        v = self.config.venue
        assert isinstance(v, VenueConfig)  # the paper venue (LiveNode builds its own traders)
        bt = Backtest(
            self.frames,
            sc.strategy,
            BacktestConfig(
                cash=self.config.cash,
                commission=v.commission,
                slippage_bps=v.slippage_bps,
                fill_at_close=v.fill_at_close,
            ),
            **sc.params,
        )
        engine, venue = bt.build_engine()
        schedule = bt.schedule(engine)
        loop = EventLoop(engine, venue, bt.strategy, schedule, bt.funding_events(engine))
        prefix = order_prefix(self.id, sc.id)
        recorder = Recorder(self.store, self.id, sc.id, self.venue_name, engine, prefix)
        trader = Trader(sc, bt, engine, venue, loop, recorder, prefix)
        engine.next_order_id = trader.next_id
        return trader

    # --- listeners (API WebSocket, tests) ------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """``listener(topic, payload)`` for orders, fills, equity and node events."""
        self._listeners.append(listener)
        for t in self.traders.values():
            t.engine.bus.subscribe("order.*", _tagged(listener, t.id))
            t.engine.bus.subscribe("fill", _tagged(listener, t.id))

    def _emit(self, topic: str, payload: Any) -> None:
        for fn in self._listeners:
            fn(topic, payload)

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Register the node, restore every trader from the store, reconcile. Synchronous."""
        stored_halt = self._register()
        self._restore()
        self._open(stored_halt)

    def _register(self) -> str:
        """The node's and its strategies' rows; returns a halt mode stored while it was down."""
        self.state = "recovering"
        with self.store.session() as s:
            row = s.get(NodeRow, self.id)
            if row is None:
                row = NodeRow(
                    id=self.id, config=self.config.model_dump(mode="json"), halt="", halt_reason=""
                )
                s.add(row)
            row.status, row.started_at, row.heartbeat_at = "recovering", utcnow(), utcnow()
            stored_halt = row.halt or ""  # set while the node was down (CLI / API)
            for sc in self.config.strategies:
                srow = s.get(StrategyRow, f"{self.id}/{sc.id}")
                if srow is None:
                    s.add(
                        StrategyRow(
                            id=f"{self.id}/{sc.id}",
                            node_id=self.id,
                            strategy=sc.strategy,
                            params=dict(sc.params),
                            code_hash=_code_hash(self.traders[sc.id]),
                            stage=self.stage,
                            status="running",
                            venue=self.venue_name,
                            instruments=[self.symbol],
                        )
                    )
                else:
                    srow.status = "running"
        return stored_halt

    def _restore(self, *, live: bool = False) -> dict[str, Any]:
        """Rebuild every trader from the store (see ``recovery``); returns the checkpoint."""
        with self.store.session() as s:
            checkpoint = load_checkpoint(s, self.id)
        self.cursor = int(checkpoint.get("cursor", -1))
        for t in self.traders.values():
            t.engine.portfolio.step = 0
            t.backtest.strategy.bind(t.engine, self.symbol)
            t.backtest.strategy.on_start()
            t.recorder.attach()
            state = checkpoint.get("traders", {}).get(t.id, {})
            feed_cursor = len(t.engine.exec_feed[self.symbol]) - 1 if live else self.cursor
            self.discrepancies += restore_trader(
                self.store, self.id, t, state, feed_cursor, live=live
            )
        if self.cursor < 0:
            with self.store.session() as s:
                for t in self.traders.values():
                    t.recorder.write_initial_balances(s, 0)
        return checkpoint

    def _open(self, stored_halt: str) -> None:
        """Apply the kill switch and any discrepancy (halted), then mark the node running."""
        self.halt_mode = ""
        if stored_halt:
            self._apply_db_halt(stored_halt)  # e.g. "flatten": close positions, stay halted
        if self.discrepancies:
            self._record_discrepancies()
            self.halt_mode = "halted"
            log.error("node %s: %d discrepancies; trading halted", self.id, len(self.discrepancies))
        self._apply_halt()
        self.state = "halted" if self.halt_mode == "halted" else "running"
        self._set_status(self.state)
        self._emit("node", {"event": "started", "cursor": self.cursor})

    async def run(self, *, install_signals: bool = False) -> NodeStatus:
        """Start (recover), replay to the end or until ``stop()``, then shut down."""
        if install_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.stop)
        if self.state == "starting":
            self.start()
        print(f"node {self.id}: replaying from bar {self.cursor + 1} of {self.bars}", flush=True)
        speed = self.config.speed
        tf_ns = next(iter(self.traders.values())).engine.exec_feed[self.symbol].tf_ns
        pause = tf_ns / 1e9 / speed if speed > 0 else 0.0
        last_yield = time.perf_counter()
        while self.cursor + 1 < self.bars and not self._stop.is_set():
            self.step()
            if pause:
                await asyncio.sleep(pause)
            elif time.perf_counter() - last_yield > 0.005:
                await asyncio.sleep(0)  # let the API and signal handlers run
                last_yield = time.perf_counter()
        finished = self.cursor + 1 >= self.bars
        self.commit()
        self.shutdown(finished=finished)
        return self.status()

    def stop(self) -> None:
        """Ask ``run`` to finish after the current bar (SIGINT / SIGTERM land here)."""
        self._stop.set()

    def step(self) -> None:
        """Process the next bar for every trader; commit when something happened or every
        ``commit_every`` bars. (Intents were committed as they were made.)"""
        i = self.cursor + 1
        active = False
        for t in self.traders.values():
            assert t.loop is not None
            t.loop.run(i, i + 1)
            t.recorder.snapshot_equity(int(t.engine.clock.now()))
            active = active or t.recorder.pending
        self.cursor = i
        self._since_commit += 1
        if active or self._since_commit >= self.config.commit_every:
            self.commit()

    def commit(self) -> None:
        """Write every trader's pending changes and the checkpoint in one transaction."""
        with self.store.session() as s:
            ts = 0
            for t in self.traders.values():
                ts = int(t.engine.clock.now())
                t.recorder.flush(s, ts)
            row = s.get(NodeRow, self.id)
            assert row is not None
            row.checkpoint = self.checkpoint()
            row.heartbeat_at = utcnow()
            db_halt = row.halt
        self._since_commit = 0
        for t in self.traders.values():
            if t.recorder.stale:
                close_stale_intents(self.store, t)
        if db_halt != self.halt_mode:  # the CLI (another process) flipped the kill switch
            self._apply_db_halt(db_halt)

    def checkpoint(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "traders": {
                t.id: {
                    "seq": t.seq,
                    "venue": t.venue.counters(),
                    "strategy": t.backtest.strategy.on_save(),
                }
                for t in self.traders.values()
            },
        }

    def shutdown(self, *, finished: bool = False) -> None:
        """Cancel (or keep) open orders, optionally flatten, store the final state."""
        if not finished:
            self.stop_orders()
            self.commit()
        self.finish("finished" if finished else "stopped")

    def stop_orders(self) -> None:
        """On a stop: cancel open orders (``on_stop: cancel``), flatten if configured."""
        for t in self.traders.values():
            if self.config.on_stop == "cancel":
                t.backtest.strategy.cancel_all()
            if self.config.flatten_on_stop:
                flatten_positions(t)

    def finish(self, state: str) -> None:
        """The strategies' ``on_stop`` and the final state, stored and announced."""
        for t in self.traders.values():
            t.backtest.strategy.on_stop()
        self.state = state
        self._set_status(self.state)
        self._emit("node", {"event": self.state, "cursor": self.cursor})

    # --- kill switch --------------------------------------------------------------------------

    def halt(
        self,
        strategy: str | None = None,
        *,
        flatten: bool = False,
        reduce_only: bool = False,
        actor: str = "system",
        reason: str = "",
    ) -> None:
        """Halt one strategy (or all): cancel its open orders, optionally close its positions.
        ``reduce_only`` keeps orders that shrink positions flowing and denies the rest."""
        mode = "reduce_only" if reduce_only else "halted"
        for t in self._select(strategy):
            t.halted = mode
            if not reduce_only:
                t.backtest.strategy.cancel_all()
            if flatten:
                flatten_positions(t)
            _risk_mode(t, mode)
        if strategy is None:
            self.halt_mode = mode
            self._persist_halt(mode, reason)
        self.commit()
        self._audit(actor, "halt" if not reduce_only else "reduce_only", strategy, flatten)
        self._emit("node", {"event": mode, "strategy": strategy, "flatten": flatten})

    def resume(self, strategy: str | None = None, *, actor: str = "system") -> None:
        """Lift a halt. With unresolved discrepancies this is the explicit override."""
        for t in self._select(strategy):
            t.halted = ""
            _risk_mode(t, "")
        if strategy is None:
            self.halt_mode = ""
            self._persist_halt("", "")
            self.state = "running"
            self._set_status("running")
        self._audit(actor, "resume", strategy, False)
        self._emit("node", {"event": "resumed", "strategy": strategy})

    def _apply_db_halt(self, mode: str) -> None:
        """Apply a halt mode set in the database: "halted", "reduce_only", "flatten" (halt and
        close every position, then stay halted) or "" (resume)."""
        if mode == "flatten":
            self.halt(None, flatten=True, actor="cli", reason="flatten")
            return
        self.halt_mode = mode
        self._apply_halt(cancel=mode == "halted")
        self.state = "halted" if mode == "halted" else "running"
        self._set_status(self.state)
        self._emit("node", {"event": mode or "resumed", "strategy": None})

    def _select(self, strategy: str | None) -> Iterable[Trader]:
        if strategy is None:
            return list(self.traders.values())
        if strategy not in self.traders:
            raise ConfigError(f"node {self.id} has no strategy {strategy!r}")
        return [self.traders[strategy]]

    def _apply_halt(self, cancel: bool = False) -> None:
        for t in self.traders.values():
            mode = self.halt_mode or t.halted
            if cancel and mode == "halted":
                t.backtest.strategy.cancel_all()
            _risk_mode(t, mode)

    # --- bookkeeping --------------------------------------------------------------------------

    def _persist_halt(self, mode: str, reason: str) -> None:
        with self.store.session() as s:
            set_halt_mode(s, self.id, mode, reason)

    def _set_status(self, status: str) -> None:
        with self.store.session() as s:
            row = s.get(NodeRow, self.id)
            if row is not None:
                row.status, row.heartbeat_at = status, utcnow()
            for srow in s.scalars(select(StrategyRow).where(StrategyRow.node_id == self.id)):
                srow.status = "running" if status == "running" else status

    def _record_discrepancies(self) -> None:
        with self.store.session() as s:
            for d in self.discrepancies:
                s.add(DiscrepancyRow(node_id=self.id, venue=d.venue, kind=d.kind,
                                     detail=d.detail))  # fmt: skip

    def _audit(self, actor: str, action: str, strategy: str | None, flatten: bool) -> None:
        with self.store.session() as s:
            s.add(
                AuditRow(
                    actor=actor,
                    action=action,
                    target=f"node:{self.id}" + (f"/{strategy}" if strategy else ""),
                    detail={"flatten": flatten},
                    source="node",
                )
            )

    def status(self) -> NodeStatus:
        return NodeStatus(
            node_id=self.id,
            state=self.state,
            bar=self.cursor,
            bars=self.bars,
            halt=self.halt_mode,
            discrepancies=len(self.discrepancies),
            traders={
                t.id: {
                    "equity": t.engine.portfolio.equity(),
                    "position": t.engine.portfolio.qty[self.symbol],
                    "open_orders": len(t.engine.oms.open),
                    "halt": t.halted,
                }
                for t in self.traders.values()
            },
        )


def _tagged(listener: Listener, trader: str) -> Callable[[str, Any], None]:
    return lambda topic, payload: listener(topic, {"strategy": trader, "data": payload})


def _risk_mode(t: Trader, mode: str) -> None:
    lim = t.engine.risk.limits
    lim.halted = mode == "halted"
    lim.reduce_only = mode == "reduce_only"


def flatten_positions(t: Trader) -> None:
    """Close every position with a reduce-only market order (allowed even when halted)."""
    lim = t.engine.risk.limits
    was = lim.halted
    lim.halted = False
    try:
        for sym, q in t.engine.portfolio.qty.items():
            if q:
                side = OrderSide.SELL if q > 0 else OrderSide.BUY
                t.engine.submit(
                    Order(sym, side, abs(q), reduce_only=True, tag="flatten",
                          client_order_id=t.next_id())
                )  # fmt: skip
    finally:
        lim.halted = was


def _code_hash(t: Trader) -> str:
    """A hash of the strategy class's source (which code produced these orders)."""
    import inspect

    cls = type(t.backtest.strategy)
    try:
        src = inspect.getsource(cls)
    except (OSError, TypeError):
        src = f"{cls.__module__}.{cls.__qualname__}"
    return hashlib.sha256(src.encode()).hexdigest()[:16]


def _load_data(config: NodeConfig) -> dict[str, pd.DataFrame]:
    if config.data is None:
        from tradewind.demo import demo_bars

        return demo_bars()
    from tradewind.data.loader import load_ohlcv

    frames = load_ohlcv(config.data)
    if config.start or config.end:
        lo = pd.Timestamp(config.start, tz="UTC").value if config.start else None
        hi = pd.Timestamp(config.end, tz="UTC").value if config.end else None
        out = {}
        for sym, df in frames.items():
            mask = pd.Series(True, index=df.index)
            if lo is not None:
                mask &= df["ts"] >= lo
            if hi is not None:
                mask &= df["ts"] < hi
            out[sym] = df[mask].reset_index(drop=True)
        frames = out
    return frames
