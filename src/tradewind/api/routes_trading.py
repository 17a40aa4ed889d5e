"""Trading resources: nodes, strategies, orders, fills, positions, balances, portfolio,
instruments, candles, the kill switch and backtests (``routers()``, given to ``create_app``'s
``extra_routers``: mounted under ``/api/v1``, scope ``read`` for GET and ``trade`` otherwise).

Routes that touch a running node are ``async``: they run on the event loop's thread, the thread
the nodes step on, so a request never sees (or changes) a node halfway through a bar. Routes that
only read the database are plain functions (run in the thread pool). ``GET /portfolio`` is served
from memory (no database access) for dashboards polling it.

Scopes beyond the default: ``POST /risk/resume`` needs ``admin`` (lifting a safety stop, which may
override a reconciliation discrepancy, is an administrator's decision; halting is an emergency
action any trader may take: ``trade``). A strategy given as ``module:Class`` (imported into the
server process) needs ``admin``; file paths (``path/file.py:Class``) are refused over the API.
Every mutating call is written to the audit log with the caller and the request id.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Coroutine
from enum import Enum
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import func, or_, select
from sqlalchemy.sql import Select

from tradewind.api.deps import Admin, Principal, Trader, UtcDatetime, audit_request
from tradewind.api.errors import Conflict, Forbidden, NotFound, error_responses
from tradewind.errors import OrderRejected
from tradewind.live.node import TradingNode
from tradewind.live.platform import (
    ConflictError,
    NotFoundError,
    Platform,
)
from tradewind.model.order import Order
from tradewind.store import Store
from tradewind.store.models import (
    BacktestRunRow,
    BalanceRow,
    EquityRow,
    FillRow,
    InstrumentRow,
    NodeRow,
    OrderRow,
    PositionRow,
    StrategyRow,
)
from tradewind.strategy.registry import builtin_strategies

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,40}$"
ORDER_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
RUN_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_INT64 = (-(2**63), 2**63 - 1)
M = TypeVar("M", bound=BaseModel)

Ident = Annotated[str, Field(pattern=ID_PATTERN, max_length=40)]
NodeId = Annotated[str, Path(pattern=ID_PATTERN, description="the node")]
StrategyId = Annotated[str, Path(pattern=ID_PATTERN, description="the strategy on that node")]
Filter = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00]+$")]
Spec = Annotated[
    str,
    Field(
        min_length=1,
        max_length=256,
        pattern=r"^[^\x00]+$",
        description="a built-in strategy name, or package.module:Class (admin)",
    ),
]
Positive = Annotated[float, Field(gt=0, le=1e15, allow_inf_nan=False)]
Params = Annotated[dict[str, Any], Field(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=1000, description="at most 1000")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
Stage = Literal["research", "paper", "live"]
OrderStatusName = Literal[
    "initialized",
    "submitted",
    "accepted",
    "partially_filled",
    "filled",
    "canceled",
    "rejected",
    "expired",
]


class TradingRoute(APIRoute):
    """Turns the platform's ``NotFoundError`` / ``ConflictError`` into 404 / 409."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def translated(request: Request) -> Response:
            try:
                return await handler(request)
            except NotFoundError as exc:
                raise NotFound(str(exc)) from exc
            except ConflictError as exc:
                raise Conflict(str(exc)) from exc

        return translated


def _router(tag: str) -> APIRouter:
    return APIRouter(tags=[tag], route_class=TradingRoute)


nodes = _router("nodes")
strategies = _router("strategies")
orders = _router("orders")
portfolio = _router("portfolio")
market = _router("market")
risk = _router("risk")
backtests = _router("backtests")


def routers() -> list[APIRouter]:
    """Every trading router, for ``create_app(..., extra_routers=routers())``."""
    return [portfolio, market, orders, nodes, strategies, risk, backtests]  # hot routes first


def _platform(request: Request) -> Platform:
    platform = request.app.state.platform
    if not isinstance(platform, Platform):
        raise Conflict("no trading platform is attached to this API (start it with serve)")
    return platform


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _ns(value: dt.datetime) -> int:
    """A datetime as int64 nanoseconds (clamped to the int64 range)."""
    return int(min(max(value.timestamp() * 1e9, _INT64[0]), _INT64[1]))


def _time(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts / 1e9, tz=dt.UTC)


def _from(model: type[M], obj: Any, **extra: Any) -> M:
    """``model`` from ``obj``'s attributes of the same names (enums as their values), with
    ``extra`` for the rest."""
    values = dict(extra)
    for name in model.model_fields:
        if name not in values:
            value = getattr(obj, name)
            values[name] = value.value if isinstance(value, Enum) else value
    return model.model_validate(values)


