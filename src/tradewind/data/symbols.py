"""One symbol scheme: ``venue:SYMBOL`` plus a timeframe, e.g. ``binance:BTC/USDT:1m``.

Crypto pairs are ``BASE/QUOTE`` whatever the provider's spelling (``BTCUSDT``, ``BTC-USDT``,
``BTC_USDT``); equities are the plain ticker (``us:AAPL``); Solana tokens use the symbol the
token registry gives their mint. A catalog key is ``venue:SYMBOL:TIMEFRAME``; the symbol is the
middle part, so it may itself contain ``/`` (never ``:``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tradewind.errors import ConfigError

# quote currencies recognised when splitting a concatenated pair (longest first)
QUOTES = (
    "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "DAI", "USD", "EUR", "GBP", "TRY", "BRL",
    "JPY", "BTC", "ETH", "BNB", "SOL",
)  # fmt: skip
_VENUE_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_SYMBOL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/^=-]*")
_CRYPTO_VENUES = {
    "binance", "bybit", "okx", "coinbase", "kraken", "kucoin", "bitget", "gate", "mexc",
    "bitfinex", "bitstamp", "gemini", "hyperliquid", "ccxt", "crypto", "solana", "jupiter",
    "geckoterminal", "birdeye", "pyth",
}  # fmt: skip


@dataclass(frozen=True, order=True)
class SeriesKey:
    """One bar series in the catalog."""

    venue: str
    symbol: str
    timeframe: str

    def __post_init__(self) -> None:
        """Every key is checked and spelled one way (lower-case venue), however it was built."""
        from tradewind.data.loader import timeframe_to_ns

        timeframe_to_ns(self.timeframe)
        object.__setattr__(self, "venue", check_venue(self.venue))
        object.__setattr__(self, "symbol", check_symbol(self.symbol))

    def __str__(self) -> str:
        return f"{self.venue}:{self.symbol}:{self.timeframe}"

    @classmethod
    def parse(cls, text: str) -> SeriesKey:
        """``"binance:BTC/USDT:1m"`` -> SeriesKey; a clear error names what is wrong."""
        parts = text.split(":")
        if len(parts) != 3 or not all(parts):
            raise ConfigError(
                f"catalog key {text!r} is not valid (expected venue:SYMBOL:timeframe, "
                "e.g. binance:BTC/USDT:1m or us:AAPL:1d)"
            )
        return cls(parts[0], parts[1], parts[2])


def check_venue(venue: str) -> str:
    v = venue.strip().lower()
    if not _VENUE_RE.fullmatch(v):
        raise ConfigError(
            f"venue {venue!r} is not valid (lower-case letters, digits, '_', '-', '.')"
        )
    return v


def check_symbol(symbol: str) -> str:
    s = symbol.strip()
    if not _SYMBOL_RE.fullmatch(s):
        raise ConfigError(
            f"symbol {symbol!r} is not valid (letters, digits and . _ / ^ = -; no ':' or spaces)"
        )
    return s


def is_crypto_venue(venue: str) -> bool:
    return venue.lower() in _CRYPTO_VENUES


def normalize_symbol(raw: str, venue: str) -> str:
    """The provider's spelling -> our scheme: pairs as ``BASE/QUOTE`` on crypto venues.

    ``BTCUSDT``/``BTC-USDT``/``BTC_USDT``/``btc/usdt`` on a crypto venue -> ``BTC/USDT``; on
    other venues the ticker is kept (upper-cased), since ``BRK-B`` is a ticker, not a pair.
    """
    s = check_symbol(raw)
    if not is_crypto_venue(venue):
        return s.upper()
    up = s.upper()
    for sep in ("/", "-", "_"):
        if sep in up:
            base, _, quote = up.partition(sep)
            if base and quote and sep not in quote:
                return f"{base}/{quote}"
    for quote in QUOTES:
        if up.endswith(quote) and len(up) > len(quote):
            return f"{up[: -len(quote)]}/{quote}"
    return up
