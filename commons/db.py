"""Database plumbing: one declarative base, engines for SQLite and PostgreSQL, and the
unit of work.

The rule (Polar ADR-0003): one transaction per request or job. The framework layer opens
it and commits or rolls it back; domain services receive a :class:`~sqlalchemy.orm.Session`
and never call ``commit()`` themselves.

Erased data must not outlive its erasure in the database's files. On SQLite every connection
runs with ``secure_delete`` (deleted content is overwritten with zeros), and a unit of work
that erased personal data calls :func:`purge_after_commit`: once it has committed, the WAL is
checkpointed into the main file and truncated, so no frame holding the erased rows is left
in ``<db>-wal``. (PostgreSQL's dead tuples and WAL are the operator's: see docs/security.md.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

log = logging.getLogger("ozg.db")

_PURGE = "commons.db.purge_after_commit"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The one declarative base of ozg-commons. Tables are prefixed by their domain."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no time zones; PostgreSQL has ``timestamptz``. Naive values are refused on
    the way in, and values come back aware in UTC on both.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine tuned for the backend: WAL and foreign keys on SQLite, a pool on PostgreSQL."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take over transaction control from the sqlite3 module so BEGIN is ours (below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros, in the main file and in the WAL's frames.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # BEGIN IMMEDIATE takes the write lock up front: concurrent writers wait (busy_timeout)
    # instead of failing half-way with "database is locked" on lock upgrade.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def purge_after_commit(session: Session) -> None:
    """Ask that once ``session``'s unit of work has committed, what it deleted is purged from
    the database's files too (on SQLite: the WAL is checkpointed and truncated). Call it from
    code that erases personal data; it does nothing else and costs nothing on PostgreSQL."""
    session.info[_PURGE] = True


def checkpoint_sqlite_wal(engine: Engine, *, attempts: int = 20) -> bool:
    """Copy SQLite's WAL into the main file and truncate it to zero bytes.

    Runs on a connection of its own, outside any transaction. A reader that still holds an
    older snapshot blocks the truncation; it is retried for a short while. Returns whether
    the WAL is empty now; ``True`` at once for a database that is not SQLite.
    """
    if engine.dialect.name != "sqlite":
        return True
    for attempt in range(attempts):
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            row = cursor.fetchone()
            busy = bool(row and row[0])
            cursor.close()
        finally:
            raw.close()
        if not busy:
            return True
        time.sleep(0.01 * (attempt + 1))
    log.warning("the SQLite WAL could not be truncated after an erasure; it is retried next time")
    return False


class DatabaseUnreachable(Exception):
    """The database does not answer. The message is one line that names the host (or the
    SQLite file) and what went wrong, never the password or the driver's own message."""


# Phrases of driver messages (psycopg/libpq, sqlite3) -> what the one line says.
_REASONS = (
    ("password authentication failed", "authentication failed"),
    ("authentication failed", "authentication failed"),
    ("no password supplied", "authentication failed (no password supplied)"),
    ("connection refused", "connection refused"),
    ("timeout expired", "timed out"),
    ("timed out", "timed out"),
    ("could not translate host name", "unknown host"),
    ("name or service not known", "unknown host"),
    ("does not exist", "the database does not exist"),
    ("unable to open database file", "cannot open the file"),
    ("no route to host", "no route to host"),
    ("network is unreachable", "network unreachable"),
)


def describe_database(url: str) -> str:
    """Where ``url`` points, without credentials: ``PostgreSQL at db.internal:5432/ozg``."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "the database (OZG_DATABASE_URL is not a valid URL)"
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite at {parsed.database or ':memory:'}"
    host = parsed.host or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    name = f"/{parsed.database}" if parsed.database else ""
    backend = "PostgreSQL" if parsed.get_backend_name() == "postgresql" else parsed.drivername
    return f"{backend} at {host}{port}{name}"


def check_reachable(url: str, *, connect_timeout: int = 10) -> None:
    """Connect once and run ``SELECT 1``; raise :class:`DatabaseUnreachable` if that fails.

    Commands call it before they start work, so an unreachable database is one clear line
    instead of a driver traceback (which may quote connection parameters).
    """
    where = describe_database(url)
    try:
        args: dict[str, Any] = {}
        if not url.startswith("sqlite"):
            args["connect_args"] = {"connect_timeout": connect_timeout}
        engine = create_engine(url, poolclass=NullPool, **args)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise DatabaseUnreachable(
            f"cannot use {where}: {type(exc).__name__} (check OZG_DATABASE_URL)"
        ) from None
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        message = str(exc.orig).lower()
        reason = next((said for phrase, said in _REASONS if phrase in message), "unreachable")
        raise DatabaseUnreachable(f"cannot reach {where}: {reason}") from None
    finally:
        engine.dispose()


class Database:
    """An engine plus the session factory that every unit of work comes from."""

    def __init__(self, engine: Engine, *, bind: Engine | Connection | None = None) -> None:
        self.engine = engine
        kwargs: dict[str, Any] = {"expire_on_commit": False}
        if isinstance(bind, Connection):
            # Tests: run inside an outer transaction that is rolled back afterwards.
            kwargs["join_transaction_mode"] = "create_savepoint"
        self._sessions = sessionmaker(bind=bind or engine, **kwargs)
        self._bind_is_engine = not isinstance(bind, Connection)
        self._listeners: set[tuple[str, Callable[..., Any]]] = set()

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 10) -> Database:
        return cls(make_engine(url, pool_size=pool_size))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def session_class(self) -> type[Session]:
        """The class of this database's sessions (a subclass of ``Session`` of its own)."""
        session_class: type[Session] = self._sessions.class_
        return session_class

    def listen(self, identifier: str, listener: Callable[..., Any]) -> None:
        """Register a session event listener (``sqlalchemy.orm.SessionEvents``) for this
        database's sessions only, never for every ``Session`` in the process. Registering
        the same listener again does nothing."""
        # Kept here, not asked of ``event.contains``: SQLAlchemy keys class-level listeners by
        # the class's id, which a later Database's session class may reuse.
        if (identifier, listener) not in self._listeners:
            event.listen(self._sessions, identifier, listener)
            self._listeners.add((identifier, listener))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed if the block returns, rolled back if it raises.

        A unit of work that called :func:`purge_after_commit` purges the WAL after its commit.
        """
        with self._sessions() as session:
            with session.begin():
                yield session
            purge = session.info.pop(_PURGE, False)
        if purge:
            self.purge()

    def purge(self) -> None:
        """Purge deleted content from the database's files (SQLite: checkpoint the WAL).

        Nothing to do when this database runs inside a caller's connection (tests): that
        connection's transaction is still open."""
        if self._bind_is_engine:
            checkpoint_sqlite_wal(self.engine)

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self._sessions() as session:
            session.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
