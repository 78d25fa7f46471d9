"""The authorities registry as an ozg-commons component (see ``commons.components``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

from commons.components import CliGroup, Component
from commons.i18n import N_

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI
    from pydantic_settings import BaseSettings

    from commons.settings import Settings


class AuthoritiesComponent(Component):
    name = "authorities"
    summary = "The deployment's immigration authorities, their keys, and routing."
    depends_on = ("compliance", "account", "vault", "payments")
    cli_groups = (
        CliGroup("authorities", N_("The deployment's authorities."), "gateway.authorities.cli:cli"),
    )

    def routers(self) -> Sequence[APIRouter]:
        from gateway.authorities.api import router

        return (router,)

    def settings_model(self) -> type[BaseSettings]:
        from gateway.authorities.runtime import AuthoritiesSettings

        return AuthoritiesSettings

    def startup_problems(self, settings: Settings) -> list[str]:
        from gateway.authorities.runtime import startup_problems

        return startup_problems(settings)

    def configure(self, app: FastAPI, settings: Settings) -> None:
        from gateway.authorities.api import configure

        configure(app, settings)

    def lifespan(self, app: FastAPI) -> AbstractContextManager[Any]:
        @contextmanager
        def provisioned() -> Iterator[None]:
            from gateway.authorities.runtime import AuthoritiesState
            from gateway.authorities.service import provision_vault_keys

            state = app.state.authorities
            if isinstance(state, AuthoritiesState):  # not a registry a test put in its place
                provision_vault_keys(state, app.state.database)
            yield

        return provisioned()

    def declarations(self) -> ModuleType:
        from gateway.authorities import declarations

        return declarations
