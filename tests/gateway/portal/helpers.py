"""Signing in through the development IdP with a TestClient, as a browser would."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from fastapi.testclient import TestClient

IDP_AUTH = "/dev-idp/realms/ozg-dev/protocol/openid-connect/auth"


def authorization_query(client: TestClient, path: str) -> dict[str, str]:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303, response.text
    return dict(parse_qsl(urlsplit(response.headers["location"]).query))


def sign_in(
    client: TestClient, user: str = "demo-applicant", *, start: str = "/login?next=/account"
) -> str:
    """Run the code flow; returns where the callback sends the browser."""
    query = authorization_query(client, start)
    response = client.post(
        IDP_AUTH, data={**query, "username": user, "password": user}, follow_redirects=False
    )
    assert response.status_code == 302, response.text
    callback = urlsplit(response.headers["location"])
    response = client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def csrf_of(client: TestClient) -> str:
    page = client.get("/account").text
    marker = 'name="csrf-token" content="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]
