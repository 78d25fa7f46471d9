"""``ozg-commons receipt ...``: every kind verifies offline; any changed byte exits 1."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pikepdf
import pytest
from typer.testing import CliRunner

from commons.receipts import load_signer
from commons.receipts.keys import parse_private_jwk
from commons.settings import Settings
from gateway.cli import app as cli_app
from payments import receipts
from tests.payments.test_receipts import vector_payment, vector_signer

VECTORS = Path(__file__).parent.parent / "vectors"
RECEIPTS = json.loads((VECTORS / "receipts-v1.json").read_text())
runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli_app, ["receipt", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(RECEIPTS["jwks"]))
    return path


@pytest.mark.parametrize("index", range(len(RECEIPTS["receipts"])))
def test_each_kind_verifies_as_jws_and_as_json(index: int, tmp_path: Path, jwks_file: Path) -> None:
    vector = RECEIPTS["receipts"][index]
    as_jws = tmp_path / "r.jws"
    as_jws.write_text(vector["jws"] + "\n")
    as_json = tmp_path / "r.json"  # e.g. the saved API response
    as_json.write_text(json.dumps({"receipt": vector["jws"], "claims": {"shown": "not trusted"}}))
    for path in (as_jws, as_json):
        code, out, err = _run("verify", str(path), "--keys", str(jwks_file))
        assert code == 0, err
        assert out.startswith(f"valid {vector['kind']} receipt (v1)")
        assert vector["kid"] in out
        assert json.loads(out.split("\n", 1)[1]) == vector["claims"]
    # any changed byte of the JWS: exit 1, one line
    token = vector["jws"]
    for position in (3, len(token) // 2, len(token) - 2):
        flipped = (
            token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
        )
        as_jws.write_text(flipped)
        code, out, err = _run("verify", str(as_jws), "--keys", str(jwks_file))
        assert (code, out) == (1, "")
        assert err == "INVALID: the receipt does not verify\n"


def test_payment_pdf_verifies_and_a_changed_byte_fails(tmp_path: Path, jwks_file: Path) -> None:
    issued = receipts.issue(vector_payment(), vector_signer())
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(issued.pdf)
    code, out, err = _run("verify", str(pdf), "--keys", str(jwks_file))
    assert code == 0, err
    assert out.startswith("valid payment receipt (v1 (PDF))")
    assert '"kassenzeichen": "1234567890123452"' in out
    content = receipts.render_content(receipts.data_of(vector_payment()))
    from tests.payments.test_receipts import _with_content

    pdf.write_bytes(_with_content(issued.pdf, content.replace(b"98.00", b"99.00")))
    assert _run("verify", str(pdf), "--keys", str(jwks_file))[0] == 1
    # a flipped byte inside the page's content stream or inside the embedded JWS
    with pikepdf.open(io.BytesIO(issued.pdf)) as document:
        objects = [
            document.pages[0].obj.Contents.objgen[0],
            document.attachments[receipts.ATTACHMENT].obj.EF.F.objgen[0],
        ]
    for number in objects:
        start = issued.pdf.index(b"stream", issued.pdf.index(b"\n%d 0 obj" % number)) + 12
        flipped = issued.pdf[:start] + bytes([issued.pdf[start] ^ 1]) + issued.pdf[start + 1 :]
        pdf.write_bytes(flipped)
        assert _run("verify", str(pdf), "--keys", str(jwks_file))[0] == 1, number


def test_legacy_formats_verify_with_their_key(tmp_path: Path) -> None:
    erasure = json.loads((VECTORS / "erasure-receipt-v1.json").read_text())
    path = tmp_path / "erasure.json"
    path.write_text(json.dumps(erasure["signed"]))
    empty = tmp_path / "empty.json"
    empty.write_text('{"keys": []}')
    legacy_key = erasure["signed"]["public_key"]
    code, out, err = _run("verify", str(path), "--keys", str(empty), "--legacy-key", legacy_key)
    assert code == 0, err
    assert out.startswith("valid erasure receipt (legacy)")
    assert _run("verify", str(path), "--keys", str(empty))[0] == 1  # no trusted key
    # the key may also come in the JWKS (e.g. published through OZG_RECEIPT_RETIRED_KEYS)
    x = legacy_key  # base64url raw key, as the legacy receipt published it
    jwks = tmp_path / "with-legacy.json"
    jwks.write_text(json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x}]}))
    assert _run("verify", str(path), "--keys", str(jwks))[0] == 0
    # the payment PDF + detached signature, by the PDF or by the .sig
    payments = json.loads((VECTORS / "payments" / "receipt-v1.json").read_text())
    pdf, sig = tmp_path / "receipt-v1.pdf", tmp_path / "receipt-v1.pdf.sig"
    pdf.write_bytes((VECTORS / "payments" / "receipt-v1.pdf").read_bytes())
    sig.write_bytes((VECTORS / "payments" / "receipt-v1.pdf.sig").read_bytes())
    for target in (pdf, sig):
        args = ("verify", str(target), "--keys", str(empty), "--legacy-key", payments["public_key"])
        code, out, err = _run(*args)
        assert code == 0, err
        assert out.startswith("valid payment receipt (legacy payment PDF + .sig)")
    pdf.write_bytes(pdf.read_bytes() + b"\n")
    assert (
        _run("verify", str(pdf), "--keys", str(empty), "--legacy-key", payments["public_key"])[0]
        == 1
    )


def test_default_keys_are_this_deployments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OZG_DATA_DIR", str(tmp_path))
    token = load_signer(Settings()).sign("vault-deletion", {"document_id": "d"})
    path = tmp_path / "r.jws"
    path.write_text(token)
    code, out, err = _run("verify", str(path))
    assert code == 0, err
    code, out, _ = _run("keys")
    assert code == 0
    assert json.loads(out) == load_signer(Settings()).jwks()
    assert _run("verify", str(tmp_path / "missing.jws"))[0] == 1  # unreadable: invalid, no crash


class _JwksHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(RECEIPTS["jwks"]).encode()
        self.send_response(200 if self.path == "/v1/receipts/keys" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def keys_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_keys_from_a_url(tmp_path: Path, keys_url: str) -> None:
    path = tmp_path / "r.jws"
    path.write_text(RECEIPTS["receipts"][0]["jws"])
    assert _run("verify", str(path), "--keys", f"{keys_url}/v1/receipts/keys")[0] == 0
    code, _, err = _run("verify", str(path), "--keys", f"{keys_url}/nope")
    assert code == 1
    assert err.startswith("INVALID: cannot read a key set from")


def test_keygen_prints_a_usable_key() -> None:
    code, out, _ = _run("keygen")
    assert code == 0
    parse_private_jwk(out.strip())
    Settings(receipt_signing_key=out.strip())
