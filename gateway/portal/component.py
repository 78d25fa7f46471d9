"""The portal as an ozg-commons component (see ``commons.components``)."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from commons.components import Component, ShredReport

if TYPE_CHECKING:
    from fastapi import FastAPI
    from pydantic_settings import BaseSettings
    from sqlalchemy.orm import Session

    from commons.settings import Settings


class PortalComponent(Component):
    name = "portal"
    summary = "The applicants' web portal: pages, login and session, offline API docs."
    subject_columns = ("portal_session.subject",)
    depends_on = ("account", "payments", "flows")

    def settings_model(self) -> type[BaseSettings]:
        from gateway.portal.runtime import PortalSettings

        return PortalSettings

    def startup_problems(self, settings: Settings) -> list[str]:
        from gateway.portal.runtime import config_problems

        return config_problems(settings)

    def configure(self, app: FastAPI, settings: Settings) -> None:
        from gateway.portal.runtime import configure

        configure(app, settings)

    def declarations(self) -> ModuleType:
        from gateway.portal import declarations

        return declarations

    def export(self, app: FastAPI, session: Session, subject: str) -> dict[str, Any]:
        """The subject's signed-in browser sessions: when they began and were last used
        (never the tokens)."""
        from sqlalchemy import select

        from gateway.portal.models import PortalSession

        rows = session.scalars(select(PortalSession).where(PortalSession.subject == subject))
        return {
            "sessions": [
                {
                    "created_at": row.created_at.isoformat(),
                    "last_seen_at": row.last_seen_at.isoformat(),
                    "expires_at": row.expires_at.isoformat(),
                }
                for row in rows
            ]
        }

    def shred(self, app: FastAPI, session: Session, subject: str) -> ShredReport:
        """Erasure ends every browser session of the subject (the rows and their tokens)."""
        from sqlalchemy import delete

        from gateway.portal.models import PortalSession

        result = session.execute(delete(PortalSession).where(PortalSession.subject == subject))
        return ShredReport(self.name, deleted=int(getattr(result, "rowcount", 0) or 0))

    def models(self) -> Sequence[str]:
        return ("gateway.portal.models",)
