"""Engines, sessions and migrations for SQLite (WAL, serialised writers) and PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

log = logging.getLogger(__name__)


def _to_json(value: Any) -> str:
    # Chinese as itself, not \uXXXX escapes: half the size in SQLite's text, and readable there.
    return json.dumps(value, ensure_ascii=False)


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, schema: str | None = None) -> Engine:
    """An engine for ``url``. SQLite gets WAL mode, foreign keys, a busy timeout and ``BEGIN IMMEDIATE``
    transactions, so that concurrent writers queue instead of failing half-way; PostgreSQL gets
    ``search_path`` set to ``schema`` when one is given."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=_to_json)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # Take over transaction control from pysqlite so that BEGIN IMMEDIATE below is used.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # Read-then-write transactions must not interleave: take the write lock up front.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    return create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        connect_args=connect_args,
        json_serializer=_to_json,
    )


def make_read_only_engine(url: str) -> Engine:
    """An engine that can only read ``url`` (another service's database: a region reading its counties').

    SQLite opens the file with ``mode=ro`` (a missing file is an error, not a new empty database) and
    ``query_only``; PostgreSQL sessions start with ``default_transaction_read_only`` (added to any ``options`` the
    URL has, such as a ``search_path``), a 5 s connect timeout and a 30 s statement timeout. Nothing is connected
    until the first query."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if parsed.database in (None, "", ":memory:") or str(path).startswith("file:"):
            raise ValueError(f"expected a SQLite file, got {parsed.database!r}")
        uri = f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true"
        engine = create_engine(uri, connect_args={"check_same_thread": False, "timeout": 10})

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA query_only=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        return engine
    options = " ".join(
        part
        for part in (
            str(parsed.query.get("options", "")),
            "-c default_transaction_read_only=on",
            "-c statement_timeout=30000",
        )
        if part
    )
    return create_engine(
        parsed.difference_update_query(["options"]),
        pool_size=2,
        max_overflow=4,
        pool_pre_ping=True,
        connect_args={"options": options, "connect_timeout": 5},
    )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations in api/migrations to ``engine``'s database."""
    from alembic import command

    _migrate(engine, lambda config: command.upgrade(config, revision))
    log.info("database at revision %s", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo the Alembic migrations after ``revision``."""
    from alembic import command

    _migrate(engine, lambda config: command.downgrade(config, revision))


def _migrate(engine: Engine, run: Callable[[Any], None]) -> None:
    """Run ``run(alembic config)`` in one transaction. On SQLite, where altering a column copies its table,
    foreign keys are off meanwhile (a table others refer to can then be dropped and renamed back) and checked
    before the transaction commits."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        if sqlite:
            # Outside any transaction, or SQLite ignores it (the connection is in autocommit mode, see make_engine).
            raw.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                run(config)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:10]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def ensure_schema(engine: Engine, schema: str) -> None:
    """Create a PostgreSQL schema if it does not exist."""
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


# Every session on the service's database records its changes in the audit log (the hook registers on import).
from api.services import audit as _audit  # noqa: E402,F401
