"""MessageBus subscriptions (exact, prefix, unsubscribe) and the clocks."""

from __future__ import annotations

import time
from typing import Any

from tradewind.engine.bus import MessageBus
from tradewind.engine.clock import Clock, LiveClock


class Recorder:
    def __init__(self) -> None:
        self.got: list[tuple[str, Any]] = []

    def __call__(self, topic: str, message: Any) -> None:
        self.got.append((topic, message))


def test_exact_subscription() -> None:
    bus = MessageBus()
    rec = Recorder()
    bus.subscribe("order.filled", rec)
    bus.publish("order.filled", 1)
    bus.publish("order.canceled", 2)  # another topic
    bus.publish("order.filled.extra", 3)  # exact means exact, not a prefix
    assert rec.got == [("order.filled", 1)]
    assert bus.has_subscribers("order.filled")
    assert not bus.has_subscribers("order.canceled")


def test_prefix_subscription() -> None:
    bus = MessageBus()
    orders, everything = Recorder(), Recorder()
    bus.subscribe("order.*", orders)
    bus.subscribe("*", everything)
    bus.publish("order.filled", "a")
    bus.publish("order.rejected", "b")
    bus.publish("fill", "c")
    assert orders.got == [("order.filled", "a"), ("order.rejected", "b")]
    assert everything.got == [("order.filled", "a"), ("order.rejected", "b"), ("fill", "c")]


def test_exact_handlers_run_before_prefix_handlers_in_subscription_order() -> None:
    bus = MessageBus()
    calls: list[str] = []
    bus.subscribe("order.*", lambda t, m: calls.append("prefix"))
    bus.subscribe("order.filled", lambda t, m: calls.append("exact1"))
    bus.subscribe("order.filled", lambda t, m: calls.append("exact2"))
    bus.publish("order.filled", None)
    assert calls == ["exact1", "exact2", "prefix"]


def test_subscribe_after_publish_is_seen() -> None:
    # handlers are cached per topic; a later subscription must invalidate the cache
    bus = MessageBus()
    bus.publish("fill", 0)  # caches "no handlers" for "fill"
    rec = Recorder()
    bus.subscribe("fi*", rec)
    bus.publish("fill", 1)
    assert rec.got == [("fill", 1)]


def test_unsubscribe_exact_and_prefix() -> None:
    bus = MessageBus()
    a, b, p = Recorder(), Recorder(), Recorder()
    bus.subscribe("fill", a)
    bus.subscribe("fill", b)
    bus.subscribe("order.*", p)
    bus.publish("fill", 1)
    bus.publish("order.filled", 1)
    bus.unsubscribe("fill", a)
    bus.unsubscribe("order.*", p)
    bus.publish("fill", 2)
    bus.publish("order.filled", 2)
    assert a.got == [("fill", 1)]
    assert b.got == [("fill", 1), ("fill", 2)]
    assert p.got == [("order.filled", 1)]
    assert not bus.has_subscribers("order.filled")
    bus.unsubscribe("never", a)  # unknown topic: nothing happens
    bus.unsubscribe("x*", a)


def test_unsubscribe_prefix_only_removes_that_prefix() -> None:
    bus = MessageBus()
    rec = Recorder()
    bus.subscribe("order.*", rec)
    bus.subscribe("fill*", rec)
    bus.unsubscribe("order.*", rec)
    bus.publish("order.filled", 1)
    bus.publish("fill", 2)
    assert rec.got == [("fill", 2)]


def test_simulated_clock() -> None:
    c = Clock(5)
    assert c.now() == 5
    c.set(1_700_000_000_000_000_000)
    assert c.now() == 1_700_000_000_000_000_000
    assert Clock().now() == 0


def test_live_clock_ignores_set() -> None:
    c = LiveClock()
    before = time.time_ns()
    now = c.now()
    after = time.time_ns()
    assert before <= now <= after
    c.set(0)
    assert c.now() >= after
