"""Partial signing, compute budget from simulation, 429 backoff, and secrets never leaking."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest
from solana_fixtures import Reports, World, run
from solders.keypair import Keypair
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from tradewind.errors import ConfigError, InsufficientFunds, VenueError, VenueRateLimited
from tradewind.model.enums import OrderSide, OrderStatus
from tradewind.model.order import Order
from tradewind.testing.solana_rpc import COMPUTE_BUDGET_ID, NATIVE_MINT, USDC_MINT
from tradewind.venues.solana.jupiter import JupiterClient
from tradewind.venues.solana.signing import fully_signed, sign_own_slot
from tradewind.venues.solana.wallet import Wallet


def test_sign_only_own_slot_and_refuse_foreign_transactions(world: World) -> None:
    async def go() -> None:
        jup = JupiterClient(world.jup.url)
        try:
            me = Wallet(world.kp)
            o = await jup.order(str(USDC_MINT), str(NATIVE_MINT), 10_000_000, str(me.pubkey))
            tx = VersionedTransaction.from_bytes(base64.b64decode(o["transaction"]))
            assert tx.message.header.num_required_signatures == 2
            assert tx.verify_with_results() == [False, True]  # the pool pre-signed its slot
            signed = sign_own_slot(tx, me)
            assert fully_signed(signed) and signed.signatures[1] == tx.signatures[1]
            with pytest.raises(VenueError, match="not a required signer"):
                sign_own_slot(tx, Wallet(Keypair()))
            # Jupiter refuses a modified message and a half-signed transaction
            r = await jup.execute(base64.b64encode(bytes(tx)).decode(), o["requestId"])
            assert r["code"] == -1003
            r = await jup.execute(base64.b64encode(bytes(signed)).decode(), "no-such-order")
            assert r["code"] == -1
            r = await jup.execute(base64.b64encode(bytes(signed)).decode(), o["requestId"])
            assert r["code"] == 0 and r["status"] == "Success"
            # /order errorCode 1 when the taker cannot pay
            poor = await jup.order(str(USDC_MINT), str(NATIVE_MINT), 10**15, str(me.pubkey))
            assert poor["transaction"] == "" and poor["errorCode"] == 1
        finally:
            await jup.close()

    run(go())


def test_build_path_sets_cu_limit_from_simulation_times_1_2(world: World) -> None:
    world.rpc.faults.priority_fees = [1_000, 3_000, 2_000]
    venue, reports = world.venue("build"), Reports()

    async def go() -> None:
        await venue.connect(reports)
        try:
            ack = await venue.submit(Order("SOL/USDC", OrderSide.BUY, 0.2))
            assert ack.status is OrderStatus.FILLED
            landed = world.rpc.status(Signature.from_string(ack.venue_order_id))
            assert landed is not None and landed.tx is not None and landed.meta is not None
            msg = landed.tx.message
            budget = {
                bytes(ix.data)[0]: bytes(ix.data)
                for ix in msg.instructions
                if msg.account_keys[ix.program_id_index] == COMPUTE_BUDGET_ID
            }
            limit = int.from_bytes(budget[2][1:5], "little")
            price = int.from_bytes(budget[3][1:9], "little")
            used = landed.meta.compute_units_consumed
            assert used and limit == int(used * 1.2)
            assert price == 2_000  # median of the recent prioritization fees
            assert landed.meta.fee == 5000 + -(-limit * price // 1_000_000)
        finally:
            await venue.close()

    run(go())


def test_jupiter_429_backoff_then_success_and_give_up(world: World) -> None:
    world.jup.faults.rate_limit_next = 2
    world.jup.faults.reset_in = 0

    async def go() -> None:
        jup = JupiterClient(world.jup.url, max_retries=3)
        try:
            q = await jup.quote(str(NATIVE_MINT), str(USDC_MINT), 10**9, 50)
            assert int(q["outAmount"]) > 0 and jup.rate_limited == 2
            world.jup.faults.rate_limit_next = 10
            with pytest.raises(VenueRateLimited, match="429") as err:
                await jup.prices([str(NATIVE_MINT)])
            assert err.value.retry_after is not None
            world.jup.faults.rate_limit_next = 0
            px = await jup.prices([str(NATIVE_MINT), str(USDC_MINT)])
            assert px[str(USDC_MINT)] == 1.0 and 140 < px[str(NATIVE_MINT)] < 160
        finally:
            await jup.close()

    run(go())


def test_keypair_never_in_logs_errors_or_reprs(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_b58 = str(world.kp)
    secret_json = json.dumps(list(bytes(world.kp)))
    path = tmp_path / "id.json"
    path.write_text(secret_json)
    assert Wallet.from_file(path).pubkey == world.kp.pubkey()
    monkeypatch.setenv("TW_KP", secret_b58)
    assert Wallet.from_env("TW_KP").pubkey == world.kp.pubkey()
    monkeypatch.setenv("TW_KP", str(path))
    assert Wallet.from_env("TW_KP").pubkey == world.kp.pubkey()
    texts: list[str] = []
    bad = secret_b58[:-3] + "!!!"
    for text in (bad, secret_json[:-5] + "]"):
        with pytest.raises(ConfigError) as err:
            Wallet.from_secret(text)
        texts.append(str(err.value))
    caplog.set_level(logging.DEBUG)
    venue, reports = world.venue("swap", jupiter_api_key="jup-secret-key"), Reports()

    async def go() -> None:
        await venue.connect(reports)
        try:
            await venue.submit(Order("SOL/USDC", OrderSide.SELL, 0.5))
            with pytest.raises(InsufficientFunds) as err:
                await venue.submit(Order("SOL/USDC", OrderSide.SELL, 500.0))
            texts.append(str(err.value))
            texts.extend(
                [
                    repr(venue),
                    repr(venue.wallet),
                    str(venue.wallet),
                    repr(venue.config),
                    repr(venue.jup),
                ]
            )
        finally:
            await venue.close()

    run(go())
    texts.append(caplog.text)
    blob = "\n".join(texts)
    assert str(world.kp.pubkey()) in blob  # the public key is fine to show
    for secret in (secret_b58, secret_json, secret_b58[:20], "jup-secret-key"):
        assert secret not in blob
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(venue.wallet)
