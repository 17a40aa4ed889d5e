"""A trading node's configuration: ``NODE.yaml`` for ``tradewind run``.

Example (paper trading on replayed data; every field but ``data`` has a default)::

    id: paper-btc
    database_url: sqlite:///tradewind.db      # or postgresql://user@host/db
    data: ../shared/data/binance_BTCUSDT_5m.csv.gz
    speed: 0                                  # 0 = as fast as possible; 60 = 60x real time
    strategies:
      - id: sma
        strategy: sma_cross                   # a built-in or module:Class
        params: {fast: 10, slow: 30}
    venue: {kind: paper, commission: 0.001, slippage_bps: 1}
    cash: 10000
    on_stop: cancel                           # cancel | keep open orders on shutdown
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tradewind.errors import ConfigError

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StrategyConfig(_Model):
    """One strategy the node hosts."""

    id: str = "main"
    strategy: str = "sma_cross"
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"strategy id {v!r}: use 1-40 letters, digits, '_', '.', '-'")
        return v


class VenueConfig(_Model):
    """The venue orders go to. ``paper``: the simulated venue matching the node's own feed."""

    kind: Literal["paper"] = "paper"
    name: str = "paper"
    commission: Annotated[float, Field(ge=0, lt=1)] = 0.001
    slippage_bps: Annotated[float, Field(ge=0)] = 0.0
    fill_at_close: bool = False


class LiveVenueConfig(_Model):
    """What every real venue shares: the market traded, its bar timeframe, the warm-up."""

    name: str = ""  # how orders and fills are labelled in the store (default: the venue's)
    symbol: str  # the venue's symbol, e.g. BTC/USDT (ccxt) or SOL/USDC (Solana)
    timeframe: str = "1m"
    warmup: Annotated[int, Field(ge=0, le=100_000)] = 500  # history bars (no trading on them)
    reconcile_every: Annotated[float, Field(gt=0)] = 30.0  # seconds between venue checks


class CcxtVenueConfig(LiveVenueConfig):
    """A centralized exchange through ccxt. Keys come from environment variables (never from
    this file): ``api_key_env`` / ``secret_env`` name them."""

    kind: Literal["ccxt"]
    exchange: str = "binance"
    market: Literal["spot", "swap"] = "spot"
    api_key_env: str = "TRADEWIND_CCXT_API_KEY"
    secret_env: str = "TRADEWIND_CCXT_SECRET"
    urls: dict[str, Any] = Field(default_factory=dict)  # ccxt urls['api'] overrides (mirrors)
    poll_interval: Annotated[float, Field(gt=0)] = 2.0
    timeout: Annotated[float, Field(gt=0)] = 10.0  # seconds per request


class SolanaNodeVenueConfig(LiveVenueConfig):
    """SPL tokens swapped through Jupiter. The keypair comes from the environment variable
    ``keypair_env`` names (the secret, or a path to a solana-keygen JSON file); never logged."""

    kind: Literal["solana"]
    rpc_url: str = "https://api.mainnet-beta.solana.com"
    jupiter_url: str = "https://api.jup.ag"
    jupiter_api_key_env: str = "TRADEWIND_JUPITER_API_KEY"  # optional (keyless has low limits)
    keypair_env: str = "TRADEWIND_SOLANA_KEYPAIR"
    tokens: dict[str, str]  # symbol -> mint, e.g. {SOL: So111...112, USDC: EPjF...t1v}
    mode: Literal["execute", "swap", "build"] = "execute"
    slippage_bps: Annotated[int, Field(ge=0, le=10_000)] = 50
    sol_reserve_lamports: Annotated[int, Field(ge=0)] = 10_000_000
    max_priority_lamports: Annotated[int, Field(ge=0)] = 1_000_000
    price_poll_seconds: Annotated[float, Field(gt=0)] = 5.0
    history_pool: str | None = None  # warm-up bars: GeckoTerminal OHLCV of this pool address
    history_url: str = "https://api.geckoterminal.com"


AnyVenueConfig = Annotated[
    VenueConfig | CcxtVenueConfig | SolanaNodeVenueConfig,
    Field(discriminator="kind"),
]


class NodeConfig(_Model):
    id: str = "paper-1"
    database_url: str | None = None  # None: TRADEWIND_DATABASE_URL or sqlite:///tradewind.db
    data: Path | None = None  # None: the embedded demo dataset
    symbol: str | None = None  # which symbol of a multi-symbol file
    start: str | None = None
    end: str | None = None
    speed: Annotated[float, Field(ge=0)] = (
        0.0  # replay speed: 0 = as fast as possible, 1 = real time
    )
    strategies: list[StrategyConfig] = Field(default_factory=lambda: [StrategyConfig()])
    venue: AnyVenueConfig = Field(default_factory=VenueConfig)
    cash: Annotated[float, Field(gt=0)] = 10_000.0
    on_stop: Literal["cancel", "keep"] = "cancel"
    flatten_on_stop: bool = False
    commit_every: Annotated[int, Field(ge=1)] = 64  # bars per transaction when nothing trades

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"node id {v!r}: use 1-40 letters, digits, '_', '.', '-'")
        return v

    @field_validator("strategies")
    @classmethod
    def _unique(cls, v: list[StrategyConfig]) -> list[StrategyConfig]:
        if not v:
            raise ValueError("a node needs at least one strategy")
        ids = [s.id for s in v]
        if len(set(ids)) != len(ids):
            raise ValueError(f"strategy ids must be unique, got {ids}")
        return v


def load_node_config(path: Path) -> NodeConfig:
    """Read and validate ``NODE.yaml``; errors name the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"node config {path} not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"node config {path} is not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"node config {path}: expected a mapping at the top level")
    try:
        cfg = NodeConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"node config {path}: {problems}") from exc
    if cfg.data is not None and not cfg.data.is_absolute():
        cfg.data = (path.parent / cfg.data).resolve()
    return cfg
