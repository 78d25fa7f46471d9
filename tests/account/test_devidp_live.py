"""python-keycloak against the development IdP, served by a real uvicorn on a free port."""

from __future__ import annotations

import base64
import hashlib
import secrets
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakAuthenticationError

from commons.db import Database
from commons.settings import Settings
from gateway.app import create_app
from tests.services import serving


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_base(
    tmp_path: Path, database_url: str, database: Database, demo_data_dir: Path
) -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # The demo keys made once per run (as the settings fixture does): six new RSA-4096 keys
    # per start took longer than the deadline below on a loaded CI machine.
    shutil.copytree(demo_data_dir, tmp_path / "var")
    settings = Settings(data_dir=tmp_path / "var", database_url=database_url, public_base_url=base)
    app = create_app(settings, database)
    with serving(app, port):
        yield base


def _keycloak(base: str, client_id: str = "ozg-cli", secret: str | None = None) -> KeycloakOpenID:
    return KeycloakOpenID(
        server_url=f"{base}/dev-idp/",
        realm_name="ozg-dev",
        client_id=client_id,
        client_secret_key=secret,
    )


def test_python_keycloak_token_is_accepted_by_me(live_base: str) -> None:
    keycloak = _keycloak(live_base)
    assert keycloak.well_known()["issuer"] == f"{live_base}/dev-idp/realms/ozg-dev"
    token = keycloak.token("demo-applicant", "demo-applicant")
    response = httpx.get(
        f"{live_base}/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["roles"] == ["applicant"]
    assert me["trust_level"] == "basis"
    # python-keycloak's own checks of the token (signature via the realm's public key)
    claims: dict[str, Any] = keycloak.decode_token(token["access_token"], validate=True)
    assert claims["sub"] == me["subject"]
    userinfo: dict[str, Any] = keycloak.userinfo(token["access_token"])  # type: ignore[assignment]
    assert userinfo["preferred_username"] == "demo-applicant"
    refreshed = keycloak.refresh_token(token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    keycloak.logout(token["refresh_token"])


def test_wrong_password_is_refused(live_base: str) -> None:
    with pytest.raises(KeycloakAuthenticationError):
        _keycloak(live_base).token("demo-applicant", "wrong")


def test_demo_caseworkers_and_authorities(live_base: str) -> None:
    keycloak = _keycloak(live_base)
    for username, authority in (
        ("demo-caseworker-tf", "tf"),
        ("demo-caseworker-ee", "ee"),
        ("demo-caseworker-p", "p"),
    ):
        token = keycloak.token(username, username)["access_token"]
        me = httpx.get(f"{live_base}/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me["roles"] == ["caseworker"]
        assert me["authority"] == authority


def test_client_credentials_for_demo_flow(live_base: str) -> None:
    token = _keycloak(live_base, "demo-flow", "demo-flow-secret").token(
        grant_type="client_credentials"
    )["access_token"]
    me = httpx.get(f"{live_base}/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["roles"] == ["flow"]
    assert me["client_id"] == "demo-flow"


def test_authorization_code_with_pkce_through_the_login_page(live_base: str) -> None:
    keycloak = _keycloak(live_base)
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    redirect_uri = "http://127.0.0.1:8765/callback"
    auth_url = keycloak.auth_url(redirect_uri=redirect_uri, scope="openid", state="xyz")
    with httpx.Client(follow_redirects=False) as http:
        page = http.get(
            auth_url, params={"code_challenge": challenge, "code_challenge_method": "S256"}
        )
        assert page.status_code == 200
        assert 'id="kc-form-login"' in page.text
        form = {
            "client_id": "ozg-cli",
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "state": "xyz",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        bad = http.post(
            f"{live_base}/dev-idp/realms/ozg-dev/protocol/openid-connect/auth",
            data={**form, "username": "demo-applicant-hoch", "password": "nope"},
        )
        assert "Invalid username or password" in bad.text
        response = http.post(
            f"{live_base}/dev-idp/realms/ozg-dev/protocol/openid-connect/auth",
            data={**form, "username": "demo-applicant-hoch", "password": "demo-applicant-hoch"},
        )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["xyz"]
    token = keycloak.token(
        grant_type="authorization_code",
        code=query["code"][0],
        redirect_uri=redirect_uri,
        code_verifier=verifier,
    )
    me = httpx.get(
        f"{live_base}/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()
    assert me["trust_level"] == "hoch"


def test_signing_key_is_persisted(tmp_path: Path) -> None:
    from account.devidp import UnsafeDevIdentityProvider

    first = UnsafeDevIdentityProvider("http://127.0.0.1:8000", tmp_path / "dev-idp")
    second = UnsafeDevIdentityProvider("http://127.0.0.1:8000", tmp_path / "dev-idp")
    assert first.jwks() == second.jwks()
    assert (tmp_path / "dev-idp" / "signing-key.pem").stat().st_mode & 0o077 == 0


def test_production_refuses_the_dev_idp() -> None:
    problems = Settings(env="production").production_problems()
    assert any("unsafe development identity provider" in p for p in problems)
