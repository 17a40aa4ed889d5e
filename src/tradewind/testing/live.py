"""Driving a live node in tests and examples: run it until it has traded some bars."""

from __future__ import annotations

import asyncio
import time

from tradewind.live.live_node import LiveNode


async def run_for_bars(
    node: LiveNode, bars: int, *, timeout: float = 60.0, settle: float = 0.3
) -> None:
    """Run ``node`` until it has processed ``bars`` live bars, wait ``settle`` seconds for the
    last orders to land, then stop it (graceful: state committed). Fails with what the node
    raised, or with how many bars came when ``timeout`` passes first."""
    task = asyncio.create_task(node.run())
    deadline = time.monotonic() + timeout
    while node.cursor + 1 < bars:
        if task.done():
            task.result()  # raises what stopped the node
            raise AssertionError(f"node stopped after {node.cursor + 1} of {bars} bars")
        if time.monotonic() > deadline:
            node.stop()
            await task
            raise AssertionError(f"only {node.cursor + 1} live bars in {timeout} s")
        await asyncio.sleep(0.02)
    await asyncio.sleep(settle)
    node.stop()
    await task


async def start_and_close(node: LiveNode) -> None:
    """What a restart does before any strategy trades — connect, warm up, restore from the
    store, reconcile with the venue — then disconnect."""
    try:
        await node.start_live()
    finally:
        await node.client.close()
