"""Destination keys, checked as FIT-Connect requires before anything is encrypted to them.

A destination publishes an **encryption key** (``key_ops ["wrapKey"]``, ``alg``
RSA-OAEP-256) and a **signature key** for the events it issues (``key_ops ["verify"]``,
``alg`` PS512), both as JWK with an ``x5c`` chain. :func:`validate_destination_key` accepts
one only if every rule holds:

1. a public RSA JWK (no private members), ``kty`` RSA, ``e`` = ``AQAB``, ``n`` ≥ 4096 bits;
2. ``key_ops`` exactly ``[purpose]`` and ``alg`` the purpose's algorithm (``use``, if given,
   ``enc`` or ``sig``); ``kid``, if given, 8 to 64 characters and equal to ``expected_kid``;
3. ``x5c[0]`` certifies exactly this ``n``/``e``; every certificate is valid now; the chain
   leads to a **pinned** anchor (a root shipped in ``x5c`` counts only if it is one of the
   anchors, by fingerprint); the leaf's KeyUsage allows keyEncipherment (encryption) or
   digitalSignature (signature) — :func:`vault.pki.validate_chain`;
4. no certificate of the chain is revoked, by a current CRL of its issuer
   (:class:`vault.revocation.RevocationChecker`, fail closed);
5. the leaf names the authority: its SubjectAlternativeName holds exactly one URI
   ``urn:ozg-commons:authority:<authority id>`` (:data:`AUTHORITY_URN_PREFIX`), and it is
   the expected authority's.

``allow_self_signed=True`` accepts a self-signed leaf as its own anchor (FIT-Connect's test
environment has no administration PKI; the Java SDK's ``allow-insecure-public-key``). It is
for tests and local development only: production must refuse it, and it logs a warning.
Rules 1, 2 and 5 still apply; there is no issuer, hence no CRL to check.

:class:`~gateway.fitconnect.errors.InvalidDestinationKey` says which rule failed: this is a
configuration check on a key an operator registers or a sender fetches, not an oracle an
attacker can query about secrets.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import rsa

from commons.encoding import b64url_decode
from gateway.fitconnect.errors import InvalidDestinationKey
from vault import (
    InvalidKey,
    RevocationChecker,
    RevocationUnknown,
    chain_of,
    key_id,
    public_jwk,
    public_key_from_jwk,
    validate_chain,
)

log = logging.getLogger(__name__)

MIN_BITS = 4096
MAX_BITS = 8192
AUTHORITY_URN_PREFIX = "urn:ozg-commons:authority:"
Purpose = Literal["wrapKey", "verify"]
ALG_FOR: dict[str, str] = {"wrapKey": "RSA-OAEP-256", "verify": "PS512"}
_USE_FOR = {"wrapKey": "enc", "verify": "sig"}
_KEY_USAGE_FOR = {"wrapKey": "key_encipherment", "verify": "digital_signature"}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth")


@dataclass(frozen=True, slots=True)
class DestinationKey:
    """A destination key that passed every rule."""

    kid: str
    purpose: Purpose
    authority: str
    public_key: rsa.RSAPublicKey
    jwk: dict[str, Any]  # public members, alg, key_ops, kid, x5c: what to publish
    not_after: datetime
    chain: tuple[x509.Certificate, ...]


def authority_urn(authority: str) -> str:
    """The SubjectAlternativeName URI that binds a certificate to ``authority``."""
    if not authority or any(c.isspace() for c in authority):
        raise ValueError("an authority id is non-empty and has no spaces")
    return AUTHORITY_URN_PREFIX + authority


def kid_for(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint (SHA-256, base64url) of a public RSA JWK: our destinations' kid."""
    return key_id(_rsa_public(jwk))


def destination_public_key(jwk: Mapping[str, Any]) -> tuple[rsa.RSAPublicKey, str]:
    """The RSA public key to wrap to and the kid to name it by (the JWK's, else its thumbprint).

    Only the shape is checked (RSA, 4096 to 8192 bits); the full rules are
    :func:`validate_destination_key`'s.
    """
    key = _rsa_public(jwk)
    kid = jwk.get("kid") or key_id(key)
    if not isinstance(kid, str):
        raise InvalidDestinationKey("kid must be a string")
    return key, kid


def _rsa_public(jwk: Mapping[str, Any]) -> rsa.RSAPublicKey:
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA":
        raise InvalidDestinationKey("kty must be RSA")
    try:
        b64url_decode(str(jwk.get("n", ""))), b64url_decode(str(jwk.get("e", "")))
        key = public_key_from_jwk(dict(jwk))
    except ValueError as exc:
        raise InvalidDestinationKey("n and e must be canonical base64url") from exc
    if not isinstance(key, rsa.RSAPublicKey) or not MIN_BITS <= key.key_size <= MAX_BITS:
        raise InvalidDestinationKey(f"the RSA modulus must have {MIN_BITS} to {MAX_BITS} bits")
    return key


