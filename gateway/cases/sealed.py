"""The structural check of what is sealed to the applicant: drafts and authority messages.

The server holds no key that opens them. It checks that the bytes are a well-formed vault
envelope (docs/envelope.md: the header parser and the body-length rule the vault's upload
check uses) with exactly one recipient, the applicant's own vault key. Every way to fail
gives the same :class:`~gateway.cases.errors.InvalidSealedContent`.
"""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy.orm import Session

from commons.encoding import b64url_decode, b64url_encode
from gateway.cases.errors import CaseConflict, InvalidSealedContent, SealedContentTooLarge
from vault import (
    InvalidEnvelope,
    KeyNotFound,
    applicant_public_jwk,
    body_is_well_formed,
    key_id,
    public_key_from_jwk,
    read_header,
)


def applicant_key(session: Session, subject: str) -> tuple[dict[str, Any], str]:
    """The applicant's public vault key (JWK) and its key id: what a sealed draft or an
    authority's message must be sealed to."""
    try:
        jwk = applicant_public_jwk(session, subject)
    except KeyNotFound:
        raise CaseConflict(
            "the applicant has no vault key yet; create one first (ozg-commons vault keygen)"
        ) from None
    return dict(jwk), key_id(public_key_from_jwk(jwk))


def applicant_kid(session: Session, subject: str) -> str:
    """The key id of the applicant's vault key (what a sealed draft must be sealed to)."""
    return applicant_key(session, subject)[1]


def check_sealed(data: bytes, recipient_kid: str, max_bytes: int) -> str:
    """Check ``data`` is an envelope sealed to ``recipient_kid`` alone; returns its id."""
    if len(data) > max_bytes:
        raise SealedContentTooLarge(f"sealed content is at most {max_bytes} bytes")
    try:
        header = read_header(io.BytesIO(data))
    except InvalidEnvelope:
        raise InvalidSealedContent() from None
    rest = len(data) - len(header.encode())
    if (
        len(header.stanzas) != 1
        or header.stanzas[0].kid != recipient_kid
        or not body_is_well_formed(header, rest, max_bytes)
    ):
        raise InvalidSealedContent()
    return str(header.document_id)


def check_sealed_text(text: str, recipient_kid: str, max_bytes: int) -> str:
    """The same check for an envelope as base64url text (a sealed mailbox body); returns
    the text in its canonical form."""
    if len(text) > (max_bytes * 4 + 2) // 3:
        raise SealedContentTooLarge(f"sealed content is at most {max_bytes} bytes")
    try:
        data = b64url_decode(text)
    except ValueError:
        raise InvalidSealedContent() from None
    check_sealed(data, recipient_kid, max_bytes)
    return b64url_encode(data)
