"""Authority keys: JWK with an ``x5c`` chain, validated against the configured trust anchors.

In production the anchors are the administration PKI's CA certificates
(``OZG_VAULT_TRUST_ANCHORS``); in development a demo CA is generated under
``data_dir/vault`` (:func:`ensure_demo_ca`) and ``ozg-commons vault demo-authority-key``
issues keys under it, with a CRL beside it (``demo-ca.crl``, refreshed on use) that
``ozg-commons vault demo-revoke`` adds to. Revocation is checked by :mod:`vault.revocation`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from vault.errors import InvalidKey
from vault.recipients import MIN_RSA_BITS, key_id, public_jwk, public_key_from_jwk


@dataclass(frozen=True, slots=True)
class ValidatedKey:
    kid: str
    public_key: rsa.RSAPublicKey
    jwk: dict[str, Any]
    not_after: datetime
    chain: tuple[x509.Certificate, ...]


# The binding of an authority key to its authority: the leaf certificate's
# SubjectAlternativeName holds exactly one URI with this prefix, naming the authority id
# (the same rule as FIT-Connect destination keys, gateway.fitconnect.keys).
AUTHORITY_URN_PREFIX = "urn:ozg-commons:authority:"


def authority_urn(authority: str) -> str:
    """The SubjectAlternativeName URI that binds a certificate to ``authority``."""
    if not authority or any(c.isspace() for c in authority):
        raise ValueError("an authority id is non-empty and has no spaces")
    return AUTHORITY_URN_PREFIX + authority


def check_authority_binding(leaf: x509.Certificate, authority: str) -> None:
    """Raise :class:`InvalidKey` unless ``leaf`` names exactly ``authority`` (SAN URI
    ``urn:ozg-commons:authority:<id>``, exactly one such URI)."""
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise InvalidKey(
            f"the certificate names no authority (SAN URI {AUTHORITY_URN_PREFIX}<id>)"
        ) from None
    except ValueError:
        raise InvalidKey("the certificate's SubjectAlternativeName is malformed") from None
    named = [
        uri
        for uri in san.get_values_for_type(x509.UniformResourceIdentifier)
        if uri.startswith(AUTHORITY_URN_PREFIX)
    ]
    if len(named) != 1:
        raise InvalidKey(f"the certificate must name exactly one authority ({len(named)} found)")
    if named[0] != AUTHORITY_URN_PREFIX + authority:
        other = named[0].removeprefix(AUTHORITY_URN_PREFIX)
        raise InvalidKey(f"the certificate is issued for authority {other!r}, not {authority!r}")


def check_jwk_binding(jwk: dict[str, Any], authority: str) -> rsa.RSAPublicKey:
    """The RSA key of ``jwk`` once its ``x5c`` leaf certifies it and names ``authority``.

    No chain or trust check: what a device without trust anchors can still check, so that a
    key registered for the wrong authority is never wrapped to."""
    try:
        key = public_key_from_jwk(jwk)
    except ValueError as exc:
        raise InvalidKey("the JWK is malformed") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidKey("authority keys must be RSA (kty RSA)")
    leaf = chain_of(jwk)[0]
    if leaf.public_key() != key:
        raise InvalidKey("the first x5c certificate does not certify this key")
    check_authority_binding(leaf, authority)
    return key


def load_anchors(path: Path) -> list[x509.Certificate]:
    try:
        anchors = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise InvalidKey("the trust anchors cannot be read") from exc
    return anchors


def validate_authority_jwk(
    jwk: dict[str, Any], anchors: list[x509.Certificate], now: datetime, *, authority: str
) -> ValidatedKey:
    """Accept ``authority``'s encryption key only if every check passes; say which failed.

    The last check: the leaf certificate names ``authority`` (:func:`check_authority_binding`).
    """
    if jwk.get("kty") != "RSA":
        raise InvalidKey("authority keys must be RSA (kty RSA)")
    if any(m in jwk for m in ("d", "p", "q")):
        raise InvalidKey("this is a private key; register the public key only")
    ops = jwk.get("key_ops")
    if not isinstance(ops, list) or "wrapKey" not in ops:
        raise InvalidKey("key_ops must include wrapKey")
    if jwk.get("alg", "RSA-OAEP-256") != "RSA-OAEP-256":
        raise InvalidKey("alg must be RSA-OAEP-256")
    if jwk.get("use", "enc") != "enc":
        raise InvalidKey("use must be enc")
    try:
        key = public_key_from_jwk(jwk)
    except ValueError as exc:
        raise InvalidKey("the JWK is malformed") from exc
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        raise InvalidKey(f"RSA keys need at least {MIN_RSA_BITS} bits")
    chain = validate_chain(jwk, key, anchors, now)
    check_authority_binding(chain[0], authority)
    return ValidatedKey(
        kid=key_id(key),
        public_key=key,
        jwk={**public_jwk(key), "alg": "RSA-OAEP-256", "key_ops": ["wrapKey"], "x5c": jwk["x5c"]},
        not_after=min(c.not_valid_after_utc for c in chain),
        chain=tuple(chain),
    )


def validate_chain(
    jwk: dict[str, Any],
    key: rsa.RSAPublicKey,
    anchors: list[x509.Certificate],
    now: datetime,
    *,
    key_usage: str = "key_encipherment",
) -> list[x509.Certificate]:
    """The ``x5c`` chain of ``jwk``, leaf first, once it certifies ``key`` up to an anchor.

    The leaf must carry exactly ``key``; every certificate must be valid at ``now``; a leaf
    with a KeyUsage extension must allow ``key_usage`` (an attribute of
    :class:`x509.KeyUsage`); each certificate must be issued by the next; and the last must
    be an anchor itself or be issued by one. A root shipped in ``x5c`` is never trusted for
    being there. Revocation is :mod:`vault.revocation`'s job.
    """
    chain = chain_of(jwk)
    leaf = chain[0]
    if leaf.public_key() != key:
        raise InvalidKey("the first x5c certificate does not certify this key")
    for cert in chain:
        if cert.not_valid_before_utc > now:
            raise InvalidKey("a certificate in the chain is not yet valid")
        if cert.not_valid_after_utc < now:
            raise InvalidKey("a certificate in the chain has expired")
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        if not getattr(usage, key_usage):
            raise InvalidKey(
                f"the certificate's key usage does not allow {key_usage.replace('_', ' ')}"
            )
    except x509.ExtensionNotFound:
        pass
    for child, issuer in pairwise(chain):
        _check_issued(child, issuer)
    last = chain[-1]
    fingerprints = {a.fingerprint(hashes.SHA256()) for a in anchors}
    if last.fingerprint(hashes.SHA256()) not in fingerprints:
        for anchor in anchors:
            if anchor.subject == last.issuer and issued_by(last, anchor):
                if not anchor.not_valid_before_utc <= now <= anchor.not_valid_after_utc:
                    raise InvalidKey("the trust anchor is not valid now")
                break
        else:
            raise InvalidKey("the chain does not lead to a trusted CA")
    return chain


def chain_of(jwk: dict[str, Any]) -> list[x509.Certificate]:
    """The certificates of a JWK's ``x5c``, leaf first."""
    chain_b64 = jwk.get("x5c")
    if not isinstance(chain_b64, list) or not chain_b64:
        raise InvalidKey("x5c (the certificate chain) is missing")
    try:
        return [
            x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in chain_b64
        ]
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidKey("x5c holds a malformed certificate") from exc


def issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    try:
        constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return constraints.ca


def _check_issued(child: x509.Certificate, issuer: x509.Certificate) -> None:
    if not issued_by(child, issuer):
        raise InvalidKey("the x5c chain is broken (a certificate is not issued by the next)")


# --------------------------------------------------------------------------- demo CA
def make_ca(
    name: str, now: datetime, days: int = 3650
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(65537, 3072)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_authority_key(
    ca_key: rsa.RSAPrivateKey,
    ca_cert: x509.Certificate,
    authority: str,
    now: datetime,
    *,
    bits: int = 4096,
    days: int = 365,
    not_before: datetime | None = None,
    key_encipherment: bool = True,
    purpose: Literal["wrapKey", "verify"] = "wrapKey",
    san_uris: Sequence[str] | None = None,
    key: rsa.RSAPrivateKey | None = None,
) -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    """An authority key pair (new unless ``key`` is given) and its public JWK with x5c (leaf, CA).

    ``purpose`` ``"wrapKey"`` gives an encryption key (``alg`` RSA-OAEP-256, KeyUsage
    keyEncipherment, ``use`` enc); ``"verify"`` a signature key (``alg`` PS512, KeyUsage
    digitalSignature, ``use`` sig). ``san_uris`` go into a SubjectAlternativeName extension;
    by default the one URI that binds the key to ``authority``.
    """
    if san_uris is None:
        san_uris = [authority_urn(authority)]
    key = key or rsa.generate_private_key(65537, bits)
    start = not_before or now - timedelta(minutes=5)
    signing = purpose == "verify"
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{authority} vault")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=signing,
                content_commitment=False,
                key_encipherment=key_encipherment and not signing,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if san_uris:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in san_uris]),
            critical=False,
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    x5c = [
        base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
        for c in (cert, ca_cert)
    ]
    alg, use = ("PS512", "sig") if signing else ("RSA-OAEP-256", "enc")
    jwk = {**public_jwk(key.public_key()), "alg": alg, "key_ops": [purpose]}
    return key, {**jwk, "use": use, "x5c": x5c}


