"""Migrations: empty database -> newest schema -> empty again, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tradewind.errors import ConfigError
from tradewind.store import Store
from tradewind.store.models import AuditRow, Base


def test_upgrade_matches_models_and_downgrade_empties(db_url: str) -> None:
    store = Store(db_url)
    assert store.tables() == set()
    store.migrate()
    assert store.current_revision() is not None
    assert set(Base.metadata.tables) <= store.tables()
    with store.engine.connect() as conn:  # the migrations build exactly what the models say
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    store.downgrade("base")
    assert store.tables() <= {"alembic_version"}
    store.migrate()  # and up again from there
    assert set(Base.metadata.tables) <= store.tables()
    store.dispose()


def test_audit_log_is_append_only_in_the_database(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    with store.session() as s:
        s.add(AuditRow(actor="user:alice", action="login"))
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(sql))
    with store.session() as s:
        assert [r.actor for r in s.query(AuditRow)] == ["user:alice"]
    store.dispose()


def test_unsupported_or_unreachable_database_is_named() -> None:
    with pytest.raises(ConfigError, match="only SQLite and PostgreSQL"):
        Store("mysql://root@127.0.0.1/test")
    bad = Store("postgresql://nobody:secret-pw@127.0.0.1:1/none")
    with pytest.raises(ConfigError, match="cannot open database") as err:
        bad.check()
    assert "secret-pw" not in str(err.value)
