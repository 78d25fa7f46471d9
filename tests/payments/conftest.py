"""Fixtures of the payments tests: the runtime, a fake XBezahldienste platform, helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account import Principal
from payments.providers.xbezahldienste import XBezahldienstePaymentProvider
from payments.runtime import AuthorityConfig, PaymentsRuntime
from tests import factories
from tests.payments.fake_xbezahldienste import FakeXBezahldienste

FLOW = factories.flow_client("permit-flow")

ActAs = Callable[[Principal | None], None]


@pytest.fixture
def runtime(app: FastAPI) -> PaymentsRuntime:
    runtime: PaymentsRuntime = app.state.payments
    return runtime


@pytest.fixture
def fake_xb(runtime: PaymentsRuntime) -> FakeXBezahldienste:
    """Authority ``xb`` pays through XBezahldienste (the fake); every other through the
    sandbox."""
    fake = FakeXBezahldienste()
    runtime.providers["xbezahldienste"] = XBezahldienstePaymentProvider
    runtime.authorities["xb"] = AuthorityConfig(
        "xb", "xbezahldienste", fake.settings(), {"haushaltsstelle": "1234.56789"}
    )
    runtime.http_transport = fake.transport()
    return fake


def quote_body(authority: str = "tf", **facts: Any) -> dict[str, Any]:
    return {
        "authority": authority,
        "case_reference": "case-0001",
        "case_hash": "ab" * 32,
        "data_subject": "applicant-subject-1",
        "fee_rule": {"procedure": "change_of_purpose"},
        "facts": {"applicant_age": 30, "decision_date": "2026-11-28", **facts},
    }


def new_quote(client: TestClient, act_as: ActAs, authority: str = "tf", **facts: Any) -> str:
    act_as(FLOW)
    response = client.post("/v1/fees/quote", json=quote_body(authority, **facts))
    assert response.status_code == 201, response.text
    quote_id: str = response.json()["id"]
    return quote_id


def new_payment(
    client: TestClient, act_as: ActAs, authority: str = "tf", key: str = "key-1"
) -> dict[str, Any]:
    quote_id = new_quote(client, act_as, authority)
    act_as(FLOW)
    response = client.post(
        "/v1/payments",
        json={"quote_id": quote_id, "return_url": "https://flow.example/done"},
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 201, response.text
    payment: dict[str, Any] = response.json()
    return payment
