from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wire import WireServer, serve


@pytest.fixture
def wire() -> Iterator[WireServer]:
    """A fresh local HTTP server per test (see wire.py)."""
    yield from serve()


@pytest.fixture
def no_sleep() -> list[float]:
    """Pass ``sleep=no_sleep.append`` to an HttpClient: waits are recorded, not slept."""
    return []
