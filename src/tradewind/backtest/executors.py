"""Executors: run independent research tasks ``fn(item) -> result`` serially, on local
processes or on Ray.

Parameter sweeps, walk-forward windows and Monte Carlo re-runs are all "map one function over
many items". The apps build the list and call ``executor.map(fn, items, progress=...)``; which
executor runs it is a CLI/config choice (``--executor serial|local|ray --workers N --address``),
made once with :func:`make_executor`. Every executor gives the same contract:

* results come back in input order, whatever order the tasks finished in;
* ``progress(done, total)`` is called in the calling process as tasks finish (``done`` counts
  items and only grows; the last call is ``(total, total)``);
* a task that raises stops the whole map: the remaining tasks are cancelled and a
  :class:`TaskError` naming the item index is raised, chained to the original exception;
* Ctrl-C cancels everything outstanding, stops the workers and re-raises ``KeyboardInterrupt``.

For the process pool and Ray, ``fn`` and the items must be picklable: pass a module-level
function or a ``functools.partial`` of one (the partial may carry the price data: it is sent to
each worker once, not once per task).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import math
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from tradewind.errors import ConfigError, TradewindError

__all__ = [
    "EXECUTOR_NAMES",
    "Executor",
    "LocalExecutor",
    "ProgressFn",
    "RayExecutor",
    "SerialExecutor",
    "TaskError",
    "make_executor",
]

T = TypeVar("T")
R = TypeVar("R")

ProgressFn = Callable[[int, int], None]
"""``progress(done, total)``: items finished so far and items in the map."""

EXECUTOR_NAMES = ("serial", "local", "ray")

RAY_MISSING = "--executor ray needs the 'ray' extra: pip install 'tradewind[ray]'"

# Auto chunking: aim for ~8 chunks per worker (good load balance for uneven tasks) but never
# more than this many items per chunk (progress stays fine-grained, a failure is found early).
_CHUNKS_PER_WORKER = 8
_MAX_AUTO_CHUNK = 256
# Chunks submitted but not yet finished, per worker: enough to keep every worker busy while the
# parent handles results, small enough that a 100k-item map is never pickled all at once.
_INFLIGHT_PER_WORKER = 2


class TaskError(TradewindError):
    """A task raised: names the item index (``.index``) and chains the original exception."""

    def __init__(self, index: int, original: BaseException, stop: int | None = None) -> None:
        self.index = index
        self.original = original
        self.stop = stop
        if stop is None or stop - index <= 1:
            where = f"item {index}"
        else:
            where = f"one of items {index}..{stop - 1}"
        detail = f"{type(original).__name__}: {original}" if str(original) else repr(original)
        super().__init__(f"task for {where} failed: {detail}")

    def __reduce__(self) -> tuple[Any, ...]:
        # The message is derived, so rebuild from the constructor arguments (pickle-safe).
        return (type(self), (self.index, self.original, self.stop))


class Executor(Protocol):
    """Runs ``fn`` over ``items``; see the module docstring for the shared contract."""

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        progress: ProgressFn | None = None,
    ) -> list[R]:
        """``[fn(item) for item in items]``, possibly in parallel, in input order."""
        ...

    def close(self) -> None:
        """Release workers (idempotent)."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class _ClosingContext:
    """``with executor:`` closes it on exit."""

    def close(self) -> None:
        """Nothing to release by default."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# Task running, shared by every executor (and run inside the workers)
# --------------------------------------------------------------------------------------------


class _TaskFailure(Exception):
    """Carries a failing item's index from a worker back to the parent (picklable)."""

    def __init__(self, index: int, original: BaseException) -> None:
        super().__init__(index, original)
        self.index = index
        self.original = original


