"""The authenticator behind ``current_principal``: bearer token -> verified claims -> Principal.

Every rejection is counted (``ozg_auth_rejections_total{reason}`` on the app's metrics
registry) and logged as a security event on the ``ozg.security`` logger with its reason and
route only: never the token, the subject or any other claim.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter

from account.claims import ClaimsMapping, principal_from_claims
from account.errors import CsrfTokenInvalid, InvalidToken, TokenNotPermitted
from account.principal import Principal
from account.tokens import TokenVerifier
from commons.web import route_template

security_log = logging.getLogger("ozg.security")

Introspector = Callable[[str], Mapping[str, Any]]


class RejectionCounter:
    """Counts refused authentications by reason, on one app's registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.counter = Counter(
            "ozg_auth_rejections",
            "Refused authentications and authorizations by reason.",
            ["reason"],
            registry=self.registry,
        )

    def count(self, reason: str) -> float:
        value = self.registry.get_sample_value("ozg_auth_rejections_total", {"reason": reason})
        return float(value or 0)

    def reject(self, request: Request | None, reason: str, status: int) -> None:
        self.counter.labels(reason).inc()
        route = route_template(request.scope) if request is not None else None
        security_log.warning(
            "authentication refused",
            extra={"event": "auth.rejected", "reason": reason, "status": status, "route": route},
        )


def record_rejection(request: Request, reason: str, status: int) -> None:
    """Count and log a refusal decided outside the authenticator (e.g. step-up)."""
    counter: RejectionCounter | None = getattr(request.app.state, "auth_rejections", None)
    if counter is not None:
        counter.reject(request, reason, status)


class BearerAuthenticator:
    """Implements ``account.auth.Authenticator`` for OIDC bearer tokens."""

    def __init__(
        self,
        verifier: TokenVerifier,
        mapping: ClaimsMapping,
        rejections: RejectionCounter,
        *,
        introspect: Introspector | None = None,
    ) -> None:
        self.verifier = verifier
        self.mapping = mapping
        self.rejections = rejections
        self.introspect = introspect

    def authenticate(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise InvalidToken("missing")
            claims = self.claims(token.strip())
            return principal_from_claims(claims, self.mapping)
        except (InvalidToken, TokenNotPermitted) as exc:
            self.rejections.reject(request, exc.reason, exc.status)
            raise

    def principal_for_token(self, token: str) -> Principal:
        """The principal of an access token obtained by other means than a request header
        (the portal's login callback); the same checks as :meth:`authenticate`."""
        return principal_from_claims(self.claims(token), self.mapping)

    def claims(self, token: str) -> Mapping[str, Any]:
        if token.count(".") != 2 and self.introspect is not None:
            claims = self.introspect(token)
            if claims.get("active") is not True:
                raise InvalidToken("inactive")
            self.verifier.check_claims(claims)
            return claims
        return self.verifier.verify(token)


# --------------------------------------------------------------------------- session cookies
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SessionTokens(Protocol):
    """What a browser-session store (the portal's) offers the authenticator."""

    cookie_name: str

    def access_token(self, request: Request) -> str | None:
        """The current access token of the session the request's cookie names, renewed
        with the refresh token when due; ``None`` when there is no such live session."""
        ...

    def csrf_valid(self, request: Request) -> bool:
        """Whether the request's ``X-CSRF-Token`` header carries the session's token."""
        ...


class BearerOrSessionAuthenticator(BearerAuthenticator):
    """Implements ``account.auth.Authenticator`` for a bearer token **or** a session cookie.

    A request with an ``Authorization`` header is a bearer request, exactly as before. Without
    one, the session cookie (if present) names a server-side session whose access token is
    verified like a bearer token; a state-changing method (anything but GET/HEAD/OPTIONS)
    then also needs the session's CSRF token in ``X-CSRF-Token`` (synchronizer token), because
    the browser sends the cookie on its own.
    """

    def __init__(self, bearer: BearerAuthenticator, sessions: SessionTokens) -> None:
        super().__init__(
            bearer.verifier, bearer.mapping, bearer.rejections, introspect=bearer.introspect
        )
        self.sessions = sessions

    def authenticate(self, request: Request) -> Principal:
        if "authorization" in request.headers or self.sessions.cookie_name not in request.cookies:
            return super().authenticate(request)
        token = self.sessions.access_token(request)
        if token is None:
            self.rejections.reject(request, "session-expired", 401)
            raise InvalidToken("session-expired")
        if request.method not in SAFE_METHODS and not self.sessions.csrf_valid(request):
            self.rejections.reject(request, "csrf-token-invalid", 403)
            raise CsrfTokenInvalid()
        try:
            return self.principal_for_token(token)
        except (InvalidToken, TokenNotPermitted) as exc:
            self.rejections.reject(request, exc.reason, exc.status)
            raise


def install_session_authentication(app: Any, sessions: SessionTokens) -> None:
    """Let ``current_principal`` accept ``sessions``' cookie next to bearer tokens (the
    portal calls this in its ``configure``, after the account configured the bearer path)."""
    bearer = app.state.authenticator
    if not isinstance(bearer, BearerAuthenticator):
        raise TypeError("session authentication wraps the account's BearerAuthenticator")
    app.state.authenticator = BearerOrSessionAuthenticator(bearer, sessions)
