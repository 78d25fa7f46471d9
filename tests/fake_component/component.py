"""The fake component: one route, a settings section, declarations, a table with an
exporter and a shredder, a migration, a command group and a startup check."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic_settings import BaseSettings, SettingsConfigDict

from account import CurrentPrincipal
from commons.components import CliGroup, Component, ShredReport

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.orm import Session

    from commons.settings import Settings

# Core table on its own metadata: the suite's shared metadata stays as ozg-commons defines it.
NOTES = sa.Table(
    "fakecomp_note",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("subject", sa.String(255), nullable=False, index=True),
    sa.Column("note", sa.Text, nullable=False),
)

router = APIRouter(prefix="/fakecomp", tags=["fakecomp"])


@router.get("/hello")
def hello(principal: CurrentPrincipal) -> dict[str, str]:
    return {"hello": "from the fake component"}


class FakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OZG_FAKECOMP_", extra="ignore", frozen=True)

    mode: str = "ok"


class FakeComponent(Component):
    name = "fakecomp"
    summary = "A component installed by the tests."
    depends_on = ("account",)
    cli_groups = (
        CliGroup("fakecomp", "The fake component's commands.", "tests.fake_component.cli:cli"),
    )

    def routers(self) -> Sequence[APIRouter]:
        return (router,)

    def settings_model(self) -> type[BaseSettings]:
        return FakeSettings

    def startup_problems(self, settings: Settings) -> list[str]:
        if settings.section(FakeSettings).mode == "refuse":
            return ["OZG_FAKECOMP_MODE is 'refuse'; set OZG_FAKECOMP_MODE=ok to start"]
        return []

    def declarations(self) -> ModuleType:
        from tests.fake_component import declarations

        return declarations

    def export(self, app: FastAPI, session: Session, subject: str) -> dict[str, Any]:
        rows = session.execute(sa.select(NOTES.c.note).where(NOTES.c.subject == subject))
        return {"notes": [row.note for row in rows]}

    def shred(self, app: FastAPI, session: Session, subject: str) -> ShredReport:
        result = session.execute(sa.delete(NOTES).where(NOTES.c.subject == subject))
        return ShredReport(self.name, deleted=int(result.rowcount or 0))  # type: ignore[attr-defined]
