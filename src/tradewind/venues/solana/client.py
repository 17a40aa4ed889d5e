"""``SolanaVenue``: SPL token market orders as Jupiter swaps, landed and read back on chain.

* Instruments are ``BASE/QUOTE`` symbols over configured mints (``tokens``), with decimals read
  from the mint accounts on chain.
* A market SELL of ``quantity`` is an ExactIn swap of ``quantity`` base units. A market BUY of
  ``quantity`` is an ExactIn swap of quote: the quote amount is what a quote for selling
  ``quantity`` base currently returns (or ``order.quote_quantity`` when given). Either way the
  fill is what actually moved: the confirmed transaction's balance changes for our wallet
  (never the quote), so a BUY may receive slightly less or more than ``quantity``.
* Swap paths (``mode``): ``execute`` (Swap V2 ``/order`` + ``/execute``, Jupiter lands it),
  ``swap`` (Metis V1 ``/quote`` + ``/swap``, landed by us) and ``build`` (V2 ``/build``
  instructions, our own compute budget: simulated units x 1.2, price from
  ``getRecentPrioritizationFees``), both self-landed through ``landing.land``.
* Before any swap the wallet must keep ``sol_reserve_lamports`` for fees, plus rent for token
  accounts the swap creates (and the SOL sold): else ``InsufficientFunds``.
* Every order goes through the durable ``SwapLedger``; a second ``submit`` with the same client
  order id resolves the recorded transaction and never swaps twice. One re-quote at most,
  after an expiry (proven by block height) or a slippage failure (6001).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import statistics
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from solana.exceptions import SolanaRpcException
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.models import TokenAccountOpts
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.message import MessageV0
from solders.null_signer import NullSigner
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.token.state import Mint
from solders.transaction import VersionedTransaction
from spl.token.constants import WRAPPED_SOL_MINT
from spl.token.instructions import get_associated_token_address

from tradewind.data.loader import timeframe_to_ns
from tradewind.errors import (
    InsufficientFunds,
    InvalidOrder,
    OrderStateUnknown,
    TradewindError,
    VenueError,
    VenueUnavailable,
)
from tradewind.model.data import Bar
from tradewind.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from tradewind.model.instrument import Instrument
from tradewind.model.order import Order
from tradewind.store.db import Store
from tradewind.venues.base import VenueBalance, VenueFill, VenueOrder, VenuePosition, VenueReports
from tradewind.venues.solana import landing
from tradewind.venues.solana.jupiter import JupiterClient, JupiterSendUnknown
from tradewind.venues.solana.ledger import Outcome, SwapLedger, SwapRecord
from tradewind.venues.solana.rpc import PatientRpc
from tradewind.venues.solana.signing import fully_signed, sign_own_slot
from tradewind.venues.solana.wallet import Wallet

log = logging.getLogger("tradewind.venues.solana")

SLIPPAGE_EXCEEDED = 6001
TOKEN_ACCOUNT_RENT = 2_039_280  # lamports for a 165-byte token account
_RETRYABLE_EXECUTE = {-1, -1000, -1001, -1004, -1005, -1006}


@dataclass
class SolanaVenueConfig:
    rpc_url: str
    tokens: dict[str, str]  # symbol -> mint address, e.g. {"SOL": "So11...112", "USDC": "EPjF..."}
    jupiter_url: str = "https://api.jup.ag"
    jupiter_api_key: str | None = field(default=None, repr=False)
    mode: str = "execute"  # execute | swap | build
    slippage_bps: int = 50
    sol_reserve_lamports: int = 10_000_000  # 0.01 SOL always kept for fees
    max_priority_lamports: int = 1_000_000
    landing: landing.LandingConfig = field(default_factory=landing.LandingConfig)
    price_poll_seconds: float = 5.0
    rpc_timeout: float = 10.0
    name: str = "solana"
    # warm-up history: GeckoTerminal OHLCV of this pool (its base token's USD price)
    history_pool: str | None = None
    history_url: str = "https://api.geckoterminal.com"


@dataclass(frozen=True)
class _Prepared:
    tx: VersionedTransaction
    last_valid: int | None
    request_id: str | None
    in_amount: int
    quoted_out: int


class SolanaVenue:
    """The ``VenueClient`` for Solana (see the module docstring)."""

    def __init__(self, config: SolanaVenueConfig, wallet: Wallet, store: Store) -> None:
        if config.mode not in ("execute", "swap", "build"):
            raise VenueError(
                f"{config.name}: unknown swap mode {config.mode!r} (execute|swap|build)"
            )
        self.config = config
        self.name = config.name
        self.wallet = wallet
        self.ledger = SwapLedger(store, config.name)
        self._reports: VenueReports | None = None
        self._rpc: AsyncClient | None = None
        self._jup: JupiterClient | None = None
        self._instruments: dict[str, Instrument] = {}
        self._mints: dict[str, tuple[int, Pubkey]] = {}  # mint -> (decimals, token program)

    def __repr__(self) -> str:
        return f"SolanaVenue({self.name}, wallet={self.wallet.pubkey}, mode={self.config.mode})"

    # --- connection ----------------------------------------------------------------------------

    async def connect(self, reports: VenueReports) -> None:
        self._reports = reports
        client = AsyncClient(
            self.config.rpc_url,
            commitment=Confirmed,
            timeout=self.config.rpc_timeout,
            max_transport_retries=0,
        )
        self._rpc = cast(AsyncClient, PatientRpc(client))  # reads ride out 429s
        self._jup = JupiterClient(
            self.config.jupiter_url, self.config.jupiter_api_key, venue=self.name
        )

    async def close(self) -> None:
        if self._rpc is not None:
            await self._rpc.close()
        if self._jup is not None:
            await self._jup.close()

    @property
    def rpc(self) -> AsyncClient:
        if self._rpc is None:
            raise VenueError(f"{self.name}: not connected (call connect first)")
        return self._rpc

    @property
    def jup(self) -> JupiterClient:
        if self._jup is None:
            raise VenueError(f"{self.name}: not connected (call connect first)")
        return self._jup

    # --- instruments ---------------------------------------------------------------------------

    async def _mint(self, mint: str) -> tuple[int, Pubkey]:
        if mint not in self._mints:
            acc = (await self.rpc.get_account_info(Pubkey.from_string(mint))).value
            if acc is None or len(bytes(acc.data)) < 82:
                raise InvalidOrder(f"{self.name}: mint {mint} does not exist on chain")
            decimals = int(Mint.from_bytes(bytes(acc.data)[:82]).decimals)
            self._mints[mint] = (decimals, acc.owner)
        return self._mints[mint]

    async def instruments(self, symbols: Sequence[str]) -> dict[str, Instrument]:
        out: dict[str, Instrument] = {}
        for symbol in symbols:
            if symbol not in self._instruments:
                base, _, quote = symbol.partition("/")
                if base not in self.config.tokens or quote not in self.config.tokens:
                    known = ", ".join(
                        f"{a}/{b}" for a in self.config.tokens for b in self.config.tokens if a != b
                    )
                    raise InvalidOrder(f"{self.name}: unknown symbol {symbol!r}; tradable: {known}")
                base_mint, quote_mint = self.config.tokens[base], self.config.tokens[quote]
                decimals, program = await self._mint(base_mint)
                q_decimals, q_program = await self._mint(quote_mint)
                self._instruments[symbol] = Instrument.spl_token(
                    symbol,
                    mint=base_mint,
                    decimals=decimals,
                    quote=quote,
                    venue=self.name,
                    extra={
                        "quote_mint": quote_mint,
                        "quote_decimals": str(q_decimals),
                        "token_program": str(program),
                        "quote_token_program": str(q_program),
                    },
                )
            out[symbol] = self._instruments[symbol]
        return out

    async def _instrument(self, symbol: str) -> Instrument:
        return (await self.instruments([symbol]))[symbol]

    # --- orders --------------------------------------------------------------------------------

    async def submit(self, order: Order) -> VenueOrder:
        inst = await self._instrument(order.instrument)
        rec = self.ledger.get(order.client_order_id)
        if rec is not None and rec.signature:  # sent before: settle that, never swap again
            return await self._resume(rec, inst, order)
        if order.type is not OrderType.MARKET:
            raise InvalidOrder(
                f"{self.name}: order {order.client_order_id}: only MARKET orders swap on Jupiter"
            )
        assert inst.mint is not None
        quote_mint = inst.extra["quote_mint"]
        buy = order.side is OrderSide.BUY
        in_mint, out_mint = (quote_mint, inst.mint) if buy else (inst.mint, quote_mint)
        self.ledger.begin(order.client_order_id, inst.symbol, order.side.value, in_mint, out_mint)
        return await self._swap(order, inst, in_mint, out_mint)

    async def _in_amount(self, order: Order, inst: Instrument, in_mint: str) -> int:
        if order.side is OrderSide.SELL:
            return inst.to_base_units(order.quantity)
        q_dec = int(inst.extra["quote_decimals"])
        if order.quote_quantity:
            return round(float(order.quote_quantity) * 10.0**q_dec)
        assert inst.mint is not None
        probe = await self.jup.quote(
            inst.mint, in_mint, inst.to_base_units(order.quantity), self.config.slippage_bps
        )
        return int(probe["outAmount"])

    async def _swap(
        self, order: Order, inst: Instrument, in_mint: str, out_mint: str
    ) -> VenueOrder:
        coid = order.client_order_id
        requoted = False
        while True:
            amount = await self._in_amount(order, inst, in_mint)
            if amount <= 0:
                raise InvalidOrder(
                    f"{self.name}: order {coid}: quantity {order.quantity} rounds to 0 base units"
                )
            await self._pretrade(order, in_mint, out_mint, amount)
            prep = await self._prepare(in_mint, out_mint, amount)
            sig = prep.tx.signatures[0]
            self.ledger.attempt(
                coid,
                signature=str(sig),
                wire=base64.b64encode(bytes(prep.tx)).decode(),
                last_valid_block_height=prep.last_valid,
                in_amount=amount,
                quoted_out=prep.quoted_out,
                request_id=prep.request_id,
            )
            res = await self._land(prep)
            rec = self.ledger.finish(coid, res.outcome, error=res.error, slot=res.slot)
            if res.outcome is Outcome.LANDED:
                return await self._filled(rec, inst, order)
            if res.outcome is Outcome.UNKNOWN:
                raise OrderStateUnknown(
                    f"{self.name}: order {coid}: transaction {sig} sent but its outcome is unknown "
                    f"({res.error}); it will be resolved by lookup before anything is resent"
                )
            retry = res.outcome is Outcome.EXPIRED or res.custom_code == SLIPPAGE_EXCEEDED
            if retry and not requoted:
                requoted = True
                continue
            return self._closed(rec, order, res.error)

    async def _prepare(self, in_mint: str, out_mint: str, amount: int) -> _Prepared:
        me = str(self.wallet.pubkey)
        slip = self.config.slippage_bps
        if self.config.mode == "execute":
            o = await self.jup.order(in_mint, out_mint, amount, me, slip)
            if not o.get("transaction"):
                code, why = o.get("errorCode"), o.get("errorMessage", "no transaction")
                cls = InsufficientFunds if code in (1, 2) else InvalidOrder
                raise cls(
                    f"{self.name}: Jupiter /order {in_mint}->{out_mint} {amount}: {why} "
                    f"(errorCode {code})"
                )
            tx = sign_own_slot(_decode(o["transaction"]), self.wallet, venue=self.name)
            return _Prepared(tx, None, o["requestId"], amount, int(o["outAmount"]))
        if self.config.mode == "swap":
            q = await self.jup.quote(in_mint, out_mint, amount, slip)
            s = await self.jup.swap(q, me, max_priority_lamports=self.config.max_priority_lamports)
            tx = sign_own_slot(_decode(s["swapTransaction"]), self.wallet, venue=self.name)
            if not fully_signed(tx):
                raise VenueError(
                    f"{self.name}: Jupiter /swap transaction is missing a required signature"
                )
            return _Prepared(tx, int(s["lastValidBlockHeight"]), None, amount, int(q["outAmount"]))
        b = await self.jup.build(in_mint, out_mint, amount, me, slip)
        return await self._assemble(b, amount)

    async def _assemble(self, b: dict[str, Any], amount: int) -> _Prepared:
        """Our own transaction from /build instructions: CU limit = simulated units x 1.2, CU
        price = median recent prioritization fee, capped by ``max_priority_lamports``."""
        body = [_ix(i) for i in b.get("setupInstructions", [])]
        body.append(_ix(b["swapInstruction"]))
        if b.get("cleanupInstruction"):
            body.append(_ix(b["cleanupInstruction"]))
        body += [_ix(i) for i in b.get("otherInstructions", [])]
        fees = (await self.rpc.get_recent_prioritization_fees()).value
        price = int(statistics.median([f.prioritization_fee for f in fees])) if fees else 0
        bh = (await self.rpc.get_latest_blockhash(Confirmed)).value
        me = self.wallet.pubkey
        probe_msg = MessageV0.try_compile(
            me,
            [set_compute_unit_limit(1_400_000), set_compute_unit_price(price), *body],
            [],
            bh.blockhash,
        )
        sim = (
            await self.rpc.simulate_transaction(VersionedTransaction(probe_msg, [NullSigner(me)]))
        ).value
        if sim.err is not None:
            code = landing.custom_code(sim.err)
            raise VenueError(
                f"{self.name}: simulation of the swap failed: {sim.err}"
                + (f" (code {code})" if code else "")
            )
        limit = int((sim.units_consumed or 200_000) * 1.2)
        price = min(price, self.config.max_priority_lamports * 1_000_000 // max(limit, 1))
        msg = MessageV0.try_compile(
            me,
            [set_compute_unit_limit(limit), set_compute_unit_price(price), *body],
            [],
            bh.blockhash,
        )
        tx = sign_own_slot(
            VersionedTransaction(msg, [NullSigner(me)]), self.wallet, venue=self.name
        )
        return _Prepared(tx, bh.last_valid_block_height, None, amount, int(b["outAmount"]))

    async def _land(self, prep: _Prepared) -> landing.LandResult:
        cfg = self.config.landing
        if self.config.mode != "execute":
            return await landing.land(self.rpc, prep.tx, prep.last_valid, cfg)
        assert prep.request_id is not None
        try:
            r = await self.jup.execute(base64.b64encode(bytes(prep.tx)).decode(), prep.request_id)
        except JupiterSendUnknown:  # Jupiter may be landing it: poll, never re-sign
            return await landing.land(self.rpc, prep.tx, None, cfg, send_first=False)
        code = r.get("code")
        sig = prep.tx.signatures[0]
        if code == 0 and r.get("status") == "Success":
            return landing.LandResult(
                Outcome.LANDED, sig, landed=True, slot=int(r.get("slot") or 0) or None
            )
        if code == SLIPPAGE_EXCEEDED:
            return landing.LandResult(
                Outcome.FAILED, sig, f"Jupiter /execute: {r.get('error')}", SLIPPAGE_EXCEEDED
            )
        if code in _RETRYABLE_EXECUTE:  # not landed (yet): settle by the chain, not by Jupiter
            return await landing.land(self.rpc, prep.tx, None, cfg, send_first=code != -1)
        return landing.LandResult(
            Outcome.FAILED, sig, f"Jupiter /execute code {code}: {r.get('error')}"
        )

    async def _pretrade(self, order: Order, in_mint: str, out_mint: str, amount: int) -> None:
        """SOL for fees + rent (+ the SOL sold) and the token sold must be there before we swap."""
        me = self.wallet.pubkey
        try:
            lamports = (await self.rpc.get_balance(me)).value
            need = self.config.sol_reserve_lamports
            native = str(WRAPPED_SOL_MINT)
            if native in (in_mint, out_mint):
                need += TOKEN_ACCOUNT_RENT  # temporary wSOL account
            if out_mint != native:
                _, prog = await self._mint(out_mint)
                ata = get_associated_token_address(me, Pubkey.from_string(out_mint), prog)
                if (await self.rpc.get_account_info(ata)).value is None:
                    need += TOKEN_ACCOUNT_RENT
            if in_mint == native:
                need += amount
            elif (have := await self._token_units(in_mint)) < amount:
                decimals, _ = await self._mint(in_mint)
                raise InsufficientFunds(
                    f"{self.name}: order {order.client_order_id} needs {amount / 10**decimals} of "
                    f"token {in_mint}, wallet holds {have / 10**decimals}"
                )
        except SolanaRpcException as exc:
            raise VenueUnavailable(
                f"{self.name}: RPC unreachable for the pre-trade check ({type(exc).__name__})"
            ) from None
        if lamports < need:
            raise InsufficientFunds(
                f"{self.name}: order {order.client_order_id} needs {need / 1e9:.9f} SOL "
                f"(swap input, fee reserve {self.config.sol_reserve_lamports / 1e9} SOL and "
                "token-account rent), "
                f"wallet holds {lamports / 1e9:.9f} SOL"
            )

    async def _token_units(self, mint: str) -> int:
        opts = TokenAccountOpts(mint=Pubkey.from_string(mint))
        accts = (
            await self.rpc.get_token_accounts_by_owner_json_parsed(self.wallet.pubkey, opts)
        ).value
        total = 0
        for a in accts:
            parsed: Any = a.account.data.parsed
            total += int(parsed["info"]["tokenAmount"]["amount"])
        return total

    # --- fills from the chain ------------------------------------------------------------------

    async def _filled(self, rec: SwapRecord, inst: Instrument, order: Order | None) -> VenueOrder:
        assert rec.signature is not None and inst.mint is not None
        sig = Signature.from_string(rec.signature)
        got = None
        for _ in range(20):
            got = (await self.rpc.get_transaction(sig, "json", Confirmed, 0)).value
            if got is not None:
                break
            await asyncio.sleep(self.config.landing.poll_every)
        if got is None or got.transaction.meta is None:
            raise OrderStateUnknown(
                f"{self.name}: order {rec.client_order_id}: landed tx {sig} not readable yet"
            )
        meta = got.transaction.meta
        tx = _decode(rec.wire or "")
        keys = list(tx.message.account_keys)
        base = self._delta(meta, keys, inst.mint)
        quote = self._delta(meta, keys, inst.extra["quote_mint"])
        base_qty = abs(base) / 10 ** (inst.decimals or 0)
        quote_qty = abs(quote) / 10 ** int(inst.extra["quote_decimals"])
        price = quote_qty / base_qty if base_qty else 0.0
        ts = (got.block_time or int(time.time())) * 1_000_000_000
        rec = self.ledger.finish(
            rec.client_order_id,
            Outcome.LANDED,
            filled_qty=base_qty,
            avg_price=price,
            fee_lamports=int(meta.fee),
            ts_fill=ts,
            slot=got.slot,
        )
        fill = self._fill(rec)
        vo = self._venue_order(rec, order)
        if self._reports is not None:
            self._reports.on_fill(fill)
            self._reports.on_order(vo)
        return vo

    def _delta(self, meta: Any, keys: list[Pubkey], mint: str) -> int:
        """Our wallet's change in ``mint`` (SOL: lamports + fee + rent of accounts created)."""
        me = self.wallet.pubkey
        if mint == str(WRAPPED_SOL_MINT):
            i = keys.index(me)
            delta = int(meta.post_balances[i]) - int(meta.pre_balances[i]) + int(meta.fee)
            for b in meta.post_token_balances or []:  # rent parked in token accounts we created
                j = b.account_index
                if b.owner == me and meta.pre_balances[j] == 0:
                    delta += int(meta.post_balances[j])
            return delta

        def total(rows: Any) -> int:
            return sum(
                int(b.ui_token_amount.amount)
                for b in rows or []
                if b.owner == me and str(b.mint) == mint
            )

        return total(meta.post_token_balances) - total(meta.pre_token_balances)

    def _fill(self, rec: SwapRecord) -> VenueFill:
        return VenueFill(
            fill_id=rec.signature or "",
            client_order_id=rec.client_order_id,
            venue_order_id=rec.signature or "",
            instrument=rec.instrument,
            side=OrderSide(rec.side),
            quantity=rec.filled_qty,
            price=rec.avg_price,
            fee=rec.fee_lamports / 1e9,
            fee_currency="SOL",
            liquidity=LiquiditySide.TAKER,
            ts=rec.ts_fill or 0,
            network_fee=True,  # paid from the SOL reserve, not out of the swap
        )

    def _venue_order(
        self, rec: SwapRecord, order: Order | None, status: OrderStatus | None = None
    ) -> VenueOrder:
        if status is None:
            status = {
                Outcome.LANDED: OrderStatus.FILLED,
                Outcome.FAILED: OrderStatus.REJECTED,
                Outcome.EXPIRED: OrderStatus.EXPIRED,
            }.get(rec.outcome, OrderStatus.SUBMITTED)
        return VenueOrder(
            client_order_id=rec.client_order_id,
            venue_order_id=rec.signature or "",
            instrument=rec.instrument,
            side=OrderSide(rec.side),
            type=OrderType.MARKET,
            quantity=order.quantity if order is not None else rec.filled_qty,
            price=None,
            status=status,
            filled_qty=rec.filled_qty,
            avg_price=rec.avg_price,
            ts=rec.ts_fill or time.time_ns(),
        )

    def _closed(self, rec: SwapRecord, order: Order, error: str) -> VenueOrder:
        vo = self._venue_order(rec, order)
        if self._reports is not None:
            self._reports.on_order(vo)
        return vo

    async def _resume(self, rec: SwapRecord, inst: Instrument, order: Order | None) -> VenueOrder:
        """Settle a recorded swap (restart or second submit): never a new transaction while the
        recorded one could still land."""
        if rec.outcome is Outcome.LANDED:
            if rec.ts_fill is None:
                return await self._filled(rec, inst, order)
            return self._venue_order(rec, order)
        if rec.outcome.final:
            return self._venue_order(rec, order)
        tx = _decode(rec.wire or "")
        res = await landing.land(
            self.rpc, tx, rec.last_valid_block_height, self.config.landing, send_first=False
        )
        rec = self.ledger.finish(rec.client_order_id, res.outcome, error=res.error, slot=res.slot)
        if res.outcome is Outcome.LANDED:
            return await self._filled(rec, inst, order)
        if res.outcome is Outcome.UNKNOWN:
            raise OrderStateUnknown(
                f"{self.name}: order {rec.client_order_id}: outcome still unknown"
            )
        return self._venue_order(rec, order)

    async def cancel(self, order: Order) -> VenueOrder | None:
        return None  # a swap is atomic: nothing rests on the venue

    async def lookup(self, client_order_id: str, symbol: str) -> VenueOrder | None:
        rec = self.ledger.get(client_order_id)
        if rec is None or not rec.signature:
            return None
        return await self._resume(rec, await self._instrument(rec.instrument), None)

    async def open_orders(self, symbols: Sequence[str]) -> list[VenueOrder]:
        return []

    async def fills(self, symbols: Sequence[str], since_ns: int) -> list[VenueFill]:
        rows = [
            r
            for r in self.ledger.all()
            if r.outcome is Outcome.LANDED
            and r.ts_fill is not None
            and r.ts_fill >= since_ns
            and (not symbols or r.instrument in symbols)
        ]
        return [self._fill(r) for r in sorted(rows, key=lambda r: r.ts_fill or 0)]

    async def balances(self) -> list[VenueBalance]:
        me = self.wallet.pubkey
        lamports = (await self.rpc.get_balance(me)).value
        out = [
            VenueBalance(
                "SOL", lamports / 1e9, max(0, lamports - self.config.sol_reserve_lamports) / 1e9
            )
        ]
        for symbol, mint in self.config.tokens.items():
            if mint == str(WRAPPED_SOL_MINT):
                continue
            decimals, _ = await self._mint(mint)
            units = await self._token_units(mint)
            out.append(VenueBalance(symbol, units / 10**decimals, units / 10**decimals))
        return out

    async def positions(self, symbols: Sequence[str]) -> list[VenuePosition]:
        return []

    # --- prices --------------------------------------------------------------------------------

    async def bars(
        self, symbol: str, timeframe: str, since_ns: int | None = None
    ) -> AsyncIterator[Bar]:
        """Closed bars: history from ``since_ns`` (GeckoTerminal OHLCV of ``history_pool``, when
        configured; Price V3 has none), then bars built from Jupiter Price V3 polls (USD prices;
        base/quote ratio)."""
        last = -1
        if since_ns is not None and self.config.history_pool:
            for bar in await self._history(symbol, timeframe, since_ns):
                last = bar.ts
                yield bar
        async for bar in self._polled_bars(symbol, timeframe):
            if bar.ts > last:
                yield bar

    async def _history(self, symbol: str, timeframe: str, since_ns: int) -> list[Bar]:
        from tradewind.data.sources.geckoterminal import GeckoTerminalSource

        pool = self.config.history_pool or ""

        def fetch() -> list[Bar]:
            src = GeckoTerminalSource(self.config.history_url, network="solana")
            try:
                out: list[Bar] = []
                for df in src.fetch_ohlcv(pool, timeframe, since_ns):
                    cols = [df[k].to_numpy() for k in ("ts", "open", "high", "low", "close")]
                    vol = df["volume"].to_numpy()
                    for i in range(len(df)):
                        o, h, lo, c = (float(col[i]) for col in cols[1:])
                        out.append(Bar(symbol, timeframe, int(cols[0][i]), o, h, lo, c,
                                       float(vol[i])))  # fmt: skip
                return out
            finally:
                src.close()

        try:
            return await asyncio.to_thread(fetch)
        except TradewindError as exc:
            log.warning("%s: no warm-up history for %s: %s", self.name, symbol, exc)
            return []

    async def _polled_bars(self, symbol: str, timeframe: str) -> AsyncIterator[Bar]:
        inst = await self._instrument(symbol)
        assert inst.mint is not None
        tf = timeframe_to_ns(timeframe)
        quote_mint = inst.extra["quote_mint"]
        cur: list[float] = []
        start = -1
        while True:
            try:
                px = await self.jup.prices([inst.mint, quote_mint])
            except VenueError:
                await asyncio.sleep(self.config.price_poll_seconds)
                continue
            if inst.mint in px and px.get(quote_mint):
                price = px[inst.mint] / px[quote_mint]
                now = time.time_ns()
                bucket = now - now % tf
                if start >= 0 and bucket != start and cur:
                    yield Bar(symbol, timeframe, start, cur[0], max(cur), min(cur), cur[-1], 0.0)
                    cur = []
                if bucket != start:
                    start = bucket
                cur.append(price)
            await asyncio.sleep(self.config.price_poll_seconds)


def _decode(b64: str) -> VersionedTransaction:
    return VersionedTransaction.from_bytes(base64.b64decode(b64))


def _ix(d: dict[str, Any]) -> Instruction:
    metas = [
        AccountMeta(Pubkey.from_string(a["pubkey"]), a["isSigner"], a["isWritable"])
        for a in d["accounts"]
    ]
    return Instruction(Pubkey.from_string(d["programId"]), base64.b64decode(d["data"]), metas)


__all__ = ["Hash", "SolanaVenue", "SolanaVenueConfig"]
