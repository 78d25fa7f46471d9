"""FastAPI dependencies shared by every domain's router."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, MutableMapping
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from commons.db import Database


async def _unit_of_work(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work. Opened on the event loop: a session begins its transaction
    (and takes a connection) only at its first statement, so opening one does no I/O and
    costs no hop to the thread pool. The end (the commit, or the rollback) runs in a worker
    thread, as FastAPI ends a sync dependency: shielded from cancellation, and outside the
    pool's capacity limit (requests holding every worker may be waiting for this one's
    connection)."""
    from anyio import CancelScope, CapacityLimiter, to_thread

    database: Database = request.app.state.database
    unit = database.transaction()
    session = unit.__enter__()
    try:
        yield session
    except BaseException as exc:
        with CancelScope(shield=True):
            suppressed = await to_thread.run_sync(
                unit.__exit__, type(exc), exc, exc.__traceback__, limiter=CapacityLimiter(1)
            )
        if not suppressed:
            raise
    else:
        with CancelScope(shield=True):
            await to_thread.run_sync(unit.__exit__, None, None, None, limiter=CapacityLimiter(1))


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


# --------------------------------------------------------------------------- request bodies
# The gateway's edge (gateway.edge) reads a route's declaration from its ``openapi_extra``,
# so the declaration is also visible in the OpenAPI document. Without one, a route's body
# is JSON-sized: at most ``OZG_MAX_JSON_BYTES``.
BODY_KIND_KEY = "x-ozg-body"
BODY_LIMIT_KEY = "x-ozg-max-body-bytes"


def upload_body(**openapi_extra: Any) -> dict[str, Any]:
    """``openapi_extra`` of a route that streams a large body and enforces its own limit
    (vault documents, FIT-Connect attachments, sealed drafts). The edge still applies the
    body timeout and authenticates first."""
    return {**openapi_extra, BODY_KIND_KEY: "upload"}


def body_limit(max_bytes: int, **openapi_extra: Any) -> dict[str, Any]:
    """``openapi_extra`` of a route whose body limit differs from ``OZG_MAX_JSON_BYTES``
    (a payment notification: 64 KiB; a message with a sealed body: larger)."""
    return {**openapi_extra, BODY_LIMIT_KEY: max_bytes}


AUTHENTICATES_FIRST = "__ozg_authenticates_first__"

_RESOLVERS: dict[Callable[..., Any], Any] = {}  # dependency -> the Dependant that asks for it


async def resolve_dependency(request: Request, dependency: Callable[..., Any]) -> Any:
    """``dependency``'s value for this request, resolved as FastAPI resolves a route's
    dependencies (the app's ``dependency_overrides`` honoured, each sub-dependency's exit
    code run before this returns).

    For a dependency that a route cannot declare: one a lower layer may not import (the
    principal, for compliance), or one needed before the route's own run (the edge's
    authentication before the body). Declaring a replacement in ``dependency_overrides``
    instead would cost every request of every route: while that dict is not empty, FastAPI
    analyses the signature of each route's every dependency again on each request."""
    from contextlib import AsyncExitStack

    from fastapi.dependencies.utils import get_dependant, solve_dependencies
    from fastapi.exceptions import RequestValidationError

    resolver = _RESOLVERS.get(dependency)
    if resolver is None:
        # A default, not an ``Annotated`` annotation: this module's annotations are strings,
        # and FastAPI could not resolve ``dependency`` (a local) from one.
        def resolve(value: Any = Depends(dependency)) -> Any:  # noqa: B008
            return value

        resolver = _RESOLVERS[dependency] = get_dependant(path="", call=resolve)
    async with AsyncExitStack() as stack:
        solved = await solve_dependencies(
            request=request,
            dependant=resolver,
            dependency_overrides_provider=request.scope.get("app"),
            async_exit_stack=stack,
            embed_body_fields=False,
        )
    if solved.errors:
        raise RequestValidationError(solved.errors)
    return solved.values["value"]


def authenticates_first(dependency: Callable[..., Any]) -> Callable[..., Any]:
    """Mark the dependency that authenticates a request. The edge resolves it (with the
    app's ``dependency_overrides``) before it lets a route read the request body, so an
    unauthenticated caller never makes the server read or parse a body."""
    setattr(dependency, AUTHENTICATES_FIRST, True)
    return dependency


# --------------------------------------------------------------------------- OpenAPI
PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"


def problem_responses(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status as an RFC 9457 ``application/problem+json``
    document. The gateway adds the statuses of the operation's shape by itself (401, 403,
    404, 503, and 409 if it changes something, when it authenticates; 404 with parameters;
    400, 408 and 413 with a body; 422 and 500 always: ``gateway.openapi.generic_statuses``);
    a route names what else it raises: ``responses=problem_responses(502)``."""
    from http import HTTPStatus

    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = {
            "description": descriptions.get(f"s{status}", HTTPStatus(status).phrase),
            "content": {"application/problem+json": {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
        }
    return out