def _num(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


# --- models -----------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TraderStatus(BaseModel):
    strategy: str
    equity: float | None
    position: float | None
    open_orders: int
    halt: str


class NodeOut(BaseModel):
    id: str
    status: str = Field(description="starting|recovering|running|halted|stopped|finished|failed")
    loaded: bool = Field(description="hosted by this server process")
    running: bool
    symbol: str | None
    bar: int = Field(description="index of the last processed bar (-1: none)")
    bars: int | None
    halt: str
    halt_reason: str
    discrepancies: int
    error: str
    started_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    traders: list[TraderStatus]


class StrategyLive(BaseModel):
    node_state: str
    running: bool
    equity: float | None
    position: float | None
    open_orders: int
    halt: str


class StrategyOut(BaseModel):
    id: str = Field(description="node/strategy")
    node_id: str | None
    strategy: str
    params: dict[str, Any]
    stage: str
    status: str
    venue: str
    instruments: list[str]
    code_hash: str
    created_at: dt.datetime
    updated_at: dt.datetime
    live: StrategyLive | None


class StrategyCreate(_In):
    id: Ident
    node: Ident | None = Field(default=None, description="the new node to run it on (default: id)")
    strategy: Spec
    params: Params = Field(default_factory=dict)
    stage: Stage = "paper"


class StrategyPatch(_In):
    params: Params | None = None
    stage: Stage | None = None


class OrderOut(BaseModel):
    client_order_id: str
    node_id: str
    strategy_id: str | None
    instrument: str
    side: str
    type: str
    quantity: float
    price: float | None
    trigger_price: float | None
    tif: str
    reduce_only: bool
    status: str
    filled_qty: float
    avg_price: float
    reason: str
    tag: str
    ts_init: int = Field(description="engine (market) time, ns since the epoch")
    ts_last: int
    time: dt.datetime = Field(description="ts_init as a UTC datetime")


class OrderCreate(_In):
    node: Ident
    strategy: Ident
    side: Literal["buy", "sell"]
    quantity: Positive
    type: Literal["market", "limit", "stop_market", "stop_limit"] = "market"
    price: Positive | None = None
    trigger_price: Positive | None = None
    tif: Literal["GTC", "IOC", "FOK", "DAY"] = "GTC"
    reduce_only: bool = False
    instrument: Filter | None = Field(default=None, description="default: the node's symbol")


class FillOut(BaseModel):
    node_id: str
    strategy_id: str
    venue: str
    fill_id: str
    client_order_id: str
    instrument: str
    side: str
    quantity: float
    price: float
    fee: float
    fee_currency: str
    liquidity: str
    liquidation: bool
    ts: int
    time: dt.datetime


class PositionOut(BaseModel):
    node_id: str
    strategy_id: str
    instrument: str
    quantity: float
    avg_price: float
    realized_pnl: float
    ts: int
    mark: float | None = Field(description="last price, when the node is loaded")
    unrealized_pnl: float | None


class BalanceOut(BaseModel):
    node_id: str
    strategy_id: str
    currency: str
    total: float
    ts: int


class LivePosition(BaseModel):
    instrument: str
    quantity: float
    avg_price: float
    mark: float | None
    unrealized_pnl: float | None
    realized_pnl: float


class Account(BaseModel):
    node: str
    strategy: str
    state: str
    halt: str
    bar: int
    ts: int
    currency: str
    initial_cash: float
    equity: float | None
    cash: float | None
    pnl: float | None
    realized_pnl: float | None
    unrealized_pnl: float | None
    fees: float | None
    open_orders: int
    positions: list[LivePosition]
    metrics: dict[str, float | int | str | None] | None = Field(
        description="tradewind.analytics.basic_metrics of the equity curve (None before a bar)"
    )


class EquityPoint(BaseModel):
    ts: int
    time: dt.datetime
    equity: float
    cash: float


class EquitySeries(BaseModel):
    node: str
    strategy: str
    total: int = Field(description="stored snapshots; `points` holds every `stride`-th one")
    stride: int
    points: list[EquityPoint]


class InstrumentOut(BaseModel):
    symbol: str
    kind: str
    base: str
    quote: str
    venue: str
    price_increment: float | None
    size_increment: float | None
    min_size: float
    min_notional: float
    multiplier: float
    nodes: list[str]


class Candle(BaseModel):
    ts: int = Field(description="bar open time, ns since the epoch")
    time: dt.datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


class Candles(BaseModel):
    node: str
    symbol: str
    timeframe: str
    candles: list[Candle]


class HaltRequest(_In):
    node: Ident
    strategy: Ident | None = Field(default=None, description="default: the whole node")
    flatten: bool = Field(default=False, description="also close every position")
    reduce_only: bool = Field(default=False, description="only orders that shrink positions")
    reason: Annotated[str, Field(max_length=500, pattern=r"^[^\x00]*$")] = ""


class ResumeRequest(_In):
    node: Ident
    strategy: Ident | None = None


class RiskTrader(BaseModel):
    strategy: str
    halt: str
    halted: bool
    reduce_only: bool
    halted_instruments: list[str]
    max_order_quantity: dict[str, float]
    max_order_notional: dict[str, float]
    max_position_quantity: dict[str, float]


class RiskNode(BaseModel):
    node: str
    loaded: bool
    status: str
    halt: str
    halt_reason: str
    discrepancies: int
    traders: list[RiskTrader]


class BacktestSettings(_In):
    cash: Positive = 10_000.0
    commission: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.001
    slippage_bps: Annotated[float, Field(ge=0, le=10_000, allow_inf_nan=False)] = 0.0
    fill_at_close: bool = False


class BacktestCreate(_In):
    strategy: Spec
    params: Params = Field(default_factory=dict)
    config: BacktestSettings = Field(default_factory=BacktestSettings)
    data: Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\x00]+$")] | None = Field(
        default=None, description="a file in the server's data directory; default: demo"
    )
    symbol: Filter | None = Field(default=None, description="demo: AAPL, IBM, MSFT, GOOG, FB")


