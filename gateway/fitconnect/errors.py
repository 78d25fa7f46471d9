"""The errors of the FIT-Connect building blocks: one per check.

Every way a JWE, an event token or a callback can be wrong raises that check's one error, with
one fixed message, so a caller (or someone probing a decryptor or a webhook) learns nothing
about which step failed. :class:`InvalidDestinationKey` and :class:`InvalidMetadata` are
configuration and format checks, not attacker-facing oracles: their message names the rule or
the JSON path that failed, because an operator or a sender has to fix exactly that.
"""

from __future__ import annotations

from typing import Any

from commons.errors import InvalidInput, OzgError
from commons.i18n import N_


class FitConnectError(OzgError):
    """Base of every error of :mod:`gateway.fitconnect`."""

    code = "fitconnect-error"


class _Opaque(FitConnectError):
    """An error whose message never varies (the caller's detail is ignored)."""

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(self.title)


class InvalidJwe(_Opaque):
    """Malformed, truncated, reordered, tampered, wrong key, wrong algorithm: all the same."""

    status = 422
    code = "invalid-jwe"
    title = N_("The JWE cannot be decrypted")


class InvalidEventToken(_Opaque):
    """A Security Event Token that is malformed, unsigned, wrongly signed or of the wrong shape."""

    status = 422
    code = "invalid-event-token"
    title = N_("The security event token is not valid")


class InvalidCallback(_Opaque):
    """A callback whose MAC is wrong, whose timestamp is stale, in the future or malformed."""

    status = 401
    code = "invalid-callback"
    title = N_("The callback is not authentic")


class InvalidDestinationKey(FitConnectError):
    """A destination encryption or signature key that FIT-Connect's rules refuse; says which."""

    status = 422
    code = "invalid-destination-key"
    title = N_("The destination key is not acceptable")


class InvalidMetadata(InvalidInput, FitConnectError):
    """Metadata that does not validate against its version's schema; names the path."""

    code = "invalid-metadata"
    title = N_("The submission metadata is not valid")


class TagMismatch(FitConnectError):
    """The authentication tags echoed by the receiver differ from the ones the sender made."""

    status = 409
    code = "authentication-tag-mismatch"
    title = N_("The receiver's authentication tags do not match what was sent")
