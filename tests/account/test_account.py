"""The account over HTTP: creation on first use, profile, logins, consents, mailbox."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from account import has_consent
from account.mailbox import SmtpNotifier
from account.models import Account, Login
from account.principal import Principal, Role, TrustLevel
from account.runtime import AccountSettings
from commons.db import Database
from compliance.models import AccessEntry
from tests import factories

Act = Callable[[Principal | None], None]


def idp_applicant(
    subject: str = "applicant-1", auth_time: datetime | None = None, **attributes: str
) -> Principal:
    return Principal(
        subject=subject,
        roles=frozenset({Role.APPLICANT}),
        trust_level=TrustLevel.SUBSTANTIELL,
        issuer="http://127.0.0.1:8000/dev-idp/realms/ozg-dev",
        auth_time=auth_time or datetime.now(UTC).replace(microsecond=0),
        attributes=tuple(attributes.items()),
    )


def test_account_is_created_on_first_use(
    client: TestClient, act_as: Act, database: Database
) -> None:
    act_as(idp_applicant(given_name="Ada", family_name="Lovelace"))
    first = client.get("/v1/me").json()
    second = client.get("/v1/me").json()
    assert first["account_id"] == second["account_id"]
    assert {a["name"]: (a["value"], a["source"]) for a in first["attributes"]} == {
        "given_name": ("Ada", "idp"),
        "family_name": ("Lovelace", "idp"),
    }
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1
        assert session.scalar(select(func.count()).select_from(Login)) == 1
        actions = set(session.scalars(select(AccessEntry.action)))
    assert {"account.account.create", "account.profile.read"} <= actions


def test_a_read_writes_nothing_but_its_audit_entry(
    client: TestClient, act_as: Act, database: Database
) -> None:
    """GET /v1/me for a known account: no UPDATE of the account or its attributes (they
    queue concurrent requests of one user on row locks), only the audit entry is written."""
    principal = idp_applicant(given_name="Ada")
    act_as(principal)
    assert client.get("/v1/me").status_code == 200
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()).upper())

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        assert client.get("/v1/me").status_code == 200
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert not [s for s in statements if s.startswith(("UPDATE", "DELETE"))], statements
    # the access entry only, in ONE statement: its row, its erasable personal part and its
    # sequencing queue row (SQLite: into the view whose trigger writes the three; PostgreSQL:
    # three inserts chained as CTEs)
    inserts = [s for s in statements if "INSERT INTO" in s]
    assert len(inserts) == 1, statements
    written = set(re.findall(r"INSERT INTO (\w+)", inserts[0]))
    assert written == (
        {"COMPLIANCE_ACCESS_APPEND"}
        if database.dialect == "sqlite"
        else {"COMPLIANCE_ACCESS_ENTRY", "COMPLIANCE_ACCESS_PERSONAL", "COMPLIANCE_PENDING"}
    ), statements


def test_last_seen_moves_on_after_an_hour_and_idp_changes_are_written(
    client: TestClient, act_as: Act, database: Database
) -> None:
    act_as(idp_applicant(given_name="Ada"))
    client.get("/v1/me")
    with database.transaction() as session:
        account = session.scalars(select(Account)).one()
        account.last_seen_at = account.last_seen_at - timedelta(hours=2)
        stale = account.last_seen_at
    act_as(idp_applicant(given_name="Adelheid"))
    body = client.get("/v1/me").json()
    assert {a["name"]: a["value"] for a in body["attributes"]} == {"given_name": "Adelheid"}
    with database.transaction() as session:
        assert session.scalars(select(Account)).one().last_seen_at > stale


def test_login_history_lists_each_authentication(client: TestClient, act_as: Act) -> None:
    earlier = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    act_as(idp_applicant(auth_time=earlier))
    client.get("/v1/me")
    act_as(
        Principal(
            subject="applicant-1",
            roles=frozenset({Role.APPLICANT}),
            trust_level=TrustLevel.HOCH,
            issuer="http://127.0.0.1:8000/dev-idp/realms/ozg-dev",
            auth_time=earlier + timedelta(hours=1),
        )
    )
    client.get("/v1/me")
    client.get("/v1/me")
    history = client.get("/v1/me/logins").json()
    assert [h["trust_level"] for h in history] == ["hoch", "substantiell"]


def test_identity_provider_attributes_are_not_editable(client: TestClient, act_as: Act) -> None:
    act_as(idp_applicant(given_name="Ada"))
    response = client.put("/v1/me/attributes/given_name", json={"value": "Eve"})
    assert response.status_code == 409
    response = client.put("/v1/me/attributes/nationality", json={"value": "FRA"})
    assert response.status_code == 200
    assert response.json()["source"] == "applicant"
    assert client.put("/v1/me/attributes/password", json={"value": "x"}).status_code == 422


def test_consents_are_receipts_and_withdrawal_is_honoured(
    client: TestClient, act_as: Act, database: Database
) -> None:
    act_as(idp_applicant())
    consent = client.post(
        "/v1/me/consents",
        json={
            "purpose": "share-documents-with-authority",
            "legal_basis": "Art. 6(1)(a) GDPR",
            "recipient_authority": "tf",
            "text_version": "2026-11",
        },
    ).json()
    assert consent["withdrawn_at"] is None
    with database.transaction() as session:
        assert has_consent(session, "applicant-1", "share-documents-with-authority")
        assert not has_consent(
            session, "applicant-1", "share-documents-with-authority", recipient_authority="ee"
        )
    withdrawn = client.post(f"/v1/me/consents/{consent['id']}/withdraw").json()
    assert withdrawn["withdrawn_at"] is not None
    with database.transaction() as session:
        assert not has_consent(session, "applicant-1", "share-documents-with-authority")
    assert client.get("/v1/me/consents").json()[0]["withdrawn_at"] is not None
    act_as(idp_applicant("someone-else"))
    assert client.post(f"/v1/me/consents/{consent['id']}/withdraw").status_code == 404


def _send(client: TestClient, act_as: Act, **overrides: Any) -> Any:
    act_as(factories.caseworker("tf"))
    body = {
        "recipient_subject": "applicant-1",
        "title": "Bitte reichen Sie Ihren Pass nach",
        "body": "Sehr geehrte Antragstellerin, ...",
        "category": "request-for-documents",
        "document_refs": ["doc-1"],
        "case_ref": "case-7",
        **overrides,
    }
    return client.post("/v1/mailbox/messages", json=body)


def test_mailbox_send_list_read_archive(
    client: TestClient, act_as: Act, database: Database
) -> None:
    act_as(idp_applicant())
    client.get("/v1/me")
    sent = _send(client, act_as)
    assert sent.status_code == 201, sent.text
    act_as(idp_applicant())
    listed = client.get("/v1/me/messages").json()
    assert len(listed) == 1
    assert "body" not in listed[0]
    assert listed[0]["read_at"] is None
    opened = client.get(f"/v1/me/messages/{listed[0]['id']}").json()
    assert opened["body"].startswith("Sehr geehrte")
    assert opened["read_at"] is not None
    assert opened["sender_authority"] == "tf"
    client.post(f"/v1/me/messages/{listed[0]['id']}/archive")
    assert client.get("/v1/me/messages").json() == []
    assert len(client.get("/v1/me/messages", params={"archived": True}).json()) == 1
    with database.transaction() as session:
        actions = list(session.scalars(select(AccessEntry.action)))
    assert actions.count("account.message.read") == 1
    assert "account.message.send" in actions
    assert "account.message.archive" in actions
    act_as(idp_applicant("someone-else"))
    assert client.get(f"/v1/me/messages/{listed[0]['id']}").status_code == 404


def test_mailbox_validation_and_senders(client: TestClient, act_as: Act) -> None:
    act_as(idp_applicant())
    client.get("/v1/me")
    assert _send(client, act_as, title="x" * 1025).status_code == 422
    assert _send(client, act_as, category="gossip").status_code == 422
    assert _send(client, act_as, recipient_subject="nobody").status_code == 404
    act_as(idp_applicant())
    response = client.post(
        "/v1/mailbox/messages",
        json={"recipient_subject": "applicant-1", "title": "t", "body": "b", "category": "status"},
    )
    assert response.status_code == 403
    act_as(factories.flow_client())
    response = client.post(
        "/v1/mailbox/messages",
        json={"recipient_subject": "applicant-1", "title": "t", "body": "b", "category": "status"},
    )
    assert response.status_code == 201


def test_a_message_body_is_text_or_a_sealed_envelope(client: TestClient, act_as: Act) -> None:
    act_as(idp_applicant())
    client.get("/v1/me")
    plain = _send(client, act_as)  # no body_format: text, as before
    sealed = _send(client, act_as, body="T1pHVgE", body_format="ozg-envelope")
    assert (plain.status_code, sealed.status_code) == (201, 201)
    act_as(idp_applicant())
    formats = {
        m["id"]: client.get(f"/v1/me/messages/{m['id']}").json()["body_format"]
        for m in client.get("/v1/me/messages").json()
    }
    assert formats == {plain.json()["id"]: "text", sealed.json()["id"]: "ozg-envelope"}
    assert _send(client, act_as, body="not base64!", body_format="ozg-envelope").status_code == 422
    assert _send(client, act_as, body="x" * 100_001).status_code == 422
    assert _send(client, act_as, body_format="pdf").status_code == 422


class _Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.received = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        self.received.set()
        return "250 OK"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[_Sink, int]]:
    sink = _Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def test_email_notice_is_opt_in_and_carries_no_content(
    app: FastAPI, client: TestClient, act_as: Act, smtp_sink: tuple[_Sink, int]
) -> None:
    sink, port = smtp_sink
    app.state.mail_notifier = SmtpNotifier(AccountSettings(smtp_host="127.0.0.1", smtp_port=port))
    act_as(idp_applicant(email="ada@example.test"))
    client.get("/v1/me")
    assert _send(client, act_as).status_code == 201
    assert sink.messages == []  # not opted in
    act_as(idp_applicant(email="ada@example.test"))
    assert client.put("/v1/me/notifications", json={"email_notifications": True}).status_code == 204
    assert (
        _send(client, act_as, title="Entscheidung", body="Ihr Titel ist erteilt").status_code == 201
    )
    assert sink.received.wait(5)
    envelope = sink.messages[0]
    assert envelope.rcpt_tos == ["ada@example.test"]
    text = envelope.content.decode()
    assert "Entscheidung" not in text
    assert "erteilt" not in text
    assert "tf" not in text.split()
    assert "Postfach" in text


def test_notice_failure_does_not_lose_the_message(
    app: FastAPI, client: TestClient, act_as: Act
) -> None:
    app.state.mail_notifier = SmtpNotifier(AccountSettings(smtp_host="127.0.0.1", smtp_port=1))
    act_as(idp_applicant(email="ada@example.test"))
    client.put("/v1/me/notifications", json={"email_notifications": True})
    assert _send(client, act_as).status_code == 201
    act_as(idp_applicant())
    assert len(client.get("/v1/me/messages").json()) == 1


def test_non_applicants_have_no_account(client: TestClient, act_as: Act) -> None:
    act_as(factories.caseworker("ee"))
    me = client.get("/v1/me").json()
    assert me["account_id"] is None
    assert me["authority"] == "ee"
    assert client.get("/v1/me/messages").status_code == 403


def test_every_action_used_is_declared(client: TestClient, act_as: Act, database: Database) -> None:
    from account.declarations import ACTIONS

    act_as(idp_applicant(email="ada@example.test"))
    client.get("/v1/me")
    _send(client, act_as)
    act_as(idp_applicant())
    (message,) = client.get("/v1/me/messages").json()
    client.get(f"/v1/me/messages/{message['id']}")
    client.get("/v1/me/logins")
    client.get("/v1/me/consents")
    with database.transaction() as session:
        used = set(session.scalars(select(AccessEntry.action)))
    assert used <= {a.name for a in ACTIONS}
    assert {"account.message.list", "account.login.list", "account.consent.list"} <= used
