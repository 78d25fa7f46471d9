"""Cases as an ozg-commons component (see ``commons.components``)."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from commons.components import Component, ShredReport

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI
    from pydantic_settings import BaseSettings
    from sqlalchemy.orm import Session

    from commons.settings import Settings


class CasesComponent(Component):
    name = "cases"
    summary = "Cases: lifecycle, sealed drafts, manifest checks, status timeline, authority steps."
    subject_columns = ("cases_case.subject",)
    depends_on = ("account", "vault", "payments", "compliance", "delivery")

    def routers(self) -> Sequence[APIRouter]:
        from gateway.cases.api import authority_router, router

        return (router, authority_router)

    def settings_model(self) -> type[BaseSettings]:
        from gateway.cases.runtime import CasesSettings

        return CasesSettings

    def configure(self, app: FastAPI, settings: Settings) -> None:
        from gateway.cases.runtime import configure

        configure(app, settings)

    def declarations(self) -> ModuleType:
        from gateway.cases import declarations

        return declarations

    def export(self, app: FastAPI, session: Session, subject: str) -> dict[str, Any]:
        from gateway.cases.service import export_personal_data

        return export_personal_data(session, subject)

    def shred(self, app: FastAPI, session: Session, subject: str) -> ShredReport:
        from gateway.cases.service import shred_personal_data

        return shred_personal_data(session, subject)

    def models(self) -> Sequence[str]:
        return ("gateway.cases.models",)
