"""FastAPI dependencies shared by every domain's router."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Annotated, Any

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


def route_template(scope: MutableMapping[str, Any]) -> str | None:
    """The matched route's template including router prefixes (``/v1/me/messages/{id}``),
    never the concrete path, so no id lands in a log line or a metric label.

    FastAPI keeps the prefixed template in the effective route context; older layouts
    only have the route's own path plus the including router's prefix.
    """
    effective = scope.get("effective_route_context")
    template = getattr(effective, "path_format", None)
    if isinstance(template, str):
        return template
    path = getattr(scope.get("route"), "path", None)
    if not isinstance(path, str):
        return None
    fastapi_scope = scope.get("fastapi")
    included = fastapi_scope.get("included_router") if isinstance(fastapi_scope, dict) else None
    prefix = getattr(getattr(included, "include_context", None), "prefix", "")
    return f"{prefix if isinstance(prefix, str) else ''}{path}"
