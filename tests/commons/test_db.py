from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.exc import StatementError

from commons.db import Database, UTCDateTime

metadata = MetaData()
probe = Table(
    "test_probe",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("at", UTCDateTime(), nullable=True),
)


@pytest.fixture
def db(database: Database) -> Database:
    with database.transaction() as session:
        metadata.create_all(session.connection())
    return database


def test_unit_of_work_commits_on_success(db: Database) -> None:
    with db.transaction() as session:
        session.execute(insert(probe).values(id=1, name="kept"))
    with db.transaction() as session:
        assert session.scalars(select(probe.c.name)).all() == ["kept"]


def test_unit_of_work_rolls_back_on_error(db: Database) -> None:
    def write_then_fail() -> None:
        with db.transaction() as session:
            session.execute(insert(probe).values(id=2, name="lost"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    with db.transaction() as session:
        assert session.scalars(select(probe.c.name)).all() == []


def test_utc_datetime_round_trips_aware_and_refuses_naive(db: Database) -> None:
    at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    with db.transaction() as session:
        session.execute(insert(probe).values(id=3, name="t", at=at))
    with db.transaction() as session:
        value = session.scalar(select(probe.c.at))
    assert value == at
    assert value is not None
    assert value.tzinfo is not None
    with pytest.raises(StatementError, match="naive"), db.transaction() as session:
        session.execute(insert(probe).values(id=4, name="n", at=datetime(2026, 1, 1)))


def test_ping(db: Database) -> None:
    db.ping()
