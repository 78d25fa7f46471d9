"""Receipt keys in their text forms (RFC 8037 OKP JWKs) and their RFC 7638 ``kid``s.

A signing key is written as an OKP private JWK, ``{"crv":"Ed25519","d":"...","kty":"OKP"}``
(``x`` and ``kid`` may be present; then they must match ``d``). A public key, as in the
JWKS and in ``OZG_RECEIPT_RETIRED_KEYS``, is an OKP public JWK, ``{"crv":"Ed25519",
"kty":"OKP","x":"..."}`` (``kid``, ``alg``, ``use`` may be present and must then agree).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from commons.encoding import b64url_decode, b64url_encode, canonical_json

ALG = "EdDSA"
MISSING_KEY = (
    "OZG_RECEIPT_SIGNING_KEY is not set; create one with `ozg-commons receipt keygen` "
    "and set its output (an Ed25519 OKP private JWK)"
)
_PRIVATE_MEMBERS = {"kty", "crv", "d", "x", "kid"}
_PUBLIC_MEMBERS = {"kty", "crv", "x", "kid", "alg", "use"}


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of the OKP key: the receipt ``kid``."""
    required = {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(public_key.public_bytes_raw())}
    return b64url_encode(hashlib.sha256(canonical_json(required)).digest())


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The JWKS entry of a receipt key."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(public_key.public_bytes_raw()),
        "kid": thumbprint(public_key),
        "alg": ALG,
        "use": "sig",
    }


def private_jwk_text(private_key: Ed25519PrivateKey) -> str:
    """The text form of a signing key (for ``OZG_RECEIPT_SIGNING_KEY``)."""
    public = private_key.public_key()
    jwk = {
        "crv": "Ed25519",
        "d": b64url_encode(private_key.private_bytes_raw()),
        "kid": thumbprint(public),
        "kty": "OKP",
        "x": b64url_encode(public.public_bytes_raw()),
    }
    return canonical_json(jwk).decode()


def generate_private_jwk_text() -> str:
    """A new signing key in its text form (what ``ozg-commons receipt keygen`` prints)."""
    return private_jwk_text(Ed25519PrivateKey.generate())


def _object(text: str | dict[str, Any]) -> dict[str, Any]:
    value = json.loads(text) if isinstance(text, str) else text
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def parse_private_jwk(text: str) -> Ed25519PrivateKey:
    """A signing key from its text form; ``ValueError`` (naming no key material) if not one."""
    try:
        jwk = _object(text)
        if set(jwk) - _PRIVATE_MEMBERS or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise ValueError("not an Ed25519 OKP JWK")
        seed = b64url_decode(jwk["d"])
        if len(seed) != 32:
            raise ValueError("d is not 32 bytes")
        key = Ed25519PrivateKey.from_private_bytes(seed)
        public = key.public_key()
        if "x" in jwk and jwk["x"] != b64url_encode(public.public_bytes_raw()):
            raise ValueError("x does not belong to d")
        if "kid" in jwk and jwk["kid"] != thumbprint(public):
            raise ValueError("kid is not the key's RFC 7638 thumbprint")
    except (ValueError, KeyError, TypeError):
        raise ValueError("not an Ed25519 private key as an OKP JWK") from None
    return key


def parse_public_jwk(value: str | dict[str, Any]) -> Ed25519PublicKey:
    """A public receipt key from a JWK (text or object); ``ValueError`` if not one, if it
    carries private members, or if its ``kid``/``alg``/``use`` disagree with it."""
    try:
        jwk = _object(value)
        if set(jwk) - _PUBLIC_MEMBERS or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise ValueError("not an Ed25519 OKP public JWK")
        raw = b64url_decode(jwk["x"])
        if len(raw) != 32:
            raise ValueError("x is not 32 bytes")
        key = Ed25519PublicKey.from_public_bytes(raw)
        if jwk.get("alg", ALG) != ALG or jwk.get("use", "sig") != "sig":
            raise ValueError("not a signature key for EdDSA")
        if "kid" in jwk and jwk["kid"] != thumbprint(key):
            raise ValueError("kid is not the key's RFC 7638 thumbprint")
    except (ValueError, KeyError, TypeError):
        raise ValueError("not an Ed25519 public key as an OKP JWK") from None
    return key
