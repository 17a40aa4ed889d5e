"""Settings from the environment (``TRADEWIND_*``), a ``.env`` file, or keyword arguments.

API keys are ``SecretStr``: their repr and str print ``**********``, so a settings object can be
logged or shown without leaking a key; ``.get_secret_value()`` is called only where a request is
built. Everything is optional: with no configuration Tradewind runs offline on the embedded
defaults (SQLite, the bundled demo data, the local catalog in ``./catalog``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting, with its environment variable ``TRADEWIND_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="TRADEWIND_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    catalog: Path = Path("catalog")  # where `tradewind data` keeps Parquet bars
    # the operational database (orders, fills, users, ...); PostgreSQL: postgresql://...
    database_url: str = "sqlite:///tradewind.db"

    alpaca_api_key: SecretStr | None = None
    alpaca_api_secret: SecretStr | None = None
    polygon_api_key: SecretStr | None = None
    alphavantage_api_key: SecretStr | None = None
    birdeye_api_key: SecretStr | None = None
    jupiter_api_key: SecretStr | None = None
    pyth_api_key: SecretStr | None = None


def secret(value: SecretStr | None) -> str | None:
    """The plain value of an optional secret (only where a request is built)."""
    return value.get_secret_value() if value is not None else None
