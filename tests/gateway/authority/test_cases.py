"""``authority case`` and ``authority cases`` over the cases' authority API: messages and the
decision letter are sealed on the authority's device to the applicant's vault key (fetched
through the audited applicant-key route), and a caseworker never sees another authority's
cases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from commons.db import Database
from commons.encoding import b64url_decode
from gateway.client.authority import AuthorityClient, ServerError, decision_letter_pdf
from tests import factories
from tests.gateway.authority.conftest import ActAs
from tests.gateway.cases.conftest import Applicant, FakeSubmission
from tests.gateway.cases.helpers import messages, start_case, submission
from vault import inspect_pdf
from vault import open as open_envelope

Deliver = Callable[[FakeSubmission, str], list[Any]]
TF, EE = factories.caseworker("tf"), factories.caseworker("ee")


def received_case(client: TestClient, act_as: ActAs, alice: Applicant, deliver: Deliver) -> str:
    started = start_case(client, act_as, alice, waiver=True)
    sent = submission(alice.principal, started["case_id"])
    assert deliver(sent, "submit-submission") == []
    assert deliver(sent, "accept-submission") == []
    case_id: str = started["case_id"]
    return case_id


def _opened(body: str, alice: Applicant) -> tuple[Any, bytes]:
    import io

    out = io.BytesIO()
    meta = open_envelope(io.BytesIO(b64url_decode(body)), out, alice.key)
    return meta, out.getvalue()


def test_the_case_commands_move_the_case_and_seal_to_the_applicant(
    client: TestClient,
    act_as: ActAs,
    alice: Applicant,
    deliver: Deliver,
    authority_client: AuthorityClient,
    app: FastAPI,
    database: Database,
) -> None:
    case_id = received_case(client, act_as, alice, deliver)
    act_as(TF)
    listed = authority_client.cases("received")
    assert [c["id"] for c in listed] == [case_id]
    assert listed[0]["submission_id"] is not None
    assert authority_client.processing(case_id)["state"] == "processing"
    text = "Bitte reichen Sie den Nachweis der Krankenversicherung nach."
    moved = authority_client.request_documents(case_id, ["health_insurance"], text, "de")
    assert moved["state"] == "action_required"
    inbox = messages(client, act_as, alice)
    request = next(m for m in inbox if m["category"] == "request-for-documents")
    assert request["title"].startswith("Neue Nachricht von")
    body = client.get(f"/v1/me/messages/{request['id']}").json()
    assert body["body_format"] == "ozg-envelope"
    meta, plain = _opened(body["body"], alice)
    assert plain.decode() == text
    assert meta.filename == "message.de.txt"
    act_as(TF)
    assert authority_client.processing(case_id)["state"] == "processing"
    letter = decision_letter_pdf(case_id, "Landkreis Teltow-Fläming", "approved", "de",
                                 date(2026, 12, 1))  # fmt: skip
    assert not inspect_pdf_of(letter).removed
    decided = authority_client.decide(case_id, "approved", letter)
    assert (decided["case"]["state"], decided["case"]["outcome"]) == ("decided", "approved")
    decision = next(m for m in messages(client, act_as, alice) if m["category"] == "decision")
    _meta, pdf = _opened(client.get(f"/v1/me/messages/{decision['id']}").json()["body"], alice)
    assert pdf == letter
    # the key read is in the applicant's access log
    act_as(alice.principal)
    log = client.get("/v1/me/access-log").json()
    entries = log["entries"] if isinstance(log, dict) else log
    assert any(e["action"] == "cases.applicant_key.read" for e in entries)


def inspect_pdf_of(data: bytes) -> Any:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "l.pdf"
        path.write_bytes(data)
        return inspect_pdf(path)


def test_a_caseworker_never_sees_another_authoritys_cases(
    client: TestClient,
    act_as: ActAs,
    alice: Applicant,
    deliver: Deliver,
    authority_client: AuthorityClient,
) -> None:
    case_id = received_case(client, act_as, alice, deliver)
    act_as(EE)
    assert authority_client.cases() == []
    calls: tuple[Callable[[], Any], ...] = (
        lambda: authority_client.case(case_id),
        lambda: authority_client.processing(case_id),
        lambda: authority_client.request_documents(case_id, ["passport"], "x", "en"),
        lambda: authority_client.decide(case_id, "rejected", b"%PDF-1.7 x"),
    )
    for call in calls:
        with pytest.raises(ServerError) as caught:
            call()
        assert caught.value.status_code == 404
    response = client.get(f"/v1/authority/cases/{case_id}/applicant-key")
    assert response.status_code == 404
    act_as(alice.principal)
    assert client.get(f"/v1/authority/cases/{case_id}/applicant-key").status_code == 403
    act_as(TF)
    key = client.get(f"/v1/authority/cases/{case_id}/applicant-key").json()
    assert key["case_id"] == case_id
    assert key["public_jwk"]["kty"] == "EC"


def test_the_openapi_document_describes_the_authority_operations(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/authority/cases",
        "/v1/authority/cases/{case_id}/applicant-key",
        "/v1/authority/cases/{case_id}/processing",
        "/v1/authority/cases/{case_id}/request-documents",
        "/v1/authority/cases/{case_id}/decision",
    ):
        assert path in paths, path
    schemas = spec["components"]["schemas"]
    for name in ("RequestDocumentsIn", "DecisionIn", "WaiverDecisionIn", "CaseApplicantKeyOut"):
        assert schemas[name].get("examples"), name
