"""A refused cross-applicant or cross-authority access leaves an audit entry with outcome
``denied`` (the target only in the shreddable personal part), and the DPO can filter and
summarise by outcome (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import select

from account.auth import current_principal
from account.principal import Principal
from commons.db import Database
from commons.settings import Settings
from compliance import leaf as leaf_format
from compliance.models import AccessEntry, AccessPersonal
from gateway import migrations
from gateway.app import create_app
from tests import factories
from tests.payments.conftest import new_payment
from tests.vault.helpers import random_doc, sealed

Act = Callable[[Principal | None], None]
OCTET = {"content-type": "application/octet-stream"}


def _denied(database: Database) -> list[tuple[AccessEntry, AccessPersonal | None]]:
    with database.transaction() as session:
        rows = session.execute(
            select(AccessEntry, AccessPersonal)
            .outerjoin(AccessPersonal, AccessPersonal.entry_id == AccessEntry.id)
            .where(AccessEntry.outcome == "denied")
            .order_by(AccessEntry.at)
        ).all()
    return [(e, p) for e, p in rows]


def _check_entry(
    entry: AccessEntry, personal: AccessPersonal | None, action: str, owner: str, actor: str
) -> None:
    assert entry.action == action
    assert personal is not None
    assert personal.data_subject == owner
    assert personal.actor_subject == actor
    # the leaf fields (what never goes away) hold neither subject
    leaf_fields = repr(
        [getattr(entry, c if c != "entry_id" else "id") for c in leaf_format.FIELD_NAMES]
    )
    assert owner not in leaf_fields
    assert actor not in leaf_fields


def test_a_refused_document_access_is_recorded_as_denied(
    client: TestClient, act_as: Act, database: Database
) -> None:
    owner, intruder = factories.applicant("owner-7a"), factories.applicant("intruder-7b")
    act_as(owner)
    env = sealed(random_doc(2000), ec.generate_private_key(ec.SECP256R1()))
    doc_id = client.post("/v1/vault/documents", content=env, headers=OCTET).json()["id"]
    act_as(intruder)
    assert client.get(f"/v1/vault/documents/{doc_id}").status_code == 404
    assert client.delete(f"/v1/vault/documents/{doc_id}").status_code == 404
    caseworker = factories.caseworker("tf", subject="cw-7c")
    act_as(caseworker)  # not shared with tf
    assert client.get(f"/v1/vault/documents/{doc_id}").status_code == 404
    # an id that names nothing is no one's data: nothing to record
    assert client.get("/v1/vault/documents/00000000-0000-4000-8000-000000000000").status_code == (
        404
    )
    denied = _denied(database)
    assert [p.actor_subject for _, p in denied if p] == ["intruder-7b", "intruder-7b", "cw-7c"]
    for entry, personal in denied:
        assert personal is not None
        _check_entry(
            entry, personal, "vault.document.access_denied", "owner-7a", personal.actor_subject
        )
    assert denied[2][0].actor_authority == "tf"


def test_a_refused_payment_access_is_recorded_as_denied(
    client: TestClient, act_as: Act, database: Database
) -> None:
    payment = new_payment(client, act_as)  # about applicant-subject-1, authority tf
    act_as(factories.caseworker("elsewhere", subject="cw-else"))
    assert client.get(f"/v1/payments/{payment['id']}").status_code == 404
    act_as(factories.applicant("someone-else"))
    assert client.get(f"/v1/payments/{payment['id']}").status_code == 404
    denied = _denied(database)
    assert len(denied) == 2
    for (entry, personal), actor in zip(denied, ("cw-else", "someone-else"), strict=True):
        _check_entry(entry, personal, "payments.access_denied", "applicant-subject-1", actor)


def test_a_refused_message_access_is_recorded_and_shown_to_the_owner(
    client: TestClient, act_as: Act, database: Database
) -> None:
    owner = factories.applicant("msg-owner")
    act_as(owner)
    client.get("/v1/me")
    act_as(factories.caseworker("p"))
    sent = client.post(
        "/v1/mailbox/messages",
        json={
            "recipient_subject": "msg-owner",
            "title": "Bescheid",
            "body": "text",
            "category": "decision",
            "case_ref": "case-1",
        },
    )
    assert sent.status_code == 201, sent.text
    act_as(owner)
    message_id = client.get("/v1/me/messages").json()[0]["id"]
    act_as(factories.applicant("msg-intruder"))
    assert client.get(f"/v1/me/messages/{message_id}").status_code == 404
    denied = _denied(database)
    assert len(denied) == 1
    _check_entry(*denied[0], "account.record.access_denied", "msg-owner", "msg-intruder")
    act_as(owner)
    log: Any = client.get("/v1/me/access-log").json()
    assert "'action': 'account.record.access_denied'" in repr(log), log


def test_the_dpo_filters_and_summarises_by_outcome(
    client: TestClient, act_as: Act, database: Database
) -> None:
    owner = factories.applicant("owner-9")
    act_as(owner)
    env = sealed(random_doc(2000), ec.generate_private_key(ec.SECP256R1()))
    doc_id = client.post("/v1/vault/documents", content=env, headers=OCTET).json()["id"]
    act_as(factories.caseworker("tf", subject="cw-9"))
    for _ in range(3):
        assert client.get(f"/v1/vault/documents/{doc_id}").status_code == 404
    act_as(factories.dpo("operator"))
    entries = client.get("/v1/audit/entries", params={"outcome": "denied"}).json()["entries"]
    assert len(entries) == 3
    assert {e["outcome"] for e in entries} == {"denied"}
    assert client.get("/v1/audit/entries", params={"outcome": "maybe"}).status_code == 422
    counts = client.get("/v1/audit/summary", params={"outcome": "denied"}).json()["counts"]
    assert counts == [
        {
            "actor": "cw-9",
            "role": "caseworker",
            "authority": "tf",
            "action": "vault.document.access_denied",
            "outcome": "denied",
            "count": 3,
        }
    ]
    everything = client.get("/v1/audit/summary").json()["counts"]
    assert {c["outcome"] for c in everything} == {"success", "denied"}


def test_a_denied_entry_is_written_on_a_database_the_app_owns(tmp_path: Path) -> None:
    """Outside the test's rolled-back connection: after the refusal's own rollback the entry
    gets a transaction of its own (on SQLite, once the write lock is free again)."""
    settings = Settings(data_dir=tmp_path / "var")
    settings.data_dir.mkdir(parents=True)
    migrations.upgrade(settings.effective_database_url)
    app = create_app(settings)
    with TestClient(app) as client:
        owner = factories.applicant("owned-owner")
        app.dependency_overrides[current_principal] = lambda: owner
        env = sealed(random_doc(2000), ec.generate_private_key(ec.SECP256R1()))
        doc_id = client.post("/v1/vault/documents", content=env, headers=OCTET).json()["id"]
        intruder = factories.applicant("owned-intruder")
        app.dependency_overrides[current_principal] = lambda: intruder
        assert client.get(f"/v1/vault/documents/{doc_id}").status_code == 404
        denied = _denied(app.state.database)
    assert [(e.action, p.actor_subject if p else None) for e, p in denied] == [
        ("vault.document.access_denied", "owned-intruder")
    ]
