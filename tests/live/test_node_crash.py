"""Crash safety: kill -9 a replaying node at 20 random moments, restart it each time; at the end
its orders, fills, positions and balances equal an uninterrupted run's (no lost fill, no
duplicate order), on SQLite and on PostgreSQL.

The node runs in a forked child process (the real thing, killed with SIGKILL, but without paying
the interpreter's start-up and imports 20 times); one more test does a kill and restart through
the ``tradewind run`` command itself.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

from live_helpers import stored_state, write_config

from tradewind.live import TradingNode, load_node_config
from tradewind.store import Store

KILLS = 20
RUN = "from tradewind.cli import main; main()"


def _child(cfg_path: str, url: str, conn: Connection, progress: Synchronized[int]) -> None:
    """The node process: recover, report where it resumes, replay to the end, publishing the
    bar it is at (so the parent can kill it at a random point of the run, not only during the
    first bars, which are slowed down by per-process warm-up)."""
    store = Store(url)
    node = TradingNode(load_node_config(Path(cfg_path)), store)
    node.start()
    conn.send(node.cursor + 1)

    def publish() -> None:
        while True:
            progress.value = node.cursor
            time.sleep(0.0005)

    threading.Thread(target=publish, daemon=True).start()
    asyncio.run(node.run())


def _reference(tmp_path: Path, cfg_path: Path) -> dict[str, object]:
    store = Store(f"sqlite:///{tmp_path / 'reference.db'}")
    store.migrate()
    asyncio.run(TradingNode(load_node_config(cfg_path), store).run())
    state = stored_state(store, "crash-node")
    store.dispose()
    return state


def test_kill9_at_random_moments_loses_and_duplicates_nothing(
    db_url: str, tmp_path: Path, bars_csv: Path
) -> None:
    cfg_path = write_config(tmp_path, bars_csv)
    reference = _reference(tmp_path, cfg_path)
    assert len(reference["fills"]) > 100  # type: ignore[arg-type]  # the strategies trade

    store = Store(db_url)
    store.migrate()
    store.dispose()
    ctx = mp.get_context("fork")
    rng = random.Random(20261121)
    resumed_at: list[int] = []
    progress = ctx.Value("q", -1)
    for k in range(KILLS):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_child, args=(str(cfg_path), db_url, child, progress), daemon=True)
        progress.value = -1
        p.start()
        if k % 5 == 4:  # now and then, during start-up and recovery itself
            time.sleep(rng.uniform(0.0, 0.5))
        else:
            assert parent.poll(60), "node did not come up"
            start = parent.recv()
            resumed_at.append(start)
            target = start + rng.randint(0, 120)
            deadline = time.monotonic() + 60
            while progress.value < target and time.monotonic() < deadline:
                time.sleep(0.0005)
            time.sleep(rng.uniform(0.0, 0.005))
        assert p.pid is not None
        os.kill(p.pid, signal.SIGKILL)
        p.join()
        assert p.exitcode == -signal.SIGKILL, f"kill {k + 1} came too late: the run had ended"
    parent, child = ctx.Pipe()
    p = ctx.Process(target=_child, args=(str(cfg_path), db_url, child, progress), daemon=True)
    p.start()
    p.join(300)
    assert p.exitcode == 0
    # the kills landed at different moments and every restart carried on from its checkpoint
    assert len(set(resumed_at)) > len(resumed_at) // 2, resumed_at
    assert resumed_at == sorted(resumed_at)

    store = Store(db_url)
    got = stored_state(store, "crash-node")
    assert got["cursor"] == reference["cursor"]
    for key in ("orders", "fills", "positions", "balances"):
        assert got[key] == reference[key], key
    store.dispose()


def test_kill9_through_the_cli_then_restart_finishes_identically(
    tmp_path: Path, bars_csv: Path
) -> None:
    cfg_path = write_config(tmp_path, bars_csv)
    reference = _reference(tmp_path, cfg_path)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    p = subprocess.Popen(
        [sys.executable, "-c", RUN, "run", str(cfg_path), "--database-url", url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert p.stdout is not None
    line = p.stdout.readline()
    assert "replaying from bar 0" in line, line + (p.stderr.read() if p.stderr else "")
    time.sleep(0.5)
    p.kill()
    p.wait()
    done = subprocess.run(
        [sys.executable, "-c", RUN, "run", str(cfg_path), "--database-url", url, "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"state": "finished"' in done.stdout
    store = Store(url)
    got = stored_state(store, "crash-node")
    for key in ("orders", "fills", "positions", "balances", "cursor"):
        assert got[key] == reference[key], key
    store.dispose()
