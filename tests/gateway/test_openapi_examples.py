"""The OpenAPI document: security schemes on every operation that authenticates, and an
example, valid against its schema, of every request body and every response with a body."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator, FormatChecker

from account import Scope
from gateway.openapi import SAFE_METHODS, _operations_auth
from gateway.openapi_operations import OPERATIONS

PROBLEM = "application/problem+json"


_SPEC: list[dict[str, Any]] = []  # built once: the document does not depend on the data


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    if not _SPEC:
        _SPEC.append(client.get("/openapi.json").json())
    return _SPEC[0]


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def _problems_of(spec: dict[str, Any], schema: dict[str, Any], example: Any) -> list[str]:
    root = {**schema, "components": spec["components"]}
    validator = Draft202012Validator(root, format_checker=FormatChecker())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(example)
    ]


def _example(content: dict[str, Any]) -> Any:
    if "example" in content:
        return content["example"]
    return next(iter(content["examples"].values()))["value"]


def test_the_document_covers_the_fit_connect_and_authority_operations(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    assert "/fit-connect/v1/submissions" in paths
    assert "/fit-connect/v1/cases/{case_id}/events" in paths
    assert "/v1/authority/cases/{case_id}/decision" in paths
    assert len(_operations(spec)) > 90


def test_every_request_body_has_a_valid_example(spec: dict[str, Any]) -> None:
    failures: list[str] = []
    for method, path, operation in _operations(spec):
        body = operation.get("requestBody")
        if body is None:
            continue
        assert body.get("content"), f"{method.upper()} {path}: a request body without content"
        for media, content in body["content"].items():
            where = f"{method.upper()} {path} request {media}"
            if "example" not in content and "examples" not in content:
                failures.append(f"{where}: no example")
                continue
            failures += [
                f"{where}: {p}"
                for p in _problems_of(spec, content.get("schema", {}), _example(content))
            ]
    assert not failures, "\n".join(failures)


def test_every_response_with_a_body_has_a_valid_example(spec: dict[str, Any]) -> None:
    failures: list[str] = []
    count = 0
    for method, path, operation in _operations(spec):
        for status, response in operation["responses"].items():
            for media, content in (response.get("content") or {}).items():
                where = f"{method.upper()} {path} {status} {media}"
                if "example" not in content and "examples" not in content:
                    failures.append(f"{where}: no example")
                    continue
                count += 1
                example = _example(content)
                failures += [
                    f"{where}: {p}" for p in _problems_of(spec, content.get("schema", {}), example)
                ]
                if media == PROBLEM:
                    if example["status"] != int(status):
                        failures.append(f"{where}: the example has status {example['status']}")
    assert not failures, "\n".join(failures)
    assert count > 500  # every operation documents 422 and 500 at least


def test_operations_that_take_a_body_document_it(spec: dict[str, Any]) -> None:
    """Streamed uploads read the body themselves; the document still says what to send."""
    for method, path in (
        ("post", "/v1/vault/documents"),
        ("put", "/fit-connect/v1/submissions/{submission_id}/attachments/{attachment_id}"),
        ("post", "/fit-connect/v1/cases/{case_id}/events"),
        ("put", "/v1/cases/{case_id}/draft"),
    ):
        assert spec["paths"][path][method]["requestBody"]["content"], (method, path)
    jose = spec["paths"]["/fit-connect/v1/submissions/{submission_id}/attachments/{attachment_id}"]
    assert list(jose["get"]["responses"]["200"]["content"]) == ["application/jose"]
    redirect = spec["paths"]["/v1/payments/{payment_id}/return"]["get"]["responses"]
    assert "303" in redirect
    assert "200" not in redirect


def test_the_examples_table_names_only_real_operations(spec: dict[str, Any]) -> None:
    real = {f"{method.upper()} {path}" for method, path, _op in _operations(spec)}
    assert set(OPERATIONS) <= real, set(OPERATIONS) - real


def test_the_security_schemes_exist(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["openIdConnect"]["openIdConnectUrl"] == (
        "http://127.0.0.1:8000/dev-idp/realms/ozg-dev/.well-known/openid-configuration"
    )
    client_credentials = schemes["oauth2"]["flows"]["clientCredentials"]
    assert client_credentials["tokenUrl"].endswith(
        "/dev-idp/realms/ozg-dev/protocol/openid-connect/token"
    )
    assert set(client_credentials["scopes"]) == {s.value for s in Scope}
    assert schemes["sessionCookie"] == {
        **schemes["sessionCookie"],
        "in": "cookie",
        "name": "ozg_session",
    }
    assert schemes["csrfToken"] == {**schemes["csrfToken"], "in": "header", "name": "X-CSRF-Token"}


def test_the_discovery_url_is_the_one_the_identity_provider_serves(
    client: TestClient, spec: dict[str, Any]
) -> None:
    url = spec["components"]["securitySchemes"]["openIdConnect"]["openIdConnectUrl"]
    discovery = client.get(url.removeprefix("http://127.0.0.1:8000"))
    assert discovery.status_code == 200
    token_url = spec["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"][
        "tokenUrl"
    ]
    assert discovery.json()["token_endpoint"] == token_url


def test_each_operation_declares_how_it_authenticates(app: FastAPI, spec: dict[str, Any]) -> None:
    auth = _operations_auth(app)
    public, protected = 0, 0
    for method, path, operation in _operations(spec):
        declared = operation.get("security", [])
        if not auth[(path, method)].authenticated:
            assert declared == [], f"{method.upper()} {path} is public but declares {declared}"
            public += 1
            continue
        protected += 1
        assert {"bearerAuth": []} in declared, path
        assert {"openIdConnect": []} in declared, path
        cookie: dict[str, list[str]] = (
            {"sessionCookie": []}
            if method in SAFE_METHODS
            else {"sessionCookie": [], "csrfToken": []}
        )
        assert cookie in declared, (method, path)
        scopes = sorted(auth[(path, method)].scopes)
        assert ({"oauth2": scopes} in declared) == bool(scopes), (method, path, declared)
    assert public > 15
    assert protected > 60


def test_the_dpo_and_access_log_routes_are_documented_as_authenticated(
    spec: dict[str, Any],
) -> None:
    """compliance's routes authenticate through a dependency the account overrides."""
    for path in ("/v1/audit/entries", "/v1/me/access-log"):
        operation = spec["paths"][path]["get"]
        assert {"bearerAuth": []} in operation["security"]
        assert PROBLEM in operation["responses"]["401"]["content"]
    assert "security" not in spec["paths"]["/v1/audit/checkpoint"]["get"]


