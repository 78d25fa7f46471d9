"""`ozg-commons retention run` deletes the payments records that are due, and records each."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commons.clock import FixedClock
from commons.db import Database
from commons.ids import new_id_str
from compliance.models import AccessEntry, AccessPersonal
from compliance.retention import run_retention
from gateway.declarations import all_declarations
from payments.models import IdempotencyKey, Notification, Payment, Quote, Refund, Transition
from tests.compliance.conftest import T0


def _payment(
    session: Session, state: str, *, changed: datetime, booked: datetime | None = None
) -> str:
    quote = Quote(
        id=new_id_str(),
        authority="tf",
        catalogue_version="test",
        quoted_cents=10000,
        currency="EUR",
        created_by="flow",
        created_at=changed,
    )
    session.add(quote)
    session.flush()  # no ORM relationship orders the inserts
    payment = Payment(
        id=new_id_str(),
        quote_id=quote.id,
        authority="tf",
        data_subject=None,
        created_by="flow",
        provider="sandbox",
        provider_reference=new_id_str(),
        kassenzeichen=new_id_str()[:32],
        purpose="fee",
        amount_cents=10000,
        currency="EUR",
        state=state,
        created_at=changed,
        updated_at=changed,
        booked_at=booked,
    )
    history = Transition(
        id=new_id_str(),
        payment_id=payment.id,
        seq=1,
        from_state="initial",
        to_state=state,
        cause="test",
        at=changed,
    )
    session.add(payment)
    session.flush()
    session.add(history)
    if state == "partially_refunded":
        session.add(
            Refund(
                id=new_id_str(),
                payment_id=payment.id,
                amount_cents=100,
                currency="EUR",
                origin="caseworker",
                state="succeeded",
                created_at=changed,
            )
        )
    session.flush()
    return payment.id


def test_retention_deletes_due_payments_records_and_records_each(database: Database) -> None:
    years_ago = T0 - timedelta(days=3653 + 5)
    with database.transaction() as session:
        old_booking = _payment(session, "partially_refunded", changed=years_ago, booked=years_ago)
        recent_booking = _payment(
            session, "booked", changed=T0 - timedelta(days=400), booked=T0 - timedelta(days=400)
        )
        old_failure = _payment(session, "failed", changed=T0 - timedelta(days=200))
        recent_failure = _payment(session, "canceled", changed=T0 - timedelta(days=10))
        # an open attempt is never deleted, however old
        open_attempt = _payment(session, "pending", changed=T0 - timedelta(days=4000))
        old_rows = {"old-key": new_id_str(), "new-key": new_id_str()}
        old_rows |= {"evt-old": new_id_str(), "evt-new": new_id_str()}
        for age, key in ((40, "old-key"), (2, "new-key")):
            session.add(
                IdempotencyKey(
                    id=old_rows[key],
                    scope="payments.create:flow",
                    key_hash=key.ljust(64, "0"),
                    params_hash="0" * 64,
                    result_id=new_id_str(),
                    created_at=T0 - timedelta(days=age),
                )
            )
        for age, event_id in ((100, "evt-old"), (1, "evt-new")):
            session.add(
                Notification(
                    id=old_rows[event_id],
                    provider="sandbox",
                    authority="tf",
                    event_id=event_id,
                    payment_id=None,
                    outcome="applied",
                    received_at=T0 - timedelta(days=age),
                )
            )
    with database.transaction() as session:
        done = run_retention(session, all_declarations(), clock=FixedClock(T0))
    for record_type in ("booking", "unbooked_attempt", "idempotency_key", "notification"):
        assert (
            done[f"payments.{record_type}"] or 0
        ) >= 1  # ours; committed rows of other tests may be due too
    with database.transaction() as session:
        mine = [old_booking, recent_booking, old_failure, recent_failure, open_attempt]
        left = set(session.scalars(select(Payment.id).where(Payment.id.in_(mine))))
        assert left == {recent_booking, recent_failure, open_attempt}
        histories = select(Transition.payment_id).where(Transition.payment_id.in_(mine))
        assert set(session.scalars(histories)) == left
        refunds = select(func.count()).where(Refund.payment_id == old_booking)
        assert session.scalar(refunds) == 0
        keys = select(IdempotencyKey.key_hash).where(IdempotencyKey.scope == "payments.create:flow")
        assert set(session.scalars(keys)) == {"new-key".ljust(64, "0")}
        events = select(Notification.event_id).where(Notification.event_id.like("evt-%"))
        assert set(session.scalars(events)) == {"evt-new"}
        recorded = set(
            session.scalars(
                select(AccessPersonal.resource)
                .join(AccessEntry, AccessEntry.id == AccessPersonal.entry_id)
                .where(AccessEntry.action == "compliance.retention.delete")
            )
        )
    assert f"payments.booking/{old_booking}" in recorded
    assert f"payments.unbooked_attempt/{old_failure}" in recorded
    assert f"payments.idempotency_key/{old_rows['old-key']}" in recorded
    assert f"payments.notification/{old_rows['evt-old']}" in recorded
    assert (
        not {f"payments.booking/{recent_booking}", f"payments.notification/{old_rows['evt-new']}"}
        & recorded
    )
