"""JWE: round trips, interop with jwcrypto both ways, and invalid vectors that must fail."""

from __future__ import annotations

import base64
import io
import json
import zlib
from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto import jwe as jw_jwe
from jwcrypto import jwk as jw_jwk

from commons.encoding import b64url_encode
from gateway.fitconnect import jwe
from gateway.fitconnect.errors import InvalidDestinationKey, InvalidJwe
from tests.gateway.fitconnect.conftest import Pki

CTY = "application/json"


def _jw_private(pki: Pki) -> jw_jwk.JWK:
    return jw_jwk.JWK.from_pyca(pki.authority.encryption_key)


def _header(compact: str) -> dict[str, object]:
    part = compact.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def test_round_trip_and_header(pki: Pki) -> None:
    result = jwe.encrypt(b'{"a":1}', pki.authority.encryption_jwk, CTY)
    assert _header(result.compact) == {
        "alg": "RSA-OAEP-256",
        "enc": "A256GCM",
        "kid": pki.authority.encryption_jwk["kid"],
        "cty": CTY,
    }
    assert result.tag == result.compact.split(".")[4]
    opened = jwe.decrypt(result.compact, pki.authority.encryption_key)
    assert opened.plaintext == b'{"a":1}'
    assert opened.tag == result.tag
    assert opened.plaintext_sha512 == result.plaintext_sha512


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plaintext=st.binary(max_size=3000), chunk=st.sampled_from([3, 6, 300, 3 * 1024]))
def test_round_trip_property(pki: Pki, plaintext: bytes, chunk: int) -> None:
    out = io.BytesIO()
    sent = jwe.encrypt_stream(
        io.BytesIO(plaintext), out, pki.authority.encryption_jwk, CTY, chunk_size=chunk
    )
    assert sent.compact_length == len(out.getvalue())
    back = io.BytesIO()
    got = jwe.decrypt_stream(
        io.BytesIO(out.getvalue()), back, pki.authority.encryption_key, chunk_chars=chunk // 3 * 4
    )
    assert back.getvalue() == plaintext
    assert got.tag == sent.tag
    assert got.plaintext_sha512 == sent.plaintext_sha512


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plaintext=st.binary(max_size=3000), cuts=st.lists(st.integers(1, 700), max_size=12))
def test_decrypts_blocks_as_they_arrive(pki: Pki, plaintext: bytes, cuts: list[int]) -> None:
    """A non-seekable source in blocks of any size (an HTTP body as it arrives) decrypts
    like the file."""
    compact = jwe.encrypt(plaintext, pki.authority.encryption_jwk, CTY).compact.encode()
    blocks, rest = [], compact
    for cut in cuts:
        blocks.append(rest[:cut])
        rest = rest[cut:]
    blocks.append(rest)
    back = io.BytesIO()
    got = jwe.decrypt_stream(iter(blocks), back, pki.authority.encryption_key)
    assert back.getvalue() == plaintext
    assert got.tag == compact.rsplit(b".", 1)[1].decode()


@pytest.mark.parametrize("where", ["header", "tag", "body", "end"])
def test_blocks_refuse_truncation_and_tampering(pki: Pki, where: str) -> None:
    compact = jwe.encrypt(b"x" * 5000, pki.authority.encryption_jwk, CTY).compact.encode()
    head, tag = compact.split(b".")[0], compact.rsplit(b".", 1)[1]
    bad = {
        "header": compact[: len(head) - 3],
        "tag": compact[: -len(tag)],
        "body": compact[:200] + compact[201:],
        "end": compact + b".AAAA",
    }[where]
    with pytest.raises(InvalidJwe):
        jwe.decrypt_stream(iter([bad[i : i + 97] for i in range(0, len(bad), 97)]),
                           io.BytesIO(), pki.authority.encryption_key)  # fmt: skip


def test_ours_decrypted_by_jwcrypto(pki: Pki) -> None:
    result = jwe.encrypt(b"hello authority", pki.authority.encryption_jwk, "text/plain")
    token = jw_jwe.JWE()
    token.deserialize(result.compact, key=_jw_private(pki))
    assert token.payload == b"hello authority"


