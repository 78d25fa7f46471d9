"""Security Event Tokens: issue, verify strictly, compare echoed tags."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk as jw_jwk
from jwcrypto import jws as jw_jws

from commons.encoding import b64url_encode
from gateway.fitconnect import events, jwe
from gateway.fitconnect.errors import InvalidEventToken, TagMismatch
from tests.gateway.fitconnect.conftest import NOW, Pki

SUB, CASE, ATT = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
ISS = "https://ozg.example/destinations/" + str(uuid.uuid4())


def _keys(pki: Pki) -> dict[str, rsa.RSAPublicKey]:
    return {pki.authority.signing_jwk["kid"]: pki.authority.signing_key.public_key()}


def _tags(pki: Pki) -> events.AuthenticationTags:
    key = pki.authority.encryption_jwk
    return events.AuthenticationTags(
        metadata=jwe.encrypt(b"{}", key, "application/json").tag,
        data=jwe.encrypt(b"{}", key, "application/json").tag,
        attachments={ATT: jwe.encrypt(b"%PDF", key, "application/pdf").tag},
    )


def _issue(pki: Pki, event: str = "accept-submission", **payload: Any) -> str:
    return events.issue_event(
        event,
        submission_id=SUB,
        case_id=CASE,
        issuer=ISS,
        signing_key=pki.authority.signing_key,
        kid=pki.authority.signing_jwk["kid"],
        now=NOW,
        payload=payload,
    )


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    def dec(p: str) -> dict[str, Any]:
        return dict(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))))

    h, p, s = token.split(".")
    return dec(h), dec(p), s


def _resign(pki: Pki, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token with arbitrary header and claims, correctly signed (tests the shape checks)."""
    head, body = (
        b64url_encode(json.dumps(header).encode()),
        b64url_encode(json.dumps(claims).encode()),
    )
    sig = pki.authority.signing_key.sign(f"{head}.{body}".encode(), events._PSS, hashes.SHA512())
    return f"{head}.{body}.{b64url_encode(sig)}"


def test_accept_round_trip_and_tags(pki: Pki) -> None:
    tags = _tags(pki)
    token = _issue(pki, authenticationTags=tags.as_json())
    header, claims, _ = _parts(token)
    assert header == {
        "alg": "PS512",
        "typ": "secevent+jwt",
        "kid": pki.authority.signing_jwk["kid"],
    }
    assert claims["sub"] == f"submission:{SUB}"
    assert claims["txn"] == f"case:{CASE}"
    assert claims["iat"] == int(NOW.timestamp())
    assert "transactionTimestamp" not in claims
    assert list(claims["events"]) == [events.ACCEPT]
    event = events.verify_event(token, _keys(pki), issuer=ISS, now=NOW)
    assert (event.name, event.submission_id, event.case_id, event.issued_at) == (
        "accept-submission",
        SUB,
        CASE,
        NOW,
    )
    events.check_tags(event, tags)
    changed = events.AuthenticationTags(tags.metadata, tags.data, {ATT: tags.metadata})
    with pytest.raises(TagMismatch):
        events.check_tags(event, changed)
    with pytest.raises(TagMismatch):
        events.check_tags(event, events.AuthenticationTags(tags.data or "", tags.data, {}))


def test_jwcrypto_verifies_ours_and_we_verify_jwcrypto(pki: Pki) -> None:
    token = _issue(pki, "submit-submission")
    public = jw_jwk.JWK.from_pyca(pki.authority.signing_key.public_key())
    checker = jw_jws.JWS()
    checker.deserialize(token)
    checker.verify(public, alg="PS512")
    claims = {
        "jti": str(uuid.uuid4()),
        "iss": ISS,
        "iat": 1_700_000_000,
        "sub": f"submission:{SUB}",
        "txn": f"case:{CASE}",
        "events": {events.REJECT: {"problems": [events.problem("DataSchemaViolation")]}},
    }
    theirs = jw_jws.JWS(json.dumps(claims).encode())
    theirs.add_signature(
        jw_jwk.JWK.from_pyca(pki.authority.signing_key),
        alg="PS512",
        protected=json.dumps(
            {"alg": "PS512", "typ": "secevent+jwt", "kid": pki.authority.signing_jwk["kid"]}
        ),
    )
    event = events.verify_event(theirs.serialize(compact=True), _keys(pki))
    assert event.name == "reject-submission"
    assert event.problems[0]["type"] == events.DATA_SCHEMA_VIOLATION


def test_every_event_uri_round_trips(pki: Pki) -> None:
    for name in events.EVENT_NAMES:
        extra: dict[str, Any] = {}
        if name == "accept-submission":
            extra = {"authenticationTags": _tags(pki).as_json()}
        if name == "reject-submission":
            extra = {"problems": [events.problem("TechnicalError", detail="x")]}
        event = events.verify_event(_issue(pki, name, **extra), _keys(pki))
        assert event.uri == "https://schema.fitko.de/fit-connect/events/" + name


