"""Keycloak mode without a server: wiring, an unreachable IdP, and the admin adapter."""

from __future__ import annotations

from unittest.mock import MagicMock

from fastapi.testclient import TestClient
from jwcrypto import jwk, jws
from pydantic import SecretStr

from account.keycloak import KeycloakIdentityAdmin
from account.runtime import LazyKeycloakAdmin
from commons.db import Database
from commons.settings import Settings
from gateway.app import create_app


def _keycloak_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "identity_provider": "keycloak",
            "keycloak_server_url": "http://127.0.0.1:9/",
            "keycloak_realm": "ozg",
            "keycloak_client_id": "ozg-api",
            "keycloak_client_secret": SecretStr("s"),
        }
    )


def test_unreachable_identity_provider_is_503_not_401(
    settings: Settings, database: Database
) -> None:
    app = create_app(_keycloak_settings(settings), database)
    assert app.state.authenticator.verifier.issuer == "http://127.0.0.1:9/realms/ozg"
    assert isinstance(app.state.identity_admin, LazyKeycloakAdmin)
    key = jwk.JWK.generate(kty="EC", crv="P-256")
    token = jws.JWS(b'{"sub":"x"}')
    token.add_signature(key, alg="ES256", protected='{"alg":"ES256","kid":"k1"}')
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(
            "/v1/me", headers={"Authorization": f"Bearer {token.serialize(compact=True)}"}
        )
        assert response.status_code == 503
        assert (
            client.get("/dev-idp/realms/ozg-dev/.well-known/openid-configuration").status_code
            == 404
        )


def test_identity_admin_maps_onto_python_keycloak() -> None:
    admin = KeycloakIdentityAdmin.__new__(KeycloakIdentityAdmin)
    admin._admin = MagicMock()
    admin._admin.get_user.return_value = {"attributes": {"bpk2": ["abc"], "nationality": ["FRA"]}}
    admin.logout_all_sessions("user-1")
    admin.disable_user("user-1")
    assert admin.attributes("user-1") == {"bpk2": ["abc"], "nationality": ["FRA"]}
    admin._admin.user_logout.assert_called_once_with(user_id="user-1")
    admin._admin.disable_user.assert_called_once_with(user_id="user-1")
