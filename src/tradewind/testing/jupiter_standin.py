"""An offline Jupiter aggregator whose swaps really move tokens on the LiteSVM stand-in.

Serves the documented JSON of Swap V2 (``GET /swap/v2/order``, ``POST /swap/v2/execute``,
``GET /swap/v2/build``), Metis V1 (``GET /swap/v1/quote``, ``POST /swap/v1/swap``) and
``GET /price/v3``, with ``x-ratelimit-*`` headers. Usage::

    with SolanaRpcStandin() as rpc, JupiterStandin(rpc) as jup:
        pool = jup.add_pool(NATIVE_MINT, USDC_MINT, 1_000 * 10**9, 150_000 * 10**6)
        ... jup.url ...; jup.faults.rate_limit_next = 2; pool.move_price(0.9)

How a swap works offline (no aggregator program exists in LiteSVM):

* A pool is a wallet holding both tokens; prices are constant product over its on-chain
  balances with ``fee_bps`` taken from the input (ExactIn only).
* ``/order`` and ``/swap`` return a v0 transaction the *pool* has already signed (its slot),
  the taker's slot is empty: the taker signs only its own slot. Instructions: compute budget,
  create the taker's output ATA, wrap SOL (system transfer + sync_native) when the input is SOL,
  taker -> pool ``transfer_checked``, pool -> taker ``transfer_checked``, close the taker's wSOL
  account (unwrap) when SOL is involved.
* ``/build`` returns instructions the caller assembles and signs alone: the pool leg is
  authorised by making the taker the delegate of the pool's output account for that amount.
* Slippage: Jupiter's program checks the output against ``otherAmountThreshold`` on chain. The
  stand-in emulates that check through the RPC stand-in's fail hook: when a swap lands, the
  output the pool would give *now* is recomputed from its reserves; below the threshold the
  transaction fails with ``InstructionError(i, Custom(6001))`` (fee paid, nothing swapped), in
  simulation/preflight too.
* ``faults.realized_slippage_bps`` makes the delivered amount smaller than the quote (within
  the slippage) so callers must read fills from the chain, not the quote.
"""

from __future__ import annotations

import base64
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from solders.account import Account
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.null_signer import NullSigner
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.token.state import TokenAccount
from solders.transaction import VersionedTransaction
from solders.transaction_status import TransactionErrorFieldless
from spl.token import instructions as spl_ix
from spl.token import models as spl_models

from tradewind.testing.solana_http import JsonHttpServer, Reply, Request
from tradewind.testing.solana_rpc import (
    NATIVE_MINT,
    TOKEN_PROGRAMS,
    USDC_MINT,
    SolanaRpcStandin,
    TxFailure,
    custom_error,
)

JUPITER_PROGRAM = "JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4"
SLIPPAGE_EXCEEDED = 6001
_PRIORITY_PRICE = {"medium": 10_000, "high": 50_000, "veryHigh": 100_000}


@dataclass
class JupiterFaults:
    rate_limit_every: int = 0  # every Nth call answers 429 (0: never)
    rate_limit_next: int = 0  # the next N calls answer 429
    reset_in: int = 1  # x-ratelimit-reset = now + this many seconds
    realized_slippage_bps: int = 0  # deliver this much less than quoted (within slippage)
    execute_drop: int = 0  # next N /execute calls land the tx, then cut the connection
    move_after_build: list[float] = field(default_factory=list)  # pool.move_price(f) after
    # each built transaction (one factor per build): "the market moved before landing"
    builds: int = 0
    on_execute: Callable[[], None] | None = None  # called as /execute starts (test hook)
    calls: int = 0
    executes: int = 0
    orders: int = 0


