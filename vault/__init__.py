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
    from vault.authority_keys import register_authority_key
    from vault.blobstore import BlobStore, FilesystemBlobStore, S3BlobStore, spool_for
    from vault.declarations import ACTIONS, ACTIVITIES, RETENTION
    from vault.envelope import Metadata, open, seal
    from vault.envelope_format import body_is_well_formed, read_header
    from vault.errors import (
        BlobNotFound,
        CrlFileError,
        InvalidEnvelope,
        InvalidKey,
        KeyConflict,
        KeyNotFound,
        RevocationUnknown,
        SanitizeError,
        VaultError,
    )
    from vault.personal_data import export_personal_data, shred_personal_data
    from vault.pki import (
        chain_of,
        demo_crl_path,
        ensure_demo_ca,
        issue_authority_key,
        load_anchors,
        make_ca,
        validate_authority_jwk,
        validate_chain,
    )
    from vault.recipients import (
        PrivateKey,
        key_id,
        load_private_key,
        public_jwk,
        public_key_from_jwk,
    )
    from vault.revocation import RevocationChecker, load_crls
    from vault.runtime import VaultSettings, crl_files
    from vault.sanitize import PASSIVE_FINDINGS, detect_type, inspect_pdf
    from vault.service import get_document, shares_of

__all__ = [
    "ACTIONS",
    "ACTIVITIES",
    "PASSIVE_FINDINGS",
    "RETENTION",
    "BlobNotFound",
    "BlobStore",
    "CrlFileError",
    "FilesystemBlobStore",
    "InvalidEnvelope",
    "InvalidKey",
    "KeyConflict",
    "KeyNotFound",
    "Metadata",
    "PrivateKey",
    "RevocationChecker",
    "RevocationUnknown",
    "S3BlobStore",
    "SanitizeError",
    "VaultError",
    "VaultSettings",
    "applicant_public_jwk",
    "body_is_well_formed",
    "chain_of",
    "crl_files",
    "demo_crl_path",
    "detect_type",
    "ensure_demo_ca",
    "export_personal_data",
    "get_document",
    "inspect_pdf",
    "issue_authority_key",
    "key_id",
    "load_anchors",
    "load_crls",
    "load_private_key",
    "make_ca",
    "open",
    "public_jwk",
    "public_key_from_jwk",
    "read_header",
    "register_authority_key",
    "seal",
    "shares_of",
    "shred_personal_data",
    "spool_for",
    "validate_authority_jwk",
    "validate_chain",
]
__getattr__ = lazy_face(
    __name__,
    {
        "ACTIONS": "vault.declarations",
        "ACTIVITIES": "vault.declarations",
        "BlobNotFound": "vault.errors",
        "BlobStore": "vault.blobstore",
        "CrlFileError": "vault.errors",
        "FilesystemBlobStore": "vault.blobstore",
        "InvalidEnvelope": "vault.errors",
        "InvalidKey": "vault.errors",
        "KeyConflict": "vault.errors",
        "KeyNotFound": "vault.errors",
        "Metadata": "vault.envelope",
        "PASSIVE_FINDINGS": "vault.sanitize",
        "RETENTION": "vault.declarations",
        "RevocationChecker": "vault.revocation",
        "RevocationUnknown": "vault.errors",
        "S3BlobStore": "vault.blobstore",
        "SanitizeError": "vault.errors",
        "VaultError": "vault.errors",
        "VaultSettings": "vault.runtime",
        "applicant_public_jwk": "vault.applicant_keys",
        "body_is_well_formed": "vault.envelope_format",
        "chain_of": "vault.pki",
        "crl_files": "vault.runtime",
        "demo_crl_path": "vault.pki",
        "detect_type": "vault.sanitize",
        "ensure_demo_ca": "vault.pki",
        "export_personal_data": "vault.personal_data",
        "get_document": "vault.service",
        "inspect_pdf": "vault.sanitize",
        "issue_authority_key": "vault.pki",
        "key_id": "vault.recipients",
        "load_anchors": "vault.pki",
        "load_crls": "vault.revocation",
        "make_ca": "vault.pki",
        "open": "vault.envelope",
        "public_jwk": "vault.recipients",
        "public_key_from_jwk": "vault.recipients",
        "read_header": "vault.envelope_format",
        "register_authority_key": "vault.authority_keys",
        "seal": "vault.envelope",
        "shares_of": "vault.service",
        "shred_personal_data": "vault.personal_data",
        "spool_for": "vault.blobstore",
        "validate_authority_jwk": "vault.pki",
        "validate_chain": "vault.pki",
        "PrivateKey": "vault.recipients",
        "load_private_key": "vault.recipients",
    },
)
