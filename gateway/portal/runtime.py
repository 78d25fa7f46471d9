"""The portal's per-app runtime: its settings section (``OZG_PORTAL_*``), their checks, and
:func:`configure`, which mounts the pages, the static files, the security headers, the login
and the session store, and lets the ``/v1`` API accept the session cookie."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from commons.settings import Settings, is_loopback

if TYPE_CHECKING:
    from fastapi import FastAPI
    from jinja2 import Environment

    from gateway.portal.i18n import Catalogues
    from gateway.portal.oidc import OidcClient
    from gateway.portal.sessions import SessionStore

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
VENDOR_DIR = STATIC_DIR / "vendor"


class PortalSettings(BaseSettings):
    """The portal: its OIDC client, session lifetimes and the operator's texts."""

    model_config = SettingsConfigDict(env_prefix="OZG_PORTAL_", extra="ignore", frozen=True)

    client_id: str = Field(
        default="ozg-portal", description="The portal's OIDC client (code flow with PKCE)."
    )
    client_secret: SecretStr | None = Field(
        default=None, description="Only if the IdP made the portal a confidential client."
    )
    session_idle_seconds: int = Field(
        default=1800, ge=1, description="A session ends after this long without a request."
    )
    session_max_seconds: int = Field(
        default=12 * 3600, ge=1, description="A session ends this long after the login."
    )
    step_up_acr: str = Field(
        default="hoch", description="acr_values sent to the IdP when trust level hoch is needed."
    )
    dgs_video_file: Path | None = Field(
        default=None,
        description="The start page's German Sign Language (DGS) video (MP4/WebM), served "
        "from /dgs-video; without it the start page shows a placeholder.",
    )
    operator_name: str = Field(
        default="Development operator (set OZG_PORTAL_OPERATOR_NAME)",
        description="Who runs this portal (imprint, privacy notice, accessibility statement).",
    )
    imprint_file: Path | None = Field(
        default=None, description="Plain-text imprint (Impressum); paragraphs by blank lines."
    )
    privacy_file: Path | None = Field(
        default=None, description="Plain-text privacy notice; paragraphs by blank lines."
    )
    accessibility_contact: str = Field(
        default="barrierefreiheit@example.invalid",
        description="E-mail address for accessibility feedback (BITV 2.0 feedback mechanism).",
    )
    pseudo_locales: bool | None = Field(
        default=None,
        description="Offer the pseudo right-to-left test locale ar-XB (default: outside "
        "production only).",
    )


def config_problems(settings: Settings) -> list[str]:
    section = settings.section(PortalSettings)
    problems: list[str] = []
    for name in ("dgs_video_file", "imprint_file", "privacy_file"):
        path = getattr(section, name)
        if path is not None and not path.is_file():
            problems.append(f"OZG_PORTAL_{name.upper()} names {path}, which is not a file")
    if settings.is_production:
        if section.imprint_file is None:
            problems.append("OZG_PORTAL_IMPRINT_FILE is not set (an imprint is required)")
        if section.privacy_file is None:
            problems.append("OZG_PORTAL_PRIVACY_FILE is not set (a privacy notice is required)")
        if section.accessibility_contact.endswith(".invalid"):
            problems.append(
                "OZG_PORTAL_ACCESSIBILITY_CONTACT is the development placeholder; set the "
                "address for accessibility feedback"
            )
        if section.pseudo_locales:
            problems.append("OZG_PORTAL_PSEUDO_LOCALES must not be true in production")
    return problems


def cookies_secure(settings: Settings) -> bool:
    """``Secure`` cookies everywhere but plain-HTTP loopback development."""
    from urllib.parse import urlsplit

    url = urlsplit(settings.public_base_url)
    return url.scheme == "https" or not is_loopback(url.hostname or "")


@dataclass
class PortalRuntime:
    settings: Settings
    section: PortalSettings
    catalogues: Catalogues
    templates: Environment
    sessions: SessionStore
    oidc: OidcClient
    secure_cookies: bool

    @property
    def base_url(self) -> str:
        return self.settings.public_base_url.rstrip("/")


def portal(app: FastAPI) -> PortalRuntime:
    runtime: PortalRuntime = app.state.portal
    return runtime


def configure(app: FastAPI, settings: Settings) -> None:
    from fastapi.staticfiles import StaticFiles

    from account import install_session_authentication
    from gateway.portal import apply, cases, docs, documents, dpo, login, mydata, pages
    from gateway.portal.i18n import Catalogues, template_environment
    from gateway.portal.oidc import oidc_client
    from gateway.portal.security import SecurityHeadersMiddleware, content_security_policy
    from gateway.portal.sessions import SessionStore

    section = settings.section(PortalSettings)
    pseudo = section.pseudo_locales
    catalogues = Catalogues.load(pseudo=not settings.is_production if pseudo is None else pseudo)
    oidc = oidc_client(app, settings, section)
    sessions = SessionStore(
        database=app.state.database,
        secret=settings.secret_key.get_secret_value(),
        oidc=oidc,
        idle_seconds=section.session_idle_seconds,
        max_seconds=section.session_max_seconds,
        secure=cookies_secure(settings),
    )
    app.state.portal = PortalRuntime(
        settings=settings,
        section=section,
        catalogues=catalogues,
        templates=template_environment(),
        sessions=sessions,
        oidc=oidc,
        secure_cookies=cookies_secure(settings),
    )
    install_session_authentication(app, sessions)
    app.include_router(pages.router)
    app.include_router(login.router)
    app.include_router(dpo.router)
    app.include_router(mydata.router)
    app.include_router(cases.router)
    app.include_router(documents.router)
    app.include_router(apply.router)
    docs.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(
        SecurityHeadersMiddleware,
        csp=content_security_policy(form_action=oidc.browser_origins()),
        hsts=settings.public_base_url.startswith("https://"),
    )
