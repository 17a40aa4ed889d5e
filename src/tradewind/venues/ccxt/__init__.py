"""Centralized exchanges through ccxt (async REST): ``CcxtVenue`` implements ``VenueClient``."""

from tradewind.venues.ccxt.client import API_KEY_ENV, SECRET_ENV, CcxtVenue

__all__ = ["API_KEY_ENV", "SECRET_ENV", "CcxtVenue"]
