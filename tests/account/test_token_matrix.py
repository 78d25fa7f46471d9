"""The token matrix, against the development IdP and the Keycloak-shaped provider.

Every case goes through the real app (``GET /v1/me`` or a step-up endpoint) with a bearer
token obtained from the identity provider, or forged from one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from jwcrypto import jwk, jws

from account.auth import require_trust_level
from account.authn import BearerAuthenticator
from account.erasure import subject_digest
from account.models import Erasure
from account.principal import TrustLevel
from account.tokens import JwksCache
from commons.clock import FixedClock
from commons.db import Database
from commons.ids import new_id_str
from commons.settings import Settings
from gateway.app import create_app

TOKEN_PATH = "/protocol/openid-connect/token"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Harness:
    """One identity provider plus an app that trusts it."""

    name: str
    app: FastAPI
    client: TestClient
    token_url: str
    http: Any  # something with .post(url, data=...) -> response

    @property
    def authenticator(self) -> BearerAuthenticator:
        authenticator: BearerAuthenticator = self.app.state.authenticator
        return authenticator

    def password_token(self, username: str, client_id: str = "ozg-cli", secret: str = "") -> str:
        data = {"grant_type": "password", "client_id": client_id, "username": username}
        data["password"] = username
        if secret:
            data["client_secret"] = secret
        response = self.http.post(self.token_url, data=data)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def get(self, path: str, token: str) -> Any:
        return self.client.get(path, headers={"Authorization": f"Bearer {token}"})

    def rejections(self, reason: str) -> float:
        return self.authenticator.rejections.count(reason)


def _add_step_up_route(app: FastAPI) -> None:
    router = APIRouter()

    @router.get("/step-up/hoch", dependencies=[Depends(require_trust_level(TrustLevel.HOCH))])
    def hoch_only() -> dict[str, bool]:
        return {"ok": True}

    app.include_router(router)


USERS = {
    "dev": {"applicant": "demo-applicant", "hoch": "demo-applicant-hoch", "dpo": "demo-dpo"},
    "oidc": {"applicant": "test-applicant", "hoch": "test-applicant-hoch", "dpo": "test-dpo"},
}


@pytest.fixture(params=["dev", pytest.param("oidc", marks=pytest.mark.oidc)])
def idp(
    request: pytest.FixtureRequest, settings: Settings, database: Database
) -> Iterator[Harness]:
    if request.param == "dev":
        app = create_app(settings, database)
        _add_step_up_route(app)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Harness(
                "dev",
                app,
                client,
                f"/dev-idp/realms/ozg-dev{TOKEN_PATH}",
                client,
            )
        return
    oidc: Settings = request.getfixturevalue("oidc_settings")
    merged = oidc.model_copy(
        update={"data_dir": settings.data_dir, "database_url": settings.database_url}
    )
    app = create_app(merged, database)
    _add_step_up_route(app)
    base = f"{(oidc.keycloak_server_url or '').rstrip('/')}/realms/{oidc.keycloak_realm}"
    with TestClient(app, raise_server_exceptions=False) as client, httpx.Client() as http:
        yield Harness("oidc", app, client, f"{base}{TOKEN_PATH}", http)


def assert_rejected(harness: Harness, response: Any, status: int, reason: str, token: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["reason"] == reason
    assert token not in response.text
    assert token not in response.headers.get("www-authenticate", "")
    assert harness.rejections(reason) >= 1


def forge(
    token: str,
    *,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    key: jwk.JWK | None = None,
    alg: str = "RS256",
) -> str:
    """A token with the original's claims (updated by ``claims``), signed by ``key``."""
    payload = json.loads(unb64(token.split(".")[1]))
    payload.update(claims or {})
    key = key or jwk.JWK.generate(kty="RSA", size=2048)
    signed = jws.JWS(json.dumps(payload).encode())
    signed.add_signature(key, alg=alg, protected=json.dumps({"alg": alg, **(header or {})}))
    return str(signed.serialize(compact=True))


def test_valid_token_is_accepted(idp: Harness) -> None:
    token = idp.password_token(USERS[idp.name]["applicant"])
    response = idp.get("/v1/me", token)
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["roles"] == ["applicant"]
    assert me["trust_level"] == "basis"
    assert me["account_id"]


def test_dpo_token_carries_the_authority(idp: Harness) -> None:
    me = idp.get("/v1/me", idp.password_token(USERS[idp.name]["dpo"])).json()
    assert me["roles"] == ["dpo"]
    assert me["authority"] == "operator"
    assert me["trust_level"] == "substantiell"


