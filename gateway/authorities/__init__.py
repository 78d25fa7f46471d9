"""The deployment's immigration authorities: registry, routing, demo authorities.

Other components use what this module exports: the registry types, the ``authorities``
FastAPI dependency (``app.state.authorities.registry()`` underneath) and the authority binding
rule :func:`require_authority`. See ``docs/authorities.md``.
"""

from gateway.authorities.api import authorities
from gateway.authorities.errors import AuthorityMismatch, InvalidRouteQuery, UnknownAuthority
from gateway.authorities.registry import (
    Address,
    Authority,
    AuthorityRegistry,
    PortalData,
    ProcessingDuration,
    Route,
    Text,
)
from gateway.authorities.routing import InvalidDestinationSignature, verify_destination_signature
from gateway.authorities.service import require_authority

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
    "require_authority",
    "verify_destination_signature",
]
