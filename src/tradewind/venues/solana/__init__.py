"""The Solana venue: SPL token swaps through Jupiter, landed and reconciled on chain."""

from tradewind.venues.solana.client import SolanaVenue, SolanaVenueConfig

__all__ = ["SolanaVenue", "SolanaVenueConfig"]
