"""Interoperability of the browser's crypto modules with the Python client, both ways, run
in Node 20 (WebCrypto is the same API as in the browser; IndexedDB is swapped for the
in-memory store): envelopes, the published vectors, shares, the wrapped vault key (Argon2id
and the recovery code) and FIT-Connect JWE."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.fitconnect import jwe as py_jwe
from tests.gateway.portal.jsharness import ROOT, pkcs8_hex, run_js
from vault import envelope
from vault.client import keys
from vault.errors import InvalidEnvelope
from vault.recipients import key_id, public_jwk

pytestmark = pytest.mark.node

VECTORS = ROOT / "tests" / "vectors" / "envelope-v1.json"
KEY_VECTORS = ROOT / "tests" / "vectors" / "vault-key-v1.json"
METADATA_VECTORS = ROOT / "tests" / "vectors" / "vault-metadata-v1.json"
APPLICANT = ec.generate_private_key(ec.SECP256R1())
NAME = "Reisepass M\u00fcller \u2013 Kopie.pdf"  # non-ASCII: UTF-8 in the metadata


@pytest.fixture(scope="module")
def authority() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 4096)


def test_js_opens_every_published_vector_and_reproduces_the_deterministic_ones(
    tmp_path: Path,
) -> None:
    vectors = {v["name"]: v for v in json.loads(VECTORS.read_text())["vectors"]}
    results = run_js("vectors", {"path": str(VECTORS)}, tmp_path)["results"]
    assert {r["name"] for r in results} == set(vectors)
    for r in results:
        v = vectors[r["name"]]
        assert r["opened"], r["name"]
        assert r["kid"] == v["kid"]
        assert r["metadata"] == v["metadata"]  # content_hash checked too: createSha256 given
        if v["deterministic"]:
            assert r["reproduced"], r["name"]  # byte for byte, including the detached stanza


def test_js_opens_the_metadata_read_vectors_and_refuses_the_invalid_ones(tmp_path: Path) -> None:
    """vault-metadata.js, written from docs/envelope.md §13, against its vectors."""
    vectors = {v["name"]: v for v in json.loads(METADATA_VECTORS.read_text())["vectors"]}
    results = run_js("metadata-vectors", {"path": str(METADATA_VECTORS)}, tmp_path)["results"]
    assert {r["name"] for r in results} == set(vectors)
    for r in results:
        v = vectors[r["name"]]
        if v["valid"]:
            assert r["opened"], r
            assert r["metadata"] == v["metadata"]
        else:
            assert (r["opened"], r["error"]) == (False, "InvalidEnvelope"), r["name"]


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 3 * 65536 + 11])
def test_what_js_seals_python_opens(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    (tmp_path / "plain").write_bytes(data)
    digest = "sha-256:" + hashlib.sha256(data).hexdigest()
    answer = run_js(
        "seal",
        {
            "plaintext_path": str(tmp_path / "plain"),
            "out_path": str(tmp_path / "env"),
            "recipients": [public_jwk(APPLICANT.public_key())],
            "filename": NAME,
            "media_type": "application/pdf",
            "content_hash": digest,
            "size": size,
        },
        tmp_path,
    )
    sealed = (tmp_path / "env").read_bytes()
    assert answer["envelope_size"] == len(sealed)
    meta, plain = envelope.open_bytes(sealed, APPLICANT)
    assert plain == data
    assert meta.filename == NAME
    assert meta.content_hash == digest
    assert str(envelope.read_header(io.BytesIO(sealed)).document_id) == answer["document_id"]
    assert envelope.read_header(io.BytesIO(sealed)).chunk_size == 65536


def test_what_python_seals_js_opens_streaming_and_checks_the_hash(tmp_path: Path) -> None:
    data = os.urandom(5 * 65536 + 3)
    good = envelope.seal_bytes(
        data,
        [APPLICANT.public_key()],
        filename="zeugnis.png",
        media_type="image/png",
        content_hash="sha-256:" + hashlib.sha256(data).hexdigest(),
    )
    (tmp_path / "env").write_bytes(good)
    request = {
        "envelope_path": str(tmp_path / "env"),
        "out_path": str(tmp_path / "out"),
        "pkcs8_hex": pkcs8_hex(APPLICANT),
        "check_hash": True,
    }
    answer = run_js("open", request, tmp_path)
    assert (tmp_path / "out").read_bytes() == data
    assert answer["metadata"]["filename"] == "zeugnis.png"
    # A writer that put a wrong hash: the AEAD is fine, but a checking reader refuses.
    lying = envelope.seal_bytes(
        data,
        [APPLICANT.public_key()],
        filename="zeugnis.png",
        media_type="image/png",
        content_hash="sha-256:" + "00" * 32,
    )
    (tmp_path / "env").write_bytes(lying)
    with pytest.raises(AssertionError, match="InvalidEnvelope"):
        run_js("open", request, tmp_path)
    run_js("open", {**request, "check_hash": False}, tmp_path)


def test_js_refuses_tampered_envelopes_with_one_error(tmp_path: Path) -> None:
    data = os.urandom(3 * 4096 + 5)
    sealed = envelope.seal_bytes(
        data, [APPLICANT.public_key()], filename="a.txt", media_type="text/plain", chunk_size=4096
    )
    (tmp_path / "env").write_bytes(sealed)
    header_len = len(envelope.read_header(io.BytesIO(sealed)).encode())
    positions = [0, 4, 10, 22, 30, 33, 40, header_len - 1, header_len, header_len + 5000]
    positions += [len(sealed) - 4112 - 1, len(sealed) - 100, len(sealed) - 1]
    truncations = [10, header_len, header_len + 4096 + 16, len(sealed) - 1]
    answer = run_js(
        "tamper",
        {
            "envelope_path": str(tmp_path / "env"),
            "pkcs8_hex": pkcs8_hex(APPLICANT),
            "positions": positions,
            "truncations": truncations,
        },
        tmp_path,
    )
    assert answer["messages"] == ["InvalidEnvelope: The envelope cannot be opened"]


def test_share_made_in_js_opens_for_the_authority_in_python(
    tmp_path: Path, authority: rsa.RSAPrivateKey
) -> None:
    data = os.urandom(70_000)
    sealed = envelope.seal_bytes(
        data, [APPLICANT.public_key()], filename="vertrag.pdf", media_type="application/pdf"
    )
    (tmp_path / "env").write_bytes(sealed)
    answer = run_js(
        "share",
        {
            "envelope_path": str(tmp_path / "env"),
            "pkcs8_hex": pkcs8_hex(APPLICANT),
            "authority_jwk": public_jwk(authority.public_key()),
        },
        tmp_path,
    )
    assert answer["kid"] == key_id(authority.public_key())
    # What GET /v1/vault/documents/{id}/key serves: {"stanza": base64 of the stanza}.
    stanza = base64.b64decode(answer["stanza"])
    meta, plain = envelope.open_bytes(sealed, authority, stanza=stanza)
    assert plain == data
    assert meta.filename == "vertrag.pdf"
    # A stanza for another document fails closed.
    other = envelope.seal_bytes(b"x", [APPLICANT.public_key()], filename="b", media_type="t/p")
    with pytest.raises(InvalidEnvelope):
        envelope.open_bytes(other, authority, stanza=stanza)


def test_share_made_in_python_opens_in_js(tmp_path: Path, authority: rsa.RSAPrivateKey) -> None:
    data = os.urandom(100_000)
    sealed = envelope.seal_bytes(
        data, [APPLICANT.public_key()], filename="bescheid.pdf", media_type="application/pdf"
    )
    key = envelope.unlock(envelope.read_header(io.BytesIO(sealed)), APPLICANT)
    stanza = envelope.wrap_for(key, authority.public_key())
    (tmp_path / "env").write_bytes(sealed)
    run_js(
        "open",
        {
            "envelope_path": str(tmp_path / "env"),
            "out_path": str(tmp_path / "out"),
            "pkcs8_hex": pkcs8_hex(authority),
            "stanza_b64": base64.b64encode(stanza.encode()).decode(),
        },
        tmp_path,
    )
    assert (tmp_path / "out").read_bytes() == data


def test_js_derivations_match_the_wrapped_key_vectors(tmp_path: Path) -> None:
    results = run_js("key-vectors", {"path": str(KEY_VECTORS)}, tmp_path)["results"]
    vectors = {v["name"]: v for v in json.loads(KEY_VECTORS.read_text())["vectors"]}
    for r in results:
        v = vectors[r["name"]]
        assert r["kid"] == v["kid"]
        assert r["kek"], r
        assert r["reproduced"], r
        assert r["wrong_refused"], r
        assert r["extractable"] is False
    assert results[1]["secret_hex"] == vectors["recovery-code"]["recovery_secret_hex"]


def test_vault_key_made_in_js_unlocks_in_python(tmp_path: Path) -> None:
    params = dict(keys.ARGON2_MINIMUM)
    made = run_js(
        "keygen", {"passphrase": "korrekt Pferd Batterie Heftklammer", "params": params}, tmp_path
    )
    assert made["unlocked_kid"] == made["recovery_kid"] == made["kid"]
    assert made["stored_extractable"] is False
    assert made["round_trip"] == "hallo"
    by_pass = keys.unwrap_private_key(
        made["wrapped_by_passphrase"], made["kid"], passphrase="korrekt Pferd Batterie Heftklammer"
    )
    by_code = keys.unwrap_private_key(
        made["wrapped_by_recovery"], made["kid"], recovery_code=made["recovery_code"]
    )
    assert key_id(by_pass.public_key()) == key_id(by_code.public_key()) == made["kid"]
    assert public_jwk(by_pass.public_key()) == made["public_jwk"]
    assert json.loads(made["wrapped_by_passphrase"])["m"] == params["m"]


@pytest.mark.parametrize("secret", ["passphrase", "recovery"])
def test_vault_key_made_in_python_unlocks_in_js_on_another_device(
    tmp_path: Path, secret: str
) -> None:
    params = dict(keys.ARGON2_MINIMUM)
    pair = keys.generate("Sonnenblumen über Teltow", params)
    stored: dict[str, Any] = {
        "kid": pair.kid,
        "public_jwk": pair.public_jwk,
        "wrapped_by_passphrase": pair.wrapped_by_passphrase,
        "wrapped_by_recovery": pair.wrapped_by_recovery,
    }
    data = os.urandom(1000)
    sealed = envelope.seal_bytes(
        data, [pair.private_key.public_key()], filename="a.pdf", media_type="application/pdf"
    )
    (tmp_path / "env").write_bytes(sealed)
    request: dict[str, Any] = {
        "stored": stored,
        "envelope_path": str(tmp_path / "env"),
        "new_passphrase": "ein neues langes Passwort",
        "params": params,
    }
    if secret == "passphrase":
        request["passphrase"] = "Sonnenblumen über Teltow"
    else:
        request["recovery_code"] = pair.recovery_code.lower()
    answer = run_js("unlock", request, tmp_path)
    assert answer["kid"] == pair.kid
    assert answer["extractable"] is False
    assert bytes.fromhex(answer["plaintext_hex"]) == data
    # The passphrase change made in JS (PATCH /keys/me) unlocks in Python.
    changed = answer["changed"]
    assert changed["kid"] == pair.kid
    again = keys.unwrap_private_key(
        changed["wrapped_by_passphrase"], pair.kid, passphrase="ein neues langes Passwort"
    )
    assert key_id(again.public_key()) == pair.kid


def test_js_refuses_a_downgraded_argon2_and_a_wrong_code(tmp_path: Path) -> None:
    pair = keys.generate("pw-pw-pw-pw", dict(keys.ARGON2_MINIMUM))
    weak = json.loads(pair.wrapped_by_passphrase)
    weak["m"] = 1024
    stored = {
        "kid": pair.kid,
        "public_jwk": pair.public_jwk,
        "wrapped_by_passphrase": json.dumps(weak),
        "wrapped_by_recovery": pair.wrapped_by_recovery,
    }
    (tmp_path / "env").write_bytes(b"")
    base = {"stored": stored, "envelope_path": str(tmp_path / "env")}
    with pytest.raises(AssertionError, match="below the minimum"):
        run_js("unlock", {**base, "passphrase": "pw-pw-pw-pw"}, tmp_path)
    with pytest.raises(AssertionError, match="WrongSecret"):
        run_js("unlock", {**base, "recovery_code": "AAAA-" * 7 + "AAAA"}, tmp_path)


def _fitconnect_jwk(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    return {**public_jwk(key.public_key()), "kid": "tf-enc-2026", "alg": "RSA-OAEP-256"}


def test_jwe_made_in_js_decrypts_in_python(tmp_path: Path, authority: rsa.RSAPrivateKey) -> None:
    data = json.dumps({"antrag": "Aufenthaltserlaubnis", "name": "Ağca Öztürk"}).encode()
    (tmp_path / "plain").write_bytes(data)
    made = run_js(
        "jwe-encrypt",
        {
            "plaintext_path": str(tmp_path / "plain"),
            "jwk": _fitconnect_jwk(authority),
            "cty": "application/json",
        },
        tmp_path,
    )
    opened = py_jwe.decrypt(made["compact"], authority)
    assert opened.plaintext == data
    assert opened.header == {
        "alg": "RSA-OAEP-256",
        "enc": "A256GCM",
        "kid": "tf-enc-2026",
        "cty": "application/json",
    }
    assert opened.tag == made["tag"]
    assert opened.plaintext_sha512 == made["plaintextSha512"] == hashlib.sha512(data).hexdigest()
    # The header part is byte for byte what the Python sender writes.
    assert (
        made["compact"].split(".")[0]
        == py_jwe.encrypt(data, _fitconnect_jwk(authority), "application/json").compact.split(".")[
            0
        ]
    )


def test_jwe_made_in_python_decrypts_in_js(tmp_path: Path, authority: rsa.RSAPrivateKey) -> None:
    data = os.urandom(200_000)
    made = py_jwe.encrypt(data, _fitconnect_jwk(authority), "application/pdf")
    answer = run_js(
        "jwe-decrypt", {"compact": made.compact, "pkcs8_hex": pkcs8_hex(authority)}, tmp_path
    )
    assert bytes.fromhex(answer["plaintext_hex"]) == data
    assert answer["tag"] == made.tag
    tampered = made.compact[:-3] + ("A" if made.compact[-3] != "A" else "B") + made.compact[-2:]
    with pytest.raises(AssertionError, match="InvalidJwe"):
        run_js("jwe-decrypt", {"compact": tampered, "pkcs8_hex": pkcs8_hex(authority)}, tmp_path)
