"""The authentication dependency every API uses, the rules that hold for every request,
and the role / trust-level / scope guards.

Two steps, so tests can replace the first and still run the second:

1. :func:`current_principal` turns the request's bearer token into a :class:`Principal`
   with the authenticator the gateway configured (``app.state.authenticator``): token
   verification and claims mapping. Tests replace it through ``app.dependency_overrides``.
2. :data:`CurrentPrincipal` (what handlers and every guard below depend on) runs
   :func:`enforce_account_rules` on that principal: the rules that hold for every route of
   every domain. Today one: an erased account's token is refused (401 ``account-erased``).
   It reuses the request's unit of work (``commons.web.DbSession``), so it adds one indexed
   query to the request's transaction and opens no transaction of its own.

Handlers that manage their own units of work (the vault's streaming upload) use
``require_roles(..., streaming=True)`` or :data:`StreamingPrincipal`: the rules then run in
a short transaction of their own, so none stays open while a request body streams.

Guards are small classes (not closures) so that a test can list, route by route, what each
one demands; this module does not use postponed annotations because FastAPI resolves a
callable object's parameter annotations without its module's globals.
"""

from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from account.authn import record_rejection
from account.erasure import erased_since
from account.errors import AccountErased, InsufficientScope, InsufficientUserAuthentication
from account.principal import Principal, Role, TrustLevel
from account.scopes import Scope
from commons.db import Database
from commons.errors import Forbidden, Unauthorized
from commons.i18n import N_
from commons.settings import Settings
from commons.web import DbSession, authenticates_first
from compliance import AuditCaller, CallerSource


class Authenticator(Protocol):
    def authenticate(self, request: Request) -> Principal:
        """Return the caller's principal or raise ``Unauthorized``."""
        ...


_PRINCIPAL_KEY = "ozg.principal"

#: The OpenAPI security schemes of every route that depends on :func:`current_principal`
#: (Swagger UI's "Authorize"); they only declare, the authenticator decides.
_BEARER_SCHEME = HTTPBearer(auto_error=False, scheme_name="bearerAuth", bearerFormat="JWT")
_SESSION_SCHEME = APIKeyCookie(
    name="ozg_session",
    auto_error=False,
    scheme_name="sessionCookie",
    description="The portal's session cookie (sign in at /login); a request that changes "
    "something also needs the session's CSRF token in the X-CSRF-Token header.",
)


