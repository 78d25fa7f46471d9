"""Package faces that load on first use.

A package's ``__init__`` is its face: what other rooms may use. Importing a face must stay
cheap, because the command line, the device-side clients and every component import faces:
``lazy_face`` returns the module ``__getattr__`` (PEP 562) that imports a name's home module
only when the name is first used. The names are imported under ``TYPE_CHECKING`` as well, so
type checkers and the import-linter see the real dependencies::

    if TYPE_CHECKING:
        from vault.envelope import seal

    __all__ = ["seal"]
    __getattr__ = lazy_face(__name__, {"seal": "vault.envelope"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_face(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: each name in ``exports`` is loaded from the module
    named beside it on first use, then kept on the package."""

    def __getattr__(name: str) -> Any:
        home = exports.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
