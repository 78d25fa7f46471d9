"""Everything the authorities component takes from the vault, in one place.

Authority keys are trusted the way the vault trusts them, because vault sharing uses the same
registry: the anchors are ``OZG_VAULT_TRUST_ANCHORS`` (in development without it, the demo CA
under ``data_dir/vault``), revocation is ``OZG_VAULT_REVOCATION`` / ``OZG_VAULT_CRL_FILES``
(the demo CA's CRL in development). The demo authorities are certified by that same demo CA
(:func:`demo_ca`), so that vault sharing and FIT-Connect trust one demo root.

Registering an encryption key for sharing goes through the vault's own validation and service
function (:func:`register_for_sharing`), never its tables.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.orm import Session

from commons.clock import Clock
from commons.settings import Settings
from vault import (
    CrlFileError,
    InvalidKey,
    KeyConflict,
    RevocationChecker,
    VaultSettings,
    crl_files,
    demo_crl_path,
    ensure_demo_ca,
    load_anchors,
    load_crls,
    register_authority_key,
    validate_authority_jwk,
)

log = logging.getLogger("ozg.authorities")


@dataclass(frozen=True, slots=True)
class Trust:
    """The pinned anchors and the revocation checker authority keys are validated with."""

    anchors: list[x509.Certificate]
    revocation: RevocationChecker


def vault_dir(settings: Settings) -> Path:
    return settings.data_dir / "vault"


def vault_trusts_demo_ca(settings: Settings) -> bool:
    """Whether the vault's anchors are the demo CA (development without
    ``OZG_VAULT_TRUST_ANCHORS``)."""
    return not settings.is_production and settings.section(VaultSettings).trust_anchors is None


def demo_ca(settings: Settings) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """The vault's development demo CA (created on first use), shared with FIT-Connect."""
    cert_path, key_path = ensure_demo_ca(vault_dir(settings))
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):  # pragma: no cover - the vault writes RSA
        raise TypeError("the demo CA key is not RSA")
    return key, x509.load_pem_x509_certificate(cert_path.read_bytes())


def demo_trust(settings: Settings) -> Trust:
    """Trust in the demo CA alone, with its CRL: how the embedded default's keys are checked."""
    _key, cert = demo_ca(settings)
    crls = load_crls([demo_crl_path(vault_dir(settings))])
    return Trust([cert], RevocationChecker(crls, [cert]))


def vault_trust(settings: Settings) -> Trust:
    """The vault's anchors and CRLs as configured (raises ``ValueError`` naming the setting)."""
    config = settings.section(VaultSettings)
    if config.trust_anchors is None:
        if settings.is_production:
            raise ValueError("OZG_VAULT_TRUST_ANCHORS is not set; no authority key can be trusted")
        _key, cert = demo_ca(settings)
        anchors = [cert]
    else:
        try:
            anchors = load_anchors(config.trust_anchors)
        except InvalidKey:
            raise ValueError(
                f"OZG_VAULT_TRUST_ANCHORS ({config.trust_anchors.name}) cannot be read"
            ) from None
    if config.revocation == "off":
        return Trust(anchors, RevocationChecker((), anchors, enabled=False))
    try:
        crls = load_crls(crl_files(settings))
    except CrlFileError as exc:
        raise ValueError(f"OZG_VAULT_CRL_FILES: {exc}") from None
    return Trust(anchors, RevocationChecker(crls, anchors))


def registry_trust(settings: Settings) -> Trust:
    """The anchors and CRLs the registry validates destination keys with: the vault's as
    configured with an authorities file, else the demo CA's (the embedded default). Clients
    pin the same roots (the portal serves them at ``/apply/trust.json``)."""
    from gateway.authorities.runtime import AuthoritiesSettings

    if settings.section(AuthoritiesSettings).file is not None:
        return vault_trust(settings)
    if settings.is_production:
        raise ValueError("OZG_AUTHORITIES_FILE is not set")
    return demo_trust(settings)


def register_for_sharing(
    session: Session, settings: Settings, authority: str, jwk: dict[str, Any], clock: Clock
) -> bool:
    """Register ``jwk`` as ``authority``'s vault sharing key, checked by the vault's own rules
    against its anchors. False if the vault already has this key (nothing changes)."""
    now: datetime = clock.now()
    validated = validate_authority_jwk(jwk, vault_trust(settings).anchors, now, authority=authority)
    overlap = timedelta(days=settings.section(VaultSettings).key_overlap_days)
    try:
        register_authority_key(session, authority, validated, overlap, clock)
    except KeyConflict:
        return False
    return True


__all__ = [
    "InvalidKey",
    "Trust",
    "demo_ca",
    "demo_trust",
    "register_for_sharing",
    "registry_trust",
    "vault_trust",
    "vault_trusts_demo_ca",
]