class _FnLoadError(Exception):
    """A worker could not unpickle ``fn`` (e.g. it lives in an interactive ``__main__``)."""


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives a pickle round trip, else a RuntimeError with its text.

    An exception whose ``__init__`` does not accept its own ``args`` pickles but fails to
    unpickle in the parent, which would break the whole process pool instead of naming the item.
    """
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__qualname__}: {exc} (exception was not picklable)")
    return exc


def _call_chunk(fn: Callable[[T], R], start: int, chunk: Sequence[T]) -> list[R]:
    """Run ``fn`` over one chunk; a failure names the item's index in the whole map."""
    out: list[R] = []
    for offset, item in enumerate(chunk):
        try:
            out.append(fn(item))
        except Exception as exc:
            raise _TaskFailure(start + offset, _portable(exc)) from exc
    return out


def _task_error(failure: _TaskFailure) -> TaskError:
    """The parent-side error for a failure reported by a worker."""
    original = failure.original
    if original.__cause__ is None and failure.__cause__ is not None:
        # Keep the worker's formatted traceback (concurrent.futures' _RemoteTraceback) visible.
        original.__cause__ = failure.__cause__
    return TaskError(failure.index, original)


def _chunk_bounds(n: int, chunksize: int) -> list[tuple[int, int]]:
    return [(start, min(start + chunksize, n)) for start in range(0, n, chunksize)]


