"""Jupiter Price API V3 — latest USD prices of Solana tokens, by mint address.

Wire format (dev.jup.ag/docs/price/v3, /api-reference/price/v3/price): ``GET {base}/price/v3
?ids=<mint>,<mint>`` (at most 50 ids per call; longer lists are sent in batches) with header
``x-api-key`` when a key is configured. Answers ``{mint: {"usdPrice", "blockId", "decimals",
"priceChange24h", "liquidity", "createdAt"}}``; mints Jupiter cannot price reliably are simply
absent (or null) and are left out of the result. Prices are last-swap based with Jupiter's
outlier heuristics; there is no history (no OHLCV) and no publish timestamp, so ``ts_ns`` is
None and ``blockId`` is kept in ``extra``. ``extra`` also carries the symbol when the mint is
in the token registry (``tokens.py``).

Base URL: ``https://api.jup.ag`` with or without a key. The former keyless host
``lite-api.jup.ag`` was deprecated on 2026-01-31 (dev.jup.ag/updates, "Migrate from Lite API");
the current rate-limit table lists a *Keyless* tier on the main host. Pass
``base_url="https://lite-api.jup.ag"`` to use the old host anyway.

Limits (dev.jup.ag/docs/portal/rate-limits; 60 s sliding window, one bucket per account across
all Jupiter APIs): Keyless 0.5 rps, Free 1, Developer 10, Launch 50, Pro 150. ``rate_per_sec``
defaults to 0.5 without a key and 1 with one. 429 (and 200) responses carry
``x-ratelimit-remaining`` / ``x-ratelimit-reset`` (unix seconds); HttpClient waits until that
reset before retrying.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tradewind.config import Settings, secret
from tradewind.data.sources import tokens
from tradewind.data.sources.base import HttpClient, PriceQuote, SourceError, redact

DEFAULT_BASE_URL = "https://api.jup.ag"
MAX_IDS = 50


class JupiterPriceSource:
    """Latest USD prices from Jupiter Price V3."""

    name = "jupiter"

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        *,
        rate_per_sec: float | None = None,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        registry: tokens.TokenRegistry | None = None,
    ) -> None:
        key = api_key if api_key is not None else secret(Settings().jupiter_api_key)
        self._key = key or ""
        self._registry = registry if registry is not None else tokens.REGISTRY
        headers = {"Accept": "application/json"}
        if key:
            headers["x-api-key"] = key
        self._http = HttpClient(
            self.name,
            base_url,
            headers=headers,
            secrets=("x-api-key",),
            rate_per_sec=rate_per_sec if rate_per_sec is not None else (1.0 if key else 0.5),
            max_retries=max_retries,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        key = "***" if self._key else None
        return f"JupiterPriceSource({self._http.base_url!r}, api_key={key})"

    def close(self) -> None:
        self._http.close()

    def latest_prices(self, ids: list[str]) -> dict[str, PriceQuote]:
        """USD price per mint in ``ids``; mints Jupiter does not price are left out."""
        mints = list(dict.fromkeys(m.strip() for m in ids if m and m.strip()))
        result: dict[str, PriceQuote] = {}
        for i in range(0, len(mints), MAX_IDS):
            batch = mints[i : i + MAX_IDS]
            body = self._request(batch)
            for mint in batch:
                quote = self._quote(mint, body.get(mint))
                if quote is not None:
                    result[mint] = quote
        return result

    def _request(self, batch: list[str]) -> dict[str, Any]:
        try:
            body = self._http.get_json("/price/v3", {"ids": ",".join(batch)})
        except SourceError as exc:
            detail = str(exc).removeprefix(f"{self.name}: ")
            raise type(exc)(
                f"{self.name}: prices for {_names(batch)}: {self._safe(detail)}"
            ) from None
        if not isinstance(body, dict):
            raise SourceError(
                f"{self.name}: prices for {_names(batch)}: unexpected response shape "
                f"(expected an object keyed by mint): {self._safe(str(body)[:200])}"
            )
        if "error" in body and not any(m in body for m in batch):
            raise SourceError(
                f"{self.name}: prices for {_names(batch)}: {self._safe(str(body['error']))}"
            )
        return body

    def _quote(self, mint: str, entry: Any) -> PriceQuote | None:
        if not isinstance(entry, dict) or entry.get("usdPrice") is None:
            return None
        try:
            price = float(entry["usdPrice"])
        except (TypeError, ValueError):
            raise SourceError(
                f"{self.name}: usdPrice for {mint} is not a number: {entry['usdPrice']!r}"
            ) from None
        extra = {k: v for k, v in entry.items() if k != "usdPrice"}
        token = self._registry.find(mint)
        if token is not None:
            extra["symbol"] = token.symbol
        return PriceQuote(id=mint, price=price, extra=extra)

    def _safe(self, text: str) -> str:
        return redact(text, [self._key])


def _names(batch: list[str]) -> str:
    shown = ", ".join(batch[:3])
    return shown + (f" and {len(batch) - 3} more" if len(batch) > 3 else "")
