"""Payment receipts: a PDF that carries its own signed receipt, checkable offline.

The PDF is written with pikepdf (one A4 page, standard Helvetica, XMP metadata, a
deterministic document id, no encryption, no scripts), so the same payment always yields the
same bytes. Its visible text is one content stream rendered from the payment's fields
(:func:`render_content`). The signed receipt is a ``commons.receipts`` receipt of kind
``payment`` whose claims are those fields plus ``content_sha256``, the SHA-256 of that
content stream; the PDF embeds it as the file ``receipt.jws``. Verifying a PDF
(:func:`verify_pdf`) checks the JWS, that the page's content stream has the attested hash,
that it is exactly what the attested fields render to, and that the title and identifier
metadata name the attested payment. Specified in docs/receipts.md.

Receipts issued before (a PDF plus a detached ``ozg-commons-receipt-signature/1`` file) are
read by ``commons.receipts.legacy``.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import pikepdf

from commons.receipts import InvalidReceipt, Receipt, ReceiptSigner, verify
from payments.errors import PaymentConflict
from payments.fees import format_cents
from payments.models import Payment
from payments.states import PAID_STATES, PaymentState

RECEIPT_KIND = "payment"
ATTACHMENT = "receipt.jws"
MEDIA_TYPE = "application/jose"


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
    jws: str
    claims: dict[str, Any]


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


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _pdf_text(value: str) -> bytes:
    encoded = value.encode("cp1252", errors="replace")
    return encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def render_content(data: ReceiptData) -> bytes:
    """The page's content stream (uncompressed): everything the receipt shows."""
    lines = [
        "Quittung / Payment receipt",
        "",
        f"Kassenzeichen: {data.kassenzeichen}",
        f"Betrag / Amount: {format_cents(data.amount_cents)} {data.currency}",
        f"Gebucht am / Booked at: {_iso(data.booked_at)}",
        f"Behoerde / Authority: {data.authority}",
        f"Zahlungsdienst / Provider: {data.provider} {data.provider_reference}",
        f"Vorgang / Case: {data.case_reference}",
        f"Vorgangs-Hash / Case hash: {data.case_hash[:64]}",
        f"Zahlung / Payment: {data.payment_id}",
        "",
        f"Signed receipt embedded ({ATTACHMENT}); verify: ozg-commons receipt verify FILE",
    ]
    content = b"BT /F1 11 Tf 14 TL 56 780 Td "
    for index, line in enumerate(lines):
        font = b"/F1 16 Tf " if index == 0 else b"/F1 11 Tf "
        content += font + b"(" + _pdf_text(line) + b") Tj T* "
    return content + b"ET"


def claims_of(data: ReceiptData) -> dict[str, Any]:
    """What the signed receipt attests: the payment's fields and the content's hash."""
    claims = asdict(data)
    claims["booked_at"] = _iso(data.booked_at)
    claims["content_sha256"] = hashlib.sha256(render_content(data)).hexdigest()
    return claims


def render_pdf(data: ReceiptData, jws: str) -> bytes:
    """One page showing ``data``, with ``jws`` embedded; deterministic bytes."""
    booked = _iso(data.booked_at)
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
    page.obj.Contents = pdf.make_stream(render_content(data))
    pdf.attachments[ATTACHMENT] = pikepdf.AttachedFileSpec(
        pdf,
        jws.encode("ascii"),
        description="The signed receipt (JWS compact; docs/receipts.md)",
        filename=ATTACHMENT,
        mime_type=MEDIA_TYPE,
    )
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


def issue(payment: Payment, signer: ReceiptSigner) -> IssuedReceipt:
    """The receipt of a booked payment; issued at its booking time, so the same payment
    always gives the same JWS and the same PDF."""
    data = data_of(payment)
    claims = claims_of(data)
    jws = signer.sign(RECEIPT_KIND, claims, issued_at=data.booked_at)
    return IssuedReceipt(pdf=render_pdf(data, jws), jws=jws, claims=claims)


def embedded_receipt(pdf: bytes) -> str:
    """The JWS a receipt PDF carries; :class:`InvalidReceipt` if it carries none."""
    try:
        with pikepdf.open(io.BytesIO(pdf)) as document:
            return str(document.attachments[ATTACHMENT].get_file().read_bytes().decode("ascii"))
    except (pikepdf.PdfError, KeyError, ValueError, AttributeError, TypeError):
        raise InvalidReceipt() from None


def _shown(pdf: bytes, data: ReceiptData) -> bytes:
    """The page's content stream, after checking the metadata a viewer shows (title,
    identifier) names the attested payment."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        if len(document.pages) != 1:
            raise ValueError("not one page")
        meta = document.open_metadata()
        if meta.get("dc:title") != f"Quittung {data.kassenzeichen}" or meta.get(
            "dc:identifier"
        ) != (data.payment_id):
            raise ValueError("metadata")
        contents = document.pages[0].obj.Contents
        if not isinstance(contents, pikepdf.Stream):
            raise ValueError("not one content stream")
        return bytes(contents.read_bytes())


def verify_pdf(pdf: bytes, jwks: Mapping[str, Any]) -> Receipt:
    """Check a receipt PDF offline: its embedded JWS against ``jwks``, and that its one page
    shows exactly what the JWS attests. Raises :class:`InvalidReceipt` for every defect."""
    receipt = verify(embedded_receipt(pdf), jwks)
    try:
        if receipt.kind != RECEIPT_KIND:
            raise ValueError("kind")
        claims = dict(receipt.claims)
        attested = claims.pop("content_sha256")
        data = ReceiptData(**{**claims, "booked_at": datetime.fromisoformat(claims["booked_at"])})
        content = _shown(pdf, data)
        if hashlib.sha256(content).hexdigest() != attested or content != render_content(data):
            raise ValueError("content")
    except (pikepdf.PdfError, ValueError, KeyError, TypeError):
        raise InvalidReceipt() from None
    return receipt
