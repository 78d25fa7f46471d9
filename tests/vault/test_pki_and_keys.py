"""Authority key registration (x5c against trust anchors, rotation)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account import Principal
from commons.clock import FixedClock
from commons.db import Database
from gateway.app import create_app
from tests import factories
from tests.vault.helpers import NOW, authority_key, ca, pki_settings, write_crl
from vault.errors import InvalidKey
from vault.pki import issue_authority_key, make_ca, validate_authority_jwk

ActAs = Callable[[Principal | None], None]


def _anchors() -> list[Any]:
    return [ca()[1]]


def _issue(**kw: Any) -> dict[str, Any]:
    key, cert = ca()
    return issue_authority_key(key, cert, "tf", NOW, bits=3072, **kw)[1]


def test_a_good_key_is_accepted() -> None:
    _k, jwk = authority_key("tf")
    validated = validate_authority_jwk(jwk, _anchors(), NOW, authority="tf")
    assert validated.jwk["key_ops"] == ["wrapKey"]
    assert validated.not_after > NOW


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda j: {**j, "key_ops": ["encrypt"]}, "wrapKey"),
        (lambda j: {k: v for k, v in j.items() if k != "key_ops"}, "wrapKey"),
        (lambda j: {**j, "alg": "RSA1_5"}, "RSA-OAEP-256"),
        (lambda j: {k: v for k, v in j.items() if k != "x5c"}, "x5c"),
        (lambda j: {**j, "x5c": j["x5c"][1:]}, "does not certify"),
        (lambda j: {**j, "x5c": ["bm90IGEgY2VydA=="]}, "malformed"),
        (lambda j: {**j, "n": authority_key("other")[1]["n"]}, "does not certify"),
        (lambda j: {**j, "kty": "EC"}, "RSA"),
    ],
)
def test_bad_keys_are_refused(
    mutate: Callable[[dict[str, Any]], dict[str, Any]], message: str
) -> None:
    _k, jwk = authority_key("tf")
    with pytest.raises(InvalidKey, match=message):
        validate_authority_jwk(mutate(jwk), _anchors(), NOW, authority="tf")


def test_expired_not_yet_valid_unchained_and_wrong_usage() -> None:
    with pytest.raises(InvalidKey, match="expired"):
        validate_authority_jwk(_issue(), _anchors(), NOW + timedelta(days=400), authority="tf")
    with pytest.raises(InvalidKey, match="not yet valid"):
        validate_authority_jwk(
            _issue(not_before=NOW + timedelta(days=1)), _anchors(), NOW, authority="tf"
        )
    with pytest.raises(InvalidKey, match="key encipherment"):
        validate_authority_jwk(_issue(key_encipherment=False), _anchors(), NOW, authority="tf")
    rogue_key, rogue_cert = make_ca("rogue CA", NOW)
    _k, rogue = issue_authority_key(rogue_key, rogue_cert, "tf", NOW, bits=3072)
    with pytest.raises(InvalidKey, match="trusted CA"):
        validate_authority_jwk(rogue, _anchors(), NOW, authority="tf")
    # a chain whose CA certificate was swapped for the rogue one is broken
    swapped = {
        **rogue,
        "x5c": [
            rogue["x5c"][0],
            base64.b64encode(ca()[1].public_bytes(serialization.Encoding.DER)).decode(),
        ],
    }
    with pytest.raises(InvalidKey, match="broken"):
        validate_authority_jwk(swapped, _anchors(), NOW, authority="tf")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC))


@pytest.fixture
def app(tmp_path: Path, database_url: str, database: Database, clock: FixedClock) -> FastAPI:
    settings = pki_settings(tmp_path, database_url, key_overlap_days=7)
    app = create_app(settings, database)
    app.state.vault.clock = clock
    return app


def test_rotation_with_overlap(
    client: TestClient, act_as: ActAs, clock: FixedClock, tmp_path: Path
) -> None:
    act_as(factories.admin())
    first, second = _issue(), _issue()
    r1 = client.post("/v1/vault/authorities/tf/keys", json={"jwk": first})
    assert r1.status_code == 201, r1.text
    assert client.post("/v1/vault/authorities/tf/keys", json={"jwk": first}).status_code == 409
    act_as(factories.applicant())
    assert client.get("/v1/vault/authorities/tf/key").json()["kid"] == r1.json()["kid"]
    act_as(factories.admin())
    r2 = client.post("/v1/vault/authorities/tf/keys", json={"jwk": second})
    act_as(factories.applicant())
    active = client.get("/v1/vault/authorities/tf/key").json()
    assert active["kid"] == r2.json()["kid"]
    clock.advance(timedelta(days=8))
    # a week on, the CRL has expired: fail closed until the operator's refresh lands
    assert client.get("/v1/vault/authorities/tf/key").status_code == 503
    write_crl(tmp_path / "ca.crl", now=clock.now())
    assert client.get("/v1/vault/authorities/tf/key").json()["kid"] == r2.json()["kid"]
    assert client.get("/v1/vault/authorities/nowhere/key").status_code == 404


def test_registration_refusal_is_a_clear_problem(client: TestClient, act_as: ActAs) -> None:
    act_as(factories.admin())
    r = client.post("/v1/vault/authorities/tf/keys", json={"jwk": {**_issue(), "key_ops": []}})
    assert r.status_code == 422
    assert "wrapKey" in r.json()["detail"]