def test_missing_token(idp: Harness) -> None:
    response = idp.client.get("/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["reason"] == "missing"


def test_expired(idp: Harness) -> None:
    token = idp.password_token(USERS[idp.name]["applicant"])
    idp.authenticator.verifier.clock = FixedClock(datetime.now(UTC) + timedelta(hours=1))
    response = idp.get("/v1/me", token)
    assert_rejected(idp, response, 401, "expired", token)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_not_yet_valid(idp: Harness) -> None:
    token = idp.password_token(USERS[idp.name]["applicant"])
    idp.authenticator.verifier.clock = FixedClock(datetime.now(UTC) - timedelta(hours=1))
    assert_rejected(idp, idp.get("/v1/me", token), 401, "not-yet-valid", token)


def test_leeway_tolerates_small_skew(idp: Harness) -> None:
    token = idp.password_token(USERS[idp.name]["applicant"])
    idp.authenticator.verifier.clock = FixedClock(datetime.now(UTC) - timedelta(seconds=10))
    assert idp.get("/v1/me", token).status_code == 200


def test_wrong_issuer(idp: Harness) -> None:
    token = idp.password_token(USERS[idp.name]["applicant"])
    idp.authenticator.verifier.issuer = "http://127.0.0.1:1/realms/elsewhere"
    assert_rejected(idp, idp.get("/v1/me", token), 401, "wrong-issuer", token)


def test_wrong_audience(idp: Harness) -> None:
    if idp.name == "oidc":
        token = idp.password_token(
            USERS[idp.name]["applicant"], client_id="other-app", secret="other-app-secret"
        )
    else:
        token = idp.app.state.dev_idp.access_token(
            _demo("demo-applicant"), _dev_client("ozg-cli"), overrides={"aud": "account"}
        )
    assert_rejected(idp, idp.get("/v1/me", token), 401, "wrong-audience", token)


def test_unknown_kid_is_fetched_once_then_rejected(idp: Harness) -> None:
    good = idp.password_token(USERS[idp.name]["applicant"])
    assert idp.get("/v1/me", good).status_code == 200
    fetches = idp.authenticator.verifier.keys.fetches
    token = forge(good, header={"kid": "not-a-known-key"})
    assert_rejected(idp, idp.get("/v1/me", token), 401, "unknown-key", token)
    assert idp.authenticator.verifier.keys.fetches == fetches + 1
    again = forge(good, header={"kid": "another-unknown-key"})
    assert_rejected(idp, idp.get("/v1/me", again), 401, "unknown-key", again)
    assert idp.authenticator.verifier.keys.fetches == fetches + 1  # rate-limited


def test_alg_none(idp: Harness) -> None:
    good = idp.password_token(USERS[idp.name]["applicant"])
    kid = json.loads(unb64(good.split(".")[0]))["kid"]
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    token = f"{header}.{good.split('.')[1]}."
    assert_rejected(idp, idp.get("/v1/me", token), 401, "algorithm", token)


def test_hs256_signed_with_the_public_key(idp: Harness) -> None:
    good = idp.password_token(USERS[idp.name]["applicant"])
    kid = json.loads(unb64(good.split(".")[0]))["kid"]
    public = idp.authenticator.verifier.keys.key(kid)
    assert public is not None
    pem = public.export_to_pem()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    signing_input = f"{header}.{good.split('.')[1]}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64(mac)}"
    assert_rejected(idp, idp.get("/v1/me", token), 401, "algorithm", token)


def test_key_embedded_in_the_token(idp: Harness) -> None:
    good = idp.password_token(USERS[idp.name]["applicant"])
    kid = json.loads(unb64(good.split(".")[0]))["kid"]
    attacker = jwk.JWK.generate(kty="RSA", size=2048)
    token = forge(
        good, header={"kid": kid, "jwk": attacker.export_public(as_dict=True)}, key=attacker
    )
    assert_rejected(idp, idp.get("/v1/me", token), 401, "embedded-key", token)


def test_tampered_payload(idp: Harness) -> None:
    good = idp.password_token(USERS[idp.name]["applicant"])
    header, payload, signature = good.split(".")
    claims = json.loads(unb64(payload))
    claims["realm_access"] = {"roles": ["applicant", "admin"]}
    token = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    assert_rejected(idp, idp.get("/v1/me", token), 401, "signature", token)


def test_signed_by_another_key_under_the_real_kid(idp: Harness) -> None:
    good = idp.password_token(USERS[idp.name]["applicant"])
    kid = json.loads(unb64(good.split(".")[0]))["kid"]
    token = forge(good, header={"kid": kid, "typ": "JWT"})
    assert_rejected(idp, idp.get("/v1/me", token), 401, "signature", token)


def _signed_with_claims(idp: Harness, token: str, claims: dict[str, Any]) -> str:
    """``token`` with ``claims`` changed, signed by a key the app trusts: the development
    IdP's own; for the external provider, a test key the app is made to trust."""
    payload = {**json.loads(unb64(token.split(".")[1])), **claims}
    if idp.name == "dev":
        signed: str = idp.app.state.dev_idp.sign(payload)
        return signed
    key = jwk.JWK.generate(kty="RSA", size=2048, kid="test-trusted-key")
    public = {**key.export_public(as_dict=True), "use": "sig"}
    idp.authenticator.verifier.keys = JwksCache(lambda: {"keys": [public]})
    return forge(token, header={"kid": "test-trusted-key"}, claims=claims, key=key)


def test_auth_time_in_the_future(idp: Harness) -> None:
    good = idp.password_token(USERS[idp.name]["applicant"])
    now = int(datetime.now(UTC).timestamp())
    leeway = idp.authenticator.verifier.leeway
    skewed = _signed_with_claims(idp, good, {"auth_time": now + leeway - 10})
    assert idp.get("/v1/me", skewed).status_code == 200  # within the leeway
    token = _signed_with_claims(idp, good, {"auth_time": now + 3600})
    response = idp.get("/v1/me", token)
    assert_rejected(idp, response, 401, "auth-time-in-future", token)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    malformed = _signed_with_claims(idp, good, {"auth_time": "yesterday"})
    assert_rejected(idp, idp.get("/v1/me", malformed), 401, "malformed", malformed)


def test_token_of_an_erased_account(idp: Harness) -> None:
    token = idp.password_token(USERS[idp.name]["applicant"])
    assert idp.get("/v1/me", token).status_code == 200
    claims = json.loads(unb64(token.split(".")[1]))
    secret = idp.app.state.settings.secret_key.get_secret_value()
    now = datetime.now(UTC)
    with idp.app.state.database.transaction() as session:  # as erase_subject leaves it
        session.add(
            Erasure(
                id=new_id_str(),
                subject_digest=subject_digest(secret, claims["iss"], claims["sub"]),
                erased_at=now,
                delete_after=now + timedelta(days=1),
                receipt={},
            )
        )
    response = idp.get("/v1/me", token)
    assert_rejected(idp, response, 401, "account-erased", token)
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_missing_roles(idp: Harness) -> None:
    if idp.name == "oidc":
        token = idp.password_token("test-noroles")
    else:
        token = idp.app.state.dev_idp.access_token(
            _demo("demo-applicant"),
            _dev_client("ozg-cli"),
            overrides={"realm_access": {"roles": ["offline_access"]}},
        )
    assert_rejected(idp, idp.get("/v1/me", token), 403, "no-role", token)


def test_insufficient_acr_gets_rfc_9470_step_up(idp: Harness) -> None:
    basis = idp.password_token(USERS[idp.name]["applicant"])
    before = idp.rejections("insufficient-trust-level")
    response = idp.get("/step-up/hoch", basis)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_user_authentication", acr_values="hoch"'
    )
    assert idp.rejections("insufficient-trust-level") == before + 1
    hoch = idp.password_token(USERS[idp.name]["hoch"])
    assert idp.get("/step-up/hoch", hoch).status_code == 200
    assert idp.get("/v1/me", hoch).json()["trust_level"] == "hoch"


