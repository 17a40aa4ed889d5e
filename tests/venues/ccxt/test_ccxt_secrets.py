"""The API key, the secret and request signatures never reach a log record, an error or a repr."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable

import pytest

from tradewind.errors import VenueError
from tradewind.model.enums import OrderSide, OrderType
from tradewind.model.order import Order
from tradewind.testing.binance_standin import BinanceStandin
from tradewind.venues.ccxt import CcxtVenue

SIGNATURE = re.compile(r"signature=[0-9a-f]{64}")


def test_no_secret_in_logs_errors_or_repr(
    make_venue: Callable[..., CcxtVenue],
    standin: BinanceStandin,
    caplog: pytest.LogCaptureFixture,
    recorder: object,
) -> None:
    key, secret = standin.api_key, standin.secret
    texts: list[str] = []

    async def go() -> None:
        venue = make_venue(timeout=0.5)
        wrong = make_venue(secret="S" * 64)
        texts.append(repr(venue))
        try:
            await venue.instruments(["BTC/USDT"])
            await venue.connect(recorder)  # type: ignore[arg-type]
            standin.fail_next("/api/v3/order", 429, method="POST")
            standin.hang_next("/api/v3/order")
            await venue.submit(Order("BTC/USDT", OrderSide.BUY, 0.001))
            resting = Order("BTC/USDT", OrderSide.BUY, 0.001, OrderType.LIMIT, price=40000)
            await venue.submit(resting)
            await venue.poll_reports()
            await venue.cancel(resting)
            for bad in (
                venue.submit(Order("BTC/USDT", OrderSide.BUY, 100.0)),
                wrong.balances(),
                wrong.submit(Order("BTC/USDT", OrderSide.BUY, 0.001)),
            ):
                with pytest.raises(VenueError) as info:
                    await bad
                texts.append(str(info.value))
                texts.append(repr(info.value))
        finally:
            await venue.close()
            await wrong.close()

    with caplog.at_level(logging.DEBUG):
        asyncio.run(go())
    texts.extend(r.getMessage() for r in caplog.records)
    wire = [
        r.getMessage() for r in caplog.records if r.name.startswith("tradewind.venues.ccxt.wire")
    ]
    assert any("X-MBX-APIKEY" in m for m in wire)  # ccxt's own request logs were captured...
    assert any("signature=***" in m for m in wire)  # ...and redacted
    for text in texts:
        assert key not in text and secret not in text, text
        assert not SIGNATURE.search(text), text
    assert len(standin.seen("POST", "/api/v3/order")) >= 4
