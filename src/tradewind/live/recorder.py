"""Writing a trader's orders, fills, positions, balances and equity to the store.

The recorder listens on the engine's message bus. An order about to be sent (``order.submitted``,
published before the venue is called) is written and committed at once: the intent is durable
before anything leaves the process, under a client order id that makes a retry idempotent.
Everything else (status changes, fills, the resulting positions and balances, equity, the
checkpoint) is collected and written by ``flush`` in one transaction, so after a crash the
database holds the state as of one consistent moment, never half of a bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from tradewind.engine.core import TradingEngine
from tradewind.model.order import Fill, Order
from tradewind.store import Store
from tradewind.store.models import (
    BalanceRow,
    EquityRow,
    FillRow,
    NodeRow,
    OrderEventRow,
    OrderRow,
    PositionRow,
)


def order_values(order: Order) -> dict[str, Any]:
    """An order's columns (everything needed to rebuild it after a restart)."""
    return {
        "venue_order_id": order.venue_order_id,
        "instrument": order.instrument,
        "side": order.side.value,
        "type": order.type.value,
        "quantity": order.quantity,
        "quote_quantity": order.quote_quantity,
        "price": order.price,
        "trigger_price": order.trigger_price,
        "trailing_offset": order.trailing_offset,
        "trailing_offset_type": order.trailing_offset_type.value,
        "tif": order.tif.value,
        "expire_ts": order.expire_ts,
        "reduce_only": order.reduce_only,
        "post_only": order.post_only,
        "status": order.status.value,
        "filled_qty": order.filled_qty,
        "avg_price": order.avg_price,
        "reason": order.reason,
        "tag": order.tag,
        "parent_id": order.parent_id,
        "linked_ids": list(order.linked_ids),
        "contingency": order.contingency.value,
        "triggered": order.triggered,
        "working": order.working,
        "ts_init": order.ts_init,
        "ts_last": order.ts_last,
        "active_ts": order.active_ts,
    }


