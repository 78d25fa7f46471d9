"""PDF receipts with a detached Ed25519 signature, verified offline; the test vector."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.cli import app as cli_app
from payments import receipts
from payments.errors import InvalidReceipt
from payments.models import Payment
from tests import factories
from tests.payments.conftest import FLOW, ActAs, new_payment

VECTORS = Path(__file__).parent.parent / "vectors" / "payments"
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


def test_receipt_round_trip_and_determinism() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    issued = receipts.issue(vector_payment(), key)
    again = receipts.issue(vector_payment(), key)
    assert issued.pdf == again.pdf  # deterministic bytes
    payload = receipts.verify(issued.pdf, issued.signature_file, key.public_key())
    assert payload["kassenzeichen"] == "1234567890123452"
    assert payload["case_hash"] == "ab" * 32
    with pikepdf.open(__import__("io").BytesIO(issued.pdf)) as pdf:
        meta = pdf.open_metadata()
        assert meta["dc:identifier"] == "0197c3a0-0000-7000-8000-000000000001"
        assert not pdf.is_encrypted
        assert len(pdf.pages) == 1


def test_receipt_test_vector() -> None:
    """tests/vectors/payments/receipt-v1.*: the documented test vector still verifies and
    the implementation still produces it byte for byte."""
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    pdf = (VECTORS / "receipt-v1.pdf").read_bytes()
    sig = (VECTORS / "receipt-v1.pdf.sig").read_bytes()
    expected = json.loads((VECTORS / "receipt-v1.json").read_text())
    assert receipts.verify(pdf, sig, key.public_key()) == expected["payload"]
    issued = receipts.issue(vector_payment(), key)
    # The PDF bytes depend on the pikepdf/qpdf version; the payload apart from its hash must not.
    assert {k: v for k, v in issued.payload.items() if k != "pdf_sha256"} == {
        k: v for k, v in expected["payload"].items() if k != "pdf_sha256"
    }
    assert receipts.canonical(expected["payload"]).decode() == expected["canonical"]
    assert receipts.public_key_b64(key.public_key()) == expected["public_key"]


@pytest.mark.parametrize("defect", ["pdf", "payload", "signature", "key", "format", "garbage"])
def test_tampered_receipts_are_rejected(defect: str) -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    issued = receipts.issue(vector_payment(), key)
    pdf, sig = issued.pdf, issued.signature_file
    trusted = key.public_key()
    document = json.loads(sig)
    if defect == "pdf":
        pdf = pdf.replace(b"9800", b"9900") if b"9800" in pdf else pdf + b"%x"
    elif defect == "payload":
        document["payload"]["amount_cents"] = 1
    elif defect == "signature":
        raw = bytearray(base64.b64decode(document["signature"]))
        raw[0] ^= 1
        document["signature"] = base64.b64encode(bytes(raw)).decode()
    elif defect == "key":
        trusted = Ed25519PrivateKey.generate().public_key()
    elif defect == "format":
        document["format"] = "ozg-commons-receipt-signature/2"
    if defect != "garbage":
        sig = json.dumps(document).encode()
    else:
        sig = b"{not json"
    with pytest.raises(InvalidReceipt):
        receipts.verify(pdf, sig, trusted)


def test_receipt_over_http_and_cli_verify(
    client: TestClient, act_as: ActAs, tmp_path: Path
) -> None:
    payment = new_payment(client, act_as)
    act_as(FLOW)
    assert client.get(f"/v1/payments/{payment['id']}/receipt").status_code == 409  # not booked
    page = str(payment["payment_url"]).removeprefix("http://127.0.0.1:8000")
    client.post(page, data={"action": "success"}, follow_redirects=False)
    act_as(factories.applicant("applicant-subject-1"))
    pdf = client.get(f"/v1/payments/{payment['id']}/receipt")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    sig = client.get(f"/v1/payments/{payment['id']}/receipt.sig")
    (tmp_path / "r.pdf").write_bytes(pdf.content)
    (tmp_path / "r.pdf.sig").write_bytes(sig.content)
    public = json.loads(sig.content)["public_key"]
    runner = CliRunner()
    ok = runner.invoke(
        cli_app, ["receipt", "verify", str(tmp_path / "r.pdf"), "--public-key", public]
    )
    assert ok.exit_code == 0, ok.output
    assert payment["kassenzeichen"] in ok.output
    (tmp_path / "r.pdf").write_bytes(pdf.content + b"\n")
    bad = runner.invoke(
        cli_app, ["receipt", "verify", str(tmp_path / "r.pdf"), "--public-key", public]
    )
    assert bad.exit_code == 1
    # the deployment's own key is the default trusted key
    ok_default = runner.invoke(
        cli_app,
        ["receipt", "verify", str(tmp_path / "x.pdf"), "--signature", str(tmp_path / "r.pdf.sig")],
    )
    assert ok_default.exit_code == 1  # missing file: invalid, not a crash
    key = runner.invoke(cli_app, ["receipt", "public-key"])
    assert key.exit_code == 0
    assert key.output.strip() == public