class BacktestAccepted(BaseModel):
    id: str
    status: str


class BacktestOut(BaseModel):
    id: str
    strategy: str
    params: dict[str, Any]
    config: dict[str, Any]
    status: str = Field(description="queued|running|done|failed")
    progress: float
    metrics: dict[str, Any]
    error: str
    report: bool = Field(description="whether GET /backtests/{id}/report has the HTML")
    created_by: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


# --- nodes ------------------------------------------------------------------------------------


def _node_out(platform: Platform, node_id: str, row: NodeRow | None) -> NodeOut:
    handle = platform.nodes.get(node_id)
    if handle is None:
        assert row is not None
        return NodeOut(
            id=row.id,
            status=row.status,
            loaded=False,
            running=False,
            symbol=None,
            bar=int((row.checkpoint or {}).get("cursor", -1)),
            bars=None,
            halt=row.halt,
            halt_reason=row.halt_reason,
            discrepancies=0,
            error="",
            started_at=row.started_at,
            heartbeat_at=row.heartbeat_at,
            traders=[],
        )
    node = handle.node
    status = node.status()
    traders = [
        TraderStatus(
            strategy=sid,
            equity=_num(t["equity"]),
            position=_num(t["position"]),
            open_orders=t["open_orders"],
            halt=t["halt"],
        )
        for sid, t in status.traders.items()
    ]
    return NodeOut(
        id=node.id,
        status=node.state,
        loaded=True,
        running=handle.running,
        symbol=node.symbol,
        bar=node.cursor,
        bars=node.bars,
        halt=node.halt_mode or "",
        halt_reason=row.halt_reason if row is not None else "",
        discrepancies=len(node.discrepancies),
        error=handle.error,
        started_at=row.started_at if row is not None else None,
        heartbeat_at=row.heartbeat_at if row is not None else None,
        traders=traders,
    )


@nodes.get("/nodes", response_model=list[NodeOut])
async def list_nodes(request: Request) -> list[NodeOut]:
    """Every node: those this server hosts (live state) and those only in the database."""
    platform = _platform(request)
    with _store(request).session() as s:
        rows = {r.id: r for r in s.scalars(select(NodeRow).order_by(NodeRow.id))}
    ids = sorted(set(rows) | set(platform.nodes))
    return [_node_out(platform, i, rows.get(i)) for i in ids]


@nodes.get("/nodes/{node_id}", response_model=NodeOut, responses=error_responses(404))
async def get_node(request: Request, node_id: NodeId) -> NodeOut:
    platform = _platform(request)
    with _store(request).session() as s:
        row = s.get(NodeRow, node_id)
    if row is None and node_id not in platform.nodes:
        raise NotFound(f"no node {node_id!r}")
    return _node_out(platform, node_id, row)


