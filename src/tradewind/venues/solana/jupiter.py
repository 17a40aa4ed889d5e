"""A small async client for the Jupiter HTTP API (Swap V2, Metis V1, Price V3).

Owned here rather than taken from a PyPI SDK because Jupiter's endpoints churn (v6 -> lite-api
-> swap/v1 -> ultra -> swap/v2); field names follow the OpenAPI specs. HTTP 429 is retried after
``Retry-After`` / ``x-ratelimit-reset`` (else exponential backoff), at most ``max_retries``
times, then ``VenueRateLimited``. Error messages name the endpoint and Jupiter's reason, never
the API key.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tradewind.data.sources.base import redact, retry_delay
from tradewind.errors import InvalidOrder, VenueError, VenueRateLimited, VenueUnavailable


class JupiterSendUnknown(VenueUnavailable):
    """A POST may have reached Jupiter (timeout / reset after sending): outcome unknown."""


class JupiterClient:
    def __init__(
        self,
        base_url: str = "https://api.jup.ag",
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        max_retries: int = 4,
        max_wait: float = 10.0,
        venue: str = "solana",
    ) -> None:
        headers = {"x-api-key": api_key} if api_key else {}
        self._http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout)
        self._secrets = [api_key] if api_key else []
        self.max_retries, self.max_wait, self.venue = max_retries, max_wait, venue
        self.rate_limited = 0  # 429s seen (for tests / metrics)

    def __repr__(self) -> str:
        return f"JupiterClient({self._http.base_url}, api_key={'***' if self._secrets else None})"

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        for attempt in range(self.max_retries + 1):
            try:
                resp = await self._http.request(method, path, params=params, json=body)
            except httpx.TransportError as exc:
                what = f"{self.venue}: Jupiter {method} {path}: {type(exc).__name__}"
                if method == "POST" and not isinstance(exc, httpx.ConnectError):
                    raise JupiterSendUnknown(what) from None
                raise VenueUnavailable(what) from None
            if resp.status_code == 429:
                self.rate_limited += 1
                if attempt == self.max_retries:
                    break
                await asyncio.sleep(retry_delay(resp, attempt, 0.25, self.max_wait))
                continue
            try:
                data = resp.json()
            except ValueError:
                data = {"error": resp.text[:200]}
            if resp.status_code >= 500:
                raise VenueUnavailable(self._msg(method, path, resp.status_code, data))
            if resp.status_code >= 400:
                raise JupiterError(self._msg(method, path, resp.status_code, data), data)
            return data
        raise VenueRateLimited(
            f"{self.venue}: Jupiter {method} {path}: still rate limited (HTTP 429) after "
            f"{self.max_retries} retries",
            retry_after=retry_delay(resp, self.max_retries, 0.25, self.max_wait),
        )

    def _msg(self, method: str, path: str, status: int, data: Any) -> str:
        reason = (
            data.get("error") or data.get("errorCode") or data if isinstance(data, dict) else data
        )
        code = f" (code {data['code']})" if isinstance(data, dict) and "code" in data else ""
        return redact(
            f"{self.venue}: Jupiter {method} {path} -> HTTP {status}{code}: {reason}", self._secrets
        )

    # --- Metis V1 ---------------------------------------------------------------------------

    async def quote(
        self, input_mint: str, output_mint: str, amount: int, slippage_bps: int
    ) -> dict[str, Any]:
        params = {
            "inputMint": input_mint,
            "outputMint": output_mint,
            "amount": amount,
            "slippageBps": slippage_bps,
        }
        out: dict[str, Any] = await self._call("GET", "/swap/v1/quote", params=params)
        return out

    async def swap(
        self, quote: dict[str, Any], user: str, *, max_priority_lamports: int = 1_000_000
    ) -> dict[str, Any]:
        body = {
            "userPublicKey": user,
            "quoteResponse": quote,
            "wrapAndUnwrapSol": True,
            "dynamicComputeUnitLimit": True,
            "prioritizationFeeLamports": {
                "priorityLevelWithMaxLamports": {
                    "priorityLevel": "high",
                    "maxLamports": max_priority_lamports,
                }
            },
        }
        out: dict[str, Any] = await self._call("POST", "/swap/v1/swap", body=body)
        return out

    # --- Swap V2 ----------------------------------------------------------------------------

    async def order(
        self,
        input_mint: str,
        output_mint: str,
        amount: int,
        taker: str,
        slippage_bps: int | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "inputMint": input_mint,
            "outputMint": output_mint,
            "amount": amount,
            "taker": taker,
        }
        if slippage_bps is not None:
            params["slippageBps"] = slippage_bps
        out: dict[str, Any] = await self._call("GET", "/swap/v2/order", params=params)
        return out

    async def execute(self, signed_b64: str, request_id: str) -> dict[str, Any]:
        body = {"signedTransaction": signed_b64, "requestId": request_id}
        try:
            out: dict[str, Any] = await self._call("POST", "/swap/v2/execute", body=body)
        except JupiterError as exc:  # /execute failures are results with a code, not faults
            return exc.data if isinstance(exc.data, dict) else {"code": -1, "error": str(exc)}
        return out

    async def build(
        self, input_mint: str, output_mint: str, amount: int, taker: str, slippage_bps: int
    ) -> dict[str, Any]:
        params = {
            "inputMint": input_mint,
            "outputMint": output_mint,
            "amount": amount,
            "taker": taker,
            "slippageBps": slippage_bps,
        }
        out: dict[str, Any] = await self._call("GET", "/swap/v2/build", params=params)
        return out

    # --- Price V3 ---------------------------------------------------------------------------

    async def prices(self, mints: list[str]) -> dict[str, float]:
        data = await self._call("GET", "/price/v3", params={"ids": ",".join(mints[:50])})
        return {
            m: float(v["usdPrice"])
            for m, v in data.items()
            if isinstance(v, dict) and "usdPrice" in v
        }


class JupiterError(InvalidOrder):
    """Jupiter refused a request (HTTP 4xx); ``data`` is its JSON body."""

    def __init__(self, message: str, data: Any) -> None:
        super().__init__(message)
        self.data = data


__all__ = ["JupiterClient", "JupiterError", "JupiterSendUnknown", "VenueError"]