def test_routes_with_a_scope_name_it_for_flow_clients(spec: dict[str, Any]) -> None:
    case = spec["paths"]["/v1/cases/{case_id}"]["get"]
    assert {"oauth2": ["cases:read"]} in case["security"]
    draft = spec["paths"]["/v1/cases/{case_id}/draft"]["put"]
    assert {"oauth2": ["cases:write"]} in draft["security"]
    submit = spec["paths"]["/fit-connect/v1/submissions"]["post"]
    assert {"oauth2": ["submissions:write"]} in submit["security"]
    create = spec["paths"]["/v1/cases"]["post"]  # applicants only
    assert not [w for w in create["security"] if "oauth2" in w]


PUBLIC = {
    "GET /healthz": "/healthz",
    "GET /readyz": "/readyz",
    "GET /v1/flows": "/v1/flows",
    "GET /v1/flows/{flow_id}": "/v1/flows/employment",
    "GET /v1/authorities": "/v1/authorities",
    "GET /v1/authorities/{authority_id}": "/v1/authorities/tf",
    "GET /v1/routes": "/v1/routes?leikaKey=99010003001000&ars=120720000000",
    "GET /v1/routes/keys": "/v1/routes/keys",
    "GET /v1/receipts/keys": "/v1/receipts/keys",
    "GET /fit-connect/.well-known/jwks.json": "/fit-connect/.well-known/jwks.json",
}


def test_public_examples_have_the_shape_of_real_answers(client: TestClient) -> None:
    """The hand-written examples of free-form answers carry the keys a real answer has."""
    for operation, concrete in PUBLIC.items():
        example = OPERATIONS[operation]["responses"]["200"]["application/json"]
        real = client.get(concrete).json()
        assert set(example) <= set(real), (operation, set(example) - set(real))
        for key, value in example.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                extra = set(value[0]) - set(real[key][0])
                assert not extra, (operation, key, extra)


def test_the_audit_export_documents_both_of_its_media_types(
    spec: dict[str, Any], client: TestClient, act_as: Any
) -> None:
    """Schemathesis (DPO, content_type_conformance): ``format=csv`` answered ``text/csv``,
    which the document did not name."""
    from tests import factories

    content = spec["paths"]["/v1/audit/export"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/csv"}
    assert content["text/csv"]["schema"] == {"type": "string"}
    act_as(factories.dpo())
    for fmt, media in (("json", "application/json"), ("csv", "text/csv")):
        answer = client.get("/v1/audit/export", params={"format": fmt})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].split(";")[0] == media
