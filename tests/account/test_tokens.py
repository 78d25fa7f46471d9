"""Unit tests of the verifier, the JWKS cache, the claims mapping and the receipt format."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jwcrypto import jwk, jws

from account.authn import BearerAuthenticator, RejectionCounter
from account.claims import ClaimsMapping, principal_from_claims
from account.erasure import subject_digest
from account.errors import InvalidToken, TokenNotPermitted
from account.principal import Role, TrustLevel
from account.tokens import JwksCache, TokenVerifier
from commons.receipts import InvalidReceipt
from commons.receipts.legacy import derived_public_keys, parse_public_key, verify_legacy

ISSUER = "https://id.example/realms/ozg"
VECTORS = Path(__file__).parent.parent / "vectors"


def _key(kty: str) -> jwk.JWK:
    key = (
        jwk.JWK.generate(kty="EC", crv="P-256")
        if kty == "EC"
        else jwk.JWK.generate(kty="RSA", size=2048)
    )
    return jwk.JWK(**{**key.export(as_dict=True), "kid": key.thumbprint()})


def _sign(key: jwk.JWK, alg: str, claims: dict[str, Any]) -> str:
    token = jws.JWS(json.dumps(claims).encode())
    token.add_signature(key, alg=alg, protected=json.dumps({"alg": alg, "kid": key.get("kid")}))
    return str(token.serialize(compact=True))


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": "ozg-api", "exp": now + 60, "iat": now, "sub": "s", **extra}


def _verifier(*keys: jwk.JWK, **kwargs: Any) -> TokenVerifier:
    document = {"keys": [k.export_public(as_dict=True) for k in keys]}
    return TokenVerifier(
        issuer=ISSUER, audience="ozg-api", keys=JwksCache(lambda: document), **kwargs
    )


@pytest.mark.parametrize(("kty", "alg"), [("RSA", "RS256"), ("RSA", "PS256"), ("EC", "ES256")])
def test_allowed_algorithms_verify(kty: str, alg: str) -> None:
    key = _key(kty)
    assert _verifier(key).verify(_sign(key, alg, _claims()))["sub"] == "s"


@pytest.mark.parametrize("alg", ["RS384", "RS512", "ES384", "PS512"])
def test_other_algorithms_are_refused(alg: str) -> None:
    key = _key("EC" if alg.startswith("ES") else "RSA")
    if alg == "ES384":
        key = jwk.JWK(
            **{**jwk.JWK.generate(kty="EC", crv="P-384").export(as_dict=True), "kid": "k"}
        )
    with pytest.raises(InvalidToken) as info:
        _verifier(key).verify(_sign(key, alg, _claims()))
    assert info.value.reason == "algorithm"


def test_algorithm_must_match_the_key_type() -> None:
    rsa, ec = _key("RSA"), _key("EC")
    token = _sign(ec, "ES256", _claims())
    header, payload, signature = token.split(".")
    forged_header = json.loads(jws.base64url_decode(header))
    forged_header.update({"alg": "RS256", "kid": rsa.get("kid")})
    forged = ".".join(
        [jws.base64url_encode(json.dumps(forged_header).encode()), payload, signature]
    )
    with pytest.raises(InvalidToken) as info:
        _verifier(rsa, ec).verify(forged)
    assert info.value.reason == "signature"


def test_not_before_and_audience_list() -> None:
    key = _key("RSA")
    verifier = _verifier(key)
    claims = _claims(aud=["account", "ozg-api"], nbf=int(time.time()) + 3600)
    with pytest.raises(InvalidToken) as info:
        verifier.verify(_sign(key, "RS256", claims))
    assert info.value.reason == "not-yet-valid"
    assert verifier.verify(_sign(key, "RS256", _claims(aud=["account", "ozg-api"])))


def test_missing_exp_and_refresh_tokens_are_refused() -> None:
    key = _key("RSA")
    claims = _claims()
    del claims["exp"]
    with pytest.raises(InvalidToken) as info:
        _verifier(key).verify(_sign(key, "RS256", claims))
    assert info.value.reason == "malformed"
    with pytest.raises(InvalidToken) as info:
        _verifier(key).verify(_sign(key, "RS256", _claims(typ="Refresh")))
    assert info.value.reason == "wrong-type"


def test_jwks_refetch_is_rate_limited() -> None:
    now = [0.0]
    documents: list[dict[str, Any]] = [{"keys": []}]
    cache = JwksCache(lambda: documents[-1], min_refresh_seconds=60, monotonic=lambda: now[0])
    assert cache.key("a") is None
    assert cache.fetches == 2  # initial load + one refetch for the unknown kid
    assert cache.key("b") is None
    assert cache.fetches == 2
    rotated = _key("RSA")
    documents.append({"keys": [rotated.export_public(as_dict=True)]})
    now[0] = 61
    assert cache.key(rotated.get("kid")) is not None
    assert cache.fetches == 3


def test_jwks_ignores_private_parts_and_encryption_keys() -> None:
    key = _key("RSA")
    enc = {**_key("RSA").export_public(as_dict=True), "use": "enc"}
    cache = JwksCache(lambda: {"keys": [key.export(as_dict=True), enc]})
    public = cache.key(key.get("kid"))
    assert public is not None
    assert not public.has_private
    assert cache.key(enc["kid"]) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_garbage_is_always_invalid_token(token: str) -> None:
    key = _key_cached()
    with pytest.raises(InvalidToken):
        _verifier(key).verify(token)


_CACHED: list[jwk.JWK] = []


def _key_cached() -> jwk.JWK:
    if not _CACHED:
        _CACHED.append(_key("EC"))
    return _CACHED[0]


def test_claims_mapping() -> None:
    mapping = ClaimsMapping("ozg-api")
    principal = principal_from_claims(
        {
            "iss": ISSUER,
            "sub": "u1",
            "acr": "STORK-QAA-Level-3",
            "realm_access": {"roles": ["caseworker", "offline_access"]},
            "resource_access": {
                "ozg-api": {"roles": ["authority:ee"]},
                "other": {"roles": ["dpo"]},
            },
            "auth_time": 1_700_000_000,
            "given_name": "Ada",
        },
        mapping,
    )
    assert principal.roles == frozenset({Role.CASEWORKER})
    assert principal.authority == "ee"
    assert principal.trust_level is TrustLevel.SUBSTANTIELL
    assert principal.issuer == ISSUER
    assert ("given_name", "Ada") in principal.attributes
    assert mapping.trust_level("unknown") is TrustLevel.BASIS
    assert mapping.trust_level(None) is TrustLevel.BASIS
    for claims in (
        {"sub": "u", "realm_access": {"roles": ["caseworker"]}},
        {
            "sub": "u",
            "realm_access": {"roles": ["dpo"]},
            "resource_access": {"ozg-api": {"roles": ["authority:a", "authority:b"]}},
        },
        {"sub": "u", "resource_access": {"other": {"roles": ["applicant"]}}},
    ):
        with pytest.raises(TokenNotPermitted):
            principal_from_claims(claims, mapping)


def test_introspection_for_opaque_tokens() -> None:
    from starlette.requests import Request

    key = _key("RSA")
    seen: list[str] = []

    def introspect(token: str) -> dict[str, Any]:
        seen.append(token)
        if token == "opaque-good":
            return {"active": True, **_claims(realm_access={"roles": ["applicant"]})}
        return {"active": False}

    authenticator = BearerAuthenticator(
        _verifier(key), ClaimsMapping("ozg-api"), RejectionCounter(), introspect=introspect
    )

    def request(token: str) -> Request:
        headers = [(b"authorization", f"Bearer {token}".encode())]
        return Request({"type": "http", "headers": headers, "method": "GET", "path": "/"})

    assert authenticator.authenticate(request("opaque-good")).subject == "s"
    with pytest.raises(InvalidToken) as info:
        authenticator.authenticate(request("opaque-bad"))
    assert info.value.reason == "inactive"
    assert authenticator.rejections.count("inactive") == 1
    assert seen == ["opaque-good", "opaque-bad"]


def _legacy_erasure_key(secret: str) -> Ed25519PrivateKey:
    """The pre-v1 erasure receipt key: HKDF-SHA256 of OZG_SECRET_KEY (docs/receipts.md)."""
    seed = HKDF(
        hashes.SHA256(), 32, salt=b"ozg-commons", info=b"account erasure receipt signing key v1"
    ).derive(secret.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def test_legacy_receipt_vector() -> None:
    """ozg-erasure-receipt/1 (no longer issued) still verifies through the legacy path."""
    vector = json.loads((VECTORS / "erasure-receipt-v1.json").read_text())
    signed = vector["signed"]
    public = derived_public_keys(vector["secret"])["erasure"]
    assert parse_public_key(signed["public_key"]).public_bytes_raw() == public.public_bytes_raw()
    receipt = verify_legacy(signed, [public])
    assert receipt.kind == "erasure"
    assert receipt.claims == signed["receipt"]
    assert receipt.claims["subject_digest"] == subject_digest(
        vector["secret"], signed["receipt"]["issuer"], vector["subject"]
    )
    # the documented signing input: sorted keys, no spaces, UTF-8 (not ASCII-escaped)
    message = json.dumps(
        signed["receipt"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    signature = _legacy_erasure_key(vector["secret"]).sign(message)
    assert jws.base64url_encode(signature) == signed["signature"]


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=7))
def test_legacy_receipt_bit_flips_fail(position: int, bit: int) -> None:
    vector = json.loads((VECTORS / "erasure-receipt-v1.json").read_text())
    signed = vector["signed"]
    public = derived_public_keys(vector["secret"])["erasure"]
    raw = bytearray(jws.base64url_decode(signed["signature"]))
    raw[position % len(raw)] ^= 1 << bit
    forged = {**signed, "signature": jws.base64url_encode(bytes(raw))}
    with pytest.raises(InvalidReceipt, match=r"^the receipt does not verify$"):
        verify_legacy(forged, [public])
    other = derived_public_keys("another-secret-that-is-long-enough-0000")["erasure"]
    with pytest.raises(InvalidReceipt, match=r"^the receipt does not verify$"):
        verify_legacy(signed, [other])


def test_oversized_tokens_are_refused_before_parsing() -> None:
    with pytest.raises(InvalidToken) as info:
        _verifier(_key_cached()).verify("a" * 20_000 + ".b.c")
    assert info.value.reason == "malformed"


def test_production_wants_starttls_for_a_remote_smtp_relay() -> None:
    from account.runtime import config_problems
    from commons.settings import Settings

    remote = Settings(env="production", sections={"account": {"smtp_host": "mail.example"}})
    assert any("OZG_ACCOUNT_SMTP_STARTTLS" in p for p in config_problems(remote))
    secured = Settings(
        env="production",
        sections={"account": {"smtp_host": "mail.example", "smtp_starttls": True}},
    )
    assert not any("OZG_ACCOUNT_SMTP_STARTTLS" in p for p in config_problems(secured))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
_role_names = st.sampled_from(
    ["applicant", "caseworker", "dpo", "flow", "admin", "authority:tf", "x"]
)


@settings(max_examples=300, deadline=None)
@example({"sub": "u", "realm_access": {"roles": ["applicant"]}, "auth_time": 10**20})
@example({"sub": "u", "realm_access": {"roles": ["applicant"]}, "auth_time": True})
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "sub": _json | st.text(max_size=10),
            "iss": _json,
            "acr": _json | st.sampled_from(["STORK-QAA-Level-4", "hoch"]),
            "azp": _json,
            "scope": _json,
            "auth_time": _json | st.integers(),
            "address": _json,
            "given_name": _json,
            "realm_access": _json | st.fixed_dictionaries({"roles": st.lists(_role_names)}),
            "resource_access": _json
            | st.fixed_dictionaries(
                {"ozg-api": st.fixed_dictionaries({"roles": st.lists(_role_names)})}
            ),
        },
    )
)
def test_claims_mapping_never_crashes(claims: dict[str, Any]) -> None:
    """Any claims either map to a principal with a role, or are refused with a 403."""
    try:
        principal = principal_from_claims(claims, ClaimsMapping("ozg-api"))
    except TokenNotPermitted:
        return
    assert principal.roles
    assert principal.subject
    if principal.roles & {Role.CASEWORKER, Role.DPO}:
        assert principal.authority


def test_address_claim_uses_the_formatted_value() -> None:
    principal = principal_from_claims(
        {
            "sub": "u",
            "realm_access": {"roles": ["applicant"]},
            "address": {"formatted": "Hauptstr. 1, 14467 Potsdam"},
        },
        ClaimsMapping("ozg-api"),
    )
    assert ("address", "Hauptstr. 1, 14467 Potsdam") in principal.attributes


@pytest.mark.parametrize("exp", ["Infinity", "NaN", '"tomorrow"', "true"])
def test_non_finite_or_non_numeric_times_are_malformed(exp: str) -> None:
    key = _key("EC")
    base = _claims()
    claims = json.dumps(base).replace(f'"exp": {base["exp"]}', f'"exp": {exp}')
    assert f'"exp": {exp}' in claims
    token = jws.JWS(claims.encode())
    token.add_signature(
        key, alg="ES256", protected=json.dumps({"alg": "ES256", "kid": key.get("kid")})
    )
    with pytest.raises(InvalidToken) as info:
        _verifier(key).verify(str(token.serialize(compact=True)))
    assert info.value.reason == "malformed"


def test_production_wants_https_for_keycloak() -> None:
    from commons.settings import Settings

    plain = Settings(
        env="production", identity_provider="keycloak", keycloak_server_url="http://id.example/"
    )
    assert any("must use https" in p for p in plain.production_problems())
    tls = Settings(
        env="production", identity_provider="keycloak", keycloak_server_url="https://id.example/"
    )
    assert not any("KEYCLOAK_SERVER_URL must use https" in p for p in tls.production_problems())


def test_a_deeply_nested_jose_header_is_malformed_not_a_recursion_error() -> None:
    """Before: RecursionError (a 500) before authentication."""
    key = _key("EC")
    nested = jws.base64url_encode(b"[" * 5_000 + b"]" * 5_000)
    with pytest.raises(InvalidToken) as info:
        _verifier(key).verify(f"{nested}.e30.sig")
    assert info.value.reason == "malformed"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": 10**400}, "malformed"),  # before: OverflowError
        ({"iat": 10**400}, "malformed"),
        ({"auth_time": -(10**400)}, "malformed"),
        ({"exp": int(time.time()) + 10 * 365 * 86400}, "lifetime"),
        ({"exp": int(time.time()) + 3600, "iat": int(time.time()) - 2 * 86400}, "lifetime"),
    ],
)
def test_absurd_time_claims_are_refused(claims: dict[str, Any], reason: str) -> None:
    key = _key("EC")
    with pytest.raises(InvalidToken) as info:
        _verifier(key).verify(_sign(key, "ES256", _claims(**claims)))
    assert info.value.reason == reason


def test_a_nested_header_over_http_is_a_401_problem(client: Any) -> None:
    nested = jws.base64url_encode(b"[" * 5_000 + b"]" * 5_000)
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {nested}.e30.sig"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
