"""The account's per-app runtime: its settings section (``OZG_ACCOUNT_*``), the checks of
that section, and :func:`configure`, which wires authentication, the identity provider's
admin client and the mail notifier into ``app.state``.

Kept light at import (settings models are read when the CLI starts): token verification, the
development IdP and the HTTP client are imported where they are used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from commons.errors import ServiceUnavailable
from commons.settings import Settings, is_loopback

if TYPE_CHECKING:
    from fastapi import FastAPI

    from account.devidp import UnsafeDevIdentityProvider
    from account.erasure import IdentityAdmin

log = logging.getLogger("ozg.account")


# A "recent" authentication older than an hour is no longer a fresh proof of presence.
MAX_RECENT_AUTH_MINUTES = 60


class AccountSettings(BaseSettings):
    """Erasure, dormancy and the e-mail notices of the mailbox."""

    model_config = SettingsConfigDict(env_prefix="OZG_ACCOUNT_", extra="ignore", frozen=True)

    recent_auth_minutes: int = Field(
        default=10,
        ge=1,
        description="Erasure needs an authentication at most this old "
        f"(production refuses more than {MAX_RECENT_AUTH_MINUTES}).",
    )
    dormant_after_days: int = Field(
        default=730, ge=1, description="Unused accounts get a notice after this many days."
    )
    dormant_grace_days: int = Field(
        default=60, ge=1, description="Days between the dormancy notice and the erasure."
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP relay for content-free e-mail notices."
    )
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "no-reply@ozg-commons.invalid"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr = SecretStr("")
    erasure_journal_dir: Path | None = Field(
        default=None,
        description="The erasure journal's directory, kept and backed up apart from the "
        "database (docs/backup-restore.md). Default: data_dir/erasure-journal; production "
        "must set it.",
    )


def erasure_journal_dir(settings: Settings) -> Path:
    """Where the erasure journal lives (``OZG_ACCOUNT_ERASURE_JOURNAL_DIR``)."""
    configured = settings.section(AccountSettings).erasure_journal_dir
    return configured if configured is not None else settings.data_dir / "erasure-journal"


def config_problems(settings: Settings) -> list[str]:
    """What is wrong with the account settings for this deployment; empty if nothing."""
    section = settings.section(AccountSettings)
    problems: list[str] = []
    if (
        settings.is_production
        and section.smtp_host
        and not section.smtp_starttls
        and not is_loopback(section.smtp_host)
    ):
        problems.append("OZG_ACCOUNT_SMTP_STARTTLS must be true for a relay outside loopback")
    if settings.is_production and section.recent_auth_minutes > MAX_RECENT_AUTH_MINUTES:
        problems.append(
            f"OZG_ACCOUNT_RECENT_AUTH_MINUTES is {section.recent_auth_minutes}; erasure needs a "
            f"recent authentication, at most {MAX_RECENT_AUTH_MINUTES} minutes"
        )
    if settings.is_production and section.erasure_journal_dir is None:
        problems.append(
            "OZG_ACCOUNT_ERASURE_JOURNAL_DIR must be set: the erasure journal, on storage of "
            "its own and backed up apart from the database (docs/backup-restore.md)"
        )
    return problems


class DevIdentityAdmin:
    """``IdentityAdmin`` for the development IdP: disables demo users in memory."""

    def __init__(self, idp: UnsafeDevIdentityProvider) -> None:
        self.idp = idp

    def logout_all_sessions(self, subject: str) -> None:
        """Stateless tokens: nothing to revoke; disabling stops new logins and refreshes."""

    def disable_user(self, subject: str) -> None:
        from account.devidp import DEMO_USERS

        for user in DEMO_USERS.values():
            if user.subject == subject:
                self.idp.disabled.add(user.username)

    def attributes(self, subject: str) -> dict[str, list[str]]:
        return {}


class LazyKeycloakAdmin:
    """Builds the Keycloak admin client on first use (no network at start-up)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._admin: IdentityAdmin | None = None

    def _get(self) -> IdentityAdmin:
        if self._admin is None:
            from account.keycloak import KeycloakIdentityAdmin

            self._admin = KeycloakIdentityAdmin(self.settings)
        return self._admin

    def logout_all_sessions(self, subject: str) -> None:
        self._get().logout_all_sessions(subject)

    def disable_user(self, subject: str) -> None:
        self._get().disable_user(subject)

    def attributes(self, subject: str) -> dict[str, list[str]]:
        return self._get().attributes(subject)


