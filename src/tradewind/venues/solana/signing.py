"""Signing only our own slot of a (possibly multi-signer) v0 transaction.

Jupiter's RFQ/gasless orders and the aggregator stand-in's pools pre-sign their own slots; the
taker must fill exactly its slot and leave the others untouched. We refuse to sign a
transaction in which our wallet is not a required signer.
"""

from __future__ import annotations

from solders.message import MessageV0
from solders.transaction import VersionedTransaction

from tradewind.errors import VenueError
from tradewind.venues.solana.wallet import Wallet


def sign_own_slot(
    tx: VersionedTransaction, wallet: Wallet, *, venue: str = "solana"
) -> VersionedTransaction:
    msg = tx.message
    if not isinstance(msg, MessageV0):
        raise VenueError(f"{venue}: refusing to sign a legacy transaction (expected v0)")
    n = msg.header.num_required_signatures
    signers = list(msg.account_keys[:n])
    if wallet.pubkey not in signers:
        raise VenueError(
            f"{venue}: refusing to sign: wallet {wallet.pubkey} is not a required signer of the "
            f"transaction (signers: {', '.join(map(str, signers))})"
        )
    sigs = list(tx.signatures)
    sigs[signers.index(wallet.pubkey)] = wallet.sign(msg)
    return VersionedTransaction.populate(msg, sigs)


def fully_signed(tx: VersionedTransaction) -> bool:
    """Every required signature is present and valid."""
    return all(tx.verify_with_results())
