"""The audit trail as an ozg-commons component (see ``commons.components``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import ModuleType
from typing import TYPE_CHECKING, Any

from commons.components import CliGroup, Component, ShredReport
from commons.i18n import N_

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI
    from pydantic_settings import BaseSettings
    from sqlalchemy.orm import Session

    from commons.settings import Settings


class ComplianceComponent(Component):
    name = "compliance"
    summary = "The tamper-evident audit trail of every access to personal data."
    subject_columns = ("compliance_access_personal.data_subject",)
    cli_groups = (
        CliGroup("audit", N_("The tamper-evident audit log."), "compliance.cli:audit"),
        CliGroup("retention", N_("Retention of personal data."), "compliance.cli:retention_app"),
        CliGroup(
            "compliance", N_("Data-protection documentation."), "compliance.cli:compliance_app"
        ),
    )

    def routers(self) -> Sequence[APIRouter]:
        from compliance.api import router

        return (router,)

    def settings_model(self) -> type[BaseSettings]:
        from compliance.runtime import ComplianceSettings

        return ComplianceSettings

    def startup_problems(self, settings: Settings) -> list[str]:
        from compliance.runtime import config_problems

        return config_problems(settings)

    def configure(self, app: FastAPI, settings: Settings) -> None:
        from compliance.runtime import configure

        configure(app, settings, app.state.declarations.actions)

    def lifespan(self, app: FastAPI) -> AbstractContextManager[Any]:
        """The audit-log sequencer runs in every process that owns its database (tests pass a
        database and sequence explicitly); several processes serialize on the log's lock."""
        if not app.state.owns_database:
            return nullcontext()
        from compliance.runtime import ComplianceSettings
        from compliance.sequencer import SequencerThread

        interval = app.state.settings.section(ComplianceSettings).sequence_interval

        @contextmanager
        def sequencing() -> Iterator[None]:
            thread = SequencerThread(app.state.database, app.state.audit.identity, interval)
            thread.start()
            try:
                yield
            finally:
                thread.stop()

        return sequencing()

    def declarations(self) -> ModuleType:
        from compliance import declarations

        return declarations

    def export(self, app: FastAPI, session: Session, subject: str) -> dict[str, Any]:
        from compliance.personal_data import export_personal_data

        return export_personal_data(session, subject)

    def shred(self, app: FastAPI, session: Session, subject: str) -> ShredReport:
        from compliance.personal_data import shred_personal_data

        return shred_personal_data(session, subject)

    def models(self) -> Sequence[str]:
        return ("compliance.models",)
