from __future__ import annotations

import pytest

from tradewind.data.sources import tokens
from tradewind.data.sources.tokens import (
    BUILTIN_ALIASES,
    BUILTIN_TOKENS,
    SOL_MINT,
    USDC_MINT,
    TokenRegistry,
    is_mint_address,
)
from tradewind.errors import ConfigError

USER_MINT = "7GCihgDB8fe6KNjn2MYtkzZcRjQy3t9GHdC8uHYmW2hr"  # a real 32-byte mint (POPCAT)


@pytest.fixture
def registry() -> TokenRegistry:
    return TokenRegistry(BUILTIN_TOKENS, BUILTIN_ALIASES)


def test_builtin_mints_are_valid_32_byte_addresses() -> None:
    for token in BUILTIN_TOKENS:
        assert is_mint_address(token.mint), token
    assert len({t.mint for t in BUILTIN_TOKENS}) == len(BUILTIN_TOKENS)


@pytest.mark.parametrize(
    ("symbol", "mint", "decimals"),
    [
        ("SOL", "So11111111111111111111111111111111111111112", 9),
        ("USDC", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", 6),
        ("USDT", "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", 6),
        ("JUP", "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN", 6),
        ("BONK", "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263", 5),
        ("WIF", "EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm", 6),
        ("JTO", "jtojtomepa8beP8AuQc6eXt5FriJwfFMwQx2v2f9mCL", 9),
        ("PYTH", "HZ1JovNiVvGrGNiiYvEozEVgZ58xaU3RKwX8eACQBCt3", 6),
        ("RAY", "4k3Dyjzvzp8eMZWUXbBCjEvwSkkk59S5iCNLY3QrkX6R", 6),
    ],
)
def test_module_functions_know_the_builtins(symbol: str, mint: str, decimals: int) -> None:
    assert tokens.symbol_for(mint) == symbol
    assert tokens.mint_for(symbol) == mint
    assert tokens.mint_for(symbol.lower()) == mint
    assert tokens.decimals(mint) == decimals


def test_wsol_is_an_alias_of_sol(registry: TokenRegistry) -> None:
    assert registry.mint_for("wSOL") == SOL_MINT
    assert registry.symbol_for(SOL_MINT) == "SOL"


def test_unknown_mint_and_symbol_raise_config_error_naming_them(registry: TokenRegistry) -> None:
    with pytest.raises(ConfigError, match=USER_MINT):
        registry.symbol_for(USER_MINT)
    with pytest.raises(ConfigError, match=USER_MINT):
        registry.decimals(USER_MINT)
    with pytest.raises(ConfigError, match="'POPCAT'") as err:
        registry.mint_for("POPCAT")
    assert "USDC" in str(err.value)  # lists what is known
    assert registry.find(USER_MINT) is None


def test_register_user_token(registry: TokenRegistry) -> None:
    token = registry.register(USER_MINT, "POPCAT", 9)
    assert token.symbol == "POPCAT"
    assert registry.symbol_for(USER_MINT) == "POPCAT"
    assert registry.mint_for("popcat") == USER_MINT
    assert registry.decimals(USER_MINT) == 9
    assert registry.find(USER_MINT) == token
    assert registry.register(USER_MINT, "POPCAT", 9) == token  # idempotent


def test_register_rejects_conflicts_and_bad_values(registry: TokenRegistry) -> None:
    with pytest.raises(ConfigError, match="already registered as USDC"):
        registry.register(USDC_MINT, "USDC", 9)
    with pytest.raises(ConfigError, match="'usdc' is already registered"):
        registry.register(USER_MINT, "usdc", 6)
    with pytest.raises(ConfigError, match="not a Solana mint"):
        registry.register("not-a-mint", "X", 6)
    with pytest.raises(ConfigError, match="not a Solana mint"):
        registry.register("0" * 44, "X", 6)  # '0' is not base58
    with pytest.raises(ConfigError, match="decimals"):
        registry.register(USER_MINT, "POPCAT", 256)
    with pytest.raises(ConfigError, match="symbol"):
        registry.register(USER_MINT, " ", 6)
    assert registry.find(USER_MINT) is None  # nothing half-registered


def test_module_register_updates_the_shared_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "REGISTRY", TokenRegistry(BUILTIN_TOKENS, BUILTIN_ALIASES))
    tokens.register(USER_MINT, "POPCAT", 9)
    assert tokens.symbol_for(USER_MINT) == "POPCAT"
    assert tokens.find(USER_MINT) is not None


def test_is_mint_address() -> None:
    assert is_mint_address(SOL_MINT)
    assert is_mint_address("11111111111111111111111111111111")  # the system program (all zero)
    assert not is_mint_address(SOL_MINT[:-1])  # 31 bytes
    assert not is_mint_address("I" * 40)  # 'I' is not in the base58 alphabet
    assert not is_mint_address("")
