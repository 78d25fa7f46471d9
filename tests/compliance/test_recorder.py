"""record_access batches a transaction's entries, but never lets one escape the transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commons.db import Database
from compliance import AccessEvent, Actor, record_access, record_accesses
from compliance.models import AccessEntry, AccessPersonal, LogNode, Pending
from tests.compliance.conftest import event


def _count(database: Database, model: Any) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_transactions_entries_go_in_one_statement(database: Database) -> None:
    statements: list[str] = []

    def seen(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if "INSERT INTO compliance_access_entry" in statement:
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