def validate_destination_key(
    jwk: Mapping[str, Any],
    *,
    authority: str,
    anchors: list[x509.Certificate],
    revocation: RevocationChecker,
    now: datetime,
    purpose: Purpose = "wrapKey",
    expected_kid: str | None = None,
    allow_self_signed: bool = False,
) -> DestinationKey:
    """Accept ``jwk`` as ``authority``'s ``purpose`` key only if every rule holds (module doc)."""
    if purpose not in ALG_FOR:
        raise ValueError("purpose is wrapKey or verify")
    if not isinstance(jwk, Mapping):
        raise InvalidDestinationKey("the key must be a JWK object")
    if any(m in jwk for m in _PRIVATE_MEMBERS):
        raise InvalidDestinationKey("this is a private key; publish the public key only")
    if jwk.get("kty") != "RSA":
        raise InvalidDestinationKey("kty must be RSA")
    if jwk.get("key_ops") != [purpose]:
        raise InvalidDestinationKey(f'key_ops must be exactly ["{purpose}"]')
    if jwk.get("alg") != ALG_FOR[purpose]:
        raise InvalidDestinationKey(f"alg must be {ALG_FOR[purpose]}")
    if "use" in jwk and jwk["use"] != _USE_FOR[purpose]:
        raise InvalidDestinationKey(f"use, if given, must be {_USE_FOR[purpose]}")
    if jwk.get("e") != "AQAB":
        raise InvalidDestinationKey("e must be AQAB (65537)")
    key = _rsa_public(jwk)
    kid = jwk.get("kid")
    if kid is not None and not (isinstance(kid, str) and 8 <= len(kid) <= 64):
        raise InvalidDestinationKey("kid must be a string of 8 to 64 characters")
    kid = kid or key_id(key)
    if expected_kid is not None and kid != expected_kid:
        raise InvalidDestinationKey("kid is not the destination's announced key id")

    plain = dict(jwk)
    self_signed = False
    try:
        if allow_self_signed:
            leaf = _self_signed_leaf(plain)
            if leaf is not None:
                log.warning(
                    "UNSAFE: accepting the self-signed %s key of %s (test-only switch)",
                    purpose,
                    authority,
                )
                anchors, self_signed = [leaf], True
        chain = validate_chain(plain, key, anchors, now, key_usage=_KEY_USAGE_FOR[purpose])
        _check_binding(chain[0], authority)
        if not self_signed:  # a self-signed key is its own anchor: no issuer, no CRL
            revocation.check_chain(chain, now)
    except (InvalidKey, RevocationUnknown) as exc:
        raise InvalidDestinationKey(exc.detail) from exc
    published = {
        **public_jwk(key),
        "kid": kid,
        "alg": ALG_FOR[purpose],
        "key_ops": [purpose],
        "x5c": list(plain["x5c"]),
    }
    return DestinationKey(
        kid=kid,
        purpose=purpose,
        authority=authority,
        public_key=key,
        jwk=published,
        not_after=min(c.not_valid_after_utc for c in chain),
        chain=tuple(chain),
    )


def _self_signed_leaf(jwk: dict[str, Any]) -> x509.Certificate | None:
    chain = chain_of(jwk)
    leaf = chain[0]
    if len(chain) != 1 or leaf.issuer != leaf.subject:
        return None
    try:
        leaf.verify_directly_issued_by(leaf)
    except (ValueError, TypeError, InvalidSignature):
        return None
    return leaf


def _check_binding(leaf: x509.Certificate, authority: str) -> None:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise InvalidKey(
            f"the certificate names no authority (SAN URI {AUTHORITY_URN_PREFIX}<id>)"
        ) from None
    named = [
        uri
        for uri in san.get_values_for_type(x509.UniformResourceIdentifier)
        if uri.startswith(AUTHORITY_URN_PREFIX)
    ]
    if len(named) != 1:
        raise InvalidKey(f"the certificate must name exactly one authority ({len(named)} found)")
    if named[0] != authority_urn(authority):
        raise InvalidKey("the certificate names another authority")


__all__ = [
    "ALG_FOR",
    "AUTHORITY_URN_PREFIX",
    "MIN_BITS",
    "DestinationKey",
    "authority_urn",
    "destination_public_key",
    "kid_for",
    "validate_destination_key",
]
