"""Errors of the vault domain; the gateway renders them as problem details."""

from __future__ import annotations

from commons.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    OzgError,
    PayloadTooLarge,
    ServiceUnavailable,
)
from commons.i18n import N_, Deferred
from commons.text import human_bytes


class VaultError(OzgError):
    """Base of every error the vault domain raises to an API caller."""

    code = "vault-error"


class InvalidEnvelope(VaultError):
    """The one error for every way an envelope can be wrong.

    Malformed, truncated, extended, reordered, spliced, bit-flipped, the wrong key or a
    recipient that is not in it: all raise this, with the same message, so a caller (or an
    attacker probing a decryptor) learns nothing about which check failed.
    """

    status = 422
    code = "invalid-envelope"
    title = N_("Invalid envelope")

    def __init__(self) -> None:
        super().__init__(N_("the envelope is malformed or cannot be opened with this key"))


class DocumentNotFound(VaultError, NotFound):
    status = 404
    code = "document-not-found"
    title = N_("Document not found")


class DocumentTooLarge(VaultError, PayloadTooLarge):
    """More bytes than a limit allows; the detail and the problem's ``limit_bytes`` member
    say the limit (of the document, or of one piece of a chunked upload)."""

    status = 413
    code = "document-too-large"
    title = N_("Document too large")

    def __init__(self, limit_bytes: int, what: str = "the document") -> None:
        message = _TOO_LARGE.get(what) or what + _TOO_LARGE_TAIL
        limit = human_bytes(limit_bytes)
        super().__init__(
            Deferred(message, limit=limit, limit_bytes=limit_bytes), limit_bytes=limit_bytes
        )


_TOO_LARGE_TAIL = " exceeds the size limit of {limit} ({limit_bytes} bytes)"
_TOO_LARGE = {
    "the document": N_("the document exceeds the size limit of {limit} ({limit_bytes} bytes)"),
    "one piece": N_("one piece exceeds the size limit of {limit} ({limit_bytes} bytes)"),
}


class QuotaExceeded(VaultError, PayloadTooLarge):
    """An upload that would take the applicant over their storage quota; the detail and the
    problem's members say the quota, how much is used and how much the upload needs."""

    status = 413
    code = "quota-exceeded"
    title = N_("Storage quota exceeded")

    def __init__(self, quota_bytes: int, used_bytes: int, incoming_bytes: int) -> None:
        super().__init__(
            Deferred(
                N_(
                    "this upload ({incoming}) would exceed your storage quota: "
                    "{used} of {quota} used, {free} free"
                ),
                incoming=human_bytes(incoming_bytes),
                used=human_bytes(used_bytes),
                quota=human_bytes(quota_bytes),
                free=human_bytes(max(0, quota_bytes - used_bytes)),
            ),
            quota_bytes=quota_bytes,
            used_bytes=used_bytes,
            incoming_bytes=incoming_bytes,
        )


class UploadNotFound(VaultError, NotFound):
    status = 404
    code = "upload-not-found"
    title = N_("Upload not found")


class UploadConflict(VaultError, Conflict):
    """A piece at the wrong offset, an upload busy with another request, or a finish before
    the last byte; the problem's ``offset`` member says where the upload stands."""

    status = 409
    code = "upload-conflict"
    title = N_("Upload conflict")


class RangeNotSatisfiable(VaultError):
    status = 416
    code = "range-not-satisfiable"
    title = N_("Range not satisfiable")


class InvalidKey(VaultError, InvalidInput):
    """A key (applicant or authority) was refused; the detail says why."""

    status = 422
    code = "invalid-key"
    title = N_("Invalid key")


class KeyNotFound(VaultError, NotFound):
    status = 404
    code = "key-not-found"
    title = N_("Key not found")


class KeyConflict(VaultError, Conflict):
    status = 409
    code = "key-conflict"
    title = N_("Key already registered")


class NotShared(VaultError, Forbidden):
    status = 403
    code = "not-shared"
    title = N_("Not shared with you")


class SanitizeError(VaultError, InvalidInput):
    """A file the sanitizer refuses (encrypted, unrepairable, unsupported or mislabelled)."""

    status = 422
    code = "unsupported-file"
    title = N_("File refused")


class CertificateRevoked(InvalidKey):
    """A certificate of the key's chain is on its issuer's current CRL."""

    status = 422
    code = "certificate-revoked"
    title = N_("Certificate revoked")


class AuthorityKeyRevoked(VaultError, Conflict):
    """A registered authority key's certificate has been revoked since registration."""

    status = 409
    code = "authority-key-revoked"
    title = N_("Authority key revoked")


class RevocationUnknown(VaultError, ServiceUnavailable):
    """No current CRL covers a certificate: the key is refused until one is configured."""

    status = 503
    code = "revocation-status-unknown"
    title = N_("Revocation status unknown")


# Errors that stay inside the vault's own code (the device client, the blob store, the CRL
# loader): not problem details, so not :class:`VaultError`.


class BlobNotFound(KeyError):
    """No blob under this key in the blob store."""


class CrlFileError(ValueError):
    """A CRL file cannot be read or parsed."""


class WrongSecret(ValueError):
    """The passphrase or recovery code does not unwrap this key (on the device)."""


class ClientError(Exception):
    """The server refused a request; ``status`` and the problem ``detail`` say why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
