"""The case lifecycle over the HTTP API, with an applicant, a caseworker of Teltow-Fläming
(the case's authority) and one of Elbe-Elster (who must never see it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from commons.db import Database
from commons.encoding import b64url_decode
from compliance.models import AccessEntry
from gateway.cases.runtime import CasesRuntime, WithdrawalNotice
from tests import factories
from tests.gateway.cases.conftest import ActAs, Applicant, FakeSubmission, open_sealed, seal
from tests.gateway.cases.helpers import messages, pay, start_case, submission
from vault.models import Share

TF = factories.caseworker("tf")
EE = factories.caseworker("ee")
Deliver = Callable[[FakeSubmission, str], list[Any]]
TITLE_TF = "Neue Nachricht von Landkreis Teltow-Fläming / New message from Landkreis Teltow-Fläming"


def _upload_shared_document(
    client: TestClient, database: Database, who: Applicant, authority: str
) -> str:
    response = client.post(
        "/v1/vault/documents",
        content=seal(b"%PDF-1.7 contract", who.key, name="contract.pdf"),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201, response.text
    document_id: str = response.json()["id"]
    # The share itself (a stanza wrapped to the authority's certified key) is the vault's
    # business and tested there; here a stored share stands for it.
    with database.transaction() as session:
        session.add(
            Share(
                id=document_id,
                document_id=document_id,
                authority=authority,
                kid="test-kid",
                stanza=b"\x00",
                created_at=datetime.now(UTC),
            )
        )
    return document_id


def test_the_whole_lifecycle(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    alice: Applicant,
    deliver: Deliver,
) -> None:
    started = start_case(client, act_as, alice)
    case_id = started["case_id"]
    assert started["quote"]["quoted_cents"] == 10000
    assert started["fee_facts"] == {
        "applicant_age": 34,
        "nationality": "IND",
        "duration_months": 24,
    }
    case = client.get(f"/v1/cases/{case_id}").json()
    assert (case["state"], case["status"], case["authority"]) == ("draft", "INITIATED", "tf")
    assert case["has_draft"]
    assert case["quote_id"] == started["quote"]["id"]

    # a caseworker never sees a draft
    act_as(TF)
    assert client.get(f"/v1/authority/cases/{case_id}").status_code == 404

    payment_id = pay(client, app, database, alice, started["quote"]["id"])
    act_as(alice.principal)
    assert (
        client.post(f"/v1/cases/{case_id}/payment", json={"payment_id": payment_id}).json()[
            "payment_id"
        ]
        == payment_id
    )

    sent = submission(alice.principal, case_id, payment=payment_id)
    assert deliver(sent, "submit-submission") == []
    case = client.get(f"/v1/cases/{case_id}").json()
    assert (case["state"], case["status"]) == ("submitted", "SUBMITTED")
    assert case["submission_id"] == sent.id
    assert case["fit_connect_case_id"] == sent.case_id
    assert not case["has_draft"]  # the form travels in the submission now (ADR 0004)
    assert deliver(sent, "accept-submission") == []

    act_as(TF)
    listed = client.get("/v1/authority/cases", params={"state": "received"}).json()
    assert [c["id"] for c in listed] == [case_id]
    assert client.post(f"/v1/authority/cases/{case_id}/processing").json()["status"] == "PROCESSING"
    request_text = "Bitte reichen Sie den Arbeitsvertrag nach. / Please send the contract."
    response = client.post(
        f"/v1/authority/cases/{case_id}/request-documents",
        json={
            "document_types": ["employment_contract"],
            "message": _sealed(request_text.encode(), alice),
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ACTION_REQUIRED"

    # the request arrives sealed, under a neutral title, linked to the case
    inbox = messages(client, act_as, alice)
    request = next(m for m in inbox if m["category"] == "request-for-documents")
    assert (request["title"], request["case_ref"], request["sender_authority"]) == (
        TITLE_TF,
        case_id,
        "tf",
    )
    opened = client.get(f"/v1/me/messages/{request['id']}").json()
    assert opened["body_format"] == "ozg-envelope"
    assert request_text not in opened["body"]
    assert open_sealed(b64url_decode(opened["body"]), alice.key) == request_text.encode()

    document_id = _upload_shared_document(client, database, alice, "tf")
    response = client.post(
        f"/v1/cases/{case_id}/documents",
        json={"documents": [{"document_id": document_id, "document_type": "employment_contract"}]},
    )
    assert response.status_code == 200, response.text
    answered = response.json()
    assert answered["state"] == "processing"
    assert answered["documents"][0]["document_id"] == document_id
    assert answered["document_requests"][0]["answered_at"] is not None

    act_as(TF)
    letter = b"%PDF-1.7 Bescheid: Aufenthaltserlaubnis erteilt"
    response = client.post(
        f"/v1/authority/cases/{case_id}/decision",
        json={"outcome": "approved", "letter": _sealed(letter, alice)},
    )
    assert response.status_code == 200, response.text
    decided = response.json()
    assert decided["fee_adjustment"] is None
    assert (decided["case"]["state"], decided["case"]["outcome"]) == ("decided", "approved")
    assert decided["case"]["status"] == "COMPLETED"

    act_as(alice.principal)
    case = client.get(f"/v1/cases/{case_id}").json()
    steps = [
        (t["from_state"], t["to_state"], t["actor_kind"], t["reason"]) for t in case["timeline"]
    ]
    assert steps == [
        (None, "draft", "applicant", "created"),
        ("draft", "submitted", "delivery", "submitted"),
        ("submitted", "received", "delivery", "delivery-accepted"),
        ("received", "processing", "caseworker", "processing-started"),
        ("processing", "action_required", "caseworker", "documents-requested"),
        ("action_required", "processing", "applicant", "documents-provided"),
        ("processing", "decided", "caseworker", "approved"),
    ]
    listed = client.get("/v1/cases").json()
    assert [(c["id"], c["status"]) for c in listed] == [(case_id, "COMPLETED")]
    assert listed[0]["last_change_at"] == case["timeline"][-1]["at"]

    # every status change arrived in the mailbox, linked to the case; the letter sealed
    inbox = messages(client, act_as, alice)
    statuses = [m for m in inbox if m["category"] == "status"]
    assert len(statuses) == 6
    assert all(m["case_ref"] == case_id for m in statuses)
    assert {m["title"] for m in statuses} == {
        "Neuer Status Ihres Antrags / New status of your application"
    }
    decision = next(m for m in inbox if m["category"] == "decision")
    assert decision["title"] == TITLE_TF
    body = client.get(f"/v1/me/messages/{decision['id']}").json()["body"]
    assert open_sealed(b64url_decode(body), alice.key) == letter

    with database.transaction() as session:
        actions = set(session.scalars(select(AccessEntry.action)))
    assert {
        "cases.case.create",
        "cases.draft.write",
        "cases.fee_facts.write",
        "cases.submission.check",
        "cases.status.change",
        "cases.authority.read",
        "cases.documents.provide",
    } <= actions


def _sealed(data: bytes, who: Applicant) -> str:
    from tests.gateway.cases.conftest import sealed_text

    return sealed_text(data, who.key)


def _received_case(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    who: Applicant,
    deliver: Deliver,
    **kwargs: Any,
) -> dict[str, Any]:
    started = start_case(client, act_as, who, **kwargs)
    payment_id = None
    if started["quote"]["amount_due_cents"] and not kwargs.get("waiver"):
        payment_id = pay(client, app, database, who, started["quote"]["id"])
    flow = kwargs.get("flow", "employment")
    types = ("passport", "biometric_photo") if flow == "employment" else ("passport",)
    sent = submission(who.principal, started["case_id"], payment=payment_id, flow=flow, types=types)
    assert deliver(sent, "submit-submission") == []
    assert deliver(sent, "accept-submission") == []
    return {**started, "payment_id": payment_id, "submission": sent}


def test_another_authoritys_caseworker_gets_404(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    alice: Applicant,
    deliver: Deliver,
) -> None:
    case_id = _received_case(client, act_as, app, database, alice, deliver)["case_id"]
    act_as(EE)
    assert client.get("/v1/authority/cases").json() == []
    for method, path, body in (
        ("GET", f"/v1/authority/cases/{case_id}", None),
        ("POST", f"/v1/authority/cases/{case_id}/processing", None),
        ("POST", f"/v1/authority/cases/{case_id}/waiver", {"decision": "granted"}),
        (
            "POST",
            f"/v1/authority/cases/{case_id}/decision",
            {"outcome": "approved", "letter": _sealed(b"x", alice)},
        ),
    ):
        response = client.request(method, path, json=body)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["type"].endswith("case-not-found")
    # nor do applicants see each other's cases, nor caseworkers use applicant routes
    act_as(factories.applicant())
    assert client.get(f"/v1/cases/{case_id}").status_code == 404
    act_as(TF)
    assert client.get(f"/v1/cases/{case_id}").status_code == 403
    assert client.get(f"/v1/authority/cases/{case_id}").status_code == 200


def test_illegal_transitions_are_refused_with_409(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    alice: Applicant,
    deliver: Deliver,
) -> None:
    started = start_case(client, act_as, alice)
    case_id = started["case_id"]
    act_as(alice.principal)
    assert client.post(f"/v1/cases/{case_id}/withdraw").status_code == 409  # a draft
    sent = submission(
        alice.principal, case_id, payment=pay(client, app, database, alice, started["quote"]["id"])
    )
    assert deliver(sent, "submit-submission") == []
    act_as(TF)
    response = client.post(f"/v1/authority/cases/{case_id}/processing")  # not yet received
    assert response.status_code == 409
    assert response.json()["type"].endswith("illegal-transition")
    assert response.json()["state"] == "submitted"
    response = client.post(
        f"/v1/authority/cases/{case_id}/decision",
        json={"outcome": "approved", "letter": _sealed(b"x", alice)},
    )
    assert response.status_code == 409
    assert deliver(sent, "accept-submission") == []
    assert client.post(f"/v1/authority/cases/{case_id}/processing").status_code == 200
    assert client.post(f"/v1/authority/cases/{case_id}/processing").status_code == 409
    assert (
        client.post(
            f"/v1/authority/cases/{case_id}/decision",
            json={"outcome": "approved", "letter": _sealed(b"x", alice)},
        ).status_code
        == 200
    )
    for path in ("processing", "decision"):
        body = (
            {"outcome": "rejected", "letter": _sealed(b"x", alice)} if path == "decision" else None
        )
        assert client.post(f"/v1/authority/cases/{case_id}/{path}", json=body).status_code == 409
    act_as(alice.principal)
    assert client.post(f"/v1/cases/{case_id}/withdraw").status_code == 409  # decided
    response = client.put(
        f"/v1/cases/{case_id}/draft",
        content=seal(b"{}", alice.key),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 409
    # a duplicate or late delivery event changes nothing
    assert deliver(sent, "accept-submission") == []
    assert client.get(f"/v1/cases/{case_id}").json()["state"] == "decided"


def test_withdrawal_tells_the_authority_through_the_hooks(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    alice: Applicant,
    deliver: Deliver,
    runtime: CasesRuntime,
) -> None:
    heard: list[WithdrawalNotice] = []
    app.state.case_withdrawal_hooks.append(lambda _session, notice: heard.append(notice))
    received = _received_case(client, act_as, app, database, alice, deliver)
    case_id = received["case_id"]
    act_as(alice.principal)
    response = client.post(f"/v1/cases/{case_id}/withdraw")
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["status"]) == ("withdrawn", "COMPLETED")
    assert [(n.case_id, n.authority, n.submission_id, n.fit_connect_case_id) for n in heard] == [
        (case_id, "tf", received["submission"].id, received["submission"].case_id)
    ]
    assert client.post(f"/v1/cases/{case_id}/withdraw").status_code == 409
    inbox = messages(client, act_as, alice)
    assert inbox[0]["category"] == "status"
    assert inbox[0]["case_ref"] == case_id
    act_as(TF)
    assert client.get(f"/v1/authority/cases/{case_id}").json()["state"] == "withdrawn"
    # the authority's late accept does not revive it
    assert deliver(received["submission"], "accept-submission") == []


def test_a_rejection_refunds_what_was_paid_above_the_rejection_fee(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    alice: Applicant,
    deliver: Deliver,
) -> None:
    received = _received_case(
        client,
        act_as,
        app,
        database,
        alice,
        deliver,
        flow="settlement",
        facts={"applicant_age": 40},
    )
    assert received["quote"]["quoted_cents"] == 11300  # § 44 Nr. 3, other cases
    case_id = received["case_id"]
    act_as(TF)
    response = client.post(
        f"/v1/authority/cases/{case_id}/decision",
        json={"outcome": "rejected", "letter": _sealed(b"%PDF-1.7 Ablehnung", alice)},
    )
    assert response.status_code == 200, response.text
    adjustment = response.json()["fee_adjustment"]
    assert adjustment["rejection_fee_cents"] == 5650  # § 49: half for a settlement permit
    assert (adjustment["paid_cents"], adjustment["refunded_cents"]) == (11300, 5650)
    refunds = client.get(f"/v1/payments/{received['payment_id']}/refunds").json()
    assert [(r["id"], r["amount_cents"]) for r in refunds] == [(adjustment["refund_id"], 5650)]
    payment = client.get(f"/v1/payments/{received['payment_id']}").json()
    assert (payment["state"], payment["refunded_cents"]) == ("partially_refunded", 5650)
    assert response.json()["case"]["refund_id"] == adjustment["refund_id"]


def test_a_rejection_at_full_fee_refunds_nothing(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    alice: Applicant,
    deliver: Deliver,
) -> None:
    case_id = _received_case(client, act_as, app, database, alice, deliver)["case_id"]
    act_as(TF)
    response = client.post(
        f"/v1/authority/cases/{case_id}/decision",
        json={"outcome": "rejected", "letter": _sealed(b"%PDF-1.7", alice)},
    )
    adjustment = response.json()["fee_adjustment"]
    assert (adjustment["rejection_fee_cents"], adjustment["refunded_cents"]) == (10000, 0)
    assert adjustment["refund_id"] is None


def test_a_hardship_waiver_is_decided_by_the_authority(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    alice: Applicant,
    make_applicant: Callable[[], Applicant],
    deliver: Deliver,
) -> None:
    granted = _received_case(client, act_as, app, database, alice, deliver, waiver=True)
    assert granted["payment_id"] is None  # submitted unpaid: the waiver was requested
    act_as(TF)
    path = f"/v1/authority/cases/{granted['case_id']}/waiver"
    response = client.post(path, json={"decision": "granted"})
    assert response.status_code == 200, response.text
    assert response.json()["waiver_decision"] == "granted"
    assert client.post(path, json={"decision": "refused"}).status_code == 409
    quote = client.get(f"/v1/fees/quotes/{granted['quote']['id']}").json()
    assert quote["amount_due_cents"] == 0
    assert quote["waiver"]["kind"] == "exemption"
    inbox = messages(client, act_as, alice)
    notice = next(m for m in inbox if m["category"] == "payment")
    assert notice["title"] == TITLE_TF
    assert notice["case_ref"] == granted["case_id"]

    bob = make_applicant()
    refused = _received_case(client, act_as, app, database, bob, deliver, waiver=True)
    act_as(TF)
    response = client.post(
        f"/v1/authority/cases/{refused['case_id']}/waiver", json={"decision": "refused"}
    )
    assert response.json()["waiver_decision"] == "refused"
    quote = client.get(f"/v1/fees/quotes/{refused['quote']['id']}").json()
    assert quote["amount_due_cents"] == 10000
    # the applicant pays after all; the case links the payment
    payment_id = pay(client, app, database, bob, refused["quote"]["id"])
    act_as(bob.principal)
    response = client.post(
        f"/v1/cases/{refused['case_id']}/payment", json={"payment_id": payment_id}
    )
    assert response.status_code == 200, response.text
    # no waiver requested: nothing to decide
    carol = make_applicant()
    plain = _received_case(client, act_as, app, database, carol, deliver)
    act_as(TF)
    response = client.post(
        f"/v1/authority/cases/{plain['case_id']}/waiver", json={"decision": "granted"}
    )
    assert response.status_code == 409
