"""The FastAPI application factory: composes the installed components behind one HTTP API.

Nothing here names a component: the app is built by iterating over the
:class:`~commons.components.Registry` (entry-point groups ``ozg_commons.components`` and
``ozg_commons.flows``), in dependency order.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from commons import i18n
from commons.components import Registry
from commons.db import Database
from commons.errors import ConfigurationError
from commons.settings import Settings, get_settings
from gateway import health, metrics, openapi, receipts
from gateway.declarations import all_declarations, installed_components
from gateway.edge import EdgeMiddleware
from gateway.metrics import HttpMetrics
from gateway.middleware import RequestContextMiddleware
from gateway.portal import LOCALES_DIR
from gateway.problems import install_problem_handlers

log = logging.getLogger("ozg.gateway")


def _version() -> str:
    try:
        return version("ozg-commons")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def startup_problems(settings: Settings, registry: Registry | None = None) -> list[str]:
    """Every reason these settings cannot serve, in plain words: the production checks plus
    each component's own (malformed keys, unreadable files, missing production settings)."""
    problems = settings.production_problems() if settings.is_production else []
    try:
        registry = registry or installed_components()
        for component in registry:
            model = component.settings_model()
            if model is not None:
                try:
                    settings.section(model)
                except ValueError as exc:  # pydantic's ValidationError: a malformed value
                    problems.append(f"the {component.name} settings are invalid: {exc}")
                    continue
            problems += component.startup_problems(settings)
        all_declarations()
    except ConfigurationError as exc:
        problems += exc.problems
    except ValueError as exc:  # a component, record type, action or activity declared twice
        problems.append(f"the installed components conflict: {exc}")
    return list(dict.fromkeys(problems))  # each once, in order


def check_startup(settings: Settings) -> None:
    """Raise :class:`ConfigurationError` naming every problem, if there is any."""
    problems = startup_problems(settings)
    if problems:
        raise ConfigurationError(problems)


def _refuse_unreplayed_erasures(settings: Settings, database: Database) -> None:
    """Stop the start (production) while the database holds someone the erasure journal
    erased: a backup restored without ``ozg-commons restore`` (ADR 0007)."""
    from gateway.restore import refusal

    problem = refusal(settings, database)
    if problem:
        log.error("refusing to serve: %s", problem)
        raise ConfigurationError([problem])


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the application. Refuses unsafe production settings before anything else."""
    settings = settings or get_settings()
    check_startup(settings)
    registry = installed_components()
    owns_database = database is None
    if database is None:
        if not settings.is_production:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = Database.from_url(
            settings.effective_database_url, pool_size=settings.database_pool_size
        )
    db = database

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.is_production:
            # Here, so that every production start passes it, however the server is run.
            _refuse_unreplayed_erasures(settings, db)
        log.info("started", extra={"env": settings.env, "database": db.dialect})
        with ExitStack() as background:
            for component in registry:
                background.enter_context(component.lifespan(app))
            yield
        if owns_database:
            db.dispose()

    app = FastAPI(
        title="ozg-commons",
        version=_version(),
        summary="Shared services for online residence-permit applications.",
        lifespan=lifespan,
        # The portal component serves /docs and /redoc from local assets (no CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.owns_database = owns_database
    app.state.metrics = HttpMetrics()
    app.state.components = registry
    app.state.declarations = all_declarations()
    app.state.readiness_checks = {"database": database.ping}
    receipts.configure(app, settings)  # the receipt signer every component signs with
    for component in registry:
        component.configure(app, settings)
        app.state.readiness_checks.update(component.readiness_checks(app))
    # Each component's exporter and shredder, for GDPR export and erasure (account runs them).
    app.state.personal_data = registry.personal_data(app)

    i18n.use_catalogues(LOCALES_DIR)  # problem documents in the caller's language
    install_problem_handlers(app)
    openapi.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    for component in registry:
        for router in component.routers():
            app.include_router(router, prefix="/v1")
    # The last added runs first: the request context wraps the edge, so its refusals carry
    # the request id and are logged and counted.
    app.add_middleware(
        EdgeMiddleware,
        max_json_bytes=settings.max_json_bytes,
        body_timeout_seconds=settings.body_timeout_seconds,
    )
    app.add_middleware(
        RequestContextMiddleware,
        metrics=app.state.metrics,
        retry_after=settings.retry_after_seconds,
    )
    return app
