"""A decryptor written from docs/envelope.md alone, with no import from ``vault``.

It exists to prove the specification is complete: if it and ``vault.envelope`` disagree, one
of them (or the spec) is wrong. Deliberately simple: whole envelope in memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap


class Refused(Exception):
    pass


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        nums = key.public_numbers()
        n = nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")
        e = nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")
        jwk = f'{{"e":"{_b64u(e)}","kty":"RSA","n":"{_b64u(n)}"}}'
    else:
        p = key.public_numbers()
        x, y = _b64u(p.x.to_bytes(32, "big")), _b64u(p.y.to_bytes(32, "big"))
        jwk = f'{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}'
    return _b64u(hashlib.sha256(jwk.encode()).digest())


def decrypt(
    envelope: bytes, private_pem: bytes, stanza: bytes | None = None
) -> tuple[dict[str, object], bytes]:
    """Open ``envelope``; with ``stanza`` (a detached stanza's bytes) instead of the key's own
    stanza in the header. Checks ``content_hash`` when it is a ``sha-256:`` hash (§6)."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    f = envelope[:32]
    if f[:4] != b"OZGV" or f[4] != 1:
        raise Refused("magic/version")
    (chunk,) = struct.unpack(">I", f[21:25])
    if chunk & (chunk - 1) or not 4096 <= chunk <= 1048576:
        raise Refused("chunk size")
    prefix = f[25:32]
    (n,) = struct.unpack(">H", envelope[32:34])
    pos = 34
    stanzas = {}
    for _ in range(n):
        alg, kid_len = envelope[pos], envelope[pos + 1]
        kid = envelope[pos + 2 : pos + 2 + kid_len].decode()
        pos += 2 + kid_len
        (blen,) = struct.unpack(">H", envelope[pos : pos + 2])
        stanzas[kid] = (alg, envelope[pos + 2 : pos + 2 + blen])
        pos += 2 + blen
    mac = envelope[pos : pos + 32]
    unsigned = envelope[:pos]
    rest = envelope[pos + 32 :]
    if stanza is not None:
        kid_len = stanza[1]
        if stanza[2 : 2 + kid_len].decode() != thumbprint(key.public_key()):
            raise Refused("detached stanza for another key")
        alg, body = stanza[0], stanza[4 + kid_len :]
    else:
        alg, body = stanzas[thumbprint(key.public_key())]
    if alg == 1 and isinstance(key, rsa.RSAPrivateKey):
        dek = key.decrypt(
            body,
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        )
    elif alg == 2 and isinstance(key, ec.EllipticCurvePrivateKey):
        epk = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), body[:65])
        z = key.exchange(ec.ECDH(), epk)
        info = struct.pack(">I", 14) + b"ECDH-ES+A256KW" + struct.pack(">III", 0, 0, 256)
        kek = ConcatKDFHash(hashes.SHA256(), 32, info).derive(z)
        dek = aes_key_unwrap(kek, body[65:])
    else:
        raise Refused("algorithm")

    def derive(info: bytes) -> bytes:
        return HKDF(hashes.SHA256(), 32, salt=f, info=info).derive(dek)

    if not hmac.compare_digest(
        hmac.new(derive(b"ozg-vault v1 header"), unsigned, "sha256").digest(), mac
    ):
        raise Refused("header mac")
    payload = AESGCM(derive(b"ozg-vault v1 payload"))
    body_bytes, trailer = rest[:-4112], rest[-4112:]
    records = [body_bytes[i : i + chunk + 16] for i in range(0, len(body_bytes), chunk + 16)]
    if not records:
        raise Refused("no chunk")
    plain = b""
    for i, rec in enumerate(records):
        final = i == len(records) - 1
        if final and len(rec) == 16 and i > 0:
            raise Refused("empty final chunk")
        plain += payload.decrypt(prefix + struct.pack(">IB", i, int(final)), rec, f)
    meta_plain = AESGCM(derive(b"ozg-vault v1 metadata")).decrypt(
        bytes(12), trailer, f + struct.pack(">Q", len(records))
    )
    (mlen,) = struct.unpack(">H", meta_plain[:2])
    if any(meta_plain[2 + mlen :]):
        raise Refused("padding")
    meta = json.loads(meta_plain[2 : 2 + mlen].decode())
    if meta["size"] != len(plain):
        raise Refused("size")
    content_hash = meta["content_hash"]
    if isinstance(content_hash, str) and content_hash.startswith("sha-256:"):
        if content_hash != "sha-256:" + hashlib.sha256(plain).hexdigest():
            raise Refused("content hash")
    return meta, plain
