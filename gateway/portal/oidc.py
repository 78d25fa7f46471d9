"""The portal's OpenID Connect client: authorization code with PKCE (RFC 7636), refresh
(silent renewal) and RP-initiated logout, against the configured identity provider.

Two transports with one interface: the development IdP runs in the same process, so its
token endpoint is called directly (no HTTP to ourselves); Keycloak is reached over HTTP with
the endpoints from its discovery document. The browser-facing URLs (authorization, logout)
are the IdP's public ones in both cases.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    from fastapi import FastAPI

    from commons.settings import Settings
    from gateway.portal.runtime import PortalSettings

log = logging.getLogger("ozg.portal")


class OidcError(Exception):
    """The identity provider refused a code or a refresh token, or cannot be reached."""


def pkce_pair() -> tuple[str, str]:
    """A fresh ``code_verifier`` (43 characters) and its S256 ``code_challenge``."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class Endpoints:
    authorization: str
    token: str
    end_session: str | None


class OidcClient:
    """Builds the browser redirects and redeems codes and refresh tokens."""

    def __init__(self, client_id: str, client_secret: str | None) -> None:
        self.client_id = client_id
        self.client_secret = client_secret

    # -- provided by a transport ----------------------------------------------------------
    def endpoints(self) -> Endpoints:
        raise NotImplementedError

    def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        raise NotImplementedError

    # -- the flow -------------------------------------------------------------------------
    def authorization_url(
        self, *, redirect_uri: str, state: str, challenge: str, acr_values: str | None = None
    ) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if acr_values:
            query["acr_values"] = acr_values
            query["prompt"] = "login"  # a step-up must authenticate again
        return f"{self.endpoints().authorization}?{urlencode(query)}"

    def exchange(self, *, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        return self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": redirect_uri,
            }
        )

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        return self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def logout_url(self, *, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
        """RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0)."""
        end = self.endpoints().end_session
        if end is None:
            return None
        query = {"post_logout_redirect_uri": post_logout_redirect_uri, "client_id": self.client_id}
        if id_token:
            query["id_token_hint"] = id_token
        return f"{end}?{urlencode(query)}"

    def browser_origins(self) -> list[str]:
        """Origins the browser is sent to (for the CSP's ``form-action``)."""
        raise NotImplementedError

    def _with_client(self, form: dict[str, str]) -> dict[str, str]:
        form = {**form, "client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        return form


class DevIdpClient(OidcClient):
    """Against the in-process ``UnsafeDevIdentityProvider`` (``app.state.dev_idp``)."""

    def __init__(self, app: FastAPI, client_id: str, client_secret: str | None) -> None:
        super().__init__(client_id, client_secret)
        self.app = app

    def endpoints(self) -> Endpoints:
        discovery = self.app.state.dev_idp.discovery()
        return Endpoints(
            discovery["authorization_endpoint"],
            discovery["token_endpoint"],
            discovery.get("end_session_endpoint"),
        )

    def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        from account import DevIdpError

        try:
            body: dict[str, Any] = self.app.state.dev_idp.token(self._with_client(form))
        except DevIdpError as exc:
            raise OidcError(f"{exc.error}: {exc.description}") from None
        return body

    def browser_origins(self) -> list[str]:
        return []  # same origin


class HttpOidcClient(OidcClient):
    """Against Keycloak (or any OIDC provider) over HTTP, endpoints from its discovery."""

    def __init__(self, issuer: str, client_id: str, client_secret: str | None) -> None:
        super().__init__(client_id, client_secret)
        self.issuer = issuer.rstrip("/")
        self._endpoints: Endpoints | None = None
        self._lock = threading.Lock()

    def endpoints(self) -> Endpoints:
        import httpx

        with self._lock:
            if self._endpoints is None:
                try:
                    response = httpx.get(
                        f"{self.issuer}/.well-known/openid-configuration", timeout=10
                    )
                    response.raise_for_status()
                    document = response.json()
                    self._endpoints = Endpoints(
                        str(document["authorization_endpoint"]),
                        str(document["token_endpoint"]),
                        document.get("end_session_endpoint"),
                    )
                except (httpx.HTTPError, ValueError, KeyError):
                    raise OidcError("the identity provider cannot be reached") from None
            return self._endpoints

    def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        import httpx

        try:
            response = httpx.post(self.endpoints().token, data=self._with_client(form), timeout=10)
        except httpx.HTTPError:
            raise OidcError("the identity provider cannot be reached") from None
        if response.status_code != 200:
            raise OidcError(f"the identity provider refused the request ({response.status_code})")
        body: dict[str, Any] = response.json()
        return body

    def browser_origins(self) -> list[str]:
        url = urlsplit(self.issuer)
        return [f"{url.scheme}://{url.netloc}"]


def oidc_client(app: FastAPI, settings: Settings, section: PortalSettings) -> OidcClient:
    secret = section.client_secret.get_secret_value() if section.client_secret else None
    if settings.identity_provider == "dev":
        return DevIdpClient(app, section.client_id, secret)
    server = (settings.keycloak_server_url or "").rstrip("/")
    return HttpOidcClient(f"{server}/realms/{settings.keycloak_realm}", section.client_id, secret)