@dataclass
class Recorder:
    """Persistence for one trader (one strategy with its own engine and account)."""

    store: Store
    node_id: str
    strategy_id: str
    venue: str
    engine: TradingEngine
    prefix: str  # of this trader's client order ids (they carry the node's sequence number)
    _dirty: dict[str, Order] = field(default_factory=dict)
    _events: list[tuple[str, str, int, str, float]] = field(default_factory=list)
    _fills: list[Fill] = field(default_factory=list)
    _known: set[str] = field(default_factory=set)  # client ids that have a row
    _touched: set[str] = field(default_factory=set)  # instruments whose position changed
    _equity: list[tuple[int, float, float]] = field(default_factory=list)
    stale: set[str] = field(default_factory=set)  # unconfirmed intents found on restart

    def attach(self) -> None:
        self.engine.bus.subscribe("order.*", self._on_order)
        self.engine.bus.subscribe("fill", self._on_fill)

    def know(self, client_order_ids: set[str]) -> None:
        """Orders already in the database (after a restart)."""
        self._known |= client_order_ids

    @property
    def pending(self) -> bool:
        return bool(self._dirty or self._fills)

    # --- bus handlers -------------------------------------------------------------------------

    def _on_order(self, topic: str, order: Order) -> None:
        if topic == "order.submitted":
            self.write_intent(order)
            return
        self._dirty[order.client_order_id] = order
        self._events.append(
            (order.client_order_id, order.status.value, order.ts_last, order.reason,
             order.filled_qty)
        )  # fmt: skip

    def _on_fill(self, _topic: str, fill: Fill) -> None:
        self._fills.append(fill)
        self._touched.add(fill.instrument)
        order = self.engine.oms.get(fill.client_order_id)
        if order is not None:  # a fill moves its order to PARTIALLY_FILLED / FILLED silently
            self._on_order("order.fill", order)

    # --- writes -------------------------------------------------------------------------------

    def write_intent(self, order: Order) -> None:
        """Commit the order before it is sent. Re-sending an id that already has a row (a
        bar replayed after a crash) overwrites that row's content instead of adding one."""
        cid = order.client_order_id
        values = order_values(order)
        with self.store.session() as s:
            if cid in self._known:  # every row of this trader is known since its restore
                s.execute(update(OrderRow).where(OrderRow.client_order_id == cid).values(values))
            else:
                s.add(OrderRow(client_order_id=cid, **self._identity(cid), **values))
                s.flush()  # the order row before its event (no ORM relationship orders them)
            s.add(OrderEventRow(client_order_id=cid, status=order.status.value,
                                ts=order.ts_last, reason="intent", filled_qty=0.0))  # fmt: skip
        self._known.add(cid)

    def _identity(self, cid: str) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "strategy_id": self.strategy_id,
            "venue": self.venue,
            "seq": order_seq(self.prefix, cid),
        }

    def snapshot_equity(self, ts: int) -> None:
        pf = self.engine.portfolio
        self._equity.append((ts, pf.equity(), pf.cash()))

    def flush(self, s: Session, ts: int) -> None:
        """Write everything collected since the last flush into session ``s`` (the caller's
        transaction, which also holds the node's checkpoint)."""
        for cid, order in self.engine.oms.open.items():
            self._dirty.setdefault(cid, order)  # trailing stops move without an event
        for cid, order in self._dirty.items():
            values = order_values(order)
            if cid in self._known:
                s.execute(update(OrderRow).where(OrderRow.client_order_id == cid).values(values))
            else:
                s.add(OrderRow(client_order_id=cid, **self._identity(cid), **values))
        s.flush()  # order rows before the events and fills that refer to them
        self._known.update(self._dirty)
        for cid, status, ets, reason, filled in self._events:
            s.add(OrderEventRow(client_order_id=cid, status=status, ts=ets, reason=reason,
                                filled_qty=filled))  # fmt: skip
        for f in self._fills:
            s.add(
                FillRow(
                    node_id=self.node_id,
                    venue=self.venue,
                    fill_id=str(f.fill_id),
                    client_order_id=f.client_order_id,
                    strategy_id=self.strategy_id,
                    instrument=f.instrument,
                    side=f.side.value,
                    quantity=f.quantity,
                    price=f.price,
                    fee=f.fee,
                    fee_currency=f.fee_currency,
                    liquidity=f.liquidity.value,
                    liquidation=f.liquidation,
                    ts=f.ts,
                )
            )
        if self._fills:
            self._write_positions(s, ts)
        for ets, equity, cash in self._equity:
            s.add(EquityRow(node_id=self.node_id, strategy_id=self.strategy_id, ts=ets,
                            equity=equity, cash=cash))  # fmt: skip
        self._dirty.clear()
        self._events.clear()
        self._fills.clear()
        self._equity.clear()
        self._touched.clear()

    def _write_positions(self, s: Session, ts: int) -> None:
        pf = self.engine.portfolio
        key = {"node_id": self.node_id, "strategy_id": self.strategy_id}
        for sym in self._touched:
            pos = pf.positions[sym]
            row = s.get(PositionRow, (self.node_id, self.strategy_id, sym))
            values = {
                "quantity": pf.qty[sym],
                "avg_price": pos.avg_price if pf.qty[sym] else 0.0,
                "realized_pnl": pos.realized_pnl,
                "ts": ts,
            }
            if row is None:
                s.add(PositionRow(instrument=sym, **key, **values))
            else:
                for k, v in values.items():
                    setattr(row, k, v)
        for cur, total in pf.account.balances.items():
            brow = s.get(BalanceRow, (self.node_id, self.strategy_id, cur))
            if brow is None:
                s.add(BalanceRow(currency=cur, total=total, ts=ts, **key))
            else:
                brow.total, brow.ts = total, ts

    def write_initial_balances(self, s: Session, ts: int) -> None:
        """The account's opening balances (first start only)."""
        key = {"node_id": self.node_id, "strategy_id": self.strategy_id}
        for cur, total in self.engine.portfolio.account.balances.items():
            if s.get(BalanceRow, (self.node_id, self.strategy_id, cur)) is None:
                s.add(BalanceRow(currency=cur, total=total, ts=ts, **key))


def load_checkpoint(s: Session, node_id: str) -> dict[str, Any]:
    row = s.get(NodeRow, node_id)
    return dict(row.checkpoint) if row is not None and row.checkpoint else {}


def order_seq(prefix: str, cid: str) -> int:
    """The node's sequence number in a client order id (0: venue-originated, e.g. liquidation)."""
    tail = cid[len(prefix) :] if cid.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else 0
