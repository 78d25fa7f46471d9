"""The applicant account as an ozg-commons component (see ``commons.components``)."""

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


class AccountComponent(Component):
    name = "account"
    summary = "The applicant's account: identity, trust levels, consents, mailbox, erasure."
    subject_columns = ("account_account.subject",)
    depends_on = ("compliance",)
    cli_groups = (CliGroup("accounts", N_("Applicant accounts."), "account.cli:cli"),)

    def routers(self) -> Sequence[APIRouter]:
        from account.api import router

        return (router,)

    def settings_model(self) -> type[BaseSettings]:
        from account.runtime import AccountSettings

        return AccountSettings

    def startup_problems(self, settings: Settings) -> list[str]:
        from account.runtime import config_problems

        return config_problems(settings)

    def configure(self, app: FastAPI, settings: Settings) -> None:
        from account.auth import AUDIT_CALLERS
        from account.runtime import configure

        configure(app, settings)
        # compliance sits below account, so its routes depend on a caller that refuses by
        # default; the account's authentication stands in for it. (Not as an entry of
        # app.dependency_overrides: while that is not empty, FastAPI analyses every
        # dependency of every route again on each request.)
        app.state.audit_callers = AUDIT_CALLERS

    def declarations(self) -> ModuleType:
        from account import declarations

        return declarations

    def export(self, app: FastAPI, session: Session, subject: str) -> dict[str, Any]:
        from account.personal_data import export_personal_data

        return export_personal_data(session, subject)

    def shred(self, app: FastAPI, session: Session, subject: str) -> ShredReport:
        from account.personal_data import shred_personal_data

        return shred_personal_data(session, subject)

    def models(self) -> Sequence[str]:
        return ("account.models",)
