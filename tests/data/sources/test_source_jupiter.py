from __future__ import annotations

import time
from pathlib import Path

import pytest
from wire import Handler, Reply, Request, WireServer

from tradewind.data.sources.base import PriceQuote, PriceSource, RateLimited, SourceError
from tradewind.data.sources.jupiter_price import DEFAULT_BASE_URL, JupiterPriceSource
from tradewind.data.sources.tokens import (
    BUILTIN_ALIASES,
    BUILTIN_TOKENS,
    SOL_MINT,
    USDC_MINT,
    TokenRegistry,
)

KEY = "jup-KEY-4d2e9a71c0b35f86"  # distinctive: must never show up in errors or reprs
PATH = "/price/v3"
USER_MINT = "7GCihgDB8fe6KNjn2MYtkzZcRjQy3t9GHdC8uHYmW2hr"
UNPRICED = "9n4nbM75f5Ui33ZbPYXn59EwSgE8CGsHtAeTH5YFeJ9E"

PRICES: dict[str, dict[str, object]] = {
    SOL_MINT: {
        "createdAt": "2024-06-05T08:55:25.527Z",
        "liquidity": 621679197.67,
        "usdPrice": 147.48,
        "blockId": 348004023,
        "decimals": 9,
        "priceChange24h": 1.29,
    },
    USDC_MINT: {
        "createdAt": "2024-06-05T08:55:25.527Z",
        "liquidity": 522175174.66,
        "usdPrice": 0.9999,
        "blockId": 348004025,
        "decimals": 6,
        "priceChange24h": -0.003,
    },
    USER_MINT: {"usdPrice": 0.42, "blockId": 348004030, "decimals": 9, "priceChange24h": 5.0},
}


def jupiter(prices: dict[str, dict[str, object]]) -> Handler:
    """The documented behaviour: an object keyed by the mints it can price, others omitted."""

    def handler(req: Request) -> Reply:
        ids = (req.arg("ids") or "").split(",")
        return Reply(200, {m: prices[m] for m in ids if m in prices})

    return handler


def source(wire: WireServer, no_sleep: list[float], **kw: object) -> JupiterPriceSource:
    kw.setdefault("rate_per_sec", 1000.0)
    return JupiterPriceSource(wire.url, KEY, sleep=no_sleep.append, **kw)  # type: ignore[arg-type]


