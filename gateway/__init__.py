"""The HTTP API and command line that compose the ozg-commons services.

Nothing imports ``gateway``; it imports the domains and wires them together.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.app import create_app

# Loaded on first use, so that importing one submodule does not import the whole package
# (its web and database layers included).
_EXPORTS = {
    "create_app": "gateway.app",
}

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
