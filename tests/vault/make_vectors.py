"""Regenerate tests/vectors/envelope-v1.json (run only when the format version changes):

.venv/bin/python -m tests.vault.make_vectors
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from vault import envelope

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "envelope-v1.json"


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


def build() -> list[dict[str, object]]:
    ec_key = ec.derive_private_key(0x1234567890ABCDEF1234567890ABCDEF, ec.SECP256R1())
    vectors: list[dict[str, object]] = []
    cases = [
        ("empty", b"", 4096),
        ("one-byte", b"\x42", 4096),
        ("three-chunks", bytes(range(256)) * 40, 4096),
        ("exact-chunk", b"A" * 4096, 4096),
    ]
    for name, plaintext, chunk in cases:
        rand, drawn = counter_random(len(vectors) * 17 + 1)
        env = envelope.seal_bytes(
            plaintext,
            [ec_key.public_key()],
            filename=f"{name}.txt",
            media_type="text/plain",
            content_hash=None,
            chunk_size=chunk,
            random=rand,
        )
        vectors.append(
            {
                "name": name,
                "deterministic": True,
                "private_key_pem": pem(ec_key),
                "random_hex": [d.hex() for d in drawn],
                "plaintext_hex": plaintext.hex(),
                "metadata": {"filename": f"{name}.txt", "media_type": "text/plain"},
                "envelope_hex": env.hex(),
            }
        )
    rsa_key = rsa.generate_private_key(65537, 3072)
    plaintext = b"authority copy " * 500
    env = envelope.seal_bytes(
        plaintext,
        [rsa_key.public_key(), ec_key.public_key()],
        filename="bescheid.pdf",
        media_type="application/pdf",
        content_hash="sha-256:" + "00" * 32,
        chunk_size=4096,
    )
    vectors.append(
        {
            "name": "rsa-oaep-256-and-ecdh",
            "deterministic": False,
            "private_key_pem": pem(rsa_key),
            "plaintext_hex": plaintext.hex(),
            "metadata": {"filename": "bescheid.pdf", "media_type": "application/pdf"},
            "envelope_hex": env.hex(),
        }
    )
    return vectors


if __name__ == "__main__":
    VECTORS.write_text(
        json.dumps({"format": "ozg-vault envelope v1", "vectors": build()}, indent=1)
    )
    print(f"wrote {VECTORS}")