def make_crl(
    ca_key: rsa.RSAPrivateKey,
    ca_cert: x509.Certificate,
    revoked_serials: list[int],
    now: datetime,
    *,
    days: int = 7,
) -> x509.CertificateRevocationList:
    """A full CRL of ``ca_cert`` listing ``revoked_serials``, current for ``days``."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - timedelta(minutes=5))
        .next_update(now + timedelta(days=days))
    )
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(now - timedelta(minutes=1))
            .build()
        )
    return builder.sign(ca_key, hashes.SHA256())


def demo_crl_path(directory: Path) -> Path:
    return directory / "demo-ca.crl"


def _write_demo_crl(directory: Path, add: int | None = None) -> None:
    """(Re)issue the demo CA's CRL, keeping its revoked serials and adding ``add``."""
    cert_path, key_path = directory / "demo-ca.pem", directory / "demo-ca.key.pem"
    ca_key: Any = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    path = demo_crl_path(directory)
    serials: list[int] = []
    if path.exists():
        old = x509.load_pem_x509_crl(path.read_bytes())
        serials = [r.serial_number for r in old]
    if add is not None and add not in serials:
        serials.append(add)
    crl = make_crl(ca_key, ca_cert, serials, datetime.now(UTC))
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))


def demo_revoke(directory: Path, certificate: x509.Certificate) -> None:
    """Development only: put ``certificate`` on the demo CA's CRL."""
    ensure_demo_ca(directory)
    _write_demo_crl(directory, add=certificate.serial_number)


def ensure_demo_ca(directory: Path) -> tuple[Path, Path]:
    """The development demo CA (certificate, key), generated on first use, and its CRL,
    reissued when it is missing or has less than a day to run."""
    cert_path, key_path = directory / "demo-ca.pem", directory / "demo-ca.key.pem"
    if not cert_path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        key, cert = make_ca("ozg-commons DEMO CA (development only)", datetime.now(UTC))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_path.chmod(0o600)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    crl_path = demo_crl_path(directory)
    fresh = False
    if crl_path.exists():
        crl = x509.load_pem_x509_crl(crl_path.read_bytes())
        fresh = (crl.next_update_utc or datetime.min.replace(tzinfo=UTC)) > datetime.now(
            UTC
        ) + timedelta(days=1)
    if not fresh:
        _write_demo_crl(directory)
    return cert_path, key_path
