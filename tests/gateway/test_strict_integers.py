"""Integers in a path, a query or a header are strict (issue 14): only the decimal ASCII
form (``0`` or ``-?[1-9][0-9]*``) within int64; ``int()`` and pydantic's lax mode also read
``+1``, `` 1``, ``1_000`` and ``"\\u0661"`` (an Arabic-Indic 1) as numbers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError

from account.principal import Principal
from commons.text import MAX_INT64, Int64, decimal_int
from tests import factories

ActAs = Callable[[Principal | None], None]

NOT_DECIMAL = ("+1", " 1", "1 ", "1_000", "\u0661", "1e3", "01", "1.0", "0x1", "", "-0", "\uff11")
OUT_OF_RANGE = ("-1", str(MAX_INT64 + 1), "9" * 5000)
PRINCIPALS = (
    factories.dpo(),
    factories.applicant(),
    factories.caseworker(),
    factories.flow_client(),
    factories.admin(),
    None,
)


def _integer_parameters(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(method, path, parameter)`` for every integer parameter of the document."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                types = [schema, *schema.get("anyOf", [])]
                if any(t.get("type") == "integer" for t in types):
                    yield method, path, parameter


def _request(
    client: TestClient,
    method: str,
    path: str,
    spec_params: list[dict[str, Any]],
    name: str,
    value: str,
) -> Any:
    """``value`` for the parameter ``name``, harmless values for the others of the route."""
    path_values: dict[str, str] = {}
    query: dict[str, str] = {}
    for parameter in spec_params:
        given = value if parameter["name"] == name else "1"
        if parameter["in"] == "path":
            path_values[parameter["name"]] = given
        elif parameter["in"] == "query" and (
            parameter["name"] == name or parameter.get("required")
        ):
            query[parameter["name"]] = given
    url = path.format(**{k: v.replace("/", "%2F") for k, v in path_values.items()})
    return client.request(method.upper(), url, params=query)


def test_the_document_has_integer_parameters_with_format_int64(app: FastAPI) -> None:
    found = list(_integer_parameters(app.openapi()))
    names = {(path, p["name"]) for _, path, p in found}
    assert ("/v1/audit/checkpoints/{size}", "size") in names
    assert ("/v1/audit/proofs/inclusion", "index") in names
    limit = next(p for _, path, p in found if path == "/v1/audit/entries")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 500), limit
    assert len(found) >= 10, names
    for _, _, parameter in found:
        schema = parameter["schema"]
        integer = next(t for t in [schema, *schema.get("anyOf", [])] if t.get("type") == "integer")
        assert integer.get("format") == "int64", parameter
        assert not {"ge", "le", "gt", "lt"} & set(integer), parameter
        assert integer.get("minimum", 0) >= 0, parameter
        assert integer.get("maximum", MAX_INT64) <= MAX_INT64, parameter


@pytest.mark.parametrize("value", NOT_DECIMAL + OUT_OF_RANGE)
def test_every_integer_parameter_refuses_what_is_not_a_decimal_int64(
    app: FastAPI, client: TestClient, act_as: ActAs, value: str
) -> None:
    spec = app.openapi()
    for method, path, parameter in _integer_parameters(spec):
        if parameter["in"] == "path" and not value:
            continue  # an empty segment is another route
        params = spec["paths"][path][method]["parameters"]
        refused = False
        for principal in PRINCIPALS:  # the one the route admits gets as far as validation
            act_as(principal)
            response = _request(client, method, path, params, parameter["name"], value)
            assert response.status_code < 500, (method, path, parameter["name"], value)
            if response.status_code == 422:
                locs = [e["loc"] for e in response.json().get("errors", [])]
                refused = [parameter["in"], parameter["name"]] in locs
                if refused:
                    break
        assert refused, (method, path, parameter["name"], value)


def test_decimal_integers_are_accepted(client: TestClient, act_as: ActAs) -> None:
    act_as(factories.dpo())
    assert client.get("/v1/audit/entries", params={"limit": "1"}).status_code == 200
    assert client.get("/v1/audit/checkpoints", params={"limit": "20"}).status_code == 200
    response = client.get("/v1/audit/checkpoints", params={"limit": "+20"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_decimal_int_is_the_one_rule() -> None:
    assert decimal_int("-12") == -12
    for good, number in (("0", 0), ("7", 7), ("10", 10), (str(MAX_INT64), MAX_INT64)):
        assert decimal_int(good) == number
        assert TypeAdapter(Int64).validate_python(good) == number
    for bad in (*NOT_DECIMAL, "²", "1\n", "9" * 5000):
        assert decimal_int(bad) is None, bad
    assert TypeAdapter(Int64).validate_python(5) == 5  # a Python default
    for wrong in (True, 1.0, None, "-1", str(MAX_INT64 + 1), *NOT_DECIMAL):
        with pytest.raises(ValidationError):
            TypeAdapter(Int64).validate_python(wrong)
