"""The declarations (actions, processing activities, retention) of every domain and every
installed permit flow, composed.

Each domain that processes personal data adds its ``processing`` module here. A permit flow
declares its own in a module it names under the entry-point group
``ozg_commons.declarations`` (see docs/compliance.md), e.g. in its ``pyproject.toml``::

    [project.entry-points."ozg_commons.declarations"]
    employment = "ozg_flow_employment.processing"
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from types import ModuleType

import account.processing
import compliance.processing
import payments.processing
import vault.processing
from commons.errors import ConfigurationError
from compliance.declarations import Declarations

ENTRY_POINT_GROUP = "ozg_commons.declarations"

DECLARING_MODULES: tuple[ModuleType, ...] = (
    compliance.processing,
    account.processing,
    vault.processing,
    payments.processing,
)


def flow_modules() -> tuple[ModuleType, ...]:
    """The declaring modules of the installed permit flows, by entry-point name."""
    found: list[ModuleType] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        module = ep.load()
        if not isinstance(module, ModuleType):
            raise ConfigurationError(
                [f"declarations entry point {ep.name!r} must name a module, not {ep.value!r}"]
            )
        found.append(module)
    return tuple(found)


@cache
def all_declarations() -> Declarations:
    return Declarations.from_modules(DECLARING_MODULES + flow_modules())
