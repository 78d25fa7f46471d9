"""The vault's per-app runtime: its settings section (``OZG_VAULT_*``), the state an app
holds (:class:`VaultState`: blob store, receipt signer, trust anchors, CRLs; a request's app's
is :func:`vault_state`) and the start-up check of the settings (:func:`config_problems`)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from commons.clock import Clock, system_clock
from vault.errors import CrlFileError, InvalidKey
from vault.pki import chain_of, demo_crl_path, ensure_demo_ca, load_anchors
from vault.revocation import RevocationChecker, load_crls

if TYPE_CHECKING:
    from fastapi import Request
    from sqlalchemy.orm import Session

    from commons.components import ShredReport
    from commons.receipts import ReceiptSigner
    from commons.settings import Settings
    from vault.blobstore import BlobStore

log = logging.getLogger("ozg.vault")


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
    upload_piece_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=65536,
        description="Largest piece one PUT of a chunked upload may carry, in bytes.",
    )
    upload_ttl_seconds: int = Field(
        default=86400, ge=60, description="A chunked upload untouched this long expires."
    )
    max_open_uploads: int = Field(
        default=4, ge=1, description="Chunked uploads one applicant may have open at once."
    )
    gc_grace_seconds: int = Field(
        default=3600, ge=0, description="Blobs younger than this are never garbage-collected."
    )


@dataclass
class VaultState:
    """What an app's vault holds (``app.state.vault``, made by ``vault.api.configure``)."""

    settings: Settings
    store: BlobStore
    signer: ReceiptSigner
    clock: Clock = system_clock
    _crls: tuple[Any, list[Any]] | None = field(default=None, repr=False)

    @property
    def config(self) -> VaultSettings:
        return self.settings.section(VaultSettings)

    def anchors(self) -> Any:
        path = self.config.trust_anchors
        if path is None:
            if self.settings.is_production:  # never the demo CA outside development
                raise InvalidKey("OZG_VAULT_TRUST_ANCHORS is not set; no key can be trusted")
            path, _ = ensure_demo_ca(self.settings.data_dir / "vault")
        return load_anchors(path)

    def revocation(self) -> RevocationChecker:
        """A checker over the CRL files as they are now: a refreshed file (new size or
        modification time) is parsed again at the next check, an unchanged one is not."""
        anchors = self.anchors()
        if self.config.revocation == "off":
            return RevocationChecker((), anchors, enabled=False)
        paths = crl_files(self.settings)
        try:
            stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
            if self._crls is None or self._crls[0] != stamp:
                self._crls = (stamp, load_crls(paths))
            crls = self._crls[1]
        except (OSError, CrlFileError) as exc:
            log.error("a CRL file cannot be read: %s", exc)
            crls = []  # fail closed: every status is unknown
        return RevocationChecker(crls, anchors)

    def check_key(self, row: Any) -> None:
        """Raise if a registered authority key's chain is revoked (409) or unknown (503)."""
        self.revocation().check_registered(chain_of(json.loads(row.jwk)), self.clock.now())

    def shred(self, session: Session, subject: str) -> ShredReport:
        from vault.chunked import spool_dir
        from vault.personal_data import shred_personal_data

        spool = spool_dir(self.settings.data_dir)
        return shred_personal_data(session, subject, self.store, self.clock, spool)


def vault_state(request: Request) -> VaultState:
    """The app's vault state (``app.state.vault``), as the vault's routers read it."""
    state: VaultState = request.app.state.vault
    return state


def crl_files(settings: Settings) -> list[Path]:
    """The configured CRL files; in development without configured anchors, the demo CA's."""
    config = settings.section(VaultSettings)
    if config.crl_files or config.trust_anchors is not None:
        return list(config.crl_files)
    if settings.is_production:
        return []
    directory = settings.data_dir / "vault"
    ensure_demo_ca(directory)
    return [demo_crl_path(directory)]


def config_problems(settings: Settings) -> list[str]:
    """What is wrong with the vault settings (for startup checks); empty if nothing."""
    problems: list[str] = []
    config = settings.section(VaultSettings)
    path = config.trust_anchors
    if path is None:
        if settings.is_production:
            problems.append(
                "OZG_VAULT_TRUST_ANCHORS is not set; point it at the PEM file of the CA "
                "certificates authority keys must chain to"
            )
    else:
        try:
            load_anchors(path)
        except InvalidKey:
            problems.append(
                f"OZG_VAULT_TRUST_ANCHORS ({path.name}) is not a readable PEM file of certificates"
            )
    if settings.is_production and config.revocation == "off":
        problems.append(
            "OZG_VAULT_REVOCATION=off is for development only; set it to crl and point "
            "OZG_VAULT_CRL_FILES at the PKI's CRLs"
        )
    elif settings.is_production and not config.crl_files:
        problems.append(
            "OZG_VAULT_CRL_FILES is not set; list the CRL files of the CAs in authority key "
            "chains (kept current by a scheduled download)"
        )
    try:
        load_crls(config.crl_files)
    except CrlFileError as exc:
        problems.append(f"OZG_VAULT_CRL_FILES: {exc}")
    return problems
