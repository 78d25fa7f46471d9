"""Payment receipts: a PDF that embeds its signed receipt, verified offline; the legacy
PDF + detached signature vector still verifies through the legacy read path."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from commons.clock import FixedClock
from commons.receipts import InvalidReceipt, ReceiptSigner, verify
from commons.receipts.legacy import parse_public_key, verify_legacy
from payments import receipts
from payments.models import Payment
from tests import factories
from tests.payments.conftest import FLOW, ActAs, new_payment

VECTORS = Path(__file__).parent.parent / "vectors"
SEED = bytes(range(32))


def vector_payment() -> Payment:
    at = datetime(2026, 11, 28, 10, 15, tzinfo=UTC)
    return Payment(
        id="0197c3a0-0000-7000-8000-000000000001",
        kassenzeichen="1234567890123452",
        amount_cents=9800,
        refunded_cents=0,
        currency="EUR",
        state="booked",
        booked_at=at,
        updated_at=at,
        authority="tf",
        provider="sandbox",
        provider_reference="0197c3a0-0000-7000-8000-0000000000aa",
        case_reference="case-0001",
        case_hash="ab" * 32,
    )


def vector_signer() -> ReceiptSigner:
    clock = FixedClock(datetime(2030, 1, 1, tzinfo=UTC))  # not used: iat is the booking time
    return ReceiptSigner(
        Ed25519PrivateKey.from_private_bytes(SEED), "https://ozg.example", clock=clock
    )


def test_receipt_round_trip_and_determinism() -> None:
    signer = vector_signer()
    issued = receipts.issue(vector_payment(), signer)
    again = receipts.issue(vector_payment(), signer)
    assert issued.pdf == again.pdf  # deterministic bytes
    assert issued.jws == again.jws
    receipt = receipts.verify_pdf(issued.pdf, signer.jwks())
    assert receipt.kind == "payment"
    assert receipt.issued_at == datetime(2026, 11, 28, 10, 15, tzinfo=UTC)
    assert dict(receipt.claims) == issued.claims
    assert receipt.claims["kassenzeichen"] == "1234567890123452"
    assert receipt.claims["case_hash"] == "ab" * 32
    assert receipts.embedded_receipt(issued.pdf) == issued.jws
    assert verify(issued.jws, signer.jwks()).claims == receipt.claims
    with pikepdf.open(io.BytesIO(issued.pdf)) as pdf:
        meta = pdf.open_metadata()
        assert meta["dc:identifier"] == "0197c3a0-0000-7000-8000-000000000001"
        assert not pdf.is_encrypted
        assert len(pdf.pages) == 1
        content = pdf.pages[0].obj.Contents.read_bytes()
    assert hashlib.sha256(content).hexdigest() == receipt.claims["content_sha256"]
    assert b"(Kassenzeichen: 1234567890123452) Tj" in content


def test_the_published_payment_vector_is_what_the_issuer_signs() -> None:
    """tests/vectors/receipts-v1.json holds the payment receipt of this payment."""
    vectors = json.loads((VECTORS / "receipts-v1.json").read_text())
    (vector,) = [v for v in vectors["receipts"] if v["kind"] == "payment"]
    issued = receipts.issue(vector_payment(), vector_signer())
    assert issued.claims == vector["claims"]
    assert issued.jws == vector["jws"]


def _with_content(pdf: bytes, content: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.pages[0].obj.Contents.write(content)
        out = io.BytesIO()
        document.save(out)
    return out.getvalue()


def _with_attachment(pdf: bytes, data: bytes | None) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        del document.attachments[receipts.ATTACHMENT]
        if data is not None:
            document.attachments[receipts.ATTACHMENT] = pikepdf.AttachedFileSpec(document, data)
        out = io.BytesIO()
        document.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "defect", ["amount", "content", "jws", "no-jws", "other-key", "other-kind", "garbage", "pages"]
)
def test_tampered_receipt_pdfs_are_rejected(defect: str) -> None:
    signer = vector_signer()
    issued = receipts.issue(vector_payment(), signer)
    pdf, jwks = issued.pdf, signer.jwks()
    content = receipts.render_content(receipts.data_of(vector_payment()))
    if defect == "amount":  # the visible amount changed, the JWS left alone
        pdf = _with_content(pdf, content.replace(b"98.00 EUR", b"9.80 EUR"))
    elif defect == "content":  # anything drawn in addition
        pdf = _with_content(pdf, content + b" BT (paid twice) Tj ET")
    elif defect == "jws":
        pdf = _with_attachment(pdf, issued.jws[:-2].encode() + b"AA")
    elif defect == "no-jws":
        pdf = _with_attachment(pdf, None)
    elif defect == "other-key":
        jwks = ReceiptSigner(Ed25519PrivateKey.generate(), "https://ozg.example").jwks()
    elif defect == "other-kind":  # a valid receipt of another kind, embedded
        other = signer.sign("erasure", dict(issued.claims), issued_at=datetime.now(UTC))
        pdf = _with_attachment(pdf, other.encode())
    elif defect == "garbage":
        pdf = b"%PDF-1.7 not really"
    elif defect == "pages":
        with pikepdf.open(io.BytesIO(pdf)) as document:
            document.add_blank_page()
            out = io.BytesIO()
            document.save(out)
        pdf = out.getvalue()
    with pytest.raises(InvalidReceipt, match=r"^the receipt does not verify$"):
        receipts.verify_pdf(pdf, jwks)


def test_legacy_receipt_vector_still_verifies() -> None:
    """tests/vectors/payments/receipt-v1.*: the PDF + detached signature issued before the
    one receipt format verifies through the legacy read path, and only with its PDF."""
    pdf = (VECTORS / "payments" / "receipt-v1.pdf").read_bytes()
    sig = json.loads((VECTORS / "payments" / "receipt-v1.pdf.sig").read_bytes())
    expected = json.loads((VECTORS / "payments" / "receipt-v1.json").read_text())
    key = Ed25519PrivateKey.from_private_bytes(SEED).public_key()
    assert parse_public_key(expected["public_key"]).public_bytes_raw() == key.public_bytes_raw()
    receipt = verify_legacy(sig, [key], pdf=pdf)
    assert receipt.kind == "payment"
    assert dict(receipt.claims) == expected["payload"]
    for forged_pdf, document, keys in (
        (pdf + b"%x", sig, [key]),
        (pdf, {**sig, "payload": {**sig["payload"], "amount_cents": 1}}, [key]),
        (pdf, sig, [Ed25519PrivateKey.generate().public_key()]),
        (pdf, {**sig, "format": "ozg-commons-receipt-signature/2"}, [key]),
    ):
        with pytest.raises(InvalidReceipt):
            verify_legacy(document, keys, pdf=forged_pdf)
    with pytest.raises(InvalidReceipt):
        verify_legacy(sig, [key])  # a payment signature binds a PDF: without it, no receipt


def test_receipt_over_http(client: TestClient, act_as: ActAs) -> None:
    payment = new_payment(client, act_as)
    act_as(FLOW)
    assert client.get(f"/v1/payments/{payment['id']}/receipt").status_code == 409  # not booked
    page = str(payment["payment_url"]).removeprefix("http://127.0.0.1:8000")
    client.post(page, data={"action": "success"}, follow_redirects=False)
    act_as(factories.applicant("applicant-subject-1"))
    pdf = client.get(f"/v1/payments/{payment['id']}/receipt")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    jws = client.get(f"/v1/payments/{payment['id']}/receipt.jws")
    assert jws.headers["content-type"] == "application/jose"
    assert receipts.embedded_receipt(pdf.content) == jws.text
    jwks = client.get("/v1/receipts/keys").json()
    receipt = receipts.verify_pdf(pdf.content, jwks)
    assert receipt.claims["kassenzeichen"] == payment["kassenzeichen"]
    assert receipt.kid == jwks["keys"][0]["kid"]
