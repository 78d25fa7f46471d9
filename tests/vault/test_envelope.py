"""The envelope: vectors, an independent decryptor, round trips and tamper cases."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.vault import independent_decryptor
from tests.vault.make_vectors import build as build_vectors
from tests.vault.make_vectors import build_keys
from vault import envelope
from vault.client import keys
from vault.errors import InvalidEnvelope
from vault.recipients import key_id

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "vectors" / "envelope-v1.json").read_text()
)["vectors"]
KEY_VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "vectors" / "vault-key-v1.json").read_text()
)["vectors"]
CHUNK = 4096
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_EC = ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 3072)


def _seal(data: bytes, *keys: Any, chunk: int = CHUNK, **kw: Any) -> bytes:
    recipients = [k.public_key() for k in (keys or (EC_KEY,))]
    return envelope.seal_bytes(
        data, recipients, filename="pass.pdf", media_type="application/pdf", chunk_size=chunk, **kw
    )


def _load(pem: str) -> Any:
    return serialization.load_pem_private_key(pem.encode(), password=None)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_vectors_open_with_both_decryptors(vector: dict[str, Any]) -> None:
    env = bytes.fromhex(vector["envelope_hex"])
    plaintext = bytes.fromhex(vector["plaintext_hex"])
    stanza = bytes.fromhex(vector["stanza_hex"]) if "stanza_hex" in vector else None
    meta, out = envelope.open_bytes(env, _load(vector["private_key_pem"]), stanza=stanza)
    assert out == plaintext
    assert dataclasses.asdict(meta) == vector["metadata"]
    meta2, out2 = independent_decryptor.decrypt(env, vector["private_key_pem"].encode(), stanza)
    assert out2 == plaintext
    assert meta2 == vector["metadata"]  # content_hash is null or true: a checking reader passes
    header = envelope.read_header(io.BytesIO(env))
    assert header.chunk_size == vector["chunk_size"]
    assert str(header.document_id) == vector["document_id"]
    assert vector["kid"] == key_id(_load(vector["private_key_pem"]).public_key())


def test_vectors_cover_the_writers_chunk_size_and_use_json_types() -> None:
    assert {v["chunk_size"] for v in VECTORS} == {4096, envelope.DEFAULT_CHUNK_SIZE}
    for vector in VECTORS:
        assert isinstance(vector["deterministic"], bool)
        assert isinstance(vector["metadata"]["size"], int)


def test_deterministic_vectors_are_reproduced_byte_for_byte() -> None:
    rebuilt = {v["name"]: v for v in build_vectors() if v["deterministic"]}
    for vector in VECTORS:
        if vector["deterministic"]:
            assert rebuilt[vector["name"]]["envelope_hex"] == vector["envelope_hex"]
            assert rebuilt[vector["name"]].get("stanza_hex") == vector.get("stanza_hex")
    assert KEY_VECTORS == build_keys()


@pytest.mark.parametrize("vector", KEY_VECTORS, ids=lambda v: v["name"])
def test_wrapped_key_vectors_unwrap(vector: dict[str, Any]) -> None:
    key = keys.unwrap_private_key(
        vector["wrapped"],
        vector["kid"],
        passphrase=vector.get("passphrase"),
        recovery_code=vector.get("recovery_code"),
    )
    assert key_id(key.public_key()) == vector["kid"]
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert der.hex() == vector["private_key_pkcs8_hex"]


SIZES = st.one_of(
    st.sampled_from([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7]),
    st.integers(min_value=0, max_value=6 * CHUNK),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=SIZES, piece=st.integers(min_value=1, max_value=3 * CHUNK))
def test_round_trip_any_size_and_any_source_shape(size: int, piece: int) -> None:
    data = os.urandom(size)
    pieces = [data[i : i + piece] for i in range(0, size, piece)]
    out = io.BytesIO()
    result = envelope.seal(
        iter(pieces), out, [EC_KEY.public_key()], filename="f", media_type="x/y", chunk_size=CHUNK
    )
    assert result.size == size
    meta, plain = envelope.open_bytes(out.getvalue(), EC_KEY)
    assert plain == data
    assert meta.size == size
    assert independent_decryptor.decrypt(out.getvalue(), _pem(EC_KEY))[1] == data


def _pem(key: Any) -> bytes:
    return bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_default_chunk_size_round_trip(rsa_key: rsa.RSAPrivateKey) -> None:
    data = os.urandom(3 * 65536 + 5)
    env = _seal(data, EC_KEY, rsa_key, chunk=envelope.DEFAULT_CHUNK_SIZE)
    assert envelope.open_bytes(env, EC_KEY)[1] == data
    assert envelope.open_bytes(env, rsa_key)[1] == data


def _header_len(env: bytes) -> int:
    return len(envelope.read_header(io.BytesIO(env)).encode())


def _records(env: bytes) -> tuple[bytes, list[bytes], bytes]:
    h = _header_len(env)
    body, trailer = env[h : -envelope.TRAILER_LEN], env[-envelope.TRAILER_LEN :]
    rec = CHUNK + 16
    return env[:h], [body[i : i + rec] for i in range(0, len(body), rec)], trailer


def _tampered() -> dict[str, bytes]:
    data = os.urandom(4 * CHUNK + 100)
    env = _seal(data)
    head, recs, trailer = _records(env)
    other_head, other_recs, _ = _records(_seal(data))
    cases = {
        "truncated-one-byte": env[:-1],
        "truncated-chunk": head + b"".join(recs[:-1]) + trailer,
        "truncated-header": env[:20],
        "empty": b"",
        "extended": env + b"\x00",
        "extended-chunk": head + b"".join(recs) + recs[-1] + trailer,
        "reordered": head + recs[1] + recs[0] + b"".join(recs[2:]) + trailer,
        "duplicated": head + recs[0] + b"".join(recs[:-1]) + trailer,
        "spliced-from-other-document": head + other_recs[0] + b"".join(recs[1:]) + trailer,
        "header-from-other-document": other_head + b"".join(recs) + trailer,
        "wrong-version": env[:4] + b"\x02" + env[5:],
        "wrong-magic": b"XXXX" + env[4:],
        "chunk-size-changed": env[:21] + struct.pack(">I", 8192) + env[25:],
    }
    for pos in (0, 4, 10, 22, 30, 33, 40, len(head) - 1, len(head) + 5, len(env) - 5):
        flipped = bytearray(env)
        flipped[pos] ^= 0x01
        cases[f"bit-flip-{pos}"] = bytes(flipped)
    return cases


@pytest.mark.parametrize(
    ("name", "env"), [pytest.param(n, e, id=n) for n, e in sorted(_tampered().items())]
)
def test_tampering_always_fails_with_the_one_error(name: str, env: bytes) -> None:
    with pytest.raises(InvalidEnvelope) as info:
        envelope.open_bytes(env, EC_KEY)
    assert str(info.value) == str(InvalidEnvelope())


@settings(max_examples=60, deadline=None)
@given(pos=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_single_bit_flip_fails(pos: int, bit: int) -> None:
    env = bytearray(_FLIP_BASE)
    env[pos % len(env)] ^= 1 << bit
    with pytest.raises(InvalidEnvelope):
        envelope.open_bytes(bytes(env), EC_KEY)


_FLIP_BASE = _seal(b"x" * (2 * CHUNK + 3))


def test_wrong_recipient_and_wrong_key(rsa_key: rsa.RSAPrivateKey) -> None:
    env = _seal(b"secret", EC_KEY)
    with pytest.raises(InvalidEnvelope):
        envelope.open_bytes(env, OTHER_EC)
    with pytest.raises(InvalidEnvelope):
        envelope.open_bytes(env, rsa_key)
    # a stanza for the right kid but wrapping another document's DEK
    header = envelope.read_header(io.BytesIO(env))
    foreign = envelope.read_header(io.BytesIO(_seal(b"other", EC_KEY))).stanzas[0]
    with pytest.raises(InvalidEnvelope):
        envelope.open_bytes(env, EC_KEY, stanza=foreign)
    assert header.stanzas[0].kid == key_id(EC_KEY.public_key())


def test_detached_stanza_shares_without_touching_the_envelope(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    env = _seal(b"contract", EC_KEY)
    header = envelope.read_header(io.BytesIO(env))
    key = envelope.unlock(header, EC_KEY)
    stanza = envelope.wrap_for(key, rsa_key.public_key())
    assert envelope.open_bytes(env, rsa_key, stanza=stanza.encode())[1] == b"contract"


def test_rewrap_adds_and_removes_recipients_keeping_the_body(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    env = _seal(os.urandom(3 * CHUNK), EC_KEY)
    out = io.BytesIO()
    envelope.rewrap(io.BytesIO(env), out, EC_KEY, add=[rsa_key.public_key()])
    added = out.getvalue()
    h_old, h_new = _header_len(env), _header_len(added)
    assert env[h_old:] == added[h_new:]
    assert envelope.open_bytes(added, rsa_key)[1] == envelope.open_bytes(env, EC_KEY)[1]
    out = io.BytesIO()
    envelope.rewrap(io.BytesIO(added), out, rsa_key, remove=[key_id(EC_KEY.public_key())])
    with pytest.raises(InvalidEnvelope):
        envelope.open_bytes(out.getvalue(), EC_KEY)
    assert envelope.open_bytes(out.getvalue(), rsa_key)[0].filename == "pass.pdf"


def test_limits() -> None:
    with pytest.raises(ValueError, match="limit"):
        _seal(b"x" * 10_000, max_size=9_999)
    env = _seal(b"x" * (3 * CHUNK))
    with pytest.raises(InvalidEnvelope):
        envelope.open(io.BytesIO(env), io.BytesIO(), EC_KEY, max_size=2 * CHUNK)
    with pytest.raises(ValueError, match="RSA"):
        envelope.seal_bytes(
            b"", [rsa.generate_private_key(65537, 2048).public_key()], filename="a", media_type="b"
        )


def test_metadata_is_encrypted_and_padded() -> None:
    env = _seal(b"data", content_hash="sha-256:abc")
    assert b"pass.pdf" not in env
    assert b"application/pdf" not in env
    long_name = envelope.seal_bytes(
        b"data", [EC_KEY.public_key()], filename="x" * 200, media_type="application/pdf"
    )
    assert len(long_name) == len(_seal(b"data"))
    meta, _ = envelope.open_bytes(env, EC_KEY)
    assert meta.content_hash == "sha-256:abc"


def test_open_file_leaves_nothing_on_failure(tmp_path: Path) -> None:
    env = bytearray(_seal(os.urandom(3 * CHUNK)))
    env[-100] ^= 1
    src = tmp_path / "doc.ozgv"
    src.write_bytes(bytes(env))
    with pytest.raises(InvalidEnvelope):
        envelope.open_file(src, tmp_path / "out.pdf", EC_KEY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.ozgv"]


def test_authority_private_key_as_jwk(rsa_key: rsa.RSAPrivateKey) -> None:
    from commons.encoding import b64url_encode
    from vault.recipients import load_private_key, public_jwk

    nums = rsa_key.private_numbers()

    def enc(value: int) -> str:
        return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    jwk = {
        **public_jwk(rsa_key.public_key()),
        "d": enc(nums.d), "p": enc(nums.p), "q": enc(nums.q),
        "dp": enc(nums.dmp1), "dq": enc(nums.dmq1), "qi": enc(nums.iqmp),
    }  # fmt: skip
    env = _seal(b"for the authority", rsa_key)
    loaded = load_private_key(json.dumps(jwk).encode())
    assert envelope.open_bytes(env, loaded)[1] == b"for the authority"
    assert envelope.open_bytes(env, load_private_key(_pem(rsa_key)))[1] == b"for the authority"


@pytest.mark.parametrize(
    "size", [0, 1, 65535, 65536, 65537, 2 * 65536, 2 * 65536 + 1], ids=lambda s: f"{s}B"
)
def test_default_chunk_size_boundaries(size: int) -> None:
    data = os.urandom(size)
    env = _seal(data, chunk=envelope.DEFAULT_CHUNK_SIZE)
    assert envelope.open_bytes(env, EC_KEY)[1] == data
    assert independent_decryptor.decrypt(env, _pem(EC_KEY))[1] == data


@settings(max_examples=int(os.environ.get("OZG_FUZZ_EXAMPLES", "100")), deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)),
        min_size=1,
        max_size=6,
    ),
    cut=st.integers(min_value=0),
    extra=st.binary(max_size=64),
)
def test_mangled_envelopes_only_ever_raise_invalid_envelope(
    edits: list[tuple[int, int]], cut: int, extra: bytes
) -> None:
    env = bytearray(_FLIP_BASE)
    for pos, value in edits:
        env[pos % len(env)] = value
    mangled = bytes(env[: len(env) - cut % len(env)]) + extra
    if mangled == _FLIP_BASE:
        return
    with pytest.raises(InvalidEnvelope):
        envelope.open(io.BytesIO(mangled), io.BytesIO(), EC_KEY)


def test_a_metadata_record_nested_too_deeply_is_an_invalid_envelope() -> None:
    """Found by fuzzing (tests/fuzz): the decrypted metadata record is JSON from the sender;
    2,000 nested arrays raised RecursionError in the authority's or applicant's client."""
    doc = b"[" * 2000 + b"]" * 2000
    record = struct.pack(">H", len(doc)) + doc
    with pytest.raises(InvalidEnvelope):
        envelope.Metadata.decode(record + bytes(envelope.METADATA_LEN - len(record)))
