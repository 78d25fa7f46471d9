"""Regenerate the published test vectors (docs/envelope.md §9 and §10):

.venv/bin/python -m tests.vault.make_vectors

writes ``tests/vectors/envelope-v1.json`` (envelopes and a detached stanza) and
``tests/vectors/vault-key-v1.json`` (the applicant's wrapped private key). The deterministic
vectors come out byte for byte the same every time (a test checks that); the RSA vectors do
not, since RSA-OAEP draws its own randomness and the RSA key is generated afresh.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from vault import envelope
from vault.client import keys
from vault.recipients import key_id, public_jwk

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "envelope-v1.json"
KEY_VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "vault-key-v1.json"


def counter_random(seed: int) -> tuple[Callable[[int], bytes], list[bytes]]:
    """Deterministic 'randomness' that records what it handed out."""
    drawn: list[bytes] = []
    state = [seed]

    def rand(n: int) -> bytes:
        out = bytes((state[0] + i) % 256 for i in range(n))
        state[0] += n
        drawn.append(out)
        return out

    return rand, drawn


def pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _metadata(
    name: str, media_type: str, plaintext: bytes, content_hash: str | None
) -> dict[str, Any]:
    return {
        "filename": name,
        "media_type": media_type,
        "size": len(plaintext),
        "content_hash": content_hash,
    }


def _sha256(data: bytes) -> str:
    return "sha-256:" + hashlib.sha256(data).hexdigest()


EC_SCALAR = 0x1234567890ABCDEF1234567890ABCDEF
SHARE_SCALAR = 0x0FEDCBA9876543210FEDCBA987654321


def build() -> list[dict[str, Any]]:
    ec_key = ec.derive_private_key(EC_SCALAR, ec.SECP256R1())
    vectors: list[dict[str, Any]] = []
    # (name, plaintext, chunk size, content_hash?): the first four are the original vectors,
    # unchanged; the ones at 65536 are the chunk size writers use.
    cases = [
        ("empty", b"", 4096, False),
        ("one-byte", b"\x42", 4096, False),
        ("three-chunks", bytes(range(256)) * 40, 4096, False),
        ("exact-chunk", b"A" * 4096, 4096, False),
        ("exact-chunk-65536", bytes(i * 7 % 251 for i in range(65536)), 65536, True),
        ("two-chunks-65536", bytes(i * 13 % 241 for i in range(65536 + 1000)), 65536, True),
    ]
    for name, plaintext, chunk, with_hash in cases:
        rand, drawn = counter_random(len(vectors) * 17 + 1)
        content_hash = _sha256(plaintext) if with_hash else None
        sealed = io.BytesIO()
        result = envelope.seal(
            plaintext,
            sealed,
            [ec_key.public_key()],
            filename=f"{name}.txt",
            media_type="text/plain",
            content_hash=content_hash,
            chunk_size=chunk,
            random=rand,
        )
        vectors.append(
            {
                "name": name,
                "deterministic": True,
                "chunk_size": chunk,
                "document_id": str(result.document_id),
                "kid": key_id(ec_key.public_key()),
                "private_key_pem": pem(ec_key),
                "random_hex": [d.hex() for d in drawn],
                "plaintext_hex": plaintext.hex(),
                "metadata": _metadata(f"{name}.txt", "text/plain", plaintext, content_hash),
                "envelope_hex": sealed.getvalue().hex(),
            }
        )

    # A share: a detached stanza (docs/envelope.md §4) for a second P-256 key opens the
    # "three-chunks" envelope, which names only the first key in its header.
    share_key = ec.derive_private_key(SHARE_SCALAR, ec.SECP256R1())
    base = next(v for v in vectors if v["name"] == "three-chunks")
    env = bytes.fromhex(base["envelope_hex"])
    header = envelope.read_header(io.BytesIO(env))
    doc_key = envelope.unlock(header, ec_key)
    rand, drawn = counter_random(0xA0)
    stanza = envelope.wrap_for(doc_key, share_key.public_key(), rand)
    vectors.append(
        {
            **base,
            "name": "detached-stanza",
            "kid": key_id(share_key.public_key()),
            "private_key_pem": pem(share_key),
            "random_hex": [d.hex() for d in drawn],
            "stanza_hex": stanza.encode().hex(),
        }
    )

    rsa_key = rsa.generate_private_key(65537, 3072)
    plaintext = b"authority copy " * 500
    content_hash = _sha256(plaintext)
    env = envelope.seal_bytes(
        plaintext,
        [rsa_key.public_key(), ec_key.public_key()],
        filename="bescheid.pdf",
        media_type="application/pdf",
        content_hash=content_hash,
        chunk_size=4096,
    )
    vectors.append(
        {
            "name": "rsa-oaep-256-and-ecdh",
            "deterministic": False,
            "chunk_size": 4096,
            "document_id": str(envelope.read_header(io.BytesIO(env)).document_id),
            "kid": key_id(rsa_key.public_key()),
            "private_key_pem": pem(rsa_key),
            "plaintext_hex": plaintext.hex(),
            "metadata": _metadata("bescheid.pdf", "application/pdf", plaintext, content_hash),
            "envelope_hex": env.hex(),
        }
    )
    return vectors


PASSPHRASE = "Grüße aus Zossen \u2013 Frühling 2026"  # en dash: not ASCII on purpose
RECOVERY_CODE = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567"
VECTOR_ARGON2 = dict(keys.ARGON2_MINIMUM)  # the floor readers accept: quick to test


def build_keys() -> list[dict[str, Any]]:
    """Wrapped forms of one P-256 key, as ``GET /v1/vault/keys/me`` serves them."""
    key = ec.derive_private_key(EC_SCALAR, ec.SECP256R1())
    kid = key_id(key.public_key())
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    out: list[dict[str, Any]] = []
    rand, drawn = counter_random(0x40)
    wrapped = keys.wrap_with_passphrase(key, PASSPHRASE, VECTOR_ARGON2, random=rand)
    doc = json.loads(wrapped)
    kek = keys._kek("argon2id", PASSPHRASE.encode(), bytes(drawn[0]), VECTOR_ARGON2)
    out.append(
        {
            "name": "passphrase",
            "kid": kid,
            "public_jwk": json.loads(json.dumps(public_jwk(key.public_key()))),
            "passphrase": PASSPHRASE,
            "passphrase_utf8_hex": PASSPHRASE.encode().hex(),
            "random_hex": [d.hex() for d in drawn],
            "kek_hex": kek.hex(),
            "private_key_pkcs8_hex": der.hex(),
            "wrapped": wrapped,
            "wrapped_parsed": doc,
        }
    )
    rand, drawn = counter_random(0x80)
    wrapped = keys.wrap_with_recovery_code(key, RECOVERY_CODE, random=rand)
    secret = keys._recovery_bytes(RECOVERY_CODE)
    kek = keys._kek("hkdf-sha256", secret, bytes(drawn[0]), {})
    out.append(
        {
            "name": "recovery-code",
            "kid": kid,
            "public_jwk": json.loads(json.dumps(public_jwk(key.public_key()))),
            "recovery_code": RECOVERY_CODE,
            "recovery_secret_hex": secret.hex(),
            "random_hex": [d.hex() for d in drawn],
            "kek_hex": kek.hex(),
            "private_key_pkcs8_hex": der.hex(),
            "wrapped": wrapped,
            "wrapped_parsed": json.loads(wrapped),
        }
    )
    return out


if __name__ == "__main__":
    VECTORS.write_text(
        json.dumps({"format": "ozg-vault envelope v1", "vectors": build()}, indent=1) + "\n"
    )
    KEY_VECTORS.write_text(
        json.dumps({"format": "ozg-vault wrapped key v1", "vectors": build_keys()}, indent=1) + "\n"
    )
    print(f"wrote {VECTORS} and {KEY_VECTORS}")
