"""python-keycloak clients built from settings."""

from __future__ import annotations

from keycloak import KeycloakOpenID

from commons.errors import ConfigurationError
from commons.settings import Settings


def keycloak_openid(settings: Settings) -> KeycloakOpenID:
    """The OIDC client for the configured Keycloak realm."""
    if not settings.keycloak_server_url or not settings.keycloak_realm:
        raise ConfigurationError(["OZG_KEYCLOAK_SERVER_URL and OZG_KEYCLOAK_REALM must be set"])
    return KeycloakOpenID(
        server_url=settings.keycloak_server_url,
        realm_name=settings.keycloak_realm,
        client_id=settings.keycloak_client_id or "",
        client_secret_key=settings.keycloak_client_secret.get_secret_value(),
        timeout=10,
    )
