"""Executors: same results in input order on every backend, progress, failures, Ctrl-C.

Task functions come from the standard library and numpy (``math.factorial``,
``numpy.linalg.eigvalsh``, ``time.sleep``): they pickle by reference and every worker can import
them, whatever the start method. Expected values are computed in this process with a plain
loop, independently of any executor.
"""

from __future__ import annotations

import importlib
import itertools
import math
import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tradewind.backtest.executors import (
    Executor,
    LocalExecutor,
    RayExecutor,
    SerialExecutor,
    TaskError,
    make_executor,
)
from tradewind.errors import ConfigError

psutil: Any
try:
    psutil = importlib.import_module("psutil")
except ImportError:  # fall back to scanning /proc
    psutil = None


def _symmetric_matrices() -> list[np.ndarray]:
    """Matrices of very different sizes: the big ones finish last, so completion order differs
    from input order on a pool, and the results must still come back in input order."""
    rng = np.random.default_rng(7)
    out = []
    for size in [160, 3, 4, 120, 2, 5, 90, 3, 6, 2, 70, 4]:
        a = rng.standard_normal((size, size))
        out.append(a + a.T)
    return out


@pytest.fixture(scope="module")
def local_executor() -> Iterator[LocalExecutor]:
    with LocalExecutor(2, chunksize=1) as executor:
        yield executor


@pytest.fixture(scope="module")
def ray_executor() -> Iterator[RayExecutor]:
    pytest.importorskip("ray", reason="ray is not installed (pip install 'tradewind[ray]')")
    with RayExecutor(num_cpus=2, chunksize=1) as executor:
        yield executor


@pytest.fixture(params=["serial", "local", "ray"])
def executor(request: pytest.FixtureRequest) -> Executor:
    if request.param == "serial":
        return SerialExecutor()
    fixture = "local_executor" if request.param == "local" else "ray_executor"
    result: Executor = request.getfixturevalue(fixture)
    return result


def test_same_results_in_input_order(executor: Executor) -> None:
    matrices = _symmetric_matrices()
    expected = [np.linalg.eigvalsh(m) for m in matrices]
    got = executor.map(np.linalg.eigvalsh, matrices)
    assert len(got) == len(expected)
    for mine, ref in zip(got, expected, strict=True):
        np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-10)


def test_progress_counts_up_to_total(executor: Executor) -> None:
    calls: list[tuple[int, int]] = []
    items = list(range(15))
    got = executor.map(math.factorial, items, progress=lambda d, n: calls.append((d, n)))
    assert got == [math.factorial(i) for i in items]
    done = [d for d, _ in calls]
    assert all(n == 15 for _, n in calls)
    assert done == sorted(set(done))  # strictly increasing
    assert calls[-1] == (15, 15)
    assert len(calls) == 15  # chunksize 1 (serial: one item at a time): one call per item


def test_failure_names_item_index_and_chains_original(executor: Executor) -> None:
    with pytest.raises(TaskError) as info:
        executor.map(math.factorial, [3, 4, 5, -1, 6])
    err = info.value
    assert err.index == 3
    assert "item 3" in str(err)
    assert "factorial() not defined for negative values" in str(err)
    assert isinstance(err.__cause__, ValueError)
    assert "negative" in str(err.__cause__)


def test_empty_items_run_nothing(executor: Executor) -> None:
    calls: list[tuple[int, int]] = []
    assert executor.map(math.factorial, [], progress=lambda d, n: calls.append((d, n))) == []
    assert calls == []


def test_local_chunks_keep_order_and_index_inside_a_chunk() -> None:
    with LocalExecutor(2, chunksize=3) as executor:
        items = list(range(11))
        calls: list[tuple[int, int]] = []
        got = executor.map(math.factorial, items, progress=lambda d, n: calls.append((d, n)))
        assert got == [math.factorial(i) for i in items]
        # Chunks of 3, 3, 3 and 2 items: progress advances by whole chunks.
        done = [0] + [d for d, _ in calls]
        assert sorted(b - a for a, b in itertools.pairwise(done)) == [2, 3, 3, 3]
        with pytest.raises(TaskError) as info:
            executor.map(math.factorial, [3, 4, 5, 6, -1, 7])  # second chunk, second item
        assert info.value.index == 4
        assert "item 4" in str(info.value)


def test_failure_cancels_remaining_tasks_and_pool_recovers() -> None:
    # time.sleep("x") fails at once; the 8 sleeps of 3 s would take 12 s on 2 workers if they
    # were not cancelled (queued ones) and terminated (the running one).
    with LocalExecutor(2, chunksize=1) as executor:
        started = time.monotonic()
        with pytest.raises(TaskError) as info:
            items: list[Any] = ["x", *([3.0] * 8)]
            executor.map(time.sleep, items)
        assert time.monotonic() - started < 6.0
        assert info.value.index == 0
        assert isinstance(info.value.__cause__, TypeError)
        assert executor.map(abs, [-1, -2, 3]) == [1, 2, 3]  # a fresh pool after the abort