@pytest.mark.parametrize("zipped", [False, True])
def test_jwcrypto_decrypted_by_ours(pki: Pki, zipped: bool) -> None:
    public = jw_jwk.JWK(**{k: pki.authority.encryption_jwk[k] for k in ("kty", "n", "e")})
    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "k1", "cty": CTY}
    if zipped:
        header["zip"] = "DEF"
    payload = b'{"form": "' + b"x" * 5000 + b'"}'
    token = jw_jwe.JWE(payload, protected=json.dumps(header))
    token.add_recipient(public)
    compact = token.serialize(compact=True)
    opened = jwe.decrypt(compact, pki.authority.encryption_key)
    assert opened.plaintext == payload
    assert opened.header.get("zip") == ("DEF" if zipped else None)
    assert opened.tag == compact.split(".")[4]


def _craft(pki: Pki, header: Mapping[str, object], plaintext: bytes) -> str:
    """A JWE with an arbitrary protected header, made with cryptography directly."""
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    head = b64url_encode(json.dumps(header).encode())
    cek, iv = os.urandom(32), os.urandom(12)
    wrapped = pki.authority.encryption_key.public_key().encrypt(cek, jwe._OAEP)
    sealed = AESGCM(cek).encrypt(iv, plaintext, head.encode())
    return ".".join(
        [
            head,
            b64url_encode(wrapped),
            b64url_encode(iv),
            b64url_encode(sealed[:-16]),
            b64url_encode(sealed[-16:]),
        ]
    )


def test_zip_bomb_is_capped(pki: Pki) -> None:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = deflater.compress(b"\0" * (4 * 1024 * 1024)) + deflater.flush()
    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF"}
    compact = _craft(pki, header, bomb)
    with pytest.raises(InvalidJwe):
        jwe.decrypt(compact, pki.authority.encryption_key, max_plaintext=1024 * 1024)
    assert len(jwe.decrypt(compact, pki.authority.encryption_key).plaintext) == 4 * 1024 * 1024


