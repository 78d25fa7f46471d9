"""The document vault as an ozg-commons component (see ``commons.components``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from commons.components import CliGroup, Component, ReadinessCheck, ShredReport
from commons.i18n import N_

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI
    from pydantic_settings import BaseSettings
    from sqlalchemy.orm import Session

    from commons.settings import Settings


class VaultComponent(Component):
    name = "vault"
    summary = "Documents encrypted on the applicant's device; the server stores ciphertext."
    subject_columns = (
        "vault_applicant_key.subject",
        "vault_document.owner_subject",
        "vault_upload.owner_subject",
    )
    depends_on = ("account", "compliance")
    cli_groups = (
        CliGroup("vault", N_("End-to-end encrypted documents."), "vault.cli:cli"),
        CliGroup(
            "login",
            N_("Log in (browser, device code or password); renewed silently."),
            "vault.client.cli:login",
        ),
        CliGroup("logout", N_("Forget the login on this device."), "vault.client.cli:logout"),
    )

    def routers(self) -> Sequence[APIRouter]:
        from vault.api import router
        from vault.metadata_api import router as metadata_router
        from vault.upload_api import router as upload_router

        # the metadata routes first: /documents/metadata is not a document id
        return (metadata_router, router, upload_router)

    def settings_model(self) -> type[BaseSettings]:
        from vault.runtime import VaultSettings

        return VaultSettings

    def startup_problems(self, settings: Settings) -> list[str]:
        from vault.runtime import config_problems

        return config_problems(settings)

    def configure(self, app: FastAPI, settings: Settings) -> None:
        from vault.api import configure

        configure(app, settings)

    def readiness_checks(self, app: FastAPI) -> Mapping[str, ReadinessCheck]:
        def object_store() -> None:
            app.state.vault.store.ping()  # the store configured now, not at start-up

        return {"object_store": object_store}

    def declarations(self) -> ModuleType:
        from vault import declarations

        return declarations

    def export(self, app: FastAPI, session: Session, subject: str) -> dict[str, Any]:
        from vault.personal_data import export_personal_data

        return export_personal_data(session, subject)

    def shred(self, app: FastAPI, session: Session, subject: str) -> ShredReport:
        report: ShredReport = app.state.vault.shred(session, subject)
        return report

    def models(self) -> Sequence[str]:
        return ("vault.models",)
