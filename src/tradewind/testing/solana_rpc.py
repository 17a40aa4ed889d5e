"""An offline Solana JSON-RPC node: a real HTTP server on 127.0.0.1 over ``LiteSVM``.

The unmodified ``solana.rpc.async_api.AsyncClient`` talks to it; responses are built with
solders' own RPC response classes, so they parse exactly like a validator's. Usage::

    with SolanaRpcStandin() as rpc:
        rpc.add_native_mint(); usdc = rpc.create_mint(6, USDC_MINT)
        rpc.airdrop(wallet, 2 * 10**9); rpc.set_token_balance(wallet, usdc, 100 * 10**6)
        async with AsyncClient(rpc.url) as client: ...
        rpc.faults.drop_sends = 3          # the next three sendTransaction calls vanish
        rpc.advance(10)                    # produce ten blocks
        rpc.token_balance(wallet, usdc)    # read the chain directly

Chain model: one transaction landing produces ``blocks_per_send`` blocks (default 1); blocks
also come from ``advance(n)`` and, with ``block_interval`` set, from a timer. A blockhash is
valid for ``blockhash_window`` blocks after the block that made it (LiteSVM's own check, which
only accepts the newest hash, is switched off and this layer enforces the window instead).
A transaction is *landed* once it is in a block, successfully or with an error (then only the
fee is charged); ``getSignatureStatuses`` reports it as ``finalized`` from then on.

Fault knobs are the fields of ``RpcFaults`` (``rpc.faults``), settable at any time.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from solders.account import Account
from solders.account_decoder import UiTokenAmount
from solders.hash import Hash
from solders.litesvm import LiteSVM
from solders.message import MessageV0, from_bytes_versioned
from solders.pubkey import Pubkey
from solders.rpc.responses import (
    GetAccountInfoResp,
    GetBalanceResp,
    GetBlockHeightResp,
    GetFeeForMessageResp,
    GetLatestBlockhashResp,
    GetMinimumBalanceForRentExemptionResp,
    GetMultipleAccountsResp,
    GetRecentPrioritizationFeesResp,
    GetSignatureStatusesResp,
    GetSlotResp,
    GetTokenAccountBalanceResp,
    GetTokenAccountsByOwnerResp,
    GetTransactionResp,
    GetVersionResp,
    IsBlockhashValidResp,
    RequestAirdropResp,
    RpcBlockhash,
    RpcKeyedAccount,
    RpcPrioritizationFee,
    RpcResponseContext,
    RpcSimulateTransactionResult,
    RpcVersionInfo,
    SendTransactionResp,
    SimulateTransactionResp,
)
from solders.signature import Signature
from solders.token.state import Mint, TokenAccount, TokenAccountState
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata, TransactionMetadata
from solders.transaction_status import (
    EncodedConfirmedTransactionWithStatusMeta,
    EncodedTransactionWithStatusMeta,
    InstructionErrorCustom,
    TransactionConfirmationStatus,
    TransactionErrorFieldless,
    TransactionErrorInstructionError,
    TransactionErrorType,
    TransactionStatus,
    UiTransactionStatusMeta,
    UiTransactionTokenBalance,
)
from spl.token.constants import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID, WRAPPED_SOL_MINT
from spl.token.instructions import get_associated_token_address

from tradewind.testing.solana_http import JsonHttpServer, Reply, Request

USDC_MINT = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
NATIVE_MINT = WRAPPED_SOL_MINT
COMPUTE_BUDGET_ID = Pubkey.from_string("ComputeBudget111111111111111111111111111111")
TOKEN_PROGRAMS = (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID)
LAMPORTS_PER_SIGNATURE = 5000
_MINT_LEN = 82
_ACCOUNT_LEN = 165


@dataclass(frozen=True)
class TxFailure:
    """An on-chain failure a hook imposes on a transaction (it lands; only the fee is paid)."""

    err: TransactionErrorType
    logs: list[str] = field(default_factory=list)


def custom_error(instruction: int, code: int, logs: list[str] | None = None) -> TxFailure:
    """``InstructionError(instruction, Custom(code))`` as a program would return it."""
    err = TransactionErrorInstructionError(instruction, InstructionErrorCustom(code))
    return TxFailure(err, logs or [f"Program failed: custom program error: {code:#x}"])


FailHook = Callable[[VersionedTransaction], TxFailure | None]


@dataclass
class RpcFaults:
    """Fault injection; every counter counts down as it is used."""

    drop_sends: int = 0  # the next N sendTransaction calls: signature returned, never lands
    drop_txs: int = 0  # the next N distinct transactions: every send of them is dropped
    dropped_signatures: set[Signature] = field(default_factory=set)  # black-holed (read-only)
    hold_blocks: int = 0  # land every sent tx only after this many more blocks
    rate_limit_every: int = 0  # every Nth HTTP call answers 429 (0: never)
    retry_after: str = "0"  # Retry-After header of those 429s (seconds)
    ambiguous_sends: int = 0  # next N sends are processed, then the connection is cut
    ambiguous_delay: float = 0.0  # >0: instead of cutting, answer after this many seconds
    fail_next: list[TxFailure] = field(default_factory=list)  # forced on-chain failures
    fail_hooks: list[FailHook] = field(default_factory=list)  # consulted at every landing
    priority_fees: list[int] = field(default_factory=lambda: [0, 1000, 5000])
    calls: int = 0  # HTTP calls seen (read-only)
    sends: int = 0  # sendTransaction calls seen (read-only)
    dropped: int = 0  # sends dropped so far (read-only)
    received: list[bytes] = field(default_factory=list)  # wire bytes of every send (read-only)


@dataclass
class _Landed:
    tx: VersionedTransaction | None
    slot: int
    err: TransactionErrorType | None
    meta: UiTransactionStatusMeta | None


class SolanaRpcStandin:
    """LiteSVM behind a JSON-RPC HTTP server (see the module docstring)."""

    def __init__(
        self,
        *,
        blockhash_window: int = 150,
        blocks_per_send: int = 1,
        block_interval: float | None = None,
        svm: LiteSVM | None = None,
    ) -> None:
        self.svm = svm or LiteSVM()
        self.svm.with_blockhash_check(False)
        self.faults = RpcFaults()
        self.blockhash_window = blockhash_window
        self.blocks_per_send = blocks_per_send
        self.block_interval = block_interval
        self.lock = threading.RLock()
        self.block_height = 1000
        self.slot = int(self.svm.get_clock().slot)
        self._hashes: dict[Hash, int] = {self.svm.latest_blockhash(): self.block_height}
        self._landed: dict[Signature, _Landed] = {}
        self._held: list[tuple[int, VersionedTransaction]] = []
        self._http = JsonHttpServer(self._handle)
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._http.url

    def start(self) -> SolanaRpcStandin:
        self._http.start()
        if self.block_interval:
            self._timer = threading.Thread(target=self._tick, daemon=True)
            self._timer.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._timer:
            self._timer.join(timeout=5)
        self._http.stop()

    def __enter__(self) -> SolanaRpcStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _tick(self) -> None:
        assert self.block_interval
        while not self._stop.wait(self.block_interval):
            self.advance(1)

    # --- chain -------------------------------------------------------------------------------

    @property
    def latest_blockhash(self) -> Hash:
        with self.lock:
            return self.svm.latest_blockhash()

    def last_valid_block_height(self, blockhash: Hash) -> int | None:
        with self.lock:
            made = self._hashes.get(blockhash)
            return None if made is None else made + self.blockhash_window

    def advance(self, blocks: int = 1) -> None:
        """Produce ``blocks`` blocks: new blockhash each, held transactions land when due."""
        with self.lock:
            for _ in range(blocks):
                self.block_height += 1
                self.slot += 1
                self.svm.expire_blockhash()
                self._hashes[self.svm.latest_blockhash()] = self.block_height
                due = [tx for h, tx in self._held if h <= self.block_height]
                self._held = [(h, tx) for h, tx in self._held if h > self.block_height]
                for tx in due:
                    self.land(tx)

    def blockhash_valid(self, blockhash: Hash) -> bool:
        last = self.last_valid_block_height(blockhash)
        return last is not None and self.block_height <= last

    def status(self, signature: Signature) -> _Landed | None:
        with self.lock:
            return self._landed.get(signature)

    def _hook_failure(self, tx: VersionedTransaction) -> TxFailure | None:
        if self.faults.fail_next:
            return self.faults.fail_next.pop(0)
        for hook in self.faults.fail_hooks:
            failure = hook(tx)
            if failure is not None:
                return failure
        return None

    def land(self, tx: VersionedTransaction) -> TransactionErrorType | None:
        """Put ``tx`` in the current block. Returns its error (landed with an error, or not
        landed at all: ``AlreadyProcessed`` / ``BlockhashNotFound`` / signature failures)."""
        with self.lock:
            sig = tx.signatures[0]
            if sig in self._landed:
                return TransactionErrorFieldless.AlreadyProcessed
            if not self.blockhash_valid(tx.message.recent_blockhash):
                return TransactionErrorFieldless.BlockhashNotFound
            keys = list(tx.message.account_keys)
            pre, pre_tok = self._balances(keys)
            failure = self._hook_failure(tx)
            logs: list[str]
            units: int | None = None
            if failure is not None:
                fee = message_fee(tx.message)
                payer = self.svm.get_account(keys[0])
                if payer is None or payer.lamports < fee:
                    return TransactionErrorFieldless.InsufficientFundsForFee
                self._set_lamports(keys[0], payer.lamports - fee)
                err: TransactionErrorType | None = failure.err
                logs = list(failure.logs)
            else:
                res = self.svm.send_transaction(tx)
                if isinstance(res, FailedTransactionMetadata):
                    post_payer = self.svm.get_balance(keys[0]) or 0
                    if post_payer >= pre[0]:  # nothing charged: the tx never made a block
                        return res.err()
                    err, meta = res.err(), res.meta()
                else:
                    err, meta = None, res
                fee, logs, units = meta.fee(), list(meta.logs()), meta.compute_units_consumed()
            post, post_tok = self._balances(keys)
            ui_meta = UiTransactionStatusMeta(
                err,
                fee,
                pre,
                post,
                log_messages=logs,
                pre_token_balances=pre_tok,
                post_token_balances=post_tok,
                compute_units_consumed=units,
            )
            self._landed[sig] = _Landed(tx, self.slot, err, ui_meta)
            return err

    def simulate(
        self, tx: VersionedTransaction, *, sig_verify: bool = True
    ) -> RpcSimulateTransactionResult:
        with self.lock:
            if tx.signatures[0] in self._landed and sig_verify:
                return RpcSimulateTransactionResult(err=TransactionErrorFieldless.AlreadyProcessed)
            if not self.blockhash_valid(tx.message.recent_blockhash):
                return RpcSimulateTransactionResult(err=TransactionErrorFieldless.BlockhashNotFound)
            failure = None
            if not self.faults.fail_next:  # forced failures are for landing, hooks for both
                for hook in self.faults.fail_hooks:
                    failure = failure or hook(tx)
            if failure is not None:
                return RpcSimulateTransactionResult(err=failure.err, logs=failure.logs)
            self.svm.with_sigverify(sig_verify)
            try:
                res = self.svm.simulate_transaction(tx)
            finally:
                self.svm.with_sigverify(True)
            if isinstance(res, FailedTransactionMetadata):
                m = res.meta()
                return RpcSimulateTransactionResult(
                    err=res.err(), logs=list(m.logs()), units_consumed=m.compute_units_consumed()
                )
            m2: TransactionMetadata = res.meta()
            return RpcSimulateTransactionResult(
                logs=list(m2.logs()), units_consumed=m2.compute_units_consumed(), fee=m2.fee()
            )

    def _balances(self, keys: list[Pubkey]) -> tuple[list[int], list[UiTransactionTokenBalance]]:
        lamports: list[int] = []
        tokens: list[UiTransactionTokenBalance] = []
        for i, key in enumerate(keys):
            acc = self.svm.get_account(key)
            lamports.append(acc.lamports if acc else 0)
            parsed = _token_account(acc)
            if parsed is not None and acc is not None:
                decimals = self.mint_decimals(parsed.mint)
                tokens.append(
                    UiTransactionTokenBalance(
                        i, parsed.mint, ui_amount(parsed.amount, decimals), parsed.owner, acc.owner
                    )
                )
        return lamports, tokens

    # --- test helpers ------------------------------------------------------------------------

    def create_mint(
        self,
        decimals: int,
        address: Pubkey | None = None,
        *,
        program_id: Pubkey = TOKEN_PROGRAM_ID,
        authority: Pubkey | None = None,
    ) -> Pubkey:
        """A mint (SPL Token or Token-2022) at ``address`` (a fresh one when ``None``)."""
        address = address or Pubkey.new_unique()
        data = bytes(Mint(authority, 0, decimals, True, None))
        self._put(address, data, program_id)
        return address

    def add_native_mint(self) -> Pubkey:
        """The wSOL native mint ``So111...112`` (LiteSVM has none by default)."""
        return self.create_mint(9, NATIVE_MINT)

    def mint_decimals(self, mint: Pubkey) -> int:
        acc = self.svm.get_account(mint)
        if acc is None or acc.owner not in TOKEN_PROGRAMS:
            raise ValueError(f"{mint} is not a mint on this chain")
        return int(Mint.from_bytes(bytes(acc.data)[:_MINT_LEN]).decimals)

    def token_program(self, mint: Pubkey) -> Pubkey:
        acc = self.svm.get_account(mint)
        if acc is None or acc.owner not in TOKEN_PROGRAMS:
            raise ValueError(f"{mint} is not a mint on this chain")
        return acc.owner

    def ata(self, owner: Pubkey, mint: Pubkey) -> Pubkey:
        return get_associated_token_address(owner, mint, self.token_program(mint))

    def airdrop(self, pubkey: Pubkey, lamports: int) -> None:
        with self.lock:
            self.svm.airdrop(pubkey, lamports)

    def set_lamports(self, pubkey: Pubkey, lamports: int) -> None:
        with self.lock:
            self._set_lamports(pubkey, lamports)

    def _set_lamports(self, pubkey: Pubkey, lamports: int) -> None:
        acc = self.svm.get_account(pubkey)
        if acc is None:
            acc = Account(0, b"", Pubkey.default(), False, 0)
        self.svm.set_account(
            pubkey, Account(lamports, bytes(acc.data), acc.owner, acc.executable, acc.rent_epoch)
        )

    def set_token_balance(self, owner: Pubkey, mint: Pubkey, amount: int) -> Pubkey:
        """Write ``owner``'s associated token account for ``mint`` holding ``amount``."""
        with self.lock:
            program = self.token_program(mint)
            ata = get_associated_token_address(owner, mint, program)
            rent = self.svm.minimum_balance_for_rent_exemption(_ACCOUNT_LEN)
            native = rent if mint == NATIVE_MINT else None
            state = TokenAccount(
                mint, owner, amount, None, TokenAccountState.Initialized, native, 0, None
            )
            lamports = rent + (amount if native is not None else 0)
            self.svm.set_account(ata, Account(lamports, bytes(state), program, False, 0))
            return ata

    def token_balance(self, owner: Pubkey, mint: Pubkey) -> int:
        """``owner``'s balance in its associated token account for ``mint`` (0 if none)."""
        with self.lock:
            parsed = _token_account(self.svm.get_account(self.ata(owner, mint)))
            return 0 if parsed is None else int(parsed.amount)

    def balance(self, pubkey: Pubkey) -> int:
        with self.lock:
            return int(self.svm.get_balance(pubkey) or 0)

    def _put(self, address: Pubkey, data: bytes, owner: Pubkey) -> None:
        with self.lock:
            rent = self.svm.minimum_balance_for_rent_exemption(len(data))
            self.svm.set_account(address, Account(rent, data, owner, False, 0))

    # --- HTTP / JSON-RPC ---------------------------------------------------------------------

    def _handle(self, req: Request) -> Reply:
        self.faults.calls += 1
        body = req.json()
        rid = body.get("id") if isinstance(body, dict) else None
        n = self.faults.rate_limit_every
        if n and self.faults.calls % n == 0:
            msg = "Too many requests for a specific RPC call, contact your app developer"
            return Reply(
                429,
                {"jsonrpc": "2.0", "error": {"code": 429, "message": msg}, "id": rid},
                {"Retry-After": self.faults.retry_after},
            )
        if not isinstance(body, dict) or "method" not in body:
            return Reply(200, _error(rid, -32600, "Invalid request"))
        method: str = body["method"]
        params: list[Any] = body.get("params") or []
        fn = getattr(self, "_rpc_" + _snake(method), None)
        if fn is None:
            return Reply(200, _error(rid, -32601, f"Method not found: {method}"))
        try:
            out = fn(params)
        except _RpcError as exc:
            return Reply(200, _error(rid, exc.code, exc.message, exc.data))
        if isinstance(out, Reply):
            return out
        return Reply(200, {"jsonrpc": "2.0", "result": out, "id": rid})

    def _ctx(self) -> RpcResponseContext:
        return RpcResponseContext(self.slot)

    def _rpc_get_health(self, p: list[Any]) -> Any:
        return "ok"

    def _rpc_get_version(self, p: list[Any]) -> Any:
        return _result(GetVersionResp(RpcVersionInfo("2.2.7", 3294202862)))

    def _rpc_get_slot(self, p: list[Any]) -> Any:
        return _result(GetSlotResp(self.slot))

    def _rpc_get_block_height(self, p: list[Any]) -> Any:
        return _result(GetBlockHeightResp(self.block_height))

    def _rpc_get_latest_blockhash(self, p: list[Any]) -> Any:
        with self.lock:
            bh = self.svm.latest_blockhash()
            last = self.block_height + self.blockhash_window
            return _result(GetLatestBlockhashResp(RpcBlockhash(bh, last), self._ctx()))

    def _rpc_is_blockhash_valid(self, p: list[Any]) -> Any:
        ok = self.blockhash_valid(Hash.from_string(p[0]))
        return _result(IsBlockhashValidResp(ok, self._ctx()))  # type: ignore[call-arg]

    def _rpc_get_balance(self, p: list[Any]) -> Any:
        bal = self.balance(Pubkey.from_string(p[0]))
        return _result(GetBalanceResp(bal, self._ctx()))

    def _rpc_get_account_info(self, p: list[Any]) -> Any:
        with self.lock:
            acc = self.svm.get_account(Pubkey.from_string(p[0]))
            return _result(GetAccountInfoResp(_live(acc), self._ctx()))

    def _rpc_get_multiple_accounts(self, p: list[Any]) -> Any:
        with self.lock:
            accs = [_live(self.svm.get_account(Pubkey.from_string(k))) for k in p[0]]
            return _result(GetMultipleAccountsResp(accs, self._ctx()))

    def _owned_token_accounts(self, p: list[Any]) -> list[tuple[Pubkey, Account, TokenAccount]]:
        owner = Pubkey.from_string(p[0])
        flt: dict[str, str] = p[1] if len(p) > 1 else {}
        mint = Pubkey.from_string(flt["mint"]) if "mint" in flt else None
        programs = [Pubkey.from_string(flt["programId"])] if "programId" in flt else None
        if mint is not None:
            programs = [self.token_program(mint)]
        out = []
        with self.lock:
            for program in programs or list(TOKEN_PROGRAMS):
                for key, acc in self.svm.get_program_accounts(program):
                    parsed = _token_account(acc)
                    if parsed is None or parsed.owner != owner:
                        continue
                    if mint is None or parsed.mint == mint:
                        out.append((key, acc, parsed))
        return out

    def _rpc_get_token_accounts_by_owner(self, p: list[Any]) -> Any:
        cfg: dict[str, Any] = p[2] if len(p) > 2 else {}
        found = self._owned_token_accounts(p)
        if cfg.get("encoding") == "jsonParsed":
            ctx = {"slot": self.slot}
            return {"context": ctx, "value": [self._parsed(k, a, t) for k, a, t in found]}
        keyed = [RpcKeyedAccount(k, a) for k, a, _ in found]
        return _result(GetTokenAccountsByOwnerResp(keyed, self._ctx()))

    def _parsed(self, key: Pubkey, acc: Account, tok: TokenAccount) -> dict[str, Any]:
        amount = ui_amount(tok.amount, self.mint_decimals(tok.mint))
        info = {
            "isNative": tok.is_native is not None,
            "mint": str(tok.mint),
            "owner": str(tok.owner),
            "state": "initialized",
            "tokenAmount": {
                "amount": amount.amount,
                "decimals": amount.decimals,
                "uiAmount": amount.ui_amount,
                "uiAmountString": amount.ui_amount_string,
            },
        }
        program = "spl-token" if acc.owner == TOKEN_PROGRAM_ID else "spl-token-2022"
        space = len(bytes(acc.data))
        return {
            "pubkey": str(key),
            "account": {
                "lamports": acc.lamports,
                "data": {
                    "program": program,
                    "parsed": {"info": info, "type": "account"},
                    "space": space,
                },
                "owner": str(acc.owner),
                "executable": False,
                "rentEpoch": 0,
                "space": space,
            },
        }

    def _rpc_get_token_account_balance(self, p: list[Any]) -> Any:
        with self.lock:
            key = Pubkey.from_string(p[0])
            parsed = _token_account(self.svm.get_account(key))
            if parsed is None:
                raise _RpcError(-32602, f"Invalid param: could not find account {key}")
            amount = ui_amount(parsed.amount, self.mint_decimals(parsed.mint))
            return _result(GetTokenAccountBalanceResp(amount, self._ctx()))

    def _rpc_get_minimum_balance_for_rent_exemption(self, p: list[Any]) -> Any:
        rent = self.svm.minimum_balance_for_rent_exemption(int(p[0]))
        return _result(GetMinimumBalanceForRentExemptionResp(rent))

    def _rpc_get_fee_for_message(self, p: list[Any]) -> Any:
        msg = from_bytes_versioned(base64.b64decode(p[0]))
        fee = message_fee(msg) if isinstance(msg, MessageV0) else None
        return _result(GetFeeForMessageResp(fee, self._ctx()))

    def _rpc_get_recent_prioritization_fees(self, p: list[Any]) -> Any:
        fees = self.faults.priority_fees
        rows = [RpcPrioritizationFee(self.slot - len(fees) + i, f) for i, f in enumerate(fees)]
        return _result(GetRecentPrioritizationFeesResp(rows))

    def _decode_tx(self, p: list[Any]) -> VersionedTransaction:
        cfg: dict[str, Any] = p[1] if len(p) > 1 else {}
        raw = p[0]
        if cfg.get("encoding", "base58") != "base64":
            raise _RpcError(-32602, "this stand-in only accepts base64-encoded transactions")
        try:
            data = base64.b64decode(raw)
            return VersionedTransaction.from_bytes(data)
        except Exception as exc:
            raise _RpcError(-32602, f"invalid transaction: {type(exc).__name__}") from exc

    def _rpc_simulate_transaction(self, p: list[Any]) -> Any:
        tx = self._decode_tx(p)
        cfg: dict[str, Any] = p[1] if len(p) > 1 else {}
        if cfg.get("replaceRecentBlockhash"):
            m = tx.message
            assert isinstance(m, MessageV0), "replaceRecentBlockhash needs a v0 message"
            msg = MessageV0(
                m.header,
                list(m.account_keys),
                self.latest_blockhash,
                list(m.instructions),
                list(m.address_table_lookups),
            )
            tx = VersionedTransaction.populate(msg, list(tx.signatures))
        res = self.simulate(tx, sig_verify=bool(cfg.get("sigVerify", False)))
        return _result(SimulateTransactionResp(res, self._ctx()))  # type: ignore[call-arg]

    def _rpc_send_transaction(self, p: list[Any]) -> Any:
        tx = self._decode_tx(p)
        cfg: dict[str, Any] = p[1] if len(p) > 1 else {}
        f = self.faults
        f.sends += 1
        f.received.append(bytes(tx))
        sig = tx.signatures[0]
        if not cfg.get("skipPreflight"):
            sim = self.simulate(tx)
            if sim.err is not None:
                data = _result(SimulateTransactionResp(sim, self._ctx()))["value"]  # type: ignore[call-arg]
                raise _RpcError(-32002, f"Transaction simulation failed: {sim.err}", data)
        ok = _result(SendTransactionResp(sig))
        if f.drop_txs > 0 and sig not in f.dropped_signatures and sig not in self._landed:
            f.drop_txs -= 1
            f.dropped_signatures.add(sig)
        if sig in f.dropped_signatures:
            f.dropped += 1
            return ok
        if f.drop_sends > 0:
            f.drop_sends -= 1
            f.dropped += 1
            return ok
        with self.lock:
            if f.hold_blocks > 0:
                self._held.append((self.block_height + f.hold_blocks, tx))
            else:
                err = self.land(tx)
                if err not in _NOT_LANDED:
                    self.advance(self.blocks_per_send)
        if f.ambiguous_sends > 0:
            f.ambiguous_sends -= 1
            if f.ambiguous_delay > 0:
                return Reply(
                    200, {"jsonrpc": "2.0", "result": ok, "id": None}, delay=f.ambiguous_delay
                )
            return Reply.drop()
        return ok

    def _rpc_get_signature_statuses(self, p: list[Any]) -> Any:
        out: list[TransactionStatus | None] = []
        with self.lock:
            for s in p[0]:
                landed = self._landed.get(Signature.from_string(s))
                if landed is None:
                    out.append(None)
                    continue
                conf = TransactionConfirmationStatus.Finalized
                out.append(TransactionStatus(landed.slot, None, None, landed.err, conf))
            return _result(GetSignatureStatusesResp(out, self._ctx()))

    def _rpc_get_transaction(self, p: list[Any]) -> Any:
        landed = self.status(Signature.from_string(p[0]))
        if landed is None or landed.tx is None:
            return None
        tx = EncodedTransactionWithStatusMeta(landed.tx, landed.meta, 0)
        block_time = 1_700_000_000 + landed.slot % 1_000_000
        full = EncodedConfirmedTransactionWithStatusMeta(landed.slot, tx, block_time)
        return _result(GetTransactionResp(full))

    def _rpc_request_airdrop(self, p: list[Any]) -> Any:
        with self.lock:
            res = self.svm.airdrop(Pubkey.from_string(p[0]), int(p[1]))
            if isinstance(res, FailedTransactionMetadata):
                raise _RpcError(-32603, f"airdrop failed: {res.err()}")
            sig = res.signature()
            self._landed[sig] = _Landed(None, self.slot, None, None)
            return _result(RequestAirdropResp(sig))


