"""Shared fixtures. Databases: a SQLite file always, PostgreSQL when a server is reachable.

PostgreSQL comes from ``TRADEWIND_TEST_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1
:5432/test``); each test gets a fresh database created on that server and dropped afterwards.
Without a reachable server the PostgreSQL cases skip, naming the URL, except when
``TRADEWIND_REQUIRE_SERVICES`` is set (``.ci/run`` sets it after starting the server): there a
skip would hide a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tradewind.store.db import normalise_url, redact

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def pg_admin_url() -> str:
    return normalise_url(os.environ.get("TRADEWIND_TEST_DATABASE_URL", PG_DEFAULT))


def _pg_reachable(url: str) -> str | None:
    try:
        eng = create_engine(url, connect_args={"connect_timeout": 3})
        with eng.connect():
            pass
        eng.dispose()
        return None
    except OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the test server (dropped afterwards)."""
    admin = pg_admin_url()
    problem = _pg_reachable(admin)
    if problem is not None:
        if os.environ.get("TRADEWIND_REQUIRE_SERVICES"):
            pytest.fail(f"PostgreSQL {redact(admin)} unreachable but required: {problem}")
        pytest.skip(f"PostgreSQL {redact(admin)} unreachable ({problem}); set "
                    "TRADEWIND_TEST_DATABASE_URL to run these")  # fmt: skip
    name = f"tw_test_{uuid.uuid4().hex[:12]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tradewind.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes it runs on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))
