"""Restart: rebuild a trader from the store, then reconcile it with its venue.

The stored fills are the source of truth for the account: they are re-applied, in order, to the
trader's fresh portfolio (the same arithmetic that produced them, so the balances come out bit
for bit equal). Open orders are rebuilt from their rows and handed back to the venue and the
order manager. Then the restored state is compared with the stored position and balance
snapshots and with what the venue reports; every difference becomes a ``Discrepancy``.

Intents committed after the checkpoint (the bar the crash interrupted) were never confirmed by
the venue: they are left out, and the replay of that bar sends them again under the same client
order ids. Any that the replay does not send again are closed as REJECTED at the next commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from tradewind.live.venue_link import VenueLink
from tradewind.model.enums import (
    ContingencyType,
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from tradewind.model.order import Fill, Order
from tradewind.store import Store
from tradewind.store.models import BalanceRow, FillRow, OrderRow, PositionRow

if TYPE_CHECKING:
    from tradewind.live.node import Trader

_REL = 1e-9


@dataclass
class Discrepancy:
    venue: str
    kind: str  # order | fill | balance | position
    detail: dict[str, Any] = field(default_factory=dict)


def order_from_row(r: OrderRow) -> Order:
    o = Order(
        r.instrument,
        OrderSide(r.side),
        r.quantity if r.quantity > 0 or r.quote_quantity is None else 0.0,
        OrderType(r.type),
        price=r.price,
        trigger_price=r.trigger_price,
        trailing_offset=r.trailing_offset,
        trailing_offset_type=TrailingOffsetType(r.trailing_offset_type),
        tif=TimeInForce(r.tif),
        expire_ts=r.expire_ts,
        reduce_only=r.reduce_only,
        post_only=r.post_only,
        quote_quantity=r.quote_quantity,
        client_order_id=r.client_order_id,
        tag=r.tag,
        ts_init=r.ts_init,
    )
    o.status = OrderStatus(r.status)
    o.venue_order_id = r.venue_order_id
    o.filled_qty = r.filled_qty
    o.avg_price = r.avg_price
    o.reason = r.reason
    o.parent_id = r.parent_id
    o.linked_ids = tuple(r.linked_ids or ())
    o.contingency = ContingencyType(r.contingency)
    o.triggered = r.triggered
    o.working = r.working
    o.ts_last = r.ts_last
    o.active_ts = r.active_ts
    return o


def fill_from_row(r: FillRow) -> Fill:
    return Fill(
        int(r.fill_id) if r.fill_id.isdigit() else r.fill_id,
        r.client_order_id,
        r.instrument,
        OrderSide(r.side),
        r.quantity,
        r.price,
        r.fee,
        r.fee_currency,
        LiquiditySide(r.liquidity),
        r.ts,
        r.liquidation,
    )


def restore_trader(
    store: Store, node_id: str, t: Trader, state: dict[str, Any], cursor: int, *, live: bool = False
) -> list[Discrepancy]:
    """Load ``t``'s orders and fills, put its open orders back on the venue; the differences
    between the rebuilt state and the stored snapshots.

    ``live``: a real venue, where nothing is replayed. An intent committed after the checkpoint
    may have reached the venue, so it is kept open (SUBMITTED) for the venue reconciliation to
    settle, and order numbering continues after the highest number ever stored."""
    seq = int(state.get("seq", 0))
    t.seq = seq
    if state.get("venue"):
        t.venue.set_counters(state["venue"])
    if state.get("strategy"):
        t.backtest.strategy.on_load(state["strategy"])
    t.engine.feed(next(iter(t.engine.instruments))).cursor = cursor  # marks read the restored bar
    key = (OrderRow.node_id == node_id, OrderRow.strategy_id == t.id)
    with store.session() as s:
        rows = list(s.scalars(select(OrderRow).where(*key).order_by(OrderRow.seq)))
        fills = list(
            s.scalars(
                select(FillRow)
                .where(FillRow.node_id == node_id, FillRow.strategy_id == t.id)
                .order_by(FillRow.id)
            )
        )
        positions = {
            p.instrument: p
            for p in s.scalars(
                select(PositionRow).where(
                    PositionRow.node_id == node_id, PositionRow.strategy_id == t.id
                )
            )
        }
        balances = {
            b.currency: b.total
            for b in s.scalars(
                select(BalanceRow).where(
                    BalanceRow.node_id == node_id, BalanceRow.strategy_id == t.id
                )
            )
        }
    pf = t.engine.portfolio
    for fr in fills:
        pf.apply_fill(fill_from_row(fr))
    if isinstance(t.venue, VenueLink):
        t.venue.fill_ids.update(fr.fill_id for fr in fills)
    t.recorder.know({r.client_order_id for r in rows})
    orders = {r.client_order_id: order_from_row(r) for r in rows}
    stale: set[str] = set()
    oms = t.engine.oms
    if live:
        t.seq = max([seq, *(r.seq for r in rows)])
    for r in rows:
        o = orders[r.client_order_id]
        if not live and r.seq > seq and t.seq_of(r.client_order_id) > 0:
            stale.add(r.client_order_id)  # an unconfirmed intent of the interrupted bar
            continue
        oms.orders[o.client_order_id] = o
        if o.is_open:
            oms.open[o.client_order_id] = o
            parent = orders.get(o.parent_id) if o.parent_id else None
            t.venue.restore(o, parent)
    t.recorder.stale = stale
    if live:
        return _reconcile_stored(t, positions, balances)
    return _reconcile(t, positions, balances, len(fills))


def close_stale_intents(store: Store, t: Trader) -> None:
    """After the first commit following a restart: intents the replay did not send again."""
    left = [cid for cid in t.recorder.stale if cid not in t.engine.oms.orders]
    t.recorder.stale = set()
    if not left:
        return
    with store.session() as s:
        s.execute(
            update(OrderRow)
            .where(OrderRow.client_order_id.in_(left))
            .values(status=OrderStatus.REJECTED.value, reason="intent not sent before a restart")
        )


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= _REL * max(1.0, abs(a), abs(b))


def _reconcile_stored(
    t: Trader, positions: dict[str, PositionRow], balances: dict[str, float]
) -> list[Discrepancy]:
    """The account rebuilt from the fills against the stored position and balance snapshots."""
    out: list[Discrepancy] = []
    venue = t.recorder.venue
    pf = t.engine.portfolio
    for sym, q in pf.qty.items():
        stored = positions[sym].quantity if sym in positions else 0.0
        if not _close(q, stored):
            out.append(Discrepancy(venue, "position", {"instrument": sym, "from_fills": q,
                                                       "stored": stored}))  # fmt: skip
    if balances:
        for cur, total in pf.account.balances.items():
            stored_b = balances.get(cur)
            if stored_b is None or not _close(total, stored_b):
                out.append(Discrepancy(venue, "balance", {"currency": cur, "from_fills": total,
                                                          "stored": stored_b}))  # fmt: skip
    return out


def _reconcile(
    t: Trader,
    positions: dict[str, PositionRow],
    balances: dict[str, float],
    n_fills: int,
) -> list[Discrepancy]:
    """The stored snapshots, then the simulated venue's view (its fill count, its book)."""
    out = _reconcile_stored(t, positions, balances)
    venue = t.recorder.venue
    assert not isinstance(t.venue, VenueLink)
    counters = t.venue.counters()
    if counters["fill_ids"] and counters["fill_ids"] < n_fills:
        out.append(Discrepancy(venue, "fill", {"venue_fills": counters["fill_ids"],
                                               "stored_fills": n_fills}))  # fmt: skip
    on_venue = {o.client_order_id for book in t.venue.book.values() for o in book}
    ours = set(t.engine.oms.open)
    for cid in sorted(on_venue ^ ours):
        out.append(Discrepancy(venue, "order", {"client_order_id": cid,
                                                "at_venue": cid in on_venue,
                                                "in_store": cid in ours}))  # fmt: skip
    return out
