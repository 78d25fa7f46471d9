"""Adapts ``account``'s principal to the caller type compliance's routes depend on.

compliance sits below account in the layering, so its router declares a dependency
``compliance.api.caller`` that refuses by default; the app overrides it with
:func:`audit_caller`, which authenticates through ``account.auth.current_principal``.
"""

from __future__ import annotations

from account.auth import CurrentPrincipal
from compliance.api import AuditCaller


def audit_caller(principal: CurrentPrincipal) -> AuditCaller:
    return AuditCaller(
        subject=principal.subject,
        roles=frozenset(r.value for r in principal.roles),
        authority=principal.authority,
        actor=principal.as_actor(),
    )
