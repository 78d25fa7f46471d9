from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from commons.errors import Conflict
from commons.logging import JsonFormatter, quiet_url_loggers
from commons.settings import Settings
from gateway.app import create_app

PROBLEM = "application/problem+json"


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "object_store": "ok"},
    }


def test_readyz_reports_an_unreachable_dependency(app: FastAPI) -> None:
    def broken() -> None:
        raise ConnectionError("down")

    app.state.readiness_checks["database"] = broken
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["checks"] == {"database": "unavailable", "object_store": "ok"}


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/nowhere").headers["x-request-id"]
    assert first
    assert second
    assert first != second


def test_a_client_request_id_is_ignored_and_a_correlation_id_echoed(
    client: TestClient,
) -> None:
    response = client.get(
        "/healthz",
        headers={"X-Request-ID": "trace-1234abcd", "X-Correlation-ID": "trace-1234abcd"},
    )
    assert response.headers["x-request-id"] != "trace-1234abcd"
    assert len(response.headers["x-request-id"]) == 32
    assert response.headers["x-correlation-id"] == "trace-1234abcd"
    for bad in ("bad id with space", "x" * 65, "a/b"):
        replaced = client.get("/healthz", headers={"X-Correlation-ID": bad})
        assert "x-correlation-id" not in replaced.headers


def test_404_is_problem_details(client: TestClient) -> None:
    response = client.get("/v1/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == 404
    assert body["title"] == "Not Found"
    assert body["request_id"] == response.headers["x-request-id"]


def test_405_is_problem_details_and_keeps_allow(client: TestClient) -> None:
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


class Payload(BaseModel):
    count: int


@pytest.fixture
def probe_app(settings: Settings, app: FastAPI) -> FastAPI:
    router = APIRouter()

    @router.post("/probe/{item_id}")
    def accept(item_id: int, payload: Payload) -> dict[str, int]:
        return {"item_id": item_id, "count": payload.count}

    @router.get("/probe-conflict")
    def conflict() -> None:
        raise Conflict("already exists", existing="abc")

    @router.get("/probe-crash")
    def crash() -> None:
        raise RuntimeError("secret-internal-detail")

    app.include_router(router)
    return app


@pytest.fixture
def probe_client(probe_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(probe_app, raise_server_exceptions=False) as client:
        yield client


def test_validation_errors_are_problem_details_without_echoing_input(
    probe_client: TestClient,
) -> None:
    response = probe_client.post("/probe/7", json={"count": "canary-personal-value"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["errors"][0]["loc"] == ["body", "count"]
    assert "canary-personal-value" not in response.text


def test_domain_errors_are_problem_details(probe_client: TestClient) -> None:
    response = probe_client.get("/probe-conflict")
    assert response.status_code == 409
    assert response.json() == {
        "type": "urn:ozg-commons:problem:conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "already exists",
        "request_id": response.headers["x-request-id"],
        "existing": "abc",
    }


def test_unexpected_errors_are_opaque_500_problems(probe_client: TestClient) -> None:
    response = probe_client.get("/probe-crash")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["x-request-id"] == response.json()["request_id"]
    assert "secret-internal-detail" not in response.text


def test_logs_are_json_without_paths_bodies_tokens_or_exception_messages(
    probe_client: TestClient,
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    quiet_url_loggers()  # as configure_logging does when serving
    try:
        probe_client.post(
            "/probe/424242?email=canary@example.test",
            json={"count": 1, "name": "canary-name"},
            headers={"Authorization": "Bearer canary-token"},
        )
        probe_client.get("/probe-crash")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    requests = [entry for entry in lines if entry["msg"] == "request"]
    assert {entry["route"] for entry in requests} == {"/probe/{item_id}", "/probe-crash"}
    crash = next(entry for entry in lines if entry["msg"] == "unhandled error")
    assert crash["exc_type"] == "RuntimeError"
    text = stream.getvalue()
    for canary in (
        "424242",
        "canary@example.test",
        "canary-name",
        "canary-token",
        "secret-internal-detail",
    ):
        assert canary not in text


def test_metrics_use_route_templates_only(probe_client: TestClient) -> None:
    probe_client.post("/probe/987654", json={"count": 1})
    probe_client.get("/nowhere/123456")
    text = probe_client.get("/metrics").text
    assert 'route="/probe/{item_id}",status="200"' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "987654" not in text
    assert "123456" not in text
    assert "ozg_http_request_duration_seconds_bucket" in text


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "ozg-commons"
    assert "/healthz" in spec["paths"]
    assert "/metrics" not in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_create_app_refuses_unsafe_production_settings() -> None:
    from commons.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="OZG_DATABASE_URL"):
        create_app(Settings(env="production"))


def test_metrics_label_domain_routes_with_their_v1_prefix(client: TestClient) -> None:
    client.get("/v1/me")  # unauthenticated: 401, still matched to its route
    text = client.get("/metrics").text
    assert 'route="/v1/me",status="401"' in text


def test_the_app_declares_no_dependency_overrides(app: FastAPI) -> None:
    """While ``app.dependency_overrides`` is not empty, FastAPI analyses every dependency of
    every route again on each request; compliance's routes get their caller through
    ``app.state.audit_callers`` instead, and still refuse an unauthenticated request."""
    assert app.dependency_overrides == {}
    with TestClient(app) as client:
        refused = client.get("/v1/audit/entries")
    assert refused.status_code == 401, refused.text
