"""Request bodies and times are strict (issue 14, the schemathesis findings): no body model
coerces a scalar (``"24"``, ``24.0`` and ``true`` are no integers, a number is no string),
and times are RFC 3339 date-times with an offset, in bodies and in queries (a number is not
read as a Unix time)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter, ValidationError

from account.principal import Principal
from commons.text import Date, DateTime, RequestModel
from tests import factories
from tests.payments.conftest import FLOW, quote_body

ActAs = Callable[[Principal | None], None]


def _subclasses(cls: type[BaseModel]) -> dict[str, list[type[BaseModel]]]:
    out: dict[str, list[type[BaseModel]]] = {}
    todo = [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            out.setdefault(sub.__name__, []).append(sub)
            todo.append(sub)
    return out


def _body_schemas(spec: dict[str, Any]) -> set[str]:
    """Every component schema a JSON request body of the OpenAPI document reaches."""
    schemas = spec["components"]["schemas"]
    seen: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.split("/")[-1] not in seen:
                seen.add(ref.split("/")[-1])
                walk(schemas[ref.split("/")[-1]])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for operations in spec["paths"].values():
        for operation in operations.values():
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                if "json" in media:
                    walk(content.get("schema"))
    return seen


def test_every_request_body_model_is_a_strict_request_model(app: FastAPI) -> None:
    names = _body_schemas(app.openapi())
    assert len(names) >= 30, names
    models = _subclasses(BaseModel)
    for name in sorted(names):
        classes = models.get(name, [])
        assert classes, name
        assert all(issubclass(c, RequestModel) for c in classes), (name, classes)


LAX_FACTS = [
    *(("applicant_age", v) for v in ("24", 24.0, True, "", None, -1, 151, 10**30)),
    ("duration_months", "12"),
    ("duration_months", 12.0),
    ("express", 1),
    ("nationality", 276),
    ("decision_date", 0),
    ("decision_date", "2026-11-28T00:00:00Z"),
    ("decision_date", "28.11.2026"),
]


def test_fee_facts_are_strict_and_bounded(client: TestClient, act_as: ActAs) -> None:
    """``applicant_age`` was a lax integer (schemathesis, flow client): now a JSON integer
    in 0..150, and so is every other fact of its type."""
    act_as(FLOW)
    for field, value in LAX_FACTS:
        fact: dict[str, Any] = {field: value}
        response = client.post("/v1/fees/quote", json=quote_body(**fact))
        assert response.status_code == 422, (field, value, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        locs = [e["loc"] for e in response.json()["errors"]]
        assert ["body", "facts", field] in locs, (field, value, locs)


def test_the_exact_types_are_accepted(client: TestClient, act_as: ActAs) -> None:
    act_as(FLOW)
    body = quote_body(applicant_age=24, duration_months=12, express=True)
    assert client.post("/v1/fees/quote", json=body).status_code == 201


def test_an_upload_size_is_no_boolean_or_string(client: TestClient, act_as: ActAs) -> None:
    act_as(factories.applicant())
    for size in (True, "100", 100.0, 2**63):
        response = client.post("/v1/vault/uploads", json={"size": size})
        assert response.status_code == 422, (size, response.text)


BAD_TIMES = (
    "0.5",
    "1700000000",
    "0",
    "2026-11-28",
    "2026-11-28T12:00:00",  # no offset
    "2026-11-28 12:00:00Z",
    "2026-11-28T12:00Z",
    "2026-13-01T00:00:00Z",
    "now",
)
AUDIT_VIEWS = ("/v1/audit/entries", "/v1/audit/summary", "/v1/audit/export")


def test_audit_times_are_rfc3339_date_times(client: TestClient, act_as: ActAs) -> None:
    act_as(factories.dpo())
    for route in AUDIT_VIEWS:
        for name in ("since", "until"):
            for value in BAD_TIMES:
                response = client.get(route, params={name: value})
                assert response.status_code == 422, (route, name, value, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert ["query", name] in [e["loc"] for e in response.json()["errors"]]


def test_audit_times_with_an_offset_are_accepted(client: TestClient, act_as: ActAs) -> None:
    act_as(factories.dpo())
    for value in (
        "2026-11-28T12:00:00Z",
        "2026-11-28t12:00:00.123+01:00",
        "2026-11-28T12:00:00-05:30",
    ):
        for route in AUDIT_VIEWS:
            response = client.get(route, params={"since": value, "until": "2099-01-01T00:00:00Z"})
            assert response.status_code == 200, (route, value, response.text)


def test_the_openapi_document_says_date_time(app: FastAPI) -> None:
    spec = app.openapi()
    for route in AUDIT_VIEWS:
        params = {p["name"]: p for p in spec["paths"][route]["get"]["parameters"]}
        for name in ("since", "until"):
            schema = params[name]["schema"]
            assert {"type": "string", "format": "date-time"} in schema["anyOf"], schema
            assert "RFC 3339" in params[name]["description"]


def test_the_types_take_python_values_and_refuse_the_rest() -> None:
    from datetime import UTC, date, datetime

    moment = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert TypeAdapter(DateTime).validate_python(moment) == moment
    assert TypeAdapter(DateTime).validate_python("2026-11-28T12:00:00Z") == moment
    assert TypeAdapter(Date).validate_python(date(2026, 11, 28)) == date(2026, 11, 28)
    for bad in (0, 0.5, "1700000000", moment.replace(tzinfo=None)):
        with pytest.raises(ValidationError):
            TypeAdapter(DateTime).validate_python(bad)
    for bad_date in (0, moment, "20261128"):
        with pytest.raises(ValidationError):
            TypeAdapter(Date).validate_python(bad_date)
