"""End-to-end encrypted documents.

Documents are encrypted on the applicant's device and readable only by the applicant and the
authorities they share them with; the server stores ciphertext only.

Other packages use only what this module exports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commons.faces import lazy_face

if TYPE_CHECKING:
    from vault.applicant_keys import applicant_public_jwk
    from vault.blobstore import BlobStore, FilesystemBlobStore, S3BlobStore, spool_for
    from vault.declarations import ACTIONS, ACTIVITIES, RETENTION
    from vault.envelope import Metadata, open, seal
    from vault.envelope_format import body_is_well_formed, read_header
    from vault.errors import (
        BlobNotFound,
        InvalidEnvelope,
        InvalidKey,
        KeyNotFound,
        RevocationUnknown,
        SanitizeError,
        VaultError,
    )
    from vault.personal_data import export_personal_data, shred_personal_data
    from vault.pki import chain_of, issue_authority_key, make_ca, validate_chain
    from vault.recipients import key_id, public_jwk, public_key_from_jwk
    from vault.revocation import RevocationChecker
    from vault.sanitize import PASSIVE_FINDINGS, detect_type, inspect_pdf
    from vault.service import get_document, shares_of

__all__ = [
    "ACTIONS",
    "ACTIVITIES",
    "PASSIVE_FINDINGS",
    "RETENTION",
    "BlobNotFound",
    "BlobStore",
    "FilesystemBlobStore",
    "InvalidEnvelope",
    "InvalidKey",
    "KeyNotFound",
    "Metadata",
    "RevocationChecker",
    "RevocationUnknown",
    "S3BlobStore",
    "SanitizeError",
    "VaultError",
    "applicant_public_jwk",
    "body_is_well_formed",
    "chain_of",
    "detect_type",
    "export_personal_data",
    "get_document",
    "inspect_pdf",
    "issue_authority_key",
    "key_id",
    "make_ca",
    "open",
    "public_jwk",
    "public_key_from_jwk",
    "read_header",
    "seal",
    "shares_of",
    "shred_personal_data",
    "spool_for",
    "validate_chain",
]
__getattr__ = lazy_face(
    __name__,
    {
        "ACTIONS": "vault.declarations",
        "ACTIVITIES": "vault.declarations",
        "PASSIVE_FINDINGS": "vault.sanitize",
        "BlobNotFound": "vault.errors",
        "BlobStore": "vault.blobstore",
        "FilesystemBlobStore": "vault.blobstore",
        "InvalidEnvelope": "vault.errors",
        "InvalidKey": "vault.errors",
        "KeyNotFound": "vault.errors",
        "Metadata": "vault.envelope",
        "RETENTION": "vault.declarations",
        "RevocationChecker": "vault.revocation",
        "RevocationUnknown": "vault.errors",
        "S3BlobStore": "vault.blobstore",
        "SanitizeError": "vault.errors",
        "VaultError": "vault.errors",
        "applicant_public_jwk": "vault.applicant_keys",
        "body_is_well_formed": "vault.envelope_format",
        "chain_of": "vault.pki",
        "detect_type": "vault.sanitize",
        "export_personal_data": "vault.personal_data",
        "get_document": "vault.service",
        "inspect_pdf": "vault.sanitize",
        "issue_authority_key": "vault.pki",
        "key_id": "vault.recipients",
        "make_ca": "vault.pki",
        "open": "vault.envelope",
        "public_jwk": "vault.recipients",
        "public_key_from_jwk": "vault.recipients",
        "read_header": "vault.envelope_format",
        "seal": "vault.envelope",
        "shares_of": "vault.service",
        "shred_personal_data": "vault.personal_data",
        "spool_for": "vault.blobstore",
        "validate_chain": "vault.pki",
    },
)
