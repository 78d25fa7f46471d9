"""Recipient stanzas: the document key (DEK) wrapped for one recipient (docs/envelope.md §4).

Two JOSE (RFC 7518) algorithms, both in BSI TR-02102-1:

- ``RSA-OAEP-256`` (alg id 1): RSA-OAEP with SHA-256 and MGF1-SHA-256, RSA >= 3072 bits;
  authority keys (FIT-Connect uses RSA 4096).
- ``ECDH-ES+A256KW`` (alg id 2) on P-256: an ephemeral ECDH key agreement, the Concat KDF of
  RFC 7518 §4.6.2 and AES-256 key wrap (RFC 3394); applicant and device keys.

A recipient is named by its key id (``kid``), the RFC 7638 JWK thumbprint of its public key.
This module is the low-level layer; callers normally use :mod:`vault.envelope`'s ``seal`` and
``open``. Every failure raises :class:`vault.errors.InvalidEnvelope`.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from commons.encoding import b64url_decode_lenient, b64url_encode, canonical_json
from vault.errors import InvalidEnvelope

RandomBytes = Callable[[int], bytes]

ALG_RSA_OAEP_256 = 1
ALG_ECDH_ES_A256KW = 2
ALG_NAMES = {ALG_RSA_OAEP_256: "RSA-OAEP-256", ALG_ECDH_ES_A256KW: "ECDH-ES+A256KW"}
MIN_RSA_BITS = 3072
MAX_RSA_BITS = 8192
DEK_LEN = 32
_EPK_LEN = 65  # uncompressed P-256 point
_WRAPPED_LEN = DEK_LEN + 8  # AES key wrap adds one 64-bit block

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _int_bytes(value: int, length: int | None = None) -> bytes:
    length = length or max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(length, "big")


def public_jwk(key: PublicKey) -> dict[str, str]:
    """The public JWK (members in RFC 7638 order) of ``key``."""
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {
            "e": b64url_encode(_int_bytes(numbers.e)),
            "kty": "RSA",
            "n": b64url_encode(_int_bytes(numbers.n)),
        }
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        pub = key.public_numbers()
        return {
            "crv": "P-256",
            "kty": "EC",
            "x": b64url_encode(_int_bytes(pub.x, 32)),
            "y": b64url_encode(_int_bytes(pub.y, 32)),
        }
    raise ValueError("only RSA and P-256 keys are supported")


def key_id(key: PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key."""
    return b64url_encode(hashlib.sha256(canonical_json(public_jwk(key))).digest())


def public_key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    """Parse a public RSA or P-256 JWK; raises ``ValueError`` on anything else."""
    try:
        if jwk.get("kty") == "RSA":
            n = int.from_bytes(b64url_decode_lenient(jwk["n"]), "big")
            e = int.from_bytes(b64url_decode_lenient(jwk["e"]), "big")
            return rsa.RSAPublicNumbers(e, n).public_key()
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            x = int.from_bytes(b64url_decode_lenient(jwk["x"]), "big")
            y = int.from_bytes(b64url_decode_lenient(jwk["y"]), "big")
            return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError("malformed JWK") from exc
    raise ValueError("unsupported JWK: need kty RSA, or kty EC with crv P-256")


def private_key_from_jwk(jwk: dict[str, Any]) -> PrivateKey:
    """Parse a private RSA or P-256 JWK (the authority's or applicant's own key)."""

    def num(name: str) -> int:
        return int.from_bytes(b64url_decode_lenient(jwk[name]), "big")

    try:
        public = public_key_from_jwk(jwk)
        if isinstance(public, rsa.RSAPublicKey):
            pub = public.public_numbers()
            p, q, d = num("p"), num("q"), num("d")
            return rsa.RSAPrivateNumbers(
                p, q, d, num("dp"), num("dq"), num("qi"), pub
            ).private_key()
        return ec.derive_private_key(num("d"), ec.SECP256R1())
    except (KeyError, TypeError) as exc:
        raise ValueError("malformed private JWK") from exc


def load_private_key(data: bytes) -> PrivateKey:
    """A private key from PEM, DER (PKCS#8) or a JSON JWK."""
    stripped = data.strip()
    if stripped.startswith(b"{"):
        return private_key_from_jwk(json.loads(stripped))
    loader = (
        serialization.load_pem_private_key
        if stripped.startswith(b"-----")
        else serialization.load_der_private_key
    )
    key = loader(stripped, password=None)
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return key
    raise ValueError("only RSA and P-256 private keys are supported")


