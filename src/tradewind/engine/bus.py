"""A synchronous in-process message bus: every engine event is published on a topic.

Subscribers (store writer, API WebSocket, notifier, metrics) attach by topic; a topic ending in
``*`` matches every topic with that prefix. Publishing to a topic nobody listens on costs one
dict lookup, so the backtest hot path pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[str, Any], None]


class MessageBus:
    def __init__(self) -> None:
        self._exact: dict[str, list[Handler]] = {}
        self._prefix: list[tuple[str, Handler]] = []
        self._cache: dict[str, tuple[Handler, ...]] = {}

    def subscribe(self, topic: str, handler: Handler) -> None:
        if topic.endswith("*"):
            self._prefix.append((topic[:-1], handler))
        else:
            self._exact.setdefault(topic, []).append(handler)
        self._cache.clear()

    def unsubscribe(self, topic: str, handler: Handler) -> None:
        if topic.endswith("*"):
            self._prefix = [(p, h) for p, h in self._prefix if (p, h) != (topic[:-1], handler)]
        elif topic in self._exact:
            self._exact[topic] = [h for h in self._exact[topic] if h != handler]
        self._cache.clear()

    def handlers(self, topic: str) -> tuple[Handler, ...]:
        found = self._cache.get(topic)
        if found is None:
            found = tuple(self._exact.get(topic, ())) + tuple(
                h for p, h in self._prefix if topic.startswith(p)
            )
            self._cache[topic] = found
        return found

    @property
    def active(self) -> bool:
        """Anyone subscribed at all? (lets hot paths skip building a message)"""
        return bool(self._exact or self._prefix)

    def publish(self, topic: str, message: Any) -> None:
        if not (self._exact or self._prefix):
            return  # nobody listens: the backtest hot path
        for handler in self.handlers(topic):
            handler(topic, message)

    def has_subscribers(self, topic: str) -> bool:
        return bool(self.handlers(topic))
