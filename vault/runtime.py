"""The vault's settings section (``OZG_VAULT_*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class VaultSettings(BaseSettings):
    """Document limits, the PKI that authority keys chain to, and garbage collection."""

    model_config = SettingsConfigDict(env_prefix="OZG_VAULT_", extra="ignore", frozen=True)

    max_document_bytes: int = Field(
        default=500_000_000, ge=1, description="Largest document (plaintext bytes) the vault takes."
    )
    quota_bytes: int = Field(
        default=2_000_000_000, ge=0, description="Stored ciphertext per applicant, in bytes."
    )
    trust_anchors: Path | None = Field(
        default=None,
        description="PEM file of CA certificates authority keys must chain to. "
        "Development default: a demo CA generated under data_dir/vault.",
    )
    revocation: Literal["crl", "off"] = Field(
        default="crl",
        description="Revocation checking of authority key certificates: crl (against "
        "OZG_VAULT_CRL_FILES, refusing when no current CRL covers a certificate) or off "
        "(development only).",
    )
    crl_files: list[Path] = Field(
        default_factory=list,
        description='CRLs (PEM or DER) of the CAs in authority key chains, e.g. ["ca.crl"]; '
        "keep them current with a scheduled download. Development default: the demo CA's CRL.",
    )
    key_overlap_days: int = Field(
        default=30, ge=0, description="How long a rotated authority key stays usable."
    )
    gc_grace_seconds: int = Field(
        default=3600, ge=0, description="Blobs younger than this are never garbage-collected."
    )