@dataclass(frozen=True, slots=True)
class Stanza:
    """One wrapped copy of the DEK: algorithm id, recipient key id, algorithm-specific body."""

    alg: int
    kid: str
    body: bytes

    def encode(self) -> bytes:
        kid = self.kid.encode("utf-8")
        return (
            struct.pack(">BB", self.alg, len(kid))
            + kid
            + struct.pack(">H", len(self.body))
            + (self.body)
        )

    @classmethod
    def decode(cls, data: bytes) -> Stanza:
        stanza, used = cls.parse(data, 0)
        if used != len(data):
            raise InvalidEnvelope()
        return stanza

    @classmethod
    def parse(cls, data: bytes, offset: int) -> tuple[Stanza, int]:
        """Parse one stanza at ``offset``; returns it and the offset after it."""
        try:
            alg, kid_len = struct.unpack_from(">BB", data, offset)
            offset += 2
            kid_raw = bytes(data[offset : offset + kid_len])
            offset += kid_len
            (body_len,) = struct.unpack_from(">H", data, offset)
            offset += 2
            body = bytes(data[offset : offset + body_len])
            offset += body_len
            kid = kid_raw.decode("utf-8")
        except (struct.error, UnicodeDecodeError) as exc:
            raise InvalidEnvelope() from exc
        if len(kid_raw) != kid_len or len(body) != body_len or not kid:
            raise InvalidEnvelope()
        if alg == ALG_ECDH_ES_A256KW:
            if body_len != _EPK_LEN + _WRAPPED_LEN:
                raise InvalidEnvelope()
        elif alg == ALG_RSA_OAEP_256:
            if not MIN_RSA_BITS // 8 <= body_len <= MAX_RSA_BITS // 8:
                raise InvalidEnvelope()
        else:
            raise InvalidEnvelope()
        return cls(alg, kid, body), offset


def _concat_kdf(shared: bytes) -> bytes:
    alg = b"ECDH-ES+A256KW"
    other_info = (
        struct.pack(">I", len(alg))
        + alg
        + struct.pack(">I", 0)  # PartyUInfo (apu): empty
        + struct.pack(">I", 0)  # PartyVInfo (apv): empty
        + struct.pack(">I", 256)  # SuppPubInfo: keydatalen in bits
    )
    return ConcatKDFHash(algorithm=hashes.SHA256(), length=32, otherinfo=other_info).derive(shared)


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def _ephemeral_key(random: RandomBytes) -> ec.EllipticCurvePrivateKey:
    # A scalar from injected randomness (test vectors); reduced into [1, n-1].
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    scalar = int.from_bytes(random(40), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def wrap(dek: bytes, recipient: PublicKey, random: RandomBytes = os.urandom) -> Stanza:
    """Wrap ``dek`` for ``recipient``. RSA keys below 3072 bits are refused."""
    kid = key_id(recipient)
    if isinstance(recipient, rsa.RSAPublicKey):
        if recipient.key_size < MIN_RSA_BITS or recipient.key_size > MAX_RSA_BITS:
            raise ValueError(f"RSA recipient keys need {MIN_RSA_BITS}..{MAX_RSA_BITS} bits")
        # OAEP's seed comes from OpenSSL's generator; it cannot be injected.
        return Stanza(ALG_RSA_OAEP_256, kid, recipient.encrypt(dek, _oaep()))
    if isinstance(recipient, ec.EllipticCurvePublicKey) and isinstance(
        recipient.curve, ec.SECP256R1
    ):
        ephemeral = _ephemeral_key(random)
        kek = _concat_kdf(ephemeral.exchange(ec.ECDH(), recipient))
        epk = ephemeral.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return Stanza(ALG_ECDH_ES_A256KW, kid, epk + aes_key_wrap(kek, dek))
    raise ValueError("recipient keys must be RSA (>= 3072 bits) or P-256")


def unwrap(stanza: Stanza, identity: PrivateKey) -> bytes:
    """Recover the DEK from ``stanza`` with the recipient's private key."""
    try:
        if stanza.alg == ALG_RSA_OAEP_256 and isinstance(identity, rsa.RSAPrivateKey):
            dek = identity.decrypt(stanza.body, _oaep())
        elif stanza.alg == ALG_ECDH_ES_A256KW and isinstance(identity, ec.EllipticCurvePrivateKey):
            epk = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), stanza.body[:_EPK_LEN]
            )
            kek = _concat_kdf(identity.exchange(ec.ECDH(), epk))
            dek = aes_key_unwrap(kek, stanza.body[_EPK_LEN:])
        else:
            raise InvalidEnvelope()
    except (ValueError, InvalidKey, InvalidUnwrap) as exc:
        raise InvalidEnvelope() from exc
    if len(dek) != DEK_LEN:
        raise InvalidEnvelope()
    return dek
