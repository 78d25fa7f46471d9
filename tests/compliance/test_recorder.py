"""record_access batches a transaction's entries, but never lets one escape the transaction."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commons.db import Database
from compliance import AccessEvent, Actor, record_access, record_accesses
from compliance.models import AccessEntry, AccessPersonal, LogNode, Pending
from compliance.recorder import install_recorder
from tests.compliance.conftest import event

SESSION_EVENTS = (
    "do_orm_execute",
    "before_flush",
    "before_commit",
    "after_transaction_create",
    "after_transaction_end",
)


@pytest.fixture(params=["installed", "per-session"])
def database(request: pytest.FixtureRequest, database: Database) -> Database:
    """Every test below runs twice: with the recorder bound to the database's session factory
    (as the app does), and without (a job's own Database: each session binds itself)."""
    if request.param == "installed":
        install_recorder(database)
    return database


def _compliance_listeners(session: Session) -> list[Any]:
    """The compliance listeners ``session`` runs, over the events the recorder uses."""
    return [
        fn
        for name in SESSION_EVENTS
        for fn in getattr(session.dispatch, name)
        if getattr(fn, "__module__", "").startswith("compliance")
    ]


def _count(database: Database, model: Any) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_transactions_entries_go_in_one_statement(database: Database) -> None:
    """All three rows of every entry (entry, personal part, queue row) in ONE statement on
    both databases (SQLite: one executemany into the view whose trigger writes them)."""
    statements: list[str] = []

    def seen(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "WITH")):
            statements.append(statement)

    engine = database.engine
    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        with database.transaction() as session:
            ids = record_accesses(session, [event(f"s{i}") for i in range(50)])
            ids.append(record_access(session, event("one more")))
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 1
    assert len(set(ids)) == 51
    assert _count(database, AccessEntry) == _count(database, AccessPersonal) == 51
    assert _count(database, Pending) == 51


def test_the_transaction_sees_its_own_entries(database: Database) -> None:
    with database.transaction() as session:
        entry_id = record_access(session, event("me"))
        entry = session.get(AccessEntry, entry_id)
        assert entry is not None
        assert entry.leaf_index is None
        personal = session.scalars(
            select(AccessPersonal).where(AccessPersonal.data_subject == "me")
        ).one()
        assert personal.entry_id == entry_id


def test_a_rolled_back_transaction_leaves_neither_access_nor_entry(database: Database) -> None:
    def access_then_fail() -> None:
        with database.transaction() as session:
            session.add(LogNode(level=63, idx=9, hash=bytes(32)))  # the "access"
            record_access(session, event())
            raise RuntimeError

    with pytest.raises(RuntimeError):
        access_then_fail()
    assert _count(database, AccessEntry) == 0
    assert _count(database, LogNode) == 0


def test_an_entry_survives_a_rolled_back_savepoint_after_it(database: Database) -> None:
    def failing_savepoint(session: Session) -> None:
        with session.begin_nested():
            session.add(LogNode(level=63, idx=10, hash=bytes(32)))
            session.flush()  # inside the savepoint: rolled back with it
            raise RuntimeError

    with database.transaction() as session:
        record_access(session, event("before the savepoint"))
        with pytest.raises(RuntimeError):
            failing_savepoint(session)
    with database.transaction() as session:
        subjects = list(session.scalars(select(AccessPersonal.data_subject)))
    assert subjects == ["before the savepoint"]


def test_a_failing_write_fails_the_commit_and_rolls_the_access_back(database: Database) -> None:
    bad = AccessEvent(
        actor=Actor(None, "caseworker"),  # type: ignore[arg-type]  # actor_subject NOT NULL
        data_subject="s",
        action="a.b.c",
        resource="r",
        purpose="p",
        legal_basis="l",
    )

    def access() -> None:
        with database.transaction() as session:
            session.add(LogNode(level=63, idx=11, hash=bytes(32)))
            session.flush()  # the access happened...
            record_access(session, bad)  # ...and its entry is refused at commit

    with pytest.raises(IntegrityError):
        access()
    assert _count(database, AccessEntry) == 0
    assert _count(database, LogNode) == 0


def test_a_plain_session_has_no_compliance_listeners(app: FastAPI, engine: Engine) -> None:
    # compliance is imported and an app (whose database has the recorder) is configured...
    with app.state.database.transaction() as session:
        assert len(_compliance_listeners(session)) == len(SESSION_EVENTS)
    # ...but a session made without our Database has none (nor does one that never records).
    with Session(bind=engine) as plain:
        assert _compliance_listeners(plain) == []


def test_install_binds_only_that_database_and_only_once(engine: Engine) -> None:
    mine, other = Database(engine), Database(engine)
    install_recorder(mine)
    install_recorder(mine)
    with mine.transaction() as session:
        assert len(_compliance_listeners(session)) == len(SESSION_EVENTS)
    with other.transaction() as session:
        assert _compliance_listeners(session) == []


def test_every_new_database_gets_the_listeners(engine: Engine) -> None:
    # SQLAlchemy keys class-level listeners by the class's id; a freed Database's session
    # class id is reused at once, so asking SQLAlchemy "already listening?" would say yes.
    for _ in range(20):
        database = Database(engine)
        install_recorder(database)
        with database.transaction() as session:
            assert len(_compliance_listeners(session)) == len(SESSION_EVENTS)
        del database, session
        gc.collect()


def test_a_plain_session_that_records_writes_its_entries(engine: Engine) -> None:
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
                record_access(session, event("plain"))
                assert len(_compliance_listeners(session)) == len(SESSION_EVENTS)
                session.commit()
                # a second unit of work in the same session does not bind it again
                record_access(session, event("plain again"))
                session.commit()
                assert len(_compliance_listeners(session)) == len(SESSION_EVENTS)
            subjects = list(
                conn.scalars(
                    select(AccessPersonal.data_subject).order_by(AccessPersonal.data_subject)
                )
            )
            assert subjects == ["plain", "plain again"]
        finally:
            outer.rollback()
