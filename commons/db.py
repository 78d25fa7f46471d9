"""Database plumbing: one declarative base, engines for SQLite and PostgreSQL, and the
unit of work.

The rule (Polar ADR-0003): one transaction per request or job. The framework layer opens
it and commits or rolls it back; domain services receive a :class:`~sqlalchemy.orm.Session`
and never call ``commit()`` themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

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
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # BEGIN IMMEDIATE takes the write lock up front: concurrent writers wait (busy_timeout)
    # instead of failing half-way with "database is locked" on lock upgrade.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """An engine plus the session factory that every unit of work comes from."""

    def __init__(self, engine: Engine, *, bind: Engine | Connection | None = None) -> None:
        self.engine = engine
        kwargs: dict[str, Any] = {"expire_on_commit": False}
        if isinstance(bind, Connection):
            # Tests: run inside an outer transaction that is rolled back afterwards.
            kwargs["join_transaction_mode"] = "create_savepoint"
        self._sessions = sessionmaker(bind=bind or engine, **kwargs)
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
        """One unit of work: committed if the block returns, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self._sessions() as session:
            session.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
