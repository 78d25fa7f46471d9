"""The authenticator behind ``current_principal``: bearer token -> verified claims -> Principal.

Every rejection is counted (``ozg_auth_rejections_total{reason}`` on the app's metrics
registry) and logged as a security event on the ``ozg.security`` logger with its reason and
route only: never the token, the subject or any other claim.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter

from account.claims import ClaimsMapping, principal_from_claims
from account.errors import InvalidToken, TokenNotPermitted
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

    def claims(self, token: str) -> Mapping[str, Any]:
        if token.count(".") != 2 and self.introspect is not None:
            claims = self.introspect(token)
            if claims.get("active") is not True:
                raise InvalidToken("inactive")
            self.verifier.check_claims(claims)
            return claims
        return self.verifier.verify(token)
