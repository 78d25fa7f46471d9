"""The deployment's immigration authorities: registry, routing, demo authorities.

Other components use what this module exports: the registry types, the ``authorities``
FastAPI dependency (``app.state.authorities.registry()`` underneath), the authority binding
rule :func:`require_authority` and :func:`verify_destination_signature` for clients. See
``docs/authorities.md``. The last three are imported on first use, so that loading the
component (``ozg-commons --help``) stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from commons.flows import Text
from gateway.authorities.errors import AuthorityMismatch, InvalidRouteQuery, UnknownAuthority
from gateway.authorities.registry import (
    Address,
    Authority,
    AuthorityRegistry,
    PortalData,
    ProcessingDuration,
    Route,
)

if TYPE_CHECKING:
    from gateway.authorities.api import authorities
    from gateway.authorities.routing import (
        InvalidDestinationSignature,
        verify_destination_signature,
    )
    from gateway.authorities.service import require_authority
    from gateway.authorities.vaultlink import registry_trust

_LAZY = {
    "authorities": "gateway.authorities.api",
    "InvalidDestinationSignature": "gateway.authorities.routing",
    "verify_destination_signature": "gateway.authorities.routing",
    "require_authority": "gateway.authorities.service",
    "registry_trust": "gateway.authorities.vaultlink",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Address",
    "Authority",
    "AuthorityMismatch",
    "AuthorityRegistry",
    "InvalidDestinationSignature",
    "InvalidRouteQuery",
    "PortalData",
    "ProcessingDuration",
    "Route",
    "Text",
    "UnknownAuthority",
    "authorities",
    "registry_trust",
    "require_authority",
    "verify_destination_signature",
]