class Pool:
    """A constant-product pool held by ``wallet`` (its two associated token accounts)."""

    def __init__(self, rpc: SolanaRpcStandin, a: Pubkey, b: Pubkey, fee_bps: int) -> None:
        self.rpc, self.a, self.b, self.fee_bps = rpc, a, b, fee_bps
        self.wallet = Keypair()
        self.key = Pubkey.new_unique()  # the "ammKey" shown in route plans

    def reserve(self, mint: Pubkey) -> int:
        return self.rpc.token_balance(self.wallet.pubkey(), mint)

    def out_amount(self, in_mint: Pubkey, amount: int) -> int:
        out_mint = self.b if in_mint == self.a else self.a
        r_in, r_out = self.reserve(in_mint), self.reserve(out_mint)
        net = amount * (10_000 - self.fee_bps) // 10_000
        return r_out * net // (r_in + net) if r_in + net > 0 else 0

    def set_reserves(self, a_amount: int, b_amount: int) -> None:
        self.rpc.set_token_balance(self.wallet.pubkey(), self.a, a_amount)
        self.rpc.set_token_balance(self.wallet.pubkey(), self.b, b_amount)

    def move_price(self, factor: float) -> None:
        """Someone else traded: the price of ``a`` in ``b`` becomes ``factor`` times as high."""
        self.set_reserves(self.reserve(self.a), int(self.reserve(self.b) * factor))


@dataclass
class _Swap:
    request_id: str
    taker: Pubkey
    pool: Pool
    in_mint: Pubkey
    out_mint: Pubkey
    in_amount: int
    out_amount: int  # quoted
    delivered: int  # what the transaction moves
    threshold: int  # otherAmountThreshold (min out)
    swap_ix: int = 0  # index of the pool leg in the message (the failing instruction)
    tx: VersionedTransaction | None = None
    last_valid: int = 0
    results: dict[str, Any] = field(default_factory=dict)


