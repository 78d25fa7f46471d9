"""Regenerate the published test vectors (docs/envelope.md §9 and §10):

.venv/bin/python -m tests.vault.make_vectors

writes ``tests/vectors/envelope-v1.json`` (envelopes and a detached stanza),
``tests/vectors/vault-key-v1.json`` (the applicant's wrapped private key) and
``tests/vectors/vault-metadata-v1.json`` (items of the metadata-only read, §13, cut from the
envelope vectors). The deterministic vectors come out byte for byte the same every time (a
test checks that); the RSA vectors do not, since RSA-OAEP draws its own randomness and the
RSA key is generated afresh. ``--metadata`` rewrites only the metadata vectors, from the
envelope vectors as they are.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
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
METADATA_VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "vault-metadata-v1.json"
METADATA_FORMAT = "ozg-vault metadata v1"


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


def _item(vector: dict[str, Any]) -> dict[str, Any]:
    """The metadata-only read's item for an envelope vector (docs/envelope.md §13)."""
    env = bytes.fromhex(vector["envelope_hex"])
    header_len = len(envelope.read_header(io.BytesIO(env)).encode())
    stanza = vector.get("stanza_hex")
    return {
        "format": METADATA_FORMAT,
        "id": vector["document_id"],
        "envelope_size": len(env),
        "header": base64.b64encode(env[:header_len]).decode(),
        "metadata_record": base64.b64encode(env[-envelope.TRAILER_LEN :]).decode(),
        "stanza": base64.b64encode(bytes.fromhex(stanza)).decode() if stanza else None,
    }


def build_metadata(envelope_vectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items that open (one per kind of reader) and items a reader must refuse, each with
    the key to try; a pure function of the envelope vectors."""
    by_name = {v["name"]: v for v in envelope_vectors}
    out: list[dict[str, Any]] = []

    def add(name: str, source: str, valid: bool, item: dict[str, Any], why: str) -> None:
        entry: dict[str, Any] = {
            "name": name,
            "valid": valid,
            "why": why,
            "envelope_vector": source,
            "private_key_pem": by_name[source]["private_key_pem"],
            "item": item,
        }
        if valid:
            entry["metadata"] = by_name[source]["metadata"]
        out.append(entry)

    for name, why in (
        ("three-chunks", "the owner: its stanza is in the header, `stanza` is null"),
        ("two-chunks-65536", "the owner, chunk size 65536"),
        ("empty", "an empty document"),
        ("detached-stanza", "a caseworker: the key opens the item's detached stanza"),
        ("rsa-oaep-256-and-ecdh", "an RSA reader with its stanza in the header"),
    ):
        add(name, name, True, _item(by_name[name]), why)

    base = _item(by_name["three-chunks"])
    other = _item(by_name["exact-chunk"])
    header = base64.b64decode(base["header"])
    chunk_record = int.from_bytes(header[21:25], "big") + envelope.TAG_LEN
    flipped = bytearray(header)
    flipped[-1] ^= 1
    record = base64.b64decode(base["metadata_record"])
    invalid: list[tuple[str, dict[str, Any], str]] = [
        ("unknown-format", {"format": "ozg-vault metadata v2"}, "another version"),
        ("envelope-size-one-chunk-more", {"envelope_size": base["envelope_size"] + chunk_record},
         "another number of chunks: the record's associated data differs"),
        ("envelope-size-as-string", {"envelope_size": str(base["envelope_size"])},
         "`envelope_size` must be a JSON integer"),
        ("another-documents-id", {"id": other["id"]},
         "the header names another document than `id`"),
        ("another-documents-record", {"metadata_record": other["metadata_record"]},
         "the record of another document"),
        ("header-with-a-byte-more", {"header": base64.b64encode(header + b"\0").decode()},
         "`header` must be exactly one header"),
        ("header-mac-flipped", {"header": base64.b64encode(bytes(flipped)).decode()},
         "the header MAC does not verify"),
        ("record-truncated", {"metadata_record": base64.b64encode(record[:-1]).decode()},
         "the record must be 4112 bytes"),
        ("header-not-base64", {"header": "*" + base["header"]}, "not base64"),
    ]  # fmt: skip
    for name, change, why in invalid:
        add(name, "three-chunks", False, {**base, **change}, why)
    return out


def write_metadata_vectors() -> None:
    vectors = json.loads(VECTORS.read_text())["vectors"]
    METADATA_VECTORS.write_text(
        json.dumps({"format": METADATA_FORMAT, "vectors": build_metadata(vectors)}, indent=1) + "\n"
    )


if __name__ == "__main__":
    if "--metadata" not in sys.argv:
        VECTORS.write_text(
            json.dumps({"format": "ozg-vault envelope v1", "vectors": build()}, indent=1) + "\n"
        )
        KEY_VECTORS.write_text(
            json.dumps({"format": "ozg-vault wrapped key v1", "vectors": build_keys()}, indent=1)
            + "\n"
        )
    write_metadata_vectors()
    print(f"wrote {VECTORS}, {KEY_VECTORS} and {METADATA_VECTORS}")
