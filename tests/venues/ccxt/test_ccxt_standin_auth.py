"""The stand-in checks signed requests exactly as Binance documents them.

The vectors are the examples of Binance's "SIGNED endpoint examples for POST /api/v3/order"
(HMAC-SHA256 keyed with the secret over the total params: query string + request body).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import httpx
import pytest

from tradewind.errors import VenueError, VenueUnavailable
from tradewind.testing.binance_book import now_ms
from tradewind.testing.binance_standin import BinanceStandin, SymbolSpec
from tradewind.venues.ccxt import CcxtVenue

KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
TS = 1499827319559
ALL = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"
SIG_ALL = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
QUERY, BODY = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC", "quantity=1&price=0.1"
SIG_MIXED = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def docs_exchange() -> Iterator[BinanceStandin]:
    ex = BinanceStandin(
        [
            SymbolSpec(
                "LTC",
                "BTC",
                tick_size="0.000001",
                step_size="0.01",
                min_qty="0.01",
                min_notional="0.0001",
                price="0.1",
            )
        ],
        balances={"BTC": "1"},
        api_key=KEY,
        secret=SECRET,
        streams=False,
        clock_ms=lambda: TS + 100,  # "now" is the docs' timestamp
    )
    ex.start()
    yield ex
    ex.stop()


def post(ex: BinanceStandin, body: str, query: str = "", key: str = KEY) -> httpx.Response:
    url = f"{ex.url}/api/v3/order" + (f"?{query}" if query else "")
    return httpx.post(url, content=body, headers={"X-MBX-APIKEY": key, **FORM})


def test_docs_example_all_params_in_body(docs_exchange: BinanceStandin) -> None:
    resp = post(docs_exchange, f"{ALL}&timestamp={TS}&signature={SIG_ALL}")
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "NEW" and resp.json()["price"] == "0.10000000"


def test_docs_example_mixed_query_and_body(docs_exchange: BinanceStandin) -> None:
    body = f"{BODY}&recvWindow=5000&timestamp={TS}&signature={SIG_MIXED}"
    resp = post(docs_exchange, body, query=QUERY)
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    ("body", "key", "status", "code", "msg"),
    [
        (
            f"{ALL}&timestamp={TS}&signature={'0' * 64}",
            KEY,
            400,
            -1022,
            "Signature for this request is not valid.",
        ),
        (
            f"{ALL.replace('price=0.1', 'price=0.2')}&timestamp={TS}&signature={SIG_ALL}",
            KEY,
            400,
            -1022,
            "Signature for this request is not valid.",
        ),
        (
            f"{ALL}&timestamp={TS}&signature={SIG_ALL}",
            "short",
            401,
            -2014,
            "API-key format invalid.",
        ),
        (
            f"{ALL}&timestamp={TS}&signature={SIG_ALL}",
            "A" * 64,
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        ),
    ],
)
def test_bad_signatures_and_keys_get_binance_errors(
    docs_exchange: BinanceStandin, body: str, key: str, status: int, code: int, msg: str
) -> None:
    resp = post(docs_exchange, body, key=key)
    assert (resp.status_code, resp.json()) == (status, {"code": code, "msg": msg})
    assert docs_exchange.orders() == []


def test_timestamp_outside_recv_window(docs_exchange: BinanceStandin) -> None:
    docs_exchange.clock_ms = lambda: TS + 5001
    resp = post(docs_exchange, f"{ALL}&timestamp={TS}&signature={SIG_ALL}")
    assert (resp.status_code, resp.json()["code"]) == (400, -1021)
    assert "recvWindow" in resp.json()["msg"]


def test_venue_with_a_skewed_clock_gets_a_clear_error(
    make_venue: Callable[..., CcxtVenue], standin: BinanceStandin
) -> None:
    standin.clock_ms = lambda: now_ms() + 120_000  # the server is two minutes ahead

    async def go() -> None:
        venue = make_venue()
        try:
            with pytest.raises(VenueError, match=r"clock in sync.*outside of the recvWindow"):
                await venue.balances()
        finally:
            await venue.close()

    asyncio.run(go())


def test_unreachable_venue_is_venue_unavailable(make_venue: Callable[..., CcxtVenue]) -> None:
    async def go() -> None:
        closed = {"public": "http://127.0.0.1:9/api/v3", "private": "http://127.0.0.1:9/api/v3"}
        venue = make_venue(urls=closed, max_retries=1)
        try:
            with pytest.raises(VenueUnavailable, match="load_markets failed, venue unreachable"):
                await venue.instruments(["BTC/USDT"])
        finally:
            await venue.close()

    asyncio.run(go())