@authenticates_first
def current_principal(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER_SCHEME)] = None,
    _session: Annotated[str | None, Depends(_SESSION_SCHEME)] = None,
) -> Principal:
    """The principal the bearer token (or the portal's session cookie) names, verified; no
    account-wide rules yet.

    The gateway's edge resolves this before a route reads its body (``authenticates_first``);
    the principal is kept in the request scope, so the token is verified once per request.
    """
    cached = request.scope.get(_PRINCIPAL_KEY)
    if isinstance(cached, Principal):
        return cached
    authenticator: Authenticator | None = getattr(request.app.state, "authenticator", None)
    if authenticator is None:
        raise Unauthorized(
            N_("no authenticator is configured"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticator.authenticate(request)
    request.scope[_PRINCIPAL_KEY] = principal
    return principal


def enforce_account_rules(session: Session, request: Request, principal: Principal) -> None:
    """The rules that hold for every request of every domain, in one place.

    A token from before its subject's erasure stays valid at the identity provider for its
    short lifetime; it is refused everywhere so the account does not silently come back.
    """
    settings: Settings = request.app.state.settings
    if erased_since(session, principal, settings.secret_key.get_secret_value()):
        record_rejection(request, "account-erased", 401)
        raise AccountErased()


def _checked_principal(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    session: DbSession,
) -> Principal:
    enforce_account_rules(session, request, principal)
    return principal


def _checked_principal_own_transaction(
    request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> Principal:
    database: Database = request.app.state.database
    with database.transaction() as session:
        enforce_account_rules(session, request, principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_checked_principal)]
StreamingPrincipal = Annotated[Principal, Depends(_checked_principal_own_transaction)]


class RoleGuard:
    """A dependency that admits principals holding at least one of ``roles``.

    The guards are ``async``: they only compare sets, so they run on the event loop and
    cost no hop to the thread pool (a sync dependency's every call does)."""

    def __init__(self, roles: tuple[Role, ...]) -> None:
        self.roles = frozenset(roles)
        self.wanted = ", ".join(r.value for r in roles)

    async def __call__(self, principal: Principal, request: Request) -> Principal:
        """Subclasses declare where ``principal`` comes from (FastAPI reads the annotations
        of their ``__call__``); :meth:`admit` decides."""
        return self.admit(principal, request)

    def admit(self, principal: Principal, request: Request) -> Principal:
        if not principal.roles & self.roles:
            record_rejection(request, "missing-role", 403)
            raise Forbidden(f"this operation needs one of the roles: {self.wanted}")
        return principal


class _RequestRoleGuard(RoleGuard):
    async def __call__(self, principal: CurrentPrincipal, request: Request) -> Principal:
        return self.admit(principal, request)


class _StreamingRoleGuard(RoleGuard):
    async def __call__(self, principal: StreamingPrincipal, request: Request) -> Principal:
        return self.admit(principal, request)


def require_roles(*roles: Role, streaming: bool = False) -> RoleGuard:
    """A dependency that admits principals holding at least one of ``roles``.

    ``streaming=True`` for handlers without a request unit of work (see the module text).
    """
    return _StreamingRoleGuard(roles) if streaming else _RequestRoleGuard(roles)


class ScopeGuard:
    """A dependency that demands ``scope`` of flow clients (RFC 6750 §3.1 on failure).

    Only principals with the ``flow`` role are checked: a flow client may do what its
    client was granted. People's tokens pass unchanged (their roles decide).
    """

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def admit(self, principal: Principal, request: Request) -> Principal:
        """What :meth:`__call__` decides; a subclass that takes its principal elsewhere
        (a streaming route's) declares its own ``__call__`` and calls this."""
        if principal.has(Role.FLOW) and self.scope.value not in principal.scopes:
            record_rejection(request, "insufficient-scope", 403)
            raise InsufficientScope(self.scope)
        return principal

    async def __call__(self, principal: CurrentPrincipal, request: Request) -> Principal:
        return self.admit(principal, request)


def require_scope(scope: Scope) -> ScopeGuard:
    """A dependency that refuses flow clients whose token lacks ``scope``."""
    return ScopeGuard(scope)


class TrustLevelGuard:
    def __init__(self, level: TrustLevel) -> None:
        self.level = level

    async def __call__(self, principal: CurrentPrincipal, request: Request) -> Principal:
        if principal.trust_level < self.level:
            record_rejection(request, "insufficient-trust-level", 401)
            raise InsufficientUserAuthentication(self.level)
        return principal


def require_trust_level(level: TrustLevel) -> TrustLevelGuard:
    """A dependency that demands a minimum trust level (RFC 9470 step-up on failure)."""
    return TrustLevelGuard(level)


async def audit_caller(principal: CurrentPrincipal) -> AuditCaller:
    """The caller type compliance's routes depend on (``compliance.api.caller``), from the
    account's principal: compliance sits below account and cannot authenticate by itself."""
    return _as_audit_caller(principal)


def _checked_audit_caller(request: Request, session: Session, principal: Principal) -> AuditCaller:
    enforce_account_rules(session, request, principal)
    return _as_audit_caller(principal)


def _as_audit_caller(principal: Principal) -> AuditCaller:
    return AuditCaller(
        subject=principal.subject,
        roles=frozenset(r.value for r in principal.roles),
        authority=principal.authority,
        actor=principal.as_actor(),
    )


#: How compliance's routes authenticate (``app.state.audit_callers``, set by the account
#: component): the same principal and the same rules as every other route.
AUDIT_CALLERS = CallerSource(authenticate=current_principal, caller=_checked_audit_caller)