def test_flow_client_credentials(idp: Harness) -> None:
    client_id, secret = (
        ("test-flow", "test-flow-secret")
        if idp.name == "oidc"
        else ("demo-flow", "demo-flow-secret")
    )
    response = idp.http.post(
        idp.token_url,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.text
    me = idp.get("/v1/me", response.json()["access_token"]).json()
    assert me["roles"] == ["flow"]
    assert me["client_id"] == client_id
    assert me["account_id"] is None


def test_rejections_are_logged_without_the_token(
    idp: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    good = idp.password_token(USERS[idp.name]["applicant"])
    token = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    with caplog.at_level(logging.WARNING, logger="ozg.security"):
        idp.get("/v1/me", token)
    events = [r for r in caplog.records if r.name == "ozg.security"]
    assert events
    assert events[-1].__dict__["reason"] == "signature"
    assert events[-1].__dict__["route"] == "/v1/me"
    claims = json.loads(unb64(good.split(".")[1]))
    for record in events:
        text = json.dumps(record.__dict__, default=str)
        assert token not in text
        assert claims["sub"] not in text


def test_rejections_show_in_metrics(idp: Harness) -> None:
    idp.client.get("/v1/me")
    text = idp.client.get("/metrics").text
    assert 'ozg_auth_rejections_total{reason="missing"}' in text


def _demo(username: str) -> Any:
    from account.devidp import DEMO_USERS

    return DEMO_USERS[username]


def _dev_client(client_id: str) -> Any:
    from account.devidp import DEMO_CLIENTS

    return DEMO_CLIENTS[client_id]


def test_pem_public_key_is_not_an_hmac_key() -> None:
    """Sanity: the HS256 attack above really used the issuer's public key bytes."""
    key = jwk.JWK.generate(kty="RSA", size=2048)
    pem = key.export_to_pem()
    assert serialization.load_pem_public_key(pem) is not None
