"""Venue adapters: each folder speaks one venue's protocol and implements ``VenueClient``."""