def _auto_chunksize(n: int, workers: int) -> int:
    return max(1, min(_MAX_AUTO_CHUNK, n // (workers * _CHUNKS_PER_WORKER)))


def _describe(fn: object) -> str:
    """A readable name for ``fn`` in error messages."""
    if isinstance(fn, functools.partial):
        return f"functools.partial({_describe(fn.func)}, ...)"
    qualname = getattr(fn, "__qualname__", None)
    if qualname is None:
        return repr(fn)
    module = getattr(fn, "__module__", None)
    return f"{module}.{qualname}" if module else str(qualname)


def _check_positive(field: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(f"{field} must be an integer >= 1, got {value!r}")


# --------------------------------------------------------------------------------------------
# Serial
# --------------------------------------------------------------------------------------------


class SerialExecutor(_ClosingContext):
    """Runs every task in this process, one after the other (``--workers 1``, tiny jobs, tests).

    ``fn`` need not be picklable here.
    """

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        progress: ProgressFn | None = None,
    ) -> list[R]:
        """``[fn(item) for item in items]``; a failure raises :class:`TaskError`."""
        total = len(items)
        out: list[R] = []
        for index, item in enumerate(items):
            try:
                out.append(fn(item))
            except Exception as exc:
                raise TaskError(index, exc) from exc
            if progress is not None:
                progress(index + 1, total)
        return out

    def __repr__(self) -> str:
        return "SerialExecutor()"


# --------------------------------------------------------------------------------------------
# Local process pool
# --------------------------------------------------------------------------------------------

# Per-worker state, set once by the pool initializer (a dict, not module globals to rebind).
_WORKER: dict[str, Any] = {}


def _exit_when_parent_dies(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _init_worker(fn_payload: bytes) -> None:
    """Pool initializer: ignore Ctrl-C, die with the parent, unpickle ``fn`` once."""
    # The terminal sends SIGINT to the whole process group; the parent alone handles it and
    # terminates the workers, so idle workers do not each print a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # If the parent is killed (SIGKILL, OOM) nobody terminates us: leave when its pipe closes.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(
            target=_exit_when_parent_dies, args=(parent.sentinel,), daemon=True
        ).start()
    try:
        _WORKER["fn"] = pickle.loads(fn_payload)
    except Exception as exc:
        _WORKER["load_error"] = f"{type(exc).__name__}: {exc}"


def _run_chunk_in_worker(start: int, chunk: Sequence[Any]) -> list[Any]:
    fn = _WORKER.get("fn")
    if fn is None:
        raise _FnLoadError(_WORKER.get("load_error", "worker was not initialised"))
    return _call_chunk(fn, start, chunk)


def _default_workers() -> int:
    # Cores this process may run on (respects taskset/cpusets), falling back to os.cpu_count().
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _mp_context() -> multiprocessing.context.BaseContext:
    # Not "fork": numba's threading layers (workqueue/OpenMP/TBB), BLAS pools, Ray and our own
    # pool's feeder threads may already be running in this process, and fork() copies their
    # locks in whatever state they are in, so a child can deadlock (OpenMP even aborts with
    # "fork() called from a process already using GNU OpenMP"). "forkserver" forks each worker
    # from a small single-threaded server process started once: as clean as "spawn", much
    # cheaper per worker. Workers still get this process's sys.path and __main__ (multiprocessing
    # sends them to every new child). macOS and Windows have no safe fork: use "spawn".
    method = "forkserver" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


class LocalExecutor(_ClosingContext):
    """Runs tasks on a pool of local worker processes (the default executor).

    ``workers`` defaults to every core this process may use. ``chunksize`` items go to a worker
    per task (default: automatic, up to ``256``, ~8 chunks per worker; pass ``1`` for few
    expensive tasks). The pool is started on the first ``map`` and kept for later maps of the
    same ``fn``; ``fn`` is pickled once and unpickled once per worker, so a
    ``functools.partial`` carrying a large price frame is not re-sent with every task.

    Scripts that use it must guard their entry point with ``if __name__ == "__main__":``
    (workers import the main module, as with any non-fork multiprocessing start method).
    """

    def __init__(self, workers: int | None = None, *, chunksize: int | None = None) -> None:
        _check_positive("workers", workers)
        _check_positive("chunksize", chunksize)
        self.workers: int = workers if workers is not None else _default_workers()
        self.chunksize = chunksize
        self._pool: ProcessPoolExecutor | None = None
        self._pool_payload: bytes | None = None

    def __repr__(self) -> str:
        return f"LocalExecutor(workers={self.workers}, chunksize={self.chunksize})"

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        progress: ProgressFn | None = None,
    ) -> list[R]:
        """Run ``fn`` over ``items`` on the worker processes; results in input order."""
        payload = self._pickle_fn(fn)
        total = len(items)
        if total == 0:
            return []
        pool = self._pool_for(payload)
        chunksize = self.chunksize or _auto_chunksize(total, self.workers)
        bounds = _chunk_bounds(total, chunksize)
        max_inflight = self.workers * _INFLIGHT_PER_WORKER
        results: dict[int, list[R]] = {}
        pending: dict[Future[list[Any]], tuple[int, int]] = {}
        submitted = 0
        done = 0
        try:
            while submitted < len(bounds) or pending:
                while submitted < len(bounds) and len(pending) < max_inflight:
                    start, stop = bounds[submitted]
                    future = pool.submit(_run_chunk_in_worker, start, items[start:stop])
                    pending[future] = (start, stop)
                    submitted += 1
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=lambda f: pending[f][0]):
                    start, stop = pending.pop(future)
                    results[start] = self._chunk_result(future, fn, start, stop)
                    done += stop - start
                    if progress is not None:
                        progress(done, total)
        except BaseException:
            # A failed task, Ctrl-C or a raising progress callback: stop everything now.
            self._abort()
            raise
        return [result for start, _ in bounds for result in results[start]]

    def close(self) -> None:
        """Shut the worker processes down, waiting for running tasks (idempotent)."""
        pool, self._pool, self._pool_payload = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=True)

    @staticmethod
    def _pickle_fn(fn: Callable[..., Any]) -> bytes:
        try:
            return pickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise ConfigError(
                f"fn {_describe(fn)} cannot be sent to worker processes ({exc}); pass a "
                "module-level function or a functools.partial of one (lambdas, nested "
                "functions and bound methods of unpicklable objects cannot be pickled), "
                "or use the serial executor"
            ) from exc

    def _pool_for(self, payload: bytes) -> ProcessPoolExecutor:
        if self._pool is not None and self._pool_payload != payload:
            self.close()  # idle between maps: a plain shutdown is quick
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=_mp_context(),
                initializer=_init_worker,
                initargs=(payload,),
            )
            self._pool_payload = payload
        return self._pool

    @staticmethod
    def _chunk_result(
        future: Future[list[Any]], fn: Callable[..., Any], start: int, stop: int
    ) -> list[Any]:
        try:
            return future.result()
        except _TaskFailure as failure:
            raise _task_error(failure) from failure.original
        except _FnLoadError as exc:
            raise ConfigError(
                f"fn {_describe(fn)} could not be loaded in the worker processes ({exc}); "
                "define it in an importable module (functions typed into an interactive "
                "session or a `python -c` script do not exist in the workers)"
            ) from exc
        except BrokenProcessPool as exc:
            raise TaskError(
                start,
                RuntimeError(f"a worker process died (killed, out of memory or crashed): {exc}"),
                stop,
            ) from exc
        except Exception as exc:  # e.g. an item or a result that could not be pickled
            raise TaskError(start, exc, stop) from exc

    def _abort(self) -> None:
        """Cancel queued tasks and terminate the workers now; the next map starts a new pool."""
        pool, self._pool, self._pool_payload = self._pool, None, None
        if pool is None:
            return
        # shutdown() forgets the processes, so take them first (private, but stable since 3.3).
        processes = list((pool._processes or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=2.0)
            if process.is_alive():
                process.kill()
                process.join(timeout=2.0)


# --------------------------------------------------------------------------------------------
# Ray
# --------------------------------------------------------------------------------------------


def _import_ray() -> Any:
    try:
        return importlib.import_module("ray")
    except ImportError as exc:
        raise ConfigError(RAY_MISSING) from exc


@contextlib.contextmanager
def _uv_worker_env_disabled(ray: Any, *, local: bool) -> Iterator[None]:
    """For a local instance, stop Ray re-creating the driver's ``uv run`` env for its workers.

    Under ``uv run`` Ray (>= 2.43) packages the working directory and starts every worker
    through ``uv run``: seconds per worker start and a copy of the project, for nothing on a
    local instance whose workers run this very interpreter. Clusters keep Ray's behaviour, and
    an explicit ``RAY_ENABLE_UV_RUN_RUNTIME_ENV`` setting is always respected.
    """
    constants = getattr(getattr(ray, "_private", None), "ray_constants", None)
    flag = "RAY_ENABLE_UV_RUN_RUNTIME_ENV"
    if not local or flag in os.environ or not hasattr(constants, flag):
        yield
        return
    saved = getattr(constants, flag)
    setattr(constants, flag, False)
    try:
        yield
    finally:
        setattr(constants, flag, saved)


class RayExecutor(_ClosingContext):
    """Runs tasks as Ray remote tasks on a local Ray instance or a cluster.

    ``address=None`` starts a private local instance (no dashboard, worker output not echoed)
    sized by ``num_cpus``; any other address (``"auto"``, ``"host:port"``, ``"ray://..."``)
    connects to that cluster, and ``num_cpus`` then caps how many tasks run at once. If Ray is
    already initialised in this process it is reused as is. Workers on a cluster need
    ``tradewind`` (and whatever ``fn`` imports) installed.
    """

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        *,
        chunksize: int | None = None,
    ) -> None:
        _check_positive("num_cpus", num_cpus)
        _check_positive("chunksize", chunksize)
        self._ray = _import_ray()
        self.address = address
        self.num_cpus = num_cpus
        self.chunksize = chunksize
        self._owns_ray = False
        if not self._ray.is_initialized():
            self._init_ray()
        self._remote = self._ray.remote(_call_chunk)

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r}, num_cpus={self.num_cpus})"

    def _init_ray(self) -> None:
        local = self.address is None
        options: dict[str, Any] = {
            # "local": a fresh instance even if RAY_ADDRESS or an earlier `ray start` exists.
            "address": "local" if local else self.address,
            "include_dashboard": False,
            "log_to_driver": False,
            "ignore_reinit_error": True,
            "configure_logging": False,
        }
        if local and self.num_cpus is not None:
            options["num_cpus"] = self.num_cpus
        try:
            with _uv_worker_env_disabled(self._ray, local=local):
                self._ray.init(**options)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise ConfigError(
                f"--executor ray: could not start or connect to Ray at address="
                f"{self.address!r}: {exc}"
            ) from exc
        self._owns_ray = True

    def _concurrency(self) -> int:
        if self.num_cpus is not None:
            return self.num_cpus
        cpus = float(self._ray.cluster_resources().get("CPU", 1))
        return max(1, math.floor(cpus))

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        progress: ProgressFn | None = None,
    ) -> list[R]:
        """Run ``fn`` over ``items`` as Ray tasks; results in input order."""
        ray = self._ray
        total = len(items)
        try:
            fn_ref = ray.put(fn)  # serialised once, shared by every task
        except Exception as exc:
            raise ConfigError(
                f"fn {_describe(fn)} cannot be sent to Ray workers ({exc}); pass a picklable "
                "function or functools.partial"
            ) from exc
        if total == 0:
            return []
        concurrency = self._concurrency()
        chunksize = self.chunksize or _auto_chunksize(total, concurrency)
        bounds = _chunk_bounds(total, chunksize)
        max_inflight = concurrency * _INFLIGHT_PER_WORKER
        results: dict[int, list[R]] = {}
        pending: dict[Any, tuple[int, int]] = {}
        submitted = 0
        done = 0
        try:
            while submitted < len(bounds) or pending:
                while submitted < len(bounds) and len(pending) < max_inflight:
                    start, stop = bounds[submitted]
                    ref = self._remote.remote(fn_ref, start, list(items[start:stop]))
                    pending[ref] = (start, stop)
                    submitted += 1
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    start, stop = pending.pop(ref)
                    results[start] = self._chunk_result(ref, start, stop)
                    done += stop - start
                    if progress is not None:
                        progress(done, total)
        except BaseException:
            for ref in pending:
                # A ref that already finished or is gone has nothing to cancel.
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise
        return [result for start, _ in bounds for result in results[start]]

    def _chunk_result(self, ref: Any, start: int, stop: int) -> list[Any]:
        ray = self._ray
        try:
            out: list[Any] = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, _TaskFailure):
                raise TaskError(cause.index, cause.original) from cause.original
            raise TaskError(start, cause if cause is not None else exc, stop) from exc
        except ray.exceptions.RayError as exc:  # worker crashed, object lost, ...
            raise TaskError(start, exc, stop) from exc
        return out

    def close(self) -> None:
        """Shut Ray down if this executor started it; a Ray it found running is left alone."""
        if self._owns_ray:
            self._owns_ray = False
            self._ray.shutdown()


# --------------------------------------------------------------------------------------------
# Factory
# --------------------------------------------------------------------------------------------


def make_executor(
    name: str = "local", *, workers: int | None = None, address: str | None = None
) -> Executor:
    """The executor for ``--executor NAME [--workers N] [--address ADDR]``.

    ``local`` with ``workers=1`` runs serially (no process start-up); for ``ray``, ``workers``
    sizes the local Ray instance (or caps concurrency on a cluster).
    """
    key = name.strip().lower()
    if key not in EXECUTOR_NAMES:
        raise ConfigError(f"executor {name!r} is unknown; expected one of: serial, local, ray")
    _check_positive("workers", workers)
    if address is not None and key != "ray":
        raise ConfigError(f"address {address!r} only applies to executor 'ray', not {key!r}")
    if key == "serial":
        return SerialExecutor()
    if key == "local":
        return SerialExecutor() if workers == 1 else LocalExecutor(workers)
    return RayExecutor(address=address, num_cpus=workers)
