"""RFC 9457 problem details for every error the API returns.

One shape for everything: 404 from the router, 405, validation errors, domain errors and
unexpected failures. Validation errors list where and what, but never echo the input: it
may be personal data or a secret.

The ``title`` and ``detail`` are said in the caller's language: the best of its
``Accept-Language`` that has a catalogue, else English (``commons.i18n.negotiate``, chosen
once per request by the outermost middleware), from the message catalogue the portal and the
command line use. ``Content-Language`` names it. The ``type`` URI, the ``code`` in it and the
extension members never change with the language: clients branch on those, never on text.
A detail is translated when it is a marked constant (``N_``) or a
:class:`~commons.i18n.Deferred` (a message with values); any other stays English.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from commons.context import current_language, current_request_id
from commons.errors import OzgError, ServiceUnavailable
from commons.i18n import N_, translate

PROBLEM_JSON = "application/problem+json"


def problem_response(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    type_uri: str = "about:blank",
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    language = current_language()
    body: dict[str, Any] = {
        "type": type_uri,
        "title": translate(language, title or _phrase(status)),
        "status": status,
    }
    if detail:
        body["detail"] = translate(language, detail)
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update(extensions)
    headers = {**(headers or {}), "Content-Language": language}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return N_("Error")


# The titles of the statuses the router and the edge answer with themselves (the HTTP
# reason phrases), marked for the message catalogue.
_PHRASES = (
    N_("Bad Request"),
    N_("Unauthorized"),
    N_("Forbidden"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Not Acceptable"),
    N_("Request Timeout"),
    N_("Conflict"),
    N_("Request Entity Too Large"),
    N_("Unsupported Media Type"),
    N_("Unprocessable Entity"),
    N_("Too Many Requests"),
    N_("Internal Server Error"),
    N_("Service Unavailable"),
)


def problem_for(exc: OzgError, headers: dict[str, str] | None = None) -> JSONResponse:
    """The problem document of a domain error."""
    return problem_response(
        exc.status,
        title=exc.title,
        detail=exc.detail,
        type_uri=exc.type_uri,
        headers={**exc.headers, **(headers or {})} or None,
        **exc.extensions,
    )


def validation_problem(
    errors: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> JSONResponse:
    """The 422 of a request that does not match what the endpoint accepts; ``errors`` hold
    ``loc``, ``msg`` and ``type`` and never the input."""
    return problem_response(
        422,
        title=N_("Invalid request"),
        detail=N_("The request does not match what this endpoint accepts; see 'errors'."),
        type_uri="urn:ozg-commons:problem:validation",
        headers=headers,
        errors=errors,
    )


class EdgeProblem(StarletteHTTPException):
    """A refusal decided at the edge while a route reads its body (401 before the body,
    408, 413, 422 for control characters). It is an ``HTTPException`` because FastAPI
    re-raises only those from its body reading; the handler renders ``response``."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(status_code=response.status_code)
        self.response = response


# --------------------------------------------------------------------------- dependencies down
# Errors that say a dependency is down, full or too slow, not that the request or the code is
# wrong: the database (connection refused or lost, a restart, a pool that cannot give a
# connection in time, SQLite busy or full), the object store (no connection, a timeout, an
# S3 error answer, a non-S3 answer) and the filesystem store's disk (full, read-only, I/O).
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database or disk is full",
    "disk i/o error",
    "unable to open database file",
)


def unavailable_dependency(exc: BaseException) -> str | None:
    """The dependency that ``exc`` (or what caused it) says is unavailable: ``"database"``,
    ``"object store"`` or ``"storage"``; ``None`` for every other error (a bug stays a 500)."""
    for error in _chain(exc):
        found = _classify(error)
        if found:
            return found
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [exc]
    while todo:
        error = todo.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        if isinstance(error, BaseExceptionGroup):
            todo.extend(error.exceptions)
        todo.extend(e for e in (error.__cause__, error.__context__) if e is not None)


def _classify(error: BaseException) -> str | None:
    from minio.error import MinioException
    from sqlalchemy import exc as sa
    from urllib3.exceptions import HTTPError as Urllib3Error

    if isinstance(error, sa.DBAPIError):
        if error.connection_invalidated or isinstance(error, sa.InterfaceError):
            return "database"
        if isinstance(error, sa.OperationalError):
            if not type(error.orig).__module__.startswith("sqlite3"):
                return "database"  # PostgreSQL: connection, shutdown, cancel, resources
            message = str(error.orig).lower()  # SQLite's: also "no such table", a bug
            return "database" if any(p in message for p in _SQLITE_UNAVAILABLE) else None
        return None
    if isinstance(error, sa.TimeoutError | sa.DisconnectionError):
        return "database"
    if isinstance(error, MinioException | Urllib3Error):
        return "object store"
    if isinstance(error, OSError) and error.errno in _STORAGE_ERRNOS:
        return "storage"
    return None


_UNAVAILABLE = {
    "database": N_("the database is not available at the moment; retry later"),
    "object store": N_("the object store is not available at the moment; retry later"),
    "storage": N_("the storage is not available at the moment; retry later"),
}


def unavailable_problem(dependency: str, retry_after: int) -> JSONResponse:
    """The 503 of a request that met an unavailable dependency: a problem document naming
    the dependency (never the driver's message) and ``Retry-After``."""
    return problem_for(
        ServiceUnavailable(
            _UNAVAILABLE.get(dependency)
            or f"the {dependency} is not available at the moment; retry later",
            headers={"Retry-After": str(retry_after)},
            dependency=dependency,
        )
    )


async def _ozg_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, OzgError):  # pragma: no cover - registered for OzgError only
        raise exc
    return problem_for(exc)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
        raise exc
    if isinstance(exc, EdgeProblem):
        return exc.response
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail == _phrase(exc.status_code):
        detail = None
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(exc.status_code, detail=detail, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    errors = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    return validation_problem(errors)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OzgError, _ozg_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
