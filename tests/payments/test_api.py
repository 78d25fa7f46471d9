"""Quotes, waivers, payments through the sandbox and the XBezahldienste adapter, refunds."""

from __future__ import annotations

import json
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from commons.db import Base, Database
from compliance.models import AccessEntry, AccessPersonal
from payments.models import IdempotencyKey
from payments.references import is_valid_kassenzeichen
from tests import factories
from tests.payments.conftest import FLOW, ActAs, new_payment, new_quote, quote_body
from tests.payments.fake_xbezahldienste import FakeXBezahldienste

CASEWORKER = factories.caseworker("tf")


def pay_in_sandbox(client: TestClient, payment: dict[str, object], action: str) -> None:
    page = str(payment["payment_url"]).removeprefix("http://127.0.0.1:8000")
    response = client.post(page, data={"action": action}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/v1/payments/{payment['id']}/return")
    back = client.get(f"/v1/payments/{payment['id']}/return", follow_redirects=False)
    assert back.status_code == 303
    assert back.headers["location"] == "https://flow.example/done"


def test_quote_is_stored_itemised_and_bound_to_the_case(client: TestClient, act_as: ActAs) -> None:
    act_as(FLOW)
    response = client.post("/v1/fees/quote", json=quote_body(applicant_age=12, express=True))
    assert response.status_code == 201
    quote = response.json()
    assert quote["quoted_cents"] == 4900 + 3500
    assert quote["amount_due_cents"] == quote["quoted_cents"]
    assert quote["case_reference"] == "case-0001"
    assert [line["legal_reference"] for line in quote["lines"]] == [
        "§ 45 Nr. 3 AufenthV",
        "§ 50 AufenthV",
        "§ 45a AufenthV",
    ]
    assert quote["applied"] == ["minor"]
    assert quote["unconfirmed"] is True
    assert client.get(f"/v1/fees/quotes/{quote['id']}").json()["id"] == quote["id"]


def test_a_quote_for_an_unknown_authority_names_the_known_ones(
    client: TestClient, act_as: ActAs
) -> None:
    act_as(FLOW)
    response = client.post("/v1/fees/quote", json=quote_body("zz"))
    assert response.status_code == 404
    problem = response.json()
    assert problem["type"] == "urn:ozg-commons:problem:unknown-authority"
    assert "known authorities: " in problem["detail"]
    assert {"tf", "ee", "p"} <= set(problem["known_authorities"])


def test_quote_needs_a_flow_and_valid_facts(client: TestClient, act_as: ActAs) -> None:
    act_as(factories.applicant())
    assert client.post("/v1/fees/quote", json=quote_body()).status_code == 403
    act_as(FLOW)
    bad = quote_body()
    bad["fee_rule"] = {"procedure": "issue"}
    response = client.post("/v1/fees/quote", json=bad)
    assert response.status_code == 422
    assert response.json()["type"] == "urn:ozg-commons:problem:fee-rule"
    assert client.post("/v1/fees/quote", json=quote_body(applicant_age=-3)).status_code == 422


def test_sandbox_payment_end_to_end(client: TestClient, act_as: ActAs) -> None:
    payment = new_payment(client, act_as)
    assert payment["state"] == "pending"
    assert payment["amount_cents"] == 9800
    assert is_valid_kassenzeichen(payment["kassenzeichen"])
    assert payment["purpose"] == "Gebuehr " + payment["kassenzeichen"]
    assert len(payment["purpose"]) <= 27
    page = client.get(str(payment["payment_url"]).removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200
    assert "SANDBOX" in page.text
    assert "4000 0000 0000 0002" in page.text
    pay_in_sandbox(client, payment, "success")
    act_as(FLOW)
    done = client.get(f"/v1/payments/{payment['id']}").json()
    assert done["state"] == "booked"
    assert done["booked_at"] is not None


def test_the_redirect_back_is_not_trusted(client: TestClient, act_as: ActAs) -> None:
    payment = new_payment(client, act_as)
    back = client.get(f"/v1/payments/{payment['id']}/return?status=BOOKED", follow_redirects=False)
    assert back.status_code == 303
    act_as(FLOW)
    assert client.get(f"/v1/payments/{payment['id']}").json()["state"] == "pending"


def test_idempotent_payment_creation(client: TestClient, act_as: ActAs) -> None:
    quote_id = new_quote(client, act_as)
    body = {"quote_id": quote_id, "return_url": "https://flow.example/done"}
    first = client.post("/v1/payments", json=body, headers={"Idempotency-Key": "k1"})
    again = client.post("/v1/payments", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    other = {**body, "return_url": "https://flow.example/other"}
    conflict = client.post("/v1/payments", json=other, headers={"Idempotency-Key": "k1"})
    assert conflict.status_code == 409
    assert conflict.json()["type"] == "urn:ozg-commons:problem:idempotency-conflict"
    assert client.post("/v1/payments", json=body).status_code == 422  # key is required


def test_a_paid_quote_cannot_be_paid_again(client: TestClient, act_as: ActAs) -> None:
    payment = new_payment(client, act_as)
    pay_in_sandbox(client, payment, "success")
    act_as(FLOW)
    body = {"quote_id": payment["quote_id"], "return_url": "https://flow.example/done"}
    response = client.post("/v1/payments", json=body, headers={"Idempotency-Key": "second"})
    assert response.status_code == 409


def test_waivers_are_explicit_with_basis_and_caseworker(client: TestClient, act_as: ActAs) -> None:
    quote_id = new_quote(client, act_as)
    act_as(FLOW)
    waiver = {"kind": "reduction", "amount_due_cents": 5000, "legal_basis": "§ 53 Abs. 2 AufenthV"}
    assert client.post(f"/v1/fees/quotes/{quote_id}/waiver", json=waiver).status_code == 403
    act_as(factories.caseworker("elsewhere"))
    assert client.post(f"/v1/fees/quotes/{quote_id}/waiver", json=waiver).status_code == 404
    act_as(CASEWORKER)
    granted = client.post(f"/v1/fees/quotes/{quote_id}/waiver", json=waiver)
    assert granted.status_code == 201
    assert granted.json()["amount_due_cents"] == 5000
    assert granted.json()["waiver"]["granted_by"] == CASEWORKER.subject
    assert granted.json()["waiver"]["legal_basis"] == "§ 53 Abs. 2 AufenthV"
    assert client.post(f"/v1/fees/quotes/{quote_id}/waiver", json=waiver).status_code == 409
    act_as(FLOW)
    body = {"quote_id": quote_id, "return_url": "https://flow.example/done"}
    payment = client.post("/v1/payments", json=body, headers={"Idempotency-Key": "w"}).json()
    assert payment["amount_cents"] == 5000


def test_an_exempted_fee_cannot_be_charged(client: TestClient, act_as: ActAs) -> None:
    quote_id = new_quote(client, act_as)
    act_as(CASEWORKER)
    exemption = {"kind": "exemption", "amount_due_cents": 0, "legal_basis": "§ 52 AufenthV"}
    assert client.post(f"/v1/fees/quotes/{quote_id}/waiver", json=exemption).status_code == 201
    act_as(FLOW)
    body = {"quote_id": quote_id, "return_url": "https://flow.example/done"}
    response = client.post("/v1/payments", json=body, headers={"Idempotency-Key": "e"})
    assert response.status_code == 409


def test_refunds_partial_full_idempotent_and_guarded(client: TestClient, act_as: ActAs) -> None:
    payment = new_payment(client, act_as)
    pay_in_sandbox(client, payment, "success")
    url = f"/v1/payments/{payment['id']}/refunds"
    act_as(FLOW)
    assert (
        client.post(url, json={"amount_cents": 100}, headers={"Idempotency-Key": "r"}).status_code
        == 403
    )
    act_as(factories.caseworker("elsewhere"))
    assert (
        client.post(url, json={"amount_cents": 100}, headers={"Idempotency-Key": "r"}).status_code
        == 404
    )
    act_as(CASEWORKER)
    first = client.post(url, json={"amount_cents": 1800}, headers={"Idempotency-Key": "r1"})
    assert first.status_code == 201
    again = client.post(url, json={"amount_cents": 1800}, headers={"Idempotency-Key": "r1"})
    assert again.json()["id"] == first.json()["id"]
    assert (
        client.post(url, json={"amount_cents": 1}, headers={"Idempotency-Key": "r1"}).status_code
        == 409
    )
    state = client.get(f"/v1/payments/{payment['id']}").json()
    assert (state["state"], state["refunded_cents"]) == ("partially_refunded", 1800)
    too_much = client.post(url, json={"amount_cents": 8001}, headers={"Idempotency-Key": "r2"})
    assert too_much.status_code == 409
    rest = client.post(url, json={"amount_cents": 8000}, headers={"Idempotency-Key": "r3"})
    assert rest.status_code == 201
    state = client.get(f"/v1/payments/{payment['id']}").json()
    assert (state["state"], state["refunded_cents"]) == ("refunded", 9800)
    assert (
        client.post(url, json={"amount_cents": 1}, headers={"Idempotency-Key": "r4"}).status_code
        == 409
    )


def test_reads_by_persons_are_audited(
    client: TestClient, act_as: ActAs, database: Database
) -> None:
    payment = new_payment(client, act_as)
    act_as(CASEWORKER)
    assert client.get(f"/v1/payments/{payment['id']}").status_code == 200
    with database.transaction() as session:
        entries = session.scalars(
            select(AccessPersonal)
            .join(AccessEntry, AccessEntry.id == AccessPersonal.entry_id)
            .where(
                AccessEntry.action == "payments.payment.read",
                AccessPersonal.actor_subject == CASEWORKER.subject,
            )
        ).all()
    assert len(entries) == 1
    assert entries[0].data_subject == "applicant-subject-1"
    assert entries[0].resource == f"payments/payment/{payment['id']}"


def test_applicants_see_only_their_own_payments(client: TestClient, act_as: ActAs) -> None:
    payment = new_payment(client, act_as)
    act_as(factories.applicant("applicant-subject-1"))
    assert client.get(f"/v1/payments/{payment['id']}").status_code == 200
    act_as(factories.applicant("someone-else"))
    assert client.get(f"/v1/payments/{payment['id']}").status_code == 404
    act_as(factories.caseworker("elsewhere"))
    assert client.get(f"/v1/payments/{payment['id']}").status_code == 404


def test_fit_connect_payment_information(client: TestClient, act_as: ActAs) -> None:
    payment = new_payment(client, act_as)
    pay_in_sandbox(client, payment, "success")
    act_as(FLOW)
    response = client.get(f"/v1/payments/{payment['id']}/fit-connect")
    assert '"grossAmount":98.00' in response.text
    block = json.loads(response.text, parse_float=Decimal)
    assert block["transactionReference"] == payment["kassenzeichen"]
    assert block["status"] == "BOOKED"
    assert block["grossAmount"] == Decimal("98.00")
    assert set(block) == {
        "transactionId",
        "transactionReference",
        "transactionTimestamp",
        "paymentMethod",
        "status",
        "grossAmount",
    }


# --------------------------------------------------------------------------- XBezahldienste
def test_xbezahldienste_create_and_status_query(
    client: TestClient, act_as: ActAs, fake_xb: FakeXBezahldienste
) -> None:
    payment = new_payment(client, act_as, authority="xb")
    assert payment["provider"] == "xbezahldienste"
    assert payment["state"] == "pending"
    assert payment["payment_url"].startswith("https://paypage.example/")
    sent = fake_xb.requests[-1]
    assert sent["requestId"] == payment["id"]
    assert sent["grossAmount"] == Decimal("98.00")
    assert sent["purpose"] == payment["purpose"]
    assert sent["items"][0]["bookingData"] == {
        "haushaltsstelle": "1234.56789",
        "kassenzeichen": payment["kassenzeichen"],
    }
    # nothing about the applicant or the permit reaches the platform
    text = json.dumps(sent, default=str)
    for secret in ("applicant-subject-1", "case-0001", "change_of_purpose", "purpose_change"):
        assert secret not in text
    (tx_id,) = fake_xb.transactions
    fake_xb.set_status(tx_id, "BOOKED")
    refreshed = client.post(f"/v1/payments/{payment['id']}/refresh").json()
    assert refreshed["state"] == "booked"
    assert refreshed["payment_method"] == "CREDITCARD"


def test_xbezahldienste_errors_fail_the_attempt(
    client: TestClient, act_as: ActAs, fake_xb: FakeXBezahldienste
) -> None:
    fake_xb.endpoint_id = "other"  # the platform no longer knows our endpoint
    payment = new_payment(client, act_as, authority="xb")
    assert payment["state"] == "failed"
    assert payment["failure_code"] == "UNKNOWN_ENDPOINT"


def test_xbezahldienste_refund_is_recorded_for_the_cash_office(
    client: TestClient, act_as: ActAs, fake_xb: FakeXBezahldienste
) -> None:
    payment = new_payment(client, act_as, authority="xb")
    (tx_id,) = fake_xb.transactions
    fake_xb.set_status(tx_id, "BOOKED")
    client.post(f"/v1/payments/{payment['id']}/refresh")
    act_as(factories.caseworker("xb"))
    refund = client.post(
        f"/v1/payments/{payment['id']}/refunds",
        json={"amount_cents": 9800},
        headers={"Idempotency-Key": "x"},
    )
    assert refund.status_code == 201
    assert refund.json()["state"] == "manual"


def test_idempotency_keys_are_stored_as_keyed_hashes_only(
    client: TestClient, act_as: ActAs, database: Database
) -> None:
    """A client's key may carry anything; the database holds its HMAC, never the key."""
    canary = "Max-Mustermann-Antrag-4711"
    payment = new_payment(client, act_as)  # uses its own key
    quote_id = new_quote(client, act_as)
    body = {"quote_id": quote_id, "return_url": "https://flow.example/done"}
    first = client.post("/v1/payments", json=body, headers={"Idempotency-Key": canary})
    again = client.post("/v1/payments", json=body, headers={"Idempotency-Key": canary})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    pay_in_sandbox(client, payment, "success")
    act_as(CASEWORKER)
    url = f"/v1/payments/{payment['id']}/refunds"
    refund = client.post(url, json={"amount_cents": 100}, headers={"Idempotency-Key": canary})
    assert refund.status_code == 201
    with database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                assert canary not in repr(tuple(row)), table.name
        hashes = set(session.scalars(select(IdempotencyKey.key_hash)))
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes)


def test_applicants_start_payments_only_for_their_own_quotes(
    client: TestClient, act_as: ActAs
) -> None:
    quote_id = new_quote(client, act_as)  # data_subject applicant-subject-1
    body = {"quote_id": quote_id, "return_url": "https://flow.example/done"}
    act_as(factories.applicant("someone-else"))
    other = client.post("/v1/payments", json=body, headers={"Idempotency-Key": "a"})
    assert other.status_code == 404, other.text
    assert client.get(f"/v1/fees/quotes/{quote_id}").status_code == 404
    act_as(factories.caseworker("tf"))  # sees the quote, but caseworkers never pay
    assert client.get(f"/v1/fees/quotes/{quote_id}").status_code == 200
    refused = client.post("/v1/payments", json=body, headers={"Idempotency-Key": "c"})
    assert refused.status_code == 403, refused.text
    act_as(factories.applicant("applicant-subject-1"))
    own = client.post("/v1/payments", json=body, headers={"Idempotency-Key": "a"})
    assert own.status_code == 201, own.text
    payment = own.json()
    assert client.get(f"/v1/payments/{payment['id']}").status_code == 200
    pay_in_sandbox(client, payment, "success")
    act_as(factories.applicant("someone-else"))
    assert client.get(f"/v1/payments/{payment['id']}").status_code == 404
