from __future__ import annotations

from pathlib import Path

import pytest
from wire import Handler, Reply, Request, WireServer

from tradewind.data.sources.base import PriceQuote, PriceSource, RateLimited, SourceError
from tradewind.data.sources.pyth import PythHermesSource, normalise_feed_id
from tradewind.errors import ConfigError

KEY = "pyth-KEY-b81c4e07a9d2f635"  # distinctive: must never show up in errors or reprs
LATEST = "/v2/updates/price/latest"
FEEDS = "/v2/price_feeds"
SOL = "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d"
BTC = "e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43"
UNKNOWN = "00" * 32


def parsed(feed_id: str, price: str, conf: str, expo: int, publish_time: int) -> dict[str, object]:
    return {
        "id": feed_id,
        "price": {"price": price, "conf": conf, "expo": expo, "publish_time": publish_time},
        "ema_price": {
            "price": str(int(price) - 100),
            "conf": conf,
            "expo": expo,
            "publish_time": publish_time,
        },
        "metadata": {
            "slot": 85480034,
            "proof_available_time": publish_time + 1,
            "prev_publish_time": publish_time - 1,
        },
    }


FEED_DATA = {
    SOL: parsed(SOL, "6140993501", "3921043", -8, 1_700_000_000),
    BTC: parsed(BTC, "2920679499999", "509500001", -8, 1_717_632_000),
}


def hermes(feeds: dict[str, dict[str, object]]) -> Handler:
    """``ignore_invalid_price_ids=true`` behaviour: unknown ids are dropped from ``parsed``."""

    def handler(req: Request) -> Reply:
        ids = req.query.get("ids[]", [])
        found = [feeds[i] for i in ids if i in feeds]
        return Reply(200, {"binary": {"encoding": "hex", "data": ["504e4155"]}, "parsed": found})

    return handler


def source(wire: WireServer, no_sleep: list[float], **kw: object) -> PythHermesSource:
    kw.setdefault("rate_per_sec", 1000.0)
    return PythHermesSource(wire.url, KEY, sleep=no_sleep.append, **kw)  # type: ignore[arg-type]


