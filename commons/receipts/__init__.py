"""Receipts: every receipt ozg-commons issues is signed and verified here.

One versioned format (v1: a JWS compact, EdDSA/Ed25519, over an RFC 8785 canonical-JSON
payload with one ``typ`` per kind; docs/receipts.md), one signing key
(``OZG_RECEIPT_SIGNING_KEY``) with retired keys that still verify, one public key set
(``GET /v1/receipts/keys``) and one opaque error.

    signer = load_signer(settings)
    token = signer.sign("erasure", {...claims...})
    receipt = verify(token, signer.jwks())      # or any published JWKS

Receipts issued before v1 are read by :mod:`commons.receipts.legacy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commons.faces import lazy_face

if TYPE_CHECKING:
    from commons.receipts._format import KINDS, InvalidReceipt, Receipt, ReceiptSigner, verify
    from commons.receipts._load import load_signer

__all__ = [
    "KINDS",
    "InvalidReceipt",
    "Receipt",
    "ReceiptSigner",
    "load_signer",
    "verify",
]
__getattr__ = lazy_face(
    __name__,
    {
        "InvalidReceipt": "commons.receipts._format",
        "KINDS": "commons.receipts._format",
        "Receipt": "commons.receipts._format",
        "ReceiptSigner": "commons.receipts._format",
        "load_signer": "commons.receipts._load",
        "verify": "commons.receipts._format",
    },
)
