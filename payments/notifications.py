"""Provider notifications: verify, detect replays, apply through the state machine."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commons.errors import InvalidInput
from commons.ids import new_id_str
from commons.text import MAX_CENTS, identifier_problem
from payments.errors import InvalidNotification
from payments.models import Notification, Payment, Refund
from payments.runtime import PaymentsRuntime
from payments.service import apply_status, flag_for_review

log = logging.getLogger("ozg.payments")


def process_notification(
    session: Session,
    runtime: PaymentsRuntime,
    provider_id: str,
    authority: str,
    headers: Mapping[str, str],
    body: bytes,
) -> str:
    """Verify and apply one provider notification; returns the outcome.

    Outcomes: ``applied`` (state changed), ``ignored`` (duplicate or out of order),
    ``replay`` (event seen before), ``unknown_payment``, ``review`` (flagged for a person).
    Raises :class:`InvalidNotification` before touching anything when verification fails.
    """
    try:
        provider = runtime.provider_named(provider_id, authority, session)
    except Exception:
        raise InvalidNotification() from None
    note = provider.handle_notification(headers, body)
    # Whatever a provider's parser let through, a signed notification is still input: an
    # event id with control characters or an amount no payment can have is refused.
    if identifier_problem(note.event_id) or identifier_problem(note.provider_reference):
        raise InvalidInput("the notification's identifiers contain control characters")
    if note.refund_cents is not None and not 0 < note.refund_cents <= MAX_CENTS:
        raise InvalidInput(f"a refund amount is between 1 and {MAX_CENTS} cents")
    record = Notification(
        id=new_id_str(runtime.clock),
        provider=provider_id,
        authority=authority,
        event_id=note.event_id[:128],
        payment_id=None,
        outcome="received",
        received_at=runtime.clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        return "replay"
    payment = session.scalars(
        select(Payment)
        .where(
            Payment.provider == provider_id,
            Payment.authority == authority,
            Payment.provider_reference == note.provider_reference,
        )
        .with_for_update()
    ).one_or_none()
    if payment is None:
        record.outcome = "unknown_payment"
        log.warning("notification for an unknown payment", extra={"provider": provider_id})
        return record.outcome
    record.payment_id = payment.id
    if note.kind == "refund":
        refund = Refund(
            id=new_id_str(runtime.clock),
            payment_id=payment.id,
            amount_cents=note.refund_cents or 0,
            currency=payment.currency,
            origin="provider",
            state="needs_review",
            provider_reference=note.event_id[:128],
            created_at=runtime.clock.now(),
        )
        session.add(refund)
        flag_for_review(payment, "the provider reports a refund; decide whether to accept it")
        record.outcome = "review"
    elif note.status is not None:
        changed = apply_status(
            session, runtime, payment, note.status, "notification", note.payment_method
        )
        record.outcome = "applied" if changed else "ignored"
    session.flush()
    return record.outcome