async def _node_after(request: Request, node_id: str) -> NodeOut:
    with _store(request).session() as s:
        row = s.get(NodeRow, node_id)
    return _node_out(_platform(request), node_id, row)


@nodes.post("/nodes/{node_id}/start", response_model=NodeOut, responses=error_responses(404, 409))
async def start_node(request: Request, principal: Trader, node_id: NodeId) -> NodeOut:
    """Recover the node from the database (reconciling it) and run it."""
    await _platform(request).start_node(node_id)
    audit_request(_store(request), request, principal, "node.start", f"node:{node_id}")
    return await _node_after(request, node_id)


@nodes.post("/nodes/{node_id}/stop", response_model=NodeOut, responses=error_responses(404, 409))
async def stop_node(request: Request, principal: Trader, node_id: NodeId) -> NodeOut:
    """Stop the node after its current bar (open orders cancelled or kept per its config)."""
    await _platform(request).stop_node(node_id)
    audit_request(_store(request), request, principal, "node.stop", f"node:{node_id}")
    return await _node_after(request, node_id)


# --- strategies -----------------------------------------------------------------------------


def _check_spec(spec: str, principal: Principal) -> None:
    """Built-ins for everyone with the scope; ``module:Class`` for admins; no file paths."""
    if spec in builtin_strategies():
        return
    where = spec.rpartition(":")[0]
    if where.endswith(".py") or "/" in where or "\\" in where:
        raise Forbidden(f"strategy {spec!r}: file paths are not accepted over the API")
    if not principal.has("admin"):
        raise Forbidden(
            f"strategy {spec!r}: importing a module needs the 'admin' scope; built-ins are "
            f"{', '.join(sorted(builtin_strategies()))}"
        )


def _strategy_out(platform: Platform, row: StrategyRow) -> StrategyOut:
    live = platform.strategy_live(row)
    return _from(StrategyOut, row, live=live)


@strategies.get("/strategies", response_model=list[StrategyOut])
async def list_strategies(
    request: Request,
    node: Annotated[Filter | None, Query()] = None,
    stage: Annotated[Stage | None, Query()] = None,
) -> list[StrategyOut]:
    """Stored strategies, with the live status of those a loaded node hosts."""
    q = select(StrategyRow).order_by(StrategyRow.id)
    if node is not None:
        q = q.where(StrategyRow.id.startswith(f"{node}/", autoescape=True))
    if stage is not None:
        q = q.where(StrategyRow.stage == stage)
    with _store(request).session() as s:
        rows = list(s.scalars(q))
    platform = _platform(request)
    return [_strategy_out(platform, r) for r in rows]


@strategies.post(
    "/strategies", response_model=StrategyOut, status_code=201, responses=error_responses(409)
)
async def create_strategy(request: Request, principal: Trader, body: StrategyCreate) -> StrategyOut:
    """Store a strategy (a built-in or ``module:Class``, with checked parameters) to run on a
    new node of its own (``node``, default: its id) when started."""
    _check_spec(body.strategy, principal)
    platform = _platform(request)
    node_id = body.node or body.id
    row = platform.create_strategy(node_id, body.id, body.strategy, dict(body.params), body.stage)
    audit_request(
        _store(request),
        request,
        principal,
        "strategy.create",
        f"strategy:{row.id}",
        {"strategy": body.strategy, "params": body.params, "stage": body.stage},
    )
    return _strategy_out(platform, row)


@strategies.patch(
    "/strategies/{node_id}/{strategy_id}",
    response_model=StrategyOut,
    responses=error_responses(404, 409),
)
async def update_strategy(
    request: Request,
    principal: Trader,
    node_id: NodeId,
    strategy_id: StrategyId,
    body: StrategyPatch,
) -> StrategyOut:
    """Change the stage (research|paper|live) and/or the parameters (node not running)."""
    platform = _platform(request)
    params = dict(body.params) if body.params is not None else None
    row = platform.update_strategy(f"{node_id}/{strategy_id}", params=params, stage=body.stage)
    changed = body.model_dump(exclude_none=True)
    audit_request(
        _store(request), request, principal, "strategy.update", f"strategy:{row.id}", changed
    )
    return _strategy_out(platform, row)


@strategies.post(
    "/strategies/{node_id}/{strategy_id}/start",
    response_model=StrategyOut,
    responses=error_responses(404, 409),
)
async def start_strategy(
    request: Request, principal: Trader, node_id: NodeId, strategy_id: StrategyId
) -> StrategyOut:
    """Run the strategy: lift its halt on its running node, start its stopped node, or start
    a paper node for it (stage ``paper`` only)."""
    platform = _platform(request)
    row = await platform.start_strategy(f"{node_id}/{strategy_id}", actor=principal.actor)
    audit_request(_store(request), request, principal, "strategy.start", f"strategy:{row.id}")
    return _strategy_out(platform, row)


