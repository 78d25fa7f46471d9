"""The ``flows`` catalogue component: serves the installed flows and declares, from each
flow's ``flow.json``, what the flow processes (see ``commons.flows`` and docs/flows.md)."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from commons.components import Component

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

    from commons.settings import Settings


class FlowsComponent(Component):
    name = "flows"
    summary = "The permit-flow catalogue: GET /v1/flows and the flows' declarations."
    depends_on = ("compliance", "payments")

    def routers(self) -> Sequence[APIRouter]:
        from gateway.flows.api import router

        return (router,)

    def configure(self, app: FastAPI, settings: Settings) -> None:
        from gateway.declarations import installed_components
        from gateway.flows.service import definitions

        app.state.flows = definitions(installed_components())

    def startup_problems(self, settings: Settings) -> list[str]:
        from gateway.declarations import installed_components
        from gateway.flows.service import fee_problems

        return fee_problems(installed_components())

    def declarations(self) -> ModuleType:
        from gateway.declarations import installed_components
        from gateway.flows.declarations import catalogue_declarations

        return catalogue_declarations(installed_components())
