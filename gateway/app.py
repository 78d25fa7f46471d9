"""The FastAPI application factory: composes the domains behind one HTTP API."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

import account.api
import compliance.api
import compliance.keys
import compliance.personal
import payments
import payments.api
import payments.runtime
import vault.api
from account.hooks import PersonalDataRegistry, ShredReport
from commons.db import Database
from commons.errors import ConfigurationError
from commons.settings import Settings, get_settings
from compliance.sequencer import SequencerThread
from gateway import health, metrics, receipts
from gateway.auth_bridge import audit_caller
from gateway.declarations import all_declarations
from gateway.metrics import HttpMetrics
from gateway.middleware import RequestContextMiddleware
from gateway.problems import install_problem_handlers

log = logging.getLogger("ozg.gateway")

DOMAIN_ROUTERS = (compliance.api.router, account.api.router, vault.api.router, payments.api.router)


def _version() -> str:
    try:
        return version("ozg-commons")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def startup_problems(settings: Settings) -> list[str]:
    """Every reason these settings cannot serve, in plain words: the production checks plus
    each domain's own (malformed keys, unreadable files, missing production settings)."""
    problems = settings.production_problems() if settings.is_production else []
    problems += compliance.keys.config_problems(settings)
    problems += vault.api.config_problems(settings)
    problems += payments.runtime.config_problems(settings)
    try:
        all_declarations()
    except ConfigurationError as exc:
        problems += exc.problems
    except ValueError as exc:  # a record type, action or activity declared twice
        problems.append(f"the installed declarations conflict: {exc}")
    return list(dict.fromkeys(problems))  # each once, in order


def check_startup(settings: Settings) -> None:
    """Raise :class:`ConfigurationError` naming every problem, if there is any."""
    problems = startup_problems(settings)
    if problems:
        raise ConfigurationError(problems)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the application. Refuses unsafe production settings before anything else."""
    settings = settings or get_settings()
    check_startup(settings)
    owns_database = database is None
    if database is None:
        if not settings.is_production:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = Database.from_url(
            settings.effective_database_url, pool_size=settings.database_pool_size
        )
    db = database

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        log.info("started", extra={"env": settings.env, "database": db.dialect})
        # The audit-log sequencer runs in every process that owns its database (tests pass a
        # database and sequence explicitly); several processes serialize on the log's lock.
        sequencer = None
        if owns_database:
            sequencer = SequencerThread(
                db, _app.state.audit.identity, settings.audit_sequence_interval
            )
            sequencer.start()
        yield
        if sequencer is not None:
            sequencer.stop()
        if owns_database:
            db.dispose()

    app = FastAPI(
        title="ozg-commons",
        version=_version(),
        summary="Shared services for online residence-permit applications.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.metrics = HttpMetrics()
    app.state.readiness_checks = {"database": database.ping}
    # Each domain's exporter and shredder for GDPR export and erasure (account calls them).
    app.state.personal_data = PersonalDataRegistry()
    # Domains that need per-app state (keys, stores, caches) get a configure(app, settings)
    # in their api.py and are called here, in dependency order.
    compliance.api.configure(app, settings, all_declarations().actions)
    app.dependency_overrides[compliance.api.caller] = audit_caller
    app.state.personal_data.add(
        "compliance",
        export=compliance.personal.export_personal_data,
        shred=lambda session, subject: ShredReport(
            "compliance",
            shredded=compliance.personal.shred_personal_data(session, subject).shredded,
        ),
    )
    receipts.configure(app, settings)  # the receipt signer every domain signs with
    account.api.configure(app, settings)
    vault.api.configure(app, settings)
    app.state.personal_data.add(
        "vault", export=vault.export_personal_data, shred=app.state.vault.shred
    )
    payments.api.configure(app, settings)
    app.state.personal_data.add(
        "payments",
        export=payments.export_personal_data,
        shred=payments.make_shredder(app.state.payments),
    )

    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    for router in DOMAIN_ROUTERS:
        app.include_router(router, prefix="/v1")
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app
