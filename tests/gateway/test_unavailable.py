"""Which errors mean "a dependency is down" (503 with Retry-After) and which stay a bug (500).

The fault suite (tests/faults, marker ``faults``) produces these errors for real; here each
kind is raised directly, so the mapping is checked on every run in milliseconds.
"""

from __future__ import annotations

import errno
import logging
import sqlite3

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from minio.error import S3Error, ServerError
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from urllib3.exceptions import MaxRetryError, ReadTimeoutError

from gateway.problems import unavailable_dependency


class _PgError(Exception):
    """Stands for a psycopg error (its module is not sqlite3)."""


def _sqlite(message: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


def _s3_error() -> S3Error:
    return S3Error(None, "SlowDown", "reduce your request rate", "/b/k", "r", "h")  # type: ignore[arg-type]


def _chained() -> BaseException:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise RuntimeError("while storing") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    ("error", "dependency"),
    [
        (OperationalError("SELECT 1", {}, _PgError("connection refused")), "database"),
        (InterfaceError("SELECT 1", {}, _PgError("the connection is closed")), "database"),
        (PoolTimeout("QueuePool limit reached"), "database"),
        (_sqlite("database is locked"), "database"),
        (_sqlite("database or disk is full"), "database"),
        (_sqlite("no such table: vault_document"), None),  # a schema bug, not an outage
        (ProgrammingError("SELECT 1", {}, _PgError("syntax error")), None),
        (MaxRetryError(None, "/bucket/key", "refused"), "object store"),  # type: ignore[arg-type]
        (ReadTimeoutError(None, "/bucket/key", "read timed out"), "object store"),  # type: ignore[arg-type]
        (_s3_error(), "object store"),
        (ServerError("502 from a proxy", 502), "object store"),
        (OSError(errno.ENOSPC, "No space left on device"), "storage"),
        (OSError(errno.EROFS, "Read-only file system"), "storage"),
        (OSError(errno.EIO, "Input/output error"), "storage"),
        (OSError(errno.ENOENT, "No such file"), None),
        (ValueError("a bug"), None),
        (_chained(), "storage"),
        (
            ExceptionGroup("task group", [ValueError("x"), _sqlite("database is locked")]),
            "database",
        ),
    ],
)
def test_what_counts_as_a_dependency_being_down(
    error: BaseException, dependency: str | None
) -> None:
    assert unavailable_dependency(error) == dependency


def test_the_api_answers_503_with_retry_after_and_no_driver_message(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "password=hunter2 host=db.internal"

    def down() -> None:
        raise OperationalError("SELECT 1", {}, _PgError(f"connection failed: {secret}"))

    def bug() -> None:
        raise RuntimeError(secret)

    app.add_api_route("/test/down", down)
    app.add_api_route("/test/bug", bug)
    with TestClient(app, raise_server_exceptions=False) as client:
        with caplog.at_level(logging.WARNING):
            r = client.get("/test/down")
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["retry-after"] == str(app.state.settings.retry_after_seconds)
        problem = r.json()
        assert problem["type"] == "urn:ozg-commons:problem:service-unavailable"
        assert problem["dependency"] == "database"
        assert problem["request_id"] == r.headers["x-request-id"]
        assert "hunter2" not in r.text
        assert "hunter2" not in caplog.text
        assert client.get("/test/bug").status_code == 500  # a bug stays a bug


def test_every_operation_documents_the_503(app: FastAPI) -> None:
    schema = app.openapi()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            response = operation["responses"].get("503")
            assert response is not None, (method, path)
            assert "application/problem+json" in response["content"]
