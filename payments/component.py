"""Fees and payments as an ozg-commons component (see ``commons.components``)."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from commons.components import CliGroup, Component, ShredReport
from commons.i18n import N_

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI
    from pydantic_settings import BaseSettings
    from sqlalchemy.orm import Session

    from commons.settings import Settings


class PaymentsComponent(Component):
    name = "payments"
    summary = "AufenthV fees, payment provider plug-ins, notifications, refunds and receipts."
    subject_columns = (
        "payments_payment.data_subject",
        "payments_quote.data_subject",
    )
    depends_on = ("account", "compliance")
    cli_groups = (
        CliGroup(
            "payments", N_("Payments: reconciliation for the cash office."), "payments.cli:cli"
        ),
    )

    def routers(self) -> Sequence[APIRouter]:
        from payments.api import router

        return (router,)

    def settings_model(self) -> type[BaseSettings]:
        from payments.runtime import PaymentsSettings

        return PaymentsSettings

    def startup_problems(self, settings: Settings) -> list[str]:
        from payments.runtime import config_problems

        return config_problems(settings)

    def configure(self, app: FastAPI, settings: Settings) -> None:
        from payments.api import configure

        configure(app, settings)
        # The sandbox's hosted payment page exists only where the sandbox is enabled.
        if "sandbox" in app.state.payments.providers:
            from payments.providers.sandbox.pages import router as sandbox_router

            app.include_router(sandbox_router, prefix="/v1")

    def declarations(self) -> ModuleType:
        from payments import declarations

        return declarations

    def export(self, app: FastAPI, session: Session, subject: str) -> dict[str, Any]:
        from payments.personal_data import export_personal_data

        return export_personal_data(session, subject)

    def shred(self, app: FastAPI, session: Session, subject: str) -> ShredReport:
        from payments.personal_data import shred_personal_data

        return shred_personal_data(session, subject, app.state.payments)

    def models(self) -> Sequence[str]:
        return ("payments.models",)
