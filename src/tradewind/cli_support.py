"""Console output and error handling shared by the ``tradewind`` commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tradewind.errors import ConfigError, TradewindError

EXIT_USER_ERROR = 2


def out_console() -> Console:
    return Console(highlight=False)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def fail(message: str) -> NoReturn:
    """Print ``error: message`` in red on stderr and exit with code 2."""
    err_console().print(f"error: {message}", style="red", markup=False, soft_wrap=True)
    raise typer.Exit(EXIT_USER_ERROR)


@contextmanager
def progress_bar(show: bool, what: str) -> Iterator[Callable[[int, int], None] | None]:
    """A transient progress bar on stderr, as an ``update(done, total)`` callback (None when
    not shown, so callers pass it straight to a ``progress=`` argument)."""
    if not show:
        yield None
        return
    cols = (
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*cols, console=err_console(), transient=True) as bar:
        task = bar.add_task(what, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def os_message(exc: OSError) -> str:
    if exc.filename is not None:
        return f"{exc.strerror or exc}: {exc.filename}"
    return str(exc)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can cause into ``error: ...`` and exit code 2."""
    try:
        yield
    except TradewindError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(os_message(exc))


def say(console: Console, text: str, style: str | None = None) -> None:
    """Print plain text (no markup interpretation, no hard wrapping), flushed at once: a long
    running command's messages (``serve``'s one-time password) must reach a log file or pipe
    when they are said, not when the process ends."""
    console.print(text, style=style, markup=False, soft_wrap=True)
    console.file.flush()


def parse_time(value: str, option: str) -> pd.Timestamp:
    """An ISO date or date-time as a UTC timestamp (naive values are UTC)."""
    try:
        ts = pd.Timestamp(value.strip())
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{option} {value!r} is not an ISO date/time (e.g. 2024-01-31 or 2024-01-31T12:00)"
        ) from exc
    if pd.isna(ts):
        raise ConfigError(f"{option} {value!r} is not an ISO date/time")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def iso(ns: int) -> str:
    return pd.Timestamp(ns, tz="UTC").isoformat()


def short_time(value: Any) -> str:
    """``2024-01-01T00:00:00+00:00`` -> ``2024-01-01``; otherwise ``2024-01-01 09:30``."""
    if value is None:
        return "n/a"
    ts = pd.Timestamp(value)
    if ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M:%S" if ts.second else "%Y-%m-%d %H:%M")


def print_written(console: Console, paths: Sequence[Path]) -> None:
    for p in paths:
        say(console, f"wrote {p}")


def print_repairs(console: Console, lines: Sequence[str]) -> None:
    if not lines:
        say(console, "repair: nothing to repair")
    for line in lines:
        say(console, f"repair: {line}", style="yellow")
