"""Domain logic of payments: payment attempts and their state machine.

No HTTP here and no commit: the caller's unit of work decides. Every query that returns
payment data is scoped to the principal asking (:func:`visible_payment`, through
:func:`payments.access.visible_to`). Quotes and waivers are in :mod:`payments.quotes`,
idempotency keys in :mod:`payments.idempotency`.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from account import Principal, Role
from commons.i18n import N_
from commons.ids import new_id_str
from payments.access import audit, record_refusal, visible_to
from payments.declarations import BOOKING_RETENTION
from payments.errors import PaymentConflict, PaymentForbidden, PaymentNotFound, ProviderError
from payments.idempotency import (
    check_idempotency_key,
    payment_scope,
    remember_result,
    replayed_result,
)
from payments.models import Payment, Transition
from payments.providers.base import BookingItem, PaymentRequest, ProviderStatusCode
from payments.quotes import amount_due, paid_attempt, visible_quote
from payments.references import new_kassenzeichen, purpose_for
from payments.runtime import PaymentsRuntime
from payments.states import FINAL_UNPAID, PAID_STATES, PaymentState, can_transition

log = logging.getLogger("ozg.payments")

DESCRIPTION = "Verwaltungsgebuehr"
"""What the payment page shows: generic on purpose (no permit type, no name)."""


# --------------------------------------------------------------------------- access
def visible_payment(
    session: Session,
    runtime: PaymentsRuntime,
    principal: Principal,
    payment_id: str,
    *,
    for_update: bool = False,
    audit_action: str | None = "payments.payment.read",
) -> Payment:
    query = select(Payment).where(Payment.id == payment_id, visible_to(principal, Payment))
    if for_update:
        query = query.with_for_update()
    payment = session.scalars(query).one_or_none()
    if payment is None:
        record_refusal(session, principal, Payment, payment_id, clock=runtime.clock)
        raise PaymentNotFound()
    if audit_action is not None:
        audit(
            session,
            runtime,
            principal,
            audit_action,
            payment.data_subject,
            f"payments/payment/{payment.id}",
            "handle the payment of a fee",
        )
    return payment


def payments_for_review(
    session: Session, runtime: PaymentsRuntime, principal: Principal
) -> list[Payment]:
    """The flagged payments of the caseworker's authority; each read is audited."""
    if not principal.has(Role.CASEWORKER) or principal.authority is None:
        raise PaymentForbidden(N_("only caseworkers see the review list"))
    found = list(
        session.scalars(
            select(Payment)
            .where(Payment.authority == principal.authority, Payment.needs_review.is_(True))
            .order_by(Payment.updated_at)
            .limit(500)
        ).all()
    )
    for payment in found:
        audit(
            session,
            runtime,
            principal,
            "payments.payment.read",
            payment.data_subject,
            f"payments/payment/{payment.id}",
            "decide on a payment flagged for review",
        )
    return found


# --------------------------------------------------------------------------- payments
def create_payment(
    session: Session,
    runtime: PaymentsRuntime,
    principal: Principal,
    *,
    quote_id: str,
    return_url: str,
    idempotency_key: str,
) -> Payment:
    check_idempotency_key(idempotency_key)
    scope = payment_scope(principal.subject)
    params = {"quote_id": quote_id, "return_url": return_url}
    previous = replayed_result(session, runtime, scope, idempotency_key, params)
    if previous is not None:
        found = session.get(Payment, previous)
        if found is None:
            raise PaymentNotFound()
        return found

    quote = visible_quote(session, principal, quote_id, for_update=True, to_pay=True)
    # Concurrent requests for one quote queue on its row lock; the later one then finds the
    # key the earlier one stored and returns the same payment.
    previous = replayed_result(session, runtime, scope, idempotency_key, params)
    if previous is not None:
        found = session.get(Payment, previous)
        if found is None:
            raise PaymentNotFound()
        return found
    due = amount_due(session, quote)
    if due == 0:
        raise PaymentConflict(N_("nothing to pay: the fee is waived or zero"))
    if paid_attempt(session, quote) is not None:
        raise PaymentConflict(N_("this quote is already paid"))

    config = runtime.config_for(quote.authority)
    provider = runtime.build(config, session)
    now = runtime.clock.now()
    kassenzeichen = new_kassenzeichen()
    payment = Payment(
        id=new_id_str(runtime.clock),
        quote_id=quote.id,
        authority=quote.authority,
        data_subject=quote.data_subject,
        created_by=principal.subject,
        case_reference=quote.case_reference,
        case_hash=quote.case_hash,
        provider=config.provider,
        kassenzeichen=kassenzeichen,
        purpose=purpose_for(kassenzeichen),
        amount_cents=due,
        refunded_cents=0,
        currency=quote.currency,
        state=PaymentState.INITIAL.value,
        return_url=return_url,
        created_at=now,
        updated_at=now,
        needs_review=False,
    )
    session.add(payment)
    session.flush()
    base = runtime.settings.public_base_url.rstrip("/")
    request = PaymentRequest(
        request_id=payment.id,
        kassenzeichen=kassenzeichen,
        amount_cents=due,
        currency=payment.currency,
        purpose=payment.purpose,
        description=DESCRIPTION,
        redirect_url=f"{base}/v1/payments/{payment.id}/return",
        notification_url=f"{base}/v1/payments/notifications/{config.provider}/{quote.authority}",
        items=(
            BookingItem(
                id="1",
                description=DESCRIPTION,
                amount_cents=due,
                booking_data={**config.booking_data, "kassenzeichen": kassenzeichen},
            ),
        ),
    )
    try:
        created = provider.create_payment(request)
    except ProviderError as exc:
        payment.failure_code = (exc.provider_code or "PROVIDER_ERROR")[:64]
        transition(session, runtime, payment, PaymentState.FAILED, "create")
    else:
        payment.provider_reference = created.provider_reference
        payment.payment_url = created.payment_url
        transition(session, runtime, payment, PaymentState.PENDING, "create")
        apply_status(session, runtime, payment, created.status, "create")
    remember_result(session, runtime, scope, idempotency_key, params, payment.id)
    audit(
        session,
        runtime,
        principal,
        "payments.payment.create",
        payment.data_subject,
        f"payments/payment/{payment.id}",
        "collect the fee for an application",
    )
    return payment


