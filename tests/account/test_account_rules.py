"""The rules the shared principal dependency enforces on every route of every domain.

With real tokens from the development IdP, through the real app: an erased account's token
and a token whose ``auth_time`` lies in the future are refused by account, vault, payments
and compliance alike; flow clients need the scope each route names.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account.devidp import DEMO_CLIENTS, DEMO_USERS
from account.scopes import GRANTED, RESERVED, Scope
from commons.db import Database

TOKEN_URL = "/dev-idp/realms/ozg-dev/protocol/openid-connect/token"
# One authenticated route of each domain that any applicant may call.
ONE_ROUTE_PER_DOMAIN = {
    "account": "/v1/me",
    "vault": "/v1/vault/documents",
    "payments": "/v1/fees/quotes/00000000-0000-0000-0000-000000000000",
    "compliance": "/v1/me/access-log",
}
# Routes a flow client may call without a scope: its own token's content, nothing else.
NO_SCOPE_NEEDED = {("GET", "/v1/me")}


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def password_token(client: TestClient, username: str) -> str:
    data = {"grant_type": "password", "client_id": "ozg-cli", "username": username}
    response = client.post(TOKEN_URL, data={**data, "password": username})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def flow_token(client: TestClient, scope: str | None = None) -> str:
    data = {
        "grant_type": "client_credentials",
        "client_id": "demo-flow",
        "client_secret": "demo-flow-secret",
    }
    response = client.post(TOKEN_URL, data={**data, **({"scope": scope} if scope else {})})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def rejections(app: FastAPI, reason: str) -> float:
    return float(app.state.auth_rejections.count(reason))


# --------------------------------------------------------------------------- erasure
def test_an_erased_accounts_token_is_refused_by_every_domain(
    app: FastAPI, client: TestClient
) -> None:
    token = password_token(client, "demo-applicant-hoch")
    for domain, path in ONE_ROUTE_PER_DOMAIN.items():
        response = client.get(path, headers=bearer(token))
        assert response.status_code in (200, 404), (domain, response.text)
    erased = client.request(
        "DELETE", "/v1/me", headers=bearer(token), json={"confirm": "erase my account"}
    )
    assert erased.status_code == 200, erased.text
    before = rejections(app, "account-erased")
    # the token is still valid at the IdP for its lifetime: every domain refuses it
    for domain, path in ONE_ROUTE_PER_DOMAIN.items():
        response = client.get(path, headers=bearer(token))
        assert response.status_code == 401, (domain, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["reason"] == "account-erased", domain
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert token not in response.text
    assert rejections(app, "account-erased") == before + len(ONE_ROUTE_PER_DOMAIN)


def test_the_erasure_check_runs_in_the_requests_own_transaction(
    app: FastAPI, client: TestClient
) -> None:
    token = password_token(client, "demo-applicant")
    database: Database = app.state.database
    opened: list[int] = []
    original = database.transaction

    def counting() -> Any:
        opened.append(1)
        return original()

    database.transaction = counting  # type: ignore[method-assign]
    try:
        assert client.get("/v1/vault/documents", headers=bearer(token)).status_code == 200
    finally:
        database.transaction = original  # type: ignore[method-assign]
    assert len(opened) == 1


# --------------------------------------------------------------------------- auth_time
def test_auth_time_in_the_future_is_refused_by_every_domain(
    app: FastAPI, client: TestClient
) -> None:
    idp = app.state.dev_idp
    user, cli = DEMO_USERS["demo-applicant"], DEMO_CLIENTS["ozg-cli"]
    leeway = app.state.settings.oidc_leeway_seconds
    skewed = idp.access_token(user, cli, auth_time=int(time.time()) + leeway - 10)
    assert client.get("/v1/me", headers=bearer(skewed)).status_code == 200
    future = idp.access_token(user, cli, auth_time=int(time.time()) + 3600)
    before = rejections(app, "auth-time-in-future")
    for domain, path in ONE_ROUTE_PER_DOMAIN.items():
        response = client.get(path, headers=bearer(future))
        assert response.status_code == 401, (domain, response.text)
        assert response.json()["reason"] == "auth-time-in-future", domain
        assert response.json()["type"].endswith(":invalid-token")
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert rejections(app, "auth-time-in-future") == before + len(ONE_ROUTE_PER_DOMAIN)


# --------------------------------------------------------------------------- scopes
def test_a_flow_token_without_the_scope_gets_403_insufficient_scope(
    app: FastAPI, client: TestClient
) -> None:
    narrow = flow_token(client, scope=Scope.FEES_READ.value)
    before = rejections(app, "insufficient-scope")
    response = client.get("/v1/vault/documents", headers=bearer(narrow))
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="vault:read"'
    )
    body = response.json()
    assert body["reason"] == "insufficient-scope"
    assert body["required_scope"] == "vault:read"
    assert narrow not in response.text
    assert rejections(app, "insufficient-scope") == before + 1
    # the scope it holds opens its route (404: no such quote, but past the scope check)
    quote = client.get(ONE_ROUTE_PER_DOMAIN["payments"], headers=bearer(narrow))
    assert quote.status_code == 404, quote.text
    # the full grant opens the vault route
    full = flow_token(client)
    assert client.get("/v1/vault/documents", headers=bearer(full)).status_code == 200


def test_peoples_tokens_are_not_checked_for_scopes(client: TestClient) -> None:
    for username in ("demo-applicant", "demo-caseworker-tf"):
        token = password_token(client, username)
        assert client.get("/v1/vault/documents", headers=bearer(token)).status_code == 200


def test_the_dev_idp_grants_demo_flow_every_scope_in_use(client: TestClient) -> None:
    data = {
        "grant_type": "client_credentials",
        "client_id": "demo-flow",
        "client_secret": "demo-flow-secret",
    }
    for scope in (None, "openid"):  # python-keycloak asks for "openid": narrows nothing
        response = client.post(TOKEN_URL, data={**data, **({"scope": scope} if scope else {})})
        granted = set(response.json()["scope"].split())
        assert {s.value for s in GRANTED} <= granted
        assert not {s.value for s in RESERVED} & granted
    narrowed = client.post(TOKEN_URL, data={**data, "scope": "openid fees:read cases:nonsense"})
    assert narrowed.json()["scope"] == "profile email fees:read"


def _reason(response: Any) -> str | None:
    if "json" not in response.headers.get("content-type", ""):
        return None
    body = response.json()
    reason = body.get("reason") if isinstance(body, dict) else None
    return reason if isinstance(reason, str) else None


def test_every_route_a_flow_client_can_reach_needs_a_scope(
    app: FastAPI, client: TestClient
) -> None:
    """Route by route (every operation in the OpenAPI document that asks for a bearer
    token): a flow token without scopes is refused (403) everywhere but
    ``GET /v1/me``; one with every granted scope is never refused for a scope; and each
    granted scope opens some route."""
    operations = [
        (method.upper(), path.replace("{", "").replace("}", ""))  # ids that match nothing
        for path, item in app.openapi()["paths"].items()
        for method in item
    ]
    authenticated = [op for op in operations if _reason(client.request(*op)) == "missing"]
    assert len(authenticated) > 30
    none = app.state.dev_idp.access_token(None, DEMO_CLIENTS["demo-flow"], scope="profile email")
    full = flow_token(client)
    single = {scope: flow_token(client, scope=scope.value) for scope in GRANTED}
    opened: set[Scope] = set()
    for method, path in authenticated:
        if (method, path) in NO_SCOPE_NEEDED:
            continue
        refused = client.request(method, path, headers=bearer(none))
        assert refused.status_code == 403, (method, path, refused.text)
        admitted = client.request(method, path, headers=bearer(full))
        assert _reason(admitted) != "insufficient-scope", (method, path)
        if _reason(refused) == "insufficient-scope":
            for scope, token in single.items():
                response = client.request(method, path, headers=bearer(token))
                if _reason(response) != "insufficient-scope":
                    opened.add(scope)
    assert opened == set(GRANTED)  # no granted scope is without a route
