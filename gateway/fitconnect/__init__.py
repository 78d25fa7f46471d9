"""FIT-Connect building blocks: JWE, submission metadata, event tokens, callbacks, keys.

A pure library (no HTTP, no database): it runs in the server, on the applicant's device and at
the authority alike, and imports neither FastAPI nor SQLAlchemy (a test checks). The format
details are in ``docs/fitconnect.md``.
"""

from gateway.fitconnect.callbacks import sign_callback, verify_callback
from gateway.fitconnect.errors import (
    FitConnectError,
    InvalidCallback,
    InvalidDestinationKey,
    InvalidEventToken,
    InvalidJwe,
    InvalidMetadata,
    TagMismatch,
)
from gateway.fitconnect.events import (
    AuthenticationTags,
    Event,
    check_tags,
    issue_event,
    problem,
    verify_event,
)
from gateway.fitconnect.jwe import (
    Decrypted,
    Encrypted,
    decrypt,
    decrypt_stream,
    encrypt,
    encrypt_stream,
)
from gateway.fitconnect.keys import (
    DestinationKey,
    authority_urn,
    kid_for,
    validate_destination_key,
)
from gateway.fitconnect.metadata import (
    Attachment,
    build_metadata,
    dumps_metadata,
    supported_versions,
    validate_metadata,
)

__all__ = [
    "Attachment",
    "AuthenticationTags",
    "Decrypted",
    "DestinationKey",
    "Encrypted",
    "Event",
    "FitConnectError",
    "InvalidCallback",
    "InvalidDestinationKey",
    "InvalidEventToken",
    "InvalidJwe",
    "InvalidMetadata",
    "TagMismatch",
    "authority_urn",
    "build_metadata",
    "check_tags",
    "decrypt",
    "decrypt_stream",
    "dumps_metadata",
    "encrypt",
    "encrypt_stream",
    "issue_event",
    "kid_for",
    "problem",
    "sign_callback",
    "supported_versions",
    "validate_destination_key",
    "validate_metadata",
    "verify_callback",
    "verify_event",
]
