"""Solana swap ledger: the Solana venue's idempotency ledger (store/models.py SolanaSwapRow).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 19:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tradewind.store.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "solana_swaps",
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("venue", sa.String(length=64), nullable=False),
        sa.Column("instrument", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("input_mint", sa.String(length=64), nullable=False),
        sa.Column("output_mint", sa.String(length=64), nullable=False),
        sa.Column("in_amount", sa.String(length=32), nullable=False),
        sa.Column("quoted_out", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("signature", sa.String(length=128), nullable=True),
        sa.Column("wire", sa.Text(), nullable=True),
        sa.Column("last_valid_block_height", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("filled_qty", tradewind.store.models.Num(), nullable=False),
        sa.Column("avg_price", tradewind.store.models.Num(), nullable=False),
        sa.Column("fee_lamports", sa.BigInteger(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=True),
        sa.Column("ts_fill", sa.BigInteger(), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("created_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tradewind.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_order_id", name=op.f("pk_solana_swaps")),
    )
    with op.batch_alter_table("solana_swaps", schema=None) as batch_op:
        batch_op.create_index("ix_solana_swaps_outcome", ["venue", "outcome"], unique=False)
        batch_op.create_index(batch_op.f("ix_solana_swaps_signature"), ["signature"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("solana_swaps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_solana_swaps_signature"))
        batch_op.drop_index("ix_solana_swaps_outcome")
    op.drop_table("solana_swaps")
