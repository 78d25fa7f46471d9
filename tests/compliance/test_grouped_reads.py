"""On SQLite, a read's audit entries are committed in a short transaction of their own,
grouped with other reads' (compliance/recorder.py, commons.db.GroupWriter): the read never
takes the write lock, no entry is lost, and a read is answered only once its entry is in."""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, func, select, text

from commons.db import Database, GroupWriter, group_writer, has_written
from compliance import record_access
from compliance.keys import LogIdentity
from compliance.models import AccessEntry, AccessPersonal, Pending
from compliance.note import Signer
from compliance.recorder import install_recorder
from compliance.sequencer import sequence_all, sequence_pass
from gateway.migrations import upgrade
from tests.compliance.conftest import event as access_event
from tests.compliance.test_concurrency import check_database


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("grouped") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_db(migrated: Path, tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    """A fresh migrated SQLite file, used as the app uses it (sessions on the engine)."""
    path = tmp_path / "ozg.sqlite3"
    path.write_bytes(migrated.read_bytes())
    database = Database.from_url(f"sqlite:///{path}")
    install_recorder(database)
    yield database, path
    database.dispose()


def _count(database: Database, model: Any) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_reads_entry_is_committed_without_the_read_taking_the_write_lock(
    sqlite_db: tuple[Database, Path],
) -> None:
    database, path = sqlite_db
    on_the_reads_connection: list[str] = []
    event.listen(
        database.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: on_the_reads_connection.append(statement),
    )
    with database.transaction() as session:
        session.scalars(select(AccessEntry.id)).all()
        entry_id = record_access(session, access_event("subject-r"))
        assert not has_written(session.connection())
    assert [s for s in on_the_reads_connection if s.lstrip().upper().startswith("INSERT")] == []
    with database.transaction() as session:
        assert session.get(AccessEntry, entry_id) is not None
    # and it is on disk: another process reads it
    other = sqlite3.connect(path)
    assert other.execute(
        "SELECT count(*) FROM compliance_access_entry WHERE id = ?", (entry_id,)
    ).fetchone() == (1,)
    other.close()


def test_an_audited_read_costs_one_statement_for_its_entry(
    sqlite_db: tuple[Database, Path],
) -> None:
    """An audited read's entry, its personal part and its queue row are one statement (one
    executemany into the view whose trigger writes the three rows), on whichever of the
    database's connections it runs; the rows are what the writer hashed, in queue order."""
    database, _path = sqlite_db
    identity = LogIdentity(origin="test.example/audit", signer=Signer.generate("test.example"))
    with database.transaction() as session:  # the grouped writer's engine exists from now on
        record_access(session, access_event("warm-up"))
    statements: list[str] = []

    def seen(conn: Connection, _cur: Any, statement: str, *_a: Any) -> None:
        if conn.engine.url == database.engine.url:
            statements.append(" ".join(statement.split()).upper())

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        with database.transaction() as session:
            session.scalars(select(AccessEntry.id)).all()
            ids = [record_access(session, access_event(f"subject-{i}")) for i in range(3)]
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert [s for s in statements if not s.startswith("SELECT")] == [
        s for s in statements if s.startswith("INSERT INTO COMPLIANCE_ACCESS_APPEND ")
    ]
    assert len([s for s in statements if s.startswith("INSERT")]) == 1, statements
    with database.transaction() as session:
        assert session.scalars(select(Pending.entry_id).order_by(Pending.seq)).all()[1:] == ids
        assert (
            session.scalar(
                select(func.count())
                .select_from(AccessPersonal)
                .where(AccessPersonal.entry_id.in_(ids))
            )
            == 3
        )
    sequence_all(database, identity)
    assert check_database(database, identity) == 4


def test_a_read_is_not_answered_before_its_entry_is_committed(
    sqlite_db: tuple[Database, Path],
) -> None:
    database, path = sqlite_db
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    finished = threading.Event()

    def read() -> None:
        with database.transaction() as session:
            session.scalars(select(AccessEntry.id)).all()
            record_access(session, access_event("subject-w"))
        finished.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert not finished.wait(0.5)  # waiting for the lock, not answered
    blocker.execute("ROLLBACK")
    reader.join(timeout=30)
    assert finished.is_set()
    assert _count(database, AccessEntry) == 1
    blocker.close()


def test_a_unit_of_work_that_writes_keeps_its_entries_in_its_own_transaction(
    sqlite_db: tuple[Database, Path],
) -> None:
    database, _path = sqlite_db

    def write_then_fail() -> None:
        with database.transaction() as session:
            session.execute(text("UPDATE compliance_log_head SET size = size"))
            record_access(session, access_event("subject-x"))
            session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert _count(database, AccessEntry) == 0  # rolled back with the unit of work


def test_concurrent_reads_and_a_sequencer_lose_no_entry(
    sqlite_db: tuple[Database, Path],
) -> None:
    database, _path = sqlite_db
    signer = Signer.generate("test.example/audit")
    identity = LogIdentity(origin=signer.name, signer=signer)
    readers, rounds = 6, 20
    errors: list[BaseException] = []
    done = threading.Event()

    def reader(r: int) -> None:
        try:
            for i in range(rounds):
                with database.transaction() as session:
                    session.scalars(select(Pending.seq).limit(1)).all()
                    record_access(session, access_event(f"r{r}-{i}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def sequencer() -> None:
        try:
            while not done.is_set():
                with database.transaction() as session:
                    sequence_pass(session, identity, batch=25)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(r,)) for r in range(readers)]
    background = threading.Thread(target=sequencer)
    background.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    background.join()
    assert errors == []
    sequence_all(database, identity)
    assert check_database(database, identity) == readers * rounds


def test_writes_queued_meanwhile_are_committed_together(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'g.sqlite3'}")
    with database.transaction() as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
    writer = group_writer(database.engine)
    assert writer is not None
    commits: list[int] = []
    event.listen(writer._engine, "commit", lambda _c: commits.append(1))
    started = threading.Event()

    def slow(connection: Connection) -> None:
        started.set()
        time.sleep(0.3)
        connection.exec_driver_sql("INSERT INTO t VALUES (0)")

    first = threading.Thread(target=writer.write, args=(slow,))
    first.start()
    started.wait()

    def insert(n: int) -> None:
        writer.write(lambda c: c.exec_driver_sql("INSERT INTO t VALUES (?)", (n,)))

    others = [threading.Thread(target=insert, args=(n,)) for n in range(1, 6)]
    for t in others:
        t.start()
    time.sleep(0.1)  # all five queued while the first group commits
    first.join()
    for t in others:
        t.join()
    with database.transaction() as session:
        assert sorted(session.scalars(text("SELECT n FROM t"))) == [0, 1, 2, 3, 4, 5]
    assert len(commits) == 2  # the first write, then the five together
    database.dispose()


def test_a_failing_write_fails_only_its_own_caller(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'f.sqlite3'}")
    with database.transaction() as session:
        session.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    writer = GroupWriter(database.engine.url)
    gate = threading.Lock()
    gate.acquire()
    outcomes: dict[int, str] = {}

    def run(n: int, statement: str) -> None:
        try:
            writer.write(lambda c: c.exec_driver_sql(statement))
            outcomes[n] = "ok"
        except Exception as exc:
            outcomes[n] = type(exc).__name__

    def held(connection: Connection) -> None:
        with gate:
            connection.exec_driver_sql("INSERT INTO t VALUES (100)")

    first = threading.Thread(target=writer.write, args=(held,))
    first.start()
    time.sleep(0.1)
    threads = [
        threading.Thread(target=run, args=(1, "INSERT INTO t VALUES (1)")),
        threading.Thread(target=run, args=(2, "INSERT INTO missing VALUES (2)")),
        threading.Thread(target=run, args=(3, "INSERT INTO t VALUES (3)")),
    ]
    for t in threads:
        t.start()
    time.sleep(0.1)
    gate.release()
    first.join()
    for t in threads:
        t.join()
    assert outcomes == {1: "ok", 2: "OperationalError", 3: "ok"}
    with database.transaction() as session:
        assert sorted(session.scalars(text("SELECT n FROM t"))) == [1, 3, 100]
    writer.dispose()
    database.dispose()


def test_an_in_memory_database_keeps_the_entries_in_the_reads_transaction() -> None:
    database = Database.from_url("sqlite://")
    assert group_writer(database.engine) is None
    database.dispose()


def test_the_sequencer_thread_runs_at_most_one_pass_per_interval(
    sqlite_db: tuple[Database, Path],
) -> None:
    """Under load it never takes the log's lock back to back: a backlog larger than one
    batch drains one batch per interval."""
    from compliance.models import LogHead
    from compliance.sequencer import HEAD_ID, SequencerThread

    database, _path = sqlite_db
    with database.transaction() as session:
        for _ in range(5):
            record_access(session, access_event())
    identity = LogIdentity(origin="test.example/audit", signer=Signer.generate("test.example"))
    passes: list[float] = []

    def head_read(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if "FROM compliance_log_head" in statement:
            passes.append(time.monotonic())

    event.listen(database.engine, "before_cursor_execute", head_read)
    thread = SequencerThread(database, identity, interval=0.5, batch=2)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while _count(database, Pending) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        thread.stop()
        event.remove(database.engine, "before_cursor_execute", head_read)
    assert _count(database, Pending) == 0
    with database.transaction() as session:
        assert session.get(LogHead, HEAD_ID).size == 5  # type: ignore[union-attr]
    gaps = [b - a for a, b in itertools.pairwise(passes)]
    assert len(passes) >= 3  # 2 + 2 + 1 entries
    assert min(gaps) >= 0.4, gaps  # 0.5 s, less the jitter of a pass's first statement