@strategies.post(
    "/strategies/{node_id}/{strategy_id}/stop",
    response_model=StrategyOut,
    responses=error_responses(404, 409),
)
async def stop_strategy(
    request: Request, principal: Trader, node_id: NodeId, strategy_id: StrategyId
) -> StrategyOut:
    """Halt the strategy on its node: its open orders are cancelled, new ones denied."""
    platform = _platform(request)
    row = platform.stop_strategy(f"{node_id}/{strategy_id}", actor=principal.actor)
    audit_request(_store(request), request, principal, "strategy.stop", f"strategy:{row.id}")
    return _strategy_out(platform, row)


# --- orders and fills -------------------------------------------------------------------------


def _order_out(row: OrderRow) -> OrderOut:
    return _from(OrderOut, row, time=_time(row.ts_init))


def _live_order_out(node: TradingNode, strategy: str, o: Order) -> OrderOut:
    return _from(OrderOut, o, node_id=node.id, strategy_id=strategy, time=_time(o.ts_init))


def _page(q: Select[Any], limit: int, offset: int) -> Select[Any]:
    return q.limit(limit).offset(offset)


@orders.get("/orders", response_model=list[OrderOut])
def list_orders(
    request: Request,
    node: Annotated[Filter | None, Query()] = None,
    strategy: Annotated[Filter | None, Query()] = None,
    status: Annotated[OrderStatusName | None, Query()] = None,
    instrument: Annotated[Filter | None, Query()] = None,
    since: Annotated[UtcDatetime | None, Query(description="engine time, inclusive")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[OrderOut]:
    """Stored orders, newest (engine time) first, filtered by every given parameter."""
    q = select(OrderRow)
    for column, value in (
        (OrderRow.node_id, node),
        (OrderRow.strategy_id, strategy),
        (OrderRow.status, status),
        (OrderRow.instrument, instrument),
    ):
        if value is not None:
            q = q.where(column == value)
    if since is not None:
        q = q.where(OrderRow.ts_init >= _ns(since))
    q = q.order_by(OrderRow.ts_init.desc(), OrderRow.node_id, OrderRow.seq.desc())
    with _store(request).session() as s:
        return [_order_out(r) for r in s.scalars(_page(q, limit, offset))]


@orders.post(
    "/orders", response_model=OrderOut, status_code=201, responses=error_responses(404, 409)
)
async def submit_order(request: Request, principal: Trader, body: OrderCreate) -> OrderOut:
    """Submit an order for one strategy's account on a running node. It passes the risk checks
    and is stored before the venue sees it; a market order fills at the next bar's open.
    Denied by the risk checks or the venue: 422 ``rejected`` (the order is stored)."""
    platform = _platform(request)
    detail: dict[str, Any] = body.model_dump(exclude_none=True)
    try:
        order = platform.submit_order(
            body.node,
            body.strategy,
            body.side,
            body.quantity,
            body.type,
            body.price,
            body.trigger_price,
            body.tif,
            body.reduce_only,
            instrument=body.instrument,
            actor=principal.actor,
        )
    except OrderRejected as exc:
        detail["rejected"] = str(exc)
        audit_request(
            _store(request),
            request,
            principal,
            "order.submit",
            f"node:{body.node}/{body.strategy}",
            detail,
        )
        raise
    audit_request(
        _store(request),
        request,
        principal,
        "order.submit",
        f"order:{order.client_order_id}",
        detail,
    )
    return _live_order_out(platform.node(body.node), body.strategy, order)


@orders.delete(
    "/orders/{client_order_id}", response_model=OrderOut, responses=error_responses(404, 409)
)
async def cancel_order(
    request: Request,
    principal: Trader,
    client_order_id: Annotated[str, Path(pattern=ORDER_ID_PATTERN)],
) -> OrderOut:
    """Cancel an open order (of a node this server runs); the cancellation is stored at once."""
    platform = _platform(request)
    order = platform.cancel_order(client_order_id, actor=principal.actor)
    found = platform.find_order(client_order_id)
    assert found is not None
    audit_request(_store(request), request, principal, "order.cancel", f"order:{client_order_id}")
    return _live_order_out(found[0], found[1].id, order)


@orders.get("/fills", response_model=list[FillOut])
def list_fills(
    request: Request,
    node: Annotated[Filter | None, Query()] = None,
    strategy: Annotated[Filter | None, Query()] = None,
    instrument: Annotated[Filter | None, Query()] = None,
    client_order_id: Annotated[Filter | None, Query()] = None,
    since: Annotated[UtcDatetime | None, Query(description="engine time, inclusive")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[FillOut]:
    """Stored fills, newest first, filtered by every given parameter."""
    q = select(FillRow)
    for column, value in (
        (FillRow.node_id, node),
        (FillRow.strategy_id, strategy),
        (FillRow.instrument, instrument),
        (FillRow.client_order_id, client_order_id),
    ):
        if value is not None:
            q = q.where(column == value)
    if since is not None:
        q = q.where(FillRow.ts >= _ns(since))
    q = q.order_by(FillRow.ts.desc(), FillRow.id.desc())
    with _store(request).session() as s:
        return [_from(FillOut, r, time=_time(r.ts)) for r in s.scalars(_page(q, limit, offset))]


# --- positions, balances, portfolio -----------------------------------------------------------


@portfolio.get("/positions", response_model=list[PositionOut])
async def list_positions(
    request: Request,
    node: Annotated[Filter | None, Query()] = None,
    strategy: Annotated[Filter | None, Query()] = None,
    open_only: Annotated[bool, Query(description="leave out flat positions")] = False,
) -> list[PositionOut]:
    """Stored positions; with the mark price and unrealized PnL when the node is loaded."""
    q = select(PositionRow).order_by(
        PositionRow.node_id, PositionRow.strategy_id, PositionRow.instrument
    )
    if node is not None:
        q = q.where(PositionRow.node_id == node)
    if strategy is not None:
        q = q.where(PositionRow.strategy_id == strategy)
    if open_only:
        q = q.where(PositionRow.quantity != 0)
    with _store(request).session() as s:
        rows = list(s.scalars(q))
    platform = _platform(request)
    out = []
    for r in rows:
        mark = None
        handle = platform.nodes.get(r.node_id)
        t = handle.node.traders.get(r.strategy_id) if handle is not None else None
        if t is not None and r.instrument in t.engine.instruments:
            mark = _num(t.engine.mark(r.instrument))
        mult = t.engine.instruments[r.instrument].multiplier if t is not None and mark else 1.0
        unrealized = (mark - r.avg_price) * r.quantity * mult if mark is not None else None
        out.append(_from(PositionOut, r, mark=mark, unrealized_pnl=_num(unrealized)))
    return out


@portfolio.get("/balances", response_model=list[BalanceOut])
def list_balances(
    request: Request,
    node: Annotated[Filter | None, Query()] = None,
    strategy: Annotated[Filter | None, Query()] = None,
) -> list[BalanceOut]:
    """Stored balances per node, strategy (its own account) and currency."""
    q = select(BalanceRow).order_by(BalanceRow.node_id, BalanceRow.strategy_id, BalanceRow.currency)
    if node is not None:
        q = q.where(BalanceRow.node_id == node)
    if strategy is not None:
        q = q.where(BalanceRow.strategy_id == strategy)
    with _store(request).session() as s:
        return [_from(BalanceOut, r) for r in s.scalars(q)]


_ACCOUNTS = TypeAdapter(list[Account])


@portfolio.get("/portfolio", response_model=list[Account], responses=error_responses(404))
async def get_portfolio(
    request: Request,
    node: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    strategy: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> Response:
    """Per loaded node and strategy: equity, cash, PnL, positions and the metrics of its equity
    curve, from memory (no database access; validated and encoded in one pass)."""
    accounts = _ACCOUNTS.validate_python(_platform(request).portfolio(node, strategy))
    return Response(_ACCOUNTS.dump_json(accounts), media_type="application/json")


@portfolio.get("/portfolio/equity", response_model=list[EquitySeries])
def equity_curve(
    request: Request,
    node: Annotated[Filter | None, Query()] = None,
    strategy: Annotated[Filter | None, Query()] = None,
    points: Annotated[int, Query(ge=2, le=10_000, description="at most this many")] = 500,
) -> list[EquitySeries]:
    """Stored equity curves (``equity_snapshots``), downsampled to at most ``points`` each
    (every ``stride``-th snapshot, and always the last)."""
    key = select(EquityRow.node_id, EquityRow.strategy_id, func.count()).group_by(
        EquityRow.node_id, EquityRow.strategy_id
    )
    if node is not None:
        key = key.where(EquityRow.node_id == node)
    if strategy is not None:
        key = key.where(EquityRow.strategy_id == strategy)
    out = []
    with _store(request).session() as s:
        series = sorted((str(n), str(st), int(c)) for n, st, c in s.execute(key))
        for node_id, strategy_id, total in series:
            stride = max(1, math.ceil(total / points))
            rn = func.row_number().over(order_by=(EquityRow.ts, EquityRow.id)).label("rn")
            inner = (
                select(EquityRow.ts, EquityRow.equity, EquityRow.cash, rn)
                .where(EquityRow.node_id == node_id, EquityRow.strategy_id == strategy_id)
                .subquery()
            )
            picked = select(inner.c.ts, inner.c.equity, inner.c.cash).where(
                or_((inner.c.rn - 1) % stride == 0, inner.c.rn == total)
            )
            pts = [
                EquityPoint(ts=ts, time=_time(ts), equity=eq, cash=cash)
                for ts, eq, cash in s.execute(picked.order_by(inner.c.rn))
            ]
            out.append(
                EquitySeries(
                    node=node_id, strategy=strategy_id, total=total, stride=stride, points=pts
                )
            )
    return out


# --- instruments and candles ----------------------------------------------------------------


@market.get("/instruments", response_model=list[InstrumentOut])
async def list_instruments(request: Request) -> list[InstrumentOut]:
    """Instruments the loaded nodes trade, and those stored in the database."""
    found: dict[tuple[str, str], InstrumentOut] = {}
    for handle in _platform(request).nodes.values():
        for t in handle.node.traders.values():
            for inst in t.engine.instruments.values():
                item = found.get((inst.venue, inst.symbol))
                if item is None:
                    item = _from(InstrumentOut, inst, nodes=[])
                    found[(inst.venue, inst.symbol)] = item
                if handle.node.id not in item.nodes:
                    item.nodes.append(handle.node.id)
    with _store(request).session() as s:
        for r in s.scalars(select(InstrumentRow)):
            increments = {
                "price_increment": r.price_increment or None,
                "size_increment": r.size_increment or None,
            }
            found.setdefault((r.venue, r.symbol), _from(InstrumentOut, r, nodes=[], **increments))
    return [found[k] for k in sorted(found)]


@market.get("/candles", response_model=Candles, responses=error_responses(404))
async def candles(
    request: Request,
    symbol: Annotated[Filter, Query()],
    node: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> Candles:
    """The bars of ``symbol`` a node has replayed so far (never one past its cursor)."""
    node_id, timeframe, rows = _platform(request).candles(symbol, limit, node)
    return Candles(
        node=node_id,
        symbol=symbol,
        timeframe=timeframe,
        candles=[
            Candle(ts=ts, time=_time(ts), open=o, high=h, low=lo, close=c, volume=v)
            for ts, o, h, lo, c, v in rows
        ],
    )


# --- risk ---------------------------------------------------------------------------------------


def _risk_nodes(platform: Platform, store: Store, node_id: str | None = None) -> list[RiskNode]:
    q = select(NodeRow).order_by(NodeRow.id)
    if node_id is not None:
        q = q.where(NodeRow.id == node_id)
    with store.session() as s:
        rows = {r.id: r for r in s.scalars(q)}
    ids = sorted(set(rows) | ({node_id} & set(platform.nodes) if node_id else set(platform.nodes)))
    out = []
    for i in ids:
        row, handle = rows.get(i), platform.nodes.get(i)
        if handle is None:
            assert row is not None
            out.append(
                RiskNode(
                    node=i,
                    loaded=False,
                    status=row.status,
                    halt=row.halt,
                    halt_reason=row.halt_reason,
                    discrepancies=0,
                    traders=[],
                )
            )
            continue
        node = handle.node
        traders = []
        for sid, t in node.traders.items():
            lim = t.engine.risk.limits
            traders.append(
                RiskTrader(
                    strategy=sid,
                    halt=t.halted or node.halt_mode or "",
                    halted=lim.halted,
                    reduce_only=lim.reduce_only,
                    halted_instruments=sorted(lim.halted_instruments),
                    max_order_quantity=dict(lim.max_order_quantity),
                    max_order_notional=dict(lim.max_order_notional),
                    max_position_quantity=dict(lim.max_position_quantity),
                )
            )
        out.append(
            RiskNode(
                node=i,
                loaded=True,
                status=node.state,
                halt=node.halt_mode or "",
                halt_reason=row.halt_reason if row is not None else "",
                discrepancies=len(node.discrepancies),
                traders=traders,
            )
        )
    return out


@risk.get("/risk", response_model=list[RiskNode])
async def get_risk(request: Request) -> list[RiskNode]:
    """Per node: the kill-switch state and each strategy's pre-trade limits."""
    return _risk_nodes(_platform(request), _store(request))


@risk.post("/risk/halt", response_model=RiskNode, responses=error_responses(404, 409))
async def halt(request: Request, principal: Trader, body: HaltRequest) -> RiskNode:
    """Kill switch (scope ``trade``): cancel open orders of the node (or one strategy),
    optionally close every position (``flatten``), or let only shrinking orders through
    (``reduce_only``). A node that is not running keeps the halt for its next start."""
    platform = _platform(request)
    platform.halt(
        body.node,
        body.strategy,
        flatten=body.flatten,
        reduce_only=body.reduce_only,
        actor=principal.actor,
        reason=body.reason,
    )
    action = "risk.reduce_only" if body.reduce_only else "risk.halt"
    audit_request(
        _store(request),
        request,
        principal,
        action,
        _risk_target(body.node, body.strategy),
        body.model_dump(exclude={"node", "strategy"}),
    )
    return _risk_nodes(platform, _store(request), body.node)[0]


@risk.post("/risk/resume", response_model=RiskNode, responses=error_responses(404, 409))
async def resume(request: Request, principal: Admin, body: ResumeRequest) -> RiskNode:
    """Lift a halt (scope ``admin``): also the explicit override of a reconciliation
    discrepancy, so it is an administrator's decision."""
    platform = _platform(request)
    platform.resume(body.node, body.strategy, actor=principal.actor)
    audit_request(
        _store(request), request, principal, "risk.resume", _risk_target(body.node, body.strategy)
    )
    return _risk_nodes(platform, _store(request), body.node)[0]


def _risk_target(node: str, strategy: str | None) -> str:
    return f"node:{node}" + (f"/{strategy}" if strategy else "")


# --- backtests ----------------------------------------------------------------------------------


def _backtest_out(row: BacktestRunRow) -> BacktestOut:
    report = row.status == "done" and bool(row.report_path) and FilePath(row.report_path).is_file()
    return _from(BacktestOut, row, report=report)


RunId = Annotated[str, Path(pattern=RUN_ID_PATTERN)]


@backtests.get("/backtests", response_model=list[BacktestOut])
def list_backtests(request: Request, limit: Limit = 100, offset: Offset = 0) -> list[BacktestOut]:
    """Backtest runs, newest first."""
    return [_backtest_out(r) for r in _platform(request).backtests(limit, offset)]


@backtests.post(
    "/backtests", response_model=BacktestAccepted, status_code=202, responses=error_responses(404)
)
def launch_backtest(request: Request, principal: Trader, body: BacktestCreate) -> BacktestAccepted:
    """Queue a backtest (run on a worker thread); follow it with ``GET /backtests/{id}``."""
    _check_spec(body.strategy, principal)
    run_id = _platform(request).launch_backtest(
        body.strategy,
        dict(body.params),
        body.config.model_dump(),
        data=body.data,
        symbol=body.symbol,
        actor=principal.actor,
    )
    audit_request(
        _store(request),
        request,
        principal,
        "backtest.launch",
        f"backtest:{run_id}",
        {"strategy": body.strategy, "params": body.params},
    )
    return BacktestAccepted(id=run_id, status="queued")


@backtests.get("/backtests/{run_id}", response_model=BacktestOut, responses=error_responses(404))
def get_backtest(request: Request, run_id: RunId) -> BacktestOut:
    """Status, progress (0..1) and, when done, the metrics."""
    return _backtest_out(_platform(request).backtest(run_id))


@backtests.get(
    "/backtests/{run_id}/report",
    response_class=FileResponse,
    responses={
        200: {
            "content": {"text/html": {"schema": {"type": "string"}}},
            "description": "the HTML report",
        },
        **error_responses(404, 409),
    },
)
def backtest_report(request: Request, run_id: RunId) -> FileResponse:
    """The run's HTML report (409 while it is queued or running)."""
    row = _platform(request).backtest(run_id)
    if row.status in ("queued", "running"):
        raise Conflict(f"backtest {run_id} is {row.status}; the report comes when it is done")
    if row.status != "done" or not row.report_path or not FilePath(row.report_path).is_file():
        raise NotFound(f"backtest {run_id} has no report ({row.status}: {row.error or 'gone'})")
    return FileResponse(row.report_path, media_type="text/html")


__all__ = ["TradingRoute", "routers"]
