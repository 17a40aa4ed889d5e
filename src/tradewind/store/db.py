"""Opening the operational database and bringing its schema up to date.

``open_store(url)`` returns a ``Store``: a SQLAlchemy engine plus a session factory. SQLite (the
default, ``sqlite:///tradewind.db``) runs in WAL mode with ``synchronous=FULL`` and foreign keys
on, so a committed transaction survives a killed process or a power cut; PostgreSQL URLs use
psycopg 3 (``postgresql+psycopg://...``; a bare ``postgresql://`` is mapped to it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.errors import ConfigError

DEFAULT_URL = "sqlite:///tradewind.db"


def normalise_url(url: str) -> str:
    """``postgresql://`` / ``postgres://`` -> the psycopg 3 driver; everything else unchanged."""
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def redact(url: str) -> str:
    """The URL with its password hidden (for messages and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


class Store:
    """The database of one deployment: ``with store.session() as s: ...`` commits or rolls back."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError as exc:
            raise ConfigError(f"database URL {url!r} is not a valid SQLAlchemy URL") from exc
        self.dialect = parsed.get_backend_name()
        kw: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            kw["connect_args"] = {"check_same_thread": False, "timeout": 30}
        elif self.dialect == "postgresql":
            kw["pool_pre_ping"] = True
        else:
            raise ConfigError(
                f"database {redact(url)}: only SQLite and PostgreSQL are supported, "
                f"got {self.dialect!r}"
            )
        self.engine: Engine = create_engine(self.url, **kw)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions() as s, s.begin():
            yield s

    def check(self) -> None:
        """Connect once; a clear error naming the (password-free) URL when that fails."""
        try:
            with self.engine.connect():
                pass
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ConfigError(f"cannot open database {redact(self.url)}: {reason}") from exc

    def tables(self) -> set[str]:
        return set(inspect(self.engine).get_table_names())

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to ``revision`` (default: the newest) with Alembic."""
        from alembic import command

        self.check()
        command.upgrade(alembic_config(self.url), revision)

    def downgrade(self, revision: str = "base") -> None:
        from alembic import command

        command.downgrade(alembic_config(self.url), revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def alembic_config(url: str) -> Any:
    """An Alembic ``Config`` for the migrations shipped inside the package (no alembic.ini)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("tradewind.store") / "migrations"))
    cfg.attributes["url"] = normalise_url(url)
    return cfg


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """The store at ``url`` (default: ``TRADEWIND_DATABASE_URL`` or ``sqlite:///tradewind.db``),
    migrated to the newest schema unless ``migrate=False``."""
    if url is None:
        from tradewind.config import Settings

        url = Settings().database_url
    store = Store(url)
    if migrate:
        store.migrate()
    return store
