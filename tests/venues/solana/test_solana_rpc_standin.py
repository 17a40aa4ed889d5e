"""The unmodified solana-py AsyncClient against the LiteSVM JSON-RPC stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from solana.exceptions import SolanaRpcException
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.core import RPCException
from solana.rpc.jsonrpc import JsonRpcRequest
from solana.rpc.models import TokenAccountOpts, TxOpts
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction
from solders.transaction_status import TransactionErrorFieldless
from spl.token import instructions as spl_ix
from spl.token import models as spl_models
from spl.token.constants import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID

from tradewind.testing.solana_rpc import NATIVE_MINT, USDC_MINT, SolanaRpcStandin, custom_error

SOL = 10**9


@pytest.fixture
def rpc() -> Iterator[SolanaRpcStandin]:
    with SolanaRpcStandin(blockhash_window=20) as node:
        node.add_native_mint()
        node.create_mint(6, USDC_MINT)
        yield node


def _transfer_tx(
    payer: Keypair, to: Pubkey, lamports: int, blockhash: object
) -> VersionedTransaction:
    ixs = [
        set_compute_unit_limit(10_000),
        set_compute_unit_price(100_000),
        transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports)),
    ]
    msg = MessageV0.try_compile(payer.pubkey(), ixs, [], blockhash)  # type: ignore[arg-type]
    return VersionedTransaction(msg, [payer])


def _run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_reads_balances_accounts_and_chain_state(rpc: SolanaRpcStandin) -> None:
    kp = Keypair()
    rpc.airdrop(kp.pubkey(), 2 * SOL)
    ata = rpc.set_token_balance(kp.pubkey(), USDC_MINT, 125_500_000)

    async def go() -> None:
        async with AsyncClient(rpc.url, commitment=Confirmed) as c:
            assert (await c.is_connected()) is True
            assert (await c.get_version()).value.solana_core
            assert (await c.get_balance(kp.pubkey())).value == 2 * SOL
            bal = (await c.get_token_account_balance(ata)).value
            assert (bal.amount, bal.decimals, bal.ui_amount_string) == ("125500000", 6, "125.5")
            accts = (
                await c.get_token_accounts_by_owner(kp.pubkey(), TokenAccountOpts(mint=USDC_MINT))
            ).value
            assert [a.pubkey for a in accts] == [ata]
            parsed = (
                await c.get_token_accounts_by_owner_json_parsed(
                    kp.pubkey(), TokenAccountOpts(program_id=TOKEN_PROGRAM_ID)
                )
            ).value
            info_json: Any = parsed[0].account.data.parsed
            assert info_json["info"]["tokenAmount"]["amount"] == "125500000"
            info = (await c.get_account_info(USDC_MINT)).value
            assert info is not None and info.owner == TOKEN_PROGRAM_ID
            many = (await c.get_multiple_accounts([USDC_MINT, Pubkey.new_unique()])).value
            assert many[0] is not None and many[1] is None
            rent = (await c.get_minimum_balance_for_rent_exemption(165)).value
            assert rent == 2_039_280
            bh = (await c.get_latest_blockhash()).value
            height = (await c.get_block_height()).value
            assert bh.last_valid_block_height == height + 20
            valid = JsonRpcRequest(method="isBlockhashValid", params=[str(bh.blockhash)])
            assert (await c.send_rpc_request(valid, dict))["value"] is True
            rpc.advance(21)
            assert (await c.send_rpc_request(valid, dict))["value"] is False
            assert (await c.get_slot()).value > 0
            fees = (await c.get_recent_prioritization_fees()).value
            assert [f.prioritization_fee for f in fees] == [0, 1000, 5000]

    _run(go())


def test_simulate_send_status_and_transaction_meta(rpc: SolanaRpcStandin) -> None:
    kp, bob = Keypair(), Keypair()
    rpc.airdrop(kp.pubkey(), 2 * SOL)

    async def go() -> None:
        async with AsyncClient(rpc.url, commitment=Confirmed) as c:
            bh = (await c.get_latest_blockhash()).value
            tx = _transfer_tx(kp, bob.pubkey(), SOL // 2, bh.blockhash)
            assert isinstance(tx.message, MessageV0)
            fee = (await c.get_fee_for_message(tx.message)).value
            assert fee == 5000 + 1000  # 10 000 CU x 100 000 micro-lamports = 1000 lamports
            sim = (await c.simulate_transaction(tx)).value
            assert sim.err is None and sim.units_consumed and sim.units_consumed > 0
            sig = (
                await c.send_transaction(
                    tx,
                    TxOpts(
                        skip_confirmation=False,
                        preflight_commitment=Confirmed,
                        last_valid_block_height=bh.last_valid_block_height,
                    ),
                )
            ).value
            assert sig == tx.signatures[0]
            st = (await c.get_signature_statuses([sig])).value[0]
            assert st is not None and st.err is None
            got = (
                await c.get_transaction(sig, encoding="base64", max_supported_transaction_version=0)
            ).value
            assert got is not None
            meta = got.transaction.meta
            assert meta is not None and meta.fee == 6000
            assert meta.pre_balances[0] - meta.post_balances[0] == SOL // 2 + 6000
            assert meta.post_balances[1] == SOL // 2
            assert (await c.get_balance(bob.pubkey())).value == SOL // 2
            # the same bytes again: preflight says "already processed", nothing moves twice
            with pytest.raises(RPCException, match="AlreadyProcessed"):
                await c.send_raw_transaction(bytes(tx))
            assert rpc.balance(bob.pubkey()) == SOL // 2

    _run(go())


def test_token_transfer_meta_has_token_balances_incl_token_2022(rpc: SolanaRpcStandin) -> None:
    kp, bob = Keypair(), Keypair()
    rpc.airdrop(kp.pubkey(), SOL)
    mint22 = rpc.create_mint(9, program_id=TOKEN_2022_PROGRAM_ID)
    src = rpc.set_token_balance(kp.pubkey(), mint22, 5 * SOL)
    dst = spl_ix.get_associated_token_address(bob.pubkey(), mint22, TOKEN_2022_PROGRAM_ID)

    async def go() -> None:
        async with AsyncClient(rpc.url) as c:
            bh = (await c.get_latest_blockhash()).value.blockhash
            ixs = [
                spl_ix.create_idempotent_associated_token_account(
                    kp.pubkey(), bob.pubkey(), mint22, TOKEN_2022_PROGRAM_ID
                ),
                spl_ix.transfer_checked(
                    spl_models.TransferCheckedParams(
                        program_id=TOKEN_2022_PROGRAM_ID,
                        source=src,
                        mint=mint22,
                        dest=dst,
                        owner=kp.pubkey(),
                        amount=2 * SOL,
                        decimals=9,
                    )
                ),
            ]
            tx = VersionedTransaction(MessageV0.try_compile(kp.pubkey(), ixs, [], bh), [kp])
            sig = (await c.send_transaction(tx, TxOpts(preflight_commitment=Confirmed))).value
            got = (await c.get_transaction(sig, max_supported_transaction_version=0)).value
            assert got is not None and got.transaction.meta is not None
            post = {
                (str(b.owner), b.ui_token_amount.amount)
                for b in got.transaction.meta.post_token_balances or []
            }
            assert (str(bob.pubkey()), str(2 * SOL)) in post
            assert (str(kp.pubkey()), str(3 * SOL)) in post
            assert rpc.token_balance(bob.pubkey(), mint22) == 2 * SOL

    _run(go())


def test_dropped_held_and_expired_transactions(rpc: SolanaRpcStandin) -> None:
    kp, bob = Keypair(), Keypair()
    rpc.airdrop(kp.pubkey(), 2 * SOL)

    async def go() -> None:
        async with AsyncClient(rpc.url) as c:
            bh = (await c.get_latest_blockhash()).value
            tx = _transfer_tx(kp, bob.pubkey(), 10**7, bh.blockhash)
            rpc.faults.drop_sends = 1
            opts = TxOpts(skip_preflight=True, max_retries=0)
            sig = (await c.send_raw_transaction(bytes(tx), opts)).value
            assert (await c.get_signature_statuses([sig])).value[0] is None
            assert rpc.faults.dropped == 1
            # a rebroadcast of the identical bytes lands
            await c.send_raw_transaction(bytes(tx), opts)
            assert (await c.get_signature_statuses([sig])).value[0] is not None
            # held: lands after 3 blocks
            rpc.faults.hold_blocks = 3
            tx2 = _transfer_tx(kp, bob.pubkey(), 2 * 10**7, bh.blockhash)
            sig2 = (await c.send_raw_transaction(bytes(tx2), opts)).value
            rpc.advance(2)
            assert (await c.get_signature_statuses([sig2])).value[0] is None
            rpc.advance(1)
            assert (await c.get_signature_statuses([sig2])).value[0] is not None
            rpc.faults.hold_blocks = 0
            # expired blockhash: preflight rejects, skip-preflight silently never lands
            rpc.advance(25)
            tx3 = _transfer_tx(kp, bob.pubkey(), 3 * 10**7, bh.blockhash)
            with pytest.raises(RPCException, match="BlockhashNotFound"):
                await c.send_raw_transaction(bytes(tx3))
            sig3 = (await c.send_raw_transaction(bytes(tx3), opts)).value
            assert (await c.get_signature_statuses([sig3])).value[0] is None
            assert rpc.balance(bob.pubkey()) == 3 * 10**7

    _run(go())


def test_forced_failure_lands_and_charges_only_the_fee(rpc: SolanaRpcStandin) -> None:
    kp, bob = Keypair(), Keypair()
    rpc.airdrop(kp.pubkey(), SOL)

    async def go() -> None:
        async with AsyncClient(rpc.url) as c:
            bh = (await c.get_latest_blockhash()).value.blockhash
            tx = _transfer_tx(kp, bob.pubkey(), 10**7, bh)
            rpc.faults.fail_next.append(custom_error(2, 6001))
            sig = (await c.send_raw_transaction(bytes(tx), TxOpts(skip_preflight=True))).value
            st = (await c.get_signature_statuses([sig])).value[0]
            assert st is not None and "6001" in str(st.err)
            assert rpc.balance(bob.pubkey()) == 0
            assert rpc.balance(kp.pubkey()) == SOL - 6000
            # a hook fails simulation (preflight) too
            rpc.faults.fail_hooks.append(lambda t: custom_error(2, 6001))
            tx2 = _transfer_tx(kp, bob.pubkey(), 2 * 10**7, bh)
            with pytest.raises(RPCException) as err:
                await c.send_raw_transaction(bytes(tx2))
            assert "6001" in str(err.value)

    _run(go())


def test_rate_limit_and_ambiguous_send(rpc: SolanaRpcStandin) -> None:
    kp, bob = Keypair(), Keypair()
    rpc.airdrop(kp.pubkey(), SOL)

    async def go() -> None:
        async with AsyncClient(rpc.url, max_transport_retries=0) as c:
            rpc.faults.rate_limit_every = 2
            rpc.faults.calls = 0
            await c.get_slot()
            with pytest.raises(SolanaRpcException) as err:
                await c.get_slot()
            cause = err.value.__cause__
            assert isinstance(cause, httpx2.HTTPStatusError) and cause.response.status_code == 429
            assert cause.response.headers["retry-after"] == "0"
            assert "Too many requests" in cause.response.text
            rpc.faults.rate_limit_every = 0
            bh = (await c.get_latest_blockhash()).value.blockhash
            tx = _transfer_tx(kp, bob.pubkey(), 10**7, bh)
            rpc.faults.ambiguous_sends = 1
            with pytest.raises(SolanaRpcException):
                await c.send_raw_transaction(bytes(tx), TxOpts(skip_preflight=True))
            # processed although the reply was lost
            st = (await c.get_signature_statuses([tx.signatures[0]])).value[0]
            assert st is not None and st.err is None
            assert rpc.status(tx.signatures[0]) is not None
            assert rpc.balance(bob.pubkey()) == 10**7

    _run(go())


def test_wsol_wrap_and_native_mint(rpc: SolanaRpcStandin) -> None:
    kp = Keypair()
    rpc.airdrop(kp.pubkey(), 2 * SOL)
    wsol = spl_ix.get_associated_token_address(kp.pubkey(), NATIVE_MINT)
    ixs = [
        spl_ix.create_idempotent_associated_token_account(kp.pubkey(), kp.pubkey(), NATIVE_MINT),
        transfer(TransferParams(from_pubkey=kp.pubkey(), to_pubkey=wsol, lamports=SOL)),
        spl_ix.sync_native(spl_models.SyncNativeParams(program_id=TOKEN_PROGRAM_ID, account=wsol)),
    ]
    tx = VersionedTransaction(
        MessageV0.try_compile(kp.pubkey(), ixs, [], rpc.latest_blockhash), [kp]
    )
    assert rpc.land(tx) is None
    assert rpc.token_balance(kp.pubkey(), NATIVE_MINT) == SOL
    assert rpc.land(tx) == TransactionErrorFieldless.AlreadyProcessed
