"""Steps of the case story, shared by the cases tests."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

import payments.service as payments_service
from account import Principal
from commons.db import Database
from tests.gateway.cases.conftest import ActAs, Applicant, FakeSubmission, manifest, seal

FACTS = {"applicant_age": 34, "nationality": "IND", "duration_months": 24}


def start_case(
    client: TestClient,
    act_as: ActAs,
    who: Applicant,
    *,
    flow: str = "employment",
    authority: str = "tf",
    facts: dict[str, Any] | None = None,
    waiver: bool = False,
) -> dict[str, Any]:
    """A draft with its authority chosen, a sealed draft saved and the fee quoted."""
    act_as(who.principal)
    response = client.post("/v1/cases", json={"flow_id": flow})
    assert response.status_code == 201, response.text
    case_id = response.json()["id"]
    response = client.put(f"/v1/cases/{case_id}/authority", json={"authority": authority})
    assert response.status_code == 200, response.text
    draft = seal(b'{"given_name": "canary"}', who.key)
    response = client.put(
        f"/v1/cases/{case_id}/draft",
        content=draft,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 204, response.text
    response = client.put(
        f"/v1/cases/{case_id}/fee-facts",
        json={"facts": FACTS if facts is None else facts, "waiver_requested": waiver},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def pay(client: TestClient, app: FastAPI, database: Database, who: Applicant, quote_id: str) -> str:
    """Pay the quote in the sandbox (the booking arrives as a signed notification)."""
    with database.transaction() as session:
        payment = payments_service.create_payment(
            session,
            app.state.payments,
            who.principal,
            quote_id=quote_id,
            return_url="https://flow.example/done",
            idempotency_key=f"pay-{quote_id}",
        )
        payment_id, reference = payment.id, payment.provider_reference
    response = client.post(
        f"/v1/sandbox-payments/{reference}", data={"action": "success"}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return payment_id


def submission(
    who: Principal, case_id: str, payment: str | None = None, **kwargs: Any
) -> FakeSubmission:
    return FakeSubmission(manifest(case_id, payment=payment, **kwargs), sender=who.subject)


def messages(client: TestClient, act_as: ActAs, who: Applicant) -> list[dict[str, Any]]:
    act_as(who.principal)
    response = client.get("/v1/me/messages")
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()
    return listed
