"""The sandbox provider's hosted payment page (``payments.providers.sandbox.pages``)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from commons.db import Database
from commons.settings import Settings
from gateway.app import create_app
from tests.payments.conftest import FLOW, ActAs, new_payment

NOT_MOUNTED = "about:blank"  # the type of a 404 for a path that no route serves


def test_the_page_is_mounted_only_where_the_sandbox_is_enabled(
    client: TestClient, settings: Settings, database: Database
) -> None:
    # The default enables the sandbox: the page's route answers (the transaction is unknown).
    mounted = client.get("/v1/sandbox-payments/nonesuch")
    assert mounted.status_code == 404
    assert mounted.json()["type"] == "urn:ozg-commons:problem:payment-not-found"
    without = Settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        sections={"payments": {"providers": ["xbezahldienste"]}},
    )
    with TestClient(create_app(without, database), raise_server_exceptions=False) as other:
        for method, path in [
            ("GET", "/v1/sandbox-payments/nonesuch"),
            ("POST", "/v1/sandbox-payments/nonesuch"),
            ("POST", "/v1/sandbox-payments/nonesuch/notify"),
        ]:
            response = other.request(method, path)
            assert response.status_code in (404, 405)
            assert response.json()["type"] == NOT_MOUNTED
        # ... while the payments API itself is served.
        assert other.get("/v1/payments/nonesuch").json()["type"] != NOT_MOUNTED


def test_an_unknown_transaction_or_action_is_not_found(client: TestClient, act_as: ActAs) -> None:
    assert client.get("/v1/sandbox-payments/nonesuch").status_code == 404
    payment = new_payment(client, act_as)
    page = str(payment["payment_url"]).removeprefix("http://127.0.0.1:8000")
    assert client.post(page, data={"action": "steal"}).status_code == 404
    act_as(FLOW)
    assert client.get(f"/v1/payments/{payment['id']}").json()["state"] == "pending"


def test_test_cards_decide_the_outcome(client: TestClient, act_as: ActAs) -> None:
    for number, expected in [
        ("4000 0000 0000 0119", "failed"),
        ("4000 0000 0000 0127", "canceled"),
    ]:
        payment = new_payment(client, act_as, key=number)
        page = str(payment["payment_url"]).removeprefix("http://127.0.0.1:8000")
        client.post(page, data={"card": number}, follow_redirects=False)
        act_as(FLOW)
        assert client.get(f"/v1/payments/{payment['id']}").json()["state"] == expected


def test_late_notification_is_caught_by_the_status_query(client: TestClient, act_as: ActAs) -> None:
    payment = new_payment(client, act_as)
    page = str(payment["payment_url"]).removeprefix("http://127.0.0.1:8000")
    client.post(page, data={"action": "late"}, follow_redirects=False)
    act_as(FLOW)
    assert client.get(f"/v1/payments/{payment['id']}").json()["state"] == "pending"
    client.get(f"/v1/payments/{payment['id']}/return", follow_redirects=False)
    assert client.get(f"/v1/payments/{payment['id']}").json()["state"] == "booked"
    late = client.post(f"{page}/notify")
    assert late.json() == {"outcome": "ignored"}
