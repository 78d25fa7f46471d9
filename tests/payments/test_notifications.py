"""Signed notifications against both built-in providers: valid, bad signature, stale
timestamp, replay, out of order, unknown payment."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from commons.db import Database
from payments import signing
from payments.models import Notification, SandboxTransaction
from payments.runtime import PaymentsRuntime
from tests.payments.conftest import FLOW, ActAs, new_payment
from tests.payments.fake_xbezahldienste import FakeXBezahldienste

Signed = tuple[dict[str, str], bytes]


class Harness:
    """Drives one provider: makes a payment, has the provider reach a status, and builds
    the notification that provider would send."""

    def __init__(
        self,
        name: str,
        client: TestClient,
        act_as: ActAs,
        runtime: PaymentsRuntime,
        database: Database,
        fake: FakeXBezahldienste | None,
    ) -> None:
        self.name = name
        self.client = client
        self.act_as = act_as
        self.runtime = runtime
        self.database = database
        self.fake = fake
        self.authority = "xb" if name == "xbezahldienste" else "tf"

    @property
    def url(self) -> str:
        return f"/v1/payments/notifications/{self.name}/{self.authority}"

    def secret(self) -> bytes:
        config = self.runtime.config_for(self.authority)
        return str(config.settings["notification_secret"]).encode()

    def payment(self, key: str = "k") -> dict[str, Any]:
        return new_payment(self.client, self.act_as, authority=self.authority, key=key)

    def reference(self, payment: dict[str, Any]) -> str:
        if self.fake is not None:
            return next(
                tx for tx, v in self.fake.transactions.items() if v["requestId"] == payment["id"]
            )
        with self.database.transaction() as session:
            tx = session.scalars(
                select(SandboxTransaction).where(SandboxTransaction.request_id == payment["id"])
            ).one()
            return tx.id

    def notification(
        self, reference: str, status: str, *, event_id: str | None = None, at: int | None = None
    ) -> Signed:
        event_id = event_id or secrets.token_hex(8)
        if self.fake is not None:
            self.fake.set_status(reference, status)
            return self.fake.trigger(reference, event_id=event_id, at=at)
        body = json.dumps(
            {"kind": "status", "event_id": event_id, "transaction_id": reference, "status": status}
        ).encode()
        stamp = int(time.time()) if at is None else at
        return signing.signed_headers(self.secret(), stamp, body), body

    def send(self, signed: Signed) -> Any:
        headers, body = signed
        return self.client.post(self.url, content=body, headers=headers)

    def state(self, payment: dict[str, Any]) -> str:
        self.act_as(FLOW)
        state: str = self.client.get(f"/v1/payments/{payment['id']}").json()["state"]
        return state

    def notifications(self) -> int:
        with self.database.transaction() as session:
            return session.scalar(select(func.count()).select_from(Notification)) or 0


@pytest.fixture(params=["sandbox", "xbezahldienste"])
def harness(
    request: pytest.FixtureRequest,
    client: TestClient,
    act_as: ActAs,
    runtime: PaymentsRuntime,
    database: Database,
    fake_xb: FakeXBezahldienste,
) -> Harness:
    fake = fake_xb if request.param == "xbezahldienste" else None
    return Harness(request.param, client, act_as, runtime, database, fake)


def test_valid_notification_books(harness: Harness) -> None:
    payment = harness.payment()
    response = harness.send(harness.notification(harness.reference(payment), "BOOKED"))
    assert response.status_code == 200
    assert response.json() == {"outcome": "applied"}
    assert harness.state(payment) == "booked"


Tamper = Callable[[Signed], Signed]


def _flip_body(signed: Signed) -> Signed:
    headers, body = signed
    return headers, body + b" "


def _flip_signature(signed: Signed) -> Signed:
    headers, body = signed
    sig = headers[signing.SIGNATURE_HEADER]
    return {**headers, signing.SIGNATURE_HEADER: ("0" if sig[0] != "0" else "1") + sig[1:]}, body


def _drop_signature(signed: Signed) -> Signed:
    headers, body = signed
    return {signing.TIMESTAMP_HEADER: headers[signing.TIMESTAMP_HEADER]}, body


def _other_timestamp(signed: Signed) -> Signed:
    headers, body = signed
    stamp = int(headers[signing.TIMESTAMP_HEADER]) + 1
    return {**headers, signing.TIMESTAMP_HEADER: str(stamp)}, body


@pytest.mark.parametrize("tamper", [_flip_body, _flip_signature, _drop_signature, _other_timestamp])
def test_bad_signature_is_401_and_changes_nothing(harness: Harness, tamper: Tamper) -> None:
    payment = harness.payment()
    before = harness.notifications()
    response = harness.send(tamper(harness.notification(harness.reference(payment), "BOOKED")))
    assert response.status_code == 401
    assert response.json()["type"] == "urn:ozg-commons:problem:invalid-notification"
    assert harness.state(payment) == "pending"
    assert harness.notifications() == before


def test_signature_with_another_key_is_401(harness: Harness) -> None:
    payment = harness.payment()
    _headers, body = harness.notification(harness.reference(payment), "BOOKED")
    forged = signing.signed_headers(b"not-the-secret", int(time.time()), body)
    assert harness.send((forged, body)).status_code == 401
    assert harness.state(payment) == "pending"


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_stale_or_future_timestamp_is_401(harness: Harness, age: int) -> None:
    payment = harness.payment()
    signed = harness.notification(harness.reference(payment), "BOOKED", at=int(time.time()) - age)
    assert harness.send(signed).status_code == 401
    assert harness.state(payment) == "pending"


def test_replay_is_ignored_idempotently(harness: Harness) -> None:
    payment = harness.payment()
    reference = harness.reference(payment)
    signed = harness.notification(reference, "BOOKED", event_id="evt-1")
    assert harness.send(signed).json() == {"outcome": "applied"}
    count = harness.notifications()
    assert harness.send(signed).json() == {"outcome": "replay"}
    assert harness.send(signed).json() == {"outcome": "replay"}
    assert harness.notifications() == count
    assert harness.state(payment) == "booked"


def test_out_of_order_notifications_cannot_undo_a_booking(harness: Harness) -> None:
    payment = harness.payment()
    reference = harness.reference(payment)
    assert harness.send(harness.notification(reference, "BOOKED")).json()["outcome"] == "applied"
    for status in ("INITIAL", "FAILED", "CANCELED", "BOOKED"):
        assert harness.send(harness.notification(reference, status)).json() == {
            "outcome": "ignored"
        }
    assert harness.state(payment) == "booked"


def test_a_booking_after_cancellation_is_flagged(harness: Harness) -> None:
    payment = harness.payment()
    reference = harness.reference(payment)
    harness.send(harness.notification(reference, "CANCELED"))
    harness.send(harness.notification(reference, "BOOKED"))
    harness.act_as(FLOW)
    seen = harness.client.get(f"/v1/payments/{payment['id']}").json()
    assert seen["state"] == "canceled"
    assert seen["needs_review"] is True


def test_unknown_payment_is_acknowledged_and_recorded(harness: Harness) -> None:
    if harness.fake is not None:
        harness.fake.transactions["XBunknown"] = {"requestId": "r", "status": "INITIAL"}
        reference = "XBunknown"
    else:
        reference = "00000000-0000-7000-8000-000000000000"
    response = harness.send(harness.notification(reference, "BOOKED"))
    assert response.status_code == 200
    assert response.json() == {"outcome": "unknown_payment"}


def test_unknown_provider_or_authority_is_401(harness: Harness) -> None:
    payment = harness.payment()
    headers, body = harness.notification(harness.reference(payment), "BOOKED")
    other = "tf" if harness.authority == "xb" else "xb"
    response = harness.client.post(
        f"/v1/payments/notifications/{harness.name}/{other}", content=body, headers=headers
    )
    assert response.status_code == 401
    response = harness.client.post(
        f"/v1/payments/notifications/nope/{harness.authority}", content=body, headers=headers
    )
    assert response.status_code == 401
    assert harness.state(payment) == "pending"


def test_provider_side_refund_is_recorded_for_review(
    client: TestClient, act_as: ActAs, runtime: PaymentsRuntime, database: Database
) -> None:
    from tests import factories

    payment = new_payment(client, act_as)
    page = str(payment["payment_url"]).removeprefix("http://127.0.0.1:8000")
    client.post(page, data={"action": "success"}, follow_redirects=False)
    with database.transaction() as session:
        tx = session.scalars(
            select(SandboxTransaction).where(SandboxTransaction.request_id == payment["id"])
        ).one()
        reference = tx.id
    secret = str(runtime.config_for("tf").settings["notification_secret"]).encode()
    body = json.dumps(
        {"kind": "refund", "event_id": "rf-1", "transaction_id": reference, "refund_cents": 800}
    ).encode()
    headers = signing.signed_headers(secret, int(time.time()), body)
    response = client.post("/v1/payments/notifications/sandbox/tf", content=body, headers=headers)
    assert response.json() == {"outcome": "review"}
    act_as(factories.caseworker("tf"))
    seen = client.get(f"/v1/payments/{payment['id']}").json()
    assert seen["needs_review"] is True
    assert seen["state"] == "booked"  # nothing changes until a person decides
    review = client.get("/v1/payments").json()
    assert [p["id"] for p in review] == [payment["id"]]
    (refund,) = client.get(f"/v1/payments/{payment['id']}/refunds").json()
    assert (refund["origin"], refund["state"], refund["amount_cents"]) == (
        "provider",
        "needs_review",
        800,
    )
    refund_id = refund["id"]
    decided = client.post(
        f"/v1/payments/{payment['id']}/refunds/{refund_id}/decision", json={"accept": True}
    )
    assert decided.json()["state"] == "accepted"
    seen = client.get(f"/v1/payments/{payment['id']}").json()
    assert (seen["state"], seen["refunded_cents"], seen["needs_review"]) == (
        "partially_refunded",
        800,
        False,
    )
    again = client.post(
        f"/v1/payments/{payment['id']}/refunds/{refund_id}/decision", json={"accept": False}
    )
    assert again.status_code == 409
    assert client.get("/v1/payments").json() == []
    act_as(factories.flow_client("permit-flow"))
    assert client.get("/v1/payments").status_code == 403


def test_oversized_notification_is_refused(harness: Harness) -> None:
    body = b"{" + b" " * (64 * 1024) + b"}"
    headers = signing.signed_headers(harness.secret(), int(time.time()), body)
    assert harness.send((headers, body)).status_code == 413


def _signed_refund(runtime: PaymentsRuntime, event_id: str, cents: object) -> Signed:
    secret = str(runtime.config_for("tf").settings["notification_secret"]).encode()
    body = json.dumps(
        {"kind": "refund", "event_id": event_id, "transaction_id": "tx", "refund_cents": cents}
    ).encode()
    return signing.signed_headers(secret, int(time.time()), body), body


@pytest.mark.parametrize(
    ("event_id", "cents"),
    [("rf-huge", 10**30), ("rf-\u0000", 800), ("rf-\u0007", 800)],
)
def test_signed_notifications_with_absurd_values_are_4xx_problems(
    client: TestClient, runtime: PaymentsRuntime, event_id: str, cents: int
) -> None:
    """Before: a signed refund of 10**30 cents, or an event id with a NUL (PostgreSQL), was a
    500; the signature does not make a value plausible."""
    headers, body = _signed_refund(runtime, event_id, cents)
    response = client.post("/v1/payments/notifications/sandbox/tf", content=body, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_a_non_ascii_digit_timestamp_is_refused(
    client: TestClient, runtime: PaymentsRuntime
) -> None:
    headers, body = _signed_refund(runtime, "rf-1", 800)
    headers = {**headers, signing.TIMESTAMP_HEADER: "\u00b2"}
    response = client.post(
        "/v1/payments/notifications/sandbox/tf",
        content=body,
        headers={k.encode(): v.encode("latin-1") for k, v in headers.items()},
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_a_signed_notification_nested_too_deeply_is_refused(harness: Harness) -> None:
    """Found by fuzzing (tests/fuzz): ``json.loads`` of a signed body of 2,000 nested arrays
    raised RecursionError in both providers' parsers, a 500."""
    body = b"[" * 2000 + b"]" * 2000
    headers = signing.signed_headers(harness.secret(), int(time.time()), body)
    response = harness.send((headers, body))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_a_sandbox_payment_method_that_is_no_string_is_refused(
    client: TestClient, act_as: ActAs, runtime: PaymentsRuntime, database: Database
) -> None:
    """Found by fuzzing: ``payment_method`` was passed on as whatever JSON value it was."""
    harness = Harness("sandbox", client, act_as, runtime, database, None)
    reference = harness.reference(harness.payment())
    before = harness.notifications()  # PostgreSQL's test database keeps other tests' rows
    body = json.dumps(
        {
            "kind": "status",
            "event_id": "evt-m",
            "transaction_id": reference,
            "status": "BOOKED",
            "payment_method": {"card": [1, 2]},
        }
    ).encode()
    headers = signing.signed_headers(harness.secret(), int(time.time()), body)
    assert harness.send((headers, body)).status_code == 401
    assert harness.notifications() == before
