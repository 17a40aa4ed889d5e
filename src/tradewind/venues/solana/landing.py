"""Landing a signed transaction: send once, rebroadcast the same bytes, decide the outcome.

Rules (what makes a retry safe with real money):

* The first send runs preflight; every rebroadcast sends the *identical* bytes with
  ``skipPreflight`` and ``maxRetries=0`` every ``rebroadcast_every`` seconds.
* A transport error or timeout on a send is ambiguous (it may have been processed): nothing is
  re-signed; the known signature is polled.
* The only proof that a transaction can no longer land is the block height passing its
  ``lastValidBlockHeight`` (or, without one, its blockhash no longer being valid) with no
  status for the signature: only then is the outcome EXPIRED and a new transaction allowed.
* If the RPC cannot be reached for ``give_up_after`` seconds the outcome is UNKNOWN (the
  ledger keeps the bytes; a later ``resume`` settles it).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass

from solana.exceptions import SolanaRpcException
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.core import RPCException
from solana.rpc.jsonrpc import JsonRpcRequest
from solana.rpc.models import TxOpts
from solders.rpc.errors import SendTransactionPreflightFailureMessage
from solders.signature import Signature
from solders.transaction import VersionedTransaction
from solders.transaction_status import TransactionErrorFieldless

from tradewind.venues.solana.ledger import Outcome


@dataclass(frozen=True)
class LandingConfig:
    rebroadcast_every: float = 2.0
    poll_every: float = 0.5
    give_up_after: float = 120.0


@dataclass(frozen=True)
class LandResult:
    outcome: Outcome
    signature: Signature
    error: str = ""
    custom_code: int | None = None  # program error code (6001 = slippage) when failed
    landed: bool = False  # in a block (success or on-chain failure)
    slot: int | None = None


def custom_code(err: object) -> int | None:
    """The program's custom error code in an ``InstructionError(i, Custom(code))``."""
    m = re.search(r"Custom\((\d+)\)", str(err)) or re.search(r"\"Custom\":\s*(\d+)", str(err))
    return int(m.group(1)) if m else None


_RESEND = TxOpts(skip_preflight=True, max_retries=0, skip_confirmation=True)
_FIRST = TxOpts(skip_preflight=False, max_retries=0, preflight_commitment=Confirmed)


async def land(
    rpc: AsyncClient,
    tx: VersionedTransaction,
    last_valid_block_height: int | None,
    cfg: LandingConfig = LandingConfig(),
    *,
    send_first: bool = True,
) -> LandResult:
    """Send ``tx`` (unless ``send_first`` is False: resume, poll only) and follow it to an
    outcome."""
    wire = bytes(tx)
    sig = tx.signatures[0]
    if send_first:
        try:
            await rpc.send_raw_transaction(wire, _FIRST)
        except RPCException as exc:
            failure = exc.args[0] if exc.args else None
            err = (
                failure.data.err
                if isinstance(failure, SendTransactionPreflightFailureMessage)
                else None
            )
            if err not in (
                TransactionErrorFieldless.AlreadyProcessed,
                TransactionErrorFieldless.BlockhashNotFound,  # maybe a lagging node: keep trying
            ):
                text = str(err) if err is not None else str(failure)
                return LandResult(Outcome.FAILED, sig, f"preflight: {text}", custom_code(text))
        except SolanaRpcException:
            pass  # ambiguous: it may have been received; poll before anything else
    last_send = time.monotonic()
    last_ok = time.monotonic()
    while True:
        try:
            status = (await rpc.get_signature_statuses([sig])).value[0]
            if status is not None:
                if status.err is None:
                    return LandResult(Outcome.LANDED, sig, landed=True, slot=status.slot)
                text = str(status.err)
                return LandResult(Outcome.FAILED, sig, text, custom_code(text), True, status.slot)
            if await _expired(rpc, tx, last_valid_block_height):
                status = (await rpc.get_signature_statuses([sig])).value[0]  # last look
                if status is None:
                    return LandResult(Outcome.EXPIRED, sig, "blockhash expired before landing")
                continue
            last_ok = time.monotonic()
        except SolanaRpcException:
            if time.monotonic() - last_ok > cfg.give_up_after:
                return LandResult(Outcome.UNKNOWN, sig, "RPC unreachable while confirming")
        if time.monotonic() - last_send >= cfg.rebroadcast_every:
            last_send = time.monotonic()
            with contextlib.suppress(SolanaRpcException, RPCException):
                await rpc.send_raw_transaction(wire, _RESEND)  # errors: the status poll decides
        await asyncio.sleep(cfg.poll_every)


async def _expired(rpc: AsyncClient, tx: VersionedTransaction, last_valid: int | None) -> bool:
    if last_valid is not None:
        return (await rpc.get_block_height()).value > last_valid
    req = JsonRpcRequest(method="isBlockhashValid", params=[str(tx.message.recent_blockhash)])
    res = await rpc.send_rpc_request(req, dict)
    return not bool(res.get("value"))
