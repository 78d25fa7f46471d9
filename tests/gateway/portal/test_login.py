"""Login, sessions, CSRF, step-up, renewal, expiry and logout, with a TestClient."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from commons.db import Database
from gateway.portal.login import safe_next
from gateway.portal.models import PortalSession
from tests.gateway.portal.helpers import IDP_AUTH, authorization_query, csrf_of, sign_in


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1:8000")


def _rows(database: Database) -> list[PortalSession]:
    with database.transaction() as session:
        rows = list(session.scalars(select(PortalSession)))
        session.expunge_all()
    return rows


def test_login_uses_the_code_flow_with_pkce(client: TestClient) -> None:
    query = authorization_query(client, "/login?next=/account")
    assert query["client_id"] == "ozg-portal"
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["redirect_uri"] == "http://127.0.0.1:8000/auth/callback"
    assert "acr_values" not in query


def test_the_session_cookie_is_httponly_lax_and_the_tokens_are_sealed(
    app: FastAPI, database: Database
) -> None:
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    query = authorization_query(client, "/login?next=/account")
    response = client.post(
        IDP_AUTH,
        data={**query, "username": "demo-applicant", "password": "demo-applicant"},
        follow_redirects=False,
    )
    callback = urlsplit(response.headers["location"])
    response = client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert response.headers["location"] == "/account"
    cookie = next(c for c in response.headers.get_list("set-cookie") if "ozg_session=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain-HTTP loopback development only
    value = cookie.split("ozg_session=")[1].split(";")[0]
    (row,) = _rows(database)
    assert row.id != value  # the table holds a hash of the cookie, not the cookie
    assert b"eyJ" not in row.sealed_tokens  # no JWT in the clear
    page = client.get("/account")
    assert 'id="trust-level">basis' in page.text
    assert page.headers["cache-control"] == "no-store"


def test_the_callback_refuses_a_wrong_state(client: TestClient) -> None:
    query = authorization_query(client, "/login?next=/account")
    response = client.post(
        IDP_AUTH,
        data={
            **query,
            "state": "forged",
            "username": "demo-applicant",
            "password": "demo-applicant",
        },
        follow_redirects=False,
    )
    callback = urlsplit(response.headers["location"])
    refused = client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert refused.status_code == 400
    assert "ozg_session" not in client.cookies


def test_the_callback_without_a_login_in_progress_is_refused(client: TestClient) -> None:
    assert client.get("/auth/callback?code=x&state=y").status_code == 400


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/account?x=1", "/account?x=1"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("account", "/"),
        ("/a\nb", "/"),
        (None, "/"),
    ],
)
def test_the_return_path_stays_on_this_site(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def test_the_api_accepts_the_session_cookie_and_unsafe_methods_need_the_csrf_header(
    client: TestClient,
) -> None:
    sign_in(client)
    assert client.get("/v1/me").json()["trust_level"] == "basis"
    body = {"email_notifications": True}
    refused = client.put("/v1/me/notifications", json=body)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("csrf-token-invalid")
    wrong = client.put("/v1/me/notifications", json=body, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    csrf = csrf_of(client)
    assert (
        client.put("/v1/me/notifications", json=body, headers={"X-CSRF-Token": csrf}).status_code
        == 204
    )


def test_a_bearer_token_still_works_and_wins_over_the_cookie(client: TestClient) -> None:
    sign_in(client)
    token = client.post(
        "/dev-idp/realms/ozg-dev/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "ozg-cli",
            "username": "demo-dpo",
            "password": "demo-dpo",
        },
    ).json()["access_token"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code in (200, 403)  # the DPO's token decides, not the cookie
    assert client.get("/v1/me").json()["roles"] == ["applicant"]


def test_a_forged_cookie_is_refused_by_the_api(client: TestClient) -> None:
    client.cookies.set("ozg_session", "forged")
    response = client.get("/v1/me")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_step_up_asks_the_idp_for_hoch_and_comes_back(client: TestClient) -> None:
    sign_in(client)
    redirect = client.get("/account/hoch", follow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "/login?next=%2Faccount%2Fhoch&acr=hoch"
    query = authorization_query(client, redirect.headers["location"])
    assert query["acr_values"] == "hoch"
    back = sign_in(client, start=redirect.headers["location"])
    assert back == "/account/hoch"
    page = client.get("/account/hoch")
    assert page.status_code == 200
    assert 'id="trust-level">hoch' in page.text
    assert client.get("/v1/me").json()["trust_level"] == "hoch"


def test_the_access_token_renews_silently(client: TestClient, database: Database) -> None:
    sign_in(client)
    (before,) = _rows(database)
    with database.transaction() as session:
        row = session.get(PortalSession, before.id)
        assert row is not None
        row.access_expires_at = row.access_expires_at - timedelta(hours=1)
    assert client.get("/v1/me").status_code == 200
    (after,) = _rows(database)
    assert after.sealed_tokens != before.sealed_tokens
    assert after.access_expires_at > before.access_expires_at - timedelta(minutes=1)


def test_an_idle_session_expires_and_the_user_comes_back_to_the_page(
    client: TestClient, database: Database
) -> None:
    sign_in(client)
    with database.transaction() as session:
        for row in session.scalars(select(PortalSession)):
            row.last_seen_at = row.last_seen_at - timedelta(hours=1)
    response = client.get("/account?tab=2", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/session-expired?next=%2Faccount%3Ftab%3D2"
    page = client.get(response.headers["location"])
    assert "Ihre Sitzung ist abgelaufen" in page.text
    assert 'href="/login?next=/account%3Ftab%3D2"' in page.text
    assert _rows(database) == []
    assert client.get("/v1/me").status_code == 401
    assert sign_in(client, start="/login?next=/account%3Ftab%3D2") == "/account?tab=2"


def test_keepalive_needs_the_csrf_header(client: TestClient) -> None:
    assert client.post("/session/keepalive").status_code == 401
    sign_in(client)
    assert client.post("/session/keepalive").status_code == 403
    response = client.post("/session/keepalive", headers={"X-CSRF-Token": csrf_of(client)})
    assert response.json()["active"] is True


def test_logout_needs_the_form_token_and_ends_the_session_at_the_idp(
    client: TestClient, database: Database
) -> None:
    sign_in(client)
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert len(_rows(database)) == 1
    response = client.post("/logout", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert target.path.endswith("/protocol/openid-connect/logout")
    query = dict(parse_qsl(target.query))
    assert query["post_logout_redirect_uri"] == "http://127.0.0.1:8000/logged-out"
    assert query["id_token_hint"].count(".") == 2
    assert _rows(database) == []
    assert client.get("/v1/me").status_code == 401


def test_erasure_ends_every_session_and_the_export_lists_them(
    app: FastAPI, client: TestClient, database: Database
) -> None:
    sign_in(client)
    (row,) = _rows(database)
    component = app.state.components.get("portal")
    with database.transaction() as session:
        exported = component.export(app, session, row.subject)
        assert [s["created_at"] for s in exported["sessions"]] == [row.created_at.isoformat()]
        assert "eyJ" not in str(exported)
        report = component.shred(app, session, row.subject)
    assert report.deleted == 1
    assert _rows(database) == []
    assert client.get("/v1/me").status_code == 401
