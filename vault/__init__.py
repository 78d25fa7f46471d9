"""End-to-end encrypted documents.

Documents are encrypted on the applicant's device and readable only by the applicant and the
authorities they share them with; the server stores ciphertext only.

Other packages use only what this module exports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commons.faces import lazy_face

if TYPE_CHECKING:
    from vault.blobstore import BlobStore, FilesystemBlobStore, S3BlobStore, spool_for
    from vault.declarations import ACTIONS, ACTIVITIES, RETENTION
    from vault.envelope import Metadata, open, seal
    from vault.errors import (
        BlobNotFound,
        InvalidEnvelope,
        InvalidKey,
        RevocationUnknown,
        VaultError,
    )
    from vault.personal_data import export_personal_data, shred_personal_data
    from vault.pki import chain_of, issue_authority_key, make_ca, validate_chain
    from vault.recipients import key_id, public_jwk, public_key_from_jwk
    from vault.revocation import RevocationChecker

__all__ = [
    "ACTIONS",
    "ACTIVITIES",
    "RETENTION",
    "BlobNotFound",
    "BlobStore",
    "FilesystemBlobStore",
    "InvalidEnvelope",
    "InvalidKey",
    "Metadata",
    "RevocationChecker",
    "RevocationUnknown",
    "S3BlobStore",
    "VaultError",
    "chain_of",
    "export_personal_data",
    "issue_authority_key",
    "key_id",
    "make_ca",
    "open",
    "public_jwk",
    "public_key_from_jwk",
    "seal",
    "shred_personal_data",
    "spool_for",
    "validate_chain",
]
__getattr__ = lazy_face(
    __name__,
    {
        "ACTIONS": "vault.declarations",
        "ACTIVITIES": "vault.declarations",
        "BlobNotFound": "vault.errors",
        "BlobStore": "vault.blobstore",
        "FilesystemBlobStore": "vault.blobstore",
        "InvalidEnvelope": "vault.errors",
        "InvalidKey": "vault.errors",
        "Metadata": "vault.envelope",
        "RETENTION": "vault.declarations",
        "RevocationChecker": "vault.revocation",
        "RevocationUnknown": "vault.errors",
        "S3BlobStore": "vault.blobstore",
        "VaultError": "vault.errors",
        "chain_of": "vault.pki",
        "export_personal_data": "vault.personal_data",
        "issue_authority_key": "vault.pki",
        "key_id": "vault.recipients",
        "make_ca": "vault.pki",
        "open": "vault.envelope",
        "public_jwk": "vault.recipients",
        "public_key_from_jwk": "vault.recipients",
        "seal": "vault.envelope",
        "shred_personal_data": "vault.personal_data",
        "spool_for": "vault.blobstore",
        "validate_chain": "vault.pki",
    },
)
