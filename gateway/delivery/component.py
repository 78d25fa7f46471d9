"""The FIT-Connect delivery service as an ozg-commons component (see ``commons.components``)."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from commons.components import CliGroup, Component, ShredReport
from commons.i18n import N_

if TYPE_CHECKING:
    from fastapi import FastAPI
    from pydantic_settings import BaseSettings
    from sqlalchemy.orm import Session

    from commons.settings import Settings


class DeliveryComponent(Component):
    name = "delivery"
    summary = "FIT-Connect Submission API v1: destinations, submissions, event log, callbacks."
    subject_columns = ("delivery_submission.sender",)
    depends_on = ("account", "compliance", "vault")
    cli_groups = (
        CliGroup(
            "delivery",
            N_("FIT-Connect delivery: timers and callbacks."),
            "gateway.delivery.cli:cli",
        ),
    )

    def configure(self, app: FastAPI, settings: Settings) -> None:
        # The routes live under /fit-connect (FIT-Connect's own paths), not under /v1, so
        # configure mounts them instead of routers().
        from gateway.delivery.api import configure

        configure(app, settings)

    def settings_model(self) -> type[BaseSettings]:
        from gateway.delivery.runtime import DeliverySettings

        return DeliverySettings

    def startup_problems(self, settings: Settings) -> list[str]:
        from gateway.delivery.runtime import config_problems

        return config_problems(settings)

    def declarations(self) -> ModuleType:
        from gateway.delivery import declarations

        return declarations

    def export(self, app: FastAPI, session: Session, subject: str) -> dict[str, Any]:
        from gateway.delivery.personal_data import export_personal_data

        return export_personal_data(session, subject)

    def shred(self, app: FastAPI, session: Session, subject: str) -> ShredReport:
        from gateway.delivery.personal_data import shred_personal_data

        return shred_personal_data(session, subject, app.state.delivery)

    def models(self) -> Sequence[str]:
        return ("gateway.delivery.models",)
