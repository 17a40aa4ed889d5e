"""A solana-py ``AsyncClient`` whose reads ride out rate limits.

Public RPCs answer HTTP 429 readily (solana-py raises ``SolanaRpcException`` around httpx2's
``HTTPStatusError``). A read is safe to repeat, so every RPC method except the sends is retried
on 429 — after the wait the server asked for (``Retry-After`` / ``x-ratelimit-reset``, read by
the data layer's ``retry_delay``), else exponential backoff with jitter — up to ``attempts``
times. Sends are left to the landing loop, which owns their retry rules.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

import httpx2
from solana.exceptions import SolanaRpcException
from solana.rpc.async_api import AsyncClient

from tradewind.data.sources.base import retry_delay

_SENDS = frozenset({"send_raw_transaction", "send_transaction"})


def rate_limit_wait(exc: BaseException, attempt: int, base: float, cap: float) -> float | None:
    """Seconds to wait before retrying ``exc``, or None when it is not a rate limit."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, httpx2.HTTPStatusError) and cur.response.status_code == 429:
            return retry_delay(cur.response, attempt, base, cap)
        cur = cur.__cause__ or cur.__context__
    return None


class PatientRpc:
    """Wraps an ``AsyncClient``; use it as one (``cast(AsyncClient, PatientRpc(client))``)."""

    def __init__(
        self, client: AsyncClient, *, attempts: int = 6, base: float = 0.1, cap: float = 10.0
    ) -> None:
        self._client = client
        self._attempts, self._base, self._cap = attempts, base, cap

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name in _SENDS or not inspect.iscoroutinefunction(attr):
            return attr
        return self._patient(attr)

    def _patient(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            for attempt in range(self._attempts):
                try:
                    return await fn(*args, **kwargs)
                except SolanaRpcException as exc:
                    wait = rate_limit_wait(exc, attempt, self._base, self._cap)
                    if wait is None or attempt + 1 == self._attempts:
                        raise
                    await asyncio.sleep(wait)
            raise AssertionError("unreachable")

        return call
