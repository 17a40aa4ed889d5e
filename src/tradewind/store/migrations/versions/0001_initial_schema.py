"""Initial schema: every table of store/models.py, and the append-only audit log triggers.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-21 17:40:17.244005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tradewind.store.models

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", tradewind.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=256), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "backtest_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=256), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("report_path", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtest_runs")),
    )
    op.create_table(
        "balances",
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("strategy_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=32), nullable=False),
        sa.Column("total", tradewind.store.models.Num(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("node_id", "strategy_id", "currency", name=op.f("pk_balances")),
    )
    op.create_table(
        "discrepancies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("venue", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("detected_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discrepancies")),
    )
    with op.batch_alter_table("discrepancies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_discrepancies_node_id"), ["node_id"], unique=False)

    op.create_table(
        "equity_snapshots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("strategy_id", sa.String(length=64), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("equity", tradewind.store.models.Num(), nullable=False),
        sa.Column("cash", tradewind.store.models.Num(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equity_snapshots")),
    )
    with op.batch_alter_table("equity_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_equity_node_ts", ["node_id", "strategy_id", "ts"], unique=False)

    op.create_table(
        "fills",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("venue", sa.String(length=64), nullable=False),
        sa.Column("fill_id", sa.String(length=128), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("strategy_id", sa.String(length=64), nullable=False),
        sa.Column("instrument", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("quantity", tradewind.store.models.Num(), nullable=False),
        sa.Column("price", tradewind.store.models.Num(), nullable=False),
        sa.Column("fee", tradewind.store.models.Num(), nullable=False),
        sa.Column("fee_currency", sa.String(length=32), nullable=False),
        sa.Column("liquidity", sa.String(length=8), nullable=False),
        sa.Column("liquidation", sa.Boolean(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
        sa.UniqueConstraint(
            "node_id", "strategy_id", "venue", "fill_id", name=op.f("uq_fills_node_id")
        ),
    )
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fills_client_order_id"), ["client_order_id"], unique=False
        )
        batch_op.create_index("ix_fills_node_ts", ["node_id", "ts"], unique=False)

    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("base", sa.String(length=32), nullable=False),
        sa.Column("quote", sa.String(length=32), nullable=False),
        sa.Column("price_increment", tradewind.store.models.Num(), nullable=False),
        sa.Column("size_increment", tradewind.store.models.Num(), nullable=False),
        sa.Column("min_size", tradewind.store.models.Num(), nullable=False),
        sa.Column("min_notional", tradewind.store.models.Num(), nullable=False),
        sa.Column("multiplier", tradewind.store.models.Num(), nullable=False),
        sa.Column("created_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruments")),
        sa.UniqueConstraint("venue", "symbol", name=op.f("uq_instruments_venue")),
    )
    op.create_table(
        "nodes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("halt", sa.String(length=16), nullable=False),
        sa.Column("halt_reason", sa.Text(), nullable=False),
        sa.Column("checkpoint", sa.JSON(), nullable=False),
        sa.Column("started_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nodes")),
    )
    op.create_table(
        "orders",
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("strategy_id", sa.String(length=64), nullable=True),
        sa.Column("venue", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("venue_order_id", sa.String(length=128), nullable=True),
        sa.Column("instrument", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("quantity", tradewind.store.models.Num(), nullable=False),
        sa.Column("quote_quantity", tradewind.store.models.Num(), nullable=True),
        sa.Column("price", tradewind.store.models.Num(), nullable=True),
        sa.Column("trigger_price", tradewind.store.models.Num(), nullable=True),
        sa.Column("trailing_offset", tradewind.store.models.Num(), nullable=True),
        sa.Column("trailing_offset_type", sa.String(length=16), nullable=False),
        sa.Column("tif", sa.String(length=8), nullable=False),
        sa.Column("expire_ts", sa.BigInteger(), nullable=True),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("post_only", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("filled_qty", tradewind.store.models.Num(), nullable=False),
        sa.Column("avg_price", tradewind.store.models.Num(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("linked_ids", sa.JSON(), nullable=False),
        sa.Column("contingency", sa.String(length=8), nullable=False),
        sa.Column("triggered", sa.Boolean(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("ts_init", sa.BigInteger(), nullable=False),
        sa.Column("ts_last", sa.BigInteger(), nullable=False),
        sa.Column("active_ts", sa.BigInteger(), nullable=False),
        sa.Column("created_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_order_id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_node_seq", ["node_id", "seq"], unique=False)
        batch_op.create_index("ix_orders_node_status", ["node_id", "status"], unique=False)

    op.create_table(
        "positions",
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("strategy_id", sa.String(length=64), nullable=False),
        sa.Column("instrument", sa.String(length=64), nullable=False),
        sa.Column("quantity", tradewind.store.models.Num(), nullable=False),
        sa.Column("avg_price", tradewind.store.models.Num(), nullable=False),
        sa.Column("realized_pnl", tradewind.store.models.Num(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("node_id", "strategy_id", "instrument", name=op.f("pk_positions")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("created_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_user_id"), ["user_id"], unique=False)

    op.create_table(
        "order_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("filled_qty", tradewind.store.models.Num(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_order_id"],
            ["orders.client_order_id"],
            name=op.f("fk_order_events_client_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_events_client_order_id"), ["client_order_id"], unique=False
        )

    op.create_table(
        "strategies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=True),
        sa.Column("strategy", sa.String(length=256), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("venue", sa.String(length=64), nullable=False),
        sa.Column("instruments", sa.JSON(), nullable=False),
        sa.Column("created_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["nodes.id"], name=op.f("fk_strategies_node_id_nodes"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategies")),
    )

    _audit_triggers_up()


def downgrade() -> None:
    _audit_triggers_down()
    op.drop_table("strategies")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_events_client_order_id"))

    op.drop_table("order_events")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_user_id"))

    op.drop_table("api_keys")
    op.drop_table("users")
    op.drop_table("positions")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_node_status")
        batch_op.drop_index("ix_orders_node_seq")

    op.drop_table("orders")
    op.drop_table("nodes")
    op.drop_table("instruments")
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.drop_index("ix_fills_node_ts")
        batch_op.drop_index(batch_op.f("ix_fills_client_order_id"))

    op.drop_table("fills")
    with op.batch_alter_table("equity_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_equity_node_ts")

    op.drop_table("equity_snapshots")
    with op.batch_alter_table("discrepancies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_discrepancies_node_id"))

    op.drop_table("discrepancies")
    op.drop_table("balances")
    op.drop_table("backtest_runs")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")


_SQLITE_TRIGGERS = {
    op_name: f"""
        CREATE TRIGGER audit_log_no_{op_name.lower()} BEFORE {op_name} ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
    """
    for op_name in ("UPDATE", "DELETE")
}


def _audit_triggers_up() -> None:
    """Refuse UPDATE and DELETE on audit_log in the database itself, not only in the code."""
    if op.get_bind().dialect.name == "sqlite":
        for sql in _SQLITE_TRIGGERS.values():
            op.execute(sql)
        return
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
        """
    )


def _audit_triggers_down() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for op_name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{op_name.lower()}")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
