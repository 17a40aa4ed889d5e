"""Well-known Solana SPL mints: symbol and decimals, plus tokens the user registers.

Solana identifies a token only by its mint address; symbols are not unique on-chain (anyone can
mint a token called "USDC"), so this registry is the one place a symbol is trusted: a built-in
list of major mints, checked against several independent public token lists, and whatever the
user adds with ``register``. Unknown mints and symbols raise ``ConfigError`` naming them.

Built-ins (mint, decimals): SOL/wSOL ``So111…112`` 9, USDC ``EPjF…t1v`` 6, USDT ``Es9v…NYB`` 6,
JUP ``JUPy…vCN`` 6, BONK ``DezX…263`` 5, WIF ``EKpQ…cjm`` 6, JTO ``jtoj…mCL`` 9,
PYTH ``HZ1J…Ct3`` 6, RAY ``4k3D…X6R`` 6. ``WSOL`` is an alias of ``SOL`` (same mint).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tradewind.errors import ConfigError

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

SOL_MINT = "So11111111111111111111111111111111111111112"  # the wrapped-SOL (native) mint
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
USDT_MINT = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"


@dataclass(frozen=True)
class Token:
    mint: str
    symbol: str
    decimals: int


BUILTIN_TOKENS: tuple[Token, ...] = (
    Token(SOL_MINT, "SOL", 9),
    Token(USDC_MINT, "USDC", 6),
    Token(USDT_MINT, "USDT", 6),
    Token("JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN", "JUP", 6),
    Token("DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263", "BONK", 5),
    Token("EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm", "WIF", 6),
    Token("jtojtomepa8beP8AuQc6eXt5FriJwfFMwQx2v2f9mCL", "JTO", 9),
    Token("HZ1JovNiVvGrGNiiYvEozEVgZ58xaU3RKwX8eACQBCt3", "PYTH", 6),
    Token("4k3Dyjzvzp8eMZWUXbBCjEvwSkkk59S5iCNLY3QrkX6R", "RAY", 6),
)
BUILTIN_ALIASES: Mapping[str, str] = {"WSOL": SOL_MINT}


def is_mint_address(text: str) -> bool:
    """Whether ``text`` is a base58 string that decodes to 32 bytes (a Solana public key)."""
    if not isinstance(text, str) or not 32 <= len(text) <= 44:
        return False
    if any(ch not in _BASE58 for ch in text):
        return False
    number = 0
    for ch in text:
        number = number * 58 + _BASE58.index(ch)
    leading_zero_bytes = len(text) - len(text.lstrip("1"))
    return leading_zero_bytes + (number.bit_length() + 7) // 8 == 32


class TokenRegistry:
    """Mint <-> symbol <-> decimals. Symbols are matched case-insensitively and are unique."""

    def __init__(
        self, tokens: Iterable[Token] = (), aliases: Mapping[str, str] | None = None
    ) -> None:
        self._by_mint: dict[str, Token] = {}
        self._by_symbol: dict[str, str] = {}  # casefolded symbol -> mint
        for token in tokens:
            self.register(token.mint, token.symbol, token.decimals)
        for alias, mint in (aliases or {}).items():
            self._bind_symbol(alias, mint)

    def register(self, mint: str, symbol: str, decimals: int) -> Token:
        """Add a token. Re-registering the same mint with the same values is a no-op; a mint or
        symbol already bound to something else raises ``ConfigError``."""
        if not is_mint_address(mint):
            raise ConfigError(f"{mint!r} is not a Solana mint address (base58, 32 bytes)")
        if not isinstance(symbol, str) or not symbol.strip() or symbol != symbol.strip():
            raise ConfigError(f"token symbol {symbol!r} for mint {mint} must be non-empty text")
        if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 255:
            raise ConfigError(
                f"decimals {decimals!r} for mint {mint} must be an integer from 0 to 255"
            )
        token = Token(mint, symbol, decimals)
        existing = self._by_mint.get(mint)
        if existing is not None:
            if existing == token:
                return existing
            raise ConfigError(
                f"mint {mint} is already registered as {existing.symbol} "
                f"(decimals {existing.decimals})"
            )
        self._bind_symbol(symbol, mint)
        self._by_mint[mint] = token
        return token

    def _bind_symbol(self, symbol: str, mint: str) -> None:
        key = symbol.casefold()
        bound = self._by_symbol.get(key)
        if bound is not None and bound != mint:
            raise ConfigError(f"symbol {symbol!r} is already registered for mint {bound}")
        self._by_symbol[key] = mint

    def find(self, mint: str) -> Token | None:
        """The token for ``mint``, or None when it is not registered."""
        return self._by_mint.get(mint)

    def symbol_for(self, mint: str) -> str:
        return self._require(mint).symbol

    def decimals(self, mint: str) -> int:
        return self._require(mint).decimals

    def mint_for(self, symbol: str) -> str:
        mint = self._by_symbol.get(symbol.casefold()) if isinstance(symbol, str) else None
        if mint is None:
            raise ConfigError(
                f"unknown token symbol {symbol!r}: known symbols are "
                f"{', '.join(sorted(t.symbol for t in self._by_mint.values()))}; "
                "register other tokens with tokens.register(mint, symbol, decimals)"
            )
        return mint

    def _require(self, mint: str) -> Token:
        token = self._by_mint.get(mint)
        if token is None:
            raise ConfigError(
                f"unknown token mint {mint!r}: register it with "
                "tokens.register(mint, symbol, decimals)"
            )
        return token


REGISTRY = TokenRegistry(BUILTIN_TOKENS, BUILTIN_ALIASES)


def register(mint: str, symbol: str, decimals: int) -> Token:
    """Add a user token to the process-wide registry."""
    return REGISTRY.register(mint, symbol, decimals)


def find(mint: str) -> Token | None:
    return REGISTRY.find(mint)


def symbol_for(mint: str) -> str:
    return REGISTRY.symbol_for(mint)


def mint_for(symbol: str) -> str:
    return REGISTRY.mint_for(symbol)


def decimals(mint: str) -> int:
    return REGISTRY.decimals(mint)
