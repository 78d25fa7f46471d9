"""GDPR export (Art. 15/20) and erasure (Art. 17): every row exported, nothing left behind."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from account.erasure import RECEIPT_RETENTION
from account.models import Account, Consent, Erasure, Login, Message, ProfileAttribute
from account.principal import Principal, Role, TrustLevel
from commons.clock import FixedClock
from commons.components import RetainedRecord, ShredReport
from commons.db import Base, Database
from commons.encoding import b64url_decode, b64url_encode, canonical_json
from commons.ids import new_id_str
from commons.receipts import InvalidReceipt, verify
from compliance.retention import run_retention
from gateway.declarations import all_declarations
from gateway.migrations import import_all_models
from tests import factories

Act = Callable[[Principal | None], None]
CANARIES = {
    "given_name": "Canary-Given-7f3a",
    "family_name": "Canary-Family-91bc",
    "email": "canary-4d2e@example.test",
    "birthdate": "1901-02-03",
    "address": "Canarystraße 17, 14467 Potsdam",
}
MESSAGE_CANARIES = ("Canary-Title-5e6f", "Canary-Body-a1b2")
CONSENT_CANARY = "canary-purpose-c3d4"
SUBJECT = "canary-subject-0001"


class FakeIdentityAdmin:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def logout_all_sessions(self, subject: str) -> None:
        self.calls.append(("logout", subject))

    def disable_user(self, subject: str) -> None:
        self.calls.append(("disable", subject))

    def attributes(self, subject: str) -> dict[str, list[str]]:
        return {}


def applicant(auth_age: timedelta = timedelta(minutes=1)) -> Principal:
    return Principal(
        subject=SUBJECT,
        roles=frozenset({Role.APPLICANT}),
        trust_level=TrustLevel.HOCH,
        issuer="http://127.0.0.1:8000/dev-idp/realms/ozg-dev",
        auth_time=datetime.now(UTC) - auth_age,
        attributes=(
            ("given_name", CANARIES["given_name"]),
            ("family_name", CANARIES["family_name"]),
            ("email", CANARIES["email"]),
            ("birthdate", CANARIES["birthdate"]),
        ),
    )


def seed(client: TestClient, act_as: Act) -> None:
    act_as(applicant(auth_age=timedelta(hours=5)))
    client.get("/v1/me")
    act_as(applicant())
    client.get("/v1/me")
    client.put("/v1/me/attributes/address", json={"value": CANARIES["address"]})
    client.put("/v1/me/notifications", json={"email_notifications": True})
    for version in ("1", "2"):
        consent = client.post(
            "/v1/me/consents",
            json={
                "purpose": CONSENT_CANARY,
                "legal_basis": "Art. 6(1)(a) GDPR",
                "recipient_authority": "p",
                "text_version": version,
            },
        ).json()
    client.post(f"/v1/me/consents/{consent['id']}/withdraw")
    act_as(factories.caseworker("p"))
    for category in ("decision", "payment"):
        response = client.post(
            "/v1/mailbox/messages",
            json={
                "recipient_subject": SUBJECT,
                "title": MESSAGE_CANARIES[0],
                "body": MESSAGE_CANARIES[1],
                "category": category,
                "case_ref": "case-1",
            },
        )
        assert response.status_code == 201
    act_as(applicant())
    first = client.get("/v1/me/messages").json()[0]
    client.get(f"/v1/me/messages/{first['id']}")


def all_rows(session: Session) -> dict[str, list[dict[str, Any]]]:
    import_all_models()
    rows = {}
    for table in Base.metadata.sorted_tables:
        rows[table.name] = [dict(r._mapping) for r in session.execute(select(table))]
    return rows


def test_export_contains_every_account_row(
    app: FastAPI, client: TestClient, act_as: Act, database: Database
) -> None:
    seed(client, act_as)
    app.state.personal_data.add(
        "fake", export=lambda s, subject: {"subject_seen": subject}, shred=_fake_shred
    )
    act_as(applicant())
    response = client.get("/v1/me/export")
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["format"] == "ozg-personal-data-export/1"
    assert bundle["domains"]["fake"] == {"subject_seen": SUBJECT}
    exported = bundle["domains"]["account"]["accounts"]
    assert len(exported) == 1
    with database.transaction() as session:
        account = session.scalars(select(Account).where(Account.subject == SUBJECT)).one()
        assert exported[0]["account"]["id"] == account.id
        for model in (ProfileAttribute, Login, Consent, Message):
            ids = set(session.scalars(select(model.id).where(model.account_id == account.id)))
            assert ids, model.__tablename__
            assert {r["id"] for r in exported[0][model.__tablename__]} == ids
    text = json.dumps(bundle, ensure_ascii=False)
    for canary in (*CANARIES.values(), *MESSAGE_CANARIES, CONSENT_CANARY):
        assert canary in text


def _fake_shred(session: Session, subject: str) -> ShredReport:
    return ShredReport(
        component="fake",
        shredded=1,
        retained=[RetainedRecord("payment", "p-1", "§ 147 AO", datetime(2036, 12, 31, tzinfo=UTC))],
    )


def test_erasure_leaves_only_minimal_retained_records(
    app: FastAPI, client: TestClient, act_as: Act, database: Database
) -> None:
    admin = FakeIdentityAdmin()
    app.state.identity_admin = admin
    app.state.personal_data.add("fake", export=lambda s, subject: {}, shred=_fake_shred)
    seed(client, act_as)
    with database.transaction() as session:
        before = json.dumps(all_rows(session), default=str, ensure_ascii=False)
    assert all(c in before for c in CANARIES.values())

    act_as(applicant())
    response = client.request("DELETE", "/v1/me", json={"confirm": "erase my account"})
    assert response.status_code == 200, response.text
    signed = response.json()
    assert admin.calls == [("logout", SUBJECT), ("disable", SUBJECT)]

    with database.transaction() as session:
        rows = all_rows(session)
    text = json.dumps(rows, default=str, ensure_ascii=False)
    for canary in (*CANARIES.values(), *MESSAGE_CANARIES, CONSENT_CANARY):
        assert canary not in text, canary
    for table in (
        "account_account",
        "account_profile_attribute",
        "account_login",
        "account_consent",
        "account_message",
    ):
        assert rows[table] == [], table
    (kept,) = rows["account_erasure"]
    assert SUBJECT not in json.dumps(kept, default=str)
    # What remains about the subject: the audit trail (pseudonymous subject id, legally
    # retained) and the erasure record; both without any of the seeded values.
    assert any(e["action"] == "account.data.erase" for e in rows["compliance_access_entry"])

    jwks = client.get("/v1/receipts/keys").json()
    receipt = verify(signed["receipt"], jwks)
    assert receipt.kind == signed["kind"] == "erasure"
    assert receipt.claims == signed["claims"] == kept["receipt"]["claims"]
    assert receipt.kid == jwks["keys"][0]["kid"]
    domains = {d["domain"]: d for d in receipt.claims["domains"]}
    assert domains["account"]["deleted"] >= 8
    assert domains["fake"]["retained"][0]["legal_basis"] == "§ 147 AO"
    assert receipt.claims["retained"][0]["record_type"] == "account_erasure"
    header, payload, signature = signed["receipt"].split(".")
    forged = json.loads(b64url_decode(payload))
    forged["reason"] = "other"
    with pytest.raises(InvalidReceipt):
        verify(f"{header}.{b64url_encode(canonical_json(forged))}.{signature}", jwks)
    # the deprecated key route is an alias of the one key set
    alias = client.get("/v1/account/erasure-receipt-key")
    assert alias.json() == jwks
    assert alias.headers["Deprecation"] == "true"

    # The same (still valid at the IdP) token cannot bring the account back.
    for path in ("/v1/me", "/v1/me/messages"):
        refused = client.get(path)
        assert refused.status_code == 401
        assert refused.json()["reason"] == "account-erased"
    with database.transaction() as session:
        assert session.scalars(select(Account)).all() == []
    # A new authentication after the erasure starts a new, empty account.
    act_as(applicant(auth_age=-timedelta(seconds=5)))
    assert client.get("/v1/me/messages").json() == []


def test_erasure_needs_confirmation_and_recent_authentication(
    client: TestClient, act_as: Act
) -> None:
    act_as(applicant())
    client.get("/v1/me")
    assert client.request("DELETE", "/v1/me").status_code == 422
    assert client.request("DELETE", "/v1/me", json={"confirm": "yes"}).status_code == 422
    act_as(applicant(auth_age=timedelta(hours=1)))
    response = client.request("DELETE", "/v1/me", json={"confirm": "erase my account"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_user_authentication", max_age=600'
    )
    act_as(factories.caseworker())
    response = client.request("DELETE", "/v1/me", json={"confirm": "erase my account"})
    assert response.status_code == 403


def test_retention_deletes_erasure_receipts_after_three_years(database: Database) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    ids = {"due": new_id_str(), "kept": new_id_str()}
    with database.transaction() as session:
        for which, age in (
            ("due", RECEIPT_RETENTION + timedelta(days=1)),
            ("kept", RECEIPT_RETENTION - timedelta(days=1)),
        ):
            session.add(
                Erasure(
                    id=ids[which],
                    subject_digest="0" * 64,
                    erased_at=now - age,
                    delete_after=now - age + RECEIPT_RETENTION,
                    receipt={},
                )
            )
    with database.transaction() as session:
        done = run_retention(session, all_declarations(), clock=FixedClock(now))
    assert (done["account_erasure"] or 0) >= 1  # receipts other tests committed may be due too
    with database.transaction() as session:
        left = set(session.scalars(select(Erasure.id).where(Erasure.id.in_(ids.values()))))
    assert left == {ids["kept"]}
