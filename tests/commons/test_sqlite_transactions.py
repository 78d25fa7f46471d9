"""SQLite's units of work: a read takes no lock, a write takes the write lock before it starts
(commons/db.py). Each test has a database file of its own and a second, plain ``sqlite3``
connection that plays another process."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update

from commons.db import Database

metadata = MetaData()
counter = Table(
    "test_counter",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", Integer, nullable=False),
    Column("note", String(50), nullable=True),
)


@pytest.fixture
def file_db(tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    path = tmp_path / "tx.sqlite3"
    database = Database.from_url(f"sqlite:///{path}")
    with database.transaction() as session:
        metadata.create_all(session.connection())
        session.execute(insert(counter).values(id=1, value=0))
    yield database, path
    database.dispose()


def other_process(path: Path) -> sqlite3.Connection:
    """Another writer that does not wait: a busy lock is an immediate error."""
    return sqlite3.connect(path, timeout=0, isolation_level=None)


def test_a_reading_unit_of_work_leaves_the_write_lock_free(
    file_db: tuple[Database, Path],
) -> None:
    database, path = file_db
    other = other_process(path)
    with database.transaction() as session:
        assert session.scalars(select(counter.c.value)).one() == 0
        # The unit of work is open and has read: another writer gets the lock at once.
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE test_counter SET value = 5")
        other.execute("COMMIT")
        # Its snapshot is unchanged: a read sees one state of the database.
        assert session.scalars(select(counter.c.value)).one() == 0
    other.close()


def test_a_write_after_reads_waits_for_the_lock_and_writes_on_the_newest_data(
    file_db: tuple[Database, Path],
) -> None:
    database, path = file_db
    other = other_process(path)
    with database.transaction() as session:
        assert session.scalars(select(counter.c.value)).one() == 0
        other.execute("UPDATE test_counter SET value = value + 1")  # commits after our read
        # A plain deferred transaction would fail here ("database is locked"): its snapshot
        # is older than the last commit. Ours begins again with the write lock.
        session.execute(update(counter).values(value=counter.c.value + 10))
        assert session.scalars(select(counter.c.value)).one() == 11
    with database.transaction() as session:
        assert session.scalars(select(counter.c.value)).one() == 11
    other.close()


@pytest.mark.parametrize("first", ["insert", "savepoint", "for_update"])
def test_a_write_holds_the_write_lock_until_the_unit_of_work_ends(
    file_db: tuple[Database, Path], first: str
) -> None:
    database, path = file_db
    other = other_process(path)
    with database.transaction() as session:
        session.scalars(select(counter.c.note)).all()
        if first == "insert":
            session.execute(insert(counter).values(id=2, value=0))
        elif first == "savepoint":
            with session.begin_nested():  # a savepoint means "about to write"
                session.scalars(select(counter.c.note)).all()
        else:
            # SQLite's dialect drops FOR UPDATE from the SQL; the lock is taken all the same.
            session.execute(select(counter.c.value).with_for_update()).all()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")  # free again
    other.execute("ROLLBACK")
    other.close()


def test_concurrent_read_then_write_units_of_work_lose_no_update(
    file_db: tuple[Database, Path],
) -> None:
    database, _path = file_db
    threads, rounds = 4, 25
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(rounds):
                with database.transaction() as session:
                    session.scalars(select(counter.c.note)).all()  # a read first: deferred
                    value = session.scalars(select(counter.c.value).with_for_update()).one()
                    session.execute(update(counter).values(value=value + 1))
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    with database.transaction() as session:
        assert session.scalars(select(counter.c.value)).one() == threads * rounds


def test_a_failed_write_rolls_back_and_frees_the_lock(file_db: tuple[Database, Path]) -> None:
    database, path = file_db

    def write_then_fail() -> None:
        with database.transaction() as session:
            session.scalars(select(counter.c.value)).all()
            session.execute(update(counter).values(value=99))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    other = other_process(path)
    other.execute("BEGIN IMMEDIATE")
    assert other.execute("SELECT value FROM test_counter").fetchone() == (0,)
    other.execute("ROLLBACK")
    other.close()
