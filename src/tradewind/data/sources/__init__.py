"""Market-data sources behind one interface (``base.OhlcvSource`` / ``base.PriceSource``).

``make_source("ccxt:binance")``, ``make_source("yahoo")`` … build one from a name; each module
is imported only when used, so a source's dependencies never slow down the others.
"""

from __future__ import annotations

import importlib
from typing import Any

from tradewind.errors import ConfigError

# name -> (module, class)
_SOURCES: dict[str, tuple[str, str]] = {
    "ccxt": ("tradewind.data.sources.ccxt_source", "CcxtSource"),
    "yahoo": ("tradewind.data.sources.yahoo", "YahooSource"),
    "alpaca": ("tradewind.data.sources.alpaca", "AlpacaSource"),
    "polygon": ("tradewind.data.sources.polygon", "PolygonSource"),
    "alphavantage": ("tradewind.data.sources.alphavantage", "AlphaVantageSource"),
    "geckoterminal": ("tradewind.data.sources.geckoterminal", "GeckoTerminalSource"),
    "birdeye": ("tradewind.data.sources.birdeye", "BirdeyeSource"),
    "jupiter": ("tradewind.data.sources.jupiter_price", "JupiterPriceSource"),
    "pyth": ("tradewind.data.sources.pyth", "PythHermesSource"),
}
#: the catalog venue a source's bars are stored under by default
_VENUES = {"yahoo": "us", "alpaca": "us", "polygon": "us", "alphavantage": "us",
           "geckoterminal": "solana", "birdeye": "solana"}  # fmt: skip


def source_names() -> list[str]:
    return sorted(_SOURCES)


def make_source(spec: str, **options: Any) -> Any:
    """``"ccxt:binance"`` -> CcxtSource("binance"); ``"yahoo"`` -> YahooSource(); options are
    passed to the constructor (base_url, api_key, rate_per_sec, …)."""
    name, _, arg = spec.partition(":")
    name = name.strip().lower()
    if name not in _SOURCES:
        raise ConfigError(f"unknown source {spec!r} (known: {', '.join(source_names())})")
    module, cls = _SOURCES[name]
    factory = getattr(importlib.import_module(module), cls)
    if name == "ccxt":
        if not arg:
            raise ConfigError("the ccxt source needs an exchange: ccxt:binance, ccxt:kraken, …")
        return factory(arg, **options)
    if arg:
        raise ConfigError(f"source {name!r} takes no ':' argument, got {spec!r}")
    return factory(**options)


def venue_of(spec: str) -> str:
    """Default catalog venue for a source spec: the exchange for ccxt, else per source."""
    name, _, arg = spec.partition(":")
    name = name.strip().lower()
    if name == "ccxt" and arg:
        return arg.strip().lower()
    return _VENUES.get(name, name)
