"""A TradingNode on a real venue: live closed bars in, real orders out.

Everything but the I/O is the replay node's: the same strategies, engines, risk checks,
recorder (intent committed before the venue sees it), kill switch and restart from the store.
What differs:

* bars come from the venue client (``VenueClient.bars``); the first ``warmup`` closed bars are
  history the strategy can read (indicators see them) but does not trade on; after that each
  closed bar is appended to the feed and handed to ``on_bar``;
* orders go through a ``VenueLink`` per strategy (one venue client shared by all): the venue's
  acknowledgements, state changes and fills come back as engine events;
* start-up reconciliation with the venue, before any strategy trades: open orders and recent
  fills are fetched; the node's own orders are brought up to date (a resting order that filled
  while the node was down gets its fills), unsettled intents are looked up, orders on the
  node's symbol that the node did not place are *adopted* into the first strategy (like
  NautilusTrader's external orders) so their fills count, and positions are compared with the
  venue's (perpetuals: equal; spot: the venue holds at least the node's position, less fees
  charged in the base asset). A difference is a stored discrepancy and the node stays halted;
* the same checks run every ``reconcile_every`` seconds while it trades.

Each strategy's ``cash`` is its budget: what its sizing may spend of the venue account.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from tradewind.backtest.runner import Backtest, BacktestConfig
from tradewind.data.loader import timeframe_to_ns
from tradewind.errors import ConfigError, VenueError
from tradewind.live.config import (
    CcxtVenueConfig,
    LiveVenueConfig,
    NodeConfig,
    SolanaNodeVenueConfig,
    StrategyConfig,
)
from tradewind.live.node import NodeStatus, Trader, TradingNode, order_prefix
from tradewind.live.recorder import Recorder
from tradewind.live.recovery import Discrepancy
from tradewind.live.venue_link import VenueLink, now_ns
from tradewind.model.data import Bar
from tradewind.model.enums import AccountType, InstrumentKind, OrderStatus, OrderType
from tradewind.model.instrument import Instrument
from tradewind.model.order import Order
from tradewind.store import Store
from tradewind.store.models import FillRow
from tradewind.venues.base import VenueClient, VenueFill, VenueOrder

log = logging.getLogger("tradewind.live")

_SPOT_FEE_ROOM = 0.01  # spot: the venue may hold up to 1 % less base (fees paid in base)


def make_client(cfg: LiveVenueConfig, store: Store) -> VenueClient:
    """The venue client a node config asks for (keys read from the environment)."""
    if isinstance(cfg, SolanaNodeVenueConfig):
        import os

        from tradewind.venues.solana.client import SolanaVenue, SolanaVenueConfig
        from tradewind.venues.solana.wallet import Wallet

        sol_cfg = SolanaVenueConfig(
            rpc_url=cfg.rpc_url,
            tokens=dict(cfg.tokens),
            jupiter_url=cfg.jupiter_url,
            jupiter_api_key=os.environ.get(cfg.jupiter_api_key_env) or None,
            mode=cfg.mode,
            slippage_bps=cfg.slippage_bps,
            sol_reserve_lamports=cfg.sol_reserve_lamports,
            max_priority_lamports=cfg.max_priority_lamports,
            price_poll_seconds=cfg.price_poll_seconds,
            name=cfg.name or "solana",
            history_pool=cfg.history_pool,
            history_url=cfg.history_url,
        )
        return SolanaVenue(sol_cfg, Wallet.from_env(cfg.keypair_env), store)
    if isinstance(cfg, CcxtVenueConfig):
        from tradewind.venues.ccxt import CcxtVenue

        client: VenueClient = CcxtVenue.from_env(
            cfg.exchange,
            market=cfg.market,
            api_key_env=cfg.api_key_env,
            secret_env=cfg.secret_env,
            urls=cfg.urls or None,
            poll_interval=cfg.poll_interval,
            timeout=cfg.timeout,
        )
        return client
    raise ConfigError(f"no venue client for venue kind {getattr(cfg, 'kind', '?')!r}")


class LiveNode(TradingNode):
    """Hosts the configured strategies on one symbol of one real venue."""

    def __init__(self, config: NodeConfig, store: Store, client: VenueClient | None = None) -> None:
        venue = config.venue
        if not isinstance(venue, LiveVenueConfig):
            raise ConfigError("LiveNode needs a real venue (venue.kind ccxt or solana)")
        self._init_state(config, store)  # cursor: live bars processed over the node's lifetime
        self.vcfg = venue
        self.client = client if client is not None else make_client(venue, store)
        self.symbol = venue.symbol
        self.tf_ns = timeframe_to_ns(venue.timeframe)
        self.frames: dict[str, pd.DataFrame] = {}
        self._changed = asyncio.Event()
        self._instrument: Instrument | None = None
        self._bars: AsyncIterator[Bar] | None = None
        self._first_live: Bar | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def stage(self) -> str:
        return "live"

    @property
    def venue_name(self) -> str:
        return self.vcfg.name or self.client.name

    # --- construction -------------------------------------------------------------------------

    async def _warm_up(self) -> None:
        """Connect, read the instrument, collect the warm-up history (closed bars only)."""
        await self.client.connect(self)
        found = await self.client.instruments([self.symbol])
        self._instrument = found[self.symbol]
        # the warm-up bars, the newest closed one (the first live bar) and the one forming now
        start = now_ns() - (self.vcfg.warmup + 2) * self.tf_ns
        self._bars = self.client.bars(self.symbol, self.vcfg.timeframe, since_ns=start)
        history: list[Bar] = []
        while True:
            bar = await anext(self._bars)
            if bar.ts + 2 * self.tf_ns > now_ns():  # the latest closed bar: live from here on
                self._first_live = bar
                break
            history.append(bar)
        self.frames = {
            self.symbol: _frame(history[-self.vcfg.warmup :] if self.vcfg.warmup else [])
        }
        for sc in self.config.strategies:
            self.traders[sc.id] = self._make_trader(sc)
        listeners, self._listeners = self._listeners, []
        for fn in listeners:  # subscribed before the traders existed
            self.subscribe(fn)

    def _make_trader(self, sc: StrategyConfig) -> Trader:
        assert self._instrument is not None
        inst = self._instrument
        bt = Backtest(
            self.frames,
            sc.strategy,
            BacktestConfig(
                cash=self.config.cash,
                account=AccountType.CASH if _spot(inst) else AccountType.MARGIN,
            ),
            instruments={self.symbol: inst},
            timeframes={self.symbol: self.vcfg.timeframe},
            **sc.params,
        )
        engine, _sim = bt.build_engine()
        link = VenueLink(self.client, engine, self._changed.set)
        engine.attach_venue(link)
        prefix = order_prefix(self.id, sc.id)
        recorder = Recorder(self.store, self.id, sc.id, self.venue_name, engine, prefix)
        trader = Trader(sc, bt, engine, link, None, recorder, prefix)
        engine.next_order_id = trader.next_id
        return trader

    def links(self) -> list[VenueLink]:
        return [t.venue for t in self.traders.values() if isinstance(t.venue, VenueLink)]

    # --- start-up -----------------------------------------------------------------------------

    async def start_live(self) -> None:
        """Warm up, restore from the store, reconcile with the venue; then trading may start."""
        await self._warm_up()
        stored_halt = self._register()
        self._restore(live=True)
        for t in self.traders.values():
            feed = t.engine.exec_feed[self.symbol]
            feed.cursor = len(feed) - 1
            t.engine.clock.set(now_ns())
            assert isinstance(t.venue, VenueLink)
            t.venue.uncertain |= {
                cid for cid, o in t.engine.oms.open.items() if o.status is OrderStatus.SUBMITTED
            }
        self.discrepancies += await self.reconcile(since_ns=self._last_fill_ts())
        self.commit()
        self._open(stored_halt)

    def start(self) -> None:
        raise ConfigError("a live node starts with `await node.start_live()` (it does I/O)")

    def _last_fill_ts(self) -> int:
        with self.store.session() as s:
            last = s.scalar(select(func.max(FillRow.ts)).where(FillRow.node_id == self.id))
        if last is None:  # nothing traded yet: fills since the oldest open order, if any
            opened = [o.ts_init for t in self.traders.values() for o in t.engine.oms.open.values()]
            return min(opened) if opened else now_ns()
        return int(last)

    async def reconcile(self, since_ns: int) -> list[Discrepancy]:
        """Bring every order up to date with the venue, adopt what the node did not place, apply
        missed fills, then compare positions. Returns what does not agree."""
        for link in self.links():
            await link.resolve_uncertain(self.symbol)
        venue_open = await self.client.open_orders([self.symbol])
        for vo in venue_open:
            self.on_order(vo)
        open_ids = {vo.client_order_id for vo in venue_open}
        for t in self.traders.values():
            assert isinstance(t.venue, VenueLink)
            for cid in list(t.engine.oms.open):
                if cid in open_ids or cid in t.venue.uncertain:
                    continue
                found = await self.client.lookup(cid, self.symbol)  # closed while we were away
                if found is not None:
                    t.venue.on_order(found)
        for vf in await self.client.fills([self.symbol], since_ns):
            if self._route(vf.client_order_id) is None:
                await self._adopt_by_lookup(vf)
            self.on_fill(vf)
        return await self._compare_positions()

    async def _adopt_by_lookup(self, fill: VenueFill) -> Trader:
        """Adopt the order of a fill the node did not expect, as the venue records it."""
        try:
            found = await self.client.lookup(fill.client_order_id, self.symbol)
        except VenueError:
            found = None
        t = self._adopt(found if found is not None else _order_of_fill(fill))
        if found is not None:
            assert isinstance(t.venue, VenueLink)
            t.venue.on_order(found)
        return t

    async def _compare_positions(self) -> list[Discrepancy]:
        assert self._instrument is not None
        ours = sum(t.engine.portfolio.qty[self.symbol] for t in self.traders.values())
        out: list[Discrepancy] = []
        if _spot(self._instrument):
            base = self._instrument.base
            have = {b.currency: b.total for b in await self.client.balances()}.get(base, 0.0)
            if ours > 0 and have < ours * (1 - _SPOT_FEE_ROOM) - 1e-12:
                detail = {"currency": base, "venue": have, "node": ours}
                out.append(Discrepancy(self.venue_name, "balance", detail))
        else:
            theirs = sum(
                p.quantity for p in await self.client.positions([self.symbol])
                if p.instrument == self.symbol
            )  # fmt: skip
            if abs(theirs - ours) > 1e-9 * max(1.0, abs(ours)):
                out.append(Discrepancy(self.venue_name, "position",
                                       {"instrument": self.symbol, "venue": theirs,
                                        "node": ours}))  # fmt: skip
        return out

    # --- venue reports (VenueReports) ---------------------------------------------------------

    def _route(self, client_order_id: str) -> Trader | None:
        for t in self.traders.values():
            if client_order_id.startswith(t.prefix) or client_order_id in t.engine.oms.orders:
                return t
        return None

    def on_order(self, report: VenueOrder) -> None:
        t = self._route(report.client_order_id)
        if t is None:
            if report.instrument != self.symbol or report.status.is_closed:
                return
            t = self._adopt(report)
        self._now(t)
        assert isinstance(t.venue, VenueLink)
        t.venue.on_order(report)

    def on_fill(self, fill: VenueFill) -> None:
        t = self._route(fill.client_order_id)
        if t is None:
            if fill.instrument == self.symbol:  # an order placed outside the node: adopt it
                task = asyncio.get_running_loop().create_task(self._adopt_then_fill(fill))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return
        self._now(t)
        assert isinstance(t.venue, VenueLink)
        t.venue.on_fill(fill)

    async def _adopt_then_fill(self, fill: VenueFill) -> None:
        if self._route(fill.client_order_id) is None:
            await self._adopt_by_lookup(fill)
        self.on_fill(fill)

    def _adopt(self, report: VenueOrder) -> Trader:
        """An order on our symbol that the node did not place: the first strategy owns it."""
        t = next(iter(self.traders.values()))
        order = Order(
            report.instrument,
            report.side,
            report.quantity,
            report.type,
            price=report.price,
            client_order_id=report.client_order_id,
            tag="adopted",
            ts_init=report.ts or now_ns(),
        )
        order.venue_order_id = report.venue_order_id
        t.engine.oms.add(order)
        t.engine.oms.transition(order, OrderStatus.SUBMITTED, order.ts_init)
        t.engine.order_event(order, OrderStatus.ACCEPTED, order.ts_init)
        log.warning(
            "node %s: adopted order %s (%s %s %s) placed on %s outside this node",
            self.id, report.client_order_id, report.side.value, report.quantity,
            report.instrument, self.venue_name,
        )  # fmt: skip
        return t

    def _now(self, t: Trader) -> None:
        t.engine.clock.set(max(t.engine.clock.ts, now_ns()))

    # --- running ------------------------------------------------------------------------------

    async def run(self, *, install_signals: bool = False) -> NodeStatus:
        """Start (warm-up, recover, reconcile), trade every closed bar until ``stop()``."""
        if install_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.stop)
        try:
            if self.state == "starting":
                await self.start_live()
            print(f"node {self.id}: trading {self.symbol} on {self.venue_name} (live)", flush=True)
            await self._trade()
            await self._shutdown_live()
        finally:
            await self.client.close()
        return self.status()

    async def _trade(self) -> None:
        assert self._bars is not None
        pending: Bar | None = self._first_live
        next_check = time.monotonic() + self.vcfg.reconcile_every
        bar_task: asyncio.Task[Bar] | None = None
        stop_task = asyncio.ensure_future(self._stop.wait())
        try:
            while not self._stop.is_set():
                if pending is not None:
                    self.on_bar(pending)
                    pending = None
                if bar_task is None:
                    bar_task = asyncio.ensure_future(anext(self._bars))
                change_task = asyncio.ensure_future(self._changed.wait())
                timeout = max(0.0, next_check - time.monotonic())
                done, _ = await asyncio.wait(
                    {bar_task, change_task, stop_task},
                    timeout=timeout,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                change_task.cancel()
                self._changed.clear()
                if bar_task in done:
                    pending = bar_task.result()
                    bar_task = None
                if time.monotonic() >= next_check:
                    await self._periodic_check()
                    next_check = time.monotonic() + self.vcfg.reconcile_every
                if any(t.recorder.pending for t in self.traders.values()):
                    self.commit()
        finally:
            stop_task.cancel()
            if bar_task is not None:
                bar_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, VenueError):
                    await bar_task

    def on_bar(self, bar: Bar) -> None:
        """One live closed bar: appended to every trader's feed, then the strategies."""
        values = {"open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close,
                  "volume": bar.volume}  # fmt: skip
        for t in self.traders.values():
            feed = t.engine.exec_feed[self.symbol]
            if len(feed) and bar.ts <= int(feed.arrays["ts"][-1]):
                continue  # seen (a resubscription may repeat the last bar)
            feed.append(bar.ts, values)
            strategy = t.backtest.strategy
            strategy.extend_indicators(feed)
            feed.cursor = len(feed) - 1
            self._now(t)
            strategy.on_bar(bar)
            t.recorder.snapshot_equity(int(t.engine.clock.now()))
        self.cursor += 1
        self.bars = self.cursor + 1
        self.commit()

    async def _periodic_check(self) -> None:
        try:
            found = await self.reconcile(
                since_ns=now_ns() - 2 * int(self.vcfg.reconcile_every * 1e9)
            )
        except VenueError as exc:
            log.warning("node %s: reconciliation with %s failed: %s", self.id, self.venue_name, exc)
            return
        if found:
            self.discrepancies += found
            self._record_discrepancies()
            if self.halt_mode != "halted":
                self.halt(None, actor="system", reason="discrepancy with the venue")
                self.state = "halted"

    async def _shutdown_live(self) -> None:
        self.stop_orders()
        await self.drain()  # the cancels (and a flatten) answered and committed
        self.finish("stopped")

    async def drain(self) -> None:
        """Wait for every venue request in flight, then commit (tests, shutdown)."""
        for link in self.links():
            await link.drain()
        self.commit()


def _spot(inst: Instrument) -> bool:
    return inst.kind is not InstrumentKind.PERPETUAL


def _frame(bars: list[Bar]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": np.array([b.ts for b in bars], dtype=np.int64),
            **{
                k: np.array([getattr(b, k) for b in bars], dtype=np.float64)
                for k in ("open", "high", "low", "close", "volume")
            },
        }
    )


def _order_of_fill(fill: VenueFill) -> VenueOrder:
    """The order of a fill when the venue has no record of it (a market order of the fill's
    size): the fill still counts."""
    return VenueOrder(
        client_order_id=fill.client_order_id,
        venue_order_id=fill.venue_order_id,
        instrument=fill.instrument,
        side=fill.side,
        type=OrderType.MARKET,
        quantity=fill.quantity,
        price=None,
        status=OrderStatus.ACCEPTED,
        ts=fill.ts,
    )
