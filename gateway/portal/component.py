"""The portal as an ozg-commons component (see ``commons.components``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from commons.components import Component

if TYPE_CHECKING:
    from fastapi import FastAPI
    from pydantic_settings import BaseSettings

    from commons.settings import Settings


class PortalComponent(Component):
    name = "portal"
    summary = "The applicants' web portal: pages, login and session, offline API docs."
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

    def models(self) -> Sequence[str]:
        return ("gateway.portal.models",)
