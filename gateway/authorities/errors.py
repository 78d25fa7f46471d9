"""The authorities component's errors (RFC 9457 problem documents)."""

from __future__ import annotations

from collections.abc import Iterable

from commons.errors import InvalidInput, NotFound, OzgError


class UnknownAuthority(NotFound):
    """An authority id this deployment does not know; the detail names the known ones, so a
    typo is easy to fix (the list of authorities is public, ``GET /v1/authorities``)."""

    code = "unknown-authority"
    title = "Unknown authority"

    def __init__(self, authority: str, known: Iterable[str]) -> None:
        names = sorted(known)
        listed = ", ".join(names) if names else "none"
        super().__init__(
            f"there is no authority {authority!r}; known authorities: {listed}",
            known_authorities=names,
        )


class InvalidRouteQuery(OzgError):
    """A ``GET /v1/routes`` query the FIT-Connect Routing API would refuse (400)."""

    status = 400
    code = "invalid-route-query"
    title = "Invalid route query"


class AuthorityMismatch(NotFound):
    """A caseworker asked for something of another authority. Answered as 404 with one
    fixed message: the caller learns nothing about what exists at another authority."""

    code = "not-found"
    title = "Not found"

    def __init__(self) -> None:
        super().__init__("not found")


class AuthoritiesFileError(InvalidInput):
    """``OZG_AUTHORITIES_FILE`` (or the embedded default) is malformed; the message names the
    entry and the field, never a secret's value."""

    code = "invalid-authorities-file"
    title = "Invalid authorities file"
