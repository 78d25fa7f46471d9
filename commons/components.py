"""The component contract: how a domain, or a permit flow, plugs into ozg-commons.

A **component** declares everything the gateway needs to build the HTTP API, the command line,
the migrations, the GDPR Art. 30 register, the Art. 15/20 export and Art. 17 erasure from it.
The gateway never lists components by hand: it asks the :class:`Registry`, which discovers
them through the entry-point groups ``ozg_commons.components`` (domains) and
``ozg_commons.flows`` (permit flows) and orders them so that each comes after the components it
names in :attr:`Component.depends_on`.

Every hook has a documented default, so a component overrides only what it has. Hooks import
what they need when they are called: loading a component (``ozg-commons --help`` loads them
all) must stay cheap, so a component module imports no web framework, ORM or crypto at the
top. The full contract is described in ``docs/components.md``.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI
    from pydantic_settings import BaseSettings
    from sqlalchemy.orm import Session

    from commons.settings import Settings

COMPONENTS_GROUP = "ozg_commons.components"
FLOWS_GROUP = "ozg_commons.flows"
ENTRY_POINT_GROUPS = (COMPONENTS_GROUP, FLOWS_GROUP)

ReadinessCheck = Callable[[], None]


# --------------------------------------------------------------------------- export / erasure
@dataclass(frozen=True, slots=True)
class RetainedRecord:
    """A record kept despite erasure because the law requires it: minimal, with its basis."""

    record_type: str
    record_id: str
    legal_basis: str
    delete_after: datetime


@dataclass(slots=True)
class ShredReport:
    """What one component's shredder did for one data subject (GDPR Art. 17).

    ``deleted`` rows were removed, ``shredded`` ones made unreadable (their key or salt
    destroyed), ``retained`` ones kept because a law requires them, each with its basis.
    """

    component: str
    deleted: int = 0
    shredded: int = 0
    retained: list[RetainedRecord] = field(default_factory=list)


Exporter = Callable[["Session", str], dict[str, Any]]
Shredder = Callable[["Session", str], ShredReport]


@dataclass(frozen=True, slots=True)
class PersonalDataHandler:
    """One component's exporter and shredder, bound to the running app."""

    component: str
    export: Exporter
    shred: Shredder


class PersonalDataRegistry:
    """The exporters and shredders of every component, in dependency order."""

    def __init__(self) -> None:
        self._handlers: dict[str, PersonalDataHandler] = {}

    def add(self, component: str, *, export: Exporter, shred: Shredder) -> None:
        if component in self._handlers:
            raise ValueError(f"personal-data handler for {component!r} registered twice")
        self._handlers[component] = PersonalDataHandler(component, export, shred)

    def __iter__(self) -> Iterator[PersonalDataHandler]:
        return iter(self._handlers.values())

    def components(self) -> list[str]:
        return list(self._handlers)


# --------------------------------------------------------------------------- the contract
@dataclass(frozen=True, slots=True)
class CliGroup:
    """A command group a component adds to ``ozg-commons``.

    ``target`` names a ``typer.Typer`` as ``"module:attribute"``; it is imported only when the
    group is run, so ``ozg-commons --help`` shows ``help`` without loading the group's code.
    """

    name: str
    help: str
    target: str

    def load(self) -> Any:
        module, _, attribute = self.target.partition(":")
        return getattr(import_module(module), attribute)


class Component:
    """The base of every component. Subclasses set :attr:`name` and override the hooks they
    need; every other hook keeps its documented default (nothing)."""

    #: Unique, lower-case; also the Alembic branch label and the settings prefix
    #: ``OZG_<NAME>_``.
    name: ClassVar[str]
    #: One line for ``ozg-commons --help`` and the docs.
    summary: ClassVar[str] = ""
    #: Components that must be configured before this one.
    depends_on: ClassVar[tuple[str, ...]] = ()
    #: Command groups added to ``ozg-commons``.
    cli_groups: ClassVar[tuple[CliGroup, ...]] = ()
    #: Every ``"table.column"`` of the component that names a data subject whose rows its
    #: shredder removes. ``ozg-commons restore`` reads them to find, in a database restored
    #: from a backup, the subjects erased after the backup was taken (docs/backup-restore.md).
    subject_columns: ClassVar[tuple[str, ...]] = ()

    # -- HTTP ---------------------------------------------------------------------------
    def routers(self) -> Sequence[APIRouter]:
        """Routers mounted under ``/v1``. Default: none."""
        return ()

    def configure(self, app: FastAPI, settings: Settings) -> None:
        """Build the component's per-app state on ``app.state`` (keys, stores, caches).
        Called once per app, in dependency order, after the startup checks passed."""

    def lifespan(self, app: FastAPI) -> AbstractContextManager[Any]:
        """Background work that runs while the app serves (the audit-log sequencer), entered
        at start-up in dependency order and left at shutdown in reverse. Default: nothing."""
        return nullcontext()

    def readiness_checks(self, app: FastAPI) -> Mapping[str, ReadinessCheck]:
        """Probes run by ``GET /readyz``; each raises when its dependency is down.
        Called after :meth:`configure`. Default: none."""
        return {}

    # -- settings and startup ---------------------------------------------------------------
    def settings_model(self) -> type[BaseSettings] | None:
        """The component's settings section: a pydantic-settings model whose environment
        prefix is ``OZG_<NAME>_``; read it with ``settings.section(model)``. Default: none."""
        return None

    def startup_problems(self, settings: Settings) -> list[str]:
        """Every reason these settings cannot serve, in plain words naming what to set
        (production checks included). ``serve`` refuses to start, with exit status 2, while
        any component reports one. Default: none."""
        return []

    # -- data protection --------------------------------------------------------------------
    def declarations(self) -> ModuleType | None:
        """The module that declares the component's audited actions (``ACTIONS``), its
        processing activities for the Art. 30 register (``ACTIVITIES``), its retention
        policies (``RETENTION``) and retention jobs (``RETENTION_EXECUTORS``). Default: none."""
        return None

    def export(self, app: FastAPI, session: Session, subject: str) -> dict[str, Any] | None:
        """Everything the component holds about ``subject`` (GDPR Art. 15/20), as JSON;
        ``None`` when it holds no personal data. Default: none."""
        return None

    def shred(self, app: FastAPI, session: Session, subject: str) -> ShredReport | None:
        """Delete or crypto-shred what the component holds about ``subject`` (Art. 17),
        keeping only what a law requires. ``None`` when it holds no personal data."""
        return None

    # -- schema -----------------------------------------------------------------------------
    def migrations(self) -> Path | None:
        """The directory of the component's Alembic branch (labelled with :attr:`name`).
        Default: ``<package>/migrations`` next to the component's module, if it exists."""
        module = import_module(type(self).__module__)
        if module.__file__ is None:  # pragma: no cover - namespace packages
            return None
        directory = Path(module.__file__).parent / "migrations"
        return directory if directory.is_dir() else None

    def models(self) -> Sequence[str]:
        """Modules that define the component's SQLAlchemy tables (imported for migration
        checks). Default: none."""
        return ()


