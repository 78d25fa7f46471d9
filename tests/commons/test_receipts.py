"""commons.receipts: format v1 round trips, the published vectors, rotation, and one opaque
error for every way a receipt can be wrong."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from jwcrypto import jwk, jws
from pydantic import SecretStr, ValidationError

from commons.clock import FixedClock
from commons.encoding import b64url_decode, b64url_encode, canonical_json
from commons.errors import ConfigurationError
from commons.receipts import KINDS, InvalidReceipt, ReceiptSigner, load_signer, verify
from commons.receipts.keys import generate_private_jwk_text, parse_private_jwk, public_jwk
from commons.settings import Settings

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "receipts-v1.json").read_text())
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ISSUER = "https://ozg.example"


def _signer(seed: bytes = bytes(range(32)), **kwargs: Any) -> ReceiptSigner:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return ReceiptSigner(key, ISSUER, clock=FixedClock(T0), **kwargs)


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_per_kind(kind: str) -> None:
    signer = _signer()
    token = signer.sign(kind, {"n": 1, "text": "Straße", "nested": {"a": [1, None, True]}})
    receipt = verify(token, signer.jwks())
    assert receipt.kind == kind
    assert receipt.claims == {"n": 1, "text": "Straße", "nested": {"a": [1, None, True]}}
    assert receipt.issued_at == T0
    assert receipt.issuer == ISSUER
    assert receipt.kid == signer.kid == signer.jwks()["keys"][0]["kid"]
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header == {"alg": "EdDSA", "kid": signer.kid, "typ": f"ozg-receipt-{kind}+jws"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    claims=st.dictionaries(
        st.text(max_size=10).filter(lambda k: k not in {"v", "kind", "iat", "iss"}),
        json_values,
        max_size=6,
    ),
)
def test_any_claims_round_trip(kind: str, claims: dict[str, Any]) -> None:
    signer = _signer()
    receipt = verify(signer.sign(kind, claims), signer.jwks())
    assert (receipt.kind, dict(receipt.claims)) == (kind, claims)


def test_published_vectors_are_recomputed_byte_for_byte() -> None:
    key = parse_private_jwk(VECTORS["signing_key"])
    assert key.private_bytes_raw() == bytes.fromhex(VECTORS["signing_key_seed_hex"])
    retired = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(VECTORS["retired_key_seed_hex"]))
    current = ReceiptSigner(key, VECTORS["issuer"], retired=[retired.public_key()])
    assert current.jwks() == VECTORS["jwks"]
    signers = {s.kid: s for s in (current, ReceiptSigner(retired, VECTORS["issuer"]))}
    assert len(VECTORS["receipts"]) >= len(KINDS)
    for vector in VECTORS["receipts"]:
        at = datetime.fromtimestamp(vector["iat"], UTC)
        token = signers[vector["kid"]].sign(vector["kind"], vector["claims"], issued_at=at)
        assert token == vector["jws"], vector["description"]
        header, payload, _ = token.split(".")
        assert b64url_decode(header).decode() == vector["header"]
        assert b64url_decode(payload).decode() == vector["payload"]
        receipt = verify(token, VECTORS["jwks"])
        assert (receipt.kind, dict(receipt.claims), receipt.kid) == (
            vector["kind"],
            vector["claims"],
            vector["kid"],
        )


def test_vectors_verify_with_an_independent_jose_library() -> None:
    """Any JOSE library verifies a receipt: jwcrypto, given the published JWKS."""
    keyset = jwk.JWKSet.from_json(json.dumps(VECTORS["jwks"]))
    for vector in VECTORS["receipts"]:
        token = jws.JWS()
        token.deserialize(vector["jws"])
        token.verify(keyset.get_key(vector["kid"]), alg="EdDSA")
        assert json.loads(token.payload) == json.loads(vector["payload"])
        assert (
            jwk.JWK(**public_jwk(keyset.get_key(vector["kid"])._get_public_key())).thumbprint()
            == vector["kid"]
        )


def test_rotation_retired_keys_still_verify() -> None:
    old = _signer(bytes(range(32, 64)))
    token = old.sign("payment", {"x": 1})
    old_public = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64))).public_key()
    rotated = _signer(retired=[old_public])
    assert [k["kid"] for k in rotated.jwks()["keys"]] == [rotated.kid, old.kid]
    assert verify(token, rotated.jwks()).kid == old.kid
    assert verify(rotated.sign("payment", {"x": 2}), rotated.jwks()).kid == rotated.kid
    with pytest.raises(InvalidReceipt):
        verify(token, _signer().jwks())  # once dropped from the set, no longer


def _forge(
    token: str,
    *,
    header: Any = None,
    payload: Any = None,
    raw: bytes | None = None,
    key: Any = None,
) -> str:
    """A token with a replaced header/payload, signed by ``key`` (default: the vector key)."""
    h, p, _ = token.split(".")
    if header is not None:
        h = b64url_encode(canonical_json(header))
    if payload is not None:
        p = b64url_encode(canonical_json(payload))
    if raw is not None:
        p = b64url_encode(raw)
    key = key or Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    return f"{h}.{p}.{b64url_encode(key.sign(f'{h}.{p}'.encode()))}"


def _tamper_cases() -> dict[str, tuple[str, Any]]:
    signer = _signer()
    jwks = signer.jwks()
    good = signer.sign("erasure", {"reason": "request"})
    header = json.loads(b64url_decode(good.split(".")[0]))
    payload = json.loads(b64url_decode(good.split(".")[1]))
    h, p, s = good.split(".")
    other = Ed25519PrivateKey.generate()
    hmac_header = {**header, "alg": "HS256"}
    changed = {**payload, "reason": "other"}
    return {
        "payload changed": (f"{h}.{b64url_encode(canonical_json(changed))}.{s}", jwks),
        "signature bit": (f"{h}.{p}.{s[:5]}{'A' if s[5] != 'A' else 'B'}{s[6:]}", jwks),
        "wrong key": (good, ReceiptSigner(other, ISSUER).jwks()),
        "unknown kid": (_forge(good, header={**header, "kid": "nope"}), jwks),
        "typ/kind mismatch": (_forge(good, payload={**payload, "kind": "payment"}), jwks),
        "unknown kind": (
            _forge(
                good,
                header={**header, "typ": "ozg-receipt-x+jws"},
                payload={**payload, "kind": "x"},
            ),
            jwks,
        ),
        "alg none": (f"{b64url_encode(canonical_json({**header, 'alg': 'none'}))}.{p}.", jwks),
        "alg HS256": (_forge(good, header=hmac_header), jwks),
        "extra header field": (_forge(good, header={**header, "crit": ["x"]}), jwks),
        "version 2": (_forge(good, payload={**payload, "v": 2}), jwks),
        "non-canonical payload": (_forge(good, raw=json.dumps(payload).encode()), jwks),
        "duplicate claim": (
            _forge(good, raw=b'{"iat":1,"iat":2' + canonical_json(payload)[1:]),
            jwks,
        ),
        "truncated": (good[:-10], jwks),
        "two parts": (f"{h}.{p}", jwks),
        "padded base64": (f"{h}.{p}=.{s}", jwks),
        "not text": (b"x.y.z", jwks),  # type: ignore[dict-item]
        "empty jwks": (good, {}),
        "iat a string": (_forge(good, payload={**payload, "iat": "0"}), jwks),
    }


@pytest.mark.parametrize("case", sorted(_tamper_cases()))
def test_every_defect_gives_the_one_opaque_error(case: str) -> None:
    token, jwks = _tamper_cases()[case]
    with pytest.raises(InvalidReceipt) as raised:
        verify(token, jwks)
    assert str(raised.value) == "the receipt does not verify"
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_signing_refuses_unknown_kinds_and_envelope_claims() -> None:
    with pytest.raises(ValueError, match="unknown receipt kind"):
        _signer().sign("shipment", {})
    with pytest.raises(ValueError, match="envelope"):
        _signer().sign("erasure", {"iat": 0})


def test_development_generates_a_private_key_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = load_signer(settings)
    path = tmp_path / "receipts" / "signing-key.jwk"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_signer(settings).kid == first.kid  # kept, not regenerated
    assert "kid" in path.read_text()


def test_configured_key_and_retired_keys(tmp_path: Path) -> None:
    text = generate_private_jwk_text()
    retired = public_jwk(Ed25519PrivateKey.generate().public_key())
    settings = Settings(
        data_dir=tmp_path,
        receipt_signing_key=SecretStr(text),
        receipt_retired_keys=[json.dumps({k: retired[k] for k in ("kty", "crv", "x")})],
    )
    signer = load_signer(settings, clock=FixedClock(T0))
    assert signer.kid == json.loads(text)["kid"]
    assert [k["kid"] for k in signer.jwks()["keys"]] == [signer.kid, retired["kid"]]
    assert verify(signer.sign("payment", {}), signer.jwks()).issued_at == T0
    assert not (tmp_path / "receipts").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "receipt_signing_key",
            SecretStr('{"kty":"OKP","crv":"Ed25519","d":"c2hvcnQ"}'),
            "OZG_RECEIPT_SIGNING_KEY is not",
        ),
        (
            "receipt_signing_key",
            SecretStr("base64-seed-not-accepted"),
            "ozg-commons receipt keygen",
        ),
        (
            "receipt_retired_keys",
            ['{"kty":"OKP","crv":"Ed25519","x":"AA"}'],
            "OZG_RECEIPT_RETIRED_KEYS[0]",
        ),
    ],
)
def test_malformed_keys_are_refused_with_a_clear_message(
    field: str, value: Any, message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(**{field: value})
    assert message in str(raised.value)
    assert "c2hvcnQ" not in str(raised.value)  # never the key material


def test_production_refuses_to_start_without_the_key(tmp_path: Path) -> None:
    settings = Settings(env="production", data_dir=tmp_path)
    assert any(
        p.startswith("OZG_RECEIPT_SIGNING_KEY is not set") for p in settings.production_problems()
    )
    with pytest.raises(ConfigurationError, match="ozg-commons receipt keygen"):
        load_signer(settings)
    assert not (tmp_path / "receipts").exists()


def test_issued_at_defaults_to_the_injected_clock() -> None:
    clock = FixedClock(T0)
    signer = ReceiptSigner(Ed25519PrivateKey.generate(), ISSUER, clock=clock)
    clock.advance(timedelta(hours=1))
    assert verify(signer.sign("erasure", {}), signer.jwks()).issued_at == T0 + timedelta(hours=1)


@pytest.mark.parametrize("part", [0, 1])
def test_deeply_nested_json_is_an_invalid_receipt(part: int) -> None:
    """Found by fuzzing (tests/fuzz): a header of 5,000 nested arrays raised RecursionError
    (before any signature check); a payload so nested, signed, did the same."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    parts = [b64url_encode(b'{"alg":"EdDSA"}'), b64url_encode(b"{}")]
    parts[part] = b64url_encode(b"[" * 5000 + b"]" * 5000)
    signing_input = ".".join(parts)
    token = f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"
    with pytest.raises(InvalidReceipt):
        verify(token, _signer().jwks())


def test_a_legacy_receipt_nested_nearly_too_deeply_is_an_invalid_receipt() -> None:
    """Found by fuzzing: claims that ``json.loads`` still takes (980 levels, at the top of the
    stack) made the legacy verifier's ``json.dumps`` raise RecursionError."""
    from commons.receipts import legacy

    nested: list[Any] = []
    for _ in range(980):
        nested = [nested]
    document = {"receipt": {"format": legacy.ERASURE_FORMAT, "x": nested}, "signature": "AA"}

    def deeper(levels: int) -> None:
        if levels:
            deeper(levels - 1)
            return
        with pytest.raises(InvalidReceipt):
            legacy.verify_legacy(document, [Ed25519PrivateKey.generate().public_key()])

    deeper(40)
