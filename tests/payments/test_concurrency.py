"""Concurrent deliveries and retries on PostgreSQL: one booking, one payment per key."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from commons.db import Database
from commons.settings import Settings
from payments import notifications, quotes, service, signing
from payments.models import Transition
from payments.runtime import PaymentsRuntime
from payments.schemas import QuoteRequest
from tests import factories
from tests.payments.conftest import quote_body

FLOW = factories.flow_client("concurrency-flow")


def _quote() -> QuoteRequest:
    # These tests commit; their rows must not carry the subject other tests look for.
    body = quote_body()
    body.update(data_subject="concurrency-subject", case_reference="case-concurrency")
    return QuoteRequest.model_validate(body)


@pytest.fixture
def committed(postgres_url: str) -> Iterator[Database]:
    db = Database.from_url(postgres_url, pool_size=4)
    yield db
    db.dispose()


def _race(count: int, work: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.postgres
def test_concurrent_notifications_book_once(committed: Database, settings: Settings) -> None:
    runtime = PaymentsRuntime.from_settings(settings)
    with committed.transaction() as session:
        quote = quotes.create_quote(session, runtime, FLOW, _quote())
        payment = service.create_payment(
            session,
            runtime,
            FLOW,
            quote_id=quote.id,
            return_url="https://flow.example/done",
            idempotency_key=f"c-{quote.id}",
        )
        payment_id, reference = payment.id, str(payment.provider_reference)
    secret = str(runtime.config_for("tf").settings["notification_secret"]).encode()

    def deliver(event: str) -> str:
        body = json.dumps(
            {"kind": "status", "event_id": event, "transaction_id": reference, "status": "BOOKED"}
        ).encode()
        headers = signing.signed_headers(secret, int(time.time()), body)
        with committed.transaction() as session:
            return notifications.process_notification(
                session, runtime, "sandbox", "tf", headers, body
            )

    same = _race(4, lambda: deliver(f"same-{payment_id}"))
    assert sorted(same) == ["applied", "replay", "replay", "replay"]
    counter = iter(range(100))
    different = _race(4, lambda: deliver(f"other-{payment_id}-{next(counter)}"))
    assert different == ["ignored"] * 4
    with committed.transaction() as session:
        bookings = (
            session.query(Transition)
            .filter(Transition.payment_id == payment_id, Transition.to_state == "booked")
            .count()
        )
    assert bookings == 1


@pytest.mark.postgres
def test_concurrent_creates_with_one_key_give_one_payment(
    committed: Database, settings: Settings
) -> None:
    runtime = PaymentsRuntime.from_settings(settings)
    with committed.transaction() as session:
        quote = quotes.create_quote(session, runtime, FLOW, _quote())
        quote_id = quote.id

    def create() -> str:
        with committed.transaction() as session:
            return service.create_payment(
                session,
                runtime,
                FLOW,
                quote_id=quote_id,
                return_url="https://flow.example/done",
                idempotency_key="one-key",
            ).id

    ids = _race(4, create)
    assert all(isinstance(i, str) for i in ids), ids
    assert len(set(ids)) == 1
