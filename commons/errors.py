"""The error base every domain derives from.

A domain raises a subclass of :class:`OzgError`; the gateway turns it into an RFC 9457
problem-details response. The ``detail`` text is shown to the caller, so it must never
contain personal data, secrets or the token that was presented.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from commons.i18n import N_, Deferred

PROBLEM_TYPE_PREFIX = "urn:ozg-commons:problem:"


class OzgError(Exception):
    """Base of all errors that reach an API caller."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = N_("Bad request")

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extensions = extensions

    @property
    def type_uri(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.code


class NotFound(OzgError):
    status = 404
    code = "not-found"
    title = N_("Not found")


class UnknownAuthority(NotFound):
    """An authority id this deployment does not know; the detail names the known ones, so a
    typo is easy to fix (the list of authorities is public, ``GET /v1/authorities``)."""

    code = "unknown-authority"
    title = N_("Unknown authority")

    def __init__(self, authority: str, known: Iterable[str]) -> None:
        names = sorted(known)
        super().__init__(
            Deferred(
                N_("there is no authority {authority}; known authorities: {known}"),
                authority=repr(authority),
                known=", ".join(names) if names else Deferred(N_("none")),
            ),
            known_authorities=names,
        )


class Conflict(OzgError):
    status = 409
    code = "conflict"
    title = N_("Conflict")


class Unauthorized(OzgError):
    status = 401
    code = "unauthorized"
    title = N_("Authentication required")


class Forbidden(OzgError):
    status = 403
    code = "forbidden"
    title = N_("Forbidden")


class InvalidInput(OzgError):
    status = 422
    code = "invalid-input"
    title = N_("Invalid input")


class PayloadTooLarge(OzgError):
    status = 413
    code = "payload-too-large"
    title = N_("Payload too large")


class RequestTimeout(OzgError):
    status = 408
    code = "request-timeout"
    title = N_("Request timeout")


class ServiceUnavailable(OzgError):
    status = 503
    code = "service-unavailable"
    title = N_("Service unavailable")


class ConfigurationError(Exception):
    """The process must not start: the message lists every setting to fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"ozg-commons refuses to start; fix these settings:\n{lines}")
