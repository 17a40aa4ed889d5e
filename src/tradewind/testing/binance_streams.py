"""Binance spot market streams for the stand-in: a WebSocket server on 127.0.0.1.

Speaks the documented protocol of ``wss://stream.binance.com:9443/ws``: a client sends
``{"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m"], "id": 1}`` and gets
``{"result": null, "id": 1}``; from then on every kline update of a subscribed stream arrives as
``{"e": "kline", "E": <event ms>, "s": "BTCUSDT", "k": {"t": <open ms>, "T": <close ms>, "s":
"BTCUSDT", "i": "1m", "o": "...", "c": "...", "h": "...", "l": "...", "v": "...", "x": false,
...}}``. ``UNSUBSCRIBE`` and ``LIST_SUBSCRIPTIONS`` are answered too.

ccxt tells spot streams from futures streams by ``/stream`` in the URL (the real host is
``stream.binance.com``), so ``url`` ends in ``/stream/ws``; any path is accepted.
``drop_all`` closes every connection abruptly (a fault to test resubscription).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed


class BinanceStreams:
    """The WebSocket side of the stand-in (own thread and event loop)."""

    def __init__(self) -> None:
        self.subscriptions: dict[ServerConnection, set[str]] = {}
        self.received: list[dict[str, Any]] = []  # every client message, for assertions
        self.connections = 0  # connections accepted so far
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(5)

    def stop(self) -> None:
        if self._server is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _shutdown(self) -> None:
        assert self._server is not None
        for ws in list(self.subscriptions):  # no close handshake with clients already gone
            ws.transport.abort()
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/stream/ws"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._listen())
        finally:
            self._ready.set()
        self._loop.run_forever()

    async def _listen(self) -> None:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        self.port = next(iter(self._server.sockets)).getsockname()[1]

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        self.subscriptions[ws] = set()
        try:
            async for raw in ws:
                msg = json.loads(raw)
                self.received.append(msg)
                method, params, rid = msg.get("method"), msg.get("params") or [], msg.get("id")
                subs = self.subscriptions[ws]
                if method == "SUBSCRIBE":
                    subs.update(params)
                    await ws.send(json.dumps({"result": None, "id": rid}))
                elif method == "UNSUBSCRIBE":
                    subs.difference_update(params)
                    await ws.send(json.dumps({"result": None, "id": rid}))
                elif method == "LIST_SUBSCRIPTIONS":
                    await ws.send(json.dumps({"result": sorted(subs), "id": rid}))
                else:
                    await ws.send(
                        json.dumps({"code": 2, "msg": f"Invalid request: unknown method {method}"})
                    )
        except ConnectionClosed:
            pass  # a dropped client, or drop_all()
        finally:
            self.subscriptions.pop(ws, None)

    def _call(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` (a coroutine factory) on the server loop and wait for it."""
        future = asyncio.run_coroutine_threadsafe(fn(), self._loop)
        future.result(5)

    def publish_kline(
        self, symbol: str, interval: str, interval_ms: int, candle: list[Any], now: int
    ) -> int:
        """Send a kline update to every connection subscribed to ``<symbol>@kline_<interval>``;
        returns how many connections got it."""
        stream = f"{symbol.lower()}@kline_{interval}"
        open_ms = int(candle[0])
        event = {
            "e": "kline",
            "E": now,
            "s": symbol,
            "k": {
                "t": open_ms,
                "T": open_ms + interval_ms - 1,
                "s": symbol,
                "i": interval,
                "f": 100,
                "L": 200,
                "o": str(candle[1]),
                "c": str(candle[4]),
                "h": str(candle[2]),
                "l": str(candle[3]),
                "v": str(candle[5]),
                "n": 100,
                "x": open_ms + interval_ms <= now,
                "q": "0",
                "V": "0",
                "Q": "0",
                "B": "0",
            },
        }
        targets = [ws for ws, subs in list(self.subscriptions.items()) if stream in subs]

        async def send() -> None:
            for ws in targets:
                with contextlib.suppress(ConnectionClosed):
                    await ws.send(json.dumps(event))

        if targets:
            self._call(send)
        return len(targets)

    def drop_all(self) -> None:
        """Close every connection without a close handshake (like a network drop)."""

        async def drop() -> None:
            for ws in list(self.subscriptions):
                ws.transport.abort()

        self._call(drop)