def test_success_maps_prices_and_request(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(PATH, jupiter(PRICES))
    src = source(wire, no_sleep)
    assert isinstance(src, PriceSource)
    quotes = src.latest_prices([SOL_MINT, USDC_MINT])

    assert set(quotes) == {SOL_MINT, USDC_MINT}
    sol = quotes[SOL_MINT]
    assert isinstance(sol, PriceQuote)
    assert sol.id == SOL_MINT
    assert sol.price == 147.48
    assert sol.ts_ns is None  # Jupiter gives no publish time
    assert sol.confidence is None
    assert sol.extra["symbol"] == "SOL"
    assert sol.extra["blockId"] == 348004023
    assert sol.extra["decimals"] == 9
    assert sol.extra["priceChange24h"] == 1.29
    assert "usdPrice" not in sol.extra
    assert quotes[USDC_MINT].price == 0.9999
    assert quotes[USDC_MINT].extra["symbol"] == "USDC"

    (req,) = wire.hits(PATH)
    assert req.method == "GET"
    assert req.arg("ids") == f"{SOL_MINT},{USDC_MINT}"
    assert req.headers["x-api-key"] == KEY


def test_tokens_it_cannot_price_are_left_out(wire: WireServer, no_sleep: list[float]) -> None:
    # USDC absent and UNPRICED null: both mean "no reliable price"
    wire.route(PATH, lambda req: Reply(200, {SOL_MINT: PRICES[SOL_MINT], UNPRICED: None}))
    quotes = source(wire, no_sleep).latest_prices([SOL_MINT, UNPRICED, USDC_MINT])
    assert list(quotes) == [SOL_MINT]


def test_unregistered_mint_has_no_symbol_until_registered(
    wire: WireServer, no_sleep: list[float]
) -> None:
    wire.route(PATH, jupiter(PRICES))
    registry = TokenRegistry(BUILTIN_TOKENS, BUILTIN_ALIASES)
    src = source(wire, no_sleep, registry=registry)
    assert "symbol" not in src.latest_prices([USER_MINT])[USER_MINT].extra
    registry.register(USER_MINT, "POPCAT", 9)
    assert src.latest_prices([USER_MINT])[USER_MINT].extra["symbol"] == "POPCAT"


def test_more_than_50_ids_are_batched(wire: WireServer, no_sleep: list[float]) -> None:
    mints = [f"Mint{i:03d}" for i in range(120)]
    prices: dict[str, dict[str, object]] = {m: {"usdPrice": float(i)} for i, m in enumerate(mints)}
    wire.route(PATH, jupiter(prices))
    quotes = source(wire, no_sleep).latest_prices([*mints, mints[0]])  # a duplicate too

    sizes = [len((r.arg("ids") or "").split(",")) for r in wire.hits(PATH)]
    assert sizes == [50, 50, 20]
    assert list(quotes) == mints
    assert quotes[mints[77]].price == 77.0


def test_keyless_sends_no_key_and_uses_the_keyless_rate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, wire: WireServer, no_sleep: list[float]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("TRADEWIND_JUPITER_API_KEY", raising=False)
    wire.route(PATH, jupiter(PRICES))
    src = JupiterPriceSource(wire.url, sleep=no_sleep.append)
    assert src.latest_prices([SOL_MINT])[SOL_MINT].price == 147.48
    assert "x-api-key" not in wire.hits(PATH)[0].headers
    assert src._http.bucket.rate == 0.5  # keyless tier: 0.5 rps
    assert source(wire, no_sleep, rate_per_sec=None)._http.bucket.rate == 1.0  # free tier
    assert DEFAULT_BASE_URL in repr(JupiterPriceSource())


def test_key_is_read_from_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, wire: WireServer, no_sleep: list[float]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADEWIND_JUPITER_API_KEY", KEY)
    wire.route(PATH, jupiter(PRICES))
    src = JupiterPriceSource(wire.url, sleep=no_sleep.append, rate_per_sec=1000.0)
    src.latest_prices([SOL_MINT])
    assert wire.hits(PATH)[0].headers["x-api-key"] == KEY
    assert KEY not in repr(src)
    assert "***" in repr(src)


def test_error_body_becomes_source_error_without_the_key(
    wire: WireServer, no_sleep: list[float]
) -> None:
    wire.route(PATH, lambda req: Reply(400, {"error": f"Invalid ids: bogus (key {KEY})"}))
    with pytest.raises(SourceError) as err:
        source(wire, no_sleep).latest_prices(["bogus"])
    text = str(err.value)
    assert text.startswith("jupiter:")
    assert "Invalid ids" in text
    assert "bogus" in text
    assert KEY not in text


def test_unauthorized_is_a_source_error_without_the_key(
    wire: WireServer, no_sleep: list[float]
) -> None:
    wire.route(PATH, lambda req: Reply(401, {"message": "Unauthorized"}))
    with pytest.raises(SourceError, match=r"401.*Unauthorized") as err:
        source(wire, no_sleep).latest_prices([SOL_MINT])
    assert KEY not in str(err.value)


def test_429_waits_until_x_ratelimit_reset(wire: WireServer, no_sleep: list[float]) -> None:
    reset = int(time.time()) + 7
    limited = Reply(
        429,
        {"message": "Rate limit exceeded"},
        {
            "x-ratelimit-remaining": "0",
            "x-ratelimit-current": "31",
            "x-ratelimit-reset": str(reset),
        },
    )
    wire.sequence(PATH, [limited], then=jupiter(PRICES))
    quotes = source(wire, no_sleep).latest_prices([SOL_MINT])
    assert quotes[SOL_MINT].price == 147.48
    assert len(wire.hits(PATH)) == 2
    (wait,) = [w for w in no_sleep if w >= 1.0]
    assert 5.0 <= wait <= 7.0  # slept until the unix-seconds reset, not a blind backoff


def test_exhausted_retries_raise_rate_limited(wire: WireServer, no_sleep: list[float]) -> None:
    reset = str(int(time.time()) + 2)
    wire.route(
        PATH,
        lambda req: Reply(
            429, {"message": "Rate limit exceeded"}, {"x-ratelimit-remaining": "0",
                                                      "x-ratelimit-reset": reset}
        ),
    )  # fmt: skip
    with pytest.raises(RateLimited) as err:
        source(wire, no_sleep, max_retries=2).latest_prices([SOL_MINT])
    assert "Rate limit exceeded" in str(err.value)
    assert SOL_MINT in str(err.value)
    assert KEY not in str(err.value)
    assert len(wire.hits(PATH)) == 3
