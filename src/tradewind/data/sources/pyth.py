"""Pyth Hermes — latest oracle prices (with confidence) by price-feed id.

Wire format (docs.pyth.network, Hermes API reference "latest_price_updates" / "price_feeds"):
``GET {base}/v2/updates/price/latest?ids[]=<id>&ids[]=<id>&parsed=true
&ignore_invalid_price_ids=true`` answers ``{"binary": {...}, "parsed": [{"id", "price":
{"price": "6140993501", "conf": "…", "expo": -8, "publish_time": 1700000000}, "ema_price":
{…}, "metadata": {…}}]}``. Price and confidence are integer strings scaled by ``10**expo``;
``publish_time`` is unix seconds. Feed ids are 32-byte hex, accepted with or without ``0x``
(the result is keyed by the id as the caller wrote it; ``PriceQuote.id`` is Hermes' bare lower-
case form). ``ignore_invalid_price_ids`` makes Hermes drop unknown ids instead of failing the
whole request, so unknown feeds are simply absent. Ids are sent 50 per request.
``feed_ids(query)`` uses ``GET /v2/price_feeds?query=SOL&asset_type=crypto`` ->
``[{"id", "attributes": {"symbol": "Crypto.SOL/USD", …}}]``. Errors come as plain text.

API key: the docs banner says the Pyth Core upgrade makes an API key mandatory for Hermes; the
docs' own examples send it as ``Authorization: Bearer $PYTH_API_KEY`` (the hermes-client's
``accessToken`` does the same), so that is the header used when a key is configured
(``TRADEWIND_PYTH_API_KEY``); without one no auth header is sent. The upgraded endpoint in the
docs is ``https://pyth.dourolabs.app/hermes``: pass it as ``base_url`` if the public host refuses.

Limits: the public instance allows 30 requests / 10 s per IP (``rate_per_sec`` 3) and a 429 then
lasts 60 s; with no ``Retry-After`` the retries wait 30–60 s, then 60–120 s.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from tradewind.config import Settings, secret
from tradewind.data.sources.base import HttpClient, PriceQuote, SourceError, redact
from tradewind.errors import ConfigError

DEFAULT_BASE_URL = "https://hermes.pyth.network"
MAX_IDS = 50
_FEED_ID = re.compile(r"[0-9a-f]{64}")


def normalise_feed_id(feed_id: str) -> str:
    """``"0xEF0D…"`` -> ``"ef0d…"`` (64 lower-case hex digits) or ``ConfigError``."""
    text = feed_id.strip().lower() if isinstance(feed_id, str) else ""
    text = text.removeprefix("0x")
    if not _FEED_ID.fullmatch(text):
        raise ConfigError(f"{feed_id!r} is not a Pyth price feed id (64 hex digits, optional 0x)")
    return text


class PythHermesSource:
    """Latest Pyth prices from a Hermes instance."""

    name = "pyth"

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        *,
        rate_per_sec: float = 3.0,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        key = api_key if api_key is not None else secret(Settings().pyth_api_key)
        self._key = key or ""
        headers = {"Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._http = HttpClient(
            self.name,
            base_url,
            headers=headers,
            secrets=("Authorization",),
            rate_per_sec=rate_per_sec,
            max_retries=max_retries,
            backoff_base=60.0,
            backoff_cap=120.0,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        key = "***" if self._key else None
        return f"PythHermesSource({self._http.base_url!r}, api_key={key})"

    def close(self) -> None:
        self._http.close()

    def latest_prices(self, ids: list[str]) -> dict[str, PriceQuote]:
        """Latest price per feed id; ids Hermes does not know are left out."""
        wanted: dict[str, list[str]] = {}  # normalised id -> the caller's spellings
        for raw in ids:
            wanted.setdefault(normalise_feed_id(raw), []).append(raw)
        feeds = list(wanted)
        result: dict[str, PriceQuote] = {}
        for i in range(0, len(feeds), MAX_IDS):
            batch = feeds[i : i + MAX_IDS]
            params = {"ids[]": batch, "parsed": "true", "ignore_invalid_price_ids": "true"}
            body = self._get("/v2/updates/price/latest", params, f"feeds {_names(batch)}")
            parsed = body.get("parsed") if isinstance(body, dict) else None
            if not isinstance(parsed, list):
                raise SourceError(
                    f"{self.name}: feeds {_names(batch)}: unexpected response shape "
                    "(expected an object with a 'parsed' list)"
                )
            for entry in parsed:
                quote = self._quote(entry)
                for raw in wanted.get(quote.id, []):
                    result[raw] = quote
        return result

    def feed_ids(self, query: str, asset_type: str = "crypto") -> dict[str, str]:
        """Feed symbol -> feed id for feeds matching ``query``, e.g. ``"Crypto.SOL/USD"`` ->
        ``"ef0d8b6f…"``."""
        params = {"query": query, "asset_type": asset_type}
        body = self._get("/v2/price_feeds", params, f"feed search {query!r}")
        if not isinstance(body, list):
            raise SourceError(f"{self.name}: feed search {query!r}: expected a list of feeds")
        found: dict[str, str] = {}
        for feed in body:
            try:
                found[str(feed["attributes"]["symbol"])] = normalise_feed_id(feed["id"])
            except (KeyError, TypeError, ConfigError):
                raise SourceError(
                    f"{self.name}: feed search {query!r}: unexpected feed entry {str(feed)[:200]}"
                ) from None
        return found

    def _get(self, path: str, params: dict[str, Any], what: str) -> Any:
        try:
            return self._http.get_json(path, params)
        except SourceError as exc:
            detail = str(exc).removeprefix(f"{self.name}: ")
            raise type(exc)(f"{self.name}: {what}: {self._safe(detail)}") from None

    def _quote(self, entry: Any) -> PriceQuote:
        try:
            feed_id = normalise_feed_id(entry["id"])
            price = entry["price"]
            expo = int(price["expo"])
            ema = entry.get("ema_price") or {}
            extra: dict[str, Any] = {"expo": expo, "publish_time": int(price["publish_time"])}
            if ema:
                extra["ema_price"] = _scale(ema["price"], ema["expo"])
                extra["ema_confidence"] = _scale(ema["conf"], ema["expo"])
            if isinstance(entry.get("metadata"), dict):
                extra.update(entry["metadata"])
            return PriceQuote(
                id=feed_id,
                price=_scale(price["price"], expo),
                ts_ns=int(price["publish_time"]) * 1_000_000_000,
                confidence=_scale(price["conf"], expo),
                extra=extra,
            )
        except (KeyError, TypeError, ValueError, ConfigError):
            raise SourceError(
                f"{self.name}: unexpected parsed price entry {str(entry)[:200]}"
            ) from None

    def _safe(self, text: str) -> str:
        return redact(text, [self._key])


def _scale(value: Any, expo: Any) -> float:
    """``("6140993501", -8)`` -> 61.40993501 (one correctly rounded division)."""
    number, exponent = int(value), int(expo)
    return number / 10**-exponent if exponent < 0 else float(number * 10**exponent)


def _names(batch: list[str]) -> str:
    shown = ", ".join(batch[:2])
    return shown + (f" and {len(batch) - 2} more" if len(batch) > 2 else "")