# --------------------------------------------------------------------------- the registry
class RegistryError(ValueError):
    """The installed components do not fit together (a name twice, a missing or circular
    dependency, an entry point that is not a component)."""


class Registry:
    """The installed components, in dependency order."""

    def __init__(self, components: Iterable[Component]) -> None:
        by_name: dict[str, Component] = {}
        for component in components:
            name = getattr(component, "name", None)
            if not isinstance(name, str) or not name:
                raise RegistryError(f"{type(component).__qualname__} has no name")
            if name in by_name:
                raise RegistryError(f"component {name!r} is installed twice")
            by_name[name] = component
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
        for name in sorted(by_name):
            missing = [d for d in by_name[name].depends_on if d not in by_name]
            if missing:
                raise RegistryError(
                    f"component {name!r} depends on {', '.join(map(repr, missing))}, "
                    "which is not installed"
                )
            sorter.add(name, *by_name[name].depends_on)
        try:
            order = list(sorter.static_order())
        except graphlib.CycleError as exc:
            cycle = " -> ".join(exc.args[1])
            raise RegistryError(f"components depend on each other in a circle: {cycle}") from None
        self._components = tuple(by_name[name] for name in order)

    @classmethod
    def discover(cls, groups: Sequence[str] = ENTRY_POINT_GROUPS) -> Registry:
        """Load every component registered under the entry-point ``groups``."""
        found: list[Component] = []
        for group in groups:
            for ep in sorted(entry_points(group=group), key=lambda e: e.name):
                loaded = ep.load()
                component = loaded() if isinstance(loaded, type) else loaded
                if not isinstance(component, Component):
                    raise RegistryError(
                        f"entry point {ep.name!r} in {group} names {ep.value!r}, "
                        "which is not an ozg-commons component"
                    )
                found.append(component)
        return cls(found)

    def __iter__(self) -> Iterator[Component]:
        return iter(self._components)

    def __len__(self) -> int:
        return len(self._components)

    def names(self) -> list[str]:
        return [c.name for c in self._components]

    def get(self, name: str) -> Component:
        for component in self._components:
            if component.name == name:
                return component
        raise KeyError(name)

    def declaring_modules(self) -> list[ModuleType]:
        return [m for c in self._components if (m := c.declarations()) is not None]

    def cli_groups(self) -> list[CliGroup]:
        groups = [g for c in self._components for g in c.cli_groups]
        names = [g.name for g in groups]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise RegistryError(f"command group declared twice: {', '.join(dupes)}")
        return groups

    def personal_data(self, app: FastAPI) -> PersonalDataRegistry:
        """Every component's exporter and shredder, bound to ``app``."""
        registry = PersonalDataRegistry()
        for component in self._components:
            kind = type(component)
            if kind.export is Component.export and kind.shred is Component.shred:
                continue  # holds no personal data
            registry.add(
                component.name,
                export=_bind_export(component, app),
                shred=_bind_shred(component, app),
            )
        return registry


def _bind_export(component: Component, app: FastAPI) -> Exporter:
    def export(session: Session, subject: str) -> dict[str, Any]:
        return component.export(app, session, subject) or {}

    return export


def _bind_shred(component: Component, app: FastAPI) -> Shredder:
    def shred(session: Session, subject: str) -> ShredReport:
        return component.shred(app, session, subject) or ShredReport(component.name)

    return shred


# --------------------------------------------------------------------------- the command line
@dataclass(frozen=True, slots=True)
class CliContext:
    """What the gateway hands every command group as the root ``typer.Context.obj``: the
    app factory, the installed components and their composed declarations, each built only
    when a command asks for it (so ``--help`` stays fast)."""

    create_app: Callable[[Settings], FastAPI]
    registry: Callable[[], Registry]
    declarations: Callable[[], Any]


def cli_context(ctx: Any) -> CliContext:
    """The :class:`CliContext` of a running ``ozg-commons`` command (``ctx``: its
    ``typer.Context``)."""
    obj = ctx.find_root().obj
    if not isinstance(obj, CliContext):
        raise RuntimeError("this command runs only as part of `ozg-commons`")
    return obj
