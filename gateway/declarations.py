"""The installed components and their composed declarations (actions, processing activities,
retention), each loaded once per process.

Components are discovered through the entry-point groups ``ozg_commons.components`` and
``ozg_commons.flows`` (see ``docs/components.md``); a permit flow registers itself in its own
``pyproject.toml``::

    [project.entry-points."ozg_commons.flows"]
    employment = "ozg_flow_employment:EmploymentFlow"
"""

from __future__ import annotations

from functools import cache

from commons.components import Registry, RegistryError
from commons.errors import ConfigurationError
from compliance import Declarations


@cache
def installed_components() -> Registry:
    """Every installed component, in dependency order."""
    try:
        return Registry.discover()
    except RegistryError as exc:
        raise ConfigurationError([str(exc)]) from None


@cache
def all_declarations() -> Declarations:
    return Declarations.from_modules(installed_components().declaring_modules())


def clear_caches() -> None:
    """Forget the loaded components (tests that install a component at run time)."""
    installed_components.cache_clear()
    all_declarations.cache_clear()
