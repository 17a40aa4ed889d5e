"""The durable idempotency ledger of Solana swaps (table ``solana_swaps``).

Every order's swap goes through this state, each step committed before the next network call:

``begin`` (PENDING, no tx) -> ``attempt`` (signature + wire bytes + last valid block height,
committed *before* sending) -> ``finish`` (LANDED | FAILED | EXPIRED | UNKNOWN).

Because the exact signed bytes are stored, a restarted node rebroadcasts or polls the same
transaction instead of signing a new one, and a new attempt (re-quote) is only allowed once the
previous one is proven expired or failed. ``history`` keeps the earlier attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tradewind.store.db import Store
from tradewind.store.models import SolanaSwapRow


class Outcome(StrEnum):
    PENDING = "PENDING"
    LANDED = "LANDED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"

    @property
    def final(self) -> bool:
        return self in (Outcome.LANDED, Outcome.FAILED, Outcome.EXPIRED)


@dataclass(frozen=True)
class SwapRecord:
    client_order_id: str
    instrument: str
    side: str
    input_mint: str
    output_mint: str
    in_amount: int
    signature: str | None
    wire: str | None
    last_valid_block_height: int | None
    request_id: str | None
    outcome: Outcome
    attempts: int
    error: str
    filled_qty: float
    avg_price: float
    fee_lamports: int
    ts_fill: int | None
    history: list[dict[str, Any]]


def _record(row: SolanaSwapRow) -> SwapRecord:
    return SwapRecord(
        row.client_order_id,
        row.instrument,
        row.side,
        row.input_mint,
        row.output_mint,
        int(row.in_amount),
        row.signature,
        row.wire,
        row.last_valid_block_height,
        row.request_id,
        Outcome(row.outcome),
        row.attempts,
        row.error,
        row.filled_qty,
        row.avg_price,
        row.fee_lamports,
        row.ts_fill,
        list(row.history or []),
    )


class SwapLedger:
    def __init__(self, store: Store, venue: str = "solana") -> None:
        self.store, self.venue = store, venue

    def get(self, client_order_id: str) -> SwapRecord | None:
        with self.store.session() as s:
            row = s.get(SolanaSwapRow, client_order_id)
            return None if row is None else _record(row)

    def begin(
        self, client_order_id: str, instrument: str, side: str, input_mint: str, output_mint: str
    ) -> SwapRecord:
        """The order's row, created PENDING if new (an existing row is returned unchanged)."""
        with self.store.session() as s:
            row = s.get(SolanaSwapRow, client_order_id)
            if row is None:
                row = SolanaSwapRow(
                    client_order_id=client_order_id,
                    venue=self.venue,
                    instrument=instrument,
                    side=side,
                    input_mint=input_mint,
                    output_mint=output_mint,
                    in_amount="0",
                    quoted_out="0",
                    outcome=Outcome.PENDING.value,
                    attempts=0,
                    error="",
                    filled_qty=0.0,
                    avg_price=0.0,
                    fee_lamports=0,
                    history=[],
                )
                s.add(row)
                s.flush()
            return _record(row)

    def attempt(
        self,
        client_order_id: str,
        *,
        signature: str,
        wire: str,
        last_valid_block_height: int | None,
        in_amount: int,
        quoted_out: int,
        request_id: str | None = None,
    ) -> None:
        """Record a signed transaction before it is sent; earlier attempts go to history."""
        with self.store.session() as s:
            row = s.get(SolanaSwapRow, client_order_id)
            assert row is not None, client_order_id
            if row.signature:
                prev = {"signature": row.signature, "outcome": row.outcome, "error": row.error}
                row.history = [*list(row.history or []), prev]
            row.signature, row.wire = signature, wire
            row.last_valid_block_height, row.request_id = last_valid_block_height, request_id
            row.in_amount, row.quoted_out = str(in_amount), str(quoted_out)
            row.outcome, row.error = Outcome.PENDING.value, ""
            row.attempts = row.attempts + 1

    def finish(self, client_order_id: str, outcome: Outcome, **fields: Any) -> SwapRecord:
        """Set the outcome (and fill fields: filled_qty, avg_price, fee_lamports, ts_fill,
        slot, error)."""
        with self.store.session() as s:
            row = s.get(SolanaSwapRow, client_order_id)
            assert row is not None, client_order_id
            row.outcome = outcome.value
            for k, v in fields.items():
                setattr(row, k, v)
            s.flush()
            return _record(row)

    def all(self) -> list[SwapRecord]:
        with self.store.session() as s:
            rows = s.query(SolanaSwapRow).filter(SolanaSwapRow.venue == self.venue)
            return [_record(r) for r in rows.order_by(SolanaSwapRow.created_at)]
