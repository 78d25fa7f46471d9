"""The authorities component's errors (RFC 9457 problem documents)."""

from __future__ import annotations

from commons.errors import InvalidInput, NotFound, OzgError
from commons.errors import UnknownAuthority as UnknownAuthority  # payments refuses them too
from commons.i18n import N_


class InvalidRouteQuery(OzgError):
    """A ``GET /v1/routes`` query the FIT-Connect Routing API would refuse (400)."""

    status = 400
    code = "invalid-route-query"
    title = N_("Invalid route query")


class AuthorityMismatch(NotFound):
    """A caseworker asked for something of another authority. Answered as 404 with one
    fixed message: the caller learns nothing about what exists at another authority."""

    code = "not-found"
    title = N_("Not found")

    def __init__(self) -> None:
        super().__init__("not found")


class AuthoritiesFileError(InvalidInput):
    """``OZG_AUTHORITIES_FILE`` (or the embedded default) is malformed; the message names the
    entry and the field, never a secret's value."""

    code = "invalid-authorities-file"
    title = N_("Invalid authorities file")