def keycloak_issuer(settings: Settings) -> str:
    server = (settings.keycloak_server_url or "").rstrip("/")
    return f"{server}/realms/{settings.keycloak_realm}"


def keycloak_jwks_fetcher(settings: Settings) -> Callable[[], dict[str, Any]]:
    """Discovery, then the JWKS; an unreachable IdP is a 503, not a rejected token."""
    import httpx

    issuer = keycloak_issuer(settings)
    jwks_uri: list[str] = []

    def fetch() -> dict[str, Any]:
        try:
            if not jwks_uri:
                discovery = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
                discovery.raise_for_status()
                jwks_uri.append(str(discovery.json()["jwks_uri"]))
            response = httpx.get(jwks_uri[0], timeout=10)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError, KeyError):
            log.warning("identity provider keys unavailable")
            raise ServiceUnavailable("the identity provider cannot be reached") from None
        return document

    return fetch


def audience(settings: Settings) -> str:
    return settings.keycloak_audience or settings.keycloak_client_id or "ozg-api"


def configure(
    app: FastAPI, settings: Settings, *, identity_admin: IdentityAdmin | None = None
) -> None:
    """Authentication (``app.state.authenticator``), the dev IdP when configured, the
    identity admin, the mail notifier and the erasure journal. Erasure receipts are signed
    with ``app.state.receipt_signer``, which the gateway configures first."""
    from account import mailbox
    from account.authn import BearerAuthenticator, Introspector, RejectionCounter
    from account.claims import ClaimsMapping
    from account.devidp import API_CLIENT as DEV_API_CLIENT
    from account.devidp import UnsafeDevIdentityProvider
    from account.journal import ErasureJournal
    from account.tokens import JwksCache, TokenVerifier

    rejections = RejectionCounter(app.state.metrics.registry)
    app.state.auth_rejections = rejections
    introspect: Introspector | None = None
    if settings.identity_provider == "dev":
        from account import devidp_api

        idp = UnsafeDevIdentityProvider(settings.public_base_url, settings.data_dir / "dev-idp")
        app.state.dev_idp = idp
        app.include_router(devidp_api.router)
        issuer, fetch, api_client = idp.issuer, idp.jwks, DEV_API_CLIENT
        admin: IdentityAdmin = identity_admin or DevIdentityAdmin(idp)
    else:
        issuer, fetch = keycloak_issuer(settings), keycloak_jwks_fetcher(settings)
        api_client = audience(settings)
        admin = identity_admin or LazyKeycloakAdmin(settings)
        if settings.oidc_introspection:
            from account.keycloak import keycloak_openid

            client = keycloak_openid(settings)
            introspect = client.introspect
    app.state.oidc_issuer = issuer  # the OpenAPI document's security schemes name it
    mapping = ClaimsMapping.from_names(api_client, settings.oidc_acr_map)
    verifier = TokenVerifier(
        issuer=issuer,
        audience=api_client,
        keys=JwksCache(fetch, min_refresh_seconds=settings.oidc_jwks_min_refresh_seconds),
        leeway_seconds=settings.oidc_leeway_seconds,
    )
    app.state.authenticator = BearerAuthenticator(
        verifier, mapping, rejections, introspect=introspect
    )
    app.state.identity_admin = admin
    app.state.erasure_journal = ErasureJournal(erasure_journal_dir(settings))
    config = settings.section(AccountSettings)
    app.state.mail_notifier = mailbox.SmtpNotifier(config) if config.smtp_host else None
