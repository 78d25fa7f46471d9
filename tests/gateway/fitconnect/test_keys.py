"""Destination keys: every FIT-Connect rule refuses what breaks it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509

from gateway.fitconnect import keys
from gateway.fitconnect.demo import make_self_signed_key
from gateway.fitconnect.errors import InvalidDestinationKey
from tests.gateway.fitconnect.conftest import AUTHORITY, NOW, Pki
from vault.pki import issue_authority_key, make_ca, make_crl
from vault.recipients import key_id
from vault.revocation import RevocationChecker


def _checker(pki: Pki, revoked: list[int] | None = None) -> RevocationChecker:
    crl = make_crl(pki.ca_key, pki.ca_cert, revoked or [], NOW)
    return RevocationChecker(crls=[crl], anchors=[pki.ca_cert])


def _validate(pki: Pki, jwk: Any, **kw: Any) -> keys.DestinationKey:
    options: dict[str, Any] = {
        "authority": AUTHORITY,
        "anchors": [pki.ca_cert],
        "revocation": _checker(pki),
        "now": NOW,
    }
    options.update(kw)
    return keys.validate_destination_key(jwk, **options)


def _leaf_serial(jwk: dict[str, Any]) -> int:
    import base64

    return x509.load_der_x509_certificate(base64.b64decode(jwk["x5c"][0])).serial_number


def test_valid_encryption_and_signature_keys(pki: Pki) -> None:
    enc = _validate(pki, pki.authority.encryption_jwk)
    assert enc.kid == keys.kid_for(pki.authority.encryption_jwk)
    assert enc.kid == key_id(pki.authority.encryption_key.public_key())
    assert enc.jwk["key_ops"] == ["wrapKey"]
    assert enc.jwk["alg"] == "RSA-OAEP-256"
    assert "d" not in enc.jwk
    assert enc.authority == AUTHORITY
    sig = _validate(pki, pki.authority.signing_jwk, purpose="verify")
    assert sig.jwk["alg"] == "PS512"
    assert sig.jwk["key_ops"] == ["verify"]
    assert _validate(pki, pki.authority.encryption_jwk, expected_kid=enc.kid).kid == enc.kid


def _issue(pki: Pki, **kw: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "san_uris": [keys.authority_urn(AUTHORITY)],
        "key": pki.authority.encryption_key,
    }
    options.update(kw)
    ca_key, ca_cert = options.pop("ca", (pki.ca_key, pki.ca_cert))
    return issue_authority_key(ca_key, ca_cert, AUTHORITY, NOW, **options)[1]


def _member_cases(pki: Pki) -> dict[str, tuple[Any, str]]:
    good = pki.authority.encryption_jwk
    return {
        "not an object": ([good], "JWK object"),
        "private key": ({**good, "d": "AAAA"}, "private"),
        "kty EC": ({**good, "kty": "EC"}, "kty"),
        "key_ops missing": ({k: v for k, v in good.items() if k != "key_ops"}, "key_ops"),
        "key_ops extra": ({**good, "key_ops": ["wrapKey", "encrypt"]}, "key_ops"),
        "key_ops encrypt": ({**good, "key_ops": ["encrypt"]}, "key_ops"),
        "alg missing": ({k: v for k, v in good.items() if k != "alg"}, "alg"),
        "alg RSA-OAEP": ({**good, "alg": "RSA-OAEP"}, "alg"),
        "use sig": ({**good, "use": "sig"}, "use"),
        "e not AQAB": ({**good, "e": "Aw"}, "AQAB"),
        "n not base64url": ({**good, "n": good["n"] + "=="}, "base64url"),
        "kid too short": ({**good, "kid": "abc"}, "8 to 64"),
        "x5c missing": ({k: v for k, v in good.items() if k != "x5c"}, "x5c"),
        "x5c empty": ({**good, "x5c": []}, "x5c"),
        "x5c malformed": ({**good, "x5c": ["bm90IGEgY2VydA=="]}, "malformed"),
        "leaf certifies another key": (
            {**good, "x5c": pki.authority.signing_jwk["x5c"]},
            "does not certify",
        ),
    }


def test_member_rules(pki: Pki) -> None:
    for name, (jwk, message) in _member_cases(pki).items():
        with pytest.raises(InvalidDestinationKey, match=message):
            _validate(pki, jwk)
        assert name


def test_expected_kid(pki: Pki) -> None:
    with pytest.raises(InvalidDestinationKey, match="announced"):
        _validate(pki, pki.authority.encryption_jwk, expected_kid="x" * 43)


def test_too_small_modulus(pki: Pki) -> None:
    small = _issue(pki, key=pki.ca_key)  # 3072 bits
    with pytest.raises(InvalidDestinationKey, match="4096"):
        _validate(pki, small)


def test_validity_dates(pki: Pki) -> None:
    expired = _issue(pki, not_before=NOW - timedelta(days=10), days=5)
    with pytest.raises(InvalidDestinationKey, match="expired"):
        _validate(pki, expired)
    future = _issue(pki, not_before=NOW + timedelta(days=1))
    with pytest.raises(InvalidDestinationKey, match="not yet valid"):
        _validate(pki, future)


def test_chain_must_lead_to_a_pinned_root(pki: Pki) -> None:
    other_ca = make_ca("someone else's CA", NOW)
    foreign = _issue(pki, ca=other_ca)
    with pytest.raises(InvalidDestinationKey, match="trusted CA"):
        _validate(pki, foreign)
    # the foreign root shipped in x5c (issue_authority_key appends it) is not trusted for it
    assert len(foreign["x5c"]) == 2
    with pytest.raises(InvalidDestinationKey, match="trusted CA"):
        _validate(pki, foreign, anchors=[pki.ca_cert])


def test_key_usage_must_fit_the_purpose(pki: Pki) -> None:
    signing_cert_as_encryption = {
        **_issue(pki, purpose="verify"),
        "alg": "RSA-OAEP-256",
        "key_ops": ["wrapKey"],
        "use": "enc",
    }
    with pytest.raises(InvalidDestinationKey, match="key encipherment"):
        _validate(pki, signing_cert_as_encryption)
    with pytest.raises(InvalidDestinationKey, match=r'\["verify"\]'):
        _validate(pki, pki.authority.encryption_jwk, purpose="verify")
    wrong_alg = {**pki.authority.signing_jwk, "alg": "RS512"}
    with pytest.raises(InvalidDestinationKey, match="PS512"):
        _validate(pki, wrong_alg, purpose="verify")


def test_revocation(pki: Pki) -> None:
    jwk = pki.authority.encryption_jwk
    with pytest.raises(InvalidDestinationKey, match="revoked"):
        _validate(pki, jwk, revocation=_checker(pki, [_leaf_serial(jwk)]))
    with pytest.raises(InvalidDestinationKey, match="no current CRL"):
        _validate(pki, jwk, revocation=RevocationChecker(crls=[], anchors=[pki.ca_cert]))


def test_authority_binding(pki: Pki) -> None:
    with pytest.raises(InvalidDestinationKey, match="names no authority"):
        _validate(pki, _issue(pki, san_uris=[]))
    with pytest.raises(InvalidDestinationKey, match="another authority"):
        _validate(pki, _issue(pki, san_uris=[keys.authority_urn("lk-elbe-elster")]))
    two = [keys.authority_urn(AUTHORITY), keys.authority_urn("lk-elbe-elster")]
    with pytest.raises(InvalidDestinationKey, match="exactly one"):
        _validate(pki, _issue(pki, san_uris=two))
    with pytest.raises(InvalidDestinationKey, match="another authority"):
        _validate(pki, pki.authority.encryption_jwk, authority="lh-potsdam")
    with pytest.raises(ValueError, match="no spaces"):
        keys.authority_urn("a b")


def test_self_signed_only_with_the_test_switch(pki: Pki, caplog: pytest.LogCaptureFixture) -> None:
    jwk = make_self_signed_key(pki.authority.encryption_key, AUTHORITY, NOW)
    with pytest.raises(InvalidDestinationKey, match="trusted CA"):
        _validate(pki, jwk)
    accepted = _validate(pki, jwk, allow_self_signed=True, anchors=[])
    assert accepted.kid == jwk["kid"]
    assert "UNSAFE" in caplog.text
    other = make_self_signed_key(pki.authority.encryption_key, "lh-potsdam", NOW)
    with pytest.raises(InvalidDestinationKey, match="another authority"):
        _validate(pki, other, allow_self_signed=True)
    with pytest.raises(InvalidDestinationKey, match="key_ops"):
        _validate(pki, {**jwk, "key_ops": ["verify"]}, allow_self_signed=True)
