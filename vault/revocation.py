"""Revocation checking of authority key certificates against CRLs (RFC 5280, section 6.3).

Every certificate of an authority key's chain below the trust anchor is checked against a
*current* CRL of its issuer: issued by that issuer's name, signed by that issuer's key,
``thisUpdate <= now <= nextUpdate``. If no such CRL is at hand, the status is unknown and
the key is refused (fail closed). The CRLs are files (``OZG_VAULT_CRL_FILES``) that the
operator keeps current with a scheduled download from the PKI's distribution points; the
server itself never fetches anything. Full CRLs only: a delta CRL is not a source of status.

Checked when an authority key is registered, again whenever clients fetch the key to wrap
to, and when a share to it is stored, so a revocation published after registration takes
effect as soon as the operator's CRL files carry it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from vault.errors import AuthorityKeyRevoked, CertificateRevoked, CrlFileError, RevocationUnknown
from vault.pki import issued_by

_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.DOTALL)


def load_crls(paths: Sequence[Path]) -> list[x509.CertificateRevocationList]:
    """Every CRL in ``paths`` (PEM, several per file allowed, or one DER CRL per file)."""
    crls: list[x509.CertificateRevocationList] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CrlFileError(f"{path.name}: cannot be read") from exc
        try:
            blocks = _PEM_CRL.findall(data)
            if blocks:
                crls += [x509.load_pem_x509_crl(block) for block in blocks]
            else:
                crls.append(x509.load_der_x509_crl(data))
        except ValueError as exc:
            raise CrlFileError(f"{path.name}: not a CRL in PEM or DER") from exc
    return crls


def _name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _may_sign_crls(issuer: x509.Certificate) -> bool:
    try:
        usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return usage.crl_sign


def _is_delta(crl: x509.CertificateRevocationList) -> bool:
    try:
        crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    except x509.ExtensionNotFound:
        return False
    return True


@dataclass(frozen=True, slots=True)
class RevocationChecker:
    """Checks chains against a fixed set of CRLs; ``enabled=False`` checks nothing."""

    crls: Sequence[x509.CertificateRevocationList]
    anchors: Sequence[x509.Certificate]
    enabled: bool = True

    def current_crl(
        self, issuer: x509.Certificate, now: datetime
    ) -> x509.CertificateRevocationList | None:
        """The newest current, correctly signed full CRL of ``issuer``, if any."""
        if not _may_sign_crls(issuer):
            return None
        best: x509.CertificateRevocationList | None = None
        for crl in self.crls:
            if crl.issuer != issuer.subject or _is_delta(crl):
                continue
            next_update = crl.next_update_utc
            if next_update is None or not crl.last_update_utc <= now <= next_update:
                continue
            if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                continue
            if best is None or crl.last_update_utc > best.last_update_utc:
                best = crl
        return best

    def _issuer_of(self, chain: Sequence[x509.Certificate], i: int) -> x509.Certificate | None:
        if i + 1 < len(chain):
            return chain[i + 1]
        cert = chain[i]
        for anchor in self.anchors:
            if anchor.subject == cert.issuer and issued_by(cert, anchor):
                return anchor
        return None

    def check_chain(self, chain: Sequence[x509.Certificate], now: datetime) -> None:
        """Raise :class:`CertificateRevoked` or :class:`RevocationUnknown`; else return.

        ``chain`` is leaf first, as in ``x5c``, already validated to a trust anchor.
        """
        if not self.enabled:
            return
        anchors = {a.fingerprint(hashes.SHA256()) for a in self.anchors}
        for i, cert in enumerate(chain):
            if cert.fingerprint(hashes.SHA256()) in anchors:
                return  # the anchor itself is trusted, not checked
            issuer = self._issuer_of(chain, i)
            if issuer is None:
                raise RevocationUnknown(f"no issuer known for '{_name(cert)}'")
            crl = self.current_crl(issuer, now)
            if crl is None:
                raise RevocationUnknown(
                    f"no current CRL of '{_name(issuer)}'; add it to OZG_VAULT_CRL_FILES "
                    "and keep it refreshed"
                )
            if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
                raise CertificateRevoked(
                    f"the certificate '{_name(cert)}' (serial {cert.serial_number:x}) "
                    f"was revoked by '{_name(issuer)}'"
                )

    def check_registered(self, chain: Sequence[x509.Certificate], now: datetime) -> None:
        """Like :meth:`check_chain`, for a key already registered: revoked means 409."""
        try:
            self.check_chain(chain, now)
        except CertificateRevoked as exc:
            raise AuthorityKeyRevoked(exc.detail) from exc