def test_success_scales_price_and_confidence(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(LATEST, hermes(FEED_DATA))
    src = source(wire, no_sleep)
    assert isinstance(src, PriceSource)
    quotes = src.latest_prices([SOL, BTC])

    sol = quotes[SOL]
    assert isinstance(sol, PriceQuote)
    assert sol.id == SOL
    assert sol.price == 61.40993501
    assert sol.confidence == 0.03921043
    assert sol.ts_ns == 1_700_000_000 * 1_000_000_000
    assert sol.extra["expo"] == -8
    assert sol.extra["publish_time"] == 1_700_000_000
    assert sol.extra["ema_price"] == 61.40993401
    assert sol.extra["slot"] == 85480034
    assert quotes[BTC].price == 29206.79499999

    (req,) = wire.hits(LATEST)
    assert req.query["ids[]"] == [SOL, BTC]
    assert req.arg("parsed") == "true"
    assert req.arg("ignore_invalid_price_ids") == "true"
    assert req.headers["authorization"] == f"Bearer {KEY}"


def test_ids_are_normalised_and_results_keyed_as_requested(
    wire: WireServer, no_sleep: list[float]
) -> None:
    wire.route(LATEST, hermes(FEED_DATA))
    spelled = "0x" + SOL.upper()
    quotes = source(wire, no_sleep).latest_prices([spelled, SOL])
    assert set(quotes) == {spelled, SOL}
    assert quotes[spelled] is quotes[SOL]
    assert quotes[spelled].id == SOL
    assert wire.hits(LATEST)[0].query["ids[]"] == [SOL]  # sent once, bare lower-case hex


def test_unknown_feeds_are_left_out(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(LATEST, hermes(FEED_DATA))
    quotes = source(wire, no_sleep).latest_prices([UNKNOWN, BTC])
    assert list(quotes) == [BTC]


def test_more_than_50_ids_are_batched(wire: WireServer, no_sleep: list[float]) -> None:
    ids = [f"{i:064x}" for i in range(1, 121)]
    feeds = {i: parsed(i, str(n * 100), "1", -2, 1_700_000_000) for n, i in enumerate(ids)}
    wire.route(LATEST, hermes(feeds))
    quotes = source(wire, no_sleep).latest_prices(ids)
    assert [len(r.query["ids[]"]) for r in wire.hits(LATEST)] == [50, 50, 20]
    assert len(quotes) == 120
    assert quotes[ids[7]].price == 7.0


@pytest.mark.parametrize("bad", ["SOL/USD", "0x1234", "zz" * 32, ""])
def test_malformed_feed_id_is_a_config_error(
    wire: WireServer, no_sleep: list[float], bad: str
) -> None:
    with pytest.raises(ConfigError, match="not a Pyth price feed id"):
        source(wire, no_sleep).latest_prices([SOL, bad])
    assert wire.requests == []


def test_normalise_feed_id() -> None:
    assert normalise_feed_id(" 0x" + BTC.upper()) == BTC
    assert normalise_feed_id(BTC) == BTC


def test_feed_ids_search(wire: WireServer, no_sleep: list[float]) -> None:
    feeds = [
        {
            "id": SOL,
            "attributes": {
                "asset_type": "Crypto",
                "base": "SOL",
                "description": "SOLANA / US DOLLAR",
                "generic_symbol": "SOLUSD",
                "quote_currency": "USD",
                "symbol": "Crypto.SOL/USD",
            },
        },
        {"id": "0x" + BTC, "attributes": {"symbol": "Crypto.SOL/BTC"}},
    ]
    wire.route(FEEDS, lambda req: Reply(200, feeds))
    found = source(wire, no_sleep).feed_ids("SOL")
    assert found == {"Crypto.SOL/USD": SOL, "Crypto.SOL/BTC": BTC}
    (req,) = wire.hits(FEEDS)
    assert req.arg("query") == "SOL"
    assert req.arg("asset_type") == "crypto"


def test_keyless_sends_no_authorization(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, wire: WireServer, no_sleep: list[float]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("TRADEWIND_PYTH_API_KEY", raising=False)
    wire.route(LATEST, hermes(FEED_DATA))
    src = PythHermesSource(wire.url, sleep=no_sleep.append, rate_per_sec=1000.0)
    assert src.latest_prices([SOL])[SOL].price == 61.40993501
    assert "authorization" not in wire.hits(LATEST)[0].headers
    assert "api_key=None" in repr(src)


def test_key_is_read_from_settings_and_hidden(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, wire: WireServer, no_sleep: list[float]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADEWIND_PYTH_API_KEY", KEY)
    wire.route(LATEST, hermes(FEED_DATA))
    src = PythHermesSource(wire.url, sleep=no_sleep.append, rate_per_sec=1000.0)
    src.latest_prices([SOL])
    assert wire.hits(LATEST)[0].headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in repr(src)


def test_plain_text_error_becomes_source_error_without_the_key(
    wire: WireServer, no_sleep: list[float]
) -> None:
    wire.route(LATEST, lambda req: Reply(404, f"Price ids not found: {UNKNOWN} (token {KEY})"))
    with pytest.raises(SourceError) as err:
        source(wire, no_sleep).latest_prices([UNKNOWN])
    text = str(err.value)
    assert text.startswith("pyth:")
    assert "Price ids not found" in text
    assert UNKNOWN in text
    assert "404" in text
    assert KEY not in text


def test_unexpected_shape_is_a_source_error(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(LATEST, lambda req: Reply(200, {"binary": {}}))
    with pytest.raises(SourceError, match="parsed"):
        source(wire, no_sleep).latest_prices([SOL])


def test_429_waits_out_the_penalty_then_succeeds(wire: WireServer, no_sleep: list[float]) -> None:
    wire.sequence(
        LATEST,
        [Reply(429, "Too Many Requests"), Reply(429, "Too Many Requests", {"Retry-After": "60"})],
        then=hermes(FEED_DATA),
    )
    quotes = source(wire, no_sleep).latest_prices([SOL])
    assert quotes[SOL].price == 61.40993501
    waits = [w for w in no_sleep if w >= 1.0]
    assert 30.0 <= waits[0] <= 60.0  # no header: sized for the 60 s penalty
    assert waits[1] == 60.0  # Retry-After honoured
    assert len(wire.hits(LATEST)) == 3


def test_exhausted_retries_raise_rate_limited(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(LATEST, lambda req: Reply(429, "Too Many Requests"))
    with pytest.raises(RateLimited) as err:
        source(wire, no_sleep, max_retries=1).latest_prices([SOL])
    assert "Too Many Requests" in str(err.value)
    assert KEY not in str(err.value)
    assert len(wire.hits(LATEST)) == 2
