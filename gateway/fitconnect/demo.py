"""Demo and test keys for FIT-Connect destinations: a CA and an authority's two key pairs.

Built on :func:`vault.pki.make_ca` and :func:`vault.pki.issue_authority_key`; the leaf
certificates carry the authority binding (SAN URI ``urn:ozg-commons:authority:<id>``).
Development and tests only: a production authority's keys come from the administration PKI.
RSA-4096 generation takes a second or two: pass ``encryption_key``/``signing_key`` to reuse
keys (tests cache them per session).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gateway.fitconnect.keys import authority_urn, kid_for
from vault import issue_authority_key, make_ca, public_jwk

__all__ = ["DemoAuthority", "make_ca", "make_demo_authority", "make_self_signed_key"]


@dataclass(frozen=True, slots=True)
class DemoAuthority:
    authority: str
    encryption_key: rsa.RSAPrivateKey
    encryption_jwk: dict[str, Any]
    signing_key: rsa.RSAPrivateKey
    signing_jwk: dict[str, Any]


def make_demo_authority(
    ca_key: rsa.RSAPrivateKey,
    ca_cert: x509.Certificate,
    authority: str,
    now: datetime,
    *,
    encryption_key: rsa.RSAPrivateKey | None = None,
    signing_key: rsa.RSAPrivateKey | None = None,
    days: int = 365,
) -> DemoAuthority:
    """An authority's encryption (RSA-OAEP-256) and event-signing (PS512) keys, certified by
    the CA, each JWK with ``kid`` = its RFC 7638 thumbprint."""
    uris = [authority_urn(authority)]
    enc_key, enc_jwk = issue_authority_key(
        ca_key, ca_cert, authority, now, days=days, san_uris=uris, key=encryption_key
    )
    sig_key, sig_jwk = issue_authority_key(
        ca_key, ca_cert, authority, now, days=days, san_uris=uris, key=signing_key,
        purpose="verify",
    )  # fmt: skip
    return DemoAuthority(
        authority=authority,
        encryption_key=enc_key,
        encryption_jwk={**enc_jwk, "kid": kid_for(enc_jwk)},
        signing_key=sig_key,
        signing_jwk={**sig_jwk, "kid": kid_for(sig_jwk)},
    )


def make_self_signed_key(
    key: rsa.RSAPrivateKey,
    authority: str,
    now: datetime,
    *,
    purpose: str = "wrapKey",
    days: int = 365,
) -> dict[str, Any]:
    """A JWK whose ``x5c`` is one self-signed certificate (FIT-Connect's test environment)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{authority} (self-signed)")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(authority_urn(authority))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    alg = "PS512" if purpose == "verify" else "RSA-OAEP-256"
    jwk: dict[str, Any] = {**public_jwk(key.public_key()), "alg": alg, "key_ops": [purpose]}
    jwk["x5c"] = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    jwk["kid"] = kid_for(jwk)
    return jwk