def _flip(text: str, index: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    i = alphabet.index(text[index])
    return text[:index] + alphabet[(i + 1) % 64] + text[index + 1 :]


def _invalid_vectors(pki: Pki) -> dict[str, str]:
    good = jwe.encrypt(b"some secret form data", pki.authority.encryption_jwk, CTY).compact
    h, ek, iv, ct, tag = good.split(".")
    other = jwe.encrypt(b"another", pki.authority.encryption_jwk, CTY).compact.split(".")
    vectors = {
        "empty": "",
        "truncated": good[: len(good) // 2],
        "four parts": ".".join([h, ek, iv, ct]),
        "six parts": good + ".AAAA",
        "reordered": ".".join([h, iv, ek, ct, tag]),
        "ciphertext and tag swapped": ".".join([h, ek, iv, tag, ct]),
        "header flipped": ".".join([_flip(h, 5), ek, iv, ct, tag]),
        "key flipped": ".".join([h, _flip(ek, 10), iv, ct, tag]),
        "iv flipped": ".".join([h, ek, _flip(iv, 3), ct, tag]),
        "ciphertext flipped": ".".join([h, ek, iv, _flip(ct, 4), tag]),
        "tag flipped": ".".join([h, ek, iv, ct, _flip(tag, 2)]),
        "tag cut": ".".join([h, ek, iv, ct, tag[:-2]]),
        "spliced ciphertext": ".".join([h, ek, iv, other[3], tag]),
        "spliced key": ".".join([h, other[1], iv, ct, tag]),
        "padding added": ".".join([h, ek, iv, ct, tag + "=="]),
        "non-alphabet char": ".".join([h, ek, iv, ct[:3] + "+" + ct[4:], tag]),
        "non-ascii": good[:-1] + "é",
    }
    crafted: dict[str, Mapping[str, object]] = {
        "alg none": {"alg": "none", "enc": "A256GCM"},
        "alg RSA1_5": {"alg": "RSA1_5", "enc": "A256GCM"},
        "alg RSA-OAEP": {"alg": "RSA-OAEP", "enc": "A256GCM"},
        "enc A128GCM": {"alg": "RSA-OAEP-256", "enc": "A128GCM"},
        "enc A256CBC-HS512": {"alg": "RSA-OAEP-256", "enc": "A256CBC-HS512"},
        "alg and enc swapped": {"alg": "A256GCM", "enc": "RSA-OAEP-256"},
        "zip other": {"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "GZIP"},
        "crit": {"alg": "RSA-OAEP-256", "enc": "A256GCM", "crit": ["exp"], "exp": 1},
        "kid not a string": {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": 7},
    }
    for name, header in crafted.items():
        vectors[name] = _craft(pki, header, b"x")
    dup = b64url_encode(b'{"alg":"RSA-OAEP-256","enc":"A256GCM","enc":"A128GCM"}')
    vectors["duplicate header member"] = ".".join([dup, ek, iv, ct, tag])
    vectors["header not an object"] = ".".join([b64url_encode(b"[1]"), ek, iv, ct, tag])
    return vectors


def test_invalid_vectors_all_fail_the_same_way(pki: Pki) -> None:
    vectors = _invalid_vectors(pki)
    assert len(vectors) >= 25
    messages = set()
    for name, compact in vectors.items():
        with pytest.raises(InvalidJwe) as caught:
            jwe.decrypt(compact, pki.authority.encryption_key)
        messages.add(str(caught.value))
        assert name  # every vector was refused
    assert len(messages) == 1


def test_wrong_key_fails(pki: Pki) -> None:
    good = jwe.encrypt(b"data", pki.authority.encryption_jwk, CTY).compact
    with pytest.raises(InvalidJwe):
        jwe.decrypt(good, pki.other_key)


def test_stream_refuses_a_flipped_byte(pki: Pki) -> None:
    out = io.BytesIO()
    jwe.encrypt_stream(io.BytesIO(b"z" * 10_000), out, pki.authority.encryption_jwk, CTY)
    data = bytearray(out.getvalue())
    data[len(data) // 2] ^= 0x01
    with pytest.raises(InvalidJwe):
        jwe.decrypt_stream(io.BytesIO(bytes(data)), io.BytesIO(), pki.authority.encryption_key)


def test_encrypt_refuses_small_or_non_rsa_keys(pki: Pki) -> None:
    from vault.recipients import public_jwk

    small = public_jwk(pki.ca_key.public_key())  # 3072 bits
    with pytest.raises(InvalidDestinationKey):
        jwe.encrypt(b"x", {**small, "kid": "k"}, CTY)
    with pytest.raises(InvalidDestinationKey):
        jwe.encrypt(b"x", {"kty": "EC", "crv": "P-256", "x": "", "y": ""}, CTY)
    with pytest.raises(ValueError, match="cty"):
        jwe.encrypt(b"x", pki.authority.encryption_jwk, "not a mime type")


def test_no_zip_on_send_and_kid_defaults_to_thumbprint(pki: Pki) -> None:
    jwk = {k: v for k, v in pki.authority.encryption_jwk.items() if k != "kid"}
    result = jwe.encrypt(b"x", jwk, CTY)
    header = _header(result.compact)
    assert "zip" not in header
    assert header["kid"] == pki.authority.encryption_jwk["kid"]


def test_a_deeply_nested_header_is_an_invalid_jwe(pki: Pki) -> None:
    """Found by fuzzing (tests/fuzz): a protected header of 2,000 nested arrays raised
    RecursionError in decrypt, parse_protected_header and the delivery service's check."""
    from gateway.delivery.errors import InvalidAttachment
    from gateway.delivery.jose import inspect_text

    header = b64url_encode(b"[" * 2000 + b"]" * 2000)
    compact = f"{header}.{'A' * 683}.{'A' * 16}.AAAA.{'A' * 22}"
    with pytest.raises(InvalidJwe):
        jwe.decrypt(compact, pki.authority.encryption_key)
    with pytest.raises(InvalidJwe):
        jwe.parse_protected_header(header)
    with pytest.raises(InvalidAttachment):
        inspect_text(compact, kid="k", modulus_bytes=512)
