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
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
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


def make_engine(url: str | URL, *, pool_size: int = 10) -> Engine:
    """An engine tuned for the backend: WAL and foreign keys on SQLite, a pool on PostgreSQL.

    On both, ``pool_size`` connections stay open and as many again may be opened for a
    burst. (SQLAlchemy's default for a SQLite file keeps five: beyond five concurrent units
    of work, each opened a connection of its own and ran the connection PRAGMAs again.)"""
    if str(url).startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **({} if _in_memory(make_url(url)) else _pool_of(pool_size)),
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        event.listen(engine, "before_cursor_execute", _sqlite_before_statement)
        event.listen(engine, "commit", _sqlite_on_end)
        event.listen(engine, "rollback", _sqlite_on_end)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _pool_of(pool_size: int) -> dict[str, int]:
    return {"pool_size": pool_size, "max_overflow": 0 if pool_size == 1 else pool_size}


def _in_memory(url: URL) -> bool:
    """An in-memory SQLite database (SQLAlchemy gives it a pool of its own kind)."""
    return (url.database or "") in ("", ":memory:") or "mode=memory" in str(url)


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


# SQLite transactions: a read takes no lock, a write takes the write lock before it starts.
#
# A unit of work opens no transaction until its first statement. If that is a read, it is a
# deferred ``BEGIN``: readers never wait for each other or for the writer (WAL). The first
# statement that writes (INSERT, UPDATE, DELETE, a SAVEPOINT, a SELECT ... FOR UPDATE, which
# SQLite's dialect compiles without the clause) needs the write lock. A deferred transaction
# that has read cannot wait for it: SQLite fails the upgrade at once with SQLITE_BUSY (its
# busy handler is not called), and for good if another writer committed after our snapshot.
# So the transaction, which has written nothing, is ended there (COMMIT, which also keeps any
# open cursor of it readable) and begun again with ``BEGIN IMMEDIATE``: that waits for the
# lock (busy_timeout) and reads the newest data from then on. A unit of work that writes
# first takes the lock at once, as before.
#
# What a unit of work read before its first write may be older than what it writes with:
# PostgreSQL's READ COMMITTED (its default, which the code is written for) allows the same,
# and what must not change between a read and a write is read ``FOR UPDATE`` there, which
# here takes the write lock first. So a read-only request (``GET /v1/vault/documents`` plus
# its audit entry) holds the write lock only for the audit entry's inserts and the commit.
_SQLITE_TX = "commons.db.sqlite_transaction"  # in the connection's info: what it holds
_PENDING, _READING, _WRITING = "pending", "reading", "writing"
_READ_STATEMENTS = ("SELECT", "PRAGMA", "EXPLAIN", "VALUES")
_WRITE_WORDS = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _sqlite_on_begin(conn: Connection) -> None:
    conn.info[_SQLITE_TX] = _PENDING


def _sqlite_on_end(conn: Connection) -> None:
    conn.info.pop(_SQLITE_TX, None)


def _sqlite_writes(statement: str, context: Any) -> bool:
    head = statement.lstrip()[:8].upper()
    if head.startswith("WITH"):
        return _WRITE_WORDS.search(statement) is not None
    if head.startswith(_READ_STATEMENTS):
        compiled = getattr(context, "compiled", None)
        return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None
    return True  # INSERT, UPDATE, DELETE, SAVEPOINT, DDL, anything unknown


def _sqlite_before_statement(
    conn: Connection, cursor: Any, statement: str, _params: Any, context: Any, _many: bool
) -> None:
    state = conn.info.get(_SQLITE_TX)
    if state is None or state == _WRITING:
        return
    raw = cursor.connection
    if not _sqlite_writes(statement, context):
        if state == _PENDING:
            raw.execute("BEGIN")
            conn.info[_SQLITE_TX] = _READING
        return
    if state == _READING:
        raw.execute("COMMIT")  # nothing was written: ends the snapshot, see above
    raw.execute("BEGIN IMMEDIATE")
    conn.info[_SQLITE_TX] = _WRITING


def has_written(connection: Connection) -> bool:
    """Whether ``connection``'s transaction may have written (on SQLite: holds the write
    lock). Always ``True`` on other databases, where nobody needs to know."""
    if connection.dialect.name != "sqlite":
        return True
    return connection.info.get(_SQLITE_TX) not in (_PENDING, _READING)


class GroupWriter:
    """Short writes of many threads, committed together: one transaction, one commit (one
    fsync on SQLite) for every write queued while the previous group was committing.

    A thread calls :meth:`write` and returns once its write is durable, or raises what made
    it fail. Whoever gets the writer's lock writes every queued write, its own and those of
    the threads that queued meanwhile (they find theirs done when they get the lock). The
    writes run on a connection of the writer's own (a one-connection pool), never on one of
    the request pool, which the waiting threads may all hold. A group that fails is written
    again one write at a time, so one bad write fails only its own thread.
    """

    def __init__(self, url: URL) -> None:
        self._engine = make_engine(url, pool_size=1)
        self._lock = threading.Lock()
        self._queue: list[_Queued] = []
        self._queue_lock = threading.Lock()

    def write(self, write: Callable[[Connection], object]) -> None:
        queued = _Queued(write)
        with self._queue_lock:
            self._queue.append(queued)
        with self._lock:
            if not queued.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit(group)
        if queued.error is not None:
            raise queued.error

    def _commit(self, group: list[_Queued]) -> None:
        try:
            with self._engine.begin() as connection:
                for queued in group:
                    queued.write(connection)
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
            else:
                for queued in group:
                    self._commit([queued])
        for queued in group:
            queued.done = True

    def dispose(self) -> None:
        self._engine.dispose()


class _Queued:
    __slots__ = ("done", "error", "write")

    def __init__(self, write: Callable[[Connection], object]) -> None:
        self.write = write
        self.done = False
        self.error: Exception | None = None


_GROUP_WRITERS: weakref.WeakKeyDictionary[Engine, GroupWriter] = weakref.WeakKeyDictionary()
_GROUP_WRITERS_LOCK = threading.Lock()


def group_writer(engine: Engine) -> GroupWriter | None:
    """The :class:`GroupWriter` of ``engine``'s database (one per engine, made on first use);
    None for an in-memory SQLite database, which a second connection would not share."""
    if engine.dialect.name == "sqlite" and _in_memory(engine.url):
        return None
    with _GROUP_WRITERS_LOCK:
        writer = _GROUP_WRITERS.get(engine)
        if writer is None:
            writer = _GROUP_WRITERS[engine] = GroupWriter(engine.url)
        return writer


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
        with _GROUP_WRITERS_LOCK:
            writer = _GROUP_WRITERS.pop(self.engine, None)
        if writer is not None:
            writer.dispose()
        self.engine.dispose()
