"""FastAPI dependencies shared by every domain's router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from commons.db import Database


def _unit_of_work(request: Request) -> Iterator[Session]:
    database: Database = request.app.state.database
    with database.transaction() as session:
        yield session


# scope="function": the transaction ends when the handler returns, *before* the response is
# sent, so a failed commit becomes an error response instead of a 200 for lost data.
DbSession = Annotated[Session, Depends(_unit_of_work, scope="function")]