class JupiterStandin:
    """The Jupiter HTTP API on 127.0.0.1 over a ``SolanaRpcStandin`` (module docstring)."""

    def __init__(self, rpc: SolanaRpcStandin) -> None:
        self.rpc = rpc
        self.faults = JupiterFaults()
        self.pools: list[Pool] = []
        self.prices: dict[Pubkey, float] = {USDC_MINT: 1.0}
        self._swaps: dict[str, _Swap] = {}  # request id -> swap
        self._legs: dict[tuple[Pubkey, int], _Swap] = {}  # (pool source account, amount)
        self._ids = itertools.count(1)
        self._http = JsonHttpServer(self._handle)
        rpc.faults.fail_hooks.append(self._slippage_check)

    @property
    def url(self) -> str:
        return self._http.url

    def __enter__(self) -> JupiterStandin:
        self._http.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.stop()
        if self._slippage_check in self.rpc.faults.fail_hooks:
            self.rpc.faults.fail_hooks.remove(self._slippage_check)

    def add_pool(
        self, a: Pubkey, b: Pubkey, a_amount: int, b_amount: int, fee_bps: int = 25
    ) -> Pool:
        pool = Pool(self.rpc, a, b, fee_bps)
        self.rpc.airdrop(pool.wallet.pubkey(), 10**9)
        pool.set_reserves(a_amount, b_amount)
        self.pools.append(pool)
        return pool

    def find_pool(self, x: Pubkey, y: Pubkey) -> Pool | None:
        for p in self.pools:
            if {p.a, p.b} == {x, y} and x != y:
                return p
        return None

    # --- on-chain emulation of the program's slippage check -----------------------------------

    def _pool_leg(self, tx: VersionedTransaction) -> _Swap | None:
        msg = tx.message
        keys = msg.account_keys
        for ix in msg.instructions:
            data = bytes(ix.data)
            if keys[ix.program_id_index] not in TOKEN_PROGRAMS:
                continue
            if data[:1] != b"\x0c" or len(data) < 9:  # TransferChecked
                continue
            source = keys[ix.accounts[0]]
            swap = self._legs.get((source, int.from_bytes(data[1:9], "little")))
            if swap is not None:
                return swap
        return None

    def _slippage_check(self, tx: VersionedTransaction) -> TxFailure | None:
        swap = self._pool_leg(tx)
        if swap is None:
            return None
        now = swap.pool.out_amount(swap.in_mint, swap.in_amount)
        if now >= swap.threshold:
            return None
        logs = [
            f"Program {JUPITER_PROGRAM} invoke [1]",
            "Program log: AnchorError occurred. Error Code: SlippageToleranceExceeded. "
            "Error Number: 6001. Error Message: Slippage tolerance exceeded.",
            f"Program {JUPITER_PROGRAM} failed: custom program error: 0x1771",
        ]
        return custom_error(swap.swap_ix, SLIPPAGE_EXCEEDED, logs)

    # --- quoting and building ------------------------------------------------------------------

    def _quote(self, q: dict[str, str]) -> tuple[dict[str, Any], Pool] | Reply:
        try:
            in_mint, out_mint = (
                Pubkey.from_string(q["inputMint"]),
                Pubkey.from_string(q["outputMint"]),
            )
            amount = int(q["amount"])
            slippage = int(q.get("slippageBps", "50"))
        except (KeyError, ValueError) as exc:
            return Reply(400, {"error": f"invalid query: {exc}", "errorCode": "INVALID_REQUEST"})
        if q.get("swapMode", "ExactIn") != "ExactIn":
            return Reply(400, {"error": "only ExactIn is offered", "errorCode": "NOT_SUPPORTED"})
        pool = self.find_pool(in_mint, out_mint)
        if pool is None or amount <= 0:
            return Reply(400, {"error": "No routes found", "errorCode": "COULD_NOT_FIND_ANY_ROUTE"})
        out = pool.out_amount(in_mint, amount)
        threshold = out * (10_000 - slippage) // 10_000
        fee = amount * pool.fee_bps // 10_000
        quote = {
            "inputMint": str(in_mint),
            "inAmount": str(amount),
            "outputMint": str(out_mint),
            "outAmount": str(out),
            "otherAmountThreshold": str(threshold),
            "swapMode": "ExactIn",
            "slippageBps": slippage,
            "priceImpactPct": f"{amount / max(pool.reserve(in_mint), 1):.6f}",
            "platformFee": {"amount": "0", "feeBps": 0},
            "routePlan": [
                {
                    "swapInfo": {
                        "ammKey": str(pool.key),
                        "label": "Tradewind Stand-in CPMM",
                        "inputMint": str(in_mint),
                        "outputMint": str(out_mint),
                        "inAmount": str(amount),
                        "outAmount": str(out),
                        "feeAmount": str(fee),
                        "feeMint": str(in_mint),
                    },
                    "percent": 100,
                }
            ],
            "contextSlot": self.rpc.slot,
            "timeTaken": 0.001,
        }
        return quote, pool

    def _new_swap(self, quote: dict[str, Any], pool: Pool, taker: Pubkey) -> _Swap:
        out = int(quote["outAmount"])
        threshold = int(quote["otherAmountThreshold"])
        delivered = max(out * (10_000 - self.faults.realized_slippage_bps) // 10_000, threshold)
        return _Swap(
            request_id=str(uuid.uuid4()),
            taker=taker,
            pool=pool,
            in_mint=Pubkey.from_string(quote["inputMint"]),
            out_mint=Pubkey.from_string(quote["outputMint"]),
            in_amount=int(quote["inAmount"]),
            out_amount=out,
            delivered=delivered,
            threshold=threshold,
        )

    def _legs_ixs(
        self, s: _Swap, *, delegated: bool
    ) -> tuple[list[Instruction], list[Instruction], Instruction, list[Instruction]]:
        """(setup, taker leg, pool leg, cleanup) instructions of a swap."""
        rpc, user, pool_w = self.rpc, s.taker, s.pool.wallet.pubkey()
        in_prog, out_prog = rpc.token_program(s.in_mint), rpc.token_program(s.out_mint)
        user_in = spl_ix.get_associated_token_address(user, s.in_mint, in_prog)
        user_out = spl_ix.get_associated_token_address(user, s.out_mint, out_prog)
        pool_in = spl_ix.get_associated_token_address(pool_w, s.in_mint, in_prog)
        pool_out = spl_ix.get_associated_token_address(pool_w, s.out_mint, out_prog)
        setup = [
            spl_ix.create_idempotent_associated_token_account(user, user, s.out_mint, out_prog)
        ]
        cleanup: list[Instruction] = []
        if s.in_mint == NATIVE_MINT:
            setup += [
                spl_ix.create_idempotent_associated_token_account(user, user, NATIVE_MINT, in_prog),
                transfer(TransferParams(from_pubkey=user, to_pubkey=user_in, lamports=s.in_amount)),
                spl_ix.sync_native(
                    spl_models.SyncNativeParams(program_id=in_prog, account=user_in)
                ),
            ]
            cleanup.append(_close(in_prog, user_in, user))
        if s.out_mint == NATIVE_MINT:
            cleanup.append(_close(out_prog, user_out, user))
        taker_leg = _transfer_checked(
            in_prog, user_in, s.in_mint, pool_in, user, s.in_amount, rpc.mint_decimals(s.in_mint)
        )
        owner = user if delegated else pool_w
        pool_leg = _transfer_checked(
            out_prog,
            pool_out,
            s.out_mint,
            user_out,
            owner,
            s.delivered,
            rpc.mint_decimals(s.out_mint),
        )
        self._legs[(pool_out, s.delivered)] = s
        return setup, [taker_leg], pool_leg, cleanup

    def _presigned_tx(self, s: _Swap, cu_limit: int | None, cu_price: int) -> VersionedTransaction:
        setup, taker_leg, pool_leg, cleanup = self._legs_ixs(s, delegated=False)
        body = setup + taker_leg + [pool_leg] + cleanup
        if cu_limit is None:  # dynamicComputeUnitLimit: simulate, then add 20 %
            probe = self._compile(s, [set_compute_unit_limit(1_400_000), *body])
            units = self.rpc.simulate(probe, sig_verify=False).units_consumed or 200_000
            cu_limit = int(units * 1.2)
        budget = [set_compute_unit_limit(cu_limit), set_compute_unit_price(cu_price)]
        s.swap_ix = len(budget) + len(setup) + len(taker_leg)
        tx = self._compile(s, budget + body)
        s.tx = tx
        self._after_build(s)
        return tx

    def _after_build(self, s: _Swap) -> None:
        self.faults.builds += 1
        if self.faults.move_after_build:
            factor = self.faults.move_after_build.pop(0)
            s.pool.move_price(factor)

    def _compile(self, s: _Swap, ixs: list[Instruction]) -> VersionedTransaction:
        bh = self.rpc.latest_blockhash
        s.last_valid = self.rpc.last_valid_block_height(bh) or 0
        msg = MessageV0.try_compile(s.taker, ixs, [], bh)
        return VersionedTransaction(msg, [NullSigner(s.taker), s.pool.wallet])

    # --- HTTP ----------------------------------------------------------------------------------

    def _handle(self, req: Request) -> Reply:
        f = self.faults
        f.calls += 1
        reset = str(int(time.time()) + f.reset_in)
        limited = f.rate_limit_next > 0 or (
            f.rate_limit_every and f.calls % f.rate_limit_every == 0
        )
        if limited:
            f.rate_limit_next = max(0, f.rate_limit_next - 1)
            headers = {
                "x-ratelimit-remaining": "0",
                "x-ratelimit-current": "60",
                "x-ratelimit-reset": reset,
            }
            return Reply(429, {"code": 429, "message": "Rate limit exceeded"}, headers)
        routes = {
            ("GET", "/swap/v1/quote"): self._v1_quote,
            ("POST", "/swap/v1/swap"): self._v1_swap,
            ("GET", "/swap/v2/order"): self._v2_order,
            ("POST", "/swap/v2/execute"): self._v2_execute,
            ("GET", "/swap/v2/build"): self._v2_build,
            ("GET", "/price/v3"): self._price,
        }
        fn = routes.get((req.method, req.path))
        if fn is None:
            return Reply(404, {"error": f"no route {req.method} {req.path}"})
        reply = fn(req)
        reply.headers.update(
            {"x-ratelimit-remaining": "59", "x-ratelimit-current": "1", "x-ratelimit-reset": reset}
        )
        return reply

    def _v1_quote(self, req: Request) -> Reply:
        got = self._quote(req.query)
        return got if isinstance(got, Reply) else Reply(200, got[0])

    def _v1_swap(self, req: Request) -> Reply:
        body = req.json()
        try:
            taker = Pubkey.from_string(body["userPublicKey"])
            quote = body["quoteResponse"]
        except (KeyError, ValueError, TypeError) as exc:
            return Reply(400, {"error": f"invalid body: {exc}", "errorCode": "INVALID_REQUEST"})
        pool = self.find_pool(
            Pubkey.from_string(quote["inputMint"]), Pubkey.from_string(quote["outputMint"])
        )
        if pool is None:
            return Reply(400, {"error": "No routes found", "errorCode": "COULD_NOT_FIND_ANY_ROUTE"})
        swap = self._new_swap(quote, pool, taker)
        limit = None if body.get("dynamicComputeUnitLimit") else 1_400_000
        price = _cu_price(body, limit or 300_000)
        tx = self._presigned_tx(swap, limit, price)
        self._swaps[swap.request_id] = swap
        cu = _cu_limit(tx)
        return Reply(
            200,
            {
                "swapTransaction": base64.b64encode(bytes(tx)).decode(),
                "lastValidBlockHeight": swap.last_valid,
                "prioritizationFeeLamports": -(-cu * price // 1_000_000),
                "computeUnitLimit": cu,
                "dynamicSlippageReport": None,
            },
        )

    def _v2_order(self, req: Request) -> Reply:
        self.faults.orders += 1
        got = self._quote(req.query)
        if isinstance(got, Reply):
            return got
        quote, pool = got
        order: dict[str, Any] = {"mode": "ultra", **quote, "router": "metis", "feeBps": 0}
        order.update(
            {
                "feeMint": quote["inputMint"],
                "gasless": False,
                "signatureFeeLamports": 5000,
                "prioritizationFeeLamports": 0,
                "rentFeeLamports": 0,
                "requestId": None,
                "transaction": None,
                "totalTime": 1,
            }
        )
        taker_s = req.query.get("taker")
        if not taker_s:
            return Reply(200, order)
        taker = Pubkey.from_string(taker_s)
        order["taker"] = taker_s
        problem = self._taker_problem(
            taker, Pubkey.from_string(quote["inputMint"]), int(quote["inAmount"])
        )
        if problem is not None:
            order.update({"transaction": "", "errorCode": problem[0], "errorMessage": problem[1]})
            return Reply(200, order)
        swap = self._new_swap(quote, pool, taker)
        price = 10_000
        tx = self._presigned_tx(swap, None, price)
        self._swaps[swap.request_id] = swap
        order["prioritizationFeeLamports"] = -(-_cu_limit(tx) * price // 1_000_000)
        order.update(
            {"requestId": swap.request_id, "transaction": base64.b64encode(bytes(tx)).decode()}
        )
        return Reply(200, order)

    def _taker_problem(self, taker: Pubkey, in_mint: Pubkey, amount: int) -> tuple[int, str] | None:
        lamports = self.rpc.balance(taker)
        gas = 50_000 + 2 * 2_039_280
        if in_mint == NATIVE_MINT:
            if lamports < amount:
                return 1, "Insufficient funds"
        elif self.rpc.token_balance(taker, in_mint) < amount:
            return 1, "Insufficient funds"
        if lamports - (amount if in_mint == NATIVE_MINT else 0) < gas:
            return 2, "Insufficient SOL for gas"
        return None

    def _v2_execute(self, req: Request) -> Reply:
        self.faults.executes += 1
        if self.faults.on_execute is not None:
            self.faults.on_execute()
        body = req.json() or {}
        swap = self._swaps.get(str(body.get("requestId")))
        if swap is None or swap.tx is None:
            return Reply(400, {"code": -1, "error": "Order not found, it might have expired"})
        try:
            tx = VersionedTransaction.from_bytes(base64.b64decode(body["signedTransaction"]))
        except Exception:
            return Reply(400, {"code": -2, "error": "Invalid signed transaction"})
        if bytes(tx.message) != bytes(swap.tx.message):
            return Reply(
                400, {"code": -3, "error": "Invalid message bytes: the transaction was modified"}
            )
        if not all(tx.verify_with_results()):
            return Reply(400, {"code": -1003, "error": "Transaction is not fully signed"})
        sig = tx.signatures[0]
        if swap.results:  # executed before: same answer, nothing sent twice
            return Reply(200, swap.results)
        pool_before = swap.pool.reserve(swap.out_mint)
        err = self.rpc.land(tx)
        landed = self.rpc.status(sig)
        if landed is not None and err not in (None, TransactionErrorFieldless.AlreadyProcessed):
            self.rpc.advance(1)
        result: dict[str, Any] = {"signature": str(sig), "slot": str(self.rpc.slot)}
        if landed is not None and landed.err is None:
            out = pool_before - swap.pool.reserve(swap.out_mint) if err is None else swap.delivered
            result.update(
                {
                    "status": "Success",
                    "code": 0,
                    "totalInputAmount": str(swap.in_amount),
                    "totalOutputAmount": str(out),
                    "inputAmountResult": str(swap.in_amount),
                    "outputAmountResult": str(out),
                    "swapEvents": [
                        {
                            "inputMint": str(swap.in_mint),
                            "inputAmount": str(swap.in_amount),
                            "outputMint": str(swap.out_mint),
                            "outputAmount": str(out),
                        }
                    ],
                }
            )
        elif landed is not None and "6001" in str(landed.err):
            result.update(
                {
                    "status": "Failed",
                    "code": SLIPPAGE_EXCEEDED,
                    "error": "Slippage tolerance exceeded",
                }
            )
        elif err == TransactionErrorFieldless.BlockhashNotFound:
            result.update(
                {
                    "status": "Failed",
                    "code": -1004,
                    "error": "Invalid block height: blockhash expired",
                }
            )
        else:
            result.update({"status": "Failed", "code": -1000, "error": f"Failed to land: {err}"})
        if landed is not None:
            swap.results = result
        if self.faults.execute_drop > 0:
            self.faults.execute_drop -= 1
            return Reply.drop()
        return Reply(200, result)

    def _v2_build(self, req: Request) -> Reply:
        got = self._quote(req.query)
        if isinstance(got, Reply):
            return got
        quote, pool = got
        taker_s = req.query.get("taker")
        if not taker_s:
            return Reply(400, {"error": "taker is required", "errorCode": "INVALID_REQUEST"})
        swap = self._new_swap(quote, pool, Pubkey.from_string(taker_s))
        setup, taker_leg, pool_leg, cleanup = self._legs_ixs(swap, delegated=True)
        self._delegate(swap)
        swap.swap_ix = 2 + len(setup) + len(taker_leg)  # after limit + price in the usual layout
        self._after_build(swap)
        bh = self.rpc.latest_blockhash
        self._swaps[swap.request_id] = swap
        return Reply(
            200,
            {
                **quote,
                "computeBudgetInstructions": [_ix_json(set_compute_unit_price(10_000))],
                "setupInstructions": [_ix_json(i) for i in setup + taker_leg],
                "swapInstruction": _ix_json(pool_leg),
                "cleanupInstruction": _ix_json(cleanup[0]) if cleanup else None,
                "otherInstructions": [_ix_json(i) for i in cleanup[1:]],
                "tipInstruction": None,
                "addressesByLookupTableAddress": {},
                "blockhashWithMetadata": {
                    "blockhash": list(bytes(bh)),
                    "lastValidBlockHeight": self.rpc.last_valid_block_height(bh),
                    "fetchedAt": {"secs_since_epoch": int(time.time()), "nanos_since_epoch": 0},
                },
            },
        )

    def _delegate(self, s: _Swap) -> None:
        """Let the taker move ``delivered`` out of the pool (stands in for the program's PDA)."""
        prog = self.rpc.token_program(s.out_mint)
        pool_out = spl_ix.get_associated_token_address(s.pool.wallet.pubkey(), s.out_mint, prog)
        with self.rpc.lock:
            acc = self.rpc.svm.get_account(pool_out)
            assert acc is not None
            t = TokenAccount.from_bytes(bytes(acc.data)[:165])
            new = TokenAccount(
                t.mint, t.owner, t.amount, s.taker, t.state, t.is_native, s.delivered, None
            )
            self.rpc.svm.set_account(
                pool_out, Account(acc.lamports, bytes(new), acc.owner, False, 0)
            )

    def _price(self, req: Request) -> Reply:
        out: dict[str, Any] = {}
        for mint_s in (req.query.get("ids") or "").split(",")[:50]:
            try:
                mint = Pubkey.from_string(mint_s.strip())
            except ValueError:
                continue
            price = self.usd_price(mint)
            if price is None:
                continue
            out[str(mint)] = {
                "usdPrice": price,
                "blockId": self.rpc.slot,
                "decimals": self.rpc.mint_decimals(mint),
                "priceChange24h": 0.0,
                "liquidity": 1_000_000.0,
                "createdAt": "2024-06-05T08:55:25.527Z",
            }
        return Reply(200, out)

    def usd_price(self, mint: Pubkey) -> float | None:
        """From ``prices`` or the pool against USDC (what /price/v3 reports)."""
        if mint in self.prices:
            return self.prices[mint]
        pool = self.find_pool(mint, USDC_MINT)
        if pool is None:
            return None
        dm, du = self.rpc.mint_decimals(mint), self.rpc.mint_decimals(USDC_MINT)
        base = pool.reserve(mint) / 10**dm
        return (pool.reserve(USDC_MINT) / 10**du) / base if base else None


def _transfer_checked(
    prog: Pubkey, src: Pubkey, mint: Pubkey, dst: Pubkey, owner: Pubkey, amount: int, decimals: int
) -> Instruction:
    params = spl_models.TransferCheckedParams(
        program_id=prog,
        source=src,
        mint=mint,
        dest=dst,
        owner=owner,
        amount=amount,
        decimals=decimals,
    )
    return spl_ix.transfer_checked(params)


def _close(prog: Pubkey, account: Pubkey, owner: Pubkey) -> Instruction:
    return spl_ix.close_account(
        spl_models.CloseAccountParams(program_id=prog, account=account, dest=owner, owner=owner)
    )


def _cu_price(body: dict[str, Any], limit: int) -> int:
    """Micro-lamports per CU from ``computeUnitPriceMicroLamports`` or a priority level."""
    if "computeUnitPriceMicroLamports" in body:
        return int(body["computeUnitPriceMicroLamports"])
    pf = body.get("prioritizationFeeLamports")
    if isinstance(pf, dict) and "priorityLevelWithMaxLamports" in pf:
        lvl = pf["priorityLevelWithMaxLamports"]
        price = _PRIORITY_PRICE.get(lvl.get("priorityLevel", "medium"), 10_000)
        cap = int(lvl.get("maxLamports", 10**9)) * 1_000_000 // max(limit, 1)
        return min(price, cap)
    return 10_000


def _cu_limit(tx: VersionedTransaction) -> int:
    msg = tx.message
    for ix in msg.instructions:
        data = bytes(ix.data)
        if (
            str(msg.account_keys[ix.program_id_index]).startswith("ComputeBudget")
            and data[:1] == b"\x02"
        ):
            return int.from_bytes(data[1:5], "little")
    return 200_000


def _ix_json(ix: Instruction) -> dict[str, Any]:
    return {
        "programId": str(ix.program_id),
        "accounts": [
            {"pubkey": str(a.pubkey), "isSigner": a.is_signer, "isWritable": a.is_writable}
            for a in ix.accounts
        ],
        "data": base64.b64encode(bytes(ix.data)).decode(),
    }
