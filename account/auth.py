"""The authentication dependency every API uses, and role / trust-level guards.

``current_principal`` turns the request's bearer token into a :class:`Principal` using the
authenticator the gateway configured (``app.state.authenticator``). Handlers declare what
they need with ``CurrentPrincipal`` or the guards below; tests replace ``current_principal``
through ``app.dependency_overrides``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol

from fastapi import Depends, Request

from account.authn import record_rejection
from account.principal import Principal, Role, TrustLevel
from commons.errors import Forbidden, Unauthorized
from compliance.api import AuditCaller


class Authenticator(Protocol):
    def authenticate(self, request: Request) -> Principal:
        """Return the caller's principal or raise ``Unauthorized``."""
        ...


def current_principal(request: Request) -> Principal:
    authenticator: Authenticator | None = getattr(request.app.state, "authenticator", None)
    if authenticator is None:
        raise Unauthorized(
            "no authenticator is configured",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return authenticator.authenticate(request)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal, Request], Principal]:
    """A dependency that admits principals holding at least one of ``roles``."""

    def guard(principal: CurrentPrincipal, request: Request) -> Principal:
        if not principal.roles.intersection(roles):
            record_rejection(request, "missing-role", 403)
            wanted = ", ".join(r.value for r in roles)
            raise Forbidden(f"this operation needs one of the roles: {wanted}")
        return principal

    return guard


def require_trust_level(level: TrustLevel) -> Callable[[Principal, Request], Principal]:
    """A dependency that demands a minimum trust level (RFC 9470 step-up on failure)."""

    def guard(principal: CurrentPrincipal, request: Request) -> Principal:
        if principal.trust_level < level:
            record_rejection(request, "insufficient-trust-level", 401)
            raise InsufficientUserAuthentication(level)
        return principal

    return guard


class InsufficientUserAuthentication(Unauthorized):
    """RFC 9470: the token is valid but its authentication level is too low."""

    code = "insufficient-user-authentication"
    title = "Insufficient user authentication"

    def __init__(self, required: TrustLevel) -> None:
        acr = required.name.lower()
        super().__init__(
            f"this operation needs trust level '{acr}' or higher; authenticate again",
            headers={
                "WWW-Authenticate": (
                    f'Bearer error="insufficient_user_authentication", acr_values="{acr}"'
                )
            },
            required_trust_level=acr,
        )


def audit_caller(principal: CurrentPrincipal) -> AuditCaller:
    """The caller type compliance's routes depend on (``compliance.api.caller``), from the
    account's principal: compliance sits below account and cannot authenticate by itself."""
    return AuditCaller(
        subject=principal.subject,
        roles=frozenset(r.value for r in principal.roles),
        authority=principal.authority,
        actor=principal.as_actor(),
    )