def test_issue_refuses_bad_input(pki: Pki) -> None:
    with pytest.raises(ValueError, match="unknown event"):
        _issue(pki, "approve-submission")
    with pytest.raises(ValueError, match="authenticationTags"):
        _issue(pki, "accept-submission")
    with pytest.raises(ValueError, match="problems"):
        _issue(pki, "reject-submission")
    with pytest.raises(ValueError, match="UUID"):
        events.issue_event(
            "submit-submission",
            submission_id="not-a-uuid",
            case_id=CASE,
            issuer=ISS,
            signing_key=pki.authority.signing_key,
            kid="k",
            now=NOW,
        )
    with pytest.raises(ValueError, match="unknown problem"):
        events.problem("NoSuchProblem")


def _tampered(pki: Pki) -> dict[str, str]:
    good = _issue(pki, authenticationTags=_tags(pki).as_json())
    header, claims, sig = _parts(good)
    h, p, s = good.split(".")
    kid = pki.authority.signing_jwk["kid"]
    base = {"alg": "PS512", "typ": "secevent+jwt", "kid": kid}
    two_events = dict(claims, events={**claims["events"], events.SUBMIT: {}})
    cases = {
        "truncated": good[:-10],
        "two parts": f"{h}.{p}",
        "four parts": good + ".x",
        "payload flipped": f"{h}.{p[:-3]}{'A' if p[-3] != 'A' else 'B'}{p[-2:]}.{s}",
        "signature flipped": f"{h}.{p}.{s[:5]}{'A' if s[5] != 'A' else 'B'}{s[6:]}",
        "signature of another token": f"{h}.{_issue(pki, 'submit-submission').split('.')[1]}.{s}",
        "alg none": f"{b64url_encode(json.dumps(dict(base, alg='none')).encode())}.{p}.",
        "alg RS512": _resign(pki, dict(base, alg="RS512"), claims),
        "alg HS512": _resign(pki, dict(base, alg="HS512"), claims),
        "typ jwt": _resign(pki, dict(base, typ="jwt"), claims),
        "unknown kid": _resign(pki, dict(base, kid="someone-else"), claims),
        "crit header": _resign(pki, dict(base, crit=["x"]), claims),
        "two events": _resign(pki, base, two_events),
        "no events": _resign(pki, base, dict(claims, events={})),
        "unknown event": _resign(pki, base, dict(claims, events={events.EVENT_BASE + "x": {}})),
        "sub shape": _resign(pki, base, dict(claims, sub=f"reply:{SUB}")),
        "sub not uuid": _resign(pki, base, dict(claims, sub="submission:123")),
        "txn shape": _resign(pki, base, dict(claims, txn=CASE)),
        "iat string": _resign(pki, base, dict(claims, iat=str(claims["iat"]))),
        "iat bool": _resign(pki, base, dict(claims, iat=True)),
        "iat far future": _resign(pki, base, dict(claims, iat=claims["iat"] + 3600)),
        "no jti": _resign(pki, base, {k: v for k, v in claims.items() if k != "jti"}),
        "other issuer": _resign(pki, base, dict(claims, iss="https://evil.example")),
        "accept without tags": _resign(pki, base, dict(claims, events={events.ACCEPT: {}})),
        "accept bad tag": _resign(
            pki,
            base,
            dict(claims, events={events.ACCEPT: {"authenticationTags": {"metadata": "AAAA"}}}),
        ),
        "reject without problems": _resign(pki, base, dict(claims, events={events.REJECT: {}})),
        "not base64url": f"{h}.{p}+.{s}",
    }
    assert header
    assert sig
    return cases


def test_tampered_tokens_all_refused_alike(pki: Pki) -> None:
    messages = set()
    for name, token in _tampered(pki).items():
        with pytest.raises(InvalidEventToken) as caught:
            events.verify_event(token, _keys(pki), issuer=ISS, now=NOW)
        messages.add(str(caught.value))
        assert name
    assert len(messages) == 1


def test_wrong_key_and_small_key_refused(pki: Pki) -> None:
    token = _issue(pki, "submit-submission")
    kid = pki.authority.signing_jwk["kid"]
    with pytest.raises(InvalidEventToken):
        events.verify_event(token, {kid: pki.other_key.public_key()})
    with pytest.raises(InvalidEventToken):
        events.verify_event(token, {kid: pki.ca_key.public_key()})  # 3072 bits
    assert events.verify_event(token, _keys(pki), now=NOW + timedelta(days=30)).name


def test_non_accept_event_cannot_confirm_tags(pki: Pki) -> None:
    event = events.verify_event(_issue(pki, "submit-submission"), _keys(pki))
    with pytest.raises(TagMismatch):
        events.check_tags(event, _tags(pki))


def test_deep_nesting_and_an_iat_past_the_year_9999_are_refused(pki: Pki) -> None:
    """Found by fuzzing (tests/fuzz): a header of 2,000 nested arrays raised RecursionError
    before the signature was checked; a signed ``iat`` of 10**20, verified without ``now``
    (as the applicant's client does), raised OverflowError in ``datetime.fromtimestamp``."""
    good = _issue(pki, authenticationTags=_tags(pki).as_json())
    header, claims, _ = _parts(good)
    _, p, s = good.split(".")
    nested = f"{b64url_encode(b'[' * 2000 + b']' * 2000)}.{p}.{s}"
    for token in (nested, _resign(pki, header, dict(claims, iat=10**20))):
        with pytest.raises(InvalidEventToken):
            events.verify_event(token, _keys(pki))
