"""Settings of the HTTP API (``TRADEWIND_API_*`` environment variables or keyword arguments).

``jwt_secret`` signs access and refresh tokens. Left unset, a random secret is drawn once per
process: everything works, but tokens issued before a restart are refused after it (users log
in again; API keys are unaffected). Set it (at least 32 characters) to keep sessions across
restarts or to share them between several API processes.
"""

from __future__ import annotations

import secrets

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tradewind.errors import ConfigError

MIN_SECRET_LEN = 32  # bytes of an HS256 key (RFC 7518 section 3.2)

_PROCESS_SECRET = secrets.token_urlsafe(48)


class ApiSettings(BaseSettings):
    """Every API setting, with its environment variable ``TRADEWIND_API_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="TRADEWIND_API_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    jwt_secret: SecretStr | None = None  # None: random per process (tokens die with it)
    access_ttl_s: int = 900
    refresh_ttl_s: int = 7 * 86400
    cors_origins: list[str] = []  # browser origins allowed to call the API; [] = no CORS
    # token bucket per credential (or per client IP when anonymous); 0 = no limit. The bucket
    # holds a minute's worth of requests and refills continuously.
    rate_limit_per_minute: int = 6000
    admin_user: str | None = None  # the first admin, created on first start with no users
    admin_password: SecretStr | None = None
    # how long a verified user / API key is trusted without reading the database again: a
    # revocation made by another process takes effect within this many seconds
    auth_cache_ttl_s: float = 5.0
    max_body_bytes: int = 1 << 20  # larger request bodies get 413; 0 = no limit

    @field_validator("jwt_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_LEN:
            raise ConfigError(
                f"TRADEWIND_API_JWT_SECRET is {len(value.get_secret_value().encode())} bytes "
                f"long; at least {MIN_SECRET_LEN} are needed (e.g. `openssl rand -hex 32`)"
            )
        return value

    @field_validator("access_ttl_s", "refresh_ttl_s")
    @classmethod
    def _positive_ttl(cls, value: int) -> int:
        if value <= 0:
            raise ConfigError(f"token lifetime must be a positive number of seconds, got {value}")
        return value

    @field_validator("rate_limit_per_minute", "max_body_bytes")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ConfigError(f"API limit must be >= 0, got {value}")
        return value

    @field_validator("auth_cache_ttl_s")
    @classmethod
    def _cache_ttl(cls, value: float) -> float:
        if not 0 <= value <= 300:
            raise ConfigError(f"auth_cache_ttl_s must be within [0, 300] seconds, got {value}")
        return value

    def signing_key(self) -> str:
        """The HS256 key: the configured secret, else this process's random one."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        return _PROCESS_SECRET
