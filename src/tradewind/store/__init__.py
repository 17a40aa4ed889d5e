"""Operational state in SQL (SQLAlchemy 2 + Alembic): SQLite by default, or PostgreSQL."""

from tradewind.store.db import DEFAULT_URL, Store, open_store, redact

__all__ = ["DEFAULT_URL", "Store", "open_store", "redact"]
