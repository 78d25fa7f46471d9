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


class KeycloakIdentityAdmin:
    """``IdentityAdmin`` over Keycloak's admin REST API (python-keycloak ``KeycloakAdmin``).

    Authenticates as the API client's service account, which needs the realm-management
    roles ``manage-users`` and ``view-users`` (see docs/account.md).
    """

    def __init__(self, settings: Settings) -> None:
        from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

        if not settings.keycloak_server_url or not settings.keycloak_realm:
            raise ConfigurationError(["OZG_KEYCLOAK_SERVER_URL and OZG_KEYCLOAK_REALM must be set"])
        connection = KeycloakOpenIDConnection(
            server_url=settings.keycloak_server_url,
            grant_type="client_credentials",
            realm_name=settings.keycloak_realm,
            client_id=settings.keycloak_client_id or "",
            client_secret_key=settings.keycloak_client_secret.get_secret_value(),
            timeout=10,
        )
        self._admin = KeycloakAdmin(connection=connection)

    def logout_all_sessions(self, subject: str) -> None:
        self._admin.user_logout(user_id=subject)

    def disable_user(self, subject: str) -> None:
        self._admin.disable_user(user_id=subject)

    def attributes(self, subject: str) -> dict[str, list[str]]:
        user = self._admin.get_user(user_id=subject)
        attributes = user.get("attributes") or {}
        return {str(k): [str(v) for v in vs] for k, vs in attributes.items()}
