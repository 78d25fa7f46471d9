"""A client-sent request id never reaches the audit log or the server log (issue 14)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from account.principal import Principal
from commons.db import Database
from commons.logging import JsonFormatter
from compliance.models import AccessEntry
from tests import factories

Act = Callable[[Principal | None], None]
PERSONAL = "Max-Mustermann-geb-1990-01-01"


def test_a_client_request_id_enters_neither_the_audit_log_nor_the_server_log(
    client: TestClient, act_as: Act, database: Database
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    act_as(factories.applicant())
    try:
        response = client.get(
            "/v1/me", headers={"X-Request-ID": PERSONAL, "X-Correlation-ID": PERSONAL}
        )
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert response.status_code == 200
    server_id = response.headers["x-request-id"]
    assert server_id != PERSONAL
    assert response.headers["x-correlation-id"] == PERSONAL  # echoed, nothing more

    with database.transaction() as session:
        request_ids = set(session.scalars(select(AccessEntry.request_id)))
    assert request_ids == {server_id}

    text = stream.getvalue()
    assert PERSONAL not in text
    logged = {json.loads(line).get("request_id") for line in text.splitlines()}
    assert logged - {None} == {server_id}  # lines outside the request (test setup) have none
