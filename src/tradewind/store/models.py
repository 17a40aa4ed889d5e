"""The operational database: every table, as SQLAlchemy 2 declarative models.

One schema for SQLite (the embedded default) and PostgreSQL. Prices, quantities and money are
``Num`` columns: NUMERIC on PostgreSQL holding the float's shortest exact decimal (so a value
read back is the same float, bit for bit: a restarted node rebuilds exactly the state it had),
REAL (a double) on SQLite. Engine timestamps are int64 nanoseconds (``ts_*``); wall-clock
bookkeeping (``created_at``) is a tz-aware datetime.

The schema is created and changed only by the Alembic migrations in ``store/migrations``; a test
checks that the migrations produce exactly these tables.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Num(TypeDecorator[float]):
    """A float stored exactly: NUMERIC of its shortest repr on PostgreSQL, REAL on SQLite."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Float(precision=53))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name == "sqlite":
            return value
        f = float(value)
        if not math.isfinite(f):
            return Decimal("NaN") if math.isnan(f) else Decimal(repr(f))
        return Decimal(repr(f))

    def process_result_value(self, value: Any, dialect: Dialect) -> float | None:
        return None if value is None else float(value)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A tz-aware UTC datetime on both databases (SQLite keeps no zone; it is put back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(dt.UTC)  # SQLite keeps no offset: store the UTC wall time

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        stamp: dt.datetime = value
        return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# --- reference data ----------------------------------------------------------------------------


class InstrumentRow(Base):
    __tablename__ = "instruments"
    __table_args__ = (UniqueConstraint("venue", "symbol"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    base: Mapped[str] = mapped_column(String(32))
    quote: Mapped[str] = mapped_column(String(32))
    price_increment: Mapped[float] = mapped_column(Num, default=0.0)
    size_increment: Mapped[float] = mapped_column(Num, default=0.0)
    min_size: Mapped[float] = mapped_column(Num, default=0.0)
    min_notional: Mapped[float] = mapped_column(Num, default=0.0)
    multiplier: Mapped[float] = mapped_column(Num, default=1.0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class NodeRow(Base):
    """A trading node: its configuration, status and crash-recovery checkpoint."""

    __tablename__ = "nodes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="stopped")
    # kill switch: "" (trading), "halted", "reduce_only"
    halt: Mapped[str] = mapped_column(String(16), default="")
    halt_reason: Mapped[str] = mapped_column(Text, default="")
    # what a restart needs: replay cursor, order sequence, strategy state (JSON)
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StrategyRow(Base):
    __tablename__ = "strategies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    node_id: Mapped[str | None] = mapped_column(
        ForeignKey("nodes.id", ondelete="SET NULL"), nullable=True
    )
    strategy: Mapped[str] = mapped_column(String(256))  # built-in name or module:Class
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    code_hash: Mapped[str] = mapped_column(String(64), default="")
    stage: Mapped[str] = mapped_column(String(16), default="research")  # research|paper|live
    status: Mapped[str] = mapped_column(String(16), default="stopped")  # stopped|running|halted
    venue: Mapped[str] = mapped_column(String(64), default="paper")
    instruments: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# --- trading state -----------------------------------------------------------------------------


class OrderRow(Base):
    """An order as the node knows it; written as an intent before it is sent."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_node_status", "node_id", "status"),
        Index("ix_orders_node_seq", "node_id", "seq"),
    )

    client_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(64))
    strategy_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    venue: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)  # the node's order sequence number
    venue_order_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    instrument: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[float] = mapped_column(Num)
    quote_quantity: Mapped[float | None] = mapped_column(Num, nullable=True)
    price: Mapped[float | None] = mapped_column(Num, nullable=True)
    trigger_price: Mapped[float | None] = mapped_column(Num, nullable=True)
    trailing_offset: Mapped[float | None] = mapped_column(Num, nullable=True)
    trailing_offset_type: Mapped[str] = mapped_column(String(16), default="price")
    tif: Mapped[str] = mapped_column(String(8))
    expire_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    post_only: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(24))
    filled_qty: Mapped[float] = mapped_column(Num, default=0.0)
    avg_price: Mapped[float] = mapped_column(Num, default=0.0)
    reason: Mapped[str] = mapped_column(Text, default="")
    tag: Mapped[str] = mapped_column(String(64), default="")
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    linked_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    contingency: Mapped[str] = mapped_column(String(8), default="none")
    triggered: Mapped[bool] = mapped_column(Boolean, default=False)
    working: Mapped[bool] = mapped_column(Boolean, default=False)
    ts_init: Mapped[int] = mapped_column(BigInteger)
    ts_last: Mapped[int] = mapped_column(BigInteger)
    active_ts: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderEventRow(Base):
    """Every state change of every order, in order."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    client_order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.client_order_id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(24))
    ts: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")
    filled_qty: Mapped[float] = mapped_column(Num, default=0.0)


class FillRow(Base):
    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("node_id", "strategy_id", "venue", "fill_id"),
        Index("ix_fills_node_ts", "node_id", "ts"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(64))
    venue: Mapped[str] = mapped_column(String(64))
    fill_id: Mapped[str] = mapped_column(String(128))  # the venue's execution id
    client_order_id: Mapped[str] = mapped_column(String(64), index=True)
    strategy_id: Mapped[str] = mapped_column(String(64), default="")  # the account it booked to
    instrument: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[float] = mapped_column(Num)
    price: Mapped[float] = mapped_column(Num)
    fee: Mapped[float] = mapped_column(Num)
    fee_currency: Mapped[str] = mapped_column(String(32))
    liquidity: Mapped[str] = mapped_column(String(8))
    liquidation: Mapped[bool] = mapped_column(Boolean, default=False)
    ts: Mapped[int] = mapped_column(BigInteger)


class PositionRow(Base):
    __tablename__ = "positions"

    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    strategy_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # its own account
    instrument: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[float] = mapped_column(Num)
    avg_price: Mapped[float] = mapped_column(Num)
    realized_pnl: Mapped[float] = mapped_column(Num)
    ts: Mapped[int] = mapped_column(BigInteger)


class BalanceRow(Base):
    __tablename__ = "balances"

    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    strategy_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(32), primary_key=True)
    total: Mapped[float] = mapped_column(Num)
    ts: Mapped[int] = mapped_column(BigInteger)


class EquityRow(Base):
    __tablename__ = "equity_snapshots"
    __table_args__ = (Index("ix_equity_node_ts", "node_id", "strategy_id", "ts"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(64))
    strategy_id: Mapped[str] = mapped_column(String(64))
    ts: Mapped[int] = mapped_column(BigInteger)
    equity: Mapped[float] = mapped_column(Num)
    cash: Mapped[float] = mapped_column(Num)


class DiscrepancyRow(Base):
    """A difference found by reconciliation; trading stays halted until it is resolved."""

    __tablename__ = "discrepancies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[str] = mapped_column(String(64), index=True)
    venue: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # order|fill|balance|position
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")


# --- research --------------------------------------------------------------------------------


class BacktestRunRow(Base):
    __tablename__ = "backtest_runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(256))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    report_path: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


# --- access ----------------------------------------------------------------------------------


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))  # argon2id
    role: Mapped[str] = mapped_column(String(16), default="viewer")  # admin|trader|viewer
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # bumped on password change / revocation: tokens issued under an older value are refused
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # shown, and the lookup key
    key_hash: Mapped[str] = mapped_column(String(128))  # sha256 of the (high-entropy) secret
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditRow(Base):
    """Append-only (database triggers refuse UPDATE and DELETE): who did what, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))  # user:<name> | key:<prefix> | cli:<user>
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(256), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(16), default="api")  # api|cli|node


class SolanaSwapRow(Base):
    """The Solana venue's idempotency ledger: one row per order (client order id).

    Written *before* a transaction is sent (signature, exact wire bytes, last valid block
    height), so a restart can rebroadcast or resolve the same transaction instead of signing a
    second one. ``outcome``: PENDING | LANDED | FAILED | EXPIRED | UNKNOWN. Token amounts are
    integer base units kept as decimal strings (u64 does not fit BIGINT). ``history`` keeps
    earlier attempts (at most one re-quote) with how each ended.
    """

    __tablename__ = "solana_swaps"
    __table_args__ = (Index("ix_solana_swaps_outcome", "venue", "outcome"),)

    client_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    venue: Mapped[str] = mapped_column(String(64))
    instrument: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(8))
    input_mint: Mapped[str] = mapped_column(String(64))
    output_mint: Mapped[str] = mapped_column(String(64))
    in_amount: Mapped[str] = mapped_column(String(32), default="0")
    quoted_out: Mapped[str] = mapped_column(String(32), default="0")
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    signature: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    wire: Mapped[str | None] = mapped_column(Text, nullable=True)  # base64 signed transaction
    last_valid_block_height: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default="PENDING")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    filled_qty: Mapped[float] = mapped_column(Num, default=0.0)
    avg_price: Mapped[float] = mapped_column(Num, default=0.0)
    fee_lamports: Mapped[int] = mapped_column(BigInteger, default=0)
    slot: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ts_fill: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
