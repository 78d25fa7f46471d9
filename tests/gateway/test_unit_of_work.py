"""One transaction per request: committed by the framework when the handler returns,
rolled back when it raises. Handlers never commit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import String, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from commons.db import Database
from commons.errors import Conflict
from commons.web import DbSession


class _TestBase(DeclarativeBase):
    pass


class Note(_TestBase):
    __tablename__ = "test_uow_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(50))


metadata = _TestBase.metadata


@pytest.fixture
def uow_client(app: FastAPI, database: Database) -> Iterator[TestClient]:
    with database.transaction() as session:
        metadata.create_all(session.connection())
    router = APIRouter()

    @router.post("/notes/{note_id}")
    def create(note_id: int, session: DbSession) -> dict[str, int]:
        session.execute(insert(Note).values(id=note_id, text="kept"))
        return {"id": note_id}

    @router.post("/notes/{note_id}/fail")
    def create_then_fail(note_id: int, session: DbSession) -> None:
        session.execute(insert(Note).values(id=note_id, text="lost"))
        raise Conflict("refused after writing")

    @router.post("/notes/{note_id}/orm")
    def create_orm(note_id: int, session: DbSession) -> dict[str, int]:
        session.add(Note(id=note_id, text="flushed at commit"))
        return {"id": note_id}

    @router.get("/notes")
    def list_notes(session: DbSession) -> list[int]:
        return list(session.scalars(select(Note.id)))

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_request_transaction_is_committed_when_the_handler_returns(uow_client: TestClient) -> None:
    assert uow_client.post("/notes/1").status_code == 200
    assert uow_client.get("/notes").json() == [1]


def test_request_transaction_is_rolled_back_when_the_handler_raises(
    uow_client: TestClient,
) -> None:
    response = uow_client.post("/notes/2/fail")
    assert response.status_code == 409
    assert uow_client.get("/notes").json() == []


def test_a_failed_commit_is_an_error_response_not_a_success(uow_client: TestClient) -> None:
    assert uow_client.post("/notes/3").status_code == 200
    # session.add() defers the INSERT to the flush at commit, which the framework runs after
    # the handler returned: the duplicate key must still turn into an error response.
    response = uow_client.post("/notes/3/orm")
    assert response.status_code == 500
    assert uow_client.get("/notes").json() == [3]