def test_unpicklable_fn_is_rejected_before_work_starts() -> None:
    calls: list[tuple[int, int]] = []
    with LocalExecutor(2) as executor:
        with pytest.raises(ConfigError, match="<lambda>"):
            executor.map(lambda x: x + 1, [1, 2, 3], progress=lambda d, n: calls.append((d, n)))

        def nested(x: int) -> int:
            return x

        with pytest.raises(ConfigError, match="nested"):
            executor.map(nested, [1])
    assert calls == []
    # In-process execution has no such restriction.
    assert SerialExecutor().map(lambda x: x + 1, [1, 2]) == [2, 3]


def test_workers_see_this_process_sys_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # forkserver workers get the parent's sys.path when they start, so a module importable here
    # is importable there; once it is not, the error names fn instead of breaking the pool.
    (tmp_path / "tw_executor_probe.py").write_text("def triple(x):\n    return 3 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import tw_executor_probe  # type: ignore[import-not-found]

    monkeypatch.setitem(sys.modules, "tw_executor_probe", tw_executor_probe)
    with LocalExecutor(1) as executor:
        assert executor.map(tw_executor_probe.triple, [1, 2, 3]) == [3, 6, 9]
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    with LocalExecutor(1) as executor, pytest.raises(ConfigError, match="could not be loaded"):
        executor.map(tw_executor_probe.triple, [1, 2, 3])


_SLOW_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from tradewind.backtest.executors import LocalExecutor

    if __name__ == "__main__":
        executor = LocalExecutor(2, chunksize=1)
        executor.map(time.sleep, [0.0, 0.0])  # workers are up
        print("ready", flush=True)
        try:
            executor.map(time.sleep, [30.0] * 8)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(3)
        print("finished", flush=True)
    """
)


def _start_slow_script() -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=30) or proc.stdout.readline().strip() != "ready":
            proc.kill()
            pytest.fail(f"the script did not start its pool: {proc.communicate()}")
    time.sleep(0.3)  # let the slow map submit its tasks
    return proc


def _descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, start time) of every process below ``pid`` (psutil, else Linux /proc)."""
    if psutil is not None:
        return [(p.pid, str(p.create_time())) for p in psutil.Process(pid).children(True)]
    if not Path("/proc").is_dir():
        pytest.skip("needs psutil or /proc to list worker processes")
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found: list[tuple[int, str]] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append((child, _start_time(child)))
            todo.append(child)
    return found


def _start_time(pid: int) -> str:
    """A process's start time, or "" if it is gone or a zombie (exited, not yet reaped)."""
    if psutil is not None:
        try:
            process = psutil.Process(pid)
            zombie = process.status() == psutil.STATUS_ZOMBIE
            return "" if zombie else str(process.create_time())
        except psutil.NoSuchProcess:
            return ""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return ""
    return "" if fields[0] == "Z" else fields[19]


def _survivors(processes: list[tuple[int, str]], timeout: float) -> list[int]:
    """Pids from ``processes`` still running (same start time: not a reused pid) after
    waiting up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid, started in processes if started and _start_time(pid) == started]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def test_ctrl_c_stops_workers_and_reraises_keyboard_interrupt() -> None:
    proc = _start_slow_script()
    workers = _descendants(proc.pid)
    assert len(workers) >= 2  # the two pool workers (plus forkserver, resource tracker)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert time.monotonic() - started < 10
    assert proc.returncode == 3, err
    assert "interrupted" in out and "finished" not in out
    assert _survivors(workers, timeout=5.0) == []


def test_workers_exit_when_the_parent_is_killed() -> None:
    # SIGKILL leaves no chance to clean up: the workers notice their parent is gone.
    proc = _start_slow_script()
    workers = _descendants(proc.pid)
    assert len(workers) >= 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    assert _survivors(workers, timeout=5.0) == []


def test_make_executor() -> None:
    assert isinstance(make_executor("serial"), SerialExecutor)
    assert isinstance(make_executor("local", workers=1), SerialExecutor)
    local = make_executor("local", workers=3)
    assert isinstance(local, LocalExecutor) and local.workers == 3
    local.close()
    with pytest.raises(ConfigError, match=r"'dask'.*serial, local, ray"):
        make_executor("dask")
    with pytest.raises(ConfigError, match=r"workers must be an integer >= 1, got 0"):
        make_executor("local", workers=0)
    with pytest.raises(ConfigError, match=r"workers.*-2"):
        LocalExecutor(-2)
    with pytest.raises(ConfigError, match="address"):
        make_executor("local", address="auto")


def test_ray_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` raise ImportError
    with pytest.raises(ConfigError, match=r"pip install 'tradewind\[ray\]'"):
        make_executor("ray")
