"""The migrations and the models describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from commons.db import Base
from gateway import migrations


def test_migrations_are_applied_and_current(engine: Engine) -> None:
    assert migrations.pending(engine) == set()


def test_models_match_migrations(engine: Engine) -> None:
    migrations.import_all_models()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": migrations.compare_type})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"
