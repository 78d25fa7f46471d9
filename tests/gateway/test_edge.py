"""The edge (gateway.edge, gateway.openapi): bad input never gets a 500 and never costs
unbounded memory. Each test here failed before the edge existed."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account.principal import Principal
from commons.db import Database
from commons.settings import Settings
from gateway.app import create_app
from tests import factories
from tests.services import serving

PROBLEM = "application/problem+json"
ActAs = Callable[[Principal | None], None]
CHUNK = 64 * 1024


def _problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    return body


# --------------------------------------------------------------------------- body limits
def _post_counting(
    app: FastAPI, path: str, total: int, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], int]:
    """POST a ``total``-byte JSON body in 64 KiB chunks straight into the ASGI app; return
    the status, the response headers and how many body bytes the app pulled."""
    pulled = 0
    status = 0
    response_headers: dict[str, str] = {}
    raw_headers = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }

    async def receive() -> dict[str, object]:
        nonlocal pulled
        size = min(CHUNK, total - pulled)
        pulled += size
        return {"type": "http.request", "body": b" " * size, "more_body": pulled < total}

    async def send(message: dict[str, object]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])  # type: ignore[call-overload]
            for key, value in message.get("headers", []):  # type: ignore[attr-defined]
                response_headers[key.decode()] = value.decode()

    anyio.run(app, scope, receive, send)  # type: ignore[arg-type]
    return status, response_headers, pulled


@pytest.mark.parametrize("authorization", [None, "Bearer not.a.token"])
def test_an_unauthenticated_body_is_not_read(
    client: TestClient, app: FastAPI, authorization: str | None
) -> None:
    """Before: a 500 MB JSON POST was read and parsed, then refused with a 422 (memory rose
    from 210 MiB to 1.99 GiB)."""
    headers = {"Authorization": authorization} if authorization else {}
    status, response_headers, pulled = _post_counting(
        app, "/v1/me/consents", 500 * 1024 * 1024, headers
    )
    assert status == 401
    assert response_headers["content-type"] == PROBLEM
    assert pulled == 0


def test_a_json_body_past_the_limit_is_a_413_at_once(
    client: TestClient, app: FastAPI, act_as: ActAs
) -> None:
    act_as(factories.applicant())
    status, response_headers, pulled = _post_counting(app, "/v1/me/consents", 50 * 1024 * 1024)
    assert status == 413
    assert response_headers["connection"] == "close"
    assert pulled <= 1024 * 1024 + CHUNK


def test_the_413_is_a_problem_with_the_limit(client: TestClient, act_as: ActAs) -> None:
    act_as(factories.applicant())
    response = client.post(
        "/v1/me/consents",
        content=b"[" + b" " * (1024 * 1024) + b"]",
        headers={"Content-Type": "application/json"},
    )
    assert _problem(response, 413)["max_bytes"] == 1024 * 1024


def test_a_declared_length_past_the_limit_is_refused_before_reading(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    app = create_app(
        Settings(data_dir=tmp_path / "var", database_url=database_url, max_json_bytes=4096),
        database,
    )
    from account.auth import current_principal

    principal = factories.applicant()
    app.dependency_overrides[current_principal] = lambda: principal
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            "/v1/me/consents",
            content=b"{" + b" " * 8192 + b"}",
            headers={"Content-Type": "application/json"},
        )
        assert _problem(response, 413)["max_bytes"] == 4096
        status, _, pulled = _post_counting(app, "/v1/me/consents", 8194, {"Content-Length": "8194"})
    assert (status, pulled) == (413, 0)


def test_payment_notifications_get_their_limit_first_without_authentication(
    client: TestClient, app: FastAPI
) -> None:
    status, _, pulled = _post_counting(
        app, "/v1/payments/notifications/sandbox/tf", 10 * 1024 * 1024
    )
    assert status == 413
    assert pulled <= 64 * 1024 + CHUNK


# --------------------------------------------------------------------------- control characters
@pytest.mark.parametrize(
    "path",
    [
        "/v1/payments/%00",
        "/v1/fees/quotes/%00",
        "/v1/me/messages/%00",
        "/v1/vault/authorities/%00/key",
        "/v1/me/messages/a%09b",
        "/v1/audit/entries?action=%00",
        "/v1/audit/entries?actor=x%0Ay",
    ],
)
def test_control_characters_in_urls_are_a_422(client: TestClient, act_as: ActAs, path: str) -> None:
    """Before: 500 on PostgreSQL (NUL), stored on SQLite."""
    act_as(factories.dpo() if "audit" in path else factories.applicant())
    body = _problem(client.get(path), 422)
    assert body["errors"][0]["type"] == "control_character"  # type: ignore[index]


@pytest.mark.parametrize(
    ("value", "status"),
    [("a\u0000b", 422), ("a\u001bb", 422), ("a\u0085b", 422), ("a\ud800b", 422), ("a b", 201)],
)
def test_control_characters_in_json_text_are_a_422(
    client: TestClient, act_as: ActAs, value: str, status: int
) -> None:
    act_as(factories.applicant())
    consent = {"purpose": value, "legal_basis": "Art. 6", "text_version": "v1"}
    response = client.post(
        "/v1/me/consents",
        content=json.dumps(consent),  # ASCII, with escapes (a lone surrogate included)
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["errors"][0]["loc"] == ["body", "purpose"]
        assert value not in response.text


def test_free_text_keeps_tab_and_newlines_but_identifiers_do_not(
    client: TestClient, act_as: ActAs
) -> None:
    act_as(factories.applicant())
    ok = client.put("/v1/me/attributes/address", json={"value": "Hauptstr. 1\r\n\t12345 Ort"})
    assert ok.status_code == 200, ok.text
    refused = client.post(
        "/v1/me/consents", json={"purpose": "a\nb", "legal_basis": "x", "text_version": "v1"}
    )
    assert _problem(refused, 422)["errors"][0]["loc"] == ["body", "purpose"]  # type: ignore[index]
    message = {"recipient_subject": "x\u0000", "title": "t", "body": "b", "category": "status"}
    act_as(factories.caseworker())
    assert client.post("/v1/mailbox/messages", json=message).status_code == 422
    message = {"recipient_subject": "x", "title": "t\u0000", "body": "b", "category": "status"}
    assert client.post("/v1/mailbox/messages", json=message).status_code == 422


def test_deeply_nested_json_bodies_are_a_4xx(client: TestClient, act_as: ActAs) -> None:
    act_as(factories.applicant())
    nested = "[" * 100_000 + '"\\u0000"' + "]" * 100_000
    response = client.post(
        "/v1/me/consents", content=nested, headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500


# --------------------------------------------------------------------------- 500s that became 4xx
def test_checkpoint_sizes_past_64_bits_are_a_422(client: TestClient) -> None:
    _problem(client.get("/v1/audit/checkpoints/9223372036854775808"), 422)
    _problem(client.get("/v1/audit/proofs/inclusion?index=0&size=9223372036854775808"), 422)


@pytest.mark.parametrize("route", ["/v1/me/access-log", "/v1/audit/entries"])
def test_nested_json_cursors_are_a_422(client: TestClient, act_as: ActAs, route: str) -> None:
    act_as(factories.dpo() if "audit" in route else factories.applicant())
    cursor = base64.urlsafe_b64encode(b"[" * 5_000 + b"]" * 5_000).decode()
    _problem(client.get(route, params={"cursor": cursor}), 422)


@pytest.mark.parametrize("amount", [True, "100", 1.0, 10**30, 0])
def test_refund_amounts_are_strict_integers(client: TestClient, amount: object) -> None:
    from pydantic import TypeAdapter, ValidationError

    from payments.schemas import RefundRequest

    with pytest.raises(ValidationError):
        TypeAdapter(RefundRequest).validate_python({"amount_cents": amount})
    assert RefundRequest(amount_cents=100).amount_cents == 100


def test_refund_requests_refuse_booleans_and_strings_over_http(
    client: TestClient, act_as: ActAs
) -> None:
    act_as(factories.caseworker())
    for amount in (True, "100"):
        response = client.post(
            "/v1/payments/00000000-0000-7000-8000-000000000000/refunds",
            json={"amount_cents": amount},
            headers={"Idempotency-Key": "k-1"},
        )
        errors = _problem(response, 422)["errors"]
        assert ["body", "amount_cents"] in [e["loc"] for e in errors]  # type: ignore[attr-defined]


def test_idempotency_keys_with_control_characters_are_a_422(
    client: TestClient, act_as: ActAs
) -> None:
    act_as(factories.flow_client())
    response = client.post(
        "/v1/payments",
        json={"quote_id": "q", "return_url": "https://example.test/"},
        headers={"Idempotency-Key": "key\x01"},
    )
    body = _problem(response, 422)
    assert body["type"] == "urn:ozg-commons:problem:validation"


# --------------------------------------------------------------------------- methods
def test_options_and_head_answer_with_allow(client: TestClient) -> None:
    options = client.options("/v1/me")
    assert options.status_code == 204
    allowed = options.headers["allow"].split(", ")
    assert {"GET", "HEAD", "OPTIONS"} <= set(allowed)
    head = client.head("/healthz")
    get = client.get("/healthz")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert client.options("/v1/nowhere").status_code == 404


def test_every_route_answers_options_with_its_methods(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        concrete = path.replace("{", "x").replace("}", "")
        documented = {m.upper() for m in operations}
        response = client.options(concrete)
        assert response.status_code == 204, path
        allowed = set(response.headers["allow"].split(", "))
        assert documented | {"OPTIONS"} <= allowed, path
        assert ("GET" in documented) <= ("HEAD" in allowed), path
        unsupported = next(m for m in ("PATCH", "PUT", "DELETE", "POST") if m not in allowed)
        refused = client.request(unsupported, concrete)
        assert refused.status_code == 405, path
        assert set(refused.headers["allow"].split(", ")) == allowed, path
        head = client.head(concrete)
        assert head.content == b"", path
        if "GET" in documented:
            assert head.status_code != 405, path
        else:  # HEAD is GET without the body: a path without GET refuses it, with Allow
            assert head.status_code == 405, path
            assert set(head.headers["allow"].split(", ")) == allowed, path


# --------------------------------------------------------------------------- OpenAPI
def test_every_operation_documents_its_problem_responses(client: TestClient, app: FastAPI) -> None:
    """Before: 66 distinct undocumented 404/409/422 and problem+json responses."""
    from gateway.openapi import _authenticated_operations

    spec = client.get("/openapi.json").json()
    authenticated = _authenticated_operations(app)
    assert ("/v1/me/consents", "post") in authenticated
    assert "Problem" in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            wanted = ["422", "500"]
            if (path, method) in authenticated:
                wanted += ["401", "403"]
            if "{" in path:
                wanted.append("404")
            if "requestBody" in operation:
                wanted.append("413")
            for status in wanted:
                assert PROBLEM in responses.get(status, {}).get("content", {}), (
                    f"{method.upper()} {path} does not document {status} as {PROBLEM}"
                )
            assert "application/json" not in responses["422"]["content"]


# --------------------------------------------------------------------------- a real server
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live(
    tmp_path: Path, database_url: str, database: Database, demo_data_dir: Path
) -> Iterator[tuple[FastAPI, int]]:
    port = _free_port()
    shutil.copytree(demo_data_dir, tmp_path / "var")  # the demo keys made once per run
    settings = Settings(
        data_dir=tmp_path / "var", database_url=database_url, body_timeout_seconds=0.5
    )
    app = create_app(settings, database)
    with serving(app, port):
        yield app, port


def _stalled(port: int, head: bytes, sent: bytes) -> tuple[bytes, float]:
    """Send ``head`` and part of a body, then wait; return the answer and how long it took
    until the server closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(head + sent)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer, time.monotonic() - started


def test_a_stalled_json_body_times_out_with_a_408(live: tuple[FastAPI, int]) -> None:
    """Before: a Content-Length larger than what was sent held the connection open."""
    _, port = live
    head = (
        b"POST /v1/payments/notifications/sandbox/tf HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    answer, took = _stalled(port, head, b'{"kind":')
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"application/problem+json" in answer
    assert took < 5


def test_an_upload_header_that_never_completes_is_dropped(live: tuple[FastAPI, int]) -> None:
    app, port = live
    from account.auth import current_principal

    principal = factories.applicant()
    app.dependency_overrides[current_principal] = lambda: principal
    head = (
        b"POST /v1/vault/documents HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n"
    )
    answer, took = _stalled(port, head, b"OZGE" + b"\x00" * 16)  # a 20-byte envelope header
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert took < 5
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["status"] == 408