_NOT_LANDED = (
    TransactionErrorFieldless.AlreadyProcessed,
    TransactionErrorFieldless.BlockhashNotFound,
    TransactionErrorFieldless.SignatureFailure,
    TransactionErrorFieldless.AccountNotFound,
    TransactionErrorFieldless.InsufficientFundsForFee,
)


class _RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


def _snake(method: str) -> str:
    """``getTokenAccountBalance`` -> ``get_token_account_balance``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


def _error(rid: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "error": err, "id": rid}


def _result(resp: Any) -> Any:
    """The ``result`` member of a solders response object's JSON."""
    import json

    return json.loads(resp.to_json())["result"]


def _live(acc: Account | None) -> Account | None:
    """An account as RPC shows it: a zero-lamport account does not exist."""
    return None if acc is None or acc.lamports == 0 else acc


def _token_account(acc: Account | None) -> TokenAccount | None:
    """Decode an SPL Token / Token-2022 token account (``None`` for anything else)."""
    if acc is None or acc.owner not in TOKEN_PROGRAMS or acc.lamports == 0:
        return None
    data = bytes(acc.data)
    if len(data) < _ACCOUNT_LEN or (len(data) > _ACCOUNT_LEN and data[_ACCOUNT_LEN] != 2):
        return None
    return TokenAccount.from_bytes(data[:_ACCOUNT_LEN])


def ui_amount(amount: int, decimals: int) -> UiTokenAmount:
    whole = amount / 10**decimals
    text = (
        f"{amount / 10**decimals:.{decimals}f}".rstrip("0").rstrip(".") if decimals else str(amount)
    )
    return UiTokenAmount(whole, decimals, str(amount), text)


def message_fee(msg: Any) -> int:
    """Base fee (5000 lamports per signature) plus the priority fee the message asks for."""
    limit: int | None = None
    price = 0
    n_other = 0
    for ix in msg.instructions:
        program = msg.account_keys[ix.program_id_index]
        data = bytes(ix.data)
        if program == COMPUTE_BUDGET_ID and data[:1] == b"\x02":
            limit = int.from_bytes(data[1:5], "little")
        elif program == COMPUTE_BUDGET_ID and data[:1] == b"\x03":
            price = int.from_bytes(data[1:9], "little")
        elif program != COMPUTE_BUDGET_ID:
            n_other += 1
    if limit is None:
        limit = min(200_000 * n_other, 1_400_000)
    priority = -(-limit * price // 1_000_000)
    signers = int(msg.header.num_required_signatures)
    return LAMPORTS_PER_SIGNATURE * signers + priority
