"""The read path for receipts issued before format v1 (docs/receipts.md, "Legacy formats").

Three formats were issued, each signed with Ed25519 under a key derived (HKDF-SHA256) from
``OZG_SECRET_KEY``; none is issued any more, all still verify here:

- ``ozg-erasure-receipt/1`` (account erasure): ``{"receipt", "signature", "public_key"}``,
  signed over ``json.dumps(receipt, sort_keys=True, separators=(",", ":"),
  ensure_ascii=False)``, signature base64url;
- the vault deletion receipt: ``{"receipt": {"v": 1, "type": "ozg-vault deletion receipt",
  ...}, "alg": "Ed25519", "signature"}``, signed over the same dump with ``ensure_ascii=True``;
- ``ozg-commons-receipt-signature/1`` (payments): the detached ``.sig`` of a receipt PDF,
  signed over the ASCII dump of its ``payload``, signature standard base64, and the payload's
  ``pdf_sha256`` binding the PDF.

The public key inside a legacy receipt is never trusted; the verifier names the keys it
trusts (``--legacy-key``, the JWKS, or the ones this deployment's ``OZG_SECRET_KEY`` derives).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from commons.clock import ensure_utc
from commons.encoding import b64url_decode_lenient
from commons.receipts._format import InvalidReceipt, Receipt
from commons.receipts.keys import parse_public_jwk, thumbprint

ERASURE_FORMAT = "ozg-erasure-receipt/1"
VAULT_TYPE = "ozg-vault deletion receipt"
PAYMENT_SIGNATURE_FORMAT = "ozg-commons-receipt-signature/1"
PAYMENT_PAYLOAD_FORMAT = "ozg-commons-receipt/1"

# (salt, info) of the HKDF-SHA256 derivations from OZG_SECRET_KEY, per legacy format.
_DERIVATIONS = {
    "erasure": (b"ozg-commons", b"account erasure receipt signing key v1"),
    "vault-deletion": (None, b"ozg-vault receipt v1"),
    "payment": (b"ozg-commons", b"payments receipt signing key v1"),
}


def derived_public_keys(secret: str) -> dict[str, Ed25519PublicKey]:
    """The public keys that signed a deployment's legacy receipts, by kind, from the
    ``OZG_SECRET_KEY`` they were derived from (to verify old receipts, or to publish them in
    ``OZG_RECEIPT_RETIRED_KEYS``)."""
    keys: dict[str, Ed25519PublicKey] = {}
    for kind, (salt, info) in _DERIVATIONS.items():
        seed = HKDF(hashes.SHA256(), 32, salt=salt, info=info).derive(secret.encode())
        keys[kind] = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return keys


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A legacy public key as published before v1: 32 raw bytes in base64 or base64url
    (padded or not), or an OKP public JWK. ``ValueError`` if it is none of these."""
    text = text.strip()
    if text.startswith("{"):
        return parse_public_jwk(text)
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4))
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise ValueError("not an Ed25519 public key (base64, base64url or OKP JWK)") from None


def _dump(value: Any, *, ascii_only: bool) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=ascii_only
    ).encode()


def _verify_any(keys: Iterable[Ed25519PublicKey], signature: bytes, message: bytes) -> str:
    for key in keys:
        try:
            key.verify(signature, message)
        except InvalidSignature:
            continue
        return thumbprint(key)
    raise ValueError("no trusted key verifies")


def verify_legacy(
    document: Mapping[str, Any], keys: Iterable[Ed25519PublicKey], *, pdf: bytes | None = None
) -> Receipt:
    """The receipt a legacy ``document`` attests, if one of ``keys`` signed it (``pdf``: the
    receipt PDF a payment signature file belongs to). Raises :class:`InvalidReceipt`."""
    keys = list(keys)
    try:
        if document.get("format") == PAYMENT_SIGNATURE_FORMAT:
            payload = document["payload"]
            if not isinstance(payload, dict) or payload.get("format") != PAYMENT_PAYLOAD_FORMAT:
                raise ValueError("payload format")
            signature = base64.b64decode(document["signature"], validate=True)
            kid = _verify_any(keys, signature, _dump(payload, ascii_only=True))
            if pdf is None or payload.get("pdf_sha256") != hashlib.sha256(pdf).hexdigest():
                raise ValueError("pdf")
            kind, claims, at, issuer = "payment", payload, payload["booked_at"], ""
        else:
            claims = document["receipt"]
            if not isinstance(claims, dict):
                raise ValueError("receipt")
            signature = b64url_decode_lenient(document["signature"])
            if claims.get("format") == ERASURE_FORMAT:
                kid = _verify_any(keys, signature, _dump(claims, ascii_only=False))
                kind, at, issuer = "erasure", claims["erased_at"], claims["issuer"]
            elif claims.get("type") == VAULT_TYPE and document.get("alg") == "Ed25519":
                kid = _verify_any(keys, signature, _dump(claims, ascii_only=True))
                kind, at, issuer = "vault-deletion", claims["deleted_at"], ""
            else:
                raise ValueError("not a legacy receipt")
        issued_at = ensure_utc(datetime.fromisoformat(str(at)))
    # RecursionError: claims nested nearly as deep as the parser allows, dumped from deeper
    # in the stack than they were parsed
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise InvalidReceipt() from None
    return Receipt(
        kind=kind,
        claims=MappingProxyType(dict(claims)),
        kid=kid,
        issued_at=issued_at,
        issuer=issuer,
    )
