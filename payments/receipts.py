"""Payment receipts: a PDF plus a detached Ed25519 signature that anyone can check offline.

The PDF is written with pikepdf (one A4 page, standard Helvetica, XMP metadata, a
deterministic document id, no encryption, no scripts), so the same payment always yields the
same bytes. The signature file is JSON (format ``ozg-commons-receipt-signature/1``) holding
the canonical receipt payload (format ``ozg-commons-receipt/1``), which binds the payment,
the case hash and the SHA-256 of the PDF, and the Ed25519 signature over the payload's
canonical bytes. The format is specified in docs/payments.md.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pikepdf
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from payments.errors import InvalidReceipt, PaymentConflict
from payments.fees import format_cents
from payments.models import Payment
from payments.states import PAID_STATES, PaymentState

PAYLOAD_FORMAT = "ozg-commons-receipt/1"
SIGNATURE_FORMAT = "ozg-commons-receipt-signature/1"


@dataclass(frozen=True, slots=True)
class ReceiptData:
    payment_id: str
    kassenzeichen: str
    amount_cents: int
    currency: str
    booked_at: datetime
    authority: str
    provider: str
    provider_reference: str
    case_reference: str
    case_hash: str


@dataclass(frozen=True, slots=True)
class IssuedReceipt:
    pdf: bytes
    signature_file: bytes
    payload: dict[str, Any]


def canonical(payload: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, ASCII only: the bytes that are signed."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_b64(public_key: Ed25519PublicKey) -> str:
    return base64.b64encode(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def data_of(payment: Payment) -> ReceiptData:
    if PaymentState(payment.state) not in PAID_STATES or payment.booked_at is None:
        raise PaymentConflict("a receipt exists only for a booked payment")
    return ReceiptData(
        payment_id=payment.id,
        kassenzeichen=payment.kassenzeichen,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        booked_at=payment.booked_at,
        authority=payment.authority,
        provider=payment.provider,
        provider_reference=payment.provider_reference or "",
        case_reference=payment.case_reference or "",
        case_hash=payment.case_hash or "",
    )


def _pdf_text(value: str) -> bytes:
    encoded = value.encode("cp1252", errors="replace")
    return encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def render_pdf(data: ReceiptData) -> bytes:
    """One page, deterministic bytes for the same data."""
    booked = data.booked_at.isoformat().replace("+00:00", "Z")
    lines = [
        "Quittung / Payment receipt",
        "",
        f"Kassenzeichen: {data.kassenzeichen}",
        f"Betrag / Amount: {format_cents(data.amount_cents)} {data.currency}",
        f"Gebucht am / Booked at: {booked}",
        f"Behoerde / Authority: {data.authority}",
        f"Zahlungsdienst / Provider: {data.provider} {data.provider_reference}",
        f"Vorgang / Case: {data.case_reference}",
        f"Vorgangs-Hash / Case hash: {data.case_hash[:64]}",
        f"Zahlung / Payment: {data.payment_id}",
        "",
        "Signed with Ed25519; verify: ozg-commons receipt verify FILE --signature FILE.sig",
    ]
    content = b"BT /F1 11 Tf 14 TL 56 780 Td "
    for index, line in enumerate(lines):
        font = b"/F1 16 Tf " if index == 0 else b"/F1 11 Tf "
        content += font + b"(" + _pdf_text(line) + b") Tj T* "
    content += b"ET"

    pdf = pikepdf.Pdf.new()
    helvetica = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    page = pdf.add_blank_page(page_size=(595, 842))
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=helvetica))
    page.obj.Contents = pdf.make_stream(content)
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:title"] = f"Quittung {data.kassenzeichen}"
        meta["dc:identifier"] = data.payment_id
        meta["dc:language"] = ["de", "en"]
        meta["xmp:CreateDate"] = booked
        meta["xmp:ModifyDate"] = booked
        meta["xmp:CreatorTool"] = "ozg-commons payments"
        meta["pdf:Producer"] = "ozg-commons payments (pikepdf)"
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, compress_streams=True)
    return out.getvalue()


def payload_of(data: ReceiptData, pdf: bytes) -> dict[str, Any]:
    return {
        "format": PAYLOAD_FORMAT,
        "payment_id": data.payment_id,
        "kassenzeichen": data.kassenzeichen,
        "amount_cents": data.amount_cents,
        "currency": data.currency,
        "booked_at": data.booked_at.isoformat().replace("+00:00", "Z"),
        "authority": data.authority,
        "provider": data.provider,
        "provider_reference": data.provider_reference,
        "case_reference": data.case_reference,
        "case_hash": data.case_hash,
        "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
    }


def sign(payload: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """The detached signature file for ``payload``."""
    public = key.public_key()
    document = {
        "format": SIGNATURE_FORMAT,
        "payload": payload,
        "key_id": key_id(public),
        "public_key": public_key_b64(public),
        "signature": base64.b64encode(key.sign(canonical(payload))).decode(),
    }
    return json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"


def issue(payment: Payment, key: Ed25519PrivateKey) -> IssuedReceipt:
    data = data_of(payment)
    pdf = render_pdf(data)
    payload = payload_of(data, pdf)
    return IssuedReceipt(pdf=pdf, signature_file=sign(payload, key), payload=payload)


def verify(pdf: bytes, signature_file: bytes, trusted_key: Ed25519PublicKey) -> dict[str, Any]:
    """Check a receipt offline against a trusted public key; returns the payload.

    Raises :class:`InvalidReceipt` for every defect: malformed file, unknown format, other
    key, PDF not the one signed, bad signature.
    """
    try:
        document = json.loads(signature_file)
        if document.get("format") != SIGNATURE_FORMAT:
            raise ValueError("format")
        payload = document["payload"]
        if not isinstance(payload, dict) or payload.get("format") != PAYLOAD_FORMAT:
            raise ValueError("payload format")
        if document.get("key_id") != key_id(trusted_key):
            raise ValueError("key")
        signature = base64.b64decode(document["signature"], validate=True)
        trusted_key.verify(signature, canonical(payload))
        if payload.get("pdf_sha256") != hashlib.sha256(pdf).hexdigest():
            raise ValueError("pdf")
    except (ValueError, KeyError, TypeError, InvalidSignature):
        raise InvalidReceipt("the receipt does not verify") from None
    return payload


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key from its base64 raw form (as printed by ``receipt public-key``)."""
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except ValueError:
        raise InvalidReceipt("not an Ed25519 public key") from None
