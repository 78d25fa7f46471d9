"""Alembic, driven from code.

Each component keeps its migrations in its own Alembic branch, labelled with the component's
name (``branch_labels = ("compliance",)`` and so on; ``depends_on`` where one component's
tables refer to another's), in the directory its ``migrations()`` hook names. Branches let the
components evolve independently, and ``upgrade heads`` brings them all up to date.
"""

from __future__ import annotations

import importlib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from commons.db import UTCDateTime
from gateway.declarations import installed_components


def import_all_models() -> None:
    """Register every component's tables on the one metadata (autogenerate, checks)."""
    for component in installed_components():
        for module in component.models():
            importlib.import_module(module)


def render_item(type_: str, obj: Any, _autogen_context: Any) -> str | Literal[False]:
    """Keep migrations free of application imports: UTCDateTime is timestamptz in DDL."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def compare_type(
    _context: Any, _column: Any, _reflected: Any, reflected_type: Any, metadata_type: Any
) -> bool | None:
    """UTCDateTime and a reflected DateTime are the same column; else compare as usual."""
    if isinstance(metadata_type, UTCDateTime) and isinstance(reflected_type, sa.DateTime):
        return False
    return None


def _package_dir(package: str) -> Path:
    return Path(str(resources.files(package)))


def alembic_config(database_url: str, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_package_dir("gateway") / "alembic"))
    locations = [
        str(directory)
        for component in installed_components()
        if (directory := component.migrations()) is not None
    ]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(database_url: str, connection: Connection | None = None) -> None:
    """Apply every pending migration of every component."""
    command.upgrade(alembic_config(database_url, connection), "heads")


class SchemaNotCurrent(Exception):
    """The database lacks migrations; production never applies them implicitly."""


def heads() -> set[str]:
    """The newest revision of every component's branch."""
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def ensure_current(engine: Engine) -> None:
    """Raise :class:`SchemaNotCurrent` unless every migration has been applied."""
    missing = pending(engine)
    if missing:
        raise SchemaNotCurrent(
            f"the database schema is not current ({len(missing)} branch(es) behind); "
            "run `ozg-commons migrate` first"
        )


def pending(engine: Engine) -> set[str]:
    """The heads not yet applied to this database (empty when it is current)."""
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    heads = set(script.get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    applied: set[str] = set()
    for rev in current:
        applied.update(r.revision for r in script.iterate_revisions(rev, "base"))
    return heads - applied