def transition(
    session: Session,
    runtime: PaymentsRuntime,
    payment: Payment,
    target: PaymentState,
    cause: str,
) -> None:
    current = PaymentState(payment.state)
    if not can_transition(current, target):
        raise PaymentConflict(f"a payment cannot go from {current.value} to {target.value}")
    now = runtime.clock.now()
    seq = session.scalar(
        select(func.count()).select_from(Transition).where(Transition.payment_id == payment.id)
    )
    payment.state = target.value
    payment.updated_at = now
    session.add(
        Transition(
            id=new_id_str(runtime.clock),
            payment_id=payment.id,
            seq=(seq or 0) + 1,
            from_state=current.value,
            to_state=target.value,
            cause=cause,
            at=now,
        )
    )
    session.flush()


def flag_for_review(payment: Payment, reason: str) -> None:
    payment.needs_review = True
    payment.review_reason = reason[:255]
    log.warning("payment flagged for review", extra={"payment_id": payment.id, "reason": reason})


_TARGET: dict[ProviderStatusCode, PaymentState] = {
    "INITIAL": PaymentState.PENDING,
    "BOOKED": PaymentState.BOOKED,
    "FAILED": PaymentState.FAILED,
    "CANCELED": PaymentState.CANCELED,
}


def apply_status(
    session: Session,
    runtime: PaymentsRuntime,
    payment: Payment,
    status: ProviderStatusCode,
    cause: str,
    payment_method: str | None = None,
) -> bool:
    """Move ``payment`` to what the provider reports, if that is a legal step.

    Duplicates and out-of-order reports change nothing. A booking reported for a payment we
    consider failed or canceled, or a second booked attempt for the same quote, is never
    silently accepted or dropped: it is flagged for a person (money may have to go back).
    Returns whether the state changed.
    """
    current = PaymentState(payment.state)
    target = _TARGET[status]
    if target == current or (target == PaymentState.BOOKED and current in PAID_STATES):
        return False
    if not can_transition(current, target):
        if target == PaymentState.BOOKED and current in FINAL_UNPAID:
            flag_for_review(payment, f"provider reports BOOKED for a {current.value} payment")
        return False
    if target == PaymentState.BOOKED:
        other = session.scalars(
            select(Payment).where(
                Payment.quote_id == payment.quote_id,
                Payment.id != payment.id,
                Payment.state.in_([s.value for s in PAID_STATES]),
            )
        ).first()
        if other is not None:
            flag_for_review(payment, "another attempt for the same quote is already booked")
        now = runtime.clock.now()
        payment.booked_at = now
        payment.retain_until = now + BOOKING_RETENTION
        if payment_method:
            payment.payment_method = payment_method[:64]
    transition(session, runtime, payment, target, cause)
    return True


def refresh_status(session: Session, runtime: PaymentsRuntime, payment: Payment) -> bool:
    """Ask the provider, server to server, and apply its answer."""
    if payment.provider_reference is None:
        return False
    provider = runtime.provider_named(payment.provider, payment.authority, session)
    status = provider.query_status(payment.provider_reference)
    return apply_status(session, runtime, payment, status.status, "query", status.payment_method)


def payment_for_return(session: Session, payment_id: str) -> Payment:
    """The payment a browser comes back for; the redirect itself proves nothing."""
    payment = session.scalars(
        select(Payment).where(Payment.id == payment_id).with_for_update()
    ).one_or_none()
    if payment is None:
        raise PaymentNotFound()
    return payment
