"""The migrations and the models describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from commons.db import Base, make_engine
from gateway import migrations
from gateway.migrations import SchemaNotCurrent


def test_migrations_are_applied_and_current(engine: Engine) -> None:
    assert migrations.pending(engine) == set()


def test_models_match_migrations(engine: Engine) -> None:
    migrations.import_all_models()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": migrations.compare_type})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_an_unmigrated_database_reports_every_pending_head(tmp_path: Path) -> None:
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    try:
        assert migrations.pending(fresh) == migrations.heads()
        with pytest.raises(SchemaNotCurrent, match="ozg-commons migrate"):
            migrations.ensure_current(fresh)
        migrations.upgrade(str(fresh.url))
        assert migrations.pending(fresh) == set()
        migrations.ensure_current(fresh)
    finally:
        fresh.dispose()
